#!/usr/bin/env python3
"""podfeed on real podcast websites nobody here wrote, scored against each site's own feed.

For each site of bench/realworld/sites.toml, the harness serves the site's static mirror (a
public repository's git directory, read with `git cat-file`) on 127.0.0.1 the way its web
server did, runs `podfeed init START -o recipe.toml` and `podfeed build` with that recipe and
no hand edit, and compares the feed with the one the site published itself:

  - per item of the site's feed, the item of ours with the same audio file (the last segment
    of the URL's path: pages reach the same file through tracking prefixes), else the same
    title; it is field-exact when its title (whitespace folded; case, typographic quotes and
    dashes aside), day (±1: pages show local dates, feeds UTC), audio file and duration (where the
    site's feed gives one) are the site's;
  - the item count against the feed's.

Sites without a feed of their own give the episodes their repository's tests expect
(`expect`), and episode pages to try `podfeed init PAGE` + `podfeed check` on (`check`).

    python3 bench/realworld/run.py                      # every site, table on stdout
    python3 bench/realworld/run.py --only savor -v      # one site, with podfeed's reports
    python3 bench/realworld/run.py --write docs/realworld.md

The mirrors are brought onto the machine with the search tool's `fetch github:OWNER/NAME`
(docs/realworld.md says how); `--mirrors` says where they are (default /work/.mirror). Nothing but the
loopback server is reachable: the harness runs itself in a network namespace of its own
(`unshare -rn`) when it can, so a page's links to the live site, its CDN or a tracker go
nowhere. Needs Python 3.11 (tomllib) and git; no package from PyPI.
"""

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import unicodedata
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
TEXT_TYPES = (".html", ".htm", ".xml", ".xsl", ".css", ".js", ".json", ".txt", "")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".css": "text/css",
    ".js": "application/javascript",
    ".json": "application/json",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
}


# ---- the mirror, served as its web server did ----------------------------------------------


class Mirror:
    """A site's files in a git directory: its tree at `ref`, under `root`, plus `routes`."""

    def __init__(self, git_dir, site):
        self.git_dir = git_dir
        self.ref = site.get("ref", "HEAD")
        self.root = site.get("root", "").strip("/")
        self.routes = site.get("routes", {})
        self.lock = threading.Lock()
        self.cat = subprocess.Popen(
            ["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        # Saved pages laid out by hand are the whole site: the rest of their repository is not.
        self.files = {} if self.routes else self._tree()

    def _tree(self):
        spec = f"{self.ref}:{self.root}" if self.root else self.ref
        out = subprocess.run(
            ["git", "--git-dir", str(self.git_dir), "ls-tree", "-r", "-z", spec],
            capture_output=True,
            check=True,
        ).stdout
        files = {}
        for entry in out.split(b"\0"):
            if not entry:
                continue
            meta, path = entry.split(b"\t", 1)
            files[path.decode("utf-8", "surrogateescape")] = meta.split()[2].decode()
        return files

    def blob(self, spec):
        """The bytes of an object (`OID` or `REV:PATH`), or None when the mirror lacks it."""
        with self.lock:
            self.cat.stdin.write(spec.encode("utf-8", "surrogateescape") + b"\n")
            self.cat.stdin.flush()
            header = self.cat.stdout.readline().split()
            if len(header) < 3 or header[1] != b"blob":
                return None
            size = int(header[2])
            data = self.cat.stdout.read(size)
            self.cat.stdout.read(1)
            return data

    def find(self, path, query):
        """The file a request for `path?query` answered: a route, the file saved with its
        query in its name (as wget saves it), the path, its index.html, or PATH.html."""
        target = path + ("?" + query if query else "")
        for key in (target, path):
            if key in self.routes:
                spec = self.routes[key]
                spec = spec if ":" in spec.split("/")[0] else f"{self.ref}:{spec}"
                return spec, spec
        candidates = []
        # Saved as the path reads (`%e2%80%94` in a file's name, as wget keeps it) or decoded.
        for rel in dict.fromkeys([path.lstrip("/"), re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), path).lstrip("/"), unquote(path).lstrip("/")]):
            if query:
                candidates += [f"{rel}?{query}", f"{rel.rstrip('/')}/index.html?{query}"]
            if rel == "" or rel.endswith("/"):
                candidates.append(f"{rel}index.html")
            else:
                candidates += [rel, f"{rel}/index.html", f"{rel}.html"]
        for candidate in candidates:
            if candidate in self.files:
                return self.files[candidate], candidate
        return None, None

    def close(self):
        self.cat.stdin.close()
        self.cat.wait()


