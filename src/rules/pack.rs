//! Rule pack files: the TOML schema, reading, and load errors with file:line:column spans.
//!
//! A pack is data only; [`super::matcher`] compiles it. The schema is strict
//! (`deny_unknown_fields` everywhere) so a typo in a team pack is a load error, never a rule that
//! silently never fires.
//!
//! ```toml
//! name = "acme"                  # required
//! version = "1.0.0"              # required
//! description = "Acme's clusters" # required
//!
//! [[programs]]                   # how to read a program's command line (optional)
//! name = "kubectl"
//! aliases = ["k"]
//! kind = "kube"                  # target family: kube | aws | gcloud | azure | terraform | pulumi | docker | git | ssh | database | service
//! value_options = ["-n", "--context"]   # options that take a separate value
//! target = { context = ["--context"], namespace = ["-n", "--namespace"] }
//!
//! [[rules]]
//! id = "acme.deploy-prod"
//! description = "deploys to production"
//! program = ["acme-deploy"]      # after unwrapping and alias resolution; globs allowed (`mkfs.*`)
//! subcommand = ["release|rollout"]   # positional prefix; `|` alternatives, `*` globs
//! flags = ["--force", "-f"]      # any of: bundled short flags and abbreviated long options match
//! all_flags = []                 # every one of these
//! not_flags = ["--dry-run"]      # none of these (exact spelling, or `--x=*`)
//! args = ['^prod']               # some positional (after the subcommand) matches one regex
//! not_args = []
//! paths = ["root", "home"]       # some positional path is in one of these classes
//! path_globs = ["~/.ssh/id_*"]   # some positional path matches one glob
//! sql = ["drop", "truncate"]     # SQL statement kinds in the command's SQL text
//! stdin = ['(?i)flushall']       # literal stdin matches (unknown stdin always does)
//! regex = '…'                    # last resort: over the argv joined by spaces
//! when = { min_tier = "staging", target = '^prod-' }
//! action = "confirm"             # allow | warn | confirm | deny
//! message = "deploy to {target} ({tier})"
//! examples.match = ["acme-deploy release --force"]
//! examples.no_match = ["acme-deploy release --dry-run"]
//!
//! [[paths]]                      # protected paths for agent file tools, redirects, diff warnings
//! id = "acme.env-files"
//! globs = [".env*"]
//! access = "write"               # read | write | any
//! action = "confirm"
//! message = "writes {path}"
//!
//! [overrides]                    # change the action of a rule from a lower layer
//! "git.push-force" = "warn"
//! ```
//!
//! Also `[[pins]]` ([`crate::context::TierPin`]) and `[[probes]]` ([`crate::context::CustomProbe`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, NamedSource, SourceSpan};
use serde::{Deserialize, Deserializer};

use crate::context::{CustomProbe, FactKind, Tier, TierPin};
use crate::rules::Decision;

/// A whole pack file. `R` and `P` are [`RuleSpec`] and [`ProgramSpec`] as written; a built-in
/// pack's build-time form ([`StubbedPack`]) carries [`RuleStub`]s and [`ProgramStub`]s instead.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackFile<R = RuleSpec, P = ProgramSpec> {
    pub name: String,
    pub version: String,
    pub description: String,
    #[serde(default = "Vec::new")]
    pub programs: Vec<P>,
    #[serde(default = "Vec::new")]
    pub rules: Vec<R>,
    #[serde(default)]
    pub paths: Vec<PathSpec>,
    #[serde(default)]
    pub pins: Vec<TierPin>,
    #[serde(default)]
    pub probes: Vec<CustomProbe>,
    #[serde(default)]
    pub overrides: BTreeMap<String, Spanned<Decision>>,
}

