//! Picks the literal credential values out of an agent's environment, for
//! `RecordOptions::env_secrets` / `Redactor::new`: values of variables whose names say they hold a
//! credential (`*_TOKEN`, `*SECRET*`, `*PASSWORD*`, `*API_KEY*`, …) and the passwords inside URL
//! values (`DATABASE_URL=postgres://app:<password>@db/app`).
//!
//! Invariant: only values are returned, never logged; paths (`GOOGLE_APPLICATION_CREDENTIALS=/…`)
//! and short values are skipped (the file's contents are not in the env; short values would
//! shred ordinary output).

use super::MIN_LITERAL_LEN;

/// Name fragments (upper case) that mark a credential variable.
const CREDENTIAL_NAMES: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
    "AUTH",
    "SESSION_KEY",
    "CLIENT_KEY",
    "SIGNING_KEY",
    "WEBHOOK",
];

fn is_credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    CREDENTIAL_NAMES.iter().any(|n| upper.contains(n))
        || upper.ends_with("_PASS")
        || upper.ends_with("_PW")
        || upper.ends_with("_PWD")
        || upper == "PGPASSWORD"
}

/// The password of a `scheme://user:password@host…` value, if any.
fn url_password(value: &str) -> Option<&str> {
    let rest = &value[value.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let (_, password) = userinfo.split_once(':')?;
    (!password.is_empty()).then_some(password)
}

/// Literal secret values found in `env` (deduplicated, in input order).
pub fn credential_values<'a>(env: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: &str| {
        if v.len() >= MIN_LITERAL_LEN && !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    };
    for (name, value) in env {
        let value = value.trim();
        if let Some(password) = url_password(value) {
            push(password);
            continue;
        }
        let looks_like_path = value.starts_with('/') || value.starts_with("~/");
        if is_credential_name(name) && !looks_like_path && !value.contains(char::is_whitespace) {
            push(value);
        }
    }
    out
}
