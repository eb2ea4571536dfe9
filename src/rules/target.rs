//! Targets: what one invocation really acts on, and how dangerous that is.
//!
//! The ambient context (from [`crate::context`]) is overridden by what the command itself says:
//! `--context`/`--kubeconfig`/`-n`, `--kube-context`, `--profile`, `--project`, `-chdir=`,
//! `KUBECONFIG=`/`AWS_PROFILE=`/`TF_WORKSPACE=`/`DOCKER_HOST=` prefixes, database URLs or
//! `$DATABASE_URL`-style variables in arguments (expanded from the agent's env map), flag-CLI
//! `--environment` values, the host of `ssh host 'cmd'`, and the branch a `git push` updates.
//! Also classifies filesystem paths named by arguments ([`path_class`]).
//!
//! **Invariants:** a target we cannot determine is `Tier::Unknown`, never `Development`; a secret
//! (password in a URL) never reaches `Target::name` or `details`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::context::{self, Fact, FactKind, Overrides, Tier};

use super::pack::{PathClass, ProgramSpec};
use super::parse::{Cwd, Word};
use super::unwrap::Invocation;
use super::{EvalEnv, Target};

/// Directory names that are regenerable build artefacts (deleting them is routine).
const ARTIFACTS: &[&str] = &[
    "node_modules",
    "target",
    "dist",
    "build",
    "out",
    ".next",
    ".nuxt",
    ".svelte-kit",
    "coverage",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".cache",
    ".turbo",
    ".parcel-cache",
    ".gradle",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    ".eggs",
    "tmp",
    ".tmp",
    "obj",
    "_build",
    ".dart_tool",
    ".angular",
    "storybook-static",
    ".terraform",
    "bin",
    "logs",
];

/// Top-level system directories.
const SYSTEM: &[&str] = &[
    "/etc",
    "/usr",
    "/var",
    "/srv",
    "/opt",
    "/boot",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/mnt",
    "/media",
    "/dev",
    "/proc",
    "/sys",
    "/snap",
    "/nix",
    "/run",
    "/System",
    "/Library",
    "/Applications",
    "/private",
    "/Volumes",
    "/data",
    "/backup",
    "/backups",
];

/// Expands `~`, resolves against the command's cwd and normalises `.`/`..` lexically.
/// `None` when the cwd is unknown.
pub fn resolve_path(text: &str, cwd: &Cwd, home: &Path, project: &Path) -> Option<PathBuf> {
    let expand = |t: &str| -> PathBuf {
        if t == "~" {
            home.to_path_buf()
        } else if let Some(rest) = t.strip_prefix("~/") {
            home.join(rest)
        } else {
            PathBuf::from(t)
        }
    };
    let p = expand(text);
    let full = if p.is_absolute() {
        p
    } else {
        let base = match cwd {
            Cwd::Ambient => project.to_path_buf(),
            Cwd::Path(c) => {
                let c = expand(c);
                if c.is_absolute() { c } else { project.join(c) }
            }
            Cwd::Unknown => return None,
        };
        base.join(p)
    };
    Some(lexically_normal(&full))
}

/// `path` rooted at `/` with `.` and `..` applied lexically (`..` at the root stays there) and
/// no empty components: `/a/b/../c/./` → `/a/c`, `x/../..` → `/`.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// Classifies the path an argument names. `project` is the agent's cwd.
pub fn path_class(word: &Word, cwd: &Cwd, home: &Path, project: &Path) -> PathClass {
    // Env-map values count here (`"$DIR"` with DIR=/ is the root); they are never displayed.
    let mut text = word.expanded();
    if word.dynamic || text.contains("{input}") || text.contains("{}") {
        // Classify the literal prefix when it is an absolute directory (`/srv/$x` is in /srv).
        let cut = text.find(['$', '{', '`', '*', '?']).unwrap_or(text.len());
        let prefix = &text[..cut];
        if !(prefix.starts_with('/') || prefix.starts_with("~/")) {
            return PathClass::Unknown;
        }
        text = prefix.trim_end_matches('/');
        if text.is_empty() {
            return PathClass::Root;
        }
    }
    // A trailing glob names the directory's contents.
    let globbed = text.trim_end_matches(['*', '?']).trim_end_matches('/');
    if globbed.is_empty() && text.starts_with('/') {
        return PathClass::Root;
    }
    if text == "*" || text == "./*" || text == ".*" {
        return if matches!(cwd, Cwd::Ambient) {
            PathClass::Cwd
        } else {
            PathClass::Unknown
        };
    }
    let text = if globbed.is_empty() { "." } else { globbed };
    let Some(abs) = resolve_path(text, cwd, home, project) else {
        return PathClass::Unknown;
    };
    let relative = !text.starts_with('/') && !text.starts_with('~') && matches!(cwd, Cwd::Ambient);
    classify_abs(&abs, home, project, relative)
}

