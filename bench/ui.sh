#!/usr/bin/env bash
# The web view's performance (issue 16): page ready in headless Chromium at 1,000 Services over
# 10,000 pods, and the server's CPU and memory for one change workload with no watcher, with 10
# `kubectl get pods -w`, and with 10 open topology streams, side by side in one run. It is the
# ignored test `page_ready_and_stream_cost_at_1000_services_and_10000_pods` of
# crates/twinstack/tests/ui.rs (minutes: not in CI), built in release mode here.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo nextest run --release -p twinstack --test ui --run-ignored only --no-capture \
  page_ready_and_stream_cost_at_1000_services_and_10000_pods
