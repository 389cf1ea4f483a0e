//! The engine: runs a playbook's plays over the inventory's hosts with
//! Ansible's meaning — the linear strategy (a task finishes on every host
//! before the next starts), `serial` batches, handlers, tags, failures.
//!
//! The engine knows nothing of SSH: it asks `connection` for a connection per
//! host and hands modules their arguments; results go out as `output` events.

pub mod actions;
pub mod cursor;
pub mod facts;
pub mod invocation;
pub mod state;
pub mod task;
pub mod vars;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::connection::ConnDefaults;
use crate::error::Error;
use crate::inventory::Inventory;
use crate::output::{Event, HostResult, HostStats, Outcome, Sink};
use crate::playbook::{Block, Play, Playbook, Task, TaskNode, Vars};
use crate::template::{Context, Templar};
use cursor::{Cursor, Next};
use state::{EngineHostVars, Hosts};
use task::{Control, TaskEnd};

/// Everything from the command line that shapes a run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub extra_vars: Vars,
    pub check: bool,
    pub diff: bool,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub limit: Option<String>,
    pub forks: usize,
    pub verbosity: u8,
    pub defaults: ConnDefaults,
    pub start_at_task: Option<String>,
    pub config_file: Option<PathBuf>,
    /// `--force-handlers` (or the config's): the default for plays that
    /// do not set `force_handlers`.
    pub force_handlers: bool,
}

/// Exit codes as ansible-playbook's.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 2;
pub const EXIT_UNREACHABLE: i32 = 4;

/// One playbook run.
pub struct Engine {
    pub inventory: Arc<Inventory>,
    pub opts: Arc<RunOptions>,
    pub templar: Arc<Templar>,
    pub sink: Arc<dyn Sink>,
    pub hosts: Arc<Hosts>,
    pub hostvars: Arc<EngineHostVars>,
    pub stats: Mutex<IndexMap<String, HostStats>>,
    forks: Arc<Semaphore>,
    start_at: Mutex<Option<String>>,
    /// Parsed vars files (vars_files, include_vars) by path.
    pub vars_cache: Mutex<std::collections::HashMap<PathBuf, Vars>>,
    /// Parsed include_tasks files by path and the role they belong to
    /// (its address: a role's params differ between its uses).
    pub tasks_cache: Mutex<std::collections::HashMap<TasksKey, Arc<Vec<TaskNode>>>>,
    /// An error that ends the run where it stands (an included role that
    /// cannot be loaded), as Ansible raises it out of the strategy.
    pub fatal: Mutex<Option<Error>>,
    /// Roles loaded by `include_role`, by task and files read.
    pub roles_cache: Mutex<std::collections::HashMap<String, IncludedRole>>,
    /// Counts task starts; play-wide magic lists are cached per count.
    pub task_seq: std::sync::atomic::AtomicU64,
    /// `groups` as a value (the inventory does not change during a run).
    pub groups_value: std::sync::OnceLock<Value>,
    free_banners: Mutex<FreeBanners>,
}

/// The default callback under `strategy: free`: a task's banner is printed
/// when one of its results is shown and the last banner shown was another
/// task's (`_last_task_banner`), not when the task starts; a task that
/// shows nothing (an ok meta) gets no banner.
#[derive(Default)]
struct FreeBanners {
    on: bool,
    /// The task whose banner was shown last.
    last: Option<usize>,
    /// The task each host is running.
    running: std::collections::HashMap<String, Banner>,
}

#[derive(Clone)]
struct Banner {
    id: usize,
    handler: bool,
    name: String,
    action: String,
    path: String,
}

/// A tasks file's path and the address of the role its tasks belong to.
type TasksKey = (PathBuf, usize);

/// A role `include_role` loaded, and its tasks.
type IncludedRole = (Arc<crate::playbook::Role>, Arc<Vec<TaskNode>>);

/// What one play's run needs to know, shared by its tasks.
pub struct PlayCtx {
    pub play_name: String,
    /// Where the play was written (its `vars:` are looked up there).
    pub play_span: crate::error::Span,
    pub dir: PathBuf,
    pub vars: Vars,
    pub vars_files: Vec<(Value, crate::error::Span)>,
    pub common: crate::playbook::Common,
    /// All hosts of the play, and of the current batch.
    pub play_hosts: Vec<String>,
    pub batch: Vec<String>,
    pub handlers: Vec<Next>,
    /// The play's roles (their defaults and vars are play-wide).
    pub roles: Vec<Arc<crate::playbook::Role>>,
    pub role_search: Arc<crate::playbook::RoleSearch>,
    /// Roles an `include_role` with `public: true` loaded: from then on
    /// their defaults and vars are play-wide too.
    pub public_roles: Mutex<Vec<Arc<crate::playbook::Role>>>,
    /// `ansible_play_role_names`, `ansible_dependent_role_names`.
    pub role_names: Vec<String>,
    pub dependent_role_names: Vec<String>,
    pub force_handlers: bool,
    pub max_fail_percentage: Option<f64>,
    pub free: bool,
    /// Magic lists cached for the current task (see `task_seq`).
    pub magic: Mutex<Option<(u64, Arc<vars::MagicLists>)>>,
    /// Hosts a meta `end_host`/`end_batch`/`end_play` ended: they run
    /// nothing more in this play, not even handlers they notified.
    pub ended: Mutex<HashSet<String>>,
}

impl PlayCtx {
    fn is_ended(&self, host: &str) -> bool {
        self.ended.lock().map(|e| e.contains(host)).unwrap_or(false)
    }
}

