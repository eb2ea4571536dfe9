//! The wrapper table: how `sudo`, `env`, `timeout`, `flock`, `strace`, `ssh`, `npx`, `uv run`,
//! `aws-vault exec`, `cmd /c`, … are removed, with each wrapper's own value-taking options so that
//! the wrapped command starts at the right word.

use std::ops::Range;

use super::Invocation;
use crate::rules::parse::{self, Word};

/// How a wrapper is removed.
pub(super) enum Unwrap {
    /// Not a wrapper.
    None,
    /// The wrapped command starts at argv[index].
    Rest {
        index: usize,
        step: String,
        env: Vec<(String, Word)>,
    },
    /// The wrapper runs this text as shell code.
    Script {
        text: String,
        span: Range<usize>,
        step: String,
        dynamic: bool,
    },
    /// `ssh host [cmd]`.
    Remote {
        host: String,
        text: Option<(String, bool)>,
        span: Range<usize>,
    },
    /// `command -v`, nothing runs.
    Lookup,
}

pub(super) fn is_assignment(w: &Word) -> bool {
    match w.text.split_once('=') {
        Some((k, _)) => {
            !k.is_empty()
                && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !k.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Skips leading options; returns the index of the first non-option and the options seen.
/// `values` lists options that take a separate value; `--opt=v` and `-Xvalue` are understood.
pub fn skip_options(args: &[Word], values: &[&str]) -> (usize, Vec<(String, Option<String>)>) {
    let mut i = 0;
    let mut seen = Vec::new();
    while i < args.len() {
        let t = args[i].text.as_str();
        if t == "--" {
            return (i + 1, seen);
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        if let Some((k, v)) = t.split_once('=').filter(|_| t.starts_with("--")) {
            seen.push((k.to_string(), Some(v.to_string())));
            i += 1;
            continue;
        }
        if values.contains(&t) {
            seen.push((t.to_string(), args.get(i + 1).map(|w| w.text.clone())));
            i += 2;
            continue;
        }
        // `-uroot`: a value-taking short option with its value attached.
        // (`get`: a non-ASCII second character is no option letter, and must not be sliced.)
        if t.len() > 2
            && !t.starts_with("--")
            && let (Some(flag), Some(value)) = (t.get(..2), t.get(2..))
            && values.contains(&flag)
        {
            seen.push((flag.to_string(), Some(value.to_string())));
            i += 1;
            continue;
        }
        seen.push((t.to_string(), None));
        i += 1;
    }
    (i, seen)
}

fn rest(index: usize, step: impl Into<String>) -> Unwrap {
    Unwrap::Rest {
        index,
        step: step.into(),
        env: Vec::new(),
    }
}

/// Recognises a wrapper at the front of `inv` and says how to remove it.
pub(super) fn wrapper(program: &str, inv: &Invocation) -> Unwrap {
    let args = inv.args();
    let opts = |values: &[&str]| skip_options(args, values);
    // The option must be the wrapper's own: for most wrappers that means before the first
    // positional (a later `-c` belongs to the wrapped command, as in `npx psql -c`); `su`, whose
    // trailing words all go to its shell, may carry it anywhere.
    let script_opt = |names: &[&str], what: &str| -> Option<Unwrap> {
        let own = if matches!(program, "su" | "runuser" | "sg") {
            args.len()
        } else {
            args.iter()
                .position(|w| !w.text.starts_with('-'))
                .unwrap_or(args.len())
        };
        let i = args[..own]
            .iter()
            .position(|w| names.contains(&w.text.as_str()))?;
        let w = args.get(i + 1)?;
        Some(Unwrap::Script {
            text: w.text.clone(),
            span: w.span.clone(),
            step: format!("{what}: evaluating its command string"),
            dynamic: w.dynamic,
        })
    };
    match program {
        "sudo" | "doas" | "run0" | "pkexec" | "sudo-rs" => {
            if args.iter().any(|w| {
                matches!(
                    w.text.as_str(),
                    "-e" | "--edit" | "-l" | "--list" | "-v" | "--validate" | "-k" | "-K"
                )
            }) {
                return Unwrap::None;
            }
            let (i, _) = opts(&[
                "-u",
                "-g",
                "-h",
                "-p",
                "-C",
                "-D",
                "-r",
                "-t",
                "-T",
                "-U",
                "-R",
                "--user",
                "--group",
                "--host",
                "--prompt",
                "--close-from",
                "--chdir",
                "--role",
                "--type",
                "--command-timeout",
                "--other-user",
                "--chroot",
                "--unit",
                "--property",
                "--description",
                "--slice",
                "--setenv",
            ]);
            rest(i + 1, format!("{program}: runs the rest as another user"))
        }
        "su" | "runuser" => script_opt(&["-c", "--command", "--session-command"], program)
            .unwrap_or_else(|| {
                if program == "runuser" {
                    let (i, _) = opts(&["-u", "-g", "-G", "--user", "--group"]);
                    if args.iter().any(|w| w.text == "-u" || w.text == "--user") {
                        return rest(i + 1, "runuser: runs the rest as another user");
                    }
                }
                Unwrap::None
            }),
        "env" => env_wrapper(inv),
        "command" => {
            if args
                .iter()
                .take_while(|w| w.text.starts_with('-'))
                .any(|w| w.text.contains('v') || w.text.contains('V'))
            {
                return Unwrap::Lookup;
            }
            let (i, _) = opts(&[]);
            rest(i + 1, "command: runs the named program")
        }
        "builtin" | "nohup" | "noglob" | "nocorrect" | "setsid" | "catchsegv" | "caffeinate"
        | "dbus-run-session" | "torify" | "with-contenv" | "ssh-agent" | "fakeroot"
        | "valgrind" | "firejail" | "proxychains" | "proxychains4" | "torsocks" | "tsocks"
        | "systemd-run" | "busybox" | "toybox" | "unbuffer" | "rlwrap" | "winpty" | "stdbuf"
        | "unshare" | "ltrace" | "strace" | "time" | "exec" | "nice" | "ionice" | "setpriv"
        | "nsenter" | "xvfb-run" | "cgexec" | "sg" | "nocache" | "eatmydata" | "chronic" | "ts"
        | "pv" => {
            let values: &[&str] = match program {
                "exec" => &["-a"],
                "time" => &["-f", "-o", "--format", "--output"],
                "nice" => &["-n", "--adjustment"],
                "ionice" => &["-c", "-n", "-p", "-P", "-u", "--class", "--classdata"],
                "stdbuf" => &["-i", "-o", "-e", "--input", "--output", "--error"],
                "strace" => &[
                    "-o", "-e", "-p", "-s", "-a", "-u", "-E", "-P", "-I", "-O", "-S", "-X", "-b",
                ],
                "ltrace" => &["-o", "-e", "-n", "-s", "-u", "-p", "-a", "-A", "-D"],
                "unshare" => &[
                    "-S",
                    "-G",
                    "-R",
                    "-w",
                    "--setuid",
                    "--setgid",
                    "--root",
                    "--wd",
                    "--map-user",
                    "--map-group",
                    "--propagation",
                    "--setgroups",
                ],
                "nsenter" => &["-t", "--target", "-S", "-G", "--setuid", "--setgid"],
                "xvfb-run" => &["-n", "-s", "-f", "-e", "-p", "--server-args"],
                "systemd-run" => &[
                    "-p",
                    "--property",
                    "-u",
                    "--unit",
                    "--description",
                    "--slice",
                    "-E",
                    "--setenv",
                    "--uid",
                    "--gid",
                    "-M",
                    "--machine",
                    "-H",
                    "--host",
                ],
                "proxychains" | "proxychains4" => &["-f"],
                "torsocks" => &["-u", "-p", "-a", "-P"],
                "cgexec" => &["-g"],
                "sg" => &[],
                _ => &[],
            };
            if program == "sg" {
                return script_opt(&["-c"], "sg")
                    .unwrap_or_else(|| rest(2, "sg: runs the rest in a group"));
            }
            let (i, _) = opts(values);
            rest(i + 1, format!("{program}: runs the rest"))
        }
        "timeout" | "chroot" | "taskset" | "chrt" | "flock" | "faketime" | "envchain"
        | "trickle" => {
            if program == "flock" {
                // `flock [opts] FILE -c CMD`: `-c` right after the lock file (a later `-c`
                // belongs to the wrapped command, e.g. `psql -c`).
                let (i, _) = opts(&["-w", "--wait", "--timeout", "-E", "--conflict-exit-code"]);
                if let (Some(c), Some(w)) = (args.get(i + 1), args.get(i + 2))
                    && matches!(c.text.as_str(), "-c" | "--command")
                {
                    return Unwrap::Script {
                        text: w.text.clone(),
                        span: w.span.clone(),
                        step: "flock -c: evaluating its command string".into(),
                        dynamic: w.dynamic,
                    };
                }
            }
            if program == "taskset" && args.iter().any(|w| w.text == "-p" || w.text == "--pid") {
                return Unwrap::None;
            }
            let values: &[&str] = match program {
                "timeout" => &["-s", "--signal", "-k", "--kill-after"],
                "chroot" => &["--userspec", "--groups"],
                "flock" => &["-w", "--wait", "--timeout", "-E", "--conflict-exit-code"],
                "trickle" => &["-u", "-d", "-w", "-t", "-l", "-n"],
                _ => &[],
            };
            let (i, _) = opts(values);
            // One positional (duration, directory, mask, lock file, priority) before the command.
            rest(i + 2, format!("{program}: runs the rest"))
        }
        "watch" => {
            let (i, _) = opts(&["-n", "--interval", "-d", "--differences"]);
            let rest_words = &args[i.min(args.len())..];
            match rest_words {
                [] => Unwrap::None,
                // One quoted string: watch hands it to `sh -c`.
                [one] => Unwrap::Script {
                    text: one.text.clone(),
                    span: one.span.clone(),
                    step: "watch: runs its argument through sh -c repeatedly".into(),
                    dynamic: one.dynamic,
                },
                // Several words: watch joins them for `sh -c` (or execs them with -x); the argv
                // reading is the one that cannot hide a quoted command.
                _ => rest(i + 1, "watch: runs the rest repeatedly"),
            }
        }
        "script" => script_opt(&["-c", "--command", "-qc"], "script").unwrap_or(Unwrap::None),
        "npx" | "bunx" | "pnpx" => {
            if let Some(s) = script_opt(&["-c", "--call"], program) {
                return s;
            }
            let (i, _) = opts(&["-p", "--package"]);
            rest(i + 1, format!("{program}: runs a package binary"))
        }
        "npm" | "pnpm" | "yarn" | "uv" | "poetry" | "pipenv" | "pdm" | "hatch" | "rye" | "pixi"
        | "bundle" | "mise" | "rtx" | "asdf" | "conda" | "mamba" | "micromamba" | "cargo" => {
            let sub = args.first().map(|w| w.text.as_str()).unwrap_or("");
            let runs = matches!(
                (program, sub),
                ("npm", "exec" | "x")
                    | ("pnpm", "exec" | "dlx")
                    | ("yarn", "exec" | "dlx")
                    | (
                        "uv" | "poetry"
                            | "pipenv"
                            | "pdm"
                            | "hatch"
                            | "rye"
                            | "pixi"
                            | "conda"
                            | "mamba"
                            | "micromamba",
                        "run"
                    )
                    | ("uv", "tool")
                    | ("bundle", "exec")
                    | ("mise" | "rtx" | "asdf", "exec" | "x")
            );
            if !runs {
                return Unwrap::None;
            }
            let tail = &args[1..];
            let values: &[&str] = &[
                "-p",
                "--package",
                "-n",
                "--name",
                "-e",
                "--env",
                "--with",
                "--from",
                "--python",
                "-c",
                "--channel",
            ];
            let (i, _) = skip_options(tail, values);
            let mut idx = i + 2;
            if (program, sub) == ("uv", "tool") {
                idx += 1;
            }
            rest(idx, format!("{program} {sub}: runs the rest"))
        }
        "uvx" | "pipx" => {
            let (i, _) = opts(&["--from", "--with", "--python", "--spec"]);
            let i = if program == "pipx" && args.get(i).is_some_and(|w| w.text == "run") {
                i + 1
            } else {
                i
            };
            rest(i + 1, format!("{program}: runs a package binary"))
        }
        "direnv" if args.first().is_some_and(|w| w.text == "exec") => {
            rest(3, "direnv exec: runs the rest")
        }
        "dotenv" | "dotenvx" | "op" | "doppler" | "infisical" | "chamber" | "aws-vault"
        | "sops" | "teller" | "summon" => {
            // `aws-vault exec PROFILE -- cmd`, `op run -- cmd`, `doppler run -- cmd`, `dotenv -- cmd`.
            let dd = args.iter().position(|w| w.text == "--");
            let mut env = Vec::new();
            if program == "aws-vault"
                && args.first().is_some_and(|w| w.text == "exec")
                && let Some(p) = args.get(1)
            {
                env.push(("AWS_PROFILE".to_string(), p.clone()));
            }
            if program == "sops" && args.first().is_some_and(|w| w.text == "exec-env") {
                return match args.get(2) {
                    Some(w) => Unwrap::Script {
                        text: w.text.clone(),
                        span: w.span.clone(),
                        step: "sops exec-env: runs its command string with decrypted secrets"
                            .into(),
                        dynamic: w.dynamic,
                    },
                    None => Unwrap::None,
                };
            }
            match dd {
                Some(d) => Unwrap::Rest {
                    index: d + 2,
                    step: format!("{program}: runs the command after `--` with injected secrets"),
                    env,
                },
                None if program == "aws-vault" && args.len() > 2 => Unwrap::Rest {
                    index: 3,
                    step: "aws-vault exec: runs the rest with the profile's credentials".into(),
                    env,
                },
                None => Unwrap::None,
            }
        }
        "cmd" => {
            let i = args
                .iter()
                .position(|w| matches!(w.text.to_ascii_lowercase().as_str(), "/c" | "/k" | "/r"));
            match i {
                Some(i) => rest(i + 2, "cmd /c: runs the rest"),
                None => Unwrap::None,
            }
        }
        "powershell" | "pwsh" => {
            script_opt(&["-Command", "-command", "-c", "-C"], program).unwrap_or(Unwrap::None)
        }
        "ssh" | "mosh" | "autossh" => {
            let (i, _) = opts(&[
                "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o",
                "-p", "-Q", "-R", "-S", "-W", "-w", "-B", "-M",
            ]);
            let Some(host_word) = args.get(i) else {
                return Unwrap::None;
            };
            let host = host_word
                .text
                .rsplit('@')
                .next()
                .unwrap_or(&host_word.text)
                .to_string();
            let cmd = &args[i + 1..];
            let text = (!cmd.is_empty()).then(|| {
                (
                    cmd.iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    cmd.iter().any(|w| w.dynamic),
                )
            });
            let span = cmd.first().map_or(inv.span.clone(), |w| {
                w.span.start..cmd[cmd.len() - 1].span.end
            });
            Unwrap::Remote { host, text, span }
        }
        "kubectl" | "oc" => Unwrap::None,
        _ => Unwrap::None,
    }
}

/// `env [-i] [-u NAME] [-C DIR] [-S STRING] [NAME=VALUE]… CMD…`.
fn env_wrapper(inv: &Invocation) -> Unwrap {
    let args = inv.args();
    let mut i = 0;
    let mut env = Vec::new();
    while i < args.len() {
        let t = args[i].text.as_str();
        match t {
            "--" => {
                i += 1;
                break;
            }
            "-u" | "--unset" | "-C" | "--chdir" | "-P" => i += 2,
            "-S" | "--split-string" => {
                let Some(w) = args.get(i + 1) else {
                    return Unwrap::None;
                };
                let mut text = w.text.clone();
                for extra in &args[i + 2..] {
                    text.push(' ');
                    text.push_str(&parse::shell_quote(&extra.text));
                }
                return Unwrap::Script {
                    text,
                    span: w.span.clone(),
                    step: "env -S: splits its string into a command".into(),
                    dynamic: w.dynamic,
                };
            }
            _ if t.starts_with("--split-string=") || (t.starts_with("-S") && t.len() > 2) => {
                let s = t.split_once('=').map_or(&t[2..], |x| x.1);
                return Unwrap::Script {
                    text: s.to_string(),
                    span: args[i].span.clone(),
                    step: "env -S: splits its string into a command".into(),
                    dynamic: args[i].dynamic,
                };
            }
            _ if t.starts_with('-') => i += 1,
            _ if is_assignment(&args[i]) => {
                if let Some((k, v)) = t.split_once('=') {
                    let mut w = args[i].clone();
                    w.text = v.to_string();
                    env.push((k.to_string(), w));
                }
                i += 1;
            }
            _ => break,
        }
    }
    if i >= args.len() {
        return Unwrap::None;
    }
    Unwrap::Rest {
        index: i + 1,
        step: "env: runs the rest with extra environment".into(),
        env,
    }
}
