//! The YAML reader for Ansible sources (inventories, playbooks, vars files).
//!
//! Ansible reads YAML with PyYAML (YAML 1.1): unquoted `yes`/`no`/`on`/`off` are
//! booleans, `0644` is octal, and quoting decides whether a scalar is a string.
//! serde_yaml resolves YAML 1.2 and forgets quoting and positions, so this module
//! builds ferry's own spanned [`Node`] tree from `saphyr-parser` events instead,
//! resolving plain scalars with PyYAML's regexes, expanding aliases and merge keys
//! (`<<`) and keeping the last value of duplicate keys, as PyYAML does.
//!
//! Known differences from PyYAML: timestamps (`2001-12-14`) stay strings; integers
//! that do not fit in an `i64` stay (unquoted) strings with their written text;
//! recursive aliases are an error; nesting deeper than [`MAX_DEPTH`] is an error;
//! duplicate-key warnings are only given for keys written twice in one mapping,
//! not for keys that override merged (`<<`) ones; a plain `=` is just a string.

use crate::error::{Error, Span};
use regex::Regex;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};

/// Deepest nesting accepted; keeps the recursive helpers (clone, drop, `to_json`) far
/// from the stack limit. Real Ansible files nest a dozen levels at most.
pub const MAX_DEPTH: usize = 256;

/// Most nodes aliases may copy in one document ("billion laughs" guard).
const MAX_ALIAS_NODES: usize = 1_000_000;

/// A YAML node with the place it was written.
#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
    /// An explicit tag such as `!unsafe` or `!vault`, if one was written.
    /// Core tags are kept in short form (`!!str`), local ones as written (`!unsafe`).
    pub tag: Option<String>,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// `quoted` is true for single/double-quoted and block (`|`, `>`) scalars. It
    /// follows the written style only: `!!str 12` is unquoted, its `tag` says `!!str`.
    Str {
        value: String,
        quoted: bool,
    },
    Seq(Vec<Node>),
    /// Mappings keep their written order.
    Map(Vec<(Node, Node)>),
}

/// Something legal but suspicious, reported as Ansible would warn (duplicate keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub span: Span,
    pub message: String,
}

