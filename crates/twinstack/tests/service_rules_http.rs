//! Every create-time and update-time dual-stack rule of kube-apiserver
//! (shared/reference/kubernetes-service-dualstack.md §7–§9), through the HTTP API, on the four
//! cluster configurations: single-stack IPv4 (S4) and IPv6 (S6), dual-stack IPv4-primary (D46)
//! and IPv6-primary (D64).

mod common;
use common::*;
use serde_json::{json, Value};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Cfg {
    S4,
    S6,
    D46,
    D64,
}

const V4: &str = "10.0.0.0/16";
const V6: &str = "fd00:10::/108";

fn start(cfg: Cfg) -> Twin {
    let (fam, cidrs) = match cfg {
        Cfg::S4 => ("IPv4", V4.to_string()),
        Cfg::S6 => ("IPv6", V6.to_string()),
        Cfg::D46 => ("IPv4,IPv6", format!("{V4},{V6}")),
        Cfg::D64 => ("IPv6,IPv4", format!("{V6},{V4}")),
    };
    Twin::start(&["--ip-families", fam, "--service-cidrs", &cidrs])
}

struct Api {
    t: Twin,
    c: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Api {
    fn new(cfg: Cfg) -> Api {
        let t = start(cfg);
        let c = t.client();
        Api {
            t,
            c,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }
    fn url(&self, path: &str) -> String {
        format!(
            "{}/api/v1/namespaces/default/services{path}",
            self.t.base_url()
        )
    }
    fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        ct: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .c
            .request(method, self.url(path))
            .bearer_auth(self.t.token())
            .header("Content-Type", ct);
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        self.rt.block_on(async {
            let r = req.send().await.unwrap();
            let code = r.status().as_u16();
            (code, r.json::<Value>().await.unwrap())
        })
    }
    fn create(&self, obj: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, "", "application/json", Some(obj))
    }
    fn patch(&self, name: &str, p: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::PATCH,
            &format!("/{name}"),
            "application/merge-patch+json",
            Some(p),
        )
    }
    fn put(&self, name: &str, obj: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::PUT,
            &format!("/{name}"),
            "application/json",
            Some(obj),
        )
    }
    fn get(&self, name: &str) -> (u16, Value) {
        self.send(
            reqwest::Method::GET,
            &format!("/{name}"),
            "application/json",
            None,
        )
    }
    fn delete(&self, name: &str) -> (u16, Value) {
        self.send(
            reqwest::Method::DELETE,
            &format!("/{name}"),
            "application/json",
            None,
        )
    }
}

