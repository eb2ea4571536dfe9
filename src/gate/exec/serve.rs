//! Answering notifications on an elastic set of threads (`exec-gate-N`): one thread (the leader)
//! polls the listener, receives each notification and reads, decides and answers it itself,
//! then polls again. A second thread (the standby) watches it: when the leader has spent more
//! than a `TICK` on one notification (its `decide` waits for the human on a `confirm`, or a
//! read hangs on a dead filesystem) the standby takes the lead, a follower (or a new thread)
//! becomes the standby, and the old leader finishes its answer and becomes a follower.
//!
//! Why: an exec then costs one wake-up of overwatch, the leader's (on the exec'ing task's CPU
//! with `SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP`), and no hand-over between threads. Handing the
//! lead to a follower before every answer (the leader/followers pattern this replaced) cost a
//! second wake-up and a second `poll` per exec. The standby ticks only while execs arrive and
//! sleeps after `DORMANT_AFTER_TICKS` quiet ticks, so an idle session costs nothing. A held
//! exec in one process still never stops execs elsewhere in the tree: they wait at most about
//! two ticks (20 ms), once per held exec (up to [`ExecGateConfig::max_workers`] threads; beyond
//! that new execs wait in the kernel until one is answered).
//!
//! Lifetime: serving continues after the agent exits, for as long as any process of the tree
//! (e.g. a detached daemon such as Codex's `app-server`) still carries the filter: the
//! listener reports `POLLHUP` when the last one is reaped, and serving ends. [`ServeHandle::stop`]
//! ends it early (when overwatch quits); the kernel then fails every later exec in those
//! processes with `ENOSYS` (no listener) — fail closed.
//!
//! **Invariants:** every received notification is answered exactly once (or its task vanished);
//! the id is re-validated after reading memory and before `decide` (pid reuse / TOCTOU); a
//! request whose memory cannot be read while still valid is denied.

use std::collections::VecDeque;
use std::os::fd::{AsFd, OwnedFd};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use super::filter::classify;
use super::gather::{ExecArgs, ExecFile, FileId, Gathered, gather};
use super::identify::ProgramIndex;
pub use super::procmem::Limits;
use super::reuse::{ReuseKey, reuse_key};
use super::sys::{self, Response};
use super::{DEFAULT_ENV_NAMES, ExecRequest, ExecVerdict};

/// Settings of [`serve`].
#[derive(Debug, Clone)]
pub struct ExecGateConfig {
    /// Environment variables read from each exec's `envp` (see [`DEFAULT_ENV_NAMES`]).
    pub env_names: Vec<String>,
    /// Read bounds per exec.
    pub limits: Limits,
    /// Most serving threads, i.e. most execs read or decided at once (held decisions included)
    /// before later execs wait in the kernel.
    pub max_workers: usize,
    /// Guarded programs to recognise under other names (copies, links), filling
    /// [`ExecRequest::program`]; `None` skips identification.
    pub programs: Option<Arc<ProgramIndex>>,
}

impl Default for ExecGateConfig {
    fn default() -> Self {
        ExecGateConfig {
            env_names: DEFAULT_ENV_NAMES.iter().map(|s| s.to_string()).collect(),
            limits: Limits::default(),
            max_workers: 64,
            programs: None,
        }
    }
}

/// What happened, for the app (status bar, audit log with `layer: exec`).
#[derive(Debug, Clone)]
pub enum ExecEvent {
    /// An exec was evaluated and answered.
    Decided {
        request: Arc<ExecRequest>,
        verdict: ExecVerdict,
        /// From receiving the notification to answering it (includes queueing and `decide`):
        /// the time the exec was held.
        latency: Duration,
    },
    /// The exec could not be read while its notification was still valid, and was denied.
    Unreadable { pid: u32, error: String },
    /// The last process carrying the filter is gone; serving has ended.
    TreeExited,
    /// The listener failed; serving has ended (later execs fail with ENOSYS).
    Failed { error: String },
}

