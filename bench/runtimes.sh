#!/usr/bin/env bash
# Time from runtime create to the first successful kubectl call on it, and memory per idle runtime.
# Usage: bash bench/runtimes.sh [--n 20]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin twinstack --example bench_runtimes -p twinstack
TWINSTACK_BIN=target/release/twinstack target/release/examples/bench_runtimes "$@"