impl Engine {
    pub fn new(
        inventory: Arc<Inventory>,
        opts: RunOptions,
        templar: Templar,
        sink: Arc<dyn Sink>,
    ) -> Arc<Engine> {
        let hosts = Arc::new(Hosts::default());
        let extra = Arc::new(opts.extra_vars.clone());
        let hostvars = Arc::new(EngineHostVars {
            inventory: inventory.clone(),
            hosts: hosts.clone(),
            extra,
            magic: Mutex::new(Vars::new()),
            play_vars: Default::default(),
        });
        let forks = Arc::new(Semaphore::new(opts.forks.max(1)));
        let start_at = Mutex::new(opts.start_at_task.clone());
        Arc::new(Engine {
            inventory,
            opts: Arc::new(opts),
            templar: Arc::new(templar),
            sink,
            hosts,
            hostvars,
            stats: Mutex::new(IndexMap::new()),
            forks,
            start_at,
            vars_cache: Mutex::new(Default::default()),
            tasks_cache: Mutex::new(Default::default()),
            roles_cache: Mutex::new(Default::default()),
            fatal: Mutex::new(None),
            task_seq: Default::default(),
            groups_value: Default::default(),
            free_banners: Default::default(),
        })
    }

    /// Report an event. Under `strategy: free` a host's result first brings
    /// its task's banner when the last banner shown was another task's.
    pub fn emit(&self, ev: &Event<'_>) {
        let host = match ev {
            Event::Result(r) | Event::ItemResult(r) => Some(r.host.as_str()),
            Event::Include { hosts, .. } => hosts.first().map(String::as_str),
            _ => None,
        };
        if let (Some(host), Ok(mut b)) = (host, self.free_banners.lock()) {
            if b.on {
                let due = b
                    .running
                    .get(host)
                    .filter(|t| b.last != Some(t.id))
                    .cloned();
                if let Some(t) = due {
                    b.last = Some(t.id);
                    self.sink.event(&Event::TaskStart {
                        name: &t.name,
                        handler: t.handler,
                        action: &t.action,
                        path: Some(&t.path),
                        hosts: 1,
                    });
                }
                // Still under the lock: no other host's banner can come
                // between this banner and its result.
                self.sink.event(ev);
                return;
            }
        }
        self.sink.event(ev);
    }

    fn stat(&self, host: &str, f: impl FnOnce(&mut HostStats)) {
        if let Ok(mut s) = self.stats.lock() {
            f(s.entry(host.to_string()).or_default());
        }
    }

