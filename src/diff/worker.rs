//! The worker thread's state machine: the initial scan and baselines, then turning debounced
//! file-system events into [`DiffEvent`]s (create/modify/rename/delete, sensitive warnings,
//! mass deletes, `HEAD` moves). Events are queued in `out` and sent by [`Worker::flush`].
//!
//! **Invariant:** a file's state is always read from disk when its event is handled, so the order
//! and merging of notify events only decide *which* paths are looked at, never what is reported.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::Instant;

use notify::event::{EventKind, ModifyKind, RenameMode};
use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use super::baseline::{Baselines, Side};
use super::compute::{ContentPolicy, DiffBody, FileDiff, compute};
use super::filter::{IGNORE_FILES, ScannedFile, WorkspaceFilter, scan};
use super::sensitive::{SensitiveMatcher, summarize};
use super::{
    ChangeKind, DiffEvent, DiffOptions, FileChange, SensitiveWarning, now_unix_ms, rel_string,
};

/// State of the worker thread.
pub(super) struct Worker {
    root: PathBuf,
    options: DiffOptions,
    filter: WorkspaceFilter,
    sensitive: SensitiveMatcher,
    baselines: Baselines,
    /// Files currently known to exist and be watched (workspace-relative).
    known: BTreeSet<PathBuf>,
    /// Current path → path at session start, for renamed files.
    origin: HashMap<PathBuf, PathBuf>,
    /// Content hash of the last emitted state per path (skips metadata-only events).
    last_hash: HashMap<PathBuf, u64>,
    /// Last content of changed sensitive files (for "what changed" summaries).
    last_sensitive: HashMap<PathBuf, Vec<u8>>,
    /// Times of recent deletions (mass-delete window).
    deletions: VecDeque<Instant>,
    mass_delete_raised: bool,
    out: Vec<DiffEvent>,
    tx: mpsc::Sender<DiffEvent>,
    /// The inotify watches: one per watched directory (never in `.git`, build outputs or ignored
    /// directories, so a `cargo build` or `npm install` costs nothing here).
    watcher: RecommendedWatcher,
    /// Workspace-relative directories with a watch.
    watched: BTreeSet<PathBuf>,
}

/// Walks `start` with [`scan`], adding a non-recursive watch to each directory before it is listed.
fn scan_and_watch(
    root: &Path,
    filter: &mut WorkspaceFilter,
    sensitive: &SensitiveMatcher,
    watcher: &mut RecommendedWatcher,
    watched: &mut BTreeSet<PathBuf>,
    start: &Path,
    errors: &mut Vec<String>,
) -> Vec<ScannedFile> {
    let mut watch_errors = Vec::new();
    let mut visit = |dir: &Path| {
        if watched.contains(dir) {
            return;
        }
        match watcher.watch(&root.join(dir), RecursiveMode::NonRecursive) {
            Ok(()) => {
                watched.insert(dir.to_path_buf());
            }
            Err(err) => watch_errors.push(format!("watching {}: {err}", root.join(dir).display())),
        }
    };
    let files = scan(filter, sensitive, start, &mut visit, errors);
    errors.extend(watch_errors);
    files
}

