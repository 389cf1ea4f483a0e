//! Jinja templating with Ansible semantics, built on minijinja.
//!
//! A [`Templar`] owns one minijinja `Environment` (compiled once, shared across
//! threads) configured like Ansible's: `trim_blocks`, trailing newline kept,
//! Python-style rendering of values inside strings, Ansible's filters, tests and
//! lookups. Variables are handed over RAW in a [`Context`]; strings that contain
//! Jinja are rendered lazily when a template reads them (with cycle detection).
//!
//! Rendering rules (ansible-core 2.19+, native types):
//! * a string that is exactly one `{{ expr }}` keeps the expression's native type
//!   (list, dict, int, bool, None …); anything else renders to a string;
//! * inside a string, values print like Python's `str()`: `True`, `['a', 'b']`,
//!   `{'a': 1}`; a bare `None` prints as the empty string (Ansible's finalize);
//! * undefined variables raise an error naming the variable, unless consumed by
//!   `default`, `is defined`, `mandatory` …; attribute access on an undefined
//!   value yields undefined (Ansible's chainable undefined), so
//!   `foo.bar | default(1)` works when `foo` is missing.

mod crypt;
mod filters;
mod jinja_tests;
mod literals;
mod lookups;
mod modop;
pub mod pydatetime;
mod pyformat;
mod pyrandom;
mod pyrepr;
mod pyset;
mod textfilters;
mod versions;
mod yaml_emit;

#[cfg(test)]
mod unit_tests;

use std::collections::HashMap;
use std::error::Error as _;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use indexmap::IndexMap;
use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Environment, Error, ErrorKind, State, UndefinedBehavior};
use serde_json::Value as Json;

thread_local! {
    /// Where a template file's `{% include %}`s are looked for first (its
    /// role's templates/, its own directory), set while it renders.
    static TEMPLATE_DIRS: std::cell::RefCell<Vec<PathBuf>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

pub use lookups::{LookupContext, LookupFn};

/// Options fixed for the lifetime of a [`Templar`].
#[derive(Debug, Clone, Default)]
pub struct TemplarOptions {
    /// Directory of the playbook being run (last resort for relative paths).
    pub playbook_dir: PathBuf,
    /// Directories searched, in order, for `lookup('file')`, `lookup('template')`,
    /// `first_found` and template `{% include %}` relative paths.
    pub search_paths: Vec<PathBuf>,
    /// `--check`: lookups with side effects (`password`) do not write files.
    pub check_mode: bool,
}

/// Per-host variable access for the `hostvars` magic variable.
pub trait HostVars: Send + Sync {
    fn host_names(&self) -> Vec<String>;
    fn host_vars(&self, host: &str) -> Option<Arc<IndexMap<String, Json>>>;
    /// A play-wide variable every host sees alike (`groups`,
    /// `ansible_play_hosts`…): kept once here rather than copied into each
    /// host's variables, which made memory grow with hosts².
    fn play_var(&self, _name: &str) -> Option<Value> {
        None
    }
}

/// The variables visible to one render. `vars` are RAW (untemplated) values:
/// a string containing Jinja is rendered lazily when a template reads it.
#[derive(Clone, Default)]
pub struct Context {
    pub vars: Arc<IndexMap<String, Json>>,
    pub hostvars: Option<Arc<dyn HostVars>>,
}

impl Context {
    pub fn new(vars: IndexMap<String, Json>) -> Context {
        Context {
            vars: Arc::new(vars),
            hostvars: None,
        }
    }
}

/// A templating failure, worded like Ansible's messages.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TemplateError {
    /// An undefined variable (or attribute) was used. `name` is the variable
    /// (or dotted expression) involved; `message` is Ansible's wording.
    #[error("{message}")]
    Undefined { name: String, message: String },
    /// A variable's value refers back to itself.
    #[error("recursive loop detected in template string: {0}")]
    Recursion(String),
    /// The template does not parse; `message` is worded as Jinja2's.
    #[error("Syntax error in template: {message}")]
    Syntax {
        message: String,
        source_text: String,
    },
    /// A conditional did not produce a boolean (ansible-core 2.19 rule);
    /// where the value came from is not known here.
    #[error("{}", conditional_message(*.truth, .type_name, "<unknown>"))]
    Conditional { truth: bool, type_name: String },
    /// A lookup plugin failed.
    #[error("{0}")]
    Lookup(String),
    /// Any other evaluation error (bad filter argument, type error …).
    #[error("{0}")]
    Render(String),
}

impl TemplateError {
    pub(crate) fn undefined(name: &str) -> TemplateError {
        TemplateError::Undefined {
            name: name.to_string(),
            message: format!("'{name}' is undefined"),
        }
    }

    /// Wrap into a minijinja error that carries `self` as its source, so the
    /// original variant survives the trip through the engine.
    pub(crate) fn into_mj(self) -> Error {
        let kind = match self {
            TemplateError::Undefined { .. } => ErrorKind::UndefinedError,
            _ => ErrorKind::InvalidOperation,
        };
        Error::new(kind, self.to_string()).with_source(self)
    }
}

