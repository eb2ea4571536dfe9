//! The probe driver: runs the probe families over one [`ProbeEnv`] and collects facts,
//! credentials and the files that were looked at (for the watcher).
//!
//! **Invariant:** every file read goes through [`Scan::read`], which records the path (even when
//! missing, so the watcher sees it appear), caps the size, and turns errors into messages that
//! carry no file content.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use super::{
    Context, Credential, Fact, FactKind, Knowledge, Overrides, ProbeEnv, Tier, Verdict, tier,
};

/// Files larger than this are reported as unreadable rather than parsed (a kubeconfig or AWS
/// config is a few KiB; this only guards against pointing a probe at a disk image).
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// What one run produced.
#[derive(Debug, Clone)]
pub struct ScanOutput {
    pub context: Context,
    /// Every file a probe read or looked for, absolute, deduplicated.
    pub watched: Vec<PathBuf>,
}

/// Shared state of one probe run.
pub struct Scan<'a> {
    pub input: &'a ProbeEnv,
    pub knowledge: &'a Knowledge,
    pub overrides: &'a Overrides,
    pub facts: Vec<Fact>,
    pub credentials: Vec<Credential>,
    watched: RefCell<Vec<PathBuf>>,
    /// The last directory listed ([`Scan::dir_names`]) and its entries' names.
    listed: RefCell<Option<(PathBuf, Rc<Vec<OsString>>)>>,
}

/// Runs the probe families in `kinds` (credentials are always scanned).
pub fn run(
    input: &ProbeEnv,
    knowledge: &Knowledge,
    overrides: &Overrides,
    kinds: &[FactKind],
) -> ScanOutput {
    let mut s = Scan {
        input,
        knowledge,
        overrides,
        facts: Vec::new(),
        credentials: Vec::new(),
        watched: RefCell::new(Vec::new()),
        listed: RefCell::new(None),
    };
    for kind in kinds {
        match kind {
            FactKind::Kube => super::kube::probe(&mut s),
            FactKind::Aws => super::aws::probe(&mut s),
            FactKind::Gcloud => super::gcloud::probe(&mut s),
            FactKind::Azure => super::azure::probe(&mut s),
            FactKind::Terraform => super::terraform::probe(&mut s),
            FactKind::Pulumi => super::pulumi::probe(&mut s),
            FactKind::Docker => super::docker::probe(&mut s),
            FactKind::Git => super::git::probe(&mut s),
            FactKind::Ssh => super::ssh::probe(&mut s),
            FactKind::Database | FactKind::Service => {}
            FactKind::Custom => super::custom::probe(&mut s),
        }
    }
    if kinds.contains(&FactKind::Database) || kinds.contains(&FactKind::Service) {
        super::services::probe(&mut s);
    }
    if kinds.len() == FactKind::ALL.len() {
        super::credentials::probe(&mut s);
    }
    // Stable order: by kind (the declared order), then as the probe emitted them.
    s.facts.sort_by_key(|f| f.kind);
    let mut watched = s.watched.into_inner();
    watched.sort();
    watched.dedup();
    ScanOutput {
        context: Context::new(s.facts, dedup_credentials(s.credentials)),
        watched,
    }
}

fn dedup_credentials(mut creds: Vec<Credential>) -> Vec<Credential> {
    let mut seen = std::collections::BTreeSet::new();
    creds.retain(|c| seen.insert((c.kind.clone(), c.name.clone(), c.source.clone())));
    creds
}

/// Outcome of reading a file.
pub enum FileRead {
    /// The file's text.
    Text(String),
    /// It does not exist (not an error: most probes are optional).
    Missing,
    /// It exists but could not be read; the message names the file and the OS error only.
    Unreadable(String),
}

