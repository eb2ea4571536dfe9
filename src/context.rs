//! Context: which environments and credentials the agent is really pointed at.
//!
//! Owns the pure probes (kube, AWS, gcloud, Azure, Terraform/OpenTofu, Pulumi, Docker, git, SSH,
//! databases and services from env, credentials present, custom probes) and the tier verdicts.
//!
//! **Invariant:** probes read files and the given env map only — never a subprocess, never the
//! network — and a secret *value* never leaves a probe (facts carry hosts, names and sources).
//! A malformed or unreadable file becomes an `unknown` fact whose reason says what went wrong;
//! no probe panics or fails the whole detection.
//!
//! This module refers to nothing outside itself (no `crate::` paths) so benches and tests can
//! include it directly.

mod aws;
mod azure;
mod credentials;
mod custom;
mod docker;
mod gcloud;
mod git;
mod kube;
mod pulumi;
mod scan;
mod services;
mod ssh;
mod terraform;
pub mod tier;
pub mod watch;

/// Fixture homes for tests and benchmarks (not part of the product API).
#[doc(hidden)]
pub mod testkit;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use tier::{Tier, TierPin, Verdict};
pub use watch::ContextWarning;

/// What a probe may look at: the user's home, the agent's working directory and its environment.
/// Tests build one over a temp dir; only [`ProbeEnv::from_process`] (the edge) reads the real
/// process. `Debug` prints variable *names* only: the env map holds secrets.
#[derive(Clone, Default)]
pub struct ProbeEnv {
    pub home: PathBuf,
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
}

impl std::fmt::Debug for ProbeEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeEnv")
            .field("home", &self.home)
            .field("cwd", &self.cwd)
            .field("env (names only)", &self.env.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// This process's environment as UTF-8 pairs. Variables whose name or value is not UTF-8 are
/// skipped (no probe or rule reads them), where `std::env::vars()` would panic.
pub fn process_env() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

impl ProbeEnv {
    /// The real process: its environment, `$HOME` (or the passwd entry via `dirs`) and current
    /// directory. If `HOSTNAME` is not exported (bash sets it without exporting), it is filled from
    /// `/proc/sys/kernel/hostname` (else `/etc/hostname`) here, at the edge, so the SSH probe can
    /// name the host from the env map alone.
    ///
    /// Errors: the current directory cannot be determined (deleted, no permission).
    pub fn from_process() -> std::io::Result<ProbeEnv> {
        let cwd = std::env::current_dir()?;
        let mut env = process_env();
        let home = env
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(dirs::home_dir)
            .unwrap_or_else(|| PathBuf::from("/"));
        if !env.contains_key("HOSTNAME")
            && let Some(name) = ["/proc/sys/kernel/hostname", "/etc/hostname"]
                .iter()
                .find_map(|p| std::fs::read_to_string(p).ok())
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty())
        {
            env.insert("HOSTNAME".into(), name);
        }
        Ok(ProbeEnv { home, cwd, env })
    }
}

/// Which family a fact belongs to. Serialized lowercase (`"kube"`, `"aws"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FactKind {
    Kube,
    Aws,
    Gcloud,
    Azure,
    Terraform,
    Pulumi,
    Docker,
    Git,
    Ssh,
    Database,
    Service,
    Custom,
}

impl FactKind {
    /// Every kind, in the order facts are listed.
    pub const ALL: [FactKind; 12] = [
        FactKind::Kube,
        FactKind::Aws,
        FactKind::Gcloud,
        FactKind::Azure,
        FactKind::Terraform,
        FactKind::Pulumi,
        FactKind::Docker,
        FactKind::Git,
        FactKind::Ssh,
        FactKind::Database,
        FactKind::Service,
        FactKind::Custom,
    ];

    /// The lowercase name used in JSON, pins (`kind = "aws"`) and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Kube => "kube",
            FactKind::Aws => "aws",
            FactKind::Gcloud => "gcloud",
            FactKind::Azure => "azure",
            FactKind::Terraform => "terraform",
            FactKind::Pulumi => "pulumi",
            FactKind::Docker => "docker",
            FactKind::Git => "git",
            FactKind::Ssh => "ssh",
            FactKind::Database => "database",
            FactKind::Service => "service",
            FactKind::Custom => "custom",
        }
    }

    /// Parses [`FactKind::as_str`] back (case-insensitive); `None` for an unknown name.
    pub fn parse(name: &str) -> Option<FactKind> {
        FactKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Display for FactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing overwatch knows about the environment, with its tier and why.
///
/// `name` is the identifying value a human recognises (kube context, AWS profile, workspace, DB
/// host…); `details` holds the rest (cluster, server, namespace, account, region…); `source` says
/// where it was read (`"~/.kube/config"`, `"env DATABASE_URL"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub kind: FactKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
    pub source: String,
    pub tier: Tier,
    pub reason: String,
}

