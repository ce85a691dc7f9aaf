#!/usr/bin/env bash
# Measures kblame against the decompression floor and a jq one-liner on one trace, in one run.
#
# Usage: scripts/bench.sh TRACE POD [DEPLOYMENT [NAMESPACE]]
#   TRACE       a trace, e.g. from `cargo run --release --example gen-trace -- --records 1000000 -o big.ndjson.zst`
#   POD         a pod name in it (gen-trace prints some)
#   DEPLOYMENT  a Deployment name for `analyze --object deployment/NAME` (optional)
#   NAMESPACE   its namespace (optional)
# Needs: zstd, jq, GNU time (/usr/bin/time). Builds the release binary first.
set -euo pipefail

trace=${1:?usage: scripts/bench.sh TRACE POD [DEPLOYMENT [NAMESPACE]]}
pod=${2:?usage: scripts/bench.sh TRACE POD [DEPLOYMENT [NAMESPACE]]}
deployment=${3:-}
namespace=${4:-}
cd "$(dirname "$0")/.."
cargo build --release --quiet
kblame=target/release/kblame
for tool in zstd jq /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "bench.sh needs $tool" >&2; exit 2; }
done

raw_bytes=$(zstd -dc "$trace" | wc -c)
printf 'trace: %s (%s bytes compressed, %s bytes of JSON)\n' "$trace" "$(stat -c %s "$trace")" "$raw_bytes"
printf 'machine: %s cores, %s; date: %s\n\n' "$(nproc)" "$(uname -srm)" "$(date -u +%F)"

floor_wall=""
# Runs one command under GNU time; prints a table row with its ratio to the floor.
measure() {
  local label=$1; shift
  local out; out=$(mktemp)
  /usr/bin/time -f '%e %U %S %M' -o "$out" bash -c "$*" > /dev/null 2>&1 || true
  read -r wall user sys rss_kb < "$out"
  rm -f "$out"
  local cpu; cpu=$(echo "$user + $sys" | bc)
  [ -z "$floor_wall" ] && floor_wall=$wall
  local ratio; ratio=$(echo "scale=2; $wall / ($floor_wall + 0.0001)" | bc)
  local rss_pct; rss_pct=$(echo "scale=1; 100 * $rss_kb * 1024 / $raw_bytes" | bc)
  printf '| %-44s | %8s s | %8s s | %9s MB (%5s%% of raw) | %6sx |\n' \
    "$label" "$wall" "$cpu" "$((rss_kb / 1024))" "$rss_pct" "$ratio"
}

# Save an index even for small traces, so the repeat rows measure the index at every size.
export KBLAME_INDEX=always
index="$trace.kbidx"
echo '| command                                      |     wall |      CPU |                  peak RSS | x floor |'
echo '| --- | --- | --- | --- | --- |'
measure 'floor: zstd -dc > /dev/null' "zstd -dc '$trace'"
rm -f "$index"
measure "kblame analyze --pod $pod -o json (first: builds the index)" "$kblame analyze '$trace' --pod '$pod' -o json"
measure "kblame analyze --pod $pod -o json (repeat)" "$kblame analyze '$trace' --pod '$pod' -o json"
if [ -n "$deployment" ]; then
  ns_flag=${namespace:+-n $namespace}
  measure "kblame analyze --object deployment/$deployment (no index)" "$kblame --index never analyze '$trace' --object 'deployment/$deployment' $ns_flag -o json"
  measure "kblame analyze --object deployment/$deployment (repeat)" "$kblame analyze '$trace' --object 'deployment/$deployment' $ns_flag -o json"
fi
measure 'kblame check (no index)' "$kblame --index never check '$trace'"
measure 'kblame check --strict' "$kblame check --strict '$trace'"
measure "jq: select(.object.metadata.name==\"$pod\")" "zstd -dc '$trace' | jq -c 'select(.object.metadata.name==\"$pod\")'"
printf '\nindex: %s bytes (%s)\n' "$(stat -c %s "$index" 2>/dev/null || echo 0)" "$index"
