//! Bad input gets a clean error and loses nothing; the server keeps serving.

mod common;
use common::*;
use serde_json::{json, Value};

struct C {
    t: Twin,
    c: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl C {
    fn new(t: Twin) -> C {
        C {
            c: t.client(),
            t,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }
    fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        ct: &str,
        body: Vec<u8>,
        token: Option<&str>,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut r = self
            .c
            .request(method, format!("{}{path}", self.t.base_url()))
            .header("Content-Type", ct)
            .body(body);
        if let Some(tok) = token {
            r = r.bearer_auth(tok);
        }
        self.rt.block_on(async {
            let resp = r.send().await.unwrap();
            let code = resp.status().as_u16();
            let h = resp.headers().clone();
            (code, h, resp.text().await.unwrap())
        })
    }
    fn post(&self, ct: &str, body: &[u8], q: &str) -> (u16, reqwest::header::HeaderMap, Value) {
        let (c, h, b) = self.req(
            reqwest::Method::POST,
            &format!("/api/v1/namespaces/default/services{q}"),
            ct,
            body.to_vec(),
            Some(&self.t.token()),
        );
        (c, h, serde_json::from_str(&b).unwrap_or(Value::Null))
    }
    fn alive(&self) {
        let (c, _, b) = self.req(
            reqwest::Method::GET,
            "/api/v1/namespaces/default/services",
            "application/json",
            vec![],
            Some(&self.t.token()),
        );
        assert_eq!(c, 200, "{b}");
    }
}

fn svc(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": {"ports": [{"port": 80}]}})
}

#[test]
fn malformed_oversized_unknown_and_stale() {
    let c = C::new(Twin::start(&[]));
    // Malformed JSON and YAML.
    let (code, _, b) = c.post("application/json", b"{\"apiVersion\": \"v1\", ", "");
    assert_eq!(code, 400, "{b}");
    assert_eq!(b["kind"], "Status");
    assert_eq!(b["reason"], "BadRequest");
    let (code, _, b) = c.post("application/yaml", b"apiVersion: v1\nkind: [Service\n", "");
    assert_eq!(code, 400, "{b}");
    let (code, _, b) = c.post("application/json", b"[1,2,3]", "");
    assert_eq!(code, 400, "{b}");
    let (code, _, b) = c.post("application/json", &serde_json::to_vec(&json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"p"},"spec":{"ports":[{"port":"eighty"}]}})).unwrap(), "");
    assert_eq!(code, 400, "{b}");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .starts_with("Service in version \"v1\" cannot be handled as a Service:"),
        "{b}"
    );
    c.alive();

    // A 10 MiB body.
    let mut big = serde_json::to_vec(&svc("big")).unwrap();
    big.pop();
    big.extend_from_slice(b",\"pad\":\"");
    big.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    big.extend_from_slice(b"\"}");
    let (code, _, b) = c.post("application/json", &big, "");
    assert_eq!(code, 413, "{b}");
    assert_eq!(b["reason"], "RequestEntityTooLarge");
    c.alive();

    // Unknown fields: Strict refuses, Warn warns, Ignore drops.
    let mut unknown = svc("unk");
    unknown["spec"]["bogus"] = json!(true);
    let body = serde_json::to_vec(&unknown).unwrap();
    let (code, _, b) = c.post("application/json", &body, "?fieldValidation=Strict");
    assert_eq!(code, 400);
    assert_eq!(b["message"], "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.bogus\"");
    let (code, h, b) = c.post("application/json", &body, "?fieldValidation=Warn");
    assert_eq!(code, 201, "{b}");
    assert_eq!(
        h.get("warning").unwrap(),
        "299 - \"unknown field \\\"spec.bogus\\\"\""
    );
    assert!(b["spec"].get("bogus").is_none());
    let mut again = unknown.clone();
    again["metadata"]["name"] = json!("unk2");
    let (code, h, _) = c.post(
        "application/json",
        &serde_json::to_vec(&again).unwrap(),
        "?fieldValidation=Ignore",
    );
    assert_eq!(code, 201);
    assert!(h.get("warning").is_none());

    // Duplicate name.
    let (code, _, b) = c.post(
        "application/json",
        &serde_json::to_vec(&svc("unk")).unwrap(),
        "",
    );
    assert_eq!(code, 409);
    assert_eq!(b["reason"], "AlreadyExists");

    // A stale resourceVersion.
    let (_, _, cur) = c.req(
        reqwest::Method::GET,
        "/api/v1/namespaces/default/services/unk",
        "application/json",
        vec![],
        Some(&c.t.token()),
    );
    let mut cur: Value = serde_json::from_str(&cur).unwrap();
    cur["metadata"]["labels"] = json!({"a": "b"});
    let fresh = serde_json::to_vec(&cur).unwrap();
    let (code, _, _) = c.req(
        reqwest::Method::PUT,
        "/api/v1/namespaces/default/services/unk",
        "application/json",
        fresh.clone(),
        Some(&c.t.token()),
    );
    assert_eq!(code, 200);
    let (code, _, b) = c.req(
        reqwest::Method::PUT,
        "/api/v1/namespaces/default/services/unk",
        "application/json",
        fresh,
        Some(&c.t.token()),
    );
    assert_eq!(code, 409, "{b}");

    // Unsupported patch type.
    let (code, _, b) = c.req(
        reqwest::Method::PATCH,
        "/api/v1/namespaces/default/services/unk",
        "text/plain",
        b"{}".to_vec(),
        Some(&c.t.token()),
    );
    assert_eq!(code, 415, "{b}");
    // A JSON patch whose test fails changes nothing.
    let (code, _, _) = c.req(
        reqwest::Method::PATCH,
        "/api/v1/namespaces/default/services/unk",
        "application/json-patch+json",
        br#"[{"op":"test","path":"/metadata/name","value":"other"},{"op":"add","path":"/metadata/labels/x","value":"y"}]"#.to_vec(),
        Some(&c.t.token()),
    );
    assert!(code == 422 || code == 400 || code == 500, "{code}");
    let (_, _, now) = c.req(
        reqwest::Method::GET,
        "/api/v1/namespaces/default/services/unk",
        "application/json",
        vec![],
        Some(&c.t.token()),
    );
    assert!(!now.contains("\"x\":\"y\""));
    c.alive();
}

