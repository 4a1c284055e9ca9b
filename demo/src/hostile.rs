//! Hostile mode of the demo site: pages that real sites do serve, built to break a feed, stall a
//! run or lead a crawler out of its scope. Listing page 2 links every one of them; their fields
//! sit where the demo recipe looks, so they reach every stage of the pipeline.

use std::fmt::Write;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;

use super::markup::esc;

/// Links to the same page under tracking parameters: fetched once.
pub const TRACKED: [&str; 5] =
    ["?utm_source=newsletter", "?utm_medium=social&utm_campaign=x", "?fbclid=IwAR0abc", "?gclid=EAIa", "?ref=home"];

/// Links to one page under a query parameter that is not a tracking one: each is fetched, and
/// all are one episode (one audio file).
pub const QUERY_TWINS: u32 = 500;

/// An endless or huge body is cut off at the recipe's `max_page_bytes`; this much decompresses
/// from the gzip bomb (50 KB on the wire).
const BOMB_BYTES: usize = 50 * 1024 * 1024;

/// The hostile pages, by the last part of their path, with what a listing says of them.
pub const PAGES: [(&str, &str); 17] = [
    ("control", "Control characters and lone surrogates in every field"),
    ("overflow", "A duration of 10^18 hours and numbers beyond u32"),
    ("overflow-seconds", "A duration of 99999999999999999999 seconds"),
    ("future", "Published on 9999-12-31"),
    ("ancient", "Published in the year 1"),
    ("deep", "200,000 nested <div>s"),
    ("attributes", "One tag with 700,000 attributes"),
    ("tiny", "700,000 empty elements"),
    ("entities", "Pathological character references"),
    ("redirect-away", "A redirect to a host outside the recipe's scope"),
    ("script-audio", "javascript: and data: audio URLs"),
    ("gzip-bomb", "50 MB of gzip in 50 KB"),
    ("endless", "A body that never ends"),
    ("silent", "A server that never answers"),
    ("garbage", "Binary garbage served as text/html"),
    ("charset", "An unknown charset label"),
    ("huge-title", "A 300,000-character title"),
];

/// More pages with audio: a non-ASCII audio URL, and audio that redirects to `ftp:`.
pub const AUDIO_PAGES: [(&str, &str); 2] =
    [("unicode-audio", "A non-ASCII audio URL"), ("ftp-audio", "Audio that redirects to ftp:")];

/// A link among listing page 2's page numbers to a listing page that redirects off the scope.
pub const LISTING_AWAY: &str = r#"<a href="/hostile/listing-away">Older (elsewhere)</a>"#;

/// The cards listing page 2 adds in hostile mode.
pub fn listing_cards() -> String {
    let mut cards = String::new();
    let mut card = |href: String, text: &str| {
        let _ = write!(
            cards,
            r#"<article class="episode-card"><h2 class="title"><a href="{}">{}</a></h2></article>"#,
            esc(&href),
            esc(text)
        );
    };
    for (kind, text) in PAGES.iter().chain(&AUDIO_PAGES) {
        card(format!("/hostile/{kind}"), text);
    }
    for query in TRACKED {
        card(format!("/hostile/tracked{query}"), "The same page, tracked");
    }
    for n in 1..=QUERY_TWINS {
        card(format!("/hostile/twin?x={n}"), "The same episode again");
    }
    cards
}

/// The fields a hostile episode page carries, as raw HTML (character references and all).
struct Fields {
    title: String,
    guid: &'static str,
    /// The `<link rel=canonical>`; empty for none.
    canonical: String,
    date: &'static str,
    duration: &'static str,
    kicker: &'static str,
    season: &'static str,
    audio: String,
    description: &'static str,
    notes: &'static str,
    image: &'static str,
    transcript: &'static str,
    /// Whatever else the page holds, after the fields.
    body: String,
}

