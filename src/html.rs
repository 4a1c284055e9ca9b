//! HTML parsing whose cost is bounded whatever the page's shape.
//!
//! html5ever does work proportional to the depth of the open elements for each tag (scope
//! checks walk the stack), so a page of 200,000 nested `<div>`s (1.2 MB) kept a core busy for
//! minutes. Browsers cap the depth of the tree (Chrome at 512 levels); podfeed does the same, and
//! caps the number of nodes, which bounds the memory a parsed page takes. The page is fed to the
//! parser in pieces of 4 KB; the depth of every element placed and the nodes are counted, and
//! between pieces the limits are checked, along with the CPU time the page has cost so far: the last guard covers shapes no count describes (a tag with a million
//! attributes, which html5ever checks for repeats one by one). A page over a limit is not parsed
//! further: it is a failed page with a warning saying which limit, never a stalled run.

use std::borrow::Cow;
use std::cell::{Cell, Ref, RefCell};
use std::collections::HashSet;
use std::time::{Duration, Instant};

use ego_tree::NodeId;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, Tracer, TreeSink};
use html5ever::{Attribute, ParseOpts, QualName};
use scraper::{Html, HtmlTreeSink};

/// Deepest nesting of elements read (Chrome's limit for its HTML parser's tree).
pub const MAX_DEPTH: u32 = 512;
/// Most nodes (elements, comments) in one page: about 40 MB parsed. Real pages have a few
/// thousand; a 5 MB page of real content some tens of thousands.
pub const MAX_NODES: usize = 200_000;
/// Most CPU time one page may take to parse and extract; a real page takes milliseconds.
pub const CPU_BUDGET: Duration = Duration::from_secs(5);
/// Bytes fed to the parser between checks: small enough that no piece can cost much.
const PIECE: usize = 4 * 1024;

/// Why a page was not read to the end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TooComplex {
    #[error("page too deeply nested (over {MAX_DEPTH} levels of elements, the limit)")]
    TooDeep,
    #[error("page has too many elements (over {MAX_NODES}, the limit)")]
    TooManyNodes,
    #[error("page took more than {} s of CPU to read (the limit)", CPU_BUDGET.as_secs())]
    TooSlow,
}

/// The CPU time one page has cost so far, against [`CPU_BUDGET`]. Thread CPU time, so a page
/// waiting for a core on a busy machine is not blamed for it.
pub struct Budget {
    started: Duration,
    /// A thread cannot have run longer than the wall time since it started: until that exceeds
    /// the limit, a check needs no system call (reading the thread's CPU clock is one, and was
    /// 3 % of a `--reextract`'s CPU when every piece and field asked).
    started_wall: Instant,
    limit: Duration,
}

impl Budget {
    pub fn start() -> Budget {
        Budget::of(CPU_BUDGET)
    }

    pub(crate) fn of(limit: Duration) -> Budget {
        Budget { started: thread_cpu_time(), started_wall: Instant::now(), limit }
    }

    fn spent(&self) -> Duration {
        thread_cpu_time().saturating_sub(self.started)
    }

    pub fn check(&self) -> Result<(), TooComplex> {
        if self.started_wall.elapsed() > self.limit && self.spent() > self.limit {
            return Err(TooComplex::TooSlow);
        }
        Ok(())
    }
}

/// Parses a whole document within the limits, counting against `budget`.
pub fn parse(html: &str, budget: &Budget) -> Result<Html, TooComplex> {
    parse_until(html, budget, &mut |_, _| false)
}

/// Bytes read before the first look at the tree by [`parse_until`]'s `enough`, and at least
/// between two looks. A look costs about what reading a recipe's fields from the tree so far
/// does, so a page of 60 KB is looked at three times.
const LOOK_EVERY: usize = 16 * 1024;

/// [`parse`], ending early once `enough` says the tree read so far holds all that is wanted.
/// It is shown the tree and the elements whose content may still grow (the parser's stack of open
/// elements, and what else it holds on to) after [`LOOK_EVERY`] bytes, then each time the bytes
/// read have grown by half (by `LOOK_EVERY` at least): a page whose fields are never settled is
/// looked at a few dozen times at most, and all the looks together cost about three readings of
/// its whole tree, never one per piece. Once `enough` says so, the rest of the page is not
/// parsed, and the elements still open are closed where the reading stopped.
pub fn parse_until(
    html: &str,
    budget: &Budget,
    enough: &mut dyn FnMut(&Html, &HashSet<NodeId>) -> bool,
) -> Result<Html, TooComplex> {
    let mut parser = html5ever::driver::parse_document(Bounded::new(), ParseOpts::default());
    let mut rest = html;
    let mut look_at = LOOK_EVERY;
    while !rest.is_empty() {
        let mut cut = rest.len().min(PIECE);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (piece, after) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(piece));
        parser.tokenizer.sink.sink.within_limits()?;
        budget.check()?;
        rest = after;
        let read = html.len() - rest.len();
        if read >= look_at && !rest.is_empty() {
            look_at = read + LOOK_EVERY.max(read / 2);
            let open = OpenElements::default();
            parser.tokenizer.sink.trace_handles(&open);
            if enough(&parser.tokenizer.sink.sink.tree.0.borrow(), &open.0.borrow()) {
                break;
            }
        }
    }
    Ok(parser.finish())
}

