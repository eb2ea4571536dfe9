//! The queue of held requests and the approval memory (recent "allow once" and "allow for
//! session").
//!
//! The server puts a request here when the rules say `confirm`, then waits on the returned
//! receiver. The TUI lists [`Pending::held`] and answers with [`Pending::resolve`].
//!
//! **Invariant:** `resolve` is an in-process call; no socket message reaches it. Only `Confirm`
//! decisions are ever eligible for remembered approvals — a `Deny` is never softened.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, oneshot};

use super::{Assessment, GateRequest, HumanAnswer, Subject};
use crate::rules::Decision;

/// How long a `y` (allow once) also covers the same argv and cwd arriving from another layer.
pub const DEFAULT_ALLOW_ONCE_WINDOW: Duration = Duration::from_secs(30);

/// How long a human's `n` also answers the same argv and cwd asked again: long enough for a
/// shell retrying the next PATH entry or another layer asking for the same exec (milliseconds),
/// short enough that a human who changes their mind is asked again.
pub const RECENT_DENIAL_WINDOW: Duration = Duration::from_secs(3);

/// Most requests held at once; more are denied at once ("too many requests waiting").
pub const MAX_HELD: usize = 64;

/// Capacity of the event channel to the app. Events are small; when the app lags and the channel
/// is full, activity events are dropped (the audit log stays complete) and the app re-reads
/// [`Pending::held`] — backpressure never blocks a decision.
pub const EVENT_CAPACITY: usize = 1024;

/// A held request as the TUI shows it. `command` is already redacted for display and `span` is
/// the matched part within it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldView {
    pub id: u64,
    pub request: GateRequest,
    pub assessment: Assessment,
    pub command: String,
    pub span: Option<std::ops::Range<usize>>,
    pub session_id: String,
    pub received: SystemTime,
}

/// What the gate tells the app. Facts, past tense.
#[derive(Debug, Clone, PartialEq)]
pub enum GateEvent {
    /// A request is waiting for the human (ring the bell, push the modal).
    Held(Box<HeldView>),
    /// A held request went away without a human answer (timeout, or the client hung up).
    Withdrawn { id: u64, why: String },
    /// A decision was made (for the Activity tab); the same record went to the audit log.
    Decided(Box<super::audit::AuditRecord>),
}

/// Why [`Pending::resolve`] did nothing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error("request {0} is no longer waiting (answered, timed out or withdrawn)")]
    NotWaiting(u64),
}

struct HeldEntry {
    view: HeldView,
    keys: Vec<ApprovalKey>,
    reply: oneshot::Sender<HumanAnswer>,
}

/// What an approval is remembered by: a normalised argv (or the subject text) and the cwd.
type ApprovalKey = (Vec<String>, PathBuf);

#[derive(Default)]
struct Inner {
    next_id: u64,
    held: BTreeMap<u64, HeldEntry>,
    session_allowed: HashSet<ApprovalKey>,
    recent: Vec<(ApprovalKey, Instant)>,
    recent_denials: Vec<(ApprovalKey, Instant)>,
}

/// Shared between the server (which holds) and the TUI (which answers). Cheap to clone.
#[derive(Clone)]
pub struct Pending {
    inner: Arc<Mutex<Inner>>,
    events: mpsc::Sender<GateEvent>,
    allow_once_window: Duration,
}

