//! Diff computation: baseline bytes + current bytes → [`FileDiff`] (unified text with inline word
//! emphasis, +/- line counts), using `similar`.
//!
//! **Invariant:** binary content (a NUL byte in the first 8000 bytes, or invalid UTF-8) is never
//! put in a diff: the body is [`DiffBody::Binary`]. Under [`ContentPolicy::Hide`] no content at
//! all leaves this function; under [`ContentPolicy::Redact`] every diff line goes through the
//! redactor and inline emphasis is dropped (its offsets would point into the unredacted text).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use similar::udiff::UnifiedHunkHeader;
use similar::{ChangeTag, TextDiff};

use super::redact::{multiline_secret_lines, redact_secrets};

/// Lines of context around each hunk (as `git diff`).
pub const CONTEXT_LINES: usize = 3;
/// How many leading bytes are checked for NUL when deciding "binary" (as git does).
const BINARY_SNIFF_BYTES: usize = 8000;
/// Diff text beyond this many bytes is cut at a line boundary (events are recorded; a rewritten
/// 1 MiB file must not put megabytes into every event). The counts stay exact.
pub const MAX_UNIFIED_BYTES: usize = 256 * 1024;
/// The line that ends a cut diff (a `\` meta line, like git's "No newline" marker).
pub const TRUNCATED_MARKER: &str = "\\ diff truncated at 256 KiB; the counts above are complete\n";
/// Upper bound on the time `similar` may spend on one file before it falls back to a coarser diff.
const DIFF_TIMEOUT: Duration = Duration::from_millis(200);

/// What may be shown of a file's content.
#[derive(Debug, Clone, Copy)]
pub enum ContentPolicy {
    /// Ordinary file: the full diff with inline emphasis.
    Show,
    /// Sensitive file whose structure is useful (`.env`, CI config, migrations): every line is
    /// redacted with the given function before it is stored.
    Redact(fn(&str) -> Cow<'_, str>),
    /// Credential-like file (keys, tfstate, kubeconfig): counts only, never content.
    Hide,
}

/// Inline (word-level) emphasis on one line of [`DiffBody::Text::unified`]: `line` is the 0-based
/// line index in `unified`, `ranges` are `[start, end)` byte offsets into that line *including*
/// its one-character `+`/`-` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineEmphasis {
    pub line: u32,
    pub ranges: Vec<[u32; 2]>,
}

/// The diff of one file against one baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileDiff {
    /// Lines added / removed (0 for binary and too-large files).
    pub added: usize,
    pub removed: usize,
    pub body: DiffBody,
}

/// The shown part of a diff. JSON: tagged by `type` in snake_case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DiffBody {
    /// Content equals the baseline.
    Unchanged,
    /// Unified diff hunks (no `---`/`+++` header lines): `@@ -a,b +c,d @@` headers, then lines
    /// prefixed by ` `, `+`, `-`, and `\ No newline at end of file` markers, each ending in `\n`.
    Text {
        unified: String,
        emphasis: Vec<LineEmphasis>,
    },
    /// Either side is binary: shown as "binary changed", never dumped.
    Binary,
    /// The file is larger than the configured limit and was not read.
    TooLarge { bytes: u64 },
    /// A credential-like file: only the counts are shown. `reason` names the sensitive label.
    Hidden { reason: String },
    /// No baseline is available for this comparison (e.g. session snapshot budget exceeded).
    NoBaseline { reason: String },
}

impl FileDiff {
    /// A diff with no line counts and the given body.
    pub fn bare(body: DiffBody) -> Self {
        FileDiff {
            added: 0,
            removed: 0,
            body,
        }
    }

    /// True when the content equals the baseline.
    pub fn is_unchanged(&self) -> bool {
        matches!(self.body, DiffBody::Unchanged)
    }
}

/// True if `bytes` should be treated as binary: a NUL in the first 8000 bytes (git's rule) or
/// not valid UTF-8.
pub fn is_binary(bytes: &[u8]) -> bool {
    let sniff = &bytes[..bytes.len().min(BINARY_SNIFF_BYTES)];
    memchr::memchr(0, sniff).is_some() || std::str::from_utf8(bytes).is_err()
}

