//! The gate's wire protocol: one JSON request line from the client, one JSON response line back,
//! then the connection closes.
//!
//! Request: `{"token":"<64 hex>","layer":"hook|shim|exec","agent":"claude-code","command":"…"}`
//! (or `"argv":[…]`, or `"path":"…","access":"read|write"`) plus `"cwd"`, `"pid"` and `"env"` (only
//! [`GATE_ENV_KEYS`], URL passwords stripped). Response:
//! `{"decision":"allow|deny","reason":"…","rules":["pack/id",…],"decided_by":"rules|human|…"}`.
//!
//! **Invariant:** the wire answer is only ever allow or deny; there is no message a client can send
//! that answers a held request.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{DecidedBy, GateRequest, Layer, PathAccess, Subject};

/// Longest request line the server reads (bytes, newline included); longer requests are refused.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;

/// Environment variables a client forwards because rules resolve targets from them. Values are
/// sent with URL passwords stripped ([`strip_url_password`]) and are never logged.
pub const GATE_ENV_KEYS: &[&str] = &[
    "HOME",
    "KUBECONFIG",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "CLOUDSDK_CORE_PROJECT",
    "CLOUDSDK_ACTIVE_CONFIG_NAME",
    "CLOUDSDK_CONFIG",
    "GOOGLE_CLOUD_PROJECT",
    "AZURE_CONFIG_DIR",
    "AZURE_SUBSCRIPTION_ID",
    "TF_WORKSPACE",
    "TF_DATA_DIR",
    "PULUMI_STACK",
    "DOCKER_CONTEXT",
    "DOCKER_HOST",
    "DATABASE_URL",
    "PGHOST",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGSERVICE",
    "MYSQL_HOST",
    "REDIS_URL",
    "MONGODB_URI",
];

/// A request as sent on the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRequest {
    pub token: String,
    pub layer: Layer,
    pub agent: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argv: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<PathAccess>,
    pub cwd: PathBuf,
    #[serde(default)]
    pub pid: u32,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// Why a wire request could not be turned into a [`GateRequest`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("the request must carry exactly one of command, argv or path")]
    Subject,
    #[error("the request's argv is empty")]
    EmptyArgv,
}

impl WireRequest {
    /// Builds the wire form of `req` with the session token.
    pub fn new(token: &str, req: &GateRequest) -> Self {
        let (command, argv, path, access) = match &req.subject {
            Subject::Command(c) => (Some(c.clone()), None, None, None),
            Subject::Argv(a) => (None, Some(a.clone()), None, None),
            Subject::Path { access, path } => (None, None, Some(path.clone()), Some(*access)),
        };
        WireRequest {
            token: token.to_string(),
            layer: req.layer,
            agent: req.agent.clone(),
            command,
            argv,
            path,
            access,
            cwd: req.cwd.clone(),
            pid: req.pid,
            env: req.env.clone(),
        }
    }

    /// The request without its token (call only after the token was checked).
    pub fn into_request(self) -> Result<GateRequest, ProtocolError> {
        let subject = match (self.command, self.argv, self.path) {
            (Some(c), None, None) => Subject::Command(c),
            (None, Some(a), None) if a.is_empty() => return Err(ProtocolError::EmptyArgv),
            (None, Some(a), None) => Subject::Argv(a),
            (None, None, Some(path)) => Subject::Path {
                access: self.access.unwrap_or(PathAccess::Write),
                path,
            },
            _ => return Err(ProtocolError::Subject),
        };
        Ok(GateRequest {
            layer: self.layer,
            agent: self.agent,
            subject,
            cwd: self.cwd,
            pid: self.pid,
            env: self.env,
        })
    }
}

/// The only two answers a client ever receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireDecision {
    Allow,
    Deny,
}

/// A response as sent on the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireResponse {
    pub decision: WireDecision,
    pub reason: String,
    /// Fired rules as `pack/id`.
    #[serde(default)]
    pub rules: Vec<String>,
    pub decided_by: DecidedBy,
}

impl WireResponse {
    /// A refusal decided by the gate itself (bad token, malformed request).
    pub fn refused(reason: impl Into<String>) -> Self {
        WireResponse {
            decision: WireDecision::Deny,
            reason: reason.into(),
            rules: Vec::new(),
            decided_by: DecidedBy::Rules,
        }
    }
}

/// A fresh session token: 32 random bytes from the OS, hex-encoded (64 characters).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

/// Compares two tokens in time independent of where they differ (lengths are public: 64).
pub fn tokens_equal(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Removes the password from a `scheme://user:password@host…` URL (`user:***@`); other text is
/// returned unchanged. Used on env values before they leave the client and on logged text.
pub fn strip_url_password(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(scheme_end) = rest.find("://") {
        let authority_start = scheme_end + 3;
        out.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '\'')
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &rest[authority_end..];
    }
    out.push_str(rest);
    out
}

/// The forwarded env subset of `env` (an iterator over the client's environment).
pub fn env_subset(env: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    env.into_iter()
        .filter(|(k, _)| GATE_ENV_KEYS.contains(&k.as_str()))
        .map(|(k, v)| {
            let v = strip_url_password(&v);
            (k, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_stripped_and_the_rest_kept() {
        let cases = [
            (
                "postgres://app:s3cret@db.prod:5432/shop",
                "postgres://app:***@db.prod:5432/shop",
            ),
            (
                "psql 'postgresql://u:p@h/db' -c x; redis://:pw@r:6379",
                "psql 'postgresql://u:***@h/db' -c x; redis://:***@r:6379",
            ),
            ("https://host/path?a=b", "https://host/path?a=b"),
            ("postgres://user@h/db", "postgres://user@h/db"),
            ("no url here", "no url here"),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_url_password(input), expected, "{input}");
        }
    }

    #[test]
    fn tokens_compare_exactly() {
        let t = new_token().unwrap();
        assert_eq!(t.len(), 64);
        assert!(tokens_equal(&t, &t.clone()));
        let mut other = t.clone().into_bytes();
        other[63] = if other[63] == b'0' { b'1' } else { b'0' };
        assert!(!tokens_equal(&t, std::str::from_utf8(&other).unwrap()));
        assert!(!tokens_equal(&t, &t[..63]));
        assert_ne!(t, new_token().unwrap());
    }

    #[test]
    fn wire_requests_need_exactly_one_subject() {
        let req = |command: Option<&str>, argv: Option<Vec<String>>| WireRequest {
            token: String::new(),
            layer: Layer::Shim,
            agent: "x".into(),
            command: command.map(String::from),
            argv,
            path: None,
            access: None,
            cwd: "/".into(),
            pid: 1,
            env: BTreeMap::new(),
        };
        assert_eq!(req(None, None).into_request(), Err(ProtocolError::Subject));
        assert_eq!(
            req(Some("ls"), Some(vec!["ls".into()])).into_request(),
            Err(ProtocolError::Subject)
        );
        assert_eq!(
            req(None, Some(vec![])).into_request(),
            Err(ProtocolError::EmptyArgv)
        );
        assert!(req(Some("ls"), None).into_request().is_ok());
    }

    #[test]
    fn env_subset_keeps_only_known_keys_without_passwords() {
        let env = [
            ("DATABASE_URL", "postgres://a:b@h/d"),
            ("AWS_SECRET_ACCESS_KEY", "xyz"),
            ("KUBECONFIG", "/k"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let subset = env_subset(env);
        assert_eq!(subset.len(), 2);
        assert_eq!(subset["DATABASE_URL"], "postgres://a:***@h/d");
    }
}
