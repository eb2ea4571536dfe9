//! The classic-BPF seccomp program that turns `execve`/`execveat` into user notifications, the
//! table that decodes a notification's `(arch, nr)`, and its installation in the shim.
//!
//! Hand-written rather than libseccomp (a C library a fresh machine may lack) or `seccompiler`
//! (which cannot emit `SECCOMP_RET_USER_NOTIF`). The program, per the kernel's
//! Documentation/userspace-api/seccomp_filter.rst:
//!
//! ```text
//!   A = arch
//!   for each ABI the kernel can enter with (x86_64: x86_64 incl. x32, i386):
//!     if A != ABI { next ABI }
//!     A = nr
//!     if A is one of this ABI's execve/execveat numbers { return USER_NOTIF }
//!     return ALLOW
//!   return KILL_PROCESS          // an ABI this kernel cannot produce: fail closed
//! ```
//!
//! **Invariant:** every ABI the running kernel can dispatch is listed, so a 64-bit process cannot
//! escape the gate through `int 0x80` (i386) or the x32 numbers.

use std::fmt;
use std::os::fd::OwnedFd;

use nix::errno::Errno;

use super::ExecSyscall;
use super::sys;

/// `AUDIT_ARCH_*` from linux/audit.h (libc does not export them).
pub(super) const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
pub(super) const AUDIT_ARCH_I386: u32 = 0x4000_0003;
// Used by the aarch64 filter table (and its interpreter tests) only.
#[cfg_attr(not(any(test, target_arch = "aarch64")), allow(dead_code))]
pub(super) const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
#[cfg_attr(not(any(test, target_arch = "aarch64")), allow(dead_code))]
pub(super) const AUDIT_ARCH_ARM: u32 = 0x4000_0028;
/// x32 system calls are the x86_64 arch with this bit set in `nr` (asm/unistd.h).
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

/// One exec system call of one ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ExecAbi {
    /// `AUDIT_ARCH_*` as seen in `seccomp_data.arch`.
    pub arch: u32,
    /// `seccomp_data.nr` (x32 numbers include [`X32_SYSCALL_BIT`]).
    pub nr: u32,
    pub syscall: ExecSyscall,
    /// Size of a pointer in the task's `argv`/`envp` arrays: 8 or 4 bytes.
    pub pointer_bytes: usize,
}

const fn abi(arch: u32, nr: u32, syscall: ExecSyscall, pointer_bytes: usize) -> ExecAbi {
    ExecAbi {
        arch,
        nr,
        syscall,
        pointer_bytes,
    }
}

/// Numbers from arch/x86/entry/syscalls/syscall_{64,32}.tbl.
#[cfg(target_arch = "x86_64")]
pub(super) const EXEC_ABIS: &[ExecAbi] = &[
    abi(AUDIT_ARCH_X86_64, 59, ExecSyscall::Execve, 8),
    abi(AUDIT_ARCH_X86_64, 322, ExecSyscall::Execveat, 8),
    abi(
        AUDIT_ARCH_X86_64,
        X32_SYSCALL_BIT | 520,
        ExecSyscall::Execve,
        4,
    ),
    abi(
        AUDIT_ARCH_X86_64,
        X32_SYSCALL_BIT | 545,
        ExecSyscall::Execveat,
        4,
    ),
    abi(AUDIT_ARCH_I386, 11, ExecSyscall::Execve, 4),
    abi(AUDIT_ARCH_I386, 358, ExecSyscall::Execveat, 4),
];

/// Numbers from include/uapi/asm-generic/unistd.h and arch/arm/tools/syscall.tbl.
#[cfg(target_arch = "aarch64")]
pub(super) const EXEC_ABIS: &[ExecAbi] = &[
    abi(AUDIT_ARCH_AARCH64, 221, ExecSyscall::Execve, 8),
    abi(AUDIT_ARCH_AARCH64, 281, ExecSyscall::Execveat, 8),
    abi(AUDIT_ARCH_ARM, 11, ExecSyscall::Execve, 4),
    abi(AUDIT_ARCH_ARM, 387, ExecSyscall::Execveat, 4),
];

