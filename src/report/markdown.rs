//! The report as Markdown: the tree that `model` builds (which decides every word and
//! every suppressed count), laid out as blocks separated by blank lines. Figures are left
//! out; the HTML, its sibling, carries them.

use super::model::{Block, List, Report, Table, build};
use crate::job::ResultDoc;

/// The Markdown report of `doc`, counts below `thr` suppressed.
pub fn markdown(doc: &ResultDoc, thr: u64) -> String {
    render(&build(doc, thr))
}

/// A report tree as Markdown.
pub fn render(r: &Report) -> String {
    let mut chunks = vec![format!("# {}\n", r.title)];
    chunks.extend(r.lead.iter().filter_map(block));
    for s in r.groups.iter().flatten() {
        chunks.push(format!("## {}\n", s.heading));
        chunks.extend(s.blocks.iter().filter_map(block));
    }
    chunks.join("\n")
}

/// A block's text, each line ending in a newline; `None` for what Markdown cannot show.
fn block(b: &Block) -> Option<String> {
    Some(match b {
        Block::Headline(t) | Block::Paragraph(t) => format!("{t}\n"),
        Block::List(l) => list(l),
        Block::Table(t) => table(t),
        Block::Figure(_) => return None,
        Block::Listing {
            intro, lang, text, ..
        } => format!("{intro}\n\n```{lang}\n{text}\n```\n"),
    })
}

fn list(l: &List) -> String {
    match &l.empty {
        Some(e) if l.items.is_empty() => format!("{e}\n"),
        _ => l.items.iter().map(|x| format!("- {x}\n")).collect(),
    }
}

fn table(t: &Table) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let rule = vec!["---"; t.head.len()].join("|");
    let mut s = line(&t.head);
    s.push_str(&format!("|{rule}|\n"));
    for r in &t.rows {
        s.push_str(&line(r));
    }
    s
}
