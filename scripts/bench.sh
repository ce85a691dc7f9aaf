#!/usr/bin/env bash
# Measures kblame against the decompression floor (zstd -dc) and two peers on the same trace and
# question, in one run: DuckDB (its Python package: read_ndjson_objects filtered by name) and a
# jq one-liner. Every row gives its ratio to the floor and to DuckDB. Then the sizes: the trace,
# the same JSON as one zstd stream, the saved index and the record cache, as shares of the JSON.
# The "first" rows use the index at the trace's end when kblame wrote it (a scan otherwise).
#
# Usage: scripts/bench.sh TRACE POD [DEPLOYMENT [NAMESPACE]]
#   TRACE       a trace, e.g. from `cargo run --release --example gen-trace -- --records 1000000 -o big.ndjson.zst`
#   POD         a pod name in it (gen-trace prints some)
#   DEPLOYMENT  a Deployment name for `analyze --object deployment/NAME` (optional)
#   NAMESPACE   its namespace (optional)
# Needs: zstd, jq, bc, GNU time (/usr/bin/time), python3. Builds the release binary first, and
# installs DuckDB's Python package into target/bench-venv when no python there has it (set
# BENCH_PYTHON to use another interpreter that has it).
set -euo pipefail

trace=${1:?usage: scripts/bench.sh TRACE POD [DEPLOYMENT [NAMESPACE]]}
pod=${2:?usage: scripts/bench.sh TRACE POD [DEPLOYMENT [NAMESPACE]]}
deployment=${3:-}
namespace=${4:-}
cd "$(dirname "$0")/.."
cargo build --release --quiet
kblame=target/release/kblame
for tool in zstd jq bc python3 /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "bench.sh needs $tool" >&2; exit 2; }
done
python=${BENCH_PYTHON:-target/bench-venv/bin/python}
if ! "$python" -c 'import duckdb' 2> /dev/null; then
  python3 -m venv target/bench-venv
  target/bench-venv/bin/pip install --quiet 'duckdb>=1.1'
  python=target/bench-venv/bin/python
fi
duckdb_version=$("$python" -c 'import duckdb; print(duckdb.__version__)')

raw_bytes=$(zstd -dc "$trace" | wc -c)
printf 'trace: %s (%s bytes compressed, %s bytes of JSON)\n' "$trace" "$(stat -c %s "$trace")" "$raw_bytes"
printf 'machine: %s cores, %s; DuckDB %s; date: %s\n\n' "$(nproc)" "$(uname -srm)" "$duckdb_version" "$(date -u +%F)"

floor_wall=""
duckdb_wall=""
# A / B with two decimals (bc alone prints .99 for 0.99 and truncates).
times_of() {
  LC_ALL=C printf '%.2f×' "$(echo "scale=6; $1 / ($2 + 0.000001)" | bc)"
}
# Runs one command under GNU time; prints a table row with its ratios to the floor and to DuckDB
# (the first row measured is the floor, the second DuckDB).
measure() {
  local label=$1; shift
  local out; out=$(mktemp)
  /usr/bin/time -f '%e %U %S %M' -o "$out" bash -c "$*" > /dev/null 2>&1 || true
  read -r wall user sys rss_kb < "$out"
  rm -f "$out"
  local cpu; cpu=$(echo "$user + $sys" | bc)
  if [ -z "$floor_wall" ]; then floor_wall=$wall; elif [ -z "$duckdb_wall" ]; then duckdb_wall=$wall; fi
  local ratio; ratio=$(times_of "$wall" "$floor_wall")
  local vs_duckdb="—"
  [ -n "$duckdb_wall" ] && vs_duckdb=$(times_of "$wall" "$duckdb_wall")
  local rss_pct; rss_pct=$(echo "scale=1; 100 * $rss_kb * 1024 / $raw_bytes" | bc)
  printf '| %-44s | %8s s | %8s s | %9s MB (%5s%% of raw) | %7s | %7s |\n' \
    "$label" "$wall" "$cpu" "$((rss_kb / 1024))" "$rss_pct" "$ratio" "$vs_duckdb"
}

# Save an index even for small traces, so the repeat rows measure the index at every size.
export KBLAME_INDEX=always
index="$trace.kbidx"
cache="$trace.kbcache"
echo '| command                                      |     wall |      CPU |                  peak RSS | x floor | x DuckDB |'
echo '| --- | --- | --- | --- | --- | --- |'
measure 'floor: zstd -dc > /dev/null' "zstd -dc '$trace'"
measure "DuckDB: read_ndjson_objects WHERE name = $pod" "'$python' scripts/duckdb_filter.py '$trace' '$pod'"
rm -f "$index" "$cache"
measure "kblame --index never analyze --pod $pod (scans the trace)" "$kblame --index never analyze '$trace' --pod '$pod' -o json"
measure "kblame analyze --pod $pod -o json (first)" "$kblame analyze '$trace' --pod '$pod' -o json"
measure "kblame analyze --pod $pod -o json (repeat)" "$kblame analyze '$trace' --pod '$pod' -o json"
if [ -n "$deployment" ]; then
  ns_flag=${namespace:+-n $namespace}
  measure "kblame analyze --object deployment/$deployment (first)" "$kblame analyze '$trace' --object 'deployment/$deployment' $ns_flag -o json"
  measure "kblame analyze --object deployment/$deployment (repeat)" "$kblame analyze '$trace' --object 'deployment/$deployment' $ns_flag -o json"
fi
measure 'kblame check (no index)' "$kblame --index never check '$trace'"
measure 'kblame check --strict' "$kblame check --strict '$trace'"
measure "jq: select(.object.metadata.name==\"$pod\")" "zstd -dc '$trace' | jq -c 'select(.object.metadata.name==\"$pod\")'"

# Sizes, as a share of the JSON: the trace, the same JSON compressed as one stream by the zstd
# tool (what the layout costs against no seeking and no crash safety), the saved index and the
# record cache.
percent() { echo "scale=2; 100 * $1 / $raw_bytes" | bc; }
trace_bytes=$(stat -c %s "$trace")
stream_bytes=$(zstd -dc "$trace" | zstd -3 -T0 -c | wc -c)
index_bytes=$(stat -c %s "$index" 2> /dev/null || echo 0)
cache_bytes=$(stat -c %s "$cache" 2> /dev/null || echo 0)
printf '\n| file | bytes | of the JSON |\n| --- | --- | --- |\n'
printf '| the trace | %s | %s %% |\n' "$trace_bytes" "$(percent "$trace_bytes")"
printf '| the same JSON as one stream, zstd -3 | %s | %s %% (the trace is %s of it) |\n' \
  "$stream_bytes" "$(percent "$stream_bytes")" "$(times_of "$trace_bytes" "$stream_bytes")"
printf '| saved index (%s) | %s | %s %% |\n' "$index" "$index_bytes" "$(percent "$index_bytes")"
printf '| record cache after these questions | %s | %s %% |\n' "$cache_bytes" "$(percent "$cache_bytes")"
