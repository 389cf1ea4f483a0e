//! Ansible's Jinja keeps string literals as written: `'\n'` is a backslash
//! and an `n`, `'\1'` stays a backreference for `regex_replace`, and `\"`
//! only keeps the quote from ending the string (the backslash stays too).
//! minijinja decodes escapes like Python would, so before compiling, every
//! literal is re-spelled so that minijinja's decoding gives the text back.

use std::borrow::Cow;

/// What every template goes through before minijinja compiles it: string
/// literals re-spelled, then Python's `%` operator rewritten.
pub fn prepare(src: &str, code: bool) -> String {
    let kept = keep_backslashes(src, code);
    super::modop::rewrite(&kept, code).into_owned()
}

/// Re-spell the string literals of a template (`code == false`: only inside
/// `{{ }}` and `{% %}`, never in text, comments or raw blocks) or of a bare
/// expression (`code == true`).
pub fn keep_backslashes(src: &str, code: bool) -> Cow<'_, str> {
    if !src.contains('\\') {
        return Cow::Borrowed(src);
    }
    let mut out = String::with_capacity(src.len() + 8);
    if code {
        let end = copy_code(src, 0, &mut out, None);
        out.push_str(&src[end..]);
        return Cow::Owned(out);
    }
    let mut i = 0;
    while i < src.len() {
        let rest = &src[i..];
        if rest.starts_with("{#") {
            let end = rest.find("#}").map_or(src.len(), |e| i + e + 2);
            out.push_str(&src[i..end]);
            i = end;
        } else if let Some(len) = raw_open(rest) {
            let body = i + len;
            let end = raw_close(&src[body..]).map_or(src.len(), |e| body + e);
            out.push_str(&src[i..end]);
            i = end;
        } else if rest.starts_with("{{") || rest.starts_with("{%") {
            let close = if rest.starts_with("{{") { "}}" } else { "%}" };
            out.push_str(&rest[..2]);
            i = copy_code(src, i + 2, &mut out, Some(close));
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8().max(1);
        }
    }
    Cow::Owned(out)
}

/// Copy code from `start` until `close` at bracket depth 0 (copied too) or
/// the end; returns the index after what was copied.
fn copy_code(src: &str, start: usize, out: &mut String, close: Option<&str>) -> usize {
    let mut depth = 0usize;
    let mut it = src[start..].char_indices().peekable();
    while let Some((off, c)) = it.next() {
        let i = start + off;
        if depth == 0 {
            if let Some(cl) = close {
                if src[i..].starts_with(cl) {
                    out.push_str(cl);
                    return i + cl.len();
                }
            }
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            '\'' | '"' => {
                out.push(c);
                // The literal as Jinja's lexer reads it: a backslash takes the
                // next character with it.
                loop {
                    match it.next() {
                        None => return src.len(),
                        Some((_, q)) if q == c => break,
                        Some((_, '\\')) => {
                            out.push_str("\\\\");
                            match it.next() {
                                None => return src.len(),
                                Some((_, n)) if n == c => {
                                    out.push('\\');
                                    out.push(n);
                                }
                                Some((_, '\\')) => out.push_str("\\\\"),
                                Some((_, n)) => out.push(n),
                            }
                        }
                        Some((_, n)) => out.push(n),
                    }
                }
            }
            _ => {}
        }
        out.push(c);
    }
    src.len()
}

/// Length of a `{% raw %}` tag at the start of `s`.
fn raw_open(s: &str) -> Option<usize> {
    let t = s.strip_prefix("{%")?;
    let t2 = t.strip_prefix('-').unwrap_or(t);
    let t3 = t2.trim_start();
    let t4 = t3.strip_prefix("raw")?;
    let t5 = t4.trim_start();
    let t6 = t5.strip_prefix('-').unwrap_or(t5);
    let t7 = t6.strip_prefix("%}")?;
    Some(s.len() - t7.len())
}

/// Where the `{% endraw %}` tag ends in `s`.
fn raw_close(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(p) = s[from..].find("{%") {
        let at = from + p;
        let t = &s[at + 2..];
        let t2 = t.strip_prefix('-').unwrap_or(t).trim_start();
        if let Some(t3) = t2.strip_prefix("endraw") {
            let t4 = t3.trim_start();
            let t5 = t4.strip_prefix('-').unwrap_or(t4);
            if let Some(t6) = t5.strip_prefix("%}") {
                return Some(s.len() - t6.len());
            }
        }
        from = at + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::keep_backslashes;

    #[test]
    fn literals_are_respelled_only_in_code() {
        assert_eq!(
            keep_backslashes(r"a\n {{ 'x\ny' }}", false),
            r"a\n {{ 'x\\ny' }}"
        );
        assert_eq!(
            keep_backslashes(r#"{{ "q\"q" }}"#, false),
            r#"{{ "q\\\"q" }}"#
        );
        assert_eq!(keep_backslashes(r"{{ 'b\\s' }}", false), r"{{ 'b\\\\s' }}");
        assert_eq!(
            keep_backslashes(r"{# '\n' #}{% raw %}{{ '\n' }}{% endraw %}", false),
            r"{# '\n' #}{% raw %}{{ '\n' }}{% endraw %}"
        );
        assert_eq!(
            keep_backslashes(r"{{ {'a': '\1'} }} '\1'", false),
            r"{{ {'a': '\\1'} }} '\1'"
        );
        assert_eq!(
            keep_backslashes(r"x is match('\d')", true),
            r"x is match('\\d')"
        );
        assert_eq!(keep_backslashes("no backslash", true), "no backslash");
    }
}