impl Node {
    /// The value of a string scalar (quoted or not); `None` for anything else.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Str { value, .. } => Some(value),
            _ => None,
        }
    }

    /// Look up a mapping entry by string key; `None` if not a mapping or no such key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// The kind of node, for error messages ("expected a list but found a mapping").
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Bool(_) => "bool",
            NodeKind::Int(_) => "int",
            NodeKind::Float(_) => "float",
            NodeKind::Str { .. } => "string",
            NodeKind::Seq(_) => "list",
            NodeKind::Map(_) => "mapping",
        }
    }

    /// PyYAML's node id (`scalar`, `sequence`, `mapping`), as its errors name nodes.
    fn node_id(&self) -> &'static str {
        match self.kind {
            NodeKind::Seq(_) => "sequence",
            NodeKind::Map(_) => "mapping",
            _ => "scalar",
        }
    }

    /// The Python `str()` of a scalar (`True`, `None`, `10`, `1.0`); `None` for
    /// lists and mappings. Used where a scalar stands for a string (host `10`, port).
    pub fn scalar_string(&self) -> Option<String> {
        match &self.kind {
            NodeKind::Null => Some("None".into()),
            NodeKind::Bool(true) => Some("True".into()),
            NodeKind::Bool(false) => Some("False".into()),
            NodeKind::Int(i) => Some(i.to_string()),
            NodeKind::Float(f) => Some(python_float_repr(*f)),
            NodeKind::Str { value, .. } => Some(value.clone()),
            NodeKind::Seq(_) | NodeKind::Map(_) => None,
        }
    }

    /// Convert to JSON. Mapping keys are stringified as Python's `json.dumps` does
    /// (which is what Ansible sends to modules and prints): `true`, `null`, `10`,
    /// `1.5`; list/mapping keys (rejected by the parser anyway) become their JSON text.
    /// NaN and infinities, which JSON cannot hold, become `"nan"`, `"inf"`, `"-inf"`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.kind {
            NodeKind::Null => Value::Null,
            NodeKind::Bool(b) => Value::Bool(*b),
            NodeKind::Int(i) => Value::from(*i),
            NodeKind::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => Value::Number(n),
                None => Value::String(python_float_repr(*f)),
            },
            NodeKind::Str { value, .. } => Value::String(value.clone()),
            NodeKind::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeKind::Map(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.json_key(), v.to_json());
                }
                Value::Object(map)
            }
        }
    }

    fn json_key(&self) -> String {
        match &self.kind {
            NodeKind::Null => "null".into(),
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Str { value, .. } => value.clone(),
            NodeKind::Seq(_) | NodeKind::Map(_) => self.to_json().to_string(),
            NodeKind::Int(_) | NodeKind::Float(_) => self.scalar_string().unwrap_or_default(),
        }
    }
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on integral values,
/// exponent form below 1e-4 and from 1e16 on.
fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if f == 0.0 || (-4..16).contains(&exp) {
        let s = format!("{f}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// Parse one YAML document. An empty document (or only comments) gives `None`.
pub fn parse_str(src: &str, file: &Path) -> Result<Option<Node>, Error> {
    parse_str_with_warnings(src, file).map(|(node, _)| node)
}

/// Like [`parse_str`], also returning the warnings Ansible would print
/// (duplicate mapping keys).
pub fn parse_str_with_warnings(
    src: &str,
    file: &Path,
) -> Result<(Option<Node>, Vec<Warning>), Error> {
    let file = Arc::new(file.to_path_buf());
    // saphyr-parser has internal `unreachable!`s; a bug there must not take ferry down.
    match catch_unwind(AssertUnwindSafe(|| Builder::new(file.clone(), src).run())) {
        Ok(result) => result,
        Err(_) => Err(Error::at(
            &Span::new(file, 1, 1),
            "YAML syntax error: the YAML parser could not read this file",
        )),
    }
}

/// Read and parse a file.
pub fn parse_file(path: &Path) -> Result<Option<Node>, Error> {
    let src = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_str(&src, path)
}

/// A completed node with what the limits need to know about it.
struct Built {
    node: Node,
    /// Nesting levels in the node (1 for a scalar).
    height: usize,
    /// Number of nodes in the node.
    size: usize,
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// A sequence or mapping whose end event has not come yet.
struct Frame {
    kind: FrameKind,
    span: Span,
    tag: Option<String>,
    anchor: usize,
    height: usize,
    size: usize,
}

struct Builder<'s> {
    file: Arc<PathBuf>,
    src: &'s str,
    stack: Vec<Frame>,
    /// Completed anchored nodes by saphyr's anchor id (unique per definition).
    anchors: HashMap<usize, (Node, usize, usize)>,
    alias_budget: usize,
    warnings: Vec<Warning>,
    /// Byte offset of each line's start, computed on the first block scalar.
    line_starts: Option<Vec<usize>>,
}

impl<'s> Builder<'s> {
    fn new(file: Arc<PathBuf>, src: &'s str) -> Self {
        Builder {
            file,
            src,
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_budget: MAX_ALIAS_NODES,
            warnings: Vec::new(),
            line_starts: None,
        }
    }

    /// Where a block scalar's `|` or `>` is. saphyr's span starts at the first content
    /// line; PyYAML (and a reader) places the scalar at its indicator.
    fn block_scalar_start(&mut self, content: Span) -> Span {
        let src = self.src;
        let starts = self.line_starts.get_or_insert_with(|| line_starts(src));
        let line_text = |line: usize| -> &str {
            let (Some(&start), end) = (starts.get(line.wrapping_sub(1)), starts.get(line)) else {
                return "";
            };
            src.get(start..end.copied().unwrap_or(src.len()))
                .unwrap_or("")
        };
        // With no content lines saphyr already points at the indicator: try that line too.
        let mut line = content.line;
        while line >= 1 {
            let text = line_text(line);
            if line == content.line {
                if header_indicator_col(text) == Some(content.col) {
                    return content;
                }
            } else if !text.trim().is_empty() {
                if let Some(col) = header_indicator_col(text) {
                    return Span::new(content.file, line, col);
                }
                break;
            }
            line -= 1;
        }
        content
    }

    fn span(&self, m: &saphyr_parser::Marker) -> Span {
        // saphyr lines are 1-based, columns 0-based.
        Span::new(self.file.clone(), m.line(), m.col() + 1)
    }

    fn scan_error(&self, e: &ScanError) -> Error {
        let m = e.marker();
        let (line, col) = (m.line(), m.col() + 1);
        // A closing bracket with no flow collection open: libyaml's parser
        // finds a token where the open block collection wanted its next
        // entry.
        if e.info() == "misplaced bracket" {
            let (context, problem) = match self.stack.last().map(|f| &f.kind) {
                Some(FrameKind::Map { .. }) => (
                    Some("while parsing a block mapping"),
                    "did not find expected key",
                ),
                Some(FrameKind::Seq(_)) => (
                    Some("while parsing a block collection"),
                    "did not find expected '-' indicator",
                ),
                None => (None, "did not find expected <document start>"),
            };
            return marked_error(self.src, &self.file, context, problem, line, col);
        }
        let (context, problem, line, col) = libyaml_error(self.src, e.info(), line, col);
        marked_error(self.src, &self.file, context, &problem, line, col)
    }

    /// A composer or constructor error (PyYAML's `MarkedYAMLError`).
    fn marked(&self, context: &str, problem: &str, at: &Span) -> Error {
        marked_error(
            self.src,
            &self.file,
            Some(context),
            problem,
            at.line,
            at.col,
        )
    }

    fn run(mut self) -> Result<(Option<Node>, Vec<Warning>), Error> {
        let mut parser = Parser::new_from_str(self.src);
        let mut root: Option<Node> = None;
        let mut documents = 0;
        while let Some(next) = parser.next_event() {
            let (event, sp) = next.map_err(|e| self.scan_error(&e))?;
            let span = self.span(&sp.start);
            let is_seq = matches!(event, Event::SequenceStart(..));
            match event {
                Event::StreamEnd => break,
                Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(self.marked(
                            "expected a single document in the stream",
                            "but found another document",
                            &span,
                        ));
                    }
                }
                Event::Alias(id) => {
                    let Some((node, height, size)) = self.anchors.get(&id) else {
                        return Err(Error::at(
                            &span,
                            "recursive alias: an anchor cannot be used inside itself",
                        ));
                    };
                    if *size > self.alias_budget {
                        return Err(Error::at(
                            &span,
                            "too many alias expansions in this document",
                        ));
                    }
                    self.alias_budget -= size;
                    let built = Built {
                        node: node.clone(),
                        height: *height,
                        size: *size,
                    };
                    self.add(built, 0, &mut root)?;
                }
                Event::Scalar(value, style, anchor, tag) => {
                    // A document with no content is an empty document, not a null.
                    if self.stack.is_empty()
                        && value.is_empty()
                        && style == ScalarStyle::Plain
                        && tag.is_none()
                        && anchor == 0
                    {
                        continue;
                    }
                    let block = matches!(style, ScalarStyle::Literal | ScalarStyle::Folded);
                    let span = if block && tag.is_none() && anchor == 0 {
                        self.block_scalar_start(span)
                    } else {
                        span
                    };
                    let node = self.scalar(&value, style, tag.as_deref(), span)?;
                    let built = Built {
                        node,
                        height: 1,
                        size: 1,
                    };
                    self.add(built, anchor, &mut root)?;
                }
                Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(Error::at(
                            &span,
                            format!("YAML nesting is deeper than {MAX_DEPTH} levels"),
                        ));
                    }
                    let kind = if is_seq {
                        FrameKind::Seq(Vec::new())
                    } else {
                        FrameKind::Map {
                            entries: Vec::new(),
                            key: None,
                        }
                    };
                    self.stack.push(Frame {
                        kind,
                        span,
                        tag: tag.as_deref().map(tag_name),
                        anchor,
                        height: 1,
                        size: 1,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        continue;
                    };
                    let kind = match frame.kind {
                        FrameKind::Seq(items) => NodeKind::Seq(items),
                        FrameKind::Map { entries, .. } => NodeKind::Map(self.finish_map(entries)?),
                    };
                    let built = Built {
                        node: Node {
                            kind,
                            span: frame.span,
                            tag: frame.tag,
                        },
                        height: frame.height,
                        size: frame.size,
                    };
                    self.add(built, frame.anchor, &mut root)?;
                }
            }
        }
        Ok((root, self.warnings))
    }

    /// Put a completed node into its parent (or make it the root) and remember its anchor.
    fn add(&mut self, built: Built, anchor: usize, root: &mut Option<Node>) -> Result<(), Error> {
        if self.stack.len() + built.height > MAX_DEPTH {
            return Err(Error::at(
                &built.node.span,
                format!("YAML nesting is deeper than {MAX_DEPTH} levels"),
            ));
        }
        if anchor != 0 {
            if built.size > self.alias_budget {
                return Err(Error::at(
                    &built.node.span,
                    "too many alias expansions in this document",
                ));
            }
            self.alias_budget -= built.size;
            self.anchors
                .insert(anchor, (built.node.clone(), built.height, built.size));
        }
        let Some(frame) = self.stack.last_mut() else {
            *root = Some(built.node);
            return Ok(());
        };
        frame.height = frame.height.max(built.height + 1);
        frame.size = frame.size.saturating_add(built.size);
        match &mut frame.kind {
            FrameKind::Seq(items) => items.push(built.node),
            FrameKind::Map { entries, key } => match key.take() {
                None => *key = Some(built.node),
                Some(k) => entries.push((k, built.node)),
            },
        }
        Ok(())
    }

    /// Apply merge keys and duplicate keys as PyYAML's `flatten_mapping` and
    /// `construct_mapping` do: merged maps come first (earlier ones winning), written
    /// keys after, and a repeated key keeps its first position but its last value.
    fn finish_map(&mut self, entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, Error> {
        let mut merged: Vec<(Node, Node)> = Vec::new();
        let mut written: Vec<(Node, Node)> = Vec::new();
        for (key, value) in entries {
            if !is_merge_key(&key) {
                written.push((key, value));
                continue;
            }
            let node_id = value.node_id();
            match value.kind {
                NodeKind::Map(m) => merged.extend(m),
                NodeKind::Seq(items) => {
                    let mut maps = Vec::new();
                    for item in items {
                        match item.kind {
                            NodeKind::Map(m) => maps.push(m),
                            _ => {
                                return Err(self.marked(
                                    "while constructing a mapping",
                                    &format!(
                                        "expected a mapping for merging, but found {}",
                                        item.node_id()
                                    ),
                                    &item.span,
                                ))
                            }
                        }
                    }
                    for m in maps.into_iter().rev() {
                        merged.extend(m);
                    }
                }
                _ => {
                    return Err(self.marked(
                        "while constructing a mapping",
                        &format!(
                        "expected a mapping or list of mappings for merging, but found {node_id}"
                    ),
                        &value.span,
                    ))
                }
            }
        }
        let merged_count = merged.len();
        let mut out: Vec<(Node, Node)> = Vec::with_capacity(merged_count + written.len());
        let mut index: HashMap<KeyId, usize> = HashMap::new();
        let mut nan_keys = 0usize;
        for (i, (key, value)) in merged.into_iter().chain(written).enumerate() {
            let id = match key_id(&key, &mut nan_keys) {
                Some(id) => id,
                None => {
                    return Err(self.marked(
                        "while constructing a mapping",
                        "found unhashable key",
                        &key.span,
                    ))
                }
            };
            match index.get(&id) {
                Some(&at) => {
                    if i >= merged_count {
                        let first = &out[at].0;
                        self.warnings.push(Warning {
                            span: key.span.clone(),
                            message: format!(
                                "While constructing a mapping from {}, line {}, column {}, found a duplicate dict key ({}). Using last defined value only.",
                                first.span.file.display(),
                                first.span.line,
                                first.span.col,
                                key.scalar_string().unwrap_or_default()
                            ),
                        });
                    }
                    out[at].1 = value;
                }
                None => {
                    index.insert(id, out.len());
                    out.push((key, value));
                }
            }
        }
        Ok(out)
    }

    fn scalar(
        &self,
        value: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<Node, Error> {
        let plain = style == ScalarStyle::Plain;
        let tag = tag.map(tag_name);
        let string = || NodeKind::Str {
            value: value.to_string(),
            quoted: !plain,
        };
        let kind = match tag.as_deref() {
            None if plain => resolve_plain(value),
            None => string(),
            Some("!!int") => construct_int(value.trim())
                .ok_or_else(|| Error::at(&span, format!("invalid value for !!int: {value:?}")))?,
            Some("!!float") => construct_float(value.trim())
                .ok_or_else(|| Error::at(&span, format!("invalid value for !!float: {value:?}")))?,
            Some("!!bool") => match value.trim().to_ascii_lowercase().as_str() {
                "yes" | "true" | "on" => NodeKind::Bool(true),
                "no" | "false" | "off" => NodeKind::Bool(false),
                _ => {
                    return Err(Error::at(
                        &span,
                        format!("invalid value for !!bool: {value:?}"),
                    ))
                }
            },
            Some("!!null") => NodeKind::Null,
            // `!!str`, `!unsafe`, `!vault`, and any other tag: the text as written.
            Some(_) => string(),
        };
        Ok(Node { kind, span, tag })
    }
}

/// saphyr-parser's error as libyaml (which Ansible's PyYAML uses) words it:
/// `(context, problem)` and where libyaml's problem mark is. saphyr is a
/// port of libyaml, so most messages are libyaml's `context, problem`
/// already; the rest are mapped where they correspond.
fn libyaml_error(
    src: &str,
    info: &str,
    line: usize,
    col: usize,
) -> (Option<&'static str>, String, usize, usize) {
    const NEXT_TOKEN: &str = "while scanning for the next token";
    match info {
        "simple key expect ':'" => (
            Some("while scanning a simple key"),
            "could not find expected ':'".into(),
            line,
            col,
        ),
        "while parsing a flow sequence, expected ',' or ']'" => (
            Some("while parsing a flow sequence"),
            "did not find expected ',' or ']'".into(),
            line,
            col,
        ),
        "while parsing node, found unknown anchor" => {
            (None, "found undefined alias".into(), line, col)
        }
        _ if info.starts_with("unexpected character: ") => (
            Some(NEXT_TOKEN),
            "found character that cannot start any token".into(),
            line,
            col,
        ),
        // saphyr marks the indicator; libyaml marks where the name stopped.
        "while scanning an anchor or alias, did not find expected alphabetic or numeric character" => {
            let text = line_text(src, line);
            let mut chars = text.chars().skip(col - 1);
            let context = match chars.next() {
                Some('*') => "while scanning an alias",
                _ => "while scanning an anchor",
            };
            let name = chars
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .count();
            (
                Some(context),
                "did not find expected alphabetic or numeric character".into(),
                line,
                col + 1 + name,
            )
        }
        // saphyr wants a quoted scalar's later lines indented (YAML 1.2);
        // libyaml does not, and fails only when the quote never closes.
        "invalid indentation in quoted scalar" if !quote_closes(src, line, col) => {
            let (l, c) = end_of(src);
            (
                Some("while scanning a quoted scalar"),
                "found unexpected end of stream".into(),
                l,
                c,
            )
        }
        // saphyr marks the opening quote; libyaml where the stream ended.
        "while scanning a quoted scalar, found unexpected end of stream" => {
            let (l, c) = end_of(src);
            (
                Some("while scanning a quoted scalar"),
                "found unexpected end of stream".into(),
                l,
                c,
            )
        }
        // saphyr marks the opening quote; libyaml the bad escape.
        "while parsing a quoted scalar, found unknown escape character" => {
            let (l, c) = bad_escape(src, line, col).unwrap_or((line, col));
            (
                Some("while parsing a quoted scalar"),
                "found unknown escape character".into(),
                l,
                c,
            )
        }
        _ => {
            // libyaml marks the `-` of an entry where a key was due; saphyr
            // the node after it.
            let col = if info.ends_with("did not find expected key") {
                entry_dash(line_text(src, line), col).unwrap_or(col)
            } else {
                col
            };
            match info.strip_prefix("while ").and_then(|r| r.split_once(", ")) {
                Some((ctx, problem)) => {
                    let context = KNOWN_CONTEXTS.iter().find(|k| k[6..] == *ctx).copied();
                    match context {
                        Some(c) => (Some(c), problem.to_string(), line, col),
                        None => (None, info.to_string(), line, col),
                    }
                }
                None => (None, info.to_string(), line, col),
            }
        }
    }
}

/// The `while …` contexts libyaml (and saphyr) use.
const KNOWN_CONTEXTS: &[&str] = &[
    "while parsing a block collection",
    "while parsing a block mapping",
    "while parsing a flow sequence",
    "while parsing a flow mapping",
    "while parsing a node",
    "while parsing a quoted scalar",
    "while parsing a tag",
    "while parsing a tag directive",
    "while scanning a quoted scalar",
    "while scanning a plain scalar",
    "while scanning a block scalar",
    "while scanning a tag",
    "while scanning a directive",
    "while scanning a YAML directive",
    "while scanning a verbatim tag",
];

/// Line `line` (1-based) of `src`, without its line break ("" past the end).
fn line_text(src: &str, line: usize) -> &str {
    src.split('\n')
        .nth(line.wrapping_sub(1))
        .map(|l| l.trim_end_matches('\r'))
        .unwrap_or("")
}

/// Where the stream ends: the line after a final line break, column 1.
fn end_of(src: &str) -> (usize, usize) {
    let lines = src.matches('\n').count();
    let last = src.rsplit('\n').next().unwrap_or("");
    (lines + 1, last.chars().count() + 1)
}

/// Whether the quoted scalar opening at (`line`, `col`) has a closing quote.
fn quote_closes(src: &str, line: usize, col: usize) -> bool {
    let start: usize = src
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let mut chars = src.get(start..).unwrap_or("").chars().skip(col - 1);
    let Some(quote) = chars.next() else {
        return false;
    };
    let mut chars = chars.peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\\' if quote == '"' => {
                chars.next();
            }
            '\'' if quote == '\'' && chars.peek() == Some(&'\'') => {
                chars.next();
            }
            c if c == quote => return true,
            _ => {}
        }
    }
    false
}

