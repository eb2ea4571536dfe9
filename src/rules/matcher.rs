//! Compiled rules and matching one invocation against them.
//!
//! Rules are indexed by canonical program name and, inside a program, by the literal first
//! subcommand, so evaluating a command touches only the handful of rules that could fire no matter
//! how large the packs are. Regexes compile lazily on first use (built-in packs are validated by
//! `rules test` in CI; user, team and project packs are validated eagerly at load).
//!
//! **Invariant:** anything the matcher cannot read counts *for* a match where a rule guards it: a
//! computed subcommand matches every subcommand pattern, a computed path is `PathClass::Unknown`,
//! SQL or stdin we cannot see matches `sql = ["unknown"]` / every `stdin` pattern.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::OnceLock;

use regex_automata::meta::Regex;

use crate::context::Tier;
use crate::rules::Decision;

use super::layers::Layer;
use super::pack::{PathClass, ProgramSpec, SqlKind};
use super::parse::{Feed, Word};
use super::sql;
use super::target::{self, option_text};
use super::unwrap::Invocation;
use super::{EvalEnv, Target};

/// Set by [`short_lived_process`].
static SHORT_LIVED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells the rule engine this process evaluates a command or two and exits (`overwatch check`,
/// a hook or PATH shim without a session): rule regexes then match with the PikeVM alone, not
/// the lazy DFA, which pays for itself only over many searches — its states are built during
/// the first searches (~0.5M instructions for a pattern with Unicode classes, measured with
/// callgrind). Same matches either way; call it before the first evaluation.
pub fn short_lived_process() {
    SHORT_LIVED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// A regex compiled on first use, without a full DFA.
///
/// `fancy-regex` (through syntect) turns on regex-automata's `dfa-build`, and with it the
/// `regex` crate builds a dense DFA for every small pattern: ~300 000 instructions per
/// pattern, paid again by every short-lived `overwatch check`, hook and shim for each rule it
/// touches. Rule patterns run once per argument, where the lazy DFA is as fast.
pub struct LazyRegex {
    pub src: String,
    cell: OnceLock<Option<Regex>>,
    /// Compiled over bytes, without Unicode (see [`LazyRegex::bytes`]).
    bytes: bool,
    /// For a built-in pattern: literals every match starts with (see [`regex_hint`]).
    hint: Option<&'static [&'static [u8]]>,
}

mod hints {
    include!(concat!(env!("OUT_DIR"), "/regex_hints.rs"));
}

/// The literals every match of `src` starts with, if `src` is a built-in rule pattern that has
/// such a set: computed by `build.rs` with regex-syntax's prefix extraction (the guarantee
/// regex-automata's prefilters rest on: a haystack holding none of them has no match).
fn regex_hint(src: &str) -> Option<&'static [&'static [u8]]> {
    let table = hints::REGEX_HINTS;
    table
        .binary_search_by(|(pattern, _)| (*pattern).cmp(src))
        .ok()
        .map(|i| table[i].1)
}

/// The pattern only: whether it has been compiled yet is not part of what a rule is.
impl std::fmt::Debug for LazyRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LazyRegex").field(&self.src).finish()
    }
}

impl Clone for LazyRegex {
    fn clone(&self) -> Self {
        LazyRegex {
            src: self.src.clone(),
            cell: OnceLock::new(),
            bytes: self.bytes,
            hint: self.hint,
        }
    }
}

impl LazyRegex {
    /// Wraps a pattern (not compiled yet). A built-in rule pattern carries its prefix literals:
    /// until it is compiled, a text without any of them does not match and compiles nothing.
    pub fn new(src: impl Into<String>) -> LazyRegex {
        let src = src.into();
        LazyRegex {
            hint: regex_hint(&src),
            src,
            cell: OnceLock::new(),
            bytes: false,
        }
    }

    /// Wraps a pattern to compile without Unicode and over bytes (`.` and `[^/]` are any byte
    /// but one, `\xNN` is a byte): for patterns written so that on valid UTF-8 they match
    /// exactly what their Unicode reading would ([`Glob`]'s). Unicode classes make
    /// regex-automata allocate and fill a 400 KB UTF-8 map per pattern compiled, which a
    /// one-shot `check` pays in page faults for every glob it tries.
    pub fn bytes(src: impl Into<String>) -> LazyRegex {
        LazyRegex {
            src: src.into(),
            cell: OnceLock::new(),
            bytes: true,
            hint: None,
        }
    }

    /// The compiled regex; `None` if the pattern is invalid (callers fail closed).
    pub fn get(&self) -> Option<&Regex> {
        self.cell.get_or_init(|| self.build().ok()).as_ref()
    }

    /// Compiles `src` the way [`regex::Regex::new`] does (same syntax), minus the full DFA.
    /// Errors are regex-syntax's message for a syntax error (its last line names the problem,
    /// e.g. `error: unclosed group`), else the builder's.
    fn build(&self) -> Result<Regex, String> {
        let hybrid = !SHORT_LIVED.load(std::sync::atomic::Ordering::Relaxed);
        LazyRegex::build_with(&self.src, hybrid, self.bytes)
    }

