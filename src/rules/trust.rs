//! Trust records for project rule packs, as direnv does for `.envrc`: a pack is trusted when the
//! SHA-256 of its current bytes equals the digest recorded by `overwatch rules trust PATH`.
//!
//! File: `$XDG_DATA_HOME/overwatch/trust.json` (default `~/.local/share/overwatch/trust.json`),
//! `{"version": 1, "trusted": {"/abs/path/.overwatch/rules/x.toml": "<sha256 hex>"}}`.
//!
//! **Invariant:** editing a trusted file makes it untrusted (the digest no longer matches); a
//! missing trust file trusts nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::pack::LoadError;

/// The on-disk trust file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustFile {
    pub version: u32,
    /// Absolute (canonical) path → SHA-256 hex of the trusted bytes.
    pub trusted: BTreeMap<String, String>,
}

/// Where trust records live by default.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(dirs::data_dir)?;
    Some(base.join("overwatch").join("trust.json"))
}

/// SHA-256 of bytes, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn key(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

impl TrustFile {
    /// Reads the trust file; a missing file is empty.
    pub fn load(path: &Path) -> Result<TrustFile, LoadError> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| LoadError::Trust {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TrustFile {
                version: 1,
                trusted: BTreeMap::new(),
            }),
            Err(source) => Err(LoadError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Whether the pack at `path` with contents `text` is trusted.
    pub fn is_trusted(&self, path: &Path, text: &str) -> bool {
        self.trusted
            .get(&key(path))
            .is_some_and(|d| *d == sha256_hex(text.as_bytes()))
    }

    /// Records the current digest of `pack` and writes the trust file atomically (temp + rename,
    /// mode 0600). Returns the digest.
    pub fn trust(&mut self, trust_path: &Path, pack: &Path) -> anyhow::Result<String> {
        use anyhow::Context as _;
        let bytes =
            std::fs::read(pack).with_context(|| format!("reading rule pack {}", pack.display()))?;
        let digest = sha256_hex(&bytes);
        self.version = 1;
        self.trusted.insert(key(pack), digest.clone());
        let dir = trust_path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .with_context(|| format!("writing the trust file in {}", dir.display()))?;
        serde_json::to_writer_pretty(&mut tmp, self).context("serialising trust records")?;
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600));
        }
        tmp.persist(trust_path)
            .with_context(|| format!("saving {}", trust_path.display()))?;
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edited_file_loses_trust() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let pack = dir.path().join("p.toml");
        std::fs::write(&pack, "a")?;
        let tf = dir.path().join("trust.json");
        let mut t = TrustFile::load(&tf)?;
        assert!(!t.is_trusted(&pack, "a"));
        t.trust(&tf, &pack)?;
        let t = TrustFile::load(&tf)?;
        assert!(t.is_trusted(&pack, "a"));
        assert!(!t.is_trusted(&pack, "b"));
        Ok(())
    }
}
