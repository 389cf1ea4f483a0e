//! One task on one host: conditionals, loops, retries, `changed_when` /
//! `failed_when`, `register`, `no_log` and the result the strategy gets back.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::cursor::Next;
use super::state::watch_deprecated_vars;
use super::{truthy, Engine, PlayCtx};
use crate::error::Span;
use crate::output::{Event, HostResult, Outcome};
use crate::playbook::{Block, Common, Task, TaskNode};
use crate::template::{conditional_message, Context, HostVars, TemplateError};

/// Engine-level effects a task can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    EndHost,
    EndBatch,
    EndPlay,
    FlushHandlers,
}

/// How a task ended on one host.
#[derive(Clone, Debug)]
pub struct TaskEnd {
    pub outcome: Outcome,
    pub ignored: bool,
    pub changed: bool,
    /// The full (uncensored) result.
    pub result: Value,
    /// What `register:` stored.
    pub registered: Value,
    pub include: Option<(Arc<Vec<TaskNode>>, Common, Span)>,
    pub control: Option<Control>,
    /// Not counted in the recap: a run_once result copied to the other hosts,
    /// or a meta task's result (Ansible's `_execute_meta` bypasses the stats).
    pub uncounted: bool,
}

impl TaskEnd {
    pub fn simple(outcome: Outcome, result: Value) -> TaskEnd {
        TaskEnd {
            outcome,
            ignored: false,
            changed: outcome == Outcome::Changed,
            registered: result.clone(),
            result,
            include: None,
            control: None,
            uncounted: false,
        }
    }
}

/// What running an action once produced.
pub struct ActionOut {
    pub result: Map<String, Value>,
    pub unreachable: bool,
    pub include: Option<(Arc<Vec<TaskNode>>, Common, Span)>,
    pub control: Option<Control>,
    /// Show the result at verbosity 0 (debug, assert).
    pub verbose_always: bool,
}

impl ActionOut {
    pub fn ok(result: Map<String, Value>) -> ActionOut {
        ActionOut {
            result,
            unreachable: false,
            include: None,
            control: None,
            verbose_always: false,
        }
    }
}

/// A keyword's value as the innermost of play → blocks → task sets it.
pub fn inherited<T>(
    parents: &[Arc<Block>],
    task: &Task,
    f: impl Fn(&Common) -> Option<T>,
) -> Option<T> {
    let mut out = None;
    for b in parents {
        if let Some(x) = f(&b.common) {
            out = Some(x);
        }
    }
    if let Some(x) = f(&task.common) {
        out = Some(x);
    }
    out
}

/// What a task needs while it runs on one host.
pub struct HostTask<'a> {
    pub pctx: &'a Arc<PlayCtx>,
    pub host: &'a str,
    pub next: &'a Next,
    pub check: bool,
    pub diff: bool,
    pub env: Vec<(String, String)>,
    pub delegate_to: Option<String>,
    /// The `timeout:` keyword in seconds (each action, so each loop item).
    pub timeout: Option<u64>,
}

const NO_LOG_MSG: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

