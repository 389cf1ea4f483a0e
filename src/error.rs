//! One error type for everything a user can get wrong, with source positions,
//! and one renderer that prints `file:line:column`, the offending line and a caret.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A position in a source file (1-based line and column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub file: Arc<PathBuf>,
    pub line: usize,
    pub col: usize,
}

impl Span {
    pub fn new(file: Arc<PathBuf>, line: usize, col: usize) -> Self {
        Span { file, line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// Errors a user can cause: bad input files, bad options, bad patterns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Something wrong at a known place in a source file.
    #[error("{}", render_located(span, message))]
    Located { span: Span, message: String },
    /// A file could not be read at all.
    #[error("could not read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A bad command-line option or option value (exit code 5).
    #[error("{0}")]
    Options(String),
    /// Input that cannot be understood, without a position (exit code 4).
    #[error("{0}")]
    Parse(String),
    /// Anything else, already phrased for the user.
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn at(span: &Span, message: impl Into<String>) -> Self {
        Error::Located {
            span: span.clone(),
            message: message.into(),
        }
    }
    /// A located error followed by Ansible's help text (after the excerpt).
    pub fn with_help(span: &Span, message: &str, help: &str) -> Self {
        Error::Parse(format!("{}\n{help}", render_located(span, message)))
    }
    /// Ansible's exit codes: 4 for parse errors, 5 for bad options, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Located { .. } | Error::Parse(_) => 4,
            Error::Options(_) => 5,
            Error::Io { .. } | Error::Other(_) => 1,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// ansible-core 2.19's layout: the message, `Origin: file:line:col`, then a
/// numbered excerpt with a caret under the column.
fn render_located(span: &Span, message: &str) -> String {
    format!(
        "{message}\nOrigin: {}:{}:{}\n\n{}",
        span.file.display(),
        span.line,
        span.col,
        excerpt(span)
    )
}

/// Up to two lines before the position, line numbers right-aligned, then a
/// caret under the column (empty when the file cannot be read).
pub fn excerpt(span: &Span) -> String {
    let Ok(text) = std::fs::read_to_string(span.file.as_ref()) else {
        return String::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    if span.line == 0 || span.line > lines.len() {
        return String::new();
    }
    let first = span.line.saturating_sub(2).max(1);
    let width = span.line.to_string().len();
    let mut out = String::new();
    for n in first..=span.line {
        out.push_str(&format!("{n:>width$} {}\n", lines[n - 1]));
    }
    out.push_str(&format!(
        "{}^ column {}\n",
        " ".repeat(width + span.col),
        span.col
    ));
    out
}

/// The candidate closest to `word` by edit distance, if within `max` edits
/// (for "did you mean" hints).
pub fn closest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
    max: usize,
) -> Option<&'a str> {
    candidates
        .map(|c| (c, edit_distance(word, c)))
        .filter(|(_, d)| *d <= max)
        .min_by_key(|(_, d)| *d)
        .map(|(c, _)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
