//! A candidate rule: a rule as the recipe will have it, and the evidence it came from. The plain
//! type init's readings of a page produce and its choosing weighs.

/// A rule as the recipe will have it, and the evidence it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub css: String,
    pub attr: Option<String>,
    pub json: Option<String>,
    /// A regular expression whose first group is the value: a player's setting in a script's
    /// text, or a title without the site's name around it.
    pub regex: Option<String>,
    /// Descendants dropped before the text is read: the date inside a teaser.
    pub remove: Option<String>,
    /// "JSON-LD", "OpenGraph", "a meta tag", "the page's elements"...
    pub evidence: String,
}

impl Candidate {
    pub(super) fn new(css: &str, attr: Option<&str>, json: Option<String>, evidence: &str) -> Candidate {
        let evidence = evidence.to_string();
        Candidate { css: css.to_string(), attr: attr.map(str::to_string), json, regex: None, remove: None, evidence }
    }

    /// The same rule, whatever its evidence.
    pub(super) fn same_rule(&self, other: &Candidate) -> bool {
        (&self.css, &self.attr, &self.json, &self.regex, &self.remove)
            == (&other.css, &other.attr, &other.json, &other.regex, &other.remove)
    }
}
