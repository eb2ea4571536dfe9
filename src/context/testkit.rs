//! Test fixtures: machines in temp dirs shaped like production, staging, development and broken
//! setups, with planted secrets that must never show up in any output. Compiled for tests, and
//! included by `benches/context.rs` (so it only uses `super::{Context, Knowledge, ProbeEnv,
//! detect}`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{Context, Knowledge, ProbeEnv, detect};

/// Secret values planted by [`prod_home`]; no output may contain any of them.
pub const SECRETS: &[&str] = &[
    "Sup3rS3cretDbPass",
    "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY",
    "ghp_PLANTEDplantedPLANTEDplanted012345",
    "sk-ant-api03-PLANTEDsecretPLANTEDsecret",
    "hvs.PLANTEDvaultTOKEN",
    "dotenvPLANTEDstripe",
    "kubeTOKENplanted",
    "ssoACCESSplanted",
    "redisPLANTEDpw",
    "gitREMOTEtokenPLANTED",
    "tfBACKENDaccessKEYplanted",
    "-----BEGIN PRIVATE KEY-----PLANTED",
];

/// A home and a working directory under one temp dir, plus an env map.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub input: ProbeEnv,
}

impl Fixture {
    /// An empty home (`<tmp>/home`) and workspace (`<tmp>/home/work`), empty env.
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = dir.path().join("home");
        let cwd = home.join("work");
        std::fs::create_dir_all(&cwd).expect("create fixture dirs");
        Fixture {
            dir,
            input: ProbeEnv {
                home,
                cwd,
                env: BTreeMap::new(),
            },
        }
    }

    /// Writes a file under home (parents created) and returns its path.
    pub fn home_file(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.input.home.join(rel);
        write(&path, text);
        path
    }

    /// Writes a file under the workspace and returns its path.
    pub fn work_file(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.input.cwd.join(rel);
        write(&path, text);
        path
    }

    /// Sets an env var.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Fixture {
        self.input.env.insert(key.to_string(), value.to_string());
        self
    }

    /// Detects with no team knowledge.
    pub fn detect(&self) -> Context {
        detect(&self.input, &Knowledge::default())
    }
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture::new()
    }
}

/// SHA-1 hex, as the AWS SSO cache and Pulumi workspaces name their files.
pub fn sha1_hex(bytes: &[u8]) -> String {
    let mut h = gix::hash::hasher(gix::hash::Kind::Sha1);
    h.update(bytes);
    h.try_finalize().expect("sha1").to_hex().to_string()
}

fn write(path: &std::path::Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent");
    }
    std::fs::write(path, text).expect("write fixture file");
}

/// A kubeconfig with the given current context; contexts `prod-eu`, `staging-eu`, `kind-kind`.
pub fn kubeconfig(current: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Config
current-context: {current}
clusters:
- name: eks-prod-eu
  cluster:
    server: https://ABC123.gr7.eu-west-1.eks.amazonaws.com
    certificate-authority-data: LS0tLS1CRUdJTg==
- name: eks-staging-eu
  cluster:
    server: https://DEF456.gr7.eu-west-1.eks.amazonaws.com
- name: kind-kind
  cluster:
    server: https://127.0.0.1:40123
contexts:
- name: prod-eu
  context:
    cluster: eks-prod-eu
    user: admin@prod
    namespace: payments
- name: staging-eu
  context:
    cluster: eks-staging-eu
    user: admin@staging
- name: kind-kind
  context:
    cluster: kind-kind
    user: kind-kind
users:
- name: admin@prod
  user:
    token: kubeTOKENplanted
- name: admin@staging
  user:
    token: kubeTOKENplanted
- name: kind-kind
  user:
    client-key-data: kubeTOKENplanted
"#
    )
}