/// Counters, for tests, the bench and a debug view. Invariant once serving is idle:
/// `received == continued_not_executable + allowed + denied + vanished`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecGateStats {
    /// Notifications received from the kernel.
    pub received: u64,
    /// PATH-search probes and missing files, continued without evaluation.
    pub continued_not_executable: u64,
    /// Evaluated and allowed.
    pub allowed: u64,
    /// Denied (by `decide`, or because the exec could not be read).
    pub denied: u64,
    /// The task died before we answered.
    pub vanished: u64,
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    continued_not_executable: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    vanished: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> ExecGateStats {
        ExecGateStats {
            received: self.received.load(Ordering::SeqCst),
            continued_not_executable: self.continued_not_executable.load(Ordering::SeqCst),
            allowed: self.allowed.load(Ordering::SeqCst),
            denied: self.denied.load(Ordering::SeqCst),
            vanished: self.vanished.load(Ordering::SeqCst),
        }
    }
}

/// A running exec gate. Dropping it stops serving like [`ServeHandle::stop`] (without waiting):
/// the stop pipe's write end closes and the leader sees it hang up.
pub struct ServeHandle {
    stop: OwnedFd,
    counters: Arc<Counters>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ServeHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeHandle")
            .field("finished", &self.is_finished())
            .field("stats", &self.stats())
            .finish()
    }
}

impl ServeHandle {
    /// Current counters.
    pub fn stats(&self) -> ExecGateStats {
        self.counters.snapshot()
    }

    /// Whether serving has ended (the tree exited or the listener failed).
    pub fn is_finished(&self) -> bool {
        self.shared.pool().closing
    }

