//! Benchmark of the API's hot paths: creating N dual-stack Services over HTTPS with concurrency,
//! then listing them all, against a real `twinstack up` (release build). It prints creates/s,
//! p50/p99 latency and the server's peak RSS, and, side by side, the same workload on the
//! embedded store alone (the floor the API is built on), with the ratio between the two.
//!
//! Run with `bash bench/api.sh` (builds the release binary first).

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    n: Vec<usize>,
    concurrency: usize,
    lists: usize,
}

fn args() -> Args {
    let mut a = Args {
        n: vec![1000, 10000],
        concurrency: 32,
        lists: 5,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        match argv[i].as_str() {
            "--n" => {
                a.n = argv[i + 1].split(',').map(|x| x.parse().unwrap()).collect();
                i += 1;
            }
            "--concurrency" => {
                a.concurrency = argv[i + 1].parse().unwrap();
                i += 1;
            }
            "--lists" => {
                a.lists = argv[i + 1].parse().unwrap();
                i += 1;
            }
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    a
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn service(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": {"bench": "yes"}},
           "spec": {"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"], "selector": {"app": name},
                    "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    .to_string()
}

struct Run {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

async fn api_creates(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    n: usize,
    conc: usize,
) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (client, url, token, next) = (
            client.clone(),
            url.to_string(),
            token.to_string(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("Content-Type", "application/json")
                    .body(service(&format!("svc-{i}")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
                let _ = r.bytes().await;
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    Run {
        per_sec: n as f64 / secs,
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    }
}

async fn api_lists(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    times: usize,
    expect: usize,
) -> Run {
    let mut lat = Vec::new();
    let started = Instant::now();
    for _ in 0..times {
        let t = Instant::now();
        let v: Value = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(v["items"].as_array().unwrap().len() >= expect);
        lat.push(t.elapsed());
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    Run {
        per_sec: times as f64 / secs,
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    }
}

/// The same number of writes of the same size straight into the store, with the same
/// concurrency: the floor under the API.
async fn store_creates(n: usize, conc: usize) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let store = twinstack_store::Store::open(&dir.path().join("bench.redb")).unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (store, next) = (store.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let body = service(&format!("svc-{i}")).into_bytes();
                let t = Instant::now();
                store
                    .txn(move |txn| -> Result<(), String> {
                        let key = format!("/registry/bench/services/specs/default/svc-{i}");
                        if txn.get(&key).is_some() {
                            return Err("exists".into());
                        }
                        txn.put(&key, body);
                        txn.put(
                            &format!("/registry/bench/ipaddresses/a/{i:032x}"),
                            b"{}".to_vec(),
                        );
                        txn.put(
                            &format!("/registry/bench/ipaddresses/b/{i:032x}"),
                            b"{}".to_vec(),
                        );
                        Ok(())
                    })
                    .await
                    .unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    Run {
        per_sec: n as f64 / secs,
        p50: percentile(&lat, 0.5),
        p99: percentile(&lat, 0.99),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let a = args();
    let bin = std::env::var("TWINSTACK_BIN").unwrap_or_else(|_| "target/release/twinstack".into());
    println!("twinstack API benchmark: dual-stack Service creates (RequireDualStack ClusterIP, 2 cluster IPs each) with concurrency {}", a.concurrency);
    println!();
    println!(
        "{:>7} | {:>14} {:>10} {:>10} | {:>14} {:>10} {:>10} | {:>9} | {:>12} {:>10} | {:>9}",
        "N",
        "API creates/s",
        "p50",
        "p99",
        "store txns/s",
        "p50",
        "p99",
        "API/store",
        "list p50",
        "list p99",
        "peak RSS"
    );
    for &n in &a.n {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(&bin)
            .args(["up", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run bench/api.sh, which builds target/release/twinstack");
        {
            use std::io::BufRead;
            let out = child.stdout.take().unwrap();
            let mut lines = std::io::BufReader::new(out).lines();
            while let Some(Ok(l)) = lines.next() {
                if l.starts_with("export KUBECONFIG=") {
                    break;
                }
            }
        }
        let k = std::fs::read_to_string(dir.path().join("kubeconfig")).unwrap();
        let token = k
            .lines()
            .find_map(|l| l.trim().strip_prefix("token: "))
            .unwrap()
            .to_string();
        let ca =
            reqwest::Certificate::from_pem(&std::fs::read(dir.path().join("pki/ca.crt")).unwrap())
                .unwrap();
        let client = reqwest::Client::builder()
            .add_root_certificate(ca)
            .use_rustls_tls()
            .pool_max_idle_per_host(a.concurrency)
            .build()
            .unwrap();
        let url =
            format!("https://127.0.0.1:{port}/runtimes/local/api/v1/namespaces/default/services");
        let create = api_creates(&client, &url, &token, n, a.concurrency).await;
        let list = api_lists(&client, &url, &token, a.lists, n).await;
        let rss = peak_rss_kib(child.id());
        let _ = child.kill();
        let _ = child.wait();
        let store = store_creates(n, a.concurrency).await;
        println!(
            "{:>7} | {:>14.0} {:>10} {:>10} | {:>14.0} {:>10} {:>10} | {:>8.2}x | {:>12} {:>10} | {:>6} MiB",
            n,
            create.per_sec,
            ms(create.p50),
            ms(create.p99),
            store.per_sec,
            ms(store.p50),
            ms(store.p99),
            create.per_sec / store.per_sec,
            ms(list.p50),
            ms(list.p99),
            rss / 1024
        );
    }
    println!();
    println!("API/store is the share of the store's own throughput that the full API path keeps");
    println!("(HTTPS, decode, defaulting, allocation, validation, managedFields, JSON out).");
}
