//! Process-tree bookkeeping from /proc (Linux): the agent's descendants, whether they are still the
//! same processes (start time), and signals to a process group.
//!
//! Invariant: never signal pid/pgid ≤ 1 (`kill(-1)` would hit every process we may signal).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;

/// One process as read from `/proc/PID/stat`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ProcInfo {
    pub pid: i32,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
    /// Clock ticks after boot; distinguishes a reused pid.
    pub start_time: u64,
    pub comm: String,
    /// Single-letter state (`R`, `S`, `T` stopped, `Z` zombie, …).
    pub state: char,
}

/// Parses `/proc/PID/stat` (proc(5)): `pid (comm) state ppid pgrp session … starttime(22)`; `comm`
/// may contain spaces and parentheses, so fields are counted from the last `)`.
pub(crate) fn parse_stat(text: &str) -> Option<ProcInfo> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let comm = text[open + 1..close].to_string();
    let rest: Vec<&str> = text[close + 1..].split_whitespace().collect();
    Some(ProcInfo {
        pid,
        state: rest.first()?.chars().next()?,
        ppid: rest.get(1)?.parse().ok()?,
        pgrp: rest.get(2)?.parse().ok()?,
        session: rest.get(3)?.parse().ok()?,
        start_time: rest.get(19)?.parse().ok()?,
        comm,
    })
}

/// Reads one process, `None` if it is gone.
pub(crate) fn read_proc(pid: i32) -> Option<ProcInfo> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&text)
}

/// Every process currently listed in /proc.
fn all_procs() -> Vec<ProcInfo> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(read_proc)
        .collect()
}

/// Processes that belong to the agent rooted at `root`: its descendants by parent chain and every
/// process in its session (portable-pty makes the agent a session leader, so session id = `root`).
/// The root itself is excluded.
pub(crate) fn agent_tree(root: i32) -> Vec<ProcInfo> {
    if root <= 1 {
        return Vec::new();
    }
    let procs = all_procs();
    let mut children: HashMap<i32, Vec<usize>> = HashMap::new();
    for (i, p) in procs.iter().enumerate() {
        children.entry(p.ppid).or_default().push(i);
    }
    let mut found: HashSet<usize> = HashSet::new();
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        for &i in children.get(&pid).map(Vec::as_slice).unwrap_or(&[]) {
            if found.insert(i) {
                stack.push(procs[i].pid);
            }
        }
    }
    for (i, p) in procs.iter().enumerate() {
        if p.session == root && p.pid != root {
            found.insert(i);
        }
    }
    let mut out: Vec<ProcInfo> = found.into_iter().map(|i| procs[i].clone()).collect();
    out.sort_by_key(|p| p.pid);
    out
}

/// SIGKILLs every process of `snapshot` that is still the same process (same start time) and not a
/// zombie, plus anything now in `root`'s session; returns `(pid, comm)` of those killed.
pub(crate) fn kill_leftovers(root: i32, snapshot: &[ProcInfo]) -> Vec<(u32, String)> {
    let mut targets: Vec<ProcInfo> = snapshot
        .iter()
        .filter_map(|p| read_proc(p.pid).filter(|now| now.start_time == p.start_time))
        .collect();
    for p in agent_tree(root) {
        if !targets.iter().any(|t| t.pid == p.pid) {
            targets.push(p);
        }
    }
    let killed: Vec<ProcInfo> = targets
        .into_iter()
        .filter(|p| p.pid > 1 && p.state != 'Z' && p.pid != std::process::id() as i32)
        .filter(|p| kill(Pid::from_raw(p.pid), Signal::SIGKILL).is_ok())
        .collect();
    // SIGKILL is delivered asynchronously; wait (≤ 1 s) until each is gone or a zombie, so the
    // caller's report of "nothing left" is true when it returns.
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline
        && killed.iter().any(|p| {
            read_proc(p.pid).is_some_and(|now| now.start_time == p.start_time && now.state != 'Z')
        })
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.into_iter().map(|p| (p.pid as u32, p.comm)).collect()
}

/// Sends `signal` to process group `pgid`; refuses pgid ≤ 1.
pub(crate) fn signal_group(pgid: i32, signal: Signal) -> nix::Result<()> {
    if pgid <= 1 {
        return Err(nix::errno::Errno::EINVAL);
    }
    killpg(Pid::from_raw(pgid), signal)
}

/// Sends `signal` to the agent's process group `root` and to every other process group its tree
/// uses (a shell agent with job control runs each command in its own group, which a signal to the
/// agent's group alone would miss). Never signals overwatch's own group.
pub(crate) fn signal_tree(root: i32, signal: Signal) -> nix::Result<()> {
    signal_group(root, signal)?;
    let own = nix::unistd::getpgrp().as_raw();
    let mut groups: Vec<i32> = agent_tree(root).iter().map(|p| p.pgrp).collect();
    groups.sort_unstable();
    groups.dedup();
    for pgid in groups.into_iter().filter(|g| *g != root && *g != own) {
        // A group may have vanished since /proc was read; that is not an error.
        let _ = signal_group(pgid, signal);
    }
    Ok(())
}

/// SIGKILL to process group `pgid` (the agent's pid). Only a `kill(2)` call, so it is
/// async-signal-safe and may be called from signal handlers and panic hooks. pgid ≤ 1 is ignored.
pub fn kill_group_now(pgid: i32) {
    let _ = signal_group(pgid, Signal::SIGKILL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_parentheses_and_spaces_in_comm() {
        let line = "4242 (we(ird) name) T 100 4242 4242 34816 4242 1077936192 90 0 0 0 1 0 0 0 20 0 1 0 987654 7000000 100";
        let p = parse_stat(line).expect("parses");
        assert_eq!(p.pid, 4242);
        assert_eq!(p.comm, "we(ird) name");
        assert_eq!(p.state, 'T');
        assert_eq!(p.ppid, 100);
        assert_eq!(p.pgrp, 4242);
        assert_eq!(p.session, 4242);
        assert_eq!(p.start_time, 987654);
    }

    #[test]
    fn refuses_to_signal_init_or_everyone() {
        assert!(signal_group(1, Signal::SIGCONT).is_err());
        assert!(signal_group(0, Signal::SIGCONT).is_err());
        assert!(signal_group(-1, Signal::SIGCONT).is_err());
    }
}
