//! Benchmark of runtime provisioning: time from `PUT /v2/service_instances` (what
//! `twinstack runtime create` sends) to the first successful `kubectl get namespaces` on the
//! new runtime, the bind latency (`PUT .../service_bindings/<id>` to the first successful
//! `kubectl get namespaces` with the binding's kubeconfig), and the memory an idle runtime with
//! 10 bindings costs (RSS growth divided by runtimes). Beside it, the published figures of what
//! a user would otherwise wait for. `up` runs with `--operation-time 0`: the figures are
//! twinstack's own work, not the emulated duration of KEB's stages.
//!
//! Run with `bash bench/runtimes.sh [--n 20]`.

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let mut n = 20usize;
    let argv: Vec<String> = std::env::args().collect();
    if let Some(i) = argv.iter().position(|a| a == "--n") {
        n = argv[i + 1].parse().unwrap();
    }
    let bin = std::env::var("TWINSTACK_BIN").unwrap_or_else(|_| "target/release/twinstack".into());
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(&bin)
        .args([
            "up",
            "--operation-time",
            "0",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run bench/runtimes.sh, which builds target/release/twinstack");
    {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        while let Some(Ok(l)) = lines.next() {
            if l.starts_with("export KUBECONFIG=") {
                break;
            }
        }
    }
    let creds: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("broker.json")).unwrap()).unwrap();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("pki/ca.crt")).unwrap())
        .unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(ca)
        .use_rustls_tls()
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let base_rss = rss_kib(child.id());
    let mut times = Vec::new();
    let mut bind_times = Vec::new();
    for i in 0..n {
        let name = format!("bench-{i}");
        let started = Instant::now();
        let r = client
            .put(format!("https://127.0.0.1:{port}/v2/service_instances/{name}?accepts_incomplete=true"))
            .basic_auth(creds["username"].as_str().unwrap(), creds["password"].as_str())
            .header("X-Broker-API-Version", "2.17")
            .json(&json!({"service_id": twinstack_keb::KYMA_SERVICE_ID, "plan_id": twinstack_keb::plan_by_name("aws").unwrap().plan.id(),
                          "context": {"globalaccount_id": "bench", "subaccount_id": "bench", "user_id": "bench"},
                          "parameters": {"name": name, "region": "eu-central-1", "networking": {"nodes": "10.250.0.0/20", "dualStack": true}}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let kubeconfig = dir
            .path()
            .join("kubeconfigs")
            .join(format!("{}.yaml", twinstack_keb::runtime_name(&name)));
        until_kubectl_works(&kubeconfig, &cache.path().join(&name), started);
        times.push(started.elapsed());
        // Ten bindings, each used once with kubectl.
        for b in 0..10 {
            let started = Instant::now();
            let r = client
                .put(format!("https://127.0.0.1:{port}/v2/service_instances/{name}/service_bindings/b{b}?accepts_incomplete=true"))
                .basic_auth(creds["username"].as_str().unwrap(), creds["password"].as_str())
                .header("X-Broker-API-Version", "2.17")
                .json(&json!({"service_id": twinstack_keb::KYMA_SERVICE_ID, "plan_id": twinstack_keb::plan_by_name("aws").unwrap().plan.id()}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
            let v: Value = r.json().await.unwrap();
            let path = dir.path().join(format!("{name}-b{b}.yaml"));
            std::fs::write(&path, v["credentials"]["kubeconfig"].as_str().unwrap()).unwrap();
            until_kubectl_works(&path, &cache.path().join(format!("{name}-b{b}")), started);
            bind_times.push(started.elapsed());
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss = rss_kib(child.id());
    let _ = child.kill();
    let _ = child.wait();
    times.sort();
    bind_times.sort();
    let p = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let pb = |q: f64| bind_times[((bind_times.len() - 1) as f64 * q).round() as usize];
    println!("runtime provisioning: PUT /v2/service_instances → first successful `kubectl get namespaces` ({n} runtimes, dual-stack aws)");
    println!();
    println!("{:<34} {:>12} {:>12}", "", "p50", "p99");
    println!(
        "{:<34} {:>9.0} ms {:>9.0} ms",
        "twinstack (measured)",
        p(0.5).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3
    );
    println!(
        "{:<34} {:>12} {:>12}",
        "kind create cluster (published)", "~30 s", ""
    );
    println!(
        "{:<34} {:>12} {:>12}",
        "Kyma runtime on BTP (published)", "~20-40 min", ""
    );
    println!();
    println!(
        "ratio kind / twinstack (p50): {:.0}x",
        30.0 / p(0.5).as_secs_f64()
    );
    println!("(the p50 includes a kubectl process start, the dominant cost)");
    println!();
    println!(
        "bind: PUT service_binding → first `kubectl get namespaces` with its kubeconfig ({} bindings): p50 {:.0} ms, p99 {:.0} ms",
        bind_times.len(),
        pb(0.5).as_secs_f64() * 1e3,
        pb(0.99).as_secs_f64() * 1e3
    );
    println!("(KEB: `createBindingTimeout` 15 s; the bind itself is three creates and a token)");
    println!(
        "memory: {} KiB RSS before, {} KiB after {n} runtimes with 10 bindings each: {:.0} KiB per idle runtime",
        base_rss,
        rss,
        (rss.saturating_sub(base_rss)) as f64 / n as f64
    );
}

/// Runs `kubectl get namespaces` with `kubeconfig` until it succeeds (30 s at most).
fn until_kubectl_works(kubeconfig: &std::path::Path, cache: &std::path::Path, started: Instant) {
    loop {
        let out = Command::new("kubectl")
            .args(["get", "namespaces", "-o", "name"])
            .env("KUBECONFIG", kubeconfig)
            .env("KUBECACHEDIR", cache)
            .output()
            .unwrap();
        if out.status.success() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
