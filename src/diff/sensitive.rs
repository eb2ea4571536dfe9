//! Sensitive files: which workspace paths raise a warning when they change (defaults merged with
//! globs from config and rule packs), how much of their content may be shown, and the warning
//! text. Redaction itself is in [`super::redact`].
//!
//! Globs use gitignore syntax (matched with the `ignore` crate): a glob without `/` matches the
//! file name at any depth (`.env*`, `*.pem`), one with `/` is anchored at the workspace root
//! (`.github/workflows/*`), `**` spans directories, a trailing `/` matches everything under a
//! directory. Globs starting with `~/` are expanded to the home directory and matched against
//! absolute paths.
//!
//! **Invariant:** [`summarize`] names keys and line counts, never values.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::compute::{ContentPolicy, DiffBody, FileDiff};
use super::redact::{redact_assignments, redact_secrets};
use super::{ChangeKind, FileChange};

/// A sensitive-file glob with the label shown in warnings (from config or a rule pack).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct SensitiveGlob {
    pub glob: String,
    pub label: String,
}

/// How much of a sensitive file's content may be shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitiveKind {
    /// `KEY=value` files: keys are named in warnings, values always redacted.
    Dotenv,
    /// Credential-like files (keys, tfstate, kubeconfigs, registry tokens): content never shown.
    Credential,
    /// Files whose change matters but whose text is useful (CI, migrations, lockfiles,
    /// manifests, overwatch config): shown, every line through the secrets redactor.
    Guarded,
}

impl SensitiveKind {
    /// The content policy for diffs of such a file.
    pub fn policy(self) -> ContentPolicy {
        match self {
            SensitiveKind::Credential => ContentPolicy::Hide,
            SensitiveKind::Dotenv => ContentPolicy::Redact(redact_assignments),
            // Lockfiles, CI, migrations: `version = "1.2.3"` must stay readable.
            SensitiveKind::Guarded => ContentPolicy::Redact(redact_secrets),
        }
    }
}

