//! Themes: every colour the UI draws comes from here, including the tier colours (production must
//! stand out in every theme). Built-in themes are the files in `themes/`, embedded in the binary;
//! user themes live in `~/.config/overwatch/themes/NAME.toml` and override a built-in of the same
//! name. `NO_COLOR` (<https://no-color.org>) selects a monochrome theme that marks tiers with bold
//! and reverse video instead of colour.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::context::Tier;
use crate::diag::FileDiagnostic;

/// The built-in themes: (name, TOML source).
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../themes/default.toml")),
    ("light", include_str!("../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
    ("colorblind", include_str!("../themes/colorblind.toml")),
];

/// A resolved theme: ratatui styles ready to draw with.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub production: Style,
    pub staging: Style,
    pub development: Style,
    pub unknown: Style,
    pub status: Style,
    pub border: Style,
    pub border_focused: Style,
    pub tab_active: Style,
    pub tab_inactive: Style,
    pub help_key: Style,
    pub help_text: Style,
    pub warning: Style,
    pub error: Style,
    pub match_highlight: Style,
    pub added: Style,
    pub removed: Style,
    pub muted: Style,
    pub modal_border: Style,
    /// Default foreground/background of the agent pane (also the answer to OSC 10/11 queries).
    pub terminal_fg: Color,
    pub terminal_bg: Color,
}

/// Why a theme could not be loaded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ThemeError {
    #[error("unknown theme '{name}' (built-in: {builtin}; user themes go in {dir})")]
    Unknown {
        name: String,
        builtin: String,
        dir: String,
    },
    #[error("reading theme file {path}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Parse(Box<FileDiagnostic>),
}

impl Theme {
    /// The style that marks a tier (badges in the status bar, the context tab, the modal).
    pub fn tier(&self, tier: Tier) -> Style {
        match tier {
            Tier::Production => self.production,
            Tier::Staging => self.staging,
            Tier::Development => self.development,
            Tier::Unknown => self.unknown,
        }
    }

    /// Loads theme `name`: a user file in `user_dir` wins over a built-in of the same name.
    /// With `no_color` the monochrome theme is returned whatever the name.
    pub fn load(name: &str, user_dir: Option<&Path>, no_color: bool) -> Result<Theme, ThemeError> {
        if no_color {
            return Ok(Theme::monochrome());
        }
        if let Some(dir) = user_dir {
            let path = dir.join(format!("{name}.toml"));
            if path.is_file() {
                let src = std::fs::read_to_string(&path).map_err(|source| ThemeError::Io {
                    path: path.clone(),
                    source,
                })?;
                return Theme::parse(&path, &src);
            }
        }
        match BUILTIN.iter().find(|(n, _)| *n == name) {
            Some((n, src)) => Theme::parse(Path::new(&format!("themes/{n}.toml")), src),
            None => Err(ThemeError::Unknown {
                name: name.to_owned(),
                builtin: BUILTIN
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
                dir: user_dir.map_or_else(
                    || "~/.config/overwatch/themes".into(),
                    |d| d.display().to_string(),
                ),
            }),
        }
    }

    /// The built-in default theme (cannot fail: a unit test parses every built-in).
    pub fn builtin_default() -> Theme {
        Theme::load("default", None, false).unwrap_or_else(|_| Theme::monochrome())
    }

    /// Parses a theme file's TOML; errors name file, line and column.
    pub fn parse(path: &Path, src: &str) -> Result<Theme, ThemeError> {
        let file: ThemeFile = toml::from_str(src)
            .map_err(|e| ThemeError::Parse(Box::new(FileDiagnostic::from_toml(path, src, &e))))?;
        Ok(file.resolve())
    }