impl Pending {
    /// A new queue and the receiving end of its event channel (hand it to the app loop).
    pub fn new(allow_once_window: Duration) -> (Self, mpsc::Receiver<GateEvent>) {
        let (events, rx) = mpsc::channel(EVENT_CAPACITY);
        let pending = Pending {
            inner: Arc::new(Mutex::new(Inner::default())),
            events,
            allow_once_window,
        };
        (pending, rx)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave it inconsistent (every critical section
        // is a few map operations), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every request waiting for the human, oldest first.
    pub fn held(&self) -> Vec<HeldView> {
        self.lock().held.values().map(|e| e.view.clone()).collect()
    }

    /// How many requests are waiting.
    pub fn len(&self) -> usize {
        self.lock().held.len()
    }

    /// True when nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The human's answer to request `id`. `AllowOnce` is remembered for the allow-once window,
    /// `AllowSession` for the rest of the session, both by (argv, cwd) of every confirm-level
    /// command in the request.
    pub fn resolve(&self, id: u64, answer: HumanAnswer) -> Result<(), ResolveError> {
        let entry = {
            let mut inner = self.lock();
            let entry = inner.held.remove(&id).ok_or(ResolveError::NotWaiting(id))?;
            let now = Instant::now();
            match answer {
                HumanAnswer::AllowOnce => {
                    for key in &entry.keys {
                        inner.recent.push((key.clone(), now));
                    }
                }
                HumanAnswer::AllowSession => {
                    inner.session_allowed.extend(entry.keys.iter().cloned());
                }
                HumanAnswer::Deny => {
                    for key in &entry.keys {
                        inner.recent_denials.push((key.clone(), now));
                    }
                }
            }
            entry
        };
        // The server side may have gone (client hung up at the same instant): nothing to do then.
        let _ = entry.reply.send(answer);
        Ok(())
    }

    /// Whether an earlier approval covers this confirm-level request: every confirm-level command
    /// was allowed for the session, or allowed once within the window.
    pub(crate) fn remembered(&self, req: &GateRequest, assessment: &Assessment) -> bool {
        if assessment.decision != Decision::Confirm {
            return false;
        }
        let keys = approval_keys(req, assessment);
        let mut inner = self.lock();
        let window = self.allow_once_window;
        inner.recent.retain(|(_, at)| at.elapsed() <= window);
        !keys.is_empty()
            && keys.iter().all(|key| {
                inner.session_allowed.contains(key) || inner.recent.iter().any(|(k, _)| k == key)
            })
    }

    /// Whether a human denied a request covering any confirm-level command of this one within
    /// [`RECENT_DENIAL_WINDOW`] (so a retry of the same exec along PATH is denied without asking
    /// again; a deliberate retry later is asked again).
    pub(crate) fn recently_denied(&self, req: &GateRequest, assessment: &Assessment) -> bool {
        if assessment.decision != Decision::Confirm {
            return false;
        }
        let keys = approval_keys(req, assessment);
        let mut inner = self.lock();
        let window = self.allow_once_window.min(RECENT_DENIAL_WINDOW);
        inner
            .recent_denials
            .retain(|(_, at)| at.elapsed() <= window);
        keys.iter()
            .any(|key| inner.recent_denials.iter().any(|(k, _)| k == key))
    }

    /// Holds a request; the receiver yields the human's answer. `None` when [`MAX_HELD`] requests
    /// are already waiting (the caller denies).
    pub(crate) fn hold(
        &self,
        mut view: HeldView,
        assessment_keys_from: &GateRequest,
    ) -> Option<(u64, oneshot::Receiver<HumanAnswer>)> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut inner = self.lock();
            if inner.held.len() >= MAX_HELD {
                return None;
            }
            inner.next_id += 1;
            let id = inner.next_id;
            view.id = id;
            let keys = approval_keys(assessment_keys_from, &view.assessment);
            inner.held.insert(
                id,
                HeldEntry {
                    view: view.clone(),
                    keys,
                    reply: tx,
                },
            );
            id
        };
        let _ = self.events.try_send(GateEvent::Held(Box::new(view)));
        Some((id, rx))
    }

    /// Removes a held request that ended without an answer; false if it was already answered.
    pub(crate) fn withdraw(&self, id: u64, why: &str) -> bool {
        let removed = self.lock().held.remove(&id).is_some();
        if removed {
            let _ = self.events.try_send(GateEvent::Withdrawn {
                id,
                why: why.to_string(),
            });
        }
        removed
    }

    /// Sends an event to the app; dropped if the app lags (see [`EVENT_CAPACITY`]).
    pub(crate) fn emit(&self, event: GateEvent) {
        let _ = self.events.try_send(event);
    }
}

/// The keys an approval of this request is remembered by: the argv of every confirm-level
/// command (program name reduced to its basename, so `/usr/bin/git` and `git` agree), or the
/// subject text when the engine reported no commands (paths).
fn approval_keys(req: &GateRequest, assessment: &Assessment) -> Vec<ApprovalKey> {
    let cwd = req.cwd.clone();
    let mut keys: Vec<ApprovalKey> = assessment
        .commands
        .iter()
        .filter(|c| c.decision >= Decision::Confirm && !c.argv.is_empty())
        .map(|c| (normalise_argv(&c.argv), cwd.clone()))
        .collect();
    if keys.is_empty() {
        let text = match &req.subject {
            Subject::Argv(argv) => normalise_argv(argv),
            other => vec![other.display()],
        };
        keys.push((text, cwd));
    }
    keys
}

