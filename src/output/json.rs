//! `--output json`: one JSON document at the end, in the shape of Ansible's
//! `json` callback (plays → tasks → per-host results, then stats). Results
//! arrive already censored for `no_log`.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::{dump_json, human::clean, iso_now, Event, Outcome, Sink};

#[derive(Default)]
struct Doc {
    plays: Vec<Value>,
}

pub struct Json<W: Write + Send> {
    out: Mutex<(W, Doc)>,
}

impl<W: Write + Send> Json<W> {
    pub fn new(out: W) -> Self {
        Json {
            out: Mutex::new((out, Doc::default())),
        }
    }

    pub fn into_inner(self) -> W {
        match self.out.into_inner() {
            Ok((w, _)) => w,
            Err(p) => p.into_inner().0,
        }
    }
}

fn last_obj(v: &mut [Value]) -> Option<&mut Map<String, Value>> {
    v.last_mut().and_then(Value::as_object_mut)
}

impl<W: Write + Send> Sink for Json<W> {
    fn event(&self, ev: &Event<'_>) {
        let Ok(mut g) = self.out.lock() else { return };
        let (w, doc) = &mut *g;
        match ev {
            Event::PlayStart { name } => doc.plays.push(json!({
                "play": {"name": name, "duration": {"start": iso_now()}},
                "tasks": [],
            })),
            Event::TaskStart {
                name, action, path, ..
            } => {
                if let Some(play) = last_obj(&mut doc.plays) {
                    if let Some(Value::Array(tasks)) = play.get_mut("tasks") {
                        let mut task = json!({"name": name, "action": action, "duration": {"start": iso_now()}});
                        if let Some(p) = path {
                            task["path"] = json!(p);
                        }
                        // Ansible's json callback: the previous task ends as the next starts.
                        close_last(tasks);
                        tasks.push(json!({"task": task, "hosts": {}}));
                    }
                }
            }
            Event::Result(r) => {
                if let Some(play) = last_obj(&mut doc.plays) {
                    if let Some(Value::Array(tasks)) = play.get_mut("tasks") {
                        if let Some(t) = last_obj(tasks) {
                            let mut res = clean(&r.result, 3);
                            if let Value::Object(m) = &mut res {
                                let action = t["task"]["action"].clone();
                                m.insert("action".into(), action);
                                match r.outcome {
                                    Outcome::Failed => {
                                        m.insert("failed".into(), Value::Bool(true));
                                    }
                                    Outcome::Skipped => {
                                        m.insert("skipped".into(), Value::Bool(true));
                                    }
                                    Outcome::Unreachable => {
                                        m.insert("unreachable".into(), Value::Bool(true));
                                    }
                                    _ => {}
                                }
                                if r.ignored {
                                    m.insert("ignored".into(), Value::Bool(true));
                                }
                            }
                            if let Some(Value::Object(hosts)) = t.get_mut("hosts") {
                                hosts.insert(r.host.clone(), res);
                            }
                        }
                    }
                }
            }
            Event::Recap(stats) => {
                for play in doc.plays.iter_mut() {
                    if let Some(Value::Array(tasks)) = play.get_mut("tasks") {
                        close_last(tasks);
                    }
                    if let Some(d) = play.pointer_mut("/play/duration") {
                        if d.get("end").is_none() {
                            d["end"] = json!(iso_now());
                        }
                    }
                }
                let mut st = Map::new();
                for (h, s) in stats.iter() {
                    st.insert(
                        h.clone(),
                        json!({"changed": s.changed, "failures": s.failed, "ignored": s.ignored,
                               "ok": s.ok, "rescued": s.rescued, "skipped": s.skipped,
                               "unreachable": s.unreachable}),
                    );
                }
                let out = json!({
                    "custom_stats": {},
                    "global_custom_stats": {},
                    "plays": std::mem::take(&mut doc.plays),
                    "stats": st,
                });
                let _ = writeln!(w, "{}", dump_json(&out));
                let _ = w.flush();
            }
            _ => {}
        }
    }
}

fn close_last(tasks: &mut [Value]) {
    if let Some(t) = tasks.last_mut() {
        if let Some(d) = t.pointer_mut("/task/duration") {
            if d.get("end").is_none() {
                d["end"] = json!(iso_now());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{HostResult, HostStats};

    #[test]
    fn one_document_with_plays_tasks_hosts_and_stats() {
        let j = Json::new(Vec::new());
        j.event(&Event::PlayStart { name: "p" });
        j.event(&Event::TaskStart {
            name: "t",
            handler: false,
            action: "command",
            path: Some("site.yml:3"),
            hosts: 1,
        });
        j.event(&Event::Result(&HostResult {
            host: "h1".into(),
            delegated_to: None,
            outcome: Outcome::Changed,
            ignored: false,
            result: json!({"changed": true, "rc": 0, "_ansible_no_log": false}),
            item_label: None,
            verbose_always: false,
            error: None,
            is_loop: false,
        }));
        let mut stats = indexmap::IndexMap::new();
        stats.insert(
            "h1".to_string(),
            HostStats {
                ok: 1,
                changed: 1,
                ..Default::default()
            },
        );
        j.event(&Event::Recap(&stats));
        let out: Value = serde_json::from_slice(&j.into_inner()).unwrap();
        assert_eq!(out["plays"][0]["play"]["name"], "p");
        assert_eq!(out["plays"][0]["tasks"][0]["task"]["name"], "t");
        assert_eq!(out["plays"][0]["tasks"][0]["task"]["path"], "site.yml:3");
        assert_eq!(out["plays"][0]["tasks"][0]["hosts"]["h1"]["rc"], 0);
        assert_eq!(
            out["plays"][0]["tasks"][0]["hosts"]["h1"]["action"],
            "command"
        );
        assert!(out["plays"][0]["tasks"][0]["hosts"]["h1"]
            .get("_ansible_no_log")
            .is_none());
        assert_eq!(out["stats"]["h1"]["changed"], 1);
        assert!(out["plays"][0]["tasks"][0]["task"]["duration"]["end"].is_string());
    }
}
