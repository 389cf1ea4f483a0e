//! The command line: flags spelled as Ansible spells them, parsed with clap,
//! and the mapping of outcomes to exit codes. Nothing else happens here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::connection::ConnDefaults;
use crate::error::Error;
use crate::inventory::Inventory;

#[derive(Parser, Debug)]
#[command(
    name = "ferry",
    version,
    about = "Agentless, Ansible-compatible configuration runner"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one module on the hosts matching a pattern.
    Adhoc(AdhocArgs),
    /// Run a playbook.
    Playbook(PlaybookArgs),
    /// Show the inventory as Ansible's ansible-inventory does.
    Inventory(InventoryArgs),
}

/// Flags shared by every subcommand that talks to hosts.
#[derive(Args, Debug, Clone, Default)]
pub struct CommonArgs {
    /// Inventory: a file, a directory, or a comma list `host1,host2,` (repeatable).
    #[arg(short = 'i', long = "inventory", alias = "inventory-file")]
    pub inventory: Vec<String>,
    /// Further narrow the hosts to this pattern.
    #[arg(short = 'l', long = "limit")]
    pub limit: Option<String>,
    /// Connect as this user.
    #[arg(short = 'u', long = "user")]
    pub user: Option<String>,
    /// Private key file for authentication.
    #[arg(long = "private-key", alias = "key-file")]
    pub private_key: Option<PathBuf>,
    /// How many hosts to run at once.
    #[arg(short = 'f', long = "forks")]
    pub forks: Option<usize>,
    /// Extra variables: `k=v`, a JSON/YAML mapping, or `@file` (repeatable).
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// More output (-v … -vvvv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Connection type (ssh, local).
    #[arg(short = 'c', long = "connection")]
    pub connection: Option<String>,
    /// Connection timeout in seconds.
    #[arg(short = 'T', long = "timeout")]
    pub timeout: Option<u64>,
    /// Extra arguments for every SSH connection (`-o Key=Value` …).
    #[arg(long = "ssh-common-args")]
    pub ssh_common_args: Option<String>,
    /// Extra arguments for SSH only.
    #[arg(long = "ssh-extra-args")]
    pub ssh_extra_args: Option<String>,
    /// Keep retrying to connect (with backoff) for up to this many seconds,
    /// for hosts that are still booting.
    #[arg(long = "connect-timeout")]
    pub connect_timeout: Option<u64>,
    /// Do not change anything; report what would change.
    #[arg(short = 'C', long = "check")]
    pub check: bool,
}

#[derive(Args, Debug)]
pub struct AdhocArgs {
    /// Host pattern (`all`, `web:&prod`, `!db`, `~re`, `grp[0:2]` …).
    pub pattern: String,
    /// Module name.
    #[arg(short = 'm', long = "module-name", default_value = "command")]
    pub module: String,
    /// Module arguments.
    #[arg(short = 'a', long = "args", default_value = "")]
    pub args: String,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct PlaybookArgs {
    /// Playbook files.
    #[arg(required = true)]
    pub playbooks: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Show what changes in files (with --check: what would change).
    #[arg(short = 'D', long = "diff")]
    pub diff: bool,
    /// Only run plays and tasks tagged with these (comma-separated, repeatable).
    #[arg(short = 't', long = "tags")]
    pub tags: Vec<String>,
    /// Skip plays and tasks tagged with these.
    #[arg(long = "skip-tags")]
    pub skip_tags: Vec<String>,
    /// List the hosts each play would run on, and exit.
    #[arg(long = "list-hosts")]
    pub list_hosts: bool,
    /// List the tasks each play would run, and exit.
    #[arg(long = "list-tasks")]
    pub list_tasks: bool,
    /// List the tags, and exit.
    #[arg(long = "list-tags")]
    pub list_tags: bool,
    /// Parse the playbook and exit.
    #[arg(long = "syntax-check")]
    pub syntax_check: bool,
    /// Run handlers even on hosts that failed.
    #[arg(long = "force-handlers")]
    pub force_handlers: bool,
    /// Start at the task with this name.
    #[arg(long = "start-at-task")]
    pub start_at_task: Option<String>,
    /// Output format on stdout: `default` (Ansible's) or `json` (one document at the end).
    #[arg(long = "output", value_parser = ["default", "json"], default_value = "default")]
    pub output: String,
    /// Also write a JUnit XML report (a test case per task and host) to this file.
    #[arg(long = "junit")]
    pub junit: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct InventoryArgs {
    /// Print the whole inventory as JSON.
    #[arg(long)]
    pub list: bool,
    /// Print the group tree, optionally from one group.
    #[arg(long, num_args = 0..=1, default_missing_value = "all")]
    pub graph: Option<String>,
    /// Print one host's variables as JSON.
    #[arg(long)]
    pub host: Option<String>,
    /// Inventory sources (repeatable).
    #[arg(short = 'i', long = "inventory", alias = "inventory-file")]
    pub inventory: Vec<String>,
}

/// Parse the process arguments, run, and return the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 5,
            };
            let _ = e.print();
            return code;
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("[ERROR]: {e}");
            e.exit_code()
        }
    }
}

