//! Ansible compatibility suite: every directory under `tests/compat/` is one
//! case, run with the ferry binary and compared with what `ansible-playbook`
//! 2.19 printed for the same input.
//!
//! A case directory holds:
//! * `site.yml` and `inventory` — run as `playbook -i inventory site.yml`;
//! * `args` (optional) — extra command-line arguments, one per line;
//! * `runs` (optional) — how many times to run (default 1; `2` checks
//!   idempotence); the outputs are concatenated, each run after a
//!   `#### run N rc=R` line;
//! * `filter` (optional) — a regex; only stdout lines matching it are
//!   compared (for `-vvv`-style output full of temp paths and timestamps);
//! * `check_stderr` (optional) — also compare stderr (`expected_stderr.txt`),
//!   used for error cases where Ansible prints nothing on stdout;
//! * `expected.txt`, `expected_rc` — captured from ansible-playbook.
//!
//! Each case runs in a fresh copy of its directory (a temp dir), with
//! `HOME` pointing there, no ansible.cfg and colour off.
//!
//! Normalisation (`normalise`), applied to Ansible's and ferry's output alike:
//! 1. the temp dir path becomes `<DIR>`;
//! 2. `"delta"`, `"start"` and `"end"` JSON values become `"<T>"`;
//! 3. trailing whitespace is removed from every line;
//! 4. inside each section (a `TASK [`, `RUNNING HANDLER [`, `PLAY [` …
//!    header up to the next header) the host results are sorted by host
//!    (stable, so one host's loop items keep their order). A result starts
//!    at a line like `ok: [h1]`, `fatal: [h1]: …`, `included: … for h1` or
//!    `FAILED - RETRYING: [h1]: …` and runs to the next one; an `[ERROR]` or
//!    `[WARNING]` message joins the result line that follows it. Hosts
//!    finish in any order, so this is the only ordering Ansible guarantees.
//!
//! Cases listed in `tests/compat/KNOWN_DIFFERENCES.md` (lines starting
//! with ``- `case` ``) are skipped with a note; set `COMPAT_STRICT=1` to run
//! them too. `COMPAT_ONLY=name1,name2` restricts the run to those cases.
//!
//! Recording: `COMPAT_RECORD=/path/to/ansible-playbook cargo test --test
//! compat` runs Ansible instead of ferry and rewrites the expected files
//! (set `ANSIBLE_PYTHON_INTERPRETER` to the Python that has ansible-core).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::LazyLock;

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compat")
}

/// Case names listed in KNOWN_DIFFERENCES.md as ``- `name` …``.
fn known_differences() -> BTreeSet<String> {
    let text = fs::read_to_string(compat_dir().join("KNOWN_DIFFERENCES.md")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(str::to_string)
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Is this line the start of a new output section?
fn is_header(line: &str) -> bool {
    [
        "PLAY [",
        "TASK [",
        "RUNNING HANDLER [",
        "PLAY RECAP",
        "#### run ",
    ]
    .iter()
    .any(|p| line.starts_with(p))
}

/// Does this line start a host result (`ok: [h1]`, `fatal: [h1]: …`,
/// `included: … for h1`, `FAILED - RETRYING: [h1]: …`)?
fn is_result(line: &str) -> bool {
    static STATUS: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"^(ok|changed|fatal|failed|skipping|unreachable|FAILED - RETRYING): \[|^included: ",
        )
        .unwrap()
    });
    STATUS.is_match(line)
}

/// Does this line start a message that precedes a host result
/// (`[ERROR]: …` with its `Origin:` excerpt, `[WARNING]: …`)?
fn is_message(line: &str) -> bool {
    line.starts_with("[ERROR]") || line.starts_with("[WARNING]") || line.starts_with("[DEPRECATION")
}

