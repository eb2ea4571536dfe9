//! Which workspace paths are watched: `.git/` and common build outputs are always skipped;
//! `.gitignore`, `.ignore`, `.git/info/exclude` and the global git excludes file are honoured
//! (compiled with the `ignore` crate, one matcher per directory that has ignore files, rebuilt when
//! one of them changes); sensitive files are kept even when ignored (a gitignored `.env` is exactly
//! what must be watched).
//!
//! Precedence follows git: the deepest directory's rules win, `.ignore` overrides `.gitignore` in
//! the same directory, then `.git/info/exclude`, then the global excludes.
//! Known gap: git cannot re-include a file whose parent directory is excluded; here a deeper
//! whitelist does re-include it (rare in practice).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use super::sensitive::SensitiveMatcher;

/// Directory names never watched: VCS metadata and common build/dependency outputs.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "target",
    "node_modules",
    "dist",
    "build",
    "out",
    ".next",
    ".nuxt",
    ".svelte-kit",
    ".turbo",
    ".parcel-cache",
    ".venv",
    "venv",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".gradle",
    ".terraform",
    ".cache",
    "coverage",
];

/// The names of per-directory ignore files.
pub const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore"];

/// Ignore rules for one workspace. Paths given to it are workspace-relative.
#[derive(Debug)]
pub struct WorkspaceFilter {
    root: PathBuf,
    global: Gitignore,
    info_exclude: Gitignore,
    /// Workspace-relative directory → its compiled `.gitignore` + `.ignore`.
    per_dir: HashMap<PathBuf, Gitignore>,
}

impl WorkspaceFilter {
    /// Loads the global excludes and `.git/info/exclude`; per-directory files are loaded by
    /// [`WorkspaceFilter::load_dir`] (done by [`scan`] for every visited directory).
    pub fn new(root: &Path) -> Self {
        let (global, _) = Gitignore::global();
        let (info_exclude, _) = Gitignore::new(root.join(".git/info/exclude"));
        WorkspaceFilter {
            root: root.to_path_buf(),
            global,
            info_exclude,
            per_dir: HashMap::new(),
        }
    }

    /// (Re)reads the ignore files of workspace-relative directory `dir`. Call on start and when
    /// a `.gitignore`/`.ignore` in it changes. Returns the parse errors (rules that parsed still
    /// apply).
    pub fn load_dir(&mut self, dir: &Path) -> Vec<String> {
        let abs = self.root.join(dir);
        let mut builder = GitignoreBuilder::new(&abs);
        let mut errors = Vec::new();
        let mut any = false;
        for name in IGNORE_FILES {
            let file = abs.join(name);
            if file.is_file() {
                any = true;
                if let Some(err) = builder.add(&file) {
                    errors.push(format!("reading {}: {err}", file.display()));
                }
            }
        }
        if !any {
            self.per_dir.remove(dir);
            return errors;
        }
        match builder.build() {
            Ok(gi) => {
                self.per_dir.insert(dir.to_path_buf(), gi);
            }
            Err(err) => errors.push(format!(
                "compiling ignore rules in {}: {err}",
                abs.display()
            )),
        }
        errors
    }

    /// True if a component of `rel` is a skipped directory (`.git`, `target`, …).
    pub fn in_skipped_dir(rel: &Path) -> bool {
        rel.components().any(|c| {
            let name = c.as_os_str().to_string_lossy();
            SKIPPED_DIRS.contains(&name.as_ref())
        })
    }

