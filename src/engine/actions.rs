//! Running a task's action once: controller-side actions (debug, set_fact,
//! assert, fail, meta, include_vars, include_tasks, wait_for_connection,
//! gather_facts, template, pause) here, remote modules through `modules`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::state::watch_deprecated_vars;
use super::task::{ActionOut, Control, HostTask};
use super::{invocation, truthy, Engine};
use crate::connection::Connection;
use crate::modules::{ModuleCtx, ModuleId};
use crate::playbook::{short_action, Common, Vars};
use crate::template::Context;

fn failed(msg: impl Into<String>) -> ActionOut {
    ActionOut::ok(crate::modules::failed(msg))
}

/// Where an argument's value was written: its own position, or its `key=`
/// inside the free-form text that held it.
fn arg_origin(task: &crate::playbook::Task, key: &str) -> Option<crate::error::Span> {
    match task.arg_spans.get(key) {
        Some(span) => Some(span.clone()),
        None => task
            .arg_spans
            .get("_raw_params")
            .map(|text| crate::playbook::within_free_form(text, key)),
    }
}

/// Ansible warns once per task that takes its arguments from a template
/// (the same text, origin included, is not repeated for other hosts).
fn warn_args_template_once(span: &crate::error::Span) {
    static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let key = span.to_string();
    let first = SEEN
        .lock()
        .map(|mut seen| {
            if seen.contains(&key) {
                false
            } else {
                seen.push(key);
                true
            }
        })
        .unwrap_or(true);
    if first {
        crate::output::warn(&format!(
            "Using a template for task args is unsafe in some situations \
             (see https://docs.ansible.com/ansible/devel/reference_appendices/faq.html#argsplat-unsafe).\n{}",
            crate::output::origin(span)
        ));
    }
}

impl Engine {
    pub async fn run_action(self: &Arc<Self>, ht: &HostTask<'_>, ctx: &Context) -> ActionOut {
        let Some(secs) = ht.timeout else {
            return self.run_action_untimed(ht, ctx).await;
        };
        let run = self.run_action_untimed(ht, ctx);
        match tokio::time::timeout(Duration::from_secs(secs), run).await {
            Ok(out) => out,
            // Ansible 2.19's wording and result. Dropping the action drops its
            // command's frame: the host shell is then replaced, not reused.
            Err(_) => {
                let task = &ht.next.task;
                let head = format!("Timed out after {secs} second(s)");
                let mut out = failed_with_block(
                    task,
                    format!("Task failed: {head}."),
                    super::task::failure_block(task, &head, ""),
                );
                out.result.insert(
                    "timedout".into(),
                    serde_json::json!({
                        "frame": "Configure `DISPLAY_TRACEBACK` to see a traceback on timeout errors.",
                        "period": secs,
                    }),
                );
                out
            }
        }
    }