    /// No colour at all: tiers by weight and reverse video (production bold + reversed + underlined).
    pub fn monochrome() -> Theme {
        let plain = Style::default();
        let bold = plain.add_modifier(Modifier::BOLD);
        Theme {
            name: "no-color".into(),
            production: bold.add_modifier(Modifier::REVERSED | Modifier::UNDERLINED),
            staging: bold.add_modifier(Modifier::REVERSED),
            development: plain,
            unknown: plain.add_modifier(Modifier::DIM),
            status: plain.add_modifier(Modifier::REVERSED),
            border: plain,
            border_focused: bold,
            tab_active: bold.add_modifier(Modifier::UNDERLINED),
            tab_inactive: plain,
            help_key: bold,
            help_text: plain,
            warning: bold.add_modifier(Modifier::REVERSED),
            error: bold,
            match_highlight: bold.add_modifier(Modifier::UNDERLINED),
            added: plain,
            removed: plain.add_modifier(Modifier::DIM),
            muted: plain.add_modifier(Modifier::DIM),
            modal_border: bold,
            terminal_fg: Color::Reset,
            terminal_bg: Color::Reset,
        }
    }
}

/// Renders `text` with `style` as ANSI SGR escape sequences, for CLI output (not the TUI).
pub fn paint(style: Style, text: &str) -> String {
    let mut codes: Vec<String> = Vec::new();
    if style.add_modifier.contains(Modifier::BOLD) {
        codes.push("1".into());
    }
    if style.add_modifier.contains(Modifier::DIM) {
        codes.push("2".into());
    }
    if style.add_modifier.contains(Modifier::UNDERLINED) {
        codes.push("4".into());
    }
    if style.add_modifier.contains(Modifier::REVERSED) {
        codes.push("7".into());
    }
    for (color, base) in [(style.fg, 30u8), (style.bg, 40u8)] {
        if let Some(c) = color.and_then(|c| sgr_color(c, base)) {
            codes.push(c);
        }
    }
    if codes.is_empty() {
        text.to_owned()
    } else {
        format!("\x1b[{}m{text}\x1b[0m", codes.join(";"))
    }
}

/// SGR parameters for a colour; `base` is 30 for foreground, 40 for background.
fn sgr_color(color: Color, base: u8) -> Option<String> {
    let ext = base + 8;
    Some(match color {
        Color::Reset => return None,
        Color::Rgb(r, g, b) => format!("{ext};2;{r};{g};{b}"),
        Color::Indexed(i) => format!("{ext};5;{i}"),
        named => {
            let (offset, bright) = match named {
                Color::Black => (0, false),
                Color::Red => (1, false),
                Color::Green => (2, false),
                Color::Yellow => (3, false),
                Color::Blue => (4, false),
                Color::Magenta => (5, false),
                Color::Cyan => (6, false),
                Color::Gray => (7, false),
                Color::DarkGray => (0, true),
                Color::LightRed => (1, true),
                Color::LightGreen => (2, true),
                Color::LightYellow => (3, true),
                Color::LightBlue => (4, true),
                Color::LightMagenta => (5, true),
                Color::LightCyan => (6, true),
                _ => (7, true),
            };
            format!(
                "{}",
                if bright {
                    base + 60 + offset
                } else {
                    base + offset
                }
            )
        }
    })
}

/// The on-disk shape of a theme file (see themes/default.toml for the documented keys).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    tier: TierStyles,
    ui: UiColors,
    terminal: TerminalColors,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierStyles {
    production: Badge,
    staging: Badge,
    development: Badge,
    unknown: Badge,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Badge {
    fg: ColorSpec,
    bg: ColorSpec,
    #[serde(default)]
    bold: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UiColors {
    status_fg: ColorSpec,
    status_bg: ColorSpec,
    border: ColorSpec,
    border_focused: ColorSpec,
    tab_active: ColorSpec,
    tab_inactive: ColorSpec,
    help_key: ColorSpec,
    help_text: ColorSpec,
    warning_fg: ColorSpec,
    warning_bg: ColorSpec,
    error: ColorSpec,
    match_highlight: ColorSpec,
    added: ColorSpec,
    removed: ColorSpec,
    muted: ColorSpec,
    modal_border: ColorSpec,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TerminalColors {
    fg: ColorSpec,
    bg: ColorSpec,
}

/// A colour as written in a theme file: `"#rrggbb"`, a name ratatui knows, `"reset"` or an index.
#[derive(Debug, Clone, Copy)]
struct ColorSpec(Color);

impl<'de> Deserialize<'de> for ColorSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Index(u8),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Index(i) => Ok(ColorSpec(Color::Indexed(i))),
            Raw::Text(s) => Color::from_str(&s).map(ColorSpec).map_err(|_| {
                serde::de::Error::custom(format!(
                    "'{s}' is not a colour: use \"#rrggbb\", a colour name or 0-255"
                ))
            }),
        }
    }
}

