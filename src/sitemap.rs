//! Sitemaps (sitemaps.org): the pages a site lists in `sitemap.xml`, for archives whose listing
//! pages cannot be followed. Indexes name more sitemaps; `.xml.gz` ones are gzipped.

use std::io::Read;

use chrono::{DateTime, Utc};
use quick_xml::events::Event;
use quick_xml::Reader;
use url::Url;

/// A sitemap's text, at most: the protocol's own limit (50 MB, 50,000 URLs).
pub const MAX_SITEMAP_BYTES: u64 = 50 * 1024 * 1024;
/// URLs read from one sitemap at most.
pub const MAX_SITEMAP_URLS: usize = 50_000;
/// Elements deeper than this are skipped: a sitemap's fields are at depth 3
/// (`urlset/url/loc`), an extension's a level or two below.
const MAX_DEPTH: usize = 6;
/// Elements nested deeper than this make the document no sitemap.
const MAX_NESTING: usize = 100;

/// What one sitemap lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Pages, with when each last changed if the sitemap says.
    pub pages: Vec<(Url, Option<DateTime<Utc>>)>,
    /// More sitemaps (a sitemap index).
    pub sitemaps: Vec<Url>,
}

#[derive(Debug, thiserror::Error)]
pub enum SitemapError {
    #[error("not a sitemap: {0}")]
    Xml(String),
    #[error("gzip: {0}")]
    Gzip(String),
    #[error("larger than {MAX_SITEMAP_BYTES} bytes once unpacked")]
    TooLarge,
}

/// Reads a sitemap or a sitemap index; gzipped bytes are unpacked first. `<loc>`s that are not
/// absolute http(s) URLs are left out.
pub fn parse(bytes: &[u8]) -> Result<Sitemap, SitemapError> {
    let xml = if bytes.starts_with(&[0x1f, 0x8b]) { gunzip(bytes)? } else { bytes.to_vec() };
    let mut reader = Reader::from_reader(&xml[..]);
    let mut sitemap = Sitemap::default();
    let (mut path, mut loc, mut lastmod) = (Vec::<Vec<u8>>::new(), None::<String>, None::<String>);
    let mut depth = 0usize;
    let mut text = String::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).map_err(|e| SitemapError::Xml(e.to_string()))? {
            Event::Start(start) => {
                depth += 1;
                // The XML reader keeps every open element's name: a bomb of nesting is refused.
                if depth > MAX_NESTING {
                    return Err(SitemapError::Xml(format!("elements nested more than {MAX_NESTING} deep")));
                }
                if depth <= MAX_DEPTH {
                    path.push(start.local_name().as_ref().to_vec());
                }
                text.clear();
            }
            // Deeper than any entry's fields: only counted, so a deep document costs no memory.
            Event::End(_) if depth > MAX_DEPTH => depth -= 1,
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                let name = end.local_name().as_ref().to_vec();
                // Only an entry's own <loc>: not an <image:loc> or <video:loc> inside it.
                let parent = path.len().checked_sub(2).and_then(|i| path.get(i)).map(Vec::as_slice);
                let in_entry = matches!(parent, Some(b"url" | b"sitemap")) && end.name().prefix().is_none();
                match name.as_slice() {
                    b"loc" if in_entry => loc = Some(text.trim().to_string()),
                    b"lastmod" if in_entry => lastmod = Some(text.trim().to_string()),
                    _ => {}
                }
                text.clear();
                path.pop();
                let entry = match name.as_slice() {
                    b"url" => Some(false),
                    b"sitemap" => Some(true),
                    _ => None,
                };
                let found = entry.and_then(|index| Some((index, loc.take().and_then(|l| http_url(&l))?)));
                if let Some((index, url)) = found {
                    if sitemap.pages.len() + sitemap.sitemaps.len() >= MAX_SITEMAP_URLS {
                        break;
                    }
                    if index {
                        sitemap.sitemaps.push(url);
                    } else {
                        let changed = lastmod.take().and_then(|d| crate::parse::date(&d));
                        sitemap.pages.push((url, changed));
                    }
                }
                if entry.is_some() {
                    lastmod = None;
                }
            }
            // A value arrives in pieces: text, and references such as `&amp;` between them.
            Event::Text(piece) => text.push_str(&piece.xml10_content().map_err(|e| SitemapError::Xml(e.to_string()))?),
            Event::CData(piece) => text.push_str(&piece.xml10_content().map_err(|e| SitemapError::Xml(e.to_string()))?),
            Event::GeneralRef(reference) => {
                let name = String::from_utf8_lossy(&reference).into_owned();
                match reference.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => text.push_str(quick_xml::escape::resolve_predefined_entity(&name).unwrap_or_default()),
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(sitemap)
}

