//! `ferry playbook`: parse every playbook before anything runs, then run them
//! (or only list hosts/tasks/tags, or check the syntax).

use std::sync::Arc;

use crate::cli::PlaybookArgs;
use crate::config::Config;
use crate::engine::{Engine, RunOptions};
use crate::error::Error;
use crate::output::human::Human;
use crate::output::json::Json;
use crate::output::junit::Junit;
use crate::output::{Fanout, Sink};
use crate::template::{Templar, TemplarOptions};

pub fn run(config: &Config, a: PlaybookArgs) -> Result<i32, Error> {
    let mut books = Vec::new();
    for p in &a.playbooks {
        if !p.is_file() {
            return Err(Error::Other(format!(
                "the playbook: {} could not be found",
                p.display()
            )));
        }
        // Absolute paths, as Ansible shows them in errors and `included:` lines.
        let abs = p.canonicalize().unwrap_or_else(|_| p.clone());
        books.push(crate::playbook::load(&abs, config.roles_path.as_deref())?);
    }
    if a.syntax_check {
        for p in &a.playbooks {
            println!("\nplaybook: {}", p.display());
        }
        return Ok(0);
    }
    let inventory = Arc::new(crate::cli::load_inventory(config, &a.common.inventory)?);
    let split = |v: &[String]| -> Vec<String> {
        v.iter()
            .flat_map(|s| s.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let opts = RunOptions {
        extra_vars: crate::vars::parse_extra_vars(&a.common.extra_vars)?,
        check: a.common.check,
        diff: a.diff,
        tags: split(&a.tags),
        skip_tags: split(&a.skip_tags),
        limit: a.common.limit.clone(),
        forks: a.common.forks.or(config.forks).unwrap_or(50),
        verbosity: a.common.verbose.max(config.verbosity.unwrap_or(0)),
        defaults: crate::cli::conn_defaults(config, &a.common),
        start_at_task: a.start_at_task.clone(),
        config_file: config.path.clone(),
        force_handlers: a.force_handlers || config.force_handlers.unwrap_or(false),
    };
    if a.list_hosts || a.list_tasks || a.list_tags {
        return list(&books, &inventory, &opts, &a);
    }
    if opts.verbosity >= 1 && a.output != "json" {
        match &config.path {
            Some(p) => println!("Using {} as config file", p.display()),
            None => println!("No config file found; using defaults"),
        }
    }
    let rt = crate::cli::runtime()?;
    let mut code = 0;
    for (path, book) in a.playbooks.iter().zip(books.iter()) {
        let dir = path
            .canonicalize()
            .ok()
            .and_then(|p| p.parent().map(|d| d.to_path_buf()))
            .unwrap_or_default();
        let mut templar = Templar::new(TemplarOptions {
            playbook_dir: dir.clone(),
            search_paths: vec![dir.clone()],
            check_mode: opts.check,
        });
        crate::aws::register_lookups(&mut templar);
        let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
        if a.output == "json" {
            sinks.push(Arc::new(Json::new(std::io::stdout())));
        } else {
            sinks.push(Arc::new(
                Human::new(std::io::stdout(), opts.verbosity).with_progress(),
            ));
        }
        if let Some(f) = &a.junit {
            sinks.push(Arc::new(Junit::new(f.clone(), &path.display().to_string())));
        }
        let sink = Arc::new(Fanout(sinks));
        let engine = Engine::new(inventory.clone(), opts.clone(), templar, sink);
        code = rt.block_on(async {
            tokio::select! {
                r = engine.run(book) => r,
                // Dropping the run aborts every host's task; files on hosts are
                // written through temporary files, so none is left half-written.
                _ = tokio::signal::ctrl_c() => {
                    eprintln!("[ERROR]: User interrupted execution");
                    Ok(99)
                }
            }
        })?;
        if code != 0 {
            break;
        }
    }
    Ok(code)
}

/// `--list-hosts`, `--list-tasks`, `--list-tags` in ansible-playbook's layout.
fn list(
    books: &[crate::playbook::Playbook],
    inventory: &crate::inventory::Inventory,
    opts: &RunOptions,
    a: &PlaybookArgs,
) -> Result<i32, Error> {
    use crate::playbook::TaskNode;
    for (path, book) in a.playbooks.iter().zip(books) {
        println!("\nplaybook: {}", path.display());
        for (i, play) in book.plays.iter().enumerate() {
            let pattern = match &play.hosts {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = play.name.clone().unwrap_or_else(|| pattern.clone());
            let tags = play.common.tags.join(", ");
            println!(
                "\n  play #{} ({}): {}\tTAGS: [{}]",
                i + 1,
                pattern,
                name,
                tags
            );
            if a.list_hosts {
                let hosts = crate::adhoc::select_hosts(inventory, &pattern, opts.limit.as_deref())?;
                println!("    pattern: ['{pattern}']\n    hosts ({}):", hosts.len());
                for h in hosts {
                    println!("      {h}");
                }
            }
            if a.list_tasks || a.list_tags {
                let mut all_tags: Vec<String> = play.common.tags.clone();
                fn walk(
                    nodes: &[TaskNode],
                    inherited: &[String],
                    out: &mut Vec<(String, Vec<String>)>,
                ) {
                    for n in nodes {
                        match n {
                            TaskNode::Task(t) => {
                                let mut tags = inherited.to_vec();
                                tags.extend(t.common.tags.iter().cloned());
                                // A named task shows its role; an unnamed one
                                // only its action, as Ansible lists them.
                                let name = match &t.common.name {
                                    Some(n) => t.in_role(n),
                                    None => t.action.clone(),
                                };
                                out.push((name, tags));
                            }
                            TaskNode::Block(b) => {
                                let mut tags = inherited.to_vec();
                                tags.extend(b.common.tags.iter().cloned());
                                walk(&b.block, &tags, out);
                                walk(&b.rescue, &tags, out);
                                walk(&b.always, &tags, out);
                            }
                        }
                    }
                }
                let mut tasks = Vec::new();
                for section in [&play.pre_tasks, &play.tasks, &play.post_tasks] {
                    walk(section, &play.common.tags, &mut tasks);
                }
                if a.list_tasks {
                    println!("    tasks:");
                }
                for (name, tags) in &tasks {
                    // --list-tags shows every tag, even of tasks not selected.
                    all_tags.extend(tags.iter().cloned());
                    let set: std::collections::HashSet<&str> =
                        tags.iter().map(String::as_str).collect();
                    if !crate::engine::tag_selected(&set, &opts.tags, &opts.skip_tags) {
                        continue;
                    }
                    if a.list_tasks {
                        let mut t = tags.clone();
                        t.sort();
                        t.dedup();
                        println!("      {name}\tTAGS: [{}]", t.join(", "));
                    }
                    all_tags.extend(tags.iter().cloned());
                }
                if a.list_tags {
                    all_tags.sort();
                    all_tags.dedup();
                    println!("      TASK TAGS: [{}]", all_tags.join(", "));
                }
            }
        }
    }
    Ok(0)
}
