//! Redaction of diff text: every line goes through the shared `crate::secrets::Redactor` (the
//! recorder's secret patterns); lines inside a multi-line secret (a private-key block) are
//! replaced whole; in dotenv-style files every `KEY=value` value is redacted outright, since
//! those values are secrets whether or not a pattern recognises them.
//!
//! **Invariant:** when the redactor cannot be built, everything is redacted (fail closed).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::secrets::Redactor;

/// A `KEY=value` or `export KEY=value` assignment at the start of a line.
static ASSIGNMENT: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.\-]*\s*=\s*)(\S.*)$"#).ok()
});

/// The shared secrets redactor (built-in gitleaks-style rules; `crate::secrets`), built once.
static REDACTOR: LazyLock<Option<Redactor>> = LazyLock::new(|| Redactor::builtin().ok());

/// Replaces secrets in `line` with `[REDACTED:<rule-id>]` using the shared [`Redactor`]. Applied
/// to every diff line, sensitive file or not. If the redactor could not be built (a bug its own
/// tests cover) the whole line is redacted: fail closed.
pub fn redact_secrets(line: &str) -> Cow<'_, str> {
    match REDACTOR.as_ref() {
        Some(redactor) => redactor.redact(line),
        None => Cow::Owned("<redacted>".to_string()),
    }
}

/// The 0-based indices of lines that a secret spanning several lines (a private-key block) touches,
/// each with the rule id. Per-line redaction cannot see such a secret, so the diff replaces these
/// lines whole. Without a redactor every line is reported (fail closed).
pub fn multiline_secret_lines(text: &str) -> HashMap<usize, &'static str> {
    let mut lines = HashMap::new();
    let Some(redactor) = REDACTOR.as_ref() else {
        return (0..=text.matches('\n').count())
            .map(|i| (i, "unavailable"))
            .collect();
    };
    for finding in redactor.find(text) {
        let first = text[..finding.start].matches('\n').count();
        let last = first + text[finding.start..finding.end].matches('\n').count();
        if last > first {
            lines.extend((first..=last).map(|i| (i, finding.rule)));
        }
    }
    lines
}

/// [`redact_secrets`] plus: the value of a `KEY=value` assignment is redacted entirely
/// (`KEY=<redacted>`). Used for every line of a sensitive file's diff.
pub fn redact_assignments(line: &str) -> Cow<'_, str> {
    let Some(re) = ASSIGNMENT.as_ref() else {
        return Cow::Owned("<redacted>".to_string());
    };
    match re.captures(line) {
        Some(caps) => {
            let head = caps.get(1).map_or("", |m| m.as_str());
            Cow::Owned(format!("{head}<redacted>"))
        }
        None => redact_secrets(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multiline_secrets_mark_every_line_they_touch() {
        let text = "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx9\nQ2hlY2sgbWF0ZQ==\n-----END RSA PRIVATE KEY-----\nb\n";
        let lines = multiline_secret_lines(text);
        let mut marked: Vec<usize> = lines.keys().copied().collect();
        marked.sort();
        assert_eq!(marked, vec![1, 2, 3, 4]);
        assert!(
            multiline_secret_lines("token ghp_0123456789abcdefghijABCDEFGHIJ012345\n").is_empty()
        );
    }

    #[test]
    fn redaction_hides_assignment_values_and_tokens() {
        assert_eq!(
            redact_assignments("STRIPE_KEY=sk_live_abc"),
            "STRIPE_KEY=<redacted>"
        );
        assert_eq!(
            redact_assignments("export A = b c"),
            "export A = <redacted>"
        );
        assert_eq!(redact_assignments("# plain comment"), "# plain comment");
        let aws = redact_secrets("key: AKIAQ3EGRTX5LNZW7YKP # aws");
        assert!(
            !aws.contains("AKIAQ3EGRTX5LNZW7YKP") && aws.contains("[REDACTED:"),
            "{aws}"
        );
        let gh = redact_secrets("token = \"ghp_0123456789abcdefghijABCDEFGHIJ012345\"");
        assert!(!gh.contains("ghp_0123456789"), "{gh}");
        assert_eq!(redact_secrets("let x = 1;"), "let x = 1;");
        assert!(REDACTOR.is_some() && ASSIGNMENT.is_some());
    }
}
