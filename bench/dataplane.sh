#!/usr/bin/env bash
# The data plane side by side with HAProxy (`mode tcp`) and nginx (`stream`), in one run,
# through the same backends on loopback, for IPv4→IPv4, IPv6→IPv6 and IPv6→IPv4 (the NLB's
# translation): bulk throughput (iperf3, one stream), short-connection rate (a new connection
# per 64-byte exchange) and p50/p99 latency of 64-byte exchanges at a fixed rate.
#
#   bash bench/dataplane.sh            # SECONDS=5 per measurement, RATE=2000 req/s, CONC=32
#
# twinstack's frontends are the NLB listeners of dual-stack Services whose pods name the local
# backend (`twinstack.io/backend`), as `twinstack runtime show -o json` lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${SECONDS:-5}
RATE=${RATE:-2000}
CONC=${CONC:-32}

need=()
command -v haproxy >/dev/null || need+=(haproxy)
command -v nginx >/dev/null || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(libnginx-mod-stream)
command -v iperf3 >/dev/null || need+=(iperf3)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release -q -p twinstack --bin twinstack
cargo build --release -q -p twinstack-dataplane --example l4bench
BIN=target/release/twinstack
L4=target/release/examples/l4bench

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
IPERF=$(free_port)
ECHO=$(free_port)
iperf3 -s -p "$IPERF" >/dev/null 2>&1 & pids+=($!)
"$L4" server "127.0.0.1:$ECHO" "[::1]:$ECHO" & pids+=($!)

# twinstack: four Services whose pods are the backends above.
"$BIN" up --data-dir "$work/ts" --listen 127.0.0.1:0 --dns-listen off --operation-time 0 \
  >"$work/up.log" 2>"$work/up.err" & pids+=($!)
for _ in $(seq 100); do grep -q '^export KUBECONFIG=' "$work/up.log" 2>/dev/null && break; sleep 0.2; done
export KUBECONFIG="$work/ts/kubeconfig"
svc() { # NAME BACKEND PORT
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: 1
  selector: {matchLabels: {app: $1}}
  template:
    metadata:
      labels: {app: $1}
      annotations: {twinstack.io/backend: "$2"}
    spec:
      containers: [{name: app, image: example.com/backend:1, ports: [{containerPort: $3}]}]
---
apiVersion: v1
kind: Service
metadata:
  name: $1
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-ip-address-type: dualstack
    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
    service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval: "300"
spec:
  type: LoadBalancer
  ipFamilyPolicy: PreferDualStack
  selector: {app: $1}
  ports: [{name: tcp, port: $3, targetPort: $3}]
---
YAML
}
{ svc iperf-v4 "127.0.0.1:$IPERF" 5201; svc iperf-v6 "[::1]:$IPERF" 5201
  svc echo-v4 "127.0.0.1:$ECHO" 7000; svc echo-v6 "[::1]:$ECHO" 7000; } | kubectl apply -f - >/dev/null
listen() { # SERVICE FAMILY: the first NLB frontend's local socket
  "$BIN" runtime show local -o json --data-dir "$work/ts" |
    jq -r --arg s "default/$1" --arg f "$2" \
      '[.frontends[] | select(.service==$s and .kind=="nlb" and .family==$f)][0].listen // empty'
}
for _ in $(seq 150); do
  [ -n "$(listen echo-v6 IPv6)" ] && [ -n "$(listen iperf-v4 IPv6)" ] && break; sleep 0.2
done

# HAProxy and nginx with the same three paths per backend.
HP=$(free_port); NG=$(free_port)
cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend i44
  bind 127.0.0.1:$((HP)) 
  default_backend bi4
frontend i66
  bind [::1]:$((HP))
  default_backend bi6
frontend i64
  bind [::1]:$((HP+1))
  default_backend bi4
frontend e44
  bind 127.0.0.1:$((HP+2))
  default_backend be4
frontend e66
  bind [::1]:$((HP+2))
  default_backend be6
frontend e64
  bind [::1]:$((HP+3))
  default_backend be4
backend bi4
  server s 127.0.0.1:$IPERF
