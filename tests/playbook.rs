//! `ferry playbook` end to end over a real sshd: modules, idempotence, check
//! mode, handlers, blocks, loops, variable precedence, YAML 1.1 booleans,
//! no_log at -vvvv, undefined-variable errors and exit codes.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{ferry, ClientKey, Sshd};

/// An inventory in the Terraform shape (only `ansible_ssh_user` set).
fn inventory(sshd: &Sshd, dir: &Path) -> String {
    let inv = format!(
        "oidc:\n  hosts:\n    vm1:\n      ansible_host: 127.0.0.1\n      ansible_port: {}\n      \
         ansible_ssh_user: {}\n      ansible_ssh_private_key_file: {}\n      \
         ansible_ssh_common_args: \"-o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no\"\n      \
         remote_dir: {}\n",
        sshd.port,
        sshd.user,
        ClientKey::RsaPem.path().display(),
        sshd.remote_dir().display()
    );
    let p = dir.join("inventory.yml");
    std::fs::write(&p, inv).unwrap();
    p.display().to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The recap numbers for one host: (ok, changed, unreachable, failed, skipped, rescued, ignored).
fn recap(out: &str, host: &str) -> [u32; 7] {
    let line = out
        .lines()
        .find(|l| l.starts_with(host) && l.contains(" : ok="))
        .unwrap_or_else(|| panic!("no recap line for {host} in:\n{out}"));
    let mut nums = [0u32; 7];
    for (i, part) in line
        .split_whitespace()
        .filter(|p| p.contains('='))
        .enumerate()
        .take(7)
    {
        nums[i] = part.split('=').nth(1).unwrap().parse().unwrap();
    }
    nums
}

const CONVERGE: &str = r#"
- name: Converge a host
  hosts: oidc
  vars:
    conf_dir: "{{ remote_dir }}/conf"
  tasks:
    - name: directory
      ansible.builtin.file:
        path: "{{ conf_dir }}"
        state: directory
        mode: "0700"
    - name: a file with content
      ansible.builtin.copy:
        content: "token={{ inventory_hostname }}\n"
        dest: "{{ conf_dir }}/token"
        mode: "0400"
      notify: config changed
    - name: a templated config
      ansible.builtin.template:
        src: app.conf.j2
        dest: "{{ conf_dir }}/app.conf"
        mode: "0644"
      notify: config changed
    - name: a line
      ansible.builtin.lineinfile:
        path: "{{ conf_dir }}/extra.conf"
        line: "extra = 1"
        create: true
    - name: a command that only runs once
      ansible.builtin.command:
        cmd: touch {{ conf_dir }}/made
        creates: "{{ conf_dir }}/made"
    - name: facts reached the host side
      ansible.builtin.stat:
        path: "{{ conf_dir }}/token"
      register: st
    - ansible.builtin.assert:
        that:
          - st.stat.exists
          - st.stat.mode == '0400'
          - ansible_user_dir is defined
  handlers:
    - name: config changed
      ansible.builtin.debug:
        msg: handler ran once
"#;

#[test]
fn modules_converge_then_report_no_changes() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(&sshd, dir.path());
    write(
        dir.path(),
        "templates/app.conf.j2",
        "user = {{ ansible_user }}\nhost = {{ inventory_hostname }}\n",
    );
    let pb = write(dir.path(), "site.yml", CONVERGE);
    let first = ferry(dir.path(), &["playbook", "-i", &inv, &pb]);
    assert_eq!(first.code, 0, "{}", first.all());
    let [ok, changed, unreachable, failed, ..] = recap(&first.stdout, "vm1");
    assert_eq!(
        (changed, unreachable, failed),
        (5, 0, 0),
        "{}",
        first.stdout
    );
    assert!(ok >= 8, "{}", first.stdout);
    assert_eq!(
        first.stdout.matches("handler ran once").count(),
        1,
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("RUNNING HANDLER [config changed]"));
    let conf = sshd.remote_dir().join("conf");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode(&conf), 0o700);
    assert_eq!(mode(&conf.join("token")), 0o400);
    assert_eq!(
        std::fs::read_to_string(conf.join("token")).unwrap(),
        "token=vm1\n"
    );
    // ansible_user is filled from ansible_ssh_user, as Ansible does.
    assert_eq!(
        std::fs::read_to_string(conf.join("app.conf")).unwrap(),
        format!("user = {}\nhost = vm1\n", sshd.user)
    );

    let second = ferry(dir.path(), &["playbook", "-i", &inv, &pb]);
    assert_eq!(second.code, 0, "{}", second.all());
    assert_eq!(
        recap(&second.stdout, "vm1")[1],
        0,
        "second run changed something:\n{}",
        second.stdout
    );
    assert!(
        !second.stdout.contains("RUNNING HANDLER"),
        "{}",
        second.stdout
    );
}

