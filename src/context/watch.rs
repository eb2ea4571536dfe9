//! Watching the files the probes read, and turning changes into context warnings.
//!
//! [`ContextWatcher::spawn`] watches (notify, debounced 200 ms) the directory holding each file
//! the last detection read or looked for — kubeconfigs, `~/.aws/config` and `credentials`, gcloud
//! `active_config` and configurations, `.terraform/environment`, `.git/HEAD`, docker
//! `config.json`, Pulumi workspaces, custom probe files — or the nearest existing ancestor when
//! the file does not exist yet. On a relevant change it re-runs the probes, compares with the
//! previous context ([`diff`]) and reports a [`ContextUpdate`] with one [`ContextWarning`] per
//! changed fact ("kube context changed: staging-eu → prod-eu (production)"). The watch set is
//! re-synced after each detection, so a file created later is picked up.
//!
//! **The agent's own environment cannot change from outside**: env vars (`AWS_PROFILE`,
//! `KUBECONFIG`, `DATABASE_URL`, …) were fixed when the agent was spawned, and a process's
//! environment is not visible to or settable by its parent afterwards. Only files are watched;
//! an agent that runs `export AWS_PROFILE=prod` inside its own shell changes the context of the
//! commands it runs after, which the rule engine sees per command (`AWS_PROFILE=` prefixes,
//! `--profile`) but this watcher cannot.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, Weak, mpsc};
use std::time::Duration;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

use super::scan::{self, ScanOutput};
use super::{Context, Fact, FactKind, Knowledge, Overrides, ProbeEnv, Tier};

/// Debounce window: editors and `kubectl config use-context` write in bursts.
const DEBOUNCE: Duration = Duration::from_millis(200);

/// A mid-session change of what the agent is pointed at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextWarning {
    pub kind: FactKind,
    /// One line for the banner and the Activity list, e.g.
    /// `"kube context changed: staging-eu → prod-eu (production)"`.
    pub message: String,
    /// The fact's name before (`None` if it appeared).
    pub from: Option<String>,
    /// The fact's name after (`None` if it disappeared).
    pub to: Option<String>,
    /// The tier after the change (the new session tier if the fact disappeared).
    pub tier: Tier,
}

/// A re-detection after a file change: the new context and what changed (possibly nothing
/// warning-worthy, e.g. a reason text changed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextUpdate {
    pub context: Context,
    pub warnings: Vec<ContextWarning>,
}

/// Errors starting the watcher.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("starting the file watcher: {0}")]
    Notify(#[from] notify::Error),
    #[error("starting the context watcher thread: {0}")]
    Thread(#[from] std::io::Error),
}

type Watcher = Debouncer<notify::RecommendedWatcher, RecommendedCache>;

/// A running watcher; dropping it stops watching (the worker thread then exits).
pub struct ContextWatcher {
    /// Owned only to keep the OS watches alive: dropping it stops watching.
    _debouncer: Arc<Mutex<Watcher>>,
    dirs: Arc<Mutex<BTreeSet<PathBuf>>>,
    tx: mpsc::Sender<Msg>,
}

/// What wakes the worker thread.
enum Msg {
    Files(DebounceEventResult),
    Knowledge(Knowledge),
    Rescan,
}

impl std::fmt::Debug for ContextWatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContextWatcher")
    }
}