    /// [`LazyRegex::build`], with or without the lazy DFA (`hybrid`). Without it, the one-pass
    /// DFA and the literal prefilter are left out too: for one search over a short argument
    /// building them costs more than they save (`check` of a command reaching ten rule
    /// patterns: 5.5M → 4.8M instructions).
    fn build_with(src: &str, hybrid: bool, bytes: bool) -> Result<Regex, String> {
        let config = Regex::config()
            .dfa(false)
            .hybrid(hybrid)
            .onepass(hybrid)
            .auto_prefilter(hybrid);
        let syntax = regex_automata::util::syntax::Config::new()
            .unicode(!bytes)
            .utf8(!bytes);
        Regex::builder()
            .configure(config)
            .syntax(syntax)
            .build(src)
            .map_err(|e| {
                e.syntax_error()
                    .map_or_else(|| e.to_string(), ToString::to_string)
            })
    }

    /// Compiles now, returning the regex error text (see `LazyRegex::build`).
    pub fn validate(&self) -> Result<(), String> {
        let r = self.build()?;
        let _ = self.cell.set(Some(r));
        Ok(())
    }

    /// Whether `text` matches; an invalid pattern matches everything (fail closed).
    pub fn is_match(&self, text: &str) -> bool {
        !self.ruled_out(text) && self.get().is_none_or(|r| r.is_match(text))
    }

    /// Whether `text` matches; an invalid pattern gives `invalid`.
    pub fn is_match_or(&self, invalid: bool, text: &str) -> bool {
        !self.ruled_out(text) && self.get().map_or(invalid, |r| r.is_match(text))
    }

    /// Whether the hint alone says `text` cannot match, before the pattern is compiled (a
    /// hinted pattern is a valid built-in one). Once compiled, the regex decides alone.
    fn ruled_out(&self, text: &str) -> bool {
        self.cell.get().is_none()
            && self.hint.is_some_and(|literals| {
                !literals
                    .iter()
                    .any(|l| memchr::memmem::find(text.as_bytes(), l).is_some())
            })
    }
}

/// A flag pattern from `flags`/`all_flags`/`not_flags`.
#[derive(Debug, Clone)]
pub enum FlagPat {
    /// `-f`: also inside bundles (`-fq`) unless the program disables bundling.
    Short(char),
    /// `--force`: also `--force=…` and, as a trigger, unambiguous abbreviations (`--forc`).
    Long(String),
    /// `-delete`, `-auto-approve`: single-dash words (also `--auto-approve`, `-x=…`).
    Word(String),
    /// `--dry-run=client`: exactly.
    Exact(String),
    /// `--dry-run=*`: any value.
    Prefix(String),
    /// `-X DELETE`: a flag followed by a value (case-insensitive), or `-XDELETE`/`--x=DELETE`.
    WithValue(String, String),
}

impl FlagPat {
    /// Parses a pattern string.
    pub fn parse(s: &str) -> FlagPat {
        if let Some((f, v)) = s.split_once(' ') {
            return FlagPat::WithValue(f.to_string(), v.trim().to_string());
        }
        if let Some(p) = s.strip_suffix("=*") {
            return FlagPat::Prefix(format!("{p}="));
        }
        if s.contains('=') {
            return FlagPat::Exact(s.to_string());
        }
        if s.starts_with("--") {
            return FlagPat::Long(s.to_string());
        }
        let body = s.strip_prefix('-').unwrap_or(s);
        let mut chars = body.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) if s.starts_with('-') => FlagPat::Short(c),
            _ => FlagPat::Word(s.to_string()),
        }
    }

    /// Whether token `t` is this flag. `trigger` enables abbreviations (never for `not_flags`).
    fn matches(&self, t: &str, bundling: bool, trigger: bool) -> bool {
        match self {
            FlagPat::Short(c) => {
                if t.len() == 2 && t.starts_with('-') && t.ends_with(*c) {
                    return true;
                }
                bundling
                    && t.starts_with('-')
                    && !t.starts_with("--")
                    && t.len() > 2
                    && t[1..].chars().all(|x| x.is_ascii_alphanumeric())
                    && t[1..].contains(*c)
            }
            FlagPat::Long(l) => {
                if t == l {
                    return true;
                }
                // As a safe-flag (`not_flags`) only the exact spelling counts: `--dry-run=none`
                // must not disarm a rule.
                if !trigger {
                    return false;
                }
                if t.strip_prefix(l.as_str())
                    .is_some_and(|r| r.starts_with('='))
                {
                    return true;
                }
                if !t.starts_with("--") {
                    return false;
                }
                let name = t.split('=').next().unwrap_or(t);
                name.len() >= 4 && l.starts_with(name)
            }
            FlagPat::Word(w) => {
                let double = format!("-{w}");
                t == w
                    || t == double
                    || t.strip_prefix(w.as_str())
                        .is_some_and(|r| r.starts_with('='))
                    || t.strip_prefix(double.as_str())
                        .is_some_and(|r| r.starts_with('='))
            }
            FlagPat::Exact(e) => t == e,
            FlagPat::Prefix(p) => t.starts_with(p.as_str()),
            FlagPat::WithValue(f, v) => {
                let joined = t
                    .strip_prefix(f.as_str())
                    .map(|r| r.trim_start_matches('='));
                joined.is_some_and(|r| r.eq_ignore_ascii_case(v))
            }
        }
    }
}

/// One UTF-8 encoded character other than `/`, as a byte regex (RFC 3629 lead and continuation
/// bytes; on valid UTF-8 this is exactly one character).
const UTF8_CHAR_BUT_SLASH: &str = r"(?:[\x00-\x2E\x30-\x7F]|[\xC0-\xDF][\x80-\xBF]|[\xE0-\xEF][\x80-\xBF]{2}|[\xF0-\xF7][\x80-\xBF]{3})";

