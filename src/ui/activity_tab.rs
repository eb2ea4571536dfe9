//! The Activity tab: the commands the agent ran or asked to run, with the decision for each.
//! Placeholder body until the gate renders its decisions here.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::model::Model;

/// Draws the Activity tab's body.
pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    super::side_panel_text::render(
        frame,
        area,
        model,
        &[
            "Every command the agent runs will appear here:",
            "what it ran, the target it resolved to, and the decision \
             (allow, warn, confirm, deny) with the rule that made it.",
        ],
    );
}
