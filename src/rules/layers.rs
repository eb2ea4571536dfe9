//! Layers and compilation: pack files → rules, path rules, program specs and knowledge.
//!
//! Layers, lowest first: built-in < user (`~/.config/overwatch/rules/`) < team (`--rules`,
//! config) < project (`.overwatch/rules/`). Every matching rule fires and the strictest action
//! wins; layers matter for `[overrides]`, which change the action of rules from the same or a
//! lower layer.
//!
//! **Invariant:** an untrusted project pack can only tighten: its overrides that lower an action,
//! its `[[programs]]` (which could re-alias `rm`), its tier pins below production and its probes'
//! non-production tier mappings are ignored, each with a note.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use serde::Serialize;

use crate::context::{CustomProbe, Tier, TierPin};
use crate::rules::Decision;

use super::matcher::{FactTest, FlagPat, Glob, GlobPath, LazyRegex, Rule};
use super::pack::{self, Access, LoadError, PackFile, PackSource, ProgramSpec};

/// Where a pack was loaded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    Builtin,
    User,
    Team,
    Project,
}

impl Layer {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Builtin => "builtin",
            Layer::User => "user",
            Layer::Team => "team",
            Layer::Project => "project",
        }
    }
}

/// A loaded pack's identity, for `rules list`.
#[derive(Debug, Clone, Serialize)]
pub struct PackInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub origin: String,
    pub layer: Layer,
    pub trusted: bool,
    pub rules: usize,
    pub paths: usize,
}

impl PathRule {
    /// Whether the rule covers a path (see [`GlobPath`]).
    pub fn covers(&self, path: &GlobPath) -> bool {
        self.globs.iter().any(|g| g.matches_path(path))
            && !self.exclude.iter().any(|g| g.matches_path(path))
    }
}

/// A protected-path rule.
#[derive(Debug, Clone)]
pub struct PathRule {
    pub id: String,
    pub pack: String,
    pub layer: Layer,
    pub description: String,
    pub globs: Vec<Glob>,
    /// Paths matching these are not covered.
    pub exclude: Vec<Glob>,
    pub access: Access,
    pub action: Decision,
    pub message: String,
}

/// One pack source to compile, with its layer and trust.
#[derive(Debug, Clone)]
pub struct Input {
    pub source: PackSource,
    pub layer: Layer,
    pub trusted: bool,
}

/// An embedded example kept for `rules test` and load-time checks.
#[derive(Debug, Clone)]
pub struct Example {
    pub rule: String,
    pub pack: String,
    pub layer: Layer,
    pub command: String,
    pub should_match: bool,
    pub tier: Tier,
    /// Where the example is written (for errors): source index and byte span.
    pub source: usize,
    pub span: std::ops::Range<usize>,
}

/// Everything compiled from the packs.
#[derive(Debug, Default)]
pub struct Compiled {
    pub rules: Vec<LazyRule>,
    pub paths: Vec<PathRule>,
    pub programs: HashMap<String, LazyProgram>,
    /// alias → canonical program name.
    pub aliases: HashMap<String, String>,
    pub pins: Vec<TierPin>,
    pub probes: Vec<CustomProbe>,
    pub packs: Vec<PackInfo>,
    pub examples: Vec<Example>,
    pub sources: Vec<PackSource>,
    pub notes: Vec<String>,
}

/// Lowercases in place (program names are matched ASCII case-insensitively).
fn lower_all(mut v: Vec<String>) -> Vec<String> {
    v.iter_mut().for_each(|s| s.make_ascii_lowercase());
    v
}