    /// Waits until every process carrying the filter is gone and every answer in flight has
    /// been sent and reported, then returns the final counters. (A `decide` still waiting for a
    /// human keeps this waiting: use it when the tree has exited, or [`ServeHandle::stop`].)
    pub fn join(self) -> ExecGateStats {
        let ServeHandle {
            stop,
            counters,
            shared,
        } = self;
        let mut pool = shared.pool();
        while pool.threads > 0 {
            pool = shared
                .changed
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(pool);
        drop(stop);
        counters.snapshot()
    }

    /// Stops serving now (overwatch is quitting): later execs of the tree fail with `ENOSYS`
    /// once the listener closes. Decisions in progress finish on their own threads.
    pub fn stop(self) -> ExecGateStats {
        let ServeHandle {
            stop,
            counters,
            shared,
        } = self;
        let mut pool = shared.pool();
        pool.closing = true;
        shared.promote.notify_all();
        shared.watch.notify_all();
        // Wakes the leader's poll; it receives nothing more once it sees `closing`.
        let _ = nix::unistd::write(&stop, b"x");
        while pool.polling {
            pool = shared
                .changed
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(pool);
        counters.snapshot()
    }
}

type Decide = dyn Fn(&ExecRequest) -> ExecVerdict + Send + Sync;
type OnEvent = dyn Fn(ExecEvent) + Send + Sync;

struct Shared {
    listener: OwnedFd,
    /// Read end of the stop pipe: readable (or hung up) once [`ServeHandle`] stops or drops.
    stop: OwnedFd,
    config: ExecGateConfig,
    decide: Box<Decide>,
    on_event: Box<OnEvent>,
    counters: Arc<Counters>,
    pool: Mutex<Pool>,
    /// Notified when the standby became the leader (a follower becomes the standby) or serving
    /// closes.
    promote: Condvar,
    /// Wakes the standby: the first notification after it went dormant, or serving closes.
    watch: Condvar,
    /// Notified when the leader stops polling or a thread exits ([`ServeHandle`] waits on it).
    changed: Condvar,
    attempts: Mutex<VecDeque<(Instant, Attempt, ExecVerdict)>>,
}

/// One task's exec of one file with one argv. A shell searching PATH retries the next directory
/// after a denied exec; on a merged-/usr system `/bin/psql` is the file `/usr/bin/psql` that was
/// just denied, so the human is not asked twice for what is the same attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Attempt {
    pid: u32,
    file: FileId,
    argv_cwd: ReuseKey,
}

impl Attempt {
    fn new(request: &ExecRequest, file: FileId) -> Self {
        Attempt {
            pid: request.pid,
            file,
            argv_cwd: reuse_key(&request.argv, &request.cwd),
        }
    }
}

/// How long an attempt's verdict answers that task's retries of the same file.
const ATTEMPT_WINDOW: Duration = Duration::from_secs(2);
/// The file id of an exec whose file could not be `stat`ed (never memoised).
const UNKNOWN_FILE: FileId = (0, 0);
/// Most remembered attempts.
const ATTEMPT_CAPACITY: usize = 64;

/// How long the leader may answer one notification before the standby takes the lead from it
/// (a `decide` waiting for a human, a read of a hung filesystem). The standby looks every tick,
/// so other execs of the tree wait at most about two ticks behind a held one.
const TICK: Duration = Duration::from_millis(10);
/// Quiet ticks (no notification) after which the standby stops looking until the leader wakes
/// it with the next notification: an idle session costs no wake-ups.
const DORMANT_AFTER_TICKS: u32 = 50;
/// Followers kept waiting beyond the standby; more end.
const SPARE_FOLLOWERS: usize = 1;

/// The serving threads: one leader, at most one standby, followers, and displaced leaders still
/// answering (held) notifications.
#[derive(Default)]
struct Pool {
    /// Token of the thread that leads (0 once serving ends).
    leader: u64,
    /// The leader is polling or receiving; [`ServeHandle::stop`] waits until it is not.
    polling: bool,
    /// Number (in [`Pool::received`] order) of the notification the leader is answering; 0
    /// while it polls.
    busy: u64,
    /// Notifications received so far.
    received: u64,
    /// A thread is the standby.
    standby: bool,
    /// The standby waits without ticking until the leader's next notification.
    dormant: bool,
    /// Followers waiting to become the standby.
    idle: usize,
    /// Serving threads alive (all roles).
    threads: usize,
    /// Last thread token handed out.
    tokens: u64,
    /// Serving has ended: nobody leads again.
    closing: bool,
}

impl Shared {
    fn pool(&self) -> MutexGuard<'_, Pool> {
        // Pool updates are single assignments; a poisoned lock still holds a usable pool.
        self.pool.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn attempts(&self) -> MutexGuard<'_, VecDeque<(Instant, Attempt, ExecVerdict)>> {
        // Every mutation is one call on the deque: a poisoned lock still holds a usable deque.
        self.attempts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The verdict of the same attempt by the same task moments ago (a PATH-search retry).
    fn recent_verdict(&self, attempt: &Attempt) -> Option<ExecVerdict> {
        if attempt.file == UNKNOWN_FILE {
            return None;
        }
        let now = Instant::now();
        let fresh = |at: &Instant| now.duration_since(*at) <= ATTEMPT_WINDOW;
        let mut attempts = self.attempts();
        // Remembered in time order (nearly: threads race to push), so the expired ones are at
        // the front; the search below checks the time of what it finds anyway.
        while attempts.front().is_some_and(|(at, _, _)| !fresh(at)) {
            attempts.pop_front();
        }
        attempts
            .iter()
            .rev()
            .find(|(at, a, _)| a == attempt && fresh(at))
            .map(|(_, _, v)| v.clone())
    }

