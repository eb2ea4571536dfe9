//! End-to-end tests of the workspace watcher through the real binary: `overwatch diff-watch DIR`
//! prints every diff event as a JSON line (the same JSON the recorder stores). Real files, real
//! inotify, real git repositories (made with the git CLI; the product reads them with gix).
//!
//! Every wait has a timeout and the child is killed on drop. The last test drives the whole app:
//! `overwatch run` in tmux (a real PTY), an agent script edits files, the Diff tab shows the hunk.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "support/tmux.rs"]
mod tmux;

const WAIT: Duration = Duration::from_secs(10);

/// A running `overwatch diff-watch` and the events it printed so far.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    /// Every raw line seen (for "never appears" checks).
    raw: Vec<String>,
    events: Vec<Value>,
}

impl Watch {
    /// Starts the watcher on `dir` and waits for its `watching` event.
    fn start(dir: &Path, extra_args: &[&str]) -> Watch {
        let mut child = Command::new(env!("CARGO_BIN_EXE_overwatch"))
            .arg("diff-watch")
            .arg(dir)
            .args(extra_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn overwatch diff-watch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut watch = Watch {
            child,
            lines,
            raw: Vec::new(),
            events: Vec::new(),
        };
        watch.wait_for("the watching event", |e| e["kind"] == "watching");
        watch
    }

    /// Reads events until one matches `pred` (returning it) or the timeout fails the test.
    fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.events.iter().find(|e| pred(e)) {
            return found.clone();
        }
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => panic!(
                    "timed out waiting for {what}; events so far:\n{:#?}",
                    self.events
                ),
            };
            let event: Value = serde_json::from_str(&line).expect("each line is JSON");
            self.raw.push(line);
            self.events.push(event.clone());
            if pred(&event) {
                return event;
            }
        }
    }

    /// Waits for the `file_changed` event of `path` with change type `change`.
    fn file_event(&mut self, path: &str, change: &str) -> Value {
        self.wait_for(&format!("{change} {path}"), |e| {
            e["kind"] == "file_changed" && e["path"] == path && e["change"]["type"] == change
        })
    }

    /// Writes a sentinel file and waits for its event: everything written before it has been
    /// processed (events of one watcher are in order).
    fn sync(&mut self, dir: &Path, n: usize) {
        let name = format!("sync-{n}.txt");
        std::fs::write(dir.join(&name), format!("sync {n}\n")).expect("write sentinel");
        self.file_event(&name, "added");
    }

    fn paths(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e["kind"] == "file_changed")
            .map(|e| e["path"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("run git");
    assert!(status.success(), "git {args:?}");
}

fn write(dir: &Path, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(&path, text).expect("write");
    path
}

fn unified(event: &Value, baseline: &str) -> String {
    event[baseline]["body"]["unified"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn ignored_files_and_build_outputs_produce_no_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, ".gitignore", "*.log\n/generated/\n");
    let mut watch = Watch::start(root, &[]);
    write(root, "debug.log", "noise\n");
    write(root, "generated/out.rs", "x\n");
    write(root, "target/debug/app", "binary\n");
    write(root, "web/node_modules/pkg/index.js", "x\n");
    write(root, "dist/bundle.js", "x\n");
    // A .gitignore change is re-read: *.tmp becomes ignored from now on.
    write(root, ".gitignore", "*.log\n/generated/\n*.tmp\n");
    watch.file_event(".gitignore", "modified");
    write(root, "scratch.tmp", "x\n");
    watch.sync(root, 1);
    let paths = watch.paths();
    assert_eq!(
        paths,
        vec![".gitignore", "sync-1.txt"],
        "{:#?}",
        watch.events
    );
}

#[test]
fn create_modify_rename_and_delete_are_reported_with_diffs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "keep.txt", "keep\n");
    let mut watch = Watch::start(root, &[]);

    write(root, "src/new.rs", "fn a() {}\n");
    let added = watch.file_event("src/new.rs", "added");
    assert_eq!(
        unified(&added, "since_session"),
        "@@ -0,0 +1 @@\n+fn a() {}\n"
    );
    assert_eq!(added["since_head"], Value::Null, "not a git repository");

    write(root, "keep.txt", "keep\nmore\n");
    let modified = watch.file_event("keep.txt", "modified");
    assert_eq!(
        unified(&modified, "since_session"),
        "@@ -1 +1,2 @@\n keep\n+more\n"
    );
    assert_eq!(modified["since_session"]["added"], 1);

    std::fs::rename(root.join("keep.txt"), root.join("kept.txt")).expect("rename");
    let renamed = watch.file_event("kept.txt", "renamed");
    assert_eq!(renamed["change"]["from"], "keep.txt");
    // Diffed against the baseline of the file's original path.
    assert_eq!(
        unified(&renamed, "since_session"),
        "@@ -1 +1,2 @@\n keep\n+more\n"
    );

    std::fs::remove_file(root.join("kept.txt")).expect("rm");
    let deleted = watch.file_event("kept.txt", "deleted");
    assert_eq!(unified(&deleted, "since_session"), "@@ -1 +0,0 @@\n-keep\n");

    // A directory created with files in it at once: every file is reported.
    std::fs::create_dir_all(root.join("pkg/inner")).expect("mkdir");
    write(root, "pkg/inner/a.rs", "a\n");
    write(root, "pkg/b.rs", "b\n");
    watch.file_event("pkg/inner/a.rs", "added");
    watch.file_event("pkg/b.rs", "added");
}

