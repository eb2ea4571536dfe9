//! Rules: TOML rule packs, shell parsing and unwrapping, per-command target resolution, decisions.
//!
//! Pipeline for one command string: [`parse`] (tree-sitter-bash → simple commands) →
//! [`unwrap`] (wrappers removed, hidden code re-parsed) → per invocation: [`target`] (what it
//! acts on and that target's tier) → [`matcher`] (indexed rules) → the strictest decision.
//! Packs: [`pack`] (schema, spans), [`layers`] (built-in < user < team < project, trust),
//! [`trust`] (SHA-256 records), [`sql`] (statement kinds), [`explain`] (human trace).
//!
//! **Invariant:** whatever cannot be resolved statically and could reach a guarded action is
//! `Confirm`, never `Allow` (fail closed); parser limits fail closed too.

pub mod explain;
pub mod fuzzing;
pub mod layers;
pub mod matcher;
pub mod pack;
pub mod parse;
pub mod sql;
pub mod target;
pub mod trust;
pub mod unwrap;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};

use crate::context::{Context, Fact, FactKind, Knowledge, ProbeEnv, Tier};

pub use layers::{Layer, PackInfo};
pub use pack::LoadError;

/// What to do with a command. Ordered by strictness, so the strictest of several is `max()`:
/// `Allow < Warn < Confirm < Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Warn,
    Confirm,
    Deny,
}

impl Decision {
    /// Lowercase name as used in packs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Warn => "warn",
            Decision::Confirm => "confirm",
            Decision::Deny => "deny",
        }
    }

    /// `overwatch check` exit code: 0 allow or warn, 10 confirm, 11 deny.
    pub fn exit_code(self) -> u8 {
        match self {
            Decision::Allow | Decision::Warn => 0,
            Decision::Confirm => 10,
            Decision::Deny => 11,
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where to load packs from. Built with `LoadOptions { …, ..LoadOptions::default() }`.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The user layer: a directory of `*.toml` (`~/.config/overwatch/rules/`).
    pub user_dir: Option<PathBuf>,
    /// The team layer: pack files or directories (config, `--rules`).
    pub team_paths: Vec<PathBuf>,
    /// The project layer: the project's `.overwatch/rules/` directory (untrusted until
    /// `overwatch rules trust`).
    pub project_dir: Option<PathBuf>,
    /// The trust file; `None` trusts no project pack.
    pub trust_file: Option<PathBuf>,
    /// Include the built-in packs.
    pub builtin: bool,
    /// Read the built-in packs from their TOML (embedded examples with exact locations, for
    /// `overwatch rules test` and `rules lint`) instead of their build-time compiled form, which
    /// has neither and loads several times faster.
    pub builtin_from_toml: bool,
}

impl LoadOptions {
    /// The standard layers for a working directory: built-ins, `~/.config/overwatch/rules/`,
    /// the given team paths, `<cwd>/.overwatch/rules/`, and the default trust file.
    pub fn standard(cwd: &Path, team_paths: Vec<PathBuf>) -> LoadOptions {
        LoadOptions {
            user_dir: dirs::config_dir().map(|d| d.join("overwatch").join("rules")),
            team_paths,
            project_dir: Some(cwd.join(".overwatch").join("rules")),
            trust_file: trust::default_path(),
            builtin: true,
            builtin_from_toml: false,
        }
    }
}

/// A command to evaluate: a shell string (agent hooks) or an argv (PATH shims, exec gate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandInput {
    Shell(String),
    Argv(Vec<String>),
}

/// What an evaluation may look at: the ambient context, the agent's env/home/cwd, and knowledge
/// (pins and probes from config and packs).
#[derive(Debug, Clone, Copy)]
pub struct EvalEnv<'a> {
    /// The ambient context; read it with [`EvalEnv::ambient`].
    pub ambient: &'a Ambient<'a>,
    pub probe: &'a ProbeEnv,
    pub knowledge: &'a Knowledge,
}