impl Engine {
    pub async fn exec_task(
        self: &Arc<Self>,
        pctx: &Arc<PlayCtx>,
        host: &str,
        next: &Next,
    ) -> TaskEnd {
        let task = &next.task;
        let vars = self.task_vars(pctx, host, &next.parents, Some(task));
        let ctx = Context {
            vars: Arc::new(vars),
            hostvars: Some(self.hostvars.clone() as Arc<dyn HostVars>),
        };
        // A keyword's value from task, blocks or play, templated; `unset`
        // when nobody set it, `on_error` when it does not render.
        let flag = |f: fn(&Common) -> Option<Value>, unset: bool, on_error: bool| -> bool {
            let play_default = f(&pctx.common);
            match inherited(&next.parents, task, f).or(play_default) {
                None => unset,
                Some(v) => self
                    .templar
                    .render_value(&v, &ctx)
                    .map(|v| truthy(&v))
                    .unwrap_or(on_error),
            }
        };
        // no_log fails closed: a no_log that does not render still hides.
        let no_log = flag(|c| c.no_log.clone(), false, true);
        let ignore_errors = flag(|c| c.ignore_errors.clone(), false, false);
        let ignore_unreachable = flag(|c| c.ignore_unreachable.clone(), false, false);
        let check = flag(|c| c.check_mode.clone(), self.opts.check, self.opts.check);
        let diff = flag(|c| c.diff.clone(), self.opts.diff, self.opts.diff);

        // Block-level conditions, then the task's own (per item for loops, as
        // Ansible evaluates `when` inside the loop).
        let (mut when, own) = merged_when(next);
        if task.loop_.is_none() {
            when.conds.extend(own.conds);
            when.spans.extend(own.spans);
        }
        match self.eval_when(&when.conds, &when.spans, &ctx, next, pctx, host) {
            Ok(None) => {}
            Ok(Some(false_cond)) => return self.finish_skipped(host, task, false_cond, no_log),
            Err(f) => return self.finish_failed(host, task, f, no_log, ignore_errors),
        }

        let env = match self.environment(pctx, next, &ctx) {
            Ok(e) => e,
            Err(msg) => {
                return self.finish_failed(
                    host,
                    task,
                    Failure::simple(task, msg),
                    no_log,
                    ignore_errors,
                )
            }
        };
        let delegate_to = match inherited(&next.parents, task, |c| c.delegate_to.clone()) {
            None => None,
            Some(v) => match self.templar.render_value(&v, &ctx) {
                Ok(Value::String(s)) => Some(s),
                Ok(Value::Null) => None,
                Ok(other) => Some(other.to_string()),
                Err(e) => {
                    return self.finish_failed(
                        host,
                        task,
                        Failure::simple(task, e.to_string()),
                        no_log,
                        ignore_errors,
                    )
                }
            },
        };
        let timeout = inherited(&next.parents, task, |c| c.timeout.clone())
            .or_else(|| pctx.common.timeout.clone())
            .and_then(|v| self.templar.render_value(&v, &ctx).ok())
            .and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .filter(|&t| t > 0);
        let ht = HostTask {
            pctx,
            host,
            next,
            check,
            diff,
            env,
            delegate_to,
            timeout,
        };

        let (result, unreachable, include, control, verbose_always) = match &task.loop_ {
            None => {
                let out = self.run_with_retries(&ht, &ctx).await;
                (
                    out.result,
                    out.unreachable,
                    out.include,
                    out.control,
                    out.verbose_always,
                )
            }
            Some(spec) => {
                let items = match self.loop_items(task, &ctx) {
                    Ok(items) => items,
                    Err(LoopError::Undefined(e)) => {
                        // Ansible keeps an undefined loop's error until the
                        // task's own `when` (without `item`) has passed.
                        let (_, own) = merged_when(next);
                        let f = match self.eval_when(&own.conds, &own.spans, &ctx, next, pctx, host)
                        {
                            Ok(Some(c)) => return self.finish_skipped(host, task, c, no_log),
                            Err(f) => f,
                            Ok(None) => Failure {
                                msg: format!("Task failed: {e}"),
                                block: caused_block(None, &e, task, Some(&spec.span)),
                                keep_changed: false,
                            },
                        };
                        return self.finish_failed(host, task, f, no_log, ignore_errors);
                    }
                    Err(LoopError::Failed(f)) => {
                        return self.finish_failed(host, task, f, no_log, ignore_errors)
                    }
                };
                let (r, unreachable, include) = self.run_loop(&ht, &ctx, items, no_log).await;
                (r, unreachable, include, None, false)
            }
        };

        let mut result = result;
        let failed = result.get("failed").map(truthy).unwrap_or(false);
        let changed = result.get("changed").map(truthy).unwrap_or(false);
        let skipped = result.get("skipped").map(truthy).unwrap_or(false);
        let outcome = if unreachable {
            Outcome::Unreachable
        } else if failed {
            Outcome::Failed
        } else if skipped {
            Outcome::Skipped
        } else if changed {
            Outcome::Changed
        } else {
            Outcome::Ok
        };
        if unreachable && ignore_unreachable {
            result.insert("skipped".into(), Value::Bool(true));
        }
        let error_block = (outcome == Outcome::Failed && task.loop_.is_none())
            .then(|| self.module_failure_block(task, &result, no_log));
        if error_block.is_some() {
            mark_exception(&mut result);
        }
        let registered = if task.loop_.is_some() {
            loop_registered_value(&result)
        } else {
            registered_value(&result)
        };
        if let Some(name) = &task.register {
            let reg = registered.clone();
            self.hosts.slot(host).with(|s| {
                s.set_facts.insert(name.clone(), reg);
            });
        }
        // Facts a module or action returned become host facts (set_fact and
        // include_vars are stored by their actions).
        if let Some(Value::Object(f)) = result.get("ansible_facts") {
            let short = crate::playbook::short_action(&task.action);
            if !matches!(short, "set_fact" | "include_vars" | "debug") {
                let f = f.clone();
                self.hosts.slot(host).with(|s| s.facts.extend(f));
            }
        }
        if outcome == Outcome::Changed {
            self.notify(host, next);
        }
        let shown = if no_log {
            censor(&result)
        } else {
            Value::Object(result.clone())
        };
        // A loop's items were shown already; its summary (shown only when
        // skipped) is cleaned like any result, `results` kept for sinks.
        // Ansible cleans a failed loop's summary before looking for its
        // `results`; debug's cleaning keeps only `msg`, so a failed debug
        // loop gets a `fatal:` line of its own.
        let summary_line = task.loop_.is_some()
            && outcome == Outcome::Failed
            && crate::playbook::short_action(&task.action) == "debug"
            && shown.get("msg").is_some();
        let shown = match (task.loop_.is_some() && !summary_line, shown) {
            (true, Value::Object(mut m)) => {
                let results = m.shift_remove("results");
                let mut v = display_form(&task.action, Value::Object(m));
                if let (Value::Object(m), Some(res)) = (&mut v, results) {
                    m.insert("results".into(), res);
                }
                v
            }
            (_, shown) => display_form(&task.action, shown),
        };
        let hr = HostResult {
            host: host.to_string(),
            delegated_to: ht.delegate_to.clone(),
            outcome,
            ignored: (outcome == Outcome::Failed && ignore_errors)
                || (outcome == Outcome::Unreachable && ignore_unreachable),
            result: shown,
            item_label: None,
            verbose_always: verbose_always && !no_log,
            error: error_block,
            is_loop: task.loop_.is_some() && !summary_line,
        };
        // Includes announce themselves instead of a status line; meta tasks
        // print nothing and are not counted, as in Ansible.
        let is_meta = is_meta(task);
        // A run-ending error is reported by itself, not as a host result.
        let fatal = self.fatal.lock().is_ok_and(|f| f.is_some());
        if ((include.is_none() && !is_meta) || outcome == Outcome::Failed) && !fatal {
            self.emit(&Event::Result(&hr));
        }
        TaskEnd {
            outcome,
            ignored: hr.ignored,
            changed,
            result: Value::Object(result),
            registered,
            include,
            control,
            uncounted: is_meta && outcome != Outcome::Failed,
        }
    }

    /// Is `name` set for `host` in a layer above the playbook's `vars:`
    /// that keeps no source positions (extra vars, facts, include_vars)?
    pub(super) fn shadows_playbook_vars(&self, host: &str, name: &str) -> bool {
        self.opts.extra_vars.contains_key(name)
            || self
                .hosts
                .slot(host)
                .with(|s| s.set_facts.contains_key(name) || s.include_vars.contains_key(name))
    }

    /// `None` when every condition holds, else the one that was false.
    /// `spans` gives where each condition was written, when known.
    fn eval_when(
        &self,
        conds: &[Value],
        spans: &[Option<Span>],
        ctx: &Context,
        next: &Next,
        pctx: &PlayCtx,
        host: &str,
    ) -> Result<Option<Value>, Failure> {
        let task = &next.task;
        for (i, c) in conds.iter().enumerate() {
            let span = spans.get(i).and_then(Option::as_ref);
            let truth = watch_deprecated_vars(span, || {
                self.warn_templated_condition(c, span, ctx);
                self.templar.eval_condition(c, ctx)
            });
            match truth {
                Ok(true) => {}
                Ok(false) => return Ok(Some(c.clone())),
                // A non-boolean result names where the value came from.
                Err(TemplateError::Conditional { truth, type_name }) => {
                    let shadowed = |name: &str| self.shadows_playbook_vars(host, name);
                    let origin = conditional_origin(c, span, next, pctx, &shadowed);
                    let inner = conditional_message(truth, &type_name, &origin);
                    let mut block = caused_block(None, &inner, task, span);
                    block.push_str(BROKEN_CONDITIONAL_HELP);
                    block.push_str("\n\n");
                    return Err(Failure {
                        msg: format!("Task failed: {inner}"),
                        block,
                        keep_changed: false,
                    });
                }
                Err(e) => {
                    let inner = match &e {
                        // An expression that does not parse is named so.
                        TemplateError::Syntax { message, .. } => {
                            format!("Syntax error in expression: {message}")
                        }
                        e => format!("Error while evaluating conditional: {e}"),
                    };
                    return Err(Failure {
                        msg: format!("Task failed: {inner}"),
                        block: caused_block(None, &inner, task, span),
                        keep_changed: false,
                    });
                }
            }
        }
        Ok(None)
    }

