//! Bad input through the binary: every file in `tests/badinput/` (and every bad option)
//! must end with exit code 2, an `error:` line that names the file, line and column and
//! what was expected, no panic, and no result file written.

use darkfigure::data::parse::{ParseOptions, parse_bytes};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// One malformed input and what the error must say.
struct Case {
    /// Subcommand: `estimate` or `run`.
    cmd: &'static str,
    /// File under `tests/badinput/`.
    file: &'static str,
    /// Further arguments.
    args: &'static [&'static str],
    /// For content errors: the file the message names and what follows its path
    /// (`":3:2: "` = line 3, column 2; `": "` = the whole file). None for option errors.
    at: Option<(&'static str, &'static str)>,
    /// Substrings the message must hold (what was expected, what was found).
    expect: &'static [&'static str],
}

const fn case(
    cmd: &'static str,
    file: &'static str,
    args: &'static [&'static str],
    at: Option<(&'static str, &'static str)>,
    expect: &'static [&'static str],
) -> Case {
    Case {
        cmd,
        file,
        args,
        at,
        expect,
    }
}

const E: &str = "estimate";
const R: &str = "run";

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Table CSV content.
    case(E, "empty.csv", &[], Some(("empty.csv", ":1: ")), &["expected a header line", "empty file"]),
    case(E, "header_only.csv", &[], Some(("header_only.csv", ":2: ")), &["expected at least one data row"]),
    case(E, "bad_cell.csv", &[], Some(("bad_cell.csv", ":3:2: ")), &["expected 0 or 1", "column \"b\"", "found \"2\""]),
    case(E, "negative_count.csv", &[], Some(("negative_count.csv", ":3:4: ")), &["expected a count", "negative", "\"-3\""]),
    case(E, "fractional_count.csv", &[], Some(("fractional_count.csv", ":3:4: ")), &["expected a count", "non-integer", "\"2.5\""]),
    case(E, "overflow_count.csv", &[], Some(("overflow_count.csv", ":3:4: ")), &["expected a count", "99999999999999999999999", "too large"]),
    case(E, "count_above_2_50.csv", &[], Some(("count_above_2_50.csv", ":3:4: ")), &["2^50", "1125899906842625", "too large"]),
    case(E, "all_zero_row.csv", &[], Some(("all_zero_row.csv", ":3:1: ")), &["expected a history with at least one 1", "all-zero"]),
    case(E, "ragged_short.csv", &[], Some(("ragged_short.csv", ":3:4: ")), &["expected 4 fields", "found 3"]),
    case(E, "ragged_long.csv", &[], Some(("ragged_long.csv", ":3:5: ")), &["expected 4 fields", "found 5"]),
    case(E, "dup_columns.csv", &[], Some(("dup_columns.csv", ":1:3: ")), &["expected distinct column names", "\"a\""]),
    case(E, "empty_colname.csv", &[], Some(("empty_colname.csv", ":1:2: ")), &["expected a column name", "empty"]),
    case(E, "bom_bad_row.csv", &[], Some(("bom_bad_row.csv", ":3:1: ")), &["expected 0 or 1", "found \"x\""]),
    case(E, "crlf_bad_cell.csv", &[], Some(("crlf_bad_cell.csv", ":3:3: ")), &["expected 0 or 1", "found \"yes\""]),
    case(E, "cr_only_bad_cell.csv", &[], Some(("cr_only_bad_cell.csv", ":3:3: ")), &["expected 0 or 1", "found \"yes\""]),
    case(E, "blank_lines_bad_cell.csv", &[], Some(("blank_lines_bad_cell.csv", ":5:3: ")), &["expected 0 or 1", "found \"yes\""]),
    case(E, "nonutf8_cell.csv", &[], Some(("nonutf8_cell.csv", ":3:2: ")), &["expected UTF-8"]),
    case(E, "nonutf8_header.csv", &[], Some(("nonutf8_header.csv", ":1:2: ")), &["expected UTF-8"]),
    case(E, "too_many_lists.csv", &[], Some(("too_many_lists.csv", ":1:64: ")), &["expected at most 63 list columns", "found 64"]),
    case(E, "table_last_not_count.csv", &["--format", "table"], Some(("table_last_not_count.csv", ":1:4: ")), &["expected the last column", "\"count\"", "found \"total\""]),
    case(E, "only_zero_counts.csv", &[], Some(("only_zero_counts.csv", ": ")), &["expected at least one person observed", "only zero counts"]),
    // Records CSV.
    case(E, "records.csv", &["--lists", "A,B,X"], Some(("records.csv", ":1: ")), &["expected a column named \"X\"", "--lists"]),
    case(E, "records_maybe.csv", &["--lists", "A,B,C"], Some(("records_maybe.csv", ":3:2: ")), &["expected a list flag", "column \"B\"", "found \"maybe\""]),
    case(E, "records_no_flag.csv", &["--lists", "A,B,C"], Some(("records_no_flag.csv", ":3:1: ")), &["expected the person to be on at least one list"]),
    // Frequency CSV.
    case(E, "freq_zero_times.csv", &["--occasions", "3"], Some(("freq_zero_times.csv", ":3:1: ")), &["expected times_captured", "from 1 to 3", "found \"0\""]),
    case(E, "freq_fraction_times.csv", &["--occasions", "3"], Some(("freq_fraction_times.csv", ":3:1: ")), &["expected times_captured", "whole number", "found \"1.5\""]),
    case(E, "freq_times_above_occasions.csv", &["--occasions", "3"], Some(("freq_times_above_occasions.csv", ":4:1: ")), &["expected times_captured", "from 1 to 3", "found \"5\""]),
    case(E, "valid_freq.csv", &["--method", "m0"], None, &["m0", "number of occasions", "--occasions"]),
    case(E, "valid_freq.csv", &["--occasions", "4294967295"], None, &["number of occasions", "from 1 to 100000", "4294967295"]),
    // Methods and options on valid data.
    case(E, "one_list.csv", &["--method", "m0"], None, &["m0", "at least 2 lists", "the data have 1"]),
    case(E, "valid3.csv", &["--method", "nosuch"], None, &["unknown method \"nosuch\"", "known methods"]),
    case(E, "valid3.csv", &["--model", "[a:zz]"], None, &["\"zz\"", "not a list", "a, b, c"]),
    case(E, "valid3.csv", &["--model", "[14]"], None, &["list number 4", "outside 1..3"]),
    case(E, "valid3.csv", &["--level", "0"], None, &["--level", "expected a level strictly between 0 and 1", "found 0"]),
    case(E, "valid3.csv", &["--level", "1.5"], None, &["--level", "expected a level strictly between 0 and 1", "found 1.5"]),
    case(E, "valid3.csv", &["-m", "dga", "--pthresh", "0.1"], None, &["--pthresh belongs to stepwise", "no such method"]),
    case(E, "valid3.csv", &["-m", "stepwise", "--bootstrap", "18446744073709551615"], None, &["--bootstrap", "from 1 to 10000000"]),
    case(E, "valid3.csv", &["-m", "main", "--threads", "100000000"], None, &["--threads", "from 1 to 1024"]),
    // Job files.
    case(R, "job_wrong_schema.json", &[], Some(("job_wrong_schema.json", ":2:30: ")), &["schema", "expected \"darkfigure.job/1\"", "found \"darkfigure.job/9\""]),
    case(R, "job_unknown_field.json", &[], Some(("job_unknown_field.json", ":4:10: ")), &["unknown field `colour`", "expected one of"]),
    case(R, "job_data_unknown_field.json", &[], Some(("job_data_unknown_field.json", ":4:19: ")), &["data.colour", "unknown field `colour`"]),
    case(R, "job_level.json", &[], Some(("job_level.json", ":4:14: ")), &["at level", "expected a level strictly between 0 and 1", "found 1.5"]),
    case(R, "job_method_level.json", &[], Some(("job_method_level.json", ":4:37: ")), &["methods[0].level", "strictly between 0 and 1", "found 0"]),
    case(R, "job_syntax.json", &[], Some(("job_syntax.json", ":3:32: ")), &["expected `,` or `}`"]),
    case(R, "job_nonutf8.json", &[], Some(("job_nonutf8.json", ":2:42: ")), &["expected UTF-8"]),
    case(R, "job_inline_flag_2.json", &[], Some(("job_inline_flag_2.json", ":3:57: ")), &["data.rows[1][1]", "expected 0 or 1", "found 2"]),
    case(R, "job_inline_zero_row.json", &[], Some(("job_inline_zero_row.json", ":3:64: ")), &["data.rows[2]", "at least one 1", "all-zero"]),
    case(R, "job_inline_dup_lists.json", &[], Some(("job_inline_dup_lists.json", ":3:27: ")), &["data.lists[1]", "expected distinct list names"]),
    case(R, "job_file_bad_csv.json", &[], Some(("bad_cell.csv", ":3:2: ")), &["expected 0 or 1", "found \"2\""]),
    case(R, "job_unknown_method.json", &[], Some(("job_unknown_method.json", ":4:43: ")), &["unknown method \"nosuch\""]),
    case(R, "job_foreign_option.json", &[], Some(("job_foreign_option.json", ":4:55: ")), &["at methods[1].K", "option \"K\" does not belong to method stepwise"]),
    case(R, "job_foreign_option_before_id.json", &[], Some(("job_foreign_option_before_id.json", ":4:")), &["methods[0]", "option \"pthresh\" does not belong to method dga"]),
];

