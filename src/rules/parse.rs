//! Shell parsing: a command string → the simple commands that would execute, in order.
//!
//! Uses tree-sitter-bash (robust to partial input). Recurses through lists (`&& || ; &`),
//! pipelines, subshells, `{ }`, `$(…)`/backticks, process substitution, control flow and function
//! bodies; resolves words (quotes, escapes, `$'…'`, variables assigned earlier in the same script,
//! `${X:-default}`, the agent's env map) and tracks `cd`, `alias`, functions and files written by
//! `printf … > f` so later commands can be resolved.
//!
//! **Invariants:** nothing here decides; it reports what it could not resolve (`Word::dynamic`,
//! `Feed::Unknown`, `Script::incomplete`) so the engine can fail closed. Input over
//! [`MAX_SCRIPT_BYTES`] or nesting over [`MAX_DEPTH`] is reported, never silently truncated.

use std::collections::BTreeMap;
use std::ops::Range;

use tree_sitter::{Node, Parser};

mod words;

use words::unescape_dquote;
pub use words::{shell_quote, static_output, unescape_ansi_c, unescape_word};

/// Largest script parsed; anything longer is `incomplete` (the engine confirms).
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;
/// Deepest nesting of AST walks plus re-parses (`bash -c`, `eval`, …); deeper is `incomplete`.
pub const MAX_DEPTH: usize = 48;
/// Most simple commands one evaluation may produce.
pub const MAX_COMMANDS: usize = 512;

/// Words tree-sitter-bash parses as something other than a simple command's words (reserved
/// words, and the declaration and `unset` builtins, which have their own node kinds). An input
/// containing one as a word is always parsed by the grammar.
const SHELL_KEYWORDS: &[&str] = &[
    "case", "coproc", "declare", "do", "done", "elif", "else", "esac", "export", "fi", "for",
    "function", "if", "in", "local", "readonly", "select", "then", "time", "typeset", "unset",
    "unsetenv", "until", "while",
];

/// One shell word after quote removal and the expansions we can do statically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as the shell would see it. Variables from the agent's env map are *not* inlined
    /// here (they may hold secrets); see `env_text`.
    pub text: String,
    /// The word with env-map variables expanded (only when it differs from `text`).
    pub env_text: Option<String>,
    /// Some part could not be resolved (command substitution, unknown `$VAR`, `$@`, arithmetic).
    pub dynamic: bool,
    /// Byte range in the top-level input.
    pub span: Range<usize>,
}

impl Word {
    /// A literal word (used for synthesised argv such as unwrapped commands).
    pub fn lit(text: impl Into<String>, span: Range<usize>) -> Word {
        Word {
            text: text.into(),
            env_text: None,
            dynamic: false,
            span,
        }
    }

    /// The most expanded text available (env map applied).
    pub fn expanded(&self) -> &str {
        self.env_text.as_deref().unwrap_or(&self.text)
    }
}

/// Text fed to a command's stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// Known text (here-string, heredoc, `echo`/`printf`/`base64 -d`/`tr` upstream of a pipe).
    Literal(String),
    /// Unknown text; the string says where it comes from (`"output of `curl …`"`).
    Unknown(String),
}

/// A redirection: operator (`>`, `>>`, `<`, `&>`, …) and its target word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub op: String,
    pub target: Word,
}

impl Redirect {
    /// Whether the redirect writes (truncates or appends) its target.
    pub fn writes(&self) -> bool {
        self.op.contains('>') && !self.op.starts_with('<')
    }
}

/// The working directory a command runs in, as far as the script tells.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cwd {
    /// Not changed by the script: the agent's cwd.
    #[default]
    Ambient,
    /// Changed by `cd` to this literal path (may be relative to the ambient cwd, or start `~`).
    Path(String),
    /// Changed to something we cannot resolve.
    Unknown,
}

/// One simple command that would execute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimpleCommand {
    /// `VAR=value` prefixes plus variables exported earlier in the script.
    pub assignments: Vec<(String, Word)>,
    /// Command name and arguments.
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    pub stdin: Option<Feed>,
    pub span: Range<usize>,
    pub cwd: Cwd,
    /// How this command was reached (`"function f body"`, `"alias ls"`), outermost first.
    pub via: Vec<String>,
    /// Files written earlier in the script with known content (path as written → text).
    pub files: BTreeMap<String, String>,
}

/// The result of parsing one script.
#[derive(Debug, Clone, Default)]
pub struct Script {
    pub commands: Vec<SimpleCommand>,
    /// The parse had ERROR/MISSING nodes, or a limit was hit: the engine must fail closed.
    pub incomplete: bool,
    /// Why (parse error at byte N, depth limit, size limit…).
    pub notes: Vec<String>,
    /// Constructs that are dangerous in themselves (a function that spawns itself in the
    /// background: a fork bomb), with the span of the definition.
    pub alarms: Vec<(String, Range<usize>)>,
}

/// Names of variables whose values come from outside the script and may be secret.
#[derive(Debug, Clone, Default)]
pub struct ParseEnv<'a> {
    /// The agent's environment (expanded into `Word::env_text`).
    pub env: Option<&'a BTreeMap<String, String>>,
    /// The home directory (for `~` in `cd`), if known.
    pub home: Option<&'a str>,
}

/// Where inner spans go when re-parsing text that came from a word (`bash -c '…'`).
#[derive(Debug, Clone)]
enum SpanMap {
    Offset(usize),
    Fixed(Range<usize>),
}

impl SpanMap {
    fn map(&self, r: Range<usize>) -> Range<usize> {
        match self {
            SpanMap::Offset(o) => r.start + o..r.end + o,
            SpanMap::Fixed(f) => f.clone(),
        }
    }
}

/// Mutable state carried through a walk: what the script has told us so far.
#[derive(Debug, Clone, Default)]
pub struct ShellState {
    /// Shell variables: `Some(value)` when known, `None` when assigned something dynamic.
    pub vars: BTreeMap<String, Option<String>>,
    /// Variables exported (or assigned when already in the env map): passed to later commands.
    pub exported: BTreeMap<String, Word>,
    pub aliases: BTreeMap<String, String>,
    /// Files written earlier with known content (`printf 'x' > /tmp/c.sh`).
    pub files: BTreeMap<String, String>,
    pub cwd: Cwd,
    pub via: Vec<String>,
}

thread_local! {
    static PARSER: std::cell::RefCell<Option<Parser>> = const { std::cell::RefCell::new(None) };
}

/// Parses a top-level command string.
pub fn parse(src: &str, env: &ParseEnv<'_>) -> Script {
    let mut script = Script::default();
    let mut state = ShellState::default();
    parse_into(src, env, &mut state, SpanMap::Offset(0), 0, &mut script);
    script
}

