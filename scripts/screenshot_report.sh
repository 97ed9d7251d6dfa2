#!/usr/bin/env bash
# Renders a certsift HTML report in headless Chromium and saves a PNG, so a
# reviewer can see the page without a browser (needs: apt-get install -y chromium).
#
#   scripts/screenshot_report.sh REPORT.html OUT.png [WIDTHxHEIGHT]
#
# The report is opened from the file system with networking disabled: a page
# that needed the network would show it. Default window 1400x2400.
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 REPORT.html OUT.png [WIDTHxHEIGHT]" >&2
    exit 2
fi
report=$(realpath "$1")
out=$(realpath -m "$2")
size=${3:-1400x2400}
size=${size/x/,}

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
    echo "$0: no chromium found (apt-get install -y chromium)" >&2
    exit 2
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-first-run --hide-scrollbars --user-data-dir="$profile" \
    --window-size="$size" --screenshot="$out" "file://$report" \
    >/dev/null 2>&1
test -s "$out"
echo "$out"