/// The built-in sensitive globs: `(glob, label, kind)`.
pub const DEFAULT_GLOBS: &[(&str, &str, SensitiveKind)] = &[
    (".env", "dotenv file", SensitiveKind::Dotenv),
    (".env.*", "dotenv file", SensitiveKind::Dotenv),
    ("*.env", "dotenv file", SensitiveKind::Dotenv),
    (".envrc", "direnv file", SensitiveKind::Dotenv),
    (
        "*.pem",
        "private key or certificate",
        SensitiveKind::Credential,
    ),
    ("*.key", "private key", SensitiveKind::Credential),
    ("*.p12", "key store", SensitiveKind::Credential),
    ("*.pfx", "key store", SensitiveKind::Credential),
    ("id_rsa*", "SSH key", SensitiveKind::Credential),
    ("id_dsa*", "SSH key", SensitiveKind::Credential),
    ("id_ecdsa*", "SSH key", SensitiveKind::Credential),
    ("id_ed25519*", "SSH key", SensitiveKind::Credential),
    (
        "**/.aws/credentials",
        "AWS credentials",
        SensitiveKind::Credential,
    ),
    ("**/.aws/config", "AWS config", SensitiveKind::Credential),
    (
        "~/.aws/credentials",
        "AWS credentials",
        SensitiveKind::Credential,
    ),
    ("kubeconfig", "kubeconfig", SensitiveKind::Credential),
    ("*.kubeconfig", "kubeconfig", SensitiveKind::Credential),
    ("**/.kube/config", "kubeconfig", SensitiveKind::Credential),
    (
        ".npmrc",
        "npm registry token file",
        SensitiveKind::Credential,
    ),
    (".pypirc", "PyPI token file", SensitiveKind::Credential),
    (".netrc", "netrc credentials", SensitiveKind::Credential),
    (
        ".git-credentials",
        "git credentials",
        SensitiveKind::Credential,
    ),
    (
        "application_default_credentials.json",
        "gcloud credentials",
        SensitiveKind::Credential,
    ),
    (
        "**/.config/gcloud/**",
        "gcloud config",
        SensitiveKind::Credential,
    ),
    (
        "*service-account*.json",
        "GCP service-account key",
        SensitiveKind::Credential,
    ),
    (
        "*service_account*.json",
        "GCP service-account key",
        SensitiveKind::Credential,
    ),
    ("*.tfstate", "terraform state", SensitiveKind::Credential),
    ("*.tfstate.*", "terraform state", SensitiveKind::Credential),
    (
        "**/prod/**/*.tf",
        "production terraform",
        SensitiveKind::Guarded,
    ),
    (
        "**/production/**/*.tf",
        "production terraform",
        SensitiveKind::Guarded,
    ),
    (
        "**/prod/**/*.tfvars",
        "production terraform variables",
        SensitiveKind::Guarded,
    ),
    (
        "**/production/**/*.tfvars",
        "production terraform variables",
        SensitiveKind::Guarded,
    ),
    (
        "**/prod/**/*.yaml",
        "production manifest",
        SensitiveKind::Guarded,
    ),
    (
        "**/prod/**/*.yml",
        "production manifest",
        SensitiveKind::Guarded,
    ),
    (
        "**/production/**/*.yaml",
        "production manifest",
        SensitiveKind::Guarded,
    ),
    (
        "**/production/**/*.yml",
        "production manifest",
        SensitiveKind::Guarded,
    ),
    (
        "**/migrations/**",
        "database migration",
        SensitiveKind::Guarded,
    ),
    (
        "**/db/migrate/**",
        "database migration",
        SensitiveKind::Guarded,
    ),
    (
        "**/migrate/*.sql",
        "database migration",
        SensitiveKind::Guarded,
    ),
    ("schema.sql", "database schema", SensitiveKind::Guarded),
    (".github/workflows/*", "CI config", SensitiveKind::Guarded),
    (".github/actions/**", "CI config", SensitiveKind::Guarded),
    (".gitlab-ci.yml", "CI config", SensitiveKind::Guarded),
    (".circleci/**", "CI config", SensitiveKind::Guarded),
    (".buildkite/**", "CI config", SensitiveKind::Guarded),
    ("Jenkinsfile", "CI config", SensitiveKind::Guarded),
    ("azure-pipelines.yml", "CI config", SensitiveKind::Guarded),
    (
        "bitbucket-pipelines.yml",
        "CI config",
        SensitiveKind::Guarded,
    ),
    (".travis.yml", "CI config", SensitiveKind::Guarded),
    (".drone.yml", "CI config", SensitiveKind::Guarded),
    ("Cargo.lock", "lockfile", SensitiveKind::Guarded),
    ("package-lock.json", "lockfile", SensitiveKind::Guarded),
    ("npm-shrinkwrap.json", "lockfile", SensitiveKind::Guarded),
    ("yarn.lock", "lockfile", SensitiveKind::Guarded),
    ("pnpm-lock.yaml", "lockfile", SensitiveKind::Guarded),
    ("bun.lockb", "lockfile", SensitiveKind::Guarded),
    ("poetry.lock", "lockfile", SensitiveKind::Guarded),
    ("Pipfile.lock", "lockfile", SensitiveKind::Guarded),
    ("uv.lock", "lockfile", SensitiveKind::Guarded),
    ("Gemfile.lock", "lockfile", SensitiveKind::Guarded),
    ("composer.lock", "lockfile", SensitiveKind::Guarded),
    ("go.sum", "lockfile", SensitiveKind::Guarded),
    ("flake.lock", "lockfile", SensitiveKind::Guarded),
    (".terraform.lock.hcl", "lockfile", SensitiveKind::Guarded),
    (
        ".overwatch/**",
        "overwatch rules or config",
        SensitiveKind::Guarded,
    ),
    (
        "~/.config/overwatch/**",
        "overwatch config",
        SensitiveKind::Guarded,
    ),
];

