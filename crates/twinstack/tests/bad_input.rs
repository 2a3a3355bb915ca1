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
    let (code, _, patched) = c.req(
        reqwest::Method::PATCH,
        "/api/v1/namespaces/default/services/unk",
        "application/json-patch+json",
        br#"[{"op":"test","path":"/metadata/name","value":"other"},{"op":"add","path":"/metadata/labels/x","value":"y"}]"#.to_vec(),
        Some(&c.t.token()),
    );
    // json-patch's "testing value /metadata/name failed" becomes the apiserver's generic 422
    // (`NewGenericServerResponse`, no causes).
    let st: Value = serde_json::from_str(&patched).unwrap();
    assert_eq!(code, 422, "{st}");
    assert_eq!(
        st,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "the server rejected our request due to an error in our request",
            "reason": "Invalid", "details": {}, "code": 422})
    );
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
    // A second runtime, provisioned through the broker as a user would.
    ok(&std::process::Command::new(bin())
        .args(["runtime", "create", "other", "--plan", "aws", "--data-dir"])
        .arg(c.t.data_dir())
        .output()
        .unwrap());
    let kubeconfig = ok(&std::process::Command::new(bin())
        .args(["kubeconfig", "other", "--data-dir"])
        .arg(c.t.data_dir())
        .output()
        .unwrap());
    let other_token = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("token: "))
        .unwrap()
        .to_string();
    assert_ne!(other_token, c.t.token());
    let other = format!(
        "https://127.0.0.1:{}/runtimes/{}/api/v1/namespaces/default/services",
        c.t.port,
        c.t.runtime_of("other")
    );
    let get = |token: &str| {
        c.rt.block_on(async {
            let r = c.c.get(&other).bearer_auth(token).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        })
    };
    // Its own token opens it: the runtime exists.
    assert_eq!(get(&other_token).0, 200);
    // The first runtime's token opens nothing of it, in the authorizer's words.
    let (code, body) = get(&c.t.token());
    assert_eq!(code, 403, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "services is forbidden: User \"admin\" cannot list resource \"services\" in API group \"\" in the namespace \"default\"",
            "reason": "Forbidden", "details": {"kind": "services"}, "code": 403})
    );
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

impl C {
    fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        ct: &str,
        body: &str,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let (code, h, b) = self.req(
            method,
            path,
            ct,
            body.as_bytes().to_vec(),
            Some(&self.t.token()),
        );
        (
            code,
            h,
            serde_json::from_str(&b).unwrap_or(Value::String(b)),
        )
    }
    fn warnings(h: &reqwest::header::HeaderMap) -> Vec<String> {
        h.get_all("warning")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    let mut s = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "code": code});
    if !reason.is_empty() {
        s["reason"] = json!(reason);
    }
    s
}

const CMS: &str = "/api/v1/namespaces/default/configmaps";

