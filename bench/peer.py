#!/usr/bin/env python3
"""The peer podfeed is measured against: the archive-to-feed script the tutorials teach.

asyncio + aiohttp + BeautifulSoup, 32 requests in flight: the listing pages one after another
(each names the next), then every episode page, parsed with BeautifulSoup as it arrives, the
same fields as recipes/demo.toml, a HEAD of each enclosure for its size, and an RSS file.
Written the way those tutorials write it (one event loop, parsing on it, a semaphore), with
the retries a nightly script needs to finish against the demo site's faults.

    python3 bench/peer.py http://127.0.0.1:8080/archive OUT.xml

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


async def crawl(session, start):
    """Episode links from every listing page, following the pagination links."""
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
        for a in soup.select("article h2.title a"):
            link = urljoin(url, a["href"])
            if link not in links:
                links.append(link)
        queue.extend(urljoin(url, a["href"]) for a in soup.select("nav.pagination a"))
    return links


def text(soup, css):
    element = soup.select_one(css)
    return element.get_text(" ", strip=True) if element else None


def extract(url, html):
    """The demo recipe's main fields, or None for a page without audio."""
    soup = BeautifulSoup(html, PARSER)
    audio = None
    player = soup.select_one("div.player")
    if player and player.get("data-audio"):
        audio = json.loads(player["data-audio"]).get("audioUrl")
    if not audio and soup.select_one("a.download"):
        audio = soup.select_one("a.download")["href"]
    if not audio:
        return None
    time = soup.select_one("div.dateblock time")
    canonical = soup.select_one("link[rel=canonical]")
    description = soup.select_one("meta[name=description]")
    return {
        "title": text(soup, "h1.episode-title"),
        "link": canonical["href"] if canonical else url,
        "published": time["datetime"] if time else text(soup, "p.byline span.date"),
        "audio": urljoin(url, audio),
        "duration": text(soup, "span.duration"),
        "description": description["content"] if description else "",
        "content": str(soup.select_one("#storytext") or ""),
    }


async def episode(session, gate, url):
    async with gate:
        html = await get(session, url)
        if html is None:
            return None
        item = extract(url, html)
        if item is None:
            return None
        headers = await get(session, item["audio"], "HEAD")
        item["length"] = headers.get("Content-Length", "0") if headers else "0"
        return item


def rss(items):
    rows = []
    for item in items:
        try:
            date = format_datetime(datetime.fromisoformat(item["published"]))
        except (TypeError, ValueError):
            date = ""
        rows.append(
            f"<item><title>{escape(item['title'] or '')}</title><link>{escape(item['link'])}</link>"
            f"<guid>{escape(item['link'])}</guid><pubDate>{date}</pubDate>"
            f"<description>{escape(item['description'])}</description>"
            f"<enclosure url=\"{escape(item['audio'])}\" length=\"{item['length']}\" type=\"audio/mpeg\"/></item>"
        )
    return f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Peer</title>{''.join(rows)}</channel></rss>"


async def main(start, out):
    gate = asyncio.Semaphore(IN_FLIGHT)
    timeout = aiohttp.ClientTimeout(total=20)
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        links = await crawl(session, start)
        items = [i for i in await asyncio.gather(*(episode(session, gate, u) for u in links)) if i]
    with open(out, "w", encoding="utf-8") as feed:
        feed.write(rss(items))
    print(json.dumps({"items": len(items), "pages": len(links)}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
