//! Configuration: the embedded defaults (`src/config/defaults.toml`, a real file) overlaid key by key
//! by the user's `$XDG_CONFIG_HOME/overwatch/config.toml`. Unknown keys and wrong types are errors
//! that name file, line and column.
//!
//! **Invariant:** every key has a default in `defaults.toml` (a test checks it), so the user file
//! only ever contains what the user changed.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diag::FileDiagnostic;

/// The embedded defaults, verbatim.
pub const DEFAULTS: &str = include_str!("config/defaults.toml");

/// The effective configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub ui: UiConfig,
    pub gate: GateConfig,
    pub record: RecordConfig,
    pub rules: RulesConfig,
    pub diff: DiffConfig,
}

/// `[ui]`: appearance and keys.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UiConfig {
    /// Theme name (built-in or a file in the user themes dir).
    pub theme: String,
    /// Prefix key, e.g. `"ctrl-]"`, `"ctrl-a"`.
    pub prefix_key: String,
    /// Side panel width, percent of the terminal width.
    pub side_panel_percent: u16,
}

/// `[gate]`: how commands are held.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateConfig {
    /// Seconds before a held command is denied; 0 = wait forever.
    pub confirm_timeout_secs: u64,
    /// Whether PATH shims are installed for guarded programs.
    pub shims: bool,
    /// Whether the seccomp exec gate is used (Linux).
    pub exec_gate: bool,
}

/// `[record]`: session recordings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RecordConfig {
    pub enabled: bool,
    /// `"v2"` or `"v3"` (asciicast, see asciinema docs).
    pub cast_format: String,
    pub record_input: bool,
}

/// `[rules]`: team packs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    pub paths: Vec<PathBuf>,
}

/// `[diff]`: the workspace watcher.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DiffConfig {
    /// Bytes; larger files are not diffed.
    pub max_file_bytes: u64,
    pub mass_delete_count: usize,
    /// Milliseconds.
    pub mass_delete_window_ms: u64,
    /// Extra sensitive globs (gitignore syntax).
    pub sensitive: Vec<String>,
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("reading config file {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<FileDiagnostic>),
}

impl Config {
    /// The user's config file path: `$XDG_CONFIG_HOME/overwatch/config.toml` (or `~/.config/…`).
    pub fn user_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("overwatch").join("config.toml"))
    }

    /// Loads the defaults overlaid by `user_file` when it exists (a missing file is not an error).
    pub fn load(user_file: Option<&Path>) -> Result<Config, ConfigError> {
        let user = match user_file {
            Some(path) if path.exists() => Some((
                path,
                std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                    path: path.to_owned(),
                    source,
                })?,
            )),
            _ => None,
        };
        Config::from_sources(user.as_ref().map(|(p, s)| (*p, s.as_str())))
    }

    /// Defaults overlaid by the given `(path, text)` of a user file.
    pub fn from_sources(user: Option<(&Path, &str)>) -> Result<Config, ConfigError> {
        let invalid = |path: &Path, src: &str, e: toml::de::Error| {
            ConfigError::Invalid(Box::new(FileDiagnostic::from_toml(path, src, &e)))
        };
        let mut merged: toml::Table = toml::from_str(DEFAULTS)
            .map_err(|e| invalid(Path::new("<built-in defaults>"), DEFAULTS, e))?;
        if let Some((path, src)) = user {
            // Validate the user's text on its own first, so errors point into *their* file.
            toml::from_str::<Config>(src).map_err(|e| invalid(path, src, e))?;
            let table: toml::Table = toml::from_str(src).map_err(|e| invalid(path, src, e))?;
            overlay(&mut merged, table);
        }
        Config::deserialize(toml::Value::Table(merged)).map_err(|e| {
            ConfigError::Invalid(Box::new(FileDiagnostic::new(
                Path::new("<merged config>"),
                "",
                None,
                e.to_string(),
            )))
        })
    }

    /// The effective configuration as TOML (for `overwatch config show`).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self)
            .unwrap_or_else(|e| format!("# could not serialize the config: {e}\n"))
    }
}

/// Key-by-key overlay: tables merge recursively, any other value replaces.
fn overlay(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => overlay(b, t),
            (_, v) => {
                base.insert(key, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_complete() {
        // Every key serialized from the struct must exist in defaults.toml.
        let defaults: toml::Table = toml::from_str(DEFAULTS).unwrap();
        let from_struct: toml::Table = toml::from_str(&Config::default().to_toml()).unwrap();
        for (section, keys) in &from_struct {
            let have = defaults
                .get(section)
                .and_then(|v| v.as_table())
                .unwrap_or_else(|| panic!("[{section}] missing"));
            for key in keys.as_table().unwrap().keys() {
                assert!(
                    have.contains_key(key),
                    "[{section}] {key} has no default in defaults.toml"
                );
            }
        }
        let cfg = Config::from_sources(None).unwrap();
        assert_eq!(cfg.ui.theme, "default");
        assert!(cfg.record.enabled && !cfg.record.record_input);
    }

    #[test]
    fn user_file_overlays_key_by_key() {
        let cfg =
            Config::from_sources(Some((Path::new("c.toml"), "[ui]\ntheme = \"light\"\n"))).unwrap();
        assert_eq!(cfg.ui.theme, "light");
        assert_eq!(
            cfg.ui.prefix_key, "ctrl-]",
            "untouched keys keep their defaults"
        );
        assert_eq!(cfg.diff.mass_delete_count, 50);
    }

    #[test]
    fn unknown_keys_and_bad_types_are_located_errors() {
        let err = Config::from_sources(Some((
            Path::new("c.toml"),
            "[ui]\ntheme = \"x\"\nthem = 1\n",
        )))
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("c.toml:3:") && err.contains("them"),
            "{err}"
        );
        let err = Config::from_sources(Some((Path::new("c.toml"), "[gate]\nshims = \"yes\"\n")))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c.toml:2:"), "{err}");
    }
}