/// Patch options, strict decoding and patch errors answered as kube-apiserver 1.32 answers them.
#[test]
fn patch_answers_are_kube_apiservers() {
    let c = C::new(Twin::start(&[]));
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p"},"data":{"a":"1"}}"#;
    assert_eq!(
        c.call(reqwest::Method::POST, CMS, "application/json", cm).0,
        201
    );
    let patch = |q: &str, ct: &str, body: &str| {
        c.call(reqwest::Method::PATCH, &format!("{CMS}/p{q}"), ct, body)
    };

    // Server-side apply needs an explicit fieldManager (ValidatePatchOptions).
    let apply = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: p\ndata:\n  a: \"2\"\n";
    let (code, _, b) = patch("", "application/apply-patch+yaml", apply);
    assert_eq!(code, 422);
    assert_eq!(
        b,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            "reason": "Invalid",
            "details": {"group": "meta.k8s.io", "kind": "PatchOptions", "causes": [{"reason": "FieldValueRequired",
                "message": "Required value: is required for apply patch", "field": "fieldManager"}]},
            "code": 422})
    );
    let (code, _, b) = patch(
        "?fieldManager=me&force=true",
        "application/apply-patch+yaml",
        apply,
    );
    assert_eq!(code, 200, "{b}");

    // `force` belongs to apply patches only, whatever its value.
    for force in ["true", "false"] {
        let (code, _, b) = patch(
            &format!("?force={force}"),
            "application/merge-patch+json",
            r#"{"data":{"b":"1"}}"#,
        );
        assert_eq!(code, 422);
        assert_eq!(b["message"], "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch");
        assert_eq!(b["details"]["causes"][0]["reason"], "FieldValueForbidden");
    }

    // Option values outside the allowed sets.
    let (code, _, b) = patch("?dryRun=Some", "application/merge-patch+json", "{}");
    assert_eq!(code, 422);
    assert_eq!(b["message"], "PatchOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"Some\"}: supported values: \"All\"");
    let (code, _, b) = c.call(
        reqwest::Method::POST,
        &format!("{CMS}?fieldValidation=Loose"),
        "application/json",
        cm,
    );
    assert_eq!(code, 422);
    assert_eq!(b["message"], "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Loose\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\"");

    // A JSON patch's operations are strictly decoded: unknown fields warn (Warn) or, once the
    // patch applies, refuse (Strict) with the patched object; wrong types are 400.
    let ops = r#"[{"op":"add","path":"/data/x","value":"y","valu":"z"}]"#;
    let (code, h, b) = patch("", "application/json-patch+json", ops);
    assert_eq!(code, 200, "{b}");
    assert_eq!(
        C::warnings(&h),
        ["299 - \"json patch unknown field \\\"[0].valu\\\"\""]
    );
    let (code, _, b) = patch(
        "?fieldValidation=Strict",
        "application/json-patch+json",
        ops,
    );
    assert_eq!(code, 422, "{b}");
    let msg = b["message"].as_str().unwrap();
    assert!(
        msg.starts_with(" \"\" is invalid: patch: Invalid value: \"{"),
        "{msg}"
    );
    assert!(
        msg.ends_with("\": strict decoding error: json patch unknown field \"[0].valu\""),
        "{msg}"
    );
    assert_eq!(b["details"]["causes"][0]["field"], "patch");
    assert_eq!(b["details"]["causes"][0]["reason"], "FieldValueInvalid");
    let (code, _, b) = patch(
        "",
        "application/json-patch+json",
        r#"[{"op":5,"path":"/data/x"}]"#,
    );
    assert_eq!(
        (code, b),
        (400, status(400, "BadRequest", "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.op of type string"))
    );
    let (code, _, b) = patch(
        "",
        "application/json-patch+json",
        r#"[{"op":"bogus","path":"/data/x"}]"#,
    );
    assert_eq!(code, 422);
    assert_eq!(b["details"], json!({}));
    let (code, _, b) = patch(
        "",
        "application/json-patch+json",
        r#"[{"op":"add","path":"/data/x","value":"y"}"#,
    );
    assert_eq!(
        (code, b),
        (
            400,
            status(
                400,
                "BadRequest",
                "error decoding patch: unexpected end of JSON input"
            )
        )
    );

    // A strategic-merge `$patch` that is not a directive: strategicpatch's plain error, which
    // kube-apiserver answers with 500 and no reason.
    let (code, _, b) = patch(
        "",
        "application/strategic-merge-patch+json",
        r#"{"metadata":{"$patch":5}}"#,
    );
    assert_eq!(
        (code, b),
        (
            500,
            status(
                500,
                "",
                "unknown patch type: %!s(int64=5) in map: map[$patch:5]"
            )
        )
    );
    let (code, _, b) = patch(
        "",
        "application/strategic-merge-patch+json",
        r#"{"data":{"$patch":"merge"}}"#,
    );
    assert_eq!(
        (code, b),
        (
            500,
            status(
                500,
                "",
                "unknown patch type: merge in map: map[$patch:merge]"
            )
        )
    );

    // The namespace of a patched object is the request's.
    let (code, _, b) = patch(
        "",
        "application/merge-patch+json",
        r#"{"metadata":{"namespace":"kube-system"}}"#,
    );
    assert_eq!(
        (code, b),
        (400, status(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request"))
    );
    let (code, _, b) = patch(
        "",
        "application/json-patch+json",
        r#"[{"op":"remove","path":"/metadata/namespace"}]"#,
    );
    assert_eq!(code, 200, "{b}");
    assert_eq!(b["metadata"]["namespace"], "default");
    let (_, _, now) = c.call(reqwest::Method::GET, &format!("{CMS}/p"), "", "");
    assert_eq!(now["metadata"]["namespace"], "default");
    c.alive();
}

/// Duplicate fields and malformed bodies get sigs.k8s.io/json's, go-yaml's and encoding/json's
/// texts, never a Rust library's.
#[test]
fn decoding_answers_are_kube_apiservers() {
    let c = C::new(Twin::start(&[]));
    let dup = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"d1","name":"d2"},"data":{"k":"a","k":"b"}}"#;
    let (code, _, b) = c.call(
        reqwest::Method::POST,
        &format!("{CMS}?fieldValidation=Strict"),
        "application/json",
        dup,
    );
    assert_eq!(
        (code, b),
        (400, status(400, "BadRequest", "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: duplicate field \"metadata.name\", duplicate field \"data.k\""))
    );
    let (code, h, b) = c.call(reqwest::Method::POST, CMS, "application/json", dup);
    assert_eq!(code, 201, "{b}");
    assert_eq!(b["metadata"]["name"], "d2");
    assert_eq!(b["data"]["k"], "b");
    assert_eq!(
        C::warnings(&h),
        [
            "299 - \"duplicate field \\\"metadata.name\\\"\"",
            "299 - \"duplicate field \\\"data.k\\\"\""
        ]
    );

    let yaml =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y1\n  name: y2\ndata:\n  k: a\n";
    let (code, _, b) = c.call(
        reqwest::Method::POST,
        &format!("{CMS}?fieldValidation=Strict"),
        "application/yaml",
        yaml,
    );
    assert_eq!(
        (code, b),
        (400, status(400, "BadRequest", "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: yaml: unmarshal errors:\n  line 5: key \"name\" already set in map"))
    );
    let (code, h, b) = c.call(reqwest::Method::POST, CMS, "application/yaml", yaml);
    assert_eq!(code, 201, "{b}");
    assert_eq!(b["metadata"]["name"], "y2");
    assert_eq!(
        C::warnings(&h),
        ["299 - \"line 5: key \\\"name\\\" already set in map\""]
    );
    let yaml3 = yaml.replace("y2", "y3");
    let (code, h, _) = c.call(
        reqwest::Method::POST,
        &format!("{CMS}?fieldValidation=Ignore"),
        "application/yaml",
        &yaml3,
    );
    assert_eq!(code, 201);
    assert!(C::warnings(&h).is_empty());

    let (code, _, b) = c.call(
        reqwest::Method::POST,
        CMS,
        "application/json",
        "{\"apiVersion\": \"v1\", ",
    );
    assert_eq!(
        (code, b),
        (400, status(400, "BadRequest", "the object provided is unrecognized (must be of type ConfigMap): couldn't get version/kind; json parse error: unexpected end of JSON input ({\"apiVersion\": \"v1\", )"))
    );
    let (code, _, b) = c.call(reqwest::Method::POST, CMS, "application/yaml", "a: [\n");
    assert_eq!(code, 400);
    let msg = b["message"].as_str().unwrap();
    assert!(
        msg.starts_with(
            "the object provided is unrecognized (must be of type ConfigMap): yaml: line "
        ),
        "{msg}"
    );
    assert!(msg.ends_with(" (613a205b0a)"), "{msg}");
    let (code, _, b) = c.call(
        reqwest::Method::POST,
        "/api/v1/namespaces/default/services",
        "application/json",
        r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"t"},"spec":{"ports":[{"port":"eighty"}]}}"#,
    );
    assert_eq!(
        (code, b),
        (400, status(400, "BadRequest", "Service in version \"v1\" cannot be handled as a Service: json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32"))
    );
    c.alive();
}