/// The host a result belongs to: the `[name]` of its first result line, or
/// the text after ` for ` on an `included:` line.
fn host_key(entry: &[String]) -> String {
    let Some(line) = entry.iter().find(|l| is_result(l)) else {
        return String::new();
    };
    if let Some(rest) = line.strip_prefix("included: ") {
        return rest.rsplit(" for ").next().unwrap_or("").to_string();
    }
    match (line.find('['), line.find(']')) {
        (Some(a), Some(b)) if a < b => line[a + 1..b].to_string(),
        _ => String::new(),
    }
}

/// Sort one section's host results by host (see the module comment).
/// A result starts at a result line (or at an `[ERROR]`/`[WARNING]` message,
/// which then also takes the result line after it); every other line
/// continues the current result.
fn sort_section(lines: &[String], out: &mut Vec<String>) {
    let mut entries: Vec<Vec<String>> = vec![Vec::new()];
    let mut pending_message = false;
    for line in lines {
        if is_message(line) {
            if !pending_message {
                entries.push(Vec::new());
            }
            pending_message = true;
        } else if is_result(line) {
            if !pending_message {
                entries.push(Vec::new());
            }
            pending_message = false;
        }
        entries.last_mut().unwrap().push(line.clone());
    }
    // Lines before the first result (blank lines after a header) stay put.
    let head = entries.remove(0);
    out.extend(head);
    // A trailing blank line belongs to the section, not to its last host.
    let mut trailing = Vec::new();
    if let Some(last) = entries.last_mut() {
        while last.len() > 1 && last.last().is_some_and(|l| l.is_empty()) {
            trailing.push(last.pop().unwrap());
        }
    }
    entries.sort_by_key(|e| host_key(e));
    // Error blocks go before the results: which host's failure carries a
    // block depends on who finished first (an identical block prints once).
    let mut blocks = Vec::new();
    let mut results = Vec::new();
    for e in entries {
        let split = e.iter().position(|l| is_result(l)).unwrap_or(0);
        blocks.extend(e[..split].iter().cloned());
        results.extend(e[split..].iter().cloned());
    }
    out.extend(blocks);
    out.extend(results);
    out.extend(trailing);
}

