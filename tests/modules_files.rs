//! The file modules end to end through the local connection: the same shell
//! scripts SSH would run, on temporary directories.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use ferry::connection::local::LocalConnection;
use ferry::connection::Connection;
use ferry::modules::{Args, ModResult, ModuleCtx, ModuleId};
use serde_json::{json, Value};

struct Run {
    check: bool,
    diff: bool,
    env: Vec<(String, String)>,
    search: Vec<std::path::PathBuf>,
}

impl Run {
    fn new() -> Run {
        Run {
            check: false,
            diff: false,
            env: Vec::new(),
            search: Vec::new(),
        }
    }
    fn check(mut self) -> Run {
        self.check = true;
        self
    }
    fn diff(mut self) -> Run {
        self.diff = true;
        self
    }
    async fn go(&self, module: &str, args: Value) -> ModResult {
        let conn = Connection::Local(LocalConnection::new());
        let ctx = ModuleCtx {
            conn: &conn,
            check_mode: self.check,
            diff: self.diff,
            env: self.env.clone(),
            search_paths: self.search.clone(),
        };
        let args: Args = match args {
            Value::Object(m) => m.into_iter().collect(),
            _ => Args::new(),
        };
        let id = ModuleId::lookup(module).expect("module");
        id.run(&ctx, &args).await.expect("transport")
    }
}

async fn run(module: &str, args: Value) -> ModResult {
    Run::new().go(module, args).await
}

fn mode_of(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn ok(r: &ModResult) {
    assert_ne!(r.get("failed"), Some(&Value::Bool(true)), "{r:?}");
}

#[tokio::test]
async fn copy_content_modes_idempotence_and_check() {
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("secret");
    let r = run(
        "copy",
        json!({"content": "hello\n", "dest": s(&dest), "mode": "0400"}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(r["checksum"], "f572d396fae9206628714fb2ce00f72e94f2258f");
    assert_eq!(r["md5sum"], "b1946ac92492d2347c6235b4d2611184");
    assert_eq!(r["mode"], "0400");
    assert_eq!(r["state"], "file");
    assert_eq!(r["size"], 6);
    assert_eq!(r["dest"], s(&dest));
    for k in ["uid", "gid", "owner", "group", "src"] {
        assert!(r.contains_key(k), "{k} missing: {r:?}");
    }
    assert_eq!(mode_of(&dest), 0o400);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello\n");
    // No temporary files left behind.
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);

    let r = run(
        "copy",
        json!({"content": "hello\n", "dest": s(&dest), "mode": "0400"}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], false);
    assert_eq!(r["path"], s(&dest));

    // Mode only: changed, content kept. YAML 1.1 0644 arrives as 420.
    let r = run(
        "copy",
        json!({"content": "hello\n", "dest": s(&dest), "mode": 420}),
    )
    .await;
    assert_eq!(r["changed"], true);
    assert_eq!(mode_of(&dest), 0o644);

    // Check mode: reports the change, touches nothing.
    let r = Run::new()
        .check()
        .go("copy", json!({"content": "other\n", "dest": s(&dest)}))
        .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "hello\n");
    let r = Run::new()
        .check()
        .go(
            "copy",
            json!({"content": "x", "dest": s(&d.path().join("new"))}),
        )
        .await;
    assert_eq!(r["changed"], true);
    assert!(!d.path().join("new").exists());
}

#[tokio::test]
async fn copy_diff_backup_force_and_validate() {
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("f.txt");
    std::fs::write(&dest, "old\n").unwrap();
    let r = Run::new()
        .diff()
        .go(
            "copy",
            json!({"content": "new\n", "dest": s(&dest), "backup": true}),
        )
        .await;
    ok(&r);
    let diff = &r["diff"][0];
    assert_eq!(diff["before"], "old\n");
    assert_eq!(diff["after"], "new\n");
    assert_eq!(diff["before_header"], s(&dest));
    // ansible-core 2.19 names the destination on both sides for content.
    assert_eq!(diff["after_header"], s(&dest));
    let backup = r["backup_file"].as_str().unwrap().to_string();
    assert!(backup.starts_with(&format!("{}.", s(&dest))) && backup.ends_with('~'));
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), "old\n");

    // force: no → an existing file is left alone.
    let r = run(
        "copy",
        json!({"content": "forced?\n", "dest": s(&dest), "force": false}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], false);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new\n");

    // A failing validate leaves dest untouched and no temporary behind.
    let before: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
    let r = run(
        "copy",
        json!({"content": "bad\n", "dest": s(&dest), "validate": "grep -q good %s"}),
    )
    .await;
    assert_eq!(r["failed"], true);
    assert_eq!(r["msg"], "failed to validate");
    assert_eq!(r["exit_status"], 1);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "new\n");
    assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), before.len());
    let r = run(
        "copy",
        json!({"content": "good\n", "dest": s(&dest), "validate": "grep -q good %s"}),
    )
    .await;
    ok(&r);
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "good\n");
    let r = run(
        "copy",
        json!({"content": "x", "dest": s(&dest), "validate": "true"}),
    )
    .await;
    assert_eq!(r["msg"], "validate must contain %s: true");
}

