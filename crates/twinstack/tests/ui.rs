//! The web view (`/ui/`) in a real browser: Debian's headless Chromium driven through
//! chromedriver (WebDriver), against the real `twinstack up`. The page must show every address
//! of the seed's NLB Service as text, follow a `kubectl scale` live, draw the NLB's translation
//! in the trace view, and open nothing of one runtime with another's token.
//!
//! With `TWINSTACK_UI_SCREENSHOTS=DIR` set, the tests save PNGs of the views they reach
//! (`docs/ui/screenshots.sh` sets it to `docs/ui`).

mod common;

use common::osb::{Osb, AWS};
use common::{free_port, ok, Twin};
use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// chromedriver on a free loopback port, ended with the test.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Driver {
    // chromedriver listens on 127.0.0.1 and [::1] and gives up when either is taken: the data
    // plane's IPv6 frontends hold many ports of [::1], so a port free on IPv4 may not be.
    let mut last = String::new();
    for _ in 0..20 {
        let port = free_port();
        let log = tempfile::NamedTempFile::new().unwrap();
        let mut child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver: {e}; install Debian's chromium and chromium-driver (.ci/run does)")
            });
        let start = Instant::now();
        // chromedriver is ready once it accepts connections.
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Driver { child, port };
            }
            let exited = child.try_wait().unwrap();
            if exited.is_some() || start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                last = format!(
                    "chromedriver did not listen on {port} ({exited:?}): {}",
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("{last}")
}

/// A headless Chromium session. The server's certificate is signed by the twin's own CA, which
/// the browser does not know: certificate errors are accepted for this session only.
async fn browser(d: &Driver) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "acceptInsecureCerts": true,
        "goog:chromeOptions": {
            "binary": chromium_binary(),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--ignore-certificate-errors", "--window-size=1400,1000"],
        },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", d.port))
        .await
        .expect("a chromium session through chromedriver")
}

fn chromium_binary() -> String {
    for b in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if std::path::Path::new(b).exists() {
            return b.to_string();
        }
    }
    panic!("chromium is not installed (apt-get install chromium chromium-driver; .ci/run does)")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn apply(t: &Twin, yaml: &str) {
    ok(&t.kubectl_with("kubectl", &["apply", "-f", "-"], Some(yaml)));
}

/// The seed's workload behind its AWS Service: whoami on the Service's targetPort.
const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: whoami
        image: traefik/whoami:v1.10
        args: ["--port", "8080"]
        ports: [{containerPort: 8080}]
"#;

