use super::*;
use crate::inventory::{Controller, Owner};
use serde_json::json;

const P: &str = "rt1";
const R: &str = "europe-west1";
const B: &str = "https://www.googleapis.com/compute/v1/projects/rt1";

fn network() -> Network {
    Network {
        name: "shoot--p--rt1".into(),
        subnetworks: vec![
            Subnetwork {
                name: "shoot--p--rt1-nodes".into(),
                region: R.into(),
                ip_cidr_range: "10.250.0.0/16".parse().unwrap(),
                stack_type: "IPV4_IPV6".into(),
                ipv6_access_type: Some("EXTERNAL".into()),
                external_ipv6_prefix: Some("2600:1900:4010:1::/64".parse().unwrap()),
                internal_ipv6_prefix: None,
                purpose: "PRIVATE".into(),
                secondary_ip_ranges: vec![("pods".into(), "100.64.0.0/12".parse().unwrap())],
            },
            Subnetwork {
                name: "shoot--p--rt1-internal".into(),
                region: R.into(),
                ip_cidr_range: "10.243.0.0/16".parse().unwrap(),
                stack_type: "IPV4_ONLY".into(),
                ipv6_access_type: None,
                external_ipv6_prefix: None,
                internal_ipv6_prefix: None,
                purpose: "PRIVATE".into(),
                secondary_ip_ranges: vec![],
            },
        ],
    }
}

fn rule(name: &str, ip: &str, version: &str, scheme: &str) -> ForwardingRule {
    ForwardingRule {
        name: name.into(),
        region: R.into(),
        ip_address: ip.into(),
        ip_protocol: "TCP".into(),
        ip_version: version.into(),
        port_range: None,
        ports: vec!["80".into(), "443".into()],
        load_balancing_scheme: scheme.into(),
        network_tier: "PREMIUM".into(),
        backend_service: Some(format!("k8s2-{name}")),
        target: None,
        subnetwork: (scheme == "INTERNAL").then(|| "shoot--p--rt1-internal".to_string()),
        network: (scheme == "INTERNAL").then(|| "shoot--p--rt1".to_string()),
        allow_global_access: false,
        description: r#"{"kubernetes.io/service-name":"default/web"}"#.into(),
        creation_timestamp: "2026-12-01T02:00:00.000-08:00".into(),
        controller: Controller::GceL4NetLb,
        owner: Owner {
            namespace: "default".into(),
            name: "web".into(),
            uid: "u1".into(),
        },
        leaked: false,
    }
}

fn rules() -> Vec<ForwardingRule> {
    let mut legacy = rule("a0123456789abcdef", "203.0.113.9", "IPV4", "EXTERNAL");
    legacy.ports = vec![];
    legacy.port_range = Some("80-80".into());
    legacy.backend_service = None;
    legacy.target = Some("a0123456789abcdef".into());
    legacy.controller = Controller::GceCloudProvider;
    legacy.leaked = true;
    vec![
        rule("k8s2-web-ipv4", "203.0.113.7", "IPV4", "EXTERNAL"),
        rule(
            "k8s2-web-ipv6",
            "2600:1900:4010:1:8000::",
            "IPV6",
            "EXTERNAL",
        ),
        rule("k8s2-int", "10.243.0.5", "IPV4", "INTERNAL"),
        legacy,
    ]
}

fn addresses() -> Vec<Address> {
    vec![Address {
        name: "web-ip".into(),
        region: R.into(),
        address: "203.0.113.7".into(),
        address_type: "EXTERNAL".into(),
        ip_version: "IPV4".into(),
        status: "IN_USE".into(),
        network_tier: "PREMIUM".into(),
        users: vec!["k8s2-web-ipv4".into()],
        prefix_length: None,
        subnetwork: None,
        creation_timestamp: "2026-12-01T01:00:00.000-08:00".into(),
    }]
}

fn run(method: &str, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let (net, frs, addrs) = (network(), rules(), addresses());
    let view = GcpView {
        network: &net,
        forwarding_rules: &frs,
        addresses: &addrs,
        region: R,
    };
    let query: Vec<(String, String)> = query
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    handle(method, path, &query, &view, P)
}

const AGG: &[(&str, &str)] = &[
    ("alt", "json"),
    ("includeAllScopes", "True"),
    ("maxResults", "500"),
    ("returnPartialSuccess", "True"),
];

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["name"].as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// (name, method, path, query, status, JSON pointer, expected).
type Case = (
    &'static str,
    &'static str,
    String,
    &'static [(&'static str, &'static str)],
    u16,
    &'static str,
    Value,
);