backend bi6
  server s [::1]:$IPERF
backend be4
  server s 127.0.0.1:$ECHO
backend be6
  server s [::1]:$ECHO
CFG
haproxy -f "$work/haproxy.cfg" -db >/dev/null 2>&1 & pids+=($!)
cat >"$work/nginx.conf" <<CFG
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
daemon off;
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections 4096; }
stream {
  server { listen 127.0.0.1:$((NG)); proxy_pass 127.0.0.1:$IPERF; }
  server { listen [::1]:$((NG)); proxy_pass [::1]:$IPERF; }
  server { listen [::1]:$((NG+1)); proxy_pass 127.0.0.1:$IPERF; }
  server { listen 127.0.0.1:$((NG+2)); proxy_pass 127.0.0.1:$ECHO; }
  server { listen [::1]:$((NG+2)); proxy_pass [::1]:$ECHO; }
  server { listen [::1]:$((NG+3)); proxy_pass 127.0.0.1:$ECHO; }
}
CFG
nginx -c "$work/nginx.conf" -e "$work/nginx.err" & pids+=($!)
sleep 1

# The targets per row: direct (the backend's own family), twinstack, HAProxy, nginx.
declare -A T
T[i44.direct]="127.0.0.1:$IPERF"; T[i66.direct]="[::1]:$IPERF"; T[i64.direct]="127.0.0.1:$IPERF"
T[e44.direct]="127.0.0.1:$ECHO";  T[e66.direct]="[::1]:$ECHO";  T[e64.direct]="127.0.0.1:$ECHO"
T[i44.twinstack]=$(listen iperf-v4 IPv4); T[i66.twinstack]=$(listen iperf-v6 IPv6); T[i64.twinstack]=$(listen iperf-v4 IPv6)
T[e44.twinstack]=$(listen echo-v4 IPv4);  T[e66.twinstack]=$(listen echo-v6 IPv6);  T[e64.twinstack]=$(listen echo-v4 IPv6)
T[i44.haproxy]="127.0.0.1:$HP"; T[i66.haproxy]="[::1]:$HP"; T[i64.haproxy]="[::1]:$((HP+1))"
T[e44.haproxy]="127.0.0.1:$((HP+2))"; T[e66.haproxy]="[::1]:$((HP+2))"; T[e64.haproxy]="[::1]:$((HP+3))"
T[i44.nginx]="127.0.0.1:$NG"; T[i66.nginx]="[::1]:$NG"; T[i64.nginx]="[::1]:$((NG+1))"
T[e44.nginx]="127.0.0.1:$((NG+2))"; T[e66.nginx]="[::1]:$((NG+2))"; T[e64.nginx]="[::1]:$((NG+3))"

iperf_gbs() { # HOST:PORT → GB/s received
  local hp=$1 host port
  port=${hp##*:}; host=${hp%:*}; host=${host#[}; host=${host%]}
  iperf3 -c "$host" -p "$port" -t "$SECONDS_EACH" -J 2>/dev/null |
    jq -r '.end.sum_received.bits_per_second / 8 / 1e9 | . * 100 | round / 100'
}

printf '%-10s %-10s %10s %12s %10s %10s\n' path via 'GB/s' 'conns/s' 'p50 µs' 'p99 µs'
for row in 44 66 64; do
  name=$([ $row = 44 ] && echo 'IPv4→IPv4' || { [ $row = 66 ] && echo 'IPv6→IPv6' || echo 'IPv6→IPv4'; })
  for via in direct twinstack haproxy nginx; do
    gbs=$(iperf_gbs "${T[i$row.$via]}")
    read -r cps _ < <("$L4" rate "${T[e$row.$via]}" "$SECONDS_EACH" "$CONC")
    read -r p50 p99 _ < <("$L4" latency "${T[e$row.$via]}" "$SECONDS_EACH" "$RATE")
    printf '%-10s %-10s %10s %12s %10s %10s\n' "$name" "$via" "$gbs" "$cps" "$p50" "$p99"
  done
done
echo "twinstack server CPU: $(ps -o cputime= -p "${pids[2]}")"