#[tokio::test]
async fn copy_argument_errors() {
    let d = tempfile::tempdir().unwrap();
    let r = run(
        "copy",
        json!({"content": "x", "dest": format!("{}/", s(d.path()))}),
    )
    .await;
    assert_eq!(r["msg"], "can not use content with a dir as dest");
    let r = run("copy", json!({"dest": "/tmp/x"})).await;
    assert_eq!(r["msg"], "src (or content) is required");
    let r = run(
        "copy",
        json!({"content": "x", "dest": "/tmp/x", "bogus": 1}),
    )
    .await;
    // Ansible's copy action runs `ansible.legacy.copy`, which names itself.
    assert!(r["msg"]
        .as_str()
        .unwrap()
        .starts_with("Unsupported parameters for (ansible.legacy.copy) module: bogus."));
    let r = run(
        "copy",
        json!({"content": "x", "dest": s(&d.path().join("missing/dir/f"))}),
    )
    .await;
    assert_eq!(r["failed"], true);
    assert!(r["msg"].as_str().unwrap().contains("does not exist"));
    let r = run(
        "copy",
        json!({"content": "x", "dest": s(&d.path().join("f")), "mode": "u=bogus"}),
    )
    .await;
    assert_eq!(r["msg"], "mode must be in octal or symbolic form");
}