/// `s` in ASCII lowercase, borrowed when it already is (as built-in names are).
fn lowercase(s: &'static str) -> Cow<'static, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(s.to_ascii_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// How to read one program's command line, from every pack that describes it, merged the first
/// time a command runs the program (see [`LazyProgram::get`]).
#[derive(Debug, Default)]
pub struct LazyProgram {
    /// The program's entries in load order.
    parts: Vec<ProgramPart>,
    /// Boxed: the programs map holds one entry per program, moved at every growth; an inline
    /// spec made each entry ~0.5 KB and the map's growth ~25 page faults of a `check`.
    spec: OnceLock<Box<ProgramSpec>>,
}

/// One pack's `[[programs]]` entry for a program.
#[derive(Debug)]
enum ProgramPart {
    /// Read from TOML (boxed: built-in entries, the common case, are two words).
    Written(Box<ProgramSpec>),
    /// A built-in pack's entry, its MessagePack table (`None` if its offsets did not fit).
    Builtin(Option<&'static [u8]>),
}

impl LazyProgram {
    /// The merged spec: later packs extend earlier ones (options and aliases add up, a `kind`
    /// replaces). A built-in entry that cannot be decoded adds nothing — impossible for the
    /// bodies `build.rs` writes (the pack tests decode every one).
    pub fn get(&self, name: &str) -> &ProgramSpec {
        self.spec.get_or_init(|| {
            let mut spec = ProgramSpec {
                name: name.to_owned(),
                ..ProgramSpec::default()
            };
            for part in &self.parts {
                let decoded;
                let p = match part {
                    ProgramPart::Written(p) => p,
                    ProgramPart::Builtin(body) => {
                        match body.map(pack::decode_program) {
                            Some(Ok(p)) => decoded = p,
                            _ => continue,
                        }
                        &decoded
                    }
                };
                merge_into(&mut spec, p);
            }
            Box::new(spec)
        })
    }
}

/// Adds one `[[programs]]` entry to `spec` (see [`LazyProgram::get`]).
fn merge_into(spec: &mut ProgramSpec, p: &ProgramSpec) {
    spec.aliases.extend(p.aliases.iter().cloned());
    if p.kind.is_some() {
        spec.kind = p.kind;
    }
    spec.value_options.extend(p.value_options.iter().cloned());
    spec.no_bundling |= p.no_bundling;
    spec.sql_options.extend(p.sql_options.iter().cloned());
    spec.sql_stdin |= p.sql_stdin;
    spec.sql_positional |= p.sql_positional;
    let (t, s) = (&mut spec.target, &p.target);
    t.context.extend(s.context.iter().cloned());
    t.kubeconfig.extend(s.kubeconfig.iter().cloned());
    t.namespace.extend(s.namespace.iter().cloned());
    t.profile.extend(s.profile.iter().cloned());
    t.project.extend(s.project.iter().cloned());
    t.workspace.extend(s.workspace.iter().cloned());
    t.chdir.extend(s.chdir.iter().cloned());
    t.host.extend(s.host.iter().cloned());
    t.database.extend(s.database.iter().cloned());
    t.environment.extend(s.environment.iter().cloned());
    t.env.extend(s.env.iter().cloned());
    t.positional |= s.positional;
}

/// Files one `[[programs]]` entry (name, aliases, the entry) under its lowercase name.
fn add_program<A: AsRef<str>>(c: &mut Compiled, name: &str, aliases: &[A], part: ProgramPart) {
    let name = name.to_ascii_lowercase();
    for a in aliases {
        c.aliases
            .insert(a.as_ref().to_ascii_lowercase(), name.clone());
    }
    c.programs.entry(name).or_default().parts.push(part);
}

/// An `[overrides]` entry waiting to be applied once every pack is compiled.
struct Override {
    layer: Layer,
    untrusted: bool,
    id: String,
    pack: String,
    source: PackSource,
    span: std::ops::Range<usize>,
    action: Decision,
}

/// A pack's parts other than its rules.
struct Head {
    name: String,
    version: String,
    description: String,
    /// Name, aliases and the entry (a built-in pack's borrowed from its compiled form).
    programs: Vec<(Cow<'static, str>, Vec<Cow<'static, str>>, ProgramPart)>,
    paths: Vec<pack::PathSpec>,
    pins: Vec<TierPin>,
    probes: Vec<CustomProbe>,
    overrides: BTreeMap<String, pack::Spanned<Decision>>,
}

/// A pack's rules: as written (compiled now), or a built-in pack's stubs (compiled on first use).
enum PackRules {
    Specs(Vec<pack::RuleSpec>),
    Stubs(Vec<pack::RuleStub>, &'static [u8]),
}

impl PackRules {
    fn len(&self) -> usize {
        match self {
            PackRules::Specs(v) => v.len(),
            PackRules::Stubs(v, _) => v.len(),
        }
    }
}

fn split<R, P>(
    file: PackFile<R, P>,
    rules: impl FnOnce(Vec<R>) -> PackRules,
    program: impl Fn(P) -> (Cow<'static, str>, Vec<Cow<'static, str>>, ProgramPart),
) -> (Head, PackRules) {
    let PackFile {
        name,
        version,
        description,
        programs,
        rules: written,
        paths,
        pins,
        probes,
        overrides,
    } = file;
    let head = Head {
        name,
        version,
        description,
        programs: programs.into_iter().map(program).collect(),
        paths,
        pins,
        probes,
        overrides,
    };
    (head, rules(written))
}

/// Why a rule could not be compiled: where (`None`: the rule's id), the message, the label.
type RuleError = (Option<std::ops::Range<usize>>, String, &'static str);

/// Compiles one rule as written. `validate` compiles its regexes now, so a bad pattern is an
/// error at its span; otherwise they compile on first use (and an invalid one fails closed).
fn rule_from_spec(
    r: pack::RuleSpec,
    pack_name: &str,
    layer: Layer,
    validate: bool,
) -> Result<Rule, RuleError> {
    let id = r.id.into_inner();
    let compile_re = |s: pack::Spanned<String>| -> Result<LazyRegex, RuleError> {
        if validate {
            LazyRegex::new(s.get_ref().as_str())
                .validate()
                .map_err(|e| {
                    (
                        Some(s.span()),
                        format!(
                            "invalid regex in rule `{id}`: {}",
                            e.lines().last().unwrap_or(&e)
                        ),
                        "this regex",
                    )
                })?;
        }
        Ok(LazyRegex::new(s.into_inner()))
    };
    let compile_all = |v: Vec<pack::Spanned<String>>| -> Result<Vec<LazyRegex>, RuleError> {
        v.into_iter().map(compile_re).collect()
    };
    let args = compile_all(r.args)?;
    let not_args = compile_all(r.not_args)?;
    let regex = r.regex.map(compile_re).transpose()?;
    let stdin = compile_all(r.stdin)?;
    let when_target = r.when.target.map(compile_re).transpose()?;
    let when_not_target = r.when.not_target.map(compile_re).transpose()?;
    let when_fact = match r.when.fact {
        Some(f) => Some(FactTest {
            probe: f.probe,
            is: f.is.map(compile_re).transpose()?,
            not: f.not.map(compile_re).transpose()?,
        }),
        None => None,
    };
    let path_globs = r
        .path_globs
        .iter()
        .map(|g| Glob::new(g).map_err(|e| (None, e, "in this rule")))
        .collect::<Result<Vec<_>, _>>()?;
    if validate && r.program.is_empty() && regex.is_none() {
        return Err((
            None,
            format!("rule `{id}` names no program and no regex: it would match nothing"),
            "this rule",
        ));
    }
    Ok(Rule {
        id,
        pack: pack_name.to_owned(),
        layer,
        description: r.description,
        programs: lower_all(r.program),
        subcommand: subcommand_alternatives(&r.subcommand),
        flags: r.flags.iter().map(|f| FlagPat::parse(f)).collect(),
        all_flags: r.all_flags.iter().map(|f| FlagPat::parse(f)).collect(),
        not_flags: r.not_flags.iter().map(|f| FlagPat::parse(f)).collect(),
        args,
        not_args,
        paths: r.paths,
        path_globs,
        sql: r.sql,
        stdin,
        regex,
        when_tier: r.when.tier,
        when_min_tier: r.when.min_tier,
        when_fact,
        when_target,
        when_not_target,
        action: r.action,
        written_action: r.action,
        message: r.message,
    })
}

/// `subcommand = ["delete|del", "pod"]` → alternatives per position, lowercase.
fn subcommand_alternatives(written: &[String]) -> Vec<Vec<String>> {
    written
        .iter()
        .map(|s| alternatives(s).map(str::to_ascii_lowercase).collect())
        .collect()
}

/// One position of a `subcommand` list, as written: `"delete|Del"` → `"delete"`, `"Del"`
/// (callers lowercase them).
fn alternatives(written: &str) -> impl Iterator<Item = &str> {
    written.split('|').map(str::trim)
}

/// A rule as the engine holds it: what indexing and the PATH shims need, always present, and
/// the compiled [`Rule`] — built at load for packs read from TOML, and on first use for the
/// built-in packs' stubs (a `check` process reaches a handful of the ~130 built-in rules, and
/// decoding and compiling all of them was most of its start-up).
#[derive(Debug)]
pub struct LazyRule {
    /// As [`Rule::id`]; a built-in rule's borrowed from its pack's compiled form, so building
    /// an engine copies none of the ~130 built-in stubs' strings.
    pub id: Cow<'static, str>,
    /// The pack's name, shared by its rules.
    pub pack: Arc<str>,
    /// The layer the pack was loaded in.
    pub layer: Layer,
    /// Program names, lowercase (`*` globs allowed), as in [`Rule::programs`].
    pub programs: Vec<Cow<'static, str>>,
    /// Alternatives for the first positional word, as in `Rule::subcommand[0]`.
    pub first_subcommand: Option<Vec<Cow<'static, str>>>,
    /// Effective action (after `[overrides]`).
    pub action: Decision,
    /// The built-in rule's MessagePack table, until compiled.
    body: Option<&'static [u8]>,
    /// Boxed: the rules vector stays small (a `Rule` is ~40 words), so growing it while packs
    /// load copies little.
    rule: OnceLock<Option<Box<Rule>>>,
}

impl LazyRule {
    /// A rule compiled at load.
    fn ready(rule: Rule) -> LazyRule {
        LazyRule {
            id: Cow::Owned(rule.id.clone()),
            pack: Arc::from(rule.pack.as_str()),
            layer: rule.layer,
            programs: rule.programs.iter().cloned().map(Cow::Owned).collect(),
            first_subcommand: rule
                .subcommand
                .first()
                .map(|alts| alts.iter().cloned().map(Cow::Owned).collect()),
            action: rule.action,
            body: None,
            rule: OnceLock::from(Some(Box::new(rule))),
        }
    }

    /// A built-in rule compiled on first use from its body in `bodies`.
    fn deferred(
        stub: pack::RuleStub,
        pack_name: &Arc<str>,
        layer: Layer,
        bodies: &'static [u8],
    ) -> Self {
        LazyRule {
            body: pack::body_at(stub.body, bodies),
            programs: stub.program.into_iter().map(lowercase).collect(),
            first_subcommand: stub
                .subcommand
                .first()
                .map(|s| alternatives(s).map(lowercase).collect()),
            id: Cow::Borrowed(stub.id),
            pack: Arc::clone(pack_name),
            layer,
            action: stub.action,
            rule: OnceLock::new(),
        }
    }

    /// The compiled rule, compiling it now if needed; `None` if a built-in rule's body cannot be
    /// decoded or compiled — impossible for the bodies `build.rs` writes (the pack tests decode
    /// every one), and callers fail closed on it.
    pub fn get(&self) -> Option<&Rule> {
        self.rule
            .get_or_init(|| {
                let spec = pack::decode_rule(self.body?).ok()?;
                let mut rule = rule_from_spec(spec, &self.pack, self.layer, false).ok()?;
                rule.action = self.action;
                Some(Box::new(rule))
            })
            .as_deref()
    }

    /// The literal alternatives the rule is filed under for the first positional word (see
    /// `matcher::Index`); `None` when it is a candidate whatever that word is (no first
    /// subcommand, or one with a `*` glob).
    pub fn literal_first_subcommand(&self) -> Option<&[Cow<'static, str>]> {
        self.first_subcommand
            .as_deref()
            .filter(|alts| alts.iter().all(|a| !a.contains('*')))
    }

    /// Sets the effective action (an `[overrides]` entry).
    fn set_action(&mut self, action: Decision) {
        self.action = action;
        if let Some(Some(rule)) = self.rule.get_mut() {
            rule.action = action;
        }
    }
}

/// Compiles sources in order. `validate` compiles every regex now (errors with spans); built-in
/// packs skip it (CI runs `rules test` over them) so `overwatch check` starts fast.
pub fn compile(inputs: Vec<Input>) -> Result<Compiled, LoadError> {
    let mut c = Compiled::default();
    let mut overrides: Vec<Override> = Vec::new();
    for (src_idx, input) in inputs.into_iter().enumerate() {
        // The parsed pack is consumed: its strings move into the compiled rules (a `check`
        // process builds the engine once, so every copy here is start-up time).
        let (head, rules) = match input.source.compiled {
            Some(form) => split(
                pack::parse_stubbed(&input.source, form)?,
                |rules| PackRules::Stubs(rules, form.bodies),
                |p| {
                    let body = pack::body_at(p.body, form.bodies);
                    let aliases = p.aliases.into_iter().map(Cow::Borrowed).collect();
                    (Cow::Borrowed(p.name), aliases, ProgramPart::Builtin(body))
                },
            ),
            None => split(pack::parse_pack(&input.source)?, PackRules::Specs, |p| {
                (
                    Cow::Owned(p.name.clone()),
                    p.aliases.iter().cloned().map(Cow::Owned).collect(),
                    ProgramPart::Written(Box::new(p)),
                )
            }),
        };
        let Head {
            name: pack_name,
            version,
            description,
            programs,
            paths,
            pins,
            probes,
            overrides: pack_overrides,
        } = head;
        let validate = input.layer != Layer::Builtin;
        let untrusted = input.layer == Layer::Project && !input.trusted;
        let src = &input.source;
        let (rule_count, path_count) = (rules.len(), paths.len());
        if untrusted && !programs.is_empty() {
            c.notes.push(format!(
                "{}: [[programs]] ignored: the project pack is not trusted (run `overwatch rules trust`)",
                src.origin
            ));
        }
        if !untrusted {
            c.programs.reserve(programs.len());
            for (name, aliases, part) in programs {
                add_program(&mut c, &name, &aliases, part);
            }
        }
        let mut ids = HashSet::with_capacity(rule_count);
        let mut first_use = |id: Cow<'static, str>, span: std::ops::Range<usize>| {
            if ids.insert(id.clone()) {
                Ok(())
            } else {
                Err(LoadError::at(
                    src,
                    span,
                    format!("duplicate rule id `{id}`"),
                    "defined twice in this pack",
                ))
            }
        };
        c.rules.reserve(rule_count);
        match rules {
            PackRules::Stubs(stubs, bodies) => {
                let pack_name: Arc<str> = Arc::from(pack_name.as_str());
                for stub in stubs {
                    first_use(Cow::Borrowed(stub.id), 0..0)?;
                    c.rules
                        .push(LazyRule::deferred(stub, &pack_name, input.layer, bodies));
                }
            }
            PackRules::Specs(specs) => {
                for mut r in specs {
                    first_use(Cow::Owned(r.id.get_ref().clone()), r.id.span())?;
                    let examples = std::mem::take(&mut r.examples);
                    let span = r.id.span();
                    let rule = rule_from_spec(r, &pack_name, input.layer, validate).map_err(
                        |(at, message, label)| {
                            LoadError::at(src, at.unwrap_or(span), message, label)
                        },
                    )?;
                    let tier = examples.tier.unwrap_or(Tier::Production);
                    for (list, should_match) in
                        [(examples.matches, true), (examples.no_match, false)]
                    {
                        for e in list {
                            c.examples.push(Example {
                                rule: rule.id.clone(),
                                pack: pack_name.clone(),
                                layer: input.layer,
                                span: e.span(),
                                command: e.into_inner(),
                                should_match,
                                tier,
                                source: src_idx,
                            });
                        }
                    }
                    c.rules.push(LazyRule::ready(rule));
                }
            }
        }
        c.paths.reserve(path_count);
        for p in paths {
            let globs = |list: &[String]| {
                list.iter()
                    .map(|g| {
                        Glob::new(g)
                            .map_err(|e| LoadError::at(src, p.id.span(), e, "in this path rule"))
                    })
                    .collect::<Result<Vec<_>, _>>()
            };
            let (globs, exclude) = (globs(&p.globs)?, globs(&p.not_globs)?);
            c.paths.push(PathRule {
                exclude,
                id: p.id.into_inner(),
                pack: pack_name.clone(),
                layer: input.layer,
                description: p.description,
                globs,
                access: p.access,
                action: p.action,
                message: p.message,
            });
        }
        for pin in pins {
            if untrusted && pin.tier != Tier::Production {
                c.notes.push(format!(
                    "{}: a pin to {} ignored: the project pack is not trusted",
                    src.origin, pin.tier
                ));
                continue;
            }
            c.pins.push(pin);
        }
        for mut probe in probes {
            if untrusted {
                probe.tiers.retain(|_, t| *t == Tier::Production);
            }
            c.probes.push(probe);
        }
        for (id, action) in pack_overrides {
            overrides.push(Override {
                layer: input.layer,
                untrusted,
                id,
                pack: pack_name.clone(),
                source: src.clone(),
                span: action.span(),
                action: *action.get_ref(),
            });
        }
        c.packs.push(PackInfo {
            name: pack_name,
            version,
            description,
            origin: src.origin.clone(),
            layer: input.layer,
            trusted: input.layer != Layer::Project || input.trusted,
            rules: rule_count,
            paths: path_count,
        });
        c.sources.push(input.source);
    }
    for Override {
        layer,
        untrusted,
        id,
        pack: pack_name,
        source: src,
        span,
        action,
    } in overrides
    {
        let mut hit = false;
        for r in c
            .rules
            .iter_mut()
            .filter(|r| r.id == id && r.layer <= layer)
        {
            hit = true;
            if untrusted && action < r.action {
                c.notes.push(format!("{pack_name}: override of `{id}` to {action} ignored: an untrusted project pack can only tighten"));
                continue;
            }
            r.set_action(action);
        }
        if !hit {
            return Err(LoadError::at(
                &src,
                span,
                format!("override names unknown rule `{id}`"),
                "no rule with this id in this or a lower layer",
            ));
        }
    }
    Ok(c)
}

/// Unknown `{placeholders}` in a message template (for `rules lint`).
pub fn unknown_placeholders(message: &str) -> Vec<String> {
    let known_simple = [
        "target",
        "tier",
        "program",
        "subcommand",
        "args",
        "path",
        "reason",
    ];
    let mut out = Vec::new();
    let mut rest = message;
    while let Some(s) = rest.find('{') {
        let Some(e) = rest[s..].find('}') else { break };
        let key = &rest[s + 1..s + e];
        if !known_simple.contains(&key) && !key.contains('.') {
            out.push(key.to_string());
        }
        rest = &rest[s + e + 1..];
    }
    out
}

/// Counts of rules per pack (for list output).
pub fn rules_per_pack(c: &Compiled) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in &c.rules {
        *m.entry(r.pack.to_string()).or_insert(0) += 1;
    }
    m
}