/// How to read one program's command line.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The target family this program acts on.
    #[serde(default)]
    pub kind: Option<FactKind>,
    /// Options that consume the next token (`-n prod`); `--opt=value` is always understood.
    #[serde(default)]
    pub value_options: Vec<String>,
    /// Options are single-dash words (`find -name`), never bundles of short flags.
    #[serde(default)]
    pub no_bundling: bool,
    /// Which options (and env vars) name the target.
    #[serde(default)]
    pub target: TargetOptions,
    /// Options whose value is SQL text (`-c`, `--command`, `-e`).
    #[serde(default)]
    pub sql_options: Vec<String>,
    /// The program reads SQL from stdin (here-strings, heredocs, pipes, `< file`).
    #[serde(default)]
    pub sql_stdin: bool,
    /// Positionals after the first (the database) are SQL (`sqlite3 app.db 'DROP TABLE t'`).
    #[serde(default)]
    pub sql_positional: bool,
}

/// Options and env vars that override a program's target (see [`crate::context::Overrides`]).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetOptions {
    #[serde(default)]
    pub context: Vec<String>,
    #[serde(default)]
    pub kubeconfig: Vec<String>,
    #[serde(default)]
    pub namespace: Vec<String>,
    #[serde(default)]
    pub profile: Vec<String>,
    #[serde(default)]
    pub project: Vec<String>,
    #[serde(default)]
    pub workspace: Vec<String>,
    #[serde(default)]
    pub chdir: Vec<String>,
    #[serde(default)]
    pub host: Vec<String>,
    #[serde(default)]
    pub database: Vec<String>,
    /// Flag-CLI environment options (`--environment production`): the value is classified.
    #[serde(default)]
    pub environment: Vec<String>,
    /// Env vars that name the target (`AWS_PROFILE`, `KUBECONFIG`, `DATABASE_URL`).
    #[serde(default)]
    pub env: Vec<String>,
    /// The first positional after the subcommand names the target (`mongosh prod`, `mysql db`).
    #[serde(default)]
    pub positional: bool,
}

/// Classes of filesystem paths named by arguments; see [`super::target::path_class`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PathClass {
    /// `/` itself (or `/*`).
    Root,
    /// A home directory itself (`~`, `/home/alice`, `/root`).
    Home,
    /// Inside a home directory but outside the project.
    HomeSub,
    /// System locations: `/etc`, `/usr`, `/var`, `/srv`, `/opt`, `/boot`, `/mnt`, …
    System,
    /// Block devices (`/dev/sda`, `/dev/nvme0n1`, …).
    Device,
    /// `/tmp`, `/var/tmp` and below.
    Tmp,
    /// The project directory itself (`.`, `*`, the cwd).
    Cwd,
    /// Inside the project.
    Project,
    /// Inside the project and a regenerable build artefact (`node_modules`, `target`, `dist`…).
    Artifact,
    /// Escapes the project with `..`.
    Parent,
    /// Any other absolute path.
    Outside,
    /// Not resolvable statically (`"$d"`, `{}` from find/xargs, `$@`).
    Unknown,
}

/// SQL statement kinds; see [`super::sql`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SqlKind {
    Drop,
    Truncate,
    DeleteNoWhere,
    UpdateNoWhere,
    Delete,
    Update,
    Alter,
    Write,
    Grant,
    Read,
    Other,
    /// SQL we cannot see (`-f file`, unknown stdin).
    Unknown,
}

/// One rule as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: Spanned<String>,
    pub description: String,
    #[serde(default)]
    pub program: Vec<String>,
    #[serde(default)]
    pub subcommand: Vec<String>,
    #[serde(default)]
    pub flags: Vec<String>,
    #[serde(default)]
    pub all_flags: Vec<String>,
    #[serde(default)]
    pub not_flags: Vec<String>,
    #[serde(default)]
    pub args: Vec<Spanned<String>>,
    #[serde(default)]
    pub not_args: Vec<Spanned<String>>,
    #[serde(default)]
    pub paths: Vec<PathClass>,
    #[serde(default)]
    pub path_globs: Vec<String>,
    #[serde(default)]
    pub sql: Vec<SqlKind>,
    /// Literal stdin (here-string, heredoc, echo pipe) matches one regex; stdin we cannot see
    /// (a pipe from an unknown command, `< file`) counts as a match.
    #[serde(default)]
    pub stdin: Vec<Spanned<String>>,
    #[serde(default)]
    pub regex: Option<Spanned<String>>,
    #[serde(default)]
    pub when: When,
    pub action: Decision,
    pub message: String,
    #[serde(default)]
    pub examples: Examples,
}

