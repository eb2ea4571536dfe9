//! Recognising a guarded program under another name: `cp /usr/bin/git ./mygit`, a hard link, or
//! a symlink `~/bin/k -> kubectl`. Rules match programs by name, so without this a copied binary
//! would be judged as an unknown program.
//!
//! Built once per session from the rule engine's guarded program names and the agent's `PATH`:
//! each found program is remembered by inode and by size. Per exec, an inode match is free; a
//! size match costs one SHA-256 of the exec'd file and of the original, both cached. Size
//! matches are common, not rare: coreutils' small programs share sizes (`true`, `false` and
//! `printenv` are all 35 664 bytes on Debian 13), so without the cache a loop running `true`
//! hashed it on every exec.
//!
//! The exec'd file's digest is cached by `(st_dev, st_ino, size, mtime, ctime)`, like git's
//! index: a write changes `ctime`, which user space cannot set back. A file whose `ctime` is
//! within `RACY_WINDOW` of the hash is not cached (a write in the same timestamp tick would
//! leave the stamp unchanged: git's "racily clean" entries).
//!
//! **Invariant:** a program is identified only by identity (same inode) or identical bytes,
//! never by a guess; anything that cannot be read is simply not identified.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::gather::{Changed, ExecFile, FileId};

/// Largest file compared by content (bigger guarded binaries are matched by inode only).
const MAX_HASHED_BYTES: u64 = 512 * 1024 * 1024;
/// A file changed this close to its hashing is hashed again next time (filesystem timestamps
/// are coarser than a nanosecond: a same-size rewrite within one tick keeps the stamp).
pub(super) const RACY_WINDOW: Duration = Duration::from_secs(2);
/// Most exec'd files whose digest is remembered; the cache is emptied when full.
const MAX_CACHED_FILES: usize = 4096;
/// Read size while hashing.
const HASH_CHUNK: usize = 64 * 1024;

/// What identifies an exec'd file's content without reading it.
type Stamp = (FileId, u64, Changed);

/// Guarded programs found on `PATH`, by inode and by size.
#[derive(Debug, Default)]
pub struct ProgramIndex {
    by_inode: HashMap<FileId, String>,
    by_size: HashMap<u64, Vec<(PathBuf, String)>>,
    /// SHA-256 of each candidate, computed on first need (`None`: unreadable).
    digests: Mutex<HashMap<PathBuf, Option<[u8; 32]>>>,
    /// SHA-256 of exec'd files whose size matched a candidate, by [`Stamp`].
    exec_digests: Mutex<HashMap<Stamp, [u8; 32]>>,
}

impl ProgramIndex {
    /// Looks up each of `names` (e.g. the rule engine's `guarded_programs()`) in every directory
    /// of `path_var` (a `PATH` value), following symlinks.
    pub fn from_path<S: AsRef<str>>(names: impl IntoIterator<Item = S>, path_var: &OsStr) -> Self {
        let mut index = ProgramIndex::default();
        let dirs: Vec<PathBuf> = std::env::split_paths(path_var).collect();
        for name in names {
            let name = name.as_ref();
            if name.is_empty() || name.contains('/') {
                continue;
            }
            for dir in &dirs {
                let candidate = dir.join(name);
                let Ok(meta) = std::fs::metadata(&candidate) else {
                    continue;
                };
                if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
                    continue;
                }
                let id = (meta.dev(), meta.ino());
                if index.by_inode.insert(id, name.to_string()).is_none() {
                    index
                        .by_size
                        .entry(meta.size())
                        .or_default()
                        .push((candidate, name.to_string()));
                }
            }
        }
        index
    }

    /// How many distinct program files are indexed.
    pub fn len(&self) -> usize {
        self.by_inode.len()
    }

    /// Whether nothing was found.
    pub fn is_empty(&self) -> bool {
        self.by_inode.is_empty()
    }

    /// The guarded program `file` is, when `argv0` does not already name it.
    pub(super) fn identify(&self, argv0: &str, file: &ExecFile) -> Option<String> {
        let named = Path::new(argv0).file_name().and_then(OsStr::to_str);
        let found = self
            .by_inode
            .get(&file.id)
            .cloned()
            .or_else(|| self.same_bytes(file))?;
        (named != Some(found.as_str())).then_some(found)
    }

    fn same_bytes(&self, file: &ExecFile) -> Option<String> {
        let candidates = self.by_size.get(&file.size)?;
        if file.size > MAX_HASHED_BYTES {
            return None;
        }
        let digest = self.exec_digest(file)?;
        candidates
            .iter()
            .find(|(path, _)| self.digest_of(path) == Some(digest))
            .map(|(_, name)| name.clone())
    }

    fn digest_of(&self, path: &Path) -> Option<[u8; 32]> {
        let mut digests = self.digests.lock().unwrap_or_else(PoisonError::into_inner);
        // Looked up by reference first: a `PathBuf` key per lookup was an allocation per exec
        // of every program that shares a guarded program's size.
        if let Some(digest) = digests.get(path) {
            return *digest;
        }
        *digests
            .entry(path.to_path_buf())
            .or_insert_with(|| sha256_file(path).ok())
    }

    /// The digest of the exec'd file, from the cache when its stamp is unchanged.
    fn exec_digest(&self, file: &ExecFile) -> Option<[u8; 32]> {
        let stamp = file.changed.map(|changed| (file.id, file.size, changed));
        let cache = || {
            self.exec_digests
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        if let Some(stamp) = &stamp
            && let Some(digest) = cache().get(stamp)
        {
            return Some(*digest);
        }
        let hashed_at = SystemTime::now();
        let digest = sha256_file(&file.seen_at).ok()?;
        if let Some(stamp) = stamp
            && settled(stamp.2, hashed_at)
        {
            let mut cache = cache();
            if cache.len() >= MAX_CACHED_FILES {
                cache.clear();
            }
            cache.insert(stamp, digest);
        }
        Some(digest)
    }
}

