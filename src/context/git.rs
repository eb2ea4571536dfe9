//! git: the repository containing the working directory, its branch (or detached commit),
//! remotes, and whether it is a linked worktree.
//!
//! Files are read directly (no subprocess, no gix repository open, which costs milliseconds):
//! the nearest `.git` upward from the cwd; a `.git` *file* holds `gitdir: <path>` (linked worktree
//! or submodule), and that gitdir's `commondir` file points at the shared repository, whose
//! `config` lists the remotes. `HEAD` is `ref: refs/heads/<branch>` or a commit id (detached).
//! Remote URLs lose any `user:token@` part before they are shown.

use std::path::{Path, PathBuf};

use super::scan::{FileRead, Scan, parse_ini, strip_userinfo};
use super::{FactKind, Tier, Verdict};

/// Branches whose pushes usually deploy or publish (shown as `protected` in the details).
fn is_protected(branch: &str) -> bool {
    matches!(
        branch,
        "main" | "master" | "trunk" | "production" | "prod" | "live"
    ) || branch.starts_with("release/")
        || branch.starts_with("release-")
}

/// The git dir for a `.git` entry: itself if a directory, else the `gitdir:` target of the file.
fn resolve_git_dir(s: &Scan, dot_git: &Path) -> Result<(PathBuf, bool), String> {
    if dot_git.is_dir() {
        return Ok((dot_git.to_path_buf(), false));
    }
    match s.read(dot_git) {
        FileRead::Text(t) => {
            let target = t
                .lines()
                .find_map(|l| l.strip_prefix("gitdir:"))
                .map(str::trim)
                .ok_or_else(|| format!("{} has no 'gitdir:' line", s.display(dot_git)))?;
            let base = dot_git.parent().unwrap_or(Path::new("/"));
            Ok((base.join(target), true))
        }
        FileRead::Missing => Err(format!("{} vanished", s.display(dot_git))),
        FileRead::Unreadable(msg) => Err(msg),
    }
}

/// Emits the git branch fact for the repository containing the cwd.
pub fn probe(s: &mut Scan) {
    let Some(dot_git) = s
        .input
        .cwd
        .ancestors()
        .map(|d| d.join(".git"))
        .find(|p| p.exists())
    else {
        return;
    };
    let (git_dir, linked) = match resolve_git_dir(s, &dot_git) {
        Ok(x) => x,
        Err(reason) => {
            let shown = s.display(&dot_git);
            s.broken(FactKind::Git, "(broken .git)", shown, reason);
            return;
        }
    };
    let head_path = git_dir.join("HEAD");
    let head = match s.read(&head_path) {
        FileRead::Text(t) => t.trim().to_string(),
        FileRead::Missing => {
            let shown = s.display(&head_path);
            let reason = format!("{shown} is missing");
            s.broken(FactKind::Git, "(broken repository)", shown, reason);
            return;
        }
        FileRead::Unreadable(msg) => {
            let shown = s.display(&head_path);
            s.broken(FactKind::Git, "(broken repository)", shown, msg);
            return;
        }
    };
    let common_dir = match s.read(&git_dir.join("commondir")) {
        FileRead::Text(t) if !t.trim().is_empty() => git_dir.join(t.trim()),
        _ => git_dir.clone(),
    };
    let mut details = std::collections::BTreeMap::new();
    let (name, detached) = match head.strip_prefix("ref:") {
        Some(r) => {
            let r = r.trim();
            (
                r.strip_prefix("refs/heads/").unwrap_or(r).to_string(),
                false,
            )
        }
        None => (head.chars().take(12).collect::<String>(), true),
    };
    if detached {
        details.insert("detached".to_string(), "yes".to_string());
    } else if is_protected(&name) {
        details.insert("protected".to_string(), "yes".to_string());
    }
    let repo_root = dot_git.parent().unwrap_or(Path::new("/"));
    details.insert("repo".to_string(), s.display(repo_root));
    if linked && common_dir != git_dir {
        details.insert("worktree".to_string(), "linked".to_string());
    }
    let config_path = common_dir.join("config");
    let mut remotes = Vec::new();
    if let FileRead::Text(t) = s.read(&config_path)
        && let Ok(ini) = parse_ini(&t)
    {
        for (section, props) in ini.iter() {
            let Some(remote) = section
                .and_then(|sec| sec.strip_prefix("remote"))
                .map(|r| r.trim().trim_matches('"'))
            else {
                continue;
            };
            if let Some(url) = props.get("url") {
                remotes.push((remote.to_string(), strip_userinfo(url.trim())));
            }
        }
    }
    for (remote, url) in &remotes {
        details.insert(format!("remote.{remote}"), url.clone());
    }
    let verdict = if detached {
        Verdict {
            tier: Tier::Development,
            reason: format!("detached HEAD at {name}: a local checkout"),
        }
    } else {
        let v = s.classify(FactKind::Git, &[("git branch", &name)]);
        if v.tier == Tier::Unknown && !v.reason.starts_with("pinned") {
            // A local branch is a working copy, not a deployment target; pushing to a protected
            // branch is the rule engine's business (it sees the command), not the session tier's.
            Verdict {
                tier: Tier::Development,
                reason: format!(
                    "git branch '{name}' is a local working copy (no tier keyword or pin)"
                ),
            }
        } else {
            v
        }
    };
    let source = s.display(&head_path);
    s.fact(FactKind::Git, name, details, source, verdict);
}