#[tokio::test]
async fn copy_src_files_dirs_and_large() {
    let ctl = tempfile::tempdir().unwrap();
    let host = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(ctl.path().join("files/tree/sub")).unwrap();
    std::fs::write(ctl.path().join("files/a.conf"), "A\n").unwrap();
    std::fs::write(ctl.path().join("files/tree/one"), "1\n").unwrap();
    std::fs::write(ctl.path().join("files/tree/sub/two"), "2\n").unwrap();
    let big: Vec<u8> = (0..300 * 1024).map(|i| (i % 251) as u8).collect();
    std::fs::write(ctl.path().join("files/big.bin"), &big).unwrap();
    let mut rn = Run::new();
    rn.search = vec![ctl.path().to_path_buf()];

    // Into an existing directory: dest/basename.
    let r = rn
        .go("copy", json!({"src": "a.conf", "dest": s(host.path())}))
        .await;
    ok(&r);
    assert_eq!(r["dest"], s(&host.path().join("a.conf")));
    assert_eq!(
        std::fs::read_to_string(host.path().join("a.conf")).unwrap(),
        "A\n"
    );
    // Trailing slash creates the directory.
    let r = rn
        .go(
            "copy",
            json!({"src": "a.conf", "dest": format!("{}/new/", s(host.path()))}),
        )
        .await;
    ok(&r);
    assert!(host.path().join("new/a.conf").exists());

    // A tree without the trailing slash lands as dest/tree.
    let r = rn
        .go("copy", json!({"src": "tree", "dest": s(host.path())}))
        .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(
        std::fs::read_to_string(host.path().join("tree/sub/two")).unwrap(),
        "2\n"
    );
    let r = rn
        .go("copy", json!({"src": "tree", "dest": s(host.path())}))
        .await;
    assert_eq!(r["changed"], false, "{r:?}");
    // With the slash, the contents.
    let r = rn
        .go(
            "copy",
            json!({"src": "tree/", "dest": s(&host.path().join("flat"))}),
        )
        .await;
    ok(&r);
    assert!(host.path().join("flat/one").exists());

    // Large file: compared first, sent once.
    let dest = host.path().join("big.bin");
    let r = rn
        .go("copy", json!({"src": "big.bin", "dest": s(&dest)}))
        .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(std::fs::read(&dest).unwrap(), big);
    let r = rn
        .go(
            "copy",
            json!({"src": "big.bin", "dest": s(&dest), "mode": "0600"}),
        )
        .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(mode_of(&dest), 0o600);
    let r = rn
        .go(
            "copy",
            json!({"src": "big.bin", "dest": s(&dest), "mode": "0600"}),
        )
        .await;
    assert_eq!(r["changed"], false);

    let r = rn
        .go("copy", json!({"src": "nope", "dest": s(&dest)}))
        .await;
    assert!(r["msg"]
        .as_str()
        .unwrap()
        .starts_with("Could not find or access 'nope'"));

    // remote_src copies a host file.
    let r = run(
        "copy",
        json!({"src": s(&host.path().join("a.conf")), "dest": s(&host.path().join("a2")), "remote_src": true}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(
        std::fs::read_to_string(host.path().join("a2")).unwrap(),
        "A\n"
    );
    let r = run(
        "copy",
        json!({"src": s(&host.path().join("a.conf")), "dest": s(&host.path().join("a2")), "remote_src": true}),
    )
    .await;
    assert_eq!(r["changed"], false);
}

#[tokio::test]
async fn tilde_expands_to_home() {
    let home = tempfile::tempdir().unwrap();
    let mut rn = Run::new();
    rn.env = vec![("HOME".into(), s(home.path()))];
    let r = rn
        .go("copy", json!({"content": "x\n", "dest": "~/t.txt"}))
        .await;
    ok(&r);
    assert_eq!(r["dest"], s(&home.path().join("t.txt")));
    assert!(home.path().join("t.txt").exists());
    let r = rn.go("stat", json!({"path": "~/t.txt"})).await;
    assert_eq!(r["stat"]["exists"], true);
    let r = rn
        .go("file", json!({"path": "~/dir", "state": "directory"}))
        .await;
    ok(&r);
    assert!(home.path().join("dir").is_dir());
}

#[tokio::test]
async fn file_states() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);

    let r = run("file", json!({"path": s(&p("missing"))})).await;
    assert_eq!(
        r["msg"],
        format!("file ({}) is absent, cannot continue", s(&p("missing")))
    );

    let r = run(
        "file",
        json!({"path": s(&p("a/b/c")), "state": "directory", "mode": "0750"}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(r["state"], "directory");
    assert_eq!(r["mode"], "0750");
    assert_eq!(mode_of(&p("a/b/c")), 0o750);
    // Created parents get the mode too, as Ansible's file module gives them
    // (checked against ansible-core 2.19.14).
    assert_eq!((mode_of(&p("a")), mode_of(&p("a/b"))), (0o750, 0o750));
    let r = run(
        "file",
        json!({"path": s(&p("a/b/c")), "state": "directory", "mode": "0750"}),
    )
    .await;
    assert_eq!(r["changed"], false);

    // touch: created, then always changed.
    let r = run(
        "file",
        json!({"path": s(&p("t")), "state": "touch", "mode": "u=rw,g=r,o="}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(mode_of(&p("t")), 0o640);
    let r = run("file", json!({"path": s(&p("t")), "state": "touch"})).await;
    assert_eq!(r["changed"], true);
    let r = run(
        "file",
        json!({"path": s(&p("t")), "state": "touch", "access_time": "preserve", "modification_time": "preserve"}),
    )
    .await;
    assert_eq!(r["changed"], false);

    // Symbolic mode on an existing file; idempotent.
    let r = run("file", json!({"path": s(&p("t")), "mode": "a+x"})).await;
    assert_eq!(r["changed"], true);
    assert_eq!(mode_of(&p("t")), 0o751);
    let r = run("file", json!({"path": s(&p("t")), "mode": "a+x"})).await;
    assert_eq!(r["changed"], false);
    assert_eq!(r["state"], "file");

    // Recurse applies below.
    std::fs::write(p("a/b/c/f"), "x").unwrap();
    let r = run(
        "file",
        json!({"path": s(&p("a")), "state": "directory", "recurse": true, "mode": "u=rwX,g=rX,o="}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(mode_of(&p("a/b/c/f")), 0o640);
    assert_eq!(mode_of(&p("a/b")), 0o750);
    let r = run(
        "file",
        json!({"path": s(&p("a")), "state": "directory", "recurse": true, "mode": "u=rwX,g=rX,o="}),
    )
    .await;
    assert_eq!(r["changed"], false);

    // Directory over a file is refused.
    let r = run("file", json!({"path": s(&p("t")), "state": "directory"})).await;
    assert_eq!(r["msg"], format!("{} already exists as a file", s(&p("t"))));

    // Links.
    let r = run(
        "file",
        json!({"path": s(&p("l")), "src": s(&p("t")), "state": "link"}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(r["dest"], s(&p("l")));
    assert_eq!(r["state"], "link");
    assert_eq!(std::fs::read_link(p("l")).unwrap(), p("t"));
    let r = run(
        "file",
        json!({"path": s(&p("l")), "src": s(&p("t")), "state": "link"}),
    )
    .await;
    assert_eq!(r["changed"], false);
    let r = run(
        "file",
        json!({"path": s(&p("l2")), "src": s(&p("nope")), "state": "link"}),
    )
    .await;
    assert!(r["msg"]
        .as_str()
        .unwrap()
        .starts_with("src file does not exist"));
    let r = run(
        "file",
        json!({"path": s(&p("h")), "src": s(&p("t")), "state": "hard"}),
    )
    .await;
    ok(&r);
    assert_eq!(r["changed"], true);
    let r = run(
        "file",
        json!({"path": s(&p("h")), "src": s(&p("t")), "state": "hard"}),
    )
    .await;
    assert_eq!(r["changed"], false);

    // Check mode and diff for absent.
    let r = Run::new()
        .check()
        .diff()
        .go("file", json!({"path": s(&p("a")), "state": "absent"}))
        .await;
    assert_eq!(r["changed"], true);
    assert_eq!(r["diff"]["before"]["state"], "directory");
    assert_eq!(r["diff"]["after"]["state"], "absent");
    assert!(p("a").exists());
    let r = run("file", json!({"path": s(&p("a")), "state": "absent"})).await;
    assert_eq!(r["changed"], true);
    assert_eq!(r["state"], "absent");
    assert!(!p("a").exists());
    let r = run("file", json!({"path": s(&p("a")), "state": "absent"})).await;
    assert_eq!(r["changed"], false);

    let r = Run::new()
        .check()
        .go(
            "file",
            json!({"path": s(&p("newdir")), "state": "directory"}),
        )
        .await;
    assert_eq!(r["changed"], true);
    assert!(!p("newdir").exists());
}

#[tokio::test]
async fn stat_reports() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("f");
    std::fs::write(&f, "hello\n").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::symlink(&f, d.path().join("l")).unwrap();
    let r = run("stat", json!({"path": s(&f)})).await;
    ok(&r);
    assert_eq!(r["changed"], false);
    let st = &r["stat"];
    assert_eq!(st["exists"], true);
    assert_eq!(st["isreg"], true);
    assert_eq!(st["isdir"], false);
    assert_eq!(st["mode"], "0640");
    assert_eq!(st["size"], 6);
    assert_eq!(st["checksum"], "f572d396fae9206628714fb2ce00f72e94f2258f");
    assert_eq!(st["readable"], true);
    assert_eq!(st["roth"], false);
    assert!(st["pw_name"].is_string() && st["mtime"].is_f64());
    let r = run("stat", json!({"path": s(&d.path().join("l"))})).await;
    assert_eq!(r["stat"]["islnk"], true);
    assert_eq!(r["stat"]["lnk_source"], s(&f));
    let r = run(
        "stat",
        json!({"path": s(&d.path().join("l")), "follow": true}),
    )
    .await;
    assert_eq!(r["stat"]["isreg"], true);
    let r = run(
        "stat",
        json!({"path": s(&f), "checksum_algorithm": "sha256"}),
    )
    .await;
    assert_eq!(
        r["stat"]["checksum"],
        "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
    );
    let r = run("stat", json!({"path": s(&d.path().join("missing"))})).await;
    assert_eq!(r["stat"], json!({"exists": false}));
}

#[tokio::test]
async fn lineinfile_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("conf");
    std::fs::write(&f, "a=1\nport=22\n").unwrap();
    let args = json!({"path": s(&f), "regexp": "^port=", "line": "port=2222"});
    let r = Run::new().diff().go("lineinfile", args.clone()).await;
    ok(&r);
    assert_eq!(r["changed"], true);
    assert_eq!(r["msg"], "line replaced");
    assert_eq!(r["diff"][0]["before"], "a=1\nport=22\n");
    assert_eq!(r["diff"][0]["after"], "a=1\nport=2222\n");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "a=1\nport=2222\n");
    let r = run("lineinfile", args).await;
    assert_eq!(r["changed"], false);
    assert_eq!(r["msg"], "");

    let r = Run::new()
        .check()
        .go("lineinfile", json!({"path": s(&f), "line": "new"}))
        .await;
    assert_eq!(r["changed"], true);
    assert_eq!(r["msg"], "line added");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "a=1\nport=2222\n");

    let r = run(
        "lineinfile",
        json!({"path": s(&f), "line": "new", "backup": true, "mode": "0600"}),
    )
    .await;
    assert_eq!(
        r["msg"],
        "line added and ownership, perms or SE linux context changed"
    );
    assert!(Path::new(r["backup"].as_str().unwrap()).exists());
    assert_eq!(mode_of(&f), 0o600);

    let r = run(
        "lineinfile",
        json!({"path": s(&f), "regexp": "^a=", "state": "absent"}),
    )
    .await;
    assert_eq!(r["msg"], "1 line(s) removed");
    assert_eq!(r["found"], 1);
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "port=2222\nnew\n");

    let missing = d.path().join("sub/created");
    let r = run("lineinfile", json!({"path": s(&missing), "line": "x"})).await;
    assert_eq!(r["rc"], 257);
    let r = run(
        "lineinfile",
        json!({"path": s(&missing), "line": "x", "create": true}),
    )
    .await;
    ok(&r);
    assert_eq!(std::fs::read_to_string(&missing).unwrap(), "x\n");

    // validate failure keeps the file.
    let r = run(
        "lineinfile",
        json!({"path": s(&f), "line": "bad", "validate": "sh -c 'exit 3' %s"}),
    )
    .await;
    assert_eq!(r["failed"], true);
    assert!(r["msg"]
        .as_str()
        .unwrap()
        .starts_with("failed to validate: rc:3"));
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "port=2222\nnew\n");

    // Editing through a symlink edits the target.
    let l = d.path().join("link");
    std::os::unix::fs::symlink(&f, &l).unwrap();
    let r = run("lineinfile", json!({"path": s(&l), "line": "via-link"})).await;
    ok(&r);
    assert!(std::fs::symlink_metadata(&l)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&f).unwrap().ends_with("via-link\n"));

    let r = run("lineinfile", json!({"path": s(d.path()), "line": "x"})).await;
    assert_eq!(r["msg"], format!("Path {} is a directory !", s(d.path())));
}

#[tokio::test]
async fn blockinfile_replace_ini_end_to_end() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("hosts");
    std::fs::write(&f, "127.0.0.1 localhost\n").unwrap();
    let args = json!({"path": s(&f), "block": "10.0.0.1 a\n10.0.0.2 b"});
    let r = run("blockinfile", args.clone()).await;
    ok(&r);
    assert_eq!(r["msg"], "Block inserted");
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "127.0.0.1 localhost\n# BEGIN ANSIBLE MANAGED BLOCK\n10.0.0.1 a\n10.0.0.2 b\n# END ANSIBLE MANAGED BLOCK\n"
    );
    let r = run("blockinfile", args).await;
    assert_eq!(r["changed"], false);
    let r = run("blockinfile", json!({"path": s(&f), "state": "absent"})).await;
    assert_eq!(r["msg"], "Block removed");
    assert_eq!(
        std::fs::read_to_string(&f).unwrap(),
        "127.0.0.1 localhost\n"
    );
    let r = run(
        "blockinfile",
        json!({"path": s(&d.path().join("new")), "block": "x", "create": true}),
    )
    .await;
    assert_eq!(r["msg"], "File created");

    let r = Run::new()
        .diff()
        .go(
            "replace",
            json!({"path": s(&f), "regexp": "^127\\.0\\.0\\.1(\\s+)", "replace": "::1\\1"}),
        )
        .await;
    ok(&r);
    assert_eq!(r["msg"], "1 replacements made");
    assert_eq!(r["diff"]["before"], "127.0.0.1 localhost\n");
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "::1 localhost\n");
    let r = run(
        "replace",
        json!({"path": s(&f), "regexp": "^127\\.0\\.0\\.1(\\s+)", "replace": "::1\\1"}),
    )
    .await;
    assert_eq!(r["changed"], false);

    let ini = d.path().join("app.ini");
    let r = run(
        "community.general.ini_file",
        json!({"path": s(&ini), "section": "main", "option": "level", "value": "3"}),
    )
    .await;
    ok(&r);
    assert_eq!(r["msg"], "section and option added");
    assert_eq!(
        std::fs::read_to_string(&ini).unwrap(),
        "\n[main]\nlevel = 3\n"
    );
    let r = run(
        "ini_file",
        json!({"path": s(&ini), "section": "main", "option": "level", "value": "3"}),
    )
    .await;
    assert_eq!(r["changed"], false);
    assert_eq!(r["msg"], "OK");
    let r = run(
        "ini_file",
        json!({"path": s(&ini), "section": "main", "option": "level", "value": 4}),
    )
    .await;
    assert_eq!(r["msg"], "option changed");
    assert_eq!(
        std::fs::read_to_string(&ini).unwrap(),
        "\n[main]\nlevel = 4\n"
    );
    let r = Run::new()
        .check()
        .go(
            "ini_file",
            json!({"path": s(&ini), "section": "main", "state": "absent"}),
        )
        .await;
    assert_eq!(r["msg"], "section removed");
    assert_eq!(
        std::fs::read_to_string(&ini).unwrap(),
        "\n[main]\nlevel = 4\n"
    );
}