impl ContextWatcher {
    /// Starts watching; `on_update` runs on the watcher's own thread after each re-detection that
    /// changed the context. `current` is the context the session started with (normally
    /// `detect(&input, &knowledge)`); it is re-detected once here to learn the files to watch,
    /// and if that already differs (a file changed in between) the first update follows at once.
    pub fn spawn<F>(
        input: ProbeEnv,
        knowledge: Knowledge,
        current: Context,
        mut on_update: F,
    ) -> Result<ContextWatcher, WatchError>
    where
        F: FnMut(ContextUpdate) + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Msg>();
        let files_tx = tx.clone();
        let debouncer = new_debouncer(DEBOUNCE, None, move |r: DebounceEventResult| {
            // The worker is gone only when the watcher is being dropped.
            let _ = files_tx.send(Msg::Files(r));
        })?;
        let debouncer = Arc::new(Mutex::new(debouncer));
        let first = scan::run(&input, &knowledge, &Overrides::default(), &FactKind::ALL);
        let dirs = Arc::new(Mutex::new(BTreeSet::new()));
        resync(&debouncer, &dirs, &first.watched);
        let weak: Weak<Mutex<Watcher>> = Arc::downgrade(&debouncer);
        let worker_dirs = Arc::clone(&dirs);
        std::thread::Builder::new()
            .name("context-watch".into())
            .spawn(move || {
                let mut knowledge = knowledge;
                let mut last = current;
                let mut files = first.watched;
                if first.context != last {
                    let warnings = diff(&last, &first.context);
                    last = first.context.clone();
                    on_update(ContextUpdate {
                        context: first.context,
                        warnings,
                    });
                }
                // Ends when every sender is gone: the debouncer's (dropped with the watcher) and
                // the watcher's own.
                while let Ok(msg) = rx.recv() {
                    match msg {
                        Msg::Files(Ok(events)) => {
                            let relevant = events
                                .iter()
                                .flat_map(|e| e.paths.iter())
                                .any(|p| touches(&files, p));
                            if !relevant {
                                continue;
                            }
                        }
                        // Errors (e.g. inotify queue overflow) may hide a change: re-detect.
                        Msg::Files(Err(_)) | Msg::Rescan => {}
                        Msg::Knowledge(k) => knowledge = k,
                    }
                    let ScanOutput { context, watched } =
                        scan::run(&input, &knowledge, &Overrides::default(), &FactKind::ALL);
                    let Some(debouncer) = weak.upgrade() else {
                        break;
                    };
                    resync(&debouncer, &worker_dirs, &watched);
                    files = watched;
                    if context != last {
                        let warnings = diff(&last, &context);
                        last = context.clone();
                        on_update(ContextUpdate { context, warnings });
                    }
                }
            })?;
        Ok(ContextWatcher {
            _debouncer: debouncer,
            dirs,
            tx,
        })
    }

    /// Replaces the team knowledge (rule packs reloaded) and re-detects; tiers that change
    /// because of a new or removed pin are reported like any other change.
    pub fn set_knowledge(&self, knowledge: Knowledge) {
        // A send error means the worker ended, i.e. the watcher is shutting down.
        let _ = self.tx.send(Msg::Knowledge(knowledge));
    }

    /// Re-detects now (e.g. after a confirmation dialog, to be sure the target did not move).
    pub fn rescan(&self) {
        let _ = self.tx.send(Msg::Rescan);
    }

    /// Like [`ContextWatcher::spawn`], delivering updates on a bounded tokio channel of
    /// `capacity`. Backpressure: when the receiver lags, the watcher thread blocks (file events
    /// queue in the debouncer, and the next detection sees the latest files anyway).
    pub fn channel(
        input: ProbeEnv,
        knowledge: Knowledge,
        current: Context,
        capacity: usize,
    ) -> Result<(ContextWatcher, tokio::sync::mpsc::Receiver<ContextUpdate>), WatchError> {
        let (tx, rx) = tokio::sync::mpsc::channel(capacity.max(1));
        let w = ContextWatcher::spawn(input, knowledge, current, move |u| {
            // A closed receiver means the app is shutting down; dropping the update is right.
            let _ = tx.blocking_send(u);
        })?;
        Ok((w, rx))
    }

    /// The directories currently watched (for diagnostics and tests).
    pub fn watched_dirs(&self) -> Vec<PathBuf> {
        match self.dirs.lock() {
            Ok(d) => d.iter().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }
}

/// Whether an event on `path` can change a probe's result: it is a watched file, or an ancestor
/// of one (a directory created, renamed or removed on the way).
fn touches(files: &[PathBuf], path: &Path) -> bool {
    files.iter().any(|f| f == path || f.starts_with(path))
}

/// The directory to watch for a file: its parent, or the nearest existing ancestor.
fn watch_dir_for(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .find(|d| d.is_dir())
        .map(Path::to_path_buf)
}