/// The nodes the tree builder still holds (open elements, formatting elements it may reopen,
/// the document, `<head>`, a form): the ones whose content a later part of the page can change.
#[derive(Default)]
struct OpenElements(RefCell<HashSet<NodeId>>);

impl Tracer for OpenElements {
    type Handle = NodeId;

    fn trace_handle(&self, node: &NodeId) {
        self.0.borrow_mut().insert(*node);
    }
}

/// scraper's tree, built by html5ever, keeping count of the nodes and of the deepest element.
struct Bounded {
    tree: HtmlTreeSink,
    nodes: Cell<usize>,
    /// The element placed last, and its depth: most elements go into the one placed before them,
    /// so their depth costs nothing to know; others count their ancestors (up to the limit).
    last: Cell<Option<(NodeId, u32)>>,
    deepest: Cell<u32>,
}

impl Bounded {
    fn new() -> Bounded {
        Bounded {
            tree: HtmlTreeSink::new(Html::new_document()),
            nodes: Cell::new(0),
            last: Cell::new(None),
            deepest: Cell::new(0),
        }
    }

    fn within_limits(&self) -> Result<(), TooComplex> {
        if self.deepest.get() > MAX_DEPTH {
            Err(TooComplex::TooDeep)
        } else if self.nodes.get() > MAX_NODES {
            Err(TooComplex::TooManyNodes)
        } else {
            Ok(())
        }
    }

    fn created(&self, node: NodeId) -> NodeId {
        self.nodes.set(self.nodes.get() + 1);
        node
    }

    /// Notes the depth of an element once it is in the tree.
    fn placed(&self, node: &NodeOrText<NodeId>) {
        let NodeOrText::AppendNode(id) = node else { return };
        let html = self.tree.0.borrow();
        let Some(element) = html.tree.get(*id).filter(|n| n.value().is_element()) else { return };
        let depth = match (self.last.get(), element.parent()) {
            (Some((last, depth)), Some(parent)) if parent.id() == last => depth + 1,
            _ => {
                let ancestors = element.ancestors().filter(|a| a.value().is_element());
                ancestors.take(MAX_DEPTH as usize + 1).count() as u32 + 1
            }
        };
        self.last.set(Some((*id, depth)));
        self.deepest.set(self.deepest.get().max(depth));
    }
}

impl TreeSink for Bounded {
    type Output = Html;
    type Handle = NodeId;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Html {
        self.tree.finish()
    }

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> NodeId {
        self.tree.get_document()
    }

    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        self.tree.elem_name(target)
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.created(self.tree.create_element(name, attrs, flags))
    }

    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.created(self.tree.create_comment(text))
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.created(self.tree.create_pi(target, data))
    }

    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        let placed = node_of(&child);
        self.tree.append(parent, child);
        self.placed(&placed);
    }

    fn append_based_on_parent_node(&self, element: &NodeId, prev_element: &NodeId, child: NodeOrText<NodeId>) {
        let placed = node_of(&child);
        self.tree.append_based_on_parent_node(element, prev_element, child);
        self.placed(&placed);
    }

    fn append_doctype_to_document(&self, name: StrTendril, public_id: StrTendril, system_id: StrTendril) {
        self.tree.append_doctype_to_document(name, public_id, system_id);
    }

    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.tree.get_template_contents(target)
    }

    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.tree.same_node(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.tree.set_quirks_mode(mode);
    }

    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        let placed = node_of(&new_node);
        self.tree.append_before_sibling(sibling, new_node);
        self.placed(&placed);
    }

    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.tree.add_attrs_if_missing(target, attrs);
    }

    fn remove_from_parent(&self, target: &NodeId) {
        self.tree.remove_from_parent(target);
    }

    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.tree.reparent_children(node, new_parent);
    }
}

/// The node being placed, without the text (which does not nest).
fn node_of(child: &NodeOrText<NodeId>) -> NodeOrText<NodeId> {
    match child {
        NodeOrText::AppendNode(id) => NodeOrText::AppendNode(*id),
        NodeOrText::AppendText(_) => NodeOrText::AppendText(StrTendril::new()),
    }
}

