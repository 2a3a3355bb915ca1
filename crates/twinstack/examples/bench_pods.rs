//! Benchmark of the workload path: S dual-stack Services, then D Deployments of R replicas,
//! created over HTTPS on a real `twinstack up` (release build); reports pods reaching Running
//! per second (counted from a pod watch), the time until every EndpointSlice is exact, the
//! server's CPU seconds per 1,000 pods and its peak RSS, beside kwok's published figures
//! (20 pods or nodes per second; ~300 MB per cluster for its apiserver).
//!
//! Run with `bash bench/pods.sh [--deployments 100 --replicas 100 --services 1000 --nodes 100]`.

use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn arg(name: &str, default: usize) -> usize {
    let a: Vec<String> = std::env::args().collect();
    a.iter()
        .position(|x| x == name)
        .map(|i| a[i + 1].parse().unwrap())
        .unwrap_or(default)
}

/// The parts of watch events the benchmark reads; serde skips the rest without building it.
mod ev {
    use serde::Deserialize;
    use std::collections::HashMap;

    #[derive(Deserialize)]
    pub struct Meta {
        #[serde(default)]
        pub name: String,
        #[serde(default)]
        pub labels: HashMap<String, String>,
    }
    #[derive(Deserialize)]
    pub struct Pod {
        pub r#type: String,
        pub object: PodObject,
    }
    #[derive(Deserialize)]
    pub struct PodObject {
        pub metadata: Meta,
        pub status: Option<PodStatus>,
    }
    #[derive(Deserialize)]
    pub struct PodStatus {
        pub phase: Option<String>,
    }
    #[derive(Deserialize)]
    pub struct Slice {
        pub r#type: String,
        pub object: SliceObject,
    }
    #[derive(Deserialize)]
    pub struct SliceObject {
        pub metadata: Meta,
        #[serde(default)]
        pub endpoints: Vec<Endpoint>,
    }
    #[derive(Deserialize)]
    pub struct Endpoint {
        #[serde(default)]
        pub conditions: Conditions,
    }
    #[derive(Deserialize, Default)]
    pub struct Conditions {
        pub ready: Option<bool>,
    }
}

/// Reads a watch response line by line, handing each event to `step` until it says done;
/// returns the time since `started`.
async fn follow<T: serde::de::DeserializeOwned>(
    resp: reqwest::Response,
    started: Instant,
    mut step: impl FnMut(T) -> bool,
) -> Duration {
    use futures_util::StreamExt;
    let mut body = resp.bytes_stream();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        let scanned = buf.len();
        buf.extend_from_slice(&chunk);
        // Only the new bytes can hold a newline not yet seen.
        let mut from = 0;
        let mut search = scanned;
        while let Some(i) = buf[search..].iter().position(|b| *b == b'\n') {
            let end = search + i;
            if let Ok(ev) = serde_json::from_slice::<T>(&buf[from..end]) {
                if step(ev) {
                    return started.elapsed();
                }
            }
            from = end + 1;
            search = from;
        }
        buf.drain(..from);
    }
    panic!("watch ended before the condition held");
}

/// User plus system CPU seconds the process has used.
fn cpu_seconds(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let rest = s.rsplit_once(')').map_or("", |x| x.1);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    ticks as f64 / 100.0
}

fn peak_rss_mib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        / 1024
}