/// What a path matched: its label and content policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SensitiveMatch {
    pub label: String,
    pub kind: SensitiveKind,
}

/// The compiled sensitive-glob matcher. Build once per watcher; matching is a few glob lookups.
#[derive(Debug)]
pub struct SensitiveMatcher {
    root: PathBuf,
    relative: Gitignore,
    absolute: Gitignore,
    /// Original glob line → (label, kind); a later duplicate glob wins (config overlays defaults).
    labels: HashMap<String, (String, SensitiveKind)>,
    /// Rule packs' sensitive paths, asked when no glob matched.
    pack: Option<super::PackMatcher>,
}

impl SensitiveMatcher {
    /// Compiles the defaults plus `extra` for the workspace `root`. A glob that does not parse
    /// is skipped and returned in the error list (the rest still apply).
    pub fn new(
        root: &Path,
        extra: &[SensitiveGlob],
        pack: Option<super::PackMatcher>,
    ) -> (Self, Vec<String>) {
        let home = dirs::home_dir();
        let mut relative = GitignoreBuilder::new(root);
        let mut absolute = GitignoreBuilder::new("/");
        let mut labels = HashMap::new();
        let mut errors = Vec::new();
        let defaults = DEFAULT_GLOBS
            .iter()
            .map(|(g, l, k)| ((*g).to_string(), (*l).to_string(), *k));
        // Globs from config and rule packs: their text is shown, secrets redacted.
        let extras = extra
            .iter()
            .map(|g| (g.glob.clone(), g.label.clone(), SensitiveKind::Guarded));
        for (glob, label, kind) in defaults.chain(extras) {
            let (builder, line) = match glob.strip_prefix("~/") {
                Some(rest) => match &home {
                    Some(home) => (
                        &mut absolute,
                        home.join(rest).to_string_lossy().into_owned(),
                    ),
                    None => continue,
                },
                None => (&mut relative, glob.clone()),
            };
            match builder.add_line(None, &line) {
                Ok(_) => {
                    labels.insert(line, (label, kind));
                }
                Err(err) => errors.push(format!("sensitive glob {glob:?}: {err}")),
            }
        }
        let relative = relative.build().unwrap_or_else(|err| {
            errors.push(format!("compiling sensitive globs: {err}"));
            Gitignore::empty()
        });
        let absolute = absolute.build().unwrap_or_else(|err| {
            errors.push(format!("compiling sensitive globs: {err}"));
            Gitignore::empty()
        });
        let matcher = SensitiveMatcher {
            root: root.to_path_buf(),
            relative,
            absolute,
            labels,
            pack,
        };
        (matcher, errors)
    }

    /// The match for a workspace-relative file path, if it is sensitive.
    pub fn matches(&self, rel: &Path) -> Option<SensitiveMatch> {
        let abs = self.root.join(rel);
        let hit = match self.relative.matched_path_or_any_parents(rel, false) {
            Match::Ignore(glob) => Some(glob.original().to_string()),
            _ => match self.absolute.matched_path_or_any_parents(&abs, false) {
                Match::Ignore(glob) => Some(glob.original().to_string()),
                _ => None,
            },
        };
        if let Some((label, kind)) = hit.and_then(|h| self.labels.get(&h)) {
            return Some(SensitiveMatch {
                label: label.clone(),
                kind: *kind,
            });
        }
        // A pack's path rule: shown through the secrets redactor, like config globs.
        let label = (self.pack.as_ref()?.0)(rel)?;
        Some(SensitiveMatch {
            label,
            kind: SensitiveKind::Guarded,
        })
    }
}