#[test]
fn authentication_and_isolation() {
    let c = C::new(Twin::start(&[]));
    let (code, _, b) = c.req(
        reqwest::Method::GET,
        "/api/v1/namespaces/default/services",
        "application/json",
        vec![],
        None,
    );
    assert_eq!(code, 401);
    let b: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(
        b,
        json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})
    );
    let (code, _, _) = c.req(
        reqwest::Method::GET,
        "/version",
        "application/json",
        vec![],
        Some("not-a-token"),
    );
    assert_eq!(code, 401);
    // The runtime's token opens nothing of another runtime path.
    let other = format!(
        "https://127.0.0.1:{}/runtimes/other/api/v1/namespaces/default/services",
        c.t.port
    );
    let code = c.rt.block_on(async {
        c.c.get(other)
            .bearer_auth(c.t.token())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(code, 403);
    // Health endpoints need no credential.
    let h = c.rt.block_on(async {
        c.c.get(format!("https://127.0.0.1:{}/readyz", c.t.port))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(h, 200);
    // Prometheus metrics need the platform credential (see hostile_transport.rs); they count
    // the unauthenticated requests above as failed authentication attempts.
    let metrics = format!("https://127.0.0.1:{}/metrics", c.t.port);
    let code =
        c.rt.block_on(async { c.c.get(&metrics).send().await.unwrap().status() });
    assert_eq!(code.as_u16(), 401);
    let creds: Value =
        serde_json::from_slice(&std::fs::read(c.t.data_dir().join("broker.json")).unwrap())
            .unwrap();
    let m = c.rt.block_on(async {
        c.c.get(&metrics)
            .basic_auth(
                creds["username"].as_str().unwrap(),
                creds["password"].as_str(),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    assert!(
        m.contains("authentication_attempts_total{result=\"failure\"} 2"),
        "{m}"
    );
    assert!(m.contains("twinstack_store_revision"), "{m}");
    // The token never reaches the log.
    assert!(!c.t.stderr().contains(&c.t.token()));
}

#[test]
fn invalid_flags_exit_2_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for args in [
        vec!["--service-cidrs", "10.104.0.0/33,fd00::/108"],
        vec!["--ip-families", "IPv5"],
        vec!["--ip-families", "IPv4", "--service-cidrs", "10.104.0.1/13"],
        vec!["--ip-families", "IPv4", "--service-cidrs", "10.0.0.0/8"],
        vec!["--provider", "azure"],
        vec!["--runtime", "Not_A_Name"],
    ] {
        let out = std::process::Command::new(bin())
            .arg("up")
            .arg("--data-dir")
            .arg(&data)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).starts_with("error: "),
            "{args:?}"
        );
        assert!(!data.exists(), "{args:?} wrote the data dir");
    }
}

#[test]
fn listens_on_ipv6_loopback() {
    let port = free_port();
    let mut t = Twin::start(&[]);
    t.stop();
    t.args = vec!["up".into(), "--listen".into(), format!("[::1]:{port}")];
    t.spawn();
    let k = std::fs::read_to_string(&t.kubeconfig).unwrap();
    assert!(
        k.contains(&format!("server: https://[::1]:{port}/runtimes/local")),
        "{k}"
    );
    let out = ok(&t.kubectl(&["get", "svc", "kubernetes", "-o", "name"]));
    assert_eq!(out.trim(), "service/kubernetes");
    let printed = std::process::Command::new(bin())
        .args(["kubeconfig", "--data-dir"])
        .arg(t.data_dir())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&printed.stdout), k);
}