/// The ambient context of one evaluation: given by the caller, or detected from the
/// evaluation's [`ProbeEnv`] the first time a rule or target needs it.
///
/// Most commands never need it: a program with no target spec (`true`, `ls`, `cargo`) resolves
/// to this machine, and only rules with a `when` on a fact read it. Detection reads the
/// kubeconfig, AWS, gcloud and git files (`context::detect`), about a tenth of an
/// `overwatch check` process and most of what the exec gate spent per exec beyond reading the
/// task, so [`Ambient::OnFirstUse`] skips it for them. The result is the same as detecting up
/// front: the same probe, read during the same evaluation.
#[derive(Debug)]
pub enum Ambient<'a> {
    /// Known already (tests, `rules test` examples, a session's snapshot).
    Given(&'a Context),
    /// Detected with `context::detect(probe, knowledge)` on first use, then kept.
    OnFirstUse(std::cell::OnceCell<Context>),
}

impl Ambient<'_> {
    /// An ambient context detected when first needed.
    pub fn on_first_use() -> Self {
        Ambient::OnFirstUse(std::cell::OnceCell::new())
    }

    /// Whether the context has been detected (or was given): for tests and benches that check
    /// which evaluations needed it.
    pub fn is_known(&self) -> bool {
        match self {
            Ambient::Given(_) => true,
            Ambient::OnFirstUse(cell) => cell.get().is_some(),
        }
    }
}

impl<'a> EvalEnv<'a> {
    /// The ambient context, detecting it now if this is its first use.
    pub fn ambient(&self) -> &'a Context {
        match self.ambient {
            Ambient::Given(ctx) => ctx,
            Ambient::OnFirstUse(cell) => {
                cell.get_or_init(|| crate::context::detect(self.probe, self.knowledge))
            }
        }
    }
}

/// A file access by an agent tool (Write/Edit/Read) for [`Engine::evaluate_path`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathAccess {
    Read,
    Write,
}

/// The resolved target of one command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The family (`kube`, `aws`, …); `None` for commands that act on this machine.
    pub kind: Option<FactKind>,
    /// What a human must type to confirm a production action: kube context, AWS profile or
    /// account, workspace, DB host, ssh host, branch.
    pub name: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    pub tier: Tier,
    /// Why this target and tier (`"the command says --context prod-eu; name says production"`).
    pub reason: String,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FiredRule {
    pub id: String,
    pub pack: String,
    pub action: Decision,
    /// The rendered message, naming the target.
    pub message: String,
}

/// The verdict for one invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandVerdict {
    pub argv: Vec<String>,
    /// Byte range in the original string, for highlighting (`None` for argv input).
    pub span: Option<Range<usize>>,
    pub target: Target,
    pub tier: Tier,
    pub rules: Vec<FiredRule>,
    pub decision: Decision,
    /// The unwrapping steps that led to this invocation, for explain.
    pub unwrapped: Vec<String>,
}

/// The result of evaluating one command string or argv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub decision: Decision,
    pub commands: Vec<CommandVerdict>,
    /// Fail-closed reasons, parse errors, notes from loading.
    pub notes: Vec<String>,
}

impl Evaluation {
    /// The fired rule with the strictest action (first on ties), if any.
    pub fn strictest_rule(&self) -> Option<(&CommandVerdict, &FiredRule)> {
        let mut best: Option<(&CommandVerdict, &FiredRule)> = None;
        for c in &self.commands {
            for r in &c.rules {
                if best.is_none_or(|(_, b)| r.action > b.action) {
                    best = Some((c, r));
                }
            }
        }
        best
    }
}

/// A sensitive-path hit for the diff watcher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SensitiveMatch {
    pub id: String,
    pub pack: String,
    pub action: Decision,
    pub message: String,
}