/// A built-in pack as `build.rs` writes it: every rule a [`RuleStub`], every program a
/// [`ProgramStub`].
pub type StubbedPack = PackFile<RuleStub, ProgramStub>;

/// A built-in `[[programs]]` entry before its first use, as `build.rs` writes it (a MessagePack
/// array in field order): its name and aliases, and where its whole table ([`ProgramSpec`])
/// lies in the pack's bodies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramStub {
    /// The program's name as written (lowercased when filed); borrowed from the embedded
    /// MessagePack, like every string of a stub.
    pub name: &'static str,
    /// Other names that run the same program.
    #[serde(default)]
    pub aliases: Vec<&'static str>,
    /// `[offset, length]` in bytes into [`CompiledForm::bodies`].
    pub body: [usize; 2],
}

/// The bytes `[offset, length]` names within `bodies`; `None` if they do not fit.
pub fn body_at(body: [usize; 2], bodies: &'static [u8]) -> Option<&'static [u8]> {
    let [at, len] = body;
    bodies.get(at..at.checked_add(len)?)
}

/// Decodes one program body written by `build.rs`.
pub fn decode_program(body: &[u8]) -> Result<ProgramSpec, String> {
    rmp_serde::from_slice(body).map_err(|e| e.to_string())
}

/// A built-in rule before its first use, as `build.rs` writes it (a MessagePack array in field
/// order): what indexing the rule needs, and where its whole table ([`RuleSpec`], MessagePack)
/// lies in the pack's rule bodies.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleStub {
    /// The rule's id (`pack.name`); borrowed from the embedded MessagePack, like every string
    /// of a stub (a `check` process decodes ~130 stubs and uses a handful).
    pub id: &'static str,
    /// As [`RuleSpec::program`].
    #[serde(default)]
    pub program: Vec<&'static str>,
    /// As [`RuleSpec::subcommand`] (only the first position is indexed).
    #[serde(default)]
    pub subcommand: Vec<&'static str>,
    /// The action as written (before `[overrides]`).
    pub action: Decision,
    /// `[offset, length]` in bytes into [`CompiledForm::bodies`].
    pub body: [usize; 2],
}

/// Decodes one rule body written by `build.rs` (see [`body_at`]).
pub fn decode_rule(body: &[u8]) -> Result<RuleSpec, String> {
    rmp_serde::from_slice(body).map_err(|e| e.to_string())
}

/// A condition on the command's resolved target.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// The target's tier is one of these.
    #[serde(default)]
    pub tier: Vec<Tier>,
    /// The target's tier is at least this (`development < unknown < staging < production`).
    #[serde(default)]
    pub min_tier: Option<Tier>,
    /// The target's name matches this regex.
    #[serde(default)]
    pub target: Option<Spanned<String>>,
    /// The target's name does not match this regex.
    #[serde(default)]
    pub not_target: Option<Spanned<String>>,
    /// A condition on another fact of the session's context, e.g. which feature-flag provider a
    /// custom probe says is live: `when.fact = { probe = "flag-provider", not = "^launchdarkly$" }`.
    #[serde(default)]
    pub fact: Option<FactCondition>,
}

/// `when.fact`: the session has a fact named by `probe` (a custom probe's name, or a fact kind
/// such as `kube`, `aws`, `git`) whose value matches `is` and does not match `not` (regexes on the
/// fact's name). With no such fact the rule does not fire.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactCondition {
    pub probe: String,
    #[serde(default)]
    pub is: Option<Spanned<String>>,
    #[serde(default)]
    pub not: Option<Spanned<String>>,
}

/// Embedded test cases, run by `overwatch rules test` and when a user/team/project pack loads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Commands the rule must fire on.
    #[serde(default, rename = "match")]
    pub matches: Vec<Spanned<String>>,
    /// Commands the rule must not fire on.
    #[serde(default)]
    pub no_match: Vec<Spanned<String>>,
    /// The tier of every target while the examples run (default production).
    #[serde(default)]
    pub tier: Option<Tier>,
}