#[test]
fn resources() {
    let rg = "projects/rt1/regions/europe-west1";
    let cases: Vec<Case> = vec![
        ("aggregated kind", "GET", "projects/rt1/aggregated/forwardingRules".into(), AGG, 200, "/kind", json!("compute#forwardingRuleAggregatedList")),
        ("aggregated global has a warning", "GET", "projects/rt1/aggregated/forwardingRules".into(), AGG, 200, "/items/global/warning/code", json!("NO_RESULTS_ON_PAGE")),
        ("regional list kind", "GET", format!("{rg}/forwardingRules"), &[("maxResults", "500")], 200, "/kind", json!("compute#forwardingRuleList")),
        ("describe: self link", "GET", format!("{rg}/forwardingRules/k8s2-web-ipv4"), &[("alt", "json")], 200, "/selfLink", json!(format!("{B}/regions/europe-west1/forwardingRules/k8s2-web-ipv4"))),
        ("describe: region link", "GET", format!("{rg}/forwardingRules/k8s2-web-ipv4"), &[], 200, "/region", json!(format!("{B}/regions/europe-west1"))),
        ("describe: kind", "GET", format!("{rg}/forwardingRules/k8s2-web-ipv4"), &[], 200, "/kind", json!("compute#forwardingRule")),
        ("describe: ports", "GET", format!("{rg}/forwardingRules/k8s2-web-ipv4"), &[], 200, "/ports", json!(["80", "443"])),
        ("describe: backend service link", "GET", format!("{rg}/forwardingRules/k8s2-web-ipv4"), &[], 200, "/backendService", json!(format!("{B}/regions/europe-west1/backendServices/k8s2-k8s2-web-ipv4"))),
        ("IPv6 address is a /96", "GET", format!("{rg}/forwardingRules/k8s2-web-ipv6"), &[], 200, "/IPAddress", json!("2600:1900:4010:1:8000::/96")),
        ("IPv6 version", "GET", format!("{rg}/forwardingRules/k8s2-web-ipv6"), &[], 200, "/ipVersion", json!("IPV6")),
        ("legacy target pool", "GET", format!("{rg}/forwardingRules/a0123456789abcdef"), &[], 200, "/target", json!(format!("{B}/regions/europe-west1/targetPools/a0123456789abcdef"))),
        ("legacy port range", "GET", format!("{rg}/forwardingRules/a0123456789abcdef"), &[], 200, "/portRange", json!("80-80")),
        ("internal: subnetwork link", "GET", format!("{rg}/forwardingRules/k8s2-int"), &[], 200, "/subnetwork", json!(format!("{B}/regions/europe-west1/subnetworks/shoot--p--rt1-internal"))),
        ("internal: network link", "GET", format!("{rg}/forwardingRules/k8s2-int"), &[], 200, "/network", json!(format!("{B}/global/networks/shoot--p--rt1"))),
        ("internal: global access", "GET", format!("{rg}/forwardingRules/k8s2-int"), &[], 200, "/allowGlobalAccess", json!(false)),
        ("unknown rule", "GET", format!("{rg}/forwardingRules/nope"), &[], 404, "/error/message", json!("The resource 'projects/rt1/regions/europe-west1/forwardingRules/nope' was not found")),
        ("unknown rule reason", "GET", format!("{rg}/forwardingRules/nope"), &[], 404, "/error/errors/0/reason", json!("notFound")),
        ("other region: empty list", "GET", "projects/rt1/regions/us-east1/forwardingRules".into(), &[], 200, "/items", Value::Null),
        ("other region: not found", "GET", "projects/rt1/regions/us-east1/forwardingRules/k8s2-int".into(), &[], 404, "/error/code", json!(404)),
        ("global forwarding rules: none", "GET", "projects/rt1/global/forwardingRules".into(), &[("maxResults", "500")], 200, "/kind", json!("compute#forwardingRuleList")),
        ("global forwarding rule: not found", "GET", "projects/rt1/global/forwardingRules/x".into(), &[], 404, "/error/errors/0/domain", json!("global")),
        ("address", "GET", format!("{rg}/addresses/web-ip"), &[], 200, "/users/0", json!(format!("{B}/regions/europe-west1/forwardingRules/k8s2-web-ipv4"))),
        ("aggregated addresses", "GET", "projects/rt1/aggregated/addresses".into(), AGG, 200, "/items/regions~1europe-west1/addresses/0/address", json!("203.0.113.7")),
        ("global addresses: none", "GET", "projects/rt1/global/addresses".into(), &[], 200, "/kind", json!("compute#addressList")),
        ("subnetwork", "GET", format!("{rg}/subnetworks/shoot--p--rt1-nodes"), &[], 200, "/externalIpv6Prefix", json!("2600:1900:4010:1::/64")),
        ("subnetwork gateway", "GET", format!("{rg}/subnetworks/shoot--p--rt1-nodes"), &[], 200, "/gatewayAddress", json!("10.250.0.1")),
        ("subnetwork secondary ranges", "GET", format!("{rg}/subnetworks/shoot--p--rt1-nodes"), &[], 200, "/secondaryIpRanges/0/rangeName", json!("pods")),
        ("aggregated subnetworks", "GET", "projects/rt1/aggregated/subnetworks".into(), AGG, 200, "/items/regions~1europe-west1/subnetworks/1/stackType", json!("IPV4_ONLY")),
        ("networks", "GET", "projects/rt1/global/networks".into(), &[("maxResults", "500")], 200, "/items/0/subnetworks/0", json!(format!("{B}/regions/europe-west1/subnetworks/shoot--p--rt1-nodes"))),
        ("network", "GET", "projects/rt1/global/networks/shoot--p--rt1".into(), &[], 200, "/autoCreateSubnetworks", json!(false)),
        ("unknown network", "GET", "projects/rt1/global/networks/default".into(), &[], 404, "/error/code", json!(404)),
        ("region", "GET", "projects/rt1/regions/europe-west1".into(), &[], 200, "/status", json!("UP")),
        ("project", "GET", "projects/rt1".into(), &[], 200, "/kind", json!("compute#project")),
        ("other project", "GET", "projects/rt2/aggregated/forwardingRules".into(), AGG, 403, "/error/message", json!("Required 'compute.forwardingRules.list' permission for 'projects/rt2'")),
        ("other project describe", "GET", "projects/rt2/regions/europe-west1/forwardingRules/x".into(), &[], 403, "/error/errors/0/reason", json!("forbidden")),
        ("delete is refused", "DELETE", format!("{rg}/forwardingRules/k8s2-int"), &[], 403, "/error/message", json!("Required 'compute.forwardingRules.delete' permission for 'projects/rt1/regions/europe-west1/forwardingRules/k8s2-int' (the twinstack Compute Engine API is read-only)")),
        ("insert is refused", "POST", format!("{rg}/forwardingRules"), &[], 403, "/error/errors/0/reason", json!("forbidden")),
        ("action is refused", "POST", format!("{rg}/forwardingRules/k8s2-int/setTarget"), &[], 403, "/error/message", json!("Required 'compute.forwardingRules.setTarget' permission for 'projects/rt1/regions/europe-west1/forwardingRules/k8s2-int/setTarget' (the twinstack Compute Engine API is read-only)")),
        ("unknown collection", "GET", format!("{rg}/targetPools"), &[], 404, "/error/code", json!(404)),
        ("not a project path", "GET", "zones".into(), &[], 404, "/error/code", json!(404)),
        ("maxResults too big", "GET", format!("{rg}/forwardingRules"), &[("maxResults", "501")], 400, "/error/errors/0/reason", json!("invalid")),
        ("bad page token", "GET", format!("{rg}/forwardingRules"), &[("pageToken", "x")], 400, "/error/message", json!("Invalid value for field 'pageToken': 'x'. Invalid page token.")),
    ];
    for (name, method, path, query, status, pointer, want) in cases {
        let (got, body) = run(method, &path, query);
        assert_eq!(got, status, "{name}: {body}");
        assert_eq!(
            body.pointer(pointer).cloned().unwrap_or(Value::Null),
            want,
            "{name}: {body}"
        );
    }
}

