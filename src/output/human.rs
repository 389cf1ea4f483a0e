//! The default human output, as ansible-playbook's `default` callback prints it:
//! banners, per-host status lines, `-v` result JSON and the PLAY RECAP table.

use std::io::Write;
use std::sync::Mutex;

use serde_json::Value;

use super::{dump_json, dump_json_line, Event, HostResult, HostStats, Outcome, Sink};

/// Writes to any `Write` (stdout in the CLI, a buffer in tests).
pub struct Human<W: Write + Send> {
    out: Mutex<W>,
    verbosity: u8,
    /// On a terminal: a bar of hosts done for the running task.
    progress: Option<Mutex<Option<indicatif::ProgressBar>>>,
    /// Error blocks already shown: Ansible's Display prints an identical
    /// error only once per run.
    shown_errors: Mutex<std::collections::HashSet<String>>,
}

impl<W: Write + Send> Human<W> {
    pub fn new(out: W, verbosity: u8) -> Self {
        Human {
            out: Mutex::new(out),
            verbosity,
            progress: None,
            shown_errors: Mutex::new(Default::default()),
        }
    }

    /// Show a progress bar on stderr while tasks run (only when both stdout
    /// and stderr are terminals, so logs and pipes never see it).
    pub fn with_progress(mut self) -> Self {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() && std::io::stderr().is_terminal() {
            self.progress = Some(Mutex::new(None));
        }
        self
    }

    fn bar_start(&self, name: &str, hosts: usize) {
        let Some(slot) = &self.progress else { return };
        let Ok(mut g) = slot.lock() else { return };
        if let Some(old) = g.take() {
            old.finish_and_clear();
        }
        if hosts < 2 {
            return;
        }
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(hosts as u64),
            indicatif::ProgressDrawTarget::stderr_with_hz(4),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "  {msg} [{bar:30}] {pos}/{len} hosts {elapsed}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(name.to_string());
        *g = Some(bar);
    }

    fn bar_inc(&self) {
        if let Some(slot) = &self.progress {
            if let Ok(g) = slot.lock() {
                if let Some(b) = g.as_ref() {
                    b.inc(1);
                }
            }
        }
    }

