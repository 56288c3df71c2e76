//! The library's one error type. Input errors carry the file, line, column and what was
//! expected, so `main.rs` can print them and exit with code 2; every other error exits 1.

use std::fmt;

/// Where in an input file a problem was found (1-based line and column; 0 = not known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// File name as the user gave it (or `<inline>` for job-embedded data).
    pub file: String,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column (CSV field number); 0 when it concerns a whole line or file.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}", self.file),
            (l, 0) => write!(f, "{}:{}", self.file, l),
            (l, c) => write!(f, "{}:{}:{}", self.file, l, c),
        }
    }
}

/// Everything that can go wrong in the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed input data: names the place and what was expected there.
    #[error("{loc}: {message}")]
    Input {
        /// Where the problem is.
        loc: Location,
        /// What was expected and what was found.
        message: String,
    },
    /// A request that cannot be honoured with this data or these options (bad option value,
    /// a method that needs more lists, an unknown list in a model spec).
    #[error("{0}")]
    Usage(String),
    /// A job's content that is well-formed JSON but not acceptable, at a JSON path
    /// (`aggregate.studies[2].published.multiplier`). `job::parse_job` turns it into an
    /// `Input` error with the line and column of that value in the file.
    #[error("at {path}: {message}")]
    At {
        /// The JSON path of the offending value.
        path: String,
        /// What was expected and what was found.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file concerned.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A numerical failure that is not the user's fault (reported, exit code 1).
    #[error("numerical failure: {0}")]
    Numerical(String),
}

impl Error {
    /// Builds an input error at a given place.
    pub fn input(file: &str, line: usize, column: usize, message: impl Into<String>) -> Self {
        Error::Input {
            loc: Location {
                file: file.to_string(),
                line,
                column,
            },
            message: message.into(),
        }
    }

    /// A problem with the job's value at a JSON path.
    pub fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        Error::At {
            path: path.into(),
            message: message.into(),
        }
    }

    /// True for errors caused by what the user gave (exit code 2).
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::Input { .. } | Error::Usage(_) | Error::At { .. }
        )
    }
}

/// Library result type.
pub type Result<T> = std::result::Result<T, Error>;