#[test]
fn check_mode_changes_nothing_on_the_host() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(&sshd, dir.path());
    write(dir.path(), "templates/app.conf.j2", "x\n");
    let pb = write(
        dir.path(),
        "site.yml",
        CONVERGE
            .replace(
                "    - ansible.builtin.assert:",
                "    - when: not ansible_check_mode\n      ansible.builtin.assert:",
            )
            .as_str(),
    );
    let r = ferry(dir.path(), &["playbook", "-i", &inv, &pb, "--check"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(recap(&r.stdout, "vm1")[1] >= 3, "{}", r.stdout);
    assert!(
        !sshd.remote_dir().join("conf").exists(),
        "check mode created files"
    );
}

#[test]
fn no_log_secret_never_printed_even_at_vvvv() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(&sshd, dir.path());
    let pb = write(
        dir.path(),
        "secret.yml",
        r#"
- hosts: oidc
  gather_facts: false
  vars:
    secret: "S3cr3t-Value-42"
  tasks:
    - name: use the secret
      command: echo {{ secret }}
      register: out
      no_log: true
    - name: write it
      copy:
        content: "{{ out.stdout }}"
        dest: "{{ remote_dir }}/secret"
        mode: "0400"
      no_log: true
    - name: fail with it
      command: sh -c 'echo {{ secret }} >&2; exit 1'
      no_log: true
      ignore_errors: true
    - name: loop with it
      debug:
        msg: "{{ item }}"
      loop: ["{{ secret }}"]
      no_log: true
    - name: the registered value keeps the real data
      assert:
        that: out.stdout == secret
"#,
    );
    let r = ferry(dir.path(), &["playbook", "-i", &inv, &pb, "-vvvv"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        !r.all().contains("S3cr3t-Value-42"),
        "secret leaked:\n{}",
        r.all()
    );
    assert!(r.stdout.contains("the output has been hidden due to the fact that 'no_log: true' was specified for this result"));
    assert_eq!(
        std::fs::read_to_string(sshd.remote_dir().join("secret")).unwrap(),
        "S3cr3t-Value-42"
    );
}

#[test]
fn variable_precedence_follows_ansible() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "inv/hosts.yml", "all:\n  vars:\n    v: inventory-all\n  children:\n    web:\n      vars:\n        v: inventory-group\n      hosts:\n        h1:\n          ansible_connection: local\n          v: inventory-host\n        h2:\n          ansible_connection: local\n");
    write(
        d,
        "inv/group_vars/web.yml",
        "v: group_vars-web\ngv: from-group-vars\n",
    );
    write(d, "inv/host_vars/h2.yml", "v: host_vars-h2\n");
    write(d, "vars.yml", "vf: from-vars-file\n");
    let pb = write(
        d,
        "prec.yml",
        r#"
- hosts: web
  gather_facts: false
  tasks:
    - debug: msg="inventory level {{ inventory_hostname }}={{ v }}"
- hosts: web
  gather_facts: false
  vars:
    v: play
  vars_files: [vars.yml]
  tasks:
    - debug: msg="play {{ v }} {{ vf }} {{ gv }}"
    - block:
        - debug: msg="block {{ v }}"
        - debug: msg="task {{ v }}"
          vars:
            v: task
      vars:
        v: block
    - set_fact:
        v: set_fact
    - debug: msg="after {{ v }}"
"#,
    );
    let inv = d.join("inv/hosts.yml").display().to_string();
    let r = ferry(d, &["playbook", "-i", &inv, &pb]);
    assert_eq!(r.code, 0, "{}", r.all());
    // host vars beat group vars; host_vars/ beats inventory host vars.
    assert!(
        r.stdout
            .contains("\"msg\": \"inventory level h1=inventory-host\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\"msg\": \"inventory level h2=host_vars-h2\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\"msg\": \"play play from-vars-file from-group-vars\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("\"msg\": \"block block\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"msg\": \"task task\""), "{}", r.stdout);
    assert!(
        r.stdout.contains("\"msg\": \"after set_fact\""),
        "{}",
        r.stdout
    );
    let r = ferry(d, &["playbook", "-i", &inv, &pb, "-e", "v=extra"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Extra vars beat everything, set_fact included.
    for msg in [
        "inventory level h1=extra",
        "inventory level h2=extra",
        "play extra from-vars-file",
        "block extra",
        "task extra",
        "after extra",
    ] {
        assert!(r.stdout.contains(msg), "{msg} missing:\n{}", r.stdout);
    }
    assert!(!r.stdout.contains("after set_fact"), "{}", r.stdout);
}

#[test]
fn yaml11_booleans_and_native_types() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pb = write(
        d,
        "b.yml",
        r#"
- hosts: localhost
  gather_facts: no
  vars:
    enabled: no
    quoted: "no"
    mode: 0644
    items: [1, 2]
  tasks:
    - name: skipped because enabled is a boolean false
      debug: msg=never
      when: enabled
    - debug: msg="{{ enabled }} {{ quoted }} {{ mode }}"
    - set_fact:
        copied: "{{ items }}"
    - assert:
        that:
          - copied | length == 2
          - copied[0] == 1
          - quoted is string
"#,
    );
    let r = ferry(d, &["playbook", &pb]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("skipping: [localhost]"), "{}", r.stdout);
    assert!(
        r.stdout.contains("\"msg\": \"False no 420\""),
        "{}",
        r.stdout
    );
}