/// A failing embedded example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule: String,
    pub pack: String,
    /// `file:line:column` of the example.
    pub location: String,
    pub command: String,
    pub should_match: bool,
    /// The decision and fired rules, for the report.
    pub got: String,
}

/// Candidate lookups a new engine answers by scanning the rules before it builds the index:
/// enough for a short-lived process's one command (a few simple commands after unwrapping),
/// few enough that a session's engine indexes within its first evaluations.
const SCANNED_LOOKUPS: usize = 8;

struct Inner {
    c: layers::Compiled,
    /// Built once [`SCANNED_LOOKUPS`] candidate lookups have been answered by scanning: a
    /// short-lived `check`, hook or shim evaluates one command, and scanning the rules' program
    /// lists for it costs a fraction of building the index (~0.8M instructions).
    index: OnceLock<matcher::Index>,
    /// Candidate lookups answered so far without the index.
    scanned: AtomicUsize,
    /// Lookups to answer by scanning before building the index (tests set it to force either).
    scan_limit: usize,
    /// Programs with confirm/deny rules (for PATH shims and the fail-closed scan); built on
    /// first use.
    guarded: OnceLock<BTreeSet<String>>,
    /// Built on first use: most commands never need the scan, and building it is ~10 % of a
    /// short-lived process's load time.
    guarded_ac: OnceLock<Option<AhoCorasick>>,
}

/// Compiled rule packs. `Send + Sync`; clones share one `Arc`.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("packs", &self.inner.c.packs.len())
            .field("rules", &self.inner.c.rules.len())
            .finish()
    }
}

impl Engine {
    /// Loads and compiles the packs of every layer. Errors carry file:line:column and a caret
    /// (syntax, unknown keys, bad regex or glob, unknown override, failing embedded example in a
    /// non-built-in pack). Missing directories are simply empty layers.
    pub fn load(opts: &LoadOptions) -> Result<Engine, LoadError> {
        let engine = Engine::load_unchecked(opts)?;
        if let Some(f) = engine.check_examples(false).into_iter().next() {
            let src = engine
                .inner
                .c
                .examples
                .iter()
                .find(|e| e.rule == f.rule && e.command == f.command)
                .and_then(|e| {
                    engine
                        .inner
                        .c
                        .sources
                        .get(e.source)
                        .map(|s| (s, e.span.clone()))
                });
            if let Some((s, span)) = src {
                return Err(LoadError::at(
                    s,
                    span,
                    format!(
                        "embedded example of rule `{}` fails: expected it {} but got {}",
                        f.rule,
                        if f.should_match {
                            "to match"
                        } else {
                            "not to match"
                        },
                        f.got
                    ),
                    "this example",
                ));
            }
        }
        Ok(engine)
    }

    /// Like [`Engine::load`] without running embedded examples (for `rules test`, which reports
    /// every failure instead of stopping at the first).
    pub fn load_unchecked(opts: &LoadOptions) -> Result<Engine, LoadError> {
        let trust = match &opts.trust_file {
            Some(p) => Some(trust::TrustFile::load(p)?),
            None => None,
        };
        let mut inputs = Vec::new();
        if opts.builtin {
            for source in pack::builtin_sources_with(!opts.builtin_from_toml) {
                inputs.push(layers::Input {
                    source,
                    layer: Layer::Builtin,
                    trusted: true,
                });
            }
        }
        let add_dir =
            |path: &Path, layer: Layer, inputs: &mut Vec<layers::Input>| -> Result<(), LoadError> {
                for p in pack::pack_paths(path)? {
                    let source = pack::read_pack(&p)?;
                    let trusted = layer != Layer::Project
                        || trust
                            .as_ref()
                            .is_some_and(|t| t.is_trusted(&p, &source.text));
                    inputs.push(layers::Input {
                        source,
                        layer,
                        trusted,
                    });
                }
                Ok(())
            };
        if let Some(d) = &opts.user_dir {
            add_dir(d, Layer::User, &mut inputs)?;
        }
        for p in &opts.team_paths {
            if !p.exists() {
                return Err(LoadError::Io {
                    path: p.display().to_string(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "no such file or directory",
                    ),
                });
            }
            add_dir(p, Layer::Team, &mut inputs)?;
        }
        if let Some(d) = &opts.project_dir {
            add_dir(d, Layer::Project, &mut inputs)?;
        }
        Ok(Engine::from_compiled(layers::compile(inputs)?))
    }