/// Diffs `old` (the baseline; `None` = the file did not exist) against `new` (`None` = the file
/// no longer exists) under `policy`.
pub fn compute(old: Option<&[u8]>, new: Option<&[u8]>, policy: ContentPolicy) -> FileDiff {
    let old_bytes = old.unwrap_or_default();
    let new_bytes = new.unwrap_or_default();
    if old == new {
        return FileDiff::bare(DiffBody::Unchanged);
    }
    if is_binary(old_bytes) || is_binary(new_bytes) {
        return FileDiff::bare(DiffBody::Binary);
    }
    // Both sides were just checked to be valid UTF-8.
    let (Ok(old_text), Ok(new_text)) = (
        std::str::from_utf8(old_bytes),
        std::str::from_utf8(new_bytes),
    ) else {
        return FileDiff::bare(DiffBody::Binary);
    };
    let diff = TextDiff::configure()
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old_text, new_text);
    let (mut added, mut removed) = (0, 0);
    for change in diff.iter_all_changes() {
        match change.tag() {
            ChangeTag::Insert => added += 1,
            ChangeTag::Delete => removed += 1,
            ChangeTag::Equal => {}
        }
    }
    let body = match policy {
        ContentPolicy::Hide => DiffBody::Hidden {
            reason: "credential file: content never shown".to_string(),
        },
        ContentPolicy::Show => {
            render_unified(&diff, &Masks::of(old_text, new_text), redact_secrets, true)
        }
        ContentPolicy::Redact(redact) => {
            render_unified(&diff, &Masks::of(old_text, new_text), redact, false)
        }
    };
    FileDiff {
        added,
        removed,
        body,
    }
}

/// Lines of each side covered by a multi-line secret (line index → rule id).
struct Masks {
    old: std::collections::HashMap<usize, &'static str>,
    new: std::collections::HashMap<usize, &'static str>,
}

impl Masks {
    fn of(old: &str, new: &str) -> Self {
        Masks {
            old: multiline_secret_lines(old),
            new: multiline_secret_lines(new),
        }
    }

    /// The rule id if this change's line is inside a multi-line secret on its side.
    fn rule(&self, change: &similar::InlineChange<'_, str>) -> Option<&'static str> {
        let (index, side) = match change.tag() {
            ChangeTag::Insert => (change.new_index(), &self.new),
            _ => (change.old_index(), &self.old),
        };
        index.and_then(|i| side.get(&i).copied())
    }
}

/// Writes the hunks of `diff` as unified text, every line passed through `redact`. Emphasis is
/// kept only when `keep_emphasis` and the redactor left the line untouched.
fn render_unified(
    diff: &TextDiff<'_, '_, str>,
    masks: &Masks,
    redact: fn(&str) -> Cow<'_, str>,
    keep_emphasis: bool,
) -> DiffBody {
    let mut unified = String::new();
    let mut emphasis = Vec::new();
    let mut line_no: u32 = 0;
    'hunks: for group in diff.grouped_ops(CONTEXT_LINES) {
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(unified, "{}", UnifiedHunkHeader::new(&group));
        line_no += 1;
        for op in &group {
            for change in diff.iter_inline_changes(op) {
                if unified.len() > MAX_UNIFIED_BYTES {
                    unified.push_str(TRUNCATED_MARKER);
                    break 'hunks;
                }
                let prefix = match change.tag() {
                    ChangeTag::Equal => ' ',
                    ChangeTag::Insert => '+',
                    ChangeTag::Delete => '-',
                };
                let mut line = String::new();
                line.push(prefix);
                let mut ranges = Vec::new();
                // Not `change.missing_newline()`: `similar` counts a lone trailing `\r` as a line
                // end, which would lose the "No newline" marker of a file ending in `\r`
                // (found by the apply property below).
                let ends_with_newline = change
                    .values()
                    .last()
                    .is_some_and(|(_, v)| v.ends_with('\n'));
                for (emphasized, value) in change.iter_strings_lossy() {
                    // Only the line terminator goes; a `\r` of a CRLF file stays (exact content).
                    let value = value.strip_suffix('\n').unwrap_or(&value);
                    let start = line.len();
                    line.push_str(value);
                    if emphasized && !value.trim().is_empty() && change.tag() != ChangeTag::Equal {
                        ranges.push([clamp_u32(start), clamp_u32(line.len())]);
                    }
                }
                if let Some(rule) = masks.rule(&change) {
                    // Inside a multi-line secret (a key block): the whole line goes.
                    line.truncate(1);
                    line.push_str(&format!("[REDACTED:{rule}]"));
                    ranges.clear();
                }
                let (head, rest) = line.split_at(1);
                match redact(rest) {
                    Cow::Borrowed(_) => {
                        if keep_emphasis && !ranges.is_empty() {
                            emphasis.push(LineEmphasis {
                                line: line_no,
                                ranges,
                            });
                        }
                        let _ = writeln!(unified, "{line}");
                    }
                    Cow::Owned(redacted) => {
                        let _ = writeln!(unified, "{head}{redacted}");
                    }
                }
                line_no += 1;
                if !ends_with_newline {
                    unified.push_str("\\ No newline at end of file\n");
                    line_no += 1;
                }
            }
        }
    }
    DiffBody::Text { unified, emphasis }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Applies unified hunks (as produced by [`compute`]) to `old`, the way `patch` would, and
    /// returns the result. Panics on a malformed or non-applying diff (a test failure).
    fn apply(old: &str, unified: &str) -> String {
        let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
        let mut out = String::new();
        let mut cursor = 0usize; // index into old_lines
        let mut last_pushed: Option<char> = None; // prefix of the last emitted line
        for line in unified.split_terminator('\n') {
            if let Some(header) = line.strip_prefix("@@ -") {
                let range = header.split(' ').next().expect("old range");
                let mut parts = range.split(',');
                let start: usize = parts.next().expect("start").parse().expect("number");
                let len: usize = parts.next().map_or(1, |l| l.parse().expect("number"));
                let start0 = if len == 0 { start } else { start - 1 };
                while cursor < start0 {
                    out.push_str(old_lines[cursor]);
                    cursor += 1;
                }
                continue;
            }
            if line == "\\ No newline at end of file" {
                if matches!(last_pushed, Some(' ') | Some('+')) && out.ends_with('\n') {
                    out.pop();
                }
                continue;
            }
            let (prefix, text) = line.split_at(1);
            let prefix = prefix.chars().next().expect("prefix");
            match prefix {
                ' ' => {
                    assert_eq!(old_lines[cursor].trim_end_matches('\n'), text);
                    out.push_str(text);
                    out.push('\n');
                    cursor += 1;
                }
                '-' => {
                    assert_eq!(old_lines[cursor].trim_end_matches('\n'), text);
                    cursor += 1;
                }
                '+' => {
                    out.push_str(text);
                    out.push('\n');
                }
                other => panic!("bad diff line prefix {other:?}"),
            }
            last_pushed = Some(prefix);
        }
        while cursor < old_lines.len() {
            out.push_str(old_lines[cursor]);
            cursor += 1;
        }
        out
    }

