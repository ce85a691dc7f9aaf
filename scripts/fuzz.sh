#!/usr/bin/env bash
# Long fuzzing campaigns of the reading side (issue 9, "hostile traces never break kblame"): the
# in-process harness of tests/it/fuzz on a release build, one worker per core, each on its own
# range of seeds. Prints the figures and saves every failing input (minimized) with what it did.
#
# Usage: scripts/fuzz.sh [-m MINUTES | -n MUTANTS] [-s SEED] [-j JOBS] [-o OUT] [-x]
#   -m MINUTES  wall time of the campaign (default 30)
#   -n MUTANTS  mutants per worker, instead of a time budget
#   -s SEED     first seed (default: the Unix time); worker i starts at SEED + i * 1000000000
#   -j JOBS     workers (default: the number of cores)
#   -o OUT      where failing inputs, crashes and logs go (default: target/fuzz/SEED)
#   -x          do not compare answers through the index with whole reads (about twice as fast)
#
# A failure is a panic, a hang (30 s without an answer), a bad exit code, an error without a
# message, an analyze answer through the index that differs from a whole read's, or a worker
# that dies (e.g. of memory: each worker runs under `ulimit -v`, 6 GiB). A worker that hangs or
# dies is started again after the seed that did it. First, the hostile shapes of
# tests/it/hostile_shapes.rs run at four times their cargo test sizes.
# Replay one seed: KBLAME_FUZZ_SEED=S KBLAME_FUZZ_MUTANTS=1 cargo test --release --test tests \
#   campaign_from_the_environment -- --ignored --nocapture
set -euo pipefail

minutes=30
mutants=""
seed=$(date +%s)
jobs=$(nproc)
out=""
compare=1
while getopts "m:n:s:j:o:xh" flag; do
  case $flag in
    m) minutes=$OPTARG ;;
    n) mutants=$OPTARG ;;
    s) seed=$OPTARG ;;
    j) jobs=$OPTARG ;;
    o) out=$OPTARG ;;
    x) compare="" ;;
    *) sed -n '2,23p' "$0"; exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
out=${out:-$target/fuzz/$seed}
mkdir -p "$out"
out=$(cd "$out" && pwd)

echo "building (release)..." >&2
cargo test --release --locked --test tests --no-run --quiet 2>&1 | grep -v '^ *Executable' >&2 || true
binary=$(cargo test --release --locked --test tests --no-run --message-format=json 2>/dev/null \
  | grep '"kind":\["test"\]' | grep -o '"executable":"[^"]*"' | tail -1 | cut -d'"' -f4)
[ -x "$binary" ] || { echo "fuzz.sh: cannot find the test binary" >&2; exit 2; }

echo "hostile shapes at 4x..." >&2
shapes=ok
KBLAME_SHAPE_SCALE=4 "$binary" hostile_shapes > "$out/shapes.log" 2>&1 || shapes="FAILED (see $out/shapes.log)"

[ -z "$compare" ] || export KBLAME_FUZZ_DIFF=1
deadline=$(( $(date +%s) + minutes * 60 ))
started=$(date +%s)

# One worker: runs the campaign test from its next seed until its budget is spent, restarting
# after a hang or a death.
worker() {
  local index=$1
  local next=$(( seed + index * 1000000000 )) left=${mutants:-0} log="$out/worker-$index.log"
  : > "$log"
  while :; do
    local now; now=$(date +%s)
    if [ -n "$mutants" ]; then
      [ "$left" -gt 0 ] || break
      export KBLAME_FUZZ_MUTANTS=$left; unset KBLAME_FUZZ_MINUTES
    else
      [ "$now" -lt "$deadline" ] || break
      export KBLAME_FUZZ_MINUTES=$(( (deadline - now + 59) / 60 )); unset KBLAME_FUZZ_MUTANTS
      export KBLAME_FUZZ_UNTIL=$deadline
    fi
    local current="$out/current-$index"
    set +e
    ( ulimit -v 6291456; KBLAME_FUZZ_SEED=$next KBLAME_FUZZ_OUT=$out KBLAME_FUZZ_CURRENT=$current \
      "$binary" --ignored --nocapture --exact it::fuzz::campaign_from_the_environment ) >> "$log" 2>&1
    local status=$?
    set -e
    local figures; figures=$(grep '^FIGURES' "$log" | tail -1 || true)
    local done_count; done_count=$(sed -n 's/.*mutants=\([0-9]*\).*/\1/p' <<< "$figures")
    local last_seed; last_seed=$(cat "$current.seed" 2>/dev/null || echo "$next")
    if [ "$status" -ne 0 ] && ! grep -q "^FIGURES seed=$next " "$log"; then
      # The worker died (a signal, the memory cap): keep the input it died on.
      echo "CRASH seed=$last_seed status=$status" >> "$log"
      cp "$current.bin" "$out/crash-seed-$last_seed.bin" 2>/dev/null || true
      done_count=$(( last_seed - next + 1 ))
    fi
    done_count=${done_count:-0}
    [ "$done_count" -gt 0 ] || done_count=1
    next=$(( next + done_count ))
    [ -z "$mutants" ] || left=$(( left - done_count ))
  done
}

for i in $(seq 0 $(( jobs - 1 ))); do
  worker "$i" &
done
wait

total_mutants=0; total_commands=0; total_failures=0; crashes=0; peak=0
for log in "$out"/worker-*.log; do
  while read -r line; do
    m=$(sed -n 's/.*mutants=\([0-9]*\).*/\1/p' <<< "$line")
    c=$(sed -n 's/.*commands=\([0-9]*\).*/\1/p' <<< "$line")
    f=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' <<< "$line")
    r=$(sed -n 's/.*peak_rss_kb=\([0-9]*\).*/\1/p' <<< "$line")
    total_mutants=$(( total_mutants + m )); total_commands=$(( total_commands + c ))
    total_failures=$(( total_failures + f )); [ "$r" -gt "$peak" ] && peak=$r
  done < <(grep '^FIGURES' "$log" || true)
  n=$(grep -c '^CRASH' "$log" || true)
  crashes=$(( crashes + ${n:-0} ))
done
elapsed=$(( $(date +%s) - started ))
mode=off; [ -z "$compare" ] || mode=on
echo "fuzz: $jobs workers, ${elapsed} s, first seed $seed, index-against-whole comparison $mode"
echo "  hostile shapes at 4x: $shapes"
echo "  mutants:  $total_mutants"
echo "  commands: $total_commands"
echo "  failures: $total_failures (panics, hangs, bad exits), worker deaths: $crashes"
echo "  peak RSS of a worker: $(( peak / 1024 )) MiB"
echo "  inputs and logs: $out"
grep -h '^FAILURE\|^CRASH' "$out"/worker-*.log || true
[ $(( total_failures + crashes )) -eq 0 ] && [ "$shapes" = ok ]
