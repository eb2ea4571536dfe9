//! Context: which environments and credentials the agent is really pointed at.
//!
//! Owns the pure probes (kube, AWS, gcloud, Azure, Terraform/OpenTofu, Pulumi, Docker, git, SSH,
//! databases and services from env, credentials present, custom probes) and the tier verdicts.
//!
//! **Invariant:** probes read files and the given env map only — never a subprocess, never the
//! network — and a secret *value* never leaves a probe (facts carry hosts, names and sources).

pub mod tier;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use tier::{Tier, TierPin, Verdict};

/// What a probe may look at: the user's home, the agent's working directory and its environment.
/// Tests build one over a temp dir; nothing in `context` reads the process's real env directly.
#[derive(Debug, Clone, Default)]
pub struct ProbeEnv {
    pub home: PathBuf,
    pub cwd: PathBuf,
    pub env: BTreeMap<String, String>,
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
/// (`Development` when there are no facts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub tier: Option<Tier>,
    pub facts: Vec<Fact>,
    pub credentials: Vec<Credential>,
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
/// command's real target).
pub fn detect_with(_input: &ProbeEnv, _knowledge: &Knowledge, _overrides: &Overrides) -> Context {
    Context::default()
}

/// Classifies a value of the given kind (a context name, account id, host…) by pins first, then by
/// name. Several values may identify one fact (context, cluster, server URL): the first pin that
/// matches any of them wins; otherwise the most severe name-based verdict.
pub fn classify(_kind: FactKind, values: &[&str], _knowledge: &Knowledge) -> Verdict {
    let _ = values;
    Verdict {
        tier: Tier::Unknown,
        reason: "not classified yet".into(),
    }
}
