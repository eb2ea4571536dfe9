//! Unwrapping: simple commands → the invocations that would really run.
//!
//! Removes wrappers (`sudo`, `env`, `timeout`, `nohup`, `xargs`, `flock`, `strace`, `busybox`, …),
//! re-parses code hidden in arguments (`bash -c`, `eval`, `su -c`, `env -S`, `ssh host 'cmd'`,
//! `watch`, `find -exec`, git alias definitions, shells reading a known stdin or a script written
//! earlier in the same command) and extracts what inline interpreter code (`python -c`, `node -e`,
//! `perl -e`, `ruby -e`) would spawn or delete. Each step is recorded for `rules explain`.
//!
//! **Invariant:** when code is hidden somewhere we cannot read (unknown stdin into a shell,
//! `eval` of computed text, a computed command name, interpreter code spawning a computed
//! command), the invocation carries a [`Concern`] with the reason; the engine turns it into at
//! least `confirm` (fail closed).

use std::collections::BTreeMap;
use std::ops::Range;

use super::parse::{self, Cwd, Feed, ParseEnv, Redirect, Script, ShellState, SimpleCommand, Word};

mod inline;
mod wrappers;

use crate::rules::Decision;
pub use inline::{Inline, inline_code};
pub use wrappers::skip_options;
use wrappers::{Unwrap, is_assignment, wrapper};

/// Something the engine could not see through, with the least decision it implies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Concern {
    pub decision: Decision,
    pub reason: String,
}

/// One program invocation after unwrapping.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Program word and arguments (the program word as written, e.g. `/usr/bin/git`).
    pub argv: Vec<Word>,
    /// Normalised program name: basename, no `.exe`, lowercase.
    pub program: String,
    /// Environment assignments in effect (`VAR=` prefixes, `env VAR=`, exports).
    pub env: Vec<(String, Word)>,
    pub redirects: Vec<Redirect>,
    pub stdin: Option<Feed>,
    pub span: Range<usize>,
    pub cwd: Cwd,
    /// Unwrapping steps that led here, outermost first.
    pub steps: Vec<String>,
    /// Runs on this remote host (`ssh host 'cmd'`).
    pub remote: Option<String>,
    pub concern: Option<Concern>,
    /// Files written earlier in the same command string with known content.
    pub files: BTreeMap<String, String>,
}

impl Invocation {
    /// The argument words after the program.
    pub fn args(&self) -> &[Word] {
        &self.argv[1..]
    }

    /// The argv as display strings (env-map values are never inlined).
    pub fn argv_text(&self) -> Vec<String> {
        self.argv.iter().map(|w| w.text.clone()).collect()
    }
}

/// Where re-parsed code runs: the invocation's cwd, remote host and environment.
#[derive(Clone, Copy)]
struct Scope<'x> {
    cwd: &'x Cwd,
    remote: Option<&'x str>,
    env: &'x [(String, Word)],
}

impl<'x> Scope<'x> {
    fn of(inv: &'x Invocation) -> Scope<'x> {
        Scope {
            cwd: &inv.cwd,
            remote: inv.remote.as_deref(),
            env: &inv.env,
        }
    }
}

/// The result of unwrapping one command string.
#[derive(Debug, Clone, Default)]
pub struct Unwrapped {
    pub invocations: Vec<Invocation>,
    pub incomplete: bool,
    pub notes: Vec<String>,
}

/// Normalises a program word: basename, strip `.exe`, lowercase.
pub fn program_name(word: &str) -> String {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    base.to_ascii_lowercase()
}

/// Programs whose arguments are data, never code: the unknown-wrapper heuristic skips them.
const DATA_PROGRAMS: &[&str] = &[
    "echo", "printf", "grep", "egrep", "fgrep", "rg", "ag", "ack", "sed", "awk", "man", "which",
    "type", "whatis", "apropos", "help", "info", "tldr", "cat", "less", "more", "head", "tail",
    "wc", "sort", "uniq", "cut", "tee", "jq", "yq", "ls", "stat", "file", "test", "[", "[[",
    "true", "false", "cd", "pushd", "popd", "export", "read", "set", "unset", "alias", "printenv",
    "basename", "dirname", "realpath", "readlink", "date", "sleep", "wait", "history", "diff",
    "touch", "mkdir", "pwd", "whoami", "id", "hostname", "uname", "column", "tr", "base64", "xxd",
    "od", "hexdump", "strings", "nl", "fold", "fmt", "tac", "rev", "paste", "join", "comm",
    "expand", "seq", "yes", "tput", "clear", "reset", "complete", "compgen", "hash", "getopts",
    "shift", "return", "exit", "break", "continue", "local", "declare", "readonly", "let", "trap",
    "ulimit", "umask", "source", ".",
];

/// Programs that run code or other programs given in their arguments (wrappers, shells,
/// interpreters): the unknown-wrapper heuristic also looks for these.
const CODE_CARRIERS: &[&str] = &[
    "sudo",
    "doas",
    "run0",
    "pkexec",
    "su",
    "runuser",
    "env",
    "command",
    "builtin",
    "exec",
    "nohup",
    "time",
    "timeout",
    "nice",
    "ionice",
    "stdbuf",
    "setsid",
    "flock",
    "strace",
    "ltrace",
    "taskset",
    "chrt",
    "unshare",
    "nsenter",
    "chroot",
    "busybox",
    "toybox",
    "watch",
    "xargs",
    "parallel",
    "find",
    "eval",
    "source",
    "ssh",
    "script",
    "npx",
    "bunx",
    "python",
    "python3",
    "node",
    "perl",
    "ruby",
    "php",
    "powershell",
    "pwsh",
    "cmd",
];

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "yash", "posh", "fish", "tcsh", "csh",
    "rbash", "lksh", "oksh", "loksh",
];

