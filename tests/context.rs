//! Context detection end to end: every probe on fixture homes (production, staging, development,
//! broken), tier pins, overrides, the `overwatch env` JSON schema and table, secret safety, and
//! the change watcher on a real file system.
//!
//! The context module has no `crate::` dependencies, so it is compiled into this test directly;
//! `overwatch env` itself is run as the real binary with a cleared environment.

#[path = "../src"]
mod src {
    pub mod context;
}

use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

use src::context::testkit::{Fixture, SECRETS, kubeconfig, prod_home};
use src::context::watch::ContextWatcher;
use src::context::{
    Context, CustomProbe, FactKind, Knowledge, Overrides, Tier, TierPin, detect, detect_with,
    resolve_overrides, scrub_plan,
};

/// Asserts the first fact of `kind`: its name, tier and a fragment of the reason.
fn check(ctx: &Context, kind: FactKind, name: &str, tier: Tier, reason_has: &str) {
    let fact = ctx
        .facts
        .iter()
        .find(|f| f.kind == kind && !f.name.starts_with('('))
        .or_else(|| ctx.fact(kind))
        .unwrap_or_else(|| panic!("no {kind} fact in {:#?}", ctx.facts));
    assert_eq!(fact.name, name, "{kind} name in {fact:#?}");
    assert_eq!(fact.tier, tier, "{kind} tier in {fact:#?}");
    assert!(
        fact.reason.contains(reason_has),
        "{kind} reason {:?} lacks {reason_has:?}",
        fact.reason
    );
}

fn detail<'a>(ctx: &'a Context, kind: FactKind, key: &str) -> Option<&'a str> {
    ctx.fact(kind)?.details.get(key).map(String::as_str)
}

// ---------------------------------------------------------------- kube

#[test]
fn kube_current_context_by_tier() {
    let cases = [
        (
            "prod-eu",
            Tier::Production,
            "kube context 'prod-eu' contains 'prod'",
        ),
        (
            "staging-eu",
            Tier::Staging,
            "'staging-eu' contains 'staging'",
        ),
        ("kind-kind", Tier::Development, "contains 'kind-*'"),
    ];
    for (current, tier, reason) in cases {
        let f = Fixture::new();
        f.home_file(".kube/config", &kubeconfig(current));
        let ctx = f.detect();
        check(&ctx, FactKind::Kube, current, tier, reason);
        assert_eq!(ctx.tier, tier);
    }
    let f = Fixture::new();
    f.home_file(".kube/config", &kubeconfig("prod-eu"));
    let ctx = f.detect();
    assert_eq!(detail(&ctx, FactKind::Kube, "namespace"), Some("payments"));
    assert_eq!(detail(&ctx, FactKind::Kube, "cluster"), Some("eks-prod-eu"));
    assert_eq!(detail(&ctx, FactKind::Kube, "user"), Some("admin@prod"));
    assert_eq!(
        detail(&ctx, FactKind::Kube, "server"),
        Some("https://ABC123.gr7.eu-west-1.eks.amazonaws.com")
    );
    // A context without a namespace is in `default`, as kubectl treats it.
    let f = Fixture::new();
    f.home_file(".kube/config", &kubeconfig("staging-eu"));
    assert_eq!(
        detail(&f.detect(), FactKind::Kube, "namespace"),
        Some("default")
    );
}

#[test]
fn kubeconfig_list_merges_like_kubectl() {
    let mut f = Fixture::new();
    // a.yaml: no current-context, defines `blue` → cluster a-cluster.
    let a = f.home_file(
        "k/a.yaml",
        "contexts:\n- name: blue\n  context: {cluster: a-cluster, user: u}\nclusters:\n- name: a-cluster\n  cluster: {server: https://a.example}\n",
    );
    // b.json: current-context blue, and a second (ignored) definition of blue.
    let b = f.home_file(
        "k/b.json",
        r#"{"current-context": "blue", "contexts": [{"name": "blue", "context": {"cluster": "b-prod-cluster", "namespace": "x"}}], "clusters": [{"name": "a-cluster", "cluster": {"server": "https://prod.example"}}]}"#,
    );
    // c.yaml: a later current-context, which loses to b's.
    let c = f.home_file("k/c.yaml", "current-context: prod-eu\n");
    let missing = f.input.home.join("k/missing.yaml");
    let list = [&a, &missing, &b, &c]
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    f.env("KUBECONFIG", &list);
    let ctx = f.detect();
    check(
        &ctx,
        FactKind::Kube,
        "blue",
        Tier::Unknown,
        "no tier keyword",
    );
    assert_eq!(detail(&ctx, FactKind::Kube, "cluster"), Some("a-cluster"));
    assert_eq!(
        detail(&ctx, FactKind::Kube, "server"),
        Some("https://a.example")
    );
    assert_eq!(detail(&ctx, FactKind::Kube, "namespace"), Some("default"));
    assert_eq!(
        ctx.fact(FactKind::Kube).map(|f| f.source.as_str()),
        Some("~/k/b.json")
    );
}