/// A credential present in the agent's environment: its kind and name only, never its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub kind: String,
    pub name: String,
    pub source: String,
}

/// Everything detected for one session. `tier` is the maximum of the facts' tiers
/// (`Development` when there are no facts); see [`session_tier`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub tier: Tier,
    pub facts: Vec<Fact>,
    pub credentials: Vec<Credential>,
}

impl Default for Context {
    fn default() -> Self {
        Context {
            tier: Tier::Development,
            facts: Vec::new(),
            credentials: Vec::new(),
        }
    }
}

impl Context {
    /// Builds a context from facts and credentials, computing the session tier.
    pub fn new(facts: Vec<Fact>, credentials: Vec<Credential>) -> Context {
        Context {
            tier: session_tier(&facts),
            facts,
            credentials,
        }
    }

    /// The fact that decided the session tier (the first fact of the highest tier), if any.
    pub fn deciding_fact(&self) -> Option<&Fact> {
        self.facts.iter().find(|f| f.tier == self.tier)
    }

    /// The first fact of the given kind (kube context, AWS profile, …).
    pub fn fact(&self, kind: FactKind) -> Option<&Fact> {
        self.facts.iter().find(|f| f.kind == kind)
    }
}

/// The session's tier: the maximum of the facts' tiers, `Development` when there are none.
pub fn session_tier(facts: &[Fact]) -> Tier {
    facts
        .iter()
        .map(|f| f.tier)
        .max()
        .unwrap_or(Tier::Development)
}

/// A team-declared probe for a fact overwatch cannot guess (e.g. which feature-flag provider is
/// live). Declared in config or a rule pack:
///
/// ```toml
/// [[probes]]
/// name = "flag-provider"
/// description = "which feature-flag provider is live"
/// file = "config/flags.toml"          # relative to the workspace; `~/` for home
/// regex = 'provider\s*=\s*"(\w+)"'    # first capture group is the value
/// # env = "FLAG_PROVIDER"             # or read an env var instead of a file
/// [probes.tiers]                      # value → tier (optional; default unknown)
/// launchdarkly = "production"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomProbe {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub file: Option<String>,
    #[serde(default)]
    pub regex: Option<String>,
    #[serde(default)]
    pub env: Option<String>,
    #[serde(default)]
    pub tiers: BTreeMap<String, Tier>,
}

/// Team knowledge that feeds the probes: exact tier pins and custom probes, gathered from config
/// and every loaded rule pack.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    pub pins: Vec<TierPin>,
    pub probes: Vec<CustomProbe>,
}

/// What a single command says about its own target, overriding the ambient context
/// (`kubectl --context X`, `AWS_PROFILE=p aws …`, `terraform -chdir=d`, …). `None` = not said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub kube_context: Option<String>,
    pub kubeconfig: Option<String>,
    pub kube_namespace: Option<String>,
    pub aws_profile: Option<String>,
    pub gcloud_project: Option<String>,
    pub tf_workspace: Option<String>,
    pub tf_chdir: Option<String>,
    pub docker_host: Option<String>,
}

/// Runs every probe and returns the session's context.
pub fn detect(input: &ProbeEnv, knowledge: &Knowledge) -> Context {
    detect_with(input, knowledge, &Overrides::default())
}

/// Runs every probe with per-command overrides applied (used by the rule engine to resolve a
/// command's real target). An override replaces what the ambient env/files say for that family:
/// `kube_context` picks another context out of the same kubeconfigs, `kubeconfig` replaces the
/// `KUBECONFIG` list, `aws_profile` beats `AWS_PROFILE`, `tf_chdir` moves the terraform probe.
pub fn detect_with(input: &ProbeEnv, knowledge: &Knowledge, overrides: &Overrides) -> Context {
    detect_kinds(input, knowledge, overrides, &FactKind::ALL)
}

/// [`detect_with`] restricted to the probe families in `kinds` (each probe reports facts of its
/// own kind only, so the facts of those kinds are the same as a full detection's). Credentials
/// are scanned only when `kinds` is every kind. Used by the rule engine when a command names its own target (`kubectl
/// --context X`): it needs that family's facts and no other file read.
pub fn detect_kinds(
    input: &ProbeEnv,
    knowledge: &Knowledge,
    overrides: &Overrides,
    kinds: &[FactKind],
) -> Context {
    scan::run(input, knowledge, overrides, kinds).context
}