/// Whether a file last changed at `changed` had been left alone for [`RACY_WINDOW`] when it was
/// hashed at `hashed_at`, so that an unchanged stamp means unchanged bytes.
fn settled(changed: Changed, hashed_at: SystemTime) -> bool {
    let Ok(now) = hashed_at.duration_since(UNIX_EPOCH) else {
        return false;
    };
    let latest = changed.ctime_ns.max(changed.mtime_ns);
    latest + (RACY_WINDOW.as_nanos() as i128) < now.as_nanos() as i128
}

fn sha256_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_CHUNK];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::symlink;

    use super::*;

    fn exec_file(path: &Path) -> ExecFile {
        let meta = fs::metadata(path).unwrap();
        ExecFile {
            id: (meta.dev(), meta.ino()),
            size: meta.size(),
            changed: Some(Changed::of(&meta)),
            seen_at: path.to_path_buf(),
        }
    }

    fn executable(path: &Path, bytes: &[u8]) {
        fs::write(path, bytes).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn copies_links_and_symlinks_are_recognised_but_lookalikes_are_not() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::create_dir(&bin).unwrap();
        executable(&bin.join("kubectl"), b"#!/bin/sh\necho the real kubectl\n");
        let index = ProgramIndex::from_path(["kubectl", "helm"], bin.as_os_str());
        assert_eq!(index.len(), 1, "helm is not installed here");

        let copy = tmp.path().join("k8");
        fs::copy(bin.join("kubectl"), &copy).unwrap();
        assert_eq!(
            index.identify("./k8", &exec_file(&copy)),
            Some("kubectl".into())
        );

        let hard = tmp.path().join("kc");
        fs::hard_link(bin.join("kubectl"), &hard).unwrap();
        assert_eq!(
            index.identify("kc", &exec_file(&hard)),
            Some("kubectl".into())
        );

        let soft = tmp.path().join("k");
        symlink(bin.join("kubectl"), &soft).unwrap();
        assert_eq!(
            index.identify("k", &exec_file(&soft)),
            Some("kubectl".into())
        );

        // Same size, different bytes.
        let lookalike = tmp.path().join("other");
        executable(&lookalike, b"#!/bin/sh\necho the fake kubectl\n");
        assert_eq!(index.identify("other", &exec_file(&lookalike)), None);

        // Already called by its name: nothing to add.
        assert_eq!(
            index.identify("/somewhere/kubectl", &exec_file(&copy)),
            None
        );
    }

    #[test]
    fn a_settled_file_is_hashed_once_and_a_fresh_rewrite_is_hashed_again() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        fs::create_dir(&bin).unwrap();
        // A guarded program with the bytes of an old, settled file (its stamp can be trusted).
        let old = Path::new("/bin/true");
        fs::copy(old, bin.join("kubectl")).unwrap();
        let index = ProgramIndex::from_path(["kubectl"], bin.as_os_str());
        let old_file = exec_file(old);
        assert_eq!(index.identify("true", &old_file), Some("kubectl".into()));
        let stamp = (old_file.id, old_file.size, old_file.changed.unwrap());
        assert!(index.exec_digests.lock().unwrap().contains_key(&stamp));

        // A file written just now is not cached: rewriting it with the same size in the same
        // timestamp tick must not be answered with the old bytes' digest.
        let fresh = tmp.path().join("tool");
        executable(&fresh, &vec![b'x'; old_file.size as usize]);
        assert_eq!(index.identify("tool", &exec_file(&fresh)), None);
        fs::copy(old, &fresh).unwrap();
        assert_eq!(
            index.identify("tool", &exec_file(&fresh)),
            Some("kubectl".into())
        );
    }

    #[test]
    fn only_a_change_older_than_the_racy_window_is_settled() {
        let now = SystemTime::now();
        let at = |ago: Duration| {
            let ns = (now - ago).duration_since(UNIX_EPOCH).unwrap().as_nanos() as i128;
            Changed {
                mtime_ns: ns,
                ctime_ns: ns,
            }
        };
        assert!(settled(at(RACY_WINDOW * 2), now));
        assert!(!settled(at(RACY_WINDOW / 2), now));
        assert!(!settled(at(Duration::ZERO), now));
    }
}
