//! `overwatch demo`: a throw-away, realistic production-shaped environment in a temp dir and the
//! scripted demo agent (`demo/agent.sh`) that runs in it under the real supervisor.
//!
//! **Invariant:** nothing outside the temp dir is read or written for the fake environment: the
//! agent's HOME, workspace, git remote and stand-in programs all live under it. (overwatch's own
//! recording goes to its usual sessions dir, so `overwatch replay` works after the demo.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The demo agent script, embedded.
pub const AGENT_SCRIPT: &str = include_str!("../demo/agent.sh");
const STANDIN: &str = include_str!("../demo/bin/standin");
/// The demo team's rule pack (tier pins, the flag-provider probe).
pub const TEAM_PACK: &str = include_str!("../demo/rules/acme.toml");
const KUBECONFIG: &str = include_str!("../demo/home/kubeconfig.yaml");
const AWS_CONFIG: &str = include_str!("../demo/home/aws-config");
const AWS_CREDENTIALS: &str = include_str!("../demo/home/aws-credentials");
const WORKSPACE: &[(&str, &str)] = &[
    ("checkout.py", include_str!("../demo/workspace/checkout.py")),
    (
        "test_checkout.py",
        include_str!("../demo/workspace/test_checkout.py"),
    ),
    ("flags.toml", include_str!("../demo/workspace/flags.toml")),
    ("main.tf", include_str!("../demo/workspace/main.tf")),
];
/// Programs the demo provides as stand-ins (they cannot reach a fake production offline).
pub const STANDINS: &[&str] = &["kubectl", "terraform", "psql", "ldcli", "aws"];

/// Planted credentials: realistic formats so redaction and credential detection have work to do.
/// None of them is real.
const DOTENV: &str = "# staging secrets (demo: planted, not real)\n\
STRIPE_SECRET_KEY=sk_live_51DemoOverwatchPlantedKey00000000\n\
GITHUB_TOKEN=ghp_DemoOverwatchPlantedToken000000000000\n\
DATABASE_URL=postgres://shop_app:S3cr3t-demo-pw@prod-db.acme.internal:5432/shop\n";

/// The demo's environment on disk. Dropping it removes the temp dir unless it was kept.
#[derive(Debug)]
pub struct DemoEnv {
    root: Option<tempfile::TempDir>,
    kept_root: PathBuf,
    /// The agent's HOME (kubeconfig, AWS config).
    pub home: PathBuf,
    /// The agent's working directory: a git repo with `origin` = a local bare repo.
    pub workspace: PathBuf,
    /// Stand-in programs, first on the agent's PATH.
    pub bin: PathBuf,
    /// The demo agent script.
    pub agent_script: PathBuf,
    /// The team rule pack to load (`--rules`).
    pub team_pack: PathBuf,
    /// Environment variables to set for the agent (HOME, PATH, AWS_PROFILE, DATABASE_URL, …).
    pub env: BTreeMap<String, String>,
}