fn normalise(text: &str, dir: &Path) -> String {
    let text = text.replace(&dir.display().to_string(), "<DIR>");
    let timing = regex::Regex::new(r#""(delta|start|end)": "[^"]*""#).unwrap();
    let text = timing.replace_all(&text, r#""$1": "<T>""#);
    let mut out = Vec::new();
    let mut section: Vec<String> = Vec::new();
    for line in text.lines().map(|l| l.trim_end().to_string()) {
        if is_header(&line) {
            sort_section(&section, &mut out);
            section.clear();
            out.push(line);
        } else {
            section.push(line);
        }
    }
    sort_section(&section, &mut out);
    let mut s = out.join("\n");
    s.push('\n');
    s
}

struct Outcome {
    stdout: String,
    stderr: String,
    rc: i32,
}

/// Run the case in a fresh temp copy with `program` (ferry or Ansible).
fn run_case(case: &Path, program: &str, is_ferry: bool) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("case");
    copy_dir(case, &dir);
    let mut args: Vec<String> = vec!["-i".into(), "inventory".into(), "site.yml".into()];
    if let Ok(extra) = fs::read_to_string(case.join("args")) {
        args.extend(extra.lines().filter(|l| !l.is_empty()).map(str::to_string));
    }
    let runs: usize = fs::read_to_string(case.join("runs"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1);
    let (mut stdout, mut stderr, mut rc) = (String::new(), String::new(), 0);
    for n in 1..=runs {
        let mut cmd = Command::new(program);
        if is_ferry {
            cmd.arg("playbook");
        }
        let out = cmd
            .args(&args)
            .current_dir(&dir)
            .env("HOME", &dir)
            .env_remove("ANSIBLE_CONFIG")
            .env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_FORCE_COLOR", "0")
            .env("COLUMNS", "80")
            .env("FERRY_NO_PROMPT", "1")
            .output()
            .expect("run playbook");
        if runs > 1 {
            let code = out.status.code().unwrap_or(-1);
            stdout.push_str(&format!("#### run {n} rc={code}\n"));
        }
        stdout.push_str(&String::from_utf8_lossy(&out.stdout));
        stderr.push_str(&String::from_utf8_lossy(&out.stderr));
        rc = out.status.code().unwrap_or(-1);
    }
    let mut stdout = normalise(&stdout, &dir);
    if let Ok(filter) = fs::read_to_string(case.join("filter")) {
        let re = regex::Regex::new(filter.trim()).unwrap();
        stdout = stdout
            .lines()
            .filter(|l| re.is_match(l))
            .map(|l| format!("{l}\n"))
            .collect();
    }
    Outcome {
        stdout,
        stderr: normalise(&stderr, &dir),
        rc,
    }
}

/// A compact line diff: the first differing lines with some context.
fn diff(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let first = e.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let from = first.saturating_sub(3);
    let mut s = format!("first difference at line {}\n", first + 1);
    for l in &e[from..e.len().min(first + 8)] {
        s.push_str(&format!("  ansible| {l}\n"));
    }
    for l in &a[from..a.len().min(first + 8)] {
        s.push_str(&format!("  ferry  | {l}\n"));
    }
    s
}

fn cases() -> Vec<PathBuf> {
    let only: Option<BTreeSet<String>> = std::env::var("COMPAT_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let mut v: Vec<PathBuf> = fs::read_dir(compat_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("site.yml").exists())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            only.as_ref().is_none_or(|o| o.contains(name))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn compat_cases() {
    if let Ok(ansible) = std::env::var("COMPAT_RECORD") {
        for case in cases() {
            let o = run_case(&case, &ansible, false);
            fs::write(case.join("expected.txt"), &o.stdout).unwrap();
            fs::write(case.join("expected_rc"), format!("{}\n", o.rc)).unwrap();
            if case.join("check_stderr").exists() {
                fs::write(case.join("expected_stderr.txt"), &o.stderr).unwrap();
            }
            eprintln!("recorded {}", case.display());
        }
        return;
    }
    let known = known_differences();
    let strict = std::env::var("COMPAT_STRICT").is_ok();
    let mut failures = Vec::new();
    for case in cases() {
        let name = case.file_name().unwrap().to_str().unwrap().to_string();
        if known.contains(&name) && !strict {
            eprintln!("compat: skipping `{name}` (known difference, see KNOWN_DIFFERENCES.md)");
            continue;
        }
        // Recorded output is normalised already; normalising again applies
        // any rule added since it was recorded.
        let expected = normalise(
            &fs::read_to_string(case.join("expected.txt")).unwrap(),
            Path::new("/nonexistent-compat-dir"),
        );
        let expected_rc: i32 = fs::read_to_string(case.join("expected_rc"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let o = run_case(&case, env!("CARGO_BIN_EXE_ferry"), true);
        let mut problems = String::new();
        if o.rc != expected_rc {
            problems.push_str(&format!(
                "exit code: ansible {expected_rc}, ferry {}\n",
                o.rc
            ));
        }
        if o.stdout != expected {
            problems.push_str(&format!("stdout {}", diff(&expected, &o.stdout)));
        }
        if case.join("check_stderr").exists() {
            let want = fs::read_to_string(case.join("expected_stderr.txt")).unwrap();
            if o.stderr != want {
                problems.push_str(&format!("stderr {}", diff(&want, &o.stderr)));
            }
        }
        if let Ok(dir) = std::env::var("COMPAT_ACTUAL_DIR") {
            let _ = fs::create_dir_all(&dir);
            let _ = fs::write(Path::new(&dir).join(format!("{name}.txt")), &o.stdout);
            let _ = fs::write(Path::new(&dir).join(format!("{name}.err")), &o.stderr);
            let _ = fs::write(Path::new(&dir).join(format!("{name}.rc")), o.rc.to_string());
        }
        if problems.is_empty() {
            eprintln!("compat: `{name}` ok");
        } else {
            eprintln!("compat: `{name}` DIFFERS\n{problems}");
            failures.push(name);
        }
    }
    assert!(
        failures.is_empty(),
        "cases differing from Ansible: {failures:?}"
    );
}