/// Whether `path` is `base` or lies under it, comparing whole components (`/srv` is under `/`
/// and `/srv`, not under `/sr`). Both are absolute and lexically normal (no `.`, `..`, `//` or
/// trailing `/`), as [`resolve_path`] and [`normal`] make them; plain string comparison, since
/// `Path::starts_with` re-parses both paths' components on every call.
fn under(path: &str, base: &str) -> bool {
    base == "/"
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `p` as text in the form [`under`] expects: `.`, `..`-free components joined by single `/`.
/// Borrowed when `p` is already in that form (the usual case for a cwd or `$HOME`).
fn normal(p: &Path) -> std::borrow::Cow<'_, str> {
    let s = p.to_string_lossy();
    let clean = s.starts_with('/')
        && (s.len() == 1 || !s.ends_with('/'))
        && !s.contains("//")
        && !s.split('/').any(|c| c == "." || c == "..");
    if clean {
        return s;
    }
    lexically_normal(p).to_string_lossy().into_owned().into()
}

fn classify_abs(abs: &Path, home: &Path, project: &Path, relative: bool) -> PathClass {
    let s = abs.to_string_lossy();
    let s = s.as_ref();
    if s == "/" {
        return PathClass::Root;
    }
    let (home, project) = (normal(home), normal(project));
    let (home, project) = (home.as_ref(), project.as_ref());
    if s == home || matches!(s, "/home" | "/Users" | "/root") {
        return PathClass::Home;
    }
    let mut parts = s.split('/').filter(|x| !x.is_empty());
    let (first, second) = (parts.next(), parts.next());
    let deeper = parts.next().is_some();
    let in_homes = matches!(first, Some("home" | "Users"));
    if in_homes && second.is_some() && !deeper {
        return PathClass::Home;
    }
    if first == Some("dev") {
        let dev = second.unwrap_or("");
        let block = [
            "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "disk", "rdisk", "md", "mapper", "loop",
            "dm-", "sr", "nbd",
        ];
        if block.iter().any(|b| dev.starts_with(b)) {
            return PathClass::Device;
        }
    }
    if first == Some("tmp") || s.starts_with("/var/tmp") || s.starts_with("/private/tmp") {
        return PathClass::Tmp;
    }
    let project_scoped = project != "/"
        && project != home
        && !SYSTEM.contains(&project)
        && project.split('/').filter(|c| !c.is_empty()).count() > 1;
    if project_scoped && under(s, project) {
        if s == project {
            return PathClass::Cwd;
        }
        let rel = &s[project.len()..];
        if rel
            .split('/')
            .any(|n| ARTIFACTS.contains(&n) || n.ends_with(".egg-info"))
        {
            return PathClass::Artifact;
        }
        return PathClass::Project;
    }
    if relative && project_scoped {
        return PathClass::Parent;
    }
    if under(s, home) || (in_homes && deeper) || first == Some("root") {
        return PathClass::HomeSub;
    }
    if SYSTEM.iter().any(|d| under(s, d)) {
        return PathClass::System;
    }
    PathClass::Outside
}

/// The value of an option in `args`: `--opt value`, `--opt=value`, `-ovalue` (short options).
pub fn option_value<'w>(args: &'w [Word], names: &[String]) -> Option<&'w Word> {
    for (i, w) in args.iter().enumerate() {
        let t = w.text.as_str();
        if t == "--" {
            return None;
        }
        for n in names {
            if t == n {
                return args.get(i + 1);
            }
        }
    }
    None
}

