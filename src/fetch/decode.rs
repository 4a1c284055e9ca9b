//! Response bodies: read under a cap, and HTML decoded to text by its charset.

use std::sync::atomic::Ordering;

use encoding_rs::Encoding;
use reqwest::Response;

use super::{Client, FetchError};

impl Client {
    pub(super) async fn read_capped(&self, response: Response) -> Result<Vec<u8>, FetchError> {
        self.read_up_to(response, self.max_page_bytes).await
    }

    pub(super) async fn read_up_to(&self, mut response: Response, cap: u64) -> Result<Vec<u8>, FetchError> {
        if response.content_length().is_some_and(|n| n > cap) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| FetchError::from_reqwest(&e))? {
            self.stats.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

pub(super) fn is_html_type(content_type: &str) -> bool {
    let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    mime.is_empty() || mime.contains("html") || mime.ends_with("/xml") || mime.starts_with("text/")
}

/// Decodes an HTML body: a byte-order mark wins, then the `Content-Type` charset, then a
/// `<meta charset>` in the first kilobyte, else UTF-8 (invalid bytes become U+FFFD).
pub fn decode_html(body: &[u8], content_type: Option<&str>) -> String {
    let encoding = Encoding::for_bom(body)
        .map(|(encoding, _)| encoding)
        .or_else(|| content_type.and_then(charset_param).and_then(|c| Encoding::for_label(c.as_bytes())))
        .or_else(|| meta_charset(&body[..body.len().min(1024)]))
        .unwrap_or(encoding_rs::UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim().eq_ignore_ascii_case("charset").then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// `<meta charset="...">` or `<meta http-equiv="Content-Type" content="text/html; charset=...">`.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(at) = rest.find("<meta") {
        rest = &rest[at + 5..];
        let tag = &rest[..rest.find('>').unwrap_or(rest.len())];
        if let Some(pos) = tag.find("charset=") {
            let value = tag[pos + 8..].trim_start_matches(['"', '\'', ' ']);
            let end = value
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == ':'))
                .unwrap_or(value.len());
            if let Some(encoding) = Encoding::for_label(&value.as_bytes()[..end]) {
                // A page that says UTF-16 in ASCII-compatible bytes is not UTF-16 (HTML spec).
                return Some(if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
                    encoding_rs::UTF_8
                } else {
                    encoding
                });
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAFE_LATIN1: &[u8] = b"<p>Caf\xe9 cr\xe8me</p>";

    #[test]
    fn charset_from_content_type_header() {
        assert_eq!(decode_html(CAFE_LATIN1, Some("text/html; charset=ISO-8859-1")), "<p>Café crème</p>");
        assert_eq!(decode_html(CAFE_LATIN1, Some("text/html;charset=\"iso-8859-1\"")), "<p>Café crème</p>");
    }

    #[test]
    fn charset_from_meta_tags() {
        let mut page = b"<html><head><meta charset=\"windows-1252\"></head>".to_vec();
        page.extend_from_slice(CAFE_LATIN1);
        assert!(decode_html(&page, Some("text/html")).ends_with("<p>Café crème</p>"));
        let mut page = b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=ISO-8859-1\">".to_vec();
        page.extend_from_slice(CAFE_LATIN1);
        assert!(decode_html(&page, None).ends_with("<p>Café crème</p>"));
    }

    #[test]
    fn header_charset_beats_meta_and_bom_beats_both() {
        let page = "<meta charset=iso-8859-1><p>Café</p>".as_bytes();
        assert!(decode_html(page, Some("text/html; charset=utf-8")).ends_with("<p>Café</p>"));
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend_from_slice(page);
        assert!(decode_html(&bom, Some("text/html; charset=iso-8859-1")).ends_with("<p>Café</p>"));
    }

    #[test]
    fn utf8_default_and_invalid_bytes_do_not_fail() {
        assert_eq!(decode_html("<p>Ünïcødé</p>".as_bytes(), None), "<p>Ünïcødé</p>");
        assert_eq!(decode_html(b"<p>\xff</p>", Some("text/html; charset=utf-8")), "<p>\u{fffd}</p>");
    }

    #[test]
    fn html_content_types() {
        assert!(is_html_type("text/html; charset=utf-8"));
        assert!(is_html_type("application/xhtml+xml"));
        assert!(!is_html_type("audio/mpeg"));
        assert!(!is_html_type("application/pdf"));
    }
}