    /// Run every play; returns ansible-playbook's exit code.
    pub async fn run(self: &Arc<Self>, pb: &Playbook) -> Result<i32, Error> {
        self.emit(&Event::PlaybookStart {
            path: &pb.path.display().to_string(),
            plays: pb.plays.len(),
        });
        for play in &pb.plays {
            self.run_play(play).await?;
            if let Some(e) = self.fatal.lock().ok().and_then(|mut f| f.take()) {
                return Err(e);
            }
        }
        let mut stats = match self.stats.lock() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        };
        // Only hosts something was counted for, sorted by name, as
        // Ansible's `stats.processed`.
        stats.sort_keys();
        self.emit(&Event::Recap(&stats));
        for (_, slot) in self.hosts.all() {
            if let Some(conn) = slot.conn.lock().await.take() {
                if let Ok(conn) = Arc::try_unwrap(conn) {
                    conn.close().await;
                }
            }
        }
        let unreachable = stats.values().any(|s| s.unreachable > 0);
        let failed = stats.values().any(|s| s.failed > 0);
        Ok(if unreachable {
            EXIT_UNREACHABLE
        } else if failed {
            EXIT_FAILED
        } else {
            EXIT_OK
        })
    }

    /// The context for templating play-level things (hosts, names): extra
    /// vars and play vars only, as Ansible does.
    fn play_level_ctx(&self, play: &Play) -> Context {
        let mut vars = play.vars.clone();
        vars.extend(
            self.opts
                .extra_vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        vars.insert(
            "playbook_dir".into(),
            Value::String(play.dir.display().to_string()),
        );
        vars.insert(
            "omit".into(),
            Value::String(self.templar.omit_token().to_string()),
        );
        Context::new(vars)
    }

    async fn run_play(self: &Arc<Self>, play: &Play) -> Result<(), Error> {
        let ctx = self.play_level_ctx(play);
        let pattern = match self.templar.render_value(&play.hosts, &ctx) {
            Ok(Value::String(s)) => s,
            Ok(Value::Array(items)) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            Ok(other) => other.to_string(),
            Err(e) => {
                return Err(Error::at(
                    &play.span,
                    format!("cannot template 'hosts': {e}"),
                ))
            }
        };
        let name = match &play.name {
            Some(n) => match self.templar.render_str(n, &ctx) {
                Ok(Value::String(s)) => s,
                Ok(v) => crate::output::python_repr(&v, true),
                Err(_) => n.clone(),
            },
            None => pattern.clone(),
        };

        // import_playbook's `when`, evaluated with play-level vars.
        for cond in &play.when {
            match self.templar.eval_condition(cond, &ctx) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(Error::at(&play.span, e.to_string())),
            }
        }

        let mut hosts =
            crate::adhoc::select_hosts(&self.inventory, &pattern, self.opts.limit.as_deref())?;
        hosts.retain(|h| self.hosts.slot(h).with(|s| !s.failed && !s.unreachable));
        if hosts.is_empty() {
            self.emit(&Event::PlayStart { name: &name });
            self.emit(&Event::NoHostsMatched);
            return Ok(());
        }
        let batches = batches(&hosts, play.serial.as_ref(), &self.templar, &ctx);
        let handlers = flatten_handlers(&play.handlers);
        for batch in batches {
            // Ansible announces the play again for every serial batch.
            self.emit(&Event::PlayStart { name: &name });
            let pctx = Arc::new(PlayCtx {
                play_name: name.clone(),
                play_span: play.span.clone(),
                dir: play.dir.clone(),
                vars: play.vars.clone(),
                vars_files: play.vars_files.clone(),
                common: play.common.clone(),
                play_hosts: hosts.clone(),
                batch: batch.clone(),
                handlers: handlers.clone(),
                roles: play.roles.clone(),
                role_search: play.role_search.clone(),
                public_roles: Mutex::new(Vec::new()),
                role_names: play.role_names.clone(),
                dependent_role_names: play.dependent_role_names.clone(),
                force_handlers: play
                    .force_handlers
                    .as_ref()
                    .map(truthy)
                    .unwrap_or(self.opts.force_handlers),
                max_fail_percentage: play
                    .max_fail_percentage
                    .as_ref()
                    .and_then(|v| self.templar.render_value(v, &ctx).ok())
                    .and_then(|v| {
                        v.as_f64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    }),
                free: play.strategy.as_deref() == Some("free"),
                magic: Mutex::new(None),
                ended: Mutex::new(HashSet::new()),
            });
            if let Ok(mut m) = self.hostvars.magic.lock() {
                m.insert(
                    "playbook_dir".into(),
                    Value::String(play.dir.display().to_string()),
                );
            }
            let gather = match &play.gather_facts {
                None => true,
                Some(v) => match self.templar.render_value(v, &ctx) {
                    Ok(v) => truthy(&v),
                    Err(_) => true,
                },
            };
            if gather {
                self.gather_facts(&pctx).await;
            }
            let mut end = PlayEnd::Done;
            for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
                // Every section ends in a flush, even an empty one (a handler
                // may have notified one defined before it).
                if !section.is_empty() {
                    let nodes = Arc::new(section.clone());
                    end = if pctx.free {
                        self.run_tasks_free(&pctx, nodes).await
                    } else {
                        self.run_tasks(&pctx, nodes).await
                    };
                    if end != PlayEnd::Done {
                        break;
                    }
                }
                self.flush_handlers(&pctx, None, true).await;
            }
            for h in &batch {
                self.hosts.slot(h).with(|s| s.notified.clear());
            }
            // end_play ends every batch, end_batch only this one; a batch
            // whose every host failed ends the play (Ansible's
            // PlaybookExecutor compares the batch's failures to its size).
            if end == PlayEnd::EndPlay || self.batch_aborted(&batch) {
                break;
            }
        }
        Ok(())
    }

    fn batch_aborted(&self, batch: &[String]) -> bool {
        batch
            .iter()
            .all(|h| self.hosts.slot(h).with(|s| s.failed || s.unreachable))
    }

    /// The implicit first task: gather facts on every host of the batch.
    async fn gather_facts(self: &Arc<Self>, pctx: &Arc<PlayCtx>) {
        self.emit(&Event::TaskStart {
            name: "Gathering Facts",
            handler: false,
            action: "gather_facts",
            path: None,
            hosts: pctx.batch.len(),
        });
        let mut set = tokio::task::JoinSet::new();
        for host in pctx.batch.clone() {
            let (eng, pctx) = (self.clone(), pctx.clone());
            set.spawn(async move {
                let _permit = eng.forks.clone().acquire_owned().await;
                let end = eng.gather_one(&pctx, &host).await;
                (host, end)
            });
        }
        while let Some(r) = set.join_next().await {
            if let Ok((host, end)) = r {
                self.account(&host, &end);
            }
        }
    }

    async fn gather_one(self: &Arc<Self>, pctx: &Arc<PlayCtx>, host: &str) -> TaskEnd {
        let conn = match self.connection(pctx, host).await {
            Ok(c) => c,
            Err(msg) => return self.unreachable_end(host, msg),
        };
        let result = match facts::gather(&conn).await {
            Ok(f) => {
                self.hosts.slot(host).with(|s| {
                    for (k, v) in &f {
                        s.facts.insert(k.clone(), v.clone());
                    }
                });
                let mut r = serde_json::Map::new();
                r.insert("ansible_facts".into(), Value::Object(f));
                r.insert("changed".into(), Value::Bool(false));
                r
            }
            Err(e) => return self.unreachable_end(host, e.to_string()),
        };
        let hr = HostResult {
            host: host.to_string(),
            delegated_to: None,
            outcome: Outcome::Ok,
            ignored: false,
            result: Value::Object(result.clone()),
            item_label: None,
            verbose_always: false,
            error: None,
            is_loop: false,
        };
        // Facts are long; Ansible prints them only at -v like any result.
        self.emit(&Event::Result(&hr));
        TaskEnd::simple(Outcome::Ok, Value::Object(result))
    }

    pub fn unreachable_end(&self, host: &str, msg: String) -> TaskEnd {
        let mut r = serde_json::Map::new();
        r.insert("changed".into(), Value::Bool(false));
        r.insert("msg".into(), Value::String(msg));
        r.insert("unreachable".into(), Value::Bool(true));
        let hr = HostResult {
            host: host.to_string(),
            delegated_to: None,
            outcome: Outcome::Unreachable,
            ignored: false,
            result: Value::Object(r.clone()),
            item_label: None,
            verbose_always: false,
            error: None,
            is_loop: false,
        };
        self.emit(&Event::Result(&hr));
        TaskEnd::simple(Outcome::Unreachable, Value::Object(r))
    }

    /// Count a host's task end in the recap, as Ansible's strategy does.
    fn account(&self, host: &str, end: &TaskEnd) {
        if end.uncounted {
            return;
        }
        // An include counts not as a task but once per file it included
        // (each loop item's is one), as the strategy loads them.
        if end.include.is_some() && matches!(end.outcome, Outcome::Ok | Outcome::Changed) {
            let files = included_files(&end.result).len() as u32;
            self.stat(host, |s| s.ok += files);
            return;
        }
        match end.outcome {
            Outcome::Ok => self.stat(host, |s| s.ok += 1),
            Outcome::Changed => self.stat(host, |s| {
                s.ok += 1;
                s.changed += 1
            }),
            Outcome::Skipped => self.stat(host, |s| s.skipped += 1),
            Outcome::Unreachable if end.ignored => self.stat(host, |s| {
                s.ok += 1;
                s.ignored += 1
            }),
            Outcome::Unreachable => {
                self.stat(host, |s| s.unreachable += 1);
                self.hosts.slot(host).with(|s| s.unreachable = true);
            }
            Outcome::Failed if end.ignored => self.stat(host, |s| {
                s.ok += 1;
                s.ignored += 1;
                if end.changed {
                    s.changed += 1;
                }
            }),
            Outcome::Failed => {}
        }
    }

    /// Open (once) and return the host's connection.
    pub async fn connection(
        self: &Arc<Self>,
        pctx: &PlayCtx,
        host: &str,
    ) -> Result<Arc<crate::connection::Connection>, String> {
        let slot = self.hosts.slot(host);
        let mut guard = slot.conn.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let spec = self.conn_spec(pctx, host, &[], None)?;
        let conn = crate::connection::Connection::connect(&spec)
            .await
            .map_err(|e| e.to_string())?;
        let conn = Arc::new(conn);
        *guard = Some(conn.clone());
        Ok(conn)
    }

    /// Drop the host's connection (meta: reset_connection, or after it broke).
    pub async fn drop_connection(&self, host: &str) {
        let slot = self.hosts.slot(host);
        let taken = slot.conn.lock().await.take();
        if let Some(c) = taken {
            if let Ok(c) = Arc::try_unwrap(c) {
                c.close().await;
            }
        }
    }

    /// Run a list of tasks on the batch with the linear strategy.
    async fn run_tasks(
        self: &Arc<Self>,
        pctx: &Arc<PlayCtx>,
        nodes: Arc<Vec<TaskNode>>,
    ) -> PlayEnd {
        let mut cursors: IndexMap<String, Cursor> = pctx
            .batch
            .iter()
            .filter(|h| self.hosts.slot(h).with(|s| !s.failed && !s.unreachable))
            .filter(|h| !pctx.is_ended(h))
            .map(|h| (h.clone(), Cursor::new(nodes.clone())))
            .collect();
        loop {
            // Lock-step as Ansible: the hosts furthest behind (lowest
            // top-level block, then tasks before rescue before always) go
            // first; among them the first host decides the task, and every
            // host whose next task is the same one runs it now.
            let lowest = cursors.values_mut().filter_map(Cursor::rank).min();
            let mut pick: Option<Next> = None;
            let mut group: Vec<String> = Vec::new();
            for (h, c) in cursors.iter_mut() {
                if c.rank() != lowest {
                    continue;
                }
                let Some(n) = c.peek() else { continue };
                match &pick {
                    None => {
                        pick = Some(n);
                        group.push(h.clone());
                    }
                    Some(p) if Arc::ptr_eq(&p.task, &n.task) => group.push(h.clone()),
                    Some(_) => {}
                }
            }
            let Some(next) = pick else {
                return PlayEnd::Done;
            };
            if !self.selected(&next) {
                for h in &group {
                    if let Some(c) = cursors.get_mut(h) {
                        c.complete(false);
                    }
                }
                continue;
            }
            let ends = match meta_action(&next) {
                // Ansible's linear strategy runs a meta task host by host,
                // each announced with its own banner …
                Some(m) if !meta_runs_once(&m) => {
                    let mut ends = Vec::new();
                    for h in &group {
                        let one = std::slice::from_ref(h);
                        ends.extend(self.run_task_on(pctx, &next, one, false).await);
                    }
                    ends
                }
                // … except the play-wide ones, run (and their `when`
                // evaluated) for the first host only, standing for all.
                Some(_) => {
                    for h in group.iter().skip(1) {
                        if let Some(c) = cursors.get_mut(h) {
                            c.complete(false);
                        }
                    }
                    self.run_task_on(pctx, &next, &group[..1], false).await
                }
                None => self.run_task_on(pctx, &next, &group, false).await,
            };
            let mut end = None;
            let mut any_fatal_failure = false;
            for (host, host_end) in ends {
                let Some(c) = cursors.get_mut(&host) else {
                    continue;
                };
                let step = self.apply_end(pctx, &next, &host, host_end, c);
                end = end.or(step.end);
                any_fatal_failure |= step.fatal;
            }
            if next_is_flush(&next) {
                self.flush_handlers(pctx, Some(&group), false).await;
            }
            if let Some(end) = end {
                self.end_batch(pctx);
                return end;
            }
            if self.fatal.lock().is_ok_and(|f| f.is_some()) {
                return PlayEnd::Abort;
            }
            if any_fatal_failure {
                self.abort_batch(pctx);
                return PlayEnd::Abort;
            }
            // Ansible's linear strategy announces the breach, then (every
            // host now failed) that no hosts are left.
            if self.max_fail_exceeded(pctx) {
                self.emit(&Event::NoHostsRemaining);
                self.emit(&Event::NoHostsRemaining);
                self.abort_batch(pctx);
                return PlayEnd::Abort;
            }
        }
    }

    /// `included: FILE for h1, h2` once per file (and loop item), as Ansible
    /// groups hosts that included the same file.
    fn announce_includes(&self, ends: &[(String, TaskEnd)], task: &Task) {
        let label_of = |r: &Value| -> Option<String> {
            let lv = task.loop_control.loop_var.as_deref().unwrap_or("item");
            r.get(lv).map(|v| crate::output::python_repr(v, true))
        };
        let mut groups: IndexMap<(String, Option<String>), Vec<String>> = IndexMap::new();
        for (host, end) in ends {
            if end.outcome == Outcome::Failed {
                continue;
            }
            for (file, item) in included_files(&end.result) {
                let key = (file.to_string(), item.and_then(label_of));
                groups.entry(key).or_default().push(host.clone());
            }
        }
        for ((file, item), hosts) in groups {
            self.emit(&Event::Include {
                file: &file,
                hosts: &hosts,
                item: item.as_deref(),
            });
        }
    }

    /// End every host of the batch (meta `end_batch`, `end_play`).
    fn end_batch(&self, pctx: &PlayCtx) {
        if let Ok(mut ended) = pctx.ended.lock() {
            ended.extend(pctx.batch.iter().cloned());
        }
    }

    /// Stop every host of the batch (any_errors_fatal, max_fail_percentage).
    fn abort_batch(&self, pctx: &PlayCtx) {
        for h in &pctx.batch {
            self.hosts.slot(h).with(|s| {
                if !s.unreachable {
                    s.failed = true
                }
            });
        }
    }

    /// Count a host's task end, move its cursor, and apply includes, rescues
    /// and meta actions.
    fn apply_end(
        &self,
        pctx: &PlayCtx,
        next: &Next,
        host: &str,
        end: TaskEnd,
        c: &mut Cursor,
    ) -> Step {
        let mut step = Step::default();
        self.account(host, &end);
        let failed = end.outcome == Outcome::Failed && !end.ignored;
        let unreachable = end.outcome == Outcome::Unreachable && !end.ignored;
        if unreachable {
            c.clear();
            return step;
        }
        if failed {
            // Counted as rescued when some enclosing block will rescue it,
            // even if an inner block's `always:` runs first.
            let rescuing = c.rescuing();
            c.complete(true);
            match rescuing {
                true => {
                    self.stat(host, |s| s.rescued += 1);
                    self.hosts.slot(host).with(|s| {
                        s.set_facts
                            .insert("ansible_failed_task".into(), failed_task_value(&next.task));
                        s.set_facts
                            .insert("ansible_failed_result".into(), end.result.clone());
                    });
                }
                false => {
                    self.stat(host, |s| s.failed += 1);
                    self.hosts.slot(host).with(|s| s.failed = true);
                    step.fatal = self.any_errors_fatal(pctx, next);
                }
            }
        } else if let Some((nodes, scope, span)) = end.include {
            c.complete_with_include(nodes, scope, span);
        } else {
            c.complete(false);
        }
        match end.control {
            Some(Control::EndHost) => {
                c.clear();
                if let Ok(mut ended) = pctx.ended.lock() {
                    ended.insert(host.to_string());
                }
            }
            Some(Control::EndBatch) => step.end = Some(PlayEnd::EndBatch),
            Some(Control::EndPlay) => step.end = Some(PlayEnd::EndPlay),
            Some(Control::FlushHandlers) | None => {}
        }
        step
    }

    /// `strategy: free`: every host runs through the tasks on its own, as
    /// fast as it can; a banner is printed when a host starts a task other
    /// than the one last announced.
    async fn run_tasks_free(
        self: &Arc<Self>,
        pctx: &Arc<PlayCtx>,
        nodes: Arc<Vec<TaskNode>>,
    ) -> PlayEnd {
        let stop: Arc<Mutex<Option<PlayEnd>>> = Arc::new(Mutex::new(None));
        let mut set = tokio::task::JoinSet::new();
        let hosts: Vec<String> = pctx
            .batch
            .iter()
            .filter(|h| self.hosts.slot(h).with(|s| !s.failed && !s.unreachable))
            .filter(|h| !pctx.is_ended(h))
            .cloned()
            .collect();
        if let Ok(mut b) = self.free_banners.lock() {
            *b = FreeBanners {
                on: true,
                ..Default::default()
            };
        }
        for host in hosts {
            let (eng, pctx, nodes, stop) =
                (self.clone(), pctx.clone(), nodes.clone(), stop.clone());
            set.spawn(async move {
                let mut c = Cursor::new(nodes);
                while let Some(next) = c.peek() {
                    if stop.lock().map(|s| s.is_some()).unwrap_or(true) {
                        break;
                    }
                    if !eng.selected(&next) {
                        c.complete(false);
                        continue;
                    }
                    // The banner waits for the task's first shown result.
                    let banner = Banner {
                        id: Arc::as_ptr(&next.task) as usize,
                        handler: false,
                        name: eng.task_banner_name(&pctx, &next.task),
                        action: next.task.action.clone(),
                        path: format!("{}:{}", next.task.span.file.display(), next.task.span.line),
                    };
                    if let Ok(mut b) = eng.free_banners.lock() {
                        b.running.insert(host.clone(), banner);
                    }
                    // Hosts move independently here: magic lists refresh per task.
                    eng.task_seq
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let end = {
                        let _permit = eng.forks.clone().acquire_owned().await;
                        eng.exec_task(&pctx, &host, &next).await
                    };
                    eng.announce_includes(&[(host.clone(), end.clone())], &next.task);
                    let step = eng.apply_end(&pctx, &next, &host, end, &mut c);
                    let verdict = if step.end.is_some() {
                        step.end
                    } else if step.fatal || eng.max_fail_exceeded(&pctx) {
                        Some(PlayEnd::Abort)
                    } else {
                        None
                    };
                    if let Some(v) = verdict {
                        if let Ok(mut s) = stop.lock() {
                            s.get_or_insert(v);
                        }
                        return;
                    }
                    // Under free each host flushes its own handlers.
                    if next_is_flush(&next) {
                        let me = std::slice::from_ref(&host);
                        eng.flush_handlers(&pctx, Some(me), false).await;
                    }
                }
                // The section's closing flush, host by host too.
                if stop.lock().map(|s| s.is_none()).unwrap_or(false) {
                    let me = std::slice::from_ref(&host);
                    eng.flush_handlers(&pctx, Some(me), true).await;
                }
            });
        }
        while set.join_next().await.is_some() {}
        if let Ok(mut b) = self.free_banners.lock() {
            *b = FreeBanners::default();
        }
        let verdict = stop.lock().ok().and_then(|s| *s);
        match verdict {
            Some(PlayEnd::Abort) => {
                self.abort_batch(pctx);
                PlayEnd::Abort
            }
            Some(v @ (PlayEnd::EndBatch | PlayEnd::EndPlay)) => {
                self.end_batch(pctx);
                v
            }
            Some(v) => v,
            None => PlayEnd::Done,
        }
    }

    fn any_errors_fatal(&self, pctx: &PlayCtx, next: &Next) -> bool {
        let mut v = pctx.common.any_errors_fatal.clone();
        for b in &next.parents {
            if b.common.any_errors_fatal.is_some() {
                v = b.common.any_errors_fatal.clone();
            }
        }
        if next.task.common.any_errors_fatal.is_some() {
            v = next.task.common.any_errors_fatal.clone();
        }
        v.map(|x| truthy(&x)).unwrap_or(false)
    }

    /// More than `max_fail_percentage` of the batch has failed.
    fn max_fail_exceeded(&self, pctx: &PlayCtx) -> bool {
        let Some(pct) = pctx.max_fail_percentage else {
            return false;
        };
        let failed = pctx
            .batch
            .iter()
            .filter(|h| self.hosts.slot(h).with(|s| s.failed || s.unreachable))
            .count();
        !pctx.batch.is_empty() && (failed as f64 / pctx.batch.len() as f64) * 100.0 > pct
    }

    /// `--tags` / `--skip-tags` with `always` and `never`, on inherited tags;
    /// `--start-at-task` skips until the named task.
    fn selected(&self, next: &Next) -> bool {
        if let Ok(mut start) = self.start_at.lock() {
            if let Some(name) = start.as_ref() {
                // Ansible tries the task's own name, then the one its
                // banner shows (`role : name`).
                let t = &next.task;
                let full = t.in_role(&t.display_name());
                let hit = |n: &str| n == name || glob_match(name, n);
                if !t.common.name.as_deref().is_some_and(hit) && !hit(&full) {
                    return false;
                }
                *start = None;
            }
        }
        let mut tags: HashSet<&str> = HashSet::new();
        for b in &next.parents {
            tags.extend(b.common.tags.iter().map(String::as_str));
        }
        tags.extend(next.task.common.tags.iter().map(String::as_str));
        tag_selected(&tags, &self.opts.tags, &self.opts.skip_tags)
    }

    /// One handler on one host under `strategy: free`: its banner waits for
    /// its result, as a task's does.
    async fn run_handler_free(
        self: &Arc<Self>,
        pctx: &Arc<PlayCtx>,
        h: &Next,
        host: &str,
    ) -> TaskEnd {
        let banner = Banner {
            id: Arc::as_ptr(&h.task) as usize,
            handler: true,
            name: self.task_banner_name(pctx, &h.task),
            action: h.task.action.clone(),
            path: format!("{}:{}", h.task.span.file.display(), h.task.span.line),
        };
        if let Ok(mut b) = self.free_banners.lock() {
            b.running.insert(host.to_string(), banner);
        }
        self.task_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _permit = self.forks.clone().acquire_owned().await;
        self.exec_task(pctx, host, h).await
    }

    /// Run one task on a group of hosts at once; results are printed as each
    /// host finishes. Returns each host's end, in the group's order.
    async fn run_task_on(
        self: &Arc<Self>,
        pctx: &Arc<PlayCtx>,
        next: &Next,
        group: &[String],
        handler: bool,
    ) -> Vec<(String, TaskEnd)> {
        self.task_seq
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = self.task_banner_name(pctx, &next.task);
        let path = format!("{}:{}", next.task.span.file.display(), next.task.span.line);
        self.emit(&Event::TaskStart {
            name: &name,
            handler,
            action: &next.task.action,
            path: Some(&path),
            hosts: group.len(),
        });
        let run_once = task::inherited(&next.parents, &next.task, |c| c.run_once.clone())
            .map(|v| truthy(&v))
            .unwrap_or(false);
        let targets: Vec<String> = if run_once {
            group.iter().take(1).cloned().collect()
        } else {
            group.to_vec()
        };
        let mut set = tokio::task::JoinSet::new();
        for (i, host) in targets.iter().enumerate() {
            let (eng, pctx, next, host) = (self.clone(), pctx.clone(), next.clone(), host.clone());
            set.spawn(async move {
                let _permit = eng.forks.clone().acquire_owned().await;
                let end = eng.exec_task(&pctx, &host, &next).await;
                (i, host, end)
            });
        }
        let mut ends: Vec<(usize, String, TaskEnd)> = Vec::new();
        while let Some(r) = set.join_next().await {
            match r {
                Ok(x) => ends.push(x),
                Err(e) => self.emit(&Event::Warning(&format!(
                    "internal error running a task: {e}"
                ))),
            }
        }
        ends.sort_by_key(|(i, _, _)| *i);
        let mut out: Vec<(String, TaskEnd)> = ends.into_iter().map(|(_, h, e)| (h, e)).collect();
        self.announce_includes(&out, &next.task);
        // run_once: the one result stands for every host of the group
        // (registered and notified for each), as Ansible does.
        if run_once {
            if let Some((first_host, first)) = out.first().map(|(h, e)| (h.clone(), e.clone())) {
                // Facts the task set (set_fact) go to every host too.
                let facts = match first.result.get("ansible_facts") {
                    Some(Value::Object(m)) if task::is_set_fact(&next.task) => Some(m.clone()),
                    _ => None,
                };
                for h in group.iter().filter(|h| **h != first_host) {
                    if let Some(reg) = &next.task.register {
                        let v = first.registered.clone();
                        self.hosts.slot(h).with(|s| {
                            s.set_facts.insert(reg.clone(), v);
                        });
                    }
                    if let Some(f) = &facts {
                        self.hosts.slot(h).with(|s| {
                            for (k, v) in f {
                                s.set_facts.insert(k.clone(), v.clone());
                            }
                        });
                    }
                    if first.changed {
                        self.notify(h, next);
                    }
                    let mut copy = first.clone();
                    copy.uncounted = true;
                    out.push((h.clone(), copy));
                }
            }
        }
        out
    }

    fn task_banner_name(&self, pctx: &PlayCtx, t: &Task) -> String {
        let raw = t.display_name();
        if !Templar::is_template(&raw) {
            return t.in_role(&raw);
        }
        let mut vars = pctx.vars.clone();
        vars.extend(
            self.opts
                .extra_vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        let name = match self.templar.render_str(&raw, &Context::new(vars)) {
            Ok(Value::String(s)) => s,
            Ok(v) => crate::output::python_repr(&v, true),
            Err(_) => raw,
        };
        t.in_role(&name)
    }

    /// Record a changed task's notifications for the host.
    pub fn notify(&self, host: &str, next: &Next) {
        let mut names: Vec<String> = next.task.common.notify.clone();
        for b in &next.parents {
            names.extend(b.common.notify.iter().cloned());
        }
        if names.is_empty() {
            return;
        }
        self.hosts.slot(host).with(|s| {
            for n in names {
                s.notified.insert(n);
            }
        });
    }

    /// Run notified handlers in definition order on the hosts that notified
    /// them (by name or `listen` topic), in one pass as Ansible's iterator
    /// does: a handler notified by an earlier one in the pass runs in it; one
    /// defined before its notifier waits for the next flush.
    ///
    /// `at`: the hosts that flush (`None`: the whole batch). At the end of
    /// a section (`section_end`), `force_handlers` also takes failed hosts
    /// (Ansible wraps each section in a block whose `always:` flushes).
    async fn flush_handlers(
        self: &Arc<Self>,
        pctx: &Arc<PlayCtx>,
        at: Option<&[String]>,
        section_end: bool,
    ) {
        let force = pctx.force_handlers && section_end;
        let free = self.free_banners.lock().map(|b| b.on).unwrap_or(false);
        // A host that may not run handlers now keeps its notifications.
        let eligible: Vec<String> = pctx
            .batch
            .iter()
            .filter(|h| at.is_none_or(|a| a.contains(h)))
            .filter(|h| self.hosts.slot(h).with(|s| !s.failed || force))
            .cloned()
            .collect();
        let by_name = |n: &str| {
            pctx.handlers.iter().rposition(|h| {
                let name = h.task.display_name();
                name == n || (h.task.role.is_some() && h.task.in_role(&name) == n)
            })
        };
        // Handler index → hosts it is pending for.
        let mut pending: Vec<Vec<String>> = vec![Vec::new(); pctx.handlers.len()];
        let take_notified = |pending: &mut Vec<Vec<String>>| {
            for host in &eligible {
                let names = self
                    .hosts
                    .slot(host)
                    .with(|s| std::mem::take(&mut s.notified));
                for (i, h) in pctx.handlers.iter().enumerate() {
                    // By name the last handler of that name answers (a
                    // role's also to `role : name`); by `listen` every one.
                    let hit = names.iter().any(|n| by_name(n) == Some(i))
                        || h.task.listen.iter().any(|l| names.contains(l));
                    if hit && !pending[i].contains(host) {
                        pending[i].push(host.clone());
                    }
                }
            }
        };
        for i in 0..pctx.handlers.len() {
            take_notified(&mut pending);
            let h = &pctx.handlers[i];
            let group: Vec<String> = std::mem::take(&mut pending[i])
                .into_iter()
                .filter(|host| {
                    !pctx.is_ended(host)
                        && self
                            .hosts
                            .slot(host)
                            .with(|s| (!s.failed || force) && !s.unreachable)
                })
                .collect();
            if group.is_empty() {
                continue;
            }
            // Keep batch order, as hosts are shown.
            let group: Vec<String> = pctx
                .batch
                .iter()
                .filter(|b| group.contains(b))
                .cloned()
                .collect();
            let ends = if free {
                let mut ends = Vec::new();
                for host in &group {
                    ends.push((host.clone(), self.run_handler_free(pctx, h, host).await));
                }
                ends
            } else {
                self.run_task_on(pctx, h, &group, true).await
            };
            for (host, end) in ends {
                self.account(&host, &end);
                if end.outcome == Outcome::Failed && !end.ignored {
                    self.stat(&host, |s| s.failed += 1);
                    self.hosts.slot(&host).with(|s| s.failed = true);
                }
            }
        }
        // Notifications for handlers already passed wait for the next flush.
        take_notified(&mut pending);
        for (i, hosts) in pending.iter().enumerate() {
            let name = pctx.handlers[i].task.display_name();
            for host in hosts {
                self.hosts.slot(host).with(|s| {
                    s.notified.insert(name.clone());
                });
            }
        }
    }
}

