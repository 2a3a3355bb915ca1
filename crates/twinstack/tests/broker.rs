//! The Kyma Environment Broker API (OSB v2.17) and `twinstack runtime ...`: every endpoint's
//! success and error statuses, KEB's handling of dual stack per plan, isolation between
//! runtimes, many runtimes in one process, and survival of SIGKILL.

mod common;
use common::*;
use serde_json::{json, Value};
use std::process::Command;

const SERVICE: &str = "47c9dcbf-ff30-448e-ab36-d3bad66ba281";
const AWS: &str = "361c511f-f939-4621-b228-d0fb79a1fe15";
const AZURE: &str = "4deee563-e5ec-4731-b9b1-53b42d855f0c";
const TRIAL: &str = "7d55d31d-35ae-4438-bf13-6ffdfa107d9f";

struct Osb {
    t: Twin,
    c: reqwest::Client,
    rt: tokio::runtime::Runtime,
    user: String,
    pass: String,
}

impl Osb {
    fn new(t: Twin) -> Osb {
        let creds: Value =
            serde_json::from_slice(&std::fs::read(t.data_dir().join("broker.json")).unwrap())
                .unwrap();
        Osb {
            c: t.client(),
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            user: creds["username"].as_str().unwrap().into(),
            pass: creds["password"].as_str().unwrap().into(),
            t,
        }
    }
    fn req(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        version: bool,
        auth: bool,
    ) -> (u16, Value) {
        let mut r = self
            .c
            .request(method, format!("https://127.0.0.1:{}{path}", self.t.port));
        if version {
            r = r.header("X-Broker-API-Version", "2.17");
        }
        if auth {
            r = r.basic_auth(&self.user, Some(&self.pass));
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
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
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        self.req(method, path, body, true, true)
    }
    fn provision(&self, id: &str, plan: &str, params: Value) -> (u16, Value) {
        self.call(
            reqwest::Method::PUT,
            &format!("/v2/service_instances/{id}?accepts_incomplete=true"),
            Some(json!({"service_id": SERVICE, "plan_id": plan, "context": {"globalaccount_id": "ga", "subaccount_id": "sa", "user_id": "dev@example.com"}, "parameters": params})),
        )
    }
}

fn cli(t: &Twin, args: &[&str]) -> std::process::Output {
    Command::new(bin())
        .args(args)
        .arg("--data-dir")
        .arg(t.data_dir())
        .output()
        .unwrap()
}

#[test]
fn osb_endpoints_and_statuses() {
    let o = Osb::new(Twin::start(&[]));
    // Catalog, API version header and credential.
    let (code, cat) = o.call(reqwest::Method::GET, "/v2/catalog", None);
    assert_eq!(code, 200);
    let plans = cat["services"][0]["plans"].as_array().unwrap();
    assert!(plans.iter().any(|p| p["id"] == AWS && p["name"] == "aws"));
    let (code, body) = o.req(reqwest::Method::GET, "/v2/catalog", None, false, true);
    assert_eq!(
        (code, body),
        (
            412,
            json!({"description": "X-Broker-API-Version Header not set"})
        )
    );
    assert_eq!(
        o.req(reqwest::Method::GET, "/v2/catalog", None, true, false)
            .0,
        401
    );

    // Provision: KEB never looks at `accepts_incomplete` (asynchronous whatever the platform
    // says: 202); IDs required; KEB's context checks and validation.
    let ctx =
        json!({"globalaccount_id": "ga", "subaccount_id": "sa", "user_id": "dev@example.com"});
    let (code, body) = o.call(reqwest::Method::PUT, "/v2/service_instances/i0", Some(json!({"service_id": SERVICE, "plan_id": AWS, "context": ctx, "parameters": {"name": "i0", "region": "eu-central-1"}})));
    assert_eq!(code, 202, "{body}");
    for (context, want) in [
        (
            json!({"subaccount_id": "sa", "user_id": "u"}),
            "global accountID parameter cannot be empty",
        ),
        (
            json!({"globalaccount_id": "ga", "user_id": "u"}),
            "subAccountID parameter cannot be empty",
        ),
        (
            json!({"globalaccount_id": "ga", "subaccount_id": "sa"}),
            "UserID parameter cannot be empty",
        ),
    ] {
        let (code, body) = o.call(reqwest::Method::PUT, "/v2/service_instances/i9?accepts_incomplete=true", Some(json!({"service_id": SERVICE, "plan_id": AWS, "context": context, "parameters": {"name": "i9", "region": "eu-central-1"}})));
        assert_eq!((code, body), (400, json!({"description": want})));
    }
    let (code, body) = o.call(
        reqwest::Method::PUT,
        "/v2/service_instances/i1?accepts_incomplete=true",
        Some(json!({"plan_id": AWS})),
    );
    assert_eq!(
        (code, body),
        (400, json!({"description": "service_id missing"}))
    );
    assert_eq!(
        o.provision("i1", "no-such-plan", json!({"name": "i1"})),
        (400, json!({"description": "plan-id not in the catalog"}))
    );
    let (code, body) = o.provision(
        "i1",
        AWS,
        json!({"name": "i1", "region": "eu-central-1", "networking": {"nodes": "10.250.0.0/24"}}),
    );
    assert_eq!(code, 400, "{body}");
    assert!(
        body["description"]
            .as_str()
            .unwrap()
            .contains("the suffix of the node CIDR must not be greater than 23"),
        "{body}"
    );

    let params = json!({"name": "i1", "region": "eu-central-1", "networking": {"nodes": "10.250.0.0/20", "dualStack": true}});
    let (code, body) = o.provision("i1", AWS, params.clone());
    assert_eq!(code, 202, "{body}");
    let op = body["operation"].as_str().unwrap().to_string();
    let (code, st) = o.call(
        reqwest::Method::GET,
        &format!("/v2/service_instances/i1/last_operation?operation={op}"),
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(st["state"], "succeeded");
    // Same request again gets the same operation (KEB `handleExistingOperation`); a different
    // one for the same ID conflicts.
    let (code, again) = o.provision("i1", AWS, params.clone());
    assert_eq!(
        (code, again["operation"].as_str()),
        (202, Some(op.as_str()))
    );
    assert_eq!(
        o.provision("i1", AWS, json!({"name": "i1", "region": "eu-west-2"})),
        (
            409,
            json!({"description": "provisioning operation already exist"})
        )
    );

    // Fetch.
    let (code, inst) = o.call(reqwest::Method::GET, "/v2/service_instances/i1", None);
    assert_eq!(code, 200);
    assert_eq!(inst["plan_id"], AWS);
    assert_eq!(
        o.call(reqwest::Method::GET, "/v2/service_instances/nope", None),
        (
            404,
            json!({"description": "instance with instanceID nope does not exist"})
        )
    );

    // Update: KEB checks `accepts_incomplete` after the instance (404 first), before the
    // parameters.
    let (code, body) = o.call(
        reqwest::Method::PATCH,
        "/v2/service_instances/i1",
        Some(json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {"autoScalerMin": 99}})),
    );
    assert_eq!(code, 422, "{body}");
    assert_eq!(body["error"], "AsyncRequired");
    assert_eq!(
        o.call(
            reqwest::Method::PATCH,
            "/v2/service_instances/nope",
            Some(json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {}}))
        ),
        (
            404,
            json!({"description": "Instance with id nope not exist"})
        )
    );
    // Update trying to turn dual stack off: accepted as KEB does, families unchanged.
    let (code, body) = o.call(
        reqwest::Method::PATCH,
        "/v2/service_instances/i1?accepts_incomplete=true",
        Some(json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {"networking": {"nodes": "10.250.0.0/20", "dualStack": false}}})),
    );
    assert_eq!(code, 202, "{body}");
    let list = ok(&cli(&o.t, &["runtime", "show", "i1"]));
    assert!(list.contains("IP families: IPv4,IPv6"), "{list}");
    assert_eq!(
        o.call(
            reqwest::Method::PATCH,
            "/v2/service_instances/nope?accepts_incomplete=true",
            Some(json!({"service_id": SERVICE, "plan_id": AWS, "parameters": {}}))
        ),
        (
            404,
            json!({"description": "Instance with id nope not exist"})
        )
    );

    // Deprovision.
    let (code, body) = o.call(
        reqwest::Method::DELETE,
        "/v2/service_instances/i1?accepts_incomplete=true&service_id="
            .to_string()
            .as_str(),
        None,
    );
    assert_eq!(
        (code, body),
        (400, json!({"description": "service_id missing"}))
    );
    let (code, body) = o.call(
        reqwest::Method::DELETE,
        &format!(
            "/v2/service_instances/i1?accepts_incomplete=true&service_id={SERVICE}&plan_id={AWS}"
        ),
        None,
    );
    assert_eq!(code, 202, "{body}");
    let op = body["operation"].as_str().unwrap();
    let (code, st) = o.call(
        reqwest::Method::GET,
        &format!("/v2/service_instances/i1/last_operation?operation={op}"),
        None,
    );
    // KEB deletes the operations and archives the instance: every operation ID handed out
    // still answers, from the archive.
    assert_eq!(
        (code, st),
        (
            200,
            json!({"state": "succeeded", "description": "Operation succeeded. The instance was deprovisioned."})
        )
    );
    let (code, st) = o.call(
        reqwest::Method::GET,
        "/v2/service_instances/i1/last_operation",
        None,
    );
    assert_eq!((code, st["state"].as_str()), (200, Some("succeeded")));
    // KEB answers a deprovision of an instance that does not exist synchronously.
    assert_eq!(
        o.call(reqwest::Method::DELETE, &format!("/v2/service_instances/i1?accepts_incomplete=true&service_id={SERVICE}&plan_id={AWS}"), None),
        (200, json!({}))
    );
    assert_eq!(
        o.call(reqwest::Method::GET, "/v2/service_instances/i1", None)
            .0,
        404
    );
    assert_eq!(
        o.call(
            reqwest::Method::GET,
            "/v2/service_instances/never/last_operation",
            None
        ),
        (404, json!({"description": "Operation not found"}))
    );
    // The runtime is gone.
    let e = cli(&o.t, &["runtime", "show", "i1"]);
    assert!(!e.status.success());

    // One trial per global account, and KEB counts every instance of it; Azure drops
    // dualStack (IPv4 only).
    let (code, body) = o.provision(
        "t1",
        TRIAL,
        json!({"name": "t1", "networking": {"nodes": "10.250.0.0/20"}}),
    );
    assert_eq!(
        (code, body),
        (
            400,
            json!({"description": "trial Kyma was created for the global account, but there is only one allowed"})
        )
    );
    let (code, body) = o.provision("a1", AZURE, json!({"name": "a1", "region": "westeurope", "networking": {"nodes": "10.250.0.0/20", "dualStack": true}}));
    assert_eq!(code, 202, "{body}");
    let show = ok(&cli(&o.t, &["runtime", "show", "a1"]));
    assert!(show.contains("IP families: IPv4\n"), "{show}");
}