#[test]
fn kube_overrides_pick_context_file_and_namespace() {
    let f = Fixture::new();
    f.home_file(".kube/config", &kubeconfig("kind-kind"));
    f.home_file("other.yaml", &kubeconfig("staging-eu"));
    let o = Overrides {
        kube_context: Some("prod-eu".into()),
        kube_namespace: Some("kube-system".into()),
        ..Overrides::default()
    };
    let ctx = detect_with(&f.input, &Knowledge::default(), &o);
    check(&ctx, FactKind::Kube, "prod-eu", Tier::Production, "prod");
    assert_eq!(
        detail(&ctx, FactKind::Kube, "namespace"),
        Some("kube-system")
    );
    let o = Overrides {
        kubeconfig: Some("~/other.yaml".into()),
        ..Overrides::default()
    };
    let ctx = detect_with(&f.input, &Knowledge::default(), &o);
    check(&ctx, FactKind::Kube, "staging-eu", Tier::Staging, "staging");
    // An undefined context is still classified by name, and says it is undefined.
    let o = Overrides {
        kube_context: Some("prd-us".into()),
        ..Overrides::default()
    };
    let ctx = detect_with(&f.input, &Knowledge::default(), &o);
    check(
        &ctx,
        FactKind::Kube,
        "prd-us",
        Tier::Production,
        "not defined",
    );
}

#[test]
fn broken_kubeconfig_is_unknown_not_fatal() {
    let mut f = Fixture::new();
    f.home_file(
        ".kube/config",
        "current-context: [unterminated\n  - token: kubeTOKENplanted\n",
    );
    let ok = f.home_file("ok.yaml", &kubeconfig("staging-eu"));
    let broken = f.input.home.join(".kube/config");
    f.env(
        "KUBECONFIG",
        &format!("{}:{}", broken.display(), ok.display()),
    );
    let ctx = f.detect();
    let bad = ctx
        .facts
        .iter()
        .find(|x| x.name == "(malformed kubeconfig)")
        .expect("malformed fact");
    assert_eq!(bad.tier, Tier::Unknown);
    assert!(
        bad.reason.starts_with("cannot parse ~/.kube/config"),
        "{}",
        bad.reason
    );
    assert!(!bad.reason.contains("kubeTOKENplanted"));
    // The other file still resolves.
    check(&ctx, FactKind::Kube, "staging-eu", Tier::Staging, "staging");
    // Wrong shapes (contexts is a string) are parse errors too.
    let f = Fixture::new();
    f.home_file(".kube/config", "current-context: x\ncontexts: nope\n");
    assert_eq!(f.detect().facts[0].name, "(malformed kubeconfig)");
}

#[test]
fn unreadable_files_are_reported() {
    // A directory where a file should be fails to read for every user, root included (a chmod 000
    // file would not: these tests may run as root).
    let f = Fixture::new();
    std::fs::create_dir_all(f.input.home.join(".kube/config")).unwrap();
    f.home_file(".aws/credentials/oops", "");
    f.home_file(".aws/config", "[default]\ncredential_process = x\n");
    let ctx = f.detect();
    let kube = ctx.fact(FactKind::Kube).expect("kube fact");
    assert_eq!(
        (kube.name.as_str(), kube.tier),
        ("(unreadable kubeconfig)", Tier::Unknown)
    );
    assert!(
        kube.reason.starts_with("cannot read ~/.kube/config: "),
        "{}",
        kube.reason
    );
    let aws: Vec<_> = ctx
        .facts
        .iter()
        .filter(|x| x.kind == FactKind::Aws)
        .collect();
    assert!(
        aws.iter().any(|x| x.name == "(unreadable aws file)"),
        "{aws:#?}"
    );
    // The readable config still yields the profile.
    assert!(aws.iter().any(|x| x.name == "default"), "{aws:#?}");
}

// ---------------------------------------------------------------- aws

#[test]
fn aws_profiles_accounts_and_credential_kinds() {
    let config = "[default]\nregion = us-east-1\n\n[profile prod]\nsso_session = corp\nsso_account_id = 123456789012\nregion = eu-west-1\n\n[profile stage-deploy]\nrole_arn = arn:aws:iam::210987654321:role/Deploy\nsource_profile = default\n\n[profile tools]\ns3 =\n    max_concurrent_requests = 20\ncredential_process = /usr/bin/get-creds\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n";
    let creds = "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n";
    struct Case {
        env: &'static [(&'static str, &'static str)],
        name: &'static str,
        tier: Tier,
        account: Option<&'static str>,
        creds: &'static str,
        source: &'static str,
    }
    let cases = [
        Case {
            env: &[("AWS_PROFILE", "prod")],
            name: "prod",
            tier: Tier::Production,
            account: Some("123456789012"),
            creds: "SSO",
            source: "env AWS_PROFILE",
        },
        Case {
            env: &[("AWS_PROFILE", "stage-deploy")],
            name: "stage-deploy",
            tier: Tier::Staging,
            account: Some("210987654321"),
            creds: "assume role via source_profile default",
            source: "env AWS_PROFILE",
        },
        Case {
            env: &[("AWS_PROFILE", "tools")],
            name: "tools",
            tier: Tier::Unknown,
            account: None,
            creds: "credential_process",
            source: "env AWS_PROFILE",
        },
        // AWS_VAULT comes before AWS_PROFILE (starship's order).
        Case {
            env: &[("AWS_PROFILE", "tools"), ("AWS_VAULT", "prod")],
            name: "prod",
            tier: Tier::Production,
            account: Some("123456789012"),
            creds: "SSO",
            source: "env AWS_VAULT",
        },
        Case {
            env: &[],
            name: "default",
            tier: Tier::Unknown,
            account: None,
            creds: "credentials file, long-lived",
            source: "~/.aws/credentials",
        },
        Case {
            env: &[("AWS_ACCESS_KEY_ID", "ASIAIOSFODNN7EXAMPLE")],
            name: "default",
            tier: Tier::Unknown,
            account: None,
            creds: "env keys, temporary (ASIA)",
            source: "env AWS_ACCESS_KEY_ID",
        },
        Case {
            env: &[("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")],
            name: "default",
            tier: Tier::Unknown,
            account: None,
            creds: "env keys, long-lived (AKIA)",
            source: "env AWS_ACCESS_KEY_ID",
        },
    ];
    for c in cases {
        let mut f = Fixture::new();
        f.home_file(".aws/config", config);
        f.home_file(".aws/credentials", creds);
        for (k, v) in c.env {
            f.env(k, v);
        }
        let ctx = f.detect();
        let fact = ctx
            .fact(FactKind::Aws)
            .unwrap_or_else(|| panic!("no aws fact for {}", c.name));
        assert_eq!(
            (fact.name.as_str(), fact.tier),
            (c.name, c.tier),
            "{fact:#?}"
        );
        assert_eq!(
            fact.details.get("account").map(String::as_str),
            c.account,
            "{fact:#?}"
        );
        assert_eq!(
            fact.details.get("credentials").map(String::as_str),
            Some(c.creds),
            "{fact:#?}"
        );
        assert_eq!(fact.source, c.source, "{fact:#?}");
    }
}