/// Shared state reachable from filters, tests and lookups (captured by the
/// environment's closures).
pub(crate) struct Shared {
    pub opts: TemplarOptions,
    pub omit: String,
    pub lookups: RwLock<HashMap<String, LookupFn>>,
}

struct Inner {
    env: Environment<'static>,
    shared: Arc<Shared>,
}

/// The templating engine: one compiled environment, shared (Send + Sync).
pub struct Templar {
    inner: Arc<Inner>,
}

/// Name of the hidden variable that returns the lazy root context itself.
pub(crate) const CTX_VAR: &str = "__ferry_ctx__";
/// Temp slot where the formatter stores a captured native value.
const NATIVE_TEMP: &str = "__ferry_native__";

impl Templar {
    pub fn new(opts: TemplarOptions) -> Templar {
        let mut rnd = [0u8; 16];
        let _ = getrandom::fill(&mut rnd);
        let omit = format!(
            "__omit_place_holder__{}",
            rnd.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let shared = Arc::new(Shared {
            opts,
            omit,
            lookups: RwLock::new(lookups::builtin_lookups()),
        });
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_debug(true);
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .keep_trailing_newline(true)
            .build()
        {
            env.set_syntax(syntax);
        }
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(|state, value, method, args| {
            // Python list methods pycompat lacks.
            if value.kind() == minijinja::value::ValueKind::Seq {
                if let ("index" | "count", [needle]) = (method, args) {
                    let items: Vec<Value> = value.try_iter()?.collect();
                    if method == "count" {
                        return Ok(Value::from(items.iter().filter(|i| *i == needle).count()));
                    }
                    return match items.iter().position(|i| i == needle) {
                        Some(i) => Ok(Value::from(i)),
                        None => {
                            let mut r = String::new();
                            pyrepr::py_repr(needle, &mut r);
                            // Python's ValueError, as Jinja reports it.
                            Err(TemplateError::Render(format!(
                                "Error rendering template: {r} is not in list"
                            ))
                            .into_mj())
                        }
                    };
                }
            }
            minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
        });
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        env.set_formatter(formatter);
        {
            let shared = shared.clone();
            env.set_loader(move |name| lookups::load_template_source(&shared.opts, name));
        }
        // An include found beside the template file is loaded by its full
        // path, so two roles' `part.j2` are two templates.
        env.set_path_join_callback(|name, _parent| {
            let found = (!std::path::Path::new(name).is_absolute())
                .then(|| {
                    TEMPLATE_DIRS.with(|dirs| {
                        dirs.borrow()
                            .iter()
                            .map(|d| d.join(name))
                            .find(|p| p.is_file())
                    })
                })
                .flatten();
            match found {
                Some(p) => p.display().to_string().into(),
                None => name.into(),
            }
        });
        filters::register(&mut env, &shared);
        jinja_tests::register(&mut env);
        lookups::register(&mut env, &shared);
        Templar {
            inner: Arc::new(Inner { env, shared }),
        }
    }

    /// Add (or replace) a lookup plugin. Must be called before the Templar is
    /// shared; lookups registered later are still seen (the table is locked).
    pub fn register_lookup(&mut self, name: &str, f: LookupFn) {
        if let Ok(mut t) = self.inner.shared.lookups.write() {
            t.insert(name.to_string(), f);
        }
    }

    /// Does this string contain Jinja syntax (`{{`, `{%` or `{#`)?
    pub fn is_template(s: &str) -> bool {
        s.contains("{{") || s.contains("{%") || s.contains("{#")
    }

    /// The value of the magic `omit` variable.
    pub fn omit_token(&self) -> &str {
        &self.inner.shared.omit
    }

    pub fn options(&self) -> &TemplarOptions {
        &self.inner.shared.opts
    }

    /// Render one string: native type if it is exactly one `{{ expr }}`,
    /// otherwise a string. Non-templates are returned unchanged.
    pub fn render_str(&self, s: &str, ctx: &Context) -> Result<Json, TemplateError> {
        if !Self::is_template(s) {
            return Ok(Json::String(s.to_string()));
        }
        let root = LazyVars::new(self.inner.clone(), ctx);
        root.render_str(s)
    }

    /// Render a template text (a file's content) always to a string — for the
    /// `template` module and `lookup('template')`.
    pub fn render_text(&self, s: &str, ctx: &Context) -> Result<String, TemplateError> {
        let root = LazyVars::new(self.inner.clone(), ctx);
        root.render_text(s)
    }

    /// Render a template file's text, its includes looked for first in
    /// `dirs`.
    pub fn render_file_text(
        &self,
        s: &str,
        ctx: &Context,
        dirs: &[PathBuf],
    ) -> Result<String, TemplateError> {
        TEMPLATE_DIRS.with(|d| *d.borrow_mut() = dirs.to_vec());
        let out = self.render_text(s, ctx);
        TEMPLATE_DIRS.with(|d| d.borrow_mut().clear());
        out
    }

    /// Recursively render strings in lists and maps (keys too).
    pub fn render_value(&self, v: &Json, ctx: &Context) -> Result<Json, TemplateError> {
        if !contains_template(v) {
            return Ok(v.clone());
        }
        let root = LazyVars::new(self.inner.clone(), ctx);
        root.render_json(v)
    }

    /// Evaluate a conditional (`when`, `failed_when`, `changed_when`, `until`,
    /// assert `that`). A list means all items must hold.
    pub fn eval_condition(&self, cond: &Json, ctx: &Context) -> Result<bool, TemplateError> {
        match cond {
            Json::Bool(b) => Ok(*b),
            Json::Null => Ok(true),
            Json::Array(items) => {
                for c in items {
                    if !self.eval_condition(c, ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Json::String(s) => {
                let root = LazyVars::new(self.inner.clone(), ctx);
                root.eval_condition(s)
            }
            other => Err(non_bool_conditional(other)),
        }
    }

    /// Evaluate a bare Jinja expression (no `{{ }}`) to a native value.
    pub fn eval_expression(&self, expr: &str, ctx: &Context) -> Result<Json, TemplateError> {
        let root = LazyVars::new(self.inner.clone(), ctx);
        let v = root.eval_expr_value(expr)?;
        root.to_json(&v, expr)
    }
}

fn non_bool_conditional(v: &Json) -> TemplateError {
    let truth = match v {
        Json::Null => false,
        Json::Bool(b) => *b,
        Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Json::String(s) => !s.is_empty(),
        Json::Array(a) => !a.is_empty(),
        Json::Object(o) => !o.is_empty(),
    };
    TemplateError::Conditional {
        truth,
        type_name: pyrepr::json_type_name(v).to_string(),
    }
}

/// ansible-core 2.19's broken-conditional message; `origin` is where the
/// value came from (`file:line:col`, or `<unknown>`), shown as Python's repr.
pub fn conditional_message(truth: bool, type_name: &str, origin: &str) -> String {
    format!(
        "Conditional result ({}) was derived from value of type '{type_name}' at {}. Conditionals must have a boolean result.",
        if truth { "True" } else { "False" },
        {
            let mut q = String::new();
            pyrepr::quote_str(origin, &mut q);
            q
        }
    )
}

/// Does this JSON value contain a string with Jinja syntax (values or keys)?
pub(crate) fn contains_template(v: &Json) -> bool {
    match v {
        Json::String(s) => Templar::is_template(s),
        Json::Array(a) => a.iter().any(contains_template),
        Json::Object(o) => o
            .iter()
            .any(|(k, v)| Templar::is_template(k) || contains_template(v)),
        _ => false,
    }
}

/// If `s` is exactly one `{{ expr }}` block, return the expression text.
fn single_expression(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    if inner.trim().is_empty() {
        return None;
    }
    Some(inner)
}

/// The environment's formatter: Python `str()` of values, errors on undefined,
/// and capture of the single value in native mode.
fn formatter(out: &mut minijinja::Output, state: &mut State, value: &Value) -> Result<(), Error> {
    let (capture, lenient) = state
        .lookup(CTX_VAR)
        .and_then(|c| {
            c.downcast_object_ref::<LazyVars>()
                .map(|l| (l.capture, l.lenient))
        })
        .unwrap_or((false, false));
    if value.is_undefined() {
        if lenient {
            return Ok(());
        }
        return Err(undefined_error(value));
    }
    if capture {
        state.set_temp(NATIVE_TEMP, value.clone());
        return Ok(());
    }
    if value.is_none() {
        return Ok(());
    }
    // Ansible 2.19 prints `omit` inside a larger string as nothing.
    if let Some(text) = value.as_str() {
        let is_omit = state
            .lookup(CTX_VAR)
            .and_then(|c| {
                c.downcast_object_ref::<LazyVars>()
                    .map(|l| l.inner.shared.omit == text)
            })
            .unwrap_or(false);
        if is_omit {
            return Ok(());
        }
    }
    let mut s = String::new();
    pyrepr::py_str(value, &mut s);
    out.write_str(&s).map_err(Error::from)
}

/// An undefined error for `value` that keeps minijinja's record of where the
/// undefined value came from (so the message can name the variable).
pub(crate) fn undefined_error(value: &Value) -> Error {
    match value.get_attr("__ferry_undefined__") {
        Err(e) => e,
        Ok(_) => Error::new(ErrorKind::UndefinedError, "undefined value"),
    }
}

/// Prefix of the names under which [`hinted_undefined`] records its reason
/// among the missing variables (no variable name can contain it).
const HINT_PREFIX: char = '\u{0}';

/// Jinja's `Undefined(hint)`: an undefined value that `default` and
/// `is defined` accept like any other, but whose use reports `message`
/// (`[] | first` → "No first item, sequence was empty."). minijinja's
/// undefined carries no text, so the reason is recorded as a missing
/// "variable" of the render, which the error paths already consult.
pub(crate) fn hinted_undefined(state: &State, message: &str) -> Value {
    if let Some(ctx) = state.lookup(CTX_VAR) {
        if let Some(root) = ctx.downcast_object_ref::<LazyVars>() {
            let key = format!("{HINT_PREFIX}{message}");
            if let Ok(mut m) = root.inner_errors.lock() {
                m.insert(
                    key.clone(),
                    TemplateError::Undefined {
                        name: String::new(),
                        message: message.to_string(),
                    },
                );
            }
            if let Ok(mut m) = root.missing.lock() {
                m.push(key);
            }
        }
    }
    Value::UNDEFINED
}

/// Convert a minijinja error into a [`TemplateError`], recovering a wrapped
/// `TemplateError` and naming undefined variables.
fn convert_error(err: Error, src: &str, root: &Arc<LazyVars>) -> TemplateError {
    // A TemplateError carried as the source (filters, lookups, lazy vars).
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = cur {
        if let Some(te) = e.downcast_ref::<TemplateError>() {
            return te.clone();
        }
        cur = e.source();
    }
    match err.kind() {
        ErrorKind::SyntaxError | ErrorKind::BadEscape => {
            return TemplateError::Syntax {
                message: jinja_syntax_message(&err, src),
                source_text: src.to_string(),
            }
        }
        // Jinja2 finds unknown filters and tests when compiling.
        ErrorKind::UnknownFilter | ErrorKind::UnknownTest => {
            let detail = err.detail().unwrap_or("");
            let (what, name) = match detail.split_once(' ') {
                Some((w, rest)) => (w, rest.trim_end_matches(" is unknown")),
                None => ("filter", detail),
            };
            return TemplateError::Syntax {
                message: format!("No {what} named '{name}'."),
                source_text: src.to_string(),
            };
        }
        ErrorKind::UndefinedError => {}
        _ => {
            let detail = err.detail().unwrap_or("");
            if let Some(expr) = undefined_expr(detail) {
                if let Some(te) = root.undefined_for(&expr) {
                    return te;
                }
            }
            return TemplateError::Render(render_mj_error(&err));
        }
    }
    let detail = err.detail().unwrap_or("");
    if let Some(expr) = undefined_expr(detail) {
        if let Some(te) = root.undefined_for(&expr) {
            return te;
        }
    }
    if let Some(name) = root.last_missing() {
        return root
            .inner_undefined(&name)
            .unwrap_or_else(|| TemplateError::undefined(&name));
    }
    TemplateError::Undefined {
        name: String::new(),
        message: format!("undefined variable in template: {src}"),
    }
}

/// minijinja's syntax error worded as Jinja2's parser words it, for the
/// common cases (the rest keep minijinja's wording).
fn jinja_syntax_message(err: &Error, src: &str) -> String {
    let detail = err.detail().unwrap_or("syntax error");
    // The offending token's text, from the error's byte range.
    let token = err
        .range()
        .and_then(|r| src.get(r))
        .map(str::to_string)
        .unwrap_or_default();
    if detail.starts_with("unexpected end of input") {
        return "unexpected 'end of template'".into();
    }
    if detail == "unexpected end of variable block" {
        return "unexpected 'end of print statement'".into();
    }
    if detail == "unexpected input after expression" {
        return "chunk after expression".into();
    }
    if detail == "unexpected end of string" {
        // Jinja's lexer stops at the opening quote it cannot match and
        // gives its (character) index.
        let mut open: Option<(char, usize)> = None;
        let mut escaped = false;
        for (i, c) in src.chars().enumerate() {
            match open {
                Some(_) if escaped => escaped = false,
                Some(_) if c == '\\' => escaped = true,
                Some((q, _)) if c == q => open = None,
                None if c == '\'' || c == '"' => open = Some((c, i)),
                _ => {}
            }
        }
        if let Some((q, at)) = open {
            let shown = if q == '\'' { "\"'\"" } else { "'\"'" };
            return format!("unexpected char {shown} at {at}");
        }
    }
    if let Some(rest) = detail.strip_prefix("unexpected ") {
        if let Some((_, expected)) = rest.split_once(", expected ") {
            let expected = match expected {
                "end of variable block" => "end of print statement",
                "end of block" => "end of statement block",
                other => other,
            };
            if !token.is_empty() {
                return format!("expected token '{expected}', got '{token}'");
            }
        } else if let Some(t) = rest.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
            return format!("unexpected '{t}'");
        }
    }
    detail.to_string()
}

fn render_mj_error(err: &Error) -> String {
    // Jinja reports unknown filters/tests at compile time, unknown functions
    // as undefined names.
    let detail = err.detail().unwrap_or("");
    let unknown = |prefix: &str| {
        detail
            .strip_prefix(prefix)
            .and_then(|d| d.strip_suffix(" is unknown"))
            .map(str::to_string)
    };
    match err.kind() {
        ErrorKind::UnknownFilter => {
            if let Some(name) = unknown("filter ") {
                return format!("Syntax error in template: No filter named '{name}'.");
            }
        }
        ErrorKind::UnknownTest => {
            if let Some(name) = unknown("test ") {
                return format!("Syntax error in template: No test named '{name}'.");
            }
        }
        ErrorKind::UnknownFunction => {
            if let Some(name) = unknown("") {
                return format!("'{name}' is undefined");
            }
        }
        _ => {}
    }
    let kind = match err.kind() {
        ErrorKind::InvalidOperation => "invalid operation",
        ErrorKind::UnknownFilter => "no filter named",
        ErrorKind::UnknownTest => "no test named",
        ErrorKind::UnknownFunction => "unknown function",
        ErrorKind::MissingArgument => "missing argument",
        ErrorKind::TooManyArguments => "too many arguments",
        ErrorKind::CannotUnpack => "cannot unpack",
        ErrorKind::BadSerialization => "bad serialization",
        _ => "template error",
    };
    match err.detail() {
        Some(d) => format!("{kind}: {d}"),
        None => kind.to_string(),
    }
}

/// An undefined error without a known origin and no missing variable: a
/// silent undefined (`{{ x if cond }}` with no else) being printed.
fn is_silent_undefined(err: &Error, root: &LazyVars) -> bool {
    err.kind() == ErrorKind::UndefinedError
        && err.detail().is_none()
        && err.source().is_none()
        && root.last_missing().is_none()
}

/// Extract `EXPR` from minijinja's "`EXPR` is undefined" detail.
fn undefined_expr(detail: &str) -> Option<String> {
    let end = detail.find("` is undefined")?;
    let start = detail[..end].rfind('`')?;
    Some(detail[start + 1..end].to_string())
}

/// The lazily-templated root context of one render.
pub(crate) struct LazyVars {
    inner: Arc<Inner>,
    vars: Arc<IndexMap<String, Json>>,
    hostvars: Option<Arc<dyn HostVars>>,
    /// Locals layered on top (e.g. `lookup('template', template_vars=…)`).
    overlay: IndexMap<String, Value>,
    cache: Mutex<HashMap<String, Value>>,
    resolving: Mutex<Vec<String>>,
    missing: Mutex<Vec<String>>,
    inner_errors: Mutex<HashMap<String, TemplateError>>,
    /// Native mode: the formatter captures the value instead of printing it.
    capture: bool,
    /// Print undefined values as empty (re-render after an origin-less
    /// undefined, i.e. Jinja's silent `{{ x if cond }}` without else).
    lenient: bool,
}

impl std::fmt::Debug for LazyVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<vars>")
    }
}

impl LazyVars {
    fn new(inner: Arc<Inner>, ctx: &Context) -> Arc<LazyVars> {
        Arc::new(LazyVars {
            inner,
            vars: ctx.vars.clone(),
            hostvars: ctx.hostvars.clone(),
            overlay: IndexMap::new(),
            cache: Mutex::new(HashMap::new()),
            resolving: Mutex::new(Vec::new()),
            missing: Mutex::new(Vec::new()),
            inner_errors: Mutex::new(HashMap::new()),
            capture: false,
            lenient: false,
        })
    }

