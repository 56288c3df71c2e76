//! Output: the JSON wire format (`json`), terminal tables in the manner of R's print
//! methods (`terminal`), and the policymaker's report (`model` builds it once; `html` and
//! `markdown` lay it out, `svg` draws its pictures). `format` holds the number formatting
//! they share. This is the end of the flow; together with `main.rs` it is the only place
//! that turns results into text.

pub mod calibration;
pub mod disclose;
pub mod format;
pub mod html;
pub mod json;
pub mod markdown;
pub mod model;
pub mod study;
pub mod svg;
pub mod terminal;
