//! Properties of the parsers: no byte sequence, CSV-ish text or job text makes them panic,
//! and every input error they return names the file and a line that exists.

use darkfigure::Error;
use darkfigure::Occasions;
use darkfigure::data::parse::{Format, ParseOptions, parse_bytes, table_from_rows};
use darkfigure::job::parse_job;
use proptest::prelude::*;

const CASES: u32 = 256;

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![
        Just(Format::Auto),
        Just(Format::Table),
        Just(Format::Records),
        Just(Format::Frequency),
        Just(Format::Counts),
    ]
}

fn occasions() -> impl Strategy<Value = Option<Occasions>> {
    prop_oneof![
        Just(None),
        Just(Some(Occasions::Infinite)),
        (0u32..8).prop_map(|t| Some(Occasions::Finite(t))),
        Just(Some(Occasions::Finite(u32::MAX))),
    ]
}

fn lists() -> impl Strategy<Value = Option<Vec<String>>> {
    prop_oneof![
        Just(None),
        proptest::collection::vec("[abc]|count|", 0..4).prop_map(Some),
    ]
}

fn options() -> impl Strategy<Value = ParseOptions> {
    (
        format(),
        occasions(),
        lists(),
        proptest::option::of("[a-c]{1,2}"),
        proptest::option::of("[a-c]|count"),
    )
        .prop_map(
            |(format, occasions, lists, stratify_by, count_column)| ParseOptions {
                format,
                lists,
                occasions,
                stratify_by,
                count_column,
            },
        )
}

/// Text built from the characters CSV files of this crate are made of.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let body = "[01,\n\r count\\-.ab]{0,200}";
    let prefix = prop_oneof![
        Just(""),
        Just("\u{feff}"),
        Just("a,b,count\n"),
        Just("a,b,c,count\r\n"),
        Just("times_captured,count\n"),
        Just("a,b,age\n"),
    ];
    (prefix, body).prop_map(|(p, b)| format!("{p}{b}").into_bytes())
}

/// Lines as a reader counts them: `\n`, `\r\n` and a lone `\r` each end one.
fn line_count(bytes: &[u8]) -> usize {
    let mut n = 1;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
            n += 1;
        }
    }
    n
}

fn check_parse(bytes: &[u8], opts: &ParseOptions) -> Result<(), TestCaseError> {
    match parse_bytes("in.csv", bytes, opts) {
        Ok(p) => prop_assert!(
            p.data.observed() > 0,
            "a parsed dataset has someone observed"
        ),
        Err(Error::Input { loc, message }) => {
            prop_assert_eq!(loc.file.as_str(), "in.csv");
            prop_assert!(
                loc.line <= line_count(bytes) + 1,
                "line {} beyond the input: {}",
                loc.line,
                message
            );
            prop_assert!(
                message.starts_with("expected"),
                "message says what was expected: {}",
                message
            );
        }
        Err(_) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn parse_bytes_never_panics_on_arbitrary_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..400),
        opts in options(),
    ) {
        check_parse(&bytes, &opts)?;
    }

    #[test]
    fn parse_bytes_never_panics_on_csvish_text(bytes in csvish(), opts in options()) {
        check_parse(&bytes, &opts)?;
    }

    #[test]
    fn parse_job_never_panics_on_arbitrary_strings(text in any::<String>()) {
        let _ = parse_job("job.json", &text);
    }

    #[test]
    fn parse_job_never_panics_on_jsonish_strings(
        head in prop_oneof![
            Just(""),
            Just("{\"schema\":\"darkfigure.job/1\","),
            Just("{\"schema\":\"darkfigure.job/1\",\"data\":{\"lists\":[\"a\",\"b\"],\"rows\":"),
        ],
        body in "[{}\\[\\]\":,0-9a-z./ \n-]{0,160}",
    ) {
        let _ = parse_job("job.json", &format!("{head}{body}"));
    }

    #[test]
    fn inline_tables_never_panic(
        names in proptest::collection::vec("[ab]{0,2}", 0..5),
        rows in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![Just(0i64), Just(1), any::<i64>()], 0..6),
            0..6,
        ),
    ) {
        if let Ok((t, _)) = table_from_rows("data", &names, &rows) {
            prop_assert!(t.observed() > 0);
        }
    }
}
