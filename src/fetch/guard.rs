//! Which addresses a request may reach. A page can name any URL (an enclosure, a redirect, a
//! feed link), and a URL can name any machine: the cloud's metadata service at 169.254.169.254,
//! the router at 192.168.1.1, a database on 127.0.0.1:6379. podfeed reaches a non-global
//! address only where the user asked for it: the origins (scheme, host and port) of the URLs
//! they gave (a recipe's `start`, `sitemap` and `[feed]` URLs, `init`'s and `check`'s address),
//! or everywhere with `[http] allow_private = true`.
//!
//! The check is made where the address is known: on the URL for an IP literal, and in the
//! DNS resolver for a name, so that a name resolving to 127.0.0.1 (or rebinding between a check
//! and the connection) is caught when the connection is made.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// A request podfeed refused to send: where it would have gone and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not fetched: {host} is {kind} address{resolved} (set [http] allow_private = true to allow)")]
pub struct PrivateAddress {
    pub host: String,
    /// What the address is: "a loopback", "a private (RFC 1918)", ...
    pub kind: &'static str,
    /// ", resolved to ADDRESS" for a name; empty for an IP literal.
    pub resolved: String,
}

/// The origins the user gave, and whether every address is allowed.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    trusted: HashSet<Origin>,
    allow_private: bool,
}

/// Scheme, host (lower case) and port (the scheme's default when the URL names none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Origin(String, String, u16);

impl Origin {
    fn of(url: &Url) -> Option<Origin> {
        let host = url.host_str()?.to_ascii_lowercase();
        Some(Origin(url.scheme().to_string(), host, url.port_or_known_default()?))
    }
}

impl Guard {
    pub fn new(allow_private: bool) -> Guard {
        Guard { trusted: HashSet::new(), allow_private }
    }

    /// Trusts the origins of `urls` (what the user gave) with any address.
    pub fn trust<'a>(&mut self, urls: impl IntoIterator<Item = &'a Url>) {
        self.trusted.extend(urls.into_iter().filter_map(Origin::of));
    }

    /// Whether requests to `url` may reach any address: its origin is the user's own.
    pub fn trusts(&self, url: &Url) -> bool {
        self.allow_private || Origin::of(url).is_some_and(|origin| self.trusted.contains(&origin))
    }

    /// Refuses a URL whose host is a non-global IP address, unless trusted. Names are checked
    /// when they are resolved ([`Resolver`]).
    pub fn check(&self, url: &Url) -> Result<(), PrivateAddress> {
        if self.trusts(url) {
            return Ok(());
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        match non_global(ip) {
            Some(kind) => Err(PrivateAddress { host: ip.to_string(), kind, resolved: String::new() }),
            None => Ok(()),
        }
    }
}

/// What kind of non-global address `ip` is, or `None` for a global one. IPv4 inside IPv6
/// (`::ffff:127.0.0.1`, `::127.0.0.1`, NAT64 `64:ff9b::/96`) is judged as the IPv4 it holds.
pub fn non_global(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => non_global_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => non_global_v4(v4),
            None => non_global_v6(v6),
        },
    }
}

fn non_global_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() || a == 0 => "an unspecified (0.0.0.0/8)",
        _ if ip.is_loopback() => "a loopback",
        _ if ip.is_private() => "a private (RFC 1918)",
        _ if ip.is_link_local() => "a link-local",
        (100, 64..=127, _) => "a shared (CGNAT, 100.64.0.0/10)",
        (192, 0, 0) => "an IETF protocol (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "a documentation",
        (198, 18..=19, _) => "a benchmarking (198.18.0.0/15)",
        _ if ip.is_broadcast() => "the broadcast",
        _ if ip.is_multicast() => "a multicast",
        (240..=255, _, _) => "a reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn non_global_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(match first {
        _ if ip.is_unspecified() => "the unspecified",
        _ if ip.is_loopback() => "a loopback",
        _ if ip.is_multicast() => "a multicast",
        _ if first & 0xfe00 == 0xfc00 => "a unique-local (fc00::/7)",
        _ if first & 0xffc0 == 0xfe80 => "a link-local (fe80::/10)",
        _ if first & 0xffc0 == 0xfec0 => "a site-local (fec0::/10)",
        0x2001 if ip.segments()[1] == 0x0db8 => "a documentation (2001:db8::/32)",
        0x0100 if ip.segments()[1..4] == [0, 0, 0] => "a discard-only (100::/64)",
        _ => return None,
    })
}

