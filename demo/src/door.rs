//! A door in front of the demo site's pages, for tests that must catch a run mid-way (hold every
//! request after the Nth) or see requests overlap (hold the first ones until enough are waiting
//! together). Open, it costs a lock per request.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use tokio::sync::watch;

enum Rule {
    Open,
    /// This many more requests pass; later ones wait until the door opens.
    After(u64),
    /// Requests whose path starts with `prefix` wait until `count` of them are there at once;
    /// then the door opens. Other requests pass.
    Gather {
        prefix: String,
        count: u32,
    },
}

pub(crate) struct Door {
    rule: Mutex<Rule>,
    /// Whether the door is open, for the requests waiting at it.
    open: watch::Sender<bool>,
    /// Requests waiting at the door now.
    waiting: AtomicU32,
}

impl Default for Door {
    fn default() -> Door {
        Door { rule: Mutex::new(Rule::Open), open: watch::Sender::new(true), waiting: AtomicU32::new(0) }
    }
}

/// Counts a request as waiting while it is held, even if its client goes away meanwhile.
struct Waiting<'a>(&'a AtomicU32);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Door {
    fn set(&self, rule: Rule) {
        let open = matches!(rule, Rule::Open);
        *self.rule.lock().unwrap_or_else(|p| p.into_inner()) = rule;
        self.open.send_replace(open);
    }

    pub(crate) fn hold_after(&self, passes: u64) {
        self.set(Rule::After(passes));
    }

    pub(crate) fn gather(&self, prefix: &str, count: u32) {
        self.set(Rule::Gather { prefix: prefix.to_string(), count });
    }

    pub(crate) fn open(&self) {
        self.set(Rule::Open);
    }

    pub(crate) fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::SeqCst)
    }

    /// Returns when the request for `path` may be answered.
    pub(crate) async fn pass(&self, path: &str) {
        let mut open = self.open.subscribe();
        {
            let mut rule = self.rule.lock().unwrap_or_else(|p| p.into_inner());
            match &mut *rule {
                Rule::Open => return,
                Rule::After(passes) if *passes > 0 => {
                    *passes -= 1;
                    return;
                }
                Rule::After(_) => {}
                Rule::Gather { prefix, .. } if !path.starts_with(prefix.as_str()) => return,
                Rule::Gather { count, .. } => {
                    if self.waiting.load(Ordering::SeqCst) + 1 >= *count {
                        *rule = Rule::Open;
                        self.open.send_replace(true);
                        return;
                    }
                }
            }
            self.waiting.fetch_add(1, Ordering::SeqCst);
        }
        let _waiting = Waiting(&self.waiting);
        // The sender lives as long as the site: an error cannot happen while a request is served.
        let _ = open.wait_for(|open| *open).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn holds_after_the_nth_until_opened() {
        let door = Arc::new(Door::default());
        door.hold_after(2);
        door.pass("/a").await;
        door.pass("/b").await;
        let held = tokio::spawn({
            let door = door.clone();
            async move { door.pass("/c").await }
        });
        while door.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        assert!(!held.is_finished());
        door.open();
        held.await.unwrap();
        assert_eq!(door.waiting(), 0);
    }

    #[tokio::test]
    async fn gathers_requests_of_a_prefix_then_opens() {
        let door = Arc::new(Door::default());
        door.gather("/episodes/", 3);
        door.pass("/robots.txt").await;
        let first = (0..2)
            .map(|n| {
                let door = door.clone();
                tokio::spawn(async move { door.pass(&format!("/episodes/{n}")).await })
            })
            .collect::<Vec<_>>();
        while door.waiting() < 2 {
            tokio::task::yield_now().await;
        }
        door.pass("/episodes/3").await;
        for waiting in first {
            waiting.await.unwrap();
        }
        door.pass("/episodes/4").await;
        assert_eq!(door.waiting(), 0);
    }

    #[tokio::test]
    async fn a_request_given_up_while_held_stops_waiting() {
        let door = Arc::new(Door::default());
        door.hold_after(0);
        let held = tokio::spawn({
            let door = door.clone();
            async move { door.pass("/a").await }
        });
        while door.waiting() == 0 {
            tokio::task::yield_now().await;
        }
        held.abort();
        let _ = held.await;
        assert_eq!(door.waiting(), 0);
    }
}
