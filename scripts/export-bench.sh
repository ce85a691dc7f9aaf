#!/usr/bin/env bash
# Measures `kblame export` against the decompression floor (zstd -dc) and a peer in one run:
# DuckDB (its Python package) copying the same trace's raw records to one Parquet file, which is
# what a fleet would store without kblame. Prints wall and CPU time, records per CPU second and
# the output's size, total and per million records.
#
# Usage: scripts/export-bench.sh TRACE
#   TRACE  a trace, e.g. from `cargo run --release --example gen-trace -- --records 100000 -o t.ndjson.zst`
# Needs: zstd, bc, GNU time (/usr/bin/time), python3 with duckdb (installed into
# target/bench-venv when missing; BENCH_PYTHON names another interpreter).
set -euo pipefail

trace=${1:?usage: scripts/export-bench.sh TRACE}
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin kblame
kblame=target/release/kblame
python=${BENCH_PYTHON:-target/bench-venv/bin/python}
if ! "$python" -c 'import duckdb' 2> /dev/null; then
  python3 -m venv target/bench-venv
  target/bench-venv/bin/pip install --quiet 'duckdb>=1.1'
  python=target/bench-venv/bin/python
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
records=$(zstd -dc "$trace" | wc -l)
raw_bytes=$(zstd -dc "$trace" | wc -c)
printf 'trace: %s: %s records, %s bytes compressed, %s bytes of JSON; %s cores; DuckDB %s; %s\n\n' \
  "$trace" "$records" "$(stat -c %s "$trace")" "$raw_bytes" "$(nproc)" \
  "$("$python" -c 'import duckdb; print(duckdb.__version__)')" "$(date -u +%F)"

echo '| command | wall | CPU | records / CPU s | peak RSS | output | output per 1M records |'
echo '| --- | --- | --- | --- | --- | --- | --- |'
measure() {
  local label=$1 output=$2; shift 2
  local times; times=$(mktemp)
  /usr/bin/time -f '%e %U %S %M' -o "$times" bash -c "$*" > /dev/null 2>&1
  read -r wall user sys rss_kb < "$times"
  rm -f "$times"
  local cpu; cpu=$(echo "$user + $sys" | bc)
  local rate; rate=$(echo "$records / ($cpu + 0.001)" | bc)
  local bytes=0
  [ -n "$output" ] && bytes=$(du -sb "$output" | cut -f1)
  local per_million; per_million=$(echo "scale=1; $bytes * 1000000 / $records / 1048576" | bc)
  printf '| %s | %s s | %s s | %s | %s MB | %s MB | %s MB |\n' "$label" "$wall" "$cpu" "$rate" \
    "$((rss_kb / 1024))" "$(echo "scale=1; $bytes / 1048576" | bc)" "$per_million"
}
measure 'floor: zstd -dc > /dev/null' '' "zstd -dc '$trace'"
measure 'peer: DuckDB, raw records to Parquet (zstd)' "$work/raw.parquet" \
  "'$python' -c \"import duckdb; duckdb.sql(\\\"COPY (SELECT * FROM read_ndjson_objects('$trace', compression = 'zstd')) TO '$work/raw.parquet' (FORMAT parquet, COMPRESSION zstd)\\\")\""
measure 'kblame export (7 tables)' "$work/out" "'$kblame' export '$trace' -o '$work/out' --cluster bench"
for table in changes revisions pod_runs creations deletions events objects; do
  printf '  %-10s %s bytes\n' "$table" "$(du -sb "$work/out/$table" | cut -f1)"
done
cat "$work/out/_kblame/exported/"*.json | grep -A8 '"rows"'