#[test]
fn undefined_variable_names_the_variable_and_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pb = write(
        d,
        "u.yml",
        "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - name: uses an undefined var\n      debug:\n        msg: \"{{ nope }}\"\n    - debug: msg=\"not reached\"\n",
    );
    let r = ferry(d, &["playbook", &pb]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("'nope' is undefined"), "{}", r.stdout);
    // The task's origin, then the value's: the task, the file and the line.
    assert!(
        r.stdout.contains(&format!(
            "[ERROR]: Task failed: Finalization of task args for 'ansible.builtin.debug' failed: \
             Error while resolving value for 'msg': 'nope' is undefined\n\n\
             Task failed: Finalization of task args for 'ansible.builtin.debug' failed.\n\
             Origin: {pb}:4:7\n"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("<<< caused by >>>\n\nError while resolving value for 'msg': 'nope' is undefined\nOrigin: {pb}:6:14\n")), "{}", r.stdout);
    assert!(!r.stdout.contains("not reached"), "{}", r.stdout);
}

#[test]
fn parse_errors_stop_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let marker = d.join("ran");
    let pb = write(
        d,
        "bad.yml",
        &format!(
            "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - command: touch {}\n    - name: typo\n      shel: echo\n",
            marker.display()
        ),
    );
    let r = ferry(d, &["playbook", &pb]);
    assert_eq!(r.code, 4, "{}", r.all());
    assert!(
        r.stderr
            .starts_with("[ERROR]: couldn't resolve module/action 'shel'."),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains(&format!("Origin: {pb}:6:7\n\n4     - command: touch")),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("6       shel: echo\n        ^ column 7\n"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("Did you mean 'shell'?"), "{}", r.stderr);
    assert!(
        !marker.exists(),
        "a task ran before the parse error was reported"
    );
    let pb = write(d, "kw.yml", "- hosts: localhost\n  taskz: []\n");
    let r = ferry(d, &["playbook", &pb]);
    assert_eq!(r.code, 4);
    assert!(
        r.stderr
            .contains("'taskz' is not a valid attribute for a Play\nOrigin: ")
            && r.stderr.contains("kw.yml:2:3\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn module_argument_errors_stop_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let marker = d.join("ran");
    let pb = write(
        d,
        "args.yml",
        &format!(
            "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - file: path={} state=touch\n    \
             - name: a typo in an argument\n      copy:\n        content: x\n        dest: /tmp/y\n        \
             destt: /tmp/x\n",
            marker.display()
        ),
    );
    for args in [
        vec!["playbook", &pb],
        vec!["playbook", "--syntax-check", &pb],
    ] {
        let r = ferry(d, &args);
        assert_eq!(r.code, 4, "{}", r.all());
        assert!(
            r.stderr.starts_with(
                "[ERROR]: Unsupported parameters for (ansible.legacy.copy) module: destt. \
                 Supported parameters include: _original_basename, attributes, backup, checksum, \
                 content, dest, directory_mode, follow, force, group, local_follow, mode, owner, \
                 remote_src, selevel, serole, setype, seuser, src, unsafe_writes, validate (attr). \
                 Did you mean 'dest'?\n"
            ),
            "{}",
            r.stderr
        );
        // The origin is the argument's name, with the lines before it.
        assert!(
            r.stderr.contains(&format!(
                "Origin: {pb}:9:9\n\n7         content: x\n8         dest: /tmp/y\n9         destt: /tmp/x\n          ^ column 9\n"
            )),
            "{}",
            r.stderr
        );
        assert!(!marker.exists(), "a task ran before the argument error");
    }

    // Free-form k=v is checked after splitting, in handlers too; a wrong
    // type points at the argument inside the text.
    let pb = write(
        d,
        "types.yml",
        &format!(
            "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - file: path={} state=touch\n      \
             notify: h\n  handlers:\n    - name: h\n      file: path=/tmp state=directory recurse=maybe\n",
            marker.display()
        ),
    );
    let r = ferry(d, &["playbook", &pb]);
    assert_eq!(r.code, 4, "{}", r.all());
    assert!(
        r.stderr.starts_with(
            "[ERROR]: argument 'recurse' is of type str and we were unable to convert to bool: \
             The value 'maybe' is not a valid boolean."
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&format!("Origin: {pb}:8:39\n")),
        "{}",
        r.stderr
    );
    assert!(!marker.exists());

    // An included file is checked when it is loaded, before its first task.
    write(
        d,
        "inc.yml",
        &format!(
            "- file: path={} state=touch\n- stat:\n    path: /\n    bogus: 1\n",
            marker.display()
        ),
    );
    let pb = write(
        d,
        "inc_main.yml",
        "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - include_tasks: inc.yml\n",
    );
    let r = ferry(d, &["playbook", &pb]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stdout.contains(
            "Unsupported parameters for (stat) module: bogus. Supported parameters include: "
        ),
        "{}",
        r.stdout
    );
    assert!(
        !marker.exists(),
        "an included task ran before the argument error"
    );

    // What Ansible converts is accepted: aliases, yes/no strings, numbers
    // as strings and strings as numbers, templated values.
    let pb = write(
        d,
        "ok.yml",
        &format!(
            "- hosts: localhost\n  gather_facts: no\n  vars:\n    flag: true\n  tasks:\n    \
             - file: dest={} state=touch unsafe_writes=No\n    \
             - stat:\n        name: /\n        follow: \"{{{{ flag }}}}\"\n        get_checksum: 0\n        mime: \"off\"\n    \
             - command: echo hi\n      args:\n        chdir: /\n        strip_empty_ends: \"1\"\n    \
             - debug:\n        msg: x\n        verbosity: \"0\"\n    \
             - ping:\n        data: 5\n",
            marker.display()
        ),
    );
    let r = ferry(d, &["playbook", &pb]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(marker.exists());
}

/// Arguments from templates (ansible-core 2.19's `args: "{{ x }}"` and
/// free-form text that is one template) are rendered per host and merged
/// under the written ones; then checked like any others, at run time.
#[test]
fn templated_task_args_render_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |n: &str| d.join(n).display().to_string();
    let pb = write(
        d,
        "layers.yml",
        &format!(
            "- hosts: localhost\n  gather_facts: no\n  vars:\n    \
             fa: {{path: {f1}, state: touch}}\n    \
             cp: {{dest: {c1}, content: \"hello\\n\"}}\n    \
             fb: {{path: {f1}, state: touch, bogus: 1}}\n    \
             n: 5\n  tasks:\n    \
             - file:\n      args: \"{{{{ fa }}}}\"\n    \
             - copy: \"{{{{ cp }}}}\"\n    \
             - name: inline wins\n      file: path={f3} state=touch\n      args: \"{{{{ fa }}}}\"\n    \
             - name: the written mapping wins, the template fills in\n      \
             file: {{path: {f4}, state: touch}}\n      \
             args: \"{{{{ {{'path': '{nope}', 'mode': '0600', 'owner': omit}} }}}}\"\n    \
             - name: empty args\n      ping:\n      args:\n    \
             - name: not a dict\n      file:\n      args: \"{{{{ n }}}}\"\n      ignore_errors: true\n    \
             - name: templated state\n      file: {{path: {f1}, state: \"{{{{ 'presnt' }}}}\"}}\n      \
             ignore_errors: true\n    \
             - name: unknown from the template\n      file:\n      args: \"{{{{ fb }}}}\"\n",
            f1 = p("f1"),
            c1 = p("c1"),
            f3 = p("f3"),
            f4 = p("f4"),
            nope = p("nope"),
        ),
    );
    let r = ferry(d, &["playbook", &pb]);
    // The last task fails on the host: a run-time failure, not a parse error.
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        d.join("f1").exists() && d.join("f3").exists(),
        "{}",
        r.all()
    );
    assert_eq!(std::fs::read_to_string(d.join("c1")).unwrap(), "hello\n");
    let mode = std::fs::metadata(d.join("f4"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(!d.join("nope").exists());
    // Ansible 2.19's words, on stdout and stderr.
    for want in [
        "fatal: [localhost]: FAILED! => {\"changed\": false, \"msg\": \"Task failed: Finalization of \
         task args for 'ansible.builtin.file' failed: Task args must resolve to a 'dict' not 'int'.\"}",
        "fatal: [localhost]: FAILED! => {\"changed\": false, \"msg\": \"value of state must be one \
         of: absent, directory, file, hard, link, touch, got: presnt\"}",
        "fatal: [localhost]: FAILED! => {\"changed\": false, \"msg\": \"Unsupported parameters for \
         (file) module: bogus. Supported parameters include: _diff_peek, _original_basename,",
        "localhost                  : ok=7    changed=4    unreachable=0    failed=1    skipped=0    \
         rescued=0    ignored=2",
    ] {
        assert!(r.stdout.contains(want), "{want}\n---\n{}", r.all());
    }
    for want in [
        "[WARNING]: Deprecation warnings can be disabled by setting `deprecation_warnings=False` in \
         ansible.cfg.\n[DEPRECATION WARNING]: Merging legacy k=v args ('path', 'state') into task \
         args. This feature will be removed from ansible-core version 2.23.\nOrigin: ",
        "Include all task args in the task `args` mapping.\n\n",
        "[DEPRECATION WARNING]: Ignoring empty task `args` keyword. This feature will be removed \
         from ansible-core version 2.23.\n",
        "A mapping or template which resolves to a mapping is required.\n\n",
        "[WARNING]: Using a template for task args is unsafe in some situations (see \
         https://docs.ansible.com/ansible/devel/reference_appendices/faq.html#argsplat-unsafe).\n\
         Origin: ",
    ] {
        assert!(r.stderr.contains(want), "{want}\n---\n{}", r.stderr);
    }
    for want in [
        "<<< caused by >>>\n\nFinalization of task args for 'ansible.builtin.file' failed.\nOrigin: ",
        "<<< caused by >>>\n\nTask args must resolve to a 'dict' not 'int'.\nOrigin: ",
    ] {
        assert!(r.all().contains(want), "{want}\n---\n{}", r.all());
    }
    // One warning per task that has a template for its arguments.
    assert_eq!(
        r.stderr.matches("argsplat-unsafe").count(),
        6,
        "{}",
        r.stderr
    );
}

#[test]
fn blocks_loops_retries_and_failures_over_ssh() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(&sshd, dir.path());
    let pb = write(
        dir.path(),
        "flow.yml",
        r#"
- hosts: oidc
  gather_facts: false
  tasks:
    - block:
        - command: "false"
        - debug: msg="not reached"
      rescue:
        - debug: msg="rescued {{ ansible_failed_result.rc }}"
      always:
        - debug: msg=always
    - shell: "echo {{ item.key }}={{ item.value }}"
      with_dict: {a: 1, b: 2}
      register: pairs
    - assert:
        that: pairs.results | map(attribute='stdout') | list == ['a=1', 'b=2']
    - shell: "n=$(cat {{ remote_dir }}/n 2>/dev/null || echo 0); echo $((n+1)) > {{ remote_dir }}/n; cat {{ remote_dir }}/n"
      register: r
      until: r.stdout == "3"
      retries: 5
      delay: 0
    - command: "false"
      failed_when: false
      changed_when: false
    - fail:
        msg: stop here
    - debug: msg=never
"#,
    );
    let r = ferry(dir.path(), &["playbook", "-i", &inv, &pb]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stdout.contains("\"msg\": \"rescued 1\""), "{}", r.stdout);
    assert!(!r.stdout.contains("not reached"));
    assert_eq!(
        r.stdout.matches("FAILED - RETRYING: [vm1]").count(),
        2,
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("fatal: [vm1]: FAILED! => {\"changed\": false, \"msg\": \"stop here\"}"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("never"));
    let [_, _, _, failed, _, rescued, _] = recap(&r.stdout, "vm1");
    assert_eq!((failed, rescued), (1, 1), "{}", r.stdout);
}

#[test]
fn unreachable_host_exits_4_while_others_complete() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv_path = inventory(&sshd, dir.path());
    let closed = common::sshd::free_port();
    let mut inv = std::fs::read_to_string(&inv_path).unwrap();
    inv.push_str(&format!(
        "    dead:\n      ansible_host: 127.0.0.1\n      ansible_port: {closed}\n      ansible_ssh_user: nobody\n"
    ));
    std::fs::write(&inv_path, inv).unwrap();
    let pb = write(
        dir.path(),
        "p.yml",
        "- hosts: oidc\n  tasks:\n    - command: touch {{ remote_dir }}/done\n      when: inventory_hostname == 'vm1'\n",
    );
    let r = ferry(dir.path(), &["playbook", "-i", &inv_path, &pb]);
    assert_eq!(r.code, 4, "{}", r.all());
    assert!(
        r.stdout.contains("fatal: [dead]: UNREACHABLE!"),
        "{}",
        r.stdout
    );
    assert!(sshd.remote_dir().join("done").exists());
    assert_eq!(recap(&r.stdout, "dead")[2], 1);
}

#[test]
fn machine_readable_json_and_junit_respect_no_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pb = write(
        d,
        "ci.yml",
        r#"
- name: ci
  hosts: localhost
  gather_facts: false
  vars:
    token: "tok-SECRET-99"
  tasks:
    - name: secret step
      command: echo {{ token }}
      no_log: true
      changed_when: false
    - name: visible step
      command: echo visible
    - name: failing step
      command: "false"
      ignore_errors: true
"#,
    );
    let junit = d.join("report.xml");
    let r = ferry(
        d,
        &[
            "playbook",
            &pb,
            "--output",
            "json",
            "--junit",
            junit.to_str().unwrap(),
            "-vvvv",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    let doc: serde_json::Value =
        serde_json::from_str(&r.stdout).expect("stdout is one JSON document");
    let tasks = &doc["plays"][0]["tasks"];
    assert_eq!(tasks[0]["task"]["name"], "secret step");
    assert_eq!(
        tasks[0]["hosts"]["localhost"]["censored"],
        "the output has been hidden due to the fact that 'no_log: true' was specified for this result"
    );
    assert_eq!(tasks[1]["hosts"]["localhost"]["stdout"], "visible");
    assert_eq!(tasks[2]["hosts"]["localhost"]["failed"], true);
    assert_eq!(doc["stats"]["localhost"]["ok"], 3);
    assert_eq!(doc["stats"]["localhost"]["ignored"], 1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("tests=\"3\" failures=\"0\""), "{xml}");
    assert!(xml.contains("[localhost] ci: visible step"), "{xml}");
    for text in [&r.stdout, &r.stderr, &xml] {
        assert!(!text.contains("tok-SECRET-99"), "secret leaked: {text}");
    }
}

#[test]
fn ctrl_c_stops_cleanly_with_exit_99() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pb = write(
        d,
        "slow.yml",
        "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - command: sleep 30\n    - command: touch never-reached\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_ferry"))
        .args(["playbook", &pb])
        .current_dir(d)
        .env_remove("ANSIBLE_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let start = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(99));
    assert!(String::from_utf8_lossy(&out.stderr).contains("User interrupted execution"));
    assert!(!d.join("never-reached").exists());
}

#[test]
fn diff_mode_shows_a_unified_diff() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("f.conf"), "a\nb\n").unwrap();
    let pb = write(
        d,
        "diff.yml",
        &format!(
            "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - copy:\n        content: \"a\\nc\\n\"\n        dest: {}\n",
            d.join("f.conf").display()
        ),
    );
    let r = ferry(d, &["playbook", &pb, "--diff", "--check"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let f = d.join("f.conf").display().to_string();
    assert!(
        r.stdout.contains(&format!(
            "--- before: {f}\n+++ after: {f}\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n\nchanged: [localhost]"
        )),
        "{}",
        r.stdout
    );
    assert_eq!(std::fs::read_to_string(d.join("f.conf")).unwrap(), "a\nb\n");
}

#[test]
fn progress_bar_only_on_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is needed for a pseudo-terminal");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("hosts"), "[web]\nw1 ansible_connection=local\nw2 ansible_connection=local\nw3 ansible_connection=local\n").unwrap();
    let pb = write(
        d,
        "slow.yml",
        "- hosts: web\n  gather_facts: no\n  tasks:\n    - name: long task\n      shell: \"sleep {{ 3 if inventory_hostname == 'w3' else 0 }}\"\n",
    );
    let cmd = format!("{} playbook -i hosts {pb}", env!("CARGO_BIN_EXE_ferry"));
    let tty = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(d)
        .env("TERM", "xterm")
        .output()
        .unwrap();
    let tty_out = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{tty_out}");
    assert!(
        tty_out.contains("long task ["),
        "no progress bar on a terminal: {tty_out}"
    );
    assert!(tty_out.contains("/3 hosts"), "{tty_out}");
    // Piped output (CI logs) never sees it.
    let piped = ferry(d, &["playbook", "-i", "hosts", &pb]);
    assert_eq!(piped.code, 0);
    assert!(!piped.all().contains("/3 hosts"), "{}", piped.all());
}

#[test]
fn free_strategy_lets_hosts_run_ahead_and_max_fail_percentage_stops_the_play() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("hosts"),
        "[web]\nslow ansible_connection=local\nfast ansible_connection=local\n",
    )
    .unwrap();
    let pb = write(
        d,
        "free.yml",
        &format!(
            r#"
- hosts: web
  strategy: free
  gather_facts: no
  tasks:
    - shell: "sleep {{{{ 2 if inventory_hostname == 'slow' else 0 }}}}; date +%s%N > {dir}/{{{{ inventory_hostname }}}}-1"
    - shell: "date +%s%N > {dir}/{{{{ inventory_hostname }}}}-2"
- hosts: web
  gather_facts: no
  max_fail_percentage: 40
  tasks:
    - fail:
        msg: one of two
      when: inventory_hostname == 'slow'
    - command: touch {dir}/after-abort
"#,
            dir = d.display()
        ),
    );
    let r = ferry(d, &["playbook", "-i", "hosts", &pb]);
    assert_eq!(r.code, 2, "{}", r.all());
    let t = |name: &str| -> u128 {
        std::fs::read_to_string(d.join(name))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    // Under free, the fast host finished its second task before the slow
    // host finished its first.
    assert!(t("fast-2") < t("slow-1"), "{}", r.stdout);
    // 1 of 2 hosts failed (50% > 40%): the play stops for every host.
    assert!(!d.join("after-abort").exists(), "{}", r.stdout);
}

