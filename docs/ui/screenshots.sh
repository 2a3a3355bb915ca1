#!/usr/bin/env bash
# Regenerates the web view's screenshots (docs/ui/*.png, shown in the README) from the browser
# tests, which save what they reach when TWINSTACK_UI_SCREENSHOTS names a directory.
# Needs what the tests need: chromium, chromium-driver, kubectl (see README, "Running the tests").
set -euo pipefail
cd "$(dirname "$0")/../.."
TWINSTACK_UI_SCREENSHOTS="$PWD/docs/ui" cargo nextest run -p twinstack --test ui
ls -l docs/ui/*.png