#[test]
fn aws_region_expiry_and_pins() {
    let mut f = prod_home();
    f.env("AWS_REGION", "ap-south-1");
    let ctx = f.detect();
    assert_eq!(detail(&ctx, FactKind::Aws, "region"), Some("ap-south-1"));
    // SSO cache file named by sha1("corp") gives the expiry.
    assert_eq!(
        detail(&ctx, FactKind::Aws, "expires"),
        Some("2099-01-01T00:00:00Z")
    );
    let mut f = Fixture::new();
    f.home_file(".aws/credentials", "[blue]\naws_access_key_id = A\naws_secret_access_key = B\naws_session_token = C\nexpiration = 2001-01-01T00:00:00Z\n");
    f.env("AWS_PROFILE", "blue");
    let ctx = f.detect();
    assert_eq!(
        detail(&ctx, FactKind::Aws, "expires"),
        Some("2001-01-01T00:00:00Z (expired)")
    );
    assert_eq!(
        detail(&ctx, FactKind::Aws, "credentials"),
        Some("credentials file, temporary")
    );
    // A pin on the account beats the harmless-looking profile name.
    let mut f = prod_home();
    f.env("AWS_PROFILE", "dev");
    f.home_file(".aws/config", "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/Dev\ncredential_source = Environment\n");
    let knowledge = Knowledge {
        pins: vec![TierPin {
            kind: Some("aws".into()),
            value: Some("123456789012".into()),
            pattern: None,
            tier: Tier::Production,
            reason: Some("payments account".into()),
        }],
        probes: vec![],
    };
    let ctx = detect(&f.input, &knowledge);
    check(
        &ctx,
        FactKind::Aws,
        "dev",
        Tier::Production,
        "pinned: account 123456789012 → production (payments account)",
    );
}

#[test]
fn malformed_aws_config_is_unknown() {
    let mut f = Fixture::new();
    f.home_file(".aws/config", "[profile prod\nregion = eu-west-1\n");
    f.env("AWS_PROFILE", "prod");
    let ctx = f.detect();
    let bad = ctx
        .facts
        .iter()
        .find(|x| x.name == "(malformed aws file)")
        .expect("malformed fact");
    assert_eq!(bad.tier, Tier::Unknown);
    assert!(
        bad.reason.contains("cannot parse ~/.aws/config"),
        "{}",
        bad.reason
    );
    // The profile named by env is still a target, classified by its name.
    check(
        &ctx,
        FactKind::Aws,
        "prod",
        Tier::Production,
        "aws profile 'prod'",
    );
}

// ---------------------------------------------------------------- gcloud, azure

#[test]
fn gcloud_configuration_env_overrides_and_service_account() {
    let mut f = Fixture::new();
    f.home_file(".config/gcloud/active_config", "work\n");
    f.home_file(
        ".config/gcloud/configurations/config_work",
        "[core]\naccount = me@shop.example\nproject = shop-staging\n[compute]\nregion = europe-west4\n",
    );
    let ctx = f.detect();
    check(
        &ctx,
        FactKind::Gcloud,
        "shop-staging",
        Tier::Staging,
        "project 'shop-staging'",
    );
    assert_eq!(
        detail(&ctx, FactKind::Gcloud, "region"),
        Some("europe-west4")
    );
    assert_eq!(
        detail(&ctx, FactKind::Gcloud, "account"),
        Some("me@shop.example")
    );
    f.env("CLOUDSDK_CORE_PROJECT", "shop-prod");
    check(
        &f.detect(),
        FactKind::Gcloud,
        "shop-prod",
        Tier::Production,
        "shop-prod",
    );
    let o = Overrides {
        gcloud_project: Some("shop-dev".into()),
        ..Overrides::default()
    };
    let ctx = detect_with(&f.input, &Knowledge::default(), &o);
    check(&ctx, FactKind::Gcloud, "shop-dev", Tier::Development, "dev");
    // NONE means no active configuration.
    let f2 = Fixture::new();
    f2.home_file(".config/gcloud/active_config", "NONE\n");
    assert!(f2.detect().fact(FactKind::Gcloud).is_none());
    // A service-account key file: project is a target, the account a credential.
    let key = f.home_file(
        "keys/sa.json",
        r#"{"type": "service_account", "project_id": "ledger-prd", "client_email": "ci@ledger-prd.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----PLANTED"}"#,
    );
    f.env("GOOGLE_APPLICATION_CREDENTIALS", &key.display().to_string());
    let ctx = f.detect();
    let sa = ctx
        .facts
        .iter()
        .find(|x| x.name == "ledger-prd")
        .expect("sa fact");
    assert_eq!(sa.tier, Tier::Production);
    assert!(
        ctx.credentials
            .iter()
            .any(|c| c.kind == "gcp-credentials-file"
                && c.name == "ci@ledger-prd.iam.gserviceaccount.com (project ledger-prd)")
    );
    assert!(!format!("{ctx:?}").contains("PLANTED"));
}