/// A compiled path glob (`~/.ssh/id_*`, `.env*`, `**/*.tfstate`).
#[derive(Debug, Clone)]
pub struct Glob {
    pub src: String,
    /// Compiled on first use (globs are generated regexes; `validate` checks them eagerly).
    /// `None` for a glob without `*`, `?` or `{`: it matches itself and nothing else.
    re: Option<LazyRegex>,
    basename_only: bool,
    /// Literal text every match starts with: `src` up to its first `*`, `?` or `{`.
    prefix: String,
    /// Literal text every match ends with: `src` after its last `*`, `?`, `{`, `}` or `,`.
    suffix: String,
}

impl Glob {
    /// Translates a glob to a (lazily compiled) regex. Errors name the glob; an unbalanced
    /// `{` is the only way to get one.
    pub fn new(src: &str) -> Result<Glob, String> {
        // A short-lived process tries most globs on paths they cannot match; the literal
        // prefix and suffix settle those without compiling the regex (about 0.1M instructions
        // a glob).
        let first = src.find(['*', '?', '{']);
        let last = src.rfind(['*', '?', '{', '}', ',']).map_or(0, |i| i + 1);
        let re = match first {
            Some(_) => Some(LazyRegex::bytes(Glob::translate(src, false)?)),
            None => None,
        };
        Ok(Glob {
            src: src.to_string(),
            re,
            basename_only: !src.contains('/'),
            prefix: src[..first.unwrap_or(src.len())].to_string(),
            suffix: src[last..].to_string(),
        })
    }

    /// Whether one spelling of a path matches: the literal prefix and suffix first, the regex
    /// only when both are there.
    fn matches_str(&self, s: &str) -> bool {
        let Some(re) = &self.re else {
            return s == self.src;
        };
        s.len() >= self.prefix.len() + self.suffix.len()
            && s.starts_with(&self.prefix)
            && s.ends_with(&self.suffix)
            && re.is_match_or(false, s)
    }

    /// The regex for glob `src`: `*` is `[^/]*`, `**/` any directories, `**` anything, `?` one
    /// character but `/`, `{a,b}` either. With `unicode` false the regex is for
    /// [`LazyRegex::bytes`]: `?` is spelled as the UTF-8 encodings of one character, so on
    /// valid UTF-8 it matches what the Unicode regex matches
    /// (`tests::glob_bytes_match_like_unicode`).
    fn translate(src: &str, unicode: bool) -> Result<String, String> {
        // Built-in packs carry ~70 globs, translated at every start of a short-lived process:
        // one pass over the characters into one preallocated string.
        let mut re = String::with_capacity(src.len() * 2 + 2);
        re.push('^');
        let mut chars = src.chars().peekable();
        let mut in_alt = false;
        while let Some(c) = chars.next() {
            match c {
                '*' if chars.peek() == Some(&'*') => {
                    chars.next();
                    if chars.peek() == Some(&'/') {
                        chars.next();
                        re.push_str("(?:.*/)?");
                    } else {
                        re.push_str(".*");
                    }
                }
                '*' => re.push_str("[^/]*"),
                '?' if unicode => re.push_str("[^/]"),
                '?' => re.push_str(UTF8_CHAR_BUT_SLASH),
                '{' => {
                    in_alt = true;
                    re.push_str("(?:");
                }
                '}' if in_alt => {
                    in_alt = false;
                    re.push(')');
                }
                ',' if in_alt => re.push('|'),
                _ if c.is_alphanumeric() || c == '/' || c == '_' || c == '-' => re.push(c),
                _ => {
                    let mut buf = [0u8; 4];
                    regex_syntax::escape_into(c.encode_utf8(&mut buf), &mut re);
                }
            }
        }
        re.push('$');
        if in_alt {
            return Err(format!("glob `{src}`: unclosed `{{`"));
        }
        Ok(re)
    }

    /// Whether an absolute path matches (tried as absolute, `~/…` and project-relative).
    pub fn matches(&self, abs: &Path, home: &Path, project: &Path) -> bool {
        self.matches_path(&GlobPath::new(abs, home, project))
    }

    /// [`Glob::matches`] on a path spelled out once for every glob tried on it.
    pub fn matches_path(&self, p: &GlobPath) -> bool {
        if self.basename_only {
            return p.name.as_deref().is_some_and(|n| self.matches_str(n));
        }
        self.matches_str(&p.abs)
            || p.home_rel.as_deref().is_some_and(|s| self.matches_str(s))
            || p.project_rel
                .as_deref()
                .is_some_and(|s| self.matches_str(s))
    }
}

/// An absolute path in the spellings a [`Glob`] is tried against: as is, as `~/…` under the
/// home directory, relative to the project, and its file name (lossy UTF-8). Built once per
/// path, not once per glob.
#[derive(Debug, Clone)]
pub struct GlobPath {
    abs: String,
    home_rel: Option<String>,
    project_rel: Option<String>,
    name: Option<String>,
}

impl GlobPath {
    /// Spells out `abs` relative to `home` and `project`.
    pub fn new(abs: &Path, home: &Path, project: &Path) -> GlobPath {
        GlobPath {
            abs: abs.to_string_lossy().into_owned(),
            home_rel: abs
                .strip_prefix(home)
                .ok()
                .map(|rel| format!("~/{}", rel.to_string_lossy())),
            project_rel: abs
                .strip_prefix(project)
                .ok()
                .map(|rel| rel.to_string_lossy().into_owned()),
            name: abs.file_name().map(|n| n.to_string_lossy().into_owned()),
        }
    }
}

