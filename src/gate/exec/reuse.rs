//! Decision reuse across layers: a command the human already approved through a hook (or a shim)
//! is not asked again when its exec arrives a moment later. Matching is by argv and cwd within a
//! short window (the "argv + cwd + short window").
//!
//! The gate owns the cross-layer cache; this module gives it the key ([`reuse_key`]) and a small
//! window cache ([`ReuseCache`]) the exec gate's `decide` consults before asking.
//!
//! **Invariants:** an entry is never used after its window; the cache is bounded
//! ([`ReuseCache::CAPACITY`]), dropping the oldest entry when full.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::ExecVerdict;

/// Identifies one command invocation across layers: SHA-256 over the NUL-separated argv, a
/// separator and the cwd, with `argv[0]` reduced to its basename so `/usr/bin/git push` (an exec)
/// and `git push` (a hook's parsed command) agree — the same normalisation as the gate's approval
/// memory (`gate::pending`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReuseKey([u8; 32]);

/// The key of `argv` run in `cwd`.
pub fn reuse_key(argv: &[String], cwd: &Path) -> ReuseKey {
    let mut hasher = Sha256::new();
    for (index, arg) in argv.iter().enumerate() {
        let arg = match index {
            0 => arg.rsplit('/').next().unwrap_or(arg),
            _ => arg.as_str(),
        };
        hasher.update(arg.as_bytes());
        hasher.update([0]);
    }
    // A byte that cannot appear inside a C string separates argv from cwd unambiguously.
    hasher.update([0xff]);
    hasher.update(cwd.as_os_str().as_encoded_bytes());
    ReuseKey(hasher.finalize().into())
}

/// Verdicts remembered for `window` after they were given.
#[derive(Debug)]
pub struct ReuseCache {
    window: Duration,
    entries: Mutex<VecDeque<(Instant, ReuseKey, ExecVerdict)>>,
}

impl ReuseCache {
    /// Most entries kept.
    pub const CAPACITY: usize = 256;

    /// A cache whose entries expire `window` after being recorded (a few seconds: long enough for
    /// a hook's approval to reach the exec, short enough not to become a standing permission).
    pub fn new(window: Duration) -> Self {
        ReuseCache {
            window,
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// Remembers `verdict` for `key` from `now`.
    pub fn record(&self, key: ReuseKey, verdict: ExecVerdict, now: Instant) {
        let mut entries = self.lock();
        entries.retain(|(_, k, _)| *k != key);
        if entries.len() == Self::CAPACITY {
            entries.pop_front();
        }
        entries.push_back((now, key, verdict));
    }

    /// The verdict recorded for `key` within the window before `now`, if any.
    pub fn lookup(&self, key: &ReuseKey, now: Instant) -> Option<ExecVerdict> {
        let mut entries = self.lock();
        let window = self.window;
        entries.retain(|(at, _, _)| now.saturating_duration_since(*at) <= window);
        entries
            .iter()
            .find(|(_, k, _)| k == key)
            .map(|(_, _, v)| v.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<(Instant, ReuseKey, ExecVerdict)>> {
        // A panic while holding the lock leaves a consistent deque (every mutation is one call).
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn key_depends_on_argv_boundaries_and_cwd() {
        let a = reuse_key(&argv("git push --force"), Path::new("/repo"));
        assert_eq!(a, reuse_key(&argv("git push --force"), Path::new("/repo")));
        assert_ne!(a, reuse_key(&argv("git push --force"), Path::new("/other")));
        // An exec's absolute argv[0] matches the hook's bare program name…
        assert_eq!(
            a,
            reuse_key(&argv("/usr/bin/git push --force"), Path::new("/repo"))
        );
        // …but only argv[0] is normalised.
        assert_ne!(
            a,
            reuse_key(&argv("git /x/push --force"), Path::new("/repo"))
        );
        assert_ne!(
            reuse_key(&["ab".into(), "c".into()], Path::new("/")),
            reuse_key(&["a".into(), "bc".into()], Path::new("/"))
        );
    }

    #[test]
    fn an_approval_is_reused_within_the_window_only() {
        let cache = ReuseCache::new(Duration::from_secs(5));
        let key = reuse_key(&argv("kubectl delete ns payments"), Path::new("/w"));
        let t0 = Instant::now();
        cache.record(key, ExecVerdict::Allow, t0);
        assert_eq!(
            cache.lookup(&key, t0 + Duration::from_secs(4)),
            Some(ExecVerdict::Allow)
        );
        assert_eq!(cache.lookup(&key, t0 + Duration::from_secs(6)), None);
        // Expired entries are gone, not merely hidden.
        assert_eq!(cache.lookup(&key, t0), None);
    }

    #[test]
    fn the_cache_is_bounded_and_forgets_the_oldest() {
        let cache = ReuseCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let keys: Vec<ReuseKey> = (0..=ReuseCache::CAPACITY)
            .map(|i| reuse_key(&[i.to_string()], Path::new("/")))
            .collect();
        for key in &keys {
            cache.record(*key, ExecVerdict::Allow, t0);
        }
        assert_eq!(cache.lookup(&keys[0], t0), None);
        assert_eq!(
            cache.lookup(&keys[ReuseCache::CAPACITY], t0),
            Some(ExecVerdict::Allow)
        );
    }
}