#[test]
fn azure_default_subscription_with_bom() {
    let f = prod_home();
    let ctx = f.detect();
    check(
        &ctx,
        FactKind::Azure,
        "Payments-Production",
        Tier::Production,
        "'Payments-Production' contains 'production'",
    );
    assert_eq!(
        detail(&ctx, FactKind::Azure, "user"),
        Some("ops@shop.example")
    );
    let f = Fixture::new();
    f.home_file(".azure/azureProfile.json", "\u{feff}{\"subscriptions\": 3}");
    let ctx = f.detect();
    assert_eq!(
        ctx.fact(FactKind::Azure).map(|x| x.tier),
        Some(Tier::Unknown)
    );
}

// ---------------------------------------------------------------- terraform, pulumi

#[test]
fn terraform_workspace_and_backend() {
    let f = prod_home();
    let ctx = f.detect();
    check(
        &ctx,
        FactKind::Terraform,
        "prod",
        Tier::Production,
        "terraform workspace 'prod'",
    );
    assert_eq!(detail(&ctx, FactKind::Terraform, "backend"), Some("s3"));
    assert_eq!(
        detail(&ctx, FactKind::Terraform, "bucket"),
        Some("shop-tfstate-prod")
    );
    assert_eq!(detail(&ctx, FactKind::Terraform, "access_key"), None);
    // TF_WORKSPACE beats the file.
    let mut f = prod_home();
    f.env("TF_WORKSPACE", "staging");
    check(
        &f.detect(),
        FactKind::Terraform,
        "staging",
        Tier::Production,
        "backend bucket 'shop-tfstate-prod'",
    );
    // A default workspace in a dev backend.
    let f = Fixture::new();
    f.work_file("main.tf", "");
    f.work_file(
        ".terraform/terraform.tfstate",
        r#"{"backend": {"type": "local", "config": {"path": "dev.tfstate"}}}"#,
    );
    check(
        &f.detect(),
        FactKind::Terraform,
        "default",
        Tier::Development,
        "backend path 'dev.tfstate'",
    );
    // Not a terraform directory: nothing.
    let f = Fixture::new();
    f.work_file("README.md", "");
    assert!(f.detect().fact(FactKind::Terraform).is_none());
    // -chdir= moves the probe; TF_DATA_DIR moves the data dir.
    let mut f = Fixture::new();
    f.work_file("infra/live/main.tf", "");
    f.work_file("infra/live/.tfdata/environment", "live-eu\n");
    f.env("TF_DATA_DIR", ".tfdata");
    let o = Overrides {
        tf_chdir: Some("infra/live".into()),
        ..Overrides::default()
    };
    let ctx = detect_with(&f.input, &Knowledge::default(), &o);
    check(
        &ctx,
        FactKind::Terraform,
        "live-eu",
        Tier::Production,
        "'live-eu' contains 'live'",
    );
    // Malformed backend state.
    let f = Fixture::new();
    f.work_file(".terraform/terraform.tfstate", "{not json");
    let ctx = f.detect();
    assert!(
        ctx.facts
            .iter()
            .any(|x| x.name == "(malformed backend state)" && x.tier == Tier::Unknown)
    );
}

#[test]
fn pulumi_stack_from_workspace_file() {
    let f = Fixture::new();
    let project = f.work_file("Pulumi.yaml", "name: payments-prod-infra\nruntime: go\n");
    let hash = src::context::testkit::sha1_hex(project.to_string_lossy().as_bytes());
    f.home_file(
        &format!(".pulumi/workspaces/payments-prod-infra-{hash}-workspace.json"),
        r#"{"stack": "acme/payments/dev"}"#,
    );
    f.home_file(
        ".pulumi/credentials.json",
        r#"{"current": "https://api.pulumi.com", "accounts": {"https://api.pulumi.com": {"accessToken": "pul-PLANTED", "username": "dana"}}}"#,
    );
    let ctx = f.detect();
    // The project name mentions prod; the stack decides.
    check(
        &ctx,
        FactKind::Pulumi,
        "acme/payments/dev",
        Tier::Development,
        "pulumi stack",
    );
    assert_eq!(detail(&ctx, FactKind::Pulumi, "user"), Some("dana"));
    assert!(
        ctx.credentials
            .iter()
            .any(|c| c.kind == "pulumi-access-token")
    );
    assert!(!format!("{ctx:?}").contains("pul-PLANTED"));
}

// ---------------------------------------------------------------- docker, git, ssh

#[test]
fn docker_targets() {
    let ctx = prod_home().detect();
    check(
        &ctx,
        FactKind::Docker,
        "prod-swarm",
        Tier::Production,
        "prod",
    );
    assert_eq!(
        detail(&ctx, FactKind::Docker, "host"),
        Some("ssh://swarm.prod.shop.example")
    );
    let mut f = Fixture::new();
    f.env("DOCKER_HOST", "unix:///var/run/docker.sock");
    check(
        &f.detect(),
        FactKind::Docker,
        "unix:///var/run/docker.sock",
        Tier::Development,
        "local daemon",
    );
    let mut f = Fixture::new();
    f.env("DOCKER_HOST", "tcp://build-box.internal:2376");
    check(
        &f.detect(),
        FactKind::Docker,
        "tcp://build-box.internal:2376",
        Tier::Unknown,
        "no tier keyword",
    );
    // No docker config at all: the plain local daemon is not worth a fact.
    assert!(Fixture::new().detect().fact(FactKind::Docker).is_none());
}

