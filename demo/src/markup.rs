//! HTML escaping for the demo's pages: a leaf every page module (the hostile ones too) uses.

/// HTML text escaping for the demo's own pages.
pub fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