impl Scan<'_> {
    /// A non-empty environment variable.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.input
            .env
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// The first of `names` that is set and non-empty, with its name.
    pub fn first_var<'n>(&self, names: &[&'n str]) -> Option<(&'n str, &str)> {
        names
            .iter()
            .find_map(|n| self.var(n).map(|v| (*n, v.trim())))
    }

    /// `~/x` → under home; relative → under cwd; absolute as is.
    pub fn expand(&self, p: &str) -> PathBuf {
        let p = p.trim();
        if p == "~" {
            return self.input.home.clone();
        }
        if let Some(rest) = p.strip_prefix("~/") {
            return self.input.home.join(rest);
        }
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.input.cwd.join(path)
        }
    }

    /// The names of `dir`'s entries, or `None` when it cannot be listed. Listed once per run:
    /// the terraform probe (`*.tf` files) and the credentials probe (`.env*` files) both look
    /// at the cwd, and a listing was a tenth of an exec's evaluation.
    pub fn dir_names(&self, dir: &Path) -> Option<Rc<Vec<OsString>>> {
        if let Some((listed, names)) = &*self.listed.borrow()
            && listed == dir
        {
            return Some(Rc::clone(names));
        }
        let names: Rc<Vec<OsString>> = Rc::new(
            std::fs::read_dir(dir)
                .ok()?
                .flatten()
                .map(|e| e.file_name())
                .collect(),
        );
        *self.listed.borrow_mut() = Some((dir.to_path_buf(), Rc::clone(&names)));
        Some(names)
    }

    /// A path under home, e.g. `self.home(".kube/config")`.
    pub fn home(&self, rel: &str) -> PathBuf {
        self.input.home.join(rel)
    }

    /// How a path is shown as a fact's source: `~/…` under home, else as is.
    pub fn display(&self, path: &Path) -> String {
        display_path(&self.input.home, path)
    }

    /// Records a path for the watcher without reading it (e.g. a directory whose listing matters).
    pub fn watch(&self, path: &Path) {
        self.watched.borrow_mut().push(path.to_path_buf());
    }

    /// Reads a text file (recorded for the watcher). Never fails the scan.
    pub fn read(&self, path: &Path) -> FileRead {
        self.watch(path);
        let shown = self.display(path);
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return FileRead::Missing,
            Err(e) => return FileRead::Unreadable(format!("cannot read {shown}: {e}")),
        };
        let mut bytes = Vec::new();
        if let Err(e) = file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
            return FileRead::Unreadable(format!("cannot read {shown}: {e}"));
        }
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return FileRead::Unreadable(format!(
                "cannot read {shown}: larger than {} MiB",
                MAX_FILE_BYTES / 1024 / 1024
            ));
        }
        match String::from_utf8(bytes) {
            Ok(mut text) => {
                // Windows tools (az, some editors) write a UTF-8 byte-order mark.
                if text.starts_with('\u{feff}') {
                    text.remove(0);
                }
                FileRead::Text(text)
            }
            Err(_) => FileRead::Unreadable(format!("cannot read {shown}: not UTF-8 text")),
        }
    }

    /// Classifies labelled identifying values against the pins and the name rules.
    pub fn classify(&self, kind: FactKind, values: &[(&str, &str)]) -> Verdict {
        tier::classify_labelled(kind, values, &self.knowledge.pins)
    }

    /// Adds a fact.
    pub fn fact(
        &mut self,
        kind: FactKind,
        name: impl Into<String>,
        details: BTreeMap<String, String>,
        source: impl Into<String>,
        verdict: Verdict,
    ) {
        self.facts.push(Fact {
            kind,
            name: name.into(),
            details,
            source: source.into(),
            tier: verdict.tier,
            reason: verdict.reason,
        });
    }

    /// Adds an `unknown` fact for a file that could not be read or parsed.
    pub fn broken(&mut self, kind: FactKind, name: &str, source: String, reason: String) {
        self.facts.push(Fact {
            kind,
            name: name.to_string(),
            details: BTreeMap::new(),
            source,
            tier: Tier::Unknown,
            reason,
        });
    }

    /// Adds a credential (kind and name only).
    pub fn credential(&mut self, kind: &str, name: impl Into<String>, source: impl Into<String>) {
        self.credentials.push(Credential {
            kind: kind.to_string(),
            name: name.into(),
            source: source.into(),
        });
    }
}

/// `~/…` for paths under `home`, else the path as is.
pub fn display_path(home: &Path, path: &Path) -> String {
    if !home.as_os_str().is_empty()
        && home != Path::new("/")
        && let Ok(rest) = path.strip_prefix(home)
    {
        return format!("~/{}", rest.display());
    }
    path.display().to_string()
}

/// A parse error made safe to show: quoted fragments (which serde and YAML errors copy from the
/// input, and which could be a token) are replaced by `"…"`, and the message is capped.
pub fn safe_error(err: &dyn std::fmt::Display) -> String {
    let msg = err.to_string();
    let mut out = String::with_capacity(msg.len());
    let mut quote: Option<char> = None;
    for c in msg.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '"' || c == '`' => {
                out.push(c);
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    if quote.is_some() {
        out.push('…');
    }
    if out.chars().count() > 200 {
        out = out.chars().take(200).collect::<String>() + "…";
    }
    out
}

/// A URL with any `user:password@` part removed (`https://u:p@h/x` → `https://h/x`). Everything
/// up to the *last* `@` goes, because a password may hold unescaped `/`, `?` or `@`: a rare `@`
/// in a path costs some of the path, never a leaked password. Non-URLs are returned unchanged.
pub fn strip_userinfo(url: &str) -> String {
    let Some(i) = url.find("://") else {
        return url.to_string();
    };
    let (scheme, rest) = url.split_at(i + 3);
    match rest.rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// Lowercase hex SHA-1 of `bytes` (AWS SSO cache and Pulumi workspace file names are derived this
/// way). `None` only if gix's collision detection fires, which plain strings never trigger.
pub fn sha1_hex(bytes: &[u8]) -> Option<String> {
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    h.update(bytes);
    h.try_finalize().ok().map(|id| id.to_hex().to_string())
}

/// Parses INI text the way AWS, gcloud and git tools write it: no quote or backslash processing;
/// indentation is ignored (git indents every key with a tab; AWS nested `s3 =` blocks then read
/// as plain keys of the profile, which no probe asks for).
pub fn parse_ini(text: &str) -> Result<ini::Ini, String> {
    let opt = ini::ParseOption {
        enabled_quote: false,
        enabled_escape: false,
        ..ini::ParseOption::default()
    };
    ini::Ini::load_from_str_opt(text, opt).map_err(|e| safe_error(&e))
}

/// Builds a details map from pairs, skipping empty values.
pub fn details<const N: usize>(pairs: [(&str, Option<&str>); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| (k.to_string(), v.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_error_drops_quoted_input() {
        let e = "invalid type: string \"ghp_abcdefSECRET\", expected a map at line 3";
        let s = safe_error(&e);
        assert!(!s.contains("SECRET"), "{s}");
        assert!(s.contains("at line 3"), "{s}");
        assert!(!safe_error(&"unterminated \"abcSECRET").contains("SECRET"));
    }
}
