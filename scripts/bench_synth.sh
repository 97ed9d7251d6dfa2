#!/usr/bin/env bash
# Scan speed and peak memory of certsift on synthetic captures of growing size
# (issue 7), built by scripts/synth_capture.py from testdata's real handshakes.
#
# Usage: scripts/bench_synth.sh [OUT_DIR] [SIZE ...]
#   OUT_DIR  where the captures and scan folders go (default: a new folder
#            made by mktemp -d, i.e. under $TMPDIR); needs ~1.1x the largest
#            SIZE free. Each capture is deleted after its runs unless KEEP=1.
#   SIZE     bulk-mix capture sizes (default: 2G 8G)
# Env:
#   SEED (1), CONCURRENCY (64), BULK_BYTES (1M mean per connection),
#   HANDSHAKE_ONLY (0.3)   mix of the bulk captures
#   SAME_CONNECTIONS (1)   also build each SIZE after the first with the bulk
#                          mean scaled by SIZE/first SIZE ("-sameconn"): about
#                          as many connections as the first, so bytes alone
#                          vary (certsift keeps per-connection rows until it
#                          writes the tables; with the same mix, connections
#                          grow with size and so does memory); 0 skips them
#   DENSE_SIZE (300M)      handshake-dense capture (no bulk); 0 skips it
#   THREADS (2)            -j for the bulk-capture scans
#   SKIP_TSHARK=1          no tshark runs on the dense capture
#   CERTSIFT               binary to time (default: cargo build --release)
#   KEEP=1                 keep captures and scan folders
# Prints a Markdown table of the scans (counts found against the manifest's)
# and one of the generator's own speed and memory.
# The captures are in the page cache when scanned (just written), so wall
# time is CPU time, not disk time.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-}"
[ $# -gt 0 ] && shift
if [ -z "$out" ]; then
  out="$(mktemp -d -t certsift-synth.XXXXXX)"
fi
mkdir -p "$out"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(2G 8G)
seed="${SEED:-1}"
conc="${CONCURRENCY:-64}"
bulk="${BULK_BYTES:-1M}"
hso="${HANDSHAKE_ONLY:-0.3}"
dense="${DENSE_SIZE:-300M}"
threads="${THREADS:-2}"
if [ -z "${CERTSIFT:-}" ]; then
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  CERTSIFT="$CARGO_TARGET_DIR/release/certsift"
fi
for tool in python3 /usr/bin/time; do
  command -v "$tool" > /dev/null || { echo "bench_synth.sh: needs $tool" >&2; exit 2; }
done

rows=()
log="$out/bench.log"
: > "$log"

# run NAME CMD...: runs CMD under /usr/bin/time -v; sets WALL (s) and RSS (MiB)
run() {
  local name=$1; shift
  /usr/bin/time -v -o "$out/$name.time" "$@" > "$out/$name.stdout" 2>> "$log"
  WALL=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$out/$name.time")
  RSS=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$out/$name.time")
}

# field FILE KEY: a top-level number of a JSON object
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

gens=()
gen() {  # gen NAME SIZE EXTRA-ARGS...: writes $out/NAME.pcap, times the generator
  local name=$1 size=$2; shift 2
  run "$name.gen" python3 "$root/scripts/synth_capture.py" "$out/$name.pcap" --size "$size" --seed "$seed" \
    --concurrency "$conc" "$@"
  sync "$out/$name.pcap"  # no writeback of the fresh capture during the timed scan
  local bytes
  bytes=$(field "$out/$name.pcap.manifest.json" bytes)
  gens+=("$(printf '| %s | %.2f | %.1f | %.0f | %s |' "$name" "$(echo "$bytes / 1000000000" | bc -l)" \
    "$WALL" "$(echo "$bytes / $WALL / 1000000" | bc -l)" "$RSS")")
}

scan() {  # scan NAME THREADS: times certsift on $out/NAME.pcap; sets FOUND, CERTS
  local name=$1 j=$2
  rm -rf "$out/$name.scan-j$j"
  run "$name.certsift-j$j" "$CERTSIFT" scan -q -j "$j" --summary json -o "$out/$name.scan-j$j" "$out/$name.pcap"
  FOUND=$(field "$out/$name.certsift-j$j.stdout" tls_connections)
  CERTS=$(field "$out/$name.certsift-j$j.stdout" certificates)
}

# row CAPTURE TOOL FOUND WANT CERTS WANT_CERTS: one table line from WALL and RSS;
# handshakes/s is the capture's ClientHello connections (manifest) per wall second
row() {
  local name=$1 tool=$2 found=$3 want=$4 certs=$5 wcerts=$6
  local m="$out/$name.pcap.manifest.json"
  local bytes conns hs
  bytes=$(field "$m" bytes); conns=$(field "$m" connections); hs=$(field "$m" connections_with_client_hello)
  rows+=("$(printf '| %s | %.2f | %s | %s | %s / %s | %s / %s | %.2f | %s | %.0f | %.0f |' \
    "$name" "$(echo "$bytes / 1000000000" | bc -l)" "$conns" "$tool" "$found" "$want" "$certs" "$wcerts" \
    "$WALL" "$RSS" "$(echo "$bytes / $WALL / 1000000" | bc -l)" "$(echo "$hs / $WALL" | bc -l)")")
}

# want NAME KEY: a manifest number
want() { field "$out/$1.pcap.manifest.json" "$2"; }

# bytes of a size argument, as synth_capture.py reads it
size_bytes() { python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from synth_capture import parse_size; print(parse_size(sys.argv[2]))' "$root/scripts" "$1"; }

bulk_scan() {  # bulk_scan NAME SIZE BULK_MEAN
  local name=$1 size=$2 mean=$3
  gen "$name" "$size" --bulk-bytes "$mean" --handshake-only "$hso"
  scan "$name" "$threads"
  row "$name" "certsift -j$threads" "$FOUND" "$(want "$name" connections_with_client_hello)" \
    "$CERTS" "$(want "$name" distinct_certificates)"
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$out/$name.pcap" "$out/$name.scan-j$threads"; fi
}

first=$(size_bytes "${sizes[0]}")
for size in "${sizes[@]}"; do
  bulk_scan "bulk-$size" "$size" "$bulk"
done
if [ "${SAME_CONNECTIONS:-1}" != 0 ]; then
  for size in "${sizes[@]:1}"; do
    mean=$(python3 -c 'import sys; print(int(int(sys.argv[1]) * int(sys.argv[2]) / int(sys.argv[3])))' \
      "$(size_bytes "$bulk")" "$(size_bytes "$size")" "$first")
    bulk_scan "bulk-$size-sameconn" "$size" "$mean"
  done
fi

if [ "$dense" != 0 ]; then
  name="dense-$dense"
  gen "$name" "$dense" --mix handshake
  for j in 1 2; do
    scan "$name" "$j"
    row "$name" "certsift -j$j" "$FOUND" "$(want "$name" connections_with_client_hello)" \
      "$CERTS" "$(want "$name" distinct_certificates)"
  done
  if command -v tshark > /dev/null && [ "${SKIP_TSHARK:-0}" != 1 ]; then
    run "$name.tshark-sni" tshark -n -r "$out/$name.pcap" -Y 'tls.handshake.type==1' \
      -T fields -e tls.handshake.extensions_server_name
    row "$name" "tshark SNI" "$(wc -l < "$out/$name.tshark-sni.stdout")" \
      "$(want "$name" client_hellos)" - -
    run "$name.tshark-cert" tshark -n -r "$out/$name.pcap" -Y 'tls.handshake.type==11' \
      -T fields -e x509ce.dNSName -e x509sat.uTF8String -e x509sat.printableString
    # found / manifest here: Certificate messages / connections with certificates in clear
    row "$name" "tshark certs" "$(wc -l < "$out/$name.tshark-cert.stdout")" \
      "$(want "$name" connections_with_certificates_in_clear)" - -
  fi
  if [ "${KEEP:-0}" != 1 ]; then rm -rf "$out/$name.pcap" "$out/$name".scan-j*; fi
fi

echo "$(nproc) cores, $(date -u +%FT%TZ), seed $seed, concurrency $conc, bulk mean $bulk, handshake-only $hso, $("$CERTSIFT" --version)"
echo
echo "| capture | GB | connections | tool | found / manifest | distinct certs / manifest | wall s | peak RSS MiB | MB/s | handshakes/s |"
echo "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
echo
echo "found / manifest: ClientHello connections (certsift tls_connections; tshark SNI lines),"
echo "for 'tshark certs' Certificate messages / connections with certificates in clear."
echo
echo "| generated | GB | wall s | MB/s | peak RSS MiB |"
echo "| --- | ---: | ---: | ---: | ---: |"
printf '%s\n' "${gens[@]}"
echo
echo "(manifests, /usr/bin/time -v outputs and stderr are in $out)"
