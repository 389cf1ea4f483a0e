//! Jinja2's text filters that minijinja lacks or spells differently:
//! `truncate`, `wordcount`, `center`, `wordwrap` (Python's `textwrap`),
//! `xmlattr`, `urlencode` (werkzeug-style quoting) and `tojson`.

/// Python's `str.isspace()`-free whitespace set used by `textwrap`.
fn tw_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\x0b' | '\x0c' | '\r' | ' ')
}

/// Python's `\w` (Unicode): letters, digits and underscore.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// textwrap's `letter`: `[^\d\W]`.
fn letter(c: char) -> bool {
    word_char(c) && !c.is_numeric()
}

/// textwrap's `word_punct`: `[\w!"'&.,?]`.
fn word_punct(c: char) -> bool {
    word_char(c) || matches!(c, '!' | '"' | '\'' | '&' | '.' | ',' | '?')
}

/// `-{2,}\w` at `at`.
fn em_dash_at(c: &[char], at: usize) -> bool {
    let mut i = at;
    while i < c.len() && c[i] == '-' {
        i += 1;
    }
    i - at >= 2 && i < c.len() && word_char(c[i])
}

/// `TextWrapper._split` with `break_on_hyphens`: Python's `wordsep_re`
/// (which needs look-behind, so it is walked by hand here).
fn split_chunks(c: &[char], break_on_hyphens: bool) -> Vec<String> {
    let mut chunks = Vec::new();
    let mut p = 0;
    while p < c.len() {
        let start = p;
        if tw_space(c[p]) {
            while p < c.len() && tw_space(c[p]) {
                p += 1;
            }
        } else if !break_on_hyphens {
            while p < c.len() && !tw_space(c[p]) {
                p += 1;
            }
        } else if p > 0 && word_punct(c[p - 1]) && em_dash_at(c, p) {
            while p < c.len() && c[p] == '-' {
                p += 1;
            }
        } else {
            // Shortest run of non-space ending at a hyphen between letters,
            // at the end of the word, or before an em-dash.
            let mut e = p + 1;
            loop {
                let hyphen = e < c.len()
                    && c[e] == '-'
                    && ((e >= 2 && letter(c[e - 2]) && letter(c[e - 1]))
                        || (e >= 3 && letter(c[e - 3]) && c[e - 2] == '-' && letter(c[e - 1])))
                    && c.get(e + 1).is_some_and(|&x| letter(x))
                    && (c.get(e + 2).is_some_and(|&x| letter(x))
                        || (c.get(e + 2) == Some(&'-')
                            && c.get(e + 3).is_some_and(|&x| letter(x))));
                if hyphen {
                    e += 1;
                    break;
                }
                if e >= c.len() || tw_space(c[e]) {
                    break;
                }
                if word_punct(c[e - 1]) && em_dash_at(c, e) {
                    break;
                }
                e += 1;
            }
            p = e;
        }
        chunks.push(c[start..p].iter().collect());
    }
    chunks
}

fn clen(s: &str) -> usize {
    s.chars().count()
}

/// `textwrap.wrap(text, width, expand_tabs=False, replace_whitespace=False,
/// break_long_words, break_on_hyphens)`.
fn wrap(text: &str, width: usize, break_long_words: bool, break_on_hyphens: bool) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut chunks = split_chunks(&chars, break_on_hyphens);
    chunks.reverse();
    let mut lines: Vec<String> = Vec::new();
    let is_blank = |s: &str| s.trim().is_empty();
    while !chunks.is_empty() {
        let mut cur: Vec<String> = Vec::new();
        let mut cur_len = 0;
        if !lines.is_empty() && chunks.last().is_some_and(|c| is_blank(c)) {
            chunks.pop();
        }
        while let Some(last) = chunks.last() {
            let l = clen(last);
            if cur_len + l > width {
                break;
            }
            cur_len += l;
            cur.extend(chunks.pop());
        }
        if chunks.last().is_some_and(|c| clen(c) > width) {
            // _handle_long_word
            let space_left = if width < 1 { 1 } else { width - cur_len };
            if break_long_words {
                let chunk: Vec<char> = chunks
                    .last()
                    .map(|c| c.chars().collect())
                    .unwrap_or_default();
                let mut end = space_left;
                if break_on_hyphens && chunk.len() > space_left {
                    if let Some(h) = chunk[..space_left.min(chunk.len())]
                        .iter()
                        .rposition(|&x| x == '-')
                    {
                        if h > 0 && chunk[..h].iter().any(|&x| x != '-') {
                            end = h + 1;
                        }
                    }
                }
                let end = end.min(chunk.len());
                cur.push(chunk[..end].iter().collect());
                if let Some(last) = chunks.last_mut() {
                    *last = chunk[end..].iter().collect();
                }
            } else if cur.is_empty() {
                cur.extend(chunks.pop());
            }
        }
        if cur.last().is_some_and(|c| is_blank(c)) {
            cur.pop();
        }
        if !cur.is_empty() {
            lines.push(cur.concat());
        }
    }
    lines
}

