//! A simulation study run on a real Slurm cluster as the README says — an array of shards
//! submitted with `models/slurm/submit.sh`, then the merge job — gives the bytes of the same
//! study run in one process. `.ci/slurm-up` (called by `.ci/run`) installs Debian's Slurm and
//! starts a one-node cluster on this host; without Slurm the test fails, it never skips.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// More than one shard runs at once on two cores, and one waits for a free one.
const SHARDS: u32 = 3;
/// The shards and the merge take seconds; a minute is Slurm's own scheduling at its slowest.
const TIMEOUT: Duration = Duration::from_secs(300);

/// The states a job does not leave (Slurm's job state codes).
const ENDED: [&str; 9] = [
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
];

const NO_SLURM: &str = "this test runs a study on a real Slurm cluster: `.ci/slurm-up` \
     installs Debian's slurm-wlm and munge and starts a one-node cluster on this host (`.ci/run` \
     does; `.ci/slurm-down` stops it)";

fn on_path(cmd: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {cmd}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// `JobState` and `Reason` of a job, from `scontrol` (there is no accounting database on the
/// test cluster, so no `sacct`).
fn job_state(id: &str) -> (String, String) {
    let text = run("scontrol", &["show", "job", "-o", id]);
    let field = |key: &str| {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(key))
            .map(str::to_string)
    };
    match (field("JobState="), field("Reason=")) {
        (Some(state), Some(reason)) => (state, reason),
        _ => panic!("Slurm does not know job {id} (any more): {text}"),
    }
}

/// Every log the jobs wrote, for a failure message.
fn logs(out: &Path) -> String {
    let mut names: Vec<PathBuf> = std::fs::read_dir(out)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    names.retain(|p| p.extension().is_some_and(|e| e == "log"));
    names.sort();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            format!("--- {}\n{text}", p.display())
        })
        .collect()
}

#[test]
fn a_study_sharded_on_slurm_merges_to_the_bytes_of_one_process() {
    assert!(on_path("sbatch"), "sbatch is not on PATH: {NO_SLURM}");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = env!("CARGO_BIN_EXE_darkfigure");
    let study = root.join("tests/studies/tiny.json");
    // Under target/: the jobs run as this user, and on a real cluster target/ is usually on
    // the file system the nodes share, where /tmp is not.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("slurm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let out = dir.join("sharded");

    let submit = Command::new(root.join("models/slurm/submit.sh"))
        .arg(&study)
        .arg(&out)
        .arg(SHARDS.to_string())
        .env("DARKFIGURE_BIN", bin)
        .output()
        .expect("run models/slurm/submit.sh");
    let said = String::from_utf8_lossy(&submit.stderr);
    assert!(
        submit.status.success(),
        "models/slurm/submit.sh failed: {said}\n(if it could not reach Slurm: {NO_SLURM})"
    );
    let merge = String::from_utf8_lossy(&submit.stdout).trim().to_string();
    assert!(
        !merge.is_empty() && merge.bytes().all(|b| b.is_ascii_digit()),
        "submit.sh should print the merge job's id, not {merge:?} ({said})"
    );
    let shards = said
        .split_once("shards: job ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("submit.sh did not name the array job: {said}"))
        .to_string();

    let started = Instant::now();
    let (state, reason) = loop {
        let (state, reason) = job_state(&merge);
        // A failed shard means the merge can never start. The test cluster cancels such a
        // job (kill_invalid_depend); a cluster without that setting leaves it pending.
        if ENDED.contains(&state.as_str()) || reason == "DependencyNeverSatisfied" {
            break (state, reason);
        }
        if started.elapsed() > TIMEOUT {
            let queue = run("squeue", &["-j", &format!("{shards},{merge}")]);
            run("scancel", &[&shards, &merge]);
            panic!(
                "the merge job {merge} was still {state} ({reason}) after {} s; cancelled it \
                 and the shards (job {shards}).\n{queue}\n{}",
                TIMEOUT.as_secs(),
                logs(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    if state != "COMPLETED" {
        run("scancel", &[&merge]);
        panic!(
            "the merge job {merge} ended {state} ({reason}); shards were job {shards}.\n{}",
            logs(&out)
        );
    }

    let single = dir.join("single.json");
    let one = Command::new(bin)
        .arg("simulate")
        .arg(&study)
        .arg("--json")
        .arg(&single)
        .output()
        .expect("run darkfigure simulate");
    assert!(
        one.status.success(),
        "darkfigure simulate in one process failed: {}",
        String::from_utf8_lossy(&one.stderr)
    );
    let merged = std::fs::read(out.join("study.json")).expect("the merge job's study.json");
    let single = std::fs::read(&single).expect("the single run's JSON");
    if merged != single {
        let at = merged
            .iter()
            .zip(&single)
            .take_while(|(a, b)| a == b)
            .count();
        let line = single[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        panic!(
            "the merged study ({} bytes) differs from the one-process run ({} bytes) from byte \
             {at} (line {line}); both are in {}",
            merged.len(),
            single.len(),
            dir.display()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
