#!/bin/sh
# The README's screenshots: the top of the bundled demo's report and evidence card, drawn by headless Chromium.
# Rerun after changing how the report or the card looks:  sh docs/images/make_screenshots.sh
# Needs chromium on PATH and the project's environment (make demo creates .venv).
set -eu
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-.venv/bin/python}"
OUT="$(mktemp -d)"
PROFILE="$(mktemp -d)"
trap 'rm -rf "$OUT" "$PROFILE"' EXIT
PYTHONPATH=src "$PYTHON" -m metapool.cli.main demo -o "$OUT/demo" --force >/dev/null
shot() {  # shot PAGE PNG WIDTH HEIGHT: the top WIDTH x HEIGHT pixels of the page
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$PROFILE" \
        --window-size="$3,$4" --screenshot="$2" "file://$1" 2>/dev/null
}
shot "$OUT/demo/report.html" docs/images/report.png 1100 900
shot "$OUT/demo/card.html" docs/images/card.png 1100 900
echo "wrote docs/images/report.png and docs/images/card.png"