def rewrite(body, hosts, base):
    """Absolute links to the site's own hosts, made to lead to the loopback server."""
    text = body.decode("utf-8", "surrogateescape")
    for host in hosts:
        for scheme in ("https://", "http://", "//"):
            text = text.replace(scheme + host, base)
            # JSON strings escape their slashes.
            text = text.replace(scheme.replace("/", "\\/") + host, base.replace("/", "\\/"))
    return text.encode("utf-8", "surrogateescape")


def serve(mirror, site):
    """Starts the site's server on 127.0.0.1; returns it and its base URL."""
    counts = {"requests": 0, "missing": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.answer(body=True)

        def do_HEAD(self):
            self.answer(body=False)

        def answer(self, body):
            counts["requests"] += 1
            parts = urlsplit(self.path)
            spec, name = mirror.find(parts.path, parts.query)
            data = mirror.blob(spec) if spec else None
            if data is None:
                counts["missing"] += 1
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            suffix = Path(name.split("?")[0]).suffix.lower()
            if suffix in TEXT_TYPES:
                data = rewrite(data, site["hosts"], server.base)
            kind = CONTENT_TYPES.get(suffix, "text/html; charset=utf-8" if suffix == "" else "application/octet-stream")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    server.counts = counts
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---- feeds, read the same way for the site's and ours --------------------------------------


def duration_secs(text):
    if not text:
        return None
    text = text.strip()
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        return None
    secs = 0
    for part in parts:
        secs = secs * 60 + part
    return int(secs) if secs > 0 else None


def day_of(text):
    if not text:
        return None
    text = text.strip()
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def audio_file(url):
    if not url:
        return None
    return unquote(urlsplit(url.strip()).path.rstrip("/").rsplit("/", 1)[-1]) or None


def read_feed(data):
    """The feed's items with audio: title, day, audio file, duration."""
    text = data.decode("utf-8", "replace").lstrip("\ufeff \r\n\t")
    root = ET.fromstring(text.encode("utf-8"))
    items = []
    for item in root.iter("item"):
        enclosure = item.find("enclosure")
        audio = enclosure.get("url") if enclosure is not None else None
        if not audio:
            # Some feeds made by scripts carry the audio as the item's link.
            link = item.findtext("link") or ""
            audio = link if re.search(r"\.(mp3|m4a|ogg|opus|aac)(\?|$)", link) else None
        if not audio:
            continue
        items.append(
            {
                "link": (item.findtext("link") or "").strip(),
                "title": html.unescape(item.findtext("title") or ""),
                "day": day_of(item.findtext("pubDate")),
                "audio": audio_file(audio),
                "duration": duration_secs(item.findtext(f"{ITUNES}duration")),
            }
        )
    return items


# WordPress shows titles "texturized" (straight quotes curled, " - " an en dash) while its feed
# keeps them as written: typographic quotes and dashes are set aside.
QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "´": "'", "`": "'", "–": "-", "—": "-"}
)


def same_title(a, b):
    fold = lambda t: " ".join(unicodedata.normalize("NFC", html.unescape(t)).translate(QUOTES).split()).casefold()
    return fold(a) == fold(b)


def compare(theirs, ours, durations=True):
    """How many of the site's items ours gives field-exact, and what the misses were."""
    by_audio = {}
    for item in ours:
        by_audio.setdefault(item["audio"], item)
    exact, misses = 0, []
    for want in theirs:
        got = by_audio.get(want["audio"]) if want.get("audio") else None
        got = got or next((o for o in ours if same_title(o["title"], want["title"])), None)
        wrong = []
        if got is None:
            wrong.append("missing")
        else:
            if not same_title(got["title"], want["title"]):
                wrong.append(f"title {got['title']!r} (site: {want['title']!r})")
            if want.get("day") and (got["day"] is None or abs((got["day"] - want["day"]).days) > 1):
                wrong.append(f"day {got['day']} (site: {want['day']})")
            if want.get("audio") and got["audio"] != want["audio"]:
                wrong.append(f"audio {got['audio']} (site: {want['audio']})")
            if durations and want.get("duration") and got["duration"] != want["duration"]:
                wrong.append(f"duration {got['duration']} (site: {want['duration']})")
        if wrong:
            misses.append(f"{want['title'][:50]!r}: " + "; ".join(wrong))
        else:
            exact += 1
    return exact, misses


