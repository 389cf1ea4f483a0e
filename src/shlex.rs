//! Python's POSIX `shlex.split`, the one word splitter ferry uses: the INI
//! inventory (with `comments=True`, where `#` starts a comment even inside a
//! word), the command module's argv, and ssh argument strings. Quotes group,
//! backslash escapes (inside double quotes only `\"` and `\\`).

/// Split `line` the way Python's `shlex.split(line, comments=comments)` does.
pub fn split(line: &str, comments: bool) -> Result<Vec<String>, String> {
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
                } else if comments && c == '#' {
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
    fn split(s: &str) -> Result<Vec<String>, String> {
        super::split(s, true)
    }

    #[test]
    fn without_comments_hash_is_a_character() {
        assert_eq!(super::split("a#b 'c d'", false).unwrap(), ["a#b", "c d"]);
        assert_eq!(super::split("a '' b", false).unwrap(), ["a", "", "b"]);
    }

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