    fn finish_skipped(&self, host: &str, task: &Task, cond: Value, no_log: bool) -> TaskEnd {
        let r = skipped_result(&cond);
        self.finish_early(host, task, r, Outcome::Skipped, None, no_log, false)
    }

    fn finish_failed(
        &self,
        host: &str,
        task: &Task,
        failure: Failure,
        no_log: bool,
        ignore_errors: bool,
    ) -> TaskEnd {
        let mut r = Map::new();
        if failure.keep_changed {
            r.insert("changed".into(), Value::Bool(false));
        }
        r.insert("failed".into(), Value::Bool(true));
        r.insert("msg".into(), Value::String(failure.msg));
        let block = if no_log {
            failure_block(task, "Action failed", NO_LOG_MSG)
        } else {
            failure.block
        };
        self.finish_early(
            host,
            task,
            r,
            Outcome::Failed,
            Some(block),
            no_log,
            ignore_errors,
        )
    }

    /// A task that ended before its action ran: register, show, report.
    #[allow(clippy::too_many_arguments)]
    fn finish_early(
        &self,
        host: &str,
        task: &Task,
        r: Map<String, Value>,
        outcome: Outcome,
        error: Option<String>,
        no_log: bool,
        ignored: bool,
    ) -> TaskEnd {
        let mut r = r;
        if error.as_deref().is_some_and(|e| !e.is_empty()) {
            mark_exception(&mut r);
        }
        // A skipped task is registered as Ansible returns it: no `failed` key.
        let registered = if outcome == Outcome::Skipped {
            Value::Object(r.clone())
        } else {
            registered_value(&r)
        };
        if let Some(name) = &task.register {
            let reg = registered.clone();
            self.hosts.slot(host).with(|s| {
                s.set_facts.insert(name.clone(), reg);
            });
        }
        let shown = if no_log {
            censor(&r)
        } else {
            Value::Object(r.clone())
        };
        self.emit(&Event::Result(&HostResult {
            host: host.to_string(),
            delegated_to: None,
            outcome,
            ignored,
            result: shown,
            item_label: None,
            verbose_always: false,
            error,
            is_loop: false,
        }));
        TaskEnd {
            outcome,
            ignored,
            changed: false,
            result: Value::Object(r),
            registered,
            include: None,
            control: None,
            // A meta task skipped by `when` is shown but not counted either.
            uncounted: outcome == Outcome::Skipped && is_meta(task),
        }
    }

    /// `environment:` merged play → blocks → task, rendered to strings.
    fn environment(
        &self,
        pctx: &PlayCtx,
        next: &Next,
        ctx: &Context,
    ) -> Result<Vec<(String, String)>, String> {
        let mut layers: Vec<&Value> = Vec::new();
        if let Some(e) = &pctx.common.environment {
            layers.push(e);
        }
        for b in &next.parents {
            if let Some(e) = &b.common.environment {
                layers.push(e);
            }
        }
        if let Some(e) = &next.task.common.environment {
            layers.push(e);
        }
        let mut env: indexmap::IndexMap<String, String> = indexmap::IndexMap::new();
        for layer in layers {
            let rendered = self
                .templar
                .render_value(layer, ctx)
                .map_err(|e| format!("cannot template environment: {e}"))?;
            let items: Vec<Value> = match rendered {
                Value::Array(a) => a,
                other => vec![other],
            };
            for item in items {
                match item {
                    Value::Object(m) => {
                        for (k, v) in m {
                            let s = match v {
                                Value::String(s) => s,
                                Value::Bool(b) => if b { "True" } else { "False" }.to_string(),
                                other => other.to_string(),
                            };
                            env.insert(k, s);
                        }
                    }
                    Value::Null => {}
                    other => {
                        return Err(format!(
                            "environment must be a dictionary, got {}",
                            crate::output::python_repr(&other, true)
                        ))
                    }
                }
            }
        }
        Ok(env.into_iter().collect())
    }

    /// One action, repeated per `until`/`retries`/`delay`, with
    /// `changed_when`/`failed_when` applied to each attempt.
    async fn run_with_retries(self: &Arc<Self>, ht: &HostTask<'_>, ctx: &Context) -> ActionOut {
        let task = &ht.next.task;
        let Some(until) = &task.until else {
            let mut out = self.run_action(ht, ctx).await;
            if !out.unreachable {
                self.apply_conditions(task, ctx, &mut out.result);
            }
            return out;
        };
        let retries = match &task.retries {
            None => 3,
            Some(v) => match self.templar.render_value(v, ctx) {
                Ok(Value::Number(n)) => n.as_i64().unwrap_or(3),
                Ok(Value::String(s)) => s.trim().parse().unwrap_or(3),
                _ => 3,
            },
        };
        let attempts = if retries <= 0 { 1 } else { retries + 1 };
        let delay = match &task.delay {
            None => 5.0,
            Some(v) => match self.templar.render_value(v, ctx) {
                Ok(Value::Number(n)) => n.as_f64().unwrap_or(5.0),
                Ok(Value::String(s)) => s.trim().parse().unwrap_or(5.0),
                _ => 5.0,
            },
        };
        let mut attempt = 1;
        loop {
            let mut out = self.run_action(ht, ctx).await;
            if out.unreachable {
                return out;
            }
            self.apply_conditions(task, ctx, &mut out.result);
            let bound = bind_register(ctx, task, &out.result);
            let done = self
                .templar
                .eval_condition(&Value::Array(until.clone()), &bound)
                .unwrap_or(false);
            out.result.insert("attempts".into(), Value::from(attempt));
            if done {
                return out;
            }
            if attempt >= attempts {
                // Ansible reports one attempt fewer once they are used up.
                out.result
                    .insert("attempts".into(), Value::from(attempts.saturating_sub(1)));
                out.result.insert("failed".into(), Value::Bool(true));
                return out;
            }
            self.emit(&Event::Retry {
                host: ht.host,
                task: &task.display_name(),
                retries_left: attempts - attempt,
                result: &Value::Object(out.result.clone()),
            });
            tokio::time::sleep(Duration::from_secs_f64(delay.max(0.0))).await;
            attempt += 1;
        }
    }