# ---- one site --------------------------------------------------------------------------------


def podfeed(binary, args, cwd, verbose):
    started = time.monotonic()
    run = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=900)
    if verbose:
        print(f"$ podfeed {' '.join(args)}  (exit {run.returncode}, {time.monotonic() - started:.1f} s)")
        print(run.stderr.rstrip())
    return run


def first_line(text, prefix="podfeed: "):
    lines = [l for l in text.splitlines() if l.startswith(prefix)]
    return (lines[-1] if lines else (text.strip().splitlines() or [""])[-1])[len(prefix):][:160]


def expected_items(site, mirror):
    if "expect" in site:
        return [
            {
                "title": e["title"],
                "day": date.fromisoformat(e["date"]) if "date" in e else None,
                "audio": e.get("audio"),
                "duration": e.get("duration"),
            }
            for e in site["expect"]
        ]
    spec = site["feed"]
    spec = spec if ":" in spec.split("/")[0] else f"{mirror.ref}:{spec}"
    data = mirror.blob(spec)
    if data is None:
        raise RuntimeError(f"the mirror has no {spec}")
    items = read_feed(data)
    if "listed" in site:
        # A feed of the whole show, beside a few of its pages: the items those pages list.
        listed = listed_text(mirror, site)
        items = [i for i in items if i["audio"] and i["audio"] in listed]
    return items


def run_site(site, args):
    row = {"name": site["name"], "platform": site["platform"]}
    git_dir = Path(args.mirrors) / site["repo"].replace("/", "+") / "repo"
    if not git_dir.is_dir():
        row["result"] = f"mirror missing: fetch github:{site['repo']}"
        return row
    mirror = Mirror(git_dir, site)
    server = serve(mirror, site)
    work = Path(tempfile.mkdtemp(prefix=f"realworld-{site['name']}-"))
    try:
        return score(site, args, mirror, server, work, row)
    finally:
        server.shutdown()
        mirror.close()
        if args.keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def score(site, args, mirror, server, work, row):
    base = server.base
    checks = [check_page(args, base, check, work) for check in site.get("check", [])]
    row["checks"] = checks
    if "feed" not in site and "expect" not in site:
        # Single pages: scored on what init + check give on each.
        row.update(exact=sum(c["ok"] for c in checks), theirs=len(checks), ours=None)
        row["requests"] = server.counts["requests"]
        row["result"] = "; ".join(f"{c['page']}: {c['why']}" for c in checks if not c["ok"])
        return row
    init = podfeed(args.podfeed, ["init", base + site["start"], "-o", "recipe.toml"], work, args.verbose)
    row["requests"] = server.counts["requests"]
    if init.returncode != 0:
        row["result"] = f"init exit {init.returncode}: {first_line(init.stderr)}"
        return row
    if args.verbose:
        print((work / "recipe.toml").read_text())
    build = podfeed(
        args.podfeed,
        ["build", "--recipe", "recipe.toml", "--cache", "cache", "--out", "public/feed.xml", "--json", "--quiet"],
        work,
        args.verbose,
    )
    row["requests"] = server.counts["requests"]
    feed = work / "public" / "feed.xml"
    notes = [] if site.get("durations", True) else ["no duration on the pages"]
    if build.returncode == 0 and feed.exists():
        ours = read_feed(feed.read_bytes())
    elif site.get("partial") and "pages failed" in build.stderr:
        # The mirror lacks most of the site's pages: the build rightly refuses to publish, and
        # what it extracted is read from its cache instead.
        ours = cached_items(args, work)
        notes.append(f"{first_line(build.stderr).split(';')[0]} ({site['partial']}): scored on `podfeed list`")
    else:
        row["result"] = f"build exit {build.returncode}: {first_line(build.stderr)}"
        return row
    theirs = expected_items(site, mirror)
    silent = [i for i in theirs if not on_its_page(mirror, site, i)]
    if silent:
        # The feed names a file the episode's page does not: no reader of pages can have it. It
        # stays in the count; the items found are measured against the rest.
        notes.append(f"{len(silent)} of the feed's episodes name no audio file on their pages, or another")
    exact, misses = compare(theirs, ours, site.get("durations", True))
    row.update(exact=exact, theirs=len(theirs), ours=len(ours), misses=misses, silent=len(silent))
    dated = sum(1 for i in ours if i["day"])
    if dated < len(ours):
        notes.append(f"{len(ours) - dated} of {len(ours)} undated")
    row["result"] = "; ".join(notes)
    return row