/// The first backslash, from the quote at (`line`, `col`), that starts an
/// escape libyaml does not know.
fn bad_escape(src: &str, line: usize, col: usize) -> Option<(usize, usize)> {
    const KNOWN: &str = "0abt\tnvfre \"/\\N_LPxuU\n\r";
    let start: usize = src
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    let (mut l, mut c) = (line, col);
    // Skip the opening quote.
    let mut chars = src.get(start..)?.chars().skip(col).peekable();
    while let Some(ch) = chars.next() {
        c += 1;
        match ch {
            '"' => return None,
            '\n' => (l, c) = (l + 1, 0),
            '\\' => match chars.next() {
                Some('\n') => (l, c) = (l + 1, 0),
                Some(e) if KNOWN.contains(e) => c += 1,
                _ => return Some((l, c)),
            },
            _ => {}
        }
    }
    None
}

/// The column of the `- ` entry indicator just before column `col`.
fn entry_dash(text: &str, col: usize) -> Option<usize> {
    let before: Vec<char> = text.chars().take(col - 1).collect();
    let end = before.iter().rposition(|c| *c != ' ')?;
    let at_start = end == 0 || before[end - 1] == ' ';
    (before[end] == '-' && end + 1 < before.len() && at_start).then_some(end + 1)
}