    /// `changed_when` then `failed_when`, with the registered name bound to
    /// the result being judged.
    fn apply_conditions(&self, task: &Task, ctx: &Context, r: &mut Map<String, Value>) {
        if let Some(conds) = &task.changed_when {
            match self.judge(task, ctx, r, conds, &task.changed_when_spans) {
                Ok(c) => {
                    r.insert("changed".into(), Value::Bool(c));
                }
                Err(msg) => {
                    r.insert("failed".into(), Value::Bool(true));
                    r.insert("msg".into(), Value::String(msg));
                    return;
                }
            }
        }
        if let Some(conds) = &task.failed_when {
            match self.judge(task, ctx, r, conds, &task.failed_when_spans) {
                Ok(f) => {
                    r.insert("failed".into(), Value::Bool(f));
                    r.insert("failed_when_result".into(), Value::Bool(f));
                }
                Err(msg) => {
                    r.insert("failed".into(), Value::Bool(true));
                    r.insert("msg".into(), Value::String(msg));
                }
            }
        }
    }

    /// Evaluate `changed_when`/`failed_when` conditions against a result.
    fn judge(
        &self,
        task: &Task,
        ctx: &Context,
        r: &Map<String, Value>,
        conds: &[Value],
        spans: &[Span],
    ) -> Result<bool, String> {
        let bound = bind_register(ctx, task, r);
        // One at a time, in order, stopping at the first false one (as the
        // list form does), so each can warn about its own form.
        for (i, c) in conds.iter().enumerate() {
            let truth = watch_deprecated_vars(spans.get(i), || {
                self.warn_templated_condition(c, spans.get(i), &bound);
                self.templar.eval_condition(c, &bound)
            });
            match truth {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => {
                    let text: Vec<String> = conds.iter().map(cond_text).collect();
                    return Err(format!(
                        "The conditional check '{}' failed. The error was: {e}",
                        text.join(" and ")
                    ));
                }
            }
        }
        Ok(true)
    }

    /// Ansible 2.19 deprecates a condition that is one template (`when:
    /// "{{ x }}"`) when it renders to something other than a string (a
    /// string would be evaluated as an expression). The render is repeated
    /// by the evaluation; only this deprecated form pays for it.
    fn warn_templated_condition(&self, cond: &Value, span: Option<&Span>, ctx: &Context) {
        let (Value::String(text), Some(span)) = (cond, span) else {
            return;
        };
        let text = text.trim();
        if !crate::modules::spec::is_all_template(text) {
            return;
        }
        if matches!(self.templar.render_str(text, ctx), Ok(v) if !v.is_string()) {
            crate::output::deprecated(CONDITIONAL_AS_TEMPLATE, span, None);
        }
    }

