//! Gemini CLI BeforeTool: input and output formats.
//!
//! Input: `{"session_id","transcript_path","cwd","hook_event_name":"BeforeTool","timestamp",
//! "tool_name":"run_shell_command","tool_input":{"command":"…"}}`; `write_file` and `replace`
//! carry `tool_input.file_path`, `read_file` `file_path` (older releases `absolute_path`).
//! Output (exit 0): `{"decision":"deny","reason":"…"}` blocks the tool and sends the reason to
//! the model; `{"decision":"allow"}` allows; `{}` is no opinion. BeforeTool has no "ask", so a
//! confirm outside a session is a deny.
//! Source: google-gemini/gemini-cli `docs/hooks/reference.md` ("BeforeTool").

use serde_json::json;

use super::{HookInputError, ToolCall, fields};
use crate::gate::client::ClientVerdict;
use crate::gate::{PathAccess, Subject};

/// The tools routed to this hook (the `matcher` regex in the generated settings).
pub const MATCHER: &str = "run_shell_command|write_file|replace|read_file";

/// Parses a BeforeTool payload.
pub fn parse(bytes: &[u8]) -> Result<ToolCall, HookInputError> {
    let map = fields::object(bytes)?;
    let tool = fields::string(&map, "tool_name")?;
    let input = fields::tool_input(&map)?;
    let subject = match tool.as_str() {
        "run_shell_command" => Subject::Command(
            input
                .get("command")
                .and_then(|v| v.as_str())
                .ok_or(HookInputError::Missing("tool_input.command"))?
                .to_string(),
        ),
        "write_file" | "replace" => fields::path(input, &["file_path"], PathAccess::Write)?,
        "read_file" => fields::path(input, &["file_path", "absolute_path"], PathAccess::Read)?,
        _ => return Err(HookInputError::UnknownTool(tool)),
    };
    let cwd = input
        .get("dir_path")
        .or_else(|| input.get("directory"))
        .and_then(|v| v.as_str())
        .map(std::path::PathBuf::from)
        .or_else(|| fields::cwd(&map));
    Ok(ToolCall { tool, subject, cwd })
}

/// Renders the verdict in BeforeTool's format.
pub fn render(verdict: &ClientVerdict) -> String {
    match verdict {
        ClientVerdict::Allow {
            by_human: false, ..
        } => "{}".to_string(),
        ClientVerdict::Allow { .. } => json!({"decision": "allow"}).to_string(),
        ClientVerdict::Ask { reason } => json!({
            "decision": "deny",
            "reason": format!(
                "needs a human's confirmation ({reason}); run the agent inside `overwatch run` \
                 to be asked"
            ),
        })
        .to_string(),
        ClientVerdict::Deny { reason } => json!({"decision": "deny", "reason": reason}).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_shell_and_file_tools() {
        let call = parse(include_bytes!(
            "../../../tests/fixtures/gate/gemini-shell.json"
        ))
        .unwrap();
        assert_eq!(
            call.subject,
            Subject::Command("terraform destroy -auto-approve".into())
        );
        let read = parse(
            br#"{"tool_name":"read_file","cwd":"/w","tool_input":{"absolute_path":"/w/.env"}}"#,
        )
        .unwrap();
        assert_eq!(
            read.subject,
            Subject::Path {
                access: PathAccess::Read,
                path: "/w/.env".into()
            }
        );
    }

    #[test]
    fn renders_deny_with_reason_and_never_asks() {
        let deny: serde_json::Value =
            serde_json::from_str(&render(&ClientVerdict::Deny { reason: "r".into() })).unwrap();
        assert_eq!(deny, json!({"decision":"deny","reason":"r"}));
        let ask: serde_json::Value =
            serde_json::from_str(&render(&ClientVerdict::Ask { reason: "r".into() })).unwrap();
        assert_eq!(ask["decision"], "deny");
        assert_eq!(
            render(&ClientVerdict::Allow {
                reason: String::new(),
                by_human: false
            }),
            "{}"
        );
    }
}