    fn remember(&self, attempt: Attempt, verdict: &ExecVerdict) {
        if attempt.file == UNKNOWN_FILE {
            return;
        }
        let mut attempts = self.attempts();
        if attempts.len() == ATTEMPT_CAPACITY {
            attempts.pop_front();
        }
        attempts.push_back((Instant::now(), attempt, verdict.clone()));
    }
}

/// Serves the listener `fd` (from [`super::handoff::ExecGateListener::accept_fd`]) on named
/// threads until the tree exits or [`ServeHandle::stop`]. `decide` may block (a held
/// `confirm`); it is called concurrently from several threads. `on_event` must not block for
/// long (it runs on the thread that answered).
pub fn serve(
    fd: OwnedFd,
    config: ExecGateConfig,
    decide: impl Fn(&ExecRequest) -> ExecVerdict + Send + Sync + 'static,
    on_event: impl Fn(ExecEvent) + Send + Sync + 'static,
) -> std::io::Result<ServeHandle> {
    let (stop_read, stop_write) = nix::unistd::pipe().map_err(std::io::Error::from)?;
    // Only a scheduling hint (Linux ≥ 6.6): without it every exec still works, a little slower.
    let _ = sys::notif_set_sync_wake_up(fd.as_fd());
    let counters = Arc::new(Counters::default());
    let standby = config.max_workers >= 2;
    let shared = Arc::new(Shared {
        listener: fd,
        stop: stop_read,
        config,
        decide: Box::new(decide),
        on_event: Box::new(on_event),
        counters: Arc::clone(&counters),
        pool: Mutex::new(Pool {
            leader: 1,
            standby,
            dormant: true,
            threads: 1 + usize::from(standby),
            tokens: 1 + u64::from(standby),
            ..Pool::default()
        }),
        promote: Condvar::new(),
        watch: Condvar::new(),
        changed: Condvar::new(),
        attempts: Mutex::new(VecDeque::new()),
    });
    spawn_thread(&shared, 1, Role::Leader)?;
    if standby && spawn_thread(&shared, 2, Role::Standby).is_err() {
        // Serving works without one; a held exec then delays the others until it is answered.
        let mut pool = shared.pool();
        pool.threads -= 1;
        pool.standby = false;
    }
    Ok(ServeHandle {
        stop: stop_write,
        counters,
        shared,
    })
}

/// What the leader's wait for the listener ended with.
enum Received {
    Notification(libc::seccomp_notif),
    /// Serving has ended; the event (if any) says why.
    End(Option<ExecEvent>),
}

/// Counts a thread out when it ends, even by a panic in `on_event`.
struct ThreadExit<'a>(&'a Shared);

impl Drop for ThreadExit<'_> {
    fn drop(&mut self) {
        let mut pool = self.0.pool();
        pool.threads -= 1;
        drop(pool);
        self.0.changed.notify_all();
    }
}

/// What a serving thread does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Polls the listener and answers what it receives itself.
    Leader,
    /// Watches the leader and takes the lead when it is stuck on one notification.
    Standby,
    /// Waits to become the standby.
    Follower,
}

/// Starts serving thread number `token` in `role` (the caller has counted it in
/// [`Pool::threads`]).
fn spawn_thread(shared: &Arc<Shared>, token: u64, role: Role) -> std::io::Result<()> {
    let shared = Arc::clone(shared);
    thread::Builder::new()
        .name(format!("exec-gate-{token}"))
        .spawn(move || serve_loop(&shared, token, role))
        .map(drop)
}

/// One serving thread, changing role as the pool needs (see the module doc).
fn serve_loop(shared: &Arc<Shared>, me: u64, mut role: Role) {
    let _exit = ThreadExit(shared);
    loop {
        let next = match role {
            Role::Leader => lead_once(shared, me),
            Role::Standby => stand_by(shared, me),
            Role::Follower => follow(shared),
        };
        match next {
            Some(next) => role = next,
            None => return,
        }
    }
}

/// As the leader: polls until one notification arrives and answers it, unless serving ends
/// (`None`). Returns [`Role::Follower`] if the standby took the lead meanwhile.
fn lead_once(shared: &Arc<Shared>, me: u64) -> Option<Role> {
    let mut pool = shared.pool();
    if pool.closing {
        return None;
    }
    if pool.leader != me {
        return Some(Role::Follower);
    }
    pool.polling = true;
    drop(pool);
    let notif = match lead(shared) {
        Received::Notification(notif) => notif,
        Received::End(event) => {
            let mut pool = shared.pool();
            pool.closing = true;
            pool.polling = false;
            pool.leader = 0;
            drop(pool);
            shared.promote.notify_all();
            shared.watch.notify_all();
            shared.changed.notify_all();
            if let Some(event) = event {
                (shared.on_event)(event);
            }
            return None;
        }
    };
    let received = Instant::now();
    shared.counters.received.fetch_add(1, Ordering::SeqCst);
    let mut pool = shared.pool();
    pool.polling = false;
    pool.received += 1;
    pool.busy = pool.received;
    let (wake_standby, stopping) = (pool.dormant, pool.closing);
    pool.dormant = false;
    drop(pool);
    // Each wake-up is a system call even with nobody waiting: only when someone may be.
    if wake_standby {
        shared.watch.notify_one();
    }
    if stopping {
        shared.changed.notify_all();
    }
    answer(shared, &notif, received);
    let mut pool = shared.pool();
    if pool.leader == me {
        pool.busy = 0;
        Some(Role::Leader)
    } else {
        Some(Role::Follower)
    }
}