    /// True if the ignore files exclude workspace-relative `rel` (or one of its parents).
    pub fn is_ignored(&self, rel: &Path, is_dir: bool) -> bool {
        let abs = self.root.join(rel);
        let mut dir = rel.parent();
        while let Some(d) = dir {
            if let Some(gi) = self.per_dir.get(d) {
                match gi.matched_path_or_any_parents(&abs, is_dir) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
            dir = d.parent();
        }
        for gi in [&self.info_exclude, &self.global] {
            if gi.is_empty() {
                continue;
            }
            match gi.matched_path_or_any_parents(&abs, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }

    /// Whether a file at `rel` is watched: not in a skipped directory, and not ignored unless
    /// it is sensitive.
    pub fn watches_file(&self, rel: &Path, sensitive: &SensitiveMatcher) -> bool {
        if rel.as_os_str().is_empty() || Self::in_skipped_dir(rel) {
            return false;
        }
        !self.is_ignored(rel, false) || sensitive.matches(rel).is_some()
    }

    /// Whether a directory at `rel` is descended into by [`scan`].
    pub fn watches_dir(&self, rel: &Path) -> bool {
        !Self::in_skipped_dir(rel) && !self.is_ignored(rel, true)
    }
}

/// One watched file found by [`scan`]: workspace-relative path and size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedFile {
    pub rel: PathBuf,
    pub bytes: u64,
}

/// Walks the workspace-relative directory `start` (`""` for the root), loading ignore files as it
/// goes, and returns the watched regular files. `visit_dir` is called with each watched directory
/// *before* it is listed (the watcher adds its inotify watch there, so a file created meanwhile is
/// either listed or reported). Symlinks are not followed (nor reported). Unreadable directories
/// are skipped and named in `errors`.
pub fn scan(
    filter: &mut WorkspaceFilter,
    sensitive: &SensitiveMatcher,
    start: &Path,
    visit_dir: &mut dyn FnMut(&Path),
    errors: &mut Vec<String>,
) -> Vec<ScannedFile> {
    let mut files = Vec::new();
    let mut stack = vec![start.to_path_buf()];
    while let Some(dir) = stack.pop() {
        visit_dir(&dir);
        errors.extend(filter.load_dir(&dir));
        let abs = filter.root.join(&dir);
        let entries = match std::fs::read_dir(&abs) {
            Ok(entries) => entries,
            Err(err) => {
                errors.push(format!("listing {}: {err}", abs.display()));
                continue;
            }
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let rel = dir.join(entry.file_name());
            if file_type.is_dir() {
                if filter.watches_dir(&rel) {
                    stack.push(rel);
                }
            } else if file_type.is_file() && filter.watches_file(&rel, sensitive) {
                let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
                files.push(ScannedFile { rel, bytes });
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn scan_honours_ignore_files_build_dirs_and_keeps_sensitive_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(root, ".gitignore", "*.log\n/secret-dir/\n.env\n");
        write(root, "src/.ignore", "generated.rs\n");
        write(root, "src/main.rs", "fn main() {}\n");
        write(root, "src/generated.rs", "// generated\n");
        write(root, "app.log", "noise\n");
        write(root, "secret-dir/a.txt", "x\n");
        write(root, ".env", "A=1\n");
        write(root, "target/debug/x", "bin\n");
        write(root, "web/node_modules/pkg/index.js", "x\n");
        write(root, ".git/HEAD", "ref: refs/heads/main\n");
        let (sensitive, _) = SensitiveMatcher::new(root, &[], None);
        let mut filter = WorkspaceFilter::new(root);
        let mut errors = Vec::new();
        let mut dirs = Vec::new();
        let mut visit = |d: &Path| dirs.push(super::super::rel_string(d));
        let mut found: Vec<String> = scan(
            &mut filter,
            &sensitive,
            Path::new(""),
            &mut visit,
            &mut errors,
        )
        .into_iter()
        .map(|f| super::super::rel_string(&f.rel))
        .collect();
        found.sort();
        assert_eq!(
            found,
            vec![".env", ".gitignore", "src/.ignore", "src/main.rs"]
        );
        dirs.sort();
        // Only watched directories are visited: not .git, target, node_modules or ignored ones.
        assert_eq!(dirs, vec!["", "src", "web"]);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(filter.is_ignored(Path::new("secret-dir/new.txt"), false));
        assert!(!filter.watches_file(Path::new("build/out.js"), &sensitive));
    }

    #[test]
    fn reloading_a_directory_picks_up_new_rules() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let mut filter = WorkspaceFilter::new(root);
        assert!(!filter.is_ignored(Path::new("notes.tmp"), false));
        write(root, ".gitignore", "*.tmp\n");
        filter.load_dir(Path::new(""));
        assert!(filter.is_ignored(Path::new("notes.tmp"), false));
        std::fs::remove_file(root.join(".gitignore")).expect("rm");
        filter.load_dir(Path::new(""));
        assert!(!filter.is_ignored(Path::new("notes.tmp"), false));
    }
}
