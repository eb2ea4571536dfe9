//! From one notification to an [`ExecRequest`]: decodes the syscall arguments for the task's
//! ABI, reads the path first, resolves it the way the task sees it (`/proc/PID/{root,cwd,fd/N}`)
//! and only then reads argv and the wanted env entries.
//!
//! **Invariant:** a path that does not name an executable file is [`Gathered::NotExecutable`]
//! (the kernel fails that exec by itself); anything that cannot be checked is evaluated.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::filter::ExecAbi;
use super::procmem::{Limits, MemError, RemoteMem, read_argv, read_env, text};
use super::{ExecNote, ExecRequest, ExecSyscall};

/// The syscall arguments of one notification, decoded for its ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExecArgs {
    pub pid: u32,
    pub syscall: ExecSyscall,
    pub pointer_bytes: usize,
    /// `execveat`'s dirfd (`AT_FDCWD` for `execve`).
    pub dirfd: i32,
    pub path: u64,
    pub argv: u64,
    pub envp: u64,
    /// `execveat`'s flags (0 for `execve`).
    pub flags: i32,
}

impl ExecArgs {
    /// Decodes `seccomp_data.args` (`execve(path, argv, envp)`,
    /// `execveat(dirfd, path, argv, envp, flags)`); 32-bit ABIs pass zero-extended words.
    pub fn decode(pid: u32, abi: ExecAbi, args: [u64; 6]) -> Self {
        let mask = if abi.pointer_bytes == 4 {
            0xffff_ffff
        } else {
            u64::MAX
        };
        let [a0, a1, a2, a3, a4, _] = args.map(|a| a & mask);
        match abi.syscall {
            ExecSyscall::Execve => ExecArgs {
                pid,
                syscall: abi.syscall,
                pointer_bytes: abi.pointer_bytes,
                dirfd: libc::AT_FDCWD,
                path: a0,
                argv: a1,
                envp: a2,
                flags: 0,
            },
            ExecSyscall::Execveat => ExecArgs {
                pid,
                syscall: abi.syscall,
                pointer_bytes: abi.pointer_bytes,
                dirfd: a0 as u32 as i32,
                path: a1,
                argv: a2,
                envp: a3,
                flags: a4 as u32 as i32,
            },
        }
    }
}

/// Result of looking at one notification.
#[derive(Debug)]
pub(super) enum Gathered {
    /// The path does not name an executable file (a PATH-search probe such as
    /// `/usr/local/bin/git` before `/usr/bin/git`, or a missing file): the kernel will fail the
    /// exec itself with ENOENT/EACCES, so it is continued without evaluation.
    NotExecutable,
    /// An exec of an existing executable: evaluate it.
    Request(Box<ExecRequest>, ExecFile),
}

/// `(st_dev, st_ino)` of the file an exec names.
pub(super) type FileId = (u64, u64);

/// The file an exec names, as `stat` saw it through the task's view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ExecFile {
    /// Identifies the file whatever path reached it (`/bin/psql` and `/usr/bin/psql` on a
    /// merged-/usr system); `(0, 0)` when it could not be `stat`ed.
    pub id: FileId,
    /// Size in bytes.
    pub size: u64,
    /// When its content or inode last changed; `None` when it could not be `stat`ed.
    pub changed: Option<Changed>,
    /// Where overwatch can open it (`/proc/PID/root/usr/bin/git`).
    pub seen_at: PathBuf,
}

/// A file's `st_mtime` and `st_ctime`, nanoseconds since the Unix epoch. Writing the file moves
/// both; only `ctime` cannot be set back from user space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Changed {
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

