//! The layering of `src/`: which module may use which. `LAYERS` numbers the top-level
//! modules from the bottom (`error`, `cpu` and the crate root's constants) to the top (the
//! binary, `main.rs` and `cli.rs`); a module may refer to its own layer or lower ones only,
//! and the file-level modules must form no cycle, within a layer too. The test fails on an
//! edge pointing up, on a cycle, and on an entry of `KNOWN` (today's violations, kept so the
//! check can be on while issue 16 removes them) that no longer exists or no longer violates
//! anything, so that the list only shrinks. CI runs it with every other target
//! (`cargo test --release --all-targets`); alone: `cargo test --release --test layers`.
//!
//! What counts as a reference: every path that starts with `crate::`, `self::`, `super::`
//! (relative to the inline module it is written in), a child module's name in the file that
//! declares it (`closed::estimate` in `methods/mod.rs`), or `darkfigure::` in the binary —
//! in `use` trees (braces expanded) and inline in code alike, since the code often names
//! `crate::x::Y` in place. Comments and string literals are blanked first, so doc links and
//! messages do not count. A path is charged to the longest file-level module it names, or,
//! for a name re-exported by `lib.rs`, to the module that defines it; `lib.rs`'s own
//! `pub use` lines are that facade, not edges. Test modules inside `src` are scanned like
//! the rest: they are compiled with the crate and may not reach up either (today none does).
//! Not seen: names brought in by a glob import of another module and used bare — the glob
//! itself is the reference.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Top-level modules by layer, low to high. `crate` is `lib.rs` itself (`VERSION`), `main`
/// the binary crate (`main.rs` and its `cli.rs`).
const LAYERS: &[(&str, u32)] = &[
    ("crate", 0),
    ("error", 0),
    ("cpu", 0),
    ("checked", 0),
    ("data", 1),
    ("glm", 2),
    ("montecarlo", 2),
    ("loglinear", 3),
    ("inference", 4),
    ("methods", 5),
    ("aggregate", 6),
    ("job", 7),
    ("wire", 7),
    ("study", 7),
    ("report", 8),
    ("main", 9),
];

/// Violations allowed for now, as (from, to) file-level modules; the list only shrinks.
/// Issue 16 emptied it: every layer points down and no file-level cycle is left.
const KNOWN: &[(&str, &str)] = &[];

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Krate {
    Lib,
    Bin,
}

/// A source file and the module it is.
struct SrcFile {
    rel: String,
    krate: Krate,
    module: Vec<String>,
    toks: Vec<Tok>,
}

