//! `overwatch env [--json] [--rules P]…`: print the detected context of this shell — every fact
//! with its tier, the reason for it and where it was read — and the credentials present (names
//! only). Reads the real process env, `$HOME` and the current directory; never a subprocess.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Deserialize;
use unicode_width::UnicodeWidthStr;

use crate::cli::EnvArgs;
use crate::context::{self, Context, CustomProbe, Knowledge, ProbeEnv, Tier, TierPin};

/// Prints the facts as a table (tier coloured unless `NO_COLOR` is set or stdout is not a
/// terminal) or as JSON `{"tier", "facts": [...], "credentials": [...]}`.
pub fn main(args: EnvArgs) -> anyhow::Result<ExitCode> {
    let knowledge = load_knowledge(&args.rules)?;
    let input = ProbeEnv::from_process().context("reading the current directory")?;
    let ctx = context::detect(&input, &knowledge);
    let out = if args.json {
        let mut s = serde_json::to_string_pretty(&ctx).context("encoding the context as JSON")?;
        s.push('\n');
        s
    } else {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        table(&ctx, !no_color && std::io::stdout().is_terminal())
    };
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `overwatch env | head` closing the pipe is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e).context("writing to stdout"),
    }
}

/// The parts of a rule pack this command uses. Other tables (`[[rules]]`, `[pack]`, …) are the
/// rule engine's business and ignored here.
// TODO(integration): replace with the rules module's pack loader once it lands on main.
#[derive(Debug, Default, Deserialize)]
struct PackKnowledge {
    #[serde(default)]
    pins: Vec<TierPin>,
    #[serde(default)]
    probes: Vec<CustomProbe>,
}

/// Loads `[[pins]]` and `[[probes]]` from rule-pack files, or every `*.toml` in a directory
/// (sorted by name). Errors name the file; invalid pins or probes are errors, not skipped,
/// because a silently dropped production pin would make production read as unknown.
pub fn load_knowledge(paths: &[PathBuf]) -> anyhow::Result<Knowledge> {
    let mut knowledge = Knowledge::default();
    for path in paths {
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("listing rule packs in {}", path.display()))?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.clone()]
        };
        for file in files {
            let pack = load_pack(&file)?;
            knowledge.pins.extend(pack.pins);
            knowledge.probes.extend(pack.probes);
        }
    }
    if let Err(problems) = context::validate_knowledge(&knowledge) {
        anyhow::bail!(
            "checking tier pins and probes:\n  {}",
            problems.join("\n  ")
        );
    }
    Ok(knowledge)
}

fn load_pack(file: &Path) -> anyhow::Result<PackKnowledge> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("reading rule pack {}", file.display()))?;
    toml::from_str(&text).with_context(|| format!("loading rule pack {}", file.display()))
}

/// ANSI SGR for a tier. Production must be impossible to miss: bold white on red.
fn tier_sgr(tier: Tier) -> &'static str {
    match tier {
        Tier::Production => "1;97;41",
        Tier::Staging => "1;33",
        Tier::Unknown => "35",
        Tier::Development => "32",
    }
}

fn paint(text: &str, sgr: &str, color: bool) -> String {
    if color {
        format!("\x1b[{sgr}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn pad(text: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(w)))
}

/// The human-readable table.
pub fn table(ctx: &Context, color: bool) -> String {
    let mut out = String::new();
    let tier_label = ctx.tier.as_str().to_uppercase();
    let why = ctx
        .deciding_fact()
        .map(|f| format!(" — {}", f.reason))
        .unwrap_or_else(|| " — no environment detected".to_string());
    let _ = writeln!(
        out,
        "session tier: {}{why}",
        paint(&format!(" {tier_label} "), tier_sgr(ctx.tier), color)
    );
    out.push('\n');
    if ctx.facts.is_empty() {
        out.push_str(
            "no facts: no kubeconfig, cloud profile, workspace, repository or service URL found\n",
        );
    } else {
        let kw = ctx
            .facts
            .iter()
            .map(|f| f.kind.as_str().width())
            .max()
            .unwrap_or(4)
            .max(4);
        let nw = ctx
            .facts
            .iter()
            .map(|f| f.name.width())
            .max()
            .unwrap_or(4)
            .clamp(4, 40);
        let sw = ctx
            .facts
            .iter()
            .map(|f| f.source.width())
            .max()
            .unwrap_or(6)
            .clamp(6, 40);
        let tw = "development".len();
        let _ = writeln!(
            out,
            "{} {} {} {} REASON",
            pad("KIND", kw),
            pad("NAME", nw),
            pad("TIER", tw),
            pad("SOURCE", sw)
        );
        for f in &ctx.facts {
            let _ = writeln!(
                out,
                "{} {} {} {} {}",
                pad(f.kind.as_str(), kw),
                pad(&f.name, nw),
                paint(&pad(f.tier.as_str(), tw), tier_sgr(f.tier), color),
                pad(&f.source, sw),
                f.reason
            );
            if !f.details.is_empty() {
                let details: Vec<String> =
                    f.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let line = format!("{} {}", " ".repeat(kw), details.join("  "));
                let _ = writeln!(out, "{}", paint(&line, "2", color));
            }
        }
    }
    out.push('\n');
    if ctx.credentials.is_empty() {
        out.push_str("credentials: none detected\n");
    } else {
        out.push_str("CREDENTIALS (names only, values never shown)\n");
        let kw = ctx
            .credentials
            .iter()
            .map(|c| c.kind.width())
            .max()
            .unwrap_or(4);
        let nw = ctx
            .credentials
            .iter()
            .map(|c| c.name.width())
            .max()
            .unwrap_or(4)
            .min(60);
        for c in &ctx.credentials {
            let _ = writeln!(
                out,
                "  {} {} {}",
                pad(&c.kind, kw),
                pad(&c.name, nw),
                c.source
            );
        }
    }
    out
}