#[test]
fn lists_hold_every_rule_leaked_too() {
    let (_, body) = run("GET", "projects/rt1/aggregated/forwardingRules", AGG);
    assert_eq!(
        names(&body["items"]["regions/europe-west1"]["forwardingRules"]),
        [
            "k8s2-web-ipv4",
            "k8s2-web-ipv6",
            "k8s2-int",
            "a0123456789abcdef"
        ]
    );
    let (_, body) = run(
        "GET",
        "projects/rt1/regions/europe-west1/forwardingRules",
        &[],
    );
    assert_eq!(names(&body["items"]).len(), 4);
    assert_eq!(
        body["selfLink"],
        json!(format!("{B}/regions/europe-west1/forwardingRules"))
    );
}

#[test]
fn pages() {
    let path = "projects/rt1/regions/europe-west1/forwardingRules";
    let (_, first) = run("GET", path, &[("maxResults", "3")]);
    assert_eq!(names(&first["items"]).len(), 3);
    let token = first["nextPageToken"].as_str().unwrap().to_string();
    let (_, second) = run("GET", path, &[("maxResults", "3"), ("pageToken", &token)]);
    assert_eq!(names(&second["items"]), ["a0123456789abcdef"]);
    assert_eq!(second.get("nextPageToken"), None);
    let (_, agg) = run(
        "GET",
        "projects/rt1/aggregated/forwardingRules",
        &[("maxResults", "2")],
    );
    assert_eq!(
        names(&agg["items"]["regions/europe-west1"]["forwardingRules"]).len(),
        2
    );
    assert_eq!(agg["nextPageToken"], json!("2"));
}