#[test]
fn git_branch_worktree_detached_and_remotes() {
    let ctx = prod_home().detect();
    let git = ctx.fact(FactKind::Git).expect("git fact");
    assert_eq!(git.name, "main");
    assert_eq!(
        git.details.get("worktree").map(String::as_str),
        Some("linked")
    );
    assert_eq!(
        git.details.get("protected").map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        git.details.get("remote.origin").map(String::as_str),
        Some("https://github.com/shop/infra.git")
    );
    // Found upward from a subdirectory; a detached HEAD; a release branch by keyword.
    let mut f = Fixture::new();
    f.work_file(".git/HEAD", "3f2a9c1d0e4b5a69788796a5b4c3d2e1f0a9b8c7\n");
    f.work_file("src/deep/x.rs", "");
    f.input.cwd = f.input.cwd.join("src/deep");
    check(
        &f.detect(),
        FactKind::Git,
        "3f2a9c1d0e4b",
        Tier::Development,
        "detached HEAD",
    );
    let f = Fixture::new();
    f.work_file(".git/HEAD", "ref: refs/heads/deploy/production\n");
    check(
        &f.detect(),
        FactKind::Git,
        "deploy/production",
        Tier::Production,
        "production",
    );
    let f = Fixture::new();
    f.work_file(".git/HEAD", "ref: refs/heads/feature/product-catalog\n");
    check(
        &f.detect(),
        FactKind::Git,
        "feature/product-catalog",
        Tier::Development,
        "local working copy",
    );
    // A `.git` file without gitdir is reported.
    let f = Fixture::new();
    f.work_file(".git", "garbage\n");
    assert_eq!(
        f.detect().fact(FactKind::Git).map(|x| x.tier),
        Some(Tier::Unknown)
    );
}

#[test]
fn ssh_session_host() {
    let ctx = prod_home().detect();
    check(
        &ctx,
        FactKind::Ssh,
        "bastion-prod-1",
        Tier::Production,
        "host 'bastion-prod-1'",
    );
    assert_eq!(
        detail(&ctx, FactKind::Ssh, "server_address"),
        Some("10.0.9.9")
    );
    let mut f = Fixture::new();
    f.env("HOSTNAME", "bastion-prod-1");
    assert!(
        f.detect().fact(FactKind::Ssh).is_none(),
        "no SSH session, no fact"
    );
}

// ---------------------------------------------------------------- databases, services, credentials

#[test]
fn databases_and_services_from_env() {
    let mut f = Fixture::new();
    f.env(
        "DATABASE_URL",
        "postgres://app:pw1@db.staging.internal:5432/orders",
    )
    .env(
        "ANALYTICS_DATABASE_URL",
        "mysql://ro@analytics-prd.internal/events",
    )
    .env("PGHOST", "localhost")
    .env("PGDATABASE", "scratch")
    .env(
        "MONGODB_URI",
        "mongodb+srv://u:pw2@cluster0.mongodb.net/shop",
    )
    .env("VAULT_ADDR", "https://vault.prod.example:8200")
    .env("ARGOCD_SERVER", "argocd.dev.example");
    let ctx = f.detect();
    let by_source: BTreeMap<&str, (&str, Tier)> = ctx
        .facts
        .iter()
        .map(|x| (x.source.as_str(), (x.name.as_str(), x.tier)))
        .collect();
    assert_eq!(
        by_source["env DATABASE_URL"],
        ("db.staging.internal", Tier::Staging)
    );
    assert_eq!(
        by_source["env ANALYTICS_DATABASE_URL"],
        ("analytics-prd.internal", Tier::Production)
    );
    assert_eq!(by_source["env PGHOST"], ("localhost", Tier::Development));
    assert_eq!(
        by_source["env MONGODB_URI"],
        ("cluster0.mongodb.net", Tier::Unknown)
    );
    assert_eq!(
        by_source["env VAULT_ADDR"],
        ("vault.prod.example", Tier::Production)
    );
    assert_eq!(
        by_source["env ARGOCD_SERVER"],
        ("argocd.dev.example", Tier::Development)
    );
    let db = ctx
        .facts
        .iter()
        .find(|x| x.source == "env DATABASE_URL")
        .unwrap();
    assert_eq!(
        db.details.get("database").map(String::as_str),
        Some("orders")
    );
    assert_eq!(db.kind, FactKind::Database);
    let s = format!("{ctx:?}");
    assert!(!s.contains("pw1") && !s.contains("pw2"), "{s}");
}

