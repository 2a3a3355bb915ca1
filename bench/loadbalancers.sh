#!/usr/bin/env bash
# LoadBalancer Services applied at once on one dual-stack AWS runtime: time until every one has
# its NLB hostname in status, events per second, the server's CPU per Service for the whole
# create-to-status path, and the CPU of the controllers' passes once everything converged, per
# 10 s over 30 s that hold one full resync (between resyncs only touched Services are looked at). Then DNS queries
# per second for the NLB hostnames against twinstack's server, and against unbound serving the
# same records (local-data), in the same run (dnsperf; installs dnsperf, unbound and dig from
# Debian if missing).
# Usage: bash bench/loadbalancers.sh [N ...]   (default: 100 1000 5000)
# TARGET_TYPE=ip (default): internal dualstack NLBs with ip targets and
#   `allocateLoadBalancerNodePorts: false` (Gardener's webhook leaves internal Services alone).
# TARGET_TYPE=instance: the seed's internet-facing instance-target NLBs. Each Service then takes
#   a NodePort and the range 30000-32767 holds 2,768: beyond that the API answers "failed to
#   allocate a nodePort: range is full", as kube-apiserver does.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/unbound.sh
install_dns_tools
cargo build --release --bin twinstack 2>/dev/null
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/twinstack
target_type=${TARGET_TYPE:-ip}
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100 1000 5000)
tick=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

printf '%-6s %12s %10s %14s %16s %14s %14s\n' N "all-status-s" "events/s" "cpu-ms/svc" "idle-cpu-ms/10s" "dns-qps" "unbound-qps"
for n in "${sizes[@]}"; do
  dir=$(mktemp -d)
  port=$(free_port)
  dnsport=$(free_port)
  "$bin" up --data-dir "$dir" --listen "127.0.0.1:$port" --dns-listen "127.0.0.1:$dnsport" \
    --operation-time 0 >"$dir/up.log" 2>"$dir/err.log" &
  pid=$!
  for _ in $(seq 1 100); do grep -q '^export KUBECONFIG' "$dir/up.log" 2>/dev/null && break; sleep 0.1; done
  export KUBECONFIG=$dir/kubeconfig
  python3 - "$n" "$target_type" >"$dir/svcs.yaml" <<'EOF'
import sys
n, target = int(sys.argv[1]), sys.argv[2]
ip = target == "ip"
annotations = """
    annotations:
      service.beta.kubernetes.io/aws-load-balancer-type: external
      service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: ip
      service.beta.kubernetes.io/aws-load-balancer-scheme: internal
      service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack""" if ip else ""
no_node_ports = "\n    allocateLoadBalancerNodePorts: false" if ip else ""
print("apiVersion: v1\nkind: List\nitems:")
for i in range(n):
    print(f"""- apiVersion: v1
  kind: Service
  metadata:
    name: web-{i}{annotations}
  spec:
    type: LoadBalancer{no_node_ports}
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
  # Converged: let the trailing work finish (events, the reconcile after each finalizer
  # update), then the controllers' passes over N unchanged Services for 30 s, which holds one
  # full resync (every 30 s), reported per 10 s.
  sleep 20
  c1b=$(cpu_ticks "$pid")
  sleep 30
  c2=$(cpu_ticks "$pid")
  # The NLB names, their records as twinstack's DNS answers them, and unbound serving the same
  # records (local-data, one thread), queried with the same file.
  kubectl get svc -o jsonpath='{range .items[*]}{.status.loadBalancer.ingress[0].hostname}{"\n"}{end}' \
    | awk 'NF {print $1" A"; print $1" AAAA"}' >"$dir/queries"
  dig @127.0.0.1 -p "$dnsport" +noall +answer -f "$dir/queries" \
    | awk '{printf "local-data: \"%s %s IN %s %s\"\n", $1, $2, $4, $5}' >"$dir/names.conf"
  records=$(wc -l <"$dir/names.conf")
  qps=$(dnsperf -s 127.0.0.1 -p "$dnsport" -d "$dir/queries" -l 5 -c 1 -T 1 -q 100 2>/dev/null \
    | awk '/Queries per second/ {print int($4)}')
  ubport=$(free_port)
  unbound_conf "$dir" "$ubport" "$dir/names.conf"
  unbound -d -c "$dir/unbound.conf" >"$dir/unbound.log" 2>&1 &
  ubpid=$!
  first=$(head -1 "$dir/queries" | cut -d' ' -f1)
  for _ in $(seq 1 100); do dig +short +time=1 +tries=1 @127.0.0.1 -p "$ubport" "$first" A 2>/dev/null | grep -q . && break; sleep 0.1; done
  ubqps=$(dnsperf -s 127.0.0.1 -p "$ubport" -d "$dir/queries" -l 5 -c 1 -T 1 -q 100 2>/dev/null \
    | awk '/Queries per second/ {print int($4)}')
  kill "$ubpid"; wait "$ubpid" 2>/dev/null || true
  echo "  ($records DNS records for $n NLB names)" >&2
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$n" "$t0" "$t1" "$c0" "$c1" "$c1b" "$c2" "$events" "$tick" "$qps" "$ubqps" <<'EOF'
import sys
n, t0, t1, c0, c1, c1b, c2, ev, tick, qps, ubqps = sys.argv[1:]
n = int(n); secs = float(t1) - float(t0); tick = int(tick)
cpu_ms = (int(c1) - int(c0)) * 1000 / tick
idle_ms = (int(c2) - int(c1b)) * 1000 / tick / 3
print(f"{n:<6} {secs:12.2f} {int(ev)/secs:10.0f} {cpu_ms/n:14.2f} {idle_ms:16.0f} {qps:>14} {ubqps:>14}  ({int(qps)/int(ubqps):.2f}x)")
EOF
  rm -rf "$dir"
done
