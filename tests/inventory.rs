//! Inventory loading, variable precedence, patterns and `ansible-inventory`
//! output through the public API. Expected `--list`/`--graph` output in
//! `tests/fixtures/inventory/hosts.ini.*` was produced by ansible-core 2.19.

use ferry::error::Error;
use ferry::inventory::Inventory;
use serde_json::json;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/inventory/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn load(names: &[&str]) -> Inventory {
    let sources: Vec<String> = names.iter().map(|n| fixture(n)).collect();
    Inventory::load(&sources).unwrap_or_else(|e| panic!("{e}"))
}

/// `ansible-inventory` prints JSON with a 4-space indent.
fn pretty4(v: &serde_json::Value) -> String {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser).unwrap();
    String::from_utf8(buf).unwrap() + "\n"
}

fn located(err: Error) -> (String, usize, usize, String) {
    match err {
        Error::Located { span, message } => (
            span.file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            span.line,
            span.col,
            message,
        ),
        other => panic!("expected a located error, got {other:?}"),
    }
}

#[test]
fn terraform_output_shape() {
    let inv = load(&["terraform.yml"]);
    assert_eq!(inv.hosts.keys().collect::<Vec<_>>(), ["20.1.2.3"]);
    let vars = inv.host_vars("20.1.2.3");
    assert_eq!(vars["ansible_host"], json!("20.1.2.3"));
    assert_eq!(vars["ansible_ssh_user"], json!("adminuser"));
    assert_eq!(
        vars["ansible_ssh_private_key_file"],
        json!("/tmp/oidc-vm.pem")
    );
    assert_eq!(
        vars["ansible_ssh_common_args"],
        json!("-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o PasswordAuthentication=no")
    );
    assert!(!vars.contains_key("ansible_port"));
    assert_eq!(inv.select("oidc").unwrap(), ["20.1.2.3"]);
    assert_eq!(inv.select("20.1.2.3").unwrap(), ["20.1.2.3"]);
    assert_eq!(inv.group_names("20.1.2.3"), ["oidc"]);
    assert_eq!(inv.groups["all"].children, ["ungrouped", "oidc"]);
}

#[test]
fn ini_list_and_graph_match_ansible() {
    let inv = load(&["hosts.ini"]);
    let expected = std::fs::read_to_string(fixture("hosts.ini.list.json")).unwrap();
    assert_eq!(pretty4(&inv.list_json()), expected);
    let graph = std::fs::read_to_string(fixture("hosts.ini.graph.txt")).unwrap();
    assert_eq!(inv.graph(None).unwrap() + "\n", graph);
    assert_eq!(inv.graph(Some("db")).unwrap(), "@db:\n  |--db-a\n  |--db-b");
    assert!(matches!(inv.graph(Some("nope")), Err(Error::Options(_))));
}

#[test]
fn ini_values_and_structure() {
    let inv = load(&["hosts.ini"]);
    let legacy = inv.host_vars("web-legacy");
    assert_eq!(legacy["ansible_port"], json!(2222));
    assert_eq!(legacy["legacy"], json!(true));
    assert_eq!(legacy["tier"], json!("1"));
    assert_eq!(legacy["http_port"], json!(8080));
    assert_eq!(legacy["greeting"], json!("hello world"));
    assert_eq!(inv.groups["app"].priority, 5);
    assert!(!inv.groups["app"]
        .vars
        .contains_key("ansible_group_priority"));
    assert_eq!(inv.group_names("db-a"), ["app", "db"]);
    assert_eq!(inv.group_names("jump.example.com"), ["ungrouped"]);
    let groups = inv.groups_map();
    assert_eq!(
        groups["app"],
        [
            "web01.example.com",
            "web02.example.com",
            "web03.example.com",
            "web-legacy",
            "db-a",
            "db-b"
        ]
    );
    assert_eq!(groups["ungrouped"], ["jump.example.com"]);
    assert_eq!(groups["all"].len(), 7);
}

#[test]
fn host_json_like_ansible_inventory_host() {
    let inv = load(&["hosts.ini"]);
    assert_eq!(
        inv.host_json("db-b").unwrap(),
        json!({"ansible_host": "10.0.0.5"})
    );
    assert!(matches!(inv.host_json("web"), Err(Error::Options(_))));
    assert_eq!(
        inv.host_json("localhost").unwrap(),
        json!({"ansible_connection": "local"})
    );
}