/// A rule ready to match.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub pack: String,
    pub layer: Layer,
    pub description: String,
    pub programs: Vec<String>,
    /// Positional prefix: alternatives per position (lowercase; `*` globs).
    pub subcommand: Vec<Vec<String>>,
    pub flags: Vec<FlagPat>,
    pub all_flags: Vec<FlagPat>,
    pub not_flags: Vec<FlagPat>,
    pub args: Vec<LazyRegex>,
    pub not_args: Vec<LazyRegex>,
    pub paths: Vec<PathClass>,
    pub path_globs: Vec<Glob>,
    pub sql: Vec<SqlKind>,
    pub stdin: Vec<LazyRegex>,
    pub regex: Option<LazyRegex>,
    pub when_tier: Vec<Tier>,
    pub when_min_tier: Option<Tier>,
    pub when_target: Option<LazyRegex>,
    pub when_not_target: Option<LazyRegex>,
    /// `when.fact`: a condition on another fact of the ambient context.
    pub when_fact: Option<FactTest>,
    /// Effective action (after `[overrides]`).
    pub action: Decision,
    /// Action as written in the pack.
    pub written_action: Decision,
    pub message: String,
}

/// Glob match for subcommand patterns (`delete-*`), ASCII case-insensitive (patterns are
/// stored lowercase).
pub fn glob_word(pat: &str, text: &str) -> bool {
    glob_bytes(pat.as_bytes(), text.as_bytes())
}

/// `p` is lowercase; `t` is compared as if lowercased (ASCII), without allocating a copy.
fn glob_bytes(p: &[u8], t: &[u8]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((b'*', rest)) => (0..=t.len()).any(|i| glob_bytes(rest, &t[i..])),
        Some((c, rest)) => {
            t.first().map(u8::to_ascii_lowercase) == Some(*c) && glob_bytes(rest, &t[1..])
        }
    }
}

/// A view of one invocation for matching: positional/flag split per the program's spec, with
/// lazily computed path classes and SQL kinds.
pub struct View<'a> {
    pub inv: &'a Invocation,
    pub spec: Option<&'a ProgramSpec>,
    pub program: &'a str,
    /// Indices (into `inv.args()`) of positional words.
    pub positional: Vec<usize>,
    /// Indices of option words.
    pub flags: Vec<usize>,
    bundling: bool,
    joined: OnceLock<String>,
    classes: OnceLock<Vec<PathClass>>,
    sql: OnceLock<(Vec<SqlKind>, bool)>,
}

impl<'a> View<'a> {
    /// Splits the invocation's arguments with the program's option spec.
    pub fn new(inv: &'a Invocation, program: &'a str, spec: Option<&'a ProgramSpec>) -> View<'a> {
        let args = inv.args();
        let values: &[String] = spec.map_or(&[], |s| &s.value_options);
        let mut positional = Vec::with_capacity(args.len());
        let mut flags = Vec::with_capacity(args.len());
        let mut i = 0;
        let mut rest_positional = false;
        while i < args.len() {
            let t = args[i].text.as_str();
            if rest_positional {
                positional.push(i);
            } else if t == "--" {
                rest_positional = true;
            } else if t.starts_with('-') && t.len() > 1 && !args[i].dynamic {
                flags.push(i);
                if values.iter().any(|v| v == t) {
                    i += 1;
                }
            } else {
                positional.push(i);
            }
            i += 1;
        }
        View {
            inv,
            spec,
            program,
            positional,
            flags,
            bundling: !spec.is_some_and(|s| s.no_bundling),
            joined: OnceLock::new(),
            classes: OnceLock::new(),
            sql: OnceLock::new(),
        }
    }

    /// Positional words.
    pub fn positional_words(&self) -> Vec<&'a Word> {
        let args = self.inv.args();
        self.positional.iter().map(|i| &args[*i]).collect()
    }

    fn has_flag(&self, pat: &FlagPat, trigger: bool) -> bool {
        let args = self.inv.args();
        for &i in &self.flags {
            let t = args[i].text.as_str();
            if pat.matches(t, self.bundling, trigger) {
                return true;
            }
            if let FlagPat::WithValue(f, v) = pat {
                let long_abbrev =
                    f.starts_with("--") && trigger && t.len() >= 4 && f.starts_with(t);
                if (t == f || long_abbrev)
                    && args
                        .get(i + 1)
                        .is_some_and(|n| n.expanded().eq_ignore_ascii_case(v))
                {
                    return true;
                }
            }
        }
        false
    }

    /// Argv joined by spaces (program canonical name first, words as written).
    pub fn joined(&self) -> &str {
        self.joined.get_or_init(|| {
            let mut s = self.program.to_string();
            for w in self.inv.args() {
                s.push(' ');
                // Raw regexes see the words as written (`$TOKEN`, not its value).
                s.push_str(&w.text);
            }
            s
        })
    }

    fn classes(&self, env: &EvalEnv<'_>, from: usize) -> &[PathClass] {
        let all = self.classes.get_or_init(|| {
            let args = self.inv.args();
            self.positional
                .iter()
                .map(|&i| {
                    target::path_class(&args[i], &self.inv.cwd, &env.probe.home, &env.probe.cwd)
                })
                .collect()
        });
        all.get(from..).unwrap_or_default()
    }

