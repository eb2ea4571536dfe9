//! Credentials present in the agent's environment and workspace: names and kinds only.
//!
//! Three detectors over the env map: well-known variable names (AWS keys, GitHub/GitLab tokens,
//! LLM API keys, Vault/Nomad/Consul tokens, …), secret-like names (`*_TOKEN`, `*_SECRET`,
//! `*_PASSWORD`, `*_API_KEY`, …), and values with a known secret prefix (`ghp_`, `glpat-`,
//! `sk-ant-`, `AKIA…`, private-key blocks — the gitleaks formats), plus database URLs carrying a
//! password. And `.env*` files in the working directory, listing the secret-like keys they set.
//!
//! **Invariant:** a value is only inspected here, never copied into a [`super::Credential`].

use super::scan::{FileRead, Scan};
use super::services::{is_db_url_var, parse_url};

/// `Credential.source` for variables in the agent's environment (what `--scrub-env` removes).
pub const ENV_SOURCE: &str = "env";

/// Well-known credential variables and their kind.
const KNOWN: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "aws-access-key"),
    ("AWS_SECRET_ACCESS_KEY", "aws-secret-key"),
    ("AWS_SESSION_TOKEN", "aws-session-token"),
    ("AWS_SECURITY_TOKEN", "aws-session-token"),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "aws-web-identity"),
    ("GITHUB_TOKEN", "github-token"),
    ("GH_TOKEN", "github-token"),
    ("GH_ENTERPRISE_TOKEN", "github-token"),
    ("GITHUB_PAT", "github-token"),
    ("GITLAB_TOKEN", "gitlab-token"),
    ("GL_TOKEN", "gitlab-token"),
    ("CI_JOB_TOKEN", "gitlab-token"),
    ("ANTHROPIC_API_KEY", "anthropic-api-key"),
    ("ANTHROPIC_AUTH_TOKEN", "anthropic-api-key"),
    ("OPENAI_API_KEY", "openai-api-key"),
    ("GEMINI_API_KEY", "google-api-key"),
    ("GOOGLE_API_KEY", "google-api-key"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "gcp-credentials-file"),
    ("CLOUDSDK_AUTH_ACCESS_TOKEN_FILE", "gcp-credentials-file"),
    ("AZURE_CLIENT_SECRET", "azure-client-secret"),
    ("ARM_CLIENT_SECRET", "azure-client-secret"),
    ("ARM_ACCESS_KEY", "azure-storage-key"),
    ("VAULT_TOKEN", "vault-token"),
    ("NOMAD_TOKEN", "nomad-token"),
    ("CONSUL_HTTP_TOKEN", "consul-token"),
    ("ARGOCD_AUTH_TOKEN", "argocd-token"),
    ("PGPASSWORD", "database-password"),
    ("MYSQL_PWD", "database-password"),
    ("PULUMI_ACCESS_TOKEN", "pulumi-access-token"),
    ("DIGITALOCEAN_TOKEN", "digitalocean-token"),
    ("CLOUDFLARE_API_TOKEN", "cloudflare-token"),
    ("HCLOUD_TOKEN", "hetzner-token"),
    ("NPM_TOKEN", "npm-token"),
    ("NODE_AUTH_TOKEN", "npm-token"),
    ("CARGO_REGISTRY_TOKEN", "cargo-token"),
    ("HEROKU_API_KEY", "heroku-api-key"),
    ("STRIPE_SECRET_KEY", "stripe-key"),
    ("STRIPE_API_KEY", "stripe-key"),
    ("SLACK_BOT_TOKEN", "slack-token"),
    ("SENTRY_AUTH_TOKEN", "sentry-token"),
    ("SSH_AUTH_SOCK", "ssh-agent"),
];

/// Value prefixes of well-known secret formats (gitleaks ids in comments).
const VALUE_PREFIXES: &[(&str, &str)] = &[
    ("ghp_", "github-token"),         // github-pat
    ("gho_", "github-token"),         // github-oauth
    ("ghu_", "github-token"),         // github-app-token
    ("ghs_", "github-token"),         // github-app-token
    ("ghr_", "github-token"),         // github-refresh-token
    ("github_pat_", "github-token"),  // github-fine-grained-pat
    ("glpat-", "gitlab-token"),       // gitlab-pat
    ("sk-ant-", "anthropic-api-key"), // anthropic-api-key
    ("sk-proj-", "openai-api-key"),   // openai-api-key
    ("xoxb-", "slack-token"),         // slack-bot-token
    ("xoxp-", "slack-token"),         // slack-user-token
    ("AIza", "google-api-key"),       // gcp-api-key
    ("npm_", "npm-token"),            // npm-access-token
    ("sk_live_", "stripe-key"),       // stripe-access-token
    ("rk_live_", "stripe-key"),       // stripe-access-token
    ("-----BEGIN", "private-key"),    // private-key
];

