use darkfigure::data::parse::{read_file, ParseOptions};
use darkfigure::methods::{run_method, MethodOptions};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let occ = std::env::var("OCC").ok().map(|s| if s == "inf" { darkfigure::Occasions::Infinite } else { darkfigure::Occasions::Finite(s.parse().unwrap()) });
    let d = read_file(&a[1], &ParseOptions { occasions: occ, ..Default::default() }).unwrap().data;
    let mut o = MethodOptions::default();
    if a.len() > 3 { o.model = Some(a[3].clone()); }
    for e in run_method(&a[2], &d, &o).unwrap() {
        println!("{}", serde_json::to_string_pretty(&e).unwrap());
    }
}
