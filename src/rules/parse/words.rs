//! Word-level helpers: quote and escape removal, `$'…'` decoding, re-quoting for re-parses, and
//! the static output of the few commands whose output can be known without running them (`echo`,
//! `printf`, `cat` of a known feed, `base64 -d`, `tr`, `rev`) so pipes into shells can be read.

use super::{Feed, SimpleCommand};

/// Removes backslash escapes from an unquoted word (`\rm` → `rm`, `-r\f` → `-rf`).
pub fn unescape_word(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\n') | None => {}
                Some(n) => out.push(n),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes the escapes valid inside double quotes (`\" \\ \$ \` \<newline>`).
pub(super) fn unescape_dquote(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('"' | '\\' | '$' | '`') => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                Some('\n') => {
                    chars.next();
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes `$'…'` escapes (`\n \t \\ \' \xHH \0NNN`).
pub fn unescape_ansi_c(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('a') => out.push('\x07'),
            Some('e' | 'E') => out.push('\x1b'),
            Some('x') => {
                let mut hex = String::new();
                while hex.len() < 2 && chars.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
                    hex.extend(chars.next());
                }
                if let Some(ch) = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(d @ '0'..='7') => {
                let mut oct = String::from(d);
                while oct.len() < 3 && chars.peek().is_some_and(|c| ('0'..='7').contains(c)) {
                    oct.extend(chars.next());
                }
                if let Some(ch) = u32::from_str_radix(&oct, 8).ok().and_then(char::from_u32) {
                    out.push(ch);
                }
            }
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// Quotes a string for re-parsing as one shell word.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@%+,~".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The output of a command when it is statically known: `echo`, `printf`, `cat` of a known
/// feed, `base64 -d` and `tr SET1 SET2` of a known feed. Only literal words count.
pub fn static_output(cmd: &SimpleCommand) -> Option<String> {
    if cmd.words.iter().any(|w| w.dynamic) {
        return None;
    }
    let name = cmd.words[0].text.rsplit('/').next().unwrap_or("");
    let args: Vec<&str> = cmd.words[1..].iter().map(|w| w.text.as_str()).collect();
    let feed = match &cmd.stdin {
        Some(Feed::Literal(t)) => Some(t.as_str()),
        _ => None,
    };
    match name {
        "echo" => {
            let mut newline = true;
            let mut escapes = false;
            let mut i = 0;
            while let Some(a) = args.get(i) {
                match *a {
                    "-n" => newline = false,
                    "-e" => escapes = true,
                    "-E" => escapes = false,
                    "-ne" | "-en" => {
                        newline = false;
                        escapes = true;
                    }
                    _ => break,
                }
                i += 1;
            }
            let mut s = args[i..].join(" ");
            if escapes {
                s = unescape_ansi_c(&s);
            }
            if newline {
                s.push('\n');
            }
            Some(s)
        }
        "printf" => {
            let mut i = 0;
            if args.first() == Some(&"--") {
                i = 1;
            }
            let fmt = args.get(i)?;
            Some(printf(fmt, &args[i + 1..]))
        }
        "cat" if args.is_empty() || args == ["-"] => feed.map(str::to_string),
        "base64" if args.iter().any(|a| matches!(*a, "-d" | "--decode" | "-D")) => {
            use base64::Engine as _;
            let text: String = feed?.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .ok()?;
            String::from_utf8(bytes).ok()
        }
        "tr" if args.len() == 2 && !args[0].starts_with('-') => {
            let from: Vec<char> = args[0].chars().collect();
            let to: Vec<char> = args[1].chars().collect();
            if from
                .iter()
                .chain(&to)
                .any(|c| matches!(c, '-' | '[' | '\\'))
                || to.is_empty()
            {
                return None;
            }
            Some(
                feed?
                    .chars()
                    .map(|c| match from.iter().position(|f| *f == c) {
                        Some(i) => to.get(i).copied().unwrap_or(to[to.len() - 1]),
                        None => c,
                    })
                    .collect(),
            )
        }
        "rev" => Some(
            feed?
                .lines()
                .map(|l| l.chars().rev().collect::<String>() + "\n")
                .collect(),
        ),
        _ => None,
    }
}

/// A small `printf`: `%s`/`%b`/`%d` substitute arguments (format reused while arguments remain),
/// backslash escapes are decoded.
fn printf(fmt: &str, args: &[&str]) -> String {
    let mut out = String::new();
    let mut idx = 0;
    loop {
        let mut chars = fmt.chars().peekable();
        let mut used = false;
        while let Some(c) = chars.next() {
            if c == '%' {
                match chars.next() {
                    Some('%') => out.push('%'),
                    Some(_) => {
                        out.push_str(args.get(idx).copied().unwrap_or(""));
                        idx += 1;
                        used = true;
                    }
                    None => out.push('%'),
                }
            } else if c == '\\' {
                let mut esc = String::from("\\");
                esc.extend(chars.next());
                out.push_str(&unescape_ansi_c(&esc));
            } else {
                out.push(c);
            }
        }
        if !used || idx >= args.len() {
            break;
        }
    }
    out
}
