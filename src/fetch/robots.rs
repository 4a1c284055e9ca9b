//! robots.txt: read once per host per run, asked before every page is fetched.
//!
//! Following RFC 9309: a robots.txt that does not exist (4xx) allows everything; one that cannot
//! be read (5xx, network failure) disallows everything until the next run, and every page of the
//! host fails with the reason it could not be read.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use texting_robots::Robot;
use tokio::sync::OnceCell;
use url::Url;

use super::error::FetchError;

/// What fetching `/robots.txt` gave.
pub enum RobotsTxt {
    /// The file's bytes.
    Found(Vec<u8>),
    /// 4xx: there are no rules.
    Missing,
    /// 5xx or a network failure, and which.
    Unreachable(FetchError),
}

enum Rules {
    AllowAll,
    Unreachable(FetchError),
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
    /// A host whose robots.txt could not be read allows nothing: the error says why.
    pub async fn allowed<F, Fut>(&self, url: &Url, fetch: F) -> Result<bool, FetchError>
    where
        F: FnOnce(Url) -> Fut,
        Fut: Future<Output = RobotsTxt>,
    {
        let Ok(robots_url) = url.join("/robots.txt") else { return Ok(true) };
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
                    RobotsTxt::Unreachable(why) => Rules::Unreachable(why),
                }
            })
            .await;
        match rules {
            Rules::AllowAll => Ok(true),
            Rules::Unreachable(why) => Err(why.clone()),
            Rules::Parsed(robot) => Ok(robot.allowed(url.as_str())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn ask(robots: &Robots, url: &str, txt: RobotsTxt) -> Result<bool, FetchError> {
        robots.allowed(&Url::parse(url).unwrap(), |_| async { txt }).await
    }

    #[tokio::test]
    async fn rules_for_podfeed_and_everyone() {
        let txt = b"User-agent: podfeed\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n".to_vec();
        let robots = Robots::new("podfeed/0.1 (+https://example.org)");
        assert_eq!(ask(&robots, "https://a.example/private/1", RobotsTxt::Found(txt)).await, Ok(false));
        // The host's rules are read once; the second answer comes from them.
        assert_eq!(
            ask(&robots, "https://a.example/episodes/1", RobotsTxt::Unreachable(FetchError::Refused)).await,
            Ok(true)
        );
    }

    #[tokio::test]
    async fn missing_allows_and_unreachable_disallows_saying_why() {
        let robots = Robots::new("podfeed");
        assert_eq!(ask(&robots, "https://a.example/x", RobotsTxt::Missing).await, Ok(true));
        let down = RobotsTxt::Unreachable(FetchError::RobotsUnavailable(crate::fetch::RobotsUnreadable::Status(503)));
        assert_eq!(
            ask(&robots, "https://b.example/x", down).await,
            Err(FetchError::RobotsUnavailable(crate::fetch::RobotsUnreadable::Status(503)))
        );
        // Every later page of that host gets the same answer without another request.
        assert_eq!(
            ask(&robots, "https://b.example/y", RobotsTxt::Missing).await,
            Err(FetchError::RobotsUnavailable(crate::fetch::RobotsUnreadable::Status(503)))
        );
    }
}