    /// A sibling context sharing variables, with a different capture flag
    /// and/or extra locals.
    fn derive(self: &Arc<Self>, capture: bool, overlay: IndexMap<String, Value>) -> Arc<LazyVars> {
        self.derive_with(capture, false, overlay)
    }

    fn derive_with(
        self: &Arc<Self>,
        capture: bool,
        lenient: bool,
        overlay: IndexMap<String, Value>,
    ) -> Arc<LazyVars> {
        let cache = self.cache.lock().map(|c| c.clone()).unwrap_or_default();
        Arc::new(LazyVars {
            inner: self.inner.clone(),
            vars: self.vars.clone(),
            hostvars: self.hostvars.clone(),
            overlay: if overlay.is_empty() {
                self.overlay.clone()
            } else {
                let mut o = self.overlay.clone();
                o.extend(overlay);
                o
            },
            cache: Mutex::new(cache),
            resolving: Mutex::new(self.resolving.lock().map(|r| r.clone()).unwrap_or_default()),
            missing: Mutex::new(Vec::new()),
            inner_errors: Mutex::new(HashMap::new()),
            capture,
            lenient,
        })
    }

    pub(crate) fn last_missing(&self) -> Option<String> {
        self.missing.lock().ok().and_then(|m| m.last().cloned())
    }

