//! `--junit FILE`: a JUnit XML report with one test case per task and host,
//! written when the run ends (CI systems show it as test results).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use super::{dump_json_line, human::clean, Event, Outcome, Sink};

struct Case {
    name: String,
    classname: String,
    secs: f64,
    outcome: Outcome,
    ignored: bool,
    message: String,
    detail: String,
}

#[derive(Default)]
struct State {
    play: String,
    task: String,
    path: String,
    started: Option<Instant>,
    cases: Vec<Case>,
}

pub struct Junit {
    path: PathBuf,
    suite: String,
    state: Mutex<State>,
}

impl Junit {
    pub fn new(path: PathBuf, suite: &str) -> Self {
        Junit {
            path,
            suite: suite.to_string(),
            state: Mutex::new(State::default()),
        }
    }

    /// The XML document for what was seen so far.
    fn render(&self, st: &State) -> String {
        let failures = st
            .cases
            .iter()
            .filter(|c| c.outcome == Outcome::Failed && !c.ignored)
            .count();
        let errors = st
            .cases
            .iter()
            .filter(|c| c.outcome == Outcome::Unreachable)
            .count();
        let skipped = st
            .cases
            .iter()
            .filter(|c| c.outcome == Outcome::Skipped)
            .count();
        let total: f64 = st.cases.iter().map(|c| c.secs).sum();
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites>\n");
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{total:.3}\">\n",
            esc(&self.suite),
            st.cases.len()
        ));
        for c in &st.cases {
            x.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\"",
                esc(&c.name),
                esc(&c.classname),
                c.secs
            ));
            let body = match (c.outcome, c.ignored) {
                (Outcome::Failed, false) => format!(
                    "      <failure message=\"{}\" type=\"failure\">{}</failure>\n",
                    esc(&c.message),
                    esc(&c.detail)
                ),
                (Outcome::Unreachable, _) => format!(
                    "      <error message=\"{}\" type=\"unreachable\">{}</error>\n",
                    esc(&c.message),
                    esc(&c.detail)
                ),
                (Outcome::Skipped, _) => {
                    format!("      <skipped message=\"{}\"/>\n", esc(&c.message))
                }
                _ => String::new(),
            };
            if body.is_empty() {
                x.push_str("/>\n");
            } else {
                x.push_str(">\n");
                x.push_str(&body);
                x.push_str("    </testcase>\n");
            }
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => o.push(c),
        }
    }
    o
}

impl Sink for Junit {
    fn event(&self, ev: &Event<'_>) {
        let Ok(mut st) = self.state.lock() else {
            return;
        };
        match ev {
            Event::PlayStart { name } => st.play = name.to_string(),
            Event::TaskStart { name, path, .. } => {
                st.task = name.to_string();
                st.path = path.map(str::to_string).unwrap_or_default();
                st.started = Some(Instant::now());
            }
            Event::Result(r) => {
                let secs = st.started.map(|t| t.elapsed().as_secs_f64()).unwrap_or(0.0);
                let message = r
                    .result
                    .get("msg")
                    .or_else(|| r.result.get("censored"))
                    .and_then(|m| m.as_str())
                    .unwrap_or_default()
                    .to_string();
                let case = Case {
                    name: format!("[{}] {}: {}", r.host, st.play, st.task),
                    classname: st.path.clone(),
                    secs,
                    outcome: r.outcome,
                    ignored: r.ignored,
                    message,
                    detail: dump_json_line(&clean(&r.result, 0)),
                };
                st.cases.push(case);
            }
            Event::Recap(_) => {
                let xml = self.render(&st);
                if let Err(e) = std::fs::write(&self.path, xml) {
                    eprintln!("[WARNING]: could not write {}: {e}", self.path.display());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::HostResult;
    use serde_json::json;

    #[test]
    fn a_case_per_task_and_host() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.xml");
        let j = Junit::new(f.clone(), "site.yml");
        j.event(&Event::PlayStart { name: "p" });
        j.event(&Event::TaskStart {
            name: "t <1>",
            handler: false,
            action: "fail",
            path: Some("site.yml:4"),
            hosts: 2,
        });
        for (h, o) in [("a", Outcome::Ok), ("b", Outcome::Failed)] {
            j.event(&Event::Result(&HostResult {
                host: h.into(),
                delegated_to: None,
                outcome: o,
                ignored: false,
                result: json!({"msg": "boom & co", "changed": false}),
                item_label: None,
                verbose_always: false,
                error: None,
                is_loop: false,
            }));
        }
        j.event(&Event::Recap(&indexmap::IndexMap::new()));
        let xml = std::fs::read_to_string(f).unwrap();
        assert!(
            xml.contains("tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"[a] p: t &lt;1&gt;\" classname=\"site.yml:4\""),
            "{xml}"
        );
        assert!(
            xml.contains("<failure message=\"boom &amp; co\" type=\"failure\">"),
            "{xml}"
        );
    }
}
