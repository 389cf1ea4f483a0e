//! Parsing OpenSSH command-line arguments (`ssh_args`, `ssh_common_args`,
//! `ssh_extra_args`) into `(option, value)` pairs the way `ssh` itself reads
//! them, plus the small value parsers (booleans, numbers) Ansible variables need.
//!
//! Ferry does not run `ssh`, so the arguments are interpreted, not passed on:
//! whatever is not understood becomes a warning rather than disappearing.

/// One option found in an argument string, with its key lower-cased
/// (`-i F` is reported as `identityfile`, `-p` as `port`, `-l` as `user`,
/// `-J` as `proxyjump`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SshOpt {
    pub key: String,
    pub value: String,
    /// The option as written (`-o ForwardAgent=yes`), for warnings.
    pub written: String,
}

/// The result of reading one argument string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedArgs {
    pub opts: Vec<SshOpt>,
    /// Flags ferry does not implement (already phrased for the user).
    pub warnings: Vec<String>,
}

/// Split ssh arguments into words as Ansible does (`shlex.split`).
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    crate::shlex::split(s, false)
}

/// ssh flags that take an argument (from ssh(1)); needed to know whether the
/// next word belongs to the flag.
const FLAGS_WITH_ARG: &str = "BbcDEeFIiJLlmOopQRSWw";
/// ssh flags without an argument.
const FLAGS_NO_ARG: &str = "46AaCfGgKkMNnqsTtVvXxYy";

/// Read an ssh argument string.
pub fn parse_args(s: &str) -> Result<ParsedArgs, String> {
    let words = split_words(s)?;
    let mut out = ParsedArgs::default();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        let Some(flags) = w.strip_prefix('-').filter(|f| !f.is_empty()) else {
            out.warnings
                .push(format!("ferry ignores ssh argument {w:?} (not an option)"));
            continue;
        };
        // Flags may be bundled (`-vvv`, `-4C`), and the last may take its
        // argument glued on (`-p2222`, `-oKey=Value`) or as the next word.
        for (pos, f) in flags.char_indices() {
            if FLAGS_WITH_ARG.contains(f) {
                let rest = &flags[pos + f.len_utf8()..];
                let arg = if !rest.is_empty() {
                    rest.to_string()
                } else if i < words.len() {
                    i += 1;
                    words[i - 1].clone()
                } else {
                    return Err(format!("ssh option -{f} needs an argument in {s:?}"));
                };
                match f {
                    // `-o Key Value` as two words is not valid for ssh, but it
                    // is an easy slip and unambiguous: accept it.
                    'o' if !arg.contains(['=', ' ', '\t'])
                        && i < words.len()
                        && !words[i].starts_with('-') =>
                    {
                        i += 1;
                        out.opts.push(parse_o(&format!("{arg}={}", words[i - 1]))?)
                    }
                    'o' => out.opts.push(parse_o(&arg)?),
                    'i' => out.opts.push(opt("identityfile", &arg)),
                    'p' => out.opts.push(opt("port", &arg)),
                    'l' => out.opts.push(opt("user", &arg)),
                    'J' => out.opts.push(opt("proxyjump", &arg)),
                    _ => out
                        .warnings
                        .push(format!("ferry ignores ssh option -{f} {arg}")),
                }
                break;
            } else if FLAGS_NO_ARG.contains(f) {
                // -C (compression) is in Ansible's default ssh_args; compression
                // is a transport detail like ControlMaster, so it is not worth a warning.
                if f != 'C' {
                    out.warnings.push(format!("ferry ignores ssh option -{f}"));
                }
            } else {
                return Err(format!("unknown ssh option -{f} in {s:?}"));
            }
        }
    }
    Ok(out)
}

fn opt(key: &str, value: &str) -> SshOpt {
    SshOpt {
        key: key.to_string(),
        value: value.to_string(),
        written: format!("{key}={value}"),
    }
}

/// `Key=Value`, `Key Value` or `Key = Value` (ssh_config syntax), with an
/// optionally quoted value (Ansible writes `IdentityFile="..."`).
fn parse_o(arg: &str) -> Result<SshOpt, String> {
    let arg = arg.trim();
    let split = arg
        .find(|c: char| c == '=' || c.is_whitespace())
        .ok_or_else(|| format!("ssh option -o {arg:?} has no value"))?;
    let name = &arg[..split];
    let key = name.to_ascii_lowercase();
    let mut value = arg[split..].trim_start();
    if let Some(v) = value.strip_prefix('=') {
        value = v.trim_start();
    }
    let value = value.trim_end();
    let value = if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        &value[1..value.len() - 1]
    } else {
        value
    };
    if key.is_empty() {
        return Err(format!("ssh option -o {arg:?} has no name"));
    }
    Ok(SshOpt {
        key,
        value: value.to_string(),
        written: format!("{name}={value}"),
    })
}