    async fn run_action_untimed(self: &Arc<Self>, ht: &HostTask<'_>, ctx: &Context) -> ActionOut {
        let task = &ht.next.task;
        let short = short_action(&task.action);
        // assert's `that` holds expressions, not templates: keep it raw.
        let mut raw = task.args.clone();
        let that = if short == "assert" {
            raw.shift_remove("that")
        } else {
            None
        };
        // Each argument is rendered on its own so an error can name it, as
        // ansible-core 2.19 does ("Error while resolving value for 'msg'").
        let omit = self.templar.omit_token();
        // Templates that render to arguments come first; the written
        // arguments override them.
        let mut args = Vars::new();
        for layer in &task.arg_layers {
            match self.render_layer(task, layer, ctx) {
                Ok(m) => args.extend(m),
                Err(out) => return *out,
            }
        }
        for (k, v) in raw {
            let span = arg_origin(task, &k);
            match watch_deprecated_vars(span.as_ref(), || self.templar.render_value(&v, ctx)) {
                Ok(x) if x.as_str() == Some(omit) => {
                    args.shift_remove(&k);
                }
                Ok(x) => {
                    args.insert(k, x);
                }
                Err(e) => return self.args_failure(task, &k, &e.to_string()),
            }
        }
        // A controller action checks what the templates brought (a remote
        // module checks its own arguments when it runs).
        if !task.arg_layers.is_empty() {
            if let Some(spec) = crate::playbook::controller_spec(&task.action) {
                if let Err(mut r) = crate::modules::spec::check_args(spec, &task.action, &args) {
                    // The action fails before it starts: no `changed`, and
                    // no "Action failed" in the heading.
                    r.shift_remove("changed");
                    let msg = r.get("msg").and_then(Value::as_str).unwrap_or_default();
                    let block = format!(
                        "[ERROR]: Task failed: {msg}\n{}\n",
                        crate::output::origin(&task.span)
                    );
                    r.insert("_ansible_error_block".into(), Value::String(block));
                    return ActionOut::ok(r);
                }
            }
        }
        match short {
            // `var` is rendered by the action itself.
            "debug" => watch_deprecated_vars(arg_origin(task, "var").as_ref(), || {
                self.debug(ht, &args, ctx)
            }),
            "set_fact" => self.set_fact(ht.host, &args),
            "assert" => self.assert(that, &args, ctx),
            "fail" => {
                let msg = args
                    .get("msg")
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => crate::output::python_repr(other, true),
                    })
                    .unwrap_or_else(|| "Failed as requested from task".into());
                failed(msg)
            }
            "meta" => self.meta(ht, &args).await,
            "include_vars" => self.include_vars(ht, &args),
            "include_tasks" => self.include_tasks(ht, &args, ctx),
            "include_role" => self.include_role(ht, &args, ctx),
            "import_tasks" | "import_playbook" | "import_role" => failed(format!(
                "{short} must be static (it was not expanded at parse time)"
            )),
            "wait_for_connection" => self.wait_for_connection(ht, &args).await,
            "setup" | "gather_facts" => {
                let mut out = self.setup(ht).await;
                // The setup module reports its invocation; the gather_facts
                // action, which runs it, does not.
                if short == "setup" && !out.unreachable {
                    let a = args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    out.result
                        .insert("invocation".into(), invocation::setup_invocation(&a));
                }
                out
            }
            "pause" => {
                let secs = args
                    .get("seconds")
                    .and_then(|v| {
                        v.as_f64()
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    })
                    .unwrap_or(0.0)
                    + args
                        .get("minutes")
                        .and_then(|v| {
                            v.as_f64()
                                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                        })
                        .unwrap_or(0.0)
                        * 60.0;
                tokio::time::sleep(Duration::from_secs_f64(secs.max(0.0))).await;
                let mut r = Map::new();
                r.insert("changed".into(), Value::Bool(false));
                r.insert("delta".into(), Value::from(secs as i64));
                ActionOut::ok(r)
            }
            "template" => self.template(ht, &args, ctx).await,
            _ => self.remote_module(ht, &args).await,
        }
    }

    /// Render one `args:` template (or free-form template) to its mapping,
    /// `omit` values left out; else the failure as ansible-core 2.19 reports it.
    fn render_layer(
        &self,
        task: &crate::playbook::Task,
        layer: &crate::playbook::ArgLayer,
        ctx: &Context,
    ) -> Result<Vars, Box<ActionOut>> {
        warn_args_template_once(&layer.span);
        let omit = self.templar.omit_token();
        let rendered = self
            .templar
            .render_value(&Value::String(layer.template.clone()), ctx)
            .map_err(|e| Box::new(self.layer_failure(task, layer, &e.to_string())))?;
        match rendered {
            // A template that is all `omit` gives no arguments.
            Value::String(s) if s == omit => Ok(Vars::new()),
            Value::Object(m) => Ok(m
                .into_iter()
                .filter(|(_, v)| v.as_str() != Some(omit))
                .collect()),
            other => Err(Box::new(self.layer_failure(
                task,
                layer,
                &format!(
                    "Task args must resolve to a 'dict' not '{}'.",
                    crate::modules::spec::type_name(&other)
                ),
            ))),
        }
    }

    /// Ansible's three-part block: the task, the action whose arguments
    /// were being finalized, the template.
    fn layer_failure(
        &self,
        task: &crate::playbook::Task,
        layer: &crate::playbook::ArgLayer,
        err: &str,
    ) -> ActionOut {
        let outer = format!(
            "Finalization of task args for '{}' failed",
            crate::playbook::resolved_fqcn(&task.action)
        );
        let block = format!(
            "[ERROR]: Task failed: {outer}: {err}\n\nTask failed.\n{}\n<<< caused by >>>\n\n\
             {outer}.\n{}\n<<< caused by >>>\n\n{err}\n{}\n",
            crate::output::origin(&task.span),
            crate::output::origin(&task.action_span),
            crate::output::origin(&layer.span),
        );
        failed_with_block(task, format!("Task failed: {outer}: {err}"), block)
    }

    /// A failure while templating the task's arguments, worded and located
    /// as ansible-core 2.19 reports it.
    fn args_failure(&self, task: &crate::playbook::Task, key: &str, err: &str) -> ActionOut {
        let outer = format!("Finalization of task args for '{}' failed", task.fqcn());
        let inner = format!("Error while resolving value for '{key}': {err}");
        // Free-form `k=v` text has one origin: where the text starts.
        let span = task
            .arg_spans
            .get(key)
            .or_else(|| task.arg_spans.get("_raw_params"));
        let block = super::task::caused_block(Some(&outer), &inner, task, span);
        failed_with_block(task, format!("Task failed: {outer}: {inner}"), block)
    }

    /// The connection this task uses: the host's, or a local one for
    /// `delegate_to: localhost`, or the delegated host's.
    async fn task_connection(
        self: &Arc<Self>,
        ht: &HostTask<'_>,
    ) -> Result<Arc<Connection>, String> {
        match &ht.delegate_to {
            Some(d) if d == ht.host => self.connection(ht.pctx, ht.host).await,
            Some(d) if self.inventory.hosts.contains_key(d) => self.connection(ht.pctx, d).await,
            Some(d) if crate::inventory::LOCALHOST_NAMES.contains(&d.as_str()) => Ok(Arc::new(
                Connection::Local(crate::connection::local::LocalConnection::new()),
            )),
            Some(d) => Err(format!("delegate_to: '{d}' is not in the inventory")),
            None => self.connection(ht.pctx, ht.host).await,
        }
    }

    async fn remote_module(self: &Arc<Self>, ht: &HostTask<'_>, args: &Vars) -> ActionOut {
        let task = &ht.next.task;
        let Some(module) = ModuleId::lookup(&task.action) else {
            return failed(format!("couldn't resolve module/action '{}'", task.action));
        };
        self.run_module(ht, module, args, None).await
    }

    /// Run a remote module on the task's connection; a transport failure
    /// drops the connection so the next task reconnects. The result reports
    /// the module's invocation (`original` names a templated source).
    async fn run_module(
        self: &Arc<Self>,
        ht: &HostTask<'_>,
        module: ModuleId,
        args: &Vars,
        original: Option<&str>,
    ) -> ActionOut {
        let conn = match self.task_connection(ht).await {
            Ok(c) => c,
            Err(msg) => return unreachable(msg),
        };
        let mctx = ModuleCtx {
            conn: &conn,
            check_mode: ht.check,
            diff: ht.diff,
            env: ht.env.clone(),
            search_paths: self.search_paths(ht),
        };
        match module.run(&mctx, args).await {
            Ok(mut r) => {
                if !r.contains_key("invocation") {
                    let a: Map<String, Value> =
                        args.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                    let inv = match module {
                        ModuleId::Copy => Some(invocation::copy_invocation(&a, &r, original)),
                        _ => invocation::invocation(module, &a),
                    };
                    if let Some(inv) = inv {
                        r.insert("invocation".into(), inv);
                    }
                }
                ActionOut::ok(r)
            }
            Err(e) => {
                drop(conn);
                self.drop_connection(ht.host).await;
                unreachable(e.to_string())
            }
        }
    }

    fn debug(&self, ht: &HostTask<'_>, args: &Vars, ctx: &Context) -> ActionOut {
        let verbosity = args
            .get("verbosity")
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0);
        let mut r = Map::new();
        if verbosity > u64::from(self.opts.verbosity) {
            r.insert("changed".into(), Value::Bool(false));
            r.insert("skipped".into(), Value::Bool(true));
            r.insert(
                "skipped_reason".into(),
                Value::String("Verbosity threshold not met.".into()),
            );
            return ActionOut::ok(r);
        }
        if let Some(var) = args.get("var") {
            let name = match var {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let expr = if crate::template::Templar::is_template(&name) {
                name.clone()
            } else {
                format!("{{{{ {name} }}}}")
            };
            let value = match self.templar.render_str(&expr, ctx) {
                Ok(v) => v,
                // ansible-core 2.19's rendering of an error in `var`, and
                // its warning, where the failing template was written.
                Err(e) => {
                    let shadowed = |n: &str| self.shadows_playbook_vars(ht.host, n);
                    let task = &ht.next.task;
                    let origin =
                        super::task::template_error_origin(&name, ht.next, ht.pctx, &shadowed)
                            .or_else(|| arg_origin(task, "var"))
                            .unwrap_or_else(|| task.span.clone());
                    crate::output::warn_once(&format!(
                        "Encountered 1 template error.\nerror 1 - {e}\n{}",
                        crate::output::origin(&origin)
                    ));
                    Value::String(format!("<< error 1 - {e} >>"))
                }
            };
            r.insert(name, value);
        } else {
            let msg = args
                .get("msg")
                .cloned()
                .unwrap_or_else(|| Value::String("Hello world!".into()));
            r.insert("msg".into(), msg);
        }
        r.insert("changed".into(), Value::Bool(false));
        let mut out = ActionOut::ok(r);
        out.verbose_always = true;
        out
    }

    fn set_fact(&self, host: &str, args: &Vars) -> ActionOut {
        let mut facts = Map::new();
        for (k, v) in args {
            if k == "cacheable" {
                continue;
            }
            if k == "_raw_params" {
                return failed("set_fact takes key=value pairs, not free-form text");
            }
            facts.insert(k.clone(), v.clone());
        }
        if facts.is_empty() {
            return failed(
                "No key/value pairs provided, at least one is required for this action to succeed",
            );
        }
        self.hosts.slot(host).with(|s| {
            for (k, v) in &facts {
                s.set_facts.insert(k.clone(), v.clone());
            }
        });
        let mut r = Map::new();
        r.insert("ansible_facts".into(), Value::Object(facts));
        r.insert("changed".into(), Value::Bool(false));
        ActionOut::ok(r)
    }

    fn assert(&self, that: Option<Value>, args: &Vars, ctx: &Context) -> ActionOut {
        let conds: Vec<Value> = match that {
            Some(Value::Array(a)) => a,
            Some(v) => vec![v],
            None => return failed("conditional required in \"that\" string"),
        };
        let quiet = args.get("quiet").map(truthy).unwrap_or(false);
        for c in &conds {
            let ok = match self.templar.eval_condition(c, ctx) {
                Ok(b) => b,
                Err(e) => {
                    return failed(format!(
                        "The conditional check '{}' failed. The error was: {e}",
                        c.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| c.to_string())
                    ))
                }
            };
            if !ok {
                let mut r = Map::new();
                r.insert("assertion".into(), c.clone());
                r.insert("changed".into(), Value::Bool(false));
                r.insert("evaluated_to".into(), Value::Bool(false));
                r.insert("failed".into(), Value::Bool(true));
                let msg = args
                    .get("fail_msg")
                    .or_else(|| args.get("msg"))
                    .cloned()
                    .unwrap_or_else(|| Value::String("Assertion failed".into()));
                r.insert("msg".into(), msg);
                let mut out = ActionOut::ok(r);
                out.verbose_always = !quiet;
                return out;
            }
        }
        let mut r = Map::new();
        r.insert("changed".into(), Value::Bool(false));
        r.insert(
            "msg".into(),
            args.get("success_msg")
                .cloned()
                .unwrap_or_else(|| Value::String("All assertions passed".into())),
        );
        let mut out = ActionOut::ok(r);
        out.verbose_always = !quiet;
        out
    }

    async fn meta(self: &Arc<Self>, ht: &HostTask<'_>, args: &Vars) -> ActionOut {
        let what = args
            .get("_raw_params")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string();
        let mut r = Map::new();
        r.insert("changed".into(), Value::Bool(false));
        let mut out_control = None;
        match what.as_str() {
            "flush_handlers" => out_control = Some(Control::FlushHandlers),
            "end_play" => out_control = Some(Control::EndPlay),
            "end_host" => {
                out_control = Some(Control::EndHost);
                r.insert(
                    "msg".into(),
                    Value::String(format!("ending play for {}", ht.host)),
                );
            }
            "end_batch" => out_control = Some(Control::EndBatch),
            // These act on every host of the play, as Ansible runs them once
            // for all (see `meta_runs_once`).
            "clear_facts" => {
                for h in &ht.pctx.play_hosts {
                    self.hosts.slot(h).with(|s| s.facts.clear());
                }
            }
            "clear_host_errors" => {
                for h in &ht.pctx.play_hosts {
                    self.hosts.slot(h).with(|s| {
                        s.failed = false;
                        s.unreachable = false;
                    });
                }
            }
            "reset_connection" => self.drop_connection(ht.host).await,
            "noop" | "refresh_inventory" => {}
            other => return failed(format!("invalid meta action requested: {other}")),
        }
        // meta tasks print nothing in Ansible's default output.
        r.insert("_ansible_verbose_override".into(), Value::Bool(true));
        r.insert("skipped".into(), Value::Bool(what != "end_host"));
        let mut out = ActionOut::ok(r);
        out.control = out_control;
        out
    }

    fn include_vars(&self, ht: &HostTask<'_>, args: &Vars) -> ActionOut {
        let file = args
            .get("file")
            .or_else(|| args.get("_raw_params"))
            .and_then(Value::as_str);
        let dir = args.get("dir").and_then(Value::as_str);
        let base = task_dir(&ht.next.task);
        let role_dir = ht.next.task.role.as_ref().map(|r| r.path.clone());
        let resolve = |name: &str| -> std::path::PathBuf {
            let p = std::path::Path::new(name);
            if p.is_absolute() {
                return p.to_path_buf();
            }
            if let Some(d) = &role_dir {
                if d.join("vars").join(name).exists() {
                    return d.join("vars").join(name);
                }
            }
            for cand in [
                base.join("vars").join(name),
                base.join(name),
                ht.pctx.dir.join("vars").join(name),
                ht.pctx.dir.join(name),
            ] {
                if cand.exists() {
                    return cand;
                }
            }
            base.join(name)
        };
        let mut files = Vec::new();
        if let Some(f) = file {
            files.push(resolve(f));
        } else if let Some(d) = dir {
            let d = resolve(d);
            let mut entries: Vec<_> = std::fs::read_dir(&d)
                .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            entries.retain(|p| {
                matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yml" | "yaml" | "json")
                )
            });
            entries.sort();
            files = entries;
        } else {
            return failed("include_vars needs a file or dir");
        }
        let mut vars = Map::new();
        for f in &files {
            match crate::yaml::parse_file(f) {
                Ok(Some(n)) => match n.to_json() {
                    Value::Object(m) => vars.extend(m),
                    _ => {
                        return failed(format!(
                            "{} must be stored as a dictionary/hash",
                            f.display()
                        ))
                    }
                },
                Ok(None) => {}
                Err(e) => return failed(e.to_string()),
            }
        }
        let facts = match args.get("name").and_then(Value::as_str) {
            Some(name) => {
                let mut m = Map::new();
                m.insert(name.to_string(), Value::Object(vars));
                m
            }
            None => vars,
        };
        self.hosts.slot(ht.host).with(|s| {
            for (k, v) in &facts {
                s.include_vars.insert(k.clone(), v.clone());
            }
        });
        let mut r = Map::new();
        r.insert("ansible_facts".into(), Value::Object(facts));
        r.insert(
            "ansible_included_var_files".into(),
            Value::Array(
                files
                    .iter()
                    .map(|f| Value::String(f.display().to_string()))
                    .collect(),
            ),
        );
        r.insert("changed".into(), Value::Bool(false));
        ActionOut::ok(r)
    }

    fn include_tasks(&self, ht: &HostTask<'_>, args: &Vars, ctx: &Context) -> ActionOut {
        let task = &ht.next.task;
        let Some(name) = args
            .get("file")
            .or_else(|| args.get("_raw_params"))
            .and_then(Value::as_str)
        else {
            return failed("No file specified for include_tasks");
        };
        let mut path = task_dir(task).join(name);
        if let Ok(p) = path.canonicalize() {
            path = p;
        }
        if !path.exists() {
            let alt = ht.pctx.dir.join(name);
            if alt.exists() {
                path = alt;
            }
        }
        let nodes = match self.tasks_file(&path, ht) {
            Ok(n) => n,
            Err(e) => return failed(e),
        };
        let scope = include_scope(task, ctx);
        let mut r = Map::new();
        r.insert("changed".into(), Value::Bool(false));
        r.insert("include".into(), Value::String(path.display().to_string()));
        let mut out = ActionOut::ok(r);
        out.include = Some((nodes, scope, task.span.clone()));
        out
    }

    /// Parse a tasks file once per run; its tasks belong to the including
    /// task's role.
    fn tasks_file(
        &self,
        path: &std::path::Path,
        ht: &HostTask<'_>,
    ) -> Result<Arc<Vec<crate::playbook::TaskNode>>, String> {
        let role = ht.next.task.role.clone();
        let key = (
            path.to_path_buf(),
            role.as_ref().map_or(0, |r| Arc::as_ptr(r) as usize),
        );
        if let Ok(c) = self.tasks_cache.lock() {
            if let Some(n) = c.get(&key) {
                return Ok(n.clone());
            }
        }
        let nodes = Arc::new(
            crate::playbook::parse_tasks_file(path, &ht.pctx.role_search, role)
                .map_err(|e| e.to_string())?,
        );
        // Another host may have parsed it meanwhile: keep the first, so
        // hosts share the same task objects (the linear strategy runs
        // hosts together only on the same task).
        match self.tasks_cache.lock() {
            Ok(mut c) => Ok(c.entry(key).or_insert(nodes).clone()),
            Err(_) => Ok(nodes),
        }
    }

    /// A role not found fails the hosts (Ansible's `reason`), its error
    /// shown once; any other load error ends the run.
    fn role_load_failure(&self, e: crate::error::Error) -> ActionOut {
        let rendered = e.to_string();
        let (message, not_found) = match e {
            crate::error::Error::LoadAt { message, .. } => {
                let nf = message.starts_with("the role '");
                (message, nf)
            }
            other => (other.to_string(), false),
        };
        if !not_found {
            if let Ok(mut f) = self.fatal.lock() {
                f.get_or_insert(crate::error::Error::Parse(message.clone()));
            }
            return failed(message);
        }
        crate::output::error_once(&rendered);
        let mut r = Map::new();
        r.insert("changed".into(), Value::Bool(false));
        r.insert("failed".into(), Value::Bool(true));
        r.insert("reason".into(), Value::String(message));
        // The error was shown already: no `Task failed` block.
        r.insert("_ansible_error_block".into(), Value::String(String::new()));
        ActionOut::ok(r)
    }

    /// `include_role`: load the role now and run its tasks next, with the
    /// task's `vars:` as their scope.
    fn include_role(&self, ht: &HostTask<'_>, args: &Vars, ctx: &Context) -> ActionOut {
        let task = &ht.next.task;
        let arg = |k: &str, d: &'static str| -> String {
            args.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| d.to_string())
        };
        let Some(name) = args.get("name").and_then(Value::as_str) else {
            return failed("'name' is a required field for include_role.");
        };
        let (tasks, vars, defaults, handlers) = (
            arg("tasks_from", "main"),
            arg("vars_from", "main"),
            arg("defaults_from", "main"),
            arg("handlers_from", "main"),
        );
        let froms = crate::playbook::Froms {
            tasks: &tasks,
            vars: &vars,
            defaults: &defaults,
            handlers: &handlers,
        };
        // One load per task and files read, shared by the hosts (the
        // linear strategy runs hosts together on the same task objects).
        let key = format!(
            "{}\0{name}\0{tasks}\0{vars}\0{defaults}\0{handlers}",
            task.span
        );
        let cached = self
            .roles_cache
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned());
        let (role, nodes) = match cached {
            Some(x) => x,
            None => {
                let search = &ht.pctx.role_search;
                let span = arg_origin(task, "name").unwrap_or_else(|| task.span.clone());
                match crate::playbook::include_role(name, &froms, &span, search) {
                    Ok((role, nodes)) => {
                        let x = (role, Arc::new(nodes));
                        match self.roles_cache.lock() {
                            Ok(mut c) => c.entry(key).or_insert(x).clone(),
                            Err(_) => x,
                        }
                    }
                    Err(e) => return self.role_load_failure(e),
                }
            }
        };
        if args.get("public").is_some_and(truthy) {
            if let Ok(mut p) = ht.pctx.public_roles.lock() {
                if !p.iter().any(|x| Arc::ptr_eq(x, &role)) {
                    p.push(role.clone());
                }
            }
        }
        let scope = include_scope(task, ctx);
        let mut r = Map::new();
        r.insert("changed".into(), Value::Bool(false));
        r.insert("include".into(), Value::String(role.name.clone()));
        r.insert(
            "include_args".into(),
            Value::Object(args.clone().into_iter().collect()),
        );
        let mut out = ActionOut::ok(r);
        out.include = Some((nodes, scope, task.span.clone()));
        out
    }

    async fn wait_for_connection(self: &Arc<Self>, ht: &HostTask<'_>, args: &Vars) -> ActionOut {
        let num = |k: &str, d: f64| {
            args.get(k)
                .and_then(|v| {
                    v.as_f64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                })
                .unwrap_or(d)
        };
        let timeout = Duration::from_secs_f64(num("timeout", 600.0).max(0.0));
        let delay = Duration::from_secs_f64(num("delay", 0.0).max(0.0));
        let sleep = Duration::from_secs_f64(num("sleep", 1.0).max(0.05));
        let start = Instant::now();
        tokio::time::sleep(delay).await;
        let mut last_err = String::new();
        loop {
            self.drop_connection(ht.host).await;
            match self.connection(ht.pctx, ht.host).await {
                Ok(conn) => {
                    if let Ok(o) = conn
                        .exec(&crate::connection::ExecRequest::new("true"))
                        .await
                    {
                        if o.rc == 0 {
                            let mut r = Map::new();
                            r.insert("changed".into(), Value::Bool(false));
                            r.insert("elapsed".into(), Value::from(start.elapsed().as_secs()));
                            return ActionOut::ok(r);
                        }
                    }
                }
                Err(e) => last_err = e,
            }
            if start.elapsed() >= timeout {
                let mut r = crate::modules::failed(format!(
                    "timed out waiting for ping module test: {last_err}"
                ));
                r.insert("elapsed".into(), Value::from(start.elapsed().as_secs()));
                return ActionOut::ok(r);
            }
            tokio::time::sleep(sleep).await;
        }
    }

    async fn setup(self: &Arc<Self>, ht: &HostTask<'_>) -> ActionOut {
        let conn = match self.task_connection(ht).await {
            Ok(c) => c,
            Err(msg) => return unreachable(msg),
        };
        match super::facts::gather(&conn).await {
            Ok(f) => {
                self.hosts.slot(ht.host).with(|s| s.facts.extend(f.clone()));
                let mut r = Map::new();
                r.insert("ansible_facts".into(), Value::Object(f));
                r.insert("changed".into(), Value::Bool(false));
                ActionOut::ok(r)
            }
            Err(e) => unreachable(e.to_string()),
        }
    }

    /// `template`: render on the control machine, then write like `copy`.
    async fn template(
        self: &Arc<Self>,
        ht: &HostTask<'_>,
        args: &Vars,
        ctx: &Context,
    ) -> ActionOut {
        let Some(src) = args.get("src").and_then(Value::as_str) else {
            return failed("src is required");
        };
        let base = task_dir(&ht.next.task);
        // A role's own templates/ come first.
        let role_dir = ht.next.task.role.as_ref().map(|r| r.path.clone());
        let role_candidates = role_dir
            .iter()
            .flat_map(|d| [d.join("templates").join(src), d.join(src)]);
        let candidates: Vec<std::path::PathBuf> = role_candidates
            .chain([
                base.join("templates").join(src),
                base.join(src),
                ht.pctx.dir.join("templates").join(src),
                ht.pctx.dir.join(src),
            ])
            .collect();
        let Some(path) = candidates.iter().find(|p| p.is_file()) else {
            return failed(format!("Could not find or access '{src}'"));
        };
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return failed(format!("Could not read '{}': {e}", path.display())),
        };
        let mut vars = (*ctx.vars).clone();
        vars.insert(
            "template_path".into(),
            Value::String(path.display().to_string()),
        );
        vars.insert("template_host".into(), Value::String(hostname()));
        vars.insert(
            "template_uid".into(),
            Value::String(super::vars::local_user()),
        );
        vars.insert(
            "ansible_managed".into(),
            Value::String("Ansible managed".into()),
        );
        let tctx = Context {
            vars: Arc::new(vars),
            hostvars: ctx.hostvars.clone(),
        };
        // Includes are looked for in the role's templates/, then beside
        // the template, as Ansible's template action searches.
        let dirs: Vec<std::path::PathBuf> = role_dir
            .iter()
            .map(|d| d.join("templates"))
            .chain(path.parent().map(std::path::Path::to_path_buf))
            .collect();
        let rendered = match self.templar.render_file_text(&text, &tctx, &dirs) {
            Ok(t) => t,
            Err(e) => {
                return failed(format!(
                    "AnsibleError: template error while templating '{}': {e}",
                    path.display()
                ))
            }
        };
        // The template-only options stay here; copy gets the rest.
        let template_only = |k: &str| {
            k == "src"
                || crate::playbook::TEMPLATE_PARAMS
                    .iter()
                    .any(|p| p.name == k && k != "follow")
        };
        let mut copy_args: Vars = args
            .iter()
            .filter(|(k, _)| !template_only(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        copy_args.insert("content".into(), Value::String(rendered));
        let Some(copy) = ModuleId::lookup("copy") else {
            return failed("the template action needs the copy module, which this build lacks");
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        self.run_module(ht, copy, &copy_args, name.as_deref()).await
    }
}

impl Engine {
    /// Where a task's relative `src` files are looked for: beside the file the
    /// task was written in, then the playbook's directory (each also `files/`).
    fn search_paths(&self, ht: &HostTask<'_>) -> Vec<std::path::PathBuf> {
        let mut v = Vec::new();
        // A role's task looks in the role first (its `files/`).
        if let Some(r) = &ht.next.task.role {
            v.push(r.path.clone());
        }
        if let Some(d) = ht.next.task.file.parent() {
            v.push(d.to_path_buf());
        }
        if !v.contains(&ht.pctx.dir) {
            v.push(ht.pctx.dir.clone());
        }
        v
    }
}

fn unreachable(msg: String) -> ActionOut {
    let mut r = Map::new();
    r.insert("changed".into(), Value::Bool(false));
    r.insert("msg".into(), Value::String(msg));
    r.insert("unreachable".into(), Value::Bool(true));
    ActionOut {
        result: r,
        unreachable: true,
        include: None,
        control: None,
        verbose_always: false,
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".to_string())
}

/// A failed result carrying Ansible's `[ERROR]: Task failed:` block.
fn failed_with_block(task: &crate::playbook::Task, msg: String, block: String) -> ActionOut {
    let mut r = Map::new();
    if !crate::playbook::is_controller_action(&task.action) {
        r.insert("changed".into(), Value::Bool(false));
    }
    r.insert("failed".into(), Value::Bool(true));
    r.insert("msg".into(), Value::String(msg));
    r.insert("_ansible_error_block".into(), Value::String(block));
    ActionOut::ok(r)
}

/// What an include's tasks inherit: the include's own `vars:` (its
/// arguments were checked at parse time) and, when looped, its loop
/// variables.
fn include_scope(task: &crate::playbook::Task, ctx: &Context) -> Common {
    let mut scope = Common {
        vars: task.common.vars.clone(),
        ..Default::default()
    };
    let lc = &task.loop_control;
    let lv = lc.loop_var.clone().unwrap_or_else(|| "item".to_string());
    if task.loop_.is_some() {
        if let Some(v) = ctx.vars.get(&lv) {
            scope.vars.insert(lv, v.clone());
        }
        if let Some(iv) = &lc.index_var {
            if let Some(v) = ctx.vars.get(iv) {
                scope.vars.insert(iv.clone(), v.clone());
            }
        }
    }
    scope
}

/// The directory of the file a task was written in (relative paths of
/// `include_vars`, `include_tasks` and `template` start there).
fn task_dir(task: &crate::playbook::Task) -> std::path::PathBuf {
    task.file
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_default()
}