impl Worker {
    /// Scans the workspace (watching every watched directory, and `.git`'s `HEAD` and branch refs),
    /// loads baselines and queues the `Watching` event. `watcher` already watches the root.
    pub(super) fn start(
        root: PathBuf,
        options: DiffOptions,
        tx: mpsc::Sender<DiffEvent>,
        mut watcher: RecommendedWatcher,
    ) -> Self {
        let (sensitive, mut errors) =
            SensitiveMatcher::new(&root, &options.extra_sensitive, options.pack_rules.clone());
        let mut filter = WorkspaceFilter::new(&root);
        let mut watched = BTreeSet::from([PathBuf::new()]);
        let files = scan_and_watch(
            &root,
            &mut filter,
            &sensitive,
            &mut watcher,
            &mut watched,
            Path::new(""),
            &mut errors,
        );
        // HEAD moves (commit, checkout) re-base the "since HEAD" diffs: watch only what moves it.
        let git = root.join(".git");
        if git.is_dir() {
            for (dir, mode) in [
                (git.clone(), RecursiveMode::NonRecursive),
                (git.join("refs/heads"), RecursiveMode::Recursive),
            ] {
                if dir.is_dir()
                    && let Err(err) = watcher.watch(&dir, mode)
                {
                    errors.push(format!("watching {}: {err}", dir.display()));
                }
            }
        }
        let (baselines, baseline_errors) = Baselines::load(
            &root,
            &files,
            options.max_file_bytes,
            options.snapshot_budget_bytes,
        );
        errors.extend(baseline_errors);
        let known = files.into_iter().map(|f| f.rel).collect();
        let mut worker = Worker {
            root,
            options,
            filter,
            sensitive,
            baselines,
            known,
            origin: HashMap::new(),
            last_hash: HashMap::new(),
            last_sensitive: HashMap::new(),
            deletions: VecDeque::new(),
            mass_delete_raised: false,
            out: Vec::new(),
            tx,
            watcher,
            watched,
        };
        for err in errors {
            worker.error(err);
        }
        worker.out.push(DiffEvent::Watching {
            files: worker.known.len(),
            baseline: worker.baselines.head_label(),
            at_unix_ms: now_unix_ms(),
        });
        worker
    }

    /// Sends the queued events (blocking when the channel is full: see the backpressure rule).
    pub(super) fn flush(&mut self) -> Result<(), ()> {
        for event in self.out.drain(..) {
            self.tx.blocking_send(event).map_err(|_| ())?;
        }
        Ok(())
    }

    pub(super) fn error(&mut self, message: String) {
        self.out.push(DiffEvent::Error {
            message,
            at_unix_ms: now_unix_ms(),
        });
    }

    fn rel(&self, path: &Path) -> Option<PathBuf> {
        path.strip_prefix(&self.root).ok().map(Path::to_path_buf)
    }

    /// Handles one debounced batch (in arrival order), then checks the mass-delete window.
    pub(super) fn handle_batch(&mut self, events: &[notify::Event]) {
        // notify's inotify backend reports a rename three times: the `From` half, the `To` half
        // and a paired `Both` event; only the pair is used. Unpaired halves (moved in or out of
        // the workspace) are looked up on disk like any other event.
        let paired: HashSet<usize> = events
            .iter()
            .filter(|e| e.kind == EventKind::Modify(ModifyKind::Name(RenameMode::Both)))
            .filter_map(|e| e.attrs.tracker())
            .collect();
        let mut head_moved = false;
        let mut looked_at: HashSet<PathBuf> = HashSet::new();
        for event in events {
            if event.need_rescan() {
                self.error("the kernel dropped file events (inotify queue overflow): rescanning the workspace".to_string());
                self.rescan();
                looked_at.clear();
                continue;
            }
            let half = matches!(
                event.kind,
                EventKind::Modify(ModifyKind::Name(RenameMode::From | RenameMode::To))
            );
            if matches!(event.kind, EventKind::Access(_))
                || (half && event.attrs.tracker().is_some_and(|t| paired.contains(&t)))
            {
                continue;
            }
            let paths: Vec<PathBuf> = event.paths.iter().filter_map(|p| self.rel(p)).collect();
            for rel in &paths {
                head_moved |= is_head_ref(rel);
                if rel
                    .file_name()
                    .is_some_and(|n| IGNORE_FILES.iter().any(|f| n == *f))
                {
                    let dir = rel.parent().unwrap_or(Path::new("")).to_path_buf();
                    let errors = self.filter.load_dir(&dir);
                    errors.into_iter().for_each(|e| self.error(e));
                }
            }
            match (event.kind, paths.as_slice()) {
                (EventKind::Modify(ModifyKind::Name(RenameMode::Both)), [from, to]) => {
                    looked_at.clear();
                    self.renamed(from, to)
                }
                (EventKind::Remove(_), paths) => {
                    looked_at.clear();
                    paths.iter().for_each(|p| self.removed(p))
                }
                (_, paths) => {
                    // A write is often several events (create, modify, close): look once.
                    for p in paths {
                        if looked_at.insert(p.clone()) {
                            self.touched(p);
                        }
                    }
                }
            }
        }
        if head_moved {
            self.head_moved();
        }
        self.check_mass_delete();
    }