/// The warning text for a change to a sensitive file: path and what changed, never a value.
/// `old`/`new` are the previous and current contents (when known and read).
pub fn summarize(
    change: &FileChange,
    kind: SensitiveKind,
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) -> String {
    let path = &change.path;
    let diff = &change.since_session;
    let what = match &change.change {
        ChangeKind::Deleted => "deleted".to_string(),
        ChangeKind::Renamed { from } => format!("renamed from `{from}`"),
        ChangeKind::Added => match (kind, new) {
            (SensitiveKind::Dotenv, Some(new)) => match dotenv_summary(b"", new) {
                Some(keys) => format!("created: {keys}"),
                None => format!("created ({})", counts(diff)),
            },
            _ => format!("created ({})", counts(diff)),
        },
        ChangeKind::Modified => match (kind, old, new) {
            (SensitiveKind::Dotenv, Some(old), Some(new)) => {
                dotenv_summary(old, new).unwrap_or_else(|| counts(diff))
            }
            _ => counts(diff),
        },
    };
    format!("`{path}`: {what}")
}

fn counts(diff: &FileDiff) -> String {
    match &diff.body {
        DiffBody::Binary => "binary changed".to_string(),
        DiffBody::TooLarge { bytes } => format!("changed ({bytes} bytes, too large to diff)"),
        _ => format!("+{} \u{2212}{} lines", diff.added, diff.removed),
    }
}

/// Parses `KEY=value` lines (optionally `export KEY=value`), key → value.
fn dotenv_pairs(text: &str) -> BTreeMap<&str, &str> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.starts_with('#') {
                return None;
            }
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, value) = line.split_once('=')?;
            let key = key.trim();
            (!key.is_empty() && !key.contains(char::is_whitespace)).then_some((key, value.trim()))
        })
        .collect()
}