    /// A looped task: one action per item, each shown as it ends, then the
    /// aggregate result Ansible registers (`results`, `msg`, `changed`).
    async fn run_loop(
        self: &Arc<Self>,
        ht: &HostTask<'_>,
        ctx: &Context,
        items: Vec<Value>,
        no_log: bool,
    ) -> (
        Map<String, Value>,
        bool,
        Option<(Arc<Vec<TaskNode>>, Common, Span)>,
    ) {
        let task = &ht.next.task;
        let lc = &task.loop_control;
        let loop_var = lc.loop_var.clone().unwrap_or_else(|| "item".to_string());
        let extended = lc.extended.as_ref().map(truthy).unwrap_or(false);
        let allitems = lc.extended_allitems.as_ref().map(truthy).unwrap_or(true);
        // `register` names the previous item's result while the loop runs.
        let mut last_result: Option<Value> = None;
        let pause = lc
            .pause
            .as_ref()
            .and_then(|v| self.templar.render_value(v, ctx).ok())
            .and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .unwrap_or(0.0);
        let mut results = Vec::new();
        let mut any_changed = false;
        let mut any_failed = false;
        let mut includes: Vec<(Arc<Vec<TaskNode>>, Common, Span)> = Vec::new();
        // The task's own `when`, evaluated per item.
        let (_, own) = merged_when(ht.next);
        let n = items.len();
        let all_items = items.clone();
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 && pause > 0.0 {
                tokio::time::sleep(Duration::from_secs_f64(pause)).await;
            }
            let mut vars = (*ctx.vars).clone();
            if let (Some(name), Some(prev)) = (&task.register, &last_result) {
                vars.insert(name.clone(), prev.clone());
            }
            vars.insert(loop_var.clone(), item.clone());
            vars.insert("ansible_loop_var".into(), Value::String(loop_var.clone()));
            if let Some(iv) = &lc.index_var {
                vars.insert(iv.clone(), Value::from(i));
                vars.insert("ansible_index_var".into(), Value::String(iv.clone()));
            }
            if extended {
                vars.insert(
                    "ansible_loop".into(),
                    serde_json::json!({
                        "index": i + 1, "index0": i, "revindex": n - i, "revindex0": n - i - 1,
                        "first": i == 0, "last": i + 1 == n, "length": n,
                    }),
                );
                if let Some(Value::Object(l)) = vars.get_mut("ansible_loop") {
                    if allitems {
                        l.insert("allitems".into(), Value::Array(all_items.clone()));
                    }
                    if i > 0 {
                        l.insert("previtem".into(), all_items[i - 1].clone());
                    }
                    if let Some(nx) = all_items.get(i + 1) {
                        l.insert("nextitem".into(), nx.clone());
                    }
                }
            }
            let ictx = Context {
                vars: Arc::new(vars),
                hostvars: ctx.hostvars.clone(),
            };
            let mut verbose_always = false;
            let mut item_block: Option<String> = None;
            let mut r =
                match self.eval_when(&own.conds, &own.spans, &ictx, ht.next, ht.pctx, ht.host) {
                    Ok(Some(cond)) => skipped_result(&cond),
                    Err(f) => {
                        let mut r = Map::new();
                        r.insert("failed".into(), Value::Bool(true));
                        r.insert("msg".into(), Value::String(f.msg));
                        item_block = Some(f.block);
                        r
                    }
                    Ok(None) => {
                        let out = self.run_with_retries(ht, &ictx).await;
                        if out.unreachable {
                            return (out.result, true, None);
                        }
                        if let Some(inc) = out.include {
                            includes.push(inc);
                        }
                        verbose_always = out.verbose_always;
                        out.result
                    }
                };
            // The label and `break_when` see this item's registered result.
            let ictx = match &task.register {
                Some(name) => {
                    let mut vars = (*ictx.vars).clone();
                    vars.insert(name.clone(), registered_value(&r));
                    Context {
                        vars: Arc::new(vars),
                        hostvars: ictx.hostvars.clone(),
                    }
                }
                None => ictx,
            };
            // A censored item's label is never shown; an undefined one
            // fails the item, labelled None.
            let label = match &lc.label {
                _ if no_log => "(censored due to no_log)".to_string(),
                Some(l) => match self.templar.render_value(l, &ictx) {
                    Ok(v) => crate::output::python_repr(&v, true),
                    Err(e @ TemplateError::Undefined { .. }) => {
                        // A plain failed result: no error block is printed.
                        if !r.get("failed").map(truthy).unwrap_or(false) {
                            item_block = Some(String::new());
                        }
                        r.insert("failed".into(), Value::Bool(true));
                        r.insert(
                            "msg".into(),
                            Value::String(format!("Failed to template loop_control.label: {e}")),
                        );
                        "None".to_string()
                    }
                    Err(_) => crate::output::python_repr(&item, true),
                },
                None => crate::output::python_repr(&item, true),
            };
            r.insert(loop_var.clone(), item.clone());
            r.insert("ansible_loop_var".into(), Value::String(loop_var.clone()));
            if let Some(iv) = &lc.index_var {
                r.insert(iv.clone(), Value::from(i));
                r.insert("ansible_index_var".into(), Value::String(iv.clone()));
            }
            if let Some(l) = ictx.vars.get("ansible_loop").filter(|_| extended) {
                r.insert("ansible_loop".into(), l.clone());
            }
            let failed = r.get("failed").map(truthy).unwrap_or(false);
            let changed = r.get("changed").map(truthy).unwrap_or(false);
            let skipped = r.get("skipped").map(truthy).unwrap_or(false);
            // An item that ran always carries `failed` and `changed`.
            if !skipped {
                r.entry("failed").or_insert(Value::Bool(false));
                r.entry("changed").or_insert(Value::Bool(false));
            }
            any_changed |= changed;
            any_failed |= failed;
            let outcome = if failed {
                Outcome::Failed
            } else if skipped {
                Outcome::Skipped
            } else if changed {
                Outcome::Changed
            } else {
                Outcome::Ok
            };
            if !matches!(
                crate::playbook::short_action(&task.action),
                "include_tasks" | "include_role"
            ) || failed
            {
                let shown = if no_log {
                    censor(&r)
                } else {
                    Value::Object(r.clone())
                };
                let error = failed.then(|| {
                    item_block
                        .take()
                        .unwrap_or_else(|| self.module_failure_block(task, &r, no_log))
                });
                if error.as_deref().is_some_and(|e| !e.is_empty()) {
                    mark_exception(&mut r);
                }
                self.emit(&Event::ItemResult(&HostResult {
                    host: ht.host.to_string(),
                    delegated_to: ht.delegate_to.clone(),
                    outcome,
                    ignored: false,
                    result: display_form(&task.action, shown),
                    item_label: Some(label),
                    verbose_always: verbose_always && !no_log,
                    error,
                    is_loop: false,
                }));
            }
            last_result = Some(registered_value(&r));
            results.push(Value::Object(r));
            if !lc.break_when.is_empty()
                && self
                    .templar
                    .eval_condition(&Value::Array(lc.break_when.clone()), &ictx)
                    .unwrap_or(false)
            {
                break;
            }
        }
        let all_skipped = !results.is_empty()
            && results
                .iter()
                .all(|r| r.get("skipped").map(truthy).unwrap_or(false));
        let mut agg = Map::new();
        agg.insert("changed".into(), Value::Bool(any_changed));
        if any_failed {
            agg.insert("failed".into(), Value::Bool(true));
            agg.insert(
                "msg".into(),
                Value::String("One or more items failed".into()),
            );
        } else if results.is_empty() {
            agg.insert("skipped".into(), Value::Bool(true));
            agg.insert(
                "skipped_reason".into(),
                Value::String("No items in the list".into()),
            );
        } else if all_skipped {
            agg.insert("msg".into(), Value::String("All items skipped".into()));
        } else {
            agg.insert("msg".into(), Value::String("All items completed".into()));
        }
        agg.insert("results".into(), Value::Array(results));
        // Ansible's aggregate always says whether it was skipped; `failed`
        // appears only when an item failed.
        if !agg.contains_key("skipped") {
            agg.insert("skipped".into(), Value::Bool(all_skipped));
        }
        // Several includes from one loop: merge them into one scope list so
        // they run in item order.
        let include = merge_includes(includes);
        (agg, false, include)
    }

    /// The items of `loop:` or `with_<lookup>:`.
    /// The items a loop runs over. Errors are worded as Ansible's
    /// `_get_loop_items` words them.
    fn loop_items(&self, task: &Task, ctx: &Context) -> Result<Vec<Value>, LoopError> {
        let Some(spec) = &task.loop_ else {
            return Ok(Vec::new());
        };
        let rendered = match watch_deprecated_vars(Some(&spec.span), || {
            self.templar.render_value(&spec.value, ctx)
        }) {
            Ok(v) => v,
            Err(e @ TemplateError::Undefined { .. }) => {
                return Err(LoopError::Undefined(e.to_string()))
            }
            Err(e) => {
                let e = e.to_string();
                return Err(LoopError::Failed(Failure {
                    msg: format!("Task failed: {e}"),
                    block: caused_block(None, &e, task, Some(&spec.span)),
                    keep_changed: false,
                }));
            }
        };
        match &spec.lookup {
            None => match rendered {
                Value::Array(a) => Ok(a),
                other => {
                    let msg = format!(
                        "The `loop` value must resolve to a 'list', not '{}'.",
                        json_type_name(&other)
                    );
                    Err(LoopError::Failed(Failure {
                        block: format!(
                            "[ERROR]: {msg}\n{}\nProvide a list of items/templates, or a \
                             template resolving to a list.\n\n",
                            crate::output::origin(&spec.span)
                        ),
                        msg,
                        keep_changed: false,
                    }))
                }
            },
            Some(lookup) => {
                let terms = match rendered {
                    Value::Array(a) => a,
                    other => vec![other],
                };
                self.lookup_items(lookup, terms, ctx).map_err(|e| {
                    let msg = format!("The lookup plugin '{lookup}' failed: {e}");
                    LoopError::Failed(Failure {
                        block: format!("[ERROR]: {msg}\nOrigin: <unknown>\n\ninvoke_lookup()\n\n"),
                        msg,
                        keep_changed: false,
                    })
                })
            }
        }
    }

    /// `with_<lookup>` items: the lookups whose loop form differs from the
    /// template function are done here, the rest by `query()`.
    fn lookup_items(
        &self,
        lookup: &str,
        terms: Vec<Value>,
        ctx: &Context,
    ) -> Result<Vec<Value>, String> {
        // `ansible.builtin.X` and `ansible.legacy.X` are the builtin X.
        match crate::playbook::short_action(lookup) {
            // with_items flattens one level, as its lookup does.
            "items" => Ok(terms
                .into_iter()
                .flat_map(|t| match t {
                    Value::Array(a) => a,
                    other => vec![other],
                })
                .collect()),
            "list" => Ok(terms),
            "dict" => {
                let mut out = Vec::new();
                for t in terms {
                    match t {
                        Value::Object(m) => {
                            for (k, v) in m {
                                out.push(serde_json::json!({"key": k, "value": v}));
                            }
                        }
                        other => {
                            return Err(format!(
                            "the 'dict' lookup plugin expects a dictionary, got '{}' of type {}",
                            crate::output::python_repr(&other, false),
                            json_type_name(&other)
                        ))
                        }
                    }
                }
                Ok(out)
            }
            "subelements" => subelements(&terms),
            name => {
                let mut vars = (*ctx.vars).clone();
                vars.insert("__ferry_terms".into(), Value::Array(terms));
                let c = Context {
                    vars: Arc::new(vars),
                    hostvars: ctx.hostvars.clone(),
                };
                let expr = format!("query({}, *__ferry_terms)", Value::String(name.to_string()));
                match self.templar.eval_expression(&expr, &c) {
                    Ok(Value::Array(a)) => Ok(a),
                    Ok(other) => Ok(vec![other]),
                    Err(e) => Err(e.to_string()),
                }
            }
        }
    }
}

