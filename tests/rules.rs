//! `overwatch check` and `overwatch rules` as a user runs them: real process, exit codes, JSON
//! shape, located load errors, `rules test` over the built-in packs, trust.
//!
//! Every run gets a private HOME / XDG dirs / cwd so the user's own packs and trust records never
//! leak in. Engine behaviour in depth (corpus, bypass classes, targets) is tested in-process in
//! `src/rules/tests.rs`.

use std::path::Path;
use std::process::{Command, Output};

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("creating a temp dir: {e}"));
        std::fs::create_dir_all(dir.path().join("home")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(dir.path().join("proj")).unwrap_or_else(|e| panic!("{e}"));
        Sandbox { dir }
    }

    fn path(&self, p: &str) -> std::path::PathBuf {
        self.dir.path().join(p)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_overwatch"))
            .args(args)
            .current_dir(self.path("proj"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("home/.config"))
            .env("XDG_DATA_HOME", self.path("home/.local/share"))
            .output()
            .unwrap_or_else(|e| panic!("running overwatch: {e}"))
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_exit_codes_follow_the_decision() {
    let s = Sandbox::new();
    assert_eq!(code(&s.run(&["check", "--command", "ls -la"])), 0);
    assert_eq!(
        code(&s.run(&["check", "--command", "git reset --hard"])),
        10
    );
    assert_eq!(
        code(&s.run(&["check", "--command", "sudo rm -rf --no-preserve-root /"])),
        11
    );
    assert_eq!(
        code(&s.run(&["check", "--", "git", "push", "--force", "origin", "main"])),
        10
    );
    assert_eq!(code(&s.run(&["check", "--", "echo", "rm -rf /"])), 0);
    // One quoted argument is a shell command, not a program named "rm -rf /".
    let quoted = s.run(&["check", "rm -rf /"]);
    assert_eq!(code(&quoted), 11, "{quoted:?}");
    assert!(stderr(&quoted).contains("as a shell command"), "{quoted:?}");
    assert_eq!(code(&s.run(&["check", "--", "ls"])), 0);
    // Neither form given, or both: usage error.
    assert_eq!(code(&s.run(&["check"])), 2);
}

#[test]
fn check_json_has_the_documented_shape() {
    let s = Sandbox::new();
    let o = s.run(&[
        "check",
        "--json",
        "--command",
        "echo hi && bash -c 'kubectl delete ns payments'",
    ]);
    assert_eq!(code(&o), 10, "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)));
    assert_eq!(v["decision"], "confirm");
    let cmds = v["commands"].as_array().cloned().unwrap_or_default();
    assert_eq!(cmds.len(), 2);
    assert_eq!(
        cmds[1]["argv"],
        serde_json::json!(["kubectl", "delete", "ns", "payments"])
    );
    assert_eq!(cmds[1]["target"]["kind"], "kube");
    assert!(cmds[1]["tier"].is_string());
    let rule = &cmds[1]["rules"][0];
    assert_eq!(rule["id"], "kubernetes.delete");
    assert_eq!(rule["pack"], "kubernetes");
    assert_eq!(rule["action"], "confirm");
    assert!(
        rule["message"]
            .as_str()
            .unwrap_or("")
            .contains("kubectl delete on")
    );
    assert_eq!(cmds[0]["rules"], serde_json::json!([]));
}

#[test]
fn pack_errors_exit_2_with_file_line_column() {
    let s = Sandbox::new();
    let bad = s.path("bad.toml");
    std::fs::write(&bad, "name = \"x\"\nversion = \"1\"\ndescription = \"d\"\n\n[[rules]]\nid = \"x.y\"\ndescriptoin = \"typo\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let o = s.run(&[
        "check",
        "--rules",
        bad.to_str().unwrap_or(""),
        "--command",
        "ls",
    ]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains(&format!("{}:7:1", bad.display())), "{err}");
    assert!(err.contains("descriptoin"), "{err}");
    // A missing --rules path is an error too, not an empty layer.
    let o = s.run(&[
        "check",
        "--rules",
        "/nonexistent/pack.toml",
        "--command",
        "ls",
    ]);
    assert_eq!(code(&o), 2);
}

#[test]
fn failing_embedded_example_in_a_team_pack_is_a_load_error() {
    let s = Sandbox::new();
    let pack = s.path("team.toml");
    std::fs::write(
        &pack,
        "name = \"team\"\nversion = \"1\"\ndescription = \"d\"\n[[rules]]\nid = \"team.deploy\"\ndescription = \"d\"\nprogram = [\"deploy\"]\nflags = [\"--prod\"]\naction = \"confirm\"\nmessage = \"deploy to prod\"\nexamples.match = [\"deploy --prod\", \"deploy --staging\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let p = pack.to_str().unwrap_or("");
    let o = s.run(&["check", "--rules", p, "--command", "deploy --prod"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains(&format!("{p}:11:36")), "{}", stderr(&o));
    // `rules test` reports the failure instead of stopping.
    let o = s.run(&["rules", "test", p]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("FAIL") && stdout(&o).contains("deploy --staging"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn rules_test_passes_over_every_builtin_pack() {
    let s = Sandbox::new();
    let o = s.run(&["rules", "test"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains(" 0 failed"), "{}", stdout(&o));
}

#[test]
fn rules_list_lint_and_explain() {
    let s = Sandbox::new();
    let o = s.run(&["rules", "list"]);
    assert_eq!(code(&o), 0);
    for pack in [
        "core",
        "git",
        "kubernetes",
        "terraform",
        "aws",
        "gcloud",
        "azure",
        "databases",
        "docker",
        "feature-flags",
        "secrets",
    ] {
        assert!(
            stdout(&o).lines().any(|l| l.starts_with(pack)),
            "{pack} missing:\n{}",
            stdout(&o)
        );
    }
    let o = s.run(&["rules", "lint"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let o = s.run(&[
        "rules",
        "explain",
        "sudo -u deploy bash -c 'git -C /srv/app push -f'",
    ]);
    assert_eq!(code(&o), 10);
    let text = stdout(&o);
    assert!(text.contains("unwrap: sudo"), "{text}");
    assert!(text.contains("bash -c"), "{text}");
    assert!(text.contains("git.push-force-protected"), "{text}");
    assert!(text.contains("target: git"), "{text}");
}

#[test]
fn project_packs_need_trust_to_relax() {
    let s = Sandbox::new();
    let rules_dir = s.path("proj/.overwatch/rules");
    std::fs::create_dir_all(&rules_dir).unwrap_or_else(|e| panic!("{e}"));
    let pack = rules_dir.join("relax.toml");
    std::fs::write(&pack, "name = \"relax\"\nversion = \"1\"\ndescription = \"d\"\n[overrides]\n\"git.reset-hard\" = \"allow\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        code(&s.run(&["check", "--command", "git reset --hard"])),
        10
    );
    let o = s.run(&["rules", "trust", pack.to_str().unwrap_or("")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(Path::new(&s.path("home/.local/share/overwatch/trust.json")).exists());
    assert_eq!(code(&s.run(&["check", "--command", "git reset --hard"])), 0);
    // An edit revokes trust.
    std::fs::write(&pack, "name = \"relax\"\nversion = \"2\"\ndescription = \"d\"\n[overrides]\n\"git.reset-hard\" = \"allow\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        code(&s.run(&["check", "--command", "git reset --hard"])),
        10
    );
    // A pack that does not load (here a bad regex) is refused with file:line:column, and
    // nothing is recorded for it.
    let bad = rules_dir.join("bad.toml");
    std::fs::write(&bad, "name = \"bad\"\nversion = \"1\"\ndescription = \"d\"\n[[rules]]\nid = \"bad.x\"\ndescription = \"x\"\nprogram = [\"git\"]\nregex = \"(unclosed\"\naction = \"confirm\"\nmessage = \"m\"\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let trust_file = s.path("home/.local/share/overwatch/trust.json");
    let before = std::fs::read_to_string(&trust_file).unwrap_or_default();
    let o = s.run(&["rules", "trust", bad.to_str().unwrap_or("")]);
    assert_eq!(code(&o), 2, "{}", stdout(&o));
    assert!(stderr(&o).contains("bad.toml:8:9"), "{}", stderr(&o));
    assert!(stderr(&o).contains("unclosed group"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&trust_file).unwrap_or_default(),
        before
    );
    std::fs::remove_file(&bad).unwrap_or_else(|e| panic!("{e}"));
    // The agent cannot trust packs itself.
    assert_eq!(
        code(&s.run(&[
            "check",
            "--command",
            "overwatch rules trust .overwatch/rules/relax.toml"
        ])),
        11
    );
}

#[test]
fn check_resolves_targets_from_the_real_kubeconfig() {
    let s = Sandbox::new();
    std::fs::create_dir_all(s.path("home/.kube")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        s.path("home/.kube/config"),
        "apiVersion: v1\nkind: Config\ncurrent-context: prod-eu\nclusters:\n- name: prod-eu\n  cluster: {server: \"https://k8s.prod-eu.example.com\"}\n- name: kind-dev\n  cluster: {server: \"https://127.0.0.1:6443\"}\ncontexts:\n- name: prod-eu\n  context: {cluster: prod-eu, user: admin}\n- name: kind-dev\n  context: {cluster: kind-dev, user: dev}\nusers:\n- name: admin\n  user: {}\n- name: dev\n  user: {}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // Same command, the ambient context decides…
    let o = s.run(&["check", "--json", "--command", "kubectl delete ns scratch"]);
    assert_eq!(code(&o), 10, "{}", stdout(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap_or_default();
    assert_eq!(v["commands"][0]["target"]["name"], "prod-eu");
    assert_eq!(v["commands"][0]["tier"], "production");
    // …unless the command names its own context.
    assert_eq!(
        code(&s.run(&[
            "check",
            "--command",
            "kubectl --context kind-dev delete ns scratch"
        ])),
        0
    );
    assert_eq!(
        code(&s.run(&[
            "check",
            "--command",
            "k --context=kind-dev delete ns scratch"
        ])),
        0
    );
    // A kubeconfig override that resolves to nothing is unknown, and unknown is not safe.
    assert_eq!(
        code(&s.run(&[
            "check",
            "--command",
            "KUBECONFIG=/nonexistent kubectl delete ns x"
        ])),
        10
    );
}

/// The complete team pack shown in README.md loads and its embedded examples pass, so the
/// documentation cannot drift from the pack format.
#[test]
fn readme_example_pack_passes_rules_test() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .unwrap_or_else(|e| panic!("reading README.md: {e}"));
    let start = readme
        .find("```toml\nname = \"acme\"")
        .unwrap_or_else(|| panic!("README.md lost its example pack"));
    let body = &readme[start + "```toml\n".len()..];
    let pack = &body[..body
        .find("```")
        .unwrap_or_else(|| panic!("unterminated code block"))];
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("acme.toml");
    std::fs::write(&path, pack).unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_overwatch"))
        .args(["rules", "test"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(" 0 failed"));
}
