use std::time::Duration;

use scraper::{Html, Selector};

use super::*;

/// A page with what makes selection order and matching subtle: misnested formatting elements
/// (the parser moves and copies them, so creation order is not tree order), a table with stray
/// content (moved before it), SVG with upper-case names, repeated and odd classes, ids, and
/// elements matched by two alternatives of one list.
const PAGE: &str = r#"<!doctype html><html><head><title>T</title>
<meta name=description content="d"><link rel=canonical href="/x"></head>
<body class="page home"><div id=main class="wrap wrap">
<p class=byline><b>Bold <i>both</b> italic</i> <span class="date x">May 1</span></p>
<table><tr><td>cell</td></tr><p class=stray>stray</p></table>
<h1 class=title id=t>Title</h1><h2 class="title sub">Sub</h2>
<svg><linearGradient id=g></linearGradient><foreignObject><p class=in-svg>x</p></foreignObject></svg>
<ul class=credits><li><a class="host person" href="/a">A</a></li><li><a class="guest person">B</a></li></ul>
<div class=player data-audio='{"audioUrl":"/a.mp3"}'></div><a class=download href="/a.mp3">dl</a>
<section><p>one</p><p class=last>two</p></section>
<p class="Mixed	case" id=T>tabbed classes, upper-case id</p></div></body></html>"#;

const SELECTORS: &[&str] = &[
    "h1",
    "h1.title",
    "#t",
    ".title",
    "h1, h2",
    ".title, h1#t, h1",
    "p.byline span.date",
    "p.byline > b i",
    ".wrap",
    "div#main > p",
    "table p, p.stray",
    "td, p.stray",
    "linearGradient",
    "lineargradient",
    "#g",
    "foreignObject p",
    ".in-svg",
    "ul.credits .host",
    ".person:not(.guest)",
    "a[href]",
    "[data-audio]",
    "div.player, a.download",
    "meta[name=description]",
    "link[rel=canonical]",
    "section p:nth-child(2)",
    "section p:first-child",
    "section p:last-child",
    "*",
    "body.home p",
    "i",
    "b",
    "nothing.here",
    ":is(h1, h2).title",
    ".Mixed",
    ".mixed",
    ".case",
    "#T",
    "div:has(> a.download)",
];

fn ids(elements: impl Iterator<Item = ElementRef<'static>>) -> Vec<ego_tree::NodeId> {
    elements.map(|e| e.id()).collect()
}

#[test]
fn one_walk_over_a_document_selects_what_each_selector_does_in_the_same_order() {
    let doc: &'static Html = Box::leak(Box::new(Html::parse_document(PAGE)));
    let filed: Vec<Filed> = SELECTORS.iter().map(|css| Filed::parse(css).unwrap()).collect();
    let lists: Vec<&Filed> = filed.iter().collect();
    let walked = select_each(Within::Document(doc), &lists, &Budget::start()).unwrap();
    for (css, matched) in SELECTORS.iter().zip(&walked) {
        let expected = ids(doc.select(&Selector::parse(css).unwrap()));
        assert_eq!(ids(matched.iter().copied()), expected, "{css}");
    }
    // The page is one where the order matters: the stray paragraph was made after the cell and
    // moved before its table, so the document's order is not tree order.
    let cells = Selector::parse("td, p.stray").unwrap();
    assert_ne!(ids(doc.select(&cells)), ids(doc.root_element().select(&cells)));
    let empty: Vec<&str> = SELECTORS.iter().zip(&walked).filter(|(_, m)| m.is_empty()).map(|(c, _)| *c).collect();
    // As in the browser, a lower-case name does not match an SVG element written in camel case.
    // Classes and ids match case for case (scraper matches as in a no-quirks document).
    assert_eq!(empty, ["lineargradient", "nothing.here", ".mixed"]);
}

#[test]
fn one_walk_under_an_element_selects_what_each_selector_does_there() {
    let doc: &'static Html = Box::leak(Box::new(Html::parse_document(PAGE)));
    let filed: Vec<Filed> =
        SELECTORS.iter().chain(&[":scope > p", ":scope p.last"]).map(|css| Filed::parse(css).unwrap()).collect();
    let lists: Vec<&Filed> = filed.iter().collect();
    for scope_css in ["div#main", "section", "ul.credits", "p.byline"] {
        let scope = doc.select(&Selector::parse(scope_css).unwrap()).next().unwrap();
        let walked = select_each(Within::Element(scope), &lists, &Budget::start()).unwrap();
        for (filed_css, matched) in SELECTORS.iter().chain(&[":scope > p", ":scope p.last"]).zip(&walked) {
            let expected = ids(scope.select(&Selector::parse(filed_css).unwrap()));
            assert_eq!(ids(matched.iter().copied()), expected, "{scope_css} {filed_css}");
        }
    }
}

#[test]
fn a_selector_is_filed_under_the_rarest_thing_its_subject_must_have() {
    let key = |css: &str| Filed::parse(css).unwrap().selectors[0].0.clone();
    assert_eq!(key("div.player"), Key::Class("player".into()));
    assert_eq!(key("h1.title#t"), Key::Id("t".into()));
    assert_eq!(key("p.byline span"), Key::Tag(LocalName::from("span")));
    assert_eq!(key("linearGradient"), Key::Any);
    assert_eq!(key("[data-audio]"), Key::Any);
    assert!(Filed::parse("h1[").is_none());
}

#[test]
fn a_spent_budget_stops_the_walk() {
    let doc = Html::parse_document(&"<p class=x>x</p>".repeat(5_000));
    let filed = Filed::parse("p.x").unwrap();
    let spent = Budget::of(Duration::ZERO);
    assert_eq!(select_each(Within::Document(&doc), &[&filed], &spent).err(), Some(TooComplex::TooSlow));
    assert_eq!(select_each(Within::Document(&doc), &[&filed], &Budget::start()).unwrap()[0].len(), 5_000);
}