/// Cheaper [`detect_with`] for the rule engine: starts from an already detected `base` (the
/// ambient context of the session) and re-runs only the probe families an override touches
/// (kube, AWS, gcloud, terraform, docker); every other fact and all credentials come from `base`.
/// With no override set it returns `base` unchanged.
pub fn resolve_overrides(
    base: &Context,
    input: &ProbeEnv,
    knowledge: &Knowledge,
    overrides: &Overrides,
) -> Context {
    let touched = overrides.touched_kinds();
    if touched.is_empty() {
        return base.clone();
    }
    let fresh = scan::run(input, knowledge, overrides, &touched).context;
    let mut facts: Vec<Fact> = Vec::with_capacity(base.facts.len() + fresh.facts.len());
    for kind in FactKind::ALL {
        let source = if touched.contains(&kind) {
            &fresh.facts
        } else {
            &base.facts
        };
        facts.extend(source.iter().filter(|f| f.kind == kind).cloned());
    }
    Context::new(facts, base.credentials.clone())
}

impl Overrides {
    /// The probe families these overrides change.
    pub fn touched_kinds(&self) -> Vec<FactKind> {
        let mut kinds = Vec::new();
        if self.kube_context.is_some() || self.kubeconfig.is_some() || self.kube_namespace.is_some()
        {
            kinds.push(FactKind::Kube);
        }
        if self.aws_profile.is_some() {
            kinds.push(FactKind::Aws);
        }
        if self.gcloud_project.is_some() {
            kinds.push(FactKind::Gcloud);
        }
        if self.tf_workspace.is_some() || self.tf_chdir.is_some() {
            kinds.push(FactKind::Terraform);
        }
        if self.docker_host.is_some() {
            kinds.push(FactKind::Docker);
        }
        kinds
    }
}

/// Classifies a value of the given kind (a context name, account id, host…) by pins first, then by
/// name. Several values may identify one fact (context, cluster, server URL): the first pin that
/// matches any of them wins; otherwise the most severe name-based verdict.
///
/// Name rules (see [`tier::keyword_tier`]): `prod`, `prd`, `production`, `live` → production;
/// `stag`, `stage`, `staging`, `stg`, `uat`, `preprod`/`pre-prod` → staging; `dev`, `local`,
/// `localhost`, `test`, `kind-*`, `minikube`, `docker-desktop`, loopback addresses → development;
/// matched on word boundaries (`product-catalog` is not production); nothing → unknown.
pub fn classify(kind: FactKind, values: &[&str], knowledge: &Knowledge) -> Verdict {
    let labelled: Vec<(&str, &str)> = values.iter().map(|v| ("value", *v)).collect();
    tier::classify_labelled(kind, &labelled, &knowledge.pins)
}

/// Names of the environment variables to remove from the agent's environment for `--scrub-env`
/// (least privilege): every credential detected in `env`, sorted, each present in `env`.
/// overwatch's own variables (`OVERWATCH_*`, e.g. the gate's session token the hooks need) are
/// never in the plan.
pub fn scrub_plan(ctx: &Context, env: &BTreeMap<String, String>) -> Vec<String> {
    let mut names: Vec<String> = ctx
        .credentials
        .iter()
        .filter(|c| c.source == credentials::ENV_SOURCE && env.contains_key(&c.name))
        .filter(|c| !c.name.starts_with("OVERWATCH_"))
        .map(|c| c.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Checks team knowledge before use: pin kinds must name a [`FactKind`], each pin needs exactly
/// one of `value`/`pattern`, patterns and probe regexes must compile, and a probe needs a `file`
/// or an `env`. Returns every problem found, one line each.
pub fn validate_knowledge(knowledge: &Knowledge) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (i, pin) in knowledge.pins.iter().enumerate() {
        let label = pin
            .value
            .as_deref()
            .or(pin.pattern.as_deref())
            .unwrap_or("?");
        if let Some(kind) = &pin.kind
            && FactKind::parse(kind).is_none()
        {
            problems.push(format!("pin #{} ({label}): unknown kind '{kind}'", i + 1));
        }
        match (&pin.value, &pin.pattern) {
            (Some(_), Some(_)) | (None, None) => problems.push(format!(
                "pin #{} ({label}): needs exactly one of `value` or `pattern`",
                i + 1
            )),
            (None, Some(p)) => {
                if let Err(e) = regex::Regex::new(p) {
                    problems.push(format!("pin #{} pattern '{p}': {e}", i + 1));
                }
            }
            (Some(_), None) => {}
        }
    }
    for probe in &knowledge.probes {
        if let Err(e) = custom::check(probe) {
            problems.push(format!("probe '{}': {e}", probe.name));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