    /// Compiles packs given as text (tests, benches, generated packs). `layer` applies to all.
    pub fn from_sources(
        sources: Vec<pack::PackSource>,
        layer: Layer,
        with_builtin: bool,
    ) -> Result<Engine, LoadError> {
        let mut inputs = Vec::new();
        if with_builtin {
            for source in pack::builtin_sources() {
                inputs.push(layers::Input {
                    source,
                    layer: Layer::Builtin,
                    trusted: true,
                });
            }
        }
        for source in sources {
            inputs.push(layers::Input {
                source,
                layer,
                trusted: true,
            });
        }
        Ok(Engine::from_compiled(layers::compile(inputs)?))
    }

    fn from_compiled(c: layers::Compiled) -> Engine {
        Engine::with_scan_limit(c, SCANNED_LOOKUPS)
    }

    /// The engine over `c`, answering the first `scan_limit` candidate lookups by scanning.
    fn with_scan_limit(c: layers::Compiled, scan_limit: usize) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                c,
                index: OnceLock::new(),
                scanned: AtomicUsize::new(0),
                scan_limit,
                guarded: OnceLock::new(),
                guarded_ac: OnceLock::new(),
            }),
        }
    }

    /// Candidate rule indices for `program` and its first positional word, ascending: by
    /// scanning the rules until [`SCANNED_LOOKUPS`] lookups, then through the index (both give
    /// the same list; see `matcher::scan_candidates`).
    fn candidates(&self, program: &str, first: Option<&parse::Word>, out: &mut Vec<usize>) {
        let inner = &self.inner;
        let index = match inner.index.get() {
            Some(index) => index,
            None if inner.scanned.fetch_add(1, Ordering::Relaxed) < inner.scan_limit => {
                return matcher::scan_candidates(&inner.c.rules, program, first, out);
            }
            None => inner
                .index
                .get_or_init(|| matcher::Index::build(&inner.c.rules)),
        };
        index.candidates(program, first, out);
    }

    /// Whether the packs know `name` as a program: an alias, a `[[programs]]` entry, or a
    /// program some rule names literally.
    fn knows(&self, name: &str) -> bool {
        let c = &self.inner.c;
        c.aliases.contains_key(name)
            || c.programs.contains_key(name)
            || match self.inner.index.get() {
                Some(index) => index.programs.contains_key(name),
                // The index files literal names only; a glob-named program is not a name.
                None => c
                    .rules
                    .iter()
                    .any(|r| r.programs.iter().any(|p| p == name && !p.contains('*'))),
            }
    }

    fn guarded(&self) -> &BTreeSet<String> {
        self.inner.guarded.get_or_init(|| {
            let c = &self.inner.c;
            let mut guarded = BTreeSet::new();
            for r in &c.rules {
                if r.action >= Decision::Confirm {
                    for p in &r.programs {
                        if !p.contains('*') {
                            guarded.insert(p.to_string());
                        }
                    }
                }
            }
            for (alias, canon) in &c.aliases {
                if guarded.contains(canon) {
                    guarded.insert(alias.clone());
                }
            }
            guarded
        })
    }

    /// Tier pins and custom probes from every loaded pack (untrusted project packs filtered).
    pub fn knowledge(&self) -> Knowledge {
        Knowledge {
            pins: self.inner.c.pins.clone(),
            probes: self.inner.c.probes.clone(),
        }
    }

    /// The loaded packs (for `rules list` and the UI).
    pub fn packs(&self) -> &[PackInfo] {
        &self.inner.c.packs
    }

    /// Notes from loading (ignored overrides and pins of untrusted project packs).
    pub fn load_notes(&self) -> &[String] {
        &self.inner.c.notes
    }

    /// Program names the packs guard with confirm/deny rules (canonical names and aliases):
    /// the gate makes PATH shims for these.
    pub fn guarded_programs(&self) -> BTreeSet<String> {
        self.guarded().clone()
    }

    /// Evaluates a command against the rules and the env. Never panics on any input; parse
    /// failures and limits fail closed (see the module invariant).
    pub fn evaluate(&self, input: &CommandInput, env: &EvalEnv<'_>) -> Evaluation {
        let home = env.probe.home.to_string_lossy().into_owned();
        let penv = parse::ParseEnv {
            env: Some(&env.probe.env),
            home: Some(&home),
        };
        let knows = |name: &str| self.knows(name);
        let unwrapper = unwrap::Unwrapper::new(&penv, &knows);
        let (out, text) = match input {
            CommandInput::Shell(s) => (unwrapper.command_string(s), s.as_str()),
            CommandInput::Argv(v) => (unwrapper.argv(v), ""),
        };
        let mut eval = Evaluation {
            decision: Decision::Allow,
            commands: Vec::with_capacity(out.invocations.len()),
            notes: out.notes.clone(),
        };
        let mut scratch = Vec::new();
        for inv in &out.invocations {
            let verdict = self.verdict(
                inv,
                env,
                matches!(input, CommandInput::Shell(_)),
                &mut scratch,
            );
            eval.decision = eval.decision.max(verdict.decision);
            eval.commands.push(verdict);
        }
        if out.incomplete {
            let floor = if self.mentions_guarded(text) || text.is_empty() {
                Decision::Confirm
            } else {
                Decision::Warn
            };
            eval.notes.push(format!(
                "the command could not be fully parsed; failing closed at {floor}"
            ));
            eval.decision = eval.decision.max(floor);
        }
        eval
    }

    fn mentions_guarded(&self, text: &str) -> bool {
        let ac = self
            .inner
            .guarded_ac
            .get_or_init(|| AhoCorasick::new(self.guarded().iter()).ok());
        let Some(ac) = ac else {
            return true;
        };
        let bytes = text.as_bytes();
        ac.find_overlapping_iter(text).any(|m| {
            let before = m.start().checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(m.end()).copied();
            let boundary = |b: Option<u8>| {
                b.is_none_or(|b| {
                    !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
                })
            };
            boundary(before) && boundary(after)
        })
    }

    fn verdict(
        &self,
        inv: &unwrap::Invocation,
        env: &EvalEnv<'_>,
        shell: bool,
        scratch: &mut Vec<usize>,
    ) -> CommandVerdict {
        let c = &self.inner.c;
        let program = c
            .aliases
            .get(&inv.program)
            .cloned()
            .unwrap_or_else(|| inv.program.clone());
        let spec = c.programs.get(&program).map(|p| p.get(&program));
        let view = matcher::View::new(inv, &program, spec);
        let positional = view.positional_words();
        let target = target::resolve(inv, spec, &positional, env);
        let mut fired = Vec::new();
        if let Some(concern) = &inv.concern {
            fired.push(FiredRule {
                id: "engine.unresolved".into(),
                pack: "engine".into(),
                action: concern.decision,
                message: concern.reason.clone(),
            });
        }
        scratch.clear();
        self.candidates(&program, positional.first().copied(), scratch);
        for &i in scratch.iter() {
            let Some(rule) = c.rules[i].get() else {
                // A built-in rule that cannot be compiled (see `LazyRule::get`): hold.
                fired.push(FiredRule {
                    id: c.rules[i].id.to_string(),
                    pack: c.rules[i].pack.to_string(),
                    action: c.rules[i].action.max(Decision::Confirm),
                    message: "this built-in rule could not be loaded; holding to be safe".into(),
                });
                continue;
            };
            if rule.matches(&view, &target, env) {
                fired.push(FiredRule {
                    id: rule.id.clone(),
                    pack: rule.pack.clone(),
                    action: rule.action,
                    message: rule.render(&view, &target),
                });
            }
        }
        for r in &inv.redirects {
            if r.target.dynamic {
                if r.writes() && !matches!(r.target.text.as_str(), "/dev/null") {
                    // `> $f`: a write to a computed path; protected paths cannot be excluded.
                    fired.push(FiredRule {
                        id: "engine.redirect-dynamic".into(),
                        pack: "engine".into(),
                        action: Decision::Warn,
                        message: format!(
                            "writes to a path computed at run time ({})",
                            r.target.text
                        ),
                    });
                }
                continue;
            }
            let Some(abs) = target::resolve_path(
                r.target.expanded(),
                &inv.cwd,
                &env.probe.home,
                &env.probe.cwd,
            ) else {
                continue;
            };
            let access = if r.writes() {
                PathAccess::Write
            } else {
                PathAccess::Read
            };
            for pr in self.path_rules(access, &abs, env) {
                fired.push(FiredRule {
                    id: pr.id.clone(),
                    pack: pr.pack.clone(),
                    action: pr.action,
                    message: pr
                        .message
                        .replace("{path}", &r.target.text)
                        .replace("{access}", access_word(access)),
                });
            }
        }
        // Programs that write to files named in their arguments are checked like redirects.
        for w in written_paths(&program, &view) {
            if w.dynamic {
                continue;
            }
            let text = w.expanded();
            let text = text.strip_prefix("of=").unwrap_or(text);
            let Some(abs) = target::resolve_path(text, &inv.cwd, &env.probe.home, &env.probe.cwd)
            else {
                continue;
            };
            for pr in self.path_rules(PathAccess::Write, &abs, env) {
                fired.push(FiredRule {
                    id: pr.id.clone(),
                    pack: pr.pack.clone(),
                    action: pr.action,
                    message: pr
                        .message
                        .replace("{path}", &w.text)
                        .replace("{access}", "write"),
                });
            }
        }
        let decision = fired
            .iter()
            .map(|f| f.action)
            .max()
            .unwrap_or(Decision::Allow);
        let mut unwrapped = inv.steps.clone();
        if program != inv.program {
            unwrapped.push(format!("`{}` is an alias of {program}", inv.program));
        }
        CommandVerdict {
            argv: inv.argv_text(),
            span: shell.then(|| inv.span.clone()),
            tier: target.tier,
            target,
            rules: fired,
            decision,
            unwrapped,
        }
    }

    fn path_rules<'s>(
        &'s self,
        access: PathAccess,
        abs: &Path,
        env: &EvalEnv<'_>,
    ) -> impl Iterator<Item = &'s layers::PathRule> {
        let path = matcher::GlobPath::new(abs, &env.probe.home, &env.probe.cwd);
        self.inner.c.paths.iter().filter(move |p| {
            let applies = matches!(
                (p.access, access),
                (pack::Access::Any, _)
                    | (pack::Access::Read, PathAccess::Read)
                    | (pack::Access::Write, PathAccess::Write)
            );
            applies && p.covers(&path)
        })
    }

    /// Evaluates an agent file tool (Write/Edit/Read) on `path` against the packs' protected
    /// paths (`.env*`, credential files, `*.tfstate`, the rule packs and overwatch's own config).
    /// Relative paths are taken from the agent's cwd.
    pub fn evaluate_path(&self, access: PathAccess, path: &Path, env: &EvalEnv<'_>) -> Evaluation {
        let text = path.to_string_lossy();
        let abs =
            target::resolve_path(&text, &parse::Cwd::Ambient, &env.probe.home, &env.probe.cwd)
                .unwrap_or_else(|| path.to_path_buf());
        let rules: Vec<FiredRule> = self
            .path_rules(access, &abs, env)
            .map(|p| FiredRule {
                id: p.id.clone(),
                pack: p.pack.clone(),
                action: p.action,
                message: p
                    .message
                    .replace("{path}", &text)
                    .replace("{access}", access_word(access)),
            })
            .collect();
        let decision = rules
            .iter()
            .map(|r| r.action)
            .max()
            .unwrap_or(Decision::Allow);
        Evaluation {
            decision,
            commands: vec![CommandVerdict {
                argv: vec![access_word(access).to_string(), text.into_owned()],
                span: None,
                target: Target {
                    kind: None,
                    name: "this machine".into(),
                    details: BTreeMap::new(),
                    tier: Tier::Development,
                    reason: "a file on this machine".into(),
                },
                tier: Tier::Development,
                rules,
                decision,
                unwrapped: Vec::new(),
            }],
            notes: Vec::new(),
        }
    }

    /// Whether a changed file is sensitive (for the diff watcher): the strictest path rule that
    /// matches it, for any access. Relative paths are matched as workspace-relative.
    pub fn sensitive_path(&self, path: &Path) -> Option<SensitiveMatch> {
        let home = dirs::home_dir().unwrap_or_else(|| PathBuf::from("/nonexistent-home"));
        let (abs, project) = if path.is_absolute() {
            (path.to_path_buf(), PathBuf::from("/nonexistent-project"))
        } else {
            let project = PathBuf::from("/workspace");
            (project.join(path), project)
        };
        let glob_path = matcher::GlobPath::new(&abs, &home, &project);
        self.inner
            .c
            .paths
            .iter()
            .filter(|p| p.covers(&glob_path))
            .max_by_key(|p| p.action)
            .map(|p| SensitiveMatch {
                id: p.id.clone(),
                pack: p.pack.clone(),
                action: p.action,
                message: p
                    .message
                    .replace("{path}", &path.to_string_lossy())
                    .replace("{access}", "changes"),
            })
    }

    /// Runs every embedded example (`builtin_too` includes the built-in packs) and returns the
    /// failures. Examples run against a synthetic context where every target is at the example's
    /// tier (default production) and the current git branch is `main` (`feature/example` below
    /// staging).
    pub fn check_examples(&self, builtin_too: bool) -> Vec<ExampleFailure> {
        let mut failures = Vec::new();
        let mut envs: BTreeMap<Tier, (Context, ProbeEnv)> = BTreeMap::new();
        let knowledge = self.knowledge();
        for e in &self.inner.c.examples {
            if e.layer == Layer::Builtin && !builtin_too {
                continue;
            }
            let (ctx, probe) = envs.entry(e.tier).or_insert_with(|| example_env(e.tier));
            let env = EvalEnv {
                ambient: &Ambient::Given(ctx),
                probe,
                knowledge: &knowledge,
            };
            let eval = self.evaluate(&CommandInput::Shell(e.command.clone()), &env);
            let fired = eval
                .commands
                .iter()
                .any(|c| c.rules.iter().any(|r| r.id == e.rule));
            if fired != e.should_match {
                let location = self
                    .inner
                    .c
                    .sources
                    .get(e.source)
                    .map(|s| {
                        let (l, c) = pack::line_col(&s.text, e.span.start);
                        format!("{}:{l}:{c}", s.origin)
                    })
                    .unwrap_or_default();
                let got: Vec<String> = eval
                    .commands
                    .iter()
                    .flat_map(|c| c.rules.iter().map(|r| format!("{} ({})", r.id, r.action)))
                    .collect();
                failures.push(ExampleFailure {
                    rule: e.rule.clone(),
                    pack: e.pack.clone(),
                    location,
                    command: e.command.clone(),
                    should_match: e.should_match,
                    got: format!(
                        "{} [{}]",
                        eval.decision,
                        if got.is_empty() {
                            "no rules fired".to_string()
                        } else {
                            got.join(", ")
                        }
                    ),
                });
            }
        }
        failures
    }

    /// Number of embedded examples (optionally including built-in packs).
    pub fn example_count(&self, builtin_too: bool) -> usize {
        self.inner
            .c
            .examples
            .iter()
            .filter(|e| builtin_too || e.layer != Layer::Builtin)
            .count()
    }

    /// Whether rule `id` has embedded examples.
    pub fn has_examples(&self, id: &str) -> bool {
        self.inner.c.examples.iter().any(|e| e.rule == id)
    }

    /// The compiled rules (for `rules list` / lint), in load order. Compiles every built-in rule
    /// not compiled yet (see [`layers::LazyRule`]); one that cannot be is left out.
    pub fn rules(&self) -> Vec<&matcher::Rule> {
        self.inner
            .c
            .rules
            .iter()
            .filter_map(layers::LazyRule::get)
            .collect()
    }

    /// The compiled path rules.
    pub fn path_rule_list(&self) -> &[layers::PathRule] {
        &self.inner.c.paths
    }
}

