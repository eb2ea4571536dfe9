//! The Context tab: every detected fact with its tier, the reason for it and its source, the
//! credentials present (names only), and the context warnings raised this session on top.
//!
//! Read-only: renders a [`Context`] into a buffer. Production must be impossible to miss, so its
//! style is bold white on red wherever a tier is shown.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Widget};

use crate::context::{Context, ContextWarning, Tier};

/// The style of a tier label. The one place tier colours are chosen (a theme system may replace
/// it later).
pub fn tier_style(tier: Tier) -> Style {
    match tier {
        Tier::Production => Style::new()
            .fg(Color::White)
            .bg(Color::Red)
            .add_modifier(Modifier::BOLD),
        Tier::Staging => Style::new().fg(Color::Black).bg(Color::Yellow),
        Tier::Unknown => Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD),
        Tier::Development => Style::new().fg(Color::Green),
    }
}

/// Renders the tab into `area` with the default tier colours ([`tier_style`]).
pub fn render(ctx: &Context, warnings: &[ContextWarning], area: Rect, buf: &mut Buffer) {
    render_with(ctx, warnings, &tier_style, area, buf);
}

/// Renders the tab into `area`: warnings (newest last, at most a third of the height), the
/// session tier line, the facts table (kind, name + details, tier, reason, source) and the
/// credentials. `tier_style` chooses tier colours (pass the theme's `Theme::tier`).
pub fn render_with(
    ctx: &Context,
    warnings: &[ContextWarning],
    tier_style: &dyn Fn(Tier) -> Style,
    area: Rect,
    buf: &mut Buffer,
) {
    let warn_rows = if warnings.is_empty() {
        0
    } else {
        (warnings.len() as u16).min(area.height / 3).max(1)
    };
    let cred_rows = if ctx.credentials.is_empty() {
        1
    } else {
        (ctx.credentials.len() as u16 + 1)
            .min(area.height / 3)
            .max(2)
    };
    let [warn_area, head_area, facts_area, cred_area] = Layout::vertical([
        Constraint::Length(warn_rows),
        Constraint::Length(2),
        Constraint::Min(3),
        Constraint::Length(cred_rows),
    ])
    .areas(area);

    let skip = warnings.len().saturating_sub(warn_rows as usize);
    let warn_lines: Vec<Line> = warnings[skip..]
        .iter()
        .map(|w| {
            Line::from(vec![
                Span::styled(" ⚠ ", tier_style(w.tier)),
                Span::raw(" "),
                Span::styled(w.message.clone(), Style::new().add_modifier(Modifier::BOLD)),
            ])
        })
        .collect();
    Paragraph::new(warn_lines).render(warn_area, buf);

    let why = ctx
        .deciding_fact()
        .map(|f| format!("  {}", f.reason))
        .unwrap_or_else(|| "  no environment detected".into());
    Paragraph::new(Line::from(vec![
        Span::raw("session tier "),
        Span::styled(
            format!(" {} ", ctx.tier.as_str().to_uppercase()),
            tier_style(ctx.tier),
        ),
        Span::raw(why),
    ]))
    .render(head_area, buf);

    let rows: Vec<Row> = ctx
        .facts
        .iter()
        .map(|f| {
            let details: Vec<String> = f.details.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let name = Text::from(vec![
                Line::from(f.name.clone()),
                Line::styled(details.join(" "), Style::new().add_modifier(Modifier::DIM)),
            ]);
            Row::new(vec![
                Cell::from(f.kind.as_str()),
                Cell::from(name),
                Cell::from(Span::styled(f.tier.as_str(), tier_style(f.tier))),
                Cell::from(f.reason.clone()),
                Cell::from(f.source.clone()),
            ])
            .height(2)
        })
        .collect();
    let header = Row::new(["KIND", "NAME", "TIER", "REASON", "SOURCE"])
        .style(Style::new().add_modifier(Modifier::BOLD));
    Table::new(
        rows,
        [
            Constraint::Length(9),
            Constraint::Percentage(25),
            Constraint::Length(11),
            Constraint::Percentage(45),
            Constraint::Percentage(30),
        ],
    )
    .header(header)
    .block(Block::new().borders(Borders::TOP).title(" facts "))
    .render(facts_area, buf);

    let cred_lines: Vec<Line> = if ctx.credentials.is_empty() {
        vec![Line::from("credentials: none detected")]
    } else {
        std::iter::once(Line::styled(
            "credentials (names only)",
            Style::new().add_modifier(Modifier::BOLD),
        ))
        .chain(
            ctx.credentials
                .iter()
                .map(|c| Line::from(format!("  {}  {}  {}", c.kind, c.name, c.source))),
        )
        .collect()
    };
    Paragraph::new(cred_lines).render(cred_area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testkit::{SECRETS, prod_home};
    use crate::context::{FactKind, watch::diff};

    fn buffer_text(buf: &Buffer) -> String {
        let area = buf.area;
        let mut out = String::new();
        for y in area.top()..area.bottom() {
            for x in area.left()..area.right() {
                out.push_str(buf[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    fn rendered(ctx: &Context, warnings: &[ContextWarning]) -> Buffer {
        let area = Rect::new(0, 0, 160, 60);
        let mut buf = Buffer::empty(area);
        render(ctx, warnings, area, &mut buf);
        buf
    }

    #[test]
    fn lists_every_fact_with_tier_reason_and_source() {
        let ctx = prod_home().detect();
        let text = buffer_text(&rendered(&ctx, &[]));
        assert!(text.contains("session tier  PRODUCTION "), "{text}");
        for fact in &ctx.facts {
            assert!(
                text.contains(fact.kind.as_str()),
                "{} missing:\n{text}",
                fact.kind
            );
            assert!(text.contains(&fact.name), "{} missing:\n{text}", fact.name);
        }
        assert!(
            text.contains("kube context 'prod-eu' contains 'prod'"),
            "{text}"
        );
        assert!(text.contains("~/.kube/config"), "{text}");
        assert!(text.contains("GITHUB_TOKEN"), "{text}");
    }

    #[test]
    fn production_is_bold_white_on_red_and_warnings_come_first() {
        let ctx = prod_home().detect();
        let mut before = ctx.clone();
        if let Some(kube) = before.facts.iter_mut().find(|f| f.kind == FactKind::Kube) {
            kube.name = "staging-eu".into();
            kube.tier = Tier::Staging;
        }
        let warnings = diff(&before, &ctx);
        assert_eq!(warnings.len(), 1);
        let buf = rendered(&ctx, &warnings);
        let text = buffer_text(&buf);
        let first = text.lines().next().unwrap_or_default();
        assert!(
            first.contains("kube context changed: staging-eu → prod-eu (production)"),
            "{first}"
        );
        // The session badge: find "PRODUCTION" on the tier line and check its cell style.
        let (y, line) = text
            .lines()
            .enumerate()
            .find(|(_, l)| l.starts_with("session tier"))
            .expect("tier line");
        let x = line.find("PRODUCTION").expect("badge") as u16;
        let cell = &buf[(x, y as u16)];
        assert_eq!((cell.fg, cell.bg), (Color::White, Color::Red));
        assert!(cell.modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn planted_secrets_never_reach_the_tab() {
        let ctx = prod_home().detect();
        let warnings = diff(&Context::default(), &ctx);
        let text = buffer_text(&rendered(&ctx, &warnings));
        for secret in SECRETS {
            assert!(!text.contains(secret), "tab leaks {secret:?}");
        }
        assert!(!text.contains("PLANTED"), "{text}");
    }
}
