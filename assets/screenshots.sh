#!/usr/bin/env bash
# Retakes the README's screenshots from the browser walk (tests/test_browser_walk.py), from the
# repository root with the venv active:
#   bash assets/screenshots.sh
# The walk saves every stop at 1400 x 1000 under a scratch folder; this copies the images the README
# and docs/ show (screenshot.png, screenshots/*.png) into assets/ and leaves the rest where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
shots=$(mktemp -d "${TMPDIR:-/tmp}/energylab-shots.XXXXXX")
ENERGYLAB_SCREENSHOTS="$shots" python -m pytest -q tests/test_browser_walk.py
cp "$shots/screenshot.png" assets/screenshot.png
cp "$shots"/screenshots/*.png assets/screenshots/
echo "README screenshots retaken; every stop of the walk: $shots/walk"