fn corpus(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/badinput")
        .join(file)
}

/// A fresh, empty directory for one run's output.
fn fresh_dir(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("badinput-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn darkfigure(args: &[&str], cwd: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_darkfigure"));
    c.args(args);
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    c.output().expect("the darkfigure binary runs")
}

#[test]
fn every_bad_input_exits_2_with_a_located_message_and_writes_nothing() {
    assert!(CASES.len() >= 34);
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let input = corpus(c.file);
        assert!(input.is_file(), "missing corpus file {}", input.display());
        let input = input.to_string_lossy().to_string();
        let dir = fresh_dir(&format!("case{i}"));
        let out_json = dir.join("out.json").to_string_lossy().to_string();
        let mut args = vec![c.cmd, input.as_str()];
        args.extend_from_slice(c.args);
        args.extend_from_slice(&["--json", &out_json, "--quiet"]);
        let out = darkfigure(&args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        if out.status.code() != Some(2) {
            problems.push(format!("exit code {:?}, expected 2", out.status.code()));
        }
        if !stderr.starts_with("error:") {
            problems.push("stderr does not start with \"error:\"".to_string());
        }
        if stderr.contains("panicked") {
            problems.push("panic".to_string());
        }
        if let Some((file, at)) = c.at {
            let named = corpus(file).to_string_lossy().to_string();
            let want = format!("error: {named}{at}");
            if !stderr.starts_with(&want) {
                problems.push(format!("expected the message to start with {want:?}"));
            }
        }
        for e in c.expect {
            if !stderr.contains(e) {
                problems.push(format!("message lacks {e:?}"));
            }
        }
        if Path::new(&out_json).exists() {
            problems.push("the output JSON was written".to_string());
        }
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        if !left.is_empty() {
            problems.push(format!("files left in the output directory: {left:?}"));
        }
        if problems.is_empty() {
            let _ = std::fs::remove_dir_all(&dir);
        } else {
            failures.push(format!(
                "{} {} {:?}: {}\n    stderr: {}",
                c.cmd,
                c.file,
                c.args,
                problems.join("; "),
                stderr.trim_end()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// Runs `estimate data.csv --json out.json` in a directory holding a copy of `file`, so
/// that the file name in the result is the same for every input.
fn estimate_copy(file: &str, tag: &str) -> Vec<u8> {
    let dir = fresh_dir(tag);
    std::fs::copy(corpus(file), dir.join("data.csv")).unwrap();
    let out = darkfigure(
        &["estimate", "data.csv", "--json", "out.json", "--quiet"],
        Some(&dir),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = std::fs::read(dir.join("out.json")).expect("the result JSON was written");
    let _ = std::fs::remove_dir_all(&dir);
    json
}

#[test]
fn bom_and_crlf_alone_are_accepted_and_change_nothing() {
    let plain = std::fs::read(corpus("valid3.csv")).unwrap();
    let dressed = std::fs::read(corpus("valid3_bom_crlf.csv")).unwrap();
    assert!(dressed.starts_with(b"\xEF\xBB\xBF") && dressed.windows(2).any(|w| w == b"\r\n"));
    let opts = ParseOptions::default();
    let a = parse_bytes("plain", &plain, &opts).unwrap();
    let b = parse_bytes("dressed", &dressed, &opts).unwrap();
    assert_eq!(a.data, b.data);
    assert_eq!(a.warnings, b.warnings);

    let a = estimate_copy("valid3.csv", "plain");
    let b = estimate_copy("valid3_bom_crlf.csv", "dressed");
    assert!(!a.is_empty());
    assert!(a == b, "BOM + CRLF changed the result JSON");
}
