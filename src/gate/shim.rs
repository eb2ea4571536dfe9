//! PATH shims: a private directory of symlinks named after guarded programs (kubectl, psql, git…)
//! pointing at the overwatch binary, put first on the agent's PATH. Invoked as `kubectl`, the
//! binary asks the gate with its argv, cwd and env, then `exec`s the real program — or exits 126
//! with the reason on stderr.
//!
//! **Invariants:** the real program is looked up on PATH with the shim dir removed, and a
//! candidate that is the overwatch binary itself is skipped (no exec loop); nesting deeper than
//! [`MAX_DEPTH`] is refused. Unreachable gate → only what the rules allow passes (fail closed).

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::client::{self, ClientVerdict, GateAddress};
use super::{Evaluator, GateRequest, Layer, Subject};

/// Env var naming the shim dir (so the shim can strip it from PATH).
pub const ENV_SHIM_DIR: &str = "OVERWATCH_SHIM_DIR";
/// Env var counting nested shim invocations (loop guard).
pub const ENV_SHIM_DEPTH: &str = "OVERWATCH_SHIM_DEPTH";
/// Deepest nesting of shim → real program → shim accepted.
pub const MAX_DEPTH: u32 = 8;
/// Exit code when the gate refuses (as a shell does for "found but not executable").
pub const EXIT_REFUSED: u8 = 126;
/// Exit code when the real program is not on PATH (as a shell does).
pub const EXIT_NOT_FOUND: u8 = 127;

/// Programs shimmed when the rule engine does not say otherwise (its `guarded_programs()` is the
/// authority once loaded).
pub const DEFAULT_GUARDED_PROGRAMS: &[&str] = &[
    "aws",
    "az",
    "docker",
    "gcloud",
    "git",
    "helm",
    "kubectl",
    "mongosh",
    "mysql",
    "psql",
    "redis-cli",
    "rm",
    "terraform",
    "tofu",
];

/// The program name this process was invoked as, when it is acting as a shim: the basename of
/// `argv[0]` unless it names overwatch itself (`overwatch`, `overwatch-dev`, …).
pub fn invoked_as(argv0: &OsStr) -> Option<String> {
    let name = Path::new(argv0).file_name()?.to_str()?;
    (!name.starts_with("overwatch") && !name.is_empty()).then(|| name.to_string())
}

/// Creates `dir` (mode 0700) with one symlink per program in `programs`, each pointing at `exe`.
/// Existing links are replaced; names that are not plain file names are rejected.
pub fn create_shim_dir(dir: &Path, exe: &Path, programs: &BTreeSet<String>) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating the shim dir {}", dir.display()))?;
    for program in programs {
        let valid = !program.is_empty()
            && program != "."
            && program != ".."
            && !program.contains('/')
            && !program.starts_with("overwatch");
        anyhow::ensure!(valid, "refusing to create a shim named {program:?}");
        let link = dir.join(program);
        if std::fs::symlink_metadata(&link).is_ok() {
            std::fs::remove_file(&link)
                .with_context(|| format!("replacing the shim {}", link.display()))?;
        }
        std::os::unix::fs::symlink(exe, &link)
            .with_context(|| format!("linking the shim {} → {}", link.display(), exe.display()))?;
    }
    Ok(())
}

/// Finds the real `program` on `path_var`, skipping `shim_dir` and any candidate that resolves to
/// `self_exe`.
pub fn find_real(
    program: &str,
    path_var: &OsStr,
    shim_dir: Option<&Path>,
    self_exe: Option<&Path>,
) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let shim_dir = shim_dir.and_then(|d| d.canonicalize().ok());
    let self_exe = self_exe.and_then(|e| e.canonicalize().ok());
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .filter(|dir| match (&shim_dir, dir.canonicalize()) {
            (Some(shim), Ok(d)) => &d != shim,
            _ => true,
        })
        .map(|dir| dir.join(program))
        .find(|candidate| {
            let Ok(meta) = std::fs::metadata(candidate) else {
                return false;
            };
            let executable = meta.is_file() && meta.permissions().mode() & 0o111 != 0;
            let is_self = match (&self_exe, candidate.canonicalize()) {
                (Some(me), Ok(real)) => &real == me,
                _ => false,
            };
            executable && !is_self
        })
}

