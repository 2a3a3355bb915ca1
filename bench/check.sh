#!/usr/bin/env bash
# `twinstack check` end to end on a generated manifest set of N objects (default 1,000): 10
# namespaces, then a third each of Deployments (one replica), ClusterIP Services (the three
# ipFamilyPolicy values) and LoadBalancer Services (half for the AWS Load Balancer Controller,
# half for the legacy provider), in one process, against `--plan aws --dual-stack`: wall time
# and peak RSS from /usr/bin/time -v. Beside it, on the same files in the same run, the closest
# schema validator this machine can install: kubeconform is in none of the registries
# reachable here (PyPI, npm, Debian; the Go proxy is not), so it is kubernetes-validate (PyPI,
# ships the Kubernetes OpenAPI schemas; --strict, Kubernetes 1.32) from a virtual environment.
# Usage: bash bench/check.sh [N]   (CHECK_BENCH_DIR=DIR keeps the manifests and outputs)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
target=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release --bin twinstack 2>/dev/null
bin=$target/release/twinstack
venv=${TWINSTACK_BENCH_VENV:-$HOME/.cache/twinstack/bench-venv}
if [ ! -x "$venv/bin/kubernetes-validate" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet kubernetes-validate
fi
# CHECK_BENCH_DIR keeps the generated set (and the outputs) there.
if [ -n "${CHECK_BENCH_DIR:-}" ]; then
  dir=$CHECK_BENCH_DIR; mkdir -p "$dir"
else
  dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
fi
python3 - "$n" "$dir" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
namespaces = 10
rest = n - namespaces
per = rest // 3
docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-{i}\n" for i in range(namespaces)]
policies = ["SingleStack", "PreferDualStack", "RequireDualStack"]
for i in range(rest):
    ns = f"team-{i % namespaces}"
    kind = i % 3
    if kind == 0:
        docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: {ns}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{{containerPort: 8080}}]
""")
    elif kind == 1:
        docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: {ns}
spec:
  ipFamilyPolicy: {policies[i % 3]}
  selector: {{app: app-{i - 1}}}
  ports: [{{port: 80, targetPort: 8080}}]
""")
    else:
        lbc = (i // 3) % 2 == 0
        ann = """  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    service.beta.kubernetes.io/aws-load-balancer-nlb-target-type: instance
    service.beta.kubernetes.io/aws-load-balancer-scheme: internet-facing
""" if lbc else ""
        docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: lb-{i}
  namespace: {ns}
{ann}spec:
  type: LoadBalancer
  ipFamilyPolicy: PreferDualStack
  selector: {{app: app-{i - 2}}}
  ports: [{{port: 80, targetPort: 8080}}]
""")
# Ten files, as a repository would hold them.
for f in range(10):
    with open(f"{out}/m{f:02}.yaml", "w") as fh:
        fh.write("---\n".join(docs[f::10]))
PY
objects=$(cat "$dir"/*.yaml | grep -c '^kind:')
measure() { # label, command...
  local label=$1; shift
  /usr/bin/time -v "$@" >"$dir/$label.out" 2>"$dir/$label.time" || true
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$dir/$label.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$dir/$label.time")
  printf '%-34s %10s %12s MiB\n' "$label" "$wall" "$rss"
}
echo "$objects objects in 10 files"
printf '%-34s %10s %16s\n' tool "wall" "peak RSS"
measure "twinstack check (full semantics)" "$bin" check --plan aws --dual-stack -o json -f "$dir"
measure "kubernetes-validate (schema only)" "$venv/bin/kubernetes-validate" --strict -k 1.32.0 --quiet "$dir"/*.yaml
python3 - "$dir/twinstack check (full semantics).out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
lbs = sum(1 for o in r["objects"] if o.get("loadBalancer", {}).get("ingress"))
print(f"check: converged={r['converged']} accepted={s['accepted']} refused={s['refused']} "
      f"errors={s['errors']} warnings={s['warnings']} load balancers with an address={lbs}")
PY
