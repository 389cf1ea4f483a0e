//! Minimal fact gathering in one round trip (until the `setup` module lands):
//! hostname, user, home, OS family and distribution, architecture, kernel.

use serde_json::{json, Map, Value};

use crate::connection::{ConnError, Connection, ExecRequest};

/// One script; every line is `key=value`. `. /etc/os-release` runs in a
/// subshell so its variables cannot leak into the others.
const SCRIPT: &str = r#"echo "hostname=$(uname -n)"
echo "fqdn=$(hostname -f 2>/dev/null || uname -n)"
echo "uid=$(id -u)"
echo "gid=$(id -g)"
echo "user=$(id -un)"
echo "home=$HOME"
echo "shell=$SHELL"
echo "system=$(uname -s)"
echo "machine=$(uname -m)"
echo "kernel=$(uname -r)"
echo "nproc=$(nproc 2>/dev/null || echo 1)"
echo "epoch=$(date +%s)"
if [ -r /etc/os-release ]; then (. /etc/os-release; echo "os_id=$ID"; echo "os_like=$ID_LIKE"; echo "os_version=$VERSION_ID"; echo "os_codename=$VERSION_CODENAME"; echo "os_name=$NAME"); fi
"#;

pub async fn gather(conn: &Connection) -> Result<Map<String, Value>, ConnError> {
    let out = conn.exec(&ExecRequest::new(SCRIPT)).await?;
    Ok(parse(&String::from_utf8_lossy(&out.stdout)))
}

/// Turn the script's output into Ansible-named facts (without the
/// `ansible_` prefix, as they sit under `ansible_facts`).
pub fn parse(text: &str) -> Map<String, Value> {
    let mut kv = std::collections::HashMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            kv.insert(k.to_string(), v.to_string());
        }
    }
    let get = |k: &str| kv.get(k).cloned().unwrap_or_default();
    let num = |k: &str| {
        get(k)
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or(Value::Null)
    };
    let hostname = get("hostname");
    let short = hostname.split('.').next().unwrap_or_default().to_string();
    let os_id = get("os_id");
    let distribution = distribution_name(&os_id, &get("os_name"));
    let version = get("os_version");
    let major = version.split('.').next().unwrap_or_default().to_string();
    let mut f = Map::new();
    f.insert("hostname".into(), json!(short));
    f.insert("nodename".into(), json!(hostname));
    f.insert("fqdn".into(), json!(get("fqdn")));
    f.insert("user_id".into(), json!(get("user")));
    f.insert("user_uid".into(), num("uid"));
    f.insert("user_gid".into(), num("gid"));
    f.insert("user_dir".into(), json!(get("home")));
    f.insert("user_shell".into(), json!(get("shell")));
    f.insert("system".into(), json!(get("system")));
    f.insert("kernel".into(), json!(get("kernel")));
    f.insert("architecture".into(), json!(get("machine")));
    f.insert("machine".into(), json!(get("machine")));
    f.insert("processor_vcpus".into(), num("nproc"));
    f.insert("distribution".into(), json!(distribution));
    f.insert("distribution_version".into(), json!(version));
    f.insert("distribution_major_version".into(), json!(major));
    f.insert("distribution_release".into(), json!(get("os_codename")));
    f.insert(
        "os_family".into(),
        json!(os_family(&os_id, &get("os_like"), &get("system"))),
    );
    f.insert("date_time".into(), json!({"epoch": get("epoch")}));
    f.insert("gather_subset".into(), json!(["min"]));
    f.insert("module_setup".into(), json!(true));
    f
}

fn distribution_name(id: &str, name: &str) -> String {
    match id {
        "debian" => "Debian".into(),
        "ubuntu" => "Ubuntu".into(),
        "centos" => "CentOS".into(),
        "rhel" => "RedHat".into(),
        "fedora" => "Fedora".into(),
        "rocky" => "Rocky".into(),
        "almalinux" => "AlmaLinux".into(),
        "alpine" => "Alpine".into(),
        "arch" => "Archlinux".into(),
        "amzn" => "Amazon".into(),
        "opensuse-leap" | "opensuse-tumbleweed" | "sles" => "openSUSE Leap".into(),
        "" => "".into(),
        _ => name.split_whitespace().next().unwrap_or(id).to_string(),
    }
}

/// Ansible's OS_FAMILY map, by os-release ID and ID_LIKE.
fn os_family(id: &str, like: &str, system: &str) -> String {
    let fam = |x: &str| match x {
        "debian" | "ubuntu" | "linuxmint" | "raspbian" | "kali" | "devuan" => Some("Debian"),
        "rhel" | "centos" | "fedora" | "rocky" | "almalinux" | "amzn" | "ol" | "oracle" => {
            Some("RedHat")
        }
        "alpine" => Some("Alpine"),
        "arch" | "manjaro" => Some("Archlinux"),
        "sles" | "opensuse" | "opensuse-leap" | "opensuse-tumbleweed" | "suse" => Some("Suse"),
        "gentoo" => Some("Gentoo"),
        _ => None,
    };
    fam(id)
        .or_else(|| like.split_whitespace().find_map(fam))
        .map(str::to_string)
        .unwrap_or_else(|| system.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian() {
        let f = parse(
            "hostname=vm1.example.com\nfqdn=vm1.example.com\nuid=1000\ngid=1000\nuser=adminuser\n\
             home=/home/adminuser\nshell=/bin/bash\nsystem=Linux\nmachine=x86_64\nkernel=6.1.0\n\
             nproc=2\nepoch=1700000000\nos_id=debian\nos_like=\nos_version=12\nos_codename=bookworm\nos_name=Debian GNU/Linux\n",
        );
        assert_eq!(f["hostname"], "vm1");
        assert_eq!(f["user_id"], "adminuser");
        assert_eq!(f["user_uid"], 1000);
        assert_eq!(f["os_family"], "Debian");
        assert_eq!(f["distribution"], "Debian");
        assert_eq!(f["distribution_major_version"], "12");
        assert_eq!(f["user_dir"], "/home/adminuser");
    }

    #[test]
    fn family_from_id_like() {
        assert_eq!(os_family("pop", "ubuntu debian", "Linux"), "Debian");
        assert_eq!(os_family("", "", "Linux"), "Linux");
    }
}
