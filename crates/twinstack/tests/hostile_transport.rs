//! Hostile transport: what a client without a token, or with one runtime's token, can do to the
//! server's memory, metrics and connections. Each test reproduces an attack that succeeded
//! before (issue 8, findings 4, 5 and 6) and ends by checking that the server's peak RSS stayed
//! under 500 MB.

mod common;
use common::*;
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const RSS_LIMIT: u64 = 500 * 1024 * 1024;

fn assert_rss_bounded(t: &Twin) {
    let peak = t.peak_rss_bytes();
    assert!(peak < RSS_LIMIT, "peak RSS {} MiB", peak >> 20);
}

/// A splitmix64 stream: random-looking names without a dependency.
struct Names(u64);

impl Names {
    fn next(&mut self) -> String {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        format!("{:016x}", z ^ (z >> 31))
    }
}

/// The platform credential (the broker's), which `/metrics` asks for.
fn admin(t: &Twin) -> (String, String) {
    let creds: Value =
        serde_json::from_slice(&std::fs::read(t.data_dir().join("broker.json")).unwrap()).unwrap();
    (
        creds["username"].as_str().unwrap().into(),
        creds["password"].as_str().unwrap().into(),
    )
}

fn url(t: &Twin, path: &str) -> String {
    format!("https://127.0.0.1:{}{path}", t.port)
}