/// "key `A` changed, key `B` added, value redacted" — or `None` when no key/value changed.
fn dotenv_summary(old: &[u8], new: &[u8]) -> Option<String> {
    let old = dotenv_pairs(std::str::from_utf8(old).ok()?);
    let new = dotenv_pairs(std::str::from_utf8(new).ok()?);
    let mut parts = Vec::new();
    for (key, value) in &new {
        match old.get(key) {
            None => parts.push(format!("key `{key}` added")),
            Some(prev) if prev != value => parts.push(format!("key `{key}` changed")),
            Some(_) => {}
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        parts.push(format!("key `{key}` removed"));
    }
    if parts.is_empty() {
        return None;
    }
    let values = if parts.len() == 1 { "value" } else { "values" };
    Some(format!("{}, {values} redacted", parts.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> SensitiveMatcher {
        let extra = vec![SensitiveGlob {
            glob: "deploy/*.sh".into(),
            label: "deploy script".into(),
        }];
        let pack = super::super::PackMatcher(std::sync::Arc::new(|p: &Path| {
            p.starts_with("payments")
                .then(|| "payments code (team pack)".to_string())
        }));
        let (m, errors) = SensitiveMatcher::new(Path::new("/ws"), &extra, Some(pack));
        assert!(errors.is_empty(), "{errors:?}");
        m
    }

    #[test]
    fn default_and_extra_globs_label_paths() {
        let m = matcher();
        let cases = [
            (".env", Some("dotenv file")),
            ("app/.env.production", Some("dotenv file")),
            ("certs/server.pem", Some("private key or certificate")),
            ("home/.ssh/id_rsa", Some("SSH key")),
            ("infra/terraform.tfstate.backup", Some("terraform state")),
            ("infra/prod/main.tf", Some("production terraform")),
            ("infra/staging/main.tf", None),
            ("k8s/production/deploy.yaml", Some("production manifest")),
            ("db/migrate/20240101_add.rb", Some("database migration")),
            ("app/migrations/0001_init.sql", Some("database migration")),
            (".github/workflows/ci.yml", Some("CI config")),
            (".gitlab-ci.yml", Some("CI config")),
            ("Cargo.lock", Some("lockfile")),
            ("web/package-lock.json", Some("lockfile")),
            (
                ".overwatch/rules/k8s.toml",
                Some("overwatch rules or config"),
            ),
            ("deploy/release.sh", Some("deploy script")),
            ("payments/ledger.py", Some("payments code (team pack)")),
            ("src/main.rs", None),
            ("README.md", None),
            ("production.md", None),
        ];
        for (path, want) in cases {
            let got = m.matches(Path::new(path)).map(|s| s.label);
            assert_eq!(got.as_deref(), want, "{path}");
        }
    }

    #[test]
    fn kinds_decide_what_is_shown() {
        let m = matcher();
        let kind = |p: &str| m.matches(Path::new(p)).map(|s| s.kind);
        assert_eq!(kind(".env"), Some(SensitiveKind::Dotenv));
        assert_eq!(kind("id_ed25519"), Some(SensitiveKind::Credential));
        assert_eq!(kind("prod.tfstate"), Some(SensitiveKind::Credential));
        assert_eq!(
            kind(".github/workflows/x.yml"),
            Some(SensitiveKind::Guarded)
        );
    }

    #[test]
    fn summaries_say_what_happened_to_the_file() {
        use crate::diff::compute::{ContentPolicy, compute};
        let change = |kind: ChangeKind, old: Option<&[u8]>, new: Option<&[u8]>| FileChange {
            path: "ci.yml".into(),
            change: kind,
            since_head: None,
            since_session: compute(old, new, ContentPolicy::Show),
            sensitive: Some("CI config".into()),
            at_unix_ms: 0,
        };
        let guarded = SensitiveKind::Guarded;
        let c = change(ChangeKind::Added, None, Some(b"a\nb\n"));
        assert_eq!(
            summarize(&c, guarded, None, Some(b"a\nb\n")),
            "`ci.yml`: created (+2 \u{2212}0 lines)"
        );
        let c = change(ChangeKind::Deleted, Some(b"a\n"), None);
        assert_eq!(summarize(&c, guarded, None, None), "`ci.yml`: deleted");
        let c = change(
            ChangeKind::Renamed {
                from: "old.yml".into(),
            },
            Some(b"a\n"),
            Some(b"a\n"),
        );
        assert_eq!(
            summarize(&c, guarded, None, None),
            "`ci.yml`: renamed from `old.yml`"
        );
        let c = change(ChangeKind::Modified, Some(b"\0a"), Some(b"\0b"));
        assert_eq!(
            summarize(&c, guarded, None, None),
            "`ci.yml`: binary changed"
        );
        // A dotenv change that only touched comments falls back to line counts.
        let c = change(ChangeKind::Modified, Some(b"A=1\n"), Some(b"# x\nA=1\n"));
        let summary = summarize(
            &c,
            SensitiveKind::Dotenv,
            Some(b"A=1\n"),
            Some(b"# x\nA=1\n"),
        );
        assert_eq!(summary, "`ci.yml`: +1 \u{2212}0 lines");
    }

    #[test]
    fn guarded_files_keep_plain_assignments_but_dotenv_files_do_not() {
        use crate::diff::compute::compute;
        let text = |kind: SensitiveKind| {
            let diff = compute(
                Some(b"version = \"1.0\"\n"),
                Some(b"version = \"1.1\"\n"),
                kind.policy(),
            );
            match diff.body {
                DiffBody::Text { unified, .. } => unified,
                other => panic!("expected text, got {other:?}"),
            }
        };
        assert!(text(SensitiveKind::Guarded).contains("+version = \"1.1\""));
        assert!(text(SensitiveKind::Dotenv).contains("+version = <redacted>"));
    }

    #[test]
    fn dotenv_summary_names_keys_never_values() {
        let old = b"# creds\nSTRIPE_KEY=sk_live_old0000000000\nDEBUG=1\nGONE=x\n";
        let new = b"# creds\nSTRIPE_KEY=sk_live_new1111111111\nDEBUG=1\nexport NEW_ONE=abc\n";
        let summary = dotenv_summary(old, new).expect("keys changed");
        assert_eq!(
            summary,
            "key `NEW_ONE` added, key `STRIPE_KEY` changed, key `GONE` removed, values redacted"
        );
        assert!(dotenv_summary(b"A=1\n", b"# comment\nA=1\n").is_none());
    }
}
