#!/usr/bin/env bash
# Benchmark of Service create and list through the HTTPS API, side by side with the bare store.
# Usage: bash bench/api.sh [--n 1000,10000] [--concurrency 32] [--lists 5]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin twinstack --example bench_api -p twinstack
TWINSTACK_BIN=target/release/twinstack target/release/examples/bench_api "$@"