impl DemoEnv {
    /// Builds the environment under a new temp dir. `git` must be installed (the demo's repo and
    /// remote are real git repositories).
    pub fn create() -> anyhow::Result<DemoEnv> {
        let root = tempfile::Builder::new()
            .prefix("overwatch-demo-")
            .tempdir()
            .context("creating the demo's temp dir")?;
        let base = root.path().to_path_buf();
        let home = base.join("home");
        let workspace = base.join("shop");
        let bin = base.join("bin");
        for dir in [
            home.join(".kube"),
            home.join(".aws"),
            workspace.join(".terraform"),
            bin.clone(),
        ] {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        write(&home.join(".kube/config"), KUBECONFIG)?;
        write(&home.join(".aws/config"), AWS_CONFIG)?;
        write(&home.join(".aws/credentials"), AWS_CREDENTIALS)?;
        for (name, text) in WORKSPACE {
            write(&workspace.join(name), text)?;
        }
        write(&workspace.join(".terraform/environment"), "prod")?;
        write(&workspace.join(".gitignore"), ".terraform/\n__pycache__/\n")?;
        let team_pack = base.join("acme-rules.toml");
        write(&team_pack, TEAM_PACK)?;
        let agent_script = base.join("agent.sh");
        write(&agent_script, AGENT_SCRIPT)?;
        make_executable(&agent_script)?;
        let standin = bin.join("standin");
        write(&standin, STANDIN)?;
        make_executable(&standin)?;
        for name in STANDINS {
            std::os::unix::fs::symlink(&standin, bin.join(name))
                .with_context(|| format!("creating the {name} stand-in"))?;
        }
        init_repo(&base, &workspace)?;
        // The planted .env is created after the commit: it is the kind of file an agent edits.
        write(&workspace.join(".env"), DOTENV)?;

        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/local/bin:/usr/bin:/bin".into());
        let mut env = BTreeMap::new();
        env.insert("HOME".into(), home.display().to_string());
        env.insert("PATH".into(), format!("{}:{path}", bin.display()));
        env.insert("AWS_PROFILE".into(), "prod-admin".into());
        env.insert(
            "DATABASE_URL".into(),
            "postgres://shop_app:S3cr3t-demo-pw@prod-db.acme.internal:5432/shop".into(),
        );
        env.insert("GIT_CONFIG_NOSYSTEM".into(), "1".into());
        env.insert("DEMO_PAUSE".into(), "1.2".into());
        Ok(DemoEnv {
            kept_root: base,
            root: Some(root),
            home,
            workspace,
            bin,
            agent_script,
            team_pack,
            env,
        })
    }

    /// The temp dir holding everything.
    pub fn root(&self) -> &Path {
        &self.kept_root
    }

    /// Keeps the temp dir after exit (`--keep`).
    pub fn keep(&mut self) {
        if let Some(dir) = self.root.take() {
            let _ = dir.keep();
        }
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

/// `git init` the workspace with one commit on `main`, and a bare `origin` that has `main`.
fn init_repo(base: &Path, workspace: &Path) -> anyhow::Result<()> {
    let origin = base.join("origin.git");
    let git = |dir: &Path, args: &[&str]| -> anyhow::Result<()> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", base.join("home"))
            .env("GIT_AUTHOR_NAME", "Dana Developer")
            .env("GIT_AUTHOR_EMAIL", "dana@acme.example")
            .env("GIT_COMMITTER_NAME", "Dana Developer")
            .env("GIT_COMMITTER_EMAIL", "dana@acme.example")
            .output()
            .with_context(|| format!("running git {} (is git installed?)", args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    };
    git(
        base,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            &origin.display().to_string(),
        ],
    )?;
    git(workspace, &["init", "-q", "-b", "main"])?;
    git(workspace, &["add", "-A"])?;
    git(workspace, &["commit", "-q", "-m", "checkout service"])?;
    git(
        workspace,
        &["remote", "add", "origin", &origin.display().to_string()],
    )?;
    git(workspace, &["push", "-q", "origin", "main"])?;
    git(
        workspace,
        &[
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "wip: local work not on origin",
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_production_shaped_environment_and_removes_it() {
        let env = DemoEnv::create().unwrap();
        let root = env.root().to_path_buf();
        assert!(env.home.join(".kube/config").is_file());
        assert!(
            std::fs::read_to_string(env.home.join(".kube/config"))
                .unwrap()
                .contains("current-context: prod-eu")
        );
        assert_eq!(
            std::fs::read_to_string(env.workspace.join(".terraform/environment")).unwrap(),
            "prod"
        );
        assert!(env.workspace.join(".git").is_dir() && root.join("origin.git/HEAD").is_file());
        for name in STANDINS {
            assert!(env.bin.join(name).exists(), "{name} stand-in missing");
        }
        let out = Command::new(env.bin.join("kubectl"))
            .args(["delete", "ns", "x"])
            .output()
            .unwrap();
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("would now run: kubectl delete ns x")
        );
        assert!(env.env["PATH"].starts_with(&env.bin.display().to_string()));
        drop(env);
        assert!(!root.exists(), "the temp dir must be removed unless kept");
    }

    #[test]
    fn keep_leaves_the_directory() {
        let mut env = DemoEnv::create().unwrap();
        env.keep();
        let root = env.root().to_path_buf();
        drop(env);
        assert!(root.exists());
        std::fs::remove_dir_all(root).unwrap();
    }
}