/// Runs the shim for `program` with `args` (argv without `argv[0]`): asks, then execs the real
/// program (never returns on success) or returns the exit code after printing the reason.
pub fn run(
    program: &str,
    args: Vec<OsString>,
    standalone: impl FnOnce() -> anyhow::Result<Box<dyn Evaluator>>,
) -> u8 {
    let depth: u32 = std::env::var(ENV_SHIM_DEPTH)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    if depth >= MAX_DEPTH {
        eprintln!("overwatch shim: {program}: refused: shims nested {depth} deep (exec loop?)");
        return EXIT_REFUSED;
    }
    let shim_dir = std::env::var_os(ENV_SHIM_DIR).map(PathBuf::from);
    let path_var = std::env::var_os("PATH").unwrap_or_default();
    let self_exe = std::env::current_exe().ok();
    let Some(real) = find_real(program, &path_var, shim_dir.as_deref(), self_exe.as_deref()) else {
        eprintln!("overwatch shim: {program}: command not found on PATH (outside the shim dir)");
        return EXIT_NOT_FOUND;
    };

    let mut argv = vec![program.to_string()];
    argv.extend(args.iter().map(|a| a.to_string_lossy().into_owned()));
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let req = GateRequest {
        layer: Layer::Shim,
        agent: program.to_string(),
        subject: Subject::Argv(argv),
        cwd,
        pid: std::process::id(),
        env: super::protocol::env_subset(crate::context::process_env()),
    };
    let addr = GateAddress::from_env(|k| std::env::var(k).ok());
    match client::decide(addr.as_ref(), &req, standalone) {
        ClientVerdict::Allow { .. } => {
            let err = std::process::Command::new(&real)
                .arg0(program)
                .args(&args)
                .env(ENV_SHIM_DEPTH, (depth + 1).to_string())
                .exec();
            eprintln!(
                "overwatch shim: {program}: running {}: {err}",
                real.display()
            );
            EXIT_REFUSED
        }
        ClientVerdict::Ask { reason } => {
            eprintln!(
                "overwatch: {program}: refused: needs a human's confirmation ({reason}); no \
                 overwatch session is running to ask"
            );
            EXIT_REFUSED
        }
        ClientVerdict::Deny { reason } => {
            eprintln!("overwatch: {program}: refused: {reason}");
            EXIT_REFUSED
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argv0_names_a_shim_unless_it_is_overwatch() {
        assert_eq!(
            invoked_as(OsStr::new("kubectl")).as_deref(),
            Some("kubectl")
        );
        assert_eq!(
            invoked_as(OsStr::new("/tmp/s/psql")).as_deref(),
            Some("psql")
        );
        assert_eq!(invoked_as(OsStr::new("overwatch")), None);
        assert_eq!(invoked_as(OsStr::new("/x/target/debug/overwatch")), None);
        assert_eq!(invoked_as(OsStr::new("")), None);
    }

    #[test]
    fn real_program_lookup_skips_the_shim_dir_and_itself() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let exe = tmp.path().join("overwatch");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let shims = tmp.path().join("shims");
        let programs: BTreeSet<String> = ["git".to_string(), "kubectl".to_string()].into();
        create_shim_dir(&shims, &exe, &programs).unwrap();
        // Twice: existing links are replaced, not an error.
        create_shim_dir(&shims, &exe, &programs).unwrap();
        let mode = std::fs::metadata(&shims).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);

        // A second dir holding another link to overwatch (a loop) and a real git.
        let looped = tmp.path().join("looped");
        std::fs::create_dir(&looped).unwrap();
        std::os::unix::fs::symlink(&exe, looped.join("git")).unwrap();
        let real_dir = tmp.path().join("bin");
        std::fs::create_dir(&real_dir).unwrap();
        let real_git = real_dir.join("git");
        std::fs::write(&real_git, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&real_git, std::fs::Permissions::from_mode(0o755)).unwrap();

        let path = std::env::join_paths([&shims, &looped, &real_dir]).unwrap();
        assert_eq!(
            find_real("git", &path, Some(&shims), Some(&exe)),
            Some(real_git)
        );
        assert_eq!(find_real("kubectl", &path, Some(&shims), Some(&exe)), None);
        assert!(create_shim_dir(&shims, &exe, &["../x".to_string()].into()).is_err());
    }
}
