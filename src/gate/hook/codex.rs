//! Codex CLI PreToolUse (`hooks.json`): input and output formats.
//!
//! Input: Claude-compatible — `{"session_id","turn_id","cwd","hook_event_name":"PreToolUse",
//! "tool_name":"Bash","tool_input":{"command":"…"}}` (the command may also arrive as an argv
//! array). Output: Codex accepts only a deny — `{"hookSpecificOutput":{"hookEventName":
//! "PreToolUse","permissionDecision":"deny","permissionDecisionReason":"…"}}` — and treats
//! `allow`/`ask` and unknown fields as an invalid hook answer, so allow is an empty stdout and a
//! confirm outside a session is a deny (Codex cannot ask on a hook's behalf).
//! Source: openai/codex `codex-rs/hooks/src/engine/output_parser.rs` (parse_pre_tool_use).

use serde_json::{Value, json};

use super::{HookInputError, ToolCall, fields};
use crate::gate::Subject;
use crate::gate::client::ClientVerdict;

/// The tools routed to this hook (the `matcher` in the generated hooks.json).
pub const MATCHER: &str = "^(Bash|shell|local_shell|exec_command)$";

/// Parses a Codex PreToolUse payload.
pub fn parse(bytes: &[u8]) -> Result<ToolCall, HookInputError> {
    let map = fields::object(bytes)?;
    let tool = fields::string(&map, "tool_name")?;
    if !matches!(
        tool.as_str(),
        "Bash" | "shell" | "local_shell" | "exec_command"
    ) {
        return Err(HookInputError::UnknownTool(tool));
    }
    let input = fields::tool_input(&map)?;
    let subject = match input.get("command").or_else(|| input.get("cmd")) {
        Some(Value::String(s)) => Subject::Command(s.clone()),
        Some(Value::Array(items)) => {
            let argv: Option<Vec<String>> =
                items.iter().map(|v| v.as_str().map(String::from)).collect();
            match argv {
                Some(argv) if !argv.is_empty() => Subject::Argv(argv),
                _ => return Err(HookInputError::Missing("tool_input.command")),
            }
        }
        _ => return Err(HookInputError::Missing("tool_input.command")),
    };
    let cwd = input
        .get("workdir")
        .and_then(Value::as_str)
        .map(std::path::PathBuf::from)
        .or_else(|| fields::cwd(&map));
    Ok(ToolCall { tool, subject, cwd })
}

/// Renders the verdict: empty for allow, the deny form otherwise.
pub fn render(verdict: &ClientVerdict) -> String {
    let reason = match verdict {
        ClientVerdict::Allow { .. } => return String::new(),
        ClientVerdict::Ask { reason } => format!(
            "needs a human's confirmation ({reason}); Codex hooks cannot ask, so run the agent \
             inside `overwatch run` to be asked"
        ),
        ClientVerdict::Deny { reason } => reason.clone(),
    };
    json!({
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_string_and_argv_commands() {
        let call = parse(include_bytes!(
            "../../../tests/fixtures/gate/codex-bash.json"
        ))
        .unwrap();
        assert_eq!(
            call.subject,
            Subject::Command("kubectl delete ns payments".into())
        );
        let argv = parse(
            br#"{"tool_name":"shell","cwd":"/w","tool_input":{"command":["bash","-lc","rm -rf x"]}}"#,
        )
        .unwrap();
        assert_eq!(
            argv.subject,
            Subject::Argv(vec!["bash".into(), "-lc".into(), "rm -rf x".into()])
        );
        assert!(matches!(
            parse(br#"{"tool_name":"apply_patch","tool_input":{}}"#),
            Err(HookInputError::UnknownTool(_))
        ));
    }

    #[test]
    fn only_deny_is_ever_printed() {
        assert_eq!(
            render(&ClientVerdict::Allow {
                reason: "x".into(),
                by_human: true
            }),
            ""
        );
        for v in [
            ClientVerdict::Ask { reason: "p".into() },
            ClientVerdict::Deny { reason: "p".into() },
        ] {
            let out: Value = serde_json::from_str(&render(&v)).unwrap();
            assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
            assert_eq!(out.as_object().unwrap().len(), 1);
            assert_eq!(out["hookSpecificOutput"].as_object().unwrap().len(), 3);
        }
    }
}
