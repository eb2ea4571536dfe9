//! AWS: the profile the AWS CLI/SDKs would use, its region, account id, credential kind and expiry.
//!
//! Sources (as starship reads them, plus account and credential kind): profile from the first set
//! of `AWSU_PROFILE`, `AWS_VAULT`, `AWSUME_PROFILE`, `AWS_PROFILE`, `AWS_SSO_PROFILE` (a command's
//! `--profile` beats them), else `default`; region from `AWS_REGION`, `AWS_DEFAULT_REGION`, else the
//! profile's `region` in `AWS_CONFIG_FILE` / `~/.aws/config` (`[profile NAME]`, `[default]`).
//! Credentials file `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CREDENTIALS_FILE` / `~/.aws/credentials`.
//! Account id from `sso_account_id` or the `role_arn` (`arn:aws:iam::<account>:role/…`).
//! Expiry from `AWS_CREDENTIAL_EXPIRATION`/`AWS_SESSION_EXPIRATION`/`AWSUME_EXPIRATION`, the
//! credentials file (`expiration`, `x_security_token_expires`) or the SSO token cache
//! `~/.aws/sso/cache/<sha1(sso_session or sso_start_url)>.json` (`expiresAt`).
//! Secret keys and tokens are only ever tested for presence.

use std::collections::BTreeMap;
use std::path::Path;

use ini::Ini;
use serde::Deserialize;

use super::FactKind;
use super::scan::{FileRead, Scan, parse_ini, sha1_hex};

const PROFILE_VARS: &[&str] = &[
    "AWSU_PROFILE",
    "AWS_VAULT",
    "AWSUME_PROFILE",
    "AWS_PROFILE",
    "AWS_SSO_PROFILE",
];

/// Loads an INI file, reporting unreadable/malformed files as `unknown` facts.
fn load(s: &mut Scan, path: &Path) -> Option<Ini> {
    let shown = s.display(path);
    match s.read(path) {
        FileRead::Text(t) => match parse_ini(&t) {
            Ok(ini) => Some(ini),
            Err(e) => {
                let reason = format!("cannot parse {shown}: {e}");
                s.broken(FactKind::Aws, "(malformed aws file)", shown, reason);
                None
            }
        },
        FileRead::Missing => None,
        FileRead::Unreadable(msg) => {
            s.broken(FactKind::Aws, "(unreadable aws file)", shown, msg);
            None
        }
    }
}

fn get<'a>(ini: Option<&'a Ini>, section: &str, key: &str) -> Option<&'a str> {
    ini?.section(Some(section))?
        .get(key)
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The config-file section for a profile: `[default]` (or `[profile default]`), else
/// `[profile NAME]`.
fn config_section(config: Option<&Ini>, profile: &str) -> String {
    if profile == "default" {
        let has_plain = config.is_some_and(|c| c.section(Some("default")).is_some());
        if has_plain {
            return "default".into();
        }
    }
    format!("profile {profile}")
}

/// `arn:aws:iam::123456789012:role/Name` → `123456789012`.
pub fn account_from_arn(arn: &str) -> Option<&str> {
    let acct = arn.split(':').nth(4)?;
    (acct.len() == 12 && acct.bytes().all(|b| b.is_ascii_digit())).then_some(acct)
}

#[derive(Deserialize)]
struct SsoToken {
    #[serde(rename = "expiresAt")]
    expires_at: Option<String>,
}

/// `when` plus ` (expired)` if it parses as a past timestamp.
fn expiry_label(when: &str) -> String {
    let normalized = when.trim().replace("UTC", "Z");
    match normalized.parse::<jiff::Timestamp>() {
        Ok(t) if t < jiff::Timestamp::now() => format!("{} (expired)", when.trim()),
        _ => when.trim().to_string(),
    }
}