#[test]
fn credentials_and_scrub_plan() {
    let f = prod_home();
    let ctx = f.detect();
    let names: Vec<(&str, &str)> = ctx
        .credentials
        .iter()
        .map(|c| (c.kind.as_str(), c.name.as_str()))
        .collect();
    for want in [
        ("github-token", "GITHUB_TOKEN"),
        ("anthropic-api-key", "ANTHROPIC_API_KEY"),
        ("vault-token", "VAULT_TOKEN"),
        ("database-password", "DATABASE_URL"),
        ("database-password", "REDIS_URL"),
        ("private-key", "DEPLOY_KEY_PEM"),
        ("aws-static-keys", "profile default"),
        ("dotenv-file", "STRIPE_SECRET_KEY"),
    ] {
        // (The default profile's keys count although AWS_PROFILE=prod uses SSO: `--profile
        // default` is one flag away.)
        assert!(names.contains(&want), "{want:?} missing from {names:#?}");
    }
    assert!(ctx.credentials.iter().any(|c| c.kind == "aws-sso-token"));
    let mut env = f.input.env.clone();
    env.insert("OVERWATCH_GATE_TOKEN".into(), "x".into());
    let ctx = detect(
        &src::context::ProbeEnv {
            env: env.clone(),
            ..f.input.clone()
        },
        &Knowledge::default(),
    );
    assert!(
        ctx.credentials
            .iter()
            .any(|c| c.name == "OVERWATCH_GATE_TOKEN")
    );
    let plan = scrub_plan(&ctx, &env);
    assert_eq!(
        plan,
        [
            "ANTHROPIC_API_KEY",
            "DATABASE_URL",
            "DEPLOY_KEY_PEM",
            "GITHUB_TOKEN",
            "REDIS_URL",
            "VAULT_TOKEN"
        ]
    );
    // Nothing that is not a credential variable.
    assert!(!plan.contains(&"AWS_PROFILE".to_string()) && !plan.contains(&"HOSTNAME".to_string()));
}

// ---------------------------------------------------------------- custom probes, pins, overrides

