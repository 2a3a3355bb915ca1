//! A hostile tenant with a valid token: requests built to exhaust the server's memory or CPU get
//! kube-apiserver's answer and change nothing, and the server's peak RSS stays under 500 MB
//! through each test (measured at its end: `VmHWM`, the high-water mark since start).

mod common;
use common::*;
use serde_json::{json, Value};

/// The server's memory ceiling through a hostile test.
const RSS_LIMIT: u64 = 500 * 1024 * 1024;

struct Api {
    t: Twin,
    c: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Api {
    fn start() -> Api {
        let t = Twin::start(&[]);
        Api {
            c: t.client(),
            t,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
        let r = self
            .c
            .request(method, format!("{}{path}", self.t.base_url()))
            .header("Content-Type", ct)
            .bearer_auth(self.t.token())
            .body(body);
        self.rt.block_on(async {
            let resp = r.send().await.unwrap();
            let code = resp.status().as_u16();
            let text = resp.text().await.unwrap();
            (
                code,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.req(reqwest::Method::GET, path, "application/json", vec![])
    }

    fn post(&self, path: &str, ct: &str, body: Vec<u8>) -> (u16, Value) {
        self.req(reqwest::Method::POST, path, ct, body)
    }

    fn assert_memory_bounded(&self) {
        let peak = self.t.peak_rss_bytes();
        assert!(
            peak < RSS_LIMIT,
            "peak RSS {} MB is over {} MB",
            peak / (1024 * 1024),
            RSS_LIMIT / (1024 * 1024)
        );
        // Still serving.
        assert_eq!(self.get("/api/v1/namespaces/default/configmaps").0, 200);
    }
}

const CM: &str = "/api/v1/namespaces/default/configmaps";

/// 2.4 KB of JSON patch: 30 `copy` operations that each copy `/data` into itself, doubling the
/// document every time (2^30 copies of it). kube-apiserver's json-patch stops once copies add
/// more than 3 MiB (`AccumulatedCopySizeLimit`) and answers 422 with its fixed text; the
/// object is unchanged. A dry run is bounded the same way.
#[test]
fn json_patch_copy_bomb() {
    let a = Api::start();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seed"},
        "data": {"a": "x".repeat(64)}});
    assert_eq!(
        a.post(CM, "application/json", cm.to_string().into_bytes())
            .0,
        201
    );
    let ops: Vec<Value> = (0..30)
        .map(|i| json!({"op": "copy", "from": "/data", "path": format!("/data/k{i:02}")}))
        .collect();
    let patch = serde_json::to_vec(&ops).unwrap();
    assert!(patch.len() < 2500, "{}", patch.len());
    for q in ["", "?dryRun=All"] {
        let (code, body) = a.req(
            reqwest::Method::PATCH,
            &format!("{CM}/seed{q}"),
            "application/json-patch+json",
            patch.clone(),
        );
        assert_eq!(code, 422, "{body}");
        assert_eq!(
            body,
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "the server rejected our request due to an error in our request",
                "reason": "Invalid", "details": {}, "code": 422})
        );
    }
    let (_, now) = a.get(&format!("{CM}/seed"));
    assert_eq!(now["data"], json!({"a": "x".repeat(64)}));
    a.assert_memory_bounded();
}

/// More operations than kube-apiserver takes in one JSON patch: 413.
#[test]
fn json_patch_with_too_many_operations() {
    let a = Api::start();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seed"}});
    assert_eq!(
        a.post(CM, "application/json", cm.to_string().into_bytes())
            .0,
        201
    );
    let ops: Vec<Value> = (0..10_001)
        .map(|_| json!({"op": "test", "path": "/kind", "value": "ConfigMap"}))
        .collect();
    let (code, body) = a.req(
        reqwest::Method::PATCH,
        &format!("{CM}/seed"),
        "application/json-patch+json",
        serde_json::to_vec(&ops).unwrap(),
    );
    assert_eq!(code, 413, "{body}");
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001",
            "reason": "RequestEntityTooLarge", "code": 413})
    );
    a.assert_memory_bounded();
}

/// A 301 KB YAML ConfigMap whose data is 100 aliases of one 300 KB anchor would be a 30 MB
/// object. The decoder stops once the document's JSON form passes four times the body's size,
/// with go-yaml's answer to alias bombs.
#[test]
fn yaml_alias_bomb() {
    let a = Api::start();
    let mut yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n  annotations:\n    pad: &big \"{}\"\ndata:\n",
        "x".repeat(300_000)
    );
    for i in 0..100 {
        yaml.push_str(&format!("  k{i}: *big\n"));
    }
    assert!((300_000..310_000).contains(&yaml.len()), "{}", yaml.len());
    let (code, body) = a.post(CM, "application/yaml", yaml.into_bytes());
    assert_eq!(code, 400, "{body}");
    assert_eq!(body["reason"], "BadRequest");
    let msg = body["message"].as_str().unwrap();
    assert_eq!(
        msg,
        "the object provided is unrecognized (must be of type ConfigMap): yaml: document contains excessive aliasing (61706956657273696f6e3a2076310a6b696e643a20436f6e6669674d6170 ...)"
    );
    assert_eq!(a.get(&format!("{CM}/bomb")).0, 404);
    a.assert_memory_bounded();
}