fn svc(name: &str, spec: Value) -> Value {
    let mut s = json!({"selector": {"app": "x"}, "ports": [{"port": 80}]});
    for (k, v) in spec.as_object().unwrap() {
        if v.is_null() {
            s.as_object_mut().unwrap().remove(k);
        } else {
            s[k] = v.clone();
        }
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": s})
}

/// Expected outcome: policy, families and number of IPs, or the exact message.
#[derive(Debug, Clone)]
enum Want {
    Ok(&'static str, &'static [&'static str], usize),
    Err(String),
}
use Want::*;

fn fam(f: &str) -> String {
    format!("spec.ipFamilies[{f}")
}

fn check(api: &Api, name: &str, spec: Value, want: &Want) {
    let (code, body) = api.create(svc(name, spec.clone()));
    match want {
        Ok(policy, families, n) => {
            assert_eq!(code, 201, "{name} {spec}: {body}");
            assert_eq!(body["spec"]["ipFamilyPolicy"], *policy, "{name}: {body}");
            assert_eq!(
                body["spec"]["ipFamilies"],
                json!(families),
                "{name}: {body}"
            );
            let ips = body["spec"]["clusterIPs"].as_array().unwrap();
            assert_eq!(ips.len(), *n, "{name}: {body}");
            if ips[0] != "None" {
                for (ip, f) in ips.iter().zip(families.iter()) {
                    let ip = ip.as_str().unwrap();
                    assert_eq!(ip.contains(':'), *f == "IPv6", "{name}: {ip} is not {f}");
                }
            }
            assert_eq!(body["spec"]["clusterIP"], ips[0], "{name}");
            // The stored object reads back the same.
            let (c2, got) = api.get(name);
            assert_eq!(c2, 200);
            assert_eq!(got["spec"]["clusterIPs"], body["spec"]["clusterIPs"]);
        }
        Err(msg) => {
            assert_eq!(code, 422, "{name} {spec}: {body}");
            assert_eq!(body["kind"], "Status");
            assert_eq!(body["reason"], "Invalid");
            let full = format!("Service \"{name}\" is invalid: {msg}");
            assert_eq!(body["message"], full.as_str(), "{name} {spec}");
            // Nothing stored.
            assert_eq!(api.get(name).0, 404, "{name} must not be stored");
        }
    }
}

fn not_dual() -> String {
    "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services".into()
}

fn create_table(cfg: Cfg) -> Vec<(&'static str, Value, Want)> {
    use Cfg::*;
    let pick = |s4: Want, s6: Want, d46: Want, d64: Want| match cfg {
        S4 => s4,
        S6 => s6,
        D46 => d46,
        D64 => d64,
    };
    let multi_fam = "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified".to_string();
    let multi_ip = "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified".to_string();
    let v6_not = format!(
        "{}0]: Invalid value: \"IPv6\": not configured on this cluster",
        fam("")
    );
    let v4ip_not = "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.10\"}: IPv4 is not configured on this cluster".to_string();
    vec![
        ("nothing", json!({}), pick(Ok("SingleStack", &["IPv4"], 1), Ok("SingleStack", &["IPv6"], 1), Ok("SingleStack", &["IPv4"], 1), Ok("SingleStack", &["IPv6"], 1))),
        ("prefer", json!({"ipFamilyPolicy": "PreferDualStack"}), pick(Ok("PreferDualStack", &["IPv4"], 1), Ok("PreferDualStack", &["IPv6"], 1), Ok("PreferDualStack", &["IPv4", "IPv6"], 2), Ok("PreferDualStack", &["IPv6", "IPv4"], 2))),
        ("require", json!({"ipFamilyPolicy": "RequireDualStack"}), pick(Err(not_dual()), Err(not_dual()), Ok("RequireDualStack", &["IPv4", "IPv6"], 2), Ok("RequireDualStack", &["IPv6", "IPv4"], 2))),
        ("fam6", json!({"ipFamilies": ["IPv6"]}), pick(Err(v6_not.clone()), Ok("SingleStack", &["IPv6"], 1), Ok("SingleStack", &["IPv6"], 1), Ok("SingleStack", &["IPv6"], 1))),
        ("fam6-prefer", json!({"ipFamilies": ["IPv6"], "ipFamilyPolicy": "PreferDualStack"}), pick(Err(v6_not.clone()), Ok("PreferDualStack", &["IPv6"], 1), Ok("PreferDualStack", &["IPv6", "IPv4"], 2), Ok("PreferDualStack", &["IPv6", "IPv4"], 2))),
        ("fam46-unset", json!({"ipFamilies": ["IPv4", "IPv6"]}), Err(multi_fam.clone())),
        ("fam46-single", json!({"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "SingleStack"}), Err(multi_fam)),
        ("fam46-prefer", json!({"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "PreferDualStack"}), pick(
            Err("spec.ipFamilies[1]: Invalid value: \"IPv6\": not configured on this cluster".into()),
            Err("spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this cluster".into()),
            Ok("PreferDualStack", &["IPv4", "IPv6"], 2),
            Ok("PreferDualStack", &["IPv4", "IPv6"], 2))),
        ("fam46-require", json!({"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack"}), pick(
            Err(format!("[{}, spec.ipFamilies[1]: Invalid value: \"IPv6\": not configured on this cluster]", not_dual())),
            Err(format!("[{}, spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this cluster]", not_dual())),
            Ok("RequireDualStack", &["IPv4", "IPv6"], 2),
            Ok("RequireDualStack", &["IPv4", "IPv6"], 2))),
        ("ip4", json!({"clusterIP": "10.0.0.10"}), pick(Ok("SingleStack", &["IPv4"], 1), Err(v4ip_not.clone()), Ok("SingleStack", &["IPv4"], 1), Ok("SingleStack", &["IPv4"], 1))),
        ("ip4-prefer", json!({"clusterIP": "10.0.0.11", "ipFamilyPolicy": "PreferDualStack"}), pick(
            Ok("PreferDualStack", &["IPv4"], 1),
            Err(v4ip_not.replace("10.0.0.10", "10.0.0.11")),
            Ok("PreferDualStack", &["IPv4", "IPv6"], 2),
            Ok("PreferDualStack", &["IPv4", "IPv6"], 2))),
        // Step 6 and the family inference of step 7 both report before alloc bails out.
        ("ips-unset", json!({"clusterIP": "10.0.0.12", "clusterIPs": ["10.0.0.12", "fd00:10::12"]}), pick(
            Err(format!("[{multi_ip}, spec.clusterIPs[1]: Invalid value: []string{{\"10.0.0.12\", \"fd00:10::12\"}}: IPv6 is not configured on this cluster]")),
            Err(format!("[{multi_ip}, spec.clusterIPs[0]: Invalid value: []string{{\"10.0.0.12\", \"fd00:10::12\"}}: IPv4 is not configured on this cluster]")),
            Err(multi_ip.clone()),
            Err(multi_ip.clone()))),
        ("ips-only-plural", json!({"clusterIPs": ["10.0.0.13"]}), Err("spec.clusterIPs: Invalid value: []string{\"10.0.0.13\"}: must be empty when `clusterIP` is not specified".into())),
        ("ips-two-v4", json!({"clusterIP": "10.0.0.14", "clusterIPs": ["10.0.0.14", "10.0.0.15"], "ipFamilyPolicy": "PreferDualStack"}),
            Err("spec.clusterIPs: Invalid value: []string{\"10.0.0.14\", \"10.0.0.15\"}: may specify no more than one IP for each IP family".into())),
        ("bad-family", json!({"ipFamilies": ["IPv5"]}), Err("spec.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\"".into())),
        ("bad-policy", json!({"ipFamilyPolicy": "Sometimes"}), Err("spec.ipFamilyPolicy: Unsupported value: \"Sometimes\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\"".into())),
        ("headless-nosel", json!({"clusterIP": "None", "selector": null}), pick(
            Ok("RequireDualStack", &["IPv4", "IPv6"], 1),
            Ok("RequireDualStack", &["IPv6", "IPv4"], 1),
            Ok("RequireDualStack", &["IPv4", "IPv6"], 1),
            Ok("RequireDualStack", &["IPv6", "IPv4"], 1))),
        ("headless-sel-require", json!({"clusterIP": "None", "ipFamilyPolicy": "RequireDualStack"}), pick(
            Err(not_dual()),
            Err(not_dual()),
            Ok("RequireDualStack", &["IPv4", "IPv6"], 1),
            Ok("RequireDualStack", &["IPv6", "IPv4"], 1))),
        ("headless-sel", json!({"clusterIP": "None"}), pick(Ok("SingleStack", &["IPv4"], 1), Ok("SingleStack", &["IPv6"], 1), Ok("SingleStack", &["IPv4"], 1), Ok("SingleStack", &["IPv6"], 1))),
        ("extname-ip", json!({"type": "ExternalName", "externalName": "example.com", "clusterIP": "None", "selector": null}),
            Err("spec.clusterIPs: Forbidden: may not be set for ExternalName services".into())),
        ("extname-policy", json!({"type": "ExternalName", "externalName": "example.com", "ipFamilyPolicy": "SingleStack", "selector": null}),
            Err("spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services".into())),
    ]
}

fn run_create_table(cfg: Cfg) {
    let api = Api::new(cfg);
    for (name, spec, want) in create_table(cfg) {
        check(&api, name, spec, &want);
    }
    // ExternalName gets no dual-stack fields at all.
    let (code, body) = api.create(svc(
        "extname",
        json!({"type": "ExternalName", "externalName": "example.com", "selector": null}),
    ));
    assert_eq!(code, 201, "{body}");
    assert!(
        body["spec"].get("ipFamilyPolicy").is_none() && body["spec"].get("clusterIPs").is_none(),
        "{body}"
    );
    run_update_rules(&api, cfg);
}

fn ips_of(v: &Value) -> Vec<String> {
    v["spec"]["clusterIPs"]
        .as_array()
        .map(|a| a.iter().map(|x| x.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

fn run_update_rules(api: &Api, cfg: Cfg) {
    let dual = matches!(cfg, Cfg::D46 | Cfg::D64);
    let (c, base) = api.create(svc("u1", json!({})));
    assert_eq!(c, 201);
    let first = ips_of(&base)[0].clone();

    // Upgrade by changing only the policy.
    let (c, up) = api.patch("u1", json!({"spec": {"ipFamilyPolicy": "PreferDualStack"}}));
    assert_eq!(c, 200, "{up}");
    let ips = ips_of(&up);
    assert_eq!(ips[0], first, "the primary IP never changes");
    assert_eq!(ips.len(), if dual { 2 } else { 1 }, "{up}");

    // RequireDualStack on a single-stack cluster is refused.
    let (c, r) = api.patch(
        "u1",
        json!({"spec": {"ipFamilyPolicy": "RequireDualStack"}}),
    );
    if dual {
        assert_eq!(c, 200, "{r}");
    } else {
        assert_eq!(c, 422);
        assert_eq!(
            r["message"],
            format!("Service \"u1\" is invalid: {}", not_dual())
        );
    }

    if dual {
        // Releasing the secondary needs SingleStack.
        let (c, r) = api.patch("u1", json!({"spec": {"clusterIPs": [first.clone()]}}));
        assert_eq!(c, 422, "{r}");
        assert_eq!(
            r["message"],
            "Service \"u1\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": must be 'SingleStack' to release the secondary cluster IP"
        );
        // Downgrade by changing only the policy releases the secondary IP.
        let secondary = ips_of(&api.get("u1").1)[1].clone();
        let (c, down) = api.patch("u1", json!({"spec": {"ipFamilyPolicy": "SingleStack"}}));
        assert_eq!(c, 200, "{down}");
        assert_eq!(ips_of(&down), vec![first.clone()]);
        assert_eq!(down["spec"]["ipFamilies"].as_array().unwrap().len(), 1);
        // The released address can be taken by another Service.
        let (c, taken) = api.create(svc("u2", json!({"ipFamilyPolicy": "RequireDualStack", "clusterIP": first_other(cfg), "clusterIPs": [first_other(cfg), secondary.clone()]})));
        assert_eq!(c, 201, "{taken}");
        assert_eq!(ips_of(&taken)[1], secondary);
    }

    // The primary IP is immutable.
    let other_ip = if ips_of(&api.get("u1").1)[0].contains(':') {
        "fd00:10::99"
    } else {
        "10.0.0.99"
    };
    let (c, r) = api.patch(
        "u1",
        json!({"spec": {"clusterIP": other_ip, "clusterIPs": [other_ip]}}),
    );
    assert_eq!(c, 422, "{r}");
    assert!(r["message"].as_str().unwrap().contains(&format!("spec.clusterIPs[0]: Invalid value: []string{{\"{other_ip}\"}}: may not change once set")), "{r}");

    // An already held address is refused.
    let (c, r) = api.create(svc("dup", json!({"clusterIP": first.clone()})));
    assert_eq!(c, 422, "{r}");
    assert_eq!(
        r["message"],
        format!("Service \"dup\" is invalid: spec.clusterIPs: Invalid value: []string{{\"{first}\"}}: failed to allocate IP {first}: provided IP is already allocated")
    );

    // Type change to ExternalName releases every IP; the address is free again.
    let (c, r) = api.patch(
        "u1",
        json!({"spec": {"type": "ExternalName", "externalName": "example.com", "selector": null}}),
    );
    assert_eq!(c, 200, "{r}");
    assert!(
        r["spec"].get("clusterIPs").is_none() && r["spec"].get("ipFamilies").is_none(),
        "{r}"
    );
    let (c, r) = api.create(svc("reuse", json!({"clusterIP": first.clone()})));
    assert_eq!(c, 201, "{r}");
    // And back from ExternalName allocates afresh.
    let (c, r) = api.patch(
        "u1",
        json!({"spec": {"type": "ClusterIP", "externalName": null, "selector": {"app": "x"}}}),
    );
    assert_eq!(c, 200, "{r}");
    assert_eq!(ips_of(&r).len(), 1, "{r}");

    // A stale resourceVersion conflicts.
    let (_, cur) = api.get("reuse");
    let mut stale = cur.clone();
    stale["metadata"]["resourceVersion"] = json!("1");
    stale["metadata"]["labels"] = json!({"x": "y"});
    let (c, r) = api.put("reuse", stale);
    assert_eq!(c, 409, "{r}");
    assert_eq!(r["reason"], "Conflict");
    assert_eq!(
        r["message"],
        "Operation cannot be fulfilled on services \"reuse\": the object has been modified; please apply your changes to the latest version and try again"
    );

    // Delete releases the addresses.
    let held = ips_of(&api.get("reuse").1);
    assert_eq!(api.delete("reuse").0, 200);
    let (c, r) = api.create(svc("after", json!({"clusterIP": held[0].clone()})));
    assert_eq!(c, 201, "{r}");
}

/// An unused address of the cluster's primary family (for explicit requests).
fn first_other(cfg: Cfg) -> String {
    match cfg {
        Cfg::D46 | Cfg::S4 => "10.0.0.77".into(),
        _ => "fd00:10::77".into(),
    }
}

#[test]
fn rules_single_stack_ipv4() {
    run_create_table(Cfg::S4);
}

#[test]
fn rules_single_stack_ipv6() {
    run_create_table(Cfg::S6);
}

#[test]
fn rules_dual_stack_ipv4_primary() {
    run_create_table(Cfg::D46);
}

#[test]
fn rules_dual_stack_ipv6_primary() {
    run_create_table(Cfg::D64);
}

#[test]
fn full_range_gives_the_upstream_error() {
    // A /29 holds 6 usable IPv4 service addresses; the kubernetes Service takes the first, the
    // Kyma Istio ingress gateway another.
    let t = Twin::start(&["--ip-families", "IPv4", "--service-cidrs", "10.0.0.0/29"]);
    let api = Api {
        c: t.client(),
        t,
        rt: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap(),
    };
    let mut made = 0;
    loop {
        let (c, r) = api.create(svc(&format!("s{made}"), json!({})));
        if c != 201 {
            assert_eq!(c, 500, "{r}");
            assert_eq!(r["reason"], "InternalError");
            assert_eq!(
                r["message"],
                "Internal error occurred: failed to allocate a serviceIP: range is full"
            );
            break;
        }
        made += 1;
        assert!(made < 10, "range never filled");
    }
    assert_eq!(made, 4);
    // Freeing one makes room for exactly one more.
    assert_eq!(api.delete("s0").0, 200);
    assert_eq!(api.create(svc("again", json!({}))).0, 201);
    assert_eq!(api.create(svc("again2", json!({}))).0, 500);
}
