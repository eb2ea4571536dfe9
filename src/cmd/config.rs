//! `overwatch config show|path|themes`, `overwatch completions SHELL`, `overwatch man`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ConfigAction, ConfigArgs};
use crate::config::Config;
use crate::context::Tier;
use crate::theme::{self, Theme};

/// Runs `overwatch config …`.
pub fn main(args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let path = Config::user_path();
    match args.action {
        ConfigAction::Path => {
            let path = path
                .context("finding the config directory: neither XDG_CONFIG_HOME nor HOME is set")?;
            println!("{}", path.display());
        }
        ConfigAction::Show => {
            let config = Config::load(path.as_deref())
                .map_err(|e| anyhow::anyhow!("{:?}", miette::Report::new(e)))?;
            match path.as_deref().filter(|p| p.exists()) {
                Some(p) => println!(
                    "# effective configuration: built-in defaults overlaid by {}",
                    p.display()
                ),
                None => {
                    println!("# effective configuration: built-in defaults (no user config file)")
                }
            }
            print!("{}", config.to_toml());
        }
        ConfigAction::Themes => print_themes()?,
    }
    Ok(ExitCode::SUCCESS)
}

fn print_themes() -> anyhow::Result<()> {
    let user_dir = dirs::config_dir().map(|d| d.join("overwatch").join("themes"));
    let mut names: Vec<String> = theme::BUILTIN
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    if let Some(dir) = &user_dir
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "toml")
                && let Some(stem) = path.file_stem().and_then(|s| s.to_str())
                && !names.iter().any(|n| n == stem)
            {
                names.push(stem.to_owned());
            }
        }
    }
    let mut out = std::io::stdout().lock();
    let color = std::io::IsTerminal::is_terminal(&out)
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    for name in names {
        match Theme::load(&name, user_dir.as_deref(), false) {
            Ok(t) => {
                let badges: Vec<String> = [
                    Tier::Production,
                    Tier::Staging,
                    Tier::Development,
                    Tier::Unknown,
                ]
                .iter()
                .map(|tier| {
                    if color {
                        theme::paint(t.tier(*tier), &format!(" {tier} "))
                    } else {
                        format!("[{tier}]")
                    }
                })
                .collect();
                writeln!(out, "{name:<15} {}", badges.join(" "))?;
            }
            Err(e) => writeln!(out, "{name:<15} error: {e}")?,
        }
    }
    Ok(())
}

/// Prints shell completions generated from the clap definitions.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    clap_complete::generate(
        args.shell,
        &mut Cli::command(),
        "overwatch",
        &mut std::io::stdout(),
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints the man page (roff) generated from the clap definitions.
pub fn man() -> anyhow::Result<ExitCode> {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .context("writing the man page")?;
    Ok(ExitCode::SUCCESS)
}