#[test]
fn binary_files_are_reported_as_binary_and_never_dumped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(
        root,
        "logo.png",
        b"\x89PNG\r\n\x1a\n\0\0old-pixels".as_slice(),
    );
    let mut watch = Watch::start(root, &[]);
    write(
        root,
        "logo.png",
        b"\x89PNG\r\n\x1a\n\0\0NEWPIXELS".as_slice(),
    );
    let event = watch.file_event("logo.png", "modified");
    assert_eq!(event["since_session"]["body"]["type"], "binary");
    assert!(
        !watch
            .raw
            .iter()
            .any(|l| l.contains("NEWPIXELS") || l.contains("old-pixels"))
    );
}

#[test]
fn baselines_come_from_git_head_and_from_session_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, "app.py", "port = 80\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "init"]);
    write(root, "app.py", "port = 8080\n"); // dirty before the session starts
    let mut watch = Watch::start(root, &[]);
    let watching = &watch.events[0];
    assert!(
        watching["baseline"]
            .as_str()
            .is_some_and(|b| b.starts_with("HEAD ")),
        "{watching}"
    );

    write(root, "app.py", "port = 9090\n");
    let event = watch.file_event("app.py", "modified");
    assert_eq!(
        unified(&event, "since_head"),
        "@@ -1 +1 @@\n-port = 80\n+port = 9090\n"
    );
    assert_eq!(
        unified(&event, "since_session"),
        "@@ -1 +1 @@\n-port = 8080\n+port = 9090\n"
    );

    // A commit moves HEAD: the changed file is re-diffed against the new HEAD.
    git(root, &["commit", "-q", "-am", "second"]);
    watch.wait_for("re-diff against the new HEAD", |e| {
        e["kind"] == "file_changed"
            && e["path"] == "app.py"
            && e["since_head"]["body"]["type"] == "unchanged"
    });
}

