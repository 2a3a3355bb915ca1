//! End-to-end (issue 7): pods stop as real containers do. An ordinary container exits on
//! SIGTERM, `sleep` as PID 1 ignores it and is killed when the grace period ends, a preStop
//! hook holds the pod (its endpoint terminating meanwhile), and scale-downs and rollouts are
//! as quick as on a real runtime. Timed around the real kubectl, which waits for the deletion.

mod common;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn json_of(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + timeout;
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("timed out waiting for {what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

fn apply(t: &Twin, name: &str, yaml: &str) {
    let p = write(t.data_dir(), name, yaml);
    ok(&t.kubectl(&["apply", "-f", p.to_str().unwrap()]));
}

fn ready(t: &Twin, pod: &str) {
    ok(&t.kubectl(&[
        "wait",
        "--for=condition=Ready",
        &format!("pod/{pod}"),
        "--timeout=60s",
    ]));
}

/// `kubectl delete pod NAME` (which waits until the pod is gone), timed.
fn timed_delete(t: &Twin, pod: &str) -> Duration {
    let start = Instant::now();
    let out = ok(&t.kubectl(&["delete", "pod", pod]));
    let took = start.elapsed();
    eprintln!("kubectl delete pod {pod}: {took:?}");
    assert!(out.contains(&format!("pod \"{pod}\" deleted")), "{out}");
    let gone = fails(&t.kubectl(&["get", "pod", pod]));
    assert!(
        gone.contains(&format!("pods \"{pod}\" not found")),
        "{gone}"
    );
    took
}

#[test]
fn deleting_an_ordinary_pod_returns_within_three_seconds() {
    let t = Twin::start(&[]);
    ok(&t.kubectl(&["run", "web", "--image=nginx:1.27"]));
    ready(&t, "web");
    let took = timed_delete(&t, "web");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

const SLEEPER: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: sleeper
spec:
  terminationGracePeriodSeconds: 3
  containers:
    - name: c
      image: busybox:1.36
      command: ["sleep", "3600"]
"#;

#[test]
fn sleep_as_pid1_ignores_sigterm_and_takes_its_grace_period() {
    let t = Twin::start(&[]);
    apply(&t, "sleeper.yaml", SLEEPER);
    ready(&t, "sleeper");
    let took = timed_delete(&t, "sleeper");
    assert!(took >= Duration::from_secs(3), "took {took:?}");
    assert!(took < Duration::from_secs(6), "took {took:?}");

    // The same program behind a shell that execs it, and busybox's args: the same wait.
    let shell = SLEEPER.replace("name: sleeper", "name: shell").replace(
        r#"command: ["sleep", "3600"]"#,
        r#"command: ["sh", "-c", "sleep 3600"]"#,
    );
    apply(&t, "shell.yaml", &shell);
    ready(&t, "shell");
    let took = timed_delete(&t, "shell");
    assert!(took >= Duration::from_secs(3), "took {took:?}");

    // With a TERM trap that waits, the shell exits on SIGTERM.
    let trap = SLEEPER.replace("name: sleeper", "name: trap").replace(
        r#"command: ["sleep", "3600"]"#,
        r#"command: ["sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]"#,
    );
    apply(&t, "trap.yaml", &trap);
    ready(&t, "trap");
    let took = timed_delete(&t, "trap");
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

const PRESTOP: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: drain
  labels: {app: drain}
spec:
  containers:
    - name: web
      image: nginx:1.27
      ports: [{containerPort: 80}]
      lifecycle:
        preStop:
          exec:
            command: ["sleep", "5"]
---
apiVersion: v1
kind: Service
metadata:
  name: drain
spec:
  selector: {app: drain}
  ports: [{port: 80}]
"#;

/// The conditions of the pod's endpoint in the Service's slice.
fn endpoint_conditions(t: &Twin) -> Option<Value> {
    let out = ok(&t.kubectl(&[
        "get",
        "endpointslices",
        "-l",
        "kubernetes.io/service-name=drain",
        "-o",
        "json",
    ]));
    json_of(&out)["items"]
        .as_array()?
        .iter()
        .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
        .map(|e| e["conditions"].clone())
        .next()
}

#[test]
fn a_prestop_sleep_holds_the_pod_and_its_endpoint_terminates_meanwhile() {
    let t = Twin::start(&[]);
    apply(&t, "drain.yaml", PRESTOP);
    ready(&t, "drain");
    wait_for(
        "a ready endpoint",
        Duration::from_secs(10),
        || match endpoint_conditions(&t) {
            Some(c) if c["ready"] == true => Ok(()),
            c => Err(format!("{c:?}")),
        },
    );
    let took = std::thread::scope(|s| {
        let deleting = s.spawn(|| timed_delete(&t, "drain"));
        // While the hook runs: not ready, still serving, terminating (as the EndpointSlice
        // controller writes a terminating pod's endpoint).
        wait_for(
            "a terminating endpoint",
            Duration::from_secs(5),
            || match endpoint_conditions(&t) {
                Some(c) if c["terminating"] == true => {
                    assert_eq!(c["ready"], false, "{c}");
                    assert_eq!(c["serving"], true, "{c}");
                    Ok(())
                }
                c => Err(format!("{c:?}")),
            },
        );
        deleting.join().unwrap()
    });
    assert!(took >= Duration::from_secs(5), "took {took:?}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    wait_for(
        "the endpoint gone",
        Duration::from_secs(5),
        || match endpoint_conditions(&t) {
            None => Ok(()),
            c => Err(format!("{c:?}")),
        },
    );
}

const WEB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
"#;

fn pods(t: &Twin) -> Vec<Value> {
    let out = ok(&t.kubectl(&["get", "pods", "-l", "app=web", "-o", "json"]));
    json_of(&out)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn scale_to_zero_and_rollouts_do_not_wait_for_grace_periods() {
    let t = Twin::start(&[]);
    apply(&t, "web.yaml", WEB);
    ok(&t.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]));

    // The default grace period is 30 s; ordinary containers are gone long before.
    let start = Instant::now();
    ok(&t.kubectl(&["scale", "deploy/web", "--replicas=0"]));
    wait_for("no pods", Duration::from_secs(10), || {
        let n = pods(&t).len();
        (n == 0).then_some(()).ok_or(format!("{n} pods"))
    });
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "scale to 0 took {took:?}");

    ok(&t.kubectl(&["scale", "deploy/web", "--replicas=3"]));
    ok(&t.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]));
    let start = Instant::now();
    ok(&t.kubectl(&["set", "image", "deploy/web", "web=nginx:1.28"]));
    ok(&t.kubectl(&["rollout", "status", "deploy/web", "--timeout=60s"]));
    wait_for("only new pods", Duration::from_secs(10), || {
        let ps = pods(&t);
        let images: Vec<&str> = ps
            .iter()
            .map(|p| p["spec"]["containers"][0]["image"].as_str().unwrap_or(""))
            .collect();
        (images == ["nginx:1.28"; 3])
            .then_some(())
            .ok_or(format!("{images:?}"))
    });
    let took = start.elapsed();
    assert!(took < Duration::from_secs(10), "rollout took {took:?}");
}
