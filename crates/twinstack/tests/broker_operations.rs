//! KEB's bindings and asynchronous operations, end to end: an OSB client binds an AWS
//! dual-stack runtime and uses the kubeconfig with kubectl until the token expires (the platform
//! clock is moved, not waited for) or the binding is deleted; provision, update and
//! deprovision run through KEB's stages while `last_operation` is polled; SIGKILL in the middle
//! of an operation and a restart finish it.

mod common;
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;

use common::osb::{Osb, AWS, AZURE, SERVICE};

fn write_kubeconfig(t: &Twin, name: &str, body: &Value) -> PathBuf {
    let k = body["credentials"]["kubeconfig"]
        .as_str()
        .expect("kubeconfig");
    write(t.data_dir(), name, k)
}

fn kubectl_as(t: &Twin, kubeconfig: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["--kubeconfig", kubeconfig.to_str().unwrap()];
    all.extend_from_slice(args);
    t.kubectl(&all)
}

fn unauthorized(out: &std::process::Output) -> bool {
    !out.status.success()
        && String::from_utf8_lossy(&out.stderr)
            .contains("You must be logged in to the server (Unauthorized)")
}

/// Acceptance: bind an aws dual-stack runtime, use the kubeconfig, 401 after the expiry (the
/// clock moved to the minimum of 600 s), and unbind revokes at once. With KEB's answers on
/// the way.
#[test]
fn a_binding_is_a_kubeconfig_until_it_expires_or_is_deleted() {
    let t = Twin::start(&["--test-clock"]);
    let o = Osb::new(&t);
    let (code, body) = o.provision(
        "b1",
        AWS,
        json!({"name": "ci-runtime", "region": "eu-central-1",
               "networking": {"nodes": "10.250.0.0/20", "dualStack": true}}),
    );
    assert_eq!(code, 202, "{body}");

    // The catalog says aws is bindable (KEB's `bindablePlans: aws`).
    let (_, cat) = o.call(reqwest::Method::GET, "/v2/catalog", None);
    let aws = cat["services"][0]["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == AWS)
        .unwrap()
        .clone();
    assert_eq!(aws["bindable"], true, "{aws}");

    // KEB's refusals before a binding is made.
    assert_eq!(
        o.bind("b1", "x", json!({"expiration_seconds": 599})),
        (
            400,
            json!({"description": "expiration_seconds cannot be less than 600"})
        )
    );
    assert_eq!(
        o.bind("b1", "x", json!({"expiration_seconds": 7201})),
        (
            400,
            json!({"description": "expiration_seconds cannot be greater than 7200"})
        )
    );
    assert_eq!(
        o.bind("nope", "x", json!({})),
        (404, json!({"description": "instance does not exist"}))
    );
    assert_eq!(o.unbind("b1", "never-made"), (410, json!({})));

    let (code, b) = o.bind("b1", "ci", json!({"expiration_seconds": 600}));
    assert_eq!(code, 201, "{b}");
    let expires = b["metadata"]["expires_at"].as_str().unwrap();
    assert!(expires.ends_with(".0Z"), "{expires}");
    let k = b["credentials"]["kubeconfig"].as_str().unwrap();
    assert!(k.contains("current-context: ci-runtime"), "{k}");
    let kubeconfig = write_kubeconfig(&t, "ci.yaml", &b);
    // An identical repeat answers the same binding (200); other parameters conflict.
    assert_eq!(
        o.bind("b1", "ci", json!({"expiration_seconds": 600})),
        (200, b.clone())
    );
    assert_eq!(
        o.bind("b1", "ci", json!({"expiration_seconds": 900})),
        (
            409,
            json!({"description": "binding already exists but with different parameters"})
        )
    );
    let (code, got) = o.call(
        reqwest::Method::GET,
        "/v2/service_instances/b1/service_bindings/ci",
        None,
    );
    assert_eq!((code, &got["credentials"]), (200, &b["credentials"]));

    // The kubeconfig works with kubectl against the dual-stack runtime.
    let ns = ok(&kubectl_as(&t, &kubeconfig, &["get", "ns", "-o", "name"]));
    assert!(ns.contains("namespace/kyma-system"), "{ns}");
    let nodes = ok(&kubectl_as(
        &t,
        &kubeconfig,
        &["get", "nodes", "-o", "jsonpath={.items[0].spec.podCIDRs}"],
    ));
    assert!(nodes.contains('.') && nodes.contains(':'), "{nodes}");
    // A binding's token opens nothing of another runtime (the one of `up`).
    let elsewhere = write(
        t.data_dir(),
        "elsewhere.yaml",
        &std::fs::read_to_string(&kubeconfig).unwrap().replace(
            &format!("/runtimes/{}", runtime_of(&o, "b1")),
            "/runtimes/local",
        ),
    );
    let denied = fails(&kubectl_as(&t, &elsewhere, &["get", "ns"]));
    assert!(
        denied.contains("Forbidden") || denied.contains("forbidden"),
        "{denied}"
    );
    // What KEB made in the runtime.
    let sa = ok(&kubectl_as(
        &t,
        &kubeconfig,
        &[
            "get",
            "serviceaccount",
            "kyma-binding-ci",
            "-n",
            "kyma-system",
            "-o",
            "json",
        ],
    ));
    let sa: Value = serde_json::from_str(&sa).unwrap();
    assert_eq!(
        sa["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kcp-kyma-environment-broker"
    );
    let crb = ok(&kubectl_as(
        &t,
        &kubeconfig,
        &[
            "get",
            "clusterrolebinding",
            "kyma-binding-ci",
            "-o",
            "jsonpath={.subjects[0].name} {.roleRef.name}",
        ],
    ));
    assert_eq!(crb, "kyma-binding-ci kyma-binding-ci");

    // A second binding, deleted: revoked at once, while the first still works.
    let (code, b2) = o.bind("b1", "cockpit", json!({}));
    assert_eq!(code, 201, "{b2}");
    let kubeconfig2 = write_kubeconfig(&t, "cockpit.yaml", &b2);
    ok(&kubectl_as(&t, &kubeconfig2, &["get", "ns"]));
    assert_eq!(o.unbind("b1", "cockpit"), (200, json!({})));
    assert!(unauthorized(&kubectl_as(&t, &kubeconfig2, &["get", "ns"])));
    ok(&kubectl_as(&t, &kubeconfig, &["get", "ns"]));
    assert_eq!(o.unbind("b1", "cockpit"), (410, json!({})));

    // The clock passes the expiry: 401 (after the minute of leeway kube-apiserver's token
    // validator gives), and KEB says the binding expired. (The minute before covers the real
    // time this test took since the bind.)
    o.advance_clock(540);
    ok(&kubectl_as(&t, &kubeconfig, &["get", "ns"]));
    o.advance_clock(121);
    assert!(unauthorized(&kubectl_as(&t, &kubeconfig, &["get", "ns"])));
    assert_eq!(
        o.call(
            reqwest::Method::GET,
            "/v2/service_instances/b1/service_bindings/ci",
            None
        ),
        (404, json!({"description": "Binding expired"}))
    );
    // Expired bindings do not count against the limit of 10 non-expired ones.
    for i in 0..10 {
        let (code, body) = o.bind("b1", &format!("n{i}"), json!({}));
        assert_eq!(code, 201, "{body}");
    }
    assert_eq!(
        o.bind("b1", "n10", json!({})),
        (
            400,
            json!({"description": "maximum number of non expired bindings reached: 10"})
        )
    );
    assert!(!t.stderr().contains("panicked"));
}

/// Bindings of a plan KEB does not bind, and the TokenRequest API the bindings use, as
/// `kubectl create token` drives it.
#[test]
fn token_requests_and_unbindable_plans() {
    let t = Twin::start(&["--test-clock"]);
    let o = Osb::new(&t);
    let (code, body) = o.provision("z1", AZURE, json!({"name": "az", "region": "westeurope"}));
    assert_eq!(code, 202, "{body}");
    assert_eq!(
        o.bind("z1", "x", json!({})),
        (
            422,
            json!({"error": "BindingNotSupported", "description": "binding is not supported"})
        )
    );

    // `kubectl create token` on the runtime of `up`: a bound token that works until its
    // ServiceAccount is deleted or it expires.
    ok(&t.kubectl(&["create", "serviceaccount", "robot"]));
    let token = ok(&t.kubectl(&["create", "token", "robot", "--duration", "10m"]));
    let token = token.trim();
    assert_eq!(token.split('.').count(), 3, "{token}");
    let kc = write(
        t.data_dir(),
        "robot.yaml",
        &std::fs::read_to_string(&t.kubeconfig)
            .unwrap()
            .replace(&t.token(), token),
    );
    ok(&kubectl_as(&t, &kc, &["get", "pods"]));
    let short = fails(&t.kubectl(&["create", "token", "robot", "--duration", "5m"]));
    assert!(
        short.contains("may not specify a duration less than 10 minutes"),
        "{short}"
    );
    o.advance_clock(661);
    assert!(unauthorized(&kubectl_as(&t, &kc, &["get", "pods"])));
    let token = ok(&t.kubectl(&["create", "token", "robot"]));
    let kc = write(
        t.data_dir(),
        "robot.yaml",
        &std::fs::read_to_string(&t.kubeconfig)
            .unwrap()
            .replace(&t.token(), token.trim()),
    );
    ok(&kubectl_as(&t, &kc, &["get", "pods"]));
    ok(&t.kubectl(&["delete", "serviceaccount", "robot"]));
    assert!(unauthorized(&kubectl_as(&t, &kc, &["get", "pods"])));
}

fn runtime_of(o: &Osb<'_>, instance: &str) -> String {
    let (_, runtimes) = o.call(reqwest::Method::GET, "/twinstack/v1/runtimes", None);
    runtimes["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instanceId"] == instance)
        .unwrap()["name"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Acceptance: `last_operation` shows `in progress` with KEB's description while the stages
/// run, then `succeeded`, for provision, update and deprovision; repeated requests while an
/// operation runs get it again.
#[test]
fn operations_run_through_kebs_stages() {
    let t = Twin::start(&["--operation-time", "1500ms"]);
    let o = Osb::new(&t);
    let params = json!({"name": "slow", "region": "eu-central-1"});
    let (code, body) = o.provision("s1", AWS, params.clone());
    assert_eq!(code, 202, "{body}");
    let op = body["operation"].as_str().unwrap().to_string();
    // OSB: a repeated PUT while in progress answers 202 with the same operation; a bind must
    // wait for the runtime.
    assert_eq!(o.provision("s1", AWS, params.clone()).0, 202);
    assert_eq!(
        o.bind("s1", "early", json!({})),
        (
            400,
            json!({"description": "instance s1 creation is in progress"})
        )
    );
    let (answers, stages) = o.poll("s1", &op);
    assert_eq!(
        answers,
        vec![
            json!({"state": "in progress", "description": "Operation created"}),
            json!({"state": "succeeded", "description": "Processing finished"}),
        ]
    );
    // The stages showed up one by one, in KEB's order.
    let last = stages.last().unwrap();
    assert_eq!(
        last.iter().map(String::as_str).collect::<Vec<_>>(),
        twinstack_keb_stages::PROVISIONING
    );
    assert!(stages.len() > 2, "{stages:?}");

    // Update.
    let (code, body) = o.call(
        reqwest::Method::PATCH,
        "/v2/service_instances/s1?accepts_incomplete=true",
        Some(json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {"autoScalerMax": 10}})),
    );
    assert_eq!(code, 202, "{body}");
    let up = body["operation"].as_str().unwrap().to_string();
    let (answers, stages) = o.poll("s1", &up);
    assert_eq!(answers[0]["state"], "in progress");
    assert_eq!(answers.last().unwrap()["state"], "succeeded");
    assert_eq!(stages.last().unwrap().len(), 4, "{stages:?}");

    // Deprovision: in progress, a repeated DELETE gets the same operation, then the archive
    // answers.
    let del = format!(
        "/v2/service_instances/s1?accepts_incomplete=true&service_id={SERVICE}&plan_id={AWS}"
    );
    let (code, body) = o.call(reqwest::Method::DELETE, &del, None);
    assert_eq!(code, 202, "{body}");
    let dop = body["operation"].as_str().unwrap().to_string();
    assert_eq!(
        o.call(reqwest::Method::DELETE, &del, None),
        (202, json!({"operation": dop}))
    );
    let (answers, _) = o.poll("s1", &dop);
    assert_eq!(
        answers,
        vec![
            json!({"state": "in progress", "description": "Operation created"}),
            json!({"state": "succeeded", "description": "Operation succeeded. The instance was deprovisioned."}),
        ]
    );
    assert_eq!(
        o.call(reqwest::Method::DELETE, &del, None),
        (200, json!({}))
    );
}

/// Acceptance: SIGKILL while provisioning and while deprovisioning; after a restart each
/// operation goes on from the stage it reached and ends, never stuck `in progress`.
#[test]
fn sigkill_during_operations_then_restart_finishes_them() {
    let mut t = Twin::start(&["--operation-time", "3s"]);
    let (op, runtime) = {
        let o = Osb::new(&t);
        let (code, body) = o.provision(
            "k1",
            AWS,
            json!({"name": "killed", "region": "eu-central-1"}),
        );
        assert_eq!(code, 202, "{body}");
        let op = body["operation"].as_str().unwrap().to_string();
        // Some stages done, then SIGKILL.
        o.wait_for_stages(&op, 2);
        (op, "killed".to_string())
    };
    t.kill9();
    t.spawn();
    {
        let o = Osb::new(&t);
        let (answers, stages) = o.poll("k1", &op);
        assert_eq!(answers.last().unwrap()["state"], "succeeded", "{answers:?}");
        assert_eq!(stages.last().unwrap().len(), 10);
        assert!(t.stderr().contains("resuming operation"));
        let (_, runtimes) = o.call(reqwest::Method::GET, "/twinstack/v1/runtimes", None);
        let rt = runtimes["runtimes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["instanceId"] == "k1")
            .unwrap()
            .clone();
        assert_eq!(rt["instanceName"], runtime.as_str(), "{rt}");
        let kc = PathBuf::from(rt["kubeconfig"].as_str().unwrap());
        ok(&kubectl_as(&t, &kc, &["get", "ns", "kyma-system"]));

        let del = format!(
            "/v2/service_instances/k1?accepts_incomplete=true&service_id={SERVICE}&plan_id={AWS}"
        );
        let (code, body) = o.call(reqwest::Method::DELETE, &del, None);
        assert_eq!(code, 202, "{body}");
        let dop = body["operation"].as_str().unwrap().to_string();
        o.wait_for_stages(&dop, 2);
        assert_eq!(o.last_operation("k1", &dop).1["state"], "in progress");
        drop(o);
        t.kill9();
        t.spawn();
        let o = Osb::new(&t);
        let (answers, _) = o.poll("k1", &dop);
        assert_eq!(
            answers.last().unwrap(),
            &json!({"state": "succeeded", "description": "Operation succeeded. The instance was deprovisioned."})
        );
        let (_, runtimes) = o.call(reqwest::Method::GET, "/twinstack/v1/runtimes", None);
        assert!(!runtimes.to_string().contains("\"k1\""), "{runtimes}");
    }
}

/// KEB's stage names, as the test expects them (a copy: the test must fail if they change).
mod twinstack_keb_stages {
    pub const PROVISIONING: [&str; 10] = [
        "Starting",
        "Init_Kyma_Template",
        "Override_Kyma_Modules",
        "Resolve_Credentials_Binding",
        "Discover_Available_Zones_CredentialsBinding",
        "Generate_Runtime_ID",
        "Create_Resource_Names",
        "Create_Runtime_Resource",
        "Check_RuntimeResource_Provisioning",
        "Apply_Kyma",
    ];
}
