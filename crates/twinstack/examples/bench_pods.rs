//! Benchmark of the workload path: D Deployments of R replicas and S dual-stack Services applied
//! with kubectl to a real `twinstack up` (release build); reports pods reaching Running per
//! second, the time until every EndpointSlice is exact, and the server's peak RSS, beside kwok's
//! published figures (20 pods or nodes per second; ~300 MB per cluster for its apiserver).
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

    let mut yaml = String::new();
    for i in 0..d {
        yaml.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\nspec:\n  replicas: {r}\n  selector:\n    matchLabels:\n      app: app-{i}\n  template:\n    metadata:\n      labels:\n        app: app-{i}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n---\n"
        ));
    }
    for j in 0..s {
        yaml.push_str(&format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-{j}\nspec:\n  ipFamilyPolicy: RequireDualStack\n  ipFamilies: [IPv6, IPv4]\n  selector:\n    app: app-{}\n  ports:\n  - port: 80\n---\n",
            j % d
        ));
    }
    let manifest = dir.path().join("bench.yaml");
    std::fs::write(&manifest, yaml).unwrap();
    let started = Instant::now();
    let out = Command::new("kubectl")
        .args(["apply", "-f"])
        .arg(&manifest)
        .env("KUBECONFIG", &kubeconfig)
        .env("KUBECACHEDIR", dir.path().join("cache"))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let total = d * r;
    let get = |path: String| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            client
                .get(path)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let running_at = loop {
        let pods = get(format!("{base}/api/v1/namespaces/default/pods")).await;
        let running = pods["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"]["phase"] == "Running")
            .count();
        if running >= total {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "only {running}/{total} Running"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let slices_at = loop {
        let slices = get(format!(
            "{base}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"
        ))
        .await;
        let mut per_service = std::collections::BTreeMap::<String, usize>::new();
        for sl in slices["items"].as_array().unwrap() {
            let svc = sl["metadata"]["labels"]["kubernetes.io/service-name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let ready = sl["endpoints"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter(|x| x["conditions"]["ready"] == true)
                        .count()
                })
                .unwrap_or(0);
            *per_service.entry(svc).or_default() += ready;
        }
        let exact = (0..s).all(|j| per_service.get(&format!("svc-{j}")) == Some(&(2 * r)));
        if exact {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "slices not exact"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let rss = peak_rss_mib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let rate = total as f64 / running_at.as_secs_f64();
    println!(
        "{d} Deployments x {r} replicas = {total} pods, {s} dual-stack Services, {nodes} nodes"
    );
    println!();
    println!(
        "{:<28} {:>16} {:>22} {:>12}",
        "", "pods Running/s", "all slices exact after", "peak RSS"
    );
    println!(
        "{:<28} {:>16.0} {:>20.1} s {:>8} MiB",
        "twinstack (measured)",
        rate,
        slices_at.as_secs_f64(),
        rss
    );
    println!(
        "{:<28} {:>16} {:>22} {:>12}",
        "kwok (published)", "20", "-", "~300 MB"
    );
    println!();
    println!(
        "ratio twinstack / kwok pods per second: {:.0}x (issue's aim: 50x)",
        rate / 20.0
    );
}