/// Ansible's boolean spellings (`yes`, `true`, `1`, `on`, `y`, `t` and opposites).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" | "on" | "y" | "t" => Some(true),
        "no" | "false" | "0" | "off" | "n" | "f" => Some(false),
        _ => None,
    }
}

/// The ssh_config spelling of yes/no.
pub fn parse_yes_no(key: &str, s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err(format!(
            "bad value {s:?} for ssh option {key} (expected yes or no)"
        )),
    }
}

/// Parse `[user@]host[:port]` (or `[user@][v6addr]:port`) hops, comma-separated.
pub fn parse_jump_list(s: &str) -> Result<Vec<super::JumpHost>, String> {
    if s.trim().eq_ignore_ascii_case("none") {
        return Ok(Vec::new());
    }
    s.split(',').map(|h| parse_jump(h.trim())).collect()
}

fn parse_jump(s: &str) -> Result<super::JumpHost, String> {
    let s = s.strip_prefix("ssh://").unwrap_or(s);
    let (user, rest) = match s.rfind('@') {
        Some(i) => (Some(s[..i].to_string()), &s[i + 1..]),
        None => (None, s),
    };
    let (host, port) = if let Some(r) = rest.strip_prefix('[') {
        let end = r
            .find(']')
            .ok_or_else(|| format!("bad ProxyJump host {s:?}"))?;
        let port = match r[end + 1..].strip_prefix(':') {
            Some(p) => Some(p),
            None if r[end + 1..].is_empty() => None,
            None => return Err(format!("bad ProxyJump host {s:?}")),
        };
        (r[..end].to_string(), port)
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (rest.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("bad port {p:?} in ProxyJump {s:?}"))?,
        None => 22,
    };
    if host.is_empty() || user.as_deref() == Some("") {
        return Err(format!("bad ProxyJump host {s:?}"));
    }
    Ok(super::JumpHost { user, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::JumpHost;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split_words(r#"-o 'A=b c' -o "D=\"e\"" f\ g"#).unwrap(),
            vec!["-o", "A=b c", "-o", "D=\"e\"", "f g"]
        );
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_words("''").unwrap(), vec![""]);
        assert!(split_words("'open").is_err());
    }

    #[test]
    fn reads_option_forms() {
        let p = parse_args(
            "-o Port=2200 -o User bob -oIdentityFile=\"/k 1\" -i /k2 -p 33 -l al -J j1,j2 \
             -o 'ConnectTimeout = 5' -C -vvv -L 80:x:80",
        )
        .unwrap();
        let kv: Vec<(&str, &str)> = p
            .opts
            .iter()
            .map(|o| (o.key.as_str(), o.value.as_str()))
            .collect();
        assert_eq!(
            kv,
            vec![
                ("port", "2200"),
                ("user", "bob"),
                ("identityfile", "/k 1"),
                ("identityfile", "/k2"),
                ("port", "33"),
                ("user", "al"),
                ("proxyjump", "j1,j2"),
                ("connecttimeout", "5"),
            ]
        );
        assert_eq!(
            p.warnings,
            vec![
                "ferry ignores ssh option -v",
                "ferry ignores ssh option -v",
                "ferry ignores ssh option -v",
                "ferry ignores ssh option -L 80:x:80"
            ]
        );
        assert!(parse_args("-o").is_err());
        assert!(parse_args("-o Port").is_err());
        assert!(parse_args("-Z").is_err());
        assert_eq!(parse_args("-p2222").unwrap().opts[0].value, "2222");
    }

    #[test]
    fn reads_jump_hosts() {
        assert_eq!(
            parse_jump_list("u@a:2222,b,[::1]:23").unwrap(),
            vec![
                JumpHost {
                    user: Some("u".into()),
                    host: "a".into(),
                    port: 2222
                },
                JumpHost {
                    user: None,
                    host: "b".into(),
                    port: 22
                },
                JumpHost {
                    user: None,
                    host: "::1".into(),
                    port: 23
                },
            ]
        );
        assert!(parse_jump_list("none").unwrap().is_empty());
        assert!(parse_jump_list("a:xx").is_err());
        assert!(parse_jump_list("@a").is_err());
    }
}
