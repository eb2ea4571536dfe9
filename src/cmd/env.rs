//! `overwatch env [--json] [--rules P]…`: print the detected context of this shell — every fact
//! with its tier, the reason for it and where it was read — and the credentials present (names
//! only). Reads the real process env, `$HOME` and the current directory; never a subprocess.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use unicode_width::UnicodeWidthStr;

use crate::cli::EnvArgs;
use crate::context::{self, Context, Knowledge, ProbeEnv, Tier};
use crate::rules::LoadOptions;
use crate::rules::pack::{self, LoadError, PackSource};
use crate::rules::trust::TrustFile;

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
/// paths. `Err` carries the exit code after the error was printed: a pack error with
/// file:line:column (miette), or an invalid pin or probe, which would otherwise silently
/// misclassify.
fn load_knowledge(input: &ProbeEnv, rules: &[PathBuf]) -> Result<Knowledge, ExitCode> {
    let opts = LoadOptions::standard(&input.cwd, rules.to_vec());
    let (knowledge, notes) = knowledge_from_packs(&opts).map_err(crate::cmd::check::pack_error)?;
    for note in notes {
        eprintln!("overwatch: note: {note}");
    }
    if let Err(problems) = context::validate_knowledge(&knowledge) {
        eprintln!(
            "overwatch: checking tier pins and probes:\n  {}",
            problems.join("\n  ")
        );
        return Err(ExitCode::from(2));
    }
    Ok(knowledge)
}

/// The `[[pins]]` and `[[probes]]` of every pack layer (built-in, user, team, project), read with
/// the rule engine's pack parser and trust file but without compiling the rules: compiling every
/// matcher costs ~30 ms, and `env` must start in well under 20 ms. The trust rule is the one
/// `rules::layers::compile` applies: an untrusted project pack (the agent's own workspace) keeps
/// only pins and probe tiers that say `production` — it may raise a tier, never lower one.
// TODO(integration): replace with a knowledge-only loader exposed by the rules module.
fn knowledge_from_packs(opts: &LoadOptions) -> Result<(Knowledge, Vec<String>), LoadError> {
    let trust = match &opts.trust_file {
        Some(p) => Some(TrustFile::load(p)?),
        None => None,
    };
    let mut sources: Vec<(PackSource, bool)> = Vec::new();
    if opts.builtin {
        sources.extend(pack::builtin_sources().into_iter().map(|s| (s, true)));
    }
    let mut add = |dir: &Path, project: bool| -> Result<(), LoadError> {
        for path in pack::pack_paths(dir)? {
            let source = pack::read_pack(&path)?;
            let trusted = !project
                || trust
                    .as_ref()
                    .is_some_and(|t| t.is_trusted(&path, &source.text));
            sources.push((source, trusted));
        }
        Ok(())
    };
    if let Some(dir) = &opts.user_dir {
        add(dir, false)?;
    }
    for path in &opts.team_paths {
        if !path.exists() {
            return Err(LoadError::Io {
                path: path.display().to_string(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file or directory",
                ),
            });
        }
        add(path, false)?;
    }
    if let Some(dir) = &opts.project_dir {
        add(dir, true)?;
    }
    let mut knowledge = Knowledge::default();
    let mut notes = Vec::new();
    for (source, trusted) in &sources {
        let file = pack::parse_pack(source)?;
        for pin in file.pins {
            if !trusted && pin.tier != Tier::Production {
                notes.push(format!(
                    "{}: a pin to {} ignored: the project pack is not trusted",
                    source.origin, pin.tier
                ));
                continue;
            }
            knowledge.pins.push(pin);
        }
        for mut probe in file.probes {
            if !trusted {
                probe.tiers.retain(|_, t| *t == Tier::Production);
            }
            knowledge.probes.push(probe);
        }
    }
    Ok((knowledge, notes))
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