impl Badge {
    fn style(&self) -> Style {
        let s = Style::default().fg(self.fg.0).bg(self.bg.0);
        if self.bold {
            s.add_modifier(Modifier::BOLD)
        } else {
            s
        }
    }
}

impl ThemeFile {
    fn resolve(self) -> Theme {
        let _ = self.description;
        let fg = |c: ColorSpec| Style::default().fg(c.0);
        let u = &self.ui;
        Theme {
            name: self.name,
            production: self.tier.production.style(),
            staging: self.tier.staging.style(),
            development: self.tier.development.style(),
            unknown: self.tier.unknown.style(),
            status: Style::default().fg(u.status_fg.0).bg(u.status_bg.0),
            border: fg(u.border),
            border_focused: fg(u.border_focused),
            tab_active: fg(u.tab_active).add_modifier(Modifier::BOLD),
            tab_inactive: fg(u.tab_inactive),
            help_key: fg(u.help_key).add_modifier(Modifier::BOLD),
            help_text: fg(u.help_text),
            warning: Style::default()
                .fg(u.warning_fg.0)
                .bg(u.warning_bg.0)
                .add_modifier(Modifier::BOLD),
            error: fg(u.error).add_modifier(Modifier::BOLD),
            match_highlight: fg(u.match_highlight)
                .add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            added: fg(u.added),
            removed: fg(u.removed),
            muted: fg(u.muted),
            modal_border: fg(u.modal_border).add_modifier(Modifier::BOLD),
            terminal_fg: self.terminal.fg.0,
            terminal_bg: self.terminal.bg.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses_and_production_stands_out() {
        for (name, _) in BUILTIN {
            let theme = Theme::load(name, None, false).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(theme.name, *name);
            let prod = theme.tier(Tier::Production);
            assert!(
                prod.add_modifier.contains(Modifier::BOLD),
                "{name}: production must be bold"
            );
            assert_ne!(
                prod.bg,
                theme.tier(Tier::Staging).bg,
                "{name}: production and staging look alike"
            );
            assert_ne!(prod.bg, theme.tier(Tier::Development).bg, "{name}");
            assert_ne!(prod.bg, None, "{name}: production needs a background");
        }
    }

    #[test]
    fn user_theme_overrides_builtin_and_errors_are_located() {
        let dir = tempfile::tempdir().unwrap();
        let src = BUILTIN[0]
            .1
            .replace("name = \"default\"", "name = \"mine\"");
        std::fs::write(dir.path().join("default.toml"), &src).unwrap();
        assert_eq!(
            Theme::load("default", Some(dir.path()), false)
                .unwrap()
                .name,
            "mine"
        );

        let bad = src.replace("border = \"#4e4e4e\"", "border = \"not-a-colour\"");
        std::fs::write(dir.path().join("bad.toml"), &bad).unwrap();
        let err = Theme::load("bad", Some(dir.path()), false)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("bad.toml:") && err.contains("not a colour"),
            "{err}"
        );
    }

    #[test]
    fn paint_emits_sgr_for_rgb_named_and_modifiers() {
        let s = Style::default()
            .fg(Color::Rgb(1, 2, 3))
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD);
        assert_eq!(paint(s, "x"), "\x1b[1;38;2;1;2;3;41mx\x1b[0m");
        assert_eq!(paint(Style::default(), "plain"), "plain");
    }

    #[test]
    fn no_color_and_unknown_names() {
        assert_eq!(Theme::load("light", None, true).unwrap().name, "no-color");
        let err = Theme::load("nope", None, false).unwrap_err().to_string();
        assert!(
            err.contains("unknown theme 'nope'") && err.contains("high-contrast"),
            "{err}"
        );
    }
}
