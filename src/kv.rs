//! Ansible's `key=value` argument syntax (`-a "chdir=/tmp ls"`, `-e k=v`,
//! free-form task arguments) and the POSIX `shlex` split the command module uses.

use indexmap::IndexMap;
use serde_json::Value;

/// Options the command-like modules accept inside free-form arguments; any
/// other `k=v` stays part of the command line (Ansible's `check_raw`).
const RAW_OPTIONS: &[&str] = &[
    "creates",
    "removes",
    "chdir",
    "executable",
    "warn",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

/// Split on whitespace outside quotes and Jinja delimiters, keeping the quotes
/// (Ansible's `split_args`).
pub fn split_args(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut jinja_depth = 0usize;
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if quote.is_none() && c == '{' && matches!(next, Some('{') | Some('%') | Some('#')) {
            jinja_depth += 1;
            cur.push(c);
            cur.push(next.unwrap_or_default());
            i += 2;
            continue;
        }
        if jinja_depth > 0 && matches!(c, '}' | '%' | '#') && next == Some('}') {
            jinja_depth -= 1;
            cur.push(c);
            cur.push('}');
            i += 2;
            continue;
        }
        match quote {
            Some(q) => {
                cur.push(c);
                if c == '\\' {
                    if let Some(n) = next {
                        cur.push(n);
                        i += 1;
                    }
                } else if c == q {
                    quote = None;
                }
            }
            None if jinja_depth == 0 && c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => {
                if (c == '"' || c == '\'') && jinja_depth == 0 {
                    quote = Some(c);
                }
                cur.push(c);
            }
        }
        i += 1;
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Remove one pair of matching outer quotes.
pub fn unquote(s: &str) -> &str {
    let b = s.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &s[1..s.len() - 1]
    } else {
        s
    }
}

/// Ansible's `parse_kv`: `k=v` pairs become options (values are strings), the
/// rest joins into `_raw_params`. With `check_raw`, only the command modules'
/// own option names are taken out of the free-form text.
pub fn parse_kv(s: &str, check_raw: bool) -> IndexMap<String, Value> {
    let mut options = IndexMap::new();
    let mut raw: Vec<String> = Vec::new();
    for orig in split_args(s) {
        // Escape sequences are decoded before the split (`_decode_escapes`);
        // free-form text keeps them as written.
        let token = decode_escapes(&orig);
        // The first '=' after position 0 that is not escaped.
        let pos = token
            .char_indices()
            .skip(1)
            .find(|&(i, c)| c == '=' && !token[..i].ends_with('\\'))
            .map(|(i, _)| i);
        match pos {
            None if token.contains("\\=") => raw.push(token.replace("\\=", "=")),
            None => raw.push(orig),
            Some(pos) => {
                let k = token[..pos].trim();
                if check_raw && !RAW_OPTIONS.contains(&k) {
                    raw.push(orig.clone());
                } else {
                    let v = unquote(token[pos + 1..].trim()).to_string();
                    options.insert(k.to_string(), Value::String(v));
                }
            }
        }
    }
    if !raw.is_empty() {
        options.insert("_raw_params".to_string(), Value::String(raw.join(" ")));
    }
    options
}

/// Ansible's `_decode_escapes`: Python's unicode-escape decoding of
/// `\\UXXXXXXXX`, `\\uXXXX`, `\\xXX` and `\\` + one of `\\'"abfnrtv`; anything
/// else (`\\=`, `\\N{…}` here) is kept as written.
fn decode_escapes(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '\\' || i + 1 >= chars.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let hex = |n: usize| -> Option<char> {
            let digits: String = chars.get(i + 2..i + 2 + n)?.iter().collect();
            if digits.len() != n || !digits.chars().all(|d| d.is_ascii_hexdigit()) {
                return None;
            }
            u32::from_str_radix(&digits, 16)
                .ok()
                .and_then(char::from_u32)
        };
        let (decoded, used) = match chars[i + 1] {
            '\\' => (Some('\\'), 2),
            '\'' => (Some('\''), 2),
            '"' => (Some('"'), 2),
            'a' => (Some('\u{7}'), 2),
            'b' => (Some('\u{8}'), 2),
            'f' => (Some('\u{c}'), 2),
            'n' => (Some('\n'), 2),
            'r' => (Some('\r'), 2),
            't' => (Some('\t'), 2),
            'v' => (Some('\u{b}'), 2),
            'x' => (hex(2), 4),
            'u' => (hex(4), 6),
            'U' => (hex(8), 10),
            _ => (None, 0),
        };
        match decoded {
            Some(d) => {
                out.push(d);
                i += used;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Python's `shlex.split` (POSIX mode, no comments).
pub fn shlex_split(s: &str) -> Result<Vec<String>, String> {
    crate::shlex::split(s, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn split_keeps_quotes_and_jinja() {
        assert_eq!(
            split_args(r#"echo "a b" 'c d' {{ x | default('y z') }} e"#),
            vec!["echo", "\"a b\"", "'c d'", "{{ x | default('y z') }}", "e"]
        );
    }

    #[test]
    fn kv_for_command_modules() {
        let o = parse_kv("chdir=/tmp creates=/x ls -l foo=bar", true);
        assert_eq!(o["chdir"], json!("/tmp"));
        assert_eq!(o["creates"], json!("/x"));
        assert_eq!(o["_raw_params"], json!("ls -l foo=bar"));
        let o = parse_kv("a=1 b='x y' free", false);
        assert_eq!(o["a"], json!("1"));
        assert_eq!(o["b"], json!("x y"));
        assert_eq!(o["_raw_params"], json!("free"));
    }

    #[test]
    fn kv_values_decode_escapes() {
        let o = parse_kv(r#"content="a\nb\x41\u00e9\\" x=a\=b"#, false);
        assert_eq!(o["content"], Value::String("a\nbA\u{e9}\\".into()));
        assert_eq!(o["x"], Value::String("a\\=b".into()));
        // Free-form text keeps its escapes as written.
        let o = parse_kv(r"echo a\nb", true);
        assert_eq!(o["_raw_params"], Value::String(r"echo a\nb".into()));
    }

    #[test]
    fn shlex_posix() {
        assert_eq!(
            shlex_split(r#"echo "a \"b\" \x" 'c\d' e\ f"#).unwrap(),
            vec!["echo", "a \"b\" \\x", "c\\d", "e f"]
        );
        assert!(shlex_split("echo 'open").is_err());
        assert_eq!(shlex_split("a '' b").unwrap(), vec!["a", "", "b"]);
    }
}