    /// SQL statement kinds this invocation would run, and whether the keyword fallback was used.
    pub fn sql_kinds(&self) -> &(Vec<SqlKind>, bool) {
        self.sql.get_or_init(|| {
            let Some(spec) = self.spec else {
                return (Vec::new(), false);
            };
            let flavor = sql::Flavor::for_program(self.program);
            let mut kinds = Vec::new();
            let mut fallback = false;
            let mut add = |text: &str, kinds: &mut Vec<SqlKind>| {
                let (k, f) = sql::classify(text, flavor);
                fallback |= f;
                kinds.extend(k);
            };
            let args = self.inv.args();
            for (i, w) in args.iter().enumerate() {
                let t = w.text.as_str();
                for o in &spec.sql_options {
                    let val = if t == o { args.get(i + 1) } else { None };
                    let attached = t.strip_prefix(o.as_str()).and_then(|r| r.strip_prefix('='));
                    match (val, attached) {
                        (Some(v), _) if v.dynamic => kinds.push(SqlKind::Unknown),
                        (Some(v), _) => add(&v.text, &mut kinds),
                        (None, Some(a)) if w.dynamic => {
                            let _ = a;
                            kinds.push(SqlKind::Unknown);
                        }
                        (None, Some(a)) => add(a, &mut kinds),
                        _ => {}
                    }
                }
            }
            if spec.sql_positional {
                for &i in self.positional.iter().skip(1) {
                    let w = &args[i];
                    if w.dynamic {
                        kinds.push(SqlKind::Unknown);
                    } else {
                        add(&w.text, &mut kinds);
                    }
                }
            }
            if spec.sql_stdin {
                match &self.inv.stdin {
                    Some(Feed::Literal(t)) => add(t, &mut kinds),
                    Some(Feed::Unknown(_)) => kinds.push(SqlKind::Unknown),
                    None => {}
                }
                if self
                    .inv
                    .redirects
                    .iter()
                    .any(|r| r.op.starts_with('<') && r.op != "<<<")
                {
                    kinds.push(SqlKind::Unknown);
                }
            }
            let file_opts = ["-f", "--file", "-i", "--source"];
            if spec.sql_stdin
                && option_text(
                    args,
                    &file_opts.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                )
                .is_some()
            {
                kinds.push(SqlKind::Unknown);
            }
            (kinds, fallback)
        })
    }

    fn stdin_matches(&self, pats: &[LazyRegex]) -> bool {
        match &self.inv.stdin {
            Some(Feed::Literal(t)) => pats.iter().any(|p| p.is_match(t)),
            Some(Feed::Unknown(_)) => true,
            None => self
                .inv
                .redirects
                .iter()
                .any(|r| r.op.starts_with('<') && r.op != "<<<"),
        }
    }
}

/// A compiled `when.fact` condition (see `pack::FactCondition`).
#[derive(Debug, Clone)]
pub struct FactTest {
    pub probe: String,
    pub is: Option<LazyRegex>,
    pub not: Option<LazyRegex>,
}

impl FactTest {
    /// Whether some fact named by `probe` (a custom probe's name or a fact kind) has a value that
    /// matches `is` and not `not`.
    pub fn holds(&self, ctx: &crate::context::Context) -> bool {
        ctx.facts.iter().any(|f| {
            let named = if f.kind == crate::context::FactKind::Custom {
                f.details.get("probe").is_some_and(|p| *p == self.probe)
            } else {
                f.kind.as_str() == self.probe
            };
            named
                && self.is.as_ref().is_none_or(|r| r.is_match(&f.name))
                && !self.not.as_ref().is_some_and(|r| r.is_match(&f.name))
        })
    }
}

impl Rule {
    /// Whether this rule fires for `view` with target `target`.
    pub fn matches(&self, view: &View<'_>, target: &Target, env: &EvalEnv<'_>) -> bool {
        let args = view.inv.args();
        // Subcommand prefix.
        let mut sub_len = 0;
        for (pos, alts) in self.subcommand.iter().enumerate() {
            let Some(&i) = view.positional.get(pos) else {
                return false;
            };
            let w = &args[i];
            if !w.dynamic && !alts.iter().any(|a| glob_word(a, w.expanded())) {
                return false;
            }
            sub_len = pos + 1;
        }
        if !self.flags.is_empty() && !self.flags.iter().any(|f| view.has_flag(f, true)) {
            return false;
        }
        if !self.all_flags.iter().all(|f| view.has_flag(f, true)) {
            return false;
        }
        if self.not_flags.iter().any(|f| view.has_flag(f, false)) {
            return false;
        }
        let rest = || {
            view.positional[sub_len.min(view.positional.len())..]
                .iter()
                .map(|&i| &args[i])
        };
        if !self.args.is_empty()
            && !rest().any(|w| !w.dynamic && self.args.iter().any(|r| r.is_match(w.expanded())))
        {
            return false;
        }
        if rest().any(|w| !w.dynamic && self.not_args.iter().any(|r| r.is_match(w.expanded()))) {
            return false;
        }
        if !self.paths.is_empty() {
            let classes = view.classes(env, sub_len);
            if !classes.iter().any(|c| self.paths.contains(c)) {
                return false;
            }
        }
        if !self.path_globs.is_empty() {
            let hit = rest().any(|w| {
                if w.dynamic {
                    return false;
                }
                target::resolve_path(w.expanded(), &view.inv.cwd, &env.probe.home, &env.probe.cwd)
                    .is_some_and(|p| {
                        let p = GlobPath::new(&p, &env.probe.home, &env.probe.cwd);
                        self.path_globs.iter().any(|g| g.matches_path(&p))
                    })
            });
            if !hit {
                return false;
            }
        }
        if !self.sql.is_empty() && !view.sql_kinds().0.iter().any(|k| self.sql.contains(k)) {
            return false;
        }
        if !self.stdin.is_empty() && !view.stdin_matches(&self.stdin) {
            return false;
        }
        if let Some(r) = &self.regex
            && !r.is_match(view.joined())
        {
            return false;
        }
        self.when_holds(target)
            && self
                .when_fact
                .as_ref()
                .is_none_or(|f| f.holds(env.ambient()))
    }

