//! gcloud: the active configuration's account, project and region, and the service account named
//! by `GOOGLE_APPLICATION_CREDENTIALS`.
//!
//! Sources (as starship reads them): config dir `CLOUDSDK_CONFIG` or `~/.config/gcloud`; active
//! configuration `CLOUDSDK_ACTIVE_CONFIG_NAME` or the first line of `<dir>/active_config` (`NONE`
//! means none); `<dir>/configurations/config_<NAME>` (INI): `[core] account`, `[core] project`,
//! `[compute] region`; env `CLOUDSDK_CORE_PROJECT` and `CLOUDSDK_COMPUTE_REGION` win, and a
//! command's `--project` beats both. A service-account key file (JSON with `type`,
//! `client_email`, `project_id`) is a second fact: its project is a target too.

use serde::Deserialize;

use super::FactKind;
use super::scan::{FileRead, Scan, details, parse_ini, safe_error};

#[derive(Deserialize)]
struct KeyFile {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    client_email: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
}

/// Emits the gcloud configuration fact and the application-default-credentials fact.
pub fn probe(s: &mut Scan) {
    configuration(s);
    application_credentials(s);
}

fn configuration(s: &mut Scan) {
    let dir = s
        .var("CLOUDSDK_CONFIG")
        .map(|p| s.expand(p))
        .unwrap_or_else(|| s.home(".config/gcloud"));
    let active_path = dir.join("active_config");
    let name = match s.var("CLOUDSDK_ACTIVE_CONFIG_NAME") {
        Some(n) => n.trim().to_string(),
        None => match s.read(&active_path) {
            FileRead::Text(t) => t.lines().next().unwrap_or("").trim().to_string(),
            FileRead::Missing => return,
            FileRead::Unreadable(msg) => {
                let shown = s.display(&active_path);
                s.broken(FactKind::Gcloud, "(unreadable gcloud config)", shown, msg);
                return;
            }
        },
    };
    if name.is_empty() || name == "NONE" {
        return;
    }
    let path = dir.join("configurations").join(format!("config_{name}"));
    let shown = s.display(&path);
    let ini = match s.read(&path) {
        FileRead::Text(t) => match parse_ini(&t) {
            Ok(ini) => Some(ini),
            Err(e) => {
                let reason = format!("cannot parse {shown}: {e}");
                s.broken(FactKind::Gcloud, &name, shown, reason);
                return;
            }
        },
        FileRead::Missing => None,
        FileRead::Unreadable(msg) => {
            s.broken(FactKind::Gcloud, &name, shown, msg);
            return;
        }
    };
    let get = |section: &str, key: &str| {
        ini.as_ref()?
            .section(Some(section))?
            .get(key)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let project = s
        .overrides
        .gcloud_project
        .clone()
        .or_else(|| s.var("CLOUDSDK_CORE_PROJECT").map(str::to_string))
        .or_else(|| get("core", "project"));
    let region = s
        .var("CLOUDSDK_COMPUTE_REGION")
        .map(str::to_string)
        .or_else(|| get("compute", "region"));
    let account = get("core", "account");
    let verdict = s.classify(
        FactKind::Gcloud,
        &[
            ("project", project.as_deref().unwrap_or("")),
            ("gcloud configuration", &name),
            ("account", account.as_deref().unwrap_or("")),
        ],
    );
    let d = details([
        ("configuration", Some(name.as_str())),
        ("account", account.as_deref()),
        ("region", region.as_deref()),
    ]);
    let fact_name = project.clone().unwrap_or_else(|| format!("({name})"));
    s.fact(FactKind::Gcloud, fact_name, d, shown, verdict);
}

fn application_credentials(s: &mut Scan) {
    let Some(path) = s.var("GOOGLE_APPLICATION_CREDENTIALS").map(|p| s.expand(p)) else {
        return;
    };
    let shown = s.display(&path);
    let source = format!("env GOOGLE_APPLICATION_CREDENTIALS ({shown})");
    let text = match s.read(&path) {
        FileRead::Text(t) => t,
        FileRead::Missing => {
            let reason = format!("{shown} does not exist");
            s.broken(
                FactKind::Gcloud,
                "(missing credentials file)",
                source,
                reason,
            );
            return;
        }
        FileRead::Unreadable(msg) => {
            s.broken(
                FactKind::Gcloud,
                "(unreadable credentials file)",
                source,
                msg,
            );
            return;
        }
    };
    let key: KeyFile = match serde_json::from_str(&text) {
        Ok(k) => k,
        Err(e) => {
            let reason = format!("cannot parse {shown}: {}", safe_error(&e));
            s.broken(
                FactKind::Gcloud,
                "(malformed credentials file)",
                source,
                reason,
            );
            return;
        }
    };
    let kind = key.kind.clone().unwrap_or_else(|| "unknown".into());
    let label = match (&key.client_email, &key.project_id) {
        (Some(email), Some(p)) => format!("{email} (project {p})"),
        (Some(email), None) => email.clone(),
        (None, _) => kind.clone(),
    };
    s.credential(
        "gcp-credentials-file",
        label,
        "env GOOGLE_APPLICATION_CREDENTIALS",
    );
    let project = key.project_id.clone().unwrap_or_default();
    let verdict = s.classify(
        FactKind::Gcloud,
        &[
            ("project", &project),
            ("service account", key.client_email.as_deref().unwrap_or("")),
        ],
    );
    let d = details([
        ("credentials", Some(kind.as_str())),
        ("service_account", key.client_email.as_deref()),
    ]);
    let name = if project.is_empty() {
        "(application default credentials)".to_string()
    } else {
        project
    };
    s.fact(FactKind::Gcloud, name, d, source, verdict);
}
