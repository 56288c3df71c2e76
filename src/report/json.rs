//! The `darkfigure.result/1` JSON document and atomic file writes. Serialisation is
//! deterministic: struct fields in declaration order, shortest round-trip floats,
//! non-finite numbers as `null` (their estimate carries a status instead).

use crate::error::{Error, Result};
use serde::Serialize;
use std::io::Write;

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::Numerical(format!("JSON serialisation failed: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then a
/// rename, so a failed run never leaves a half-written file.
pub fn write_atomic(path: &str, contents: &[u8]) -> Result<()> {
    let target = std::path::Path::new(path);
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let file_name = target
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    let io = |e: std::io::Error| Error::Io {
        path: path.to_string(),
        source: e,
    };
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}
