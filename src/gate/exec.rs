//! The exec gate (Linux): every `execve`/`execveat` in the agent's process tree is held by a
//! seccomp user-notification filter until overwatch has read its real path and argv and decided.
//!
//! Shape (see `docs/exec-gate.md`):
//! 1. The app binds an [`handoff::ExecGateListener`] (private 0700 dir, 0600 socket) and spawns the PTY
//!    child as [`handoff::wrap_argv`]`(…)`, i.e. `overwatch __exec-shim --listener-socket S -- AGENT…`.
//! 2. The shim ([`filter::install_listener`] then [`handoff::hand_over`]) sets `PR_SET_NO_NEW_PRIVS`, installs
//!    the filter with `SECCOMP_FILTER_FLAG_NEW_LISTENER`, sends the listener fd over the socket with
//!    `SCM_RIGHTS` (or a refusal reason when the kernel says no), waits for a one-byte ack and execs
//!    the agent. The filter is inherited by every descendant.
//! 3. [`handoff::ExecGateListener::accept_fd`] yields the fd; [`serve::serve`] answers notifications on named
//!    threads, calling the integrator's `decide` with an [`ExecRequest`].
//!
//! **Invariants:**
//! - The agent never holds the listener fd (it is `O_CLOEXEC` in the shim, closed before the exec),
//!   so nothing in the tree can answer its own notifications.
//! - Every received notification is answered exactly once, or its task has vanished.
//! - Memory that cannot be read while the notification is still valid is a deny (fail closed).
//! - The agent cannot undo the gate: a second listener in the tree is refused by the kernel
//!   (`EBUSY`), and a filter it stacks on top can only be stricter, since the kernel applies the
//!   highest-precedence action of all filters (kill > trap > errno > user-notif > trace > allow).
//! - The argv check guards against mistakes, not a determined adversary: another thread of the
//!   target can change argv memory between our read and the kernel's (documented TOCTOU).
//!
//! [`lifecycle`] strings these steps together for the app. All `unsafe` lives in `exec/sys.rs`.

pub mod filter;
mod gather;
pub mod handoff;
pub mod identify;
pub mod lifecycle;
mod procmem;
pub mod reuse;
pub mod serve;
mod sys;

use std::fmt;
use std::path::PathBuf;

/// Environment variables read from the exec'ing process by default: the ones the context probes
/// and rules use to resolve a command's target (see shared/reference/environment-detection.md).
/// Values may be secrets (`DATABASE_URL`): never print or log them.
/// The same list the hook and shim clients forward, so every layer resolves targets from the
/// same variables.
pub const DEFAULT_ENV_NAMES: &[&str] = super::protocol::GATE_ENV_KEYS;

/// Which system call the exec came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecSyscall {
    /// `execve(path, argv, envp)`.
    Execve,
    /// `execveat(dirfd, path, argv, envp, flags)`.
    Execveat,
}

/// Something the UI should tell the human about this exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecNote {
    /// The file is setuid/setgid: under no-new-privs it runs without gaining privileges, so e.g.
    /// `sudo` fails ("sudo cannot gain privileges under the exec gate").
    SetuidIgnored,
    /// argv or the environment was longer than [`serve::Limits`] allow; `argv`/`env` hold a prefix.
    /// Rules should treat the command as unresolved (fail closed).
    Truncated,
    /// Some argv or env bytes were not UTF-8 and were replaced with U+FFFD.
    NotUtf8,
}

impl ExecNote {
    /// The sentence the UI shows for this note.
    pub fn message(&self) -> &'static str {
        match self {
            ExecNote::SetuidIgnored => {
                "setuid program: sudo and the like cannot gain privileges under the exec gate"
            }
            ExecNote::Truncated => "command too long to read whole: treated as unresolved",
            ExecNote::NotUtf8 => "arguments contain bytes that are not UTF-8 (shown as \u{fffd})",
        }
    }
}

