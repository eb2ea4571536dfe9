//! The Diff tab: live diffs of what the agent changes in the workspace.
//! Placeholder body until the diff module renders its changes here.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::model::Model;

/// Draws the Diff tab's body.
pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    super::side_panel_text::render(
        frame,
        area,
        model,
        &[
            "Live diffs of the workspace will appear here:",
            "each file the agent changes, against git HEAD or the file as first seen, \
             with warnings for sensitive files (.env, state files, migrations, CI).",
        ],
    );
}