#[test]
fn custom_probes_file_env_and_errors() {
    let mut f = Fixture::new();
    f.work_file(
        "config/flags.toml",
        "# migrating\nprovider = \"flagsmith\"\n",
    );
    f.env("PAYMENTS_MODE", "sandbox");
    let probe =
        |name: &str, file: Option<&str>, regex: Option<&str>, env: Option<&str>| CustomProbe {
            name: name.into(),
            description: None,
            file: file.map(Into::into),
            regex: regex.map(Into::into),
            env: env.map(Into::into),
            tiers: [
                ("flagsmith".to_string(), Tier::Production),
                ("sandbox".to_string(), Tier::Development),
            ]
            .into_iter()
            .collect(),
        };
    let knowledge = Knowledge {
        pins: vec![],
        probes: vec![
            probe(
                "flag-provider",
                Some("config/flags.toml"),
                Some(r#"provider\s*=\s*"(\w+)""#),
                None,
            ),
            probe("payments-mode", None, None, Some("PAYMENTS_MODE")),
            probe("gone", Some("nope.txt"), Some("x"), None),
            probe(
                "nomatch",
                Some("config/flags.toml"),
                Some("region = (\\w+)"),
                None,
            ),
            probe("unset", None, None, Some("NOT_SET")),
        ],
    };
    let ctx = detect(&f.input, &knowledge);
    let by_probe: BTreeMap<&str, (&str, Tier, &str)> = ctx
        .facts
        .iter()
        .filter(|x| x.kind == FactKind::Custom)
        .map(|x| {
            (
                x.details["probe"].as_str(),
                (x.name.as_str(), x.tier, x.reason.as_str()),
            )
        })
        .collect();
    assert_eq!(by_probe["flag-provider"].0, "flagsmith");
    assert_eq!(by_probe["flag-provider"].1, Tier::Production);
    assert!(
        by_probe["flag-provider"]
            .2
            .contains("probe 'flag-provider' reads 'flagsmith' → production")
    );
    assert_eq!(by_probe["payments-mode"].1, Tier::Development);
    // A probe that does not apply here (missing file, unset variable) adds no fact.
    assert!(!by_probe.contains_key("gone") && !by_probe.contains_key("unset"));
    assert!(by_probe["nomatch"].2.contains("found nothing"));
    assert_eq!(ctx.tier, Tier::Production);
}

#[test]
fn resolve_overrides_matches_full_detection() {
    let f = prod_home();
    let k = Knowledge::default();
    let base = detect(&f.input, &k);
    for o in [
        Overrides {
            kube_context: Some("kind-kind".into()),
            ..Overrides::default()
        },
        Overrides {
            aws_profile: Some("staging".into()),
            ..Overrides::default()
        },
        Overrides {
            tf_workspace: Some("dev".into()),
            ..Overrides::default()
        },
        Overrides {
            docker_host: Some("unix:///run/docker.sock".into()),
            ..Overrides::default()
        },
        Overrides::default(),
    ] {
        let full = detect_with(&f.input, &k, &o);
        let quick = resolve_overrides(&base, &f.input, &k, &o);
        assert_eq!(quick.facts, full.facts, "{o:?}");
        assert_eq!(quick.tier, full.tier, "{o:?}");
    }
    let o = Overrides {
        kube_context: Some("kind-kind".into()),
        ..Overrides::default()
    };
    let quick = resolve_overrides(&base, &f.input, &k, &o);
    check(
        &quick,
        FactKind::Kube,
        "kind-kind",
        Tier::Development,
        "kind-*",
    );
}

// ---------------------------------------------------------------- whole machines

#[test]
fn fixture_machines_get_their_session_tier() {
    let prod = prod_home().detect();
    assert_eq!(prod.tier, Tier::Production);
    assert!(prod.facts.len() >= 10, "{:#?}", prod.facts);

    let mut staging = Fixture::new();
    staging.home_file(".kube/config", &kubeconfig("staging-eu"));
    staging.home_file(
        ".aws/config",
        "[profile stage]\nsso_session = s\nsso_account_id = 210987654321\n",
    );
    staging.env("AWS_PROFILE", "stage");
    staging.work_file(".git/HEAD", "ref: refs/heads/feature/x\n");
    let ctx = staging.detect();
    assert_eq!(ctx.tier, Tier::Staging, "{:#?}", ctx.facts);

    let mut dev = Fixture::new();
    dev.home_file(".kube/config", &kubeconfig("kind-kind"));
    dev.env("DATABASE_URL", "postgres://dev:dev@localhost:5432/app_dev");
    dev.work_file(".git/HEAD", "ref: refs/heads/main\n");
    let ctx = dev.detect();
    assert_eq!(ctx.tier, Tier::Development, "{:#?}", ctx.facts);

    let empty = Fixture::new().detect();
    assert_eq!((empty.tier, empty.facts.len()), (Tier::Development, 0));

    let broken = Fixture::new();
    broken.home_file(".kube/config", "{\"current-context\": ");
    broken.home_file(".aws/config", "[profile x\n");
    broken.home_file(".config/gcloud/active_config", "p\n");
    broken.home_file(".config/gcloud/configurations/config_p", "[core\n");
    broken.home_file(".azure/azureProfile.json", "\u{feff}[");
    broken.home_file(".docker/config.json", "nope");
    broken.work_file("Pulumi.yaml", ": : :\n");
    let ctx = broken.detect();
    assert_eq!(ctx.tier, Tier::Unknown);
    for kind in [
        FactKind::Kube,
        FactKind::Aws,
        FactKind::Gcloud,
        FactKind::Azure,
        FactKind::Docker,
        FactKind::Pulumi,
    ] {
        let fact = ctx
            .fact(kind)
            .unwrap_or_else(|| panic!("{kind} in {:#?}", ctx.facts));
        assert_eq!(fact.tier, Tier::Unknown, "{fact:#?}");
        assert!(fact.reason.starts_with("cannot parse"), "{fact:#?}");
    }
}

// ---------------------------------------------------------------- overwatch env (the binary)

fn overwatch_env(f: &Fixture, args: &[&str], extra: &[(&str, &str)]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_overwatch"))
        .arg("env")
        .args(args)
        .env_clear()
        .envs(f.input.env.iter().filter(|(k, _)| k.as_str() != "HOME"))
        .env("HOME", &f.input.home)
        .envs(extra.iter().copied())
        .current_dir(&f.input.cwd)
        .output()
        .expect("run overwatch env");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn env_json_follows_the_schema() {
    let f = prod_home();
    let out = overwatch_env(&f, &["--json"], &[]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let obj = v.as_object().expect("object");
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(keys, ["credentials", "facts", "tier"]);
    assert_eq!(v["tier"], "production");
    let tiers = ["production", "staging", "development", "unknown"];
    for fact in v["facts"].as_array().expect("facts array") {
        let o = fact.as_object().unwrap();
        for k in ["kind", "name", "tier", "reason", "source"] {
            assert!(o[k].is_string(), "{k} in {fact}");
        }
        assert!(
            o.keys()
                .all(|k| ["kind", "name", "tier", "reason", "source", "details"]
                    .contains(&k.as_str())),
            "{fact}"
        );
        assert!(tiers.contains(&o["tier"].as_str().unwrap()), "{fact}");
        if let Some(d) = o.get("details") {
            assert!(
                d.as_object().unwrap().values().all(|x| x.is_string()),
                "{fact}"
            );
        }
    }
    for cred in v["credentials"].as_array().expect("credentials array") {
        let o = cred.as_object().unwrap();
        assert_eq!(
            o.keys().map(String::as_str).collect::<Vec<_>>(),
            ["kind", "name", "source"]
        );
    }
    let kube = v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "kube")
        .unwrap();
    assert_eq!(kube["name"], "prod-eu");
    assert_eq!(kube["reason"], "kube context 'prod-eu' contains 'prod'");
    assert_eq!(kube["source"], "~/.kube/config");
    assert_eq!(kube["details"]["namespace"], "payments");
}

#[test]
fn env_table_names_each_fact_tier_and_reason() {
    let f = prod_home();
    // Not a TTY: no colour codes.
    let out = overwatch_env(&f, &[], &[]);
    if std::env::var_os("SHOW_ENV_TABLE").is_some() {
        eprintln!("{out}");
    }
    assert!(out.starts_with("session tier:  PRODUCTION "), "{out}");
    assert!(!out.contains('\x1b'), "colour on a pipe: {out}");
    for line in [
        "kube context 'prod-eu' contains 'prod'",
        "terraform workspace 'prod' contains 'prod'",
        "~/.kube/config",
        "env DATABASE_URL",
        "CREDENTIALS (names only, values never shown)",
    ] {
        assert!(out.contains(line), "{line:?} missing from\n{out}");
    }
}

#[test]
fn env_rules_flag_loads_pins_and_probes() {
    let f = prod_home();
    let pack = f.home_file(
        "packs/team.toml",
        "name = \"team\"\nversion = \"1.0.0\"\ndescription = \"team pins\"\n\n[[pins]]\nkind = \"kube\"\nvalue = \"prod-eu\"\ntier = \"staging\"\nreason = \"rehearsal cluster\"\n\n[[probes]]\nname = \"flags\"\nfile = \".env.production\"\nregex = 'PORT=(\\d+)'\n[probes.tiers]\n8080 = \"development\"\n",
    );
    let out = overwatch_env(&f, &["--json", "--rules", &pack.display().to_string()], &[]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let facts = v["facts"].as_array().unwrap();
    let kube = facts.iter().find(|x| x["kind"] == "kube").unwrap();
    assert_eq!(kube["tier"], "staging");
    assert_eq!(
        kube["reason"],
        "pinned: kube context prod-eu → staging (rehearsal cluster)"
    );
    let custom = facts.iter().find(|x| x["kind"] == "custom").unwrap();
    assert_eq!(
        (custom["name"].as_str(), custom["tier"].as_str()),
        (Some("8080"), Some("development"))
    );
    // A bad pin is an error naming the problem, not a silently ignored pin.
    let bad = f.home_file(
        "packs/bad.toml",
        "name = \"bad\"\nversion = \"1\"\ndescription = \"x\"\n[[pins]]\nkind = \"kubernetes\"\nvalue = \"x\"\ntier = \"production\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_overwatch"))
        .args(["env", "--rules"])
        .arg(&bad)
        .env_clear()
        .env("HOME", &f.input.home)
        .current_dir(&f.input.cwd)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown kind 'kubernetes'"), "{stderr}");
}

#[test]
fn env_project_packs_cannot_lower_a_tier() {
    // The workspace is the agent's: a pack it wrote must not turn production into development.
    let f = prod_home();
    f.work_file(
        ".overwatch/rules/sneaky.toml",
        "name = \"sneaky\"\nversion = \"1\"\ndescription = \"x\"\n[[pins]]\nkind = \"kube\"\nvalue = \"prod-eu\"\ntier = \"development\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_overwatch"))
        .args(["env", "--json"])
        .env_clear()
        .env("HOME", &f.input.home)
        .current_dir(&f.input.cwd)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kube = v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["kind"] == "kube")
        .unwrap();
    assert_eq!(kube["tier"], "production", "{kube}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not trusted"), "{stderr}");
}

