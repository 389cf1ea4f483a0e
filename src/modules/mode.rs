//! File modes as Ansible accepts them (`mode:`): octal strings, integers (a
//! YAML 1.1 `0644` arrives as 420), symbolic clauses (`u=rw,g+r,o-w`, `a+X`,
//! `g=u`) and copy's `preserve`.
//!
//! Symbolic modes are relative to the file's current mode, which only the host
//! knows; rather than a second round trip, [`ModeSpec::shell`] compiles the
//! clauses into POSIX shell arithmetic over `$m` (current mode), `$d` (1 for a
//! directory) and `$um` (the umask), evaluated in the same script.
//! [`ModeSpec::apply`] is the same algorithm in Rust, for tests and planning.

use serde_json::Value;

/// A parsed `mode:` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModeSpec {
    Octal(u32),
    Symbolic(Vec<Clause>),
    /// copy's `preserve`: the source file's mode.
    Preserve,
}

/// One `users op perms` step of a symbolic mode (`ug+rx` is two steps per op).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clause {
    /// Empty means "all, filtered by the umask" like chmod(1).
    pub users: String,
    pub op: char,
    pub perms: String,
}

/// Ansible's message for a mode it cannot understand.
pub const BAD_MODE: &str = "mode must be in octal or symbolic form";

impl ModeSpec {
    /// Parse a `mode:` value; `Ok(None)` when unset.
    pub fn parse(v: Option<&Value>) -> Result<Option<ModeSpec>, String> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match n.as_u64() {
                Some(i) if i <= 0o7777 => Ok(Some(ModeSpec::Octal(i as u32))),
                _ => Err(BAD_MODE.into()),
            },
            Some(Value::String(s)) => Self::parse_str(s).map(Some),
            Some(_) => Err(BAD_MODE.into()),
        }
    }

    pub fn parse_str(s: &str) -> Result<ModeSpec, String> {
        let s = s.trim();
        if s == "preserve" {
            return Ok(ModeSpec::Preserve);
        }
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return match u32::from_str_radix(s, 8) {
                Ok(m) if m <= 0o7777 => Ok(ModeSpec::Octal(m)),
                _ => Err(BAD_MODE.into()),
            };
        }
        parse_symbolic(s).map(ModeSpec::Symbolic)
    }

    /// The new mode given the current one (`is_dir` for `X`).
    pub fn apply(&self, current: u32, is_dir: bool, umask: u32) -> u32 {
        match self {
            ModeSpec::Octal(m) => *m,
            ModeSpec::Preserve => current & 0o7777,
            ModeSpec::Symbolic(clauses) => {
                let mut m = current & 0o7777;
                for c in clauses {
                    for u in users_of(&c.users) {
                        let a = perm_bits(u, &c.perms, m, is_dir, (!c.users.is_empty(), umask));
                        m = apply_op(u, c.op, a, m);
                    }
                }
                m
            }
        }
    }

    /// Shell statements that turn `$m` into the new mode (needs `$d`, `$um`).
    /// `Preserve` must be resolved by the caller (it needs the source's mode).
    pub fn shell(&self) -> String {
        match self {
            ModeSpec::Octal(m) => format!("m={m}"),
            ModeSpec::Preserve => ":".to_string(),
            ModeSpec::Symbolic(clauses) => {
                let mut out = String::from("m=$((m & 4095))");
                for c in clauses {
                    for u in users_of(&c.users) {
                        let a = perm_expr(u, &c.perms, c.users.is_empty());
                        let step = match c.op {
                            '+' => format!("m=$((m | ({a})))"),
                            '-' => format!("m=$((m & ~({a})))"),
                            _ => format!("m=$(((m & ~{}) | ({a})))", eq_mask(u)),
                        };
                        out.push_str("; ");
                        out.push_str(&step);
                    }
                }
                out
            }
        }
    }
}

fn parse_symbolic(s: &str) -> Result<Vec<Clause>, String> {
    let mut out = Vec::new();
    for part in s.split(',') {
        let users: String = part
            .chars()
            .take_while(|c| matches!(c, 'u' | 'g' | 'o' | 'a'))
            .collect();
        let mut rest = &part[users.len()..];
        if rest.is_empty() {
            return Err(BAD_MODE.into());
        }
        while let Some(op) = rest.chars().next() {
            if !matches!(op, '+' | '-' | '=') {
                return Err(BAD_MODE.into());
            }
            rest = &rest[1..];
            let end = rest.find(['+', '-', '=']).unwrap_or(rest.len());
            let perms = &rest[..end];
            rest = &rest[end..];
            let copy = matches!(perms, "u" | "g" | "o");
            if !copy && !perms.chars().all(|c| "rwxXst".contains(c)) {
                return Err(BAD_MODE.into());
            }
            out.push(Clause {
                users: users.clone(),
                op,
                perms: perms.to_string(),
            });
        }
    }
    Ok(out)
}

fn users_of(users: &str) -> Vec<char> {
    if users.is_empty() || users.contains('a') {
        return vec!['u', 'g', 'o'];
    }
    let mut v = Vec::new();
    for c in ['u', 'g', 'o'] {
        if users.contains(c) {
            v.push(c);
        }
    }
    v
}

/// rwx bits of `user` (`u` → 0o700 scale).
fn shift(user: char) -> u32 {
    match user {
        'u' => 6,
        'g' => 3,
        _ => 0,
    }
}

fn special(user: char, p: char) -> u32 {
    match (user, p) {
        ('u', 's') => 0o4000,
        ('g', 's') => 0o2000,
        ('o', 't') => 0o1000,
        _ => 0,
    }
}