fn client_builder(t: &Twin) -> reqwest::ClientBuilder {
    let ca = reqwest::Certificate::from_pem(&t.ca_pem()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .use_rustls_tls()
}

async fn text(r: reqwest::RequestBuilder) -> (u16, String) {
    let resp = r.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// The series of a metrics text (each line without its value).
fn series(metrics: &str) -> BTreeSet<String> {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').map(|(s, _)| s.to_string()))
        .collect()
}

/// One request that a stranger could send: random segments under every route, random methods;
/// every tenth with the runtime's token on random paths (a tenant probing).
fn hostile_request(
    c: &reqwest::Client,
    t: &Twin,
    token: &str,
    names: &mut Names,
    i: usize,
) -> reqwest::RequestBuilder {
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "PROPFIND", "X-RANDOM",
    ];
    let method = reqwest::Method::from_bytes(methods[i % methods.len()].as_bytes()).unwrap();
    let (a, b, c3) = (names.next(), names.next(), names.next());
    let path = match i % 6 {
        0 => format!("/runtimes/{a}/api/v1/namespaces/{b}/{c3}?watch={a}&dryRun={b}"),
        1 => format!("/runtimes/local/apis/{a}/{b}/{c3}/x/y"),
        2 => format!("/runtimes/local/api/v1/{a}/{b}/{c3}"),
        3 => format!("/{a}/{b}"),
        4 => format!("/v2/{a}/{b}"),
        _ => format!("/runtimes/{a}"),
    };
    let r = c.request(method, url(t, &path));
    if i.is_multiple_of(10) {
        r.bearer_auth(token)
    } else {
        r.bearer_auth(a)
    }
}

async fn fire(t: &Twin, c: &reqwest::Client, range: std::ops::Range<usize>) {
    let token = t.token();
    let mut names = Names(range.start as u64);
    let requests: Vec<_> = range
        .clone()
        .map(|i| hostile_request(c, t, &token, &mut names, i))
        .collect();
    let codes: Vec<u16> = futures_util::stream::iter(requests)
        .map(|r| async move {
            let resp = r.send().await.unwrap();
            let code = resp.status().as_u16();
            resp.bytes().await.unwrap();
            code
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(codes.len(), range.len());
    for code in codes {
        assert!([401, 403, 404, 405].contains(&code), "{code}");
    }
}

/// Finding 4: 40,000 requests with random path segments (36,000 of them without a credential)
/// leave `/metrics` with the same series and the server's memory where it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_paths_add_no_series_and_no_memory() {
    let t = Twin::start(&[]);
    let c = t.client();
    let (user, pass) = admin(&t);
    let scrape = || {
        let r = c.get(url(&t, "/metrics")).basic_auth(&user, Some(&pass));
        async move {
            let (code, body) = text(r).await;
            assert_eq!(code, 200, "{body}");
            body
        }
    };
    fire(&t, &c, 0..4_000).await;
    let warm = scrape().await;
    let warm_rss = t.peak_rss_bytes();
    fire(&t, &c, 4_000..40_000).await;
    let end = scrape().await;
    assert_eq!(series(&end), series(&warm), "new series appeared");
    // Only the counters' digits grew.
    assert!(
        end.len() < warm.len() + 1_024,
        "{} -> {} bytes",
        warm.len(),
        end.len()
    );
    assert!(
        end.contains("authentication_attempts_total{result=\"failure\"}"),
        "{end}"
    );
    assert!(end.contains("resource=\"other\""), "{end}");
    eprintln!(
        "/metrics {} -> {} bytes; peak RSS {} -> {} MiB",
        warm.len(),
        end.len(),
        warm_rss >> 20,
        t.peak_rss_bytes() >> 20
    );
    let grown = t.peak_rss_bytes().saturating_sub(warm_rss);
    assert!(grown < 32 << 20, "RSS grew {} MiB", grown >> 20);
    assert_rss_bounded(&t);
}

/// Finding 4: `/metrics` showed every tenant's activity to anyone. Now each runtime reads its own
/// under its path with its token, and the aggregate needs the platform credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_per_runtime_behind_its_token() {
    let t = Twin::start(&[]);
    let created = std::process::Command::new(bin())
        .args(["runtime", "create", "other", "--plan", "aws", "--data-dir"])
        .arg(t.data_dir())
        .output()
        .unwrap();
    ok(&created);
    let kubeconfig = t.kubeconfig_of("other");
    let other = t.runtime_of("other");
    let other_token = std::fs::read_to_string(kubeconfig)
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: ").map(String::from))
        .unwrap();
    let token = t.token();
    let c = t.client();
    // Each runtime does something the other does not.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine"}});
    let (code, _) = text(
        c.post(url(
            &t,
            "/runtimes/local/api/v1/namespaces/default/configmaps",
        ))
        .bearer_auth(&token)
        .json(&cm),
    )
    .await;
    assert_eq!(code, 201);
    let (code, _) = text(
        c.get(url(
            &t,
            &format!("/runtimes/{other}/api/v1/namespaces/default/secrets"),
        ))
        .bearer_auth(&other_token),
    )
    .await;
    assert_eq!(code, 200);

    let (code, body) = text(c.get(url(&t, "/runtimes/local/metrics"))).await;
    assert_eq!(code, 401, "{body}");
    let (code, body) = text(
        c.get(url(&t, &format!("/runtimes/{other}/metrics")))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    let status: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        status["message"],
        "forbidden: User \"admin\" cannot get path \"/metrics\""
    );

    let (code, mine) = text(
        c.get(url(&t, "/runtimes/local/metrics"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(code, 200);
    assert!(mine.contains("verb=\"POST\",dry_run=\"\",group=\"\",version=\"v1\",resource=\"configmaps\",subresource=\"\",scope=\"resource\",component=\"apiserver\",code=\"201\"} 1"), "{mine}");
    assert!(!mine.contains("secrets"), "{mine}");
    let (code, theirs) = text(
        c.get(url(&t, &format!("/runtimes/{other}/metrics")))
            .bearer_auth(&other_token),
    )
    .await;
    assert_eq!(code, 200);
    assert!(theirs.contains("resource=\"secrets\""), "{theirs}");
    assert!(!theirs.contains("configmaps"), "{theirs}");

    let (user, pass) = admin(&t);
    for creds in [None, Some((user.clone(), "wrong".to_string()))] {
        let mut r = c.get(url(&t, "/metrics"));
        if let Some((u, p)) = creds {
            r = r.basic_auth(u, Some(p));
        }
        let (code, body) = text(r).await;
        assert_eq!(code, 401, "{body}");
    }
    let (code, body) = text(c.get(url(&t, "/metrics")).bearer_auth(&token)).await;
    assert_eq!(
        code, 401,
        "a runtime's token does not open the aggregate: {body}"
    );
    let (code, all) = text(c.get(url(&t, "/metrics")).basic_auth(&user, Some(&pass))).await;
    assert_eq!(code, 200);
    assert!(all.contains("resource=\"secrets\""), "{all}");
    assert!(all.contains("resource=\"configmaps\""), "{all}");
    assert!(all.contains("twinstack_store_revision"), "{all}");
    assert!(!all.contains("runtime="), "no per-tenant labels: {all}");
    // Health stays open.
    for path in ["/healthz", "/readyz", "/livez"] {
        let (code, body) = text(c.get(url(&t, path))).await;
        assert_eq!((code, body.as_str()), (200, "ok"), "{path}");
    }
    assert_rss_bounded(&t);
}

fn tls_config(t: &Twin, alpn: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut t.ca_pem().as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    cfg.alpn_protocols = vec![alpn.to_vec()];
    Arc::new(cfg)
}

async fn tls_connect(
    port: u16,
    cfg: Arc<rustls::ClientConfig>,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(cfg)
        .connect(name, tcp)
        .await
        .unwrap()
}

/// Sends `head`, then one more byte every 300 ms, never completing the request; returns how
/// long the server kept the connection open.
async fn slowloris(
    port: u16,
    cfg: Arc<rustls::ClientConfig>,
    head: Vec<u8>,
    trickle: u8,
) -> Duration {
    let s = tls_connect(port, cfg).await;
    let opened = Instant::now();
    let (mut r, mut w) = tokio::io::split(s);
    let reader = async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let writer = async move {
        if w.write_all(&head).await.is_ok() {
            while w.write_all(&[trickle]).await.is_ok() {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = reader => {}
        _ = writer => {}
    }
    opened.elapsed()
}

/// The start of an HTTP/2 connection whose first HEADERS frame announces 200 bytes that then
/// come one at a time.
fn h2_slow_head() -> Vec<u8> {
    let mut b = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    b.extend_from_slice(&[0, 0, 0, 0x4, 0, 0, 0, 0, 0]); // SETTINGS, empty
    b.extend_from_slice(&[0, 0, 200, 0x1, 0x4, 0, 0, 0, 1]); // HEADERS, END_HEADERS, stream 1
    b
}

/// Finding 6: slowloris. 400 connections send HTTP/1.1 headers byte by byte and 100 send an
/// HTTP/2 HEADERS frame byte by byte; the server closes each after its header (HTTP/1.1) or idle
/// (HTTP/2) timeout and serves everyone else meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slowloris_is_cut_off_and_others_are_served() {
    let t = Twin::start(&["--header-timeout", "2", "--idle-timeout", "3"]);
    let h1 = tls_config(&t, b"http/1.1");
    let h2 = tls_config(&t, b"h2");
    let mut attack = tokio::task::JoinSet::new();
    for i in 0..500 {
        let (cfg, head, trickle) = if i % 5 == 0 {
            (h2.clone(), h2_slow_head(), 0u8)
        } else {
            let head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".to_vec();
            (h1.clone(), head, b'a')
        };
        let port = t.port;
        attack.spawn(async move { (i % 5 == 0, slowloris(port, cfg, head, trickle).await) });
    }
    // Meanwhile others are served, over both protocols.
    let token = t.token();
    for c in [
        client_builder(&t).http1_only().build().unwrap(),
        client_builder(&t).http2_prior_knowledge().build().unwrap(),
    ] {
        for _ in 0..20 {
            let started = Instant::now();
            let (code, _) = text(
                c.get(url(&t, "/runtimes/local/api/v1/namespaces"))
                    .bearer_auth(&token),
            )
            .await;
            assert_eq!(code, 200);
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "{:?}",
                started.elapsed()
            );
        }
    }
    // Every slow connection is closed by the server: HTTP/1.1 after its 2 s header timeout,
    // HTTP/2 after the 3 s idle timeout and the 5 s it is given to take its GOAWAY.
    let all = tokio::time::timeout(Duration::from_secs(30), async {
        let mut held = Vec::new();
        while let Some(r) = attack.join_next().await {
            held.push(r.unwrap());
        }
        held
    })
    .await
    .expect("the server closes slow connections");
    assert_eq!(all.len(), 500);
    for (is_h2, held) in all {
        let bound = if is_h2 { 3 + 5 + 4 } else { 2 + 4 };
        assert!(
            held < Duration::from_secs(bound),
            "h2={is_h2}: held {held:?}"
        );
    }
    assert_rss_bounded(&t);
}

/// The kernel's accept queue length of the listening socket on `port` (`/proc/net/tcp`).
fn listen_backlog(port: u16) -> usize {
    let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.get(1) == Some(&local.as_str()) && f.get(3) == Some(&"0A"))
        .and_then(|f| f[4].split_once(':'))
        .map(|(_, rx)| usize::from_str_radix(rx, 16).unwrap())
        .unwrap_or(0)
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Finding 6: a connection limit with a clear behaviour. With every slot held, a new client waits
/// in the listen backlog (it is not refused) and is served as soon as a slot frees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_connection_limit_new_clients_wait_for_a_slot() {
    let t = Twin::start(&["--max-connections", "16"]);
    let mut held = Vec::new();
    for _ in 0..16 {
        held.push(TcpStream::connect(("127.0.0.1", t.port)).await.unwrap());
    }
    wait_until("the limit warning", || {
        t.stderr().contains("connection limit reached")
    })
    .await;
    let c = t.client();
    let pending = tokio::spawn(c.get(url(&t, "/readyz")).send());
    wait_until("the client in the backlog", || listen_backlog(t.port) == 1).await;
    assert!(!pending.is_finished());
    held.pop();
    let resp = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("served once a slot is free")
        .unwrap()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_rss_bounded(&t);
}

fn configmaps(t: &Twin) -> String {
    url(t, "/runtimes/local/api/v1/namespaces/default/configmaps")
}

/// Finding 6: over HTTP/2 a body declaring 100 MB got no answer until it had arrived in part.
/// Now it is refused at once with 413, as soon as its headers are in; bodies sent in full are
/// refused at 3 MiB on both protocols, and a body that stops arriving is answered 504 when the
/// request times out, on both.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn large_and_stalled_bodies_are_answered_on_both_protocols() {
    let t = Twin::start(&["--request-timeout", "3"]);
    let token = t.token();
    let post = |c: &reqwest::Client, body: reqwest::Body, length: Option<u64>| {
        let mut r = c
            .post(configmaps(&t))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(n) = length {
            r = r.header("Content-Length", n.to_string());
        }
        async move {
            tokio::time::timeout(Duration::from_secs(20), r.send())
                .await
                .expect("an answer")
                .unwrap()
        }
    };
    let too_large = |resp: reqwest::Response| async move {
        assert_eq!(resp.status().as_u16(), 413);
        let status: Value = resp.json().await.unwrap();
        assert_eq!(
            status["message"],
            "Request entity too large: limit is 3145728"
        );
    };
    let megabytes = |n: usize| {
        let chunks = (0..n).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1 << 20]));
        reqwest::Body::wrap_stream(futures_util::stream::iter(chunks))
    };
    let first_bytes_only = || {
        let first = futures_util::stream::iter([Ok::<_, std::io::Error>(b"{\"a\":".to_vec())]);
        reqwest::Body::wrap_stream(first.chain(futures_util::stream::pending()))
    };
    let h1 = client_builder(&t).http1_only().build().unwrap();
    let h2 = client_builder(&t).http2_prior_knowledge().build().unwrap();

    // HTTP/2: 100 MB declared, and only the first bytes sent.
    too_large(post(&h2, first_bytes_only(), Some(100 << 20)).await).await;
    // 100 MB sent as fast as the server takes them, declared or not (HTTP/1.1 declares it).
    too_large(post(&h2, megabytes(100), Some(100 << 20)).await).await;
    too_large(post(&h2, megabytes(100), None).await).await;
    too_large(post(&h1, megabytes(100), Some(100 << 20)).await).await;

    // A small body of which only the first bytes ever arrive: 504 after the request timeout.
    for (proto, c) in [("HTTP/1.1", &h1), ("HTTP/2", &h2)] {
        let started = Instant::now();
        let resp = post(c, first_bytes_only(), Some(1000)).await;
        assert_eq!(resp.status().as_u16(), 504, "{proto}");
        assert!(started.elapsed() >= Duration::from_secs(3), "{proto}");
        let status: Value = resp.json().await.unwrap();
        assert_eq!(status["reason"], "Timeout", "{status}");
        assert_eq!(
            status["message"],
            "Timeout: request did not complete within the allotted timeout"
        );
        // The server is still there for everyone else.
        let (code, _) = text(c.get(url(&t, "/readyz"))).await;
        assert_eq!(code, 200, "{proto}");
    }
    assert_rss_bounded(&t);
}