#[test]
fn no_log_that_cannot_be_templated_still_hides() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pb = write(
        d,
        "nl.yml",
        "- hosts: localhost\n  gather_facts: no\n  tasks:\n    - command: echo Hidden-Value-7\n      no_log: \"{{ hide_it }}\"\n",
    );
    let r = ferry(d, &["playbook", &pb, "-vvv"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.all().contains("Hidden-Value-7"), "{}", r.all());
}

/// Files written over the persistent host shell: modes creation cannot set
/// (x, setuid), quotes and NUL bytes in content, over an existing read-only
/// file; no temporary file is left behind and a second run changes nothing.
#[test]
fn copy_modes_and_awkward_content_over_the_host_shell() {
    let sshd = Sshd::start();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(&sshd, dir.path());
    let bin: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    std::fs::write(dir.path().join("blob.bin"), &bin).unwrap();
    let pb = write(
        dir.path(),
        "files.yml",
        r##"
- hosts: oidc
  gather_facts: false
  tasks:
    - copy: {content: "it's \"quoted\" $HOME `x`\n", dest: "{{ remote_dir }}/q", mode: "0400"}
    - copy: {content: "#!/bin/sh\necho run\n", dest: "{{ remote_dir }}/x.sh", mode: "0755"}
    - copy: {content: "s", dest: "{{ remote_dir }}/suid", mode: "4750"}
    - copy: {src: blob.bin, dest: "{{ remote_dir }}/blob.bin", mode: "0600"}
    - copy: {content: "no newline", dest: "{{ remote_dir }}/nn"}
"##,
    );
    let first = ferry(dir.path(), &["playbook", "-i", &inv, &pb]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(recap(&first.stdout, "vm1")[1], 5, "{}", first.stdout);
    let rd = sshd.remote_dir();
    let mode = |n: &str| std::fs::metadata(rd.join(n)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(
        (mode("q"), mode("x.sh"), mode("suid"), mode("blob.bin")),
        (0o400, 0o755, 0o4750, 0o600)
    );
    assert_eq!(
        std::fs::read_to_string(rd.join("q")).unwrap(),
        "it's \"quoted\" $HOME `x`\n"
    );
    assert_eq!(std::fs::read(rd.join("blob.bin")).unwrap(), bin);
    assert_eq!(
        std::fs::read_to_string(rd.join("nn")).unwrap(),
        "no newline"
    );

    // New content over the read-only file, then a run that changes nothing.
    let pb2 = pb.replace("files.yml", "files2.yml");
    std::fs::write(
        &pb2,
        std::fs::read_to_string(&pb)
            .unwrap()
            .replace("it's", "it is"),
    )
    .unwrap();
    let again = ferry(dir.path(), &["playbook", "-i", &inv, &pb2]);
    assert_eq!(recap(&again.stdout, "vm1")[1], 1, "{}", again.stdout);
    assert!(std::fs::read_to_string(rd.join("q"))
        .unwrap()
        .starts_with("it is"));
    assert_eq!(mode("q"), 0o400);
    let same = ferry(dir.path(), &["playbook", "-i", &inv, &pb2]);
    assert_eq!(recap(&same.stdout, "vm1")[1], 0, "{}", same.stdout);
    let leftovers: Vec<_> = std::fs::read_dir(&rd)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".ferry"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