/// ConfigMaps and Secrets hold at most 1 MiB of data (`ValidateConfigMap`, `ValidateSecret`).
#[test]
fn oversized_configmap_and_secret() {
    let a = Api::start();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"},
        "data": {"a": "x".repeat(1_500_000), "b": "y".repeat(1_500_000)}});
    let body = cm.to_string().into_bytes();
    assert!(body.len() > 3_000_000 && body.len() < 3 * 1024 * 1024);
    let (code, body) = a.post(CM, "application/json", body);
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "ConfigMap \"big\" is invalid: []: Too long: may not be more than 1048576 bytes",
            "reason": "Invalid",
            "details": {"name": "big", "kind": "ConfigMap", "causes": [{"reason": "FieldValueTooLong",
                "message": "Too long: may not be more than 1048576 bytes", "field": "[]"}]},
            "code": 422})
    );

    // 1,500,000 bytes of 0x07, base64-encoded (three bytes per "BwcH").
    let data = "BwcH".repeat(500_000);
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "big"},
        "data": {"blob": data}});
    let (code, body) = a.post(
        "/api/v1/namespaces/default/secrets",
        "application/json",
        secret.to_string().into_bytes(),
    );
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "Secret \"big\" is invalid: data: Too long: may not be more than 1048576 bytes"
    );
    assert_eq!(body["details"]["causes"][0]["field"], "data");
    // Exactly 1 MiB is allowed.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "max"},
        "data": {"a": "x".repeat(1024 * 1024)}});
    assert_eq!(
        a.post(CM, "application/json", cm.to_string().into_bytes())
            .0,
        201
    );
    // Growing it by a merge patch is refused the same way.
    let (code, body) = a.req(
        reqwest::Method::PATCH,
        &format!("{CM}/max"),
        "application/merge-patch+json",
        json!({"data": {"b": "y"}}).to_string().into_bytes(),
    );
    assert_eq!(code, 422, "{body}");
    a.assert_memory_bounded();
}

/// An object over etcd's request limit (1.5 MiB) that no validation catches: etcd's answer,
/// which kube-apiserver passes on as a plain 500.
#[test]
fn object_over_the_storage_limit() {
    let a = Api::start();
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "huge"},
        "spec": {"selector": {"matchLabels": {"app": "huge"}},
            "template": {"metadata": {"labels": {"app": "huge"}},
                "spec": {"containers": [{"name": "c", "image": "nginx",
                    "env": [{"name": "BLOB", "value": "z".repeat(1_700_000)}]}]}}}});
    let (code, body) = a.post(
        "/apis/apps/v1/namespaces/default/deployments",
        "application/json",
        deploy.to_string().into_bytes(),
    );
    assert_eq!(code, 500, "{body}");
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "etcdserver: request is too large", "code": 500})
    );
    assert_eq!(
        a.get("/apis/apps/v1/namespaces/default/deployments/huge").0,
        404
    );
    a.assert_memory_bounded();
}

/// A strategic merge patch of two lists of 10,000 keyed items each merges in time that grows
/// with their size, not with its square: the store's single writer is not held for minutes
/// (linear scans took over 8 minutes for this in a debug build).
#[test]
fn strategic_merge_patch_of_long_lists() {
    let a = Api::start();
    let n = 10_000;
    let env: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("E{i}"), "value": "v"}))
        .collect();
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "long"},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "long"}},
            "template": {"metadata": {"labels": {"app": "long"}},
                "spec": {"containers": [{"name": "c", "image": "nginx", "env": env}]}}}});
    let (code, body) = a.post(
        "/apis/apps/v1/namespaces/default/deployments",
        "application/json",
        deploy.to_string().into_bytes(),
    );
    assert_eq!(code, 201, "{body}");
    let patch_env: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("P{i}"), "value": "w"}))
        .collect();
    let patch =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "env": patch_env}]}}}});
    let started = std::time::Instant::now();
    let (code, body) = a.req(
        reqwest::Method::PATCH,
        "/apis/apps/v1/namespaces/default/deployments/long?dryRun=All",
        "application/strategic-merge-patch+json",
        patch.to_string().into_bytes(),
    );
    let took = started.elapsed();
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        body["spec"]["template"]["spec"]["containers"][0]["env"]
            .as_array()
            .unwrap()
            .len(),
        2 * n
    );
    eprintln!("strategic merge of 2 x {n} items took {took:?}");
    assert!(took.as_secs() < 20, "took {took:?}");
    a.assert_memory_bounded();
}
