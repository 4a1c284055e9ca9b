//! HTML made safe to publish: page HTML sanitized, plain text escaped.

use url::Url;

use crate::hygiene;

/// Raw HTML sanitized at most: more than any field keeps, and a bound on the sanitizer's work
/// (it parses the HTML again).
const MAX_RAW_HTML_BYTES: usize = 4 * hygiene::MAX_CONTENT_BYTES;

/// The HTML cut to [`MAX_RAW_HTML_BYTES`], at a character boundary.
pub(super) fn cut_html(mut html: String) -> String {
    if html.len() > MAX_RAW_HTML_BYTES {
        let cut = (0..=MAX_RAW_HTML_BYTES).rev().find(|&i| html.is_char_boundary(i)).unwrap_or(0);
        html.truncate(cut);
    }
    html
}

/// Plain text made safe to place inside HTML.
pub(super) fn escape_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Keeps only safe HTML: no scripts or styles, no event-handler attributes, no `javascript:`
/// URLs; relative URLs become absolute against the page.
pub fn sanitize_html(html: &str, base: &Url) -> String {
    ammonia::Builder::default()
        .url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()))
        .clean(html)
        .to_string()
        .trim()
        .to_string()
}