def on_its_page(mirror, site, item):
    """Whether the feed item's own page, if the mirror has it, names its audio file."""
    if "feed" not in site or not item.get("link") or not item.get("audio"):
        return True
    parts = urlsplit(item["link"])
    spec, _ = mirror.find(parts.path or "/", parts.query)
    page = mirror.blob(spec) if spec else None
    if page is None:
        return True
    text = page.decode("utf-8", "replace")
    stem = item["audio"].rsplit(".", 1)[0]
    return stem in text or stem in unquote(text)


def cached_items(args, work):
    """What the cache holds, as feed items: `podfeed list --json`."""
    listed = subprocess.run(
        [args.podfeed, "list", "--recipe", "recipe.toml", "--cache", "cache", "--json"],
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        {
            "title": episode["title"],
            "day": day_of(episode.get("published") or ""),
            "audio": audio_file(episode["enclosure"]["url"]),
            "duration": episode.get("duration"),
        }
        for episode in json.loads(listed.stdout)
    ]


def listed_text(mirror, site):
    """The text of the pages `listed` names: the episodes they list are the ones expected."""
    texts = []
    for path in site.get("listed", []):
        spec, _ = mirror.find(*(path.split("?", 1) + [""])[:2])
        texts.append(html.unescape((mirror.blob(spec) or b"").decode("utf-8", "replace")) if spec else "")
    return "\n".join(texts)


def check_page(args, base, check, work):
    """`podfeed init PAGE` and `podfeed check` on it: the title, date and audio it gives."""
    path = check["page"]
    folder = work / ("check" + re.sub(r"[^A-Za-z0-9]+", "-", path))
    folder.mkdir()
    url = base + path
    init = podfeed(args.podfeed, ["init", url, "-o", "recipe.toml"], folder, args.verbose)
    if init.returncode != 0:
        return {"page": path, "ok": False, "why": f"init exit {init.returncode}: {first_line(init.stderr)}"}
    if args.verbose:
        print((folder / "recipe.toml").read_text())
    shown = podfeed(args.podfeed, ["check", "--recipe", "recipe.toml", url], folder, args.verbose)
    if args.verbose:
        print(shown.stdout)
    got = {}
    for line in shown.stdout.splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] in ("title", "published", "audio") and parts[0] not in got:
            got[parts[0]] = parts[2]
    wrong = []
    if "title" in check and not same_title(got.get("title", ""), check["title"]):
        wrong.append(f"title {got.get('title')!r}")
    if "date" in check:
        day = day_of(got.get("published", "")[:10]) if got.get("published") else None
        if day is None or abs((day - date.fromisoformat(check["date"])).days) > 1:
            wrong.append(f"date {got.get('published')!r}")
    if "audio" in check and audio_file(got.get("audio", "")) != check["audio"]:
        wrong.append(f"audio {got.get('audio')!r}")
    if shown.returncode != 0 and not wrong:
        wrong.append(f"check exit {shown.returncode}")
    return {"page": path, "ok": not wrong, "why": "; ".join(wrong)}


# ---- the table -------------------------------------------------------------------------------


