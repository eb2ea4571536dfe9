//! Docker: which daemon `docker` talks to.
//!
//! Sources (starship's order): `DOCKER_MACHINE_NAME`, `DOCKER_HOST`, `DOCKER_CONTEXT`, else
//! `currentContext` in `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`; a command's
//! `-H`/`--host` beats them. A named context's endpoint comes from
//! `<config dir>/contexts/meta/<sha256(name)>/meta.json` → `Endpoints.docker.Host`. The local
//! daemon (no context, `default`, `desktop-linux`, `unix://`) is development; a remote `tcp://` or
//! `ssh://` host is classified by name and is `unknown` otherwise.

use serde::Deserialize;
use sha2::Digest;

use super::FactKind;
use super::scan::{FileRead, Scan, details, safe_error, strip_userinfo};

#[derive(Deserialize)]
struct Config {
    #[serde(default, rename = "currentContext")]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default, rename = "Endpoints")]
    endpoints: Option<Endpoints>,
}

#[derive(Deserialize)]
struct Endpoints {
    #[serde(default)]
    docker: Option<Endpoint>,
}

#[derive(Deserialize)]
struct Endpoint {
    #[serde(default, rename = "Host")]
    host: Option<String>,
}

fn is_local(host: &str) -> bool {
    host.is_empty() || host.starts_with("unix://") || host.starts_with("npipe://")
}

/// Emits the docker target fact (nothing for the plain local daemon).
pub fn probe(s: &mut Scan) {
    let config_dir = s
        .var("DOCKER_CONFIG")
        .map(|p| s.expand(p))
        .unwrap_or_else(|| s.home(".docker"));
    let (name, source, mut host) = if let Some(h) = &s.overrides.docker_host {
        (
            strip_userinfo(h),
            "command --host".to_string(),
            strip_userinfo(h),
        )
    } else if let Some((var, v)) =
        s.first_var(&["DOCKER_MACHINE_NAME", "DOCKER_HOST", "DOCKER_CONTEXT"])
    {
        let v = strip_userinfo(v);
        let host = if var == "DOCKER_HOST" {
            v.clone()
        } else {
            String::new()
        };
        (v, format!("env {var}"), host)
    } else {
        let path = config_dir.join("config.json");
        let shown = s.display(&path);
        match s.read(&path) {
            FileRead::Text(t) => match serde_json::from_str::<Config>(&t) {
                Ok(c) => match c.current_context.filter(|c| !c.is_empty()) {
                    Some(c) => (c, shown, String::new()),
                    None => return,
                },
                Err(e) => {
                    let reason = format!("cannot parse {shown}: {}", safe_error(&e));
                    s.broken(FactKind::Docker, "(malformed docker config)", shown, reason);
                    return;
                }
            },
            FileRead::Missing => return,
            FileRead::Unreadable(msg) => {
                s.broken(FactKind::Docker, "(unreadable docker config)", shown, msg);
                return;
            }
        }
    };
    if host.is_empty() && name != "default" && !name.contains("://") {
        let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
        let meta = config_dir
            .join("contexts/meta")
            .join(digest)
            .join("meta.json");
        if let FileRead::Text(t) = s.read(&meta)
            && let Ok(m) = serde_json::from_str::<Meta>(&t)
        {
            host = m
                .endpoints
                .and_then(|e| e.docker)
                .and_then(|d| d.host)
                .map(|h| strip_userinfo(&h))
                .unwrap_or_default();
        }
    }
    let local_name = matches!(
        name.as_str(),
        "default" | "desktop-linux" | "colima" | "orbstack"
    );
    let verdict = if is_local(&host) && (local_name || is_local(&name)) {
        super::Verdict {
            tier: super::Tier::Development,
            reason: format!("docker '{name}' is the local daemon"),
        }
    } else {
        s.classify(
            FactKind::Docker,
            &[("docker context", &name), ("docker host", &host)],
        )
    };
    let d = details([("host", Some(host.as_str()))]);
    s.fact(FactKind::Docker, name, d, source, verdict);
}
