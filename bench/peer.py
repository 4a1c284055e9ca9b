#!/usr/bin/env python3
"""The peer podfeed is measured against: the archive-to-feed script the tutorials teach.

asyncio + aiohttp + BeautifulSoup, 32 requests in flight: the listing pages one after another
(each names the next), then every episode page, parsed with BeautifulSoup as it arrives, the
fields podfeed's recipe for the theme reads, a HEAD of each enclosure for its size, and an RSS
file. Written the way those tutorials write it (one event loop, parsing on it, a semaphore, the
selectors of one site written into the script), with the retries a nightly script needs to
finish against the demo site's faults. THEME is the demo site's (`classic` by default, `radio`,
`wordpress`, `modern`, `listing`): each has its selectors below, as each real site would.

    python3 bench/peer.py http://127.0.0.1:8080/archive OUT.xml [THEME]

`podfeed bench --peer` runs it beside podfeed against the same demo site. Needs
`pip install aiohttp beautifulsoup4` (bench/requirements.txt).
"""

import asyncio
import json
import os
import sys
from email.utils import format_datetime
from datetime import datetime
from urllib.parse import urljoin
from xml.sax.saxutils import escape

import aiohttp
from bs4 import BeautifulSoup

IN_FLIGHT = 32
RETRIES = 3
# The tutorials' parser; PEER_PARSER=lxml measures the faster one some of them suggest.
PARSER = os.environ.get("PEER_PARSER", "html.parser")


async def get(session, url, method="GET"):
    """The response's text (or headers for HEAD) after retrying 5xx, 429 and network errors."""
    for attempt in range(RETRIES + 1):
        try:
            async with session.request(method, url, allow_redirects=True) as response:
                if response.status in (429, 500, 502, 503, 504) and attempt < RETRIES:
                    wait = float(response.headers.get("Retry-After", 0.25 * 2**attempt))
                    await asyncio.sleep(min(wait, 5))
                    continue
                if response.status != 200:
                    return None
                if method == "HEAD":
                    return response.headers
                return await response.text(errors="replace")
        except (aiohttp.ClientError, asyncio.TimeoutError):
            if attempt == RETRIES:
                return None
            await asyncio.sleep(0.25 * 2**attempt)
    return None


async def crawl(session, start, theme):
    """Episode links (or, for a listing theme, whole items) from every listing page, following
    the pagination links."""
    seen, queue, links = set(), [start], []
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        html = await get(session, url)
        if html is None:
            continue
        soup = BeautifulSoup(html, PARSER)
        if theme.items:
            links.extend(theme.items(url, soup))
        else:
            for a in soup.select(theme.links):
                link = urljoin(url, a["href"])
                if link not in links:
                    links.append(link)
        queue.extend(urljoin(url, a["href"]) for a in soup.select(theme.next))
    return links


def text(soup, css):
    element = soup.select_one(css)
    return element.get_text(" ", strip=True) if element else None


def attr(soup, css, name):
    element = soup.select_one(css)
    return element.get(name) if element else None


def player_json(soup, css, key):
    raw = attr(soup, css, "data-audio")
    return json.loads(raw).get(key) if raw else None


def classic(url, soup):
    """recipes/demo.toml's main fields."""
    audio = player_json(soup, "div.player", "audioUrl") or attr(soup, "a.download", "href")
    time = soup.select_one("div.dateblock time")
    return {
        "title": text(soup, "h1.episode-title"),
        "link": attr(soup, "link[rel=canonical]", "href") or url,
        "published": time["datetime"] if time else text(soup, "p.byline span.date"),
        "audio": audio,
        "duration": text(soup, "span.duration"),
        "description": attr(soup, "meta[name=description]", "content") or "",
        "content": str(soup.select_one("#storytext") or ""),
    }


def radio(url, soup):
    """What init's recipe reads on the radio theme's pages."""
    return {
        "title": text(soup, "div.storytitle h1"),
        "link": attr(soup, "link[rel=canonical]", "href") or url,
        "published": attr(soup, "time[datetime]", "datetime"),
        "audio": player_json(soup, "div.audio-module", "audioUrl"),
        "duration": player_json(soup, "div.audio-module", "duration"),
        "description": attr(soup, "meta[name=description]", "content") or "",
        "content": str(soup.select_one("#storytext") or ""),
    }