#[derive(Clone, Debug, PartialEq)]
enum T {
    Ident(String),
    Punct(&'static str),
    Other(char),
}

#[derive(Clone, Debug)]
struct Tok {
    t: T,
    line: usize,
}

impl Tok {
    fn is(&self, p: &str) -> bool {
        matches!(&self.t, T::Punct(q) if *q == p)
    }
    fn ident(&self) -> Option<&str> {
        match &self.t {
            T::Ident(s) => Some(s),
            _ => None,
        }
    }
}

/// The source with comments and string and char literals replaced by spaces, newlines kept.
fn blank(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let keep = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let ident_char = |ch: char| ch.is_alphanumeric() || ch == '_';
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
                out.push(' ');
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    keep(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if ch == 'r'
            && (i == 0
                || !ident_char(c[i - 1])
                || (c[i - 1] == 'b' && (i < 2 || !ident_char(c[i - 2]))))
            && matches!(next, Some('"') | Some('#'))
        {
            // Raw string r"…", r#"…"#, br#"…"#; `r#ident` is a raw identifier.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(ch);
                i += 1;
                continue;
            }
            j += 1;
            while j < c.len() {
                if c[j] == '"' && (1..=hashes).all(|h| c.get(j + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &x in &c[i..j.min(c.len())] {
                keep(&mut out, x);
            }
            i = j;
        } else if ch == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    keep(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    keep(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if ch == '\'' {
            // A char literal ('x', '\n', '\u{…}') or a lifetime/label ('a), which stays.
            let end = if next == Some('\\') {
                (i + 3..c.len()).find(|&j| c[j] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(e) => {
                    for &x in &c[i..=e] {
                        keep(&mut out, x);
                    }
                    i = e + 1;
                }
                None => {
                    out.push(' ');
                    i += 1;
                }
            }
        } else {
            out.push(ch);
            i += 1;
        }
    }
    out
}

fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = blank(src).chars().collect();
    let mut toks = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' {
            let s = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let mut word: String = c[s..i].iter().collect();
            if word == "r" && c.get(i) == Some(&'#') {
                // A raw identifier, r#name.
                i += 1;
                let s = i;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                word = c[s..i].iter().collect();
            }
            toks.push(Tok {
                t: T::Ident(word),
                line,
            });
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            toks.push(Tok {
                t: T::Punct("::"),
                line,
            });
            i += 2;
        } else {
            let p = match ch {
                '{' => Some("{"),
                '}' => Some("}"),
                ',' => Some(","),
                ';' => Some(";"),
                '*' => Some("*"),
                _ => None,
            };
            toks.push(Tok {
                t: p.map_or(T::Other(ch), T::Punct),
                line,
            });
            i += 1;
        }
    }
    toks
}

/// Expands the path or `use` tree starting at `toks[i]` into full paths (with the line of
/// each path's last segment); returns the index after it.
fn tree(
    toks: &[Tok],
    mut i: usize,
    prefix: &[String],
    out: &mut Vec<(Vec<String>, usize)>,
) -> usize {
    let mut path = prefix.to_vec();
    let mut line = toks.get(i).map_or(0, |t| t.line);
    loop {
        let Some(tok) = toks.get(i) else {
            out.push((path, line));
            return i;
        };
        if let Some(s) = tok.ident() {
            path.push(s.to_string());
            line = tok.line;
            i += 1;
        } else if tok.is("*") {
            out.push((path, tok.line));
            return i + 1;
        } else if tok.is("{") {
            i += 1;
            while i < toks.len() && !toks[i].is("}") {
                i = tree(toks, i, &path, out);
                // `as name`, or anything unexpected: skip to the next item.
                while i < toks.len() && !toks[i].is(",") && !toks[i].is("}") {
                    i += 1;
                }
                if i < toks.len() && toks[i].is(",") {
                    i += 1;
                }
            }
            return i + 1;
        } else {
            out.push((path, line));
            return i;
        }
        if toks.get(i).is_some_and(|t| t.is("::")) {
            i += 1;
        } else {
            out.push((path, line));
            return i;
        }
    }
}

/// One reference from a file: the path as written, resolved to a full module path of
/// `krate`, where it was written, and whether it is a `pub use` of the file.
struct Ref {
    krate: Krate,
    path: Vec<String>,
    line: usize,
    pub_use: bool,
}

fn references(f: &SrcFile, modules: &BTreeMap<Krate, BTreeSet<Vec<String>>>) -> Vec<Ref> {
    let children: BTreeSet<&str> = modules[&f.krate]
        .iter()
        .filter(|m| m.len() == f.module.len() + 1 && m.starts_with(&f.module))
        .map(|m| m.last().unwrap().as_str())
        .collect();
    let toks = &f.toks;
    let mut refs = Vec::new();
    // Inline modules (`mod tests { … }`) by the brace depth they opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut pending_mod: Option<String> = None;
    let mut pub_use = false;
    let mut i = 0;
    while i < toks.len() {
        let tok = &toks[i];
        if tok.is("{") {
            if let Some(name) = pending_mod.take() {
                inline.push((name, depth));
            }
            depth += 1;
            i += 1;
            continue;
        }
        if tok.is("}") {
            depth -= 1;
            if inline.last().is_some_and(|(_, d)| *d == depth) {
                inline.pop();
            }
            i += 1;
            continue;
        }
        if tok.is(";") {
            pending_mod = None;
            pub_use = false;
            i += 1;
            continue;
        }
        let Some(word) = tok.ident() else {
            i += 1;
            continue;
        };
        if word == "mod" {
            pending_mod = toks.get(i + 1).and_then(Tok::ident).map(str::to_string);
            i += 2;
            continue;
        }
        if word == "use" && i > 0 && toks[i - 1].ident() == Some("pub") {
            pub_use = true;
        }
        // Not a path's start: a later segment, or a method named like a child module.
        let after_sep = i > 0 && (toks[i - 1].is("::") || toks[i - 1].t == T::Other('.'));
        let starts = !after_sep
            && toks.get(i + 1).is_some_and(|t| t.is("::"))
            && (matches!(word, "crate" | "self" | "super")
                || (word == "darkfigure" && f.krate == Krate::Bin)
                || children.contains(word));
        if !starts {
            i += 1;
            continue;
        }
        let mut paths = Vec::new();
        let next = tree(toks, i, &[], &mut paths);
        let current: Vec<String> = f
            .module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(n, _)| n.clone()))
            .collect();
        for (p, line) in paths {
            let (krate, mut abs, rest) = match p[0].as_str() {
                "crate" => (f.krate, Vec::new(), &p[1..]),
                "darkfigure" => (Krate::Lib, Vec::new(), &p[1..]),
                "self" => (f.krate, current.clone(), &p[1..]),
                "super" => (f.krate, current.clone(), &p[..]),
                _ => (f.krate, f.module.clone(), &p[..]),
            };
            for seg in rest {
                match seg.as_str() {
                    "self" => {}
                    "super" => {
                        abs.pop().unwrap_or_else(|| {
                            panic!("{}:{line}: super above the crate root", f.rel)
                        });
                    }
                    s => abs.push(s.to_string()),
                }
            }
            refs.push(Ref {
                krate,
                path: abs,
                line,
                pub_use,
            });
        }
        i = next.max(i + 1);
    }
    refs
}

/// Node name of a module: `crate` for the library root, `main` for the binary's, and
/// `main::cli` for the binary's modules.
fn node(krate: Krate, m: &[String]) -> String {
    match (krate, m.is_empty()) {
        (Krate::Lib, true) => "crate".into(),
        (Krate::Lib, false) => m.join("::"),
        (Krate::Bin, true) => "main".into(),
        (Krate::Bin, false) => format!("main::{}", m.join("::")),
    }
}

fn layer(node: &str) -> Option<u32> {
    let top = node.split("::").next().unwrap();
    LAYERS.iter().find(|(m, _)| *m == top).map(|&(_, l)| l)
}

/// Reads the module trees of the library and the binary from their roots' `mod x;` lines.
fn read_tree(src: &Path) -> Vec<SrcFile> {
    let mut files = Vec::new();
    let mut todo = vec![
        (src.join("lib.rs"), Krate::Lib, Vec::<String>::new()),
        (src.join("main.rs"), Krate::Bin, Vec::new()),
    ];
    while let Some((path, krate, module)) = todo.pop() {
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let toks = tokens(&text);
        let name = path.file_name().unwrap().to_str().unwrap();
        let dir = if matches!(name, "lib.rs" | "main.rs" | "mod.rs") {
            path.parent().unwrap().to_path_buf()
        } else {
            path.with_extension("")
        };
        let mut depth = 0;
        for (k, t) in toks.iter().enumerate() {
            if t.is("{") {
                depth += 1;
            } else if t.is("}") {
                depth -= 1;
            } else if depth == 0
                && t.ident() == Some("mod")
                && toks.get(k + 2).is_some_and(|t| t.is(";"))
                && let Some(child) = toks.get(k + 1).and_then(Tok::ident)
            {
                let flat = dir.join(format!("{child}.rs"));
                let file = if flat.exists() {
                    flat
                } else {
                    dir.join(child).join("mod.rs")
                };
                let mut m = module.clone();
                m.push(child.to_string());
                todo.push((file, krate, m));
            }
        }
        let rel = format!("src/{}", path.strip_prefix(src).unwrap().display());
        files.push(SrcFile {
            rel,
            krate,
            module,
            toks,
        });
    }
    files.sort_by(|a, b| a.rel.cmp(&b.rel));
    files
}

fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Edge (from, to) between file-level modules → where it is written ("src/…:line").
type Edges = BTreeMap<(String, String), Vec<String>>;

fn edges(files: &[SrcFile]) -> Edges {
    let mut modules: BTreeMap<Krate, BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in files {
        modules.entry(f.krate).or_default().insert(f.module.clone());
    }
    modules.entry(Krate::Bin).or_default();
    let lib_root = files
        .iter()
        .find(|f| f.krate == Krate::Lib && f.module.is_empty())
        .unwrap();
    // The root's re-exports: name → module path.
    let mut reexport: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in references(lib_root, &modules) {
        if r.pub_use
            && let Some(name) = r.path.last()
        {
            reexport.insert(name.clone(), r.path[..r.path.len() - 1].to_vec());
        }
    }
    let resolve = |krate: Krate, path: &[String]| -> String {
        let known = &modules[&krate];
        let k = (0..=path.len())
            .rev()
            .find(|&k| known.contains(&path[..k]))
            .unwrap();
        if k == 0
            && krate == Krate::Lib
            && let Some(m) = path.first().and_then(|n| reexport.get(n))
        {
            return node(krate, m);
        }
        node(krate, &path[..k])
    };
    let mut out: Edges = BTreeMap::new();
    for f in files {
        let from = node(f.krate, &f.module);
        for r in references(f, &modules) {
            if r.pub_use && std::ptr::eq(f, lib_root) {
                continue;
            }
            let to = resolve(r.krate, &r.path);
            if to != from {
                out.entry((from.clone(), to))
                    .or_default()
                    .push(format!("{}:{}", f.rel, r.line));
            }
        }
    }
    for v in out.values_mut() {
        v.dedup();
    }
    out
}

/// Whether `to` is reachable from `from` over `edges`.
fn reaches(edges: &BTreeSet<(String, String)>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(n) = todo.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n.clone()) {
            todo.extend(
                edges
                    .iter()
                    .filter(|(a, _)| *a == n)
                    .map(|(_, b)| b.clone()),
            );
        }
    }
    false
}

