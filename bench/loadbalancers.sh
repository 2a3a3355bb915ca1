#!/usr/bin/env bash
# LoadBalancer Services applied at once on one dual-stack AWS runtime: time until every one has
# its NLB hostname in status, events per second, the server's CPU per Service for the whole
# create-to-status path, and the CPU of the controllers' passes once everything converged (it
# must not grow with N: unchanged Services cost a fingerprint each). Then DNS queries per second
# for the NLB hostnames against twinstack's server (dnsperf from Debian, when installed; the
# side-by-side with a plain resolver is bench/dns.sh).
# Usage: bash bench/loadbalancers.sh [N ...]   (default: 100 1000 2500)
# Each Service takes a NodePort (instance targets), and the range 30000-32767 holds 2,768: beyond
# that the API answers "failed to allocate a nodePort: range is full", as kube-apiserver does.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin twinstack 2>/dev/null
bin=$PWD/target/release/twinstack
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100 1000 2500)
tick=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

printf '%-6s %12s %10s %14s %16s %14s\n' N "all-status-s" "events/s" "cpu-ms/svc" "idle-cpu-ms/10s" "dns-qps"
for n in "${sizes[@]}"; do
  dir=$(mktemp -d)
  port=$(free_port)
  dnsport=$(free_port)
  "$bin" up --data-dir "$dir" --listen "127.0.0.1:$port" --dns-listen "127.0.0.1:$dnsport" \
    --operation-time 0 >"$dir/up.log" 2>"$dir/err.log" &
  pid=$!
  for _ in $(seq 1 100); do grep -q '^export KUBECONFIG' "$dir/up.log" 2>/dev/null && break; sleep 0.1; done
  export KUBECONFIG=$dir/kubeconfig
  python3 - "$n" >"$dir/svcs.yaml" <<'EOF'
import sys
n = int(sys.argv[1])
print("apiVersion: v1\nkind: List\nitems:")
for i in range(n):
    print(f"""- apiVersion: v1
  kind: Service
  metadata:
    name: web-{i}
  spec:
    type: LoadBalancer
    ipFamilyPolicy: PreferDualStack
    selector: {{app: web-{i}}}
    ports: [{{port: 80, targetPort: 8080}}]""")
EOF
  c0=$(cpu_ticks "$pid")
  t0=$(date +%s.%N)
  kubectl create -f "$dir/svcs.yaml" >/dev/null
  while :; do
    have=$(kubectl get svc -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].hostname}{"\n"}{end}' | grep -c elb || true)
    [ "$have" -ge "$n" ] && break
    sleep 0.2
  done
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$pid")
  events=$(kubectl get events --no-headers 2>/dev/null | wc -l)
  # Converged: the controllers' passes over N unchanged Services (resyncs, node heartbeats).
  sleep 10
  c2=$(cpu_ticks "$pid")
  qps=n/a
  if command -v dnsperf >/dev/null 2>&1; then
    kubectl get svc -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].hostname}{"\n"}{end}' \
      | awk 'NF {print $1" A"; print $1" AAAA"}' >"$dir/queries"
    qps=$(dnsperf -s 127.0.0.1 -p "$dnsport" -d "$dir/queries" -l 5 -c 4 -q 100 2>/dev/null \
      | awk '/Queries per second/ {print int($4)}')
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$n" "$t0" "$t1" "$c0" "$c1" "$c2" "$events" "$tick" "$qps" <<'EOF'
import sys
n, t0, t1, c0, c1, c2, ev, tick, qps = sys.argv[1:]
n = int(n); secs = float(t1) - float(t0); tick = int(tick)
cpu_ms = (int(c1) - int(c0)) * 1000 / tick
idle_ms = (int(c2) - int(c1)) * 1000 / tick
print(f"{n:<6} {secs:12.2f} {int(ev)/secs:10.0f} {cpu_ms/n:14.2f} {idle_ms:16.0f} {qps:>14}")
EOF
  rm -rf "$dir"
done