#[test]
fn filters() {
    let path = "projects/rt1/regions/europe-west1/forwardingRules";
    let cases: &[(&str, &[&str])] = &[
        ("name = \"k8s2-int\"", &["k8s2-int"]),
        ("name eq k8s2-int", &["k8s2-int"]),
        ("loadBalancingScheme != EXTERNAL", &["k8s2-int"]),
        ("ipVersion ne IPV4", &["k8s2-web-ipv6"]),
    ];
    for (filter, want) in cases {
        let (_, body) = run("GET", path, &[("filter", filter)]);
        assert_eq!(names(&body["items"]), *want, "{filter}");
    }
    let (status, _) = run("GET", path, &[("filter", "(name ~ x) OR y")]);
    assert_eq!(status, 400);
}

#[test]
fn ids_are_deterministic_decimals() {
    let (_, a) = run(
        "GET",
        "projects/rt1/regions/europe-west1/forwardingRules/k8s2-int",
        &[],
    );
    let (_, b) = run(
        "GET",
        "projects/rt1/regions/europe-west1/forwardingRules/k8s2-int",
        &[],
    );
    let id = a["id"].as_str().unwrap();
    assert_eq!(id.len(), 19);
    assert!(id.bytes().all(|c| c.is_ascii_digit()));
    assert_eq!(a["id"], b["id"]);
    assert_eq!(fingerprint("x").len(), 12);
}

/// Writes the answers gcloud asks for into `$TWINSTACK_DUMP_GCE` (one file per request path,
/// `/` as `_`), for a replay against the real gcloud (see `docs/cloud-apis.md`).
#[test]
fn dump_samples_for_gcloud() {
    let Ok(dir) = std::env::var("TWINSTACK_DUMP_GCE") else {
        return;
    };
    for path in [
        "projects/rt1/aggregated/forwardingRules",
        "projects/rt1/aggregated/addresses",
        "projects/rt1/aggregated/subnetworks",
        "projects/rt1/global/networks",
        "projects/rt1/regions/europe-west1/forwardingRules/k8s2-web-ipv6",
        "projects/rt1/regions/europe-west1/forwardingRules/nope",
        "projects/rt2/aggregated/forwardingRules",
    ] {
        let (status, body) = run("GET", path, AGG);
        std::fs::write(
            format!("{dir}/{}.{status}.json", path.replace('/', "_")),
            body.to_string(),
        )
        .unwrap();
    }
}

proptest::proptest! {
    /// Any path, method and query answer without a panic.
    #[test]
    fn arbitrary_requests_never_panic(
        method in proptest::sample::select(vec!["GET", "POST", "DELETE", "PATCH"]),
        path in "(projects/(rt1|rt2)/)?((regions|global|aggregated|europe-west1|forwardingRules|addresses|subnetworks|networks|x)/?){0,5}",
        query in proptest::collection::vec(("(maxResults|pageToken|filter|x)", "[ -~]{0,12}"), 0..4),
    ) {
        let q: Vec<(&str, &str)> = query.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let (status, body) = run(method, &path, &q);
        proptest::prop_assert!(status == 200 || body["error"]["code"] == json!(status), "{status} {body}");
    }
}