/// Reads a watch body into events until it ends; `Err` if it broke instead of ending.
async fn read_events(resp: reqwest::Response) -> Result<Vec<Value>, String> {
    let mut stream = resp.bytes_stream();
    let mut buf = Vec::new();
    let mut events = Vec::new();
    while let Some(chunk) = stream.next().await {
        buf.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            events.push(serde_json::from_slice(&line).map_err(|e| e.to_string())?);
        }
    }
    Ok(events)
}

fn event_rv(ev: &Value) -> u64 {
    ev["object"]["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Finding 5: a watcher that does not read held ~52 MB (40 of them 2.2 GB). Now 40 watchers
/// that never read (20 on their own HTTP/1.1 connections, 20 as streams of one HTTP/2
/// connection) are ended while 20 MB of ConfigMaps are written; a watcher that reads gets every
/// event; the ended streams close cleanly after a prefix of the events, so their clients know
/// to watch again or re-list.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watchers_that_do_not_read_are_ended() {
    const WRITES: usize = 200;
    let t = Twin::start(&[]);
    let began = Instant::now();
    let token = t.token();
    let writer = t.client();
    let (_, list) = text(writer.get(configmaps(&t)).bearer_auth(&token)).await;
    let rv = serde_json::from_str::<Value>(&list).unwrap()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let watch_url = format!("{}?watch=true&resourceVersion={rv}", configmaps(&t));
    let h1 = client_builder(&t).http1_only().build().unwrap();
    let h2 = client_builder(&t).http2_prior_knowledge().build().unwrap();
    let mut stalled = Vec::new();
    for i in 0..40 {
        let c = if i % 2 == 0 { &h1 } else { &h2 };
        let resp = c.get(&watch_url).bearer_auth(&token).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        stalled.push(resp);
    }
    let reading = {
        let resp = t
            .client()
            .get(&watch_url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        tokio::spawn(async move {
            let mut stream = resp.bytes_stream();
            let (mut buf, mut events) = (Vec::new(), Vec::new());
            while events.len() < WRITES {
                let chunk = tokio::time::timeout(Duration::from_secs(60), stream.next())
                    .await
                    .expect("the reading watcher keeps receiving")
                    .expect("the reading watcher stays open")
                    .unwrap();
                buf.extend_from_slice(&chunk);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    events.push(serde_json::from_slice::<Value>(&line).unwrap());
                }
            }
            events
        })
    };
    let data = "x".repeat(100_000);
    let codes: Vec<u16> = futures_util::stream::iter(0..WRITES)
        .map(|i| {
            let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i}")}, "data": {"v": data}});
            let r = writer.post(configmaps(&t)).bearer_auth(&token).json(&cm);
            async move { r.send().await.unwrap().status().as_u16() }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(codes.iter().all(|c| *c == 201), "{codes:?}");
    eprintln!(
        "writes done after {:?}; peak RSS {} MiB",
        began.elapsed(),
        t.peak_rss_bytes() >> 20
    );

    let seen = reading.await.unwrap();
    assert!(seen.iter().all(|e| e["type"] == "ADDED"));
    let rvs: Vec<u64> = seen.iter().map(event_rv).collect();
    assert!(rvs.windows(2).all(|w| w[0] < w[1]), "in order, once each");

    // Every stalled watcher was ended for not reading...
    let terminated = "apiserver_terminated_watchers_total{resource=\"configmaps\"} 40";
    let metrics_url = url(&t, "/runtimes/local/metrics");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, m) = text(writer.get(&metrics_url).bearer_auth(&token)).await;
        if m.contains(terminated) {
            break;
        }
        assert!(Instant::now() < deadline, "not all 40 ended:\n{m}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "all ended after {:?}; peak RSS {} MiB",
        began.elapsed(),
        t.peak_rss_bytes() >> 20
    );
    assert_rss_bounded(&t);
    // ...and its stream, read now, ends cleanly after a prefix of what the reader saw. (They
    // are read together: the HTTP/2 ones share their connection's flow-control window.)
    let ended = tokio::time::timeout(
        Duration::from_secs(60),
        futures_util::future::join_all(stalled.into_iter().map(read_events)),
    )
    .await
    .expect("the ended streams close");
    for events in ended {
        let events = events.expect("it ends, it does not break");
        assert!(events.len() < WRITES, "{} events", events.len());
        assert_eq!(events.as_slice(), &seen[..events.len()]);
    }
    // The clients re-list and find everything.
    let (_, list) = text(writer.get(configmaps(&t)).bearer_auth(&token)).await;
    // (The namespace also holds its kube-root-ca.crt.)
    let items = serde_json::from_str::<Value>(&list).unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|cm| {
            cm["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("cm-"))
        })
        .count();
    assert_eq!(items, WRITES);
    assert_rss_bounded(&t);
}