/// As the standby: looks at the leader every [`TICK`] while execs arrive (and not at all after
/// [`DORMANT_AFTER_TICKS`] quiet ticks, until the leader wakes it), and takes the lead when the
/// leader has been answering the same notification for a tick or more. `None` when serving ends.
fn stand_by(shared: &Arc<Shared>, me: u64) -> Option<Role> {
    let mut pool = shared.pool();
    let mut seen = (pool.busy, Instant::now());
    let mut last_received = pool.received;
    let mut quiet = 0u32;
    loop {
        if pool.closing {
            pool.standby = false;
            return None;
        }
        pool = if pool.dormant {
            shared
                .watch
                .wait(pool)
                .unwrap_or_else(PoisonError::into_inner)
        } else {
            shared
                .watch
                .wait_timeout(pool, TICK)
                .unwrap_or_else(PoisonError::into_inner)
                .0
        };
        if pool.closing {
            continue;
        }
        let now = Instant::now();
        if pool.busy == 0 || pool.busy != seen.0 {
            seen = (pool.busy, now);
        } else if now.duration_since(seen.1) >= TICK && pool.leader != 0 {
            // The leader is held (a human is deciding, or a read hangs): lead instead, so
            // other execs of the tree are answered meanwhile. It ends its answer as a follower.
            pool.leader = me;
            pool.busy = 0;
            pool.standby = false;
            let spawn = if pool.idle == 0 && pool.threads < shared.config.max_workers {
                pool.threads += 1;
                pool.tokens += 1;
                Some(pool.tokens)
            } else {
                None
            };
            drop(pool);
            match spawn {
                Some(token) => {
                    if spawn_thread(shared, token, Role::Follower).is_err() {
                        // Out of threads: a thread that finishes answering stands by instead.
                        shared.pool().threads -= 1;
                        shared.changed.notify_all();
                    }
                }
                None => shared.promote.notify_one(),
            }
            return Some(Role::Leader);
        }
        if pool.received == last_received && pool.busy == 0 {
            quiet += 1;
            if quiet >= DORMANT_AFTER_TICKS {
                pool.dormant = true;
                quiet = 0;
            }
        } else {
            quiet = 0;
            last_received = pool.received;
        }
    }
}

/// As a follower: waits until there is no standby and becomes it. `None` when serving ends, or
/// when enough threads are spare already (this one ends).
fn follow(shared: &Shared) -> Option<Role> {
    let mut pool = shared.pool();
    if pool.standby && pool.idle >= SPARE_FOLLOWERS {
        return None;
    }
    pool.idle += 1;
    while !pool.closing && pool.standby {
        pool = shared
            .promote
            .wait(pool)
            .unwrap_or_else(PoisonError::into_inner);
    }
    pool.idle -= 1;
    if pool.closing {
        return None;
    }
    pool.standby = true;
    pool.dormant = false;
    Some(Role::Standby)
}

/// Polls the listener and the stop pipe until a notification is received or serving ends.
fn lead(shared: &Shared) -> Received {
    loop {
        let mut fds = [
            PollFd::new(shared.listener.as_fd(), PollFlags::POLLIN),
            PollFd::new(shared.stop.as_fd(), PollFlags::POLLIN),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(err) => {
                return Received::End(Some(ExecEvent::Failed {
                    error: format!("polling the exec-gate listener: {err}"),
                }));
            }
        }
        let listener = fds[0].revents().unwrap_or(PollFlags::empty());
        let stopped = fds[1].revents().is_some_and(|r| !r.is_empty());
        if stopped || shared.pool().closing {
            return Received::End(None);
        }
        if listener.contains(PollFlags::POLLIN) {
            match sys::notif_recv(shared.listener.as_fd()) {
                Ok(notif) => return Received::Notification(notif),
                // The task died between the wake-up and the receive, or a signal: nothing owed.
                Err(Errno::ENOENT | Errno::EINTR) => {}
                Err(err) => {
                    return Received::End(Some(ExecEvent::Failed {
                        error: format!("receiving an exec notification: {err}"),
                    }));
                }
            }
        } else if listener.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
            return Received::End(Some(ExecEvent::TreeExited));
        }
    }
}

