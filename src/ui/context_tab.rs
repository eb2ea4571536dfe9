//! The Context tab: which environments and credentials the agent is pointed at, with tiers.
//! Placeholder body until the context module renders its facts here.

use ratatui::Frame;
use ratatui::layout::Rect;

use crate::app::model::Model;

/// Draws the Context tab's body.
pub fn render(frame: &mut Frame, area: Rect, model: &Model) {
    super::side_panel_text::render(
        frame,
        area,
        model,
        &[
            "What the agent is really pointed at will appear here:",
            "kube context and namespace, AWS profile and account, gcloud project, \
             terraform workspace, git branch, database hosts, and the credentials \
             in its environment — each with its tier and the reason for it.",
        ],
    );
}