/// Emits the AWS profile fact and credentials found in the AWS files.
pub fn probe(s: &mut Scan) {
    let config_path = s
        .var("AWS_CONFIG_FILE")
        .map(|p| s.expand(p))
        .unwrap_or_else(|| s.home(".aws/config"));
    let creds_path = s
        .first_var(&["AWS_SHARED_CREDENTIALS_FILE", "AWS_CREDENTIALS_FILE"])
        .map(|(_, p)| s.expand(p))
        .unwrap_or_else(|| s.home(".aws/credentials"));
    let config = load(s, &config_path);
    let creds = load(s, &creds_path);
    let (config, creds) = (config.as_ref(), creds.as_ref());
    // Every profile with keys in the credentials file is usable by the agent (`--profile X`),
    // whichever profile is selected.
    if let Some(ini) = creds {
        let shown = s.display(&creds_path);
        for (section, props) in ini.iter() {
            if let Some(name) = section
                && props.get("aws_access_key_id").is_some()
            {
                s.credential("aws-static-keys", format!("profile {name}"), shown.clone());
            }
        }
    }

    let (profile, profile_source) = match (&s.overrides.aws_profile, s.first_var(PROFILE_VARS)) {
        (Some(p), _) => (p.clone(), "command --profile".to_string()),
        (None, Some((var, p))) => (p.to_string(), format!("env {var}")),
        (None, None) => ("default".to_string(), String::new()),
    };
    let section = config_section(config, &profile);
    let cfg = |key: &str| get(config, &section, key);
    let cred = |key: &str| get(creds, &profile, key);

    let env_key = s
        .var("AWS_ACCESS_KEY_ID")
        .filter(|_| s.overrides.aws_profile.is_none())
        .map(|k| k.get(..4).unwrap_or("").to_string());
    let (kind, kind_source) = if let Some(key) = &env_key {
        let kind = match key.get(..4) {
            Some("AKIA") => "env keys, long-lived (AKIA)",
            Some("ASIA") => "env keys, temporary (ASIA)",
            _ => "env keys",
        };
        (Some(kind.to_string()), "env AWS_ACCESS_KEY_ID".to_string())
    } else if cred("aws_access_key_id").is_some() {
        let kind = if cred("aws_session_token").is_some() {
            "credentials file, temporary"
        } else {
            "credentials file, long-lived"
        };
        s.credential(
            "aws-static-keys",
            format!("profile {profile}"),
            s.display(&creds_path),
        );
        (Some(kind.to_string()), s.display(&creds_path))
    } else if cfg("credential_process").is_some() {
        (Some("credential_process".into()), s.display(&config_path))
    } else if cfg("sso_session").is_some() || cfg("sso_start_url").is_some() {
        (Some("SSO".into()), s.display(&config_path))
    } else if let Some(src) = cfg("source_profile") {
        (
            Some(format!("assume role via source_profile {src}")),
            s.display(&config_path),
        )
    } else if cfg("credential_source").is_some() {
        (
            Some("assume role via credential_source".into()),
            s.display(&config_path),
        )
    } else if cfg("web_identity_token_file").is_some() {
        (Some("web identity".into()), s.display(&config_path))
    } else {
        (None, String::new())
    };

    let named = !profile_source.is_empty();
    let has_section = config.is_some_and(|c| c.section(Some(section.as_str())).is_some());
    if kind.is_none() && !named && !has_section {
        return; // No AWS target at all: nothing to show.
    }

    let region = s
        .first_var(&["AWS_REGION", "AWS_DEFAULT_REGION"])
        .map(|(_, r)| r.to_string())
        .or_else(|| cfg("region").map(str::to_string));
    let role_arn = cfg("role_arn").map(str::to_string);
    let account = cfg("sso_account_id").map(str::to_string).or_else(|| {
        role_arn
            .as_deref()
            .and_then(account_from_arn)
            .map(str::to_string)
    });

    let mut expires = s
        .first_var(&[
            "AWS_CREDENTIAL_EXPIRATION",
            "AWS_SESSION_EXPIRATION",
            "AWSUME_EXPIRATION",
        ])
        .filter(|_| env_key.is_some() || s.var("AWSUME_PROFILE").is_some())
        .map(|(_, v)| v.to_string());
    if expires.is_none() && env_key.is_none() {
        expires = cred("expiration")
            .or_else(|| cred("x_security_token_expires"))
            .map(str::to_string);
    }
    if expires.is_none() && env_key.is_none() {
        let cache_key = cfg("sso_session").or_else(|| cfg("sso_start_url"));
        if let Some(hex) = cache_key.and_then(|k| sha1_hex(k.as_bytes())) {
            let path = s.home(&format!(".aws/sso/cache/{hex}.json"));
            if let FileRead::Text(t) = s.read(&path)
                && let Ok(tok) = serde_json::from_str::<SsoToken>(&t)
            {
                s.credential(
                    "aws-sso-token",
                    format!("profile {profile}"),
                    s.display(&path),
                );
                expires = tok.expires_at;
            }
        }
    }

    let mut details = BTreeMap::new();
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            details.insert(k.to_string(), v);
        }
    };
    put("region", region);
    put("account", account.clone());
    put("role_arn", role_arn.clone());
    put("sso_role", cfg("sso_role_name").map(str::to_string));
    put(
        "credentials",
        Some(kind.clone().unwrap_or_else(|| "none found".into())),
    );
    put("expires", expires.as_deref().map(expiry_label));

    let verdict = s.classify(
        FactKind::Aws,
        &[
            ("account", account.as_deref().unwrap_or("")),
            ("aws profile", &profile),
            ("role", role_arn.as_deref().unwrap_or("")),
            ("sso role", cfg("sso_role_name").unwrap_or("")),
        ],
    );
    let source = match (named, kind.is_some()) {
        (true, _) => profile_source,
        (false, true) => kind_source,
        (false, false) => s.display(&config_path),
    };
    s.fact(FactKind::Aws, profile, details, source, verdict);
}