/// The guarded program the exec'd file is, if it is one under another name.
fn identify(config: &ExecGateConfig, request: &ExecRequest, file: &ExecFile) -> Option<String> {
    let index = config.programs.as_ref()?;
    let argv0 = request
        .argv
        .first()
        .map_or(request.path.as_str(), String::as_str);
    index.identify(argv0, file)
}

/// Reads, validates, decides and answers one notification.
fn answer(shared: &Shared, notif: &libc::seccomp_notif, received: Instant) {
    let listener = shared.listener.as_fd();
    let counters = &shared.counters;
    let send = |response: Response| -> bool {
        match sys::notif_send(listener, notif.id, response) {
            Ok(()) => true,
            Err(_) => {
                // ENOENT: the task was killed while we decided. Nothing else can fail here
                // for a valid id on a live listener.
                counters.vanished.fetch_add(1, Ordering::SeqCst);
                false
            }
        }
    };
    let Some(abi) = classify(notif.data.arch, notif.data.nr) else {
        // The filter only notifies exec syscalls; anything else is a bug: fail closed.
        if send(Response::Fail(Errno::EPERM)) {
            counters.denied.fetch_add(1, Ordering::SeqCst);
        }
        return;
    };
    let args = ExecArgs::decode(notif.pid, abi, notif.data.args);
    let gathered = gather(&args, &shared.config.env_names, &shared.config.limits);
    // The memory we read belongs to the notifying task only if the notification is still
    // pending now (otherwise the pid may have been reused).
    if sys::notif_id_valid(listener, notif.id).is_err() {
        counters.vanished.fetch_add(1, Ordering::SeqCst);
        return;
    }
    match gathered {
        Ok(Gathered::NotExecutable) => {
            if send(Response::Continue) {
                counters
                    .continued_not_executable
                    .fetch_add(1, Ordering::SeqCst);
            }
        }
        Ok(Gathered::Request(mut request, file)) => {
            request.program = identify(&shared.config, &request, &file);
            let attempt = Attempt::new(&request, file.id);
            let verdict = match shared.recent_verdict(&attempt) {
                Some(verdict) => verdict,
                None => {
                    // A panicking `decide` must still answer (else the exec hangs): deny.
                    let decided =
                        panic::catch_unwind(AssertUnwindSafe(|| (shared.decide)(&request)));
                    let verdict = decided.unwrap_or_else(|_| {
                        ExecVerdict::Deny("overwatch failed while deciding (panic)".into())
                    });
                    shared.remember(attempt, &verdict);
                    verdict
                }
            };
            let response = match verdict {
                ExecVerdict::Allow => Response::Continue,
                ExecVerdict::Deny(_) => Response::Fail(Errno::EPERM),
            };
            // Taken before answering: the answer wakes the task, which may run on this CPU
            // before this thread does again, and that wait is not time the exec was held.
            let latency = received.elapsed();
            if send(response) {
                let counter = match verdict {
                    ExecVerdict::Allow => &counters.allowed,
                    ExecVerdict::Deny(_) => &counters.denied,
                };
                counter.fetch_add(1, Ordering::SeqCst);
                (shared.on_event)(ExecEvent::Decided {
                    request: Arc::new(*request),
                    verdict,
                    latency,
                });
            }
        }
        Err(error) => {
            if send(Response::Fail(Errno::EPERM)) {
                counters.denied.fetch_add(1, Ordering::SeqCst);
                (shared.on_event)(ExecEvent::Unreadable {
                    pid: notif.pid,
                    error: error.to_string(),
                });
            }
        }
    }
}
