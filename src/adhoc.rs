//! `ferry adhoc PATTERN -m MODULE -a ARGS`: one module on every matched host at
//! once (bounded by `--forks`), printed per host in Ansible's ad-hoc format.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::Semaphore;

use crate::connection::{ConnDefaults, ConnError, ConnSpec, Connection};
use crate::error::Error;
use crate::inventory::Inventory;
use crate::modules::{Args, ModResult, ModuleCtx, ModuleId};
use crate::output::{self, Status};
use crate::vars::Vars;

/// Everything `ferry adhoc` needs besides the inventory.
pub struct AdhocOptions {
    pub pattern: String,
    pub limit: Option<String>,
    pub module: String,
    pub args: String,
    pub forks: usize,
    pub extra_vars: Vars,
    pub defaults: ConnDefaults,
    pub check: bool,
}

/// Exit codes as Ansible's: 0 all ok, 2 a host failed, 4 a host unreachable.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FAILED: i32 = 2;
pub const EXIT_UNREACHABLE: i32 = 4;

/// Run and print; returns the exit code.
pub async fn run(inv: &Inventory, opts: AdhocOptions) -> Result<i32, Error> {
    let module = ModuleId::lookup(&opts.module).ok_or_else(|| {
        let hint = crate::modules::closest_name(&opts.module)
            .map(|n| format!(" Did you mean '{n}'?"))
            .unwrap_or_default();
        Error::Parse(format!(
            "couldn't resolve module/action '{}'.{hint}",
            opts.module
        ))
    })?;
    let args: Args = crate::kv::parse_kv(&opts.args, module.takes_raw_params());
    // Ad hoc has no parse phase in Ansible: a module's own checks fail on
    // each host when it runs (exit 2). Free-form text where none is taken
    // is refused on the controller, before connecting, for every host.
    let refused = match args.get("_raw_params") {
        Some(Value::String(s)) if !s.is_empty() && !module.spec().raw_params => Some(format!(
            "Task failed: Action '{}' does not support raw params.",
            crate::playbook::resolved_fqcn(&opts.module)
        )),
        _ => None,
    };
    let hosts = select_hosts(inv, &opts.pattern, opts.limit.as_deref())?;
    if hosts.is_empty() {
        output::warn("No hosts matched, nothing to do");
        return Ok(EXIT_OK);
    }

    let sem = Arc::new(Semaphore::new(opts.forks.max(1)));
    let warned: Arc<Mutex<HashSet<String>>> = Arc::default();
    let args = Arc::new(args);
    let defaults = Arc::new(opts.defaults);
    let extra = Arc::new(opts.extra_vars);
    let mut tasks = tokio::task::JoinSet::new();
    for host in hosts {
        let mut vars = inv.host_vars(&host);
        if !inv.hosts.contains_key(&host) {
            // Ansible's implicit localhost.
            vars.insert("ansible_connection".into(), Value::String("local".into()));
        }
        for (k, v) in extra.iter() {
            vars.insert(k.clone(), v.clone());
        }
        let (sem, warned, args, defaults, check, refused) = (
            sem.clone(),
            warned.clone(),
            args.clone(),
            defaults.clone(),
            opts.check,
            refused.clone(),
        );
        tasks.spawn(async move {
            if let Some(msg) = refused {
                return print(&host, Status::Failed, crate::modules::failed(msg), false);
            }
            let _permit = sem.acquire_owned().await;
            let status = run_host(&host, &vars, &defaults, module, &args, check, &warned).await;
            status
        });
    }
    let mut any_failed = false;
    let mut any_unreachable = false;
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Status::Failed) => any_failed = true,
            Ok(Status::Unreachable) => any_unreachable = true,
            Ok(_) => {}
            Err(e) => {
                output::warn(&format!("internal error in a host task: {e}"));
                any_failed = true;
            }
        }
    }
    Ok(if any_unreachable {
        EXIT_UNREACHABLE
    } else if any_failed {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

/// The pattern's hosts, narrowed by `--limit` when given, in inventory order.
pub fn select_hosts(
    inv: &Inventory,
    pattern: &str,
    limit: Option<&str>,
) -> Result<Vec<String>, Error> {
    let mut hosts = inv.select(pattern)?;
    if let Some(limit) = limit {
        let allowed: HashSet<String> = inv.select(limit)?.into_iter().collect();
        hosts.retain(|h| allowed.contains(h));
    }
    Ok(hosts)
}

async fn run_host(
    host: &str,
    vars: &Vars,
    defaults: &ConnDefaults,
    module: ModuleId,
    args: &Args,
    check: bool,
    warned: &Mutex<HashSet<String>>,
) -> Status {
    let spec = match ConnSpec::resolve(host, vars, defaults) {
        Ok(s) => s,
        Err(msg) => {
            let r = crate::modules::failed(msg);
            return print(host, Status::Failed, r, false);
        }
    };
    for w in &spec.warnings {
        let first = warned
            .lock()
            .map(|mut s| s.insert(w.clone()))
            .unwrap_or(true);
        if first {
            output::warn(w);
        }
    }
    let conn = match Connection::connect(&spec).await {
        Ok(c) => c,
        Err(e) => return print(host, Status::Unreachable, unreachable(&e), false),
    };
    let ctx = ModuleCtx {
        conn: &conn,
        check_mode: check,
        diff: false,
        env: Vec::new(),
        search_paths: Vec::new(),
    };
    let status = match module.run(&ctx, args).await {
        Ok(r) => {
            let status = if r.get("failed") == Some(&Value::Bool(true)) {
                Status::Failed
            } else if r.get("changed") == Some(&Value::Bool(true)) {
                Status::Changed
            } else {
                Status::Ok
            };
            print(host, status, r, module.prints_as_text())
        }
        Err(e) => print(host, Status::Unreachable, unreachable(&e), false),
    };
    conn.close().await;
    status
}

fn unreachable(e: &ConnError) -> ModResult {
    let mut r = ModResult::new();
    r.insert("changed".into(), Value::Bool(false));
    r.insert("msg".into(), Value::String(e.to_string()));
    r.insert("unreachable".into(), Value::Bool(true));
    r
}

fn print(host: &str, status: Status, r: ModResult, text: bool) -> Status {
    output::emit(&output::adhoc_record(host, status, &Value::Object(r), text));
    status
}