#[test]
fn patterns() {
    let inv = load(&["hosts.ini"]);
    let sel = |p: &str| inv.select(p).unwrap();
    let web = [
        "web01.example.com",
        "web02.example.com",
        "web03.example.com",
        "web-legacy",
    ];
    assert_eq!(sel("web"), web);
    assert_eq!(sel("web*"), web);
    assert_eq!(sel("app:!db"), web);
    assert_eq!(sel("web:&app"), web);
    assert_eq!(sel("!web"), ["jump.example.com", "db-a", "db-b"]);
    assert_eq!(sel("*"), sel("all"));
    assert_eq!(sel("~web0[12]"), ["web01.example.com", "web02.example.com"]);
    assert_eq!(sel("web[0]"), ["web01.example.com"]);
    assert_eq!(sel("web[-1]"), ["web-legacy"]);
    assert_eq!(sel("web[1:]"), &web[1..]);
    assert_eq!(sel("web[0:1]"), &web[..2]);
    assert_eq!(sel("app[1:2]"), &web[1..3]);
    assert_eq!(sel("db-a,jump*"), ["db-a", "jump.example.com"]);
    assert_eq!(sel("db-b,db,db-a"), ["db-b", "db-a"]);
    assert!(sel("nomatch").is_empty());
    assert!(sel("web[:2]").is_empty(), "no subscript form in Ansible");
    assert!(inv.select("web[9]").is_err());
    assert!(inv.select("~(").is_err());
    // Implicit localhost: selectable by name, never part of `all`.
    assert_eq!(sel("localhost"), ["localhost"]);
    assert!(inv.is_implicit_localhost("localhost"));
    assert!(!sel("all").contains(&"localhost".to_string()));
}

#[test]
fn directory_with_group_and_host_vars() {
    let inv = load(&["site"]);
    // notes.txt, hosts.bak and .hidden are skipped; zz_extra is INI.
    assert_eq!(
        inv.hosts.keys().collect::<Vec<_>>(),
        ["web1", "web2", "db1", "mon1"]
    );
    assert_eq!(inv.groups["monitoring"].children, ["db"]);
    let web1 = inv.host_vars("web1");
    assert_eq!(web1["role"], json!("overridden"));
    assert_eq!(web1["ntp"], json!("site.ntp"));
    assert_eq!(web1["from_all"], json!(true));
    assert_eq!(web1["shared"], json!("from-b"));
    assert_eq!(web1["web_a"], json!(1));
    assert!(!web1.contains_key("ignored"));
    assert_eq!(inv.host_vars("db1")["db_port"], json!(5432));
    assert_eq!(inv.select("monitoring").unwrap(), ["mon1", "db1"]);
}

#[test]
fn precedence_levels() {
    let inv = load(&["precedence/inventory.yml"]);
    // host_vars/ beats inventory host vars beats every group level.
    assert_eq!(inv.host_vars("h1")["level"], json!("host_vars-h1"));
    // group_vars/ of the deepest group beats all inventory-file group vars.
    assert_eq!(inv.host_vars("h2")["level"], json!("group_vars-child"));
    // Same depth: priority 10 (alpha) beats priority 1 (beta, parent by name).
    assert_eq!(inv.host_vars("h2")["tie"], json!("alpha"));
    assert_eq!(inv.host_vars("h1")["tie"], json!("parent"));
    // group_vars/all beats inventory `all` vars.
    assert_eq!(inv.host_vars("lone")["level"], json!("group_vars-all"));
    assert_eq!(inv.host_vars("lone")["only_all"], json!("a"));
    let order: Vec<&str> = inv
        .sorted_host_groups("h2")
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(order, ["beta", "parent", "alpha", "child"]);
    assert_eq!(inv.groups["child"].depth, 2);
    assert_eq!(inv.group_names("h2"), ["alpha", "beta", "child", "parent"]);
    assert_eq!(inv.group_names("lone"), ["ungrouped"]);
}

#[test]
fn multiple_sources_merge() {
    let inv = load(&["hosts.ini", "terraform.yml"]);
    assert_eq!(inv.hosts.len(), 8);
    assert_eq!(inv.groups["all"].children, ["ungrouped", "app", "oidc"]);
}

#[test]
fn comma_list_and_empty_sources() {
    let inv = Inventory::load(&["a.example.com,b:2200,".to_string()]).unwrap();
    assert_eq!(inv.select("all").unwrap(), ["a.example.com", "b"]);
    assert_eq!(inv.host_vars("b")["ansible_port"], json!(2200));
    let empty = Inventory::load(&[]).unwrap();
    assert!(empty.select("all").unwrap().is_empty());
    assert_eq!(empty.select("localhost").unwrap(), ["localhost"]);
}

#[test]
fn malformed_yaml_names_position() {
    let err = Inventory::load(&[fixture("malformed.yml")]).unwrap_err();
    assert_eq!(
        located(err),
        (
            "malformed.yml".into(),
            5,
            9,
            "Invalid \"hosts\" entry for \"web\" group, requires a dictionary, found \"list\" instead."
                .into()
        )
    );
}

#[test]
fn malformed_ini_names_position() {
    let err = Inventory::load(&[fixture("malformed.ini")]).unwrap_err();
    assert_eq!(
        located(err),
        (
            "malformed.ini".into(),
            6,
            1,
            "Expected key=value, got: this line has no equals sign".into()
        )
    );
}

#[test]
fn vars_file_must_be_a_mapping() {
    let err = Inventory::load(&[fixture("bad_vars/hosts.yml")]).unwrap_err();
    let (file, line, col, msg) = located(err);
    assert_eq!((file.as_str(), line, col), ("web.yml", 1, 1));
    assert!(msg.contains("dictionary"), "{msg}");
}