/// Other architectures: no filter; the shim reports [`Refusal::UnsupportedArch`].
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub(super) const EXEC_ABIS: &[ExecAbi] = &[];

/// Decodes a notification's `seccomp_data.{arch, nr}`; `None` for anything the filter should
/// not have sent.
pub(super) fn classify(arch: u32, nr: i32) -> Option<ExecAbi> {
    EXEC_ABIS
        .iter()
        .copied()
        .find(|abi| abi.arch == arch && abi.nr == nr as u32)
}

/// `offsetof(struct seccomp_data, nr)` and `arch` (linux/seccomp.h).
const DATA_NR: u32 = 0;
const DATA_ARCH: u32 = 4;

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

/// Builds the filter for `abis`, grouped by arch in first-seen order. Errors only if a jump
/// would not fit in the 8-bit offsets of classic BPF (impossible for the tables above).
pub(super) fn program(abis: &[ExecAbi]) -> Result<Vec<libc::sock_filter>, Errno> {
    let mut arches: Vec<u32> = Vec::new();
    for abi in abis {
        if !arches.contains(&abi.arch) {
            arches.push(abi.arch);
        }
    }
    let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let ret = libc::BPF_RET | libc::BPF_K;
    // Length: load arch + per arch (jeq arch, load nr, one jeq per nr, ret allow) + 2 returns.
    let len = 1 + arches.len() * 3 + abis.len() + 2;
    let notify_at = len - 1;
    let offset = |from: usize, to: usize| u8::try_from(to - from - 1).map_err(|_| Errno::E2BIG);

    let mut prog = vec![stmt(load, DATA_ARCH)];
    for arch in arches {
        let nrs: Vec<u32> = abis
            .iter()
            .filter(|a| a.arch == arch)
            .map(|a| a.nr)
            .collect();
        // Not this arch: skip load, the nr tests and the allow.
        let skip = u8::try_from(nrs.len() + 2).map_err(|_| Errno::E2BIG)?;
        prog.push(jeq(arch, 0, skip));
        prog.push(stmt(load, DATA_NR));
        for nr in nrs {
            let jt = offset(prog.len(), notify_at)?;
            prog.push(jeq(nr, jt, 0));
        }
        prog.push(stmt(ret, libc::SECCOMP_RET_ALLOW));
    }
    prog.push(stmt(ret, libc::SECCOMP_RET_KILL_PROCESS));
    prog.push(stmt(ret, libc::SECCOMP_RET_USER_NOTIF));
    debug_assert_eq!(prog.len(), len);
    Ok(prog)
}

/// Why the shim could not install the exec gate; the agent then runs without it and overwatch
/// says so in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Another user-notification listener already watches this process tree (`EBUSY`): overwatch
    /// runs inside another overwatch (whose exec gate still applies) or another supervisor.
    NestedListener,
    /// The kernel lacks seccomp filters or user notification (Linux < 5.0, `CONFIG_SECCOMP_FILTER`
    /// off, or a container profile forbidding `seccomp(2)`).
    KernelUnsupported(String),
    /// overwatch has no filter for this CPU architecture.
    UnsupportedArch,
    /// Anything else the kernel said.
    Failed(String),
}

impl Refusal {
    /// Wire form sent to the supervisor (see `handoff.rs`): `nested`, `kernel:…`, `arch`,
    /// `failed:…`.
    pub(super) fn encode(&self) -> String {
        match self {
            Refusal::NestedListener => "nested".into(),
            Refusal::KernelUnsupported(why) => format!("kernel:{why}"),
            Refusal::UnsupportedArch => "arch".into(),
            Refusal::Failed(why) => format!("failed:{why}"),
        }
    }

