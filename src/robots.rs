//! robots.txt: read once per host per run, asked before every page is fetched.
//!
//! Following RFC 9309: a robots.txt that does not exist (4xx) allows everything; one that cannot
//! be read (5xx, network failure) disallows everything until the next run.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use texting_robots::Robot;
use tokio::sync::OnceCell;
use url::Url;

/// What fetching `/robots.txt` gave.
pub enum RobotsTxt {
    /// The file's bytes.
    Found(Vec<u8>),
    /// 4xx: there are no rules.
    Missing,
    /// 5xx or a network failure.
    Unreachable,
}

enum Rules {
    AllowAll,
    DisallowAll,
    Parsed(Box<Robot>),
}

/// The rules of every host seen so far.
pub struct Robots {
    user_agent: String,
    hosts: Mutex<HashMap<String, Arc<OnceCell<Rules>>>>,
}

impl Robots {
    pub fn new(user_agent: &str) -> Robots {
        // Rules name crawlers by product token: "podfeed", not the whole User-Agent header.
        let token = user_agent.split(['/', ' ']).next().unwrap_or(user_agent);
        Robots { user_agent: token.to_string(), hosts: Mutex::default() }
    }

    /// Whether `url` may be fetched; `fetch` reads a robots.txt URL the first time a host is seen.
    pub async fn allowed<F, Fut>(&self, url: &Url, fetch: F) -> bool
    where
        F: FnOnce(Url) -> Fut,
        Fut: Future<Output = RobotsTxt>,
    {
        let Ok(robots_url) = url.join("/robots.txt") else { return true };
        let cell = {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            hosts.entry(robots_url.origin().ascii_serialization()).or_default().clone()
        };
        let rules = cell
            .get_or_init(|| async {
                match fetch(robots_url).await {
                    RobotsTxt::Found(bytes) => match Robot::new(&self.user_agent, &bytes) {
                        Ok(robot) => Rules::Parsed(Box::new(robot)),
                        Err(_) => Rules::AllowAll,
                    },
                    RobotsTxt::Missing => Rules::AllowAll,
                    RobotsTxt::Unreachable => Rules::DisallowAll,
                }
            })
            .await;
        match rules {
            Rules::AllowAll => true,
            Rules::DisallowAll => false,
            Rules::Parsed(robot) => robot.allowed(url.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ask(robots: &Robots, url: &str, txt: RobotsTxt) -> bool {
        robots.allowed(&Url::parse(url).unwrap(), |_| async { txt }).await
    }

    #[tokio::test]
    async fn rules_for_podfeed_and_everyone() {
        let txt = b"User-agent: podfeed\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n".to_vec();
        let robots = Robots::new("podfeed/0.1 (+https://example.org)");
        assert!(!ask(&robots, "https://a.example/private/1", RobotsTxt::Found(txt)).await);
        // The host's rules are read once; the second answer comes from them.
        assert!(ask(&robots, "https://a.example/episodes/1", RobotsTxt::Unreachable).await);
    }

    #[tokio::test]
    async fn missing_allows_and_unreachable_disallows() {
        let robots = Robots::new("podfeed");
        assert!(ask(&robots, "https://a.example/x", RobotsTxt::Missing).await);
        assert!(!ask(&robots, "https://b.example/x", RobotsTxt::Unreachable).await);
    }
}
