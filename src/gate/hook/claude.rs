//! Claude Code PreToolUse: input and output formats.
//!
//! Input (stdin): `{"session_id","transcript_path","cwd","permission_mode","hook_event_name":
//! "PreToolUse","tool_name":"Bash","tool_input":{"command":…},"tool_use_id"}` — Write/Edit/
//! MultiEdit/Read carry `tool_input.file_path`, NotebookEdit `tool_input.notebook_path`.
//! Output (stdout, exit 0): `{"hookSpecificOutput":{"hookEventName":"PreToolUse",
//! "permissionDecision":"allow|deny|ask","permissionDecisionReason":"…"}}`.
//! Source: Claude Code hooks reference, summarised in shared/reference/guards.md §5.
//!
//! A rules-level allow prints nothing (exit 0 = "no opinion"), so Claude's own permission rules
//! still apply; only a human approval (or a remembered one) answers `allow`, which spares the
//! human a second prompt. This is what dcg and cc-safety-net do too: a guard must never widen what
//! the agent may run unasked.

use serde_json::json;

use super::{HookInputError, ToolCall, fields};
use crate::gate::client::ClientVerdict;
use crate::gate::{PathAccess, Subject};

/// The tools `overwatch run` routes to this hook (the `matcher` regex in the injected settings).
pub const MATCHER: &str = "Bash|Write|Edit|MultiEdit|NotebookEdit|Read";

/// Parses a PreToolUse payload into the tool call to check.
pub fn parse(bytes: &[u8]) -> Result<ToolCall, HookInputError> {
    let map = fields::object(bytes)?;
    let tool = fields::string(&map, "tool_name")?;
    let input = fields::tool_input(&map)?;
    let subject = match tool.as_str() {
        "Bash" => Subject::Command(
            input
                .get("command")
                .and_then(|v| v.as_str())
                .ok_or(HookInputError::Missing("tool_input.command"))?
                .to_string(),
        ),
        "Write" | "Edit" | "MultiEdit" => fields::path(input, &["file_path"], PathAccess::Write)?,
        "NotebookEdit" => fields::path(input, &["notebook_path"], PathAccess::Write)?,
        "Read" => fields::path(input, &["file_path"], PathAccess::Read)?,
        _ => return Err(HookInputError::UnknownTool(tool)),
    };
    Ok(ToolCall {
        tool,
        subject,
        cwd: fields::cwd(&map),
    })
}

/// Renders the verdict as Claude's PreToolUse answer (empty for a rules-level allow).
pub fn render(verdict: &ClientVerdict) -> String {
    let (decision, reason) = match verdict {
        ClientVerdict::Allow {
            by_human: false, ..
        } => return String::new(),
        ClientVerdict::Allow {
            reason,
            by_human: true,
        } => ("allow", reason),
        ClientVerdict::Ask { reason } => ("ask", reason),
        ClientVerdict::Deny { reason } => ("deny", reason),
    };
    json!({
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_recorded_payloads() {
        let bash = parse(include_bytes!(
            "../../../tests/fixtures/gate/claude-bash.json"
        ))
        .unwrap();
        assert_eq!(bash.tool, "Bash");
        assert_eq!(
            bash.subject,
            Subject::Command("git push --force origin main".into())
        );
        assert_eq!(
            bash.cwd.as_deref(),
            Some(std::path::Path::new("/home/dev/shop"))
        );
        let write = parse(include_bytes!(
            "../../../tests/fixtures/gate/claude-write.json"
        ))
        .unwrap();
        assert_eq!(
            write.subject,
            Subject::Path {
                access: PathAccess::Write,
                path: "/home/dev/shop/.env.production".into()
            }
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        let cases: [(&[u8], HookInputError); 5] = [
            (b"{not json", HookInputError::Malformed(String::new())),
            (b"[1,2]", HookInputError::Malformed(String::new())),
            (
                br#"{"tool_input":{}}"#,
                HookInputError::Missing("tool_name"),
            ),
            (
                br#"{"tool_name":"Bash","tool_input":{"description":"x"}}"#,
                HookInputError::Missing("tool_input.command"),
            ),
            (
                br#"{"tool_name":"WebFetch","tool_input":{"url":"x"}}"#,
                HookInputError::UnknownTool("WebFetch".into()),
            ),
        ];
        for (input, expected) in cases {
            let got = parse(input).unwrap_err();
            match (&got, &expected) {
                (HookInputError::Malformed(_), HookInputError::Malformed(_)) => {}
                _ => assert_eq!(got, expected),
            }
        }
    }

    #[test]
    fn renders_each_verdict_in_claudes_format() {
        let out = render(&ClientVerdict::Deny {
            reason: "production".into(),
        });
        assert_eq!(
            out,
            r#"{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"production"}}"#
        );
        let ask = render(&ClientVerdict::Ask { reason: "r".into() });
        assert!(ask.contains(r#""permissionDecision":"ask""#));
        let human = render(&ClientVerdict::Allow {
            reason: "ok".into(),
            by_human: true,
        });
        assert!(human.contains(r#""permissionDecision":"allow""#));
        assert_eq!(
            render(&ClientVerdict::Allow {
                reason: "no rule".into(),
                by_human: false
            }),
            ""
        );
    }
}
