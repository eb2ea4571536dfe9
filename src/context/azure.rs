//! Azure: the default subscription of the Azure CLI, and the subscription Terraform's azurerm
//! provider is pointed at.
//!
//! Sources: `AZURE_CONFIG_DIR` or `~/.azure` → `azureProfile.json` (written with a UTF-8 BOM, which
//! [`Scan::read`] strips): `subscriptions[]` with `isDefault: true` → `name`, `id`, `tenantId`,
//! `user.name`. `ARM_SUBSCRIPTION_ID` / `AZURE_SUBSCRIPTION_ID` name a subscription by id.

use serde::Deserialize;

use super::FactKind;
use super::scan::{FileRead, Scan, details, safe_error};

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    subscriptions: Vec<Subscription>,
}

#[derive(Deserialize)]
struct Subscription {
    #[serde(default)]
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "isDefault")]
    is_default: bool,
    #[serde(default, rename = "tenantId")]
    tenant_id: Option<String>,
    #[serde(default)]
    user: Option<User>,
}

#[derive(Deserialize)]
struct User {
    #[serde(default)]
    name: Option<String>,
}

/// Emits the Azure default-subscription fact and the env-selected subscription fact.
pub fn probe(s: &mut Scan) {
    let dir = s
        .var("AZURE_CONFIG_DIR")
        .map(|p| s.expand(p))
        .unwrap_or_else(|| s.home(".azure"));
    let path = dir.join("azureProfile.json");
    let shown = s.display(&path);
    let mut subscriptions = Vec::new();
    match s.read(&path) {
        FileRead::Text(t) => match serde_json::from_str::<Profile>(&t) {
            Ok(p) => subscriptions = p.subscriptions,
            Err(e) => {
                let reason = format!("cannot parse {shown}: {}", safe_error(&e));
                s.broken(
                    FactKind::Azure,
                    "(malformed azureProfile.json)",
                    shown.clone(),
                    reason,
                );
            }
        },
        FileRead::Missing => {}
        FileRead::Unreadable(msg) => s.broken(
            FactKind::Azure,
            "(unreadable azureProfile.json)",
            shown.clone(),
            msg,
        ),
    }
    if let Some((var, id)) = s.first_var(&["ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"]) {
        let (var, id) = (var.to_string(), id.to_string());
        let known = subscriptions
            .iter()
            .find(|x| x.id.eq_ignore_ascii_case(&id));
        let name = known.map(|x| x.name.clone()).unwrap_or_default();
        let verdict = s.classify(
            FactKind::Azure,
            &[("subscription", &id), ("subscription name", &name)],
        );
        let d = details([("id", Some(id.as_str())), ("name", Some(name.as_str()))]);
        let fact_name = if name.is_empty() { id.clone() } else { name };
        s.fact(FactKind::Azure, fact_name, d, format!("env {var}"), verdict);
    }
    let Some(sub) = subscriptions.iter().find(|x| x.is_default) else {
        return;
    };
    let verdict = s.classify(
        FactKind::Azure,
        &[("subscription", &sub.id), ("subscription name", &sub.name)],
    );
    let d = details([
        ("id", Some(sub.id.as_str())),
        ("tenant", sub.tenant_id.as_deref()),
        ("user", sub.user.as_ref().and_then(|u| u.name.as_deref())),
    ]);
    s.fact(FactKind::Azure, sub.name.clone(), d, shown, verdict);
}