impl Fields {
    fn plain(kind: &str, title: &str) -> Fields {
        Fields {
            title: esc(title),
            guid: "",
            canonical: format!("/hostile/{kind}"),
            date: "2025-06-02T09:00:00-04:00",
            duration: "52:05",
            kicker: "Episode 0",
            season: "Season 1",
            audio: format!("/hostile-audio/{kind}.mp3"),
            description: "A page built to break podcast feeds.",
            notes: "<p>Show notes.</p>",
            image: "/images/hostile.jpg",
            transcript: "",
            body: String::new(),
        }
    }

    fn html(&self) -> String {
        let canonical = if self.canonical.is_empty() {
            String::new()
        } else {
            format!(r#"<link rel="canonical" href="{}">"#, self.canonical)
        };
        let guid =
            if self.guid.is_empty() { String::new() } else { format!(r#"<meta name="guid" content="{}">"#, self.guid) };
        let transcript = if self.transcript.is_empty() {
            String::new()
        } else {
            format!(r#"<a class="transcript-file" href="{}">Transcript</a>"#, self.transcript)
        };
        format!(
            r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Hostile</title>
{canonical}{guid}
<meta name="description" content="{description}"><meta property="og:image" content="{image}"></head>
<body><article class="episode"><p class="kicker">{kicker}</p><p><span class="season">{season}</span></p>
<h1 class="episode-title">{title}</h1><div class="dateblock"><time datetime="{date}">a date</time></div>
<p>Length: <span class="duration">{duration}</span></p>
<div class="player" data-audio='{{"audioUrl":"{audio}"}}'></div>{transcript}
<div id="storytext">{notes}</div></article>{body}</body></html>"#,
            description = self.description,
            image = self.image,
            kicker = self.kicker,
            season = self.season,
            title = self.title,
            date = self.date,
            duration = self.duration,
            audio = self.audio,
            notes = self.notes,
            body = self.body,
        )
    }
}

/// A hostile page, by the last part of its path; `host` is the `Host` the request came to.
pub async fn page(kind: &str, host: &str) -> Response {
    let fields = |title: &str| Fields::plain(kind, title);
    let html = match kind {
        "control" => Fields {
            title: "Control&#1; characters&#x1F; \u{1}and &#xD800;surrogates &#xFFFE;&#x0;".into(),
            guid: "hostile-&#1;guid&#x7;&#xDFFF;",
            canonical: "/hostile/control&#1;".into(),
            duration: "&#xD800;52:05",
            kicker: "Episode &#1;7",
            audio: "/hostile-audio/control\\u0001.mp3".into(),
            description: "Notes&#1; with &#xFFFF;controls&#x85;\u{8}",
            notes: "<p onclick='x()'>Notes&#1;<b>&#x1B;bold</b>&#xD800;</p><script>&#1;</script>",
            image: "/images/&#1;con&#xDBFF;trol.jpg",
            transcript: "/transcripts/&#1;control&#xD800;.vtt",
            ..fields("")
        }
        .html(),
        "overflow" => Fields {
            duration: "1000000000000000000:00:00",
            kicker: "Episode 99999999999999999999",
            season: "Season 4294967296",
            ..fields("Overflowing numbers")
        }
        .html(),
        "overflow-seconds" => Fields { duration: "99999999999999999999", ..fields("Overflowing seconds") }.html(),
        "future" => Fields { date: "9999-12-31", ..fields("From the year 9999") }.html(),
        "ancient" => Fields { date: "0001-01-01", ..fields("From the year 1") }.html(),
        "deep" => Fields { body: nested(200_000), ..fields("Deep") }.html(),
        "attributes" => Fields { body: many_attributes(700_000), ..fields("Attributes") }.html(),
        "tiny" => Fields { body: "<i></i>".repeat(700_000), ..fields("Tiny elements") }.html(),
        "entities" => {
            Fields { body: entities(), ..fields("Entities &amp;&amp;&amp; &notanentity; &#99999999;") }.html()
        }
        "redirect-away" | "listing-away" => {
            let away = host.replacen("127.0.0.1", "localhost", 1);
            let path = if kind == "redirect-away" { "/episodes/1" } else { "/archive/page/3" };
            return Redirect::to(&format!("http://{away}{path}")).into_response();
        }
        "script-audio" => Fields { audio: "javascript:alert(1)".into(), ..fields("Script audio") }.html().replace(
            "</article>",
            r#"<a class="download" href="data:audio/mpeg;base64,SUQzBAAAAAAA">Download</a></article>"#,
        ),
        "gzip-bomb" => {
            let headers = [(header::CONTENT_TYPE, "text/html"), (header::CONTENT_ENCODING, "gzip")];
            return (headers, gzip_bomb()).into_response();
        }
        "endless" => return endless(),
        "silent" => {
            tokio::time::sleep(std::time::Duration::from_secs(600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        "garbage" => return ([(header::CONTENT_TYPE, "text/html")], garbage()).into_response(),
        "charset" => {
            let html = fields("Unknown charset").html();
            return ([(header::CONTENT_TYPE, "text/html; charset=x-klingon-8")], html).into_response();
        }
        "huge-title" => fields(&"Long ".repeat(60_000)).html(),
        "unicode-audio" => Fields { audio: "/hostile-audio/épisode ünï.mp3".into(), ..fields("Unicode audio") }.html(),
        "ftp-audio" => fields("Audio on ftp").html(),
        "tracked" => fields("Tracked").html(),
        // No canonical link: each `?x=N` is a page of its own, and the audio says they are one.
        "twin" => Fields { canonical: String::new(), ..fields("Twins") }.html(),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

/// The hostile pages' audio: a size for HEAD and one-byte ranges; `ftp-audio` redirects to ftp.
pub fn audio(name: &str, method: &Method, headers: &HeaderMap) -> Response {
    if name == "ftp-audio.mp3" {
        return (StatusCode::FOUND, [(header::LOCATION, "ftp://ftp.example.org/audio.mp3")]).into_response();
    }
    let size = 12_345_678u64;
    let kind = [(header::CONTENT_TYPE, "audio/mpeg")];
    if method == Method::HEAD {
        return (kind, [(header::CONTENT_LENGTH, size.to_string())]).into_response();
    }
    if headers.get(header::RANGE).is_some() {
        let range = [(header::CONTENT_RANGE, format!("bytes 0-0/{size}"))];
        return (StatusCode::PARTIAL_CONTENT, kind, range, Bytes::from_static(b"\xff")).into_response();
    }
    StatusCode::FORBIDDEN.into_response()
}

fn nested(levels: usize) -> String {
    format!("{}deep{}", "<div>".repeat(levels), "</div>".repeat(levels))
}

/// One tag whose attributes are all different: html5ever compares each with all before it.
fn many_attributes(count: usize) -> String {
    let mut tag = String::with_capacity(count * 8);
    tag.push_str("<p ");
    for i in 0..count {
        let _ = write!(tag, "a{i:x} ");
    }
    tag.push_str(">x</p>");
    tag
}

fn entities() -> String {
    let mut text = String::new();
    text.push_str(&"&amp;".repeat(200_000));
    text.push('&');
    text.push_str(&"a".repeat(100_000));
    text.push_str("&#");
    text.push_str(&"9".repeat(100_000));
    text.push_str(";&#x");
    text.push_str(&"f".repeat(100_000));
    format!("<p>{text}</p>")
}

fn gzip_bomb() -> Bytes {
    static BOMB: OnceLock<Bytes> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![b' '; 1024 * 1024];
        for _ in 0..BOMB_BYTES / zeros.len() {
            let _ = std::io::Write::write_all(&mut encoder, &zeros);
        }
        Bytes::from(encoder.finish().unwrap_or_default())
    })
    .clone()
}

/// A page whose body goes on until the client hangs up.
fn endless() -> Response {
    let chunk = Bytes::from("<p>and on</p>".repeat(5000));
    let body = futures::stream::repeat_with(move || Ok::<_, std::convert::Infallible>(chunk.clone()));
    ([(header::CONTENT_TYPE, "text/html")], Body::from_stream(body)).into_response()
}

/// Bytes that are no text in any encoding, with a few tags in between.
fn garbage() -> Vec<u8> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    bytes.splice(1000..1000, b"<h1 class=\"episode-title\">Garbage</h1>".iter().copied());
    bytes
}
