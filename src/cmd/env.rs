//! `overwatch env [--json] [--rules P]…`: print the detected context of this shell — every fact
//! with its tier, the reason for it and where it was read — and the credentials present (names
//! only). Reads the real process env, `$HOME` and the current directory; never a subprocess.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use unicode_width::UnicodeWidthStr;

use crate::cli::EnvArgs;
use crate::context::{self, Context, Knowledge, ProbeEnv, Tier};
use crate::rules::{Engine, LoadOptions};

/// Prints the facts as a table (tier coloured unless `NO_COLOR` is set or stdout is not a
/// terminal) or as JSON `{"tier", "facts": [...], "credentials": [...]}`.
pub fn main(args: EnvArgs) -> anyhow::Result<ExitCode> {
    let input = ProbeEnv::from_process().context("reading the current directory")?;
    let knowledge = match load_knowledge(&input, &args.rules) {
        Ok(k) => k,
        Err(code) => return Ok(code),
    };
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

/// Team knowledge (tier pins, custom probes) from the standard rule-pack layers plus `--rules`
/// paths, through the rule engine's loader (so project packs stay untrusted: they cannot pin
/// anything below production). `Err` carries the exit code after the error was printed (a pack
/// error with file:line:column, or an invalid pin or probe, which would otherwise silently
/// misclassify).
fn load_knowledge(input: &ProbeEnv, rules: &[PathBuf]) -> Result<Knowledge, ExitCode> {
    let opts = LoadOptions::standard(&input.cwd, rules.to_vec());
    // Unchecked: `env` does not evaluate commands, so pack examples need not run here.
    let engine = Engine::load_unchecked(&opts).map_err(|e| {
        eprintln!("{:?}", miette::Report::new(e));
        ExitCode::from(2)
    })?;
    for note in engine.load_notes() {
        eprintln!("overwatch: note: {note}");
    }
    let knowledge = engine.knowledge();
    if let Err(problems) = context::validate_knowledge(&knowledge) {
        eprintln!(
            "overwatch: checking tier pins and probes:\n  {}",
            problems.join("\n  ")
        );
        return Err(ExitCode::from(2));
    }
    Ok(knowledge)
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