/// Whether a variable *name* looks like it holds a secret (`API_KEY`, `DB_PASSWORD`, …).
pub fn secret_like_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper.split(['_', '-', '.']).collect();
    let single = [
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "APIKEY",
        "CREDENTIALS",
        "PASSPHRASE",
    ];
    if words.iter().any(|w| single.contains(w)) {
        return true;
    }
    words.windows(2).any(|w| {
        matches!(
            (w[0], w[1]),
            (
                "API" | "ACCESS" | "PRIVATE" | "SECRET" | "SIGNING" | "ENCRYPTION" | "MASTER",
                "KEY"
            )
        )
    })
}

/// The kind of a secret recognised by its value's format, if any.
pub fn kind_from_value(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if let Some((_, kind)) = VALUE_PREFIXES.iter().find(|(p, _)| v.starts_with(p)) {
        return Some(kind);
    }
    let aws_id = v.len() == 20
        && ["AKIA", "ASIA", "ABIA", "ACCA"]
            .iter()
            .any(|p| v.starts_with(p))
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    aws_id.then_some("aws-access-key")
}

/// The kind of credential a variable holds, if it holds one.
pub fn env_credential_kind(name: &str, value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return None;
    }
    if name == "AWS_ACCESS_KEY_ID" {
        return Some(match value.get(..4) {
            Some("AKIA") => "aws-access-key (long-lived AKIA)".into(),
            Some("ASIA") => "aws-access-key (temporary ASIA)".into(),
            _ => "aws-access-key".into(),
        });
    }
    if let Some((_, kind)) = KNOWN.iter().find(|(n, _)| *n == name) {
        return Some((*kind).to_string());
    }
    if name.starts_with("TF_TOKEN_") {
        return Some("terraform-token".into());
    }
    if let Some(kind) = kind_from_value(value) {
        return Some(kind.to_string());
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with("_proxy") || lower == "proxy" {
        return parse_url(value)
            .is_some_and(|t| t.has_password)
            .then(|| "proxy-password".into());
    }
    if is_db_url_var(name) || name.ends_with("_URL") || name.ends_with("_URI") {
        if parse_url(value).is_some_and(|t| t.has_password) {
            return Some("database-password".into());
        }
        return None;
    }
    secret_like_name(name).then(|| "secret-like variable".into())
}

/// Emits a credential for every secret in the env map and every `.env*` file in the cwd.
pub fn probe(s: &mut Scan) {
    let found: Vec<(String, String)> = s
        .input
        .env
        .iter()
        .filter_map(|(name, value)| env_credential_kind(name, value).map(|k| (k, name.clone())))
        .collect();
    for (kind, name) in found {
        s.credential(&kind, name, ENV_SOURCE);
    }
    dotenv_files(s);
}

fn dotenv_files(s: &mut Scan) {
    let Some(names) = s.dir_names(&s.input.cwd) else {
        return;
    };
    let mut files: Vec<std::path::PathBuf> = names
        .iter()
        .filter(|n| {
            let n = n.to_string_lossy();
            (n == ".env" || n.starts_with(".env.") || n == ".envrc")
                && !n.ends_with(".example")
                && !n.ends_with(".sample")
                && !n.ends_with(".template")
        })
        .map(|n| s.input.cwd.join(n))
        .collect();
    files.sort();
    for path in files {
        let shown = s.display(&path);
        let FileRead::Text(text) = s.read(&path) else {
            s.credential("dotenv-file", "(unreadable)", shown);
            continue;
        };
        let mut keys: Vec<String> = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            let line = line.strip_prefix("export ").unwrap_or(line);
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim();
            if key.starts_with('#') || key.is_empty() || key.contains(' ') {
                continue;
            }
            let value = value.trim().trim_matches(['"', '\'']);
            if env_credential_kind(key, value).is_some() {
                keys.push(key.to_string());
            }
        }
        let name = if keys.is_empty() {
            "no secret-like keys".to_string()
        } else {
            keys.join(", ")
        };
        let kind = if path.ends_with(".envrc") {
            "direnv-file"
        } else {
            "dotenv-file"
        };
        s.credential(kind, name, shown);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_classify() {
        let yes = [
            ("GITHUB_TOKEN", "x"),
            ("MY_SERVICE_API_KEY", "x"),
            ("DB_PASSWORD", "x"),
            ("STRIPE_SECRET", "x"),
            ("RANDOM_NAME", "ghp_0123456789abcdefghij0123456789abcdef"),
            ("SOMETHING", "AKIAIOSFODNN7EXAMPLE"),
            ("DATABASE_URL", "postgres://u:p@h/db"),
            ("CACHE_URL", "redis://:pw@h:6379"),
            ("TF_TOKEN_app_terraform_io", "x"),
            ("https_proxy", "http://me:pw@proxy.corp:3128"),
        ];
        for (n, v) in yes {
            assert!(env_credential_kind(n, v).is_some(), "{n}");
        }
        let no = [
            ("PWD", "/home/x"),
            ("OLDPWD", "/tmp"),
            ("KEYBOARD", "us"),
            ("PATH", "/usr/bin"),
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TOKENIZERS_PARALLELISM", "false"),
            ("XAUTHORITY", "/run/user/1000/xauth"),
            ("GITHUB_TOKEN", ""),
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
        ];
        for (n, v) in no {
            assert!(env_credential_kind(n, v).is_none(), "{n}");
        }
    }
}
