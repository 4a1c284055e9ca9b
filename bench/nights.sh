#!/usr/bin/env bash
# The cache's size over simulated nights: each night the demo site has one episode more, which
# changes every page (its "more episodes" box), and `build --full` fetches every page again, so
# every page is appended to the packs again. Prints the night and the packs' bytes.
#
#     cargo build --release && bench/nights.sh 30 1200
set -euo pipefail
cd "$(dirname "$0")/.."
podfeed=$(realpath "${PODFEED:-./target/release/podfeed}")
nights=${1:-30}
episodes=${2:-1200}
port=${PORT:-18777}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
sed "s/127.0.0.1:8080/127.0.0.1:$port/g" recipes/demo.toml > "$dir/demo.toml"
for night in $(seq 0 "$nights"); do
  "$podfeed" demo-site --port "$port" --episodes $((episodes + night)) --latency-ms 0 > /dev/null 2>&1 &
  site=$!
  until curl -s -o /dev/null "http://127.0.0.1:$port/robots.txt"; do sleep 0.1; done
  mode=--full
  [ "$night" = 0 ] && mode=
  (cd "$dir" && "$podfeed" build --recipe demo.toml --cache cache --quiet $mode > /dev/null 2>&1)
  kill "$site"
  wait "$site" 2> /dev/null || true
  echo "$night $(du -sb "$dir/cache/packs" | cut -f1)"
done
