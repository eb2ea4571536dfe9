//! Per-file baselines: the content at git `HEAD` (read with gix, never by running git) and the
//! content at session start.
//!
//! At start the whole workspace is scanned once. In a git repo each watched file's blob id is
//! computed and compared with `HEAD`'s tree: a file equal to `HEAD` costs one map entry (its
//! session baseline *is* the `HEAD` blob), only files that differ are snapshotted. Outside a
//! repo every watched text file is snapshotted. Snapshots are bounded by a byte budget; a file
//! past the budget has no session baseline and its diff says so ([`Side::Unknown`]).
//!
//! **Invariant:** a session baseline exists (or is explicitly `Unknown`) for every file present
//! at start before the first change is processed — it is never taken lazily from changed content.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use gix::ObjectId;

use super::filter::ScannedFile;

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// The file does not exist on this side.
    Absent,
    Content(Vec<u8>),
    /// Larger than the size limit: not read.
    TooLarge(u64),
    /// No baseline could be kept; the reason is shown to the user.
    Unknown(String),
}

impl Side {
    /// The bytes when the content is known; `None` for `Absent`.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Side::Content(bytes) => Some(bytes),
            _ => None,
        }
    }
}

/// What was kept of a file present at session start.
#[derive(Debug, Clone)]
enum AtStart {
    /// Equal to the `HEAD` blob with this id.
    SameAsHead(ObjectId),
    Content(Vec<u8>),
    TooLarge(u64),
    OverBudget,
}

/// The repository side: `HEAD`'s commit and a path → blob id map of its tree.
struct Head {
    repo: gix::Repository,
    commit: Option<ObjectId>,
    blobs: HashMap<PathBuf, ObjectId>,
}

/// Both baselines for one workspace. Lives on the watcher thread (`gix::Repository` is not
/// `Sync`).
pub struct Baselines {
    root: PathBuf,
    head: Option<Head>,
    at_start: HashMap<PathBuf, AtStart>,
    max_file_bytes: u64,
}

impl Baselines {
    /// Opens the repository at `root` (if it is one) and snapshots the session-start contents of
    /// `files` (from [`super::filter::scan`]). Returns the problems met (each skipped, not fatal).
    pub fn load(
        root: &Path,
        files: &[ScannedFile],
        max_file_bytes: u64,
        budget: u64,
    ) -> (Self, Vec<String>) {
        let mut errors = Vec::new();
        let head = match gix::discover(root) {
            Ok(repo) => match load_head(repo, root) {
                Ok(head) => Some(head),
                Err(err) => {
                    errors.push(format!("reading git HEAD of {}: {err}", root.display()));
                    None
                }
            },
            Err(_) => None, // not a git repository: "since HEAD" is unavailable
        };
        let mut budget_left = budget;
        let mut at_start = HashMap::with_capacity(files.len());
        for file in files {
            let kept = if file.bytes > max_file_bytes {
                AtStart::TooLarge(file.bytes)
            } else {
                match std::fs::read(root.join(&file.rel)) {
                    Ok(bytes) => {
                        let head_id = head.as_ref().and_then(|h| h.blobs.get(&file.rel));
                        let id = gix::objs::compute_hash(
                            gix::hash::Kind::Sha1,
                            gix::objs::Kind::Blob,
                            &bytes,
                        )
                        .ok();
                        match (head_id, id) {
                            (Some(head_id), Some(id)) if *head_id == id => AtStart::SameAsHead(id),
                            _ if (bytes.len() as u64) <= budget_left => {
                                budget_left -= bytes.len() as u64;
                                AtStart::Content(bytes)
                            }
                            _ => AtStart::OverBudget,
                        }
                    }
                    Err(err) => {
                        errors.push(format!("snapshotting {}: {err}", file.rel.display()));
                        continue;
                    }
                }
            };
            at_start.insert(file.rel.clone(), kept);
        }
        let baselines = Baselines {
            root: root.to_path_buf(),
            head,
            at_start,
            max_file_bytes,
        };
        (baselines, errors)
    }