/// A YAML error as ansible-core 2.19 reports it
/// (`AnsibleYAMLParserError.handle_exception`): the problem's line is
/// checked for common mistakes (tabs, unquoted templates, unquoted colons,
/// quoting) that get their own message, column and help text; otherwise
/// the parser's context and problem, capitalised, with a full stop.
fn marked_error(
    src: &str,
    file: &Arc<PathBuf>,
    context: Option<&str>,
    problem: &str,
    line: usize,
    col: usize,
) -> Error {
    let (message, col, help) = match yaml_hint(line_text(src, line)) {
        Some((message, hint_col, help)) => (message.to_string(), hint_col, help),
        None => {
            let text = [context.unwrap_or(""), problem].join(" ");
            let mut words = text.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some(first) = words.chars().next() {
                words = first.to_uppercase().collect::<String>() + &words[first.len_utf8()..];
            }
            if !words.ends_with('.') {
                words.push('.');
            }
            (words, col, None)
        }
    };
    let err = Error::at(
        &Span::new(file.clone(), line, col),
        format!("YAML parsing failed: {message}"),
    );
    match help {
        Some(h) => err.with_help(h),
        None => err,
    }
}

const TEMPLATE_HELP: &str = "
For example:

    raw: {{ some_var }}

Should be:

    raw: \"{{ some_var }}\"
";
const COLON_HELP: &str = "
For example:

    raw: echo 'name: ansible'

Should be:

    raw: \"echo 'name: ansible'\"
";
const QUOTE_HELP: &str = "
For example:

    raw: \"foo\" in bar

Should be:

    raw: '\"foo\" in bar'
";
const QUOTES_HELP: &str = "
For example:

    raw: \"foo\" in \"bar\"

Should be:

    raw: '\"foo\" in \"bar\"'
";

static TEMPLATE_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(?:-\s+)*(?:[\w\s]+:\s+)?(?P<value>\{\{.*\}\})").ok());
static VALUE_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^\s*(?:-\s+)*(?:[\w\s\[\]{}]+:\s+)?(?P<value>.*)$").ok());
static QUOTED_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"^\s*('[^']*'|"[^"]*")\s*$"#).ok());
static COLON_RE: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r":($| )").ok());
static QUOTE_RE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"^\s*(?:-\s+)*(?:[\w\s]+:\s+)?(?P<value>["'].*?\s*)$"#).ok());

/// Ansible's checks of the line a YAML error is on, in its order: the
/// message, the 1-based column it points at, and the help text.
fn yaml_hint(line: &str) -> Option<(&'static str, usize, Option<String>)> {
    // Regex offsets are bytes; Ansible's columns count characters.
    let col_at = |byte: usize| line[..byte].chars().count() + 1;
    if let Some(i) = line.find('\t') {
        return Some(("Tabs are usually invalid in YAML.", col_at(i), None));
    }
    let re = |r: &'static LazyLock<Option<Regex>>| r.as_ref();
    if let Some(m) = re(&TEMPLATE_RE)
        .and_then(|r| r.captures(line))
        .and_then(|c| c.name("value"))
    {
        return Some((
            "This may be an issue with missing quotes around a template block.",
            col_at(m.start()),
            Some(TEMPLATE_HELP.into()),
        ));
    }
    if !line.trim_start().starts_with(':') {
        if let Some(value) = re(&VALUE_RE)
            .and_then(|r| r.captures(line))
            .and_then(|c| c.name("value"))
        {
            // A value that is one quoted string has no unquoted colon.
            let quoted = re(&QUOTED_RE).is_some_and(|r| r.is_match(value.as_str()));
            if !value.as_str().is_empty() && !quoted {
                if let Some(colon) = re(&COLON_RE).and_then(|r| r.find(value.as_str())) {
                    return Some((
                        "Colons in unquoted values must be followed by a non-space character.",
                        col_at(value.start() + colon.start()),
                        Some(COLON_HELP.into()),
                    ));
                }
            }
        }
    }
    let value = re(&QUOTE_RE)
        .and_then(|r| r.captures(line))
        .and_then(|c| c.name("value"))?;
    let v = value.as_str();
    let (first, last) = (v.chars().next()?, v.chars().last()?);
    if first != last {
        return Some((
            "Values starting with a quote must end with the same quote.",
            col_at(value.start()),
            Some(QUOTE_HELP.into()),
        ));
    }
    if line.matches(first).count() > 2 {
        return Some((
            "Values starting with a quote must end with the same quote, and not contain that quote.",
            col_at(value.start()),
            Some(QUOTES_HELP.into()),
        ));
    }
    None
}