fn normalise_argv(argv: &[String]) -> Vec<String> {
    let mut out = argv.to_vec();
    if let Some(first) = out.first_mut()
        && let Some(name) = Path::new(first.as_str()).file_name()
    {
        *first = name.to_string_lossy().into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::gate::{AssessedCommand, Layer};

    fn request(subject: Subject, cwd: &str) -> GateRequest {
        GateRequest {
            layer: Layer::Hook,
            agent: "test".into(),
            subject,
            cwd: cwd.into(),
            pid: 1,
            env: BTreeMap::new(),
        }
    }

    fn confirm(argv: &[&str]) -> Assessment {
        let mut a = Assessment::plain(Decision::Confirm, "held");
        a.commands.push(AssessedCommand {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            decision: Decision::Confirm,
        });
        a
    }

    fn view(req: &GateRequest, a: &Assessment) -> HeldView {
        HeldView {
            id: 0,
            request: req.clone(),
            assessment: a.clone(),
            command: req.subject.display(),
            span: None,
            session_id: "s".into(),
            received: SystemTime::now(),
        }
    }

    #[test]
    fn allow_once_covers_the_same_argv_from_another_layer_within_the_window() {
        let (pending, mut events) = Pending::new(Duration::from_secs(30));
        let hook = request(
            Subject::Command("cd /r && git push -f origin main".into()),
            "/r",
        );
        let a = confirm(&["git", "push", "-f", "origin", "main"]);
        let (id, mut rx) = pending.hold(view(&hook, &a), &hook).unwrap();
        assert!(matches!(events.try_recv(), Ok(GateEvent::Held(v)) if v.id == id));
        assert_eq!(pending.len(), 1);
        pending.resolve(id, HumanAnswer::AllowOnce).unwrap();
        assert_eq!(rx.try_recv(), Ok(HumanAnswer::AllowOnce));
        assert!(pending.is_empty());

        let shim = request(
            Subject::Argv(
                ["/usr/bin/git", "push", "-f", "origin", "main"]
                    .map(String::from)
                    .to_vec(),
            ),
            "/r",
        );
        let shim_a = confirm(&["/usr/bin/git", "push", "-f", "origin", "main"]);
        assert!(pending.remembered(&shim, &shim_a));
        let elsewhere = request(shim.subject.clone(), "/other");
        assert!(!pending.remembered(&elsewhere, &shim_a));
        assert_eq!(
            pending.resolve(id, HumanAnswer::Deny),
            Err(ResolveError::NotWaiting(id))
        );
    }

    #[test]
    fn allow_once_expires_and_deny_remembers_nothing() {
        let (pending, _events) = Pending::new(Duration::ZERO);
        let req = request(Subject::Command("kubectl delete ns x".into()), "/");
        let a = confirm(&["kubectl", "delete", "ns", "x"]);
        let (id, _rx) = pending.hold(view(&req, &a), &req).unwrap();
        pending.resolve(id, HumanAnswer::AllowOnce).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        assert!(!pending.remembered(&req, &a));

        let (id, _rx) = pending.hold(view(&req, &a), &req).unwrap();
        pending.resolve(id, HumanAnswer::Deny).unwrap();
        assert!(!pending.remembered(&req, &a));
        // The zero window has passed: the denial is not repeated either.
        std::thread::sleep(Duration::from_millis(2));
        assert!(!pending.recently_denied(&req, &a));
    }

    #[test]
    fn a_denial_is_repeated_for_retries_within_the_window() {
        let (pending, _events) = Pending::new(Duration::from_secs(30));
        let req = request(
            Subject::Argv(["git", "push", "-f"].map(String::from).to_vec()),
            "/r",
        );
        let a = confirm(&["git", "push", "-f"]);
        assert!(!pending.recently_denied(&req, &a));
        let (id, _rx) = pending.hold(view(&req, &a), &req).unwrap();
        pending.resolve(id, HumanAnswer::Deny).unwrap();
        let retry = request(
            Subject::Argv(["/usr/bin/git", "push", "-f"].map(String::from).to_vec()),
            "/r",
        );
        assert!(pending.recently_denied(&retry, &confirm(&["/usr/bin/git", "push", "-f"])));
        assert!(!pending.remembered(&retry, &a));
    }

    #[test]
    fn allow_session_covers_confirms_but_never_denies() {
        let (pending, _events) = Pending::new(Duration::ZERO);
        let req = request(Subject::Command("kubectl delete ns x".into()), "/");
        let a = confirm(&["kubectl", "delete", "ns", "x"]);
        let (id, _rx) = pending.hold(view(&req, &a), &req).unwrap();
        pending.resolve(id, HumanAnswer::AllowSession).unwrap();
        assert!(pending.remembered(&req, &a));
        let mut denied = a.clone();
        denied.decision = Decision::Deny;
        assert!(!pending.remembered(&req, &denied));
        // A compound command is covered only when every confirm-level part was approved.
        let mut two = a.clone();
        two.commands.push(AssessedCommand {
            argv: vec!["kubectl".into(), "delete".into(), "ns".into(), "y".into()],
            decision: Decision::Confirm,
        });
        assert!(!pending.remembered(&req, &two));
    }

    #[test]
    fn withdraw_removes_and_reports_once() {
        let (pending, mut events) = Pending::new(Duration::ZERO);
        let req = request(Subject::Command("x".into()), "/");
        let a = Assessment::plain(Decision::Confirm, "held");
        let (id, _rx) = pending.hold(view(&req, &a), &req).unwrap();
        let _ = events.try_recv();
        assert!(pending.withdraw(id, "timed out"));
        assert!(!pending.withdraw(id, "timed out"));
        assert!(matches!(events.try_recv(), Ok(GateEvent::Withdrawn { id: w, .. }) if w == id));
        assert!(pending.resolve(id, HumanAnswer::AllowOnce).is_err());
    }
}
