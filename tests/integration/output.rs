//! Where results are written: a regular file is replaced atomically, a symlink is followed
//! (the link stays a link), devices and FIFOs are written straight through (never replaced
//! by a plain file), and a failed write (a full device) is an error with the path and exit
//! code 1. Runs as the CI user, root, who could replace `/dev/null` if the code let it.

use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(tag: &str) -> PathBuf {
    let d =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("output-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

fn estimate_to(target: &Path) -> Output {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/UKdat.csv");
    Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .args([
            "estimate".as_ref(),
            data.as_os_str(),
            "-m".as_ref(),
            "main".as_ref(),
        ])
        .args(["--quiet".as_ref(), "--json".as_ref(), target.as_os_str()])
        .output()
        .expect("run darkfigure")
}

fn is_result(bytes: &[u8]) -> bool {
    String::from_utf8_lossy(bytes).contains("\"schema\": \"darkfigure.result/1\"")
}

#[test]
fn a_symlink_is_followed_and_stays_a_link() {
    let d = scratch("symlink");
    std::fs::write(d.join("real.json"), "old").unwrap();
    std::os::unix::fs::symlink("real.json", d.join("link.json")).unwrap();
    std::os::unix::fs::symlink("new.json", d.join("dangling.json")).unwrap();
    for link in ["link.json", "dangling.json"] {
        let o = estimate_to(&d.join(link));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let meta = std::fs::symlink_metadata(d.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} was replaced");
    }
    assert!(is_result(&std::fs::read(d.join("real.json")).unwrap()));
    assert!(is_result(&std::fs::read(d.join("new.json")).unwrap()));
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

#[test]
fn devices_are_written_through_not_replaced() {
    let o = estimate_to(Path::new("/dev/null"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let meta = std::fs::metadata("/dev/null").unwrap();
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null is no longer a device"
    );
}

#[test]
fn a_full_device_is_an_error_naming_it() {
    let o = estimate_to(Path::new("/dev/full"));
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/dev/full"), "{err}");
    assert!(
        std::fs::metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn a_fifo_is_written_through() {
    let d = scratch("fifo");
    let fifo = d.join("pipe");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).expect("read the fifo"))
    };
    let o = estimate_to(&fifo);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(is_result(&reader.join().expect("reader")));
    let meta = std::fs::symlink_metadata(&fifo).unwrap();
    assert!(meta.file_type().is_fifo(), "the fifo was replaced");
}

/// SIGINT and SIGTERM at moments spread over a whole run (parsing, estimating, writing the
/// report and the JSON): the process ends by that signal or finishes, never leaves a
/// temporary file, and a result file is either absent or whole.
#[test]
fn a_signal_at_any_moment_leaves_no_temporary_or_half_written_file() {
    use std::os::unix::process::ExitStatusExt;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/UKdat.csv");
    let d = scratch("signals");
    let run = |sig: Option<i32>, delay_ms: u64| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_darkfigure"))
            .arg("estimate")
            .arg(&data)
            .args([
                "-m", "main", "--quiet", "--json", "out.json", "--report", "out.html",
            ])
            .current_dir(&d)
            .spawn()
            .expect("spawn");
        if let Some(sig) = sig {
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let _ = Command::new("kill")
                .args([format!("-{sig}"), c.id().to_string()])
                .status();
        }
        c.wait().expect("wait")
    };
    let t = std::time::Instant::now();
    assert!(run(None, 0).success());
    let whole = std::time::Instant::now().duration_since(t).as_millis() as u64;
    let mut interrupted = 0;
    for i in 0..30u64 {
        for f in ["out.json", "out.html"] {
            let _ = std::fs::remove_file(d.join(f));
        }
        let sig = if i % 2 == 0 { 2 } else { 15 };
        let st = run(Some(sig), i * (whole + 20) / 30);
        assert!(st.success() || st.signal() == Some(sig), "{st:?}");
        interrupted += usize::from(st.signal().is_some());
        let names: Vec<String> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert!(names.iter().all(|n| !n.contains(".tmp")), "left: {names:?}");
        if let Ok(b) = std::fs::read(d.join("out.json")) {
            assert!(
                serde_json::from_slice::<serde_json::Value>(&b).is_ok() && is_result(&b),
                "half-written out.json"
            );
        }
        if let Ok(b) = std::fs::read(d.join("out.html")) {
            assert!(
                String::from_utf8_lossy(&b).trim_end().ends_with("</html>"),
                "half-written out.html"
            );
        }
    }
    assert!(
        interrupted > 0,
        "no run was interrupted: the test says nothing"
    );
}

/// A reader that goes away (`| head`) ends the printing quietly: exit 0, nothing on
/// stderr, and the files asked for are still written. A full standard output is an error.
#[test]
fn a_closed_stdout_is_quiet_and_a_full_one_is_an_error() {
    use std::process::Stdio;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/UKdat.csv");
    let d = scratch("epipe");
    for json_to_stdout in [false, true] {
        let _ = std::fs::remove_file(d.join("out.json"));
        let mut c = Command::new(env!("CARGO_BIN_EXE_darkfigure"));
        c.arg("estimate").arg(&data).current_dir(&d);
        if json_to_stdout {
            c.args(["--json", "-", "--report", "out.html"]);
        } else {
            c.args(["--json", "out.json"]);
        }
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        drop(child.stdout.take());
        let o = child.wait_with_output().expect("wait");
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        // With the JSON on stdout the table goes to stderr: only an error would be wrong.
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("error") && !err.contains("panicked"), "{err}");
        let written = if json_to_stdout {
            "out.html"
        } else {
            "out.json"
        };
        assert!(d.join(written).exists(), "{written} not written");
    }
    let full = Command::new(env!("CARGO_BIN_EXE_darkfigure"))
        .arg("estimate")
        .arg(&data)
        .stdout(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .expect("/dev/full"),
        )
        .output()
        .expect("run");
    assert_eq!(full.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&full.stderr).contains("standard output"));
}
