#!/usr/bin/env bash
# Discovery and OpenAPI with N CustomResourceDefinitions installed, beside none, in one run:
# `kubectl api-resources` with a cold discovery cache (kubectl's cache refresh), `kubectl get`
# with a cold and a warm cache, and `kubectl explain` (OpenAPI v3), each measured RUNS times.
# Usage: bash bench/crds.sh [--crds 100] [--runs 10]
# TWINSTACK_BIN=path skips the release build (e.g. a debug binary; say so with the figures).
set -euo pipefail
cd "$(dirname "$0")/.."
N=100
RUNS=10
while [ $# -gt 0 ]; do
  case "$1" in
    --crds) N="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
BIN="${TWINSTACK_BIN:-}"
if [ -z "$BIN" ]; then
  cargo build --release --bin twinstack -p twinstack
  BIN=target/release/twinstack
fi
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$BIN" up --listen 127.0.0.1:0 --dns-listen off --operation-time 0 --data-dir "$work/data" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q "twinstack is ready" "$work/log" && break; sleep 0.1; done
grep -q "twinstack is ready" "$work/log" || { cat "$work/log"; exit 1; }
export KUBECONFIG="$work/data/kubeconfig"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# One measurement series: prints "p50 p90 max" in ms of RUNS runs of the command.
series() {
  local cold="$1"; shift
  local times=()
  for i in $(seq 1 "$RUNS"); do
    if [ "$cold" = cold ]; then rm -rf "$work/cache"; fi
    local t0; t0=$(date +%s%N)
    KUBECACHEDIR="$work/cache" HOME="$work" "$@" >/dev/null
    times+=("$(ms "$t0")")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$RUNS" '
    {a[NR]=$1} END {p50=a[int((n+1)/2)]; i=int(n*0.9+0.5); if(i<1)i=1; printf "%d %d %d", p50, a[i], a[n]}'
}

declare -A R
measure() {
  local phase="$1"
  R[$phase,api]=$(series cold kubectl api-resources)
  R[$phase,getcold]=$(series cold kubectl get configmaps -A)
  R[$phase,getwarm]=$(series warm kubectl get configmaps -A)
  R[$phase,explain]=$(series cold kubectl explain configmap.data)
}

measure none

# N CRDs over N/10 groups, each with a small structural schema, printer column and status.
crds="$work/crds.yaml"
: >"$crds"
for i in $(seq 0 $((N - 1))); do
  g=$((i / 10))
  cat >>"$crds" <<YAML
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widget${i}s.g${g}.bench.example.com
spec:
  group: g${g}.bench.example.com
  scope: Namespaced
  names: {plural: widget${i}s, singular: widget${i}, kind: Widget${i}}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, minimum: 0, default: 1}
              name: {type: string, maxLength: 63}
              tags: {type: array, items: {type: string}, x-kubernetes-list-type: set}
          status:
            type: object
            properties:
              ready: {type: boolean}
YAML
done
t0=$(date +%s%N)
kubectl apply -f "$crds" >/dev/null
apply_ms=$(ms "$t0")
t0=$(date +%s%N)
kubectl wait --for condition=established --timeout=120s crd --all >/dev/null
wait_ms=$(ms "$t0")
printf 'apiVersion: g0.bench.example.com/v1\nkind: Widget0\nmetadata:\n  name: w\nspec:\n  size: 3\n' |
  kubectl apply -f - >/dev/null

measure crds
R[crds,getcr]=$(series cold kubectl get widget0s)
R[crds,explaincr]=$(series cold kubectl explain widget0.spec)

echo
echo "twinstack: discovery and OpenAPI with $N CRDs beside none ($RUNS runs each; ms p50 / p90 / max)"
echo "applying the $N CRDs: ${apply_ms} ms; all Established after a further ${wait_ms} ms"
echo
printf '| %-46s | %-16s | %-16s | %s |\n' "command" "no CRDs" "$N CRDs" "p50 ratio"
printf '|%s|%s|%s|%s|\n' "------------------------------------------------" "------------------" "------------------" "-----------"
row() {
  local label="$1" key="$2" other="${3:-$2}"
  read -r a50 a90 amax <<<"${R[none,$key]}"
  read -r b50 b90 bmax <<<"${R[crds,$other]}"
  printf '| %-46s | %4s / %4s / %4s | %4s / %4s / %4s | %sx |\n' "$label" "$a50" "$a90" "$amax" "$b50" "$b90" "$bmax" \
    "$(awk -v a="$a50" -v b="$b50" 'BEGIN{ if (a>0) printf "%.2f", b/a; else print "-" }')"
}
row "kubectl api-resources (cold discovery cache)" api
row "kubectl get configmaps -A (cold cache)" getcold
row "kubectl get configmaps -A (warm cache)" getwarm
row "kubectl explain configmap.data (cold cache)" explain
row "kubectl get widget0s (cold cache) vs configmaps" getcold getcr
row "kubectl explain widget0.spec vs configmap.data" explain explaincr