/// A protected path (agent file tools, redirects, diff warnings).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PathSpec {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: String,
    /// Globs: without `/` they match a file name anywhere; `~/` is the home directory; `**`
    /// crosses directories.
    pub globs: Vec<String>,
    /// Globs excluded from `globs` (`.env.example`).
    #[serde(default)]
    pub not_globs: Vec<String>,
    #[serde(default)]
    pub access: Access,
    pub action: Decision,
    pub message: String,
}

/// Which file accesses a [`PathSpec`] guards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    Read,
    Write,
    #[default]
    Any,
}

/// A value and the byte range of the pack text it was written at (for file:line:column errors
/// and example locations).
///
/// From TOML (any human-readable format) it carries the real span, read through
/// [`toml::Spanned`]; from the build-time MessagePack form of the built-in packs (see `build.rs`) it
/// carries `0..0`: those packs are checked by `overwatch rules test`, which reads their TOML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    span: std::ops::Range<usize>,
    value: T,
}

impl<T> Spanned<T> {
    /// The value.
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// Byte range in the pack text (`0..0` when read from the compiled form).
    pub fn span(&self) -> std::ops::Range<usize> {
        self.span.clone()
    }

    /// The value, by move.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            let s = toml::Spanned::<T>::deserialize(deserializer)?;
            Ok(Spanned {
                span: s.span(),
                value: s.into_inner(),
            })
        } else {
            Ok(Spanned {
                span: 0..0,
                value: T::deserialize(deserializer)?,
            })
        }
    }
}

/// A pack's text and where it came from (a path, or `builtin:NAME` for embedded packs).
#[derive(Debug, Clone)]
pub struct PackSource {
    pub origin: String,
    pub path: Option<PathBuf>,
    /// The pack's TOML (borrowed for built-in packs: no copy at every start).
    pub text: std::borrow::Cow<'static, str>,
    /// The same pack pre-parsed into MessagePack at build time (built-in packs only; see
    /// `build.rs`): it is decoded instead of parsing `text`.
    pub compiled: Option<CompiledForm>,
}

impl PackSource {
    /// A pack given as text (tests, benches, generated packs).
    pub fn inline(origin: impl Into<String>, text: impl Into<String>) -> PackSource {
        PackSource {
            origin: origin.into(),
            path: None,
            text: std::borrow::Cow::Owned(text.into()),
            compiled: None,
        }
    }
}

/// A rule pack failed to load. Renders with miette as `file:line:column` plus a caret under the
/// offending text; `overwatch` exits 2 on it.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    /// Syntax, schema, regex or example error inside a pack file.
    #[error("{location}: {message}")]
    #[diagnostic(code(overwatch::rules::pack))]
    Pack {
        /// `file:line:column` of the error.
        location: String,
        message: String,
        #[source_code]
        src: std::sync::Arc<NamedSource<String>>,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
    },
    /// A pack or directory could not be read.
    #[error("reading rule pack {path}: {source}")]
    #[diagnostic(code(overwatch::rules::io))]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The trust file exists but is not valid JSON.
    #[error("reading trust file {path}: {message}")]
    #[diagnostic(code(overwatch::rules::trust))]
    Trust { path: String, message: String },
}