/// Walks parsed commands and unwraps them.
pub struct Unwrapper<'a> {
    pub env: &'a ParseEnv<'a>,
    /// Whether the packs know a program name (after alias resolution): the unknown-wrapper
    /// heuristic looks for known programs in an unknown program's arguments.
    pub known: &'a dyn Fn(&str) -> bool,
    pub out: Unwrapped,
    /// Known files of the invocation being unwrapped (seeded into re-parses).
    files: BTreeMap<String, String>,
}

impl<'a> Unwrapper<'a> {
    /// Starts an unwrapper over the given env and known-program test.
    pub fn new(env: &'a ParseEnv<'a>, known: &'a dyn Fn(&str) -> bool) -> Unwrapper<'a> {
        Unwrapper {
            env,
            known,
            out: Unwrapped::default(),
            files: BTreeMap::new(),
        }
    }

    /// Parses and unwraps a whole command string.
    pub fn command_string(mut self, src: &str) -> Unwrapped {
        let script = parse::parse(src, self.env);
        self.script(script, &[], None, 0);
        self.out
    }

    /// Unwraps an argv given directly (exec gate, PATH shim): no shell parsing of the whole.
    pub fn argv(mut self, argv: &[String]) -> Unwrapped {
        let end = argv.iter().map(|a| a.len() + 1).sum::<usize>();
        let words: Vec<Word> = argv.iter().map(|a| Word::lit(a.clone(), 0..end)).collect();
        if !words.is_empty() {
            let cmd = SimpleCommand {
                assignments: Vec::new(),
                words,
                redirects: Vec::new(),
                stdin: None,
                span: 0..end,
                cwd: Cwd::Ambient,
                via: Vec::new(),
                files: BTreeMap::new(),
            };
            self.simple(cmd, &[], None, 0, &ShellState::default());
        }
        self.out
    }

    fn script(&mut self, script: Script, steps: &[String], remote: Option<&str>, depth: usize) {
        self.out.incomplete |= script.incomplete;
        for (reason, span) in &script.alarms {
            self.out.invocations.push(Invocation {
                argv: vec![Word::lit(":", span.clone())],
                program: ":".into(),
                env: Vec::new(),
                redirects: Vec::new(),
                stdin: None,
                span: span.clone(),
                cwd: Cwd::Ambient,
                steps: steps.to_vec(),
                remote: remote.map(str::to_string),
                concern: Some(Concern {
                    decision: Decision::Deny,
                    reason: reason.clone(),
                }),
                files: BTreeMap::new(),
            });
        }
        self.out.notes.extend(script.notes);
        let state = ShellState::default();
        for cmd in script.commands {
            self.simple(cmd, steps, remote, depth, &state);
        }
    }

    /// Re-parses `text` (code found in an argument) and unwraps what it runs.
    fn nested(
        &mut self,
        text: &str,
        span: Range<usize>,
        scope: Scope<'_>,
        steps: &[String],
        depth: usize,
    ) {
        let Scope { cwd, remote, env } = scope;
        if depth > parse::MAX_DEPTH {
            self.fail_depth();
            return;
        }
        let mut st = ShellState {
            cwd: cwd.clone(),
            exported: env.iter().cloned().collect(),
            files: self.files.clone(),
            ..ShellState::default()
        };
        let mut script = Script::default();
        parse::parse_nested(text, self.env, &mut st, span, depth + 1, &mut script);
        self.script(script, steps, remote, depth + 1);
    }

    fn fail_depth(&mut self) {
        self.out.incomplete = true;
        self.out.notes.push(format!(
            "unwrapping nested deeper than {} levels",
            parse::MAX_DEPTH
        ));
    }

    fn simple(
        &mut self,
        cmd: SimpleCommand,
        steps: &[String],
        remote: Option<&str>,
        depth: usize,
        _st: &ShellState,
    ) {
        let mut steps = steps.to_vec();
        steps.extend(cmd.via.iter().cloned());
        let inv = Invocation {
            program: String::new(),
            argv: cmd.words,
            env: cmd.assignments,
            redirects: cmd.redirects,
            stdin: cmd.stdin,
            span: cmd.span,
            cwd: cmd.cwd,
            steps,
            remote: remote.map(str::to_string),
            concern: None,
            files: cmd.files,
        };
        self.invocation(inv, depth);
    }

    /// Emits `inv` after unwrapping any wrapper at its front.
    fn invocation(&mut self, mut inv: Invocation, depth: usize) {
        if depth > parse::MAX_DEPTH {
            self.fail_depth();
            return;
        }
        // Leading `VAR=value` words (after `env`, `sudo` …) are assignments.
        while inv.argv.len() > 1 && is_assignment(&inv.argv[0]) {
            let w = inv.argv.remove(0);
            if let Some((k, v)) = w.text.split_once('=') {
                let mut val = w.clone();
                val.text = v.to_string();
                val.env_text = w
                    .env_text
                    .as_ref()
                    .and_then(|e| e.split_once('=').map(|x| x.1.to_string()));
                inv.env.retain(|(n, _)| n != k);
                inv.env.push((k.to_string(), val));
            }
        }
        self.files.clone_from(&inv.files);
        let Some(first) = inv.argv.first() else {
            return;
        };
        if first.dynamic {
            inv.program = program_name(&first.text);
            inv.concern = Some(Concern {
                decision: Decision::Confirm,
                reason: format!("the command name `{}` is computed at run time", first.text),
            });
            self.out.invocations.push(inv);
            return;
        }
        inv.program = program_name(first.expanded());
        let program = inv.program.clone();
        match wrapper(&program, &inv) {
            Unwrap::None => self.leaf(inv, depth),
            Unwrap::Rest { index, step, env } => {
                if index >= inv.argv.len() {
                    self.leaf(inv, depth);
                    return;
                }
                let mut inner = inv.clone();
                inner.argv = inv.argv[index..].to_vec();
                inner.env.extend(env);
                inner.steps.push(step);
                self.invocation(inner, depth + 1);
            }
            Unwrap::Script {
                text,
                span,
                step,
                dynamic,
            } => {
                let mut steps = inv.steps.clone();
                steps.push(step.clone());
                // Computed code is confirmed, and its literal part is still evaluated (the
                // stricter of the two wins).
                self.nested(&text, span, Scope::of(&inv), &steps, depth);
                if dynamic {
                    inv.concern = Some(Concern {
                        decision: Decision::Confirm,
                        reason: format!("{step}: the code is computed at run time"),
                    });
                    self.out.invocations.push(inv);
                }
            }
            Unwrap::Remote { host, text, span } => {
                let mut steps = inv.steps.clone();
                steps.push(format!("ssh: the remote command runs on {host}"));
                match text {
                    Some((t, false)) => self.nested(
                        &t,
                        span,
                        Scope {
                            cwd: &Cwd::Unknown,
                            remote: Some(&host),
                            env: &[],
                        },
                        &steps,
                        depth,
                    ),
                    Some((_, true)) => {
                        inv.concern = Some(Concern {
                            decision: Decision::Confirm,
                            reason: format!(
                                "the remote command for {host} is computed at run time"
                            ),
                        });
                        inv.remote = Some(host);
                        self.out.invocations.push(inv);
                    }
                    None => {
                        inv.remote = Some(host);
                        self.out.invocations.push(inv);
                    }
                }
            }
            Unwrap::Lookup => {
                // `command -v x`, `type x`: a lookup, nothing runs.
                self.out.invocations.push(inv);
            }
        }
    }

    /// An invocation that is not a wrapper: handle code-carrying programs, then emit it.
    fn leaf(&mut self, mut inv: Invocation, depth: usize) {
        let program = inv.program.clone();
        if SHELLS.contains(&program.as_str()) || program == "busybox-sh" {
            self.shell(inv, depth);
            return;
        }
        match program.as_str() {
            "eval" => {
                let dynamic = inv.args().iter().any(|w| w.dynamic);
                let text = inv
                    .args()
                    .iter()
                    .map(|w| w.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut steps = inv.steps.clone();
                steps.push("eval: evaluating its arguments as shell code".into());
                self.nested(&text, inv.span.clone(), Scope::of(&inv), &steps, depth);
                if dynamic {
                    inv.concern = Some(Concern {
                        decision: Decision::Confirm,
                        reason: "eval runs text computed at run time".into(),
                    });
                    self.out.invocations.push(inv);
                }
                return;
            }
            "source" | "." => {
                self.script_file(inv, 1, depth);
                return;
            }
            "find" => self.find(&inv, depth),
            "xargs" => {
                self.xargs(&inv, depth);
                return;
            }
            "parallel" => {
                self.parallel(&inv, depth);
                return;
            }
            "git" => self.git_alias(&inv, depth),
            "docker" | "podman" | "nerdctl" | "kubectl" | "oc" | "k" => {
                self.container_exec(&inv, depth)
            }
            "python" | "python2" | "python3" | "pypy" | "pypy3" | "node" | "nodejs" | "deno"
            | "bun" | "perl" | "ruby" | "php" | "lua" | "rscript" => {
                self.interpreter(&mut inv, depth);
            }
            p if p.starts_with("python3.") || p.starts_with("python2.") => {
                self.interpreter(&mut inv, depth);
            }
            _ => {
                if !(self.known)(&program)
                    && !DATA_PROGRAMS.contains(&program.as_str())
                    && let Some(i) = inv.args().iter().position(|w| {
                        let name = program_name(&w.text);
                        !w.dynamic
                            && !w.text.starts_with('-')
                            && ((self.known)(&name)
                                || SHELLS.contains(&name.as_str())
                                || CODE_CARRIERS.contains(&name.as_str()))
                    })
                {
                    let mut inner = inv.clone();
                    inner.argv = inv.argv[i + 1..].to_vec();
                    inner.steps.push(format!(
                        "unknown program `{program}` may be a wrapper: also evaluating `{}`",
                        inner.argv_text().join(" ")
                    ));
                    self.invocation(inner, depth + 1);
                }
            }
        }
        self.out.invocations.push(inv);
    }

    /// `sh`/`bash`/… : `-c SCRIPT`, a script file, or stdin.
    fn shell(&mut self, mut inv: Invocation, depth: usize) {
        let args = inv.args().to_vec();
        let mut has_c = false;
        let mut noexec = false;
        let mut stdin_script = false;
        let mut i = 0;
        let mut positional = None;
        while i < args.len() {
            let t = args[i].text.as_str();
            if t == "--" {
                positional = (i + 1 < args.len()).then_some(i + 1);
                break;
            }
            if matches!(t, "-o" | "+o" | "-O" | "+O" | "--rcfile" | "--init-file") {
                i += 2;
                continue;
            }
            if let Some(flags) = t
                .strip_prefix('-')
                .filter(|f| !f.is_empty() && !f.starts_with('-'))
            {
                has_c |= flags.contains('c');
                noexec |= flags.contains('n');
                stdin_script |= flags.contains('s');
            } else if t == "--command" || t == "-Command" {
                has_c = true;
            } else if !t.starts_with("--") && !t.starts_with('+') {
                positional = Some(i);
                break;
            }
            i += 1;
        }
        if noexec {
            // `bash -n file`: a syntax check, nothing runs.
            self.out.invocations.push(inv);
            return;
        }
        if has_c {
            match positional.map(|p| &args[p]) {
                Some(w) if w.dynamic => {
                    let mut steps = inv.steps.clone();
                    steps.push(format!(
                        "{} -c: evaluating the literal part of the script",
                        inv.program
                    ));
                    self.nested(&w.text, w.span.clone(), Scope::of(&inv), &steps, depth);
                    inv.concern = Some(Concern {
                        decision: Decision::Confirm,
                        reason: format!("{} -c runs code computed at run time", inv.program),
                    });
                    self.out.invocations.push(inv);
                }
                Some(w) => {
                    let mut steps = inv.steps.clone();
                    steps.push(format!(
                        "{} -c: evaluating the script argument",
                        inv.program
                    ));
                    self.nested(&w.text, w.span.clone(), Scope::of(&inv), &steps, depth);
                }
                None => self.out.invocations.push(inv),
            }
            return;
        }
        if let Some(p) = positional.filter(|_| !stdin_script) {
            self.script_file(inv, p + 1, depth);
            return;
        }
        match inv.stdin.clone() {
            Some(Feed::Literal(text)) => {
                let mut steps = inv.steps.clone();
                steps.push(format!("{} reads its script from stdin", inv.program));
                self.nested(&text, inv.span.clone(), Scope::of(&inv), &steps, depth);
            }
            Some(Feed::Unknown(from)) => {
                inv.concern = Some(Concern {
                    decision: Decision::Confirm,
                    reason: format!("{} runs code it reads from {from}", inv.program),
                });
                self.out.invocations.push(inv);
            }
            None => self.out.invocations.push(inv),
        }
    }

    /// Runs a script file (`bash f.sh`, `source f`): known content is evaluated, unknown warns.
    fn script_file(&mut self, mut inv: Invocation, index: usize, depth: usize) {
        let Some(file) = inv.argv.get(index).cloned() else {
            self.out.invocations.push(inv);
            return;
        };
        if file.dynamic {
            inv.concern = Some(Concern {
                decision: Decision::Confirm,
                reason: format!(
                    "runs a script from a path computed at run time ({})",
                    file.text
                ),
            });
            self.out.invocations.push(inv);
            return;
        }
        let known = self.known_file(&inv, &file.text);
        match known {
            Some(text) => {
                let mut steps = inv.steps.clone();
                steps.push(format!(
                    "runs {} written earlier in this command",
                    file.text
                ));
                self.nested(&text, inv.span.clone(), Scope::of(&inv), &steps, depth);
            }
            None => {
                inv.concern = Some(Concern {
                    decision: Decision::Warn,
                    reason: format!(
                        "runs the script {} whose contents overwatch cannot see",
                        file.text
                    ),
                });
                self.out.invocations.push(inv);
            }
        }
    }

    fn known_file(&self, inv: &Invocation, path: &str) -> Option<String> {
        inv.files.get(path).cloned()
    }

    /// `find … -exec CMD {} ;` / `-execdir` / `-ok` / `-okdir`.
    fn find(&mut self, inv: &Invocation, depth: usize) {
        let args = inv.args();
        let starts: Vec<&Word> = args
            .iter()
            .skip_while(|w| matches!(w.text.as_str(), "-H" | "-L" | "-P"))
            .take_while(|w| !w.text.starts_with('-') && !matches!(w.text.as_str(), "(" | "!"))
            .collect();
        let root = match starts.as_slice() {
            [one] if !one.dynamic => Some(one.text.clone()),
            _ => None,
        };
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            if matches!(t, "-exec" | "-execdir" | "-ok" | "-okdir") {
                let start = i + 1;
                let mut end = start;
                while end < args.len() && !matches!(args[end].text.as_str(), ";" | "+") {
                    end += 1;
                }
                if end > start {
                    let mut inner = inv.clone();
                    inner.argv = args[start..end]
                        .iter()
                        .map(|w| {
                            if w.text.contains("{}") {
                                // The match lies under the start point: `{}` from `find /srv`
                                // is somewhere in /srv.
                                let text = match &root {
                                    Some(r) if w.text == "{}" => {
                                        format!("{}/{{}}", r.trim_end_matches('/'))
                                    }
                                    _ => w.text.clone(),
                                };
                                Word {
                                    text,
                                    dynamic: true,
                                    ..w.clone()
                                }
                            } else {
                                w.clone()
                            }
                        })
                        .collect();
                    inner.stdin = None;
                    inner.steps.push(format!(
                        "find {t}: runs `{}` on each match",
                        inner.argv_text().join(" ")
                    ));
                    self.invocation(inner, depth + 1);
                }
                i = end + 1;
                continue;
            }
            i += 1;
        }
    }

    /// `xargs [opts] CMD ARGS…`: CMD runs with input items appended (or at `-I` markers).
    fn xargs(&mut self, inv: &Invocation, depth: usize) {
        const VALUES: &[&str] = &[
            "-I",
            "-n",
            "-P",
            "-d",
            "-L",
            "-s",
            "-E",
            "-a",
            "-l",
            "-e",
            "--max-args",
            "--max-procs",
            "--delimiter",
            "--replace",
            "--arg-file",
            "--max-lines",
            "--max-chars",
            "--eof",
            "--process-slot-var",
        ];
        let args = inv.args();
        let (idx, opts) = skip_options(args, VALUES);
        let replace = opts.iter().find_map(|(o, v)| match o.as_str() {
            "-I" | "--replace" => Some(v.clone().unwrap_or_else(|| "{}".into())),
            "-i" => Some("{}".into()),
            _ => None,
        });
        let mut inner = inv.clone();
        inner.stdin = None;
        let input = Word {
            text: "{input}".into(),
            env_text: None,
            dynamic: true,
            span: inv.span.clone(),
        };
        if idx >= args.len() {
            // Bare `xargs` runs echo.
            self.out.invocations.push(inv.clone());
            return;
        }
        inner.argv = args[idx..].to_vec();
        match &replace {
            Some(r) => {
                for w in inner.argv.iter_mut().skip(1) {
                    if w.text.contains(r.as_str()) {
                        w.dynamic = true;
                    }
                }
            }
            None => inner.argv.push(input),
        }
        inner.steps.push(format!(
            "xargs: runs `{}` with input items as arguments",
            inner.argv_text().join(" ")
        ));
        self.invocation(inner, depth + 1);
    }

    /// `parallel [opts] CMD ::: inputs`.
    fn parallel(&mut self, inv: &Invocation, depth: usize) {
        const VALUES: &[&str] = &[
            "-j",
            "--jobs",
            "-S",
            "--sshlogin",
            "--joblog",
            "--results",
            "-a",
            "--arg-file",
            "--delay",
            "--timeout",
            "--retries",
            "--tmpdir",
            "-d",
            "--colsep",
            "-N",
            "-n",
            "-L",
            "--env",
            "-I",
        ];
        let args = inv.args();
        let (idx, _) = skip_options(args, VALUES);
        let sep = args.iter().position(|w| w.text.starts_with(":::"));
        let end = sep.unwrap_or(args.len());
        if idx >= end {
            self.out.invocations.push(inv.clone());
            return;
        }
        let cmd = &args[idx..end];
        let inputs: Vec<Word> = match sep {
            Some(s) => args[s + 1..]
                .iter()
                .filter(|w| !w.text.starts_with(":::"))
                .cloned()
                .collect(),
            None => vec![Word {
                text: "{input}".into(),
                env_text: None,
                dynamic: true,
                span: inv.span.clone(),
            }],
        };
        let step = "parallel: runs the command once per input".to_string();
        if cmd.len() == 1 && cmd[0].text.contains(char::is_whitespace) {
            let mut steps = inv.steps.clone();
            steps.push(step);
            for input in &inputs {
                let text = cmd[0].text.replace("{}", &parse::shell_quote(&input.text));
                self.nested(&text, cmd[0].span.clone(), Scope::of(inv), &steps, depth);
            }
            return;
        }
        let mut inner = inv.clone();
        inner.stdin = None;
        inner.argv = cmd.to_vec();
        if cmd.iter().any(|w| w.text.contains("{}")) {
            for w in inner.argv.iter_mut() {
                if w.text.contains("{}") {
                    *w = match inputs.first() {
                        Some(i) if inputs.len() == 1 => Word {
                            text: w.text.replace("{}", &i.text),
                            ..i.clone()
                        },
                        _ => Word {
                            dynamic: true,
                            ..w.clone()
                        },
                    };
                }
            }
            if inputs.len() > 1 {
                inner.argv.extend(inputs.iter().cloned());
            }
        } else {
            inner.argv.extend(inputs);
        }
        inner.steps.push(step);
        self.invocation(inner, depth + 1);
    }

    /// `docker exec C cmd…`, `docker compose exec S cmd…`, `kubectl exec POD -- cmd…`: the command
    /// runs inside a container; it is evaluated too (the container command itself is also kept).
    fn container_exec(&mut self, inv: &Invocation, depth: usize) {
        let args = inv.args();
        let start = match inv.program.as_str() {
            "kubectl" | "oc" | "k" => {
                let Some(dd) = args.iter().position(|w| w.text == "--") else {
                    return;
                };
                if !args[..dd].iter().any(|w| w.text == "exec") {
                    return;
                }
                dd + 1
            }
            _ => {
                let (sub_at, values): (usize, &[&str]) = match args.first().map(|w| w.text.as_str())
                {
                    Some("exec") => (
                        1,
                        &[
                            "-e",
                            "--env",
                            "-u",
                            "--user",
                            "-w",
                            "--workdir",
                            "--detach-keys",
                            "--env-file",
                        ],
                    ),
                    Some("compose")
                        if args
                            .get(1)
                            .is_some_and(|w| matches!(w.text.as_str(), "exec" | "run")) =>
                    {
                        (
                            2,
                            &[
                                "-e",
                                "--env",
                                "-u",
                                "--user",
                                "-w",
                                "--workdir",
                                "--index",
                                "--name",
                                "--entrypoint",
                                "-p",
                                "--publish",
                                "-v",
                                "--volume",
                                "-l",
                                "--label",
                            ],
                        )
                    }
                    _ => return,
                };
                let tail = &args[sub_at..];
                let (i, _) = skip_options(tail, values);
                sub_at + i + 1
            }
        };
        if start >= args.len() {
            return;
        }
        let mut inner = inv.clone();
        inner.argv = args[start..].to_vec();
        inner.stdin = None;
        inner.steps.push(format!(
            "{} exec: runs `{}` inside a container",
            inv.program,
            inner.argv_text().join(" ")
        ));
        self.invocation(inner, depth + 1);
    }

    /// `git config alias.NAME VALUE` and `git -c alias.NAME=VALUE`: the alias body is code.
    fn git_alias(&mut self, inv: &Invocation, depth: usize) {
        let args = inv.args();
        let mut bodies = Vec::new();
        for (i, w) in args.iter().enumerate() {
            if let Some(rest) = w.text.strip_prefix("alias.") {
                if let Some((_, body)) = rest.split_once('=') {
                    if i > 0 && args[i - 1].text == "-c" {
                        bodies.push((body.to_string(), w.clone()));
                    }
                } else if let Some(v) = args.get(i + 1) {
                    bodies.push((v.text.clone(), v.clone()));
                }
            }
        }
        for (body, word) in bodies {
            let (text, step) = match body.strip_prefix('!') {
                Some(sh) => (
                    sh.to_string(),
                    "git alias definition: a shell command".to_string(),
                ),
                None => (
                    format!("git {body}"),
                    format!("git alias definition: `git {body}`"),
                ),
            };
            if word.dynamic {
                let mut c = inv.clone();
                c.concern = Some(Concern {
                    decision: Decision::Confirm,
                    reason: "a git alias is defined from text computed at run time".into(),
                });
                self.out.invocations.push(c);
                continue;
            }
            let mut steps = inv.steps.clone();
            steps.push(step);
            self.nested(&text, word.span.clone(), Scope::of(inv), &steps, depth);
        }
    }

    /// `python -c`, `node -e`, `perl -e`, `ruby -e`, `php -r`: what the code spawns or deletes.
    fn interpreter(&mut self, inv: &mut Invocation, depth: usize) {
        let program = inv.program.clone();
        let code_opts: &[&str] = match program.as_str() {
            "node" | "nodejs" | "bun" => &["-e", "--eval", "-p", "--print"],
            "deno" => &["eval"],
            "php" => &["-r"],
            "perl" => &["-e", "-E"],
            "lua" => &["-e"],
            "rscript" => &["-e"],
            "ruby" => &["-e"],
            _ => &["-c"],
        };
        let args = inv.args().to_vec();
        let mut code: Option<Word> = None;
        let mut script_at: Option<usize> = None;
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            if code_opts.contains(&t) {
                code = args.get(i + 1).cloned();
                break;
            }
            // Bundles ending in the code flag: `perl -pe`, `perl -i.bak -ne` (the last char).
            if matches!(program.as_str(), "perl" | "ruby")
                && t.starts_with('-')
                && !t.starts_with("--")
                && t.ends_with('e')
                && t.len() > 2
                && !t.contains('.')
            {
                code = args.get(i + 1).cloned();
                break;
            }
            if program.starts_with("python") && t.starts_with("-c") && t.len() > 2 {
                let mut w = args[i].clone();
                w.text = t[2..].to_string();
                code = Some(w);
                break;
            }
            if program.starts_with("python") && matches!(t, "-W" | "-X" | "-Q") {
                i += 2;
                continue;
            }
            if program.starts_with("python") && t == "-m" {
                break;
            }
            if !t.starts_with('-') && program != "deno" {
                script_at = Some(i);
                break;
            }
            i += 1;
        }
        if code.is_none()
            && let Some(at) = script_at
            && !args[at].dynamic
        {
            // `python manage.py flush`, `php artisan migrate:fresh`: the script is the program.
            let mut inner = inv.clone();
            inner.argv = args[at..].to_vec();
            inner
                .steps
                .push(format!("{program} runs the script {}", args[at].text));
            inner.concern = None;
            self.invocation(inner, depth + 1);
            return;
        }
        let from_stdin =
            code.is_none() && !args.iter().any(|w| !w.text.starts_with('-')) && inv.stdin.is_some();
        let (text, span) = match (code, from_stdin) {
            (Some(w), _) if w.dynamic => {
                inv.concern = Some(Concern {
                    decision: Decision::Confirm,
                    reason: format!("{program} runs inline code computed at run time"),
                });
                return;
            }
            (Some(w), _) => (w.text.clone(), w.span.clone()),
            (None, true) => match inv.stdin.clone() {
                Some(Feed::Literal(t)) => (t, inv.span.clone()),
                Some(Feed::Unknown(from)) => {
                    inv.concern = Some(Concern {
                        decision: Decision::Confirm,
                        reason: format!("{program} runs code it reads from {from}"),
                    });
                    return;
                }
                None => return,
            },
            (None, false) => return,
        };
        for found in inline_code(&text) {
            let mut steps = inv.steps.clone();
            match found {
                Inline::Shell(script) => {
                    steps.push(format!("{program} inline code runs a shell command"));
                    self.nested(&script, span.clone(), Scope::of(inv), &steps, depth);
                }
                Inline::Argv(argv, what) => {
                    steps.push(format!("{program} inline code: {what}"));
                    let mut inner = inv.clone();
                    inner.argv = argv
                        .into_iter()
                        .map(|a| Word::lit(a, span.clone()))
                        .collect();
                    inner.stdin = None;
                    inner.steps = steps;
                    inner.concern = None;
                    self.invocation(inner, depth + 1);
                }
                Inline::Opaque(what) => {
                    inv.concern = Some(Concern {
                        decision: Decision::Confirm,
                        reason: format!(
                            "{program} inline code {what} with arguments overwatch cannot read"
                        ),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> Vec<String> {
        let known = |name: &str| ["git", "rm", "kubectl"].contains(&name);
        let env = ParseEnv::default();
        Unwrapper::new(&env, &known)
            .command_string(src)
            .invocations
            .iter()
            .map(|i| i.argv_text().join(" "))
            .collect()
    }

    #[test]
    fn a_non_ascii_option_is_not_sliced() {
        // Found by the fuzz smoke: `-éu` after a wrapper whose options take values (`sudo -u`)
        // was cut at byte 2, inside `é`.
        for src in ["sudo -éu rm -rf /", "sudo -é rm", "env -é x"] {
            let _ = run(src);
        }
        assert_eq!(run("sudo -uroot rm -rf /tmp/x"), ["rm -rf /tmp/x"]);
    }

    #[test]
    fn wrappers_are_removed() {
        for (src, want) in [
            ("sudo -u deploy rm -rf /var/www/app", "rm -rf /var/www/app"),
            ("sudo -- rm -rf /etc/nginx", "rm -rf /etc/nginx"),
            ("env FOO=1 kubectl delete ns prod", "kubectl delete ns prod"),
            ("env -S 'rm -rf /var/lib/app'", "rm -rf /var/lib/app"),
            ("timeout 30 rm -rf /home/alice", "rm -rf /home/alice"),
            ("timeout -s KILL 30s rm -rf /x", "rm -rf /x"),
            ("flock /tmp/lock rm -rf /srv/app", "rm -rf /srv/app"),
            ("unshare -r rm -rf ~/work", "rm -rf ~/work"),
            ("busybox rm -rf /mnt/backup", "rm -rf /mnt/backup"),
            ("strace -f -o /tmp/t rm -rf /x", "rm -rf /x"),
            ("taskset -c 0 rm -rf /x", "rm -rf /x"),
            ("nice -n 10 ionice -c 3 rm -rf /x", "rm -rf /x"),
            ("command rm -rf ~/projects", "rm -rf ~/projects"),
            ("su -c 'rm -rf /srv/data' root", "rm -rf /srv/data"),
            (
                "bash -ec 'kubectl delete namespace payments'",
                "kubectl delete namespace payments",
            ),
            ("/bin/zsh -lc 'git clean -fdx'", "git clean -fdx"),
            (
                "ssh prod-db 'sudo rm -rf /var/lib/postgresql'",
                "rm -rf /var/lib/postgresql",
            ),
            ("watch -n 5 kubectl delete pod x", "kubectl delete pod x"),
            (
                "npx prisma migrate reset --force",
                "prisma migrate reset --force",
            ),
            ("cmd /c rd /s /q C:\\Users\\dev", "rd /s /q C:Usersdev"),
        ] {
            let got = run(src);
            assert!(got.iter().any(|g| g == want), "{src}: {got:?}");
        }
    }

    #[test]
    fn command_v_is_a_lookup() {
        assert_eq!(run("command -v rm"), vec!["command -v rm"]);
    }

    #[test]
    fn unknown_wrapper_is_looked_through() {
        assert!(
            run("with-retry 3 git push --force origin main")
                .iter()
                .any(|g| g == "git push --force origin main")
        );
        assert_eq!(run("mytool status").len(), 1);
    }

    #[test]
    fn find_xargs_parallel() {
        assert!(
            run("find . -exec rm -rf {} +")
                .iter()
                .any(|g| g == "rm -rf ./{}")
        );
        assert!(
            run("ls | xargs rm -rf")
                .iter()
                .any(|g| g == "rm -rf {input}")
        );
        assert!(
            run("xargs sh -c 'rm -rf \"$1\"' _ < t")
                .iter()
                .any(|g| g.starts_with("rm -rf"))
        );
        assert!(
            run("parallel rm -rf ::: /srv/a /srv/b")
                .iter()
                .any(|g| g == "rm -rf /srv/a /srv/b")
        );
    }

    #[test]
    fn inline_interpreter_code() {
        assert!(
            run("python3 -c \"import shutil; shutil.rmtree('/home/alice')\"")
                .iter()
                .any(|g| g == "rm -rf -- /home/alice")
        );
        assert!(
            run("perl -e 'system(\"rm -rf /srv\")'")
                .iter()
                .any(|g| g == "rm -rf /srv")
        );
        assert!(
            run("python3 -c 'import subprocess; subprocess.run([\"git\",\"push\",\"-f\"])'")
                .iter()
                .any(|g| g == "git push -f")
        );
        assert_eq!(inline_code("console.log('DROP DATABASE')"), vec![]);
    }

    #[test]
    fn python_identifiers_are_read_in_nfkc_form() {
        // Python 3 runs `ｏｓ.ｓｙｓｔｅｍ(...)` (fullwidth letters) as `os.system(...)`.
        assert!(
            run("python3 -c \"import os; ｏｓ.ｓｙｓｔｅｍ('rm -rf ~')\"")
                .iter()
                .any(|g| g == "rm -rf ~")
        );
        assert!(
            run("python3 -c \"import shutil; ｓｈｕｔｉｌ.ｒｍｔｒｅｅ('/home/alice')\"")
                .iter()
                .any(|g| g == "rm -rf -- /home/alice")
        );
        // Mathematical letters normalize too; a computed argument still fails closed.
        assert_eq!(
            inline_code("import os; 𝐨𝐬.𝐬𝐲𝐬𝐭𝐞𝐦(cmd)"),
            vec![Inline::Opaque("calls os.system".into())]
        );
        // Non-ASCII data with nothing to run stays harmless.
        assert_eq!(inline_code("print('ｒｍ -rf ~ 日本語')"), vec![]);
    }

    #[test]
    fn git_alias_definitions_are_code() {
        assert!(
            run("git config alias.tidy 'clean -fdx' && git tidy")
                .iter()
                .any(|g| g == "git clean -fdx")
        );
        assert!(
            run("git config --global alias.x '!rm -rf ~'")
                .iter()
                .any(|g| g == "rm -rf ~")
        );
    }
}