#[test]
fn planted_secrets_never_leave_the_probes() {
    let f = prod_home();
    let ctx = f.detect();
    let outputs = [
        ("Debug", format!("{ctx:?}")),
        ("Debug pretty", format!("{ctx:#?}")),
        ("Debug of the probe input", format!("{:?}", f.input)),
        ("serde JSON", serde_json::to_string(&ctx).unwrap()),
        ("env --json", overwatch_env(&f, &["--json"], &[])),
        ("env table", overwatch_env(&f, &[], &[])),
    ];
    for (what, text) in &outputs {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{what} leaks {secret:?}:\n{text}");
        }
        // No fragment either: the DB password's middle, the AWS secret's tail.
        for fragment in ["S3cretDb", "SECRETKEY", "PLANTED"] {
            assert!(
                !text.contains(fragment),
                "{what} leaks {fragment:?}:\n{text}"
            );
        }
    }
    // The detection saw them, though: the test is not vacuous.
    assert!(ctx.credentials.len() >= 6);
}

// ---------------------------------------------------------------- watching

#[test]
fn kube_context_switch_under_a_running_watcher_warns() {
    let f = Fixture::new();
    let config = f.home_file(".kube/config", &kubeconfig("staging-eu"));
    f.work_file(".git/HEAD", "ref: refs/heads/feature/a\n");
    let knowledge = Knowledge::default();
    let current = detect(&f.input, &knowledge);
    let (tx, rx) = std::sync::mpsc::channel();
    let watcher = ContextWatcher::spawn(f.input.clone(), knowledge, current, move |u| {
        let _ = tx.send(u);
    })
    .expect("start watcher");
    assert!(
        watcher.watched_dirs().contains(&f.input.home.join(".kube")),
        "{:?}",
        watcher.watched_dirs()
    );

    // kubectl config use-context rewrites the file in place.
    std::fs::write(&config, kubeconfig("prod-eu")).unwrap();
    let warning = wait_for_warning(&rx, FactKind::Kube);
    assert_eq!(
        warning.message,
        "kube context changed: staging-eu → prod-eu (production)"
    );
    assert_eq!(
        (warning.from.as_deref(), warning.to.as_deref()),
        (Some("staging-eu"), Some("prod-eu"))
    );
    assert_eq!(warning.tier, Tier::Production);

    // An editor-style replace (write a temp file, rename over) is seen too.
    let tmp = f.input.home.join(".kube/config.tmp");
    std::fs::write(&tmp, kubeconfig("kind-kind")).unwrap();
    std::fs::rename(&tmp, &config).unwrap();
    let warning = wait_for_warning(&rx, FactKind::Kube);
    assert_eq!(
        warning.message,
        "kube context changed: prod-eu → kind-kind (development)"
    );

    // git checkout rewrites .git/HEAD.
    std::fs::write(
        f.input.cwd.join(".git/HEAD"),
        "ref: refs/heads/release-prod\n",
    )
    .unwrap();
    let warning = wait_for_warning(&rx, FactKind::Git);
    assert_eq!(
        warning.message,
        "git branch changed: feature/a → release-prod (production)"
    );

    // A file that did not exist at start (AWS config) is picked up when created.
    std::fs::create_dir_all(f.input.home.join(".aws")).unwrap();
    std::fs::write(
        f.input.home.join(".aws/config"),
        "[default]\nregion = eu-west-1\ncredential_process = x\n",
    )
    .unwrap();
    let warning = wait_for_warning(&rx, FactKind::Aws);
    assert!(
        warning.message.starts_with("AWS profile appeared: default"),
        "{}",
        warning.message
    );
    drop(watcher);
}

fn wait_for_warning(
    rx: &std::sync::mpsc::Receiver<src::context::watch::ContextUpdate>,
    kind: FactKind,
) -> src::context::ContextWarning {
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(update) => {
                if let Some(w) = update.warnings.into_iter().find(|w| w.kind == kind) {
                    return w;
                }
            }
            Err(_) => break,
        }
    }
    panic!("no {kind} warning within 10 s");
}