impl Sitemap {
    /// Forgets `<lastmod>`s that cannot say when a page changed: one date on every page (the
    /// time the sitemap was generated, on sites that stamp it so) and dates past `now` (which
    /// would ask for the page again every night).
    pub fn drop_meaningless_lastmods(&mut self, now: DateTime<Utc>) {
        let mut dates = self.pages.iter().map(|(_, changed)| *changed);
        let stamped =
            self.pages.len() > 1 && dates.next().flatten().is_some_and(|first| dates.all(|d| d == Some(first)));
        for (_, changed) in &mut self.pages {
            if stamped || changed.is_some_and(|d| d > now) {
                *changed = None;
            }
        }
    }
}

fn http_url(text: &str) -> Option<Url> {
    Url::parse(text.trim()).ok().filter(|u| matches!(u.scheme(), "http" | "https"))
}

/// Gzipped bytes unpacked, refusing a bomb.
fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, SitemapError> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .take(MAX_SITEMAP_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| SitemapError::Gzip(e.to_string()))?;
    if text.len() as u64 > MAX_SITEMAP_BYTES {
        return Err(SitemapError::TooLarge);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_indexes_and_gzip() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://example.org/episodes/1</loc><lastmod>2017-08-16</lastmod></url>
  <url><loc> https://example.org/episodes/2?a=1&amp;b=2 </loc></url>
  <url><loc>javascript:alert(1)</loc></url>
</urlset>"#;
        let sitemap = parse(xml.as_bytes()).unwrap();
        assert_eq!(sitemap.pages.len(), 2);
        let with_image = r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url><loc>https://example.org/episodes/1</loc><image:image><image:loc>https://example.org/1.jpg</image:loc></image:image></url></urlset>"#;
        let pages = parse(with_image.as_bytes()).unwrap().pages;
        assert_eq!(
            pages.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>(),
            ["https://example.org/episodes/1"],
            "not the image"
        );
        assert_eq!(sitemap.pages[0].1, crate::parse::date("2017-08-16"));
        assert_eq!(sitemap.pages[1].0.as_str(), "https://example.org/episodes/2?a=1&b=2");

        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://example.org/sitemap-1.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap></sitemapindex>"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, index.as_bytes()).unwrap();
        let sitemap = parse(&gz.finish().unwrap()).unwrap();
        assert_eq!(
            sitemap.sitemaps.iter().map(Url::as_str).collect::<Vec<_>>(),
            ["https://example.org/sitemap-1.xml.gz"]
        );
        assert!(sitemap.pages.is_empty());
    }

    #[test]
    fn generation_stamps_and_future_dates_are_not_changes() {
        let entry = |n: u32, date: &str| format!("<url><loc>https://a/{n}</loc><lastmod>{date}</lastmod></url>");
        let now = crate::parse::date("2026-11-28T00:00:00Z").unwrap();
        let stamped: String = (0..3).map(|n| entry(n, "2026-11-27T23:59:00Z")).collect();
        let mut sitemap = parse(format!("<urlset>{stamped}</urlset>").as_bytes()).unwrap();
        sitemap.drop_meaningless_lastmods(now);
        assert!(sitemap.pages.iter().all(|(_, d)| d.is_none()), "one date on every page: when it was made");

        let real = [entry(0, "2026-11-20"), entry(1, "2026-11-21"), entry(2, "2031-01-01")].concat();
        let mut sitemap = parse(format!("<urlset>{real}</urlset>").as_bytes()).unwrap();
        sitemap.drop_meaningless_lastmods(now);
        let dates: Vec<_> = sitemap.pages.iter().map(|(_, d)| *d).collect();
        assert_eq!(dates, [crate::parse::date("2026-11-20"), crate::parse::date("2026-11-21"), None]);
    }

    #[test]
    fn junk_is_an_error_not_a_panic() {
        assert_eq!(parse(b"<urlset><url><loc>https://a/</loc></url></urlset>").unwrap().pages.len(), 1);
        assert!(parse(b"<urlset><url><loc>https://a/</lo></url>").is_err(), "mismatched tags");
        assert!(matches!(parse(&[0x1f, 0x8b, 0, 1, 2]), Err(SitemapError::Gzip(_))));
        // Nesting below the entries is skipped; a bomb of it is refused.
        let nested = |n: usize| {
            format!("<urlset>{}{}<url><loc>https://a/2</loc></url></urlset>", "<a>".repeat(n), "</a>".repeat(n))
        };
        assert_eq!(parse(nested(90).as_bytes()).unwrap().pages.len(), 1);
        assert!(matches!(parse(nested(1_000_000).as_bytes()), Err(SitemapError::Xml(_))));
    }
}