    /// The last missing variable's name; `None` when the last undefined
    /// came from [`hinted_undefined`] (it names no variable).
    pub(crate) fn last_missing_var(&self) -> Option<String> {
        self.last_missing().filter(|n| !n.starts_with(HINT_PREFIX))
    }

    fn inner_undefined(&self, name: &str) -> Option<TemplateError> {
        self.inner_errors
            .lock()
            .ok()
            .and_then(|m| m.get(name).cloned())
    }

    /// Python's type name for a simple variable path (`d`, `d.a`, `x[0]`),
    /// as ansible-core 2.19 names it in "object of type … has no attribute".
    fn path_type(self: &Arc<Self>, base: &str) -> Option<&'static str> {
        static PATH: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
            regex::Regex::new(
                r#"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\s*(?:\d+|'[^']*'|"[^"]*")\s*\])*$"#,
            )
            .ok()
        });
        static HOSTVARS: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
            regex::Regex::new(r#"^hostvars(?:\.[A-Za-z_][\w.-]*|\[\s*(?:'[^']*'|"[^"]*")\s*\])$"#)
                .ok()
        });
        let base = base.trim();
        if HOSTVARS.as_ref().is_some_and(|r| r.is_match(base)) {
            return Some("HostVarsVars");
        }
        if !PATH.as_ref().is_some_and(|r| r.is_match(base)) {
            return None;
        }
        let compiled = self.inner.env.compile_expression(base).ok()?;
        let v = compiled
            .eval(self.derive(false, IndexMap::new()).root_value())
            .ok()?;
        (!v.is_undefined()).then(|| pyrepr::type_name(&v))
    }

    /// Error for an undefined expression like `foo` or `foo.bar` / `foo["bar"]`.
    fn undefined_for(self: &Arc<Self>, expr: &str) -> Option<TemplateError> {
        if expr.is_empty() || expr.starts_with('(') {
            return None;
        }
        let is_ident = expr.chars().all(|c| c.is_alphanumeric() || c == '_');
        if is_ident {
            return Some(
                self.inner_undefined(expr)
                    .unwrap_or_else(|| TemplateError::undefined(expr)),
            );
        }
        // Attribute or item access on a defined value.
        // The attribute as Python's repr shows it: 'name' or 5.
        let (base, attr) = if expr.ends_with(']') {
            let open = expr.rfind('[')?;
            let key = expr[open + 1..expr.len() - 1].trim();
            let attr = if key.chars().all(|c| c.is_ascii_digit()) {
                key.to_string()
            } else {
                format!("'{}'", key.trim_matches(|c| c == '"' || c == '\''))
            };
            (&expr[..open], attr)
        } else {
            let dot = expr.rfind('.')?;
            (&expr[..dot], format!("'{}'", &expr[dot + 1..]))
        };
        let root_name: String = base
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if let Some(te) = self.inner_undefined(&root_name) {
            return Some(te);
        }
        // An unknown host in hostvars is named by its lookup alone.
        let message = if base.trim() == "hostvars" {
            format!("hostvars[{attr}]")
        } else {
            let ty = self.path_type(base).unwrap_or("dict");
            format!("object of type '{ty}' has no attribute {attr}")
        };
        Some(TemplateError::Undefined {
            name: expr.to_string(),
            message,
        })
    }

    fn root_value(self: &Arc<Self>) -> Value {
        Value::from_dyn_object(self.clone())
    }

    fn render_str(self: &Arc<Self>, s: &str) -> Result<Json, TemplateError> {
        if let Some(expr) = single_expression(s) {
            if self
                .inner
                .env
                .compile_expression(&literals::prepare(expr, true))
                .is_ok()
            {
                let v = self.render_native(s)?;
                return self.to_json(&v, s);
            }
        }
        Ok(Json::String(self.render_text(s)?))
    }

    fn render_text(self: &Arc<Self>, s: &str) -> Result<String, TemplateError> {
        let src = literals::prepare(s, false);
        let root = self.derive(false, IndexMap::new());
        let res = self.inner.env.render_str(&src, root.root_value());
        self.merge_from(&root);
        match res {
            Ok(out) => Ok(out),
            Err(e) if is_silent_undefined(&e, &root) => {
                let root = self.derive_with(false, true, IndexMap::new());
                self.inner
                    .env
                    .render_str(&src, root.root_value())
                    .map_err(|e| convert_error(e, s, &root))
            }
            Err(e) => Err(convert_error(e, s, &root)),
        }
    }

    fn render_native(self: &Arc<Self>, s: &str) -> Result<Value, TemplateError> {
        let root = self.derive(true, IndexMap::new());
        let src = literals::prepare(s, false);
        let tmpl = self
            .inner
            .env
            .template_from_str(&src)
            .map_err(|e| convert_error(e, s, &root))?;
        let res = tmpl.render_captured(root.root_value());
        self.merge_from(&root);
        let captured = match res {
            Ok(c) => c,
            Err(e) if is_silent_undefined(&e, &root) => return Ok(Value::from(())),
            Err(e) => return Err(convert_error(e, s, &root)),
        };
        Ok(captured
            .state()
            .get_temp(NATIVE_TEMP)
            .unwrap_or(Value::from(())))
    }

    /// Copy resolved values and errors discovered by a derived context.
    fn merge_from(&self, other: &LazyVars) {
        if let (Ok(mut mine), Ok(theirs)) = (self.cache.lock(), other.cache.lock()) {
            for (k, v) in theirs.iter() {
                mine.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if let (Ok(mut mine), Ok(theirs)) = (self.inner_errors.lock(), other.inner_errors.lock()) {
            for (k, v) in theirs.iter() {
                mine.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if let (Ok(mut mine), Ok(theirs)) = (self.missing.lock(), other.missing.lock()) {
            mine.extend(theirs.iter().cloned());
        }
    }

    fn eval_expr_value(self: &Arc<Self>, expr: &str) -> Result<Value, TemplateError> {
        let root = self.derive(false, IndexMap::new());
        let src = literals::prepare(expr, true);
        let compiled = self
            .inner
            .env
            .compile_expression(&src)
            .map_err(|e| convert_error(e, expr, &root))?;
        let res = compiled.eval(root.root_value());
        self.merge_from(&root);
        let v = res.map_err(|e| convert_error(e, expr, &root))?;
        if v.is_undefined() {
            if let Some(name) = root.last_missing() {
                return Err(root
                    .inner_undefined(&name)
                    .unwrap_or_else(|| TemplateError::undefined(&name)));
            }
            return Err(TemplateError::Undefined {
                name: expr.trim().to_string(),
                message: format!("'{}' is undefined", expr.trim()),
            });
        }
        Ok(v)
    }

    fn eval_condition(self: &Arc<Self>, cond: &str) -> Result<bool, TemplateError> {
        let trimmed = cond.trim();
        if trimmed.is_empty() {
            return Ok(true);
        }
        let v = if Templar::is_template(trimmed) {
            // Ansible tolerates (and warns about) embedded templates: render,
            // then evaluate a resulting string as an expression.
            match self.render_str(trimmed)? {
                Json::Bool(b) => return Ok(b),
                Json::String(s) => match s.trim() {
                    "True" | "true" => return Ok(true),
                    "False" | "false" => return Ok(false),
                    "" => return Ok(false),
                    other => self.eval_expr_value(other)?,
                },
                other => return Err(non_bool_conditional(&other)),
            }
        } else {
            self.eval_expr_value(trimmed)?
        };
        // Comparing an undefined variable is an error in Ansible, though
        // minijinja's chainable undefined just compares unequal. Unless the
        // condition guards with a test or filter made for undefined values,
        // a missing top-level name is reported.
        const GUARDS: &[&str] = &[
            "defined",
            "default",
            "d(",
            "omit",
            "none",
            "mandatory",
            "vars[",
        ];
        if !GUARDS.iter().any(|g| trimmed.contains(g)) {
            if let Some(name) = self.missing.lock().ok().and_then(|m| m.first().cloned()) {
                return Err(self
                    .inner_undefined(&name)
                    .filter(|_| name.starts_with(HINT_PREFIX))
                    .unwrap_or_else(|| TemplateError::undefined(&name)));
            }
        }
        match v.kind() {
            minijinja::value::ValueKind::Bool => Ok(v.is_true()),
            _ => {
                let j = self.to_json(&v, cond)?;
                Err(non_bool_conditional(&j))
            }
        }
    }

    /// Render every string (and key) of a JSON value in this context.
    fn render_json(self: &Arc<Self>, v: &Json) -> Result<Json, TemplateError> {
        Ok(match v {
            Json::String(s) if Templar::is_template(s) => self.render_str(s)?,
            Json::Array(a) => Json::Array(
                a.iter()
                    .map(|x| self.render_json(x))
                    .collect::<Result<_, _>>()?,
            ),
            Json::Object(o) => {
                let mut m = serde_json::Map::new();
                for (k, x) in o {
                    let key = if Templar::is_template(k) {
                        match self.render_str(k)? {
                            Json::String(s) => s,
                            other => pyrepr::json_str(&other),
                        }
                    } else {
                        k.clone()
                    };
                    m.insert(key, self.render_json(x)?);
                }
                Json::Object(m)
            }
            other => other.clone(),
        })
    }

    fn to_json(self: &Arc<Self>, v: &Value, src: &str) -> Result<Json, TemplateError> {
        // A native datetime result is stored as its ISO form; a timedelta
        // cannot be stored at all (ansible-core 2.19).
        match pydatetime::type_name(v) {
            Some("datetime") => {
                if let Some(dt) = v.downcast_object_ref::<pydatetime::DateTime>() {
                    return Ok(Json::String(dt.isoformat('T')));
                }
            }
            Some(t) => {
                return Err(TemplateError::Render(format!(
                    "Error rendering template: Type '{t}' is unsupported for variable storage."
                )))
            }
            None => {}
        }
        value_to_json(v).map_err(|e| convert_error(e, src, self))
    }

    /// Resolve one top-level variable, rendering it lazily.
    fn resolve(self: &Arc<Self>, name: &str) -> Option<Value> {
        if let Some(v) = self.overlay.get(name) {
            return Some(v.clone());
        }
        if let Ok(c) = self.cache.lock() {
            if let Some(v) = c.get(name) {
                return Some(v.clone());
            }
        }
        let raw = match self.vars.get(name) {
            Some(raw) => raw,
            None => return self.magic(name),
        };
        if !contains_template(raw) {
            let v = json_to_value(raw);
            if let Ok(mut c) = self.cache.lock() {
                c.insert(name.to_string(), v.clone());
            }
            return Some(v);
        }
        // Cycle detection.
        {
            let Ok(mut r) = self.resolving.lock() else {
                return None;
            };
            if r.iter().any(|n| n == name) {
                let te = TemplateError::Recursion(name.to_string());
                return Some(Value::from(te.into_mj()));
            }
            r.push(name.to_string());
        }
        let res = self.render_json(raw);
        if let Ok(mut r) = self.resolving.lock() {
            if let Some(pos) = r.iter().rposition(|n| n == name) {
                r.remove(pos);
            }
        }
        match res {
            Ok(j) => {
                let v = json_to_value(&j);
                if let Ok(mut c) = self.cache.lock() {
                    c.insert(name.to_string(), v.clone());
                }
                Some(v)
            }
            Err(te @ TemplateError::Undefined { .. }) => {
                // Behave like an undefined variable (so `default()` works) but
                // remember the real reason for the error message.
                if let Ok(mut m) = self.inner_errors.lock() {
                    m.insert(name.to_string(), te);
                }
                if let Ok(mut m) = self.missing.lock() {
                    m.push(name.to_string());
                }
                None
            }
            Err(te) => Some(Value::from(te.into_mj())),
        }
    }

    fn magic(self: &Arc<Self>, name: &str) -> Option<Value> {
        match name {
            "omit" => Some(Value::from(self.inner.shared.omit.clone())),
            CTX_VAR | "vars" => Some(self.root_value()),
            "hostvars" => self.hostvars.as_ref().map(|hv| {
                Value::from_object(HostVarsObj {
                    inner: self.inner.clone(),
                    hv: hv.clone(),
                    cache: Mutex::new(HashMap::new()),
                })
            }),
            _ => {
                if let Some(v) = self.hostvars.as_ref().and_then(|hv| hv.play_var(name)) {
                    return Some(v);
                }
                if let Ok(mut m) = self.missing.lock() {
                    m.push(name.to_string());
                }
                None
            }
        }
    }

    /// Render a template text with extra locals (for `lookup('template')`).
    pub(crate) fn render_text_with(
        self: &Arc<Self>,
        s: &str,
        overlay: IndexMap<String, Value>,
    ) -> Result<String, TemplateError> {
        let root = self.derive(false, overlay);
        let res = self
            .inner
            .env
            .render_str(&literals::prepare(s, false), root.root_value());
        res.map_err(|e| convert_error(e, s, &root))
    }

    /// A variable's fully rendered value as JSON (for `lookup('vars')`).
    pub(crate) fn var_json(self: &Arc<Self>, name: &str) -> Option<Result<Json, TemplateError>> {
        let v = self.resolve(name)?;
        Some(value_to_json(&v).map_err(|e| convert_error(e, name, self)))
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.inner.shared
    }
}

impl Object for LazyVars {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.resolve(key.as_str()?)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut keys: Vec<Value> = self.vars.keys().map(|k| Value::from(k.as_str())).collect();
        for k in self.overlay.keys() {
            if !self.vars.contains_key(k) {
                keys.push(Value::from(k.as_str()));
            }
        }
        Enumerator::Values(keys)
    }
}

/// The `hostvars` magic variable: host name → that host's lazy variables.
#[derive(Debug)]
struct HostVarsObj {
    inner: Arc<Inner>,
    hv: Arc<dyn HostVars>,
    cache: Mutex<HashMap<String, Value>>,
}

impl std::fmt::Debug for dyn HostVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<hostvars>")
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<templar>")
    }
}