/// Parses `src` (text from a word at `span`) with an existing state, appending to `out`. Used by
/// the unwrapper for `bash -c`, `eval`, `ssh host 'cmd'`, … (`depth` counts those re-parses).
pub fn parse_nested(
    src: &str,
    env: &ParseEnv<'_>,
    state: &mut ShellState,
    span: Range<usize>,
    depth: usize,
    out: &mut Script,
) {
    parse_into(src, env, state, SpanMap::Fixed(span), depth, out);
}

fn parse_into(
    src: &str,
    env: &ParseEnv<'_>,
    state: &mut ShellState,
    map: SpanMap,
    depth: usize,
    out: &mut Script,
) {
    if src.len() > MAX_SCRIPT_BYTES {
        out.incomplete = true;
        out.notes.push(format!(
            "script is {} bytes, over the {MAX_SCRIPT_BYTES}-byte parse limit",
            src.len()
        ));
        return;
    }
    if depth > MAX_DEPTH {
        out.incomplete = true;
        out.notes
            .push(format!("nesting deeper than {MAX_DEPTH} levels"));
        return;
    }
    if fast_path_enabled()
        && let Some(words) = plain_words(src)
    {
        Walker {
            src,
            env,
            map,
            depth,
            out,
        }
        .plain_command(words, state);
        return;
    }
    // tree-sitter-bash 0.25 goes through error recovery at the end of input after a pipeline of
    // three or more commands: `a | b | c` costs ~370k instructions to parse, `a | b | c\n` ~47k,
    // for the same tree. A newline after the last command ends it exactly as the end of input
    // does, so the grammar gets one — unless the text ends in a backslash, where the newline
    // would make a line continuation. Byte offsets are unchanged: the newline comes last.
    let owned;
    let src = if src.ends_with('\n') || src.ends_with('\\') {
        src
    } else {
        owned = format!("{src}\n");
        owned.as_str()
    };
    let walker = |out| Walker {
        src,
        env,
        map,
        depth,
        out,
    };
    let tree = PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut p = Parser::new();
            // The bundled grammar always matches the linked tree-sitter ABI; a failure here
            // leaves the parser unset and the input is reported as unparsed (fail closed).
            if p.set_language(&tree_sitter_bash::LANGUAGE.into()).is_ok() {
                *slot = Some(p);
            }
        }
        slot.as_mut().and_then(|p| p.parse(src, None))
    });
    let Some(tree) = tree else {
        out.incomplete = true;
        out.notes.push("the shell parser failed".into());
        return;
    };
    let root = tree.root_node();
    if root.has_error() {
        out.incomplete = true;
        let at = first_error(root).map(|n| n.start_byte()).unwrap_or(0);
        out.notes.push(format!(
            "shell syntax error near byte {at}: parsed what could be parsed"
        ));
    }
    walker(out).block(root, state);
}

/// The words of `src` (byte range, text after quote removal) when it is one simple command that
/// needs no grammar: words separated by spaces, each made of
/// - characters the shell gives no meaning to: ASCII letters and digits, `_ - . / , : @ % + = ~`
///   (`~` is kept as written, as the grammar's walk keeps it),
/// - `'single-quoted'` text (anything but `'`; taken literally),
/// - `"double-quoted"` text without `$`, `` ` ``, `\` or `!` (so taken literally too);
///
/// none of its words (as written or unquoted) a [`SHELL_KEYWORDS`] entry, and the first starting
/// with a letter, digit, `_`, `.` or `/` and not an assignment. Most commands agents run are like
/// this (`git status`, `cargo test --release`, `git commit -m 'fix: x'`), and tree-sitter's parse
/// is about half of an evaluation. Anything else (`$`, `\` and globs outside quotes, operators,
/// `#`, tabs, newlines outside quotes, an unclosed quote) gives `None` and goes to tree-sitter;
/// `tests::plain_commands_parse_as_the_grammar_does` holds the two paths to the same result.
pub(crate) fn plain_words(src: &str) -> Option<Vec<(Range<usize>, String)>> {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"_-./,:@%+=~".contains(&b);
    let bytes = src.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        while i < bytes.len() && bytes[i] != b' ' {
            let end = match bytes[i] {
                b'\'' => i + 1 + src[i + 1..].find('\'')?,
                b'"' => match i + 1 + src[i + 1..].find(['"', '$', '`', '\\', '!'])? {
                    end if bytes[end] == b'"' => end,
                    _ => return None,
                },
                b if plain(b) => {
                    let run = src[i..].find(|c: char| !c.is_ascii() || !plain(c as u8));
                    let end = run.map_or(src.len(), |n| i + n);
                    text.push_str(&src[i..end]);
                    i = end;
                    continue;
                }
                _ => return None,
            };
            // Inside the quotes, taken literally.
            text.push_str(&src[i + 1..end]);
            i = end + 1;
        }
        words.push((start..i, text));
    }
    let (first, _) = words.first()?;
    let first = &src[first.clone()];
    let keyword = |(span, text): &(Range<usize>, String)| {
        SHELL_KEYWORDS.contains(&&src[span.clone()]) || SHELL_KEYWORDS.contains(&text.as_str())
    };
    // A command name must start like a program or path: the grammar reads a leading `-` (as in
    // `- FOO=bar`) as something other than a command.
    let named = first.starts_with(|c: char| c.is_ascii_alphanumeric() || "_./".contains(c));
    if !named || first.contains('=') || words.iter().any(keyword) {
        return None;
    }
    Some(words)
}

#[cfg(test)]
thread_local! {
    static GRAMMAR_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Tests only: makes this thread parse everything with the grammar (`true`), to compare the
/// plain-command path with it.
#[cfg(test)]
pub(crate) fn set_grammar_only(on: bool) {
    GRAMMAR_ONLY.set(on);
}

fn fast_path_enabled() -> bool {
    #[cfg(test)]
    return !GRAMMAR_ONLY.get();
    #[cfg(not(test))]
    true
}

/// The first ERROR or MISSING node, found iteratively (deep inputs must not overflow the stack).
fn first_error(node: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = node.walk();
    loop {
        let n = cursor.node();
        if n.is_error() || n.is_missing() {
            return Some(n);
        }
        if n.has_error() && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return None;
            }
        }
    }
}

struct Walker<'s, 'e, 'o> {
    src: &'s str,
    env: &'e ParseEnv<'e>,
    map: SpanMap,
    depth: usize,
    out: &'o mut Script,
}