def table(rows):
    lines = [
        "| site | built with | field-exact | items found / in the site's feed | requests | notes |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "exact" in row:
            pct = 100 * row["exact"] / row["theirs"] if row["theirs"] else 0
            exact = f"{pct:.0f} % ({row['exact']}/{row['theirs']})"
            found = f"{row['ours']} / {row['theirs']}" if row["ours"] is not None else f"{row['theirs']} single page(s)"
        else:
            exact, found = "—", "—"
        notes = [row.get("result", "")]
        if row.get("ours") is not None or "exact" not in row:
            for check in row.get("checks", []):
                notes.append(f"init+check on one page: {'✓' if check['ok'] else '✗ ' + check['why']}")
        note = "; ".join(n for n in notes if n).replace("|", "\\|")
        lines.append(f"| {row['name']} | {row['platform']} | {exact} | {found} | {row.get('requests', '—')} | {note} |")
    return "\n".join(lines)


def passed(row):
    checks = all(c["ok"] for c in row.get("checks", []))
    if "exact" in row:
        enough = row["ours"] is None or row["ours"] >= row["theirs"] - row.get("silent", 0)
        return checks and row["exact"] * 100 >= row["theirs"] * 95 and enough
    return False


def isolated():
    """Runs the harness again in a network namespace of its own, loopback only, if it can."""
    if os.environ.get("REALWORLD_ISOLATED") or not shutil.which("unshare"):
        return False
    env = dict(os.environ, REALWORLD_ISOLATED="1")
    script = 'ip link set lo up 2>/dev/null || true; exec "$@"'
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        print("note: unshare -rn is not permitted here; other hosts are not walled off", file=sys.stderr)
        return False
    sys.exit(subprocess.call(["unshare", "-rn", "sh", "-c", script, "sh", sys.executable, *sys.argv], env=env))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sites", default=str(HERE / "sites.toml"))
    parser.add_argument("--mirrors", default="/work/.mirror", help="where fetched mirrors are (OWNER+NAME/repo)")
    parser.add_argument("--podfeed", default=str(ROOT / "target" / "release" / "podfeed"))
    parser.add_argument("--only", nargs="*", help="these sites only, by name")
    parser.add_argument("--write", help="also write the table into this Markdown file")
    parser.add_argument("--keep", action="store_true", help="keep each site's work folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="print podfeed's reports and the misses")
    parser.add_argument("--no-isolation", action="store_true", help="do not run in a network namespace")
    parser.add_argument("--serve", metavar="NAME", help="only serve this site's mirror on 127.0.0.1, until interrupted")
    args = parser.parse_args()
    if args.serve:
        return serve_only(args)
    if not args.no_isolation:
        isolated()
    args.podfeed = str(Path(args.podfeed).resolve())
    sites = tomllib.loads(Path(args.sites).read_text())["site"]
    rows = []
    for site in sites:
        if args.only and site["name"] not in args.only:
            continue
        started = time.monotonic()
        row = run_site(site, args)
        row["seconds"] = time.monotonic() - started
        rows.append(row)
        status = "pass" if passed(row) else "FAIL"
        print(f"{status} {site['name']} ({row['seconds']:.1f} s)", file=sys.stderr)
        if args.verbose or status == "FAIL":
            for miss in row.get("misses", [])[:8]:
                print(f"    {miss}", file=sys.stderr)
    print(table(rows))
    good = sum(1 for row in rows if passed(row))
    print(
        f"\n{good} of {len(rows)} sites pass (≥ 95 % field-exact, and at least the feed's items but those whose "
        "pages name no audio file)."
    )
    if args.write:
        write_into(Path(args.write), table(rows), good, len(rows))
    return 0 if good == len(rows) else 1


def serve_only(args):
    """One site's mirror on loopback, for trying podfeed on it by hand."""
    site = next((s for s in tomllib.loads(Path(args.sites).read_text())["site"] if s["name"] == args.serve), None)
    if site is None:
        sys.exit(f"no site named {args.serve}")
    mirror = Mirror(Path(args.mirrors) / site["repo"].replace("/", "+") / "repo", site)
    server = serve(mirror, site)
    print(f"{site['name']}: {server.base}{site['start']}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        return 0


def write_into(path, table_text, good, total):
    """Replaces the table between the markers in `path` (or appends it)."""
    start, end = "<!-- realworld:start -->", "<!-- realworld:end -->"
    stamp = datetime.now().strftime("%Y-%m-%d")
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    block = (
        f"{start}\nMeasured {stamp} at {commit} with `python3 bench/realworld/run.py --write {path}`: "
        f"{good} of {total} sites pass.\n\n{table_text}\n{end}"
    )
    text = path.read_text() if path.exists() else ""
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