/// Byte offsets where lines start, breaking lines as saphyr does (LF, CRLF, CR).
fn line_starts(src: &str) -> Vec<usize> {
    let bytes = src.as_bytes();
    let mut starts = vec![0];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                starts.push(i + 2);
                i += 2;
                continue;
            }
            b'\r' | b'\n' => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts
}

/// The 1-based column of a block scalar header (`|`, `>-`, `|2 # note`) ending `line`.
fn header_indicator_col(line: &str) -> Option<usize> {
    let line = line.trim_end_matches(['\r', '\n']);
    for (col, (byte, c)) in line.char_indices().enumerate() {
        if c != '|' && c != '>' {
            continue;
        }
        let rest = line[byte + 1..]
            .trim_start_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit());
        let after = rest.trim_start_matches([' ', '\t']);
        if after.is_empty() || (after.starts_with('#') && after.len() < rest.len()) {
            return Some(col + 1);
        }
    }
    None
}

/// The tag as it would be written: `!!int` for core tags, `!unsafe` for local ones.
fn tag_name(tag: &Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else if tag.handle.is_empty() && tag.suffix == "!" {
        "!".into()
    } else {
        tag.to_string()
    }
}

fn is_merge_key(key: &Node) -> bool {
    let merge_tag = match key.tag.as_deref() {
        None => matches!(&key.kind, NodeKind::Str { value, quoted: false } if value == "<<"),
        Some(tag) => tag == "!!merge",
    };
    merge_tag && matches!(key.kind, NodeKind::Str { .. })
}

/// Python dict-key identity: `1`, `1.0` and `true` are the same key.
#[derive(Hash, PartialEq, Eq)]
enum KeyId {
    Null,
    Str(String),
    Int(i64),
    Float(u64),
    /// NaN never equals itself, so each NaN key is distinct.
    Nan(usize),
}

fn key_id(key: &Node, nan_keys: &mut usize) -> Option<KeyId> {
    Some(match &key.kind {
        NodeKind::Null => KeyId::Null,
        NodeKind::Bool(b) => KeyId::Int(i64::from(*b)),
        NodeKind::Int(i) => KeyId::Int(*i),
        NodeKind::Float(f) if f.is_nan() => {
            *nan_keys += 1;
            KeyId::Nan(*nan_keys)
        }
        NodeKind::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e18 => KeyId::Int(*f as i64),
        NodeKind::Float(f) => KeyId::Float(f.to_bits()),
        NodeKind::Str { value, .. } => KeyId::Str(value.clone()),
        NodeKind::Seq(_) | NodeKind::Map(_) => return None,
    })
}

// PyYAML's YAML 1.1 implicit resolvers (resolver.py), tried in its order.
static BOOL_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
        .ok()
});
static FLOAT_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    )
    .ok()
});
static INT_RE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    )
    .ok()
});

fn matches(re: &LazyLock<Option<Regex>>, s: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(s))
}

/// Resolve a plain scalar as PyYAML's `Resolver` + `SafeConstructor` would.
fn resolve_plain(s: &str) -> NodeKind {
    let as_string = || NodeKind::Str {
        value: s.to_string(),
        quoted: false,
    };
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        _ => {}
    }
    if matches(&BOOL_RE, s) {
        let lower = s.to_ascii_lowercase();
        return NodeKind::Bool(matches!(lower.as_str(), "yes" | "true" | "on"));
    }
    if matches(&FLOAT_RE, s) {
        return construct_float(s).unwrap_or_else(as_string);
    }
    if matches(&INT_RE, s) {
        // Out-of-range (PyYAML has big ints) or degenerate (`0b_`, where PyYAML fails):
        // keep the text.
        return construct_int(s).unwrap_or_else(as_string);
    }
    as_string()
}

