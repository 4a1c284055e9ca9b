//! Many selectors matched in one walk over a tree.
//!
//! A recipe has a rule or two for each of twenty fields, and reading them one by one walked the
//! page twenty times, building a matching context for every element each time. Here the page is
//! walked once, and each element is tried only against the selectors whose last compound asks
//! for its id, one of its classes or its tag name (how browsers file style rules); selectors
//! whose subject names none of these are tried on every element.

use ego_tree::iter::Edge;
use html5ever::LocalName;
use scraper::selector::{Parser, Simple};
use scraper::{ElementRef, Html, Node};
use selectors::matching::{
    matches_selector, MatchingContext, MatchingForInvalidation, MatchingMode, NeedsSelectorFlags, QuirksMode,
    SelectorCaches,
};
use selectors::parser::{Component, ParseRelative, Selector};
use selectors::SelectorList;

use crate::html::{Budget, TooComplex};

/// Elements tried between two checks of the page's CPU budget.
const CHECK_EVERY: usize = 1024;

/// A selector list (`a.download, div.player`), each selector filed under what its subject must
/// be.
#[derive(Debug, Clone)]
pub struct Filed {
    selectors: Vec<(Key, Selector<Simple>)>,
}

/// What an element must have for a selector to match it, as far as its last compound says.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Id(String),
    Class(String),
    Tag(LocalName),
    /// Nothing this cheap to check: every element is tried.
    Any,
}

impl Filed {
    /// `None` when the text is not a selector list scraper would take.
    pub fn parse(css: &str) -> Option<Filed> {
        let list = SelectorList::parse(&Parser, &mut cssparser::Parser::new(css), ParseRelative::No).ok()?;
        let selectors = list.slice().iter().map(|selector| (key_of(selector), selector.clone())).collect();
        Some(Filed { selectors })
    }
}

/// An id before a class before a tag name: the rarer, the fewer elements are tried.
fn key_of(selector: &Selector<Simple>) -> Key {
    let mut key = Key::Any;
    for component in selector.iter() {
        match component {
            Component::ID(id) => return Key::Id(id.0.to_string()),
            Component::Class(class) => key = Key::Class(class.0.to_string()),
            // An upper-case name matches differently in SVG and MathML: tried everywhere.
            Component::LocalName(name) if name.name == name.lower_name && key == Key::Any => {
                key = Key::Tag(name.lower_name.0.clone())
            }
            _ => {}
        }
    }
    key
}

/// Where a walk goes: a whole document, in the order its nodes were made (as
/// `Html::select`), or an element's descendants in tree order (as `ElementRef::select`, which
/// also lets `:scope` mean that element).
#[derive(Clone, Copy)]
pub enum Within<'a> {
    Document(&'a Html),
    Element(ElementRef<'a>),
}

/// The elements each selector list selects, in the order `scraper`'s `select` gives them:
/// `matches[i]` holds `lists[i]`'s, each element once; or the page's CPU budget ran out.
pub fn select_each<'a>(
    within: Within<'a>,
    lists: &[&Filed],
    budget: &Budget,
) -> Result<Vec<Vec<ElementRef<'a>>>, TooComplex> {
    let mut matches = vec![Vec::new(); lists.len()];
    if lists.is_empty() {
        return Ok(matches);
    }
    let filing = Filing::of(lists);
    let mut caches = SelectorCaches::default();
    let mut context = MatchingContext::new(
        MatchingMode::Normal,
        None,
        &mut caches,
        QuirksMode::NoQuirks,
        NeedsSelectorFlags::No,
        MatchingForInvalidation::No,
    );
    let mut visit = |element: ElementRef<'a>, context: &mut MatchingContext<Simple>| {
        filing.try_each(element, &mut |list, selector| {
            let known = matches[list].last().is_some_and(|last: &ElementRef| last.id() == element.id());
            if !known && matches_selector(selector, 0, None, &element, context) {
                matches[list].push(element);
            }
        });
    };
    let elements: Box<dyn Iterator<Item = ElementRef<'a>>> = match within {
        Within::Document(doc) => {
            Box::new(doc.tree.nodes().filter_map(ElementRef::wrap).filter(|e| e.parent().is_some()))
        }
        Within::Element(scope) => {
            context.scope_element = Some(selectors::Element::opaque(&scope));
            Box::new(scope.traverse().skip(1).filter_map(opened_element))
        }
    };
    for (i, element) in elements.enumerate() {
        if i % CHECK_EVERY == 0 {
            budget.check()?;
        }
        visit(element, &mut context);
    }
    Ok(matches)
}

fn opened_element(edge: Edge<'_, Node>) -> Option<ElementRef<'_>> {
    match edge {
        Edge::Open(node) => ElementRef::wrap(node),
        Edge::Close(_) => None,
    }
}

/// Selectors filed under one key: each with the index of the list it is from.
type Entries<'f> = Vec<(usize, &'f Selector<Simple>)>;

/// The selectors of one walk, by key.
struct Filing<'f> {
    ids: Vec<(&'f str, Entries<'f>)>,
    classes: Vec<(&'f str, Entries<'f>)>,
    tags: Vec<(&'f LocalName, Entries<'f>)>,
    any: Entries<'f>,
}

impl<'f> Filing<'f> {
    fn of(lists: &[&'f Filed]) -> Filing<'f> {
        let mut filing = Filing { ids: Vec::new(), classes: Vec::new(), tags: Vec::new(), any: Vec::new() };
        for (list, filed) in lists.iter().enumerate() {
            for (key, selector) in &filed.selectors {
                let entry = (list, selector);
                match key {
                    Key::Id(id) => file_under(&mut filing.ids, id.as_str(), entry),
                    Key::Class(class) => file_under(&mut filing.classes, class.as_str(), entry),
                    Key::Tag(tag) => file_under(&mut filing.tags, tag, entry),
                    Key::Any => filing.any.push(entry),
                }
            }
        }
        filing
    }

    /// Calls `try_one` with each selector that may match `element`, in the order the lists were
    /// given within each key.
    fn try_each(&self, element: ElementRef, try_one: &mut dyn FnMut(usize, &'f Selector<Simple>)) {
        let value = element.value();
        let mut each = |filed: &[(usize, &'f Selector<Simple>)]| filed.iter().for_each(|&(list, s)| try_one(list, s));
        // Read as scraper reads them for matching: the first `id`, classes split on ASCII
        // white space (a class written twice is tried twice, and kept once).
        if !self.ids.is_empty() {
            if let Some(id) = value.id() {
                self.ids.iter().filter(|(key, _)| *key == id).for_each(|(_, filed)| each(filed));
            }
        }
        if !self.classes.is_empty() {
            for class in value.classes() {
                self.classes.iter().filter(|(key, _)| *key == class).for_each(|(_, filed)| each(filed));
            }
        }
        self.tags.iter().filter(|(key, _)| **key == value.name.local).for_each(|(_, filed)| each(filed));
        each(&self.any);
    }
}

fn file_under<'f, K: PartialEq + ?Sized>(
    keys: &mut Vec<(&'f K, Entries<'f>)>,
    key: &'f K,
    entry: (usize, &'f Selector<Simple>),
) {
    match keys.iter_mut().find(|(known, _)| *known == key) {
        Some((_, entries)) => entries.push(entry),
        None => keys.push((key, vec![entry])),
    }
}

#[cfg(test)]
mod tests;