impl Walker<'_, '_, '_> {
    fn text(&self, n: Node<'_>) -> &str {
        self.src.get(n.byte_range()).unwrap_or("")
    }

    fn span(&self, n: Node<'_>) -> Range<usize> {
        self.map.map(n.byte_range())
    }

    fn limit_hit(&mut self) -> bool {
        if self.out.commands.len() >= MAX_COMMANDS {
            if !self.out.incomplete {
                self.out.incomplete = true;
                self.out
                    .notes
                    .push(format!("more than {MAX_COMMANDS} commands"));
            }
            return true;
        }
        false
    }

    /// Walks every named child as a statement.
    fn block(&mut self, node: Node<'_>, st: &mut ShellState) {
        let mut cursor = node.walk();
        let children: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
        for child in children {
            self.statement(child, st, None);
        }
    }

    /// Walks one statement; `stdin` is the feed from a pipeline's upstream stage.
    /// Returns the static output of the statement when it can be computed (for pipes).
    fn statement(
        &mut self,
        n: Node<'_>,
        st: &mut ShellState,
        stdin: Option<Feed>,
    ) -> Option<String> {
        if self.limit_hit() || !self.descend() {
            return None;
        }
        let r = self.statement_inner(n, st, stdin);
        self.depth -= 1;
        r
    }

    /// Enters one more level of nesting; past [`MAX_DEPTH`] stays put, marks the script
    /// incomplete and returns false.
    fn descend(&mut self) -> bool {
        if self.depth + 1 > MAX_DEPTH {
            if !self.out.incomplete || !self.out.notes.iter().any(|n| n.contains("nesting")) {
                self.out.incomplete = true;
                self.out
                    .notes
                    .push(format!("nesting deeper than {MAX_DEPTH} levels"));
            }
            return false;
        }
        self.depth += 1;
        true
    }

    /// Records a command [`plain_words`] split, as the grammar's walk records a one-command
    /// program: one statement deep, through the same [`Self::simple_command`].
    fn plain_command(&mut self, words: Vec<(Range<usize>, String)>, st: &mut ShellState) {
        if self.limit_hit() || !self.descend() {
            return;
        }
        let (first, last) = (words[0].0.clone(), words[words.len() - 1].0.clone());
        let argv = words
            .into_iter()
            .map(|(r, text)| Word::lit(text, self.map.map(r)))
            .collect();
        let span = self.map.map(first.start..last.end);
        self.simple_command(span, st, argv, Vec::new(), Vec::new(), None);
        self.depth -= 1;
    }

    fn statement_inner(
        &mut self,
        n: Node<'_>,
        st: &mut ShellState,
        stdin: Option<Feed>,
    ) -> Option<String> {
        match n.kind() {
            "comment" | "heredoc_body" | "heredoc_start" | "heredoc_end" => None,
            "command" => self.command(n, st, stdin, Vec::new(), Vec::new()),
            "redirected_statement" => self.redirected(n, st, stdin),
            "pipeline" => self.pipeline(n, st),
            "list" | "program" | "compound_statement" | "do_group" | "else_clause"
            | "elif_clause" | "case_item" | "negated_command" => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                let mut last = None;
                for c in children {
                    if n.kind() == "case_item" && n.child_by_field_name("value") == Some(c) {
                        continue;
                    }
                    last = self.statement(c, st, stdin.clone());
                }
                last
            }
            "subshell" => {
                let mut inner = st.clone();
                self.block(n, &mut inner);
                // Files written inside a subshell are still on disk afterwards.
                st.files.extend(inner.files);
                None
            }
            "if_statement"
            | "while_statement"
            | "case_statement"
            | "test_command"
            | "c_style_for_statement"
            | "ERROR" => {
                if n.kind() == "ERROR" {
                    self.out.incomplete = true;
                }
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.statement(c, st, None);
                }
                None
            }
            "for_statement" => {
                if let Some(v) = n.child_by_field_name("variable") {
                    let name = self.text(v).to_string();
                    st.vars.insert(name, None);
                }
                let mut cursor = n.walk();
                let values: Vec<Node<'_>> =
                    n.children_by_field_name("value", &mut cursor).collect();
                for v in values {
                    self.word(v, st);
                }
                if let Some(body) = n.child_by_field_name("body") {
                    self.statement(body, st, None);
                }
                None
            }
            "function_definition" => {
                let name = n
                    .child_by_field_name("name")
                    .map(|x| self.text(x).to_string())
                    .unwrap_or_default();
                if let Some(body) = n.child_by_field_name("body") {
                    let mut inner = st.clone();
                    inner.via.push(format!("body of function {name}()"));
                    let before = self.out.commands.len();
                    // Positional parameters inside a body are unknown.
                    self.statement(body, &mut inner, None);
                    let recursive = self.out.commands[before.min(self.out.commands.len())..]
                        .iter()
                        .any(|c| c.words.first().is_some_and(|w| w.text == name));
                    let body_text = self.text(body);
                    if recursive && (body_text.contains('&') || body_text.contains('|')) {
                        self.out.alarms.push((
                            format!("function {name}() spawns copies of itself (a fork bomb)"),
                            self.span(n),
                        ));
                    }
                }
                None
            }
            "variable_assignment" => {
                self.assignment(n, st, false);
                None
            }
            "variable_assignments" => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                for c in children {
                    self.assignment(c, st, false);
                }
                None
            }
            "declaration_command" => {
                let exported = self.text(n).starts_with("export");
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                if !children.iter().any(|c| c.kind() == "variable_assignment") {
                    // `export -p`, `declare -x`: prints variables; treat as a command.
                    let keyword = self
                        .text(n)
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let mut words = vec![Word::lit(keyword, self.span(n))];
                    for c in &children {
                        words.push(self.word(*c, st));
                    }
                    let cmd = SimpleCommand {
                        assignments: Vec::new(),
                        words,
                        redirects: Vec::new(),
                        stdin,
                        span: self.span(n),
                        cwd: st.cwd.clone(),
                        via: st.via.clone(),
                        files: st.files.clone(),
                    };
                    self.out.commands.push(cmd);
                    return None;
                }
                for c in children {
                    if c.kind() == "variable_assignment" {
                        self.assignment(c, st, exported);
                    } else {
                        self.word(c, st);
                    }
                }
                None
            }
            "unset_command" => None,
            // Expressions and anything else: walk for substitutions only.
            _ => {
                self.substitutions_in(n, st);
                None
            }
        }
    }

    /// Walks any command/process substitutions inside an expression node.
    fn substitutions_in(&mut self, n: Node<'_>, st: &mut ShellState) {
        if matches!(n.kind(), "command_substitution" | "process_substitution") {
            self.word(n, st);
            return;
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.out.incomplete = true;
            self.out
                .notes
                .push(format!("nesting deeper than {MAX_DEPTH} levels"));
        } else {
            let mut cursor = n.walk();
            let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
            for c in children {
                self.substitutions_in(c, st);
            }
        }
        self.depth -= 1;
    }

    fn assignment(
        &mut self,
        n: Node<'_>,
        st: &mut ShellState,
        export: bool,
    ) -> Option<(String, Word)> {
        let name = n
            .child_by_field_name("name")
            .map(|x| self.text(x).to_string())?;
        let value = match n.child_by_field_name("value") {
            Some(v) => self.word(v, st),
            None => Word::lit("", self.span(n)),
        };
        st.vars.insert(
            name.clone(),
            if value.dynamic {
                None
            } else {
                Some(value.text.clone())
            },
        );
        let in_env = self.env.env.is_some_and(|e| e.contains_key(&name));
        if export || in_env || st.exported.contains_key(&name) {
            st.exported.insert(name.clone(), value.clone());
        }
        Some((name, value))
    }

    fn redirected(
        &mut self,
        n: Node<'_>,
        st: &mut ShellState,
        stdin: Option<Feed>,
    ) -> Option<String> {
        let mut redirects = Vec::new();
        let mut extra = Vec::new();
        let mut feed = stdin;
        let mut cursor = n.walk();
        let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
        let body = n.child_by_field_name("body");
        let mut heredoc_pipeline = None;
        for c in &children {
            if Some(*c) == body {
                continue;
            }
            match c.kind() {
                "file_redirect" => {
                    if let Some(r) = self.file_redirect(*c, st, &mut extra) {
                        redirects.push(r);
                    }
                }
                "herestring_redirect" => feed = Some(self.herestring(*c, st)),
                "heredoc_redirect" => {
                    feed = Some(self.heredoc(*c, st));
                    let mut c2 = c.walk();
                    for hc in c.named_children(&mut c2) {
                        match hc.kind() {
                            "file_redirect" => {
                                if let Some(r) = self.file_redirect(hc, st, &mut extra) {
                                    redirects.push(r);
                                }
                            }
                            "pipeline" => heredoc_pipeline = Some(hc),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let body = body?;
        let out = match body.kind() {
            "command" => self.command(body, st, feed, redirects, extra),
            _ => {
                let before = self.out.commands.len();
                let out = self.statement(body, st, feed);
                // Apply the redirects to the commands of the body (a group redirected as a whole).
                for c in &mut self.out.commands[before..] {
                    c.redirects.extend(redirects.iter().cloned());
                }
                out
            }
        };
        if let Some(p) = heredoc_pipeline {
            // `cat <<EOF | bash`: the heredoc command's output feeds the pipeline.
            let feed = match &out {
                Some(text) => Feed::Literal(text.clone()),
                None => Feed::Unknown(format!("output of `{}`", self.text(body))),
            };
            self.pipeline_from(p, st, Some(feed));
        }
        out
    }

    /// A file redirect. tree-sitter-bash attaches words after the target
    /// (`git >/dev/null reset --hard`) as extra destinations; bash passes them to the command,
    /// so they are returned in `extra` for the caller to append to the command's words.
    fn file_redirect(
        &mut self,
        n: Node<'_>,
        st: &mut ShellState,
        extra: &mut Vec<Word>,
    ) -> Option<Redirect> {
        let mut op = String::new();
        let mut cursor = n.walk();
        for c in n.children(&mut cursor) {
            if !c.is_named() {
                op.push_str(self.text(c));
            }
        }
        let mut c2 = n.walk();
        let dests: Vec<Node<'_>> = n.children_by_field_name("destination", &mut c2).collect();
        let (first, rest) = dests.split_first()?;
        let target = self.word(*first, st);
        for d in rest {
            let w = self.word(*d, st);
            extra.push(w);
        }
        Some(Redirect { op, target })
    }

    fn herestring(&mut self, n: Node<'_>, st: &mut ShellState) -> Feed {
        let mut cursor = n.walk();
        let words: Vec<Node<'_>> = n
            .named_children(&mut cursor)
            .filter(|c| c.kind() != "file_descriptor")
            .collect();
        let mut text = String::new();
        let mut dynamic = false;
        for w in words {
            let word = self.word(w, st);
            dynamic |= word.dynamic;
            text.push_str(&word.text);
        }
        if dynamic {
            Feed::Unknown(format!("here-string `{}`", self.text(n)))
        } else {
            text.push('\n');
            Feed::Literal(text)
        }
    }

    fn heredoc(&mut self, n: Node<'_>, st: &mut ShellState) -> Feed {
        let mut cursor = n.walk();
        let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
        for c in children {
            if c.kind() == "heredoc_body" {
                // Substitutions inside an unquoted heredoc run.
                self.substitutions_in(c, st);
                let mut body = String::new();
                let mut c2 = c.walk();
                let parts: Vec<Node<'_>> = c.children(&mut c2).collect();
                if parts.is_empty() {
                    body.push_str(self.text(c));
                } else {
                    // Take the raw text between the body start and the terminator.
                    let start = c.start_byte();
                    let end = parts
                        .iter()
                        .filter(|p| p.kind() != "heredoc_end")
                        .map(|p| p.end_byte())
                        .max()
                        .unwrap_or(c.end_byte());
                    body.push_str(self.src.get(start..end).unwrap_or(""));
                }
                return Feed::Literal(body);
            }
        }
        Feed::Unknown(format!("heredoc `{}`", self.text(n)))
    }

    fn pipeline(&mut self, n: Node<'_>, st: &mut ShellState) -> Option<String> {
        self.pipeline_from(n, st, None)
    }

    fn pipeline_from(
        &mut self,
        n: Node<'_>,
        st: &mut ShellState,
        first: Option<Feed>,
    ) -> Option<String> {
        let mut cursor = n.walk();
        let stages: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
        let mut feed = first;
        let mut last = None;
        for stage in stages {
            if stage.kind() == "comment" {
                continue;
            }
            let out = self.statement(stage, st, feed.take());
            feed = Some(match &out {
                Some(text) => Feed::Literal(text.clone()),
                None => Feed::Unknown(format!("output of `{}`", self.text(stage))),
            });
            last = out;
        }
        last
    }

    /// Handles one `command` node: resolves its words, records it, updates state, and returns
    /// its static output when computable (echo/printf/base64 -d/tr/cat of a known feed).
    fn command(
        &mut self,
        n: Node<'_>,
        st: &mut ShellState,
        stdin: Option<Feed>,
        mut redirects: Vec<Redirect>,
        extra_words: Vec<Word>,
    ) -> Option<String> {
        let mut assignments = Vec::new();
        let mut words = Vec::new();
        let mut extra = extra_words;
        let mut feed = stdin;
        let mut cursor = n.walk();
        let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
        for c in children {
            match c.kind() {
                "variable_assignment" => {
                    let mut scratch = st.clone();
                    if let Some(a) = self.assignment(c, &mut scratch, false) {
                        assignments.push(a);
                    }
                }
                "file_redirect" => {
                    if let Some(r) = self.file_redirect(c, st, &mut extra) {
                        redirects.push(r);
                    }
                }
                "herestring_redirect" => feed = Some(self.herestring(c, st)),
                "command_name" => {
                    let mut c2 = c.walk();
                    let inner: Vec<Node<'_>> = c.named_children(&mut c2).collect();
                    match inner.as_slice() {
                        [one] => words.push(self.word(*one, st)),
                        _ => words.push(self.word(c, st)),
                    }
                }
                "subshell" => {
                    // `( … )` parsed as a command child in some error-recovery shapes.
                    self.statement(c, st, None);
                }
                _ => words.push(self.word(c, st)),
            }
        }
        words.extend(extra);
        self.simple_command(self.span(n), st, words, assignments, redirects, feed)
    }

    /// Records one simple command from its resolved parts (or, for an alias, the commands of
    /// its expansion), updates the state and returns its static output when computable.
    fn simple_command(
        &mut self,
        span: Range<usize>,
        st: &mut ShellState,
        words: Vec<Word>,
        assignments: Vec<(String, Word)>,
        redirects: Vec<Redirect>,
        feed: Option<Feed>,
    ) -> Option<String> {
        if words.is_empty() {
            // Only assignments: they set shell variables.
            for (name, value) in assignments {
                st.vars
                    .insert(name.clone(), (!value.dynamic).then(|| value.text.clone()));
                if st.exported.contains_key(&name)
                    || self.env.env.is_some_and(|e| e.contains_key(&name))
                {
                    st.exported.insert(name, value);
                }
            }
            return None;
        }
        // Alias expansion: `alias ls='rm -rf'; ls ~` → `rm -rf ~`.
        if let Some(body) = st.aliases.get(&words[0].text).cloned()
            && !words[0].dynamic
            && !st
                .via
                .iter()
                .any(|v| v == &format!("alias {}", words[0].text))
        {
            let rest = words[1..]
                .iter()
                .map(|w| shell_quote(&w.text))
                .collect::<Vec<_>>()
                .join(" ");
            let text = format!("{body} {rest}");
            let mut inner = st.clone();
            inner.via.push(format!("alias {}", words[0].text));
            parse_nested(&text, self.env, &mut inner, span, self.depth + 1, self.out);
            return None;
        }
        let mut env_assign: Vec<(String, Word)> = st.exported.clone().into_iter().collect();
        env_assign.retain(|(k, _)| !assignments.iter().any(|(a, _)| a == k));
        env_assign.extend(assignments);
        let cmd = SimpleCommand {
            assignments: env_assign,
            words,
            redirects,
            stdin: feed,
            span,
            cwd: st.cwd.clone(),
            via: st.via.clone(),
            files: st.files.clone(),
        };
        let output = static_output(&cmd);
        self.track_state(&cmd, st, output.as_deref());
        self.out.commands.push(cmd);
        output
    }

    /// Updates the state after a command: `cd`, `alias`, files written with known content.
    fn track_state(&mut self, cmd: &SimpleCommand, st: &mut ShellState, output: Option<&str>) {
        let name = cmd.words[0].text.as_str();
        match name {
            "cd" | "pushd" => {
                let args: Vec<&Word> = cmd.words[1..]
                    .iter()
                    .filter(|w| !w.text.starts_with('-'))
                    .collect();
                st.cwd = match args.first() {
                    None => Cwd::Path("~".into()),
                    Some(w) if w.dynamic => Cwd::Unknown,
                    Some(w) => match &st.cwd {
                        _ if w.text.starts_with('/') || w.text.starts_with('~') => {
                            Cwd::Path(w.text.clone())
                        }
                        Cwd::Ambient => Cwd::Path(w.text.clone()),
                        Cwd::Path(p) => {
                            Cwd::Path(format!("{}/{}", p.trim_end_matches('/'), w.text))
                        }
                        Cwd::Unknown => Cwd::Unknown,
                    },
                };
            }
            "alias" => {
                for w in &cmd.words[1..] {
                    if let Some((k, v)) = w.text.split_once('=') {
                        st.aliases.insert(k.to_string(), v.to_string());
                        // The definition is itself code the session will run later: report the
                        // body with unknown arguments.
                        let mut inner = st.clone();
                        inner.via.push(format!("definition of alias {k}"));
                        let text = format!("{v} \"$@\"");
                        parse_nested(
                            &text,
                            self.env,
                            &mut inner,
                            w.span.clone(),
                            self.depth + 1,
                            self.out,
                        );
                    }
                }
            }
            _ => {}
        }
        for r in &cmd.redirects {
            if r.writes() && !r.target.dynamic {
                match output {
                    Some(text) => {
                        let entry = st.files.entry(r.target.text.clone()).or_default();
                        if !r.op.contains(">>") {
                            entry.clear();
                        }
                        entry.push_str(text);
                    }
                    None => {
                        st.files.remove(&r.target.text);
                    }
                }
            }
        }
    }

    /// Resolves a word node to text. Walks substitutions inside it as executed commands.
    fn word(&mut self, n: Node<'_>, st: &mut ShellState) -> Word {
        // `env_text` stays `None` (the same as `text`) until an env-map variable expands; most
        // words are as long as their node's text, so `text` rarely grows.
        let mut w = Word {
            text: String::with_capacity(n.end_byte().saturating_sub(n.start_byte())),
            env_text: None,
            dynamic: false,
            span: self.span(n),
        };
        self.word_into(n, st, &mut w);
        if w.env_text.as_deref() == Some(w.text.as_str()) {
            w.env_text = None;
        }
        w
    }

    fn push(w: &mut Word, s: &str) {
        w.text.push_str(s);
        if let Some(e) = w.env_text.as_mut() {
            e.push_str(s);
        }
    }

    fn word_into(&mut self, n: Node<'_>, st: &mut ShellState, w: &mut Word) {
        match n.kind() {
            "word" | "number" | "regex" | "extglob_pattern" | "special_variable_name" => {
                let t = self.text(n);
                if t.contains('\\') {
                    Self::push(w, &unescape_word(t));
                } else {
                    Self::push(w, t);
                }
            }
            "raw_string" => {
                let t = self.text(n);
                let inner = t
                    .strip_prefix('\'')
                    .and_then(|x| x.strip_suffix('\''))
                    .unwrap_or(t);
                Self::push(w, inner);
            }
            "ansi_c_string" => {
                let t = self.text(n);
                let inner = t
                    .strip_prefix("$'")
                    .and_then(|x| x.strip_suffix('\''))
                    .unwrap_or(t);
                Self::push(w, &unescape_ansi_c(inner));
            }
            "string" | "translated_string" => {
                let mut cursor = n.walk();
                let parts: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                // Text between named children (e.g. spaces, literal `$`) is part of the string.
                let inner_start = n.start_byte()
                    + if n.kind() == "translated_string" {
                        2
                    } else {
                        1
                    };
                let inner_end = n.end_byte().saturating_sub(1).max(inner_start);
                let mut pos = inner_start;
                for p in parts {
                    if p.start_byte() > pos {
                        let gap = self.src.get(pos..p.start_byte()).unwrap_or("");
                        Self::push(w, &unescape_dquote(gap));
                    }
                    if p.kind() == "string_content" {
                        let t = unescape_dquote(self.text(p));
                        Self::push(w, &t);
                    } else {
                        self.word_into(p, st, w);
                    }
                    pos = p.end_byte();
                }
                if inner_end > pos {
                    let gap = self.src.get(pos..inner_end).unwrap_or("");
                    Self::push(w, &unescape_dquote(gap));
                }
            }
            "string_content" | "heredoc_content" => {
                let t = unescape_dquote(self.text(n));
                Self::push(w, &t);
            }
            "concatenation" | "command_name" => {
                let mut cursor = n.walk();
                let parts: Vec<Node<'_>> = n.children(&mut cursor).collect();
                for p in parts {
                    if p.is_named() {
                        self.word_into(p, st, w);
                    } else {
                        Self::push(w, self.text(p));
                    }
                }
            }
            "simple_expansion" | "expansion" => self.expansion(n, st, w),
            "command_substitution" | "process_substitution" => {
                let mut inner = st.clone();
                inner.via.push(if n.kind() == "command_substitution" {
                    "command substitution".into()
                } else {
                    "process substitution".into()
                });
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
                let mut out = None;
                let mut count = 0;
                for c in children {
                    if c.kind() == "comment" {
                        continue;
                    }
                    count += 1;
                    out = self.statement(c, &mut inner, None);
                }
                match (n.kind(), out, count) {
                    ("command_substitution", Some(text), 1) => {
                        Self::push(w, text.trim_end_matches('\n'));
                    }
                    _ => {
                        w.dynamic = true;
                        Self::push(w, self.text(n));
                    }
                }
            }
            "arithmetic_expansion" | "array" | "brace_expression" => {
                self.substitutions_in(n, st);
                if n.kind() != "brace_expression" {
                    w.dynamic = true;
                }
                Self::push(w, self.text(n));
            }
            _ => {
                self.substitutions_in(n, st);
                Self::push(w, self.text(n));
            }
        }
    }

    fn expansion(&mut self, n: Node<'_>, st: &mut ShellState, w: &mut Word) {
        let raw = self.text(n).to_string();
        let mut cursor = n.walk();
        let children: Vec<Node<'_>> = n.named_children(&mut cursor).collect();
        let name = children
            .iter()
            .find(|c| matches!(c.kind(), "variable_name" | "special_variable_name"))
            .map(|c| self.text(*c).to_string())
            .unwrap_or_default();
        // `${X:-default}` / `${X-default}`: the operator is an anonymous child.
        let mut op = String::new();
        let mut c2 = n.walk();
        let all: Vec<Node<'_>> = n.children(&mut c2).collect();
        for c in &all {
            if !c.is_named()
                && matches!(
                    self.text(*c),
                    ":-" | "-" | ":=" | "=" | ":+" | "+" | ":?" | "?"
                )
            {
                op = self.text(*c).to_string();
                break;
            }
        }
        let simple = n.kind() == "simple_expansion" || (op.is_empty() && children.len() == 1);
        let script_val = st.vars.get(&name).cloned();
        let env_val = self.env.env.and_then(|e| e.get(&name).cloned());
        let default_word = || -> Option<Node<'_>> {
            all.iter()
                .skip_while(|c| c.is_named() || self.text(**c) != op)
                .nth(1)
                .copied()
        };
        match script_val {
            Some(Some(v)) if simple || op.contains('-') || op.contains('=') || op.contains('?') => {
                Self::push(w, &v);
                return;
            }
            Some(None) => {
                w.dynamic = true;
                Self::push(w, &raw);
                return;
            }
            _ => {}
        }
        if name == "HOME"
            && let Some(h) = self.env.home
        {
            Self::push(w, h);
            return;
        }
        if let Some(v) = env_val
            && (simple || op.contains('-') || op.contains('=') || op.contains('?'))
        {
            let e = w.env_text.get_or_insert_with(|| w.text.clone());
            e.push_str(&v);
            w.text.push_str(&raw);
            return;
        }
        if (op == ":-" || op == "-" || op == ":=" || op == "=")
            && env_val_is_unset(self.env, &name)
            && let Some(d) = default_word()
        {
            {
                let mut dw = Word {
                    text: String::new(),
                    env_text: None,
                    dynamic: false,
                    span: w.span.clone(),
                };
                self.word_into(d, st, &mut dw);
                Self::push(w, &dw.text);
                w.dynamic |= dw.dynamic;
                return;
            }
        }
        w.dynamic = true;
        Self::push(w, &raw);
    }
}

fn env_val_is_unset(env: &ParseEnv<'_>, name: &str) -> bool {
    env.env.is_none_or(|e| !e.contains_key(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argvs(src: &str) -> Vec<Vec<String>> {
        parse(src, &ParseEnv::default())
            .commands
            .iter()
            .map(|c| c.words.iter().map(|w| w.text.clone()).collect())
            .collect()
    }

    #[test]
    fn splits_lists_pipes_and_groups() {
        assert_eq!(
            argvs("git status && git reset --hard origin/main"),
            vec![
                vec!["git", "status"],
                vec!["git", "reset", "--hard", "origin/main"]
            ]
        );
        assert_eq!(
            argvs("true & rm -rf ~/work")[1],
            vec!["rm", "-rf", "~/work"]
        );
        assert_eq!(
            argvs("(cd /srv && rm -rf app)")[1],
            vec!["rm", "-rf", "app"]
        );
        assert_eq!(
            argvs("{ git clean -fdx; }"),
            vec![vec!["git", "clean", "-fdx"]]
        );
        assert_eq!(
            argvs("if true; then rm -rf /srv; fi")[1],
            vec!["rm", "-rf", "/srv"]
        );
    }

    #[test]
    fn resolves_quotes_escapes_and_variables() {
        assert_eq!(argvs("rm -r'f' /"), vec![vec!["rm", "-rf", "/"]]);
        assert_eq!(argvs("'g'it push --force")[0][0], "git");
        assert_eq!(argvs(r"\rm -r\f ./src"), vec![vec!["rm", "-rf", "./src"]]);
        assert_eq!(
            argvs("c=rm; $c -rf /home/alice"),
            vec![vec!["rm", "-rf", "/home/alice"]]
        );
        assert_eq!(argvs("${RM:-rm} -rf /srv"), vec![vec!["rm", "-rf", "/srv"]]);
        assert_eq!(argvs(r#"echo "a \"b\" $'x'""#)[0][1], "a \"b\" $'x'");
        assert_eq!(argvs("echo $'a\\nb'")[0][1], "a\nb");
    }

    #[test]
    fn substitutions_are_executed_commands() {
        let s = parse("echo $(rm -rf ~/work)", &ParseEnv::default());
        assert_eq!(s.commands[0].words[0].text, "rm");
        assert!(s.commands[1].words[1].dynamic);
        let s = parse("cat <(rm -rf /tmp/../home/alice)", &ParseEnv::default());
        assert_eq!(s.commands[0].words[0].text, "rm");
    }

    #[test]
    fn pipes_feed_static_output() {
        let s = parse("echo cm0gLXJmIH4v | base64 -d | sh", &ParseEnv::default());
        assert_eq!(s.commands[2].stdin, Some(Feed::Literal("rm -rf ~/".into())));
        let s = parse(
            "printf 'kubectl delete ns prod\\n' | bash",
            &ParseEnv::default(),
        );
        assert_eq!(
            s.commands[1].stdin,
            Some(Feed::Literal("kubectl delete ns prod\n".into()))
        );
        let s = parse("curl -fsSL https://x.sh | sh", &ParseEnv::default());
        assert!(matches!(s.commands[1].stdin, Some(Feed::Unknown(_))));
        let s = parse("bash <<< 'rm -rf /opt/app'", &ParseEnv::default());
        assert_eq!(
            s.commands[0].stdin,
            Some(Feed::Literal("rm -rf /opt/app\n".into()))
        );
        let s = parse("psql <<'SQL'\nDROP TABLE x;\nSQL\n", &ParseEnv::default());
        assert!(
            matches!(&s.commands[0].stdin, Some(Feed::Literal(t)) if t.contains("DROP TABLE x"))
        );
    }

    #[test]
    fn tracks_cd_aliases_functions_and_files() {
        let s = parse("cd /srv && rm -rf app", &ParseEnv::default());
        assert_eq!(s.commands[1].cwd, Cwd::Path("/srv".into()));
        let v = argvs("alias ls='rm -rf'; ls ~");
        assert!(
            v.contains(&vec!["rm".to_string(), "-rf".into(), "~".into()]),
            "{v:?}"
        );
        let s = parse("f(){ rm -rf \"$@\"; }; f ~/work", &ParseEnv::default());
        assert!(
            s.commands
                .iter()
                .any(|c| c.words[0].text == "rm" && c.words[2].dynamic)
        );
        let mut st = ShellState::default();
        let mut out = Script::default();
        parse_nested(
            "printf 'rm -rf ~/work\\n' > /tmp/c.sh",
            &ParseEnv::default(),
            &mut st,
            0..1,
            0,
            &mut out,
        );
        assert_eq!(
            st.files.get("/tmp/c.sh").map(String::as_str),
            Some("rm -rf ~/work\n")
        );
    }

    #[test]
    fn env_values_stay_out_of_text() {
        let env: BTreeMap<String, String> = [(
            "DATABASE_URL".to_string(),
            "postgres://u:pw@db/app".to_string(),
        )]
        .into();
        let s = parse(
            "psql \"$DATABASE_URL\"",
            &ParseEnv {
                env: Some(&env),
                home: None,
            },
        );
        let w = &s.commands[0].words[1];
        assert_eq!(w.text, "$DATABASE_URL");
        assert_eq!(w.expanded(), "postgres://u:pw@db/app");
        assert!(!w.dynamic);
    }

    #[test]
    fn errors_and_limits_fail_closed() {
        assert!(parse("rm -rf / ; $($($(", &ParseEnv::default()).incomplete);
        let deep = "$(".repeat(400) + "rm -rf /" + &")".repeat(400);
        let s = parse(&deep, &ParseEnv::default());
        assert!(s.incomplete);
        let big = "a".repeat(MAX_SCRIPT_BYTES + 1);
        assert!(parse(&big, &ParseEnv::default()).incomplete);
    }

    /// `(fast path, grammar)` parses of `src`, as `{:?}` text so every field is compared.
    fn both_ways(src: &str, env: &ParseEnv<'_>) -> (String, String) {
        let fast = format!("{:?}", parse(src, env));
        set_grammar_only(true);
        let grammar = format!("{:?}", parse(src, env));
        set_grammar_only(false);
        (fast, grammar)
    }

    /// The grammar's tree of `src` as text: every node's kind, field and byte range, the root's
    /// end excepted (it covers a trailing newline when there is one).
    fn tree_text(src: &str) -> String {
        let mut p = Parser::new();
        p.set_language(&tree_sitter_bash::LANGUAGE.into())
            .expect("bash grammar");
        let tree = p.parse(src, None).expect("parse");
        let mut out = String::new();
        let mut cursor = tree.walk();
        let mut depth = 0usize;
        loop {
            let n = cursor.node();
            if depth > 0 {
                out.push_str(&format!(
                    "{depth} {:?} {}{} {:?}\n",
                    cursor.field_name(),
                    if n.is_missing() { "MISSING " } else { "" },
                    n.kind(),
                    n.byte_range()
                ));
            }
            if cursor.goto_first_child() {
                depth += 1;
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return out;
                }
                depth -= 1;
            }
        }
    }

    #[test]
    fn a_newline_at_the_end_changes_no_tree() {
        // `parse_into` hands the grammar `src` plus a newline (a 3-command pipeline at the end
        // of input is 8x cheaper to parse that way). That rests on the newline changing no
        // node: checked here over the corpus and endings that could be touched by it.
        let corpus = include_str!("../../tests/data/commands.tsv");
        let mut inputs: Vec<String> = corpus
            .lines()
            .skip(1)
            .filter_map(|l| l.splitn(3, '\t').nth(2).map(str::to_string))
            .collect();
        inputs.extend(
            [
                "a | b | c",
                "a | b | c | d | e",
                "a |& b | c",
                "x=$(a | b | c)",
                "a && b || c | d",
                "cat <<EOF | sh\nrm -rf /\nEOF",
                "cat <<'EOF'\nx\nEOF",
                "ls # a | b | c",
                "echo 'unclosed",
                "for f in *; do rm $f; done",
                "a | b | c &",
                "a;",
                "(a | b | c)",
                "",
            ]
            .map(str::to_string),
        );
        let mut differ = Vec::new();
        for src in inputs.iter().filter(|s| !s.ends_with(['\n', '\\'])) {
            let (bare, ended) = (tree_text(src), tree_text(&format!("{src}\n")));
            // Syntax errors may span the newline; what matters is that both are errors (the
            // command is then held, whatever the tree).
            let error = |t: &str| t.contains(" ERROR ") || t.contains("MISSING");
            let same = if error(&bare) {
                error(&ended)
            } else {
                bare == ended
            };
            if !same {
                differ.push(format!("`{src}`:\n{bare}\n-- with a newline --\n{ended}"));
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
        // Why a trailing backslash is left alone: the newline would make it a continuation.
        assert_ne!(tree_text("echo a \\"), tree_text("echo a \\\n"));
    }

    #[test]
    fn plain_commands_parse_as_the_grammar_does() {
        // Generated commands from words chosen to probe the edges: keywords as command and as
        // argument, assignment-like words, numbers (the grammar's `number` nodes), punctuation
        // the fast path accepts, runs of spaces at either end; then nested parses (alias bodies,
        // `bash -c` payloads) through a script that is not plain itself.
        let vocab = [
            "git",
            "status",
            "kubectl",
            "delete",
            "ns",
            "-n",
            "--force",
            "rm",
            "-rf",
            "/",
            "/tmp/x",
            "a=b",
            "--x=y",
            "FOO=bar",
            "=x",
            "export",
            "for",
            "in",
            "do",
            "if",
            "then",
            "time",
            "done",
            "declare",
            "unset",
            "1",
            "2",
            "42",
            "-",
            "--",
            "%1",
            "@x",
            ":",
            ".",
            "..",
            "a.b:c,d+e",
            "env",
            "sudo",
            "bash",
            "-c",
            "sh",
            "xargs",
            "cd",
            "pushd",
            "alias",
            "ll=ls",
            "test",
            "echo",
            "printf",
            "base64",
            "-d",
            "eval",
            "exec",
            "command",
            "'rm -rf /'",
            "\"a b\"",
            "'x'y",
            "a'b'",
            "\"'\"",
            "'\"'",
            "''",
            "\"\"",
            "~",
            "~/x",
            "a~",
            "'~'",
            "~'x'",
            "--m='a b'",
            "'#x'",
            "\"#\"",
            "'a;b'",
            "\"a|b\"",
            "'a\nb'",
            "'é'",
            "\"x y\"z",
            "'$HOME'",
            "'*'",
            "\"{a,b}\"",
            "-c='x'",
        ];
        let mut seed = 0x2545_f491_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut inputs = vec![String::new(), "   ".to_string(), "a".to_string()];
        for _ in 0..4000 {
            let mut line = " ".repeat(next(2));
            for i in 0..1 + next(6) {
                if i > 0 {
                    line.push_str(&" ".repeat(1 + next(2)));
                }
                line.push_str(vocab[next(vocab.len())]);
            }
            line.push_str(&" ".repeat(next(2)));
            inputs.push(line);
        }
        let env = ParseEnv::default();
        let mut plain = 0;
        let mut differ = Vec::new();
        for src in &inputs {
            plain += usize::from(plain_words(src).is_some());
            let (fast, grammar) = both_ways(src, &env);
            if fast != grammar {
                differ.push(format!("`{src}`:\n  plain:   {fast}\n  grammar: {grammar}"));
            }
        }
        assert!(differ.is_empty(), "{}", differ.join("\n"));
        assert!(
            plain > 1000,
            "the generator reaches the fast path ({plain} plain)"
        );
        for src in [
            "alias ll='ls -la'; ll /tmp",
            "bash -c 'rm -rf /tmp/x' && cd /srv; git status",
            "X=1; export X; env",
            "cd /a && cd b && kubectl delete ns web",
        ] {
            assert!(plain_words(src).is_none());
            let (fast, grammar) = both_ways(src, &env);
            assert_eq!(fast, grammar, "`{src}`");
        }
        let home = "/home/u";
        let deep = ParseEnv {
            env: None,
            home: Some(home),
        };
        for depth in [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1] {
            let run = |grammar: bool| {
                set_grammar_only(grammar);
                let mut out = Script::default();
                parse_nested(
                    "rm -rf /",
                    &deep,
                    &mut ShellState::default(),
                    0..1,
                    depth,
                    &mut out,
                );
                set_grammar_only(false);
                format!("{out:?}")
            };
            assert_eq!(run(false), run(true), "at depth {depth}");
        }
    }

    #[test]
    fn only_words_of_plain_characters_skip_the_grammar() {
        fn split(src: &str) -> Option<Vec<String>> {
            plain_words(src).map(|ws| ws.into_iter().map(|(_, text)| text).collect())
        }
        assert_eq!(split("  git   status ").unwrap(), ["git", "status"]);
        assert_eq!(
            split("git commit -m 'fix: a; b' --author=\"A <a@x>\" ~/x a'b'\"c\"d ''").unwrap(),
            [
                "git",
                "commit",
                "-m",
                "fix: a; b",
                "--author=A <a@x>",
                "~/x",
                "abcd",
                ""
            ]
        );
        assert_eq!(
            split("kubectl --context=prod-eu delete ns web").unwrap(),
            ["kubectl", "--context=prod-eu", "delete", "ns", "web"]
        );
        for other in [
            "",
            "  ",
            "FOO=1 git push",
            "for x in a",
            "git status # comment",
            "rm -rf *",
            "echo \\x",
            "echo $HOME",
            "a; b",
            "a && b",
            "a | b",
            "a > f",
            "a\tb",
            "a\nb",
            "ls é",
            "echo {a,b}",
            "ls [ab]",
            "x!",
            "- x",
            "%1",
            "@x y",
            "echo 'x",
            "echo \"x",
            "echo \"$x\"",
            "echo \"a\\\\b\"",
            "echo \"a!\"",
            "echo \"`id`\"",
            "'rm' -rf /",
            "echo 'if'",
            "echo \"done\"",
            "x=1",
            "echo a'b'\tc",
        ] {
            assert_eq!(split(other), None, "`{other}`");
        }
    }
}