fn kubectl_rt(t: &Twin, rt: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new("kubectl");
    cmd.args(args)
        .env("KUBECONFIG", t.kubeconfig_of(rt))
        .env("KUBECACHEDIR", t.cache.path().join(rt))
        .env("HOME", t.cache.path());
    if let Some(s) = stdin {
        use std::io::Write;
        let mut child = cmd
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        return child.wait_with_output().unwrap();
    }
    cmd.output().unwrap()
}

#[test]
fn cli_runtimes_per_plan_and_isolation() {
    let t = Twin::start(&[]);
    ok(&cli(
        &t,
        &[
            "runtime",
            "create",
            "aws-dual",
            "--plan",
            "aws",
            "--dual-stack",
        ],
    ));
    ok(&cli(&t, &["runtime", "create", "aws-v4", "--plan", "aws"]));
    ok(&cli(
        &t,
        &[
            "runtime",
            "create",
            "gcp-dual",
            "--plan",
            "gcp",
            "--dual-stack",
        ],
    ));
    ok(&cli(
        &t,
        &[
            "runtime",
            "create",
            "azure-ds",
            "--plan",
            "azure",
            "--dual-stack",
        ],
    ));
    ok(&cli(
        &t,
        &["runtime", "create", "trial-1", "--plan", "trial"],
    ));
    let e = cli(
        &t,
        &[
            "runtime",
            "create",
            "trial-2",
            "--plan",
            "trial",
            "--dual-stack",
        ],
    );
    assert_eq!(e.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&e.stderr).contains("the broker refused (400)"));

    let list = ok(&cli(&t, &["runtime", "list"]));
    let header = list.lines().next().unwrap();
    for col in [
        "NAME", "INSTANCE", "PLAN", "REGION", "FAMILIES", "STATE", "AGE",
    ] {
        assert!(header.contains(col), "{list}");
    }
    let fam = |name: &str| {
        list.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(name))
            .unwrap()
            .split_whitespace()
            .nth(4)
            .unwrap()
            .to_string()
    };
    assert_eq!(fam("aws-dual"), "IPv4,IPv6");
    assert_eq!(fam("aws-v4"), "IPv4");
    assert_eq!(fam("gcp-dual"), "IPv4,IPv6");
    assert_eq!(fam("azure-ds"), "IPv4");

    // Services get both families on dual-stack runtimes only.
    let svc = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  ipFamilyPolicy: RequireDualStack\n  ports:\n  - port: 80\n";
    ok(&kubectl_rt(
        &t,
        "aws-dual",
        &["apply", "-f", "-"],
        Some(svc),
    ));
    let e = kubectl_rt(&t, "aws-v4", &["apply", "-f", "-"], Some(svc));
    assert!(String::from_utf8_lossy(&e.stderr)
        .contains("this cluster is not configured for dual-stack services"));
    ok(&kubectl_rt(
        &t,
        "gcp-dual",
        &["apply", "-f", "-"],
        Some(svc),
    ));
    let ips = ok(&kubectl_rt(
        &t,
        "gcp-dual",
        &["get", "svc", "s", "-o", "jsonpath={.spec.clusterIPs[1]}"],
        None,
    ));
    assert!(ips.starts_with("2600:19"), "GCP IPv6 service range: {ips}");
    // KIM's provisioning info on the runtime.
    let info = ok(&kubectl_rt(
        &t,
        "aws-dual",
        &[
            "get",
            "cm",
            "-n",
            "kyma-system",
            "kyma-provisioning-info",
            "-o",
            "jsonpath={.data.details}",
        ],
        None,
    ));
    assert!(info.contains("dualStackIPEnabled: true"), "{info}");
    let info = ok(&kubectl_rt(
        &t,
        "aws-v4",
        &[
            "get",
            "cm",
            "-n",
            "kyma-system",
            "kyma-provisioning-info",
            "-o",
            "jsonpath={.data.details}",
        ],
        None,
    ));
    assert!(info.contains("dualStackIPEnabled: false"), "{info}");

    // A token of one runtime opens nothing of another.
    let token = |rt: &str| {
        let k = std::fs::read_to_string(t.kubeconfig_of(rt)).unwrap();
        k.lines()
            .find_map(|l| l.trim().strip_prefix("token: "))
            .unwrap()
            .to_string()
    };
    let c = t.client();
    let rtm = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let code = rtm.block_on(async {
        c.get(format!(
            "https://127.0.0.1:{}/runtimes/{}/api/v1/namespaces/default/services",
            t.port,
            t.runtime_of("aws-v4")
        ))
        .bearer_auth(token("aws-dual"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
    });
    assert_eq!(code, 403);
    // kube-apiserver's text names the group-qualified resource.
    let body: serde_json::Value = rtm.block_on(async {
        c.get(format!(
            "https://127.0.0.1:{}/runtimes/{}/apis/apps/v1/namespaces/default/deployments/web",
            t.port,
            t.runtime_of("aws-v4")
        ))
        .bearer_auth(token("aws-dual"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
    });
    assert_eq!(
        body["message"],
        "deployments.apps \"web\" is forbidden: User \"admin\" cannot get resource \"deployments\" in API group \"apps\" in the namespace \"default\"",
        "{body}"
    );
    assert_eq!(body["details"]["group"], "apps", "{body}");
    assert_eq!(body["details"]["kind"], "deployments", "{body}");

    // Deleting one runtime leaves the others as they were.
    let before = ok(&kubectl_rt(
        &t,
        "aws-dual",
        &["get", "svc", "-A", "-o", "json"],
        None,
    ));
    let gcp_dual = t.runtime_of("gcp-dual");
    ok(&cli(&t, &["runtime", "delete", "gcp-dual"]));
    let after = ok(&kubectl_rt(
        &t,
        "aws-dual",
        &["get", "svc", "-A", "-o", "json"],
        None,
    ));
    assert_eq!(before, after);
    assert!(!ok(&cli(&t, &["runtime", "list"])).contains("gcp-dual"));
    let gone = rtm.block_on(async {
        c.get(format!(
            "https://127.0.0.1:{}/runtimes/{gcp_dual}/api/v1/namespaces",
            t.port
        ))
        .bearer_auth(token("aws-dual"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
    });
    assert_eq!(gone, 403);
}

/// Runtimes are named as KEB names Shoots (seven hex digits, `c-` before a leading digit),
/// whatever the instance's `name`; the CLI finds a runtime by its instance name too, and keeps
/// instance names unique among the runtimes it creates (KEB does not: see
/// `instances_may_share_a_name`).
#[test]
fn cli_create_with_a_name_that_is_no_dns_label() {
    let t = Twin::start(&[]);
    let out = cli(&t, &["runtime", "create", "UPPER", "--plan", "aws"]);
    let show = ok(&out);
    let name = show
        .lines()
        .find_map(|l| l.strip_prefix("Name:"))
        .unwrap()
        .trim()
        .to_string();
    let shoot = |n: &str| {
        let digits = n.strip_prefix("c-").unwrap_or(n);
        digits.len() == 7
            && digits
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            && (n.starts_with("c-") || n.starts_with(|c: char| c.is_ascii_lowercase()))
    };
    assert!(shoot(&name), "{show}");
    assert!(show.contains("Instance name: UPPER"), "{show}");
    assert!(t
        .data_dir()
        .join(format!("kubeconfigs/{name}.yaml"))
        .exists());
    // The instance name finds it, and `twinstack kubeconfig` takes it too.
    assert!(ok(&cli(&t, &["runtime", "show", "UPPER"])).contains(&format!("Name:        {name}")));
    let k = ok(&cli(&t, &["kubeconfig", "UPPER"]));
    assert!(k.contains(&format!("/runtimes/{name}")), "{k}");
    let e = fails(&cli(&t, &["runtime", "create", "UPPER", "--plan", "gcp"]));
    assert!(
        e.contains("a runtime of an instance named \"UPPER\" exists"),
        "{e}"
    );
    ok(&cli(&t, &["runtime", "delete", "UPPER"]));
    assert!(fails(&cli(&t, &["runtime", "show", "UPPER"])).contains("not found"));
    ok(&cli(&t, &["runtime", "create", "UPPER", "--plan", "gcp"]));
    assert!(ok(&cli(&t, &["runtime", "show", "UPPER"])).contains("Plan:        gcp"));
    // A name KEB's schema refuses is refused with KEB's message.
    let e = fails(&cli(&t, &["runtime", "create", "a_b", "--plan", "aws"]));
    assert!(
        e.contains("the broker refused (400): while validating input parameters: at '/name': 'a_b' does not match pattern '^[a-zA-Z0-9-]*$'"),
        "{e}"
    );
}

/// KEB lets a new instance reuse another one's `name`: each gets a runtime of its own.
#[test]
fn instances_may_share_a_name() {
    let o = Osb::new(Twin::start(&[]));
    let params = json!({"name": "same", "region": "eu-central-1"});
    assert_eq!(o.provision("first", AWS, params.clone()).0, 202);
    assert_eq!(o.provision("second", AWS, params).0, 202);
    let (_, list) = o.call(reqwest::Method::GET, "/twinstack/v1/runtimes", None);
    let mine: Vec<&Value> = list["runtimes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["instanceName"] == "same")
        .collect();
    assert_eq!(mine.len(), 2, "{list}");
    assert_ne!(mine[0]["name"], mine[1]["name"]);
    let e = fails(&cli(&o.t, &["runtime", "show", "same"]));
    assert!(
        e.contains("several runtimes belong to instances named \"same\""),
        "{e}"
    );
}

#[test]
fn twenty_runtimes_survive_sigkill() {
    let mut t = Twin::start(&[]);
    for i in 0..20 {
        ok(&cli(
            &t,
            &[
                "runtime",
                "create",
                &format!("rt-{i}"),
                "--plan",
                if i % 2 == 0 { "aws" } else { "gcp" },
                "--dual-stack",
            ],
        ));
    }
    let rt7 = t.runtime_of("rt-7");
    ok(&cli(&t, &["runtime", "delete", "rt-7"]));
    t.kill9();
    t.spawn();
    let list = ok(&cli(&t, &["runtime", "list"]));
    assert_eq!(list.lines().count(), 1 + 1 + 19, "{list}");
    for i in (0..20).filter(|i| *i != 7) {
        let out = ok(&kubectl_rt(
            &t,
            &format!("rt-{i}"),
            &["get", "svc", "kubernetes", "-o", "name"],
            None,
        ));
        assert_eq!(out.trim(), "service/kubernetes");
    }
    assert!(!t
        .data_dir()
        .join(format!("kubeconfigs/{rt7}.yaml"))
        .exists());
}
