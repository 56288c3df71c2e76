//! Output: the JSON wire format (`json`), terminal tables in the manner of R's print
//! methods (`terminal`). This is the end of the flow; together with `main.rs` it is the
//! only place that turns results into text.

pub mod html;
pub mod json;
pub mod svg;
pub mod terminal;