#[test]
fn sensitive_files_raise_warnings_and_secret_values_never_appear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, ".gitignore", ".env\n*.tfstate\n");
    write(
        root,
        ".env",
        "STRIPE_KEY=sk_live_OLDSECRETVALUE0001\nDEBUG=1\n",
    );
    write(
        root,
        "infra/terraform.tfstate",
        "{\"password\": \"TFSTATE-SECRET-1\"}\n",
    );
    write(root, ".github/workflows/ci.yml", "on: push\n");
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "init"]);
    let mut watch = Watch::start(root, &["--sensitive", "deploy/*.sh"]);

    write(
        root,
        ".env",
        "STRIPE_KEY=sk_live_NEWSECRETVALUE0002\nDEBUG=1\n",
    );
    let warning = watch.wait_for(".env warning", |e| {
        e["kind"] == "sensitive_change" && e["path"] == ".env"
    });
    assert_eq!(
        warning["summary"],
        "`.env`: key `STRIPE_KEY` changed, value redacted"
    );
    let event = watch.file_event(".env", "modified");
    assert_eq!(
        unified(&event, "since_session"),
        "@@ -1,2 +1,2 @@\n-STRIPE_KEY=<redacted>\n+STRIPE_KEY=<redacted>\n DEBUG=<redacted>\n"
    );

    write(
        root,
        "infra/terraform.tfstate",
        "{\"password\": \"TFSTATE-SECRET-2\"}\n",
    );
    let tf = watch.file_event("infra/terraform.tfstate", "modified");
    assert_eq!(tf["since_session"]["body"]["type"], "hidden");

    write(
        root,
        ".github/workflows/ci.yml",
        "on: push\nenv:\n  TOKEN: ghp_0123456789abcdefghijABCDEFGHIJ012345\n",
    );
    let ci = watch.wait_for("CI warning", |e| {
        e["kind"] == "sensitive_change" && e["path"] == ".github/workflows/ci.yml"
    });
    assert_eq!(ci["label"], "CI config");
    assert_eq!(
        ci["summary"],
        "`.github/workflows/ci.yml`: +2 \u{2212}0 lines"
    );

    write(root, "deploy/release.sh", "echo release\n");
    let configured = watch.wait_for("configured glob warning", |e| {
        e["kind"] == "sensitive_change" && e["path"] == "deploy/release.sh"
    });
    assert_eq!(configured["label"], "configured sensitive file");

    // A planted secret in an ordinary file is redacted too.
    write(root, "config.py", "AWS_KEY = 'AKIAQ3EGRTX5LNZW7YKP'\n");
    let plain = watch.file_event("config.py", "added");
    assert_eq!(
        unified(&plain, "since_session"),
        "@@ -0,0 +1 @@\n+AWS_KEY = '[REDACTED:aws-access-token]'\n"
    );

    for secret in [
        "OLDSECRETVALUE0001",
        "NEWSECRETVALUE0002",
        "TFSTATE-SECRET",
        "ghp_0123456789",
        "AKIAQ3EGRTX5LNZW7YKP",
    ] {
        assert!(
            !watch.raw.iter().any(|line| line.contains(secret)),
            "{secret} leaked:\n{:#?}",
            watch.raw
        );
    }
}

#[test]
fn deleting_many_files_at_once_raises_one_mass_delete_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for i in 0..80 {
        write(root, &format!("old/f{i:03}.txt"), format!("{i}\n"));
    }
    write(root, "few/a.txt", "a\n");
    let mut watch = Watch::start(root, &[]);
    std::fs::remove_dir_all(root.join("old")).expect("rm -rf old");
    let mass = watch.wait_for("mass delete", |e| e["kind"] == "mass_delete");
    assert_eq!(mass["count"], 80);
    assert_eq!(mass["window_ms"], 2000);
    watch.sync(root, 1);
    let deleted = watch
        .events
        .iter()
        .filter(|e| e["kind"] == "file_changed" && e["change"]["type"] == "deleted")
        .count();
    assert_eq!(deleted, 80);
    let warnings = watch
        .events
        .iter()
        .filter(|e| e["kind"] == "mass_delete")
        .count();
    assert_eq!(warnings, 1);
    // A single deletion afterwards is not a mass delete.
    std::fs::remove_file(root.join("few/a.txt")).expect("rm");
    watch.file_event("few/a.txt", "deleted");
    watch.sync(root, 2);
    assert_eq!(
        watch
            .events
            .iter()
            .filter(|e| e["kind"] == "mass_delete")
            .count(),
        1
    );
}

#[test]
fn directory_renames_and_moves_out_of_the_workspace() {
    let outside = tempfile::tempdir().expect("tempdir");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "lib/a.rs", "a\n");
    write(root, "lib/sub/b.rs", "b\n");
    write(root, "gone.txt", "bye\n");
    write(root, ".gitignore", "/ignored/\n");
    let mut watch = Watch::start(root, &[]);

    std::fs::rename(root.join("lib"), root.join("core")).expect("rename dir");
    let a = watch.file_event("core/a.rs", "renamed");
    assert_eq!(a["change"]["from"], "lib/a.rs");
    assert_eq!(a["since_session"]["body"]["type"], "unchanged");
    let b = watch.file_event("core/sub/b.rs", "renamed");
    assert_eq!(b["change"]["from"], "lib/sub/b.rs");
    // Changes inside the moved tree are reported under its new name, new files too.
    write(root, "core/sub/b.rs", "b\nmore\n");
    let edited = watch.file_event("core/sub/b.rs", "modified");
    assert_eq!(
        unified(&edited, "since_session"),
        "@@ -1 +1,2 @@\n b\n+more\n"
    );
    write(root, "core/sub/c.rs", "c\n");
    watch.file_event("core/sub/c.rs", "added");

    // Moved out of the workspace, or into an ignored directory: a deletion.
    std::fs::rename(root.join("gone.txt"), outside.path().join("gone.txt")).expect("move out");
    watch.file_event("gone.txt", "deleted");
    std::fs::create_dir(root.join("ignored")).expect("mkdir");
    std::fs::rename(root.join("core/a.rs"), root.join("ignored/a.rs")).expect("move to ignored");
    watch.file_event("core/a.rs", "deleted");
    // Moved in from outside: an addition.
    write(outside.path(), "in.txt", "hello\n");
    std::fs::rename(outside.path().join("in.txt"), root.join("in.txt")).expect("move in");
    let added = watch.file_event("in.txt", "added");
    assert_eq!(unified(&added, "since_session"), "@@ -0,0 +1 @@\n+hello\n");
    watch.sync(root, 1);
    assert!(
        !watch.paths().iter().any(|p| p.starts_with("ignored/")),
        "{:#?}",
        watch.events
    );
}