impl Changed {
    /// The times of `meta`.
    pub fn of(meta: &fs::Metadata) -> Self {
        let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
        Changed {
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// The working directory of task `pid`, as `/proc/PID/cwd` names it.
fn read_cwd(pid: u32) -> Result<PathBuf, MemError> {
    fs::read_link(format!("/proc/{pid}/cwd")).map_err(|source| MemError::Proc {
        pid,
        what: "cwd",
        source,
    })
}

/// Where the task's view of `path` is, through `/proc/PID/{root,cwd,fd/N}`, and how to show it.
/// Reads the task's cwd into `cwd` only when `path` is relative to it.
fn locate(
    args: &ExecArgs,
    path: &str,
    cwd: &mut Option<PathBuf>,
) -> Result<(PathBuf, PathBuf), MemError> {
    let pid = args.pid;
    if path.starts_with('/') {
        return Ok((
            PathBuf::from(format!("/proc/{pid}/root{path}")),
            PathBuf::from(path),
        ));
    }
    if args.dirfd == libc::AT_FDCWD {
        let cwd = match cwd {
            Some(cwd) => cwd,
            None => cwd.insert(read_cwd(pid)?),
        };
        return Ok((
            Path::new(&format!("/proc/{pid}/cwd")).join(path),
            cwd.join(path),
        ));
    }
    let fd_link = PathBuf::from(format!("/proc/{pid}/fd/{}", args.dirfd));
    let shown = fs::read_link(&fd_link).map_err(|source| MemError::Proc {
        pid,
        what: "fd",
        source,
    })?;
    if path.is_empty() && args.flags & libc::AT_EMPTY_PATH != 0 {
        Ok((fd_link, shown))
    } else {
        Ok((fd_link.join(path), shown.join(path)))
    }
}

/// Reads one exec from task `args.pid`. Reads the path first so PATH-search probes cost a
/// `stat`, not an argv/env read.
pub(super) fn gather(
    args: &ExecArgs,
    env_names: &[String],
    limits: &Limits,
) -> Result<Gathered, MemError> {
    if args.path == 0 {
        return Err(MemError::NullPath);
    }
    let pid = args.pid;
    let mut notes = Vec::new();
    let mut mem = RemoteMem::open(pid);
    let (path_bytes, complete) = mem.read_cstring(args.path, limits.max_path_bytes)?;
    if !complete {
        // Longer than PATH_MAX: the kernel fails it with ENAMETOOLONG.
        return Ok(Gathered::NotExecutable);
    }
    let path = text(path_bytes, &mut notes);
    // The cwd is read here only for a path relative to it, else once the path turns out to name
    // an executable: execvp's PATH search sends one notification per directory it tries, and
    // the misses then cost a `stat`, not also a `/proc/PID/cwd` lookup.
    let mut cwd = None;
    let (seen_at, resolved) = locate(args, &path, &mut cwd)?;
    let mut file = ExecFile {
        id: (0, 0),
        size: 0,
        changed: None,
        seen_at: seen_at.clone(),
    };
    match fs::metadata(&seen_at) {
        Ok(meta) if meta.is_file() && meta.permissions().mode() & 0o111 != 0 => {
            if meta.mode() & (libc::S_ISUID | libc::S_ISGID) != 0 {
                notes.push(ExecNote::SetuidIgnored);
            }
            file.id = (meta.dev(), meta.ino());
            file.size = meta.size();
            file.changed = Some(Changed::of(&meta));
        }
        Ok(_) => return Ok(Gathered::NotExecutable),
        Err(err)
            if err.raw_os_error() == Some(libc::ENOENT)
                || err.raw_os_error() == Some(libc::ENOTDIR) =>
        {
            return Ok(Gathered::NotExecutable);
        }
        // Anything else (EACCES on a directory we may not search…): evaluate, fail closed.
        Err(_) => {}
    }
    let cwd = match cwd {
        Some(cwd) => cwd,
        None => read_cwd(pid)?,
    };
    let argv = read_argv(&mut mem, args.argv, args.pointer_bytes, limits, &mut notes)?;
    let env = read_env(
        &mut mem,
        args.envp,
        args.pointer_bytes,
        env_names,
        limits,
        &mut notes,
    )?;
    let request = ExecRequest {
        pid,
        syscall: args.syscall,
        path,
        resolved,
        argv,
        cwd,
        env,
        program: None,
        notes,
    };
    Ok(Gathered::Request(Box::new(request), file))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `execve` of `path` by this test process (its own pid: /proc/PID/cwd is readable).
    fn own_execve() -> ExecArgs {
        ExecArgs {
            pid: std::process::id(),
            syscall: ExecSyscall::Execve,
            pointer_bytes: 8,
            dirfd: libc::AT_FDCWD,
            path: 1,
            argv: 0,
            envp: 0,
            flags: 0,
        }
    }

    #[test]
    fn an_absolute_path_is_located_without_reading_the_cwd() {
        let args = own_execve();
        let mut cwd = None;
        let (seen_at, resolved) = locate(&args, "/usr/bin/true", &mut cwd).unwrap();
        assert_eq!(cwd, None, "a PATH-search probe must not cost a cwd lookup");
        assert_eq!(
            seen_at,
            PathBuf::from(format!("/proc/{}/root/usr/bin/true", args.pid))
        );
        assert_eq!(resolved, PathBuf::from("/usr/bin/true"));
    }

    #[test]
    fn a_relative_path_is_resolved_against_the_task_cwd() {
        let args = own_execve();
        let mut cwd = None;
        let (seen_at, resolved) = locate(&args, "bin/tool", &mut cwd).unwrap();
        let here = std::env::current_dir().unwrap();
        assert_eq!(cwd.as_deref(), Some(here.as_path()));
        assert_eq!(resolved, here.join("bin/tool"));
        assert_eq!(
            seen_at,
            PathBuf::from(format!("/proc/{}/cwd/bin/tool", args.pid))
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn decodes_execve_and_execveat_arguments() {
        use super::super::filter::classify;
        let execve = classify(super::super::filter::AUDIT_ARCH_X86_64, 59).unwrap();
        let a = ExecArgs::decode(7, execve, [10, 20, 30, 0, 0, 0]);
        assert_eq!(
            (a.dirfd, a.path, a.argv, a.envp),
            (libc::AT_FDCWD, 10, 20, 30)
        );
        let execveat = classify(super::super::filter::AUDIT_ARCH_X86_64, 322).unwrap();
        let a = ExecArgs::decode(
            7,
            execveat,
            [(-100i64) as u64, 10, 20, 30, libc::AT_EMPTY_PATH as u64, 0],
        );
        assert_eq!(a.dirfd, libc::AT_FDCWD);
        assert_eq!((a.path, a.argv, a.envp), (10, 20, 30));
        assert_eq!(a.flags, libc::AT_EMPTY_PATH);
        let i386 = classify(super::super::filter::AUDIT_ARCH_I386, 11).unwrap();
        let a = ExecArgs::decode(7, i386, [0xdead_0000_0000_0010, 20, 30, 0, 0, 0]);
        assert_eq!(a.path, 0x10, "32-bit words are masked");
    }
}
