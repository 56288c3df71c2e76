//! The `darkfigure.result/1` JSON document and atomic file writes. Serialisation is
//! deterministic: struct fields in declaration order, shortest round-trip floats,
//! non-finite numbers as `null` (their estimate carries a status instead).

use crate::error::{Error, Result};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The temporary files of writes in progress, so that a signal that ends the run can remove
/// them (`abandon_writes`). A write registers its file before creating it, under this lock.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic elsewhere cannot leave the list inconsistent (push and retain are whole).
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes the temporary files of the writes in progress and returns the lock that keeps
/// any new write from starting: hold it until the process ends (a signal's handler calls
/// this just before ending the process the way the signal would have).
pub fn abandon_writes() -> MutexGuard<'static, Vec<PathBuf>> {
    let mut guard = pending();
    for tmp in guard.drain(..) {
        let _ = std::fs::remove_file(&tmp);
    }
    guard
}

/// Pretty JSON with a trailing newline.
pub fn to_json<T: Serialize>(v: &T) -> Result<String> {
    let mut s = serde_json::to_string_pretty(v)
        .map_err(|e| Error::Numerical(format!("JSON serialisation failed: {e}")))?;
    s.push('\n');
    Ok(s)
}

/// Writes `contents` to `path` without destroying what is there:
/// - a regular file (or a new one) is replaced atomically: a temporary file in the same
///   directory, fsynced, then renamed over it, so a failed run never leaves a half-written
///   file and the temporary file is removed on failure;
/// - a symlink is followed to its target, which is written as above (the link stays);
/// - anything else (a character device such as `/dev/null`, a FIFO) is written straight
///   through: renaming over it would replace the device or pipe with a plain file.
///
/// Every write error (a full device, a closed pipe) is returned with the path.
pub fn write_atomic(path: &str, contents: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| Error::Io {
        path: path.to_string(),
        source: e,
    };
    let target = resolve_links(Path::new(path)).map_err(io)?;
    match std::fs::metadata(&target) {
        Ok(m) if !m.is_file() && !m.is_dir() => {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(&target)
                .map_err(io)?;
            f.write_all(contents).and_then(|_| f.flush()).map_err(io)
        }
        _ => replace_file(&target, contents).map_err(io),
    }
}

/// The path a chain of symlinks ends at (the link's own path when it is not a link; a
/// dangling link's target, so that writing creates it). Gives up after 40 links, as the
/// kernel does.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Temporary file beside `target`, fsynced, renamed over it; removed if anything fails.
fn replace_file(target: &Path, contents: &[u8]) -> std::io::Result<()> {
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = target
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    pending().push(tmp.clone());
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    pending().retain(|p| p != &tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signal arriving while a file is being written: `abandon_writes` (what the signal
    /// handler calls) removes the temporary file, and the target is then either absent or
    /// whole, never half-written.
    #[test]
    fn abandoning_a_write_in_progress_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("darkfigure-abandon-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        let target = dir.join("big.json");
        let contents = vec![b'x'; 256 << 20];
        let t = target.to_string_lossy().to_string();
        let expected_len = contents.len() as u64;
        let writer = std::thread::spawn(move || write_atomic(&t, &contents));
        let tmp_exists = || {
            std::fs::read_dir(&dir)
                .map(|d| {
                    d.flatten()
                        .any(|e| e.file_name().to_string_lossy().contains(".tmp"))
                })
                .unwrap_or(false)
        };
        let start = std::time::Instant::now();
        while !tmp_exists() && start.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::yield_now();
        }
        let guard = abandon_writes();
        assert!(!tmp_exists(), "the temporary file survived abandon_writes");
        drop(guard);
        let _ = writer.join().expect("writer thread");
        assert!(!tmp_exists(), "a temporary file was left");
        if let Ok(m) = std::fs::metadata(&target) {
            assert_eq!(m.len(), expected_len, "the target is half-written");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