    pub fn into_inner(self) -> W {
        match self.out.into_inner() {
            Ok(w) => w,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn write(&self, text: &str) {
        let put = || {
            if let Ok(mut w) = self.out.lock() {
                let _ = w.write_all(text.as_bytes());
                let _ = w.flush();
            }
        };
        // Lines are printed with the bar hidden, so they never mix.
        if let Some(Ok(g)) = self.progress.as_ref().map(|p| p.lock()) {
            if let Some(b) = g.as_ref() {
                b.suspend(put);
                return;
            }
        }
        put();
    }

    /// Ansible's `_dump_results`: internal keys dropped; indented when the
    /// result is always verbose or at -vvv and above, one line otherwise.
    fn dump(&self, r: &HostResult) -> String {
        let v = clean(&r.result, self.verbosity);
        if r.verbose_always || self.verbosity > 2 {
            dump_json(&v)
        } else {
            dump_json_line(&v)
        }
    }

    fn host_label(r: &HostResult) -> String {
        match &r.delegated_to {
            Some(d) if d != &r.host => format!("{} -> {}", r.host, d),
            _ => r.host.clone(),
        }
    }

    fn result_line(&self, r: &HostResult, item: bool) -> String {
        let diff = render_diff(&r.result);
        let host = Self::host_label(r);
        let show = r.verbose_always || self.verbosity > 0;
        let item_part = r
            .item_label
            .as_ref()
            .map(|l| format!(" => (item={l})"))
            .unwrap_or_default();
        let label = r.item_label.clone().unwrap_or_default();
        let mut line = match r.outcome {
            Outcome::Ok | Outcome::Changed => {
                let word = if r.outcome == Outcome::Changed {
                    "changed"
                } else {
                    "ok"
                };
                let mut s = format!("{word}: [{host}]{item_part}");
                if show && r.result.get("_ansible_verbose_override").is_none() {
                    s.push_str(&format!(" => {}", self.dump(r)));
                }
                s
            }
            Outcome::Skipped => {
                let mut s = format!("skipping: [{host}]{item_part}");
                if item {
                    s.push(' ');
                }
                if show {
                    s.push_str(&format!(" => {}", self.dump(r)));
                }
                s
            }
            Outcome::Failed if item => {
                format!("failed: [{host}] (item={label}) => {}", self.dump(r))
            }
            Outcome::Failed => format!("fatal: [{host}]: FAILED! => {}", self.dump(r)),
            Outcome::Unreachable if item => {
                format!("unreachable: [{host}] (item={label}) => {}", self.dump(r))
            }
            Outcome::Unreachable => format!("fatal: [{host}]: UNREACHABLE! => {}", self.dump(r)),
        };
        line.push('\n');
        if r.outcome == Outcome::Failed && r.ignored && !item {
            line.push_str("...ignoring\n");
        }
        let error = match (&r.outcome, &r.error) {
            (Outcome::Failed, Some(e)) => {
                let first = self
                    .shown_errors
                    .lock()
                    .map(|mut seen| seen.insert(e.clone()))
                    .unwrap_or(true);
                if first {
                    e.clone()
                } else {
                    String::new()
                }
            }
            _ => String::new(),
        };
        diff + &error + &line
    }
}

/// Drop what Ansible's callbacks never print: internal keys, `failed` and
/// `skipped` (the status line says them), `exception`, and below -vvv
/// `invocation` and `diff`.
pub fn clean(v: &Value, verbosity: u8) -> Value {
    let Value::Object(m) = v else {
        return v.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, val) in m {
        if k.starts_with("_ansible_") || matches!(k.as_str(), "exception" | "failed" | "skipped") {
            continue;
        }
        if (k == "invocation" || k == "diff") && verbosity < 3 {
            continue;
        }
        if let ("results", Value::Array(items)) = (k.as_str(), val) {
            out.insert(
                k.clone(),
                Value::Array(items.iter().map(|i| clean(i, verbosity)).collect()),
            );
            continue;
        }
        out.insert(k.clone(), val.clone());
    }
    Value::Object(out)
}

/// Ansible's `_get_diff`: a unified diff (3 lines of context) for each
/// before/after pair in a result's `diff`, printed before the status line.
pub fn render_diff(result: &Value) -> String {
    if !result
        .get("changed")
        .is_some_and(|c| c == &Value::Bool(true))
    {
        return String::new();
    }
    let diffs: Vec<&Value> = match result.get("diff") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(d @ Value::Object(_)) => vec![d],
        _ => return String::new(),
    };
    let mut out = String::new();
    for d in diffs {
        if d.get("dst_binary").is_some() {
            out.push_str("diff skipped: destination file appears to be binary\n");
        }
        if let (Some(b), Some(a)) = (d.get("before"), d.get("after")) {
            let text = |v: &Value| match v {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => format!("{}\n", dump_json(other)),
            };
            let (before, after) = (text(b), text(a));
            let header = |k: &str, word: &str| match d.get(k).and_then(Value::as_str) {
                Some(h) => format!("{word}: {h}"),
                None => word.to_string(),
            };
            let udiff = similar::TextDiff::from_lines(&before, &after)
                .unified_diff()
                .context_radius(3)
                .header(
                    &header("before_header", "before"),
                    &header("after_header", "after"),
                )
                .to_string();
            if !udiff.is_empty() {
                out.push_str(&udiff);
                out.push('\n');
            }
        }
        if let Some(Value::String(p)) = d.get("prepared") {
            out.push_str(p);
        }
    }
    out
}

/// `msg` then stars to column 79, after a blank line.
pub fn banner(msg: &str) -> String {
    let msg = msg.trim();
    let width = msg.chars().count();
    let stars = 79usize.saturating_sub(width).max(3);
    format!("\n{msg} {}\n", "*".repeat(stars))
}

/// One recap row: host padded to 26, then `name=N` each padded to 4 digits.
pub fn recap_row(host: &str, st: &HostStats) -> String {
    let fields = [
        ("ok", st.ok),
        ("changed", st.changed),
        ("unreachable", st.unreachable),
        ("failed", st.failed),
        ("skipped", st.skipped),
        ("rescued", st.rescued),
        ("ignored", st.ignored),
    ];
    let cols: Vec<String> = fields
        .iter()
        .map(|(lead, n)| format!("{lead}={n:<4}"))
        .collect();
    format!("{host:<26} : {}\n", cols.join(" "))
}

impl<W: Write + Send> Sink for Human<W> {
    fn event(&self, ev: &Event<'_>) {
        match ev {
            Event::PlaybookStart { path, plays } => {
                if self.verbosity > 1 {
                    let base = std::path::Path::new(path)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    self.write(&banner(&format!("PLAYBOOK: {base}")));
                    self.write(&format!("{plays} plays in {path}\n"));
                }
            }
            Event::PlayStart { name } => self.write(&banner(&format!("PLAY [{name}]"))),
            Event::TaskStart {
                name,
                handler,
                hosts,
                path,
                ..
            } => {
                let kind = if *handler { "RUNNING HANDLER" } else { "TASK" };
                self.bar_start("", 0);
                self.write(&banner(&format!("{kind} [{name}]")));
                if self.verbosity >= 2 {
                    if let Some(p) = path {
                        self.write(&format!("task path: {p}\n"));
                    }
                }
                self.bar_start(name, *hosts);
            }
            Event::Include { file, hosts, item } => {
                let item = item.map(|i| format!(" => (item={i})")).unwrap_or_default();
                self.write(&format!(
                    "included: {file} for {}{item}\n",
                    hosts.join(", ")
                ))
            }
            Event::Result(r) => {
                self.bar_inc();
                // Loop tasks were shown item by item; Ansible adds no summary
                // line, except `skipping` for a loop over nothing.
                if r.is_loop && r.outcome != Outcome::Unreachable {
                    // A skipped loop still gets its own `skipping:` line
                    // (v2_runner_on_skipped prints after the items), its
                    // `results` dropped; ok and failed loops print none.
                    if r.outcome == Outcome::Skipped {
                        let mut s = format!("skipping: [{}]", Self::host_label(r));
                        if r.verbose_always || self.verbosity > 0 {
                            let mut shown = (*r).clone();
                            if let Value::Object(m) = &mut shown.result {
                                m.remove("results");
                            }
                            s.push_str(&format!(" => {}", self.dump(&shown)));
                        }
                        s.push('\n');
                        self.write(&s);
                    }
                    if r.outcome == Outcome::Failed && r.ignored {
                        self.write("...ignoring\n");
                    }
                    return;
                }
                self.write(&self.result_line(r, false))
            }
            Event::ItemResult(r) => self.write(&self.result_line(r, true)),
            Event::Retry {
                host,
                task,
                retries_left,
                result,
            } => {
                let mut s =
                    format!("FAILED - RETRYING: [{host}]: {task} ({retries_left} retries left).");
                if self.verbosity > 0 {
                    s.push_str(&format!(
                        "Result was: {}",
                        dump_json_line(&clean(result, self.verbosity))
                    ));
                }
                s.push('\n');
                self.write(&s);
            }
            Event::Warning(msg) => {
                let _ = writeln!(std::io::stderr().lock(), "[WARNING]: {msg}");
            }
            Event::NoHostsMatched => self.write("skipping: no hosts matched\n"),
            Event::NoHostsRemaining => self.write(&banner("NO MORE HOSTS LEFT")),
            Event::Recap(stats) => {
                self.bar_start("", 0);
                let mut s = banner("PLAY RECAP");
                for (host, st) in stats.iter() {
                    s.push_str(&recap_row(host, st));
                }
                s.push('\n');
                self.write(&s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hr(outcome: Outcome, result: Value) -> HostResult {
        HostResult {
            host: "web1".into(),
            delegated_to: None,
            outcome,
            ignored: false,
            result,
            item_label: None,
            verbose_always: false,
            error: None,
            is_loop: false,
        }
    }

    #[test]
    fn banners_are_79_wide() {
        let b = banner("TASK [x]");
        assert_eq!(b, format!("\nTASK [x] {}\n", "*".repeat(71)));
    }

    #[test]
    fn lines_like_the_default_callback() {
        let h = Human::new(Vec::new(), 0);
        h.event(&Event::Result(&hr(
            Outcome::Changed,
            json!({"changed": true, "rc": 0}),
        )));
        let mut f = hr(
            Outcome::Failed,
            json!({"changed": false, "msg": "boom", "_ansible_no_log": false}),
        );
        f.ignored = true;
        h.event(&Event::Result(&f));
        let mut i = hr(Outcome::Ok, json!({"item": "a"}));
        i.item_label = Some("a".into());
        h.event(&Event::ItemResult(&i));
        let mut d = hr(Outcome::Ok, json!({"msg": "hello", "changed": false}));
        d.verbose_always = true;
        h.event(&Event::Result(&d));
        let out = String::from_utf8(h.into_inner()).unwrap();
        assert_eq!(
            out,
            "changed: [web1]\nfatal: [web1]: FAILED! => {\"changed\": false, \"msg\": \"boom\"}\n...ignoring\n\
             ok: [web1] => (item=a)\nok: [web1] => {\n    \"changed\": false,\n    \"msg\": \"hello\"\n}\n"
        );
    }

    #[test]
    fn diffs_like_difflib() {
        let r = json!({"changed": true, "diff": [{"before": "a\nb\n", "after": "a\nc\n", "before_header": "/f", "after_header": "/f"}]});
        assert_eq!(
            render_diff(&r),
            "--- before: /f\n+++ after: /f\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\n"
        );
        assert_eq!(
            render_diff(&json!({"changed": false, "diff": {"before": "a", "after": "b"}})),
            ""
        );
    }

    #[test]
    fn recap_columns() {
        let st = HostStats {
            ok: 2,
            changed: 1,
            ..Default::default()
        };
        assert_eq!(
            recap_row("web1", &st),
            "web1                       : ok=2    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   \n"
        );
    }
}