    /// True when the workspace is a git repository with a readable `HEAD`.
    pub fn has_head(&self) -> bool {
        self.head.is_some()
    }

    /// `"HEAD 1a2b3c4"`, `"HEAD (no commits yet)"` or `"none (not a git repository)"`.
    pub fn head_label(&self) -> String {
        match &self.head {
            Some(Head {
                commit: Some(id), ..
            }) => format!("HEAD {}", id.to_hex_with_len(7)),
            Some(Head { commit: None, .. }) => "HEAD (no commits yet)".to_string(),
            None => "none (not a git repository)".to_string(),
        }
    }

    /// Re-reads `HEAD` (after a commit or checkout). Returns true if the commit changed.
    pub fn reload_head(&mut self) -> Result<bool, String> {
        let Some(head) = self.head.take() else {
            return Ok(false);
        };
        let before = head.commit;
        let repo = head.repo;
        match load_head(repo, &self.root) {
            Ok(new_head) => {
                let changed = new_head.commit != before;
                self.head = Some(new_head);
                Ok(changed)
            }
            Err(err) => Err(format!("re-reading git HEAD: {err}")),
        }
    }

    /// The content of workspace-relative `rel` at `HEAD`; `None` when not a repository.
    pub fn head(&self, rel: &Path) -> Option<Side> {
        let head = self.head.as_ref()?;
        Some(match head.blobs.get(rel) {
            None => Side::Absent,
            Some(id) => self.read_blob(head, *id),
        })
    }

    /// The content of workspace-relative `rel` at session start.
    pub fn session(&self, rel: &Path) -> Side {
        match self.at_start.get(rel) {
            None => Side::Absent,
            Some(AtStart::Content(bytes)) => Side::Content(bytes.clone()),
            Some(AtStart::TooLarge(bytes)) => Side::TooLarge(*bytes),
            Some(AtStart::OverBudget) => Side::Unknown(
                "session-start snapshot budget exceeded; no baseline kept".to_string(),
            ),
            Some(AtStart::SameAsHead(id)) => match &self.head {
                Some(head) => self.read_blob(head, *id),
                None => Side::Unknown("git HEAD no longer readable".to_string()),
            },
        }
    }

    /// Number of files present at session start.
    pub fn files_at_start(&self) -> usize {
        self.at_start.len()
    }

    /// The workspace root these baselines belong to.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn read_blob(&self, head: &Head, id: ObjectId) -> Side {
        match head.repo.find_blob(id) {
            Ok(mut blob) => {
                let data = blob.take_data();
                if data.len() as u64 > self.max_file_bytes {
                    Side::TooLarge(data.len() as u64)
                } else {
                    Side::Content(data)
                }
            }
            Err(err) => Side::Unknown(format!("reading blob {id} from git: {err}")),
        }
    }
}