/// One cycle through `start` over `edges`, if any (breadth first, so a shortest one).
fn cycle_through(edges: &BTreeSet<(String, String)>, start: &str) -> Option<Vec<String>> {
    let mut prev: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.to_string()]);
    while let Some(n) = queue.pop_front() {
        for (_, b) in edges.iter().filter(|(a, _)| *a == n) {
            if b == start {
                let mut path = vec![n.clone()];
                while path.last().unwrap() != start {
                    path.push(prev[path.last().unwrap()].clone());
                }
                path.reverse();
                path.push(start.to_string());
                return Some(path);
            }
            if !prev.contains_key(b) {
                prev.insert(b.clone(), n.clone());
                queue.push_back(b.clone());
            }
        }
    }
    None
}

/// The check itself: `Err` with every problem found.
fn check(files: &[SrcFile], known: &[(&str, &str)]) -> Result<(), String> {
    let edges = edges(files);
    let all: BTreeSet<(String, String)> = edges.keys().cloned().collect();
    let allowed: BTreeSet<(String, String)> = known
        .iter()
        .map(|&(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let kept: BTreeSet<(String, String)> = all.difference(&allowed).cloned().collect();
    let mut problems = String::new();

    let nodes: BTreeSet<String> = files.iter().map(|f| node(f.krate, &f.module)).collect();
    for n in nodes.iter().filter(|n| layer(n).is_none()) {
        let _ = writeln!(
            problems,
            "module {n} has no layer: add its top-level module to LAYERS"
        );
    }

    let up = |(a, b): &(String, String)| layer(a).zip(layer(b)).is_some_and(|(la, lb)| lb > la);
    for e in kept.iter().filter(|&e| up(e)) {
        let _ = writeln!(
            problems,
            "edge up: {} (layer {}) → {} (layer {}) at {}",
            e.0,
            layer(&e.0).unwrap(),
            e.1,
            layer(&e.1).unwrap(),
            edges[e].join(", ")
        );
    }

    // Strongly connected components of what is left: each one with more than one module
    // holds a cycle; all of its edges are printed, since any of them may be the one to cut.
    let reach: BTreeMap<&String, BTreeSet<String>> = nodes
        .iter()
        .map(|n| {
            (
                n,
                nodes
                    .iter()
                    .filter(|m| reaches(&kept, n, m))
                    .cloned()
                    .collect(),
            )
        })
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    for n in &nodes {
        let scc: Vec<&String> = nodes
            .iter()
            .filter(|m| reach[n].contains(*m) && reach[m].contains(n))
            .collect();
        if scc.len() < 2 || done.contains(n) {
            continue;
        }
        done.extend(scc.iter().map(|m| m.to_string()));
        let example = cycle_through(&kept, n).unwrap();
        let _ = writeln!(problems, "cycle: {}", example.join(" → "));
        let _ = writeln!(problems, "    edges among these modules:");
        for e in kept
            .iter()
            .filter(|(a, b)| scc.contains(&a) && scc.contains(&b))
        {
            let _ = writeln!(problems, "    {} → {} at {}", e.0, e.1, edges[e].join(", "));
        }
    }

    for e in &allowed {
        if !all.contains(e) {
            let _ = writeln!(
                problems,
                "KNOWN lists {} → {}, which no longer exists: remove it",
                e.0, e.1
            );
        } else if !up(e) && !reaches(&all, &e.1, &e.0) {
            let _ = writeln!(
                problems,
                "KNOWN lists {} → {}, which is no longer on a cycle: remove it",
                e.0, e.1
            );
        }
    }

    if problems.is_empty() {
        return Ok(());
    }
    let mut msg = String::from("layer map (a module may use its own layer and lower ones):\n");
    for l in 0..=LAYERS.iter().map(|&(_, l)| l).max().unwrap() {
        let here: Vec<&str> = nodes
            .iter()
            .filter(|n| layer(n) == Some(l))
            .map(String::as_str)
            .collect();
        let _ = writeln!(msg, "  {l}: {}", here.join(", "));
    }
    let _ = write!(
        msg,
        "\n{problems}\nMove what the lower module needs down (or into a module of its own); \
         KNOWN is for violations that existed when the check began, and only shrinks.\n"
    );
    Err(msg)
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn modules_use_only_their_layer_and_lower_ones_without_cycles() {
    let src = src_dir();
    let files = read_tree(&src);
    let mut on_disk = Vec::new();
    rs_files(&src, &mut on_disk);
    let read: BTreeSet<String> = files.iter().map(|f| f.rel.clone()).collect();
    for p in on_disk {
        let rel = format!("src/{}", p.strip_prefix(&src).unwrap().display());
        assert!(
            read.contains(&rel),
            "{rel} is not reached from lib.rs or main.rs by `mod` lines"
        );
    }
    if let Err(msg) = check(&files, KNOWN) {
        panic!("\n{msg}");
    }
}

/// A small crate in memory, to see the scanner find what it must and nothing else.
fn fake(files: &[(&str, Krate, &[&str], &str)]) -> Vec<SrcFile> {
    files
        .iter()
        .map(|&(rel, krate, module, text)| SrcFile {
            rel: rel.into(),
            krate,
            module: module.iter().map(|s| s.to_string()).collect(),
            toks: tokens(text),
        })
        .collect()
}

#[test]
fn the_scanner_sees_paths_in_code_and_not_in_comments_or_strings() {
    let files = fake(&[
        (
            "src/lib.rs",
            Krate::Lib,
            &[],
            "pub mod data; pub mod job; pub use job::Spec; pub const V: u8 = 1;",
        ),
        (
            "src/data/mod.rs",
            Krate::Lib,
            &["data"],
            r###"pub mod parse;
// crate::job::A in a comment
/* nested /* crate::job::B */ crate::job::C */
/// [`crate::job::D`]
fn f<'a>(x: &'a str) -> char { let _ = "crate::job::E"; let _ = r#"crate::job::F"#; let _ = b'"'; '{' }
fn g() { let _ = parse::read(); let _ = crate::V; }
mod tests { use super::*; use crate::{data::parse::{self as p, *}}; }
"###,
        ),
        (
            "src/data/parse.rs",
            Krate::Lib,
            &["data", "parse"],
            "use super::super::Spec;\nfn h() { crate::job::run() }",
        ),
        (
            "src/job.rs",
            Krate::Lib,
            &["job"],
            "use crate::{data::{self, parse::read}};",
        ),
        (
            "src/main.rs",
            Krate::Bin,
            &[],
            "mod cli; use darkfigure::job; fn m() { cli::go(); crate::cli::go() }",
        ),
        ("src/cli.rs", Krate::Bin, &["cli"], "use darkfigure::data;"),
    ]);
    let got: Vec<String> = edges(&files)
        .into_iter()
        .map(|((a, b), at)| format!("{a} → {b} at {}", at.join(", ")))
        .collect();
    assert_eq!(
        got,
        [
            "data → crate at src/data/mod.rs:6",
            "data → data::parse at src/data/mod.rs:6, src/data/mod.rs:7",
            "data::parse → job at src/data/parse.rs:1, src/data/parse.rs:2",
            "job → data at src/job.rs:1",
            "job → data::parse at src/job.rs:1",
            "main → job at src/main.rs:1",
            "main → main::cli at src/main.rs:1",
            "main::cli → data at src/cli.rs:1",
        ]
    );
}

#[test]
fn the_check_reports_edges_up_cycles_and_stale_allowances() {
    let files = fake(&[
        (
            "src/lib.rs",
            Krate::Lib,
            &[],
            "pub mod data; pub mod job; pub mod report;",
        ),
        (
            "src/data/mod.rs",
            Krate::Lib,
            &["data"],
            "use crate::job::Job;",
        ),
        (
            "src/job.rs",
            Krate::Lib,
            &["job"],
            "use crate::data::Table;",
        ),
        (
            "src/report/mod.rs",
            Krate::Lib,
            &["report"],
            "pub mod a; pub mod b; use crate::data::T;",
        ),
        (
            "src/report/a.rs",
            Krate::Lib,
            &["report", "a"],
            "use super::b::x;",
        ),
        (
            "src/report/b.rs",
            Krate::Lib,
            &["report", "b"],
            "use super::a::y;",
        ),
        ("src/main.rs", Krate::Bin, &[], ""),
    ]);
    let msg = check(&files, &[("job", "report")]).unwrap_err();
    assert!(
        msg.contains("edge up: data (layer 1) → job (layer 7) at src/data/mod.rs:1"),
        "{msg}"
    );
    assert!(
        msg.contains("cycle: report::a → report::b → report::a"),
        "{msg}"
    );
    assert!(
        msg.contains("KNOWN lists job → report, which no longer exists"),
        "{msg}"
    );
    assert!(msg.contains("  1: data\n"), "{msg}");
    assert_eq!(
        check(&files, &[("data", "job"), ("report::b", "report::a")]),
        Ok(())
    );
    let msg = check(
        &files,
        &[
            ("data", "job"),
            ("report::b", "report::a"),
            ("report", "data"),
        ],
    )
    .unwrap_err();
    assert!(
        msg.contains("KNOWN lists report → data, which is no longer on a cycle"),
        "{msg}"
    );
}