/// What one host's task end asks of the strategy.
#[derive(Default)]
struct Step {
    /// A meta `end_batch` or `end_play`.
    end: Option<PlayEnd>,
    fatal: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PlayEnd {
    Done,
    EndBatch,
    EndPlay,
    Abort,
}

/// The files an include task's result included, each with its loop
/// item's result when looped.
fn included_files(result: &Value) -> Vec<(&str, Option<&Value>)> {
    let mut out = Vec::new();
    if let Some(Value::String(p)) = result.get("include") {
        out.push((p.as_str(), None));
    }
    if let Some(Value::Array(items)) = result.get("results") {
        for r in items {
            if let Some(Value::String(p)) = r.get("include") {
                out.push((p.as_str(), Some(r)));
            }
        }
    }
    out
}

/// The action of a meta task (`flush_handlers`, `end_host` …).
fn meta_action(next: &Next) -> Option<String> {
    if !task::is_meta(&next.task) {
        return None;
    }
    let raw = next.task.args.get("_raw_params").and_then(Value::as_str);
    Some(raw.unwrap_or_default().trim().to_string())
}

/// Meta actions Ansible's linear strategy runs once for all hosts (its
/// `run_once` for metas): all but the per-host ones.
fn meta_runs_once(action: &str) -> bool {
    !matches!(
        action,
        "noop" | "reset_connection" | "end_host" | "role_complete" | "flush_handlers" | "end_role"
    )
}

fn next_is_flush(next: &Next) -> bool {
    meta_action(next).as_deref() == Some("flush_handlers")
}

/// Handlers as a flat list (blocks in handlers pass their keywords down).
fn flatten_handlers(nodes: &[TaskNode]) -> Vec<Next> {
    fn walk(nodes: &[TaskNode], parents: &mut Vec<Arc<Block>>, out: &mut Vec<Next>) {
        for n in nodes {
            match n {
                TaskNode::Task(t) => out.push(Next {
                    task: t.clone(),
                    parents: parents.clone(),
                }),
                TaskNode::Block(b) => {
                    parents.push(b.clone());
                    walk(&b.block, parents, out);
                    parents.pop();
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(nodes, &mut Vec::new(), &mut out);
    out
}

/// Split the play's hosts into `serial` batches (a number, a percentage, or
/// a list of those with the last repeating).
fn batches(
    hosts: &[String],
    serial: Option<&Value>,
    templar: &Templar,
    ctx: &Context,
) -> Vec<Vec<String>> {
    let Some(serial) = serial else {
        return vec![hosts.to_vec()];
    };
    let serial = templar.render_value(serial, ctx).unwrap_or(Value::Null);
    let sizes: Vec<Value> = match serial {
        Value::Array(a) => a,
        Value::Null => return vec![hosts.to_vec()],
        v => vec![v],
    };
    let n = hosts.len();
    let size_of = |v: &Value| -> usize {
        let s = match v {
            Value::Number(x) => x.as_f64().unwrap_or(0.0),
            Value::String(s) if s.trim().ends_with('%') => {
                let pct: f64 = s.trim().trim_end_matches('%').parse().unwrap_or(100.0);
                ((n as f64) * pct / 100.0).floor().max(1.0)
            }
            Value::String(s) => s.trim().parse().unwrap_or(0.0),
            _ => 0.0,
        };
        if s <= 0.0 {
            n
        } else {
            s as usize
        }
    };
    let mut out = Vec::new();
    let mut i = 0;
    let mut k = 0;
    while i < n {
        let size = size_of(&sizes[k.min(sizes.len() - 1)]).max(1);
        out.push(hosts[i..(i + size).min(n)].to_vec());
        i += size;
        k += 1;
    }
    out
}

/// Ansible's `Taggable.evaluate_tags`: no tags means `untagged`, no
/// `--tags` means `all`.
pub fn tag_selected(tags: &HashSet<&str>, only: &[String], skip: &[String]) -> bool {
    let untagged: HashSet<&str> = ["untagged"].into_iter().collect();
    let tags = if tags.is_empty() { &untagged } else { tags };
    let has = |t: &str| tags.contains(t);
    let is_untagged = tags.len() == 1 && has("untagged");
    let all = vec!["all".to_string()];
    let only = if only.is_empty() { &all } else { only };
    let in_only = |t: &str| only.iter().any(|o| o == t);
    let in_skip = |t: &str| skip.iter().any(|o| o == t);
    let should_run = has("always")
        || (in_only("all") && !has("never"))
        || only.iter().any(|o| has(o))
        || (in_only("tagged") && !is_untagged && !has("never"));
    if !should_run {
        return false;
    }
    if in_skip("all") {
        return has("always") && !in_skip("always");
    }
    if skip.iter().any(|s| has(s)) {
        return false;
    }
    !in_skip("tagged") || is_untagged
}

/// Python-like truthiness for keyword values (`yes`, `"true"`, 1 …).
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::String(s) => crate::config::ansible_bool(s),
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

fn glob_match(pattern: &str, s: &str) -> bool {
    let re = regex::escape(pattern)
        .replace("\\*", ".*")
        .replace("\\?", ".");
    regex::Regex::new(&format!("^{re}$"))
        .map(|r| r.is_match(s))
        .unwrap_or(false)
}

/// `ansible_failed_task`: the commonly read part of Ansible's serialised task.
fn failed_task_value(t: &Task) -> Value {
    let c = &t.common;
    serde_json::json!({
        "_resolved_action": t.fqcn(),
        "action": t.action,
        "args": t.args,
        "delegate_to": c.delegate_to,
        "ignore_errors": c.ignore_errors,
        "loop": t.loop_.as_ref().filter(|l| l.lookup.is_none()).map(|l| l.value.clone()),
        "loop_with": t.loop_.as_ref().and_then(|l| l.lookup.clone()),
        "name": c.name.clone().unwrap_or_default(),
        "no_log": c.no_log.clone().unwrap_or(Value::Bool(false)),
        "register": t.register,
        "run_once": c.run_once,
        "tags": c.tags,
        "when": c.when,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set<'a>(v: &[&'a str]) -> HashSet<&'a str> {
        v.iter().copied().collect()
    }

    #[test]
    fn tags_like_ansible() {
        let none: Vec<String> = vec![];
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(tag_selected(&set(&[]), &none, &none));
        assert!(!tag_selected(&set(&["never"]), &none, &none));
        assert!(tag_selected(
            &set(&["never", "debug"]),
            &s(&["debug"]),
            &none
        ));
        assert!(tag_selected(&set(&["always"]), &s(&["web"]), &none));
        assert!(!tag_selected(
            &set(&["always"]),
            &s(&["web"]),
            &s(&["always"])
        ));
        assert!(!tag_selected(&set(&["db"]), &s(&["web"]), &none));
        assert!(tag_selected(&set(&["web"]), &s(&["web"]), &none));
        assert!(!tag_selected(&set(&["web"]), &none, &s(&["web"])));
        assert!(tag_selected(&set(&["x"]), &s(&["tagged"]), &none));
        assert!(!tag_selected(&set(&[]), &s(&["tagged"]), &none));
    }
}