/// The IPv4 address an IPv6 address stands for: mapped (`::ffff:a.b.c.d`), compatible
/// (`::a.b.c.d`) or NAT64 (`64:ff9b::a.b.c.d`).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let last = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s[..6] {
        [0, 0, 0, 0, 0, 0xffff] => Some(last),
        [0, 0, 0, 0, 0, 0] if !ip.is_loopback() && !ip.is_unspecified() => Some(last),
        [0x64, 0xff9b, 0, 0, 0, 0] => Some(last),
        _ => None,
    }
}

/// The DNS resolver of podfeed's HTTP clients: the system's (getaddrinfo, as reqwest's own),
/// with the recipe's `[http] resolve` names answered first, and — for requests to addresses a
/// site named — every non-global address dropped. A name left with no address fails with
/// [`PrivateAddress`], which the fetch error reports.
#[derive(Debug, Clone)]
pub struct Resolver {
    overrides: Arc<HashMap<String, IpAddr>>,
    global_only: bool,
}

impl Resolver {
    pub fn new(overrides: &HashMap<String, IpAddr>, global_only: bool) -> Resolver {
        let overrides = overrides.iter().map(|(name, ip)| (name.to_ascii_lowercase(), *ip)).collect();
        Resolver { overrides: Arc::new(overrides), global_only }
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_ascii_lowercase();
            let found: Vec<SocketAddr> = match resolver.overrides.get(&host) {
                Some(ip) => vec![SocketAddr::new(*ip, 0)],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            if !resolver.global_only {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let (global, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|addr| non_global(addr.ip()).is_none());
            match (global.is_empty(), refused.first()) {
                (true, Some(addr)) => Err(Box::new(PrivateAddress {
                    host: crate::text::shorten(&host, 80),
                    kind: non_global(addr.ip()).unwrap_or("a non-global"),
                    resolved: format!(" (resolved to {})", addr.ip()),
                }) as Box<dyn std::error::Error + Send + Sync>),
                _ => Ok(Box::new(global.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ip: &str) -> Option<&'static str> {
        non_global(ip.parse().unwrap())
    }

    #[test]
    fn non_global_addresses_are_named() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "ff02::1",
        ] {
            assert!(kind(ip).is_some(), "{ip} is not global");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "100.128.0.1", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert_eq!(kind(ip), None, "{ip} is global");
        }
        assert_eq!(kind("169.254.169.254"), Some("a link-local"));
        assert_eq!(kind("::ffff:10.0.0.1"), Some("a private (RFC 1918)"));
    }

    #[test]
    fn the_users_origins_are_trusted_port_and_all() {
        let mut guard = Guard::new(false);
        guard.trust([&Url::parse("http://127.0.0.1:8080/archive").unwrap()]);
        assert!(guard.check(&Url::parse("http://127.0.0.1:8080/episodes/1").unwrap()).is_ok());
        let other_port = guard.check(&Url::parse("http://127.0.0.1:6379/").unwrap()).unwrap_err();
        assert_eq!(other_port.kind, "a loopback");
        assert!(guard.check(&Url::parse("https://127.0.0.1:8080/").unwrap()).is_err(), "another scheme");
        assert!(guard.check(&Url::parse("http://169.254.169.254/latest/meta-data/").unwrap()).is_err());
        assert!(guard.check(&Url::parse("http://[::ffff:7f00:1]:8080/").unwrap()).is_err());
        assert!(guard.check(&Url::parse("https://example.org/a.mp3").unwrap()).is_ok(), "names: at resolution");
        assert!(Guard::new(true).check(&Url::parse("http://10.0.0.1/").unwrap()).is_ok(), "allow_private");
    }

    #[tokio::test]
    async fn a_name_resolving_to_a_private_address_is_refused() {
        let overrides = HashMap::from([
            ("router.test".to_string(), "192.168.1.1".parse().unwrap()),
            ("public.test".to_string(), "93.184.216.34".parse().unwrap()),
        ]);
        let guarded = Resolver::new(&overrides, true);
        let refused = guarded.resolve("router.test".parse().unwrap()).await.err().unwrap();
        let refused = refused.downcast_ref::<PrivateAddress>().unwrap();
        assert_eq!((refused.host.as_str(), refused.kind), ("router.test", "a private (RFC 1918)"));
        let public: Vec<SocketAddr> = guarded.resolve("public.test".parse().unwrap()).await.unwrap().collect();
        assert_eq!(public[0].ip().to_string(), "93.184.216.34");
        let localhost = guarded.resolve("localhost".parse().unwrap()).await;
        assert!(localhost.is_err(), "localhost resolves to loopback only");
        let open = Resolver::new(&overrides, false);
        assert_eq!(open.resolve("router.test".parse().unwrap()).await.unwrap().count(), 1);
    }
}
