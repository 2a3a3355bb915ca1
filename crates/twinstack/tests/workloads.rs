//! End-to-end (issue 3): nodes, pods, Deployments, EndpointSlices and events of a dual-stack
//! runtime, driven by the installed kubectl against a real `twinstack up`.

mod common;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Whether `ip` is inside `cidr` (own arithmetic, so the test does not trust the server's).
fn in_cidr(ip: &str, cidr: &str) -> bool {
    use std::net::IpAddr;
    let ip: IpAddr = ip.parse().unwrap();
    let (a, p) = cidr.split_once('/').unwrap();
    let net: IpAddr = a.parse().unwrap();
    let p: u32 = p.parse().unwrap();
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let m = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            u32::from(n) & m == u32::from(i) & m
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let m = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            u128::from(n) & m == u128::from(i) & m
        }
        _ => false,
    }
}

fn manifest() -> String {
    let svc = AWS_SERVICE.replace("  name: web-aws\n", "  name: web-aws\n  namespace: shop\n");
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - name: http
              containerPort: 8080
---
{svc}"#
    )
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("timed out waiting for {what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn items(t: &Twin, args: &[&str]) -> Vec<Value> {
    let mut a: Vec<&str> = vec!["get"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-o", "json"]);
    json_of(&ok(&t.kubectl(&a)))["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ips_of(pod: &Value) -> Vec<String> {
    pod["status"]["podIPs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["ip"].as_str().unwrap().to_string())
        .collect()
}

/// Every pod address of the namespace, checking none is held by two pods.
fn distinct_pod_ips(pods: &[Value]) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    for p in pods {
        for ip in ips_of(p) {
            assert!(seen.insert(ip.clone()), "{ip} held twice: {pods:#?}");
        }
    }
    seen
}

/// The Service's slices by address type → (ready endpoint addresses).
fn slices(t: &Twin, ns: &str, svc: &str) -> BTreeMap<String, Vec<(String, bool)>> {
    let mut out: BTreeMap<String, Vec<(String, bool)>> = BTreeMap::new();
    for s in items(
        t,
        &[
            "endpointslices",
            "-n",
            ns,
            "-l",
            &format!("kubernetes.io/service-name={svc}"),
        ],
    ) {
        let at = s["addressType"].as_str().unwrap().to_string();
        let e = out.entry(at).or_default();
        for ep in s["endpoints"].as_array().into_iter().flatten() {
            e.push((
                ep["addresses"][0].as_str().unwrap().to_string(),
                ep["conditions"]["ready"] == Value::Bool(true),
            ));
        }
    }
    out
}

/// The slices hold exactly the running pods' addresses, all ready, one slice per family.
fn slices_exact(t: &Twin, families: &[&str]) -> Result<(), String> {
    let pods: Vec<Value> = items(t, &["pods", "-n", "shop", "-l", "app=web"])
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect();
    if pods.iter().any(|p| p["status"]["phase"] != "Running") {
        return Err("pods not all running".into());
    }
    let want: BTreeSet<String> = distinct_pod_ips(&pods);
    let got = slices(t, "shop", "web-aws");
    let types: Vec<&String> = got.keys().collect();
    if types.len() != families.len() || families.iter().any(|f| !got.contains_key(*f)) {
        return Err(format!("slice families {types:?}"));
    }
    let mut have = BTreeSet::new();
    for eps in got.values() {
        for (a, ready) in eps {
            if !ready {
                return Err(format!("{a} not ready"));
            }
            if !have.insert(a.clone()) {
                return Err(format!("{a} listed twice"));
            }
        }
    }
    if have != want {
        return Err(format!("slices {have:?} != pods {want:?}"));
    }
    Ok(())
}

fn running_pods(t: &Twin) -> Vec<Value> {
    items(t, &["pods", "-n", "shop", "-l", "app=web"])
}

#[test]
fn dual_stack_deployment_rolls_out_with_both_families_and_exact_slices() {
    let mut t = Twin::start(&[]);
    let dir = t.data_dir().to_path_buf();
    let path = dir.join("app.yaml");
    std::fs::write(&path, manifest()).unwrap();
    let out = ok(&t.kubectl(&["apply", "-f", path.to_str().unwrap()]));
    assert!(out.contains("deployment.apps/web created"), "{out}");
    assert!(out.contains("service/web-aws created"), "{out}");
    let out = ok(&t.kubectl(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=60s",
    ]));
    assert!(
        out.contains("deployment \"web\" successfully rolled out"),
        "{out}"
    );

    // kubectl get pods -o wide: 3 Running pods on 3 different nodes, with IP and NODE.
    let wide = ok(&t.kubectl(&["get", "pods", "-n", "shop", "-o", "wide"]));
    let header = wide.lines().next().unwrap();
    for col in ["NAME", "READY", "STATUS", "IP", "NODE"] {
        assert!(header.contains(col), "{wide}");
    }
    let rows: Vec<Vec<&str>> = wide
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 3, "{wide}");
    assert!(
        rows.iter().all(|r| r[2] == "Running" && r[1] == "1/1"),
        "{wide}"
    );
    let nodes_used: BTreeSet<&str> = rows.iter().map(|r| r[6]).collect();
    assert_eq!(nodes_used.len(), 3, "pods spread over 3 nodes: {wide}");

    // Nodes: INTERNAL-IP column, podCIDRs of both families.
    let nodes_wide = ok(&t.kubectl(&["get", "nodes", "-o", "wide"]));
    assert!(
        nodes_wide.lines().next().unwrap().contains("INTERNAL-IP"),
        "{nodes_wide}"
    );
    let nodes: BTreeMap<String, Value> = items(&t, &["nodes"])
        .into_iter()
        .map(|n| (n["metadata"]["name"].as_str().unwrap().to_string(), n))
        .collect();
    assert_eq!(nodes.len(), 3);

    // Each pod: an IPv4 and an IPv6 address (primary family first) inside its node's podCIDRs.
    for p in running_pods(&t) {
        let name = p["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("web-"), "{name}");
        let jp = ok(&t.kubectl(&[
            "get",
            "pod",
            name,
            "-n",
            "shop",
            "-o",
            "jsonpath={.status.podIPs}",
        ]));
        let ips: Vec<Value> = serde_json::from_str(&jp).unwrap();
        assert_eq!(ips.len(), 2, "{jp}");
        let v4 = ips[0]["ip"].as_str().unwrap();
        let v6 = ips[1]["ip"].as_str().unwrap();
        assert!(v4.contains('.') && v6.contains(':'), "{jp}");
        assert_eq!(p["status"]["podIP"], v4);
        let node = &nodes[p["spec"]["nodeName"].as_str().unwrap()];
        let cidrs: Vec<&str> = node["spec"]["podCIDRs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert!(in_cidr(v4, cidrs[0]), "{v4} not in {cidrs:?}");
        assert!(in_cidr(v6, cidrs[1]), "{v6} not in {cidrs:?}");
        assert_eq!(p["status"]["hostIPs"].as_array().unwrap().len(), 2);
        assert!(p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet");
    }

    // One IPv4 and one IPv6 slice with 3 ready endpoints each.
    let sl = ok(&t.kubectl(&[
        "get",
        "endpointslices",
        "-n",
        "shop",
        "-l",
        "kubernetes.io/service-name=web-aws",
    ]));
    assert_eq!(sl.lines().count(), 3, "{sl}");
    assert!(sl.contains("IPv4") && sl.contains("IPv6"), "{sl}");
    let got = slices(&t, "shop", "web-aws");
    assert_eq!(got["IPv4"].len(), 3, "{got:?}");
    assert_eq!(got["IPv6"].len(), 3, "{got:?}");
    slices_exact(&t, &["IPv4", "IPv6"]).unwrap();
    // Legacy Endpoints: the primary family only (the Service is IPv6-first).
    let ep = json_of(&ok(&t.kubectl(&[
        "get",
        "endpoints",
        "web-aws",
        "-n",
        "shop",
        "-o",
        "json",
    ])));
    let addrs = ep["subsets"][0]["addresses"].as_array().unwrap();
    assert_eq!(addrs.len(), 3, "{ep}");
    assert!(
        addrs
            .iter()
            .all(|a| a["ip"].as_str().unwrap().contains(':')),
        "{ep}"
    );

    // describe and events show scheduling and start.
    let pod0 = running_pods(&t)[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let d = ok(&t.kubectl(&["describe", "pod", &pod0, "-n", "shop"]));
    for s in [
        "Scheduled",
        "Successfully assigned shop/",
        "Started",
        "Started container web",
        "Pulling",
    ] {
        assert!(d.contains(s), "{s}: {d}");
    }
    let ev = ok(&t.kubectl(&["get", "events", "-n", "shop"]));
    for s in [
        "Scheduled",
        "Started",
        "SuccessfulCreate",
        "ScalingReplicaSet",
    ] {
        assert!(ev.contains(s), "{s}: {ev}");
    }
    let deploy = ok(&t.kubectl(&["get", "deploy", "web", "-n", "shop"]));
    assert!(deploy.contains("3/3"), "{deploy}");

    // SIGKILL and restart: every object, address and slice as before (same resourceVersions:
    // nothing rewritten), no duplicates after.
    let snapshot = |t: &Twin| {
        let named = |kind: &str| -> BTreeMap<String, String> {
            items(t, &[kind, "-n", "shop"])
                .iter()
                .map(|o| {
                    (
                        o["metadata"]["name"].as_str().unwrap().to_string(),
                        o["metadata"]["resourceVersion"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    )
                })
                .collect()
        };
        let pods: BTreeMap<String, Vec<String>> = running_pods(t)
            .iter()
            .map(|p| {
                (
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                    ips_of(p),
                )
            })
            .collect();
        let objects: Vec<BTreeMap<String, String>> =
            ["pods", "endpointslices", "endpoints", "rs", "deploy"]
                .iter()
                .map(|k| named(k))
                .collect();
        let events = items(t, &["events", "-n", "shop"]).len();
        (pods, objects, events)
    };
    let before = snapshot(&t);
    t.kill9();
    t.spawn();
    // The restarted controllers start from a full list, so their first pass reconciles every
    // object. A probe pod behind a Service shows when a pass after that first one has ended:
    // its endpoint turns ready only in the pass after the one that started the pod.
    ok(&t.kubectl(&["run", "probe", "--image=nginx:1.27", "--labels=app=probe"]));
    ok(&t.kubectl(&["expose", "pod", "probe", "--port=80"]));
    wait_for(
        "the probe's ready endpoint",
        Duration::from_secs(30),
        || {
            let got = slices(&t, "default", "probe");
            let ready = !got.is_empty() && got.values().all(|e| e.len() == 1 && e[0].1);
            ready.then_some(()).ok_or(format!("{got:?}"))
        },
    );
    assert_eq!(
        snapshot(&t),
        before,
        "controllers converged without changes"
    );
    slices_exact(&t, &["IPv4", "IPv6"]).unwrap();

    // Scale to 0 and back (`kubectl scale` goes through the scale subresource).
    let out = ok(&t.kubectl(&["scale", "deployment", "web", "-n", "shop", "--replicas=0"]));
    assert!(out.contains("deployment.apps/web scaled"), "{out}");
    wait_for("no pods", Duration::from_secs(30), || {
        let n = running_pods(&t).len();
        (n == 0).then_some(()).ok_or(format!("{n} pods"))
    });
    wait_for("empty slices", Duration::from_secs(10), || {
        let got = slices(&t, "shop", "web-aws");
        let n: usize = got.values().map(Vec::len).sum();
        (n == 0 && got.len() == 2)
            .then_some(())
            .ok_or(format!("{got:?}"))
    });
    ok(&t.kubectl(&[
        "patch",
        "deployment",
        "web",
        "-n",
        "shop",
        "-p",
        r#"{"spec":{"replicas":3}}"#,
    ]));
    ok(&t.kubectl(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=60s",
    ]));
    wait_for(
        "exact slices after scale up",
        Duration::from_secs(10),
        || slices_exact(&t, &["IPv4", "IPv6"]),
    );

    // Delete pods: replaced, slices exact, no address held twice.
    let names: Vec<String> = running_pods(&t)
        .iter()
        .take(2)
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let mut args = vec!["delete", "pod", "-n", "shop"];
    args.extend(names.iter().map(String::as_str));
    let out = ok(&t.kubectl(&args));
    assert!(
        out.contains(&format!("pod \"{}\" deleted", names[0])),
        "{out}"
    );
    wait_for("replacement pods", Duration::from_secs(30), || {
        let pods = running_pods(&t);
        if pods
            .iter()
            .any(|p| names.contains(&p["metadata"]["name"].as_str().unwrap().to_string()))
        {
            return Err("old pods remain".into());
        }
        if pods.len() != 3 {
            return Err(format!("{} pods", pods.len()));
        }
        slices_exact(&t, &["IPv4", "IPv6"])
    });
    distinct_pod_ips(&running_pods(&t));

    // A rolling update replaces every pod; slices follow.
    ok(&t.kubectl(&[
        "set",
        "image",
        "deployment/web",
        "-n",
        "shop",
        "web=nginx:1.28",
    ]));
    ok(&t.kubectl(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=60s",
    ]));
    wait_for(
        "exact slices after rollout",
        Duration::from_secs(30),
        || {
            let pods = running_pods(&t);
            if pods.len() != 3 {
                return Err(format!("{} pods", pods.len()));
            }
            slices_exact(&t, &["IPv4", "IPv6"])
        },
    );
    let rs = items(&t, &["rs", "-n", "shop"]);
    assert_eq!(rs.len(), 2, "old and new ReplicaSet");

    // Delete the Deployment: ReplicaSets and pods are collected, slices end empty.
    ok(&t.kubectl(&["delete", "deployment", "web", "-n", "shop"]));
    wait_for("garbage collection", Duration::from_secs(30), || {
        let rs = items(&t, &["rs", "-n", "shop"]).len();
        let pods = running_pods(&t).len();
        (rs == 0 && pods == 0)
            .then_some(())
            .ok_or(format!("{rs} rs, {pods} pods"))
    });
    wait_for("empty slices at the end", Duration::from_secs(10), || {
        let got = slices(&t, "shop", "web-aws");
        let n: usize = got.values().map(Vec::len).sum();
        (n == 0).then_some(()).ok_or(format!("{got:?}"))
    });
}

#[test]
fn single_stack_ipv4_runtime_gives_one_address_and_one_slice() {
    let t = Twin::start(&["--ip-families", "IPv4", "--service-cidrs", "10.104.0.0/13"]);
    let dir = t.data_dir().to_path_buf();
    let path = dir.join("app.yaml");
    let m = manifest().replace(
        "  ipFamilyPolicy: RequireDualStack\n  ipFamilies:\n    - IPv6\n    - IPv4\n",
        "",
    );
    std::fs::write(&path, m).unwrap();
    ok(&t.kubectl(&["apply", "-f", path.to_str().unwrap()]));
    ok(&t.kubectl(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=60s",
    ]));
    let nodes = items(&t, &["nodes"]);
    assert!(nodes
        .iter()
        .all(|n| n["spec"]["podCIDRs"].as_array().unwrap().len() == 1));
    for p in running_pods(&t) {
        let ips = ips_of(&p);
        assert_eq!(ips.len(), 1, "{p}");
        assert!(ips[0].contains('.'), "{ips:?}");
    }
    wait_for("one IPv4 slice", Duration::from_secs(10), || {
        slices_exact(&t, &["IPv4"])
    });
    let got = slices(&t, "shop", "web-aws");
    assert_eq!(got.len(), 1);
    assert_eq!(got["IPv4"].len(), 3);
}

#[test]
fn bad_workload_input_gets_upstream_errors() {
    let t = Twin::start(&[]);
    let dir = t.data_dir().to_path_buf();
    let bad_pod = dir.join("badpod.yaml");
    std::fs::write(
        &bad_pod,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: badpod\nspec:\n  containers:\n    - name: c\n      image: \"\"\n      ports:\n        - containerPort: 70000\n",
    )
    .unwrap();
    let err = fails(&t.kubectl(&["apply", "-f", bad_pod.to_str().unwrap()]));
    assert!(err.contains("The Pod \"badpod\" is invalid"), "{err}");
    assert!(
        err.contains("spec.containers[0].image: Required value"),
        "{err}"
    );
    assert!(
        err.contains("spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"),
        "{err}"
    );

    // Selector that does not match the template.
    let mis = dir.join("mis.yaml");
    std::fs::write(
        &mis,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: mis\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: other\n    spec:\n      containers:\n        - name: web\n          image: nginx\n",
    )
    .unwrap();
    let err = fails(&t.kubectl(&["apply", "-f", mis.to_str().unwrap()]));
    assert!(
        err.contains("The Deployment \"mis\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"),
        "{err}"
    );

    // A node that does not exist: no kubelet, the pod stays Pending without an address.
    ok(&t.kubectl(&[
        "run",
        "lost",
        "--image=nginx",
        "--overrides",
        r#"{"spec":{"nodeName":"no-such-node"}}"#,
    ]));
    // A nodeSelector no node matches: FailedScheduling with the scheduler's text.
    ok(&t.kubectl(&[
        "run",
        "picky",
        "--image=nginx",
        "--overrides",
        r#"{"spec":{"nodeSelector":{"disk":"ssd"}}}"#,
    ]));
    wait_for("FailedScheduling", Duration::from_secs(10), || {
        let d = ok(&t.kubectl(&["describe", "pod", "picky"]));
        d.contains("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
            .then_some(())
            .ok_or(d)
    });
    let ev = ok(&t.kubectl(&[
        "get",
        "events",
        "--field-selector",
        "reason=FailedScheduling",
    ]));
    assert!(ev.contains("pod/picky"), "{ev}");
    let pods = ok(&t.kubectl(&["get", "pods", "--field-selector", "status.phase!=Running"]));
    assert!(pods.contains("lost") && pods.contains("picky"), "{pods}");
    let lost = json_of(&ok(&t.kubectl(&["get", "pod", "lost", "-o", "json"])));
    assert_eq!(lost["status"]["phase"], "Pending");
    assert!(lost["status"]["podIPs"].is_null(), "{lost}");
    let on_node = ok(&t.kubectl(&[
        "get",
        "pods",
        "--field-selector",
        "spec.nodeName=no-such-node",
        "-o",
        "name",
    ]));
    assert_eq!(on_node.trim(), "pod/lost");
    // Nodes joined with kubelet's and the node controller's events; describe lists their pods.
    let node = ok(&t.kubectl(&["get", "nodes", "-o", "name"]));
    let node = node.lines().next().unwrap();
    let d = ok(&t.kubectl(&["describe", node]));
    for s in [
        "NodeReady",
        "RegisteredNode",
        "PodCIDRs:",
        "Non-terminated Pods:",
    ] {
        assert!(d.contains(s), "{s}: {d}");
    }
    // Deleting an unscheduled pod is immediate.
    ok(&t.kubectl(&["delete", "pod", "picky", "lost"]));
}

const SETS: &str = r#"apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: agent
          image: busybox
---
apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  ipFamilyPolicy: PreferDualStack
  selector: {app: db}
  ports:
    - port: 5432
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 3
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: db
          image: postgres:16
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: c
          image: busybox
          command: ["true"]
"#;

#[test]
fn daemonset_statefulset_and_job_run_as_upstream() {
    let t = Twin::start(&[]);
    let path = t.data_dir().join("sets.yaml");
    std::fs::write(&path, SETS).unwrap();
    ok(&t.kubectl(&["apply", "-f", path.to_str().unwrap()]));
    let out = ok(&t.kubectl(&["rollout", "status", "ds/agent", "--timeout=60s"]));
    assert!(
        out.contains("daemon set \"agent\" successfully rolled out"),
        "{out}"
    );
    ok(&t.kubectl(&["rollout", "status", "sts/db", "--timeout=60s"]));
    let out = ok(&t.kubectl(&[
        "wait",
        "--for=condition=complete",
        "job/once",
        "--timeout=60s",
    ]));
    assert!(out.contains("job.batch/once condition met"), "{out}");

    // One daemon pod per node.
    let agents = items(&t, &["pods", "-l", "app=agent"]);
    let nodes: BTreeSet<&str> = agents
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap())
        .collect();
    assert_eq!((agents.len(), nodes.len()), (3, 3), "{agents:#?}");

    // Stable names and hostnames; both families; the headless Service's slices list them.
    let db: Vec<String> = items(&t, &["pods", "-l", "app=db"])
        .iter()
        .map(|p| {
            assert_eq!(p["spec"]["hostname"], p["metadata"]["name"]);
            assert_eq!(p["spec"]["subdomain"], "db");
            assert_eq!(ips_of(p).len(), 2);
            p["metadata"]["name"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(db, vec!["db-0", "db-1", "db-2"]);
    wait_for("headless slices", Duration::from_secs(10), || {
        let got = slices(&t, "default", "db");
        let n: Vec<usize> = got.values().map(Vec::len).collect();
        (n == vec![3, 3]).then_some(()).ok_or(format!("{got:?}"))
    });
    let sts = ok(&t.kubectl(&["get", "sts", "db"]));
    assert!(sts.contains("3/3"), "{sts}");

    // Scale down from the highest ordinal.
    let out = ok(&t.kubectl(&["scale", "sts", "db", "--replicas=1"]));
    assert!(out.contains("statefulset.apps/db scaled"), "{out}");
    wait_for("db scaled to 1", Duration::from_secs(30), || {
        let names: Vec<String> = items(&t, &["pods", "-l", "app=db"])
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        (names == vec!["db-0"])
            .then_some(())
            .ok_or(format!("{names:?}"))
    });

    // The Job's pods completed; the table shows it.
    let job = ok(&t.kubectl(&["get", "job", "once"]));
    assert!(job.contains("Complete") && job.contains("3/3"), "{job}");
    let done = items(&t, &["pods", "-l", "batch.kubernetes.io/job-name=once"]);
    assert_eq!(done.len(), 3);
    assert!(done.iter().all(|p| p["status"]["phase"] == "Succeeded"));

    // Deleting the owners collects every pod.
    ok(&t.kubectl(&["delete", "ds/agent", "sts/db", "job/once"]));
    wait_for("pods collected", Duration::from_secs(30), || {
        let n = items(&t, &["pods"]).len();
        (n == 0).then_some(()).ok_or(format!("{n} pods"))
    });
}