    /// After lost events: every watched file is looked at again (unchanged ones cost a read and
    /// a hash), and known files that are gone are deleted.
    fn rescan(&mut self) {
        let files = self.scan_and_watch(Path::new(""));
        let present: HashSet<PathBuf> = files.iter().map(|f| f.rel.clone()).collect();
        let gone: Vec<PathBuf> = self
            .known
            .iter()
            .filter(|p| !present.contains(*p))
            .cloned()
            .collect();
        for rel in gone {
            self.known.remove(&rel);
            self.deleted(&rel);
        }
        for file in files {
            self.file_changed(&file.rel, None);
        }
    }

    /// [`scan_and_watch`] from `start`, reporting problems as error events.
    fn scan_and_watch(&mut self, start: &Path) -> Vec<ScannedFile> {
        let mut errors = Vec::new();
        let files = scan_and_watch(
            &self.root,
            &mut self.filter,
            &self.sensitive,
            &mut self.watcher,
            &mut self.watched,
            start,
            &mut errors,
        );
        errors.into_iter().for_each(|e| self.error(e));
        files
    }

    /// Drops the watches of `rel` and the directories below it (removed or renamed away; the
    /// kernel already dropped them for a removal, notify's path map is cleaned here).
    fn forget_watches(&mut self, rel: &Path) {
        let gone: Vec<PathBuf> = self
            .watched
            .range(rel.to_path_buf()..)
            .take_while(|d| d.starts_with(rel))
            .cloned()
            .collect();
        for dir in gone {
            let _ = self.watcher.unwatch(&self.root.join(&dir));
            self.watched.remove(&dir);
        }
    }

    /// A path was created, modified, or is of unknown state: look at the disk.
    fn touched(&mut self, rel: &Path) {
        let abs = self.root.join(rel);
        match std::fs::symlink_metadata(&abs) {
            Ok(meta) if meta.is_dir() => {
                if self.filter.watches_dir(rel) {
                    // Files may have been written before inotify watched the new directory.
                    let files = self.scan_and_watch(rel);
                    for file in files {
                        if !self.known.contains(&file.rel) {
                            self.file_changed(&file.rel, None);
                        }
                    }
                }
            }
            Ok(meta) if meta.is_file() => {
                if self.filter.watches_file(rel, &self.sensitive) {
                    self.file_changed(rel, None);
                }
            }
            Ok(_) => {} // symlinks and special files are not followed
            Err(_) => self.removed(rel),
        }
    }

    /// `from` was renamed to `to` (both workspace-relative; either may be a directory).
    fn renamed(&mut self, from: &Path, to: &Path) {
        // A watch follows the directory's inode but notify names its events by the old path:
        // re-watch the moved tree under its new name.
        let was_dir = self.watched.contains(from);
        if was_dir {
            self.forget_watches(from);
        }
        let moved: Vec<PathBuf> = self.known_under(from);
        if moved.is_empty() {
            self.touched(to);
            return;
        }
        for old in moved {
            let suffix = old.strip_prefix(from).unwrap_or(Path::new(""));
            let new = if suffix.as_os_str().is_empty() {
                to.to_path_buf()
            } else {
                to.join(suffix)
            };
            self.known.remove(&old);
            if !self.filter.watches_file(&new, &self.sensitive) {
                self.deleted(&old);
                continue;
            }
            if self.known.contains(&new) {
                // Moved over an existing file (an editor's atomic save: write a temporary file,
                // rename it over the original): the original changed, the temporary is gone.
                self.deleted(&old);
                self.last_hash.remove(&new);
                self.file_changed(&new, None);
                continue;
            }
            let orig = self.origin.remove(&old).unwrap_or_else(|| old.clone());
            self.last_hash.remove(&old);
            if let Some(prev) = self.last_sensitive.remove(&old) {
                self.last_sensitive.insert(new.clone(), prev);
            }
            self.origin.insert(new.clone(), orig);
            self.file_changed(&new, Some(rel_string(&old)));
        }
        if was_dir && self.filter.watches_dir(to) {
            for file in self.scan_and_watch(to) {
                if !self.known.contains(&file.rel) {
                    self.file_changed(&file.rel, None);
                }
            }
        }
    }

