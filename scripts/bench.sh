#!/usr/bin/env bash
# Kopa's benchmark: throughput and peak memory of each operation on a synthetic ledger, next to
# the raw-SQLite ceiling measured in the same run, and the targets of DESIGN.md.
#
#   scripts/bench.sh [--events N] [--seed S] [--runs R] [--keep]     (default 1,000,000 events, 3 runs)
#
# Each operation runs R times; the table shows the median wall time and the largest peak memory
# (single runs on a shared 2-core machine varied by ±15 %). Needs a release build (`make release`,
# which `make bench` runs first), python3, cc and /usr/bin/time. Prints one table; the work folder
# is removed unless --keep.
set -euo pipefail
cd "$(dirname "$0")/.."

EVENTS=1000000
SEED=42
RUNS=3
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "usage: $0 [--events N] [--seed S] [--runs R] [--keep]" >&2; exit 64 ;;
  esac
done

KOPA="$(swift build -c release --show-bin-path)/kopa"
[ -x "$KOPA" ] || { echo "no release build at $KOPA: run make release" >&2; exit 66; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/kopa-bench.XXXXXX")"
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
export KOPA_ACTOR=bench

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')" >&2
echo "generating $EVENTS events (seed $SEED) …" >&2
# The last tenth is imported separately, later, so that --known-at has a moment to ask about.
FIRST=$((EVENTS * 9 / 10))
python3 scripts/gen_events.py --seed "$SEED" --count "$EVENTS" > "$WORK/all.ndjson"
head -n "$FIRST" "$WORK/all.ndjson" > "$WORK/part1.ndjson"
tail -n +"$((FIRST + 1))" "$WORK/all.ndjson" > "$WORK/part2.ndjson"
BYTES=$(wc -c < "$WORK/all.ndjson")
AVG=$((BYTES / EVENTS))

cc -O2 -o "$WORK/raw_ceiling" scripts/raw_sqlite_ceiling.c -lsqlite3
# The ceiling too is the median of RUNS runs (single runs ranged from 300k to 540k inserts/s).
for i in $(seq 1 "$RUNS"); do
  rm -f "$WORK/raw.sqlite"
  "$WORK/raw_ceiling" "$WORK/raw.sqlite" "$EVENTS" "$AVG" >> "$WORK/raw.txt"
done
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
RAW_INSERT=$(awk '/insert_rows_per_s/ {print $2}' "$WORK/raw.txt" | median)
RAW_SCAN=$(awk '/scan_rows_per_s/ {print $2}' "$WORK/raw.txt" | median)
# Two writers at once, each into its own file: what both cores insert together (2N rows over the
# slower writer's time), the most a rebuild split over two database files could hope to write.
for i in $(seq 1 "$RUNS"); do
  rm -f "$WORK"/raw1.sqlite* "$WORK"/raw2.sqlite*
  "$WORK/raw_ceiling" "$WORK/raw1.sqlite" "$EVENTS" "$AVG" > "$WORK/raw1.txt" 2> /dev/null &
  first=$!
  "$WORK/raw_ceiling" "$WORK/raw2.sqlite" "$EVENTS" "$AVG" > "$WORK/raw2.txt" 2> /dev/null
  # Both must have finished well: one writer's rate doubled is no two writers' ceiling.
  wait "$first" && [ "$(cat "$WORK/raw1.txt" "$WORK/raw2.txt" | grep -c insert_rows_per_s)" = 2 ] || {
    echo "the two-writer ceiling failed" >&2; exit 1; }
  cat "$WORK/raw1.txt" "$WORK/raw2.txt" | awk '/insert_rows_per_s/ {if (m == "" || $2 < m) m = $2} END {printf "%.0f\n", 2 * m}' >> "$WORK/raw_two.txt"
done
rm -f "$WORK"/raw1.sqlite* "$WORK"/raw2.sqlite*
RAW_INSERT_TWO=$(median < "$WORK/raw_two.txt")

ROWS=()
# run NAME EVENTS TARGET CEILING [--before 'shell code'] -- command …: RUNS runs (each after
# `before`, untimed); the median wall time and the largest peak RSS, from /usr/bin/time -v
run() {
  local name="$1" n="$2" target="$3" ceiling="$4" before=":"; shift 4
  if [ "$1" = "--before" ]; then before="$2"; shift 2; fi
  shift  # --
  local walls=() rss=0 wall peak i
  for i in $(seq 1 "$RUNS"); do
    eval "$before"
    sync  # the previous step's dirty pages are written back before this one is timed
    /usr/bin/time -v -o "$WORK/time.txt" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || {
      echo "failed: $name: $*" >&2; cat "$WORK/err.txt" >&2; exit 1; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.txt")
    peak=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
    walls+=("$wall")
    [ "$peak" -gt "$rss" ] && rss=$peak
  done
  wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  ROWS+=("$name|$n|$wall|$rss|$target|$ceiling")
}

run "import" "$FIRST" ">= 300000/s" "$RAW_INSERT" \
  --before 'rm -f "$WORK/k.sqlite" "$WORK/k.sqlite-wal" "$WORK/k.sqlite-shm"; "$KOPA" init --ledger "$WORK/k.sqlite" --name bench > /dev/null' \
  -- "$KOPA" import --ledger "$WORK/k.sqlite" "$WORK/part1.ndjson"
KNOWN_AT=$("$KOPA" log --ledger "$WORK/k.sqlite" --from "$FIRST" --limit 1 --format ndjson | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["recorded_at"])')
sleep 0.01
"$KOPA" import --ledger "$WORK/k.sqlite" "$WORK/part2.ndjson" > /dev/null
TOTAL=$("$KOPA" verify --ledger "$WORK/k.sqlite" | awk '{print $2}')
run "rebuild (all projections)" "$TOTAL" ">= 300000/s" "$RAW_INSERT" -- "$KOPA" rebuild --ledger "$WORK/k.sqlite"
run "verify" "$TOTAL" ">= 1500000/s" "$RAW_SCAN" -- "$KOPA" verify --ledger "$WORK/k.sqlite"
if "$KOPA" export --help > /dev/null 2>&1; then
  run "export" "$TOTAL" ">= 1000000/s" "$RAW_SCAN" -- "$KOPA" export --ledger "$WORK/k.sqlite" --out "$WORK/k.kopa"
  run "verify FILE" "$TOTAL" ">= 1500000/s" "$RAW_SCAN" -- "$KOPA" verify "$WORK/k.kopa"
  run "restore" "$TOTAL" ">= 300000/s" "$RAW_INSERT" --before 'rm -f "$WORK"/restored.sqlite*' \
    -- "$KOPA" restore "$WORK/k.kopa" --ledger "$WORK/restored.sqlite"
  # The restored ledger must hold the same records: its archive must be the same bytes.
  "$KOPA" export --ledger "$WORK/restored.sqlite" --out "$WORK/restored.kopa" 2> /dev/null
  if cmp -s "$WORK/k.kopa" "$WORK/restored.kopa"; then ROUND_TRIP="identical"; else ROUND_TRIP="DIFFERENT"; fi
  ARCHIVE_RATIO=$("$KOPA" log --ledger "$WORK/k.sqlite" --format ndjson | wc -c | awk -v a="$(wc -c < "$WORK/k.kopa")" '{printf "%.2f", $1/a}')
fi
AS_OF=$(sed -n "$((EVENTS / 2))p" "$WORK/all.ndjson" | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["occurred_at"][:10])')
run "report funding --as-of $AS_OF" "$TOTAL" "<= 2 s" "-" -- "$KOPA" report funding --ledger "$WORK/k.sqlite" --as-of "$AS_OF"
run "report funding --known-at (90%)" "$TOTAL" "<= 2 s" "-" -- "$KOPA" report funding --ledger "$WORK/k.sqlite" --known-at "$KNOWN_AT"
run "report funding (now, caught up)" "$TOTAL" "-" "-" -- "$KOPA" report funding --ledger "$WORK/k.sqlite"
# The largest bundled report: every activity in date order (about half the events at this date).
run "report timeline --as-of $AS_OF" "$TOTAL" "<= 2 s" "-" -- "$KOPA" report timeline --ledger "$WORK/k.sqlite" --as-of "$AS_OF" --format csv

# One event recorded by a whole process: the median of 21 runs.
for i in $(seq 1 21); do
  /usr/bin/time -f "%e %M" -a -o "$WORK/record.txt" "$KOPA" record --ledger "$WORK/k.sqlite" organisation-registered \
    --organisation "bench-org-$i" --name "Bench $i" --kind other --country LV > /dev/null
done
RECORD_MS=$(sort -n "$WORK/record.txt" | awk '{a[NR]=$1; m[NR]=$2} END {printf "%.1f", a[int((NR+1)/2)]*1000}')
RECORD_RSS=$(sort -n -k2 "$WORK/record.txt" | awk '{m[NR]=$2} END {printf "%.0f", m[NR]/1024}')

echo
echo "median wall time of $RUNS runs each; peak memory: the largest of the runs"
printf '%-34s %10s %9s %12s %9s %14s %12s %7s\n' "operation" "events" "wall s" "events/s" "peak MiB" "target" "ceiling/s" "ratio"
for row in "${ROWS[@]}"; do
  IFS='|' read -r name n wall rss target ceiling <<< "$row"
  rate=$(awk -v n="$n" -v w="$wall" 'BEGIN { if (w > 0) printf "%.0f", n / w; else print "-" }')
  ratio="-"
  [ "$ceiling" != "-" ] && ratio=$(awk -v r="$rate" -v c="$ceiling" 'BEGIN { printf "%.2f", r / c }')
  printf '%-34s %10s %9s %12s %9s %14s %12s %7s\n' "$name" "$n" "$wall" "$rate" "$rss" "$target" "$ceiling" "$ratio"
done
printf '%-34s %10s %9s %12s %9s %14s %12s %7s\n' "record one event (median of 21)" 1 "$(awk -v m="$RECORD_MS" 'BEGIN{printf "%.3f", m/1000}')" "-" "$RECORD_RSS" "<= 30 ms" "-" "-"
echo
echo "raw SQLite ceiling (C, one transaction, prepared statement, ${AVG}-byte rows): insert $RAW_INSERT rows/s, scan $RAW_SCAN rows/s"
echo "the same with two writers at once, each into its own file: insert $RAW_INSERT_TWO rows/s together"
[ -n "${ROUND_TRIP:-}" ] && echo "restore round trip: the restored ledger's archive is $ROUND_TRIP to the original's"
echo "input: $EVENTS events, $BYTES bytes (${AVG} bytes/event)${ARCHIVE_RATIO:+; archive compression ratio $ARCHIVE_RATIO}"
