#!/usr/bin/env bash
# Pods reaching Running per second, time until every EndpointSlice is exact, peak RSS.
# Usage: bash bench/pods.sh [--deployments 100 --replicas 100 --services 1000 --nodes 100]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin twinstack --example bench_pods -p twinstack
TWINSTACK_BIN=target/release/twinstack target/release/examples/bench_pods "$@"