/// Why a loop's items could not be had.
enum LoopError {
    /// An undefined variable: reported only if the task's `when` passes.
    Undefined(String),
    Failed(Failure),
}

/// The `subelements` lookup (Ansible's `plugins/lookup/subelements.py`):
/// `[list_or_dict, 'a.b', {skip_missing}]` gives one `[parent, child]` pair
/// per element of each parent's list; the list's key is popped from the
/// parent as Ansible pops it.
fn subelements(terms: &[Value]) -> Result<Vec<Value>, String> {
    let head = "subelements lookup expects a list of two or three items, ";
    if !(2..=3).contains(&terms.len()) {
        return Err(head.into());
    }
    let (Some(Value::String(key)), true) =
        (terms.get(1), terms[0].is_array() || terms[0].is_object())
    else {
        return Err(format!(
            "{head}first a dict or a list, second a string pointing to the subkey"
        ));
    };
    let elements: Vec<Value> = match &terms[0] {
        Value::Object(m) => {
            if m.get("skipped").is_some_and(|v| v != &Value::Bool(false)) {
                return Ok(Vec::new());
            }
            m.values().cloned().collect()
        }
        Value::Array(a) => a.clone(),
        _ => Vec::new(),
    };
    let skip_missing = match terms.get(2) {
        None => false,
        Some(Value::Object(f)) => f.get("skip_missing").map(truthy).unwrap_or(false),
        Some(_) => {
            return Err(format!(
                "{head}the optional third item must be a dict with flags ('skip_missing',)"
            ))
        }
    };
    let keys: Vec<&str> = key.split('.').collect();
    let mut out = Vec::new();
    for item0 in elements {
        let Value::Object(mut parent) = item0 else {
            return Err(format!(
                "subelements lookup expects a dictionary, got '{}'",
                crate::output::python_repr(&item0, false)
            ));
        };
        if parent
            .get("skipped")
            .is_some_and(|v| v != &Value::Bool(false))
        {
            continue;
        }
        let sublist = pop_subelements(&mut parent, &keys, skip_missing)?;
        for child in sublist {
            out.push(Value::Array(vec![Value::Object(parent.clone()), child]));
        }
    }
    Ok(out)
}

/// Walk `keys` down from `m`; pop and return the list at the last key.
fn pop_subelements(
    m: &mut Map<String, Value>,
    keys: &[&str],
    skip_missing: bool,
) -> Result<Vec<Value>, String> {
    let Some((first, rest)) = keys.split_first() else {
        return Ok(Vec::new());
    };
    if !m.contains_key(*first) {
        if skip_missing {
            return Ok(Vec::new());
        }
        return Err(format!(
            "could not find '{first}' key in iterated item '{}'",
            crate::output::python_repr(&Value::Object(m.clone()), false)
        ));
    }
    if rest.is_empty() {
        return match m.get(*first) {
            Some(Value::Array(_)) => match m.shift_remove(*first) {
                Some(Value::Array(a)) => Ok(a),
                _ => Ok(Vec::new()),
            },
            other => Err(format!(
                "the key {first} should point to a list, got '{}'",
                crate::output::python_repr(other.unwrap_or(&Value::Null), false)
            )),
        };
    }
    match m.get_mut(*first) {
        Some(Value::Object(inner)) => pop_subelements(inner, rest, skip_missing),
        _ if skip_missing => Ok(Vec::new()),
        other => Err(format!(
            "the key {first} should point to a dictionary, got '{}'",
            crate::output::python_repr(other.map(|v| &*v).unwrap_or(&Value::Null), false)
        )),
    }
}

/// Python's type name for a JSON value.
fn json_type_name(v: &Value) -> &'static str {
    crate::modules::spec::type_name(v)
}

const CONDITIONAL_AS_TEMPLATE: &str =
    "Conditionals should not be surrounded by templating delimiters such as {{ }} or {% %}.";

/// A task's `when` conditions as Ansible merges them: its blocks'
/// (outermost first), then its own, each with where it was written; a
/// condition equal to the one before it is dropped, as by `itertools.groupby`
/// in Ansible's `_extend_value` (so it is evaluated, and warns, once). The
/// task's own are returned apart: a loop evaluates them per item.
fn merged_when(next: &Next) -> (Conditions, Conditions) {
    let mut inherited = Conditions::default();
    let mut own = Conditions::default();
    let mut last: Option<&Value> = None;
    let levels = next
        .parents
        .iter()
        .map(|b| (&b.common, false))
        .chain(std::iter::once((&next.task.common, true)));
    for (common, is_own) in levels {
        for (i, c) in common.when.iter().enumerate() {
            if c.is_null() || last == Some(c) {
                continue;
            }
            last = Some(c);
            let into = if is_own { &mut own } else { &mut inherited };
            into.conds.push(c.clone());
            into.spans.push(common.when_spans.get(i).cloned());
        }
    }
    (inherited, own)
}

