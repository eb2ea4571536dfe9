//! Kubernetes: the current kube context from the `KUBECONFIG` list (or `~/.kube/config`), merged as
//! kubectl does, with its cluster, server URL, user and namespace.
//!
//! Merge rules (kubectl `clientcmd` loading rules, also what starship reads): the list is split on
//! `:`; missing files are skipped; `current-context` is the first non-empty one across files; a
//! context, cluster or user is taken from the **first** file that defines that name. A file that
//! starts with `{` is JSON, anything else YAML. A missing namespace means `default`.
//! Overrides: `--kubeconfig` replaces the list, `--context` picks the context, `-n` the namespace.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::FactKind;
use super::scan::{FileRead, Scan, details, safe_error, strip_userinfo};

/// The subset of a kubeconfig we read. Credentials (`users[].user`) are never deserialized.
#[derive(Debug, Default, Deserialize)]
struct KubeConfig {
    #[serde(default, rename = "current-context")]
    current_context: Option<String>,
    #[serde(default)]
    contexts: Option<Vec<Named<ContextEntry>>>,
    #[serde(default)]
    clusters: Option<Vec<Named<ClusterEntry>>>,
}

#[derive(Debug, Deserialize)]
struct Named<T> {
    name: String,
    #[serde(default, alias = "context", alias = "cluster")]
    entry: Option<T>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ContextEntry {
    #[serde(default)]
    cluster: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
struct ClusterEntry {
    #[serde(default)]
    server: Option<String>,
}

/// The kubeconfig files in merge order.
fn config_files(s: &Scan) -> Vec<std::path::PathBuf> {
    if let Some(path) = s.overrides.kubeconfig.as_deref() {
        return vec![s.expand(path)];
    }
    match s.var("KUBECONFIG") {
        Some(list) => list
            .split(':')
            .filter(|p| !p.trim().is_empty())
            .map(|p| s.expand(p))
            .collect(),
        None => vec![s.home(".kube/config")],
    }
}

fn parse(text: &str) -> Result<KubeConfig, String> {
    if text.trim().is_empty() {
        return Ok(KubeConfig::default());
    }
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| safe_error(&e))
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| safe_error(&e))
    }
}

/// Emits the kube context fact (and an `unknown` fact per unreadable or malformed file).
pub fn probe(s: &mut Scan) {
    let mut current: Option<(String, String)> = None; // (name, source)
    let mut contexts: BTreeMap<String, ContextEntry> = BTreeMap::new();
    let mut clusters: BTreeMap<String, ClusterEntry> = BTreeMap::new();
    for path in config_files(s) {
        let shown = s.display(&path);
        let text = match s.read(&path) {
            FileRead::Text(t) => t,
            FileRead::Missing => continue,
            FileRead::Unreadable(msg) => {
                s.broken(FactKind::Kube, "(unreadable kubeconfig)", shown, msg);
                continue;
            }
        };
        let cfg = match parse(&text) {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("cannot parse {shown}: {e}");
                s.broken(FactKind::Kube, "(malformed kubeconfig)", shown, reason);
                continue;
            }
        };
        if current.is_none()
            && let Some(c) = cfg.current_context.filter(|c| !c.is_empty())
        {
            current = Some((c, shown.clone()));
        }
        for c in cfg.contexts.unwrap_or_default() {
            contexts
                .entry(c.name)
                .or_insert_with(|| c.entry.unwrap_or_default());
        }
        for c in cfg.clusters.unwrap_or_default() {
            clusters
                .entry(c.name)
                .or_insert_with(|| c.entry.unwrap_or_default());
        }
    }
    let (name, source) = match (&s.overrides.kube_context, current) {
        (Some(ctx), _) => (ctx.clone(), "command --context".to_string()),
        (None, Some(cur)) => cur,
        (None, None) => return,
    };
    let entry = contexts.get(&name).cloned();
    let defined = entry.is_some();
    let entry = entry.unwrap_or_default();
    let cluster = entry.cluster.clone().unwrap_or_default();
    let server = clusters
        .get(&cluster)
        .and_then(|c| c.server.as_deref().map(strip_userinfo))
        .unwrap_or_default();
    let namespace = s
        .overrides
        .kube_namespace
        .clone()
        .or(entry.namespace.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let user = entry.user.clone().unwrap_or_default();
    let mut verdict = s.classify(
        FactKind::Kube,
        &[
            ("kube context", &name),
            ("cluster", &cluster),
            ("server", &server),
            ("namespace", &namespace),
            ("user", &user),
        ],
    );
    if !defined {
        verdict.reason = format!("{} (context not defined in any kubeconfig)", verdict.reason);
    }
    let d = details([
        ("cluster", Some(cluster.as_str())),
        ("server", Some(server.as_str())),
        ("user", Some(user.as_str())),
        ("namespace", Some(namespace.as_str())),
    ]);
    s.fact(FactKind::Kube, name, d, source, verdict);
}
