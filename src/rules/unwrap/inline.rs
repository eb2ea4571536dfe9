//! Inline interpreter code (`python -c`, `node -e`, `perl -e`, `ruby -e`, `php -r`): what it would
//! spawn (shell strings, argv lists) or delete (rmtree, unlink, rmSync…), found with regexes over
//! the code. Only string literals are trusted; a spawn or recursive delete with computed
//! arguments is reported as [`Inline::Opaque`] so the engine fails closed.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

use crate::rules::parse;

/// What inline interpreter code does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// Runs this shell text.
    Shell(String),
    /// Runs (or is equivalent to) this argv; the string says what (`shutil.rmtree`).
    Argv(Vec<String>, String),
    /// Spawns or deletes with computed arguments.
    Opaque(String),
}

static STRING_LIT: LazyLock<Regex> = LazyLock::new(|| {
    // Single- or double-quoted literal, with backslash escapes.
    Regex::new(r#"'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)""#).unwrap_or_else(|_| unreachable_regex())
});

// The names are ASCII, so word boundaries and word characters are ASCII (`(?-u:…)`): Unicode `\w`
// made these two patterns 16M instructions to compile, ~6 ms of every `overwatch check` of inline
// code. An ASCII boundary is found in more places than a Unicode one (it matches more, never
// less). `\s` stays Unicode: JavaScript accepts U+00A0 and U+FEFF as spaces before `(`.
static SPAWN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?-u:\b)(?:os\.system|os\.popen|os\.exec(?-u:\w)*|os\.spawn(?-u:\w)*|subprocess\.(?-u:\w)+|commands\.getoutput|pty\.spawn
          |child_process\.(?-u:\w)+|execSync|execFileSync|spawnSync|exec|execFile|spawn|system|popen|shell_exec|passthru|proc_open
          |IO\.popen|Open3\.(?-u:\w)+|Kernel\.system|Bun\.spawn(?-u:\w)*|Deno\.Command|Deno\.run|qx)\s*[\(\s]",
    )
    .unwrap_or_else(|_| unreachable_regex())
});

static DELETE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?P<rec>shutil\.rmtree|rmtree|remove_tree|FileUtils\.rm_rf|FileUtils\.rm_r|FileUtils\.remove_dir|FileUtils\.remove_entry(?-u:\w)*|rmSync|rmdirSync|fs\.rm|fs\.promises\.rm|Deno\.remove)
        |(?P<one>os\.remove|os\.unlink|os\.rmdir|os\.removedirs|\.unlink|unlinkSync|fs\.unlink|File\.delete|FileUtils\.rm|unlink)\s*\(?",
    )
    .unwrap_or_else(|_| unreachable_regex())
});

/// Compile-time-constant regexes cannot fail; this keeps `unwrap()` out of non-test code.
fn unreachable_regex() -> Regex {
    Regex::new("$^").unwrap_or_else(|_| unreachable_regex())
}

fn literals(s: &str) -> Vec<String> {
    STRING_LIT
        .captures_iter(s)
        .map(|c| {
            let raw = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
            parse::unescape_ansi_c(raw)
        })
        .collect()
}

/// The argument text of a call starting at `from` (up to the matching `)` or line end).
fn call_args(code: &str, from: usize) -> &str {
    let rest = &code[from..];
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in rest.char_indices() {
        match quote {
            Some(q) if c == q && prev != '\\' => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' | '`' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => {
                    depth -= 1;
                    if depth < 0 {
                        return &rest[..i];
                    }
                }
                ';' | '\n' if depth <= 0 => return &rest[..i],
                _ => {}
            },
        }
        prev = c;
    }
    rest
}

/// Finds shell spawns and file deletions in inline interpreter code.
///
/// Python reads identifiers in NFKC form (PEP 3131, "Identifiers and keywords"), so
/// `ｏｓ.ｓｙｓｔｅｍ('rm -rf ~')` in fullwidth letters is `os.system`. Code with non-ASCII text is
/// scanned in its NFKC form too, and what either scan finds is reported: normalizing only ever
/// adds ASCII names to find (and may change a literal the interpreter would not change, which
/// errs toward holding the command).
pub fn inline_code(code: &str) -> Vec<Inline> {
    let mut out = scan(code);
    if !code.is_ascii() {
        let normalized: String = code.nfkc().collect();
        if normalized != code {
            for found in scan(&normalized) {
                if !out.contains(&found) {
                    out.push(found);
                }
            }
        }
    }
    out
}

/// [`inline_code`] on one spelling of the code.
fn scan(code: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    for m in SPAWN.find_iter(code) {
        let name = m.as_str().trim_end_matches(['(', ' ', '\t']);
        let args = call_args(code, m.end());
        let lits = literals(args);
        let trimmed = args.trim_start();
        let argv_style = trimmed.starts_with('[')
            || name.contains("spawn")
            || name.contains("execFile")
            || name.starts_with("os.exec")
            || name.contains("Command");
        if lits.is_empty() {
            if !args.trim().is_empty() {
                out.push(Inline::Opaque(format!("calls {name}")));
            }
        } else if argv_style && (lits.len() > 1 || trimmed.starts_with('[')) {
            out.push(Inline::Argv(lits, format!("{name} runs a program")));
        } else {
            out.push(Inline::Shell(lits[0].clone()));
        }
    }
    // Backticks / %x{} in perl and ruby.
    for lit in code.split('`').skip(1).step_by(2) {
        if !lit.trim().is_empty() {
            out.push(Inline::Shell(lit.to_string()));
        }
    }
    for c in DELETE.captures_iter(code) {
        let Some(m) = c.get(0) else { continue };
        let recursive = c.name("rec").is_some();
        let args = call_args(code, m.end());
        let rec = recursive || args.contains("recursive") || args.contains("rm_rf");
        let name = m.as_str().trim_end_matches(['(', ' ']);
        match literals(args).into_iter().next() {
            Some(path) => {
                let mut argv = vec!["rm".to_string()];
                if rec {
                    argv.push("-rf".into());
                } else {
                    argv.push("-f".into());
                }
                argv.push("--".into());
                argv.push(path);
                out.push(Inline::Argv(argv, format!("{name} deletes files")));
            }
            None if rec => out.push(Inline::Opaque(format!("deletes directories with {name}"))),
            None => {}
        }
    }
    out
}