#[tokio::main]
async fn main() {
    let (d, r, s, nodes) = (
        arg("--deployments", 10),
        arg("--replicas", 100),
        arg("--services", 100),
        arg("--nodes", 20),
    );
    let bin = std::env::var("TWINSTACK_BIN").unwrap_or_else(|_| "target/release/twinstack".into());
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(&bin)
        .args([
            "up",
            "--listen",
            "127.0.0.1:0",
            "--nodes",
            &nodes.to_string(),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run bench/pods.sh, which builds target/release/twinstack");
    let mut base = String::new();
    {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        while let Some(Ok(l)) = lines.next() {
            if let Some(u) = l.split(" at ").nth(1) {
                base = u.to_string();
            }
            if l.starts_with("export KUBECONFIG=") {
                break;
            }
        }
    }
    let kubeconfig = dir.path().join("kubeconfig");
    let k = std::fs::read_to_string(&kubeconfig).unwrap();
    let token = k
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("pki/ca.crt")).unwrap())
        .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .use_rustls_tls()
        .build()
        .unwrap();

    // Objects are created with concurrent POSTs, as a client library or CI would: kubectl
    // would add its client-side rate limit (client-go's default 5 requests/s) to the figures.
    let post = |path: String, body: Value| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            let resp = client
                .post(path)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(
                resp.status().is_success(),
                "{}",
                resp.text().await.unwrap_or_default()
            );
        }
    };
    let create_all = |path: String, bodies: Vec<Value>| {
        use futures_util::StreamExt;
        futures_util::stream::iter(bodies).for_each_concurrent(32, move |b| post(path.clone(), b))
    };
    // The Services first, so that the timed part is the platform's work on the workloads.
    let services: Vec<Value> = (0..s)
        .map(|j| {
            serde_json::json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": format!("svc-{j}")},
                "spec": {
                    "ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"],
                    "selector": {"app": format!("app-{}", j % d)},
                    "ports": [{"port": 80}]
                }
            })
        })
        .collect();
    let t = Instant::now();
    create_all(
        format!("{base}/api/v1/namespaces/default/services"),
        services,
    )
    .await;
    let services_took = t.elapsed();
    let deployments: Vec<Value> = (0..d)
        .map(|i| {
            let app = format!("app-{i}");
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": app},
                "spec": {
                    "replicas": r,
                    "selector": {"matchLabels": {"app": app}},
                    "template": {
                        "metadata": {"labels": {"app": app}},
                        "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}
                    }
                }
            })
        })
        .collect();
    let total = d * r;

    // Pods reaching Running are counted from a watch (as `kubectl get pods -w` would see
    // them), so that measuring does not load the server with repeated lists.
    let watch = client
        .get(format!(
            "{base}/api/v1/namespaces/default/pods?watch=1&resourceVersion=0"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(watch.status().is_success());
    let cpu_before = cpu_seconds(child.id());
    let started = Instant::now();
    let mut running = std::collections::HashSet::<String>::new();
    let running = tokio::spawn(follow(watch, started, move |ev: ev::Pod| {
        let name = ev.object.metadata.name;
        let phase = ev.object.status.and_then(|s| s.phase);
        if ev.r#type != "DELETED" && phase.as_deref() == Some("Running") {
            running.insert(name);
        } else {
            running.remove(&name);
        }
        running.len() >= total
    }));
    // EndpointSlices are followed with a watch too: each Service is exact once its slices
    // hold 2·R ready endpoints.
    let slices_watch = client
        .get(format!(
            "{base}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=1&resourceVersion=0"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(slices_watch.status().is_success());
    let mut per_slice = std::collections::HashMap::<String, (String, usize)>::new();
    let mut per_service = std::collections::HashMap::<String, usize>::new();
    let mut exact = 0usize;
    let slices = tokio::spawn(follow(slices_watch, started, move |ev: ev::Slice| {
        let o = ev.object;
        let svc = o
            .metadata
            .labels
            .get("kubernetes.io/service-name")
            .cloned()
            .unwrap_or_default();
        let n = if ev.r#type == "DELETED" {
            0
        } else {
            o.endpoints
                .iter()
                .filter(|e| e.conditions.ready == Some(true))
                .count()
        };
        let want = 2 * r;
        let mut adjust = |svc: &str, delta: isize| {
            let sum = per_service.entry(svc.to_string()).or_default();
            let before = *sum == want;
            *sum = sum.saturating_add_signed(delta);
            match (before, *sum == want) {
                (false, true) => exact += 1,
                (true, false) => exact -= 1,
                _ => {}
            }
        };
        if let Some((old_svc, old_n)) = per_slice.insert(o.metadata.name, (svc.clone(), n)) {
            adjust(&old_svc, -(old_n as isize));
        }
        adjust(&svc, n as isize);
        exact >= s
    }));
    create_all(
        format!("{base}/apis/apps/v1/namespaces/default/deployments"),
        deployments,
    )
    .await;
    let applied = started.elapsed();
    let running_at = tokio::time::timeout(Duration::from_secs(1800), running)
        .await
        .expect("all pods Running within 30 minutes")
        .unwrap();
    let slices_at = tokio::time::timeout(Duration::from_secs(1800), slices)
        .await
        .expect("all slices exact within 30 minutes")
        .unwrap();
    let cpu = cpu_seconds(child.id()) - cpu_before;
    let rss = peak_rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let rate = total as f64 / running_at.as_secs_f64();
    println!(
        "{d} Deployments x {r} replicas = {total} pods, {s} dual-stack Services, {nodes} nodes"
    );
    println!(
        "{s} Services created in {:.1} s; Deployments created in {:.1} s",
        services_took.as_secs_f64(),
        applied.as_secs_f64()
    );
    println!();
    println!(
        "{:<22} {:>15} {:>16} {:>15} {:>10}",
        "", "pods Running/s", "slices exact at", "CPU s/1k pods", "peak RSS"
    );
    println!(
        "{:<22} {:>15.0} {:>14.1} s {:>15.2} {:>6} MiB",
        "twinstack (measured)",
        rate,
        slices_at.as_secs_f64(),
        cpu / total as f64 * 1000.0,
        rss
    );
    println!(
        "{:<22} {:>15} {:>16} {:>15} {:>10}",
        "kwok (published)", "20", "-", "-", "~300 MB"
    );
    println!();
    println!(
        "ratios: pods/s {:.0}x kwok (issue's aim: 50x); peak RSS {:.2}x kwok's 300 MB",
        rate / 20.0,
        rss as f64 * 1.048576 / 300.0
    );
}
