#!/usr/bin/env bash
# Peak memory and wall time of `certsift scan` on the adversarial captures of
# scripts/adversarial.py (issue 8), and a check that the well-formed
# connections mixed into them (from s02_transparent_mitm_mixed.pcap) are
# still extracted.
#
# Usage: scripts/memory_bound.sh [ADV_DIR] [--scale F]
#   ADV_DIR    where the captures are (generated there if missing);
#              default /tmp/certsift-adversarial
#   --scale F  passed to adversarial.py when generating (F < 1: quick run)
# Env: BOUND_MIB (default 1024): peak RSS bound per run.
#      THREADS (default: all cores), CARGO_TARGET_DIR as usual.
# Exit: 0 all within bound and evidence found; 1 otherwise.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
adv="/tmp/certsift-adversarial"
scale=()
while [ $# -gt 0 ]; do
  case "$1" in
    --scale) scale=(--scale "$2"); shift 2 ;;
    *) adv="$1"; shift ;;
  esac
done
bound_mib="${BOUND_MIB:-1024}"
target="${CARGO_TARGET_DIR:-$root/target}"

(cd "$root" && cargo build --release --quiet)
bin="$target/release/certsift"

names=(never_finish ooo_flood claims_16mb long_chain)
for n in "${names[@]}"; do
  if [ ! -f "$adv/$n.pcap" ]; then
    python3 "$root/scripts/adversarial.py" "$adv" "${scale[@]}"
    break
  fi
done

# Evidence of s02's well-formed connections that must survive: names and
# leaf certificates from its golden handshakes table.
golden="$root/testdata/golden/s02_transparent_mitm_mixed/handshakes.jsonl"
mapfile -t snis < <(grep -o '"sni":"[^"]*"' "$golden" | sort -u)
mapfile -t leaves < <(grep -o '"leaf_sha256":"[^"]*"' "$golden" | sort -u)

threads=()
[ -n "${THREADS:-}" ] && threads=(-j "$THREADS")

fail=0
printf '%-14s %10s %12s %10s %6s %s\n' capture size_MiB peak_RSS_MiB wall_s exit evidence
for n in "${names[@]}"; do
  in="$adv/$n.pcap"
  out="$(mktemp -d)"
  log="$(mktemp)"
  set +e
  /usr/bin/time -v "$bin" scan -q --format jsonl "${threads[@]}" -o "$out" "$in" >/dev/null 2>"$log"
  code=$?
  set -e
  rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss_mib=$((rss_kb / 1024))
  size_mib=$(($(stat -c %s "$in") / 1048576))
  missing=0
  for s in "${snis[@]}" "${leaves[@]}"; do
    grep -qF "$s" "$out/handshakes.jsonl" 2>/dev/null || missing=$((missing + 1))
  done
  total=$((${#snis[@]} + ${#leaves[@]}))
  evidence="$((total - missing))/$total"
  printf '%-14s %10s %12s %10s %6s %s\n' "$n" "$size_mib" "$rss_mib" "$secs" "$code" "$evidence"
  if [ "$rss_mib" -gt "$bound_mib" ]; then
    echo "  FAIL: peak RSS ${rss_mib} MiB > bound ${bound_mib} MiB" >&2
    fail=1
  fi
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
    echo "  FAIL: exit code $code" >&2
    grep -v '^\s' "$log" | head -5 >&2
    fail=1
  fi
  if [ "$missing" -ne 0 ]; then
    echo "  FAIL: $missing of $total well-formed SNIs/leaves missing" >&2
    fail=1
  fi
  rm -rf "$out" "$log"
done
echo "bound: ${bound_mib} MiB peak RSS per run"
exit "$fail"