    /// `rel` (a file or directory) no longer exists.
    fn removed(&mut self, rel: &Path) {
        if self.watched.contains(rel) {
            self.forget_watches(rel);
        }
        for file in self.known_under(rel) {
            self.known.remove(&file);
            self.deleted(&file);
        }
    }

    /// Known files equal to `rel` or below it.
    fn known_under(&self, rel: &Path) -> Vec<PathBuf> {
        self.known
            .range(rel.to_path_buf()..)
            .take_while(|p| p.starts_with(rel))
            .cloned()
            .collect()
    }

    /// Emits the deletion of a known file.
    fn deleted(&mut self, rel: &Path) {
        self.deletions.push_back(Instant::now());
        self.last_hash.remove(rel);
        let orig = self.origin.remove(rel).unwrap_or_else(|| rel.to_path_buf());
        let sensitive = self.sensitive.matches(rel);
        let policy = sensitive
            .as_ref()
            .map_or(ContentPolicy::Show, |s| s.kind.policy());
        let since_head = self
            .baselines
            .head(&orig)
            .map(|old| diff_sides(&old, &Side::Absent, policy));
        let since_session = diff_sides(&self.baselines.session(&orig), &Side::Absent, policy);
        let change = FileChange {
            path: rel_string(rel),
            change: ChangeKind::Deleted,
            since_head,
            since_session,
            sensitive: sensitive.as_ref().map(|s| s.label.clone()),
            at_unix_ms: now_unix_ms(),
        };
        if let Some(s) = sensitive {
            self.last_sensitive.remove(rel);
            self.warn(&change, s.label, summarize(&change, s.kind, None, None));
        }
        self.out.push(DiffEvent::FileChanged(change));
    }

    /// Reads `rel` and emits its diffs when its content changed since the last emission.
    fn file_changed(&mut self, rel: &Path, renamed_from: Option<String>) {
        let abs = self.root.join(rel);
        let Ok(meta) = std::fs::metadata(&abs) else {
            return self.removed(rel);
        };
        let current = if meta.len() > self.options.max_file_bytes {
            Side::TooLarge(meta.len())
        } else {
            match std::fs::read(&abs) {
                Ok(bytes) => Side::Content(bytes),
                Err(_) => return self.removed(rel),
            }
        };
        let hash = {
            let mut h = DefaultHasher::new();
            match &current {
                Side::Content(bytes) => bytes.hash(&mut h),
                other => format!("{other:?}{:?}", meta.modified().ok()).hash(&mut h),
            }
            h.finish()
        };
        self.known.insert(rel.to_path_buf());
        if renamed_from.is_none() && self.last_hash.get(rel) == Some(&hash) {
            return; // metadata-only event (touch, chmod, editor save of identical content)
        }
        let orig = self
            .origin
            .get(rel)
            .cloned()
            .unwrap_or_else(|| rel.to_path_buf());
        let session = self.baselines.session(&orig);
        if renamed_from.is_none() && !self.last_hash.contains_key(rel) && session == current {
            // First event for a file whose content equals its session baseline: nothing changed.
            self.last_hash.insert(rel.to_path_buf(), hash);
            return;
        }
        self.last_hash.insert(rel.to_path_buf(), hash);
        let sensitive = self.sensitive.matches(rel);
        let policy = sensitive
            .as_ref()
            .map_or(ContentPolicy::Show, |s| s.kind.policy());
        let since_session = diff_sides(&session, &current, policy);
        // Most files are unchanged since HEAD at session start: reuse the diff then.
        let since_head = self.baselines.head(&orig).map(|old| {
            if old == session {
                since_session.clone()
            } else {
                diff_sides(&old, &current, policy)
            }
        });
        let change = match renamed_from {
            Some(from) => ChangeKind::Renamed { from },
            None if session == Side::Absent => ChangeKind::Added,
            None => ChangeKind::Modified,
        };
        let change = FileChange {
            path: rel_string(rel),
            change,
            since_head,
            since_session,
            sensitive: sensitive.as_ref().map(|s| s.label.clone()),
            at_unix_ms: now_unix_ms(),
        };
        if let Some(s) = sensitive {
            let previous = self
                .last_sensitive
                .remove(rel)
                .or_else(|| session.bytes().map(<[u8]>::to_vec));
            let summary = summarize(&change, s.kind, previous.as_deref(), current.bytes());
            if let Side::Content(bytes) = &current {
                self.last_sensitive.insert(rel.to_path_buf(), bytes.clone());
            }
            self.warn(&change, s.label, summary);
        }
        self.out.push(DiffEvent::FileChanged(change));
    }