impl LoadError {
    /// An error at `span` (byte range) of `source`.
    pub fn at(
        source: &PackSource,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> LoadError {
        let (line, col) = line_col(&source.text, span.start);
        let start = span.start.min(source.text.len());
        let end = span.end.clamp(start, source.text.len());
        LoadError::Pack {
            location: format!("{}:{line}:{col}", source.origin),
            message: message.into(),
            src: std::sync::Arc::new(NamedSource::new(
                source.origin.clone(),
                source.text.to_string(),
            )),
            span: SourceSpan::new(start.into(), end - start),
            label: label.into(),
        }
    }

    /// `file:line:column` of a pack error (for tests and plain output), if it has one.
    pub fn location(&self) -> Option<&str> {
        match self {
            LoadError::Pack { location, .. } => Some(location),
            _ => None,
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A built-in pack's build-time form (MessagePack, see `build.rs`).
#[derive(Debug, Clone, Copy)]
pub struct CompiledForm {
    /// The pack, each rule and program a stub ([`StubbedPack`]).
    pub pack: &'static [u8],
    /// The rules' and programs' tables, one after another (located by the stubs' `body`).
    pub bodies: &'static [u8],
}

/// An error in a built-in pack's compiled form, pointing at the pack (spans are `0..0`).
fn compiled_form_error(source: &PackSource, e: impl std::fmt::Display) -> LoadError {
    LoadError::at(
        source,
        0..0,
        format!("decoding the compiled built-in pack: {e}"),
        "this pack",
    )
}

/// Decodes a built-in pack's stubbed form; errors point at the pack (spans are `0..0`).
pub fn parse_stubbed(source: &PackSource, form: CompiledForm) -> Result<StubbedPack, LoadError> {
    rmp_serde::from_slice::<StubbedPack>(form.pack).map_err(|e| compiled_form_error(source, e))
}

/// Parses a pack's TOML, mapping syntax and schema errors to spans; a built-in pack's compiled
/// form is decoded instead (its spans are `0..0`).
pub fn parse_pack(source: &PackSource) -> Result<PackFile, LoadError> {
    if let Some(form) = source.compiled {
        let stubbed = parse_stubbed(source, form)?;
        let decode = |what: &str, body: [usize; 2]| {
            body_at(body, form.bodies).ok_or_else(|| {
                compiled_form_error(source, format_args!("{what}: body out of range"))
            })
        };
        let failed = |e: String| compiled_form_error(source, e);
        let rules = stubbed
            .rules
            .iter()
            .map(|stub| decode_rule(decode(stub.id, stub.body)?).map_err(failed))
            .collect::<Result<Vec<_>, _>>()?;
        let programs = stubbed
            .programs
            .iter()
            .map(|stub| decode_program(decode(stub.name, stub.body)?).map_err(failed))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(PackFile {
            name: stubbed.name,
            version: stubbed.version,
            description: stubbed.description,
            programs,
            rules,
            paths: stubbed.paths,
            pins: stubbed.pins,
            probes: stubbed.probes,
            overrides: stubbed.overrides,
        });
    }
    toml::from_str::<PackFile>(&source.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().to_string();
        LoadError::at(source, span, message.clone(), first_line(&message))
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// Reads a pack file from disk.
pub fn read_pack(path: &Path) -> Result<PackSource, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(PackSource {
        origin: path.display().to_string(),
        path: Some(path.to_path_buf()),
        text: text.into(),
        compiled: None,
    })
}

/// The `*.toml` files of a directory, sorted by name (a missing directory has none). A file path
/// is returned as is.
pub fn pack_paths(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if !path.exists() {
        return Ok(Vec::new());
    }
    let entries = std::fs::read_dir(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

/// One built-in pack: its TOML (the source of truth, for `rules test` and messages) and the
/// same pack pre-parsed into MessagePack by `build.rs`.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinPack {
    pub name: &'static str,
    pub text: &'static str,
    pub compiled: CompiledForm,
}

macro_rules! builtin_packs {
    ($($name:literal),* $(,)?) => {
        &[$(BuiltinPack {
            name: $name,
            text: include_str!(concat!("../../rules/", $name, ".toml")),
            compiled: CompiledForm {
                pack: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".msgpack")),
                bodies: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".bodies.msgpack")),
            },
        }),*]
    };
}

/// The built-in packs, embedded at compile time, in load order.
pub const BUILTIN: &[BuiltinPack] = builtin_packs![
    "core",
    "git",
    "kubernetes",
    "terraform",
    "aws",
    "gcloud",
    "azure",
    "databases",
    "docker",
    "feature-flags",
    "secrets",
    "platforms",
];

/// The built-in packs as sources, decoded from their compiled form (fast; spans `0..0`, no
/// embedded examples).
pub fn builtin_sources() -> Vec<PackSource> {
    builtin_sources_with(true)
}

/// The built-in packs as sources; `compiled = false` parses their TOML (exact spans and the
/// embedded examples, several times slower), as `overwatch rules test` and `rules lint` do.
pub fn builtin_sources_with(compiled: bool) -> Vec<PackSource> {
    BUILTIN
        .iter()
        .map(|p| PackSource {
            origin: format!("builtin:rules/{}.toml", p.name),
            path: None,
            text: std::borrow::Cow::Borrowed(p.text),
            compiled: compiled.then_some(p.compiled),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str) -> PackSource {
        PackSource::inline("t.toml", text)
    }

    #[test]
    fn builtin_stubs_agree_with_their_bodies() {
        // The engine indexes built-in rules by their stubs and compiles the body on first use:
        // a stub that disagreed with its body would file the rule under the wrong program.
        let mut rules = 0;
        for (builtin, source) in BUILTIN.iter().zip(builtin_sources()) {
            let stubbed = parse_stubbed(&source, builtin.compiled).unwrap();
            let bodies = builtin.compiled.bodies;
            let mut end = 0;
            let mut next = |body: [usize; 2]| {
                assert_eq!(body[0], end, "bodies are laid out in order");
                end = body[0] + body[1];
                body_at(body, bodies).expect("body in range")
            };
            for stub in &stubbed.programs {
                let spec = decode_program(next(stub.body)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(spec.name, stub.name);
                assert_eq!(spec.aliases, stub.aliases, "{}", stub.name);
            }
            for stub in &stubbed.rules {
                let body = next(stub.body);
                let spec = decode_rule(body).unwrap_or_else(|e| panic!("{}: {e}", stub.id));
                assert_eq!(spec.id.get_ref(), &stub.id);
                assert_eq!(spec.program, stub.program, "{}", stub.id);
                assert_eq!(spec.subcommand, stub.subcommand, "{}", stub.id);
                assert_eq!(spec.action, stub.action, "{}", stub.id);
                rules += 1;
            }
            assert_eq!(end, bodies.len(), "{}", builtin.name);
        }
        assert!(rules > 100, "{rules}");
    }

    #[test]
    fn compiled_builtin_packs_equal_their_toml() {
        let spans = regex::Regex::new(r"span: \d+\.\.\d+").unwrap();
        let shape = |p: &PackFile| {
            spans
                .replace_all(&format!("{p:#?}"), "span: _")
                .into_owned()
        };
        for (compiled, toml) in builtin_sources_with(true)
            .iter()
            .zip(builtin_sources_with(false))
        {
            assert!(compiled.compiled.is_some() && toml.compiled.is_none());
            let a = parse_pack(compiled).unwrap_or_else(|e| panic!("{e}"));
            let mut b = parse_pack(&toml).unwrap_or_else(|e| panic!("{e}"));
            let first = |p: &PackFile| p.rules.first().map(|r| r.id.span());
            // The TOML form keeps real spans; the compiled form has none, and no examples.
            assert_ne!(first(&b), Some(0..0), "{}", toml.origin);
            assert!(b.rules.iter().any(|r| !r.examples.matches.is_empty()));
            for r in &mut b.rules {
                r.examples = Examples::default();
            }
            assert_eq!(shape(&a), shape(&b), "{}", toml.origin);
        }
    }

    #[test]
    fn every_builtin_pack_parses() {
        for s in builtin_sources_with(false) {
            let p = parse_pack(&s).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                !p.rules.is_empty() || !p.paths.is_empty(),
                "{} is empty",
                s.origin
            );
        }
    }

    #[test]
    fn unknown_key_reports_line_and_column() {
        let text = "name = \"x\"\nversion = \"1\"\ndescription = \"d\"\n[[rules]]\nid = \"a\"\ndescriptoin = \"typo\"\n";
        let err = parse_pack(&src(text))
            .err()
            .map(|e| e.location().map(str::to_string));
        assert_eq!(err, Some(Some("t.toml:6:1".into())));
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