/// One exec held by the kernel, as read from the exec'ing process's memory.
#[derive(Clone, PartialEq, Eq)]
pub struct ExecRequest {
    /// Thread id of the exec'ing task, in overwatch's PID namespace.
    pub pid: u32,
    /// `execve` or `execveat`.
    pub syscall: ExecSyscall,
    /// The path argument exactly as passed (may be relative, or empty for `fexecve`).
    pub path: String,
    /// The path made absolute against the task's cwd (or its `dirfd`), without following
    /// symlinks: `/usr/bin/git`, `/tmp/t/mygit`.
    pub resolved: PathBuf,
    /// The argument vector as passed (`argv[0]` is whatever the caller chose, often `git`).
    pub argv: Vec<String>,
    /// The task's working directory (`/proc/PID/cwd`).
    pub cwd: PathBuf,
    /// `(name, value)` for the variables of [`serve::ExecGateConfig::env_names`] present in the new
    /// program's environment (`envp`), in `envp` order. Values may be secrets.
    pub env: Vec<(String, String)>,
    /// The guarded program this file is when `argv[0]` names something else: `git` for a copy
    /// `./mygit` or a link to `/usr/bin/git` (see [`identify`]; needs
    /// [`serve::ExecGateConfig::programs`]).
    pub program: Option<String>,
    /// Notes for the UI (setuid, truncation).
    pub notes: Vec<ExecNote>,
}

impl ExecRequest {
    /// The value of an environment variable passed to the new program, if it was read.
    pub fn env_var(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The argv to evaluate: argv with `argv[0]` replaced by the identified [`Self::program`],
    /// so rules written for `git` apply to a copied `./mygit`.
    pub fn argv_for_rules(&self) -> Vec<String> {
        let mut argv = self.argv.clone();
        match (&self.program, argv.first_mut()) {
            (Some(program), Some(first)) => *first = program.clone(),
            (Some(program), None) => argv.push(program.clone()),
            (None, _) => {}
        }
        argv
    }

    /// Whether `note` applies.
    pub fn has_note(&self, note: &ExecNote) -> bool {
        self.notes.contains(note)
    }
}

/// Env values are redacted: a `{:?}` of a request must never leak `DATABASE_URL`'s password.
impl fmt::Debug for ExecRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env_names: Vec<&str> = self.env.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ExecRequest")
            .field("pid", &self.pid)
            .field("syscall", &self.syscall)
            .field("path", &self.path)
            .field("resolved", &self.resolved)
            .field("argv", &self.argv)
            .field("cwd", &self.cwd)
            .field("env_names", &env_names)
            .field("program", &self.program)
            .field("notes", &self.notes)
            .finish()
    }
}

/// The answer to one exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecVerdict {
    /// Let the kernel run the exec (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`).
    Allow,
    /// Fail the exec with `EPERM`; the reason is for the audit log and the UI, the process only
    /// sees "Operation not permitted".
    Deny(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_a_request_never_shows_env_values() {
        let request = ExecRequest {
            pid: 1,
            syscall: ExecSyscall::Execve,
            path: "/usr/bin/psql".into(),
            resolved: "/usr/bin/psql".into(),
            argv: vec!["psql".into()],
            cwd: "/".into(),
            env: vec![("DATABASE_URL".into(), "postgres://u:hunter2@db/prod".into())],
            program: None,
            notes: vec![],
        };
        let shown = format!("{request:?}");
        assert!(shown.contains("DATABASE_URL"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(
            request.env_var("DATABASE_URL"),
            Some("postgres://u:hunter2@db/prod")
        );
    }

    #[test]
    fn rules_see_an_identified_copy_under_its_real_name() {
        let mut request = ExecRequest {
            pid: 1,
            syscall: ExecSyscall::Execve,
            path: "./mygit".into(),
            resolved: "/w/mygit".into(),
            argv: vec!["./mygit".into(), "push".into(), "--force".into()],
            cwd: "/w".into(),
            env: vec![],
            program: None,
            notes: vec![],
        };
        assert_eq!(request.argv_for_rules(), request.argv);
        request.program = Some("git".into());
        assert_eq!(request.argv_for_rules(), ["git", "push", "--force"]);
    }
}
