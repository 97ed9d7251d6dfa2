#!/usr/bin/env bash
# End-to-end benchmark: certsift against the floor and tshark, interleaved.
#
#   scripts/bench.sh CAPTURE [RUNS]
#
# CAPTURE: a classic pcap, e.g. the 2 GB bulk capture that
# ../shared/bench/make-big-capture.sh builds, or a handshake-dense one from
# `scripts/synth_capture.py OUT --size 300M --seed 1 --mix handshake`
# (keep them out of the repository).
#
# This machine's speed drifts from hour to hour, so nothing is compared
# across runs of this script: every run of every command below happens in
# one loop, in turn (walk, -j 1, -j 2, then the base build's -j 1 and -j 2
# when BASE is set, then again), and the medians of RUNS (default 7) are
# compared with each other. The file is in the page cache throughout.
#   - the floor: a C loop that read()s the file and walks every record header
#     (scripts/recwalk.c, compiled here with gcc -O2);
#   - certsift scan with 1 and with 2 threads (release build), peak RSS;
#   - BASE=/path/to/certsift: another build, the same scans (A B A B);
#   - tshark -n extracting ClientHello SNIs and certificates, once, after the
#     loop (SKIP_TSHARK=1 leaves it out: about 60x slower than certsift).
# Env: CERTSIFT (binary to time; default: cargo build --release).
# Prints a Markdown table of medians, the ratios the performance issue asks
# for, and TLS connections per second per core at -j 1.
set -euo pipefail
CAP=${1:?usage: bench.sh CAPTURE [RUNS]}
RUNS=${2:-7}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -z "${CERTSIFT:-}" ]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
  cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
  CERTSIFT=$CARGO_TARGET_DIR/release/certsift
fi
gcc -O2 -o "$WORK/recwalk" "$ROOT/scripts/recwalk.c"
cat "$CAP" > /dev/null   # into the page cache
SIZE=$(stat -c %s "$CAP")

# One timed run of a command: appends its wall seconds and peak RSS (KB) to
# WORK/NAME.runs.
run() {
  local name=$1; shift
  rm -rf "$WORK/scan"
  /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" > "$WORK/out" 2> /dev/null
  cat "$WORK/t" >> "$WORK/$name.runs"
}

names=(walk certsift-j1 certsift-j2)
[ -n "${BASE:-}" ] && names+=(base-j1 base-j2)
for _ in $(seq "$RUNS"); do
  run walk "$WORK/recwalk" "$CAP"
  run certsift-j1 "$CERTSIFT" scan -q -j 1 -o "$WORK/scan" "$CAP"
  run certsift-j2 "$CERTSIFT" scan -q -j 2 -o "$WORK/scan" "$CAP"
  if [ -n "${BASE:-}" ]; then
    run base-j1 "$BASE" scan -q -j 1 -o "$WORK/scan" "$CAP"
    run base-j2 "$BASE" scan -q -j 2 -o "$WORK/scan" "$CAP"
  fi
done
if command -v tshark > /dev/null && [ "${SKIP_TSHARK:-0}" != 1 ]; then
  names+=(tshark)
  run tshark tshark -n -r "$CAP" -Y 'tls.handshake.type==1 || tls.handshake.type==11' \
    -T fields -e tls.handshake.extensions_server_name -e tls.handshake.certificate
fi
# The connections certsift found, for the per-handshake rate.
"$CERTSIFT" scan -q -j 2 -o "$WORK/scan" "$CAP" > /dev/null 2>&1 || true
TLS=$("$CERTSIFT" summary --summary json "$WORK/scan" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin).get("tls_connections") or 0)')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) print a / b; else print "nan" }'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "capture: $CAP ($SIZE bytes, $TLS TLS connections), $(nproc) cores, $(date -u '+%F %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runs: $RUNS, interleaved; certsift: $CERTSIFT${BASE:+; base: $BASE}"
echo
echo "| command | median wall s | all runs s | MB/s | peak RSS MiB |"
echo "| --- | ---: | --- | ---: | ---: |"
declare -A med
for n in "${names[@]}"; do
  m=$(cut -d' ' -f1 "$WORK/$n.runs" | median)
  med[$n]=$m
  all=$(cut -d' ' -f1 "$WORK/$n.runs" | tr '\n' ' ')
  rss=$(cut -d' ' -f2 "$WORK/$n.runs" | sort -n | tail -1)
  printf '| %s | %s | %s| %.0f | %.0f |\n' "$n" "$m" "$all" \
    "$(ratio "$SIZE" "$m" | awk '{print $1 / 1000000}')" "$(ratio "$rss" 1024)"
done
echo
printf -- '- certsift -j 2 / walk: %.2fx; -j 1 / walk: %.2fx; -j 1 / -j 2: %.2fx\n' \
  "$(ratio "${med[certsift-j2]}" "${med[walk]}")" "$(ratio "${med[certsift-j1]}" "${med[walk]}")" \
  "$(ratio "${med[certsift-j1]}" "${med[certsift-j2]}")"
printf -- '- TLS connections per second per core at -j 1: %.0f\n' "$(ratio "$TLS" "${med[certsift-j1]}")"
if [ -n "${BASE:-}" ]; then
  printf -- '- this build / base: -j 1 %.3f, -j 2 %.3f\n' \
    "$(ratio "${med[certsift-j1]}" "${med[base-j1]}")" "$(ratio "${med[certsift-j2]}" "${med[base-j2]}")"
fi
if [ -n "${med[tshark]:-}" ]; then
  printf -- '- tshark / certsift -j 2: %.1fx\n' "$(ratio "${med[tshark]}" "${med[certsift-j2]}")"
fi