#[tokio::test]
async fn temp_file_has_final_mode_before_content_is_validated() {
    let d = tempfile::tempdir().unwrap();
    let dest = d.path().join("key");
    let seen = d.path().join("seen");
    // The validator sees the temporary file: it sits next to dest and already
    // has the final mode (it was chmod-ed before the content was written).
    let validate = format!(
        "sh -c 'stat -c \"%a %U\" \"$0\" > {}; dirname \"$0\" >> {}' %s",
        s(&seen),
        s(&seen)
    );
    let r = run(
        "copy",
        json!({"content": "k\n", "dest": s(&dest), "mode": "0400", "validate": validate}),
    )
    .await;
    ok(&r);
    let seen = std::fs::read_to_string(&seen).unwrap();
    let mut lines = seen.lines();
    assert!(lines.next().unwrap().starts_with("400 "), "{seen}");
    assert_eq!(lines.next().unwrap(), s(d.path()));
    assert_eq!(mode_of(&dest), 0o400);
}

#[tokio::test]
async fn multiline_errors_and_symlinked_dest() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("f");
    std::fs::write(&f, "a\n").unwrap();
    let r = run(
        "lineinfile",
        json!({"path": s(&f), "line": "b", "validate": "sh -c 'echo one >&2; echo two=2 >&2; exit 4' %s"}),
    )
    .await;
    assert_eq!(r["msg"], "failed to validate: rc:4 error:one\ntwo=2");

    // Same content behind a symlink: nothing to do, the link stays.
    let l = d.path().join("l");
    std::os::unix::fs::symlink(&f, &l).unwrap();
    let r = run("copy", json!({"content": "a\n", "dest": s(&l)})).await;
    ok(&r);
    assert_eq!(r["changed"], false);
    assert!(std::fs::symlink_metadata(&l)
        .unwrap()
        .file_type()
        .is_symlink());
}

