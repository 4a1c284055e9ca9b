// Judge a podcast feed with Podcast Index's podcast-partytime parser.
// Usage: node partytime.cjs FEED.xml EXPECTED_ITEMS [--lenient]
// With --lenient, items may lack a duration or an enclosure size (a hostile site's pages do).
const fs = require("fs");
const { parseFeed } = require("podcast-partytime");

function fail(reason) {
  console.log(`FAIL ${reason}`);
  process.exit(1);
}

const [path, expectedText, mode] = process.argv.slice(2);
const lenient = mode === "--lenient";
const expected = Number(expectedText);
const feed = parseFeed(fs.readFileSync(path, "utf8"));
if (!feed) fail("partytime: could not parse the feed");
if (feed.items.length !== expected) fail(`partytime: ${feed.items.length} items, expected ${expected}`);
if (!feed.guid) fail("partytime: no podcast:guid");
if (!feed.itunesImage && !feed.image) fail("partytime: no channel image");
const guids = new Set(feed.items.map((item) => item.guid));
if (guids.size !== expected) fail("partytime: duplicate guids");
for (const item of feed.items) {
  if (lenient) continue;
  if (!item.enclosure || !item.enclosure.url || !(item.enclosure.length > 0)) fail(`partytime: bad enclosure in ${item.guid}`);
  if (!(item.duration > 0)) fail(`partytime: no duration in ${item.guid}`);
}
const transcripts = feed.items.filter((item) => item.podcastTranscripts && item.podcastTranscripts.length).length;
const chapters = feed.items.filter((item) => item.podcastChapters).length;
console.log(`podcast-partytime: ${feed.items.length} items, guid ${feed.guid}, ${transcripts} with transcripts, ${chapters} with chapters`);
console.log(JSON.stringify({ items: feed.items.length, transcripts, chapters }));