/// Adds watches for new directories and drops those no longer needed. Failures (permission,
/// inotify limits) are skipped: a fact we cannot watch is still detected at the next change
/// elsewhere.
fn resync(debouncer: &Mutex<Watcher>, dirs: &Mutex<BTreeSet<PathBuf>>, files: &[PathBuf]) {
    let wanted: BTreeSet<PathBuf> = files.iter().filter_map(|f| watch_dir_for(f)).collect();
    let (Ok(mut d), Ok(mut current)) = (debouncer.lock(), dirs.lock()) else {
        return;
    };
    for gone in current.difference(&wanted) {
        let _ = d.unwatch(gone);
    }
    let mut now = BTreeSet::new();
    for dir in &wanted {
        if current.contains(dir) || d.watch(dir, RecursiveMode::NonRecursive).is_ok() {
            now.insert(dir.clone());
        }
    }
    *current = now;
}

/// What a fact is "the same thing" as across detections.
fn slot(f: &Fact) -> (FactKind, String) {
    if f.name.starts_with('(') && f.tier == Tier::Unknown {
        return (f.kind, format!("problem:{}", f.source));
    }
    let key = match f.kind {
        FactKind::Custom => f.details.get("probe").cloned().unwrap_or_default(),
        FactKind::Database | FactKind::Service => f.source.clone(),
        FactKind::Gcloud | FactKind::Azure if f.source.starts_with("env ") => f.source.clone(),
        _ => String::new(),
    };
    (f.kind, key)
}

/// How a kind's main fact is called in warnings.
fn label(f: &Fact) -> String {
    match f.kind {
        FactKind::Kube => "kube context".into(),
        FactKind::Aws => "AWS profile".into(),
        FactKind::Gcloud => "gcloud project".into(),
        FactKind::Azure => "Azure subscription".into(),
        FactKind::Terraform => "terraform workspace".into(),
        FactKind::Pulumi => "pulumi stack".into(),
        FactKind::Docker => "docker context".into(),
        FactKind::Git => "git branch".into(),
        FactKind::Ssh => "SSH host".into(),
        FactKind::Database => format!("database ({})", f.source),
        FactKind::Service => format!("service ({})", f.source),
        FactKind::Custom => format!(
            "{} (custom probe)",
            f.details.get("probe").map(String::as_str).unwrap_or("?")
        ),
    }
}

/// The warnings for going from `old` to `new`: a fact whose name or tier changed, appeared or
/// disappeared. Facts are matched by kind (plus probe name, env source for databases/services).
pub fn diff(old: &Context, new: &Context) -> Vec<ContextWarning> {
    let index = |c: &Context| -> BTreeMap<(FactKind, String), Fact> {
        let mut m = BTreeMap::new();
        for f in &c.facts {
            m.entry(slot(f)).or_insert_with(|| f.clone());
        }
        m
    };
    let (before, after) = (index(old), index(new));
    let keys: BTreeSet<&(FactKind, String)> = before.keys().chain(after.keys()).collect();
    let mut out = Vec::new();
    for key in keys {
        let warning = match (before.get(key), after.get(key)) {
            (Some(a), Some(b)) if a.name != b.name => ContextWarning {
                kind: b.kind,
                message: format!("{} changed: {} → {} ({})", label(b), a.name, b.name, b.tier),
                from: Some(a.name.clone()),
                to: Some(b.name.clone()),
                tier: b.tier,
            },
            (Some(a), Some(b)) if a.tier != b.tier => ContextWarning {
                kind: b.kind,
                message: format!(
                    "{} {} is now {} (was {}): {}",
                    label(b),
                    b.name,
                    b.tier,
                    a.tier,
                    b.reason
                ),
                from: Some(a.name.clone()),
                to: Some(b.name.clone()),
                tier: b.tier,
            },
            (Some(_), Some(_)) => continue,
            (None, Some(b)) if b.name.starts_with('(') => ContextWarning {
                kind: b.kind,
                message: format!("{} {}: {}", b.kind, b.name, b.reason),
                from: None,
                to: Some(b.name.clone()),
                tier: b.tier,
            },
            (None, Some(b)) => ContextWarning {
                kind: b.kind,
                message: format!("{} appeared: {} ({})", label(b), b.name, b.tier),
                from: None,
                to: Some(b.name.clone()),
                tier: b.tier,
            },
            (Some(a), None) if a.name.starts_with('(') => continue,
            (Some(a), None) => ContextWarning {
                kind: a.kind,
                message: format!("{} gone: {} (was {})", label(a), a.name, a.tier),
                from: Some(a.name.clone()),
                to: None,
                tier: new.tier,
            },
            (None, None) => continue,
        };
        out.push(warning);
    }
    out
}
