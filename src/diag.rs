//! Diagnostics for the files users write (config, themes; rule packs use the same shape): an error
//! that names `file:line:column` and renders the offending line with a caret (miette).

use std::ops::Range;
use std::path::Path;

use miette::{Diagnostic, NamedSource, SourceSpan};

/// An error located in a user-written file. `Display` is `path:line:column: message`; rendered
/// through miette's fancy handler it also shows the source line with a caret under `span`.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{path}:{line}:{column}: {message}")]
pub struct FileDiagnostic {
    /// The file, as the user named it.
    pub path: String,
    /// 1-based line of the span start.
    pub line: usize,
    /// 1-based column (in characters) of the span start.
    pub column: usize,
    /// What is wrong, in the parser's words.
    pub message: String,
    #[source_code]
    src: NamedSource<String>,
    #[label("here")]
    span: Option<SourceSpan>,
}

impl FileDiagnostic {
    /// Builds a diagnostic for `message` at byte range `span` of `source` (read from `path`).
    /// A span past the end is clamped; `None` points at the start of the file.
    pub fn new(
        path: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        let start = span.as_ref().map_or(0, |s| s.start.min(source.len()));
        let len = span
            .as_ref()
            .map_or(0, |s| s.end.min(source.len()).saturating_sub(start));
        let (line, column) = line_column(source, start);
        let path = path.display().to_string();
        FileDiagnostic {
            src: NamedSource::new(path.clone(), source.to_owned()),
            path,
            line,
            column,
            message: message.into(),
            span: span.map(|_| SourceSpan::new(start.into(), len)),
        }
    }

    /// Builds a diagnostic from a `toml` parse or deserialization error (it carries the span).
    pub fn from_toml(path: &Path, source: &str, err: &toml::de::Error) -> Self {
        Self::new(path, source, err.span(), err.message().trim_end())
    }
}

/// 1-based (line, column) of byte offset `at` in `source`; columns count characters.
pub fn line_column(source: &str, at: usize) -> (usize, usize) {
    let at = floor_char_boundary(source, at);
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut at: usize) -> usize {
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one_and_in_chars() {
        let src = "a = 1\nbé = 2\nc = x\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        let x = src.find('x').unwrap();
        assert_eq!(line_column(src, x), (3, 5));
        // é is two bytes; the '=' after it is the 4th character of line 2.
        let eq = src[6..].find('=').unwrap() + 6;
        assert_eq!(line_column(src, eq), (2, 4));
    }

    #[test]
    fn toml_errors_name_file_line_and_column() {
        let src = "[ui]\ntheme = \"dark\"\nbogus = = 1\n";
        let err = toml::from_str::<toml::Table>(src).unwrap_err();
        let diag = FileDiagnostic::from_toml(Path::new("conf.toml"), src, &err);
        assert_eq!((diag.path.as_str(), diag.line), ("conf.toml", 3));
        assert!(diag.to_string().starts_with("conf.toml:3:"), "{diag}");
    }
}
