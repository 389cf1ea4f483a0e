//! A known_hosts reader/writer compatible with OpenSSH's format: comma lists of
//! host patterns (with `*`/`?` wildcards and `!` negation), hashed names
//! (`|1|salt|hmac-sha1`), `@revoked` and `@cert-authority` markers.
//!
//! russh's own `known_hosts` helpers do not understand markers, count lines
//! wrongly after comments and give up on the first unparsable key, so ferry
//! carries this small parser instead.

use std::io::Write;
use std::path::{Path, PathBuf};

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use russh::keys::PublicKey;
use sha1::Sha1;

/// Where a known_hosts line lives, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// What the known_hosts files say about a host's key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A line for this host holds exactly this key.
    Known(Location),
    /// The key is marked `@revoked`.
    Revoked(Location),
    /// The host is known with a different key of the same type.
    Changed(Location),
    /// The host is known only with keys of other types.
    OtherTypes(Location),
    /// No line for this host.
    Unknown,
}

/// Look `name` (`host` or `[host]:port`) up in `files`, in order.
pub fn check(files: &[PathBuf], name: &str, key: &PublicKey) -> Verdict {
    let mut changed = None;
    let mut other = None;
    let mut known = None;
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for (idx, line) in text.lines().enumerate() {
            let Some(entry) = parse_line(line) else {
                continue;
            };
            if entry.marker == Marker::CertAuthority || !host_matches(entry.hosts, name) {
                continue;
            }
            let loc = Location {
                file: file.clone(),
                line: idx + 1,
            };
            let Ok(recorded) = PublicKey::from_openssh(&format!("{} {}", entry.kind, entry.b64))
            else {
                continue;
            };
            let same = recorded.key_data() == key.key_data();
            match entry.marker {
                Marker::Revoked if same => return Verdict::Revoked(loc),
                Marker::Revoked => {}
                _ if same => {
                    known.get_or_insert(loc);
                }
                _ if recorded.algorithm() == key.algorithm() => {
                    changed.get_or_insert(loc);
                }
                _ => {
                    other.get_or_insert(loc);
                }
            }
        }
    }
    // A matching line wins over a mismatching one: hosts may list several keys.
    if let Some(l) = known {
        Verdict::Known(l)
    } else if let Some(l) = changed {
        Verdict::Changed(l)
    } else if let Some(l) = other {
        Verdict::OtherTypes(l)
    } else {
        Verdict::Unknown
    }
}

/// Key algorithms recorded for `name` (for host key algorithm preference).
pub fn known_algorithms(files: &[PathBuf], name: &str) -> Vec<russh::keys::Algorithm> {
    let mut algs = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        for entry in text.lines().filter_map(parse_line) {
            if entry.marker == Marker::None && host_matches(entry.hosts, name) {
                if let Ok(a) = russh::keys::Algorithm::new(entry.kind) {
                    if !algs.contains(&a) {
                        algs.push(a);
                    }
                }
            }
        }
    }
    algs
}

/// Append `name keytype base64` to `file`, creating it (and a 0700 parent) if needed.
pub fn learn(file: &Path, name: &str, key: &PublicKey) -> std::io::Result<()> {
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
    }
    let line = format!("{name} {}\n", key_line(key)?);
    // Do not glue our line onto a last line that lacks its newline.
    let needs_nl = std::fs::read(file)
        .map(|b| !b.is_empty() && !b.ends_with(b"\n"))
        .unwrap_or(false);
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    if needs_nl {
        f.write_all(b"\n")?;
    }
    f.write_all(line.as_bytes())
}

/// `keytype base64` for a key, without the comment.
pub fn key_line(key: &PublicKey) -> std::io::Result<String> {
    let mut k = key.clone();
    k.set_comment("");
    k.to_openssh()
        .map(|s| s.trim().to_string())
        .map_err(|e| std::io::Error::other(e.to_string()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

struct Entry<'a> {
    marker: Marker,
    hosts: &'a str,
    kind: &'a str,
    b64: &'a str,
}

fn parse_line(line: &str) -> Option<Entry<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        m if m.starts_with('@') => return None,
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next()?;
    }
    Some(Entry {
        marker,
        hosts: first,
        kind: fields.next()?,
        b64: fields.next()?,
    })
}

/// OpenSSH semantics: any negated pattern that matches rejects the line;
/// otherwise one positive match accepts it.
fn host_matches(patterns: &str, name: &str) -> bool {
    let mut hit = false;
    for pat in patterns.split(',') {
        if let Some(hashed) = pat.strip_prefix("|1|") {
            if hashed_matches(hashed, name) {
                hit = true;
            }
        } else if let Some(neg) = pat.strip_prefix('!') {
            if glob(&neg.to_ascii_lowercase(), &name.to_ascii_lowercase()) {
                return false;
            }
        } else if glob(&pat.to_ascii_lowercase(), &name.to_ascii_lowercase()) {
            hit = true;
        }
    }
    hit
}

fn hashed_matches(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    let Ok(mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(&salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes())
        .verify_slice(&hash)
        .is_ok()
}

/// `*` and `?` wildcards, as in ssh_config patterns.
fn glob(pat: &str, s: &str) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = (pat.chars().collect(), s.chars().collect());
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILMcz7Lr+Z15jW05G6TKzXW/Ynz6Pp68zCuGf/xykRJu";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPcX4zQDGumlE6xq89LDSKQX7YOwzIBEULJlUQjKJHSs";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap()
    }

    #[test]
    fn globbing_and_negation() {
        assert!(glob("*.example.com", "a.example.com"));
        assert!(glob("10.0.0.?", "10.0.0.5"));
        assert!(!glob("10.0.0.?", "10.0.0.55"));
        assert!(host_matches("a,b,[c]:2222", "[c]:2222"));
        assert!(!host_matches("*,!bad", "bad"));
    }

    #[test]
    fn hashed_names_match() {
        // `ssh-keygen -H` style entry for "example.org", computed with a fixed salt.
        let salt = [7u8; 20];
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&salt).unwrap();
        mac.update(b"example.org");
        let h = mac.finalize().into_bytes();
        let pat = format!("|1|{}|{}", BASE64.encode(&salt), BASE64.encode(&h));
        assert!(host_matches(&pat, "example.org"));
        assert!(!host_matches(&pat, "example.com"));
    }

    #[test]
    fn verdicts() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("kh");
        std::fs::write(
            &f,
            format!("# comment\n\n@cert-authority * {ED2}\nother {ED2}\nhost {ED}\n"),
        )
        .unwrap();
        let files = vec![f.clone()];
        assert!(matches!(check(&files, "host", &key(ED)), Verdict::Known(l) if l.line == 5));
        assert!(matches!(check(&files, "host", &key(ED2)), Verdict::Changed(l) if l.line == 5));
        assert_eq!(check(&files, "nope", &key(ED)), Verdict::Unknown);
        std::fs::write(&f, format!("@revoked * {ED}\nhost {ED}")).unwrap();
        assert!(matches!(
            check(&files, "host", &key(ED)),
            Verdict::Revoked(_)
        ));
        std::fs::write(&f, "junk").unwrap();
        learn(&f, "[h]:2200", &key(ED)).unwrap();
        assert!(matches!(check(&files, "[h]:2200", &key(ED)), Verdict::Known(l) if l.line == 2));
        let nested = dir.path().join("a/b/kh");
        learn(&nested, "h", &key(ED)).unwrap();
        assert!(matches!(check(&[nested], "h", &key(ED)), Verdict::Known(_)));
    }
}
