//! The raw string one rule takes from the page: each selected element's text, attribute or
//! HTML, less what `remove` drops, through the rule's `json`, `regex` and `template` steps.

use std::collections::HashSet;

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{ElementRef, Selector};

use super::sanitize::cut_html;
use crate::recipe::Rule;

/// What a rule takes from the elements it selected (in document order): each one's value, or with
/// `all`, every one's value joined into one.
pub(super) fn raw_values<'a>(elements: &'a [ElementRef<'a>], rule: &'a Rule) -> Box<dyn Iterator<Item = String> + 'a> {
    let values = elements.iter().filter_map(|&element| apply_rule(rule, element));
    match &rule.all {
        None => Box::new(values),
        Some(separator) => {
            let joined = values.collect::<Vec<_>>().join(separator);
            Box::new((!joined.is_empty()).then_some(joined).into_iter())
        }
    }
}

/// The raw string a rule takes from one element, after its `remove`, `json`, `regex` and
/// `template` steps.
pub(super) fn apply_rule(rule: &Rule, element: ElementRef) -> Option<String> {
    let raw = match (&rule.attr, rule.html) {
        (Some(attr), _) => element.value().attr(attr)?.to_string(),
        (None, true) => inner_html_without(element, &rule.remove),
        (None, false) => collapse_whitespace(&text_without(element, &rule.remove)),
    };
    let raw = match &rule.json {
        Some(pointer) => json_at(&raw, pointer)?,
        None => raw,
    };
    let raw = match (&rule.regex, &rule.template) {
        (Some(regex), Some(template)) => {
            let mut value = String::new();
            regex.captures(&raw)?.expand(template, &mut value);
            value
        }
        (Some(regex), None) => {
            let captures = regex.captures(&raw)?;
            captures.get(1).or_else(|| captures.get(0))?.as_str().to_string()
        }
        (None, _) => raw,
    };
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_string())
}

/// The element's text, leaving out the descendants `remove` matches.
fn text_without(element: ElementRef, remove: &[Selector]) -> String {
    if remove.is_empty() {
        return element.text().collect();
    }
    let removed: HashSet<NodeId> = remove.iter().flat_map(|css| element.select(css).map(|e| e.id())).collect();
    let mut text = String::new();
    let mut skipping = 0usize;
    for edge in element.traverse() {
        match edge {
            Edge::Open(node) if skipping > 0 || removed.contains(&node.id()) => {
                // Words on either side of what is dropped stay apart.
                if skipping == 0 {
                    text.push(' ');
                }
                skipping += 1;
            }
            Edge::Open(node) => {
                if let Some(t) = node.value().as_text() {
                    text.push_str(t);
                }
            }
            Edge::Close(_) if skipping > 0 => skipping -= 1,
            Edge::Close(_) => {}
        }
    }
    text
}

/// The element's inner HTML (cut to what any field keeps), leaving out the descendants `remove`
/// matches. Serialization is deterministic, so each removed element's own HTML is found in its
/// parent's, in order. Each removal scans the cut HTML once: at most [`MAX_REMOVALS`] of them.
fn inner_html_without(element: ElementRef, remove: &[Selector]) -> String {
    let mut html = cut_html(element.inner_html());
    let mut removed: Vec<ElementRef> = remove.iter().flat_map(|css| element.select(css)).collect();
    removed.sort_by_key(|e| e.id());
    removed.dedup_by_key(|e| e.id());
    let ids: HashSet<NodeId> = removed.iter().map(|e| e.id()).collect();
    // Only the outermost: an element inside a removed one goes with it.
    let outermost = removed.iter().filter(|e| !e.ancestors().any(|a| ids.contains(&a.id())));
    for gone in outermost.take(MAX_REMOVALS) {
        html = html.replacen(&gone.html(), "", 1);
    }
    html
}

/// Elements one rule's `remove` drops from a value's HTML at most (a page of 200,000 matches
/// would otherwise cost 200,000 scans of it).
pub(super) const MAX_REMOVALS: usize = 1_000;

/// The value at a JSON pointer, as a string; numbers and booleans become their JSON text.
fn json_at(text: &str, pointer: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    match value.pointer(pointer)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => Some(other.to_string()),
        _ => None,
    }
}

/// Runs of whitespace (line breaks, tabs) as one space, none at either end.
pub(super) fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