    /// The `when` condition on the target.
    pub fn when_holds(&self, target: &Target) -> bool {
        if !self.when_tier.is_empty() && !self.when_tier.contains(&target.tier) {
            return false;
        }
        if let Some(min) = self.when_min_tier
            && target.tier < min
        {
            return false;
        }
        if let Some(r) = &self.when_target
            && !r.is_match(&target.name)
        {
            return false;
        }
        if let Some(r) = &self.when_not_target
            && r.is_match(&target.name)
        {
            return false;
        }
        true
    }

    /// Renders the message template: `{target}`, `{tier}`, `{program}`, `{subcommand}`,
    /// `{args}`, `{kind.key}` (`{kube.context}`, `{aws.profile}`, `{git.branch}`, `{db.host}`…:
    /// the target's name, or a detail of that name).
    pub fn render(&self, view: &View<'_>, target: &Target) -> String {
        render(&self.message, view, target)
    }
}

/// Template rendering shared by rules and path rules.
pub fn render(template: &str, view: &View<'_>, target: &Target) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let key = &rest[start + 1..start + end];
        out.push_str(&placeholder(key, view, target).unwrap_or_else(|| format!("{{{key}}}")));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

fn placeholder(key: &str, view: &View<'_>, target: &Target) -> Option<String> {
    let args = view.inv.args();
    Some(match key {
        "target" => target.name.clone(),
        "tier" => target.tier.to_string(),
        "program" => view.program.to_string(),
        "subcommand" => view
            .positional
            .first()
            .map(|&i| args[i].text.clone())
            .unwrap_or_default(),
        "args" => args
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        "path" => view
            .positional
            .last()
            .map(|&i| args[i].text.clone())
            .unwrap_or_default(),
        "reason" => target.reason.clone(),
        _ => {
            let (_, field) = key.split_once('.')?;
            match field {
                "context" | "profile" | "branch" | "host" | "workspace" | "project" | "name"
                | "environment" | "stack" | "subscription" => target
                    .details
                    .get(field)
                    .filter(|_| {
                        field == "host" && target.kind != Some(crate::context::FactKind::Database)
                    })
                    .cloned()
                    .unwrap_or_else(|| target.name.clone()),
                other => target
                    .details
                    .get(other)
                    .cloned()
                    .unwrap_or_else(|| "?".into()),
            }
        }
    })
}

/// Rules of one program, indexed by literal first subcommand.
#[derive(Debug, Default, Clone)]
pub struct Bucket {
    pub by_sub: HashMap<String, Vec<usize>>,
    pub other: Vec<usize>,
}

/// The rule index: canonical program → bucket, plus glob-named programs.
#[derive(Debug, Default, Clone)]
pub struct Index {
    pub programs: HashMap<String, Bucket>,
    pub globs: Vec<(String, Vec<usize>)>,
}

impl Index {
    /// Builds the index over `rules`.
    pub fn build(rules: &[super::layers::LazyRule]) -> Index {
        let mut idx = Index::default();
        let mut globs: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (n, r) in rules.iter().enumerate() {
            for p in &r.programs {
                if p.contains('*') {
                    globs.entry(p.to_string()).or_default().push(n);
                    continue;
                }
                // Look up before inserting: most keys repeat, and a start-up `check` pays for
                // every key copied here.
                let b = match idx.programs.get_mut(p.as_ref()) {
                    Some(b) => b,
                    None => idx.programs.entry(p.to_string()).or_default(),
                };
                match r.literal_first_subcommand() {
                    Some(alts) => {
                        for a in alts {
                            match b.by_sub.get_mut(a.as_ref()) {
                                Some(rules) => rules.push(n),
                                None => {
                                    b.by_sub.insert(a.to_string(), vec![n]);
                                }
                            }
                        }
                    }
                    _ => b.other.push(n),
                }
            }
        }
        idx.globs = globs.into_iter().collect();
        idx
    }

    /// Candidate rule indices for a program and its first positional word.
    pub fn candidates(&self, program: &str, first: Option<&Word>, out: &mut Vec<usize>) {
        if let Some(b) = self.programs.get(program) {
            out.extend_from_slice(&b.other);
            match first {
                Some(w) if w.dynamic => {
                    for v in b.by_sub.values() {
                        out.extend_from_slice(v);
                    }
                }
                Some(w) => {
                    if let Some(v) = b.by_sub.get(&w.expanded().to_ascii_lowercase()) {
                        out.extend_from_slice(v);
                    }
                }
                None => {}
            }
        }
        for (g, rules) in &self.globs {
            if glob_word(g, program) {
                out.extend_from_slice(rules);
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// The candidates [`Index::candidates`] would give, found by scanning `rules` (no index): the
/// rules naming `program` literally whose first subcommand, if literal, matches `first` (any
/// when `first` is dynamic; with no first word only rules without a literal first subcommand),
/// and the rules whose program glob matches `program`. Ascending, no duplicates.
pub fn scan_candidates(
    rules: &[super::layers::LazyRule],
    program: &str,
    first: Option<&Word>,
    out: &mut Vec<usize>,
) {
    let mut first_lower: Option<String> = None;
    for (n, r) in rules.iter().enumerate() {
        let hit = r.programs.iter().any(|p| {
            if p.contains('*') {
                return glob_word(p, program);
            }
            if p != program {
                return false;
            }
            match r.literal_first_subcommand() {
                Some(alts) => match first {
                    Some(w) if w.dynamic => true,
                    Some(w) => {
                        let word =
                            first_lower.get_or_insert_with(|| w.expanded().to_ascii_lowercase());
                        alts.iter().any(|a| a == word)
                    }
                    None => false,
                },
                None => true,
            }
        });
        if hit {
            out.push(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_spellings() {
        let f = FlagPat::parse("-f");
        assert!(f.matches("-f", true, true));
        assert!(f.matches("-fq", true, true));
        assert!(!f.matches("-fq", false, true));
        assert!(!f.matches("--follow", true, true));
        let l = FlagPat::parse("--mirror");
        assert!(l.matches("--mirr", true, true));
        assert!(!l.matches("--mirr", true, false));
        assert!(l.matches("--mirror=x", true, true));
        assert!(!FlagPat::parse("--dry-run").matches("--dry-run=none", true, false));
        assert!(!FlagPat::parse("--delete").matches("--d", true, true));
        assert!(FlagPat::parse("--delete").matches("--del", true, true));
        assert!(FlagPat::parse("-auto-approve").matches("--auto-approve", false, true));
        assert!(FlagPat::parse("--dry-run=*").matches("--dry-run=client", true, false));
        assert!(!FlagPat::parse("--dry-run=client").matches("--dry-run=none", true, false));
        assert!(FlagPat::parse("-X DELETE").matches("-XDELETE", true, true));
    }

    #[test]
    fn subcommand_globs() {
        assert!(glob_word("delete-*", "delete-db-instance"));
        assert!(glob_word("delete", "DELETE"));
        assert!(!glob_word("delete-*", "describe-db"));
        assert!(glob_word("*-delete", "force-delete"));
        assert!(glob_word("mkfs.*", "mkfs.ext4"));
        assert!(glob_word("*", "x"));
    }

    #[test]
    fn globs() {
        let home = Path::new("/home/a");
        let proj = Path::new("/home/a/p");
        assert!(
            Glob::new(".env*")
                .map(|g| g.matches(Path::new("/home/a/p/.env.local"), home, proj))
                .unwrap_or(false)
        );
        assert!(
            Glob::new("~/.ssh/id_*")
                .map(|g| g.matches(Path::new("/home/a/.ssh/id_ed25519"), home, proj))
                .unwrap_or(false)
        );
        assert!(
            Glob::new("**/*.tfstate")
                .map(|g| g.matches(Path::new("/home/a/p/infra/terraform.tfstate"), home, proj))
                .unwrap_or(false)
        );
        assert!(
            !Glob::new("~/.ssh/id_*")
                .map(|g| g.matches(Path::new("/home/a/p/id_x"), home, proj))
                .unwrap_or(true)
        );
    }

    #[test]
    fn regex_hints_never_rule_out_a_match() {
        // build.rs gives built-in patterns the literals every match starts with; a text without
        // them is a non-match without compiling. No text the compiled pattern matches may be
        // ruled out: tried on every corpus line, every embedded example, and their words.
        let corpus = include_str!("../../tests/data/commands.tsv");
        let mut texts: Vec<String> = corpus
            .lines()
            .filter_map(|l| l.splitn(3, '\t').nth(2))
            .map(str::to_string)
            .collect();
        for pack in super::super::pack::BUILTIN {
            let file = super::super::pack::parse_pack(&super::super::pack::PackSource::inline(
                pack.name, pack.text,
            ))
            .unwrap_or_else(|e| panic!("{e}"));
            for r in file.rules {
                let examples = r.examples.matches.iter().chain(&r.examples.no_match);
                texts.extend(examples.map(|e| e.get_ref().clone()));
            }
        }
        let words: Vec<String> = texts
            .iter()
            .flat_map(|t| t.split_whitespace().map(str::to_string))
            .collect();
        texts.extend(words);
        texts.extend(["".into(), "é".into(), "$".into(), "${X}".into()]);
        let table = hints::REGEX_HINTS;
        assert!(
            table.windows(2).all(|w| w[0].0 < w[1].0),
            "the table is sorted for binary search"
        );
        let (mut matched, mut ruled_out) = (0, 0);
        for (src, _) in table {
            let lazy = LazyRegex::new(*src);
            assert!(lazy.hint.is_some(), "{src} finds its hint");
            let compiled = LazyRegex::build_with(src, true, false).unwrap();
            let mut hits = 0;
            for t in &texts {
                let out = lazy.ruled_out(t);
                if compiled.is_match(t) {
                    assert!(!out, "`{src}` matches {t:?} but its hint rules it out");
                    hits += 1;
                }
                ruled_out += usize::from(out);
            }
            matched += usize::from(hits > 0);
        }
        assert!(table.len() >= 20, "{} hinted patterns", table.len());
        assert!(
            matched * 10 >= table.len() * 9,
            "{matched} of {} matched",
            table.len()
        );
        assert!(ruled_out > 1000, "{ruled_out}");
        // The pattern that made a one-shot `check` of any `echo` compile a regex.
        let secret = LazyRegex::new(
            r"(?i-u)\$\{?[A-Z0-9_]*(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|ACCESS_KEY)",
        );
        assert!(!secret.is_match("echo cm0gLXJmIH4v"));
        assert!(secret.cell.get().is_none(), "ruled out without compiling");
        assert!(secret.is_match("echo $GITHUB_TOKEN"));
        assert!(secret.cell.get().is_some());
    }

    #[test]
    fn short_lived_regexes_match_like_long_lived_ones() {
        // `short_lived_process` drops the lazy DFA: every built-in pattern must give the same
        // answer on every corpus line and word either way.
        let corpus = include_str!("../../tests/data/commands.tsv");
        let haystacks: Vec<&str> = corpus
            .lines()
            .filter_map(|l| l.splitn(3, '\t').nth(2))
            .flat_map(|c| std::iter::once(c).chain(c.split_whitespace()))
            .chain(["", "é", "kubectl get secret x -o yaml", "DROP TABLE t;"])
            .collect();
        let mut patterns = 0;
        for pack in super::super::pack::BUILTIN {
            let file = super::super::pack::parse_pack(&super::super::pack::PackSource::inline(
                pack.name, pack.text,
            ))
            .unwrap_or_else(|e| panic!("{e}"));
            for r in file.rules {
                let sources = r
                    .args
                    .iter()
                    .chain(&r.not_args)
                    .chain(&r.stdin)
                    .chain(&r.regex)
                    .map(|s| s.get_ref().clone());
                for src in sources {
                    let lazy = LazyRegex::build_with(&src, true, false).unwrap();
                    let pike = LazyRegex::build_with(&src, false, false).unwrap();
                    for h in &haystacks {
                        assert_eq!(lazy.is_match(h), pike.is_match(h), "{src} on {h:?}");
                    }
                    patterns += 1;
                }
            }
        }
        assert!(patterns > 40, "{patterns}");
    }

    #[test]
    fn glob_translations() {
        let re = |g: &str| Glob::translate(g, false);
        assert_eq!(
            re("**/*.tfstate").as_deref(),
            Ok(r"^(?:.*/)?[^/]*\.tfstate$")
        );
        assert_eq!(re("a/**").as_deref(), Ok(r"^a/.*$"));
        assert_eq!(
            re("~/.ssh/id_?").as_deref(),
            Ok(format!(r"^\~/\.ssh/id_{UTF8_CHAR_BUT_SLASH}$").as_str())
        );
        assert_eq!(re("*.{pem,key}").as_deref(), Ok(r"^[^/]*\.(?:pem|key)$"));
        assert_eq!(re("a+b(c)").as_deref(), Ok(r"^a\+b\(c\)$"));
        assert_eq!(re("é,}").as_deref(), Ok("^é,\\}$"));
        assert!(re("*.{pem").is_err());
        assert!(Glob::new("*.{pem").is_err());
    }

    #[test]
    fn glob_bytes_match_like_unicode() {
        // Globs compile over bytes without Unicode and skip the regex when the literal prefix
        // or suffix is missing; on any valid UTF-8 path they must match exactly what the
        // Unicode regex of the same glob matches.
        let globs = [
            "*.{pem,key}",
            "~/.ssh/id_?",
            "**/*.tfstate",
            "a/**",
            "é?/x*",
            "??",
            "?",
            "*",
            "**/é*",
            ".env*",
            "~/.aws/*",
            "a?c",
            "{é,ü}?",
            "a*a",
            "é*é",
            "~/.ssh/*_rsa",
            "~/.ssh/id_*",
            ".env.*",
            "x.pem",
            "a,b}",
            "*.{pem,key}x",
            "{a,b}*{c,d}",
        ];
        let paths = [
            "",
            "a",
            "é",
            "ab",
            "éé",
            "aé",
            "€",
            "𝄞",
            "a/b",
            "a/b/c",
            "x.pem",
            "é.key",
            "a/é.key",
            "dir/é.tfstate",
            ".tfstate",
            "~/.ssh/id_a",
            "~/.ssh/id_é",
            "~/.ssh/id_𝄞",
            "~/.ssh/id_ab",
            "~/.ssh/id_/",
            "éa/x",
            "é€/xyz",
            "é/x",
            "a\nb",
            ".env",
            ".env.é",
            "~/.aws/credentials",
            "~/.aws/a/b",
            "abc",
            "a€c",
            "a/c",
            "éa",
            "üü",
            "é𝄞",
            "aa",
            "a/a",
            "aéa",
            "éé/é",
            "~/.ssh/x_rsa",
            "~/.ssh/_rsa",
            "~/.ssh/a/_rsa",
            ".env.",
            ".env.local",
            ".envx",
            "a,b}",
            "x.pemx",
            "y.keyx",
            "ac",
            "bxd",
            "ad/c",
        ];
        for g in globs {
            let bytes = Glob::new(g).unwrap();
            let unicode = regex::Regex::new(&Glob::translate(g, true).unwrap()).unwrap();
            for p in paths {
                assert_eq!(
                    bytes.matches_str(p),
                    unicode.is_match(p),
                    "glob `{g}` on {p:?}"
                );
            }
        }
    }
}