    fn warn(&mut self, change: &FileChange, label: String, summary: String) {
        self.out.push(DiffEvent::SensitiveChange(SensitiveWarning {
            path: change.path.clone(),
            label,
            summary,
            at_unix_ms: change.at_unix_ms,
        }));
    }

    /// `HEAD` (or the branch it points to) moved: re-read it and re-emit the changed files'
    /// diffs against the new `HEAD`.
    fn head_moved(&mut self) {
        match self.baselines.reload_head() {
            Ok(true) => {
                let changed: Vec<PathBuf> = self.last_hash.keys().cloned().collect();
                for rel in changed {
                    self.last_hash.remove(&rel);
                    self.file_changed(&rel, None);
                }
                self.out.push(DiffEvent::Watching {
                    files: self.known.len(),
                    baseline: self.baselines.head_label(),
                    at_unix_ms: now_unix_ms(),
                });
            }
            Ok(false) => {}
            Err(err) => self.error(err),
        }
    }

    /// Raises one `MassDelete` per burst of more than the threshold deletions in the window.
    fn check_mass_delete(&mut self) {
        let window = self.options.mass_delete_window;
        let now = Instant::now();
        while self
            .deletions
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            self.deletions.pop_front();
        }
        if self.deletions.is_empty() {
            self.mass_delete_raised = false;
        }
        if !self.mass_delete_raised && self.deletions.len() > self.options.mass_delete_threshold {
            self.mass_delete_raised = true;
            self.out.push(DiffEvent::MassDelete {
                count: self.deletions.len(),
                window_ms: u64::try_from(window.as_millis()).unwrap_or(u64::MAX),
                at_unix_ms: now_unix_ms(),
            });
        }
    }
}

/// True for the files whose change moves `HEAD`: `.git/HEAD`, branch refs, packed refs.
fn is_head_ref(rel: &Path) -> bool {
    let mut parts = rel.components();
    let Some(first) = parts.next() else {
        return false;
    };
    if first.as_os_str() != ".git" {
        return false;
    }
    let rest = parts.as_path();
    rest == Path::new("HEAD") || rest == Path::new("packed-refs") || rest.starts_with("refs/heads")
}

/// Diffs two sides under a content policy.
fn diff_sides(old: &Side, new: &Side, policy: ContentPolicy) -> FileDiff {
    match (old, new) {
        (Side::TooLarge(bytes), _) | (_, Side::TooLarge(bytes)) => {
            FileDiff::bare(DiffBody::TooLarge { bytes: *bytes })
        }
        (Side::Unknown(reason), _) | (_, Side::Unknown(reason)) => {
            FileDiff::bare(DiffBody::NoBaseline {
                reason: reason.clone(),
            })
        }
        _ => compute(old.bytes(), new.bytes(), policy),
    }
}