/// Like [`option_value`] but also finds `--opt=value` and attached short values; returns text.
pub fn option_text(args: &[Word], names: &[String]) -> Option<(String, bool)> {
    if let Some(w) = option_value(args, names) {
        return Some((w.expanded().to_string(), w.dynamic));
    }
    for w in args {
        let t = w.expanded();
        if w.text == "--" {
            break;
        }
        for n in names {
            if let Some(v) = t.strip_prefix(n.as_str()) {
                if let Some(v) = v.strip_prefix('=') {
                    return Some((v.to_string(), w.dynamic));
                }
                if n.len() == 2 && !n.starts_with("--") && !v.is_empty() {
                    return Some((v.to_string(), w.dynamic));
                }
            }
        }
    }
    None
}

/// A database endpoint found in a URL: host, port and database name (never the password).
pub fn parse_db_url(url: &str) -> Option<(String, Option<String>)> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
    {
        return None;
    }
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = host_port
        .strip_prefix('[')
        .and_then(|h| h.split(']').next())
        .unwrap_or_else(|| host_port.split(':').next().unwrap_or(host_port));
    let db = (!path.is_empty()).then(|| path.to_string());
    (!host.is_empty()).then(|| (host.to_string(), db))
}

/// Name-based tier fallback used only when [`context::classify`] has no opinion (`Unknown`):
/// obvious development names (`kind-`, `minikube`, `localhost`, `-dev`) and production names.
pub fn name_hint(value: &str) -> Option<(Tier, String)> {
    let v = value.to_ascii_lowercase();
    let words: Vec<&str> = v
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|x| !x.is_empty())
        .collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    if has(&["prod", "production", "prd", "live"]) || v.contains("prod") {
        return Some((Tier::Production, format!("name `{value}` says production")));
    }
    if has(&["staging", "stage", "stg", "preprod", "uat"]) {
        return Some((Tier::Staging, format!("name `{value}` says staging")));
    }
    if has(&[
        "dev",
        "development",
        "local",
        "localhost",
        "kind",
        "minikube",
        "sandbox",
        "test",
        "scratch",
        "docker",
        "desktop",
        "k3d",
        "playground",
    ]) || v == "127.0.0.1"
        || v == "::1"
    {
        return Some((
            Tier::Development,
            format!("name `{value}` says development"),
        ));
    }
    None
}

/// Classifies values of a kind: the context's classifier first, the name fallback second.
pub fn classify(kind: FactKind, values: &[&str], env: &EvalEnv<'_>) -> (Tier, String) {
    let v = context::classify(kind, values, env.knowledge);
    if v.tier != Tier::Unknown {
        return (v.tier, v.reason);
    }
    values
        .iter()
        .filter_map(|x| name_hint(x))
        .max_by_key(|(t, _)| *t)
        .unwrap_or((Tier::Unknown, v.reason))
}

/// Which protected git branches a push to `name` touches.
fn git_branch_tier(name: &str) -> (Tier, String) {
    let n = name.trim_start_matches("refs/heads/");
    let protected = matches!(
        n,
        "main"
            | "master"
            | "trunk"
            | "develop"
            | "production"
            | "prod"
            | "live"
            | "stable"
            | "gh-pages"
    ) || n.starts_with("release")
        || n.starts_with("prod")
        || n.starts_with("hotfix/");
    if protected {
        (
            Tier::Production,
            format!("`{n}` is a protected branch name"),
        )
    } else {
        (
            Tier::Development,
            format!("`{n}` is not a protected branch name"),
        )
    }
}

fn fact_target(f: &Fact, reason_prefix: &str) -> Target {
    Target {
        kind: Some(f.kind),
        name: f.name.clone(),
        details: f.details.clone(),
        tier: f.tier,
        reason: if reason_prefix.is_empty() {
            f.reason.clone()
        } else {
            format!("{reason_prefix}; {}", f.reason)
        },
    }
}

fn unknown(kind: FactKind, what: &str) -> Target {
    Target {
        kind: Some(kind),
        name: format!("unknown {what}"),
        details: BTreeMap::new(),
        tier: Tier::Unknown,
        reason: format!("no {what} detected"),
    }
}

/// The ambient fact of a kind (the most severe when there are several).
fn ambient(kind: FactKind, env: &EvalEnv<'_>) -> Option<Fact> {
    env.ambient()
        .facts
        .iter()
        .filter(|f| f.kind == kind)
        .max_by_key(|f| f.tier)
        .cloned()
}

