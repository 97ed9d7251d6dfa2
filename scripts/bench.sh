#!/usr/bin/env bash
# End-to-end benchmark: certsift against the floor and tshark, in one run.
#
#   scripts/bench.sh CAPTURE [RUNS]
#
# CAPTURE: a classic pcap, e.g. the 2 GB capture that
# ../shared/bench/make-big-capture.sh builds (keep it out of the repository).
# Times (median of RUNS, default 3, the file in the page cache):
#   - the floor: a C loop that read()s the file and walks every record header
#     (scripts/recwalk.c, compiled here with gcc -O2);
#   - certsift scan with 1 and with 2 threads (release build), peak RSS;
#   - tshark -n extracting ClientHello SNIs and certificates (one pass), once.
# Prints a Markdown table and the counts each tool found.
set -euo pipefail
CAP=${1:?usage: bench.sh CAPTURE [RUNS]}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
BIN=$CARGO_TARGET_DIR/release/certsift
gcc -O2 -o "$WORK/recwalk" "$ROOT/scripts/recwalk.c"
cat "$CAP" > /dev/null   # into the page cache
SIZE=$(stat -c %s "$CAP")

# median wall seconds and max RSS (KB) of RUNS runs of a command
measure() {
  local name=$1; shift
  local walls=() rss=0
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f "%e %M" -o "$WORK/t" "$@" > "$WORK/out" 2> /dev/null
    read -r w m < "$WORK/t"
    walls+=("$w"); (( m > rss )) && rss=$m
  done
  local med
  med=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '| %s | %s | %.0f | %.0f |\n' "$name" "$med" "$(echo "$SIZE / $med / 1000000" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
  echo "$med" > "$WORK/$name.wall"
}

echo "capture: $CAP ($SIZE bytes), $(nproc) cores, $(date -u +%F)"
echo
echo "| tool | wall s | MB/s | peak RSS MiB |"
echo "| --- | ---: | ---: | ---: |"
measure walk "$WORK/recwalk" "$CAP"
measure certsift-j1 "$BIN" scan -q -j 1 -o "$WORK/out1" "$CAP"
measure certsift-j2 "$BIN" scan -q -j 2 -o "$WORK/out2" "$CAP"
if command -v tshark > /dev/null && [ "${SKIP_TSHARK:-0}" != 1 ]; then
  RUNS=1 measure tshark tshark -n -r "$CAP" -Y 'tls.handshake.type==1 || tls.handshake.type==11' \
    -T fields -e tls.handshake.extensions_server_name -e tls.handshake.certificate
fi
echo
walk=$(cat "$WORK/walk.wall"); j1=$(cat "$WORK/certsift-j1.wall"); j2=$(cat "$WORK/certsift-j2.wall")
printf 'certsift -j2 / walk: %.2fx   -j1 / -j2: %.2fx' "$(echo "$j2 / $walk" | bc -l)" "$(echo "$j1 / $j2" | bc -l)"
[ -f "$WORK/tshark.wall" ] && printf '   tshark / certsift -j2: %.1fx' "$(echo "$(cat "$WORK/tshark.wall") / $j2" | bc -l)"
echo
if command -v python3 > /dev/null && python3 -c 'import duckdb' 2> /dev/null; then
  python3 - "$WORK/out2" <<'PY'
import duckdb, sys
d = sys.argv[1]
print(duckdb.sql(f"""SELECT count(*) AS connections, count(ja3) AS client_hellos,
  count(*) FILTER (cert_visibility = 'plain') AS clear_certificates,
  count(*) FILTER (cert_visibility = 'resumed') AS resumed,
  count(*) FILTER (cert_visibility = 'absent') AS failed_or_absent
  FROM '{d}/handshakes.parquet'"""))
PY
fi