#[cfg(unix)]
fn thread_cpu_time() -> Duration {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec; the call only writes to it.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    if status != 0 {
        return Duration::ZERO;
    }
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

#[cfg(not(unix))]
fn thread_cpu_time() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Selector;

    fn nested(levels: usize) -> String {
        format!("<html><body><h1>Deep</h1>{}x{}</body></html>", "<div>".repeat(levels), "</div>".repeat(levels))
    }

    #[test]
    fn an_ordinary_page_parses_as_scraper_would() {
        let html = "<!doctype html><title>T</title><p class=a>one<p class=a>two<table><td>x</table><br>";
        let bounded = parse(html, &Budget::start()).unwrap();
        assert_eq!(bounded.root_element().html(), Html::parse_document(html).root_element().html());
        assert_eq!(bounded.select(&Selector::parse("p.a").unwrap()).count(), 2);
    }

    #[test]
    fn nesting_up_to_the_limit_is_read_and_beyond_it_is_refused() {
        // <html> and <body> are two levels; the divs make the rest.
        let div = Selector::parse("div").unwrap();
        let html = parse(&nested(MAX_DEPTH as usize - 3), &Budget::start()).unwrap();
        assert_eq!(html.select(&div).count(), MAX_DEPTH as usize - 3);
        assert_eq!(parse(&nested(MAX_DEPTH as usize), &Budget::start()).err(), Some(TooComplex::TooDeep));
    }

    #[test]
    fn a_page_200000_levels_deep_is_refused_at_once() {
        let budget = Budget::start();
        assert_eq!(parse(&nested(200_000), &budget).err(), Some(TooComplex::TooDeep));
        // Refused after the first piece: nothing near the budget was spent.
        assert!(budget.spent() < CPU_BUDGET / 10, "{:?}", budget.spent());
    }

    /// Each piece ends back near the root (a comment after `</body>`), so the depth where the
    /// parser stands between pieces is small; the deepest element placed is not.
    #[test]
    fn nesting_hidden_between_pieces_is_still_seen() {
        let mut html = String::from("<html><body>");
        while html.len() < 40 * PIECE {
            html.push_str(&"<div>".repeat(3000));
            html.push_str("</body><!---->");
        }
        let budget = Budget::start();
        assert_eq!(parse(&html, &budget).err(), Some(TooComplex::TooDeep));
        assert!(budget.spent() < CPU_BUDGET / 10, "{:?}", budget.spent());
    }

    #[test]
    fn unclosed_paragraphs_and_list_items_do_not_count_as_depth() {
        let html = format!("<ul>{}</ul>{}", "<li>item".repeat(20_000), "<p>para".repeat(20_000));
        let parsed = parse(&html, &Budget::start()).unwrap();
        assert_eq!(parsed.select(&Selector::parse("li").unwrap()).count(), 20_000);
    }

    #[test]
    fn millions_of_tiny_elements_are_refused() {
        let tiny = "<i></i>".repeat(MAX_NODES + 10);
        assert_eq!(parse(&tiny, &Budget::start()).err(), Some(TooComplex::TooManyNodes));
    }

    #[test]
    fn a_page_is_not_blamed_for_time_it_spent_waiting_for_a_core() {
        // Waiting is wall time, not the thread's CPU time: the wall clock alone would call
        // this budget spent.
        let budget = Budget::of(Duration::from_millis(20));
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(budget.check(), Ok(()));
    }

    #[test]
    fn a_spent_budget_stops_the_parse() {
        let budget = Budget::of(Duration::ZERO);
        assert_eq!(parse(&"<p>x</p>".repeat(10_000), &budget).err(), Some(TooComplex::TooSlow));
    }

    #[test]
    fn a_parse_ends_where_it_was_told_enough_was_read_with_the_open_elements_known() {
        let tail = "<p class=tail>more</p>".repeat(5_000);
        let html = format!("<html><body><div id=open><h1>Early</h1>{tail}</div></body></html>");
        let h1 = Selector::parse("h1").unwrap();
        let open_div = Selector::parse("div#open").unwrap();
        let mut looks = 0;
        let doc = parse_until(&html, &Budget::start(), &mut |doc, open| {
            looks += 1;
            // The div that holds everything is still open; the h1 in it is closed.
            let div = doc.select(&open_div).next().unwrap();
            assert!(open.contains(&div.id()));
            assert!(!open.contains(&doc.select(&h1).next().unwrap().id()));
            doc.select(&h1).next().is_some()
        })
        .unwrap();
        assert_eq!(looks, 1);
        let tails = doc.select(&Selector::parse("p.tail").unwrap()).count();
        assert!(tails > 0 && tails < 5_000, "{tails} of the tail's paragraphs read");
        // Told never to stop, it reads the whole page, looking at it fewer times as it grows:
        // 110 KB are looked at after 16, 32, 48 and 72 KB.
        let mut looks = 0;
        let whole = parse_until(&html, &Budget::start(), &mut |_, _| {
            looks += 1;
            false
        })
        .unwrap();
        assert_eq!(whole.select(&Selector::parse("p.tail").unwrap()).count(), 5_000);
        assert_eq!(looks, 4, "{} bytes", html.len());
    }
}