    fn text_of(diff: &FileDiff) -> &str {
        match &diff.body {
            DiffBody::Text { unified, .. } => unified,
            other => panic!("expected text diff, got {other:?}"),
        }
    }

    fn lines_strategy() -> impl Strategy<Value = String> {
        // A small alphabet makes equal lines (and so interesting hunks) likely.
        (
            prop::collection::vec(
                prop::sample::select(vec!["a", "b", "c", "fn x()", "", "  }", "crlf\r"]),
                0..30,
            ),
            any::<bool>(),
        )
            .prop_map(|(lines, trailing_newline)| {
                let mut s = lines.join("\n");
                if trailing_newline && !s.is_empty() {
                    s.push('\n');
                }
                s
            })
    }

    proptest! {
        #[test]
        fn applying_the_diff_to_the_baseline_gives_the_new_content(
            old in lines_strategy(), new in lines_strategy()
        ) {
            let diff = compute(Some(old.as_bytes()), Some(new.as_bytes()), ContentPolicy::Show);
            if old == new {
                prop_assert!(diff.is_unchanged());
            } else {
                prop_assert_eq!(apply(&old, text_of(&diff)), new.clone());
                let plus = text_of(&diff).lines().filter(|l| l.starts_with('+')).count();
                let minus = text_of(&diff).lines().filter(|l| l.starts_with('-')).count();
                prop_assert_eq!((plus, minus), (diff.added, diff.removed));
            }
        }
    }

    #[test]
    fn huge_diffs_are_cut_with_exact_counts() {
        let old: String = (0..40_000).map(|i| format!("line {i}\n")).collect();
        let new: String = (0..40_000)
            .map(|i| {
                if i % 7 == 0 {
                    format!("LINE {i}\n")
                } else {
                    format!("line {i}\n")
                }
            })
            .collect();
        let diff = compute(
            Some(old.as_bytes()),
            Some(new.as_bytes()),
            ContentPolicy::Show,
        );
        let text = text_of(&diff);
        assert!(text.len() < MAX_UNIFIED_BYTES + 4096, "{}", text.len());
        assert!(text.ends_with(TRUNCATED_MARKER));
        // 5715 lines replaced; under load `similar`'s deadline may give a coarser (larger but
        // still correct) diff, so the counts are at least that and balanced.
        assert!(diff.added >= 5715 && diff.added == diff.removed, "{diff:?}");
    }