    /// Inverse of [`Refusal::encode`]; unknown forms become [`Refusal::Failed`].
    pub(super) fn decode(wire: &str) -> Refusal {
        match wire.split_once(':') {
            _ if wire == "nested" => Refusal::NestedListener,
            _ if wire == "arch" => Refusal::UnsupportedArch,
            Some(("kernel", why)) => Refusal::KernelUnsupported(why.into()),
            Some(("failed", why)) => Refusal::Failed(why.into()),
            _ => Refusal::Failed(wire.into()),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NestedListener => f.write_str(
                "another exec gate already watches this process tree (nested overwatch?)",
            ),
            Refusal::KernelUnsupported(why) => {
                write!(f, "the kernel cannot run the exec gate: {why}")
            }
            Refusal::UnsupportedArch => {
                f.write_str("no exec gate filter for this CPU architecture")
            }
            Refusal::Failed(why) => write!(f, "installing the exec gate failed: {why}"),
        }
    }
}

/// In the shim, before exec'ing the agent: checks that the kernel supports user notification,
/// sets `PR_SET_NO_NEW_PRIVS` (required to install a filter unprivileged; it also stops setuid
/// programs from gaining privileges) and installs the filter, returning the listener fd
/// (`O_CLOEXEC`). Applies to the calling thread; call it while the shim is single-threaded.
///
/// The support check runs first so an old kernel is refused without setting no-new-privs.
/// On `EBUSY`/`EINVAL` after no-new-privs was set it stays set (it cannot be cleared).
pub fn install_listener() -> Result<OwnedFd, Refusal> {
    if EXEC_ABIS.is_empty() {
        return Err(Refusal::UnsupportedArch);
    }
    match sys::user_notif_available() {
        Ok(()) => {}
        Err(Errno::ENOSYS) => {
            return Err(Refusal::KernelUnsupported(
                "seccomp(2) is not available (ENOSYS)".into(),
            ));
        }
        Err(err) => {
            return Err(Refusal::KernelUnsupported(format!(
                "SECCOMP_RET_USER_NOTIF is not available ({err})"
            )));
        }
    }
    nix::sys::prctl::set_no_new_privs()
        .map_err(|err| Refusal::Failed(format!("setting no-new-privs: {err}")))?;
    let prog = program(EXEC_ABIS).map_err(|err| Refusal::Failed(err.to_string()))?;
    // WAIT_KILLABLE_RECV (Linux 5.19) keeps a held exec from being interrupted and re-sent by a
    // harmless signal (SIGWINCH on a resize, SIGCHLD) while the human decides. SPEC_ALLOW
    // (Linux 4.17): this filter watches execs, it does not sandbox hostile code, so it must not
    // switch on the speculative-store-bypass and indirect-branch mitigations that kernels
    // booted with `spec_store_bypass_disable=seccomp` / `spectre_v2_user=seccomp` (the default
    // before 5.16) force on every process with a filter: they would slow everything the agent
    // runs, compilers and test suites included.
    let base = libc::SECCOMP_FILTER_FLAG_NEW_LISTENER | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    let flags = base | libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    let result = match sys::install_filter(&prog, flags) {
        Err(Errno::EINVAL) => sys::install_filter(&prog, base),
        other => other,
    };
    result.map_err(|err| match err {
        Errno::EBUSY => Refusal::NestedListener,
        Errno::EINVAL | Errno::ENOSYS => Refusal::KernelUnsupported(err.to_string()),
        other => Refusal::Failed(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic-BPF interpreter for the three instruction kinds the program uses, so the tests
    /// check what the program *does*, not how it is laid out.
    fn run(prog: &[libc::sock_filter], arch: u32, nr: u32) -> u32 {
        let mut pc = 0usize;
        let mut acc = 0u32;
        loop {
            let insn = prog[pc];
            let code = u32::from(insn.code);
            if code == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS {
                acc = match insn.k {
                    DATA_NR => nr,
                    DATA_ARCH => arch,
                    other => panic!("load of unexpected offset {other}"),
                };
                pc += 1;
            } else if code == libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K {
                let off = if acc == insn.k { insn.jt } else { insn.jf };
                pc += 1 + usize::from(off);
            } else if code == libc::BPF_RET | libc::BPF_K {
                return insn.k;
            } else {
                panic!("unexpected instruction code {code:#x}");
            }
            assert!(pc < prog.len(), "jump out of the program");
        }
    }

    fn check(abis: &[ExecAbi]) {
        let prog = program(abis).unwrap();
        assert!(prog.len() <= libc::BPF_MAXINSNS as usize);
        for abi in abis {
            assert_eq!(
                run(&prog, abi.arch, abi.nr),
                libc::SECCOMP_RET_USER_NOTIF,
                "{abi:?}"
            );
            // Any other syscall of a known arch is allowed, including neighbours of the exec nrs.
            for nr in [0, 1, abi.nr.wrapping_sub(1), abi.nr + 1, 317, 0x4000_0000] {
                if !abis.iter().any(|a| a.arch == abi.arch && a.nr == nr) {
                    assert_eq!(run(&prog, abi.arch, nr), libc::SECCOMP_RET_ALLOW, "{nr}");
                }
            }
        }
        // An arch the kernel cannot produce here is killed, whatever the nr.
        assert_eq!(run(&prog, 0xdead_beef, 59), libc::SECCOMP_RET_KILL_PROCESS);
    }

    #[test]
    fn native_program_notifies_exactly_the_exec_syscalls() {
        if !EXEC_ABIS.is_empty() {
            check(EXEC_ABIS);
        }
    }

    #[test]
    fn both_tables_produce_working_programs_whatever_we_compiled_for() {
        let x86 = [
            abi(AUDIT_ARCH_X86_64, 59, ExecSyscall::Execve, 8),
            abi(AUDIT_ARCH_X86_64, 322, ExecSyscall::Execveat, 8),
            abi(
                AUDIT_ARCH_X86_64,
                X32_SYSCALL_BIT | 520,
                ExecSyscall::Execve,
                4,
            ),
            abi(AUDIT_ARCH_I386, 11, ExecSyscall::Execve, 4),
        ];
        check(&x86);
        let arm = [
            abi(AUDIT_ARCH_AARCH64, 221, ExecSyscall::Execve, 8),
            abi(AUDIT_ARCH_ARM, 11, ExecSyscall::Execve, 4),
        ];
        check(&arm);
        // x32 execve's number without the bit is not an exec on x86_64 (it is ENOSYS there).
        let prog = program(&x86).unwrap();
        assert_eq!(run(&prog, AUDIT_ARCH_X86_64, 520), libc::SECCOMP_RET_ALLOW);
        // The x86_64 execve number is not an exec for an i386 task.
        assert_eq!(run(&prog, AUDIT_ARCH_I386, 59), libc::SECCOMP_RET_ALLOW);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn classify_decodes_native_compat_and_x32() {
        assert_eq!(
            classify(AUDIT_ARCH_X86_64, 59).map(|a| (a.syscall, a.pointer_bytes)),
            Some((ExecSyscall::Execve, 8))
        );
        assert_eq!(
            classify(AUDIT_ARCH_X86_64, 322).map(|a| a.syscall),
            Some(ExecSyscall::Execveat)
        );
        assert_eq!(
            classify(AUDIT_ARCH_X86_64, (X32_SYSCALL_BIT | 520) as i32).map(|a| a.pointer_bytes),
            Some(4)
        );
        assert_eq!(
            classify(AUDIT_ARCH_I386, 11).map(|a| a.pointer_bytes),
            Some(4)
        );
        assert_eq!(classify(AUDIT_ARCH_I386, 59), None);
        assert_eq!(classify(AUDIT_ARCH_X86_64, 57), None);
    }

    #[test]
    fn refusals_survive_the_wire() {
        for refusal in [
            Refusal::NestedListener,
            Refusal::UnsupportedArch,
            Refusal::KernelUnsupported("EINVAL: x".into()),
            Refusal::Failed("EPERM".into()),
        ] {
            assert_eq!(Refusal::decode(&refusal.encode()), refusal);
        }
        assert_eq!(
            Refusal::decode("garbage"),
            Refusal::Failed("garbage".into())
        );
    }
}
