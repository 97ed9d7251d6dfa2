#!/usr/bin/env bash
# Runs every cargo-fuzz target for SECS seconds (default 360) on the committed
# seeds plus a scratch corpus, and prints how coverage grew: the "cov" of
# libFuzzer at a quarter, half and the end of the run, and the edges a replay
# of the corpus covers at those points. libFuzzer's count only rises and
# includes edges that differ between executions of one input (HashMap probe
# sequences, thread timing); the replayed count does not accumulate them.
# Replayed coverage that no longer grows over the second half is the plateau
# the issue asks for; `python3 fuzz/cov_where.py BIN W/T.leg1.cf W/T.leg2.cf`
# names the source files of what the second half added.
#
#   scripts/fuzz.sh [SECS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and zstd; RUSTC_BOOTSTRAP=1 lets the
# stable toolchain take its nightly flags. Work files go to FUZZ_WORK
# (default: a folder under the system's temporary directory); crashes are
# left in FUZZ_WORK/artifacts/TARGET/ for a regression test.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seeds=$PWD/corpus
secs=${1:-360}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(capture decode reassembly tls quic x509 hostname scan)
fi
work=${FUZZ_WORK:-${TMPDIR:-/tmp}/certsift-fuzz}
mkdir -p "$work"
# The scan target writes its input and its outputs (with fsync, as every run
# does) to a fresh temporary folder per execution; on a tmpfs that costs
# nothing, and it runs 3.6x more executions a second (678/s against 188/s
# on the 2-core test machine). Set TMPDIR to use another place.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm/certsift-fuzz-tmp
  mkdir -p "$TMPDIR"
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$work/target}
cargo fuzz build -s none --release >"$work.build.log" 2>&1 || {
  tail -20 "$work.build.log"
  exit 1
}
bin=$CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release
printf '%-11s %8s %8s %8s  %-20s %10s %8s\n' target "cov@1/4" "cov@1/2" "cov@end" "replayed 1/4,1/2,end" execs crashes
# Each target runs in three legs (a quarter, a quarter, a half of SECS), each
# resuming from the corpus the last one grew; libFuzzer's final "cov" of a
# leg is the coverage reached by then.
cov_of() { grep -Eo 'cov: [0-9]+' "$1" | tail -1 | grep -Eo '[0-9]+' || echo "-"; }
# Edges covered by the corpus as it stands, from a -merge=1 replay whose
# control file (W/T.legN.cf) lists each input's edges.
replayed() {
  local out cf=$work/$1.leg$2.cf
  out=$(mktemp -d)
  rm -f "$cf"
  (cd "$work/artifacts/$1" && "$bin/$1" -merge=1 -merge_control_file="$cf" \
    "$out" "$work/corpus/$1" "$seeds/$1" >"$work/$1.replay$2.log" 2>&1) || true
  rm -rf "$out"
  grep -Eo '[0-9]+ new coverage edges' "$work/$1.replay$2.log" | grep -Eo '^[0-9]+' || echo "-"
}
for t in "${targets[@]}"; do
  mkdir -p "$work/corpus/$t" "$work/artifacts/$t"
  # A fresh work folder resumes from the last session's grown corpus
  # (fuzz/resume/TARGET.tar.zst, distilled with -merge=1), not from the
  # seeds alone: the whole-scan target takes hours to grow back.
  resume=$seeds/../resume/$t.tar.zst
  if [ -f "$resume" ] && [ -z "$(ls -A "$work/corpus/$t")" ]; then
    zstd -dc "$resume" | tar -x -C "$work/corpus/$t" --strip-components=1
  fi
  covs=()
  replays=()
  execs=0
  # A target with a dictionary (fuzz/TARGET.dict: tokens its parsers branch
  # on) gets it; libFuzzer splices those tokens into inputs.
  dict=()
  if [ -f "$seeds/../$t.dict" ]; then
    dict=(-dict="$seeds/../$t.dict")
  fi
  for leg in $((secs / 4)) $((secs / 4)) $((secs - secs / 2)); do
    log=$work/$t.leg${#covs[@]}.log
    (cd "$work/artifacts/$t" && "$bin/$t" "$work/corpus/$t" "$seeds/$t" "${dict[@]}" \
      -max_total_time="$leg" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 >"$log" 2>&1) || true
    covs+=("$(cov_of "$log")")
    replays+=("$(replayed "$t" $((${#covs[@]} - 1)))")
    n=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo 0)
    execs=$((execs + n))
  done
  crashes=$(find "$work/artifacts/$t" -type f | wc -l)
  printf '%-11s %8s %8s %8s  %-20s %10s %8s\n' "$t" "${covs[0]}" "${covs[1]}" "${covs[2]}" \
    "${replays[0]},${replays[1]},${replays[2]}" "$execs" "$crashes"
done
