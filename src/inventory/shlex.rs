//! POSIX `shlex.split(line, comments=True)` as Ansible's INI reader uses it to cut
//! a host line into the host and its `key=value` words: quotes group, backslash
//! escapes, and `#` starts a comment even in the middle of a word.

/// Split one line the way Python's `shlex.split(s, comments=True)` does.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Space,
        Word,
        Quote(char),
        Escape(Option<char>),
    }
    let mut out = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Space;
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n');
    for c in line.chars() {
        match state {
            State::Space | State::Word => {
                if is_space(c) {
                    if state == State::Word && (!token.is_empty() || quoted) {
                        out.push(std::mem::take(&mut token));
                        quoted = false;
                    }
                    state = State::Space;
                } else if c == '#' {
                    // The rest of the line is a comment.
                    if !token.is_empty() || quoted {
                        out.push(std::mem::take(&mut token));
                    }
                    return Ok(out);
                } else if c == '\\' {
                    state = State::Escape(None);
                } else if c == '\'' || c == '"' {
                    quoted = true;
                    state = State::Quote(c);
                } else {
                    token.push(c);
                    state = State::Word;
                }
            }
            State::Quote(q) => {
                if c == q {
                    state = State::Word;
                } else if c == '\\' && q == '"' {
                    state = State::Escape(Some(q));
                } else {
                    token.push(c);
                }
            }
            State::Escape(inside) => {
                // In double quotes only `\"` and `\\` are escapes.
                if let Some(q) = inside {
                    if c != q && c != '\\' {
                        token.push('\\');
                    }
                }
                token.push(c);
                state = match inside {
                    Some(q) => State::Quote(q),
                    None => State::Word,
                };
            }
        }
    }
    match state {
        State::Quote(_) => Err("No closing quotation".into()),
        State::Escape(_) => Err("No escaped character".into()),
        _ => {
            if !token.is_empty() || quoted {
                out.push(token);
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn splits_like_python() {
        assert_eq!(split("a b=1  c='x y'").unwrap(), ["a", "b=1", "c=x y"]);
        assert_eq!(split("h x=\"'03#pa'\" # c").unwrap(), ["h", "x='03#pa'"]);
        assert_eq!(split("h a=b#c d").unwrap(), ["h", "a=b"]);
        assert_eq!(split(r#"h a="q\"x\n""#).unwrap(), ["h", "a=q\"x\\n"]);
        assert_eq!(split(r"h a=\x b=''").unwrap(), ["h", "a=x", "b="]);
        assert!(split("h a='x").is_err());
        assert!(split("h a=\\").is_err());
    }
}
