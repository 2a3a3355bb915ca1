#!/usr/bin/env bash
# Queries per second of twinstack's DNS server against unbound serving the same names.
#
# Usage: bash bench/dns.sh [--names 1000] [--seconds 10] [--inflight 100] [--threads 1]
#
# Both servers get the same N NLB-like names (A + AAAA each, written by the dns_serve example)
# and the same dnsperf query file (A and AAAA of every name, in order), one after the other.
# Servers run pinned to CPU 0, dnsperf to CPU 1 (2-core machines), unless --no-pin.
# Not run in CI. Installs dnsperf, unbound and dig from Debian if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/unbound.sh

NAMES=1000 SECONDS_=10 INFLIGHT=100 THREADS=1 PIN=1
while [ $# -gt 0 ]; do
  case "$1" in
    --names) NAMES=$2; shift 2 ;;
    --seconds) SECONDS_=$2; shift 2 ;;
    --inflight) INFLIGHT=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --no-pin) PIN=0; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

install_dns_tools

TARGET=${CARGO_TARGET_DIR:-target}
cargo build --release -q -p twinstack-dataplane --example dns_serve
SERVE="$TARGET/release/examples/dns_serve"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PIN_SERVER=() PIN_CLIENT=()
if [ "$PIN" = 1 ]; then PIN_SERVER=(taskset -c 0) PIN_CLIENT=(taskset -c 1); fi

wait_answer() { # port name
  for _ in $(seq 1 100); do
    if dig +short +time=1 +tries=1 @127.0.0.1 -p "$1" "$2" A 2>/dev/null | grep -q .; then return 0; fi
    sleep 0.1
  done
  echo "server on port $1 never answered" >&2; return 1
}

# dnsperf: print "qps avg_latency_ms lost" for one run.
perf() { # port
  "${PIN_CLIENT[@]}" dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries.txt" -l "$SECONDS_" -c 1 -T 1 -q "$INFLIGHT" \
    >"$WORK/perf-$1.txt" 2>&1
  awk '/Queries per second:/ {q=$4} /Average Latency/ {l=$4*1000} /Queries lost:/ {lost=$3} END {printf "%.0f %.3f %s\n", q, l, lost}' "$WORK/perf-$1.txt"
}

rss_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }

# 1. twinstack
TS_PORT=$(free_port)
"${PIN_SERVER[@]}" "$SERVE" --listen "127.0.0.1:$TS_PORT" --names "$NAMES" --threads "$THREADS" \
  --unbound-out "$WORK/names.conf" --queries-out "$WORK/queries.txt" >"$WORK/ts.log" 2>&1 &
TS_PID=$!; PIDS+=("$TS_PID")
FIRST=$(for _ in $(seq 1 100); do [ -s "$WORK/queries.txt" ] && break; sleep 0.1; done; head -1 "$WORK/queries.txt" | cut -d' ' -f1)
wait_answer "$TS_PORT" "$FIRST"
echo "twinstack dns_serve on :$TS_PORT ($NAMES names, $THREADS worker thread(s)); sample:"
dig +noall +answer @127.0.0.1 -p "$TS_PORT" "$FIRST" AAAA | sed 's/^/  /'
read -r TS_QPS TS_LAT TS_LOST < <(perf "$TS_PORT")
TS_RSS=$(rss_kib "$TS_PID")
kill -TERM "$TS_PID"; wait "$TS_PID" 2>/dev/null || true
sed 's/^/  dns_serve: /' "$WORK/ts.log"

# 2. unbound, same names, one thread
UB_PORT=$(free_port)
unbound_conf "$WORK" "$UB_PORT" "$WORK/names.conf"
"${PIN_SERVER[@]}" unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.log" 2>&1 &
UB_PID=$!; PIDS+=("$UB_PID")
wait_answer "$UB_PORT" "$FIRST"
echo "unbound $(unbound -V | head -1 | awk '{print $2}') on :$UB_PORT (num-threads 1, local-data); sample:"
dig +noall +answer @127.0.0.1 -p "$UB_PORT" "$FIRST" AAAA | sed 's/^/  /'
read -r UB_QPS UB_LAT UB_LOST < <(perf "$UB_PORT")
UB_RSS=$(rss_kib "$UB_PID")

echo
echo "dnsperf: $SECONDS_ s, $INFLIGHT queries in flight, $((NAMES * 2)) distinct queries (A + AAAA); $(nproc) cores"
printf '%-22s %12s %12s %12s %8s\n' "server" "queries/s" "avg ms" "peak RSS" "lost"
printf '%-22s %12s %12s %12s %8s\n' "twinstack (hickory)" "$TS_QPS" "$TS_LAT" "${TS_RSS} KiB" "$TS_LOST"
printf '%-22s %12s %12s %12s %8s\n' "unbound local-data" "$UB_QPS" "$UB_LAT" "${UB_RSS} KiB" "$UB_LOST"
awk -v a="$TS_QPS" -v b="$UB_QPS" 'BEGIN { printf "twinstack/unbound: %.2fx queries/s\n", a / b }'
