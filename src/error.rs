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
    /// Rendered like `Located`, for what Ansible finds wrong while loading
    /// a play rather than parsing it (a role that is not found): exit code 1.
    #[error("{}", render_located(span, message))]
    LoadAt { span: Span, message: String },
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
    /// An error with Ansible's help text, printed after its excerpt.
    #[error("{inner}\n{}\n", .help.trim_end())]
    Help { inner: Box<Error>, help: String },
}

impl Error {
    pub fn at(span: &Span, message: impl Into<String>) -> Self {
        Error::Located {
            span: span.clone(),
            message: message.into(),
        }
    }
    /// The error with Ansible's help text after it.
    pub fn with_help(self, help: impl Into<String>) -> Self {
        Error::Help {
            inner: Box::new(self),
            help: help.into(),
        }
    }

    /// Ansible's exit codes: 4 for parse errors, 5 for bad options, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Located { .. } | Error::Parse(_) => 4,
            Error::Options(_) => 5,
            Error::Io { .. } | Error::Other(_) | Error::LoadAt { .. } => 1,
            Error::Help { inner, .. } => inner.exit_code(),
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
    format!("{message}\n{}", source_context(span))
}

/// Ansible's `SourceContext`: `Origin: file:line:col` and, after a blank
/// line, the excerpt (nothing more when there is none).
pub fn source_context(span: &Span) -> String {
    let excerpt = excerpt(span);
    let mut origin = span.file.display().to_string();
    if span.line > 0 {
        origin.push_str(&format!(":{}", span.line));
        if span.col > 0 {
            origin.push_str(&format!(":{}", span.col));
        }
    }
    if excerpt.is_empty() {
        format!("Origin: {origin}\n")
    } else {
        format!("Origin: {origin}\n\n{excerpt}")
    }
}

/// Ansible's `SourceContext.from_origin`: up to two lines before the
/// position, line numbers right-aligned, then a caret under the column; a
/// note instead when the source cannot be shown. Empty for sources that
/// are not files (`<extra vars>`).
pub fn excerpt(span: &Span) -> String {
    const CONTEXT_LINES: usize = 2;
    const MAX_WIDTH: usize = 120;
    const MARKER: &str = "...";
    if span.line == 0 {
        return String::new();
    }
    let not_shown = |why: &str| format!("(source not shown: {why})\n");
    let text = match std::fs::read(span.file.as_ref()) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => return not_shown("UnicodeDecodeError"),
        },
        Err(_) if span.file.to_string_lossy().starts_with('<') => return String::new(),
        Err(e) => {
            return not_shown(match e.kind() {
                std::io::ErrorKind::NotFound => "FileNotFoundError",
                std::io::ErrorKind::PermissionDenied => "PermissionError",
                std::io::ErrorKind::IsADirectory => "IsADirectoryError",
                _ => "OSError",
            })
        }
    };
    if text.starts_with("$ANSIBLE_VAULT") {
        return not_shown("content encrypted");
    }
    let first = span.line.saturating_sub(1 + CONTEXT_LINES);
    // Python reads with universal newlines: \r\n and \r end lines too.
    let lines: Vec<&str> = split_lines(&text)
        .skip(first)
        .take(span.line - first)
        .collect();
    if lines.len() != span.line - first {
        return not_shown("file truncated");
    }
    let width = span.line.to_string().len();
    let max_line = MAX_WIDTH - width - 1;
    let mut usable = max_line;
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let mut line = line.replace('\t', " ");
        if line.chars().count() > max_line {
            line = line
                .chars()
                .take(max_line - MARKER.len())
                .collect::<String>()
                + MARKER;
            usable = max_line - MARKER.len();
        }
        let sep = if line.is_empty() { "" } else { " " };
        out.push_str(&format!("{:>width$}{sep}{line}\n", first + i + 1));
    }
    if span.col >= 1 && usable >= span.col {
        let label = format!("column {}", span.col);
        let idx = span.col - 1;
        let marker = if idx + 2 + label.len() > max_line {
            // Too far right: the label goes before the caret.
            format!(
                "{}{label} ^",
                " ".repeat(idx.saturating_sub(label.len() + 1))
            )
        } else {
            format!("{}^ {label}", " ".repeat(idx))
        };
        out.push_str(&format!("{} {marker}\n", " ".repeat(width)));
    }
    out
}

/// Lines as Python's universal-newline reading splits them.
fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = match rest.as_bytes().get(end) {
            Some(b'\r') if rest.as_bytes().get(end + 1) == Some(&b'\n') => 2,
            Some(_) => 1,
            None => 0,
        };
        rest = &rest[end + skip..];
        Some(line)
    })
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