impl Object for HostVarsObj {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let host = key.as_str()?;
        if let Ok(c) = self.cache.lock() {
            if let Some(v) = c.get(host) {
                return Some(v.clone());
            }
        }
        let vars = self.hv.host_vars(host)?;
        let ctx = Context {
            vars,
            hostvars: Some(self.hv.clone()),
        };
        let v = Value::from_dyn_object(LazyVars::new(self.inner.clone(), &ctx));
        if let Ok(mut c) = self.cache.lock() {
            c.insert(host.to_string(), v.clone());
        }
        Some(v)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.hv.host_names().into_iter().map(Value::from).collect())
    }
}

/// Convert a minijinja value to JSON; undefined values are an error.
pub(crate) fn value_to_json(v: &Value) -> Result<Json, Error> {
    if v.is_undefined() {
        return Err(undefined_error(v));
    }
    serde_json::to_value(v).map_err(|e| {
        Error::new(
            ErrorKind::BadSerialization,
            format!("cannot convert value: {e}"),
        )
    })
}

/// Convert JSON to a minijinja value.
/// A JSON value as a template value (for values shared across renders).
pub fn json_value(j: &Json) -> Value {
    json_to_value(j)
}

pub(crate) fn json_to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(a) => Value::from(a.iter().map(json_to_value).collect::<Vec<_>>()),
        Json::Object(o) => Value::from_object(
            o.iter()
                .map(|(k, v)| (Value::from(k.as_str()), json_to_value(v)))
                .collect::<IndexMap<Value, Value>>(),
        ),
    }
}