/// The file arguments a program writes: `tee FILE…`, the destination of `cp`/`mv`/`install`/
/// `ln`, the files of `sed -i`, `truncate`, `touch`, and `dd of=`.
fn written_paths<'a>(program: &str, view: &matcher::View<'a>) -> Vec<&'a parse::Word> {
    let words = view.positional_words();
    match program {
        "tee" | "truncate" | "touch" | "shred" => words,
        "cp" | "mv" | "install" | "ln" | "rsync" | "scp" => {
            words.last().copied().into_iter().collect()
        }
        "sed" | "perl" if view.inv.args().iter().any(|w| w.text.starts_with("-i")) => {
            words.into_iter().skip(1).collect()
        }
        "dd" => words
            .into_iter()
            .filter(|w| w.text.starts_with("of="))
            .collect(),
        _ => Vec::new(),
    }
}

fn access_word(a: PathAccess) -> &'static str {
    match a {
        PathAccess::Read => "read",
        PathAccess::Write => "write",
    }
}

/// The synthetic context embedded examples run in: one fact per family at `tier`.
pub fn example_env(tier: Tier) -> (Context, ProbeEnv) {
    let kinds = [
        (FactKind::Kube, "example-context"),
        (FactKind::Aws, "example-profile"),
        (FactKind::Gcloud, "example-project"),
        (FactKind::Azure, "example-subscription"),
        (FactKind::Terraform, "example-workspace"),
        (FactKind::Pulumi, "example-stack"),
        (FactKind::Docker, "example-docker-host"),
        (FactKind::Database, "example-db"),
        (FactKind::Service, "example-environment"),
    ];
    let mut facts: Vec<Fact> = kinds
        .iter()
        .map(|(kind, name)| Fact {
            kind: *kind,
            name: (*name).to_string(),
            details: BTreeMap::new(),
            source: "example".into(),
            tier,
            reason: format!("examples run at {tier}"),
        })
        .collect();
    let branch = if tier >= Tier::Staging {
        "main"
    } else {
        "feature/example"
    };
    facts.push(Fact {
        kind: FactKind::Git,
        name: branch.into(),
        details: BTreeMap::new(),
        source: "example".into(),
        tier,
        reason: format!("examples run at {tier}"),
    });
    let ctx = Context {
        tier,
        facts,
        credentials: Vec::new(),
    };
    let probe = ProbeEnv {
        home: PathBuf::from("/home/user"),
        cwd: PathBuf::from("/home/user/project"),
        env: BTreeMap::new(),
    };
    (ctx, probe)
}

#[cfg(test)]
mod tests;
