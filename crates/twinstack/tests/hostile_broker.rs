//! The broker and the CLI attacked (issue 8): racing provisions of one name, parallel PUTs of one
//! instance, PUT racing DELETE, a runtime named `twinstack`, instance IDs and bodies that used to
//! panic, random concurrent lifecycles checked against a model, a stdout nobody reads, and
//! secrets at rest. Every test ends by checking the server's peak RSS stayed under 500 MB.

mod common;
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const SERVICE: &str = "47c9dcbf-ff30-448e-ab36-d3bad66ba281";
const AWS: &str = "361c511f-f939-4621-b228-d0fb79a1fe15";
const MAX_RSS: u64 = 500 * 1024 * 1024;

/// An OSB client for concurrent requests (each call is a future; join them to race).
#[derive(Clone)]
struct Osb {
    base: String,
    c: reqwest::Client,
    user: String,
    pass: String,
}

impl Osb {
    fn new(t: &Twin) -> Osb {
        let creds: Value =
            serde_json::from_slice(&std::fs::read(t.data_dir().join("broker.json")).unwrap())
                .unwrap();
        Osb {
            base: format!("https://127.0.0.1:{}", t.port),
            c: t.client(),
            user: creds["username"].as_str().unwrap().into(),
            pass: creds["password"].as_str().unwrap().into(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (u16, Value) {
        let mut r = self
            .c
            .request(method, format!("{}{path}", self.base))
            .header("X-Broker-API-Version", "2.17")
            .basic_auth(&self.user, Some(&self.pass));
        if let Some(b) = body {
            r = r.header("Content-Type", "application/json").body(b);
        }
        let resp = r.send().await.expect("the broker answers");
        let code = resp.status().as_u16();
        let text = resp.text().await.expect("a whole body");
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn provision(&self, id: &str, params: Value) -> (u16, Value) {
        let body = json!({"service_id": SERVICE, "plan_id": AWS, "context": {"globalaccount_id": "ga", "subaccount_id": "sa", "user_id": "dev@example.com"}, "parameters": params});
        self.call(
            reqwest::Method::PUT,
            &format!("/v2/service_instances/{id}?accepts_incomplete=true"),
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await
    }

    async fn update(&self, id: &str) -> (u16, Value) {
        let body =
            json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {"autoScalerMax": 10}});
        self.call(
            reqwest::Method::PATCH,
            &format!("/v2/service_instances/{id}?accepts_incomplete=true"),
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await
    }

    async fn deprovision(&self, id: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::DELETE,
            &format!("/v2/service_instances/{id}?accepts_incomplete=true&service_id={SERVICE}&plan_id={AWS}"),
            None,
        )
        .await
    }

    async fn fetch(&self, id: &str) -> u16 {
        self.call(
            reqwest::Method::GET,
            &format!("/v2/service_instances/{id}"),
            None,
        )
        .await
        .0
    }

    async fn last_operation(&self, id: &str, op: &str) -> (u16, Value) {
        self.call(
            reqwest::Method::GET,
            &format!("/v2/service_instances/{id}/last_operation?operation={op}"),
            None,
        )
        .await
    }

    /// Runtime name → owning instance ID (empty for the runtime of `up`).
    async fn runtimes(&self) -> BTreeMap<String, String> {
        let (code, v) = self
            .call(reqwest::Method::GET, "/twinstack/v1/runtimes", None)
            .await;
        assert_eq!(code, 200, "{v}");
        v["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["instanceId"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

fn params(name: &str) -> Value {
    json!({"name": name, "region": "eu-central-1"})
}

fn assert_rss(t: &Twin) {
    let rss = t.peak_rss_bytes();
    eprintln!("server peak RSS: {} MB", rss / (1024 * 1024));
    assert!(rss < MAX_RSS, "peak RSS {} MB", rss / (1024 * 1024));
}

fn assert_no_panic(t: &Twin) {
    let log = t.stderr();
    assert!(!log.contains("panicked"), "the server panicked:\n{log}");
}

fn kubeconfig_exists(t: &Twin, runtime: &str) -> bool {
    t.data_dir()
        .join("kubeconfigs")
        .join(format!("{runtime}.yaml"))
        .exists()
}

/// Finding 2: 20 provisions with different instance IDs and one `name`. Before: several ended
/// `failed` pointing at the winner's runtime, and deprovisioning them deleted it. Now, as on
/// KEB, instances may share a name: each gets its own runtime (named from its ID), and
/// deprovisioning one leaves the others alone.
#[test]
fn twenty_provisions_of_one_name_make_twenty_runtimes() {
    let t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    let ids: Vec<String> = (0..20).map(|i| format!("same-name-{i:02}")).collect();
    let answers = rt.block_on(futures_util::future::join_all(
        ids.iter().map(|id| o.provision(id, params("shared"))),
    ));
    for (id, (code, body)) in ids.iter().zip(&answers) {
        assert_eq!(*code, 202, "{id}: {body}");
    }
    let runtimes = rt.block_on(o.runtimes());
    for id in &ids {
        let name = twinstack_keb::runtime_name(id);
        assert_eq!(runtimes.get(&name), Some(id), "{runtimes:?}");
        assert!(kubeconfig_exists(&t, &name));
    }
    // Deprovisioning half of them leaves the other half serving.
    for id in ids.iter().step_by(2) {
        assert_eq!(rt.block_on(o.deprovision(id)).0, 202);
    }
    let runtimes = rt.block_on(o.runtimes());
    for (i, id) in ids.iter().enumerate() {
        let name = twinstack_keb::runtime_name(id);
        assert_eq!(runtimes.contains_key(&name), i % 2 == 1, "{id}");
        if i % 2 == 1 {
            let out = Command::new("kubectl")
                .args(["get", "svc", "kubernetes", "-o", "name"])
                .env(
                    "KUBECONFIG",
                    t.data_dir().join(format!("kubeconfigs/{name}.yaml")),
                )
                .env("HOME", t.cache.path())
                .output()
                .unwrap();
            assert_eq!(ok(&out).trim(), "service/kubernetes");
        }
    }
    assert_no_panic(&t);
    assert_rss(&t);
}

/// Finding 2: parallel PUTs of one instance ID. Before: extra runtimes without an instance and
/// operation IDs that `last_operation` did not know.
#[test]
fn parallel_puts_of_one_id_make_one_runtime_and_one_operation() {
    let t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    let answers = rt.block_on(futures_util::future::join_all(
        (0..20).map(|_| o.provision("one-id", params("one"))),
    ));
    let ops: BTreeSet<&str> = answers
        .iter()
        .map(|(code, body)| {
            assert_eq!(*code, 202, "{body}");
            body["operation"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        ops.len(),
        1,
        "one operation for identical requests: {ops:?}"
    );
    let op = ops.into_iter().next().unwrap().to_string();
    let (code, st) = rt.block_on(o.last_operation("one-id", &op));
    assert_eq!(
        (code, st["state"].as_str()),
        (200, Some("succeeded")),
        "{st}"
    );

    // Different requests for one new ID: one wins, the others conflict as KEB answers.
    let answers = rt.block_on(futures_util::future::join_all(
        (0..20).map(|i| o.provision("other-id", params(&format!("other-{i}")))),
    ));
    let accepted = answers.iter().filter(|(c, _)| *c == 202).count();
    assert_eq!(accepted, 1, "{answers:?}");
    for (code, body) in answers.iter().filter(|(c, _)| *c != 202) {
        assert_eq!(
            (*code, body),
            (
                409,
                &json!({"description": "provisioning operation already exist"})
            )
        );
    }
    let runtimes = rt.block_on(o.runtimes());
    let owned: Vec<(&String, &String)> = runtimes.iter().filter(|(_, i)| !i.is_empty()).collect();
    assert_eq!(
        owned.len(),
        2,
        "no runtime without its instance: {runtimes:?}"
    );
    assert_eq!(
        runtimes
            .get(&twinstack_keb::runtime_name("one-id"))
            .map(String::as_str),
        Some("one-id")
    );
    assert_no_panic(&t);
    assert_rss(&t);
}

/// Finding 2: a PUT racing a DELETE of the same instance. Before: an instance whose runtime was
/// gone, and a stale kubeconfig.
#[test]
fn put_racing_delete_leaves_no_half_instance() {
    let t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    for round in 0..12 {
        let id = format!("race-{round}");
        let name = format!("race-{round}");
        let put = o.provision(&id, params(&name));
        // Even rounds send the DELETEs with the PUT; odd rounds send them as soon as the
        // instance is visible (its provisioning operation known), inside the PUT's work.
        let deletes = async {
            if round % 2 == 1 {
                loop {
                    let (code, _) = o
                        .call(
                            reqwest::Method::GET,
                            &format!("/v2/service_instances/{id}/last_operation"),
                            None,
                        )
                        .await;
                    if code == 200 {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            }
            futures_util::future::join_all((0..3).map(|_| o.deprovision(&id))).await
        };
        let ((put_code, put_body), deleted) = rt.block_on(async { tokio::join!(put, deletes) });
        assert_eq!(put_code, 202, "{put_body}");
        for (code, body) in &deleted {
            assert!(*code == 200 || *code == 202, "{code} {body}");
        }
        let exists = rt.block_on(o.fetch(&id)) == 200;
        let runtimes = rt.block_on(o.runtimes());
        let runtime = runtimes.iter().find(|(_, owner)| **owner == id);
        assert_eq!(exists, runtime.is_some(), "round {round}: {runtimes:?}");
        let rt_name = twinstack_keb::runtime_name(&id);
        assert_eq!(exists, kubeconfig_exists(&t, &rt_name), "round {round}");
        // Every operation handed out is known.
        let op = put_body["operation"].as_str().unwrap();
        assert_eq!(rt.block_on(o.last_operation(&id, op)).0, 200);
        for (_, body) in deleted.iter().filter(|(c, _)| *c == 202) {
            let op = body["operation"].as_str().unwrap();
            assert_eq!(rt.block_on(o.last_operation(&id, op)).0, 200);
        }
        // Clean up for the next round: whatever is left goes.
        rt.block_on(o.deprovision(&id));
        assert!(!kubeconfig_exists(&t, &rt_name));
    }
    assert_no_panic(&t);
    assert_rss(&t);
}

/// Finding 2: a runtime named `twinstack` owned the prefix of every broker record.
#[test]
fn a_runtime_named_twinstack_deletes_no_broker_record() {
    let mut t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    assert_eq!(rt.block_on(o.provision("keep", params("keep"))).0, 202);
    let (code, body) = rt.block_on(o.provision("tw", params("twinstack")));
    assert_eq!(code, 202, "{body}");
    assert_eq!(rt.block_on(o.deprovision("tw")).0, 202);
    assert_eq!(rt.block_on(o.fetch("keep")), 200);
    let keep = twinstack_keb::runtime_name("keep");
    let runtimes = rt.block_on(o.runtimes());
    assert_eq!(runtimes.get(&keep).map(String::as_str), Some("keep"));
    assert!(runtimes.contains_key("local"), "{runtimes:?}");
    t.stop();
    t.spawn();
    let o = Osb::new(&t);
    assert_eq!(rt.block_on(o.fetch("keep")), 200);
    let runtimes = rt.block_on(o.runtimes());
    assert!(runtimes.contains_key(&keep) && runtimes.contains_key("local"));
    assert!(!runtimes.contains_key(&twinstack_keb::runtime_name("tw")));
    assert_no_panic(&t);
    assert_rss(&t);
}

/// Rewrites a stopped twin's platform records into the layout of earlier versions (records
/// under `/registry/twinstack/`, operations inside the instance, `deleted` instead of an archive).
fn write_legacy_layout(data_dir: &std::path::Path, rt: &tokio::runtime::Runtime) {
    let store = twinstack_store::Store::open(&data_dir.join("store.redb")).unwrap();
    let list = |prefix: &str| -> Vec<(String, Value)> {
        store
            .list(prefix)
            .unwrap()
            .0
            .into_iter()
            .map(|kv| (kv.key, serde_json::from_slice(&kv.value).unwrap()))
            .collect()
    };
    let mut puts: Vec<(String, Value)> = Vec::new();
    let mut deletes: Vec<String> = Vec::new();
    for (key, record) in list("/twinstack/runtimes/") {
        puts.push((key.replace("/twinstack/", "/registry/twinstack/"), record));
        deletes.push(key);
    }
    let operations: BTreeMap<String, Value> = list("/twinstack/operations/")
        .into_iter()
        .map(|(k, v)| (k.rsplit('/').next().unwrap().to_string(), v))
        .collect();
    deletes.extend(
        operations
            .keys()
            .map(|id| format!("/twinstack/operations/{id}")),
    );
    for (key, inst) in list("/twinstack/instances/") {
        let ops: Vec<Value> = inst["operations"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .map(|id| {
                let op = &operations[id.as_str().unwrap()];
                json!({"id": op["id"], "kind": op["type"], "state": op["state"], "description": op["description"]})
            })
            .collect();
        let legacy = json!({
            "instanceId": inst["instanceId"], "serviceId": inst["serviceId"], "planId": inst["planId"],
            "runtime": inst["runtime"], "plan": inst["plan"], "parameters": inst["parameters"],
            "context": inst["context"], "operations": ops, "deleted": false,
        });
        puts.push((key.replace("/twinstack/", "/registry/twinstack/"), legacy));
        deletes.push(key);
    }
    for (key, archived) in list("/twinstack/instances-archived/") {
        // Earlier versions kept a deleted instance with its plan; the archive has none, so a
        // minimal plan of a live instance stands in.
        let plan = puts
            .iter()
            .find(|(k, _)| k.starts_with("/registry/twinstack/instances/"))
            .map(|(_, v)| v["plan"].clone())
            .unwrap();
        let id = archived["instanceId"].clone();
        let legacy = json!({
            "instanceId": id, "serviceId": SERVICE, "planId": archived["planId"],
            "runtime": archived["runtime"], "plan": plan, "parameters": {}, "context": {},
            "operations": [{"id": "old-deprovision", "kind": "deprovision", "state": "succeeded", "description": "Operation succeeded"}],
            "deleted": true,
        });
        puts.push((
            format!("/registry/twinstack/instances/{}", id.as_str().unwrap()),
            legacy,
        ));
        deletes.push(key);
    }
    rt.block_on(store.txn(move |txn| {
        for k in &deletes {
            txn.delete(k);
        }
        for (k, v) in &puts {
            txn.put(k, serde_json::to_vec(v).unwrap());
        }
        Ok::<_, std::convert::Infallible>(())
    }))
    .unwrap();
}

/// Data dirs of earlier versions keep their records under `/registry/twinstack/`: they are
/// moved on start, and every instance, operation and runtime answers as before.
#[test]
fn legacy_records_are_moved_out_of_a_runtimes_reach() {
    let mut t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    let (_, body) = rt.block_on(o.provision("kept", params("kept")));
    let provision = body["operation"].as_str().unwrap().to_string();
    let (code, body) = rt.block_on(o.update("kept"));
    assert_eq!(code, 202, "{body}");
    let update = body["operation"].as_str().unwrap().to_string();
    assert_eq!(rt.block_on(o.provision("gone", params("gone"))).0, 202);
    assert_eq!(rt.block_on(o.deprovision("gone")).0, 202);
    t.stop();
    write_legacy_layout(t.data_dir(), &rt);

    t.spawn();
    assert!(
        t.stderr().contains("moved platform records"),
        "{}",
        t.stderr()
    );
    let o = Osb::new(&t);
    assert_eq!(rt.block_on(o.fetch("kept")), 200);
    for op in [&provision, &update] {
        let (code, st) = rt.block_on(o.last_operation("kept", op));
        assert_eq!(
            (code, st["state"].as_str()),
            (200, Some("succeeded")),
            "{st}"
        );
    }
    let (code, st) = rt.block_on(o.last_operation("gone", "old-deprovision"));
    assert_eq!(
        (code, st["state"].as_str()),
        (200, Some("succeeded")),
        "{st}"
    );
    let runtimes = rt.block_on(o.runtimes());
    let kept = twinstack_keb::runtime_name("kept");
    assert_eq!(runtimes.get(&kept).map(String::as_str), Some("kept"));
    assert!(
        runtimes.contains_key("local")
            && !runtimes.contains_key(&twinstack_keb::runtime_name("gone"))
    );
    // A runtime named `twinstack` now reaches nothing of the platform's.
    assert_eq!(rt.block_on(o.provision("tw", params("twinstack"))).0, 202);
    assert_eq!(rt.block_on(o.deprovision("tw")).0, 202);
    assert_eq!(rt.block_on(o.fetch("kept")), 200);
    assert_eq!(rt.block_on(o.deprovision("kept")).0, 202);
    assert!(!rt.block_on(o.runtimes()).contains_key(&kept));
    assert_no_panic(&t);
    assert_rss(&t);
    t.stop();
    let store = twinstack_store::Store::open(&t.data_dir().join("store.redb")).unwrap();
    let left: Vec<String> = [
        "/registry/twinstack/instances/",
        "/registry/twinstack/runtimes/",
    ]
    .iter()
    .flat_map(|p| store.list(p).unwrap().0)
    .map(|kv| kv.key)
    .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Finding 3: the fallback runtime name sliced a filtered ID by the unfiltered length. Runtime
/// names now come from a hash of the ID, whatever its characters.
#[test]
fn ids_without_enough_letters_do_not_panic() {
    let t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    for id in ["a-b-c-d-e", "--------", "-"] {
        let want = twinstack_keb::runtime_name(id);
        let want = want.as_str();
        let (code, body) = rt.block_on(o.provision(id, params("UPPER")));
        assert_eq!(code, 202, "{id}: {body}");
        let runtimes = rt.block_on(o.runtimes());
        assert_eq!(
            runtimes.get(want).map(String::as_str),
            Some(id),
            "{runtimes:?}"
        );
    }
    assert_no_panic(&t);
    assert_rss(&t);
}

/// Percent-encodes everything but unreserved characters, so any string is one path segment.
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        Just(json!(SERVICE)),
        Just(json!(AWS)),
        Just(json!("eu-central-1")),
        Just(json!("10.250.0.0/20")),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let key = prop_oneof![
            Just("service_id".to_string()),
            Just("plan_id".to_string()),
            Just("parameters".to_string()),
            Just("context".to_string()),
            Just("name".to_string()),
            Just("region".to_string()),
            Just("networking".to_string()),
            Just("nodes".to_string()),
            Just("dualStack".to_string()),
            Just("twinstack".to_string()),
            Just("ipFamilies".to_string()),
            Just("autoScalerMin".to_string()),
            ".{0,6}",
        ];
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key, inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Finding 3 as a property: no instance ID and no body makes the broker fail (5xx) or panic.
#[test]
fn no_request_body_or_id_panics() {
    let t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    let body = prop_oneof![
        1 => arb_json().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        // Bodies that pass brokerapi's checks, so KEB's validation and provisioning run.
        1 => arb_json().prop_map(|p| serde_json::to_vec(
            &json!({"service_id": SERVICE, "plan_id": AWS, "parameters": p})
        )
        .unwrap()),
        1 => (".{0,20}", "[a-z]{1,3}").prop_map(|(name, region)| serde_json::to_vec(
            &json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {"name": name, "region": format!("eu-{region}")}})
        )
        .unwrap()),
        // Valid for KEB but no DNS label: the runtime is named after the instance ID.
        3 => "[A-Z][A-Za-z0-9-]{0,6}".prop_map(|name| serde_json::to_vec(
            &json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {"name": name, "region": "eu-central-1"}})
        )
        .unwrap()),
        1 => proptest::collection::vec(any::<u8>(), 0..64),
    ];
    // IDs of any text, and IDs with few letters or digits (the fallback runtime name).
    let id = prop_oneof![".{0,24}", "[-a-c]{0,10}"];
    let verb = prop_oneof![3 => Just(0u8), 1 => Just(1), 1 => Just(2), 1 => Just(3)];
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(id, body, verb), |(id, body, verb)| {
            let seg = path_segment(&id);
            let (method, path) = match verb {
                0 => (reqwest::Method::PUT, format!("/v2/service_instances/{seg}?accepts_incomplete=true")),
                1 => (reqwest::Method::PATCH, format!("/v2/service_instances/{seg}?accepts_incomplete=true")),
                2 => (reqwest::Method::DELETE, format!("/v2/service_instances/{seg}?accepts_incomplete=true&service_id={SERVICE}&plan_id={AWS}")),
                _ => (reqwest::Method::GET, format!("/v2/service_instances/{seg}/last_operation?operation={seg}")),
            };
            let (code, answer) = rt.block_on(o.call(method, &path, Some(body)));
            prop_assert!(code < 500, "{code} {answer} for id {id:?}");
            if code >= 400 {
                prop_assert!(answer["description"].is_string(), "OSB error body: {answer}");
            }
            Ok(())
        })
        .unwrap();
    assert_no_panic(&t);
    assert_rss(&t);
}

// ---- Random concurrent lifecycles against a model ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// Provision instance `id` with name `name` (index 3 is not a DNS label) and `variant`
    /// (region) of the parameters.
    Provision {
        id: usize,
        name: usize,
        variant: usize,
    },
    Update {
        id: usize,
    },
    Deprovision {
        id: usize,
    },
    // Bindings (issue 10) join here: Bind { id, binding } / Unbind { id, binding }, with the
    // model keeping each instance's bindings and the checks below requiring none without its
    // instance.
}

const IDS: usize = 4;
const NAMES: usize = 4;

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..IDS, 0..NAMES, 0..2usize).prop_map(|(id, name, variant)| Op::Provision { id, name, variant }),
        1 => (0..IDS).prop_map(|id| Op::Update { id }),
        3 => (0..IDS).prop_map(|id| Op::Deprovision { id }),
    ]
}

/// One test case's instance IDs and names, distinct from every other case's.
struct Names {
    case: usize,
}

impl Names {
    fn id(&self, i: usize) -> String {
        // The first eight letters and digits differ per instance (the fallback runtime name).
        format!("c{:03}i{i}xx-{:04}", self.case, self.case * 7 + i)
    }
    fn name(&self, n: usize) -> String {
        if n == 3 {
            format!("Mixed-{}", self.case)
        } else {
            format!("m{}-{n}", self.case)
        }
    }
    fn region(variant: usize) -> &'static str {
        ["eu-central-1", "eu-west-2"][variant]
    }
    fn runtime(&self, id: usize, name: usize) -> String {
        {
            let _ = name;
            twinstack_keb::runtime_name(&self.id(id))
        }
    }
}

/// The sequential model: instance index → (name index, variant).
type Model = BTreeMap<usize, (usize, usize)>;

/// Applies `op` to the model; returns the status code KEB (and twinstack's one-runtime-per-name
/// rule) answers.
fn apply(m: &mut Model, names: &Names, op: Op) -> u16 {
    match op {
        Op::Provision { id, name, variant } => match m.get(&id) {
            Some(&have) if have == (name, variant) => 202,
            Some(_) => 409,
            None => {
                let rt = names.runtime(id, name);
                if m.iter().any(|(&i, &(n, _))| names.runtime(i, n) == rt) {
                    409
                } else {
                    m.insert(id, (name, variant));
                    202
                }
            }
        },
        Op::Update { id } => {
            if m.contains_key(&id) {
                202
            } else {
                404
            }
        }
        Op::Deprovision { id } => {
            if m.remove(&id).is_some() {
                202
            } else {
                200
            }
        }
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![vec![]];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for at in 0..=p.len() {
            let mut q = p.clone();
            q.insert(at, n - 1);
            out.push(q);
        }
    }
    out
}

/// The outcomes some order of the round's operations explains: (answers, final model).
fn linearizations(before: &Model, names: &Names, round: &[Op]) -> Vec<(Vec<u16>, Model)> {
    permutations(round.len())
        .into_iter()
        .map(|order| {
            let mut m = before.clone();
            let mut codes = vec![0; round.len()];
            for i in order {
                codes[i] = apply(&mut m, names, round[i]);
            }
            (codes, m)
        })
        .collect()
}

async fn run_op(o: &Osb, names: &Names, op: Op) -> (u16, Value) {
    match op {
        Op::Provision { id, name, variant } => {
            o.provision(
                &names.id(id),
                json!({"name": names.name(name), "region": Names::region(variant)}),
            )
            .await
        }
        Op::Update { id } => o.update(&names.id(id)).await,
        Op::Deprovision { id } => o.deprovision(&names.id(id)).await,
    }
}

/// The system's state, read back: which instances exist and which runtime each owns. Fails on
/// orphans: a runtime whose owner does not exist, an instance without its runtime, a kubeconfig
/// without a runtime or the reverse.
fn observe(
    t: &Twin,
    o: &Osb,
    rt: &tokio::runtime::Runtime,
    names: &Names,
) -> Result<Model, TestCaseError> {
    let runtimes = rt.block_on(o.runtimes());
    let mut seen = Model::new();
    for i in 0..IDS {
        let id = names.id(i);
        let exists = rt.block_on(o.fetch(&id)) == 200;
        let owned: Vec<&String> = runtimes
            .iter()
            .filter(|(_, owner)| **owner == id)
            .map(|(n, _)| n)
            .collect();
        prop_assert!(owned.len() <= 1, "{id} owns {owned:?}");
        prop_assert_eq!(
            exists,
            owned.len() == 1,
            "instance {} vs runtimes {:?}",
            id,
            runtimes
        );
        if let Some(rt_name) = owned.first() {
            prop_assert!(kubeconfig_exists(t, rt_name), "kubeconfig of {}", rt_name);
            let expected = names.runtime(i, 0);
            prop_assert_eq!(
                rt_name.as_str(),
                expected.as_str(),
                "the runtime is named from the instance ID"
            );
            // Name and variant are not visible in the runtime list; the fetched parameters
            // say them.
            let (_, inst) = rt.block_on(o.call(
                reqwest::Method::GET,
                &format!("/v2/service_instances/{id}"),
                None,
            ));
            let name = (0..NAMES)
                .find(|&n| inst["parameters"]["name"] == names.name(n))
                .ok_or_else(|| TestCaseError::fail(format!("unexpected instance {inst}")))?;
            let variant = usize::from(inst["parameters"]["region"] == Names::region(1));
            seen.insert(i, (name, variant));
        }
    }
    // No runtime of this case without an existing instance.
    for (rt_name, owner) in &runtimes {
        if owner.starts_with(&format!("c{:03}i", names.case)) {
            prop_assert!(
                (0..IDS).any(|i| names.id(i) == *owner && seen.contains_key(&i)),
                "orphan runtime {} of {}",
                rt_name,
                owner
            );
        }
    }
    for n in 0..NAMES {
        for i in 0..IDS {
            let rt_name = names.runtime(i, n);
            if !runtimes.contains_key(&rt_name) {
                prop_assert!(
                    !kubeconfig_exists(t, &rt_name),
                    "stale kubeconfig {}",
                    rt_name
                );
            }
        }
    }
    Ok(seen)
}

/// Finding 2 as a property: random concurrent provision / update / deprovision rounds. Each
/// round's answers and the state after it must be explained by some sequential order of its
/// operations (linearizability against the model), with no orphan runtime, no orphan instance,
/// and every operation ID handed out known to `last_operation`.
#[test]
fn random_concurrent_lifecycles_match_the_model() {
    let t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    let case = AtomicUsize::new(0);
    // What the cases exercised (so the property cannot pass on trivial sequences).
    let (created, conflicts, deleted) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let rounds = proptest::collection::vec(proptest::collection::vec(arb_op(), 1..=4), 1..=5);
    let mut runner = TestRunner::new(ProptestConfig {
        cases: 16,
        max_shrink_iters: 32,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&rounds, |rounds| {
            let names = Names {
                case: case.fetch_add(1, Ordering::SeqCst),
            };
            let mut model = Model::new();
            let mut handed_out: Vec<(String, String)> = Vec::new();
            for round in &rounds {
                let answers = rt.block_on(futures_util::future::join_all(
                    round.iter().map(|op| run_op(&o, &names, *op)),
                ));
                let codes: Vec<u16> = answers.iter().map(|(c, _)| *c).collect();
                let after = observe(&t, &o, &rt, &names)?;
                let explained = linearizations(&model, &names, round)
                    .into_iter()
                    .any(|(want, m)| want == codes && m == after);
                prop_assert!(
                    explained,
                    "round {:?} answered {:?} leaving {:?}; before {:?}",
                    round,
                    answers,
                    after,
                    model
                );
                for (op, (code, body)) in round.iter().zip(&answers) {
                    match (op, *code) {
                        (Op::Provision { .. }, 202) => created.fetch_add(1, Ordering::Relaxed),
                        (Op::Provision { .. }, 409) => conflicts.fetch_add(1, Ordering::Relaxed),
                        (Op::Deprovision { .. }, 202) => deleted.fetch_add(1, Ordering::Relaxed),
                        _ => 0,
                    };
                    if *code == 202 {
                        let id = match op {
                            Op::Provision { id, .. }
                            | Op::Update { id }
                            | Op::Deprovision { id } => *id,
                        };
                        let operation = body["operation"].as_str().unwrap_or_default();
                        handed_out.push((names.id(id), operation.to_string()));
                    }
                }
                for (id, operation) in &handed_out {
                    let (code, st) = rt.block_on(o.last_operation(id, operation));
                    prop_assert_eq!(code, 200, "operation {} of {}: {}", operation, id, st);
                }
                model = after;
            }
            // Leave nothing behind for the next case.
            for i in 0..IDS {
                rt.block_on(o.deprovision(&names.id(i)));
            }
            prop_assert!(observe(&t, &o, &rt, &names)?.is_empty());
            Ok(())
        })
        .unwrap();
    let exercised = [&created, &conflicts, &deleted].map(|c| c.load(Ordering::Relaxed));
    assert!(
        exercised.iter().all(|n| *n > 0),
        "provisions, conflicts, deprovisions: {exercised:?}"
    );
    assert_no_panic(&t);
    assert_rss(&t);
}

// ---- The CLI when nobody reads its output (finding 3) ----

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> std::io::PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

fn cli_into_closed_pipe(t: &Twin, args: &[&str], close_stderr: bool) -> std::process::Output {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .arg("--data-dir")
        .arg(t.data_dir())
        .stdin(Stdio::null())
        .stdout(closed_pipe());
    if close_stderr {
        cmd.stderr(closed_pipe());
    } else {
        cmd.stderr(Stdio::piped());
    }
    cmd.output().unwrap()
}

#[test]
fn cli_output_into_a_closed_pipe_exits_quietly() {
    let t = Twin::start(&[]);
    for args in [
        &["runtime", "list"][..],
        &["runtime", "show", "local"],
        &["runtime", "kubeconfig", "local"],
        &["kubeconfig"],
        &["kubeconfig", "local"],
        &["runtime", "create", "piped", "--plan", "aws"],
        &["runtime", "delete", "piped"],
    ] {
        let out = cli_into_closed_pipe(&t, args, false);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
    // The runtime made while nobody read the output exists, and went again.
    assert!(!ok(&Command::new(bin())
        .args(["runtime", "list", "--data-dir"])
        .arg(t.data_dir())
        .output()
        .unwrap())
    .contains("piped"));
    // Errors on a stderr nobody reads: the exit status still tells (1, not a panic's 101).
    let out = cli_into_closed_pipe(&t, &["runtime", "show", "nope"], true);
    assert_eq!(out.status.code(), Some(1));
    let out = cli_into_closed_pipe(&t, &["--help"], true);
    assert_eq!(out.status.code(), Some(0));
    assert_rss(&t);
}

// ---- Secrets at rest (finding 7) ----

/// Modes of everything twinstack keeps in a data dir (not of a foreign `other/`).
fn modes(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u32)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        out.push((
            d.clone(),
            std::fs::metadata(&d).unwrap().permissions().mode() & 0o777,
        ));
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            if p.file_name().unwrap() == "other" {
                continue;
            }
            if m.is_dir() {
                pending.push(p);
            } else {
                out.push((p, m.permissions().mode() & 0o777));
            }
        }
    }
    out
}

fn assert_private(dir: &std::path::Path) {
    for (p, mode) in modes(dir) {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{} is {mode:04o}", p.display());
    }
}

fn chmod(p: &std::path::Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn the_data_dir_is_private_and_fixed_on_start() {
    let mut t = Twin::start(&[]);
    let o = Osb::new(&t);
    let rt = tokio_rt();
    assert_eq!(rt.block_on(o.provision("secret", params("secret"))).0, 202);
    let dir = t.data_dir().to_path_buf();
    let secret = format!("kubeconfigs/{}.yaml", twinstack_keb::runtime_name("secret"));
    for f in [
        "store.redb",
        "broker.json",
        "kubeconfig",
        "pki/ca.key",
        "pki/ca.crt",
        "service-account.key",
        &secret,
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    assert_private(&dir);

    // A data dir an older version (or the user) left readable is fixed, and the fix is logged.
    t.stop();
    chmod(&dir, 0o755);
    chmod(&dir.join("pki"), 0o755);
    for f in [
        "store.redb",
        "broker.json",
        "pki/ca.key",
        "service-account.key",
        &secret,
    ] {
        chmod(&dir.join(f), 0o644);
    }
    // What is not twinstack's keeps its owner's bits (a data dir pointed at an existing
    // directory must not lose its executables) and foreign subdirectories stay as they are.
    std::fs::create_dir(dir.join("other")).unwrap();
    std::fs::write(dir.join("other/tool.sh"), "#!/bin/sh\n").unwrap();
    chmod(&dir.join("other/tool.sh"), 0o755);
    std::fs::write(dir.join("run.sh"), "#!/bin/sh\n").unwrap();
    chmod(&dir.join("run.sh"), 0o755);
    t.spawn();
    let mode = |f: &str| std::fs::metadata(dir.join(f)).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode("run.sh"), 0o700);
    assert_eq!((mode("other"), mode("other/tool.sh")), (0o755, 0o755));
    std::fs::remove_file(dir.join("run.sh")).unwrap();
    assert_private(&dir);
    let log = t.stderr();
    for f in ["store.redb", "broker.json", "ca.key"] {
        assert!(
            log.lines()
                .any(|l| l.contains(f) && l.contains("mode was 0644; set to 0600")),
            "{f} not logged:\n{log}"
        );
    }
    assert!(log.contains("mode was 0755; set to 0700"), "{log}");
    assert_rss(&t);
}