/// A file copy creates is described without a second `stat` once the
/// connection knows the shell's uid/gid names; the description must be what
/// `stat` would have said, and a setgid directory (which hands down its own
/// group) or an identity that does not match falls back to `stat`.
#[tokio::test]
async fn a_created_file_is_reported_as_stat_sees_it() {
    use std::os::unix::fs::MetadataExt;
    let d = tempfile::tempdir().unwrap();
    let conn = Connection::Local(LocalConnection::new());
    let ctx = ModuleCtx {
        conn: &conn,
        check_mode: false,
        diff: false,
        env: Vec::new(),
        search_paths: Vec::new(),
    };
    let go = |module: &'static str, args: Value| {
        let ctx = &ctx;
        async move {
            let args: Args = match args {
                Value::Object(m) => m.into_iter().collect(),
                _ => Args::new(),
            };
            ModuleId::lookup(module)
                .expect("module")
                .run(ctx, &args)
                .await
                .expect("transport")
        }
    };
    let sg = d.path().join("sg");
    std::fs::create_dir(&sg).unwrap();
    std::fs::set_permissions(&sg, std::fs::Permissions::from_mode(0o2777)).unwrap();
    // As root, give the setgid directory a group that is not ours.
    let _ = std::os::unix::fs::chown(&sg, None, Some(65534));
    assert_eq!(conn.ident(), None);
    let cases: [(&str, Option<&str>, &Path); 6] = [
        ("a", Some("0644"), d.path()),
        ("b", Some("0640"), d.path()),
        ("c", Some("0755"), d.path()),
        ("e", Some("4750"), d.path()),
        ("f", None, d.path()),
        ("g", Some("0664"), &sg),
    ];
    for (name, mode, dir) in cases {
        let dest = dir.join(name);
        let mut args = json!({"content": format!("content of {name}\n"), "dest": s(&dest)});
        if let Some(m) = mode {
            args["mode"] = json!(m);
        }
        let r = go("copy", args).await;
        ok(&r);
        let md = std::fs::metadata(&dest).unwrap();
        let st = go("stat", json!({"path": s(&dest)})).await;
        assert_eq!(r["uid"], md.uid(), "{name}: {r:?}");
        assert_eq!(r["gid"], md.gid(), "{name}: {r:?}");
        assert_eq!(r["size"], md.len(), "{name}: {r:?}");
        assert_eq!(
            r["mode"],
            format!("{:04o}", md.mode() & 0o7777),
            "{name}: {r:?}"
        );
        assert_eq!(r["owner"], st["stat"]["pw_name"], "{name}: {r:?}");
        assert_eq!(r["group"], st["stat"]["gr_name"], "{name}: {r:?}");
        assert_eq!(r["state"], "file");
    }
    // The first report taught the identity.
    let id = conn.ident().expect("identity learned");
    // Proof that it is used: a name only the control side knows shows up.
    conn.learn_ident(ferry::connection::HostIdent {
        user: "known-name".into(),
        ..id.clone()
    });
    let r = go(
        "copy",
        json!({"content": "x", "dest": s(&d.path().join("h"))}),
    )
    .await;
    assert_eq!(r["owner"], "known-name", "{r:?}");
    // An identity whose numbers do not match this shell's is not trusted.
    conn.learn_ident(ferry::connection::HostIdent {
        uid: id.uid + 1,
        user: "wrong".into(),
        ..id.clone()
    });
    let r = go(
        "copy",
        json!({"content": "x", "dest": s(&d.path().join("i"))}),
    )
    .await;
    assert_eq!(r["owner"], id.user, "{r:?}");
    assert_eq!(conn.ident(), Some(id));
}