/// A realistic production-shaped machine: kube context `prod-eu`, AWS SSO profile `prod`
/// (account 123456789012), gcloud project `shop-prod`, Azure subscription, terraform workspace
/// `prod` with an S3 backend, git on `main` in a linked worktree, a remote docker context, a
/// production `DATABASE_URL`, Vault, and secrets planted in env, files and URLs ([`SECRETS`]).
pub fn prod_home() -> Fixture {
    let mut f = Fixture::new();
    f.home_file(".kube/config", &kubeconfig("prod-eu"));
    f.home_file(
        ".aws/config",
        "[default]\nregion = us-east-1\n\n[profile prod]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = AdministratorAccess\nregion = eu-west-1\n\n[profile staging]\nrole_arn = arn:aws:iam::210987654321:role/Deploy\nsource_profile = default\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    );
    f.home_file(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY\n",
    );
    let sso_hash = sha1_hex(b"corp");
    f.home_file(
        &format!(".aws/sso/cache/{sso_hash}.json"),
        r#"{"accessToken": "ssoACCESSplanted", "expiresAt": "2099-01-01T00:00:00Z", "region": "eu-west-1"}"#,
    );
    f.home_file(".config/gcloud/active_config", "prod\n");
    f.home_file(
        ".config/gcloud/configurations/config_prod",
        "[core]\naccount = ops@shop.example\nproject = shop-prod\n\n[compute]\nregion = europe-west1\n",
    );
    f.home_file(
        ".azure/azureProfile.json",
        "\u{feff}{\"installationId\": \"x\", \"subscriptions\": [{\"id\": \"0000-1111\", \"name\": \"Payments-Production\", \"isDefault\": true, \"tenantId\": \"tttt\", \"user\": {\"name\": \"ops@shop.example\", \"type\": \"user\"}}, {\"id\": \"2222\", \"name\": \"Sandbox\", \"isDefault\": false}]}",
    );
    f.work_file("main.tf", "terraform {}\n");
    f.work_file(".terraform/environment", "prod");
    f.work_file(
        ".terraform/terraform.tfstate",
        r#"{"version": 3, "backend": {"type": "s3", "config": {"bucket": "shop-tfstate-prod", "key": "network/terraform.tfstate", "region": "eu-west-1", "access_key": "tfBACKENDaccessKEYplanted"}}}"#,
    );
    // A linked worktree: `.git` file → gitdir with commondir → shared repo config.
    let repo = f.input.home.join("src/shop/.git");
    write(&repo.join("worktrees/work/HEAD"), "ref: refs/heads/main\n");
    write(&repo.join("worktrees/work/commondir"), "../..\n");
    write(
        &repo.join("config"),
        "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://bot:gitREMOTEtokenPLANTED@github.com/shop/infra.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n",
    );
    f.work_file(
        ".git",
        &format!("gitdir: {}\n", repo.join("worktrees/work").display()),
    );
    f.home_file(
        ".docker/config.json",
        r#"{"auths": {"ghcr.io": {"auth": "ZG90ZW52"}}, "currentContext": "prod-swarm"}"#,
    );
    let meta = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"prod-swarm"));
    f.home_file(
        &format!(".docker/contexts/meta/{meta}/meta.json"),
        r#"{"Name": "prod-swarm", "Endpoints": {"docker": {"Host": "ssh://deploy@swarm.prod.shop.example"}}}"#,
    );
    f.work_file(
        ".env.production",
        "STRIPE_SECRET_KEY=dotenvPLANTEDstripe\nPORT=8080\n",
    );
    f.env("AWS_PROFILE", "prod")
        .env("KUBECONFIG", "")
        .env(
            "DATABASE_URL",
            "postgres://app:Sup3rS3cretDbPass@orders.prod.db.internal:5432/orders",
        )
        .env("REDIS_URL", "redis://:redisPLANTEDpw@cache.internal:6379/0")
        .env("GITHUB_TOKEN", "ghp_PLANTEDplantedPLANTEDplanted012345")
        .env(
            "ANTHROPIC_API_KEY",
            "sk-ant-api03-PLANTEDsecretPLANTEDsecret",
        )
        .env("VAULT_ADDR", "https://vault.prod.shop.example:8200")
        .env("VAULT_TOKEN", "hvs.PLANTEDvaultTOKEN")
        .env("DEPLOY_KEY_PEM", "-----BEGIN PRIVATE KEY-----PLANTED")
        .env("SSH_CONNECTION", "10.0.0.2 51000 10.0.9.9 22")
        .env("HOSTNAME", "bastion-prod-1");
    f
}