fn eq_mask(user: char) -> u32 {
    (7 << shift(user)) | special(user, if user == 'o' { 't' } else { 's' })
}

/// Bits a clause's perms stand for, for one user (Ansible's
/// `_get_octal_mode_from_symbolic_perms`).
fn perm_bits(user: char, perms: &str, m: u32, is_dir: bool, (explicit, umask): (bool, u32)) -> u32 {
    if let Some(src) = perms
        .chars()
        .next()
        .filter(|_| matches!(perms, "u" | "g" | "o"))
    {
        return ((m >> shift(src)) & 7) << shift(user);
    }
    let mut bits = 0;
    for p in perms.chars() {
        let rwx = match p {
            'r' => 4,
            'w' => 2,
            'x' => 1,
            'X' if is_dir || m & 0o111 != 0 => 1,
            _ => 0,
        } << shift(user);
        bits |= if explicit { rwx } else { rwx & !umask };
        bits |= special(user, p);
    }
    bits
}

fn apply_op(user: char, op: char, a: u32, m: u32) -> u32 {
    match op {
        '+' => m | a,
        '-' => m & !a,
        _ => (m & !eq_mask(user)) | a,
    }
}

/// [`perm_bits`] as shell arithmetic over `$m`, `$d`, `$um`.
fn perm_expr(user: char, perms: &str, use_umask: bool) -> String {
    if let Some(src) = perms
        .chars()
        .next()
        .filter(|_| matches!(perms, "u" | "g" | "o"))
    {
        return format!("((m >> {}) & 7) << {}", shift(src), shift(user));
    }
    let mut fixed = 0;
    let mut x_cond = false;
    let mut spec = 0;
    for p in perms.chars() {
        match p {
            'r' => fixed |= 4 << shift(user),
            'w' => fixed |= 2 << shift(user),
            'x' => fixed |= 1 << shift(user),
            'X' => x_cond = true,
            _ => spec |= special(user, p),
        }
    }
    let x_bit = 1 << shift(user);
    let mut e = format!("{fixed}");
    if x_cond {
        e = format!("{e} | ((d || (m & 73)) ? {x_bit} : 0)");
    }
    if use_umask {
        e = format!("({e}) & ~um");
    }
    format!("({e}) | {spec}")
}

/// `0644`-style text Ansible reports in `mode`.
pub fn octal4(m: u32) -> String {
    format!("{:04o}", m & 0o7777)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ModeSpec {
        ModeSpec::parse_str(s).unwrap()
    }

    #[test]
    fn parses_forms() {
        assert_eq!(p("0644"), ModeSpec::Octal(0o644));
        assert_eq!(p("644"), ModeSpec::Octal(0o644));
        assert_eq!(p("1777"), ModeSpec::Octal(0o1777));
        assert_eq!(p("preserve"), ModeSpec::Preserve);
        assert_eq!(
            ModeSpec::parse(Some(&Value::from(420))).unwrap(),
            Some(ModeSpec::Octal(0o644))
        );
        assert_eq!(ModeSpec::parse(None).unwrap(), None);
        for bad in ["0999", "u=q", "z+x", "u", "", "77777", "u+rw,"] {
            assert!(ModeSpec::parse_str(bad).is_err(), "{bad}");
        }
        assert!(ModeSpec::parse(Some(&Value::Bool(true))).is_err());
    }

    #[test]
    fn symbolic_table() {
        // (spec, current, is_dir, expected) with umask 022.
        let cases: &[(&str, u32, bool, u32)] = &[
            ("u=rw,g=r,o=", 0o777, false, 0o640),
            ("u+x", 0o644, false, 0o744),
            ("a-w", 0o666, false, 0o444),
            ("+w", 0o444, false, 0o644),
            ("+x", 0o644, false, 0o755),
            ("a+X", 0o644, false, 0o644),
            ("a+X", 0o644, true, 0o755),
            ("a+X", 0o744, false, 0o755),
            ("g=u", 0o604, false, 0o664),
            ("u+s,g+s,o+t", 0o755, true, 0o7755),
            ("u=rwx,go=rx", 0o4000, false, 0o755),
            ("o=", 0o1777, true, 0o770),
            ("u+r-w", 0o200, false, 0o400),
            ("ug=rw,o=r", 0, false, 0o664),
        ];
        for (spec, cur, dir, want) in cases {
            let got = p(spec).apply(*cur, *dir, 0o022);
            assert_eq!(got, *want, "{spec} on {cur:o}: got {got:o}");
        }
    }

    #[test]
    fn shell_arith_matches_rust() {
        // The emitted arithmetic, evaluated by the real sh.
        for (spec, cur, dir) in [
            ("u=rw,g=r,o=", 0o777, false),
            ("a+X", 0o644, true),
            ("a+X", 0o744, false),
            ("+x", 0o600, false),
            ("g=u", 0o604, false),
            ("u+s,g+s,o+t", 0o755, true),
            ("o=", 0o1777, true),
            ("0640", 0o777, false),
        ] {
            let m = p(spec);
            let script = format!(
                "m={cur}; d={}; um=18; {}; echo $m",
                u8::from(dir),
                m.shell()
            );
            let out = std::process::Command::new("/bin/sh")
                .arg("-c")
                .arg(&script)
                .output()
                .unwrap();
            let got: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            assert_eq!(got, m.apply(cur, dir, 0o022), "{spec}: {script}");
        }
    }
}