fn base64url(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// `limit`/`continue` as kubectl and client-go use them: pages of one revision, continue tokens
/// in upstream's encoding, `remainingItemCount`, `resourceVersion=0` served whole as the watch
/// cache serves it, and `resourceVersionMatch`.
#[test]
fn list_pagination() {
    let c = C::new(Twin::start(&[]));
    let ns = r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"pages"}}"#;
    assert_eq!(
        c.call(
            reqwest::Method::POST,
            "/api/v1/namespaces",
            "application/json",
            ns
        )
        .0,
        201
    );
    let base = "/api/v1/namespaces/pages/configmaps";
    let mk = |name: &str| {
        let body = format!(
            r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"{name}"}},"data":{{"v":"1"}}}}"#
        );
        assert_eq!(
            c.call(reqwest::Method::POST, base, "application/json", &body)
                .0,
            201
        );
    };
    for i in 0..5 {
        mk(&format!("cm-{i}"));
    }
    // Only this test's ConfigMaps (a controller may add others to a new namespace).
    let names = |l: &Value| -> Vec<String> {
        l["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    let mine = |v: Vec<String>| -> Vec<String> {
        v.into_iter().filter(|n| n.starts_with("cm-")).collect()
    };

    let (code, _, p1) = c.call(reqwest::Method::GET, &format!("{base}?limit=2"), "", "");
    assert_eq!(code, 200, "{p1}");
    let rv = p1["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(names(&p1).len(), 2);
    let token = p1["metadata"]["continue"].as_str().unwrap().to_string();
    let last = names(&p1)[1].clone();
    assert_eq!(
        token,
        base64url(
            format!("{{\"v\":\"meta.k8s.io/v1\",\"rv\":{rv},\"start\":\"{last}\\u0000\"}}")
                .as_bytes()
        )
    );

    // Changes after the first page do not show in the next pages: they read its revision.
    assert_eq!(
        c.call(reqwest::Method::DELETE, &format!("{base}/cm-4"), "", "")
            .0,
        200
    );
    mk("cm-9");
    let mut seen = names(&p1);
    let mut token = Some(token);
    while let Some(t) = token {
        let (code, _, p) = c.call(
            reqwest::Method::GET,
            &format!("{base}?limit=2&continue={t}"),
            "",
            "",
        );
        assert_eq!(code, 200, "{p}");
        assert_eq!(p["metadata"]["resourceVersion"], json!(rv));
        seen.extend(names(&p));
        token = p["metadata"]["continue"].as_str().map(String::from);
        if token.is_none() {
            assert!(p["metadata"].get("remainingItemCount").is_none(), "{p}");
        }
    }
    assert_eq!(mine(seen.clone()), ["cm-0", "cm-1", "cm-2", "cm-3", "cm-4"]);
    // resourceVersionMatch=Exact reads that same past; NotOlderThan the present.
    let (_, _, exact) = c.call(
        reqwest::Method::GET,
        &format!("{base}?resourceVersion={rv}&resourceVersionMatch=Exact"),
        "",
        "",
    );
    assert_eq!(names(&exact), seen);
    assert_eq!(exact["metadata"]["resourceVersion"], json!(rv));
    assert_eq!(p1["metadata"]["remainingItemCount"], json!(seen.len() - 2));
    let (_, _, newer) = c.call(
        reqwest::Method::GET,
        &format!("{base}?resourceVersion={rv}&resourceVersionMatch=NotOlderThan"),
        "",
        "",
    );
    assert_eq!(
        mine(names(&newer)),
        ["cm-0", "cm-1", "cm-2", "cm-3", "cm-9"]
    );

    // Selectors fill pages by reading on; no remainingItemCount then.
    let (_, _, sel) = c.call(
        reqwest::Method::GET,
        &format!("{base}?limit=1&fieldSelector=metadata.name%3Dcm-3"),
        "",
        "",
    );
    assert_eq!(names(&sel), ["cm-3"]);
    assert!(sel["metadata"].get("remainingItemCount").is_none());

    // kubectl's chunked lists (Tables too) see everything there is now.
    let out = ok(&c.t.kubectl(&[
        "get",
        "configmaps",
        "-n",
        "pages",
        "--chunk-size=2",
        "-o",
        "name",
    ]));
    let listed: Vec<String> = out
        .lines()
        .map(|l| l.trim_start_matches("configmap/").to_string())
        .collect();
    assert_eq!(
        mine(listed),
        ["cm-0", "cm-1", "cm-2", "cm-3", "cm-9"],
        "{out}"
    );
    let table = ok(&c
        .t
        .kubectl(&["get", "configmaps", "-n", "pages", "--chunk-size=1"]));
    assert_eq!(
        table.lines().filter(|l| l.starts_with("cm-")).count(),
        5,
        "{table}"
    );

    // Informers list with resourceVersion=0: the whole list, as the watch cache serves it.
    let (_, _, whole) = c.call(
        reqwest::Method::GET,
        &format!("{base}?limit=2&resourceVersion=0"),
        "",
        "",
    );
    assert_eq!(mine(names(&whole)).len(), 5);
    assert!(whole["metadata"].get("continue").is_none());

    // Bad parameters, with upstream's answers.
    let (code, _, b) = c.call(
        reqwest::Method::GET,
        &format!("{base}?limit=2&continue=garbage!"),
        "",
        "",
    );
    assert_eq!(
        (code, b),
        (400, status(400, "BadRequest", "invalid continue token: continue key is not valid: illegal base64 data at input byte 7"))
    );
    let (code, _, b) = c.call(
        reqwest::Method::GET,
        &format!(
            "{base}?continue={}&resourceVersion=3",
            base64url(b"{\"v\":\"meta.k8s.io/v1\",\"rv\":3,\"start\":\"a\"}")
        ),
        "",
        "",
    );
    assert_eq!(
        (code, b),
        (
            400,
            status(
                400,
                "BadRequest",
                "specifying resource version is not allowed when using continue"
            )
        )
    );
    let (code, _, b) = c.call(reqwest::Method::GET, &format!("{base}?limit=ten"), "", "");
    assert_eq!(
        (code, b),
        (
            400,
            status(
                400,
                "BadRequest",
                "strconv.ParseInt: parsing \"ten\": invalid syntax"
            )
        )
    );
    let (code, _, b) = c.call(
        reqwest::Method::GET,
        &format!("{base}?resourceVersionMatch=NotOlderThan"),
        "",
        "",
    );
    assert_eq!(code, 422);
    assert_eq!(
        b["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
    );
    let (code, _, b) = c.call(
        reqwest::Method::GET,
        &format!("{base}?resourceVersion=0&resourceVersionMatch=Exact"),
        "",
        "",
    );
    assert_eq!(code, 422);
    assert_eq!(
        b["message"],
        "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\""
    );
    // A revision the server has not reached: the watch cache gives up after 3 s.
    let future: u64 = rv.parse::<u64>().unwrap() + 1_000_000;
    let (code, _, b) = c.call(
        reqwest::Method::GET,
        &format!("{base}?resourceVersion={future}&resourceVersionMatch=NotOlderThan"),
        "",
        "",
    );
    assert_eq!(code, 504, "{b}");
    assert_eq!(b["reason"], "Timeout");
    assert!(b["message"].as_str().unwrap().starts_with(&format!(
        "Timeout: Too large resource version: {future}, current: "
    )));
    assert_eq!(
        b["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
    c.alive();
}

/// A continue token whose revision has been compacted: 410 with upstream's text and a token
/// that goes on at the latest revision; an exact list of a compacted revision: 410 too.
#[test]
fn list_continue_after_compaction() {
    let c = C::new(Twin::start(&[
        "--watch-history-revisions",
        "5",
        "--watch-history-seconds",
        "0",
    ]));
    for i in 0..4 {
        let body =
            format!(r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"c-{i}"}}}}"#);
        assert_eq!(
            c.call(reqwest::Method::POST, CMS, "application/json", &body)
                .0,
            201
        );
    }
    let (_, _, p1) = c.call(reqwest::Method::GET, &format!("{CMS}?limit=1"), "", "");
    let rv = p1["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    let token = p1["metadata"]["continue"].as_str().unwrap().to_string();
    // Write until the store has compacted the first page's revision away (each write commits
    // before it returns; compaction follows the window).
    let mut expired = None;
    for i in 0..200 {
        let body =
            format!(r#"{{"apiVersion":"v1","kind":"ConfigMap","metadata":{{"name":"f-{i}"}}}}"#);
        assert_eq!(
            c.call(reqwest::Method::POST, CMS, "application/json", &body)
                .0,
            201
        );
        let (code, _, b) = c.call(
            reqwest::Method::GET,
            &format!("{CMS}?limit=1&continue={token}"),
            "",
            "",
        );
        if code != 200 {
            expired = Some((code, b));
            break;
        }
    }
    let (code, b) = expired.expect("the first page's revision is compacted");
    assert_eq!(code, 410, "{b}");
    assert_eq!(b["reason"], "Expired");
    assert_eq!(b["message"], "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
    let first = p1["items"][0]["metadata"]["name"].as_str().unwrap();
    let next = b["metadata"]["continue"].as_str().unwrap();
    assert_eq!(
        next,
        base64url(
            format!("{{\"v\":\"meta.k8s.io/v1\",\"rv\":-1,\"start\":\"{first}\\u0000\"}}")
                .as_bytes()
        )
    );
    // That token goes on at the latest revision.
    let (code, _, p2) = c.call(
        reqwest::Method::GET,
        &format!("{CMS}?limit=1&continue={next}"),
        "",
        "",
    );
    assert_eq!(code, 200, "{p2}");
    assert_ne!(p2["metadata"]["resourceVersion"], json!(rv));
    let (code, _, b) = c.call(
        reqwest::Method::GET,
        &format!("{CMS}?resourceVersion={rv}&resourceVersionMatch=Exact"),
        "",
        "",
    );
    assert_eq!(
        (code, b),
        (
            410,
            status(
                410,
                "Expired",
                "The resourceVersion for the provided list is too old."
            )
        )
    );
}

/// The deprecated watch paths (`/api/v1/watch/...`, `/apis/G/V/watch/...`) still watch.
#[test]
fn legacy_watch_paths() {
    let c = C::new(Twin::start(&[]));
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w"}}"#;
    assert_eq!(
        c.call(reqwest::Method::POST, CMS, "application/json", cm).0,
        201
    );
    for (path, name) in [
        (
            "/api/v1/watch/namespaces/default/configmaps?timeoutSeconds=1",
            "w",
        ),
        (
            "/api/v1/watch/namespaces/default/configmaps/w?timeoutSeconds=1",
            "w",
        ),
        ("/api/v1/watch/configmaps?timeoutSeconds=1", "w"),
        (
            "/api/v1/watch/namespaces/default?timeoutSeconds=1",
            "default",
        ),
    ] {
        let (code, _, body) = c.req(reqwest::Method::GET, path, "", vec![], Some(&c.t.token()));
        assert_eq!(code, 200, "{path}: {body}");
        let events: Vec<Value> = body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert!(
            events
                .iter()
                .any(|e| e["type"] == "ADDED" && e["object"]["metadata"]["name"] == name),
            "{path}: {body}"
        );
    }
    // They are GET routes: nothing is created through them.
    let (code, _, _) = c.call(
        reqwest::Method::POST,
        "/api/v1/watch/namespaces/default/configmaps",
        "application/json",
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"sneaky"}}"#,
    );
    assert_eq!(code, 405);
    assert_eq!(
        c.call(reqwest::Method::GET, &format!("{CMS}/sneaky"), "", "")
            .0,
        404
    );
    let (code, _, body) = c.req(
        reqwest::Method::GET,
        "/apis/apps/v1/watch/namespaces/default/deployments?timeoutSeconds=1",
        "",
        vec![],
        Some(&c.t.token()),
    );
    assert_eq!(code, 200, "{body}");
}