/// Split the sign off, as PyYAML's constructors do.
fn split_sign(s: &str) -> (bool, &str) {
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// PyYAML's `construct_yaml_int`; `None` if it does not fit an i64 or is malformed.
fn construct_int(s: &str) -> Option<NodeKind> {
    let cleaned = s.replace('_', "");
    let (negative, digits) = split_sign(&cleaned);
    if digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude: i128 = if digits == "0" {
        0
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).ok()?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if digits.starts_with('0') {
        i128::from_str_radix(digits, 8).ok()?
    } else if digits.contains(':') {
        let mut total: i128 = 0;
        for part in digits.split(':') {
            let part: i128 = part.parse().ok()?;
            total = total.checked_mul(60)?.checked_add(part)?;
        }
        total
    } else {
        digits.parse().ok()?
    };
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok().map(NodeKind::Int)
}

/// PyYAML's `construct_yaml_float`.
fn construct_float(s: &str) -> Option<NodeKind> {
    let cleaned = s.replace('_', "").to_ascii_lowercase();
    let (negative, body) = split_sign(&cleaned);
    let sign = if negative { -1.0 } else { 1.0 };
    let value = if body == ".inf" {
        f64::INFINITY
    } else if body == ".nan" {
        return Some(NodeKind::Float(f64::NAN));
    } else if body.contains(':') {
        let mut total = 0.0;
        for part in body.split(':') {
            total = total * 60.0 + part.parse::<f64>().ok()?;
        }
        total
    } else if body.starts_with(['+', '-']) {
        return None;
    } else {
        body.parse::<f64>().ok()?
    };
    Some(NodeKind::Float(sign * value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Node {
        match parse_str(src, Path::new("test.yml")) {
            Ok(Some(node)) => node,
            other => panic!("expected a node from {src:?}, got {other:?}"),
        }
    }

    fn parse_err(src: &str) -> (usize, usize, String) {
        match parse_str(src, Path::new("test.yml")) {
            Err(Error::Located { span, message }) => (span.line, span.col, message),
            Err(Error::Help { inner, .. }) => match *inner {
                Error::Located { span, message } => (span.line, span.col, message),
                other => panic!("expected a located error from {src:?}, got {other:?}"),
            },
            other => panic!("expected a located error from {src:?}, got {other:?}"),
        }
    }

    /// The value of `v:` in a one-line document `v: <text>`.
    fn value(text: &str) -> NodeKind {
        let doc = parse(&format!("v: {text}\n"));
        match doc.get("v") {
            Some(node) => node.kind.clone(),
            None => panic!("no v in {doc:?}"),
        }
    }

    fn is_str(kind: &NodeKind, expect: &str, expect_quoted: bool) -> bool {
        matches!(kind, NodeKind::Str { value, quoted } if value == expect && *quoted == expect_quoted)
    }

    #[test]
    fn booleans_in_all_pyyaml_spellings() {
        for t in [
            "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        ] {
            assert!(matches!(value(t), NodeKind::Bool(true)), "{t}");
            assert!(is_str(&value(&format!("'{t}'")), t, true), "'{t}'");
            assert!(is_str(&value(&format!("\"{t}\"")), t, true), "\"{t}\"");
        }
        for f in [
            "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        ] {
            assert!(matches!(value(f), NodeKind::Bool(false)), "{f}");
            assert!(is_str(&value(&format!("'{f}'")), f, true), "'{f}'");
        }
        for s in ["y", "n", "Y", "N", "yEs", "tRUE", "oN"] {
            assert!(is_str(&value(s), s, false), "{s}");
        }
    }

    #[test]
    fn nulls() {
        for n in ["~", "null", "Null", "NULL", ""] {
            assert!(value(n).is_null_kind(), "{n:?}");
        }
        assert!(is_str(&value("nUll"), "nUll", false));
        assert!(is_str(&value("''"), "", true));
        assert!(is_str(&value("'~'"), "~", true));
        let doc = parse("a:\nb: ~\n");
        assert!(doc.get("a").is_some_and(Node::is_null));
    }

    impl NodeKind {
        fn is_null_kind(&self) -> bool {
            matches!(self, NodeKind::Null)
        }
    }

    #[test]
    fn integers() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("42", 42),
            ("-17", -17),
            ("+5", 5),
            ("1_000", 1000),
            ("1__", 1),
            ("0644", 420),
            ("-0644", -420),
            ("00", 0),
            ("0b1010", 10),
            ("-0b11", -3),
            ("0x1F", 31),
            ("0xff_ff", 65535),
            ("1:30", 90),
            ("190:20:30", 685230),
            ("-1:00", -60),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
        ];
        for (text, want) in cases {
            match value(text) {
                NodeKind::Int(got) => assert_eq!(got, *want, "{text}"),
                other => panic!("{text}: expected int, got {other:?}"),
            }
        }
        for s in [
            "0o644",
            "09",
            "0x",
            "1e3",
            "01:30",
            "1:60",
            "12abc",
            "9223372036854775808",
            "0b_",
            "0x_",
            "- 1",
        ] {
            let kind = value(&format!("'{s}'"));
            assert!(is_str(&kind, s, true));
            if s == "- 1" {
                continue; // not a scalar when unquoted
            }
            assert!(is_str(&value(s), s, false), "{s}: {:?}", value(s));
        }
        assert!(is_str(&value("'0644'"), "0644", true));
    }

    #[test]
    fn floats() {
        let cases: &[(&str, f64)] = &[
            ("1.5", 1.5),
            ("-1.5", -1.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("1_000.5", 1000.5),
            ("1.5e+3", 1500.0),
            ("1.0E-2", 0.01),
            ("1:30.5", 90.5),
            (".inf", f64::INFINITY),
            ("-.Inf", f64::NEG_INFINITY),
            ("+.INF", f64::INFINITY),
        ];
        for (text, want) in cases {
            match value(text) {
                NodeKind::Float(got) => assert_eq!(got, *want, "{text}"),
                other => panic!("{text}: expected float, got {other:?}"),
            }
        }
        for n in [".nan", ".NaN", ".NAN"] {
            assert!(matches!(value(n), NodeKind::Float(f) if f.is_nan()), "{n}");
        }
        // PyYAML's float regex needs a dot and a signed exponent.
        for s in [
            "1e3", "1.5e3", "-.5", "-.nan", ".", "1.2.3", "inf", "nan", "0.5x",
        ] {
            assert!(is_str(&value(s), s, false), "{s}: {:?}", value(s));
        }
    }

    #[test]
    fn quoted_and_block_scalars_are_strings() {
        assert!(is_str(&value("'it''s'"), "it's", true));
        assert!(is_str(&value("\"a\\tb\""), "a\tb", true));
        assert!(is_str(&value("hello world"), "hello world", false));
        let doc = parse("lit: |\n  one\n  two\nstrip: |-\n  one\n  two\nfold: >\n  one\n  two\n\n  three\nnum: |\n  42\n");
        let get = |k: &str| doc.get(k).map(|n| n.kind.clone());
        assert!(is_str(&get("lit").unwrap(), "one\ntwo\n", true));
        assert!(is_str(&get("strip").unwrap(), "one\ntwo", true));
        assert!(is_str(&get("fold").unwrap(), "one two\nthree\n", true));
        assert!(is_str(&get("num").unwrap(), "42\n", true));
    }

    #[test]
    fn positions_of_nested_nodes() {
        let src = "# comment\n- name: first\n  vars:\n    port: 22\n    list: [a, 'b']\n- \"x\"\n";
        let doc = parse(src);
        assert_eq!((doc.span.line, doc.span.col), (2, 1));
        assert_eq!(&*doc.span.file, &PathBuf::from("test.yml"));
        let NodeKind::Seq(items) = &doc.kind else {
            panic!("not a list")
        };
        let first = &items[0];
        assert_eq!((first.span.line, first.span.col), (2, 3));
        let NodeKind::Map(entries) = &first.kind else {
            panic!("not a map")
        };
        assert_eq!((entries[0].0.span.line, entries[0].0.span.col), (2, 3));
        assert_eq!((entries[0].1.span.line, entries[0].1.span.col), (2, 9));
        let vars = first.get("vars").unwrap();
        assert_eq!((vars.span.line, vars.span.col), (4, 5));
        let port = vars.get("port").unwrap();
        assert!(matches!(port.kind, NodeKind::Int(22)));
        assert_eq!((port.span.line, port.span.col), (4, 11));
        let list = vars.get("list").unwrap();
        assert_eq!((list.span.line, list.span.col), (5, 11));
        let NodeKind::Seq(l) = &list.kind else {
            panic!("not a list")
        };
        assert_eq!((l[1].span.line, l[1].span.col), (5, 15));
        assert_eq!((items[1].span.line, items[1].span.col), (6, 3));
        // The whole tree shares one path allocation.
        assert!(Arc::ptr_eq(&doc.span.file, &port.span.file));
    }

    #[test]
    fn empty_value_points_at_its_key() {
        let doc = parse("a:\n  b:\n  c: 1\nd:\n");
        let b = doc.get("a").and_then(|a| a.get("b")).unwrap();
        assert!(b.is_null());
        assert_eq!((b.span.line, b.span.col), (2, 4));
        let d = doc.get("d").unwrap();
        assert_eq!((d.span.line, d.span.col), (4, 2));
        let seq = parse("- \n- x\n");
        let NodeKind::Seq(items) = &seq.kind else {
            panic!()
        };
        assert!(items[0].is_null());
        assert_eq!((items[0].span.line, items[0].span.col), (1, 3));
    }

    #[test]
    fn anchors_and_aliases() {
        let doc = parse("base: &b {x: 1, y: [2, 3]}\ncopy: *b\nname: &n web\nagain: *n\n");
        assert_eq!(
            doc.get("copy").unwrap().to_json(),
            serde_json::json!({"x": 1, "y": [2, 3]})
        );
        assert_eq!(doc.get("again").unwrap().as_str(), Some("web"));
        let (line, col, msg) = parse_err("a: *nope\n");
        assert_eq!((line, col), (1, 4));
        assert_eq!(msg, "YAML parsing failed: Found undefined alias.");
    }

    #[test]
    fn merge_keys() {
        let src = "\
a: &a {x: 1, y: 2}
b: &b {y: 3, z: 4}
one:
  <<: *a
  x: 10
many:
  <<: [*a, *b]
  w: 0
quoted:
  '<<': *a
";
        let doc = parse(src);
        assert_eq!(
            doc.get("one").unwrap().to_json().to_string(),
            r#"{"x":10,"y":2}"#
        );
        // PyYAML: merged maps in reverse, so earlier ones win; written keys last.
        assert_eq!(
            doc.get("many").unwrap().to_json().to_string(),
            r#"{"y":2,"z":4,"x":1,"w":0}"#
        );
        assert_eq!(
            doc.get("quoted").unwrap().to_json().to_string(),
            r#"{"<<":{"x":1,"y":2}}"#
        );
        let (line, col, msg) = parse_err("a: &a 1\nb:\n  <<: *a\n");
        assert_eq!((line, col), (1, 4));
        assert!(msg.contains("for merging"), "{msg}");
        let (line, col, msg) = parse_err("a: &a 1\nb:\n  <<: [{x: 1}, *a]\n");
        assert_eq!((line, col), (1, 4));
        assert!(msg.contains("expected a mapping for merging"), "{msg}");
    }

    #[test]
    fn tags() {
        let doc = parse(
            "a: !!str 12\nb: !!int '0x10'\nc: !!float 1e3\nd: !!bool 'yes'\ne: !!null x\nf: !unsafe '{{ x }}'\ng: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nh: !custom 5\ni: ! 5\n",
        );
        let get = |k: &str| doc.get(k).unwrap();
        assert!(is_str(&get("a").kind, "12", false));
        assert_eq!(get("a").tag.as_deref(), Some("!!str"));
        assert!(matches!(get("b").kind, NodeKind::Int(16)));
        assert!(matches!(get("c").kind, NodeKind::Float(f) if f == 1000.0));
        assert!(matches!(get("d").kind, NodeKind::Bool(true)));
        assert!(get("e").is_null());
        assert!(is_str(&get("f").kind, "{{ x }}", true));
        assert_eq!(get("f").tag.as_deref(), Some("!unsafe"));
        assert_eq!(get("g").tag.as_deref(), Some("!vault"));
        assert_eq!(get("g").as_str(), Some("$ANSIBLE_VAULT;1.1;AES256\n6162\n"));
        assert!(is_str(&get("h").kind, "5", false));
        assert_eq!(get("h").tag.as_deref(), Some("!custom"));
        assert!(is_str(&get("i").kind, "5", false));
        let (line, col, msg) = parse_err("x: 1\ny: !!int abc\n");
        assert_eq!((line, col), (2, 4));
        assert!(msg.contains("!!int"), "{msg}");
    }

    #[test]
    fn duplicate_keys_keep_last_value_and_warn() {
        let (doc, warnings) =
            parse_str_with_warnings("a: 1\nb: 2\na: 3\n1: x\n1.0: y\n", Path::new("t.yml"))
                .unwrap();
        let doc = doc.unwrap();
        assert_eq!(doc.to_json().to_string(), r#"{"a":3,"b":2,"1":"y"}"#);
        let NodeKind::Map(entries) = &doc.kind else {
            panic!()
        };
        assert_eq!(entries[0].0.span.line, 1);
        assert_eq!(warnings.len(), 2);
        assert_eq!(warnings[0].span.line, 3);
        assert!(warnings[0].message.contains("duplicate dict key (a)"));
    }

    #[test]
    fn syntax_errors_as_ansible_reports_them() {
        // (source, line, column, message, has help text), as ansible-core
        // 2.19.14 (PyYAML on libyaml) reports them.
        let cases: &[(&str, usize, usize, &str, bool)] = &[
            ("a: 1\nb: \"oops\nc: 2\n", 4, 1, "While scanning a quoted scalar found unexpected end of stream.", false),
            ("a:\n  b: 1\n c: 2\n", 3, 2, "While parsing a block mapping did not find expected key.", false),
            ("a:\n\tb: 1\n", 2, 1, "Tabs are usually invalid in YAML.", false),
            ("a: b: c\n", 1, 5, "Colons in unquoted values must be followed by a non-space character.", true),
            ("a: &\n", 1, 5, "While scanning an anchor did not find expected alphabetic or numeric character.", false),
            ("a: @x\n", 1, 4, "While scanning for the next token found character that cannot start any token.", false),
            ("a: \"x\\qy\"\n", 1, 6, "While parsing a quoted scalar found unknown escape character.", false),
            ("a:\n  - x\n  b: 1\n", 3, 3, "While parsing a block collection did not find expected '-' indicator.", false),
            ("a: [1, 2\n", 2, 1, "While parsing a flow sequence did not find expected ',' or ']'.", false),
            ("a: {b: 1\nc: 2\n", 2, 2, "While parsing a flow mapping did not find expected ',' or '}'.", false),
            ("a: {{ x }}\n", 1, 4, "This may be an issue with missing quotes around a template block.", true),
            ("a: \"x\" y\n", 1, 4, "Values starting with a quote must end with the same quote.", true),
            ("a: \"x\" and \"y\"\n", 1, 4, "Values starting with a quote must end with the same quote, and not contain that quote.", true),
            ("a\nb: 1\n", 2, 2, "Mapping values are not allowed in this context.", false),
            ("? [a]\n: 1\n", 1, 3, "While constructing a mapping found unhashable key.", false),
            ("<<: 5\n", 1, 3, "Colons in unquoted values must be followed by a non-space character.", true),
            ("a: [1, 2]]\n", 1, 10, "While parsing a block mapping did not find expected key.", false),
            ("- [1]]\n", 1, 6, "While parsing a block collection did not find expected '-' indicator.", false),
            ("a: 'x", 1, 4, "Values starting with a quote must end with the same quote.", true),
            ("- a\nb\n", 3, 1, "While scanning a simple key could not find expected ':'.", false),
            ("a: |\n  x\n y: 1\n", 3, 2, "While parsing a block mapping did not find expected key.", false),
            ("x: 1\n  y: 2\n", 2, 4, "Mapping values are not allowed in this context.", false),
            ("- hosts: h1\n  tasks:\n    -debug: msg=x\n    - debug: msg=y\n", 4, 5, "While parsing a block mapping did not find expected key.", false),
        ];
        let mut wrong = Vec::new();
        for (src, line, col, msg, help) in cases {
            let got = match parse_str(src, Path::new("test.yml")) {
                Err(Error::Help { inner, .. }) => match *inner {
                    Error::Located { span, message } => (span.line, span.col, message, true),
                    other => panic!("{other:?}"),
                },
                Err(Error::Located { span, message }) => (span.line, span.col, message, false),
                other => panic!("expected an error from {src:?}, got {other:?}"),
            };
            let want = (*line, *col, format!("YAML parsing failed: {msg}"), *help);
            if got != want {
                wrong.push(format!("{src:?}: got {got:?}, want {want:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn yaml_hints_follow_ansible() {
        // A quoted value is no unquoted colon; a line starting with ':' is skipped.
        assert_eq!(yaml_hint("  msg: 'a: b'"), None);
        assert_eq!(yaml_hint(": x: y").map(|h| h.1), None);
        // Columns count characters, not bytes.
        assert_eq!(
            yaml_hint("é: a: b").map(|h| (h.0, h.1)),
            Some((
                "Colons in unquoted values must be followed by a non-space character.",
                5
            ))
        );
        assert_eq!(yaml_hint("- x\t").map(|h| h.1), Some(4));
    }

    #[test]
    fn bom_and_crlf() {
        let doc = parse("\u{feff}a: 1\r\nb: |\r\n  x\r\n");
        assert!(matches!(doc.get("a").unwrap().kind, NodeKind::Int(1)));
        assert_eq!(doc.get("b").unwrap().as_str(), Some("x\n"));
        assert_eq!(doc.get("b").unwrap().span.line, 2);
    }

    #[test]
    fn block_scalars_start_at_their_indicator() {
        let src = "a: |\n  x\nb: >-  # c | d\n\n\n  y\nc: |\nd: [|\n  z\n ]\ne: |+\n";
        let doc = parse(src);
        let at = |k: &str| {
            let n = doc.get(k).unwrap();
            (n.span.line, n.span.col)
        };
        assert_eq!(at("a"), (1, 4));
        assert_eq!(at("b"), (3, 4));
        assert_eq!(at("c"), (7, 4));
        assert_eq!(at("e"), (11, 4));
        let crlf = parse("a: 1\r\nb: |\r\n  x\r\n");
        assert_eq!(
            crlf.get("b").map(|n| (n.span.line, n.span.col)),
            Some((2, 4))
        );
    }

    #[test]
    fn random_input_never_reaches_the_panic_guard() {
        const ALPHABET: &[&str] = &[
            "a", "1", " ", "  ", "\n", "\t", ":", "- ", "? ", "[", "]", "{", "}", ",", "'", "\"",
            "\\", "&a ", "*a", "!x ", "!!int ", "|", ">", "#", "---", "...", "<<: ", "%", "@",
            "\r", "é", "0x", ".5", "~",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) as usize
        };
        for _ in 0..20_000 {
            let len = next() % 24;
            let src: String = (0..len)
                .map(|_| ALPHABET[next() % ALPHABET.len()])
                .collect();
            if let Err(Error::Located { message, .. }) = parse_str(&src, Path::new("f.yml")) {
                assert!(
                    !message.contains("could not read"),
                    "parser panicked on {src:?}"
                );
            }
        }
    }

    #[test]
    fn multiple_documents_are_an_error() {
        let (line, col, msg) = parse_err("a: 1\n---\nb: 2\n");
        assert_eq!((line, col), (2, 1));
        assert_eq!(
            msg,
            "YAML parsing failed: Expected a single document in the stream but found another document."
        );
        // An explicit start and end around one document is fine.
        assert!(parse("---\na: 1\n...\n").get("a").is_some());
    }

    #[test]
    fn empty_documents() {
        for src in ["", "\n\n", "# only a comment\n", "---\n", "---\n...\n"] {
            assert!(
                matches!(parse_str(src, Path::new("e.yml")), Ok(None)),
                "{src:?}"
            );
        }
        assert!(parse("~\n").is_null());
    }

    #[test]
    fn helpers() {
        let doc = parse("s: x\ni: 10\nt: yes\nn:\nf: 1.0\ng: 1.5e+20\nh: .inf\nl: [1]\nm: {}\n");
        let get = |k: &str| doc.get(k).unwrap();
        assert_eq!(get("s").as_str(), Some("x"));
        assert_eq!(get("i").as_str(), None);
        assert_eq!(get("i").scalar_string().as_deref(), Some("10"));
        assert_eq!(get("t").scalar_string().as_deref(), Some("True"));
        assert_eq!(get("n").scalar_string().as_deref(), Some("None"));
        assert_eq!(get("f").scalar_string().as_deref(), Some("1.0"));
        assert_eq!(get("g").scalar_string().as_deref(), Some("1.5e+20"));
        assert_eq!(get("h").scalar_string().as_deref(), Some("inf"));
        assert_eq!(get("l").scalar_string(), None);
        let names: Vec<_> = ["n", "t", "i", "f", "s", "l", "m"]
            .iter()
            .map(|k| get(k).type_name())
            .collect();
        assert_eq!(
            names,
            ["null", "bool", "int", "float", "string", "list", "mapping"]
        );
        assert!(doc.get("missing").is_none());
        assert_eq!(get("h").to_json(), serde_json::json!("inf"));
        let keys = parse("true: a\n~: b\n10: c\n1.5: d\n").to_json();
        assert_eq!(
            keys.to_string(),
            r#"{"true":"a","null":"b","10":"c","1.5":"d"}"#
        );
    }

    #[test]
    fn python_float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-0.0, "-0.0"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (f64::NAN, "nan"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (f, want) in cases {
            assert_eq!(python_float_repr(*f), *want);
        }
    }

    #[test]
    fn limits_and_garbage_never_panic() {
        let deep = "[".repeat(10_000);
        assert!(parse_str(&deep, Path::new("d.yml")).is_err());
        let deep_ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_str(&deep_ok, Path::new("d.yml")).is_ok());
        let mut laughs = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            laughs.push_str(&format!(
                "l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
        }
        assert!(parse_str(&laughs, Path::new("l.yml")).is_err());
        assert!(parse_str("a: &a [*a]\n", Path::new("r.yml")).is_err());
        for src in [
            "{",
            "[",
            "}",
            "]",
            ":",
            "- - -",
            "? ",
            "&",
            "*",
            "!",
            "!!",
            "%YAML 1.1",
            "'",
            "\"\\",
            "a: |\n\tx",
            "[a, b: c, {d]",
            "--- |\n x\n--- >",
            "\u{feff}a: 1",
            "\0",
            "a: !<tag:x> 1",
            "%TAG ! !foo\n--- !x 1",
            "key: [1, 2\n",
            "? [a]\n: b\n",
        ] {
            let _ = parse_str(src, Path::new("g.yml"));
        }
        // Every prefix of a realistic file.
        let src = "- hosts: all\n  vars: &v\n    x: 'a'\n    y: \"b\\n\"\n  tasks:\n    - debug: {msg: *v}\n      when: >-\n        x\n";
        for end in 0..=src.len() {
            if src.is_char_boundary(end) {
                let _ = parse_str(&src[..end], Path::new("p.yml"));
            }
        }
    }
}
