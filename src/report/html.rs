//! The report as one self-contained HTML page: inline CSS and SVG, nothing loaded from
//! elsewhere. It lays out the tree that `model` builds (which decides every word and every
//! suppressed count) and draws the figures with `svg`; `markdown` is its sibling.

use super::model::{Block, Figure, List, Report, Section, build};
use super::svg::{forest, histogram};
use crate::job::ResultDoc;
use std::fmt::Write;

/// The Markdown report, here too since callers have always found both entry points here.
pub use super::markdown::markdown;

const STYLE: &str = "\
body{font-family:sans-serif;max-width:900px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
h1{font-size:1.6em} .headline{font-size:1.25em;background:#eef3f8;border-left:5px solid #1f4e79;padding:.6em 1em}\
table{border-collapse:collapse;font-size:.85em;margin:1em 0} td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:right}\
td:first-child,th:first-child,td:nth-child(2){text-align:left} .warn li{color:#8a3a00} pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.75em}\
";

/// The self-contained HTML report of `doc`, counts below `thr` suppressed.
pub fn html(doc: &ResultDoc, thr: u64) -> String {
    render(&build(doc, thr))
}

/// A report tree as an HTML page.
pub fn render(r: &Report) -> String {
    let title = esc(&r.title);
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    for b in &r.lead {
        block(&mut h, b);
        h.push('\n');
    }
    // the layout of the pages written before the report had a model, which the golden
    // files pin: a line for each group of sections
    let groups: Vec<String> = r
        .groups
        .iter()
        .map(|g| g.iter().map(section).collect())
        .collect();
    h.push_str(&groups.join("\n"));
    h.push_str("</body></html>\n");
    h
}

fn section(s: &Section) -> String {
    let mut h = format!("<h2>{}</h2>", esc(&s.heading));
    for b in &s.blocks {
        block(&mut h, b);
    }
    h
}

fn block(h: &mut String, b: &Block) {
    match b {
        Block::Headline(t) => {
            let _ = write!(h, "<p class=\"headline\">{}</p>", esc(t));
        }
        Block::Paragraph(t) => {
            let _ = write!(h, "<p>{}</p>", esc(t));
        }
        Block::List(l) => list(h, l),
        Block::Table(t) => {
            // a notes column leaves the table for a list under it
            let shown = t.head.len() - usize::from(t.notes_last);
            h.push_str("<table>");
            row(h, "th", &t.head[..shown]);
            for r in &t.rows {
                row(h, "td", &r[..shown]);
            }
            h.push_str("</table>");
            if t.notes_last {
                let items = t
                    .rows
                    .iter()
                    .map(|r| format!("{}: {}", r[0], r[shown]))
                    .collect();
                list(
                    h,
                    &List {
                        items,
                        warn: false,
                        empty: None,
                    },
                );
            }
        }
        Block::Figure(Figure::Forest { title, rows }) => {
            let _ = write!(h, "<figure>{}</figure>", forest(title, rows, true));
        }
        Block::Figure(Figure::Histogram {
            title,
            points,
            lower,
            upper,
        }) => {
            let _ = write!(
                h,
                "<figure>{}</figure>",
                histogram(title, points, *lower, *upper)
            );
        }
        Block::Listing {
            intro,
            caption,
            text,
            ..
        } => {
            let _ = write!(
                h,
                "<p>{} {}</p><pre>{}</pre>",
                esc(intro),
                esc(caption),
                esc(text)
            );
        }
    }
}

fn list(h: &mut String, l: &List) {
    h.push_str(if l.warn {
        "<ul class=\"warn\">\n"
    } else {
        "<ul>\n"
    });
    let empty = l.empty.iter().filter(|_| l.items.is_empty());
    for x in l.items.iter().chain(empty) {
        let _ = writeln!(h, "<li>{}</li>", esc(x));
    }
    h.push_str("</ul>");
}

fn row(h: &mut String, tag: &str, cells: &[String]) {
    h.push_str("<tr>");
    for c in cells {
        let _ = write!(h, "<{tag}>{}</{tag}>", esc(c));
    }
    h.push_str("</tr>\n");
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
