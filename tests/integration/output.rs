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