#[test]
fn an_atomic_save_over_an_existing_file_is_a_modification_of_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "a.txt", "one\n");
    let mut watch = Watch::start(root, &[]);
    write(root, ".a.txt.tmp", "one\ntwo\n");
    watch.file_event(".a.txt.tmp", "added");
    std::fs::rename(root.join(".a.txt.tmp"), root.join("a.txt")).expect("rename over");
    let modified = watch.file_event("a.txt", "modified");
    assert_eq!(
        unified(&modified, "since_session"),
        "@@ -1 +1,2 @@\n one\n+two\n"
    );
    watch.file_event(".a.txt.tmp", "deleted");
    // Written and renamed within one debounce window: only the modification is reported.
    write(root, ".a.txt.tmp2", "one\ntwo\nthree\n");
    std::fs::rename(root.join(".a.txt.tmp2"), root.join("a.txt")).expect("rename over");
    watch.wait_for("second save", |e| {
        e["path"] == "a.txt"
            && e["since_session"]["added"] == 2
            && e["change"]["type"] == "modified"
    });
    watch.sync(root, 1);
    assert!(
        !watch.paths().iter().any(|p| p == ".a.txt.tmp2"),
        "{:#?}",
        watch.events
    );
}

/// The real thing: `overwatch run -- bash` in tmux; the agent runs a script that edits a
/// committed file and plants a secret in `.env`; the Diff tab lists both, shows the hunk, warns
/// about `.env`, and the secret value never reaches the screen.
#[test]
fn an_agent_edit_shows_up_as_a_hunk_in_the_diff_tab() {
    if !tmux::tmux_available() {
        eprintln!("skipping: tmux is not installed (apt-get install tmux)");
        return;
    }
    let secret = "sk_live_PLANTEDdiffTAB0000000001";
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    git(root, &["init", "-q"]);
    write(root, "app.py", "host = 'localhost'\nport = 8080\n");
    // The agent's script exists before the session, so it is no change itself.
    write(
        root,
        "agent.sh",
        format!(
            "sed -i 's/8080/9090/' app.py\nprintf 'STRIPE_KEY={secret}\\n' > .env\necho agent-done\n"
        ),
    );
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "init"]);

    let t = tmux::Tmux::start(tmux::Launch {
        args: "run -- bash --norc",
        cwd: Some(root),
        ..tmux::Launch::default()
    });
    t.wait_for("$ ");
    t.text("sh agent.sh");
    t.keys(&["Enter"]);
    t.wait_for("agent-done");
    // The warning shows in the status bar (until the next key).
    let screen = t.wait_for("`.env`: created: key `STRIPE_KEY` added, value redacted");
    assert!(!screen.contains(secret), "{screen}");
    t.keys(&["C-]", "d"]); // show the Diff tab
    t.keys(&["C-]", "Tab"]); // focus the side panel: keys now go to the tab
    let screen = t.wait_until("both files listed, .env selected", |s| {
        s.contains(".env") && s.contains("app.py") && s.contains("+STRIPE_KEY=<redacted>")
    });
    assert!(!screen.contains(secret), "{screen}");

    t.keys(&["Down"]);
    let screen = t.wait_until("app.py's hunk", |s| {
        s.contains("-port = 8080") && s.contains("+port = 9090")
    });
    assert!(screen.contains("@@ -1,2 +1,2 @@"), "{screen}");
    t.keys(&["t"]);
    let screen = t.wait_for("since HEAD");
    assert!(screen.contains("+port = 9090"), "{screen}");
    assert!(!screen.contains(secret), "{screen}");
}