    #[test]
    fn a_private_key_block_in_an_ordinary_file_is_masked_line_by_line() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\nQUFBQUFBQUFBQUFBQUFB\n-----END OPENSSH PRIVATE KEY-----\n";
        let diff = compute(
            Some(b"notes\n"),
            Some(format!("notes\n{key}").as_bytes()),
            ContentPolicy::Show,
        );
        let text = text_of(&diff);
        assert!(
            !text.contains("b3BlbnNzaC1rZXktdjEAAAAABG5vbmU") && !text.contains("QUFBQUFB"),
            "{text}"
        );
        assert_eq!(diff.added, 4);
        assert_eq!(text.matches("[REDACTED:private-key]").count(), 4, "{text}");
    }

    #[test]
    fn crlf_lines_keep_their_carriage_return() {
        let diff = compute(
            Some(b"a\r\nb\r\n"),
            Some(b"a\r\nc\r\n"),
            ContentPolicy::Show,
        );
        assert_eq!(apply("a\r\nb\r\n", text_of(&diff)), "a\r\nc\r\n");
    }

    #[test]
    fn created_and_deleted_files_diff_against_nothing() {
        let created = compute(None, Some(b"one\ntwo\n"), ContentPolicy::Show);
        assert_eq!((created.added, created.removed), (2, 0));
        assert_eq!(text_of(&created), "@@ -0,0 +1,2 @@\n+one\n+two\n");
        let deleted = compute(Some(b"one\n"), None, ContentPolicy::Show);
        assert_eq!(text_of(&deleted), "@@ -1 +0,0 @@\n-one\n");
    }

    #[test]
    fn binary_files_are_never_dumped() {
        let diff = compute(
            Some(b"text\n"),
            Some(b"PK\x03\x04\0\0secret"),
            ContentPolicy::Show,
        );
        assert_eq!(diff.body, DiffBody::Binary);
        let diff = compute(Some(b"\xff\xfe"), Some(b"x"), ContentPolicy::Show);
        assert_eq!(diff.body, DiffBody::Binary);
    }

    #[test]
    fn word_emphasis_marks_only_the_changed_word() {
        let diff = compute(
            Some(b"let port = 8080;\n"),
            Some(b"let port = 9090;\n"),
            ContentPolicy::Show,
        );
        let DiffBody::Text { unified, emphasis } = &diff.body else {
            panic!("expected text");
        };
        let lines: Vec<&str> = unified.lines().collect();
        let emphasized: Vec<&str> = emphasis
            .iter()
            .flat_map(|e| {
                e.ranges
                    .iter()
                    .map(|[a, b]| &lines[e.line as usize][*a as usize..*b as usize])
            })
            .collect();
        // `similar` tokenizes on whitespace, so the changed word carries its `;`.
        assert_eq!(emphasized, vec!["8080;", "9090;"]);
    }

    #[test]
    fn hidden_policy_keeps_counts_but_no_content() {
        let diff = compute(
            Some(b"-----BEGIN KEY-----\nAAAA\n"),
            Some(b"-----BEGIN KEY-----\nBBBB\n"),
            ContentPolicy::Hide,
        );
        assert_eq!((diff.added, diff.removed), (1, 1));
        let json = serde_json::to_string(&diff).expect("serialize");
        assert!(!json.contains("AAAA") && !json.contains("BBBB"), "{json}");
    }

    #[test]
    fn redact_policy_redacts_every_line_and_drops_emphasis() {
        fn redact(line: &str) -> Cow<'_, str> {
            Cow::Owned(line.replace("hunter2", "<redacted>"))
        }
        let diff = compute(
            Some(b"user=a\npass=x\n"),
            Some(b"user=a\npass=hunter2\n"),
            ContentPolicy::Redact(redact),
        );
        let DiffBody::Text { unified, emphasis } = &diff.body else {
            panic!("expected text");
        };
        assert!(unified.contains("+pass=<redacted>"), "{unified}");
        assert!(!unified.contains("hunter2"));
        assert!(emphasis.is_empty());
    }
}