/// Resolves the target of one invocation. `positional` are the invocation's positional words
/// (as computed by the matcher with the program's option spec).
pub fn resolve(
    inv: &Invocation,
    spec: Option<&ProgramSpec>,
    positional: &[&Word],
    env: &EvalEnv<'_>,
) -> Target {
    if let Some(host) = &inv.remote {
        let (tier, reason) = classify(FactKind::Ssh, &[host], env);
        return Target {
            kind: Some(FactKind::Ssh),
            name: host.clone(),
            details: BTreeMap::new(),
            tier,
            reason: format!("runs on {host} over ssh: {reason}"),
        };
    }
    let Some(spec) = spec else { return local() };
    let Some(kind) = spec.kind else {
        return local();
    };
    let args = inv.args();
    let t = &spec.target;
    let env_var = |names: &[&str]| -> Option<String> {
        inv.env
            .iter()
            .rev()
            .find(|(k, _)| {
                names.contains(&k.as_str()) || t.env.iter().any(|e| e == k && names.is_empty())
            })
            .map(|(_, w)| w.expanded().to_string())
    };
    match kind {
        FactKind::Kube
        | FactKind::Aws
        | FactKind::Gcloud
        | FactKind::Terraform
        | FactKind::Docker
        | FactKind::Azure
        | FactKind::Pulumi => {
            let mut ov = Overrides::default();
            let mut said = Vec::new();
            let mut details = BTreeMap::new();
            let set = |slot: &mut Option<String>,
                       val: Option<(String, bool)>,
                       what: &str,
                       said: &mut Vec<String>| {
                if let Some((v, _)) = val {
                    said.push(format!("{what} {v}"));
                    *slot = Some(v);
                }
            };
            set(
                &mut ov.kube_context,
                option_text(args, &t.context),
                "--context",
                &mut said,
            );
            set(
                &mut ov.kubeconfig,
                option_text(args, &t.kubeconfig)
                    .or_else(|| env_var(&["KUBECONFIG"]).map(|v| (v, false))),
                "kubeconfig",
                &mut said,
            );
            if let Some((ns, _)) = option_text(args, &t.namespace) {
                ov.kube_namespace = Some(ns.clone());
                details.insert("namespace".to_string(), ns);
            }
            set(
                &mut ov.aws_profile,
                option_text(args, &t.profile).or_else(|| {
                    env_var(&["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]).map(|v| (v, false))
                }),
                "profile",
                &mut said,
            );
            set(
                &mut ov.gcloud_project,
                option_text(args, &t.project).or_else(|| {
                    env_var(&["CLOUDSDK_CORE_PROJECT", "GOOGLE_CLOUD_PROJECT"]).map(|v| (v, false))
                }),
                "project",
                &mut said,
            );
            set(
                &mut ov.tf_workspace,
                option_text(args, &t.workspace)
                    .or_else(|| env_var(&["TF_WORKSPACE"]).map(|v| (v, false))),
                "workspace",
                &mut said,
            );
            set(
                &mut ov.tf_chdir,
                option_text(args, &t.chdir),
                "-chdir",
                &mut said,
            );
            set(
                &mut ov.docker_host,
                option_text(args, &t.host)
                    .or_else(|| env_var(&["DOCKER_HOST", "DOCKER_CONTEXT"]).map(|v| (v, false))),
                "docker host",
                &mut said,
            );
            // Pulumi/Azure stacks and subscriptions are named by `--stack`/`--subscription`.
            let named = if matches!(kind, FactKind::Pulumi | FactKind::Azure) {
                option_text(args, &t.environment).or_else(|| option_text(args, &t.project))
            } else {
                None
            };
            if said.is_empty() && named.is_none() {
                return match ambient(kind, env) {
                    Some(f) => {
                        let mut tg = fact_target(&f, "");
                        tg.details.extend(details);
                        tg
                    }
                    None => unknown(kind, kind_word(kind)),
                };
            }
            // Only `kind`'s facts are read below, so only its probe runs.
            let detected = context::detect_kinds(env.probe, env.knowledge, &ov, &[kind]);
            let value = ov
                .kube_context
                .clone()
                .or(ov.aws_profile.clone())
                .or(ov.gcloud_project.clone())
                .or(ov.tf_workspace.clone())
                .or(ov.docker_host.clone())
                .or(named.map(|n| n.0));
            let fact = detected
                .facts
                .iter()
                .filter(|f| f.kind == kind)
                .max_by_key(|f| f.tier)
                .cloned();
            let why = format!("the command says {}", said.join(", "));
            let mut tg = match (fact, value) {
                (Some(f), Some(v)) if f.name == v || f.details.values().any(|d| d == &v) => {
                    fact_target(&f, &why)
                }
                (_, Some(v)) => {
                    let (tier, reason) = classify(kind, &[&v], env);
                    Target {
                        kind: Some(kind),
                        name: v,
                        details: BTreeMap::new(),
                        tier,
                        reason: format!("{why}; {reason}"),
                    }
                }
                (Some(f), None) => fact_target(&f, &why),
                (None, None) => {
                    // Only a kubeconfig or -chdir was given and nothing was detected from it.
                    let mut u = unknown(kind, kind_word(kind));
                    u.reason = format!("{why}; nothing detected from it");
                    u
                }
            };
            tg.details.extend(details);
            tg
        }
        FactKind::Database => database(inv, spec, positional, env),
        FactKind::Service | FactKind::Custom => match option_text(args, &t.environment) {
            Some((v, dynamic)) if !dynamic => {
                let (tier, reason) = classify(FactKind::Service, &[&v], env);
                Target {
                    kind: Some(FactKind::Service),
                    name: v.clone(),
                    details: BTreeMap::new(),
                    tier,
                    reason: format!("the command names environment {v}: {reason}"),
                }
            }
            Some(_) => unknown(FactKind::Service, "environment (computed at run time)"),
            None => ambient(FactKind::Service, env)
                .map(|f| fact_target(&f, ""))
                .unwrap_or_else(|| unknown(FactKind::Service, "environment")),
        },
        FactKind::Git => git(inv, positional, env),
        FactKind::Ssh => {
            let host = positional
                .first()
                .map(|w| w.text.rsplit('@').next().unwrap_or(&w.text).to_string());
            match host {
                Some(h) => {
                    let (tier, reason) = classify(FactKind::Ssh, &[&h], env);
                    Target {
                        kind: Some(FactKind::Ssh),
                        name: h,
                        details: BTreeMap::new(),
                        tier,
                        reason,
                    }
                }
                None => unknown(FactKind::Ssh, "host"),
            }
        }
    }
}

fn kind_word(kind: FactKind) -> &'static str {
    match kind {
        FactKind::Kube => "kube context",
        FactKind::Aws => "AWS profile",
        FactKind::Gcloud => "gcloud project",
        FactKind::Azure => "Azure subscription",
        FactKind::Terraform => "terraform workspace",
        FactKind::Pulumi => "pulumi stack",
        FactKind::Docker => "docker host",
        FactKind::Git => "git branch",
        FactKind::Ssh => "ssh host",
        FactKind::Database => "database",
        FactKind::Service => "service",
        FactKind::Custom => "target",
    }
}

fn local() -> Target {
    Target {
        kind: None,
        name: "this machine".into(),
        details: BTreeMap::new(),
        tier: Tier::Development,
        reason: "runs on this machine".into(),
    }
}

fn database(
    inv: &Invocation,
    spec: &ProgramSpec,
    positional: &[&Word],
    env: &EvalEnv<'_>,
) -> Target {
    let t = &spec.target;
    let args = inv.args();
    let mut host = None;
    let mut db = None;
    let mut source = String::new();
    // A URL anywhere in the arguments (possibly from `$DATABASE_URL`).
    for w in args {
        if let Some((h, d)) = parse_db_url(w.expanded()) {
            source = if w.env_text.is_some() {
                format!("{} in the arguments", w.text)
            } else {
                "a URL in the arguments".into()
            };
            host = Some(h);
            db = d;
            break;
        }
    }
    if host.is_none()
        && let Some((h, _)) = option_text(args, &t.host)
    {
        source = "the host option".into();
        host = Some(h);
    }
    if db.is_none() {
        db = option_text(args, &t.database).map(|x| x.0);
        if db.is_none() && t.positional {
            db = positional
                .first()
                .filter(|w| !w.dynamic && !w.text.starts_with('$'))
                .map(|w| w.expanded().to_string());
        }
    }
    if host.is_none() {
        for (k, w) in inv.env.iter().rev() {
            if t.env.iter().any(|e| e == k) || k.ends_with("DATABASE_URL") {
                if let Some((h, d)) = parse_db_url(w.expanded()) {
                    source = format!("{k}= on the command");
                    host = Some(h);
                    db = db.or(d);
                    break;
                }
                if k.ends_with("HOST") {
                    source = format!("{k}= on the command");
                    host = Some(w.expanded().to_string());
                    break;
                }
            }
        }
    }
    if host.is_none() && db.is_none() {
        // Fall back to the agent's env (DATABASE_URL-style variables) and then ambient facts.
        if let Some(envmap) = Some(&env.probe.env) {
            for name in t.env.iter().map(String::as_str) {
                if let Some(v) = envmap.get(name)
                    && let Some((h, d)) = parse_db_url(v)
                {
                    source = format!("${name} in the agent's environment");
                    host = Some(h);
                    db = d;
                    break;
                }
            }
        }
    }
    if host.is_none() {
        // No host on the command: the ambient database (a named database lives there).
        let Some(f) = ambient(FactKind::Database, env) else {
            if db.is_none() {
                return unknown(FactKind::Database, "database");
            }
            let d = db.unwrap_or_default();
            let (tier, reason) = classify(FactKind::Database, &[&d], env);
            let mut details = BTreeMap::new();
            details.insert("database".to_string(), d.clone());
            return Target {
                kind: Some(FactKind::Database),
                name: d,
                details,
                tier,
                reason,
            };
        };
        let mut tg = fact_target(&f, "");
        if let Some(d) = db {
            let (tier, reason) = classify(FactKind::Database, &[&d], env);
            if tier > tg.tier && tier != Tier::Unknown {
                tg.tier = tier;
                tg.reason = format!("database {d}: {reason}");
            }
            tg.details.insert("database".to_string(), d);
        }
        return tg;
    }
    let mut values: Vec<&str> = Vec::new();
    if let Some(h) = &host {
        values.push(h);
    }
    if let Some(d) = &db {
        values.push(d);
    }
    let (tier, reason) = classify(FactKind::Database, &values, env);
    let mut details = BTreeMap::new();
    if let Some(d) = &db {
        details.insert("database".to_string(), d.clone());
    }
    let name = host.clone().or(db.clone()).unwrap_or_default();
    if let Some(h) = &host {
        details.insert("host".to_string(), h.clone());
    }
    Target {
        kind: Some(FactKind::Database),
        name,
        details,
        tier,
        reason: if source.is_empty() {
            reason
        } else {
            format!("from {source}: {reason}")
        },
    }
}

/// The branch a git command updates: the push refspec's destination, or the current branch.
fn git(inv: &Invocation, positional: &[&Word], env: &EvalEnv<'_>) -> Target {
    let sub = positional.first().map(|w| w.text.as_str()).unwrap_or("");
    let current = || -> Option<String> {
        let retargeted = inv.args().iter().any(|w| {
            matches!(w.text.as_str(), "-C" | "--git-dir" | "--work-tree")
                || w.text.starts_with("--git-dir=")
                || w.text.starts_with("--work-tree=")
        });
        if retargeted || !matches!(inv.cwd, Cwd::Ambient) {
            return None;
        }
        ambient(FactKind::Git, env).map(|f| f.details.get("branch").cloned().unwrap_or(f.name))
    };
    let mut branches: Vec<String> = Vec::new();
    let mut all = false;
    if sub == "push" {
        all = inv.args().iter().any(|w| {
            let t = w.text.as_str();
            t == "--all"
                || t == "--branches"
                || (t.starts_with("--mi") && "--mirror".starts_with(t))
        });
        for w in positional.iter().skip(2) {
            if w.dynamic {
                branches.push(String::new());
                continue;
            }
            let spec = w.text.trim_start_matches('+');
            let dst = spec.rsplit_once(':').map_or(spec, |(_, d)| d);
            let dst = if dst == "HEAD" || dst.is_empty() && !spec.starts_with(':') {
                current().unwrap_or_default()
            } else {
                dst.to_string()
            };
            branches.push(dst.trim_start_matches("refs/heads/").to_string());
        }
        if branches.is_empty() && !all {
            branches.push(current().unwrap_or_default());
        }
    } else {
        branches.push(current().unwrap_or_default());
    }
    if all {
        return Target {
            kind: Some(FactKind::Git),
            name: "all branches".into(),
            details: BTreeMap::new(),
            tier: Tier::Production,
            reason: "pushes every branch, protected ones included".into(),
        };
    }
    let mut best: Option<Target> = None;
    for b in branches {
        let (tier, reason) = if b.is_empty() {
            (Tier::Unknown, "the branch cannot be determined".to_string())
        } else {
            git_branch_tier(&b)
        };
        let t = Target {
            kind: Some(FactKind::Git),
            name: if b.is_empty() {
                "unknown branch".into()
            } else {
                b
            },
            details: BTreeMap::new(),
            tier,
            reason,
        };
        if best.as_ref().is_none_or(|x| t.tier > x.tier) {
            best = Some(t);
        }
    }
    best.unwrap_or_else(|| unknown(FactKind::Git, "git branch"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(text: &str) -> PathClass {
        path_class(
            &Word::lit(text, 0..0),
            &Cwd::Ambient,
            Path::new("/home/alice"),
            Path::new("/home/alice/proj"),
        )
    }

    #[test]
    fn path_classes() {
        assert_eq!(class("/"), PathClass::Root);
        assert_eq!(class("/*"), PathClass::Root);
        assert_eq!(class("~"), PathClass::Home);
        assert_eq!(class("~/"), PathClass::Home);
        assert_eq!(class("/home/alice"), PathClass::Home);
        assert_eq!(class("~/work"), PathClass::HomeSub);
        assert_eq!(class("/tmp/../home/alice"), PathClass::Home);
        assert_eq!(class("/srv/app"), PathClass::System);
        assert_eq!(class("/dev/sda"), PathClass::Device);
        assert_eq!(class("/tmp/build-1"), PathClass::Tmp);
        assert_eq!(class("./node_modules"), PathClass::Artifact);
        assert_eq!(class("./src"), PathClass::Project);
        assert_eq!(class("."), PathClass::Cwd);
        assert_eq!(class("*"), PathClass::Cwd);
        assert_eq!(class("../other"), PathClass::Parent);
        let srv = Cwd::Path("/srv".into());
        assert_eq!(
            path_class(
                &Word::lit("app", 0..0),
                &srv,
                Path::new("/home/a"),
                Path::new("/home/a/p")
            ),
            PathClass::System
        );
    }

    #[test]
    fn unnormalised_home_and_cwd_classify_the_same() {
        // A cwd or $HOME with a trailing slash, `//` or `.` components names the same place.
        let class_in = |arg: &str, home: &str, cwd: &str| {
            path_class(
                &Word::lit(arg, 0..0),
                &Cwd::Ambient,
                Path::new(home),
                Path::new(cwd),
            )
        };
        for (home, cwd) in [
            ("/home/alice/", "/home/alice/proj/"),
            ("/home//alice", "/home/alice/./proj"),
            ("/home/alice/x/..", "/home/alice/proj/src/.."),
        ] {
            assert_eq!(
                class_in("./src", home, cwd),
                PathClass::Project,
                "{home} {cwd}"
            );
            assert_eq!(class_in(".", home, cwd), PathClass::Cwd, "{home} {cwd}");
            assert_eq!(class_in("./target", home, cwd), PathClass::Artifact);
            assert_eq!(class_in("~", home, cwd), PathClass::Home);
            assert_eq!(class_in("~/other", home, cwd), PathClass::HomeSub);
            assert_eq!(class_in("../other", home, cwd), PathClass::Parent);
        }
        // Whole components only: /srvx is not under /srv, /home/alicex is not under $HOME.
        assert!(under("/srv/app", "/srv") && under("/srv", "/srv") && under("/x", "/"));
        assert!(!under("/srvx", "/srv") && !under("/home/alicex", "/home/alice"));
        assert_eq!(normal(Path::new("/a/b/../c/./")), "/a/c");
        assert_eq!(normal(Path::new("/..")), "/");
    }

    #[test]
    fn db_urls_never_keep_passwords() {
        assert_eq!(
            parse_db_url("postgres://u:secret@prod-db:5432/app?sslmode=require"),
            Some(("prod-db".into(), Some("app".into())))
        );
        assert_eq!(
            parse_db_url("postgres://prod-db/app"),
            Some(("prod-db".into(), Some("app".into())))
        );
        assert_eq!(parse_db_url("not a url"), None);
    }

    #[test]
    fn name_hints() {
        assert_eq!(name_hint("kind-dev").map(|x| x.0), Some(Tier::Development));
        assert_eq!(name_hint("prod-eu").map(|x| x.0), Some(Tier::Production));
        assert_eq!(name_hint("payments"), None);
    }
}