/// Conditions with where each was written (when known).
#[derive(Default)]
struct Conditions {
    conds: Vec<Value>,
    spans: Vec<Option<Span>>,
}

const BROKEN_CONDITIONAL_HELP: &str =
    "Broken conditionals can be temporarily allowed with the `ALLOW_BROKEN_CONDITIONALS` configuration option.";

static VAR_PATH: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    regex::Regex::new(
        r#"^\s*([A-Za-z_]\w*)((?:\.[A-Za-z_]\w*|\[\s*(?:\d+|'[^']*'|"[^"]*")\s*\])*)\s*$"#,
    )
    .ok()
});
static VAR_STEP: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r#"\.([A-Za-z_]\w*)|\[\s*(\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*"([^"]*)"\s*\]"#)
        .ok()
});

/// Where a conditional's non-boolean value came from, as Ansible's origin
/// tags tell: a variable (or part of one) written in the play's, a block's
/// or the task's `vars:` is where its value was written; a computed value
/// is tagged with the conditional itself. Values from sources whose
/// positions ferry does not keep (vars files, inventory, -e, set_fact,
/// include_vars) are also reported at the conditional.
fn conditional_origin(
    cond: &Value,
    when: Option<&Span>,
    next: &Next,
    pctx: &PlayCtx,
    shadowed: &dyn Fn(&str) -> bool,
) -> String {
    let at_condition = || match when {
        Some(s) => s.to_string(),
        None => "<unknown>".to_string(),
    };
    let Some(caps) = cond
        .as_str()
        .and_then(|c| VAR_PATH.as_ref().and_then(|r| r.captures(c)))
    else {
        return at_condition();
    };
    let name = &caps[1];
    let steps: Vec<String> = VAR_STEP
        .as_ref()
        .map(|r| {
            r.captures_iter(caps.get(2).map_or("", |m| m.as_str()))
                .filter_map(|c| {
                    (1..=4)
                        .find_map(|i| c.get(i))
                        .map(|m| m.as_str().to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(root) = vars_entry(name, next, pctx, shadowed) else {
        return at_condition();
    };
    let mut node = &root;
    // A part of a value has its own position; past what was written, the
    // nearest written container's.
    for step in &steps {
        let child = match &node.kind {
            crate::yaml::NodeKind::Map(_) => node.get(step),
            crate::yaml::NodeKind::Seq(items) => {
                step.parse::<usize>().ok().and_then(|i| items.get(i))
            }
            _ => None,
        };
        match child {
            Some(c) => node = c,
            None => break,
        }
    }
    node.span.to_string()
}

/// The mapping node that starts at `span` (a play, block or task).
/// The value of the playbook `vars:` entry that defines `name` for a task:
/// the task's, then its blocks' (innermost first), then the play's. `None`
/// when none does or a layer that keeps no positions (`shadowed`) wins.
fn vars_entry(
    name: &str,
    next: &Next,
    pctx: &PlayCtx,
    shadowed: &dyn Fn(&str) -> bool,
) -> Option<crate::yaml::Node> {
    if shadowed(name) {
        return None;
    }
    let mut holders: Vec<&Span> = Vec::new();
    if next.task.common.vars.contains_key(name) {
        holders.push(&next.task.span);
    }
    for b in next.parents.iter().rev() {
        if b.common.vars.contains_key(name) {
            holders.push(&b.span);
        }
    }
    if pctx.vars.contains_key(name) {
        holders.push(&pctx.play_span);
    }
    let holder = holders.first()?;
    let root = crate::yaml::parse_file(&holder.file).ok()??;
    node_at(&root, holder)
        .and_then(|n| n.get("vars"))
        .and_then(|v| v.get(name))
        .cloned()
}

/// Where a template error in `debug: var=EXPR` arose, as Ansible's origin
/// tags tell: in the template of the variable `EXPR` names, when a playbook
/// `vars:` wrote it as one; else `None` (the `var` argument itself).
pub(super) fn template_error_origin(
    expr: &str,
    next: &Next,
    pctx: &PlayCtx,
    shadowed: &dyn Fn(&str) -> bool,
) -> Option<Span> {
    let caps = VAR_PATH.as_ref()?.captures(expr)?;
    let node = vars_entry(&caps[1], next, pctx, shadowed)?;
    match &node.kind {
        crate::yaml::NodeKind::Str { value, .. }
            if crate::template::Templar::is_template(value) =>
        {
            Some(node.span.clone())
        }
        _ => None,
    }
}

fn node_at<'a>(node: &'a crate::yaml::Node, span: &Span) -> Option<&'a crate::yaml::Node> {
    if node.span.line == span.line
        && node.span.col == span.col
        && matches!(node.kind, crate::yaml::NodeKind::Map(_))
    {
        return Some(node);
    }
    match &node.kind {
        crate::yaml::NodeKind::Seq(items) => items.iter().find_map(|n| node_at(n, span)),
        crate::yaml::NodeKind::Map(entries) => entries.iter().find_map(|(_, v)| node_at(v, span)),
        _ => None,
    }
}

/// Is this task a `meta` action?
pub fn is_meta(task: &Task) -> bool {
    crate::playbook::short_action(&task.action) == "meta"
}

/// Is this task a `set_fact`?
pub fn is_set_fact(task: &Task) -> bool {
    crate::playbook::short_action(&task.action) == "set_fact"
}

/// A failure found before the action ran, with Ansible 2.19's error block.
pub struct Failure {
    pub msg: String,
    pub block: String,
    /// Whether the result carries `changed: false` (conditional errors do not).
    pub keep_changed: bool,
}

impl Failure {
    pub fn simple(task: &Task, msg: String) -> Failure {
        Failure {
            block: failure_block(task, "Action failed", &msg),
            msg,
            keep_changed: true,
        }
    }
}

/// `[ERROR]: Task failed: KIND: MSG` and the task's origin.
pub fn failure_block(task: &Task, kind: &str, msg: &str) -> String {
    let head = if msg.is_empty() {
        format!("{kind}.")
    } else {
        format!("{kind}: {msg}")
    };
    format!(
        "[ERROR]: Task failed: {head}\n{}\n",
        crate::output::origin(&task.span)
    )
}

/// The two-part block Ansible prints when a value inside the task failed:
/// the task's origin, then `<<< caused by >>>` and the value's origin.
pub fn caused_block(outer: Option<&str>, inner: &str, task: &Task, cause: Option<&Span>) -> String {
    let (head, second) = match outer {
        Some(o) => (format!("{o}: {inner}"), format!("Task failed: {o}.")),
        None => (inner.to_string(), "Task failed.".to_string()),
    };
    let mut s = format!(
        "[ERROR]: Task failed: {head}\n\n{second}\n{}\n",
        crate::output::origin(&task.span)
    );
    if let Some(sp) = cause {
        s.push_str(&format!(
            "<<< caused by >>>\n\n{inner}\n{}\n",
            crate::output::origin(sp)
        ));
    }
    s
}

/// Messages modules use that never hold task data, safe to show under no_log.
fn generic_msg(msg: &str) -> bool {
    matches!(
        msg,
        "" | "non-zero return code" | "Assertion failed" | "One or more items failed"
    )
}

impl Engine {
    /// The error block for a failed action result: "Module failed" for
    /// remote modules, "Action failed" for controller actions and for
    /// failures decided by `failed_when`.
    pub fn module_failure_block(
        &self,
        task: &Task,
        r: &Map<String, Value>,
        no_log: bool,
    ) -> String {
        if let (Some(Value::String(b)), false) = (r.get("_ansible_error_block"), no_log) {
            return b.clone();
        }
        let msg = r.get("msg").and_then(Value::as_str).unwrap_or_default();
        let msg = if no_log && !generic_msg(msg) {
            NO_LOG_MSG
        } else {
            msg
        };
        let by_condition = r.get("failed_when_result") == Some(&Value::Bool(true));
        let kind = if by_condition || crate::playbook::is_controller_action(&task.action) {
            "Action failed"
        } else {
            "Module failed"
        };
        let msg = if by_condition { "" } else { msg };
        // A missing executable: Ansible reports the exception text here.
        let exc = r
            .get("exception")
            .and_then(Value::as_str)
            .filter(|_| !no_log);
        failure_block(task, kind, exc.unwrap_or(msg))
    }
}

/// The context with the task's registered name bound to `r`.
fn bind_register(ctx: &Context, task: &Task, r: &Map<String, Value>) -> Context {
    let Some(name) = &task.register else {
        return ctx.clone();
    };
    let mut vars = (*ctx.vars).clone();
    vars.insert(name.clone(), registered_value(r));
    Context {
        vars: Arc::new(vars),
        hostvars: ctx.hostvars.clone(),
    }
}

/// What `register` stores: internal keys and the top-level `invocation`
/// dropped (loop items keep theirs), `changed`/`failed` always set.
pub fn registered_value(r: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (k, v) in r {
        if !k.starts_with("_ansible") && k != "invocation" {
            out.insert(k.clone(), v.clone());
        }
    }
    out.entry("changed").or_insert(Value::Bool(false));
    let failed = out.get("failed").map(truthy).unwrap_or(false);
    out.insert("failed".into(), Value::Bool(failed));
    Value::Object(out)
}

/// A failure reported with an `[ERROR]` block came from an exception in
/// Ansible, whose result keeps an `exception` key (never displayed).
fn mark_exception(r: &mut Map<String, Value>) {
    r.entry("exception")
        .or_insert_with(|| Value::String("(traceback unavailable)".into()));
}

/// A loop's aggregate as registered: no `failed: false` is added there
/// (Ansible sets `failed` on the aggregate only when an item failed).
fn loop_registered_value(r: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (k, v) in r {
        if !k.starts_with("_ansible") && k != "invocation" {
            out.insert(k.clone(), v.clone());
        }
    }
    out.entry("changed").or_insert(Value::Bool(false));
    Value::Object(out)
}

/// Ansible's censored result for `no_log` (keeping only what it preserves).
pub fn censor(r: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("censored".into(), Value::String(NO_LOG_MSG.into()));
    for k in [
        "attempts",
        "changed",
        "retries",
        "failed",
        "skipped",
        "unreachable",
    ] {
        if let Some(v) = r.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Value::Object(out)
}

/// debug shows only its message (or variable), as the callback cleans it.
fn display_form(action: &str, v: Value) -> Value {
    if crate::playbook::short_action(action) != "debug" {
        return v;
    }
    let Value::Object(m) = v else { return v };
    let mut out = Map::new();
    let has_msg = m.contains_key("msg");
    for (k, x) in m {
        let keep = if has_msg {
            matches!(
                k.as_str(),
                "msg" | "warnings" | "deprecations" | "failed" | "skipped" | "censored"
            ) || k.starts_with('_')
        } else {
            // The callback's `_hide_in_debug`: loop bookkeeping is not shown.
            !matches!(
                k.as_str(),
                "changed"
                    | "failed"
                    | "skipped"
                    | "invocation"
                    | "skip_reason"
                    | "ansible_loop_var"
                    | "ansible_index_var"
                    | "ansible_loop"
            )
        };
        if keep {
            out.insert(k, x);
        }
    }
    Value::Object(out)
}

fn cond_text(c: &Value) -> String {
    match c {
        Value::String(s) => s.clone(),
        other => crate::output::python_repr(other, true),
    }
}

fn merge_includes(
    mut incs: Vec<(Arc<Vec<TaskNode>>, Common, Span)>,
) -> Option<(Arc<Vec<TaskNode>>, Common, Span)> {
    if incs.len() <= 1 {
        return incs.pop();
    }
    // Each include becomes a block with its own scope, run in order.
    let span = incs[0].2.clone();
    let nodes: Vec<TaskNode> = incs
        .into_iter()
        .map(|(nodes, common, span)| {
            TaskNode::Block(Arc::new(Block {
                span,
                common,
                block: (*nodes).clone(),
                rescue: Vec::new(),
                always: Vec::new(),
            }))
        })
        .collect();
    Some((Arc::new(nodes), Common::default(), span))
}

/// The result of a task (or item) whose `when` was false.
fn skipped_result(cond: &Value) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("changed".into(), Value::Bool(false));
    r.insert("false_condition".into(), Value::String(cond_text(cond)));
    r.insert(
        "skip_reason".into(),
        Value::String("Conditional result was False".into()),
    );
    r.insert("skipped".into(), Value::Bool(true));
    r
}