fn run(cli: Cli) -> Result<i32, Error> {
    let config = Config::load()?;
    match cli.command {
        Command::Inventory(a) => inventory_cmd(&config, a),
        Command::Adhoc(a) => {
            let inv = load_inventory(&config, &a.common.inventory)?;
            let opts = crate::adhoc::AdhocOptions {
                pattern: a.pattern,
                limit: a.common.limit.clone(),
                module: a.module,
                args: a.args,
                forks: a.common.forks.or(config.forks).unwrap_or(50),
                extra_vars: crate::vars::parse_extra_vars(&a.common.extra_vars)?,
                defaults: conn_defaults(&config, &a.common),
                check: a.common.check,
            };
            runtime()?.block_on(async {
                tokio::select! {
                    r = crate::adhoc::run(&inv, opts) => r,
                    _ = tokio::signal::ctrl_c() => {
                        eprintln!("[ERROR]: User interrupted execution");
                        Ok(99)
                    }
                }
            })
        }
        Command::Playbook(a) => crate::playbook_cmd::run(&config, a),
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))
}

/// `-i` wins over ansible.cfg's `inventory`; with neither, Ansible's default
/// `/etc/ansible/hosts` is tried, then only the implicit localhost remains.
pub fn load_inventory(config: &Config, cli: &[String]) -> Result<Inventory, Error> {
    let sources: Vec<String> = if !cli.is_empty() {
        cli.to_vec()
    } else if !config.inventory.is_empty() {
        config.inventory.clone()
    } else if std::path::Path::new("/etc/ansible/hosts").exists() {
        vec!["/etc/ansible/hosts".to_string()]
    } else {
        Vec::new()
    };
    let inv = Inventory::load(&sources)?;
    for w in &inv.warnings {
        crate::output::warn(w);
    }
    Ok(inv)
}

/// Command line over ansible.cfg/`ANSIBLE_*`.
pub fn conn_defaults(config: &Config, a: &CommonArgs) -> ConnDefaults {
    ConnDefaults {
        connection: a.connection.clone(),
        remote_user: a.user.clone().or_else(|| config.remote_user.clone()),
        private_key_file: a
            .private_key
            .clone()
            .or_else(|| config.private_key_file.clone()),
        timeout: a.timeout.or(config.timeout),
        host_key_checking: config.host_key_checking,
        ssh_args: config.ssh_args.clone(),
        ssh_common_args: a
            .ssh_common_args
            .clone()
            .or_else(|| config.ssh_common_args.clone()),
        ssh_extra_args: a
            .ssh_extra_args
            .clone()
            .or_else(|| config.ssh_extra_args.clone()),
        retries: config.retries,
        password: None,
        connect_deadline: a.connect_timeout.map(std::time::Duration::from_secs),
    }
}

fn inventory_cmd(config: &Config, a: InventoryArgs) -> Result<i32, Error> {
    let inv = load_inventory(config, &a.inventory)?;
    let out = if a.list {
        crate::output::dump_json(&inv.list_json())
    } else if let Some(h) = a.host {
        crate::output::dump_json(&inv.host_json(&h)?)
    } else if let Some(g) = a.graph {
        inv.graph(Some(&g))?
    } else {
        return Err(Error::Options(
            "no action selected: use --list, --graph or --host".into(),
        ));
    };
    crate::output::emit(&format!("{}\n", out.trim_end()));
    Ok(0)
}