/// Resolves `HEAD` and maps its tree's blobs (including symlinks) by workspace-relative path (the
/// workspace `root` may be a subdirectory of the repository's work tree). An unborn `HEAD` (no
/// commits yet) gives an empty map.
fn load_head(
    repo: gix::Repository,
    root: &Path,
) -> Result<Head, Box<dyn std::error::Error + Send + Sync>> {
    let prefix = match repo.workdir() {
        Some(workdir) => {
            let workdir = workdir
                .canonicalize()
                .unwrap_or_else(|_| workdir.to_path_buf());
            let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
            root.strip_prefix(&workdir)
                .map(Path::to_path_buf)
                .unwrap_or_default()
        }
        None => return Err("bare repository has no work tree".into()),
    };
    let (commit, blobs) = match repo.head_commit() {
        Ok(commit) => {
            let id = commit.id;
            let tree = commit.tree()?;
            let files = tree.traverse().breadthfirst.files()?;
            let blobs = files
                .into_iter()
                .filter(|e| e.mode.is_blob_or_symlink())
                .filter_map(|e| {
                    let path = PathBuf::from(e.filepath.to_string());
                    let rel = path.strip_prefix(&prefix).ok()?.to_path_buf();
                    Some((rel, e.oid))
                })
                .collect();
            (Some(id), blobs)
        }
        Err(err) => {
            // An unborn branch is a repository with no commits: everything is "added".
            if repo.head()?.is_unborn() {
                (None, HashMap::new())
            } else {
                return Err(err.into());
            }
        }
    };
    Ok(Head {
        repo,
        commit,
        blobs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(dir)
            .status()
            .expect("run git");
        assert!(status.success(), "git {args:?}");
    }

    fn scanned(rel: &str, root: &Path) -> ScannedFile {
        let bytes = std::fs::metadata(root.join(rel))
            .map(|m| m.len())
            .unwrap_or(0);
        ScannedFile {
            rel: PathBuf::from(rel),
            bytes,
        }
    }

    #[test]
    fn head_and_session_baselines_from_a_real_repository() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        std::fs::create_dir_all(root.join("src")).expect("mkdir");
        std::fs::write(root.join("src/lib.rs"), "pub fn a() {}\n").expect("write");
        std::fs::write(root.join("notes.txt"), "committed\n").expect("write");
        git(root, &["add", "."]);
        git(root, &["commit", "-q", "-m", "init"]);
        // Dirty at session start: the session baseline must be the dirty content.
        std::fs::write(root.join("notes.txt"), "dirty at start\n").expect("write");
        let files = vec![scanned("src/lib.rs", root), scanned("notes.txt", root)];
        let (b, errors) = Baselines::load(root, &files, 1 << 20, 1 << 20);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(b.head_label().starts_with("HEAD "), "{}", b.head_label());
        assert_eq!(
            b.head(Path::new("notes.txt")),
            Some(Side::Content(b"committed\n".to_vec()))
        );
        assert_eq!(
            b.session(Path::new("notes.txt")),
            Side::Content(b"dirty at start\n".to_vec())
        );
        // Clean at start: the session baseline is read back from the HEAD blob.
        assert_eq!(
            b.session(Path::new("src/lib.rs")),
            Side::Content(b"pub fn a() {}\n".to_vec())
        );
        assert_eq!(b.head(Path::new("new.rs")), Some(Side::Absent));
        assert_eq!(b.session(Path::new("new.rs")), Side::Absent);
    }

    #[test]
    fn reload_head_sees_a_new_commit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        std::fs::write(root.join("a.txt"), "one\n").expect("write");
        let files = vec![scanned("a.txt", root)];
        let (mut b, _) = Baselines::load(root, &files, 1 << 20, 1 << 20);
        assert_eq!(b.head_label(), "HEAD (no commits yet)");
        assert_eq!(b.head(Path::new("a.txt")), Some(Side::Absent));
        git(root, &["add", "."]);
        git(root, &["commit", "-q", "-m", "first"]);
        assert_eq!(b.reload_head(), Ok(true));
        assert_eq!(
            b.head(Path::new("a.txt")),
            Some(Side::Content(b"one\n".to_vec()))
        );
    }

    #[test]
    fn outside_a_repository_snapshots_within_the_budget() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::write(root.join("a.txt"), "aaaa\n").expect("write");
        std::fs::write(root.join("b.txt"), "bbbb\n").expect("write");
        let files = vec![scanned("a.txt", root), scanned("b.txt", root)];
        let (b, _) = Baselines::load(root, &files, 1 << 20, 6);
        assert!(!b.has_head());
        assert_eq!(b.head(Path::new("a.txt")), None);
        assert_eq!(
            b.session(Path::new("a.txt")),
            Side::Content(b"aaaa\n".to_vec())
        );
        assert!(matches!(b.session(Path::new("b.txt")), Side::Unknown(_)));
    }
}