async fn text(c: &Client) -> String {
    c.execute("return document.body.innerText", vec![])
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits until the page's text holds every one of `want`; fails with what is missing.
async fn wait_for_text(c: &Client, want: &[String], within: Duration) -> String {
    let start = Instant::now();
    loop {
        let page = text(c).await;
        let missing: Vec<&String> = want.iter().filter(|w| !page.contains(w.as_str())).collect();
        if missing.is_empty() {
            return page;
        }
        assert!(
            start.elapsed() < within,
            "the page does not show {missing:?}; it shows:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn screenshot(c: &Client, name: &str) {
    let Ok(dir) = std::env::var("TWINSTACK_UI_SCREENSHOTS") else {
        return;
    };
    let png = c.screenshot().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
}

fn kubectl_json(t: &Twin, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["-o", "json"]);
    serde_json::from_str(&ok(&t.kubectl(&a))).unwrap()
}

/// Polls kubectl until `f` holds (controllers write asynchronously).
fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not happen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The pods of `app=web` that are Running with an address of each family.
fn pod_ips(t: &Twin, want: usize, families: usize) -> Option<Vec<(String, Vec<String>)>> {
    let pods = kubectl_json(t, &["get", "pods", "-l", "app=web"]);
    let list: Vec<(String, Vec<String>)> = pods["items"]
        .as_array()?
        .iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .map(|p| {
            let ips = p["status"]["podIPs"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|i| i["ip"].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (p["metadata"]["name"].as_str().unwrap().to_string(), ips)
        })
        .collect();
    (list.len() == want && list.iter().all(|(_, ips)| ips.len() == families)).then_some(list)
}

/// The NLB frontends of `default/SVC` from the data plane's endpoint, once both families have one.
fn nlb_frontends(t: &Twin, svc: &str) -> Vec<Value> {
    let c = t.client();
    let rt = runtime();
    let url = format!(
        "https://127.0.0.1:{}/twinstack/v1/runtimes/local/frontends",
        t.port
    );
    wait_until("the NLB's frontends of both families", || {
        let v: Value = rt.block_on(async {
            c.get(&url)
                .bearer_auth(t.token())
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        let fes: Vec<Value> = v["frontends"]
            .as_array()?
            .iter()
            .filter(|f| f["service"] == format!("default/{svc}") && f["kind"] == "nlb")
            .cloned()
            .collect();
        let has = |fam: &str| fes.iter().any(|f| f["family"] == fam);
        (has("IPv4") && has("IPv6")).then_some(fes)
    })
}

/// Acceptance: the seed's AWS manifest on the dual-stack runtime, opened with `?token=`: every
/// address as text, the token gone from the address, and `kubectl scale` drawn within a second.
#[test]
fn the_seed_nlb_service_is_drawn_with_every_address_and_follows_a_scale_live() {
    let t = Twin::start(&[]);
    apply(&t, WEB);
    apply(&t, common::AWS_SERVICE);

    let svc = wait_until("the NLB's hostname in the Service's status", || {
        let s = kubectl_json(&t, &["get", "svc", "web-aws"]);
        s["status"]["loadBalancer"]["ingress"][0]["hostname"]
            .is_string()
            .then_some(s)
    });
    let hostname = svc["status"]["loadBalancer"]["ingress"][0]["hostname"]
        .as_str()
        .unwrap()
        .to_string();
    let cluster_ips: Vec<String> = svc["spec"]["clusterIPs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cluster_ips.len(), 2, "{svc:#}");
    let frontends = nlb_frontends(&t, "web-aws");
    let pods = wait_until("2 pods with both addresses", || pod_ips(&t, 2, 2));

    let mut want = vec![hostname.clone()];
    want.extend(
        frontends
            .iter()
            .map(|f| f["address"].as_str().unwrap().to_string()),
    );
    want.extend(cluster_ips.iter().cloned());
    want.extend(pods.iter().flat_map(|(_, ips)| ips.iter().cloned()));
    want.extend(pods.iter().map(|(n, _)| n.clone()));

    let d = chromedriver();
    let token = t.token();
    let port = t.port;
    runtime().block_on(async {
        let c = browser(&d).await;
        c.goto(&format!(
            "https://127.0.0.1:{port}/ui/?token={token}#/runtimes/local/namespaces/default"
        ))
        .await
        .unwrap();
        wait_for_text(&c, &want, Duration::from_secs(20)).await;
        let href = c
            .execute("return location.href", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_string();
        assert!(!href.contains(&token), "the token is still in {href}");
        assert!(!href.contains("token="), "{href}");
        assert!(
            href.ends_with("/ui/#/runtimes/local/namespaces/default"),
            "{href}"
        );
        // Both families are drawn, each with its own mark.
        let families: Value = c
            .execute(
                "return [document.querySelectorAll('.a-IPv4').length, document.querySelectorAll('.a-IPv6').length]",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            families[0].as_u64().unwrap() > 0 && families[1].as_u64().unwrap() > 0,
            "{families}"
        );
        screenshot(&c, "topology.png").await;

        // A change made with kubectl appears without a reload: a marker set on this page
        // survives, and the 5 pods' addresses show within a second of kubectl's return.
        c.execute("window.__sameDocument = 'yes'", vec![])
            .await
            .unwrap();
        let scale = Command::new("kubectl")
            .args(["scale", "deploy/web", "--replicas=5"])
            .env("KUBECONFIG", &t.kubeconfig)
            .env("KUBECACHEDIR", t.cache.path())
            .env("HOME", t.cache.path())
            .output()
            .unwrap();
        let returned = Instant::now();
        ok(&scale);
        let mut shown_at = None;
        let mut last = Value::Null;
        while returned.elapsed() < Duration::from_secs(5) {
            // The pods the page draws behind the Service, with their addresses.
            last = c
                .execute(
                    r#"const a = document.querySelector('article[aria-label="Service default/web-aws"]');
                       if (!a) return [];
                       return [...a.querySelectorAll('.col:last-of-type .pod')].map(p => [p.querySelector('.addr').textContent, [...p.querySelectorAll('.ip .addr')].map(x => x.textContent)]);"#,
                    vec![],
                )
                .await
                .unwrap();
            let drawn = last.as_array().map(|a| {
                a.len() == 5
                    && a.iter()
                        .all(|p| p[1].as_array().is_some_and(|ips| ips.len() == 2))
            });
            if drawn == Some(true) {
                shown_at = Some(returned.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let shown_at = shown_at.unwrap_or_else(|| panic!("5 pods not drawn within 5 s: {last:#}"));
        println!("5 pods drawn {shown_at:?} after kubectl scale returned");
        assert!(
            shown_at < Duration::from_secs(1),
            "the scale took {shown_at:?} to appear"
        );
        let same = c
            .execute("return window.__sameDocument", vec![])
            .await
            .unwrap();
        assert_eq!(same, "yes", "the page was reloaded");
        // The addresses drawn are the pods' real ones.
        let pods = wait_until("5 pods with both addresses", || pod_ips(&t, 5, 2));
        let page = text(&c).await;
        for (name, ips) in &pods {
            assert!(page.contains(name.as_str()), "{name} not drawn");
            for ip in ips {
                assert!(page.contains(ip.as_str()), "{name}'s {ip} not drawn");
            }
        }

        // The runtimes list of this token: its own runtime, with its ranges.
        c.goto(&format!("https://127.0.0.1:{port}/ui/#/")).await.unwrap();
        wait_for_text(
            &c,
            &["Runtimes".into(), "local".into(), "eu-central-1".into()],
            Duration::from_secs(10),
        )
        .await;
        screenshot(&c, "runtimes.png").await;
        c.close().await.unwrap();
    });
}

/// Acceptance: on an IPv4-only AWS runtime the NLB's IPv6 frontend translates, and the trace
/// view of the Service draws that hop and the pod's real answer.
#[test]
fn the_trace_view_draws_the_translation_hop_of_an_ipv6_client_on_an_ipv4_only_runtime() {
    let t = Twin::start(&["--ip-families", "IPv4"]);
    apply(&t, WEB);
    // The seed's Service without its dual-stack spec lines, which an IPv4-only runtime refuses:
    // the NLB stays dual-stack (its annotation), its target groups IPv4.
    let single: String = common::AWS_SERVICE
        .lines()
        .take_while(|l| !l.contains("ipFamilyPolicy"))
        .map(|l| format!("{l}\n"))
        .collect();
    apply(&t, &single);
    nlb_frontends(&t, "web-aws");
    wait_until("2 pods with an address", || pod_ips(&t, 2, 1));

    let d = chromedriver();
    let token = t.token();
    let port = t.port;
    runtime().block_on(async {
        let c = browser(&d).await;
        c.goto(&format!(
            "https://127.0.0.1:{port}/ui/?token={token}#/runtimes/local/namespaces/default/services/web-aws"
        ))
        .await
        .unwrap();
        let start = Instant::now();
        let v6 = loop {
            let v6 = c
                .execute(
                    "const b = document.getElementById('trace-IPv6'); return b ? b.innerText : ''",
                    vec![],
                )
                .await
                .unwrap()
                .as_str()
                .unwrap_or_default()
                .to_string();
            if v6.contains("RemoteAddr:") {
                break v6;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no IPv6 trace with an answer; the trace shows:\n{v6}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(v6.contains("translated from IPv6 to IPv4"), "{v6}");
        assert!(v6.contains("Hostname: web-"), "the pod's answer: {v6}");
        // The path is drawn (SVG, labelled) beside the hops as text.
        let label = c
            .execute(
                "const s = document.querySelector('#trace-IPv6 svg'); return s ? s.getAttribute('aria-label') : ''",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            label.as_str().unwrap_or_default().contains("translated"),
            "{label}"
        );
        // The IPv4 client is not translated.
        let start = Instant::now();
        loop {
            let v4 = c
                .execute("return document.getElementById('trace-IPv4').innerText", vec![])
                .await
                .unwrap()
                .as_str()
                .unwrap_or_default()
                .to_string();
            if v4.contains("RemoteAddr:") {
                assert!(!v4.contains("translated"), "{v4}");
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "{v4}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The picture warns of the translation too.
        wait_for_text(
            &c,
            &["translation IPv6".into(), "translated to IPv4".into()],
            Duration::from_secs(10),
        )
        .await;
        screenshot(&c, "trace.png").await;
        c.close().await.unwrap();
    });
}

/// Acceptance: a token of runtime A opens nothing of runtime B, in the page and in every
/// endpoint it calls, the event stream included; the broker's credential opens both.
#[test]
fn a_token_of_one_runtime_opens_nothing_of_another() {
    let t = Twin::start(&[]);
    let o = Osb::new(&t);
    let (code, body) = o.provision(
        "ui-b",
        AWS,
        json!({"name": "ui-b", "region": "eu-central-1",
               "networking": {"nodes": "10.250.0.0/20", "dualStack": true}}),
    );
    assert!(code == 202 || code == 201, "{code} {body}");
    // Operations finish within their request here (`--operation-time 0`).
    let b = t.runtime_of("ui-b");
    let token_a = t.token();
    let c = t.client();
    let rt = runtime();
    let base = format!("https://127.0.0.1:{}", t.port);
    let creds: Value =
        serde_json::from_slice(&std::fs::read(t.data_dir().join("broker.json")).unwrap()).unwrap();
    let (user, pass) = (
        creds["username"].as_str().unwrap().to_string(),
        creds["password"].as_str().unwrap().to_string(),
    );
    rt.block_on(async {
        for path in [
            format!("/twinstack/v1/runtimes/{b}/topology"),
            format!("/twinstack/v1/runtimes/{b}/topology?namespace=default"),
            format!("/twinstack/v1/runtimes/{b}/topology/stream"),
            format!("/twinstack/v1/runtimes/{b}/topology/stream?namespace=default"),
            format!("/twinstack/v1/runtimes/{b}/frontends"),
            format!("/twinstack/v1/runtimes/{b}/trace?namespace=default&service=x&family=IPv6"),
            // A runtime that does not exist answers the same: nothing to learn from the code.
            "/twinstack/v1/runtimes/nope/topology/stream".to_string(),
        ] {
            let r = c
                .get(format!("{base}{path}"))
                .bearer_auth(&token_a)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{path} with A's token");
            let body = r.text().await.unwrap();
            assert!(!body.contains(&b), "{path}: {body}");
            let r = c.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(r.status(), 401, "{path} without a credential");
        }
        // A's own stream opens, and its first event is A's picture.
        let mut r = c
            .get(format!(
                "{base}/twinstack/v1/runtimes/local/topology/stream"
            ))
            .bearer_auth(&token_a)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let mut first = String::new();
        while !first.contains("\n\n") {
            let chunk = r.chunk().await.unwrap().expect("a first event");
            first.push_str(&String::from_utf8_lossy(&chunk));
        }
        assert!(first.starts_with("event: topology\n"), "{first}");
        assert!(first.contains("\"name\":\"local\""));
        assert!(!first.contains(&b));
        drop(r);
        // The runtimes A's token lists: A alone. The broker's credential: both.
        let mine: Value = c
            .get(format!("{base}/twinstack/v1/ui/runtimes"))
            .bearer_auth(&token_a)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let names = |v: &Value| -> Vec<String> {
            v["runtimes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names(&mine), ["local"]);
        assert!(!mine.to_string().contains(&token_a), "no token in the list");
        let all: Value = c
            .get(format!("{base}/twinstack/v1/ui/runtimes"))
            .basic_auth(&user, Some(&pass))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut want = vec!["local".to_string(), b.clone()];
        want.sort();
        assert_eq!(names(&all), want);
        let r = c
            .get(format!("{base}/twinstack/v1/runtimes/{b}/topology"))
            .basic_auth(&user, Some(&pass))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    });

    // In the page: A's token on B's address shows the refusal and nothing of B.
    let d = chromedriver();
    let port = t.port;
    rt.block_on(async {
        let c = browser(&d).await;
        c.goto(&format!(
            "https://127.0.0.1:{port}/ui/?token={token_a}#/runtimes/{b}/namespaces/default"
        ))
        .await
        .unwrap();
        let page = wait_for_text(
            &c,
            &["401 Unauthorized".into(), "does not open runtime".into()],
            Duration::from_secs(10),
        )
        .await;
        assert!(!page.contains("Load balancer"), "{page}");
        assert!(!page.contains("podCIDRs"), "{page}");
        // The list of A's token names A alone.
        c.goto(&format!("https://127.0.0.1:{port}/ui/#/"))
            .await
            .unwrap();
        let page = wait_for_text(&c, &["local".into()], Duration::from_secs(10)).await;
        assert!(!page.contains(&b), "{page}");
        c.close().await.unwrap();
    });
}

/// CPU seconds (user + system) the process has used, from `/proc/PID/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces) are space-separated; utime and
    // stime are the 14th and 15th fields of the whole line.
    let rest = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    // SAFETY: sysconf reads a constant of the system.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    ticks / hz
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb / 1024.0
}

/// Performance (run on its own: `bash bench/ui.sh`;
/// minutes, so not in CI): page ready (the first topology painted, from navigation start) at
/// 1,000 dual-stack Services over 10,000 pods (1,000 Deployments of 10), and the server's cost
/// of one change workload (20 Deployments scaled 10 → 11 → 10) with no watcher, with 10 plain
/// `kubectl get pods -w`, and with 10 open topology streams (10 pages), in one run.
#[test]
#[ignore]
fn page_ready_and_stream_cost_at_1000_services_and_10000_pods() {
    let (deployments, replicas) = (1000usize, 10usize);
    let t = Twin::start(&["--nodes", "100"]);
    let pid = t.child.as_ref().unwrap().id();
    let base = t.base_url();
    let token = t.token();
    let c = t.client();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    rt.block_on(async {
        use futures_util::StreamExt;
        let post = |path: String, body: Value| {
            let (c, token) = (c.clone(), token.clone());
            async move {
                let r = c.post(path).bearer_auth(token).json(&body).send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.text().await.unwrap_or_default());
            }
        };
        let services = (0..deployments).map(|j| {
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": format!("svc-{j}")},
                   "spec": {"ipFamilyPolicy": "RequireDualStack", "ipFamilies": ["IPv6", "IPv4"],
                            "selector": {"app": format!("app-{j}")}, "ports": [{"port": 80}]}})
        });
        futures_util::stream::iter(services)
            .for_each_concurrent(16, |b| post(format!("{base}/api/v1/namespaces/default/services"), b))
            .await;
        let deps = (0..deployments).map(|i| {
            let app = format!("app-{i}");
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": app},
                   "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                            "template": {"metadata": {"labels": {"app": app}},
                                         "spec": {"containers": [{"name": "c", "image": "nginx:1.27"}]}}}})
        });
        futures_util::stream::iter(deps)
            .for_each_concurrent(16, |b| post(format!("{base}/apis/apps/v1/namespaces/default/deployments"), b))
            .await;
    });
    let total = deployments * replicas;
    // Every pod Running (a list every 2 s: the figure here is the page's, not this wait's).
    let start = Instant::now();
    loop {
        let n = rt.block_on(async {
            let v: Value = c
                .get(format!(
                    "{base}/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning"
                ))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            v["items"].as_array().map_or(0, |a| a.len())
        });
        if n >= total {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1200),
            "{n} of {total} pods Running"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    println!(
        "{total} pods Running {:?} after the first POST",
        started.elapsed()
    );

    // The picture as JSON: its size and the server's time to read and build it.
    let url = format!(
        "https://127.0.0.1:{}/twinstack/v1/runtimes/local/topology?namespace=default",
        t.port
    );
    let (took, bytes) = rt.block_on(async {
        let s = Instant::now();
        let body = c
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        (s.elapsed(), body.len())
    });
    println!(
        "topology JSON: {:.1} MiB in {took:?}",
        bytes as f64 / 1048576.0
    );

    let d = chromedriver();
    let port = t.port;
    rt.block_on(async {
        let b = browser(&d).await;
        b.goto(&format!("https://127.0.0.1:{port}/ui/?token={token}#/runtimes/local/namespaces/default"))
            .await
            .unwrap();
        let start = Instant::now();
        let ready = loop {
            let v = b
                .execute("const m = performance.getEntriesByName('topology-painted')[0]; return m ? m.startTime : null", vec![])
                .await
                .unwrap();
            if let Some(ms) = v.as_f64() {
                break ms;
            }
            assert!(start.elapsed() < Duration::from_secs(120), "no topology painted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let drawn = b
            .execute("return document.querySelectorAll('article.svc').length", vec![])
            .await
            .unwrap();
        println!("page ready (topology painted) {ready:.0} ms after navigation start; {drawn} Services drawn");
        // The runtime's own `kubernetes` Service besides ours.
        assert_eq!(drawn, json!(deployments + 1));
        b.close().await.unwrap();
    });

    // One change workload: 20 Deployments scaled up by one and back, one write a 100 ms.
    let workload = || {
        let s = Instant::now();
        for i in 0..20 {
            for n in [replicas + 1, replicas] {
                ok(&t.kubectl(&[
                    "scale",
                    &format!("deploy/app-{i}"),
                    &format!("--replicas={n}"),
                ]));
            }
        }
        s.elapsed()
    };
    // The server's CPU and RSS over the workload and until the watchers have taken what it
    // caused: `settled` says when (no new line or picture for 3 s, within 120 s).
    let measure = |what: &str, settled: &dyn Fn() -> usize| {
        let (cpu, rss) = (cpu_seconds(pid), rss_mib(pid));
        let took = workload();
        let start = Instant::now();
        let (mut seen, mut quiet_since) = (settled(), Instant::now());
        while quiet_since.elapsed() < Duration::from_secs(3)
            && start.elapsed() < Duration::from_secs(120)
        {
            std::thread::sleep(Duration::from_millis(100));
            let now = settled();
            if now != seen {
                (seen, quiet_since) = (now, Instant::now());
            }
        }
        println!(
            "{what}: server CPU {:.2} s for 40 changes ({took:.1?} of kubectl scale, settled {:.1?} later), RSS {rss:.0} → {:.0} MiB",
            cpu_seconds(pid) - cpu,
            start.elapsed(),
            rss_mib(pid)
        );
    };
    measure("no watcher", &|| 0);

    let lines = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut watches: Vec<Child> = (0..10)
        .map(|_| {
            let mut w = Command::new("kubectl")
                .args(["get", "pods", "-w", "-o", "name"])
                .env("KUBECONFIG", &t.kubeconfig)
                .env("KUBECACHEDIR", t.cache.path())
                .env("HOME", t.cache.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let out = w.stdout.take().unwrap();
            let lines = lines.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for _ in std::io::BufReader::new(out).lines() {
                    lines.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
            w
        })
        .collect();
    // Their initial lists (10,000 pods each) are done before the measured part.
    let start = Instant::now();
    while lines.load(std::sync::atomic::Ordering::Relaxed) < 10 * total {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the watches' initial lists"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = lines.load(std::sync::atomic::Ordering::Relaxed);
    measure("10 kubectl get pods -w", &|| {
        lines.load(std::sync::atomic::Ordering::Relaxed)
    });
    println!(
        "the 10 watches printed {} lines for the 40 changes",
        lines.load(std::sync::atomic::Ordering::Relaxed) - before
    );
    for w in &mut watches {
        let _ = w.kill();
        let _ = w.wait();
    }

    let frames = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bytes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let status = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut streams = Vec::new();
    for _ in 0..10 {
        let (c, token, frames) = (c.clone(), token.clone(), frames.clone());
        let url = url.replace("/topology?", "/topology/stream?");
        let (bytes, status) = (bytes.clone(), status.clone());
        streams.push(rt.spawn(async move {
            let mut r = c.get(url).bearer_auth(token).send().await.unwrap();
            status.lock().unwrap().push(r.status().as_u16());
            loop {
                match r.chunk().await {
                    Ok(Some(chunk)) => {
                        bytes.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
                        let n = chunk.windows(6).filter(|w| w == b"event:").count();
                        frames.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                    }
                    Ok(None) => break status.lock().unwrap().push(0),
                    Err(e) => break println!("a stream failed: {e}"),
                }
            }
        }));
    }
    let start = Instant::now();
    while frames.load(std::sync::atomic::Ordering::Relaxed) < 10 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the streams' first pictures: {} frames, {} bytes, statuses {:?} (0: ended)",
            frames.load(std::sync::atomic::Ordering::Relaxed),
            bytes.load(std::sync::atomic::Ordering::Relaxed),
            status.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = frames.load(std::sync::atomic::Ordering::Relaxed);
    measure("10 topology streams", &|| {
        frames.load(std::sync::atomic::Ordering::Relaxed)
    });
    println!(
        "the 10 streams sent {} pictures for the 40 changes",
        frames.load(std::sync::atomic::Ordering::Relaxed) - before
    );
    for s in streams {
        s.abort();
    }
}
