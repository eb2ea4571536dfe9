//! Pulumi: the selected stack of the project containing the working directory.
//!
//! Sources (as starship reads them): `Pulumi.yaml` (or `.yml`) found upward from the cwd → its
//! `name`; `$PULUMI_HOME` or `~/.pulumi` → `workspaces/<name>-<sha1(absolute path of
//! Pulumi.yaml)>-workspace.json` → `stack`; the user from `credentials.json` (`current` backend
//! URL → `accounts[url].username`; the access token is only noted as a credential).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::FactKind;
use super::scan::{FileRead, Scan, details, safe_error, sha1_hex};

#[derive(Deserialize)]
struct Project {
    name: String,
}

#[derive(Deserialize)]
struct Workspace {
    #[serde(default)]
    stack: Option<String>,
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    accounts: BTreeMap<String, Account>,
}

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    username: Option<String>,
    #[serde(default, rename = "accessToken")]
    access_token: Option<serde::de::IgnoredAny>,
}

/// Emits the Pulumi stack fact.
pub fn probe(s: &mut Scan) {
    let Some(project_file) = s.input.cwd.ancestors().find_map(|d| {
        ["Pulumi.yaml", "Pulumi.yml"]
            .iter()
            .map(|f| d.join(f))
            .find(|p| p.is_file())
    }) else {
        return;
    };
    let shown = s.display(&project_file);
    let project: Project = match s.read(&project_file) {
        FileRead::Text(t) => match serde_yaml_ng::from_str(&t) {
            Ok(p) => p,
            Err(e) => {
                let reason = format!("cannot parse {shown}: {}", safe_error(&e));
                s.broken(FactKind::Pulumi, "(malformed Pulumi.yaml)", shown, reason);
                return;
            }
        },
        FileRead::Missing => return,
        FileRead::Unreadable(msg) => {
            s.broken(FactKind::Pulumi, "(unreadable Pulumi.yaml)", shown, msg);
            return;
        }
    };
    let pulumi_home = s
        .var("PULUMI_HOME")
        .map(|p| s.expand(p))
        .unwrap_or_else(|| s.home(".pulumi"));
    let Some(hash) = sha1_hex(project_file.to_string_lossy().as_bytes()) else {
        return;
    };
    let ws_path = pulumi_home
        .join("workspaces")
        .join(format!("{}-{hash}-workspace.json", project.name));
    let ws_shown = s.display(&ws_path);
    let stack = match s.read(&ws_path) {
        FileRead::Text(t) => match serde_json::from_str::<Workspace>(&t) {
            Ok(w) => w.stack,
            Err(e) => {
                let reason = format!("cannot parse {ws_shown}: {}", safe_error(&e));
                s.broken(FactKind::Pulumi, "(malformed workspace)", ws_shown, reason);
                return;
            }
        },
        FileRead::Missing => None,
        FileRead::Unreadable(msg) => {
            s.broken(FactKind::Pulumi, "(unreadable workspace)", ws_shown, msg);
            return;
        }
    };
    let creds_path = pulumi_home.join("credentials.json");
    let mut user = None;
    if let FileRead::Text(t) = s.read(&creds_path)
        && let Ok(c) = serde_json::from_str::<Credentials>(&t)
        && let Some(acct) = c.current.as_ref().and_then(|u| c.accounts.get(u))
    {
        user = acct.username.clone();
        if acct.access_token.is_some() {
            let label = format!("pulumi backend {}", c.current.clone().unwrap_or_default());
            s.credential("pulumi-access-token", label, s.display(&creds_path));
        }
    }
    let Some(stack) = stack.filter(|x| !x.is_empty()) else {
        let verdict = super::Verdict {
            tier: super::Tier::Unknown,
            reason: format!("no stack selected for project '{}'", project.name),
        };
        let d = details([("project", Some(project.name.as_str()))]);
        s.fact(FactKind::Pulumi, "(no stack selected)", d, shown, verdict);
        return;
    };
    // The project name is not classified: every stack of `payments-prod-infra` is not production.
    let verdict = s.classify(FactKind::Pulumi, &[("pulumi stack", &stack)]);
    let d = details([
        ("project", Some(project.name.as_str())),
        ("user", user.as_deref()),
    ]);
    s.fact(FactKind::Pulumi, stack, d, ws_shown, verdict);
}