def wordpress(url, soup):
    """PowerPress's download link, the post's heading (or og:title less the site's name)."""
    title = text(soup, "h1.entry-title") or (text(soup, "title") or "")
    date = text(soup, "span.posted-on a")
    audio = attr(soup, "a.powerpress_link_d", "href") or (attr(soup, "audio source", "src") or "").split("?_=")[0]
    return {
        "title": title.removesuffix(" - The Long Signal"),
        "link": attr(soup, "link[rel=canonical]", "href") or url,
        "published": datetime.strptime(date, "%B %d, %Y").isoformat() if date else None,
        "audio": audio,
        "duration": text(soup, "span.powerpress_duration"),
        "description": text(soup, "div.entry-content p") or "",
        "content": str(soup.select_one("div.entry-content") or ""),
    }


def modern(url, soup):
    """The JSON-LD's PodcastEpisode: the class names are made up anew by every build."""
    for script in soup.select("script[type='application/ld+json']"):
        for node in json.loads(script.string or "{}").get("@graph", []):
            if node.get("@type") == "PodcastEpisode":
                return {
                    "title": node.get("name"),
                    "link": urljoin(url, node.get("url", url)),
                    "published": node.get("datePublished"),
                    "audio": node.get("associatedMedia", {}).get("contentUrl"),
                    "duration": node.get("timeRequired"),
                    "description": node.get("description", ""),
                    "content": "",
                }
    return {"audio": None}


def listing_items(url, soup):
    """The listing theme's items describe their episodes: no episode page is read."""
    items = []
    for article in soup.select("article.item"):
        link = article.select_one("h2.title a")
        audio = player_json(article, "div.player", "audioUrl")
        if link is None or not audio:
            continue
        items.append({
            "title": link.get_text(" ", strip=True),
            "link": urljoin(url, link["href"]),
            "published": text(article, "p.teaser span.date"),
            "audio": urljoin(url, audio),
            "duration": player_json(article, "div.player", "duration"),
            "description": text(article, "p.teaser") or "",
            "content": "",
        })
    return items


class Theme:
    def __init__(self, links, next, extract=None, items=None):
        self.links, self.next, self.extract, self.items = links, next, extract, items


THEMES = {
    "classic": Theme("article h2.title a", "nav.pagination a", classic),
    "radio": Theme("article h2.title a", "nav.pagination a", radio),
    "wordpress": Theme("h2.entry-title a", "div.nav-previous a", wordpress),
    "modern": Theme("a.k2p9", "a.m4x", modern),
    "listing": Theme(None, "nav.pagination a[rel=next]", items=listing_items),
}


def extract(url, html, theme):
    """The theme's fields, or None for a page without audio."""
    item = theme.extract(url, BeautifulSoup(html, PARSER))
    if not item.get("audio"):
        return None
    item["audio"] = urljoin(url, item["audio"])
    return item


async def episode(session, gate, url, theme):
    async with gate:
        if isinstance(url, dict):
            item = url
        else:
            html = await get(session, url)
            if html is None:
                return None
            item = extract(url, html, theme)
            if item is None:
                return None
        headers = await get(session, item["audio"], "HEAD")
        item["length"] = headers.get("Content-Length", "0") if headers else "0"
        return item


def rss(items):
    rows = []
    for item in items:
        try:
            date = format_datetime(datetime.fromisoformat((item["published"] or "").replace("Z", "+00:00")))
        except (TypeError, ValueError):
            date = ""
        rows.append(
            f"<item><title>{escape(item['title'] or '')}</title><link>{escape(item['link'])}</link>"
            f"<guid>{escape(item['link'])}</guid><pubDate>{date}</pubDate>"
            f"<description>{escape(item['description'])}</description>"
            f"<enclosure url=\"{escape(item['audio'])}\" length=\"{item['length']}\" type=\"audio/mpeg\"/></item>"
        )
    return f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Peer</title>{''.join(rows)}</channel></rss>"


async def main(start, out, theme):
    gate = asyncio.Semaphore(IN_FLIGHT)
    timeout = aiohttp.ClientTimeout(total=20)
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        links = await crawl(session, start, theme)
        items = [i for i in await asyncio.gather(*(episode(session, gate, u, theme) for u in links)) if i]
    with open(out, "w", encoding="utf-8") as feed:
        feed.write(rss(items))
    print(json.dumps({"items": len(items), "pages": len(links)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], THEMES[sys.argv[3] if len(sys.argv) > 3 else "classic"]))
