"""Judge a podcast feed with parsers podfeed's authors did not write.

Usage: python3 pyjudges.py FEED.xml EXPECTED_ITEMS [--lenient]
Exits 1 with a reason on the first complaint. With --lenient, items may lack a date, a duration
or an enclosure size (a hostile site's pages do): the feed must still parse, without bozo, with
every item and unique guids.
"""
import sys

import feedparser
import podcastparser


def fail(reason):
    print(f"FAIL {reason}")
    sys.exit(1)


def judge_feedparser(data, expected, lenient):
    feed = feedparser.parse(data)
    if feed.bozo:
        fail(f"feedparser: bozo: {feed.bozo_exception!r}")
    if len(feed.entries) != expected:
        fail(f"feedparser: {len(feed.entries)} entries, expected {expected}")
    if len({e.get("id") for e in feed.entries}) != expected:
        fail("feedparser: duplicate guids")
    for entry in feed.entries:
        if lenient:
            continue
        if not entry.get("enclosures"):
            fail(f"feedparser: no enclosure in {entry.get('id')}")
        if not entry.get("published_parsed"):
            fail(f"feedparser: no parsable pubDate in {entry.get('id')}")
    if not feed.feed.get("image", {}).get("href"):
        fail("feedparser: no channel image")
    print(f"feedparser {feedparser.__version__}: {len(feed.entries)} entries, not bozo")


def judge_podcastparser(path, expected, lenient):
    with open(path, "rb") as stream:
        parsed = podcastparser.parse("file://" + path, stream)
    episodes = parsed.get("episodes", [])
    if len(episodes) != expected:
        fail(f"podcastparser: {len(episodes)} episodes, expected {expected}")
    guids = {e["guid"] for e in episodes}
    if len(guids) != expected:
        fail("podcastparser: duplicate guids")
    for episode in episodes:
        if lenient:
            continue
        if not episode.get("enclosures") or not episode["enclosures"][0].get("file_size", 0) > 0:
            fail(f"podcastparser: no sized enclosure in {episode['guid']}")
        if not episode.get("total_time"):
            fail(f"podcastparser: no duration in {episode['guid']}")
    print(f"podcastparser: {len(episodes)} episodes with sized enclosures and durations")


def main():
    path, expected = sys.argv[1], int(sys.argv[2])
    lenient = "--lenient" in sys.argv[3:]
    with open(path, "rb") as stream:
        data = stream.read()
    judge_feedparser(data, expected, lenient)
    judge_podcastparser(path, expected, lenient)


if __name__ == "__main__":
    main()
