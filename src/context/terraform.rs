//! Terraform / OpenTofu: the selected workspace and the state backend, for a working directory
//! that looks like a Terraform root module.
//!
//! Only when the directory holds `*.tf`, `*.tf.json`, `*.tfplan`, `*.tfstate` or `.terraform/`
//! (starship's rule). Directory: the cwd, or `-chdir=` from the command. Workspace:
//! `TF_WORKSPACE` (or the command's), else `$TF_DATA_DIR/environment` (relative to the directory),
//! else `.terraform/environment`, else `default`. Backend: `.terraform/terraform.tfstate` JSON
//! `backend.type` and an allowlist of `backend.config` keys (bucket, key, prefix, region,
//! storage account/container, organization, workspace name, path) — never credentials or
//! connection strings. OpenTofu uses the same files.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::FactKind;
use super::scan::{FileRead, Scan, safe_error};

/// Backend config keys safe to show (the rest may hold access keys, tokens, `conn_str`).
const BACKEND_KEYS: &[&str] = &[
    "bucket",
    "key",
    "prefix",
    "workspace_key_prefix",
    "region",
    "storage_account_name",
    "container_name",
    "resource_group_name",
    "organization",
    "hostname",
    "path",
    "schema_name",
];

#[derive(Deserialize)]
struct BackendState {
    #[serde(default)]
    backend: Option<Backend>,
}

#[derive(Deserialize)]
struct Backend {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    config: Option<serde_json::Map<String, Value>>,
}

/// Whether `dir` looks like a Terraform/OpenTofu root module.
fn is_terraform_dir(s: &Scan, dir: &Path) -> bool {
    if dir.join(".terraform").is_dir() {
        return true;
    }
    let Some(names) = s.dir_names(dir) else {
        return false;
    };
    names.iter().any(|name| {
        let name = name.to_string_lossy();
        [".tf", ".tf.json", ".tfplan", ".tfstate", ".tofu"]
            .iter()
            .any(|ext| name.ends_with(ext))
    })
}

/// Emits the terraform workspace fact.
pub fn probe(s: &mut Scan) {
    let dir = match &s.overrides.tf_chdir {
        Some(d) => s.expand(d),
        None => s.input.cwd.clone(),
    };
    s.watch(&dir.join(".terraform"));
    if !is_terraform_dir(s, &dir) {
        return;
    }
    let data_dir = s
        .var("TF_DATA_DIR")
        .map(|d| dir.join(d))
        .unwrap_or_else(|| dir.join(".terraform"));
    let env_path = data_dir.join("environment");
    let (workspace, source) = if let Some(w) = &s.overrides.tf_workspace {
        (w.clone(), "command TF_WORKSPACE".to_string())
    } else if let Some(w) = s.var("TF_WORKSPACE") {
        (w.trim().to_string(), "env TF_WORKSPACE".to_string())
    } else {
        match s.read(&env_path) {
            FileRead::Text(t) if !t.trim().is_empty() => {
                (t.trim().to_string(), s.display(&env_path))
            }
            FileRead::Unreadable(msg) => {
                let shown = s.display(&env_path);
                s.broken(FactKind::Terraform, "(unreadable workspace)", shown, msg);
                return;
            }
            _ => ("default".to_string(), s.display(&dir)),
        }
    };

    let mut details = std::collections::BTreeMap::new();
    details.insert("dir".to_string(), s.display(&dir));
    let state_path = data_dir.join("terraform.tfstate");
    let mut backend_values: Vec<(String, String)> = Vec::new();
    match s.read(&state_path) {
        FileRead::Text(t) => match serde_json::from_str::<BackendState>(&t) {
            Ok(BackendState {
                backend: Some(b), ..
            }) => {
                if let Some(kind) = b.kind {
                    details.insert("backend".into(), kind);
                }
                for (k, v) in b.config.unwrap_or_default() {
                    if let (true, Some(v)) = (BACKEND_KEYS.contains(&k.as_str()), v.as_str())
                        && !v.is_empty()
                    {
                        details.insert(k.clone(), v.to_string());
                        backend_values.push((k, v.to_string()));
                    }
                }
            }
            Ok(_) => {}
            Err(e) => {
                let shown = s.display(&state_path);
                let reason = format!("cannot parse {shown}: {}", safe_error(&e));
                s.broken(
                    FactKind::Terraform,
                    "(malformed backend state)",
                    shown,
                    reason,
                );
            }
        },
        FileRead::Missing => {}
        FileRead::Unreadable(msg) => {
            let shown = s.display(&state_path);
            s.broken(
                FactKind::Terraform,
                "(unreadable backend state)",
                shown,
                msg,
            );
        }
    }
    let mut values: Vec<(&str, &str)> = vec![("terraform workspace", workspace.as_str())];
    let labels: Vec<String> = backend_values
        .iter()
        .map(|(k, _)| format!("backend {k}"))
        .collect();
    for ((_, v), label) in backend_values.iter().zip(&labels) {
        values.push((label.as_str(), v.as_str()));
    }
    let mut verdict = s.classify(FactKind::Terraform, &values);
    if workspace == "default" && verdict.tier == super::Tier::Unknown {
        verdict.reason = format!(
            "workspace 'default' says nothing about the target; {}",
            verdict.reason
        );
    }
    s.fact(FactKind::Terraform, workspace, details, source, verdict);
}
