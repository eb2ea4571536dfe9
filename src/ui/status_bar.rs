//! The status bar: what runs (command, pid), in which state (running / paused / exited with N),
//! for how long, and the session's tier on the right (filled by the context module; `tier …` until
//! it is known).

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::event::describe_exit;
use crate::app::keymap::Mode;
use crate::app::model::{AgentState, Model};

/// Draws the status bar into its one-row `area`.
pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    let theme = &model.theme;
    let base = theme.status;
    let (state, state_style) = match model.agent.state {
        AgentState::Running => ("● running".to_string(), base),
        AgentState::Paused => ("⏸ PAUSED".to_string(), theme.warning),
        AgentState::Exited(status) => {
            (format!("■ exited {}", describe_exit(status)), theme.warning)
        }
    };
    let pid = model
        .agent
        .pid
        .map_or_else(|| "pid ?".to_string(), |pid| format!("pid {pid}"));

    let mut right = Vec::new();
    match model.mode() {
        Mode::Prefix => right.push(Span::styled(
            format!(" {} … ", model.keymap.prefix()),
            theme.help_key.add_modifier(Modifier::REVERSED),
        )),
        Mode::Scrollback => right.push(Span::styled(
            format!(
                " scrollback {}/{} ",
                model.terminal.display_offset(),
                model.terminal.history_len()
            ),
            theme.warning,
        )),
        _ => {}
    }
    // What must always show (the tier badge, a held command) is placed first; the rest fits in
    // what is left, most important first, and is dropped rather than pushing the tier off.
    let tier = model.context.tier;
    let tier_badge = Span::styled(
        format!(" {} ", tier.as_str().to_uppercase()),
        theme.tier(tier),
    );
    let held_width = if model.gate_modal.needs_attention() {
        34
    } else {
        0
    };
    let mut budget = usize::from(area.width)
        .saturating_sub(tier_badge.width() + held_width + 32)
        .max(8);
    let mut fit = |text: String, style: Style, right: &mut Vec<Span>| {
        let w = unicode_width::UnicodeWidthStr::width(text.as_str());
        if w <= budget {
            budget -= w;
            right.push(Span::styled(text, style));
        } else if budget > 8 {
            let cut = truncate(&text, budget);
            budget = 0;
            right.push(Span::styled(cut, style));
        }
    };
    if let Some(notice) = &model.notice {
        fit(format!(" {notice} "), theme.error, &mut right);
    }
    // A fresh context warning takes the room of everything that can wait (pid, clock, layers).
    let banner_text = banner(model);
    let facts = key_facts(&model.context);
    if model.gate_modal.needs_attention() {
        let queued = model.gate_modal.queued_behind();
        let text = if queued > 0 {
            format!(" ⚠ COMMAND HELD (+{queued} queued) ")
        } else {
            " ⚠ COMMAND HELD ".to_string()
        };
        let style = if crate::app::gate_update::flash_on(model, model.now) {
            theme
                .tier(crate::context::Tier::Production)
                .add_modifier(Modifier::REVERSED)
        } else {
            theme.tier(crate::context::Tier::Production)
        };
        right.push(Span::styled(text, style));
    }
    right.push(Span::styled(" ", base));
    let mut tail = Vec::new();
    fit(format!(" {facts} "), base, &mut tail);
    if let Some(status) = model.gate_status.as_ref().filter(|_| banner_text.is_none()) {
        let mut first = Vec::new();
        fit(format!(" {status} "), base.patch(theme.muted), &mut first);
        let at = right.len().saturating_sub(1);
        right.splice(at..at, first);
    }
    right.extend(tail);
    right.push(tier_badge);
    let right_width: usize = right.iter().map(|s| s.width()).sum();

    let mut left: Vec<Span> = vec![
        Span::styled(" overwatch ", base.add_modifier(Modifier::BOLD)),
        Span::styled("│ ", base),
        Span::styled(state, state_style),
        Span::styled(" │ ", base),
    ];
    if banner_text.is_none() {
        left.extend([
            Span::styled(pid, base),
            Span::styled(" │ ", base),
            Span::styled(format_elapsed(model.elapsed()), base),
            Span::styled(" │ ", base),
        ]);
    }
    let fixed_width: usize = left.iter().map(|s| s.width()).sum();
    let room = usize::from(area.width).saturating_sub(fixed_width + right_width + 1);
    match banner_text {
        Some(text) => left.push(Span::styled(
            truncate(&format!("⚠ {text}"), room),
            theme.warning,
        )),
        None => left.push(Span::styled(truncate(&model.agent.command, room), base)),
    }

    frame.render_widget(Paragraph::new(Line::from(left)).style(base), area);
    frame.render_widget(
        Paragraph::new(Line::from(right))
            .style(Style::default())
            .alignment(Alignment::Right),
        area,
    );
}

/// `H:MM:SS` (hours unbounded).
fn format_elapsed(elapsed: Duration) -> String {
    let s = elapsed.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// At most `max` columns of `text`, ending in `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut out = String::new();
    let mut width = 0;
    let total: usize = text.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= max {
        return text.to_string();
    }
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if width + w + 1 > max {
            break;
        }
        out.push(c);
        width += w;
    }
    if max > 0 {
        out.push('…');
    }
    out
}

/// How long a context warning stays in the status bar (it stays in the Activity tab).
pub const BANNER_FOR: Duration = Duration::from_secs(15);

/// The context warning to show instead of the command, while it is fresh.
fn banner(model: &Model) -> Option<&str> {
    let (text, since) = model.banner.as_ref()?;
    (model.now.saturating_duration_since(*since) < BANNER_FOR).then_some(text.as_str())
}

/// The facts that decide the session's tier, most severe first, at most three:
/// `kube:prod-eu aws:prod-admin tf:prod`.
pub fn key_facts(ctx: &crate::context::Context) -> String {
    let mut facts: Vec<&crate::context::Fact> = ctx.facts.iter().collect();
    facts.sort_by_key(|f| std::cmp::Reverse(f.tier));
    facts
        .iter()
        .take(3)
        .map(|f| format!("{}:{}", short_kind(f.kind), f.name))
        .collect::<Vec<_>>()
        .join(" ")
}

fn short_kind(kind: crate::context::FactKind) -> &'static str {
    use crate::context::FactKind as K;
    match kind {
        K::Kube => "kube",
        K::Aws => "aws",
        K::Gcloud => "gcp",
        K::Azure => "az",
        K::Terraform => "tf",
        K::Pulumi => "pulumi",
        K::Docker => "docker",
        K::Git => "git",
        K::Ssh => "ssh",
        K::Database => "db",
        K::Service => "svc",
        K::Custom => "probe",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_and_truncation() {
        assert_eq!(format_elapsed(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(truncate("claude --resume", 20), "claude --resume");
        assert_eq!(truncate("claude --resume", 8), "claude …");
        assert_eq!(truncate("abc", 0), "");
    }
}