/// Python's `str.splitlines()`.
pub fn splitlines(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let brk = matches!(
            c,
            '\n' | '\r'
                | '\x0b'
                | '\x0c'
                | '\x1c'
                | '\x1d'
                | '\x1e'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if brk {
            out.push(&s[start..i]);
            let mut next = i + c.len_utf8();
            if c == '\r' {
                if let Some((j, '\n')) = it.peek().copied() {
                    it.next();
                    next = j + 1;
                }
            }
            start = next;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// Jinja's `wordwrap`: each existing line wrapped on its own.
pub fn wordwrap(
    s: &str,
    width: i64,
    break_long_words: bool,
    wrapstring: &str,
    break_on_hyphens: bool,
) -> Result<String, String> {
    if width <= 0 {
        return Err(format!("invalid width {width} (must be > 0)"));
    }
    Ok(splitlines(s)
        .into_iter()
        .map(|line| wrap(line, width as usize, break_long_words, break_on_hyphens).join(wrapstring))
        .collect::<Vec<_>>()
        .join(wrapstring))
}

/// Jinja's `truncate` (default leeway 5).
pub fn truncate(
    s: &str,
    length: i64,
    killwords: bool,
    end: &str,
    leeway: i64,
) -> Result<String, String> {
    let end_len = clen(end) as i64;
    if length < end_len {
        return Err(format!("expected length >= {end_len}, got {length}"));
    }
    if leeway < 0 {
        return Err(format!("expected leeway >= 0, got {leeway}"));
    }
    let chars: Vec<char> = s.chars().collect();
    if chars.len() as i64 <= length + leeway {
        return Ok(s.to_string());
    }
    let head: String = chars[..(length - end_len) as usize].iter().collect();
    if killwords {
        return Ok(head + end);
    }
    let kept = match head.rsplit_once(' ') {
        Some((before, _)) => before.to_string(),
        None => head,
    };
    Ok(kept + end)
}

/// Jinja's `wordcount`: `len(re.findall(r"\w+", s))`.
pub fn wordcount(s: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in s.chars() {
        let w = word_char(c);
        if w && !in_word {
            n += 1;
        }
        in_word = w;
    }
    n
}

/// Python's `str.center(width)`.
pub fn center(s: &str, width: i64) -> String {
    let len = clen(s) as i64;
    let marg = width - len;
    if marg <= 0 {
        return s.to_string();
    }
    let left = marg / 2 + (marg & width & 1);
    let right = marg - left;
    format!(
        "{}{s}{}",
        " ".repeat(left as usize),
        " ".repeat(right as usize)
    )
}

/// markupsafe's `escape`.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Jinja's `url_quote`: UTF-8 percent-encoding; `/` is kept unless `for_qs`,
/// where spaces become `+`.
pub fn url_quote(s: &str, for_qs: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'~');
        if keep || (!for_qs && b == b'/') {
            out.push(b as char);
        } else if for_qs && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Jinja's `indent`; `width` may be a string used as the indentation.
pub fn indent(s: &str, indention: &str, first: bool, blank: bool) -> String {
    let s = format!("{s}\n");
    let lines = splitlines(&s);
    let mut rv = if blank {
        lines.join(&format!("\n{indention}"))
    } else {
        let mut it = lines.into_iter();
        let mut rv = it.next().unwrap_or_default().to_string();
        let rest: Vec<String> = it
            .map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("{indention}{l}")
                }
            })
            .collect();
        if !rest.is_empty() {
            rv.push('\n');
            rv.push_str(&rest.join("\n"));
        }
        rv
    };
    if first {
        rv.insert_str(0, indention);
    }
    rv
}
