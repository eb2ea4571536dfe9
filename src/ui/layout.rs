//! Where each part of the app goes on the screen. Pure geometry, shared by `update` (the PTY is
//! sized to the agent pane) and the render functions.
//!
//! **Invariant:** the four areas never overlap and together cover the screen; the agent pane is
//! never narrower than [`MIN_AGENT_COLS`] because of the side panel (the panel is hidden instead).

use ratatui::layout::Rect;

/// The narrowest agent pane the side panel may leave (agents lay out for ≥ 80 columns, and most
/// still work at 60).
pub const MIN_AGENT_COLS: u16 = 60;
/// The narrowest side panel worth showing.
pub const MIN_SIDE_COLS: u16 = 24;

/// The areas of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppLayout {
    /// Top row: command, pid, state, elapsed, tier.
    pub status: Rect,
    /// The agent's screen; the PTY has exactly this many columns and rows.
    pub agent: Rect,
    /// Right column with the Context / Activity / Diff tabs, when the screen is wide enough.
    pub side: Option<Rect>,
    /// Bottom row: the keys of the current mode.
    pub help: Rect,
}

impl AppLayout {
    /// Splits `screen`: one status row, one help row, and between them the agent pane beside a
    /// side panel of `side_percent` % of the width (hidden when either would be too narrow).
    pub fn compute(screen: Rect, side_percent: u16) -> Self {
        let status = Rect {
            height: screen.height.min(1),
            ..screen
        };
        let help_height = u16::from(screen.height >= 2);
        let help = Rect {
            y: screen.bottom().saturating_sub(help_height),
            height: help_height,
            ..screen
        };
        let body = Rect {
            y: status.bottom(),
            height: screen.height.saturating_sub(status.height + help.height),
            ..screen
        };
        let side_cols =
            u16::try_from(u32::from(screen.width) * u32::from(side_percent.min(90)) / 100)
                .unwrap_or(0);
        if side_cols >= MIN_SIDE_COLS && body.width.saturating_sub(side_cols) >= MIN_AGENT_COLS {
            let agent = Rect {
                width: body.width - side_cols,
                ..body
            };
            let side = Rect {
                x: agent.right(),
                width: side_cols,
                ..body
            };
            AppLayout {
                status,
                agent,
                side: Some(side),
                help,
            }
        } else {
            AppLayout {
                status,
                agent: body,
                side: None,
                help,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_screens_get_a_side_panel_and_narrow_ones_do_not() {
        let wide = AppLayout::compute(Rect::new(0, 0, 120, 40), 38);
        assert_eq!(wide.status, Rect::new(0, 0, 120, 1));
        assert_eq!(wide.help, Rect::new(0, 39, 120, 1));
        assert_eq!(wide.agent, Rect::new(0, 1, 75, 38));
        assert_eq!(wide.side, Some(Rect::new(75, 1, 45, 38)));

        let narrow = AppLayout::compute(Rect::new(0, 0, 80, 24), 38);
        assert_eq!(narrow.agent, Rect::new(0, 1, 80, 22));
        assert_eq!(narrow.side, None);
    }

    #[test]
    fn tiny_screens_do_not_underflow() {
        for (w, h) in [(0, 0), (1, 1), (5, 2), (200, 3)] {
            let l = AppLayout::compute(Rect::new(0, 0, w, h), 38);
            let side = l.side.map_or(0, |s| s.width);
            assert_eq!(l.agent.width + side, w);
            assert_eq!(l.status.height + l.agent.height + l.help.height, h);
        }
    }
}
