//! Table-driven tests of the Service pipeline on the four cluster shapes of the reference:
//! S4 (10.0.0.0/16), S6 (fd00::/108), D46 and D64.

use super::*;
use serde_json::{json, Value};
use twinstack_core::field::aggregate;
use twinstack_core::ipam::{Family, MemoryAllocator};

const V4: &str = "10.0.0.10";
const V6: &str = "fd00::10";

fn cfg(name: &str) -> ClusterConfig {
    let c = |s: &str| s.parse::<IpNet>().unwrap();
    let cidrs = match name {
        "S4" => vec![c("10.0.0.0/16")],
        "S6" => vec![c("fd00::/108")],
        "D46" => vec![c("10.0.0.0/16"), c("fd00::/108")],
        "D64" => vec![c("fd00::/108"), c("10.0.0.0/16")],
        other => panic!("{other}"),
    };
    ClusterConfig::new(&cidrs).unwrap()
}

fn mem(cfg: &ClusterConfig) -> MemoryAllocator {
    MemoryAllocator::new(cfg.ranges().to_vec(), cfg.node_ports(), 42)
}

fn svc(spec: Value) -> Service {
    let mut s = spec;
    if s.get("ports").is_none() && s.get("type") != Some(&json!("ExternalName")) {
        s["ports"] = json!([{"port": 80}]);
    }
    serde_json::from_value(json!({"metadata": {"name": "web", "namespace": "default"}, "spec": s}))
        .unwrap()
}

fn render(e: ServiceError) -> String {
    match e {
        ServiceError::Invalid(l) => aggregate(&l),
        ServiceError::Internal(s) => format!("Internal error occurred: {s}"),
    }
}

/// The registry's create sequence.
/// On validation failure the allocator is rolled back, as the store transaction would be.
fn create(cfg: &ClusterConfig, a: &mut MemoryAllocator, mut s: Service) -> Result<Service, String> {
    let snapshot = a.clone();
    set_defaults(&mut s);
    begin_create(&mut s, cfg, a).map_err(render)?;
    prepare_for_create(&mut s);
    let errs = validate(&s, cfg);
    if !errs.is_empty() {
        *a = snapshot;
        return Err(aggregate(&errs));
    }
    default_on_read(&mut s, cfg);
    Ok(s)
}

/// The registry's update sequence; on validation failure the allocator is rolled back, as the
/// store transaction would be.
fn update(
    cfg: &ClusterConfig,
    a: &mut MemoryAllocator,
    old: &Service,
    mut new: Service,
) -> Result<Service, String> {
    let snapshot = a.clone();
    set_defaults(&mut new);
    begin_update(&mut new, old, cfg, a).map_err(render)?;
    prepare_for_update(&mut new, old);
    let errs = validate_update(&new, old, cfg);
    if !errs.is_empty() {
        *a = snapshot;
        return Err(aggregate(&errs));
    }
    default_on_read(&mut new, cfg);
    Ok(new)
}

fn usage(a: &MemoryAllocator) -> (u64, u64, u64) {
    (
        a.used_ips(Family::IPv4),
        a.used_ips(Family::IPv6),
        a.used_node_ports(),
    )
}

fn fams(s: &Service) -> String {
    ip_families(s)
        .iter()
        .map(|f| if f == "IPv4" { "4" } else { "6" })
        .collect()
}

/// Checks the shape of a successful result: policy, families, and that clusterIPs hold one
/// address per family (or `None` for headless) with clusterIP = clusterIPs[0].
fn check_ok(s: &Service, pol: &str, fam: &str, headless: bool, ctx: &str) {
    assert_eq!(policy(s), Some(pol), "{ctx}");
    assert_eq!(fams(s), fam, "{ctx}");
    let ips = cluster_ips(s);
    if headless {
        assert_eq!(ips, &["None".to_string()], "{ctx}");
        assert_eq!(cluster_ip(s), "None", "{ctx}");
        return;
    }
    assert_eq!(ips.len(), fam.len(), "{ctx}: {ips:?}");
    assert_eq!(cluster_ip(s), ips[0], "{ctx}");
    for (ip, f) in ips.iter().zip(fam.chars()) {
        let want = if f == '4' { Family::IPv4 } else { Family::IPv6 };
        assert_eq!(family_of_str(ip), Some(want), "{ctx}: {ip}");
    }
}

#[derive(Clone, Copy)]
enum Want {
    Yes(&'static str, &'static str),
    No(&'static str),
}
use Want::*;

const CLUSTERS: [&str; 4] = ["S4", "S6", "D46", "D64"];

fn run_create_table(rows: &[(&str, Value, [Want; 4])], headless: bool) {
    for (name, spec, wants) in rows {
        for (c, want) in CLUSTERS.iter().zip(wants) {
            let cfg = cfg(c);
            let mut a = mem(&cfg);
            let ctx = format!("{name} on {c}");
            let before = usage(&a);
            match (create(&cfg, &mut a, svc(spec.clone())), want) {
                (Ok(s), Yes(p, f)) => {
                    check_ok(&s, p, f, headless, &ctx);
                    for ip in cluster_ips(&s).iter().filter(|i| *i != "None") {
                        assert!(
                            a.has_ip(twinstack_core::ipam::parse_ip_legacy(ip).unwrap()),
                            "{ctx}: {ip} allocated"
                        );
                    }
                    for (k, v) in [("clusterIP", V4), ("clusterIP", V6)] {
                        if spec.get(k) == Some(&json!(v)) {
                            assert_eq!(cluster_ip(&s), v, "{ctx}: user IP kept");
                        }
                    }
                }
                (Err(e), No(w)) => {
                    assert_eq!(e, *w, "{ctx}");
                    assert_eq!(usage(&a), before, "{ctx}: nothing stays allocated");
                }
                (got, _) => panic!("{ctx}: unexpected {got:?}"),
            }
        }
    }
}

const NOT_DUAL: &str = "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services";
const MULTI_FAM: &str = "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified";
const MULTI_IPS: &str = "spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified";
const F0_V6_NC: &str =
    "spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster";
const F0_V4_NC: &str =
    "spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this cluster";
const F1_V6_NC: &str =
    "spec.ipFamilies[1]: Invalid value: \"IPv6\": not configured on this cluster";
const F1_V4_NC: &str =
    "spec.ipFamilies[1]: Invalid value: \"IPv4\": not configured on this cluster";

/// Reference §7.1 (ClusterIP; NodePort and LoadBalancer behave the same, see below).
#[test]
fn create_7_1_cluster_ip() {
    let rows: Vec<(&str, Value, [Want; 4])> = vec![
        ("nothing", json!({}), [Yes("SingleStack", "4"), Yes("SingleStack", "6"), Yes("SingleStack", "4"), Yes("SingleStack", "6")]),
        (
            "PreferDualStack",
            json!({"ipFamilyPolicy": "PreferDualStack"}),
            [Yes("PreferDualStack", "4"), Yes("PreferDualStack", "6"), Yes("PreferDualStack", "46"), Yes("PreferDualStack", "64")],
        ),
        (
            "RequireDualStack",
            json!({"ipFamilyPolicy": "RequireDualStack"}),
            [No(NOT_DUAL), No(NOT_DUAL), Yes("RequireDualStack", "46"), Yes("RequireDualStack", "64")],
        ),
        (
            "families [6]",
            json!({"ipFamilies": ["IPv6"]}),
            [No(F0_V6_NC), Yes("SingleStack", "6"), Yes("SingleStack", "6"), Yes("SingleStack", "6")],
        ),
        (
            "families [4]",
            json!({"ipFamilies": ["IPv4"]}),
            [Yes("SingleStack", "4"), No(F0_V4_NC), Yes("SingleStack", "4"), Yes("SingleStack", "4")],
        ),
        (
            "families [6] Prefer",
            json!({"ipFamilies": ["IPv6"], "ipFamilyPolicy": "PreferDualStack"}),
            [No(F0_V6_NC), Yes("PreferDualStack", "6"), Yes("PreferDualStack", "64"), Yes("PreferDualStack", "64")],
        ),
        ("families [4,6] unset", json!({"ipFamilies": ["IPv4", "IPv6"]}), [No(MULTI_FAM); 4]),
        (
            "families [4,6] SingleStack",
            json!({"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "SingleStack"}),
            [No(MULTI_FAM); 4],
        ),
        (
            "families [4,6] Prefer",
            json!({"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "PreferDualStack"}),
            [No(F1_V6_NC), No(F0_V4_NC), Yes("PreferDualStack", "46"), Yes("PreferDualStack", "46")],
        ),
        (
            "families [6,4] Prefer",
            json!({"ipFamilies": ["IPv6", "IPv4"], "ipFamilyPolicy": "PreferDualStack"}),
            [No(F0_V6_NC), No(F1_V4_NC), Yes("PreferDualStack", "64"), Yes("PreferDualStack", "64")],
        ),
        (
            "families [4,6] Require",
            json!({"ipFamilies": ["IPv4", "IPv6"], "ipFamilyPolicy": "RequireDualStack"}),
            [
                No("[spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services, spec.ipFamilies[1]: Invalid value: \"IPv6\": not configured on this cluster]"),
                No("[spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services, spec.ipFamilies[0]: Invalid value: \"IPv4\": not configured on this cluster]"),
                Yes("RequireDualStack", "46"),
                Yes("RequireDualStack", "46"),
            ],
        ),
        (
            "clusterIP v4 only",
            json!({"clusterIP": V4}),
            [
                Yes("SingleStack", "4"),
                No("spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.10\"}: IPv4 is not configured on this cluster"),
                Yes("SingleStack", "4"),
                Yes("SingleStack", "4"),
            ],
        ),
        (
            "clusterIP v6 only",
            json!({"clusterIP": V6}),
            [
                No("spec.clusterIPs[0]: Invalid value: []string{\"fd00::10\"}: IPv6 is not configured on this cluster"),
                Yes("SingleStack", "6"),
                Yes("SingleStack", "6"),
                Yes("SingleStack", "6"),
            ],
        ),
        (
            "clusterIP v4 + Prefer",
            json!({"clusterIP": V4, "ipFamilyPolicy": "PreferDualStack"}),
            [
                Yes("PreferDualStack", "4"),
                No("spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.10\"}: IPv4 is not configured on this cluster"),
                Yes("PreferDualStack", "46"),
                Yes("PreferDualStack", "46"),
            ],
        ),
        (
            "clusterIPs v4v6 unset",
            json!({"clusterIP": V4, "clusterIPs": [V4, V6]}),
            [
                No("[spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified, spec.clusterIPs[1]: Invalid value: []string{\"10.0.0.10\", \"fd00::10\"}: IPv6 is not configured on this cluster]"),
                No("[spec.ipFamilyPolicy: Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified, spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.10\", \"fd00::10\"}: IPv4 is not configured on this cluster]"),
                No(MULTI_IPS),
                No(MULTI_IPS),
            ],
        ),
        (
            "clusterIPs v4v6 Prefer",
            json!({"clusterIP": V4, "clusterIPs": [V4, V6], "ipFamilyPolicy": "PreferDualStack"}),
            [
                No("spec.clusterIPs[1]: Invalid value: []string{\"10.0.0.10\", \"fd00::10\"}: IPv6 is not configured on this cluster"),
                No("spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.10\", \"fd00::10\"}: IPv4 is not configured on this cluster"),
                Yes("PreferDualStack", "46"),
                Yes("PreferDualStack", "46"),
            ],
        ),
        (
            "clusterIPs v6v4 Require",
            json!({"clusterIP": V6, "clusterIPs": [V6, V4], "ipFamilyPolicy": "RequireDualStack"}),
            [
                No("spec.clusterIPs[0]: Invalid value: []string{\"fd00::10\", \"10.0.0.10\"}: IPv6 is not configured on this cluster"),
                No("spec.clusterIPs[1]: Invalid value: []string{\"fd00::10\", \"10.0.0.10\"}: IPv4 is not configured on this cluster"),
                Yes("RequireDualStack", "64"),
                Yes("RequireDualStack", "64"),
            ],
        ),
        (
            "clusterIPs v4v6 families [6,4]",
            json!({"clusterIP": V4, "clusterIPs": [V4, V6], "ipFamilies": ["IPv6", "IPv4"], "ipFamilyPolicy": "PreferDualStack"}),
            [No("[spec.clusterIPs[0]: Invalid value: \"10.0.0.10\": expected an IPv6 value as indicated by `ipFamilies[0]`, spec.clusterIPs[1]: Invalid value: \"fd00::10\": expected an IPv4 value as indicated by `ipFamilies[1]`]"); 4],
        ),
        (
            "clusterIPs only (no clusterIP)",
            json!({"clusterIPs": [V4]}),
            [No("spec.clusterIPs: Invalid value: []string{\"10.0.0.10\"}: must be empty when `clusterIP` is not specified"); 4],
        ),
        (
            "clusterIPs v4v4",
            json!({"clusterIP": V4, "clusterIPs": [V4, "10.0.0.11"], "ipFamilyPolicy": "PreferDualStack"}),
            [No("spec.clusterIPs: Invalid value: []string{\"10.0.0.10\", \"10.0.0.11\"}: may specify no more than one IP for each IP family"); 4],
        ),
        (
            "bad family value",
            json!({"ipFamilies": ["IPv5"]}),
            [No("spec.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\""); 4],
        ),
        (
            "bad policy value",
            json!({"ipFamilyPolicy": "DualStack"}),
            [No("spec.ipFamilyPolicy: Unsupported value: \"DualStack\": supported values: \"PreferDualStack\", \"RequireDualStack\", \"SingleStack\""); 4],
        ),
        (
            "bad IP",
            json!({"clusterIP": "10.0.0.300"}),
            [No("spec.clusterIPs[0]: Invalid value: \"10.0.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"); 4],
        ),
    ];
    run_create_table(&rows, false);
    // NodePort and LoadBalancer behave the same.
    for ty in ["NodePort", "LoadBalancer"] {
        let typed: Vec<(&str, Value, [Want; 4])> = rows
            .iter()
            .map(|(n, s, w)| {
                let mut s = s.clone();
                s["type"] = json!(ty);
                (*n, s, *w)
            })
            .collect();
        run_create_table(&typed, false);
    }
}

/// Reference §7.2: headless with selector.
#[test]
fn create_7_2_headless_with_selector() {
    let h = |extra: Value| {
        let mut s = json!({"clusterIP": "None", "selector": {"app": "web"}});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        s
    };
    let rows: Vec<(&str, Value, [Want; 4])> = vec![
        ("nothing", h(json!({})), [Yes("SingleStack", "4"), Yes("SingleStack", "6"), Yes("SingleStack", "4"), Yes("SingleStack", "6")]),
        (
            "Prefer",
            h(json!({"ipFamilyPolicy": "PreferDualStack"})),
            [Yes("PreferDualStack", "4"), Yes("PreferDualStack", "6"), Yes("PreferDualStack", "46"), Yes("PreferDualStack", "64")],
        ),
        (
            "Require",
            h(json!({"ipFamilyPolicy": "RequireDualStack"})),
            [No(NOT_DUAL), No(NOT_DUAL), Yes("RequireDualStack", "46"), Yes("RequireDualStack", "64")],
        ),
        (
            "families [6]",
            h(json!({"ipFamilies": ["IPv6"]})),
            [No(F0_V6_NC), Yes("SingleStack", "6"), Yes("SingleStack", "6"), Yes("SingleStack", "6")],
        ),
        (
            "families [6] Require",
            h(json!({"ipFamilies": ["IPv6"], "ipFamilyPolicy": "RequireDualStack"})),
            [
                No("[spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services, spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster]"),
                No(NOT_DUAL),
                Yes("RequireDualStack", "64"),
                Yes("RequireDualStack", "64"),
            ],
        ),
        ("2 families unset", h(json!({"ipFamilies": ["IPv4", "IPv6"]})), [No(MULTI_FAM); 4]),
    ];
    run_create_table(&rows, true);
}

/// Reference §7.3: headless without selector: RequireDualStack by default, families never
/// checked against the cluster.
#[test]
fn create_7_3_headless_selectorless() {
    let h = |extra: Value| {
        let mut s = json!({"clusterIP": "None"});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        s
    };
    let rows: Vec<(&str, Value, [Want; 4])> = vec![
        (
            "nothing",
            h(json!({})),
            [Yes("RequireDualStack", "46"), Yes("RequireDualStack", "64"), Yes("RequireDualStack", "46"), Yes("RequireDualStack", "64")],
        ),
        ("families [6]", h(json!({"ipFamilies": ["IPv6"]})), [Yes("RequireDualStack", "64"); 4]),
        ("families [4] Prefer", h(json!({"ipFamilies": ["IPv4"], "ipFamilyPolicy": "PreferDualStack"})), [Yes("PreferDualStack", "46"); 4]),
        ("families [6,4]", h(json!({"ipFamilies": ["IPv6", "IPv4"]})), [Yes("RequireDualStack", "64"); 4]),
        (
            "SingleStack",
            h(json!({"ipFamilyPolicy": "SingleStack"})),
            [Yes("SingleStack", "4"), Yes("SingleStack", "6"), Yes("SingleStack", "4"), Yes("SingleStack", "6")],
        ),
        ("SingleStack [6]", h(json!({"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv6"]})), [Yes("SingleStack", "6"); 4]),
        ("SingleStack [4]", h(json!({"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]})), [Yes("SingleStack", "4"); 4]),
        (
            "SingleStack 2 families",
            h(json!({"ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4", "IPv6"]})),
            [No(MULTI_FAM); 4],
        ),
        (
            "headless LoadBalancer",
            h(json!({"type": "LoadBalancer"})),
            [No("spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services"); 4],
        ),
    ];
    // Headless services may have zero ports.
    run_create_table(&rows, true);
    for c in CLUSTERS {
        let cfg = cfg(c);
        let mut a = mem(&cfg);
        let s = create(&cfg, &mut a, svc(json!({"clusterIP": "None", "ports": []}))).unwrap();
        check_ok(
            &s,
            "RequireDualStack",
            if cfg.primary() == Family::IPv4 {
                "46"
            } else {
                "64"
            },
            true,
            c,
        );
        let err = create(
            &cfg,
            &mut a,
            svc(json!({"clusterIP": "None", "type": "NodePort"})),
        )
        .unwrap_err();
        assert_eq!(err, "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for NodePort services");
    }
}

/// Reference §7.4: ExternalName.
#[test]
fn create_7_4_external_name() {
    for c in CLUSTERS {
        let cfg = cfg(c);
        let mut a = mem(&cfg);
        let s = create(
            &cfg,
            &mut a,
            svc(json!({"type": "ExternalName", "externalName": "example.com."})),
        )
        .unwrap();
        assert_eq!(
            (policy(&s), ip_families(&s).len(), cluster_ips(&s).len()),
            (None, 0, 0)
        );
        assert_eq!(spec(&s).internal_traffic_policy, None);
        let cases = [
            (json!({"clusterIP": "None"}), "spec.clusterIPs: Forbidden: may not be set for ExternalName services"),
            (json!({"clusterIP": V4}), "spec.clusterIPs: Forbidden: may not be set for ExternalName services"),
            (json!({"ipFamilies": ["IPv4"]}), "spec.ipFamilies: Forbidden: may not be set for ExternalName services"),
            (json!({"ipFamilyPolicy": "SingleStack"}), "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services"),
            (json!({"externalName": ""}), "spec.externalName: Required value"),
            (
                json!({"externalName": "Bad_Name"}),
                "spec.externalName: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ),
        ];
        for (extra, want) in cases {
            let mut s = json!({"type": "ExternalName", "externalName": "example.com"});
            for (k, v) in extra.as_object().unwrap() {
                s[k] = v.clone();
            }
            assert_eq!(create(&cfg, &mut a, svc(s)).unwrap_err(), want, "{c}");
        }
        assert_eq!(usage(&a), (0, 0, 0), "ExternalName allocates nothing");
    }
}

#[test]
fn create_allocation_errors() {
    let cfg = cfg("D46");
    let mut a = mem(&cfg);
    // The kubernetes Service takes the first address explicitly.
    let k = create(&cfg, &mut a, svc(json!({"clusterIP": "10.0.0.1"}))).unwrap();
    assert_eq!(cluster_ips(&k), &["10.0.0.1".to_string()]);
    assert_eq!(
        create(&cfg, &mut a, svc(json!({"clusterIP": "10.0.0.1"}))).unwrap_err(),
        "spec.clusterIPs: Invalid value: []string{\"10.0.0.1\"}: failed to allocate IP 10.0.0.1: provided IP is already allocated"
    );
    assert_eq!(
        create(&cfg, &mut a, svc(json!({"clusterIP": "192.168.0.1"}))).unwrap_err(),
        "spec.clusterIPs: Invalid value: []string{\"192.168.0.1\"}: failed to allocate IP 192.168.0.1: the provided IP (192.168.0.1) is not in the valid range. The range of valid IPs is 10.0.0.0/16"
    );
    // The padding marker of the secondary is visible in the value, as upstream.
    assert_eq!(
        create(&cfg, &mut a, svc(json!({"clusterIP": "10.0.0.1", "ipFamilyPolicy": "PreferDualStack"}))).unwrap_err(),
        "spec.clusterIPs: Invalid value: []string{\"10.0.0.1\", \"\"}: failed to allocate IP 10.0.0.1: provided IP is already allocated"
    );
    assert_eq!(
        a.used_ips(Family::IPv6),
        0,
        "secondary released after failure"
    );
    // Full range: HTTP 500.
    let small = ClusterConfig::new(&["10.1.0.0/29".parse().unwrap()]).unwrap();
    let mut a = mem(&small);
    for _ in 0..6 {
        create(&small, &mut a, svc(json!({}))).unwrap();
    }
    assert_eq!(
        create(&small, &mut a, svc(json!({}))).unwrap_err(),
        "Internal error occurred: failed to allocate a serviceIP: range is full"
    );
}

#[test]
fn node_ports_and_health_check() {
    let cfg = cfg("S4");
    let mut a = mem(&cfg);
    let s = create(&cfg, &mut a, svc(json!({"type": "NodePort", "ports": [{"port": 80, "name": "http"}, {"port": 80, "protocol": "UDP", "name": "dns"}]}))).unwrap();
    let nps: Vec<i32> = ports(&s).iter().map(node_port_of).collect();
    assert!(
        nps[0] != 0 && nps[0] == nps[1],
        "same port number shares a node port: {nps:?}"
    );
    assert_eq!(spec(&s).external_traffic_policy.as_deref(), Some("Cluster"));
    assert_eq!(
        create(&cfg, &mut a, svc(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": 80}]}))).unwrap_err(),
        "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767"
    );
    let np = nps[0];
    assert_eq!(
        create(
            &cfg,
            &mut a,
            svc(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": np}]}))
        )
        .unwrap_err(),
        format!("spec.ports[0].nodePort: Invalid value: {np}: provided port is already allocated")
    );
    let lb = create(
        &cfg,
        &mut a,
        svc(json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local"})),
    )
    .unwrap();
    assert!(hc_node_port(&lb) >= 30000);
    assert_eq!(spec(&lb).allocate_load_balancer_node_ports, Some(true));
    assert_eq!(a.used_node_ports(), 3);
    let lb2 = create(
        &cfg,
        &mut a,
        svc(json!({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false})),
    )
    .unwrap();
    assert_eq!(node_port_of(&ports(&lb2)[0]), 0);
    assert_eq!(
        create(
            &cfg,
            &mut a,
            svc(json!({"ports": [{"port": 80, "nodePort": 30500}]}))
        )
        .unwrap_err(),
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"
    );
    for x in [&s, &lb, &lb2] {
        release(x, &cfg, &mut a);
    }
    assert_eq!((a.used_node_ports(), a.used_ips(Family::IPv4)), (0, 0));
    // LoadBalancer -> ClusterIP releases node ports and the health check port at commit.
    let lb = create(
        &cfg,
        &mut a,
        svc(json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local"})),
    )
    .unwrap();
    let mut new = lb.clone();
    spec_mut(&mut new).type_ = Some("ClusterIP".into());
    let c = update(&cfg, &mut a, &lb, new).unwrap();
    assert_eq!(
        (
            node_port_of(&ports(&c)[0]),
            hc_node_port(&c),
            a.used_node_ports()
        ),
        (0, 0, 0)
    );
    assert_eq!(spec(&c).external_traffic_policy, None);
    assert_eq!(spec(&c).allocate_load_balancer_node_ports, None);
}

fn created(c: &str, a: &mut MemoryAllocator, spec: Value) -> Service {
    create(&cfg(c), a, svc(spec)).unwrap()
}

fn with(s: &Service, f: impl FnOnce(&mut ServiceSpec)) -> Service {
    let mut n = s.clone();
    f(spec_mut(&mut n));
    n
}

/// §9.2 upgrade on all four clusters.
#[test]
fn update_upgrade() {
    for c in CLUSTERS {
        let cfg = cfg(c);
        let mut a = mem(&cfg);
        let old = created(c, &mut a, json!({}));
        let p = cfg.primary();
        let prim = if p == Family::IPv4 { "4" } else { "6" };
        let both = if p == Family::IPv4 { "46" } else { "64" };
        let r = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| {
                s.ip_family_policy = Some("PreferDualStack".into())
            }),
        );
        if cfg.is_dual_stack() {
            let s = r.unwrap();
            check_ok(&s, "PreferDualStack", both, false, c);
            assert_eq!(cluster_ips(&s)[0], cluster_ips(&old)[0]);
            assert_eq!(a.used_ips(p.other()), 1);
        } else {
            check_ok(&r.unwrap(), "PreferDualStack", prim, false, c);
        }
        let r = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| {
                s.ip_family_policy = Some("RequireDualStack".into())
            }),
        );
        if cfg.is_dual_stack() {
            check_ok(&r.unwrap(), "RequireDualStack", both, false, c);
        } else {
            assert_eq!(r.unwrap_err(), NOT_DUAL);
        }
    }
    // Upgrade with a requested secondary IP; U5/U10 on a changed primary.
    let cfg = cfg("D46");
    let mut a = mem(&cfg);
    let old = created("D46", &mut a, json!({"clusterIP": V4}));
    let s = update(
        &cfg,
        &mut a,
        &old,
        with(&old, |s| {
            s.ip_family_policy = Some("RequireDualStack".into());
            s.cluster_ips = Some(vec![V4.into(), V6.into()]);
        }),
    )
    .unwrap();
    assert_eq!(cluster_ips(&s), &[V4.to_string(), V6.to_string()]);
    assert!(a.has_ip(V6.parse().unwrap()));
    let err = update(
        &cfg,
        &mut a,
        &old,
        with(&old, |s| {
            s.ip_family_policy = Some("RequireDualStack".into());
            s.cluster_ip = Some("10.0.0.11".into());
            s.cluster_ips = Some(vec!["10.0.0.11".into(), "fd00::11".into()]);
        }),
    )
    .unwrap_err();
    assert_eq!(err, "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.11\", \"fd00::11\"}: may not change once set");
    assert!(!a.has_ip("fd00::11".parse().unwrap()), "rolled back");
}

/// §9.3 downgrade and its rejected forms, on both dual-stack clusters.
#[test]
fn update_downgrade() {
    for c in ["D46", "D64"] {
        let cfg = cfg(c);
        let mut a = mem(&cfg);
        let old = created(c, &mut a, json!({"ipFamilyPolicy": "RequireDualStack"}));
        let secondary = cluster_ips(&old)[1].clone();
        let s = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| s.ip_family_policy = Some("SingleStack".into())),
        )
        .unwrap();
        check_ok(&s, "SingleStack", &fams(&old)[..1], false, c);
        assert_eq!(cluster_ip(&s), cluster_ips(&old)[0]);
        assert!(
            !a.has_ip(secondary.parse().unwrap()),
            "{c}: secondary released"
        );
        // Also accepted: SingleStack with already-trimmed lists.
        let mut a = mem(&cfg);
        let old = created(c, &mut a, json!({"ipFamilyPolicy": "RequireDualStack"}));
        let first_ip = cluster_ips(&old)[0].clone();
        let first_fam = ip_families(&old)[0].clone();
        let s = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| {
                s.ip_family_policy = Some("SingleStack".into());
                s.cluster_ips = Some(vec![first_ip.clone()]);
                s.ip_families = Some(vec![first_fam.clone()]);
            }),
        )
        .unwrap();
        check_ok(&s, "SingleStack", &fams(&old)[..1], false, c);
        // Rejected forms, against a fresh dual-stack Service.
        let mut a = mem(&cfg);
        let old = created(c, &mut a, json!({"ipFamilyPolicy": "RequireDualStack"}));
        let first_ip = cluster_ips(&old)[0].clone();
        let first_fam = ip_families(&old)[0].clone();
        // Shortening without SingleStack (alloc errors shadow U4/U9).
        let err = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| {
                s.cluster_ips = Some(vec![first_ip.clone()]);
                s.ip_families = Some(vec![first_fam.clone()]);
            }),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "[spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": must be 'SingleStack' to release the secondary cluster IP, spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": must be 'SingleStack' to release the secondary IP family]"
        );
        // Rejected: SingleStack with a modified 2-element list.
        let other = if cfg.primary() == Family::IPv4 {
            "fd00::99"
        } else {
            "10.0.0.99"
        };
        let err = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| {
                s.ip_family_policy = Some("SingleStack".into());
                let mut ips = s.cluster_ips.clone().unwrap();
                ips[1] = other.into();
                s.cluster_ips = Some(ips);
            }),
        )
        .unwrap_err();
        assert_eq!(err, MULTI_IPS);
        assert_eq!(
            a.used_ips(Family::IPv4) + a.used_ips(Family::IPv6),
            2,
            "nothing released on failure"
        );
    }
}

/// §8.3 rules U1–U10 rendered exactly (validate_update on crafted objects), plus the
/// pipeline forms that reach them.
#[test]
fn update_rules_u1_to_u10() {
    // The rules are cluster-independent: same texts on all four shapes.
    for c in CLUSTERS {
        let cfg = cfg(c);
        let base = |ips: &[&str], fams: &[&str], pol: &str| {
            let mut s = svc(json!({
                "clusterIP": ips.first().copied().unwrap_or(""),
                "clusterIPs": ips, "ipFamilies": fams, "ipFamilyPolicy": pol,
            }));
            set_defaults(&mut s);
            if ips.is_empty() {
                spec_mut(&mut s).cluster_ips = None;
                spec_mut(&mut s).cluster_ip = None;
            }
            s
        };
        let first = |old: &Service, new: &Service| {
            validate_update(new, old, &cfg)
                .first()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let d = base(&[V4, V6], &["IPv4", "IPv6"], "RequireDualStack");
        let s4 = base(&[V4], &["IPv4"], "SingleStack");
        assert_eq!(
        first(&d, &base(&[V4, "fd00::11"], &["IPv4", "IPv6"], "RequireDualStack")),
        "spec.clusterIPs[1]: Invalid value: []string{\"10.0.0.10\", \"fd00::11\"}: may not change once set"
    );
        let mut none = base(&[], &["IPv4"], "SingleStack");
        spec_mut(&mut none).cluster_ips = Some(vec![]);
        assert_eq!(
            first(&d, &none),
            "spec.clusterIPs[0]: Invalid value: []string{}: primary clusterIP can not be unset"
        );
        assert_eq!(
            first(&d, &base(&["10.0.0.11"], &["IPv4"], "SingleStack")),
            "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.11\"}: may not change once set"
        );
        let u4 = validate_update(
            &base(&[V4], &["IPv4", "IPv6"], "RequireDualStack"),
            &d,
            &cfg,
        );
        assert_eq!(
        u4[0].to_string(),
        "spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": must be set to 'SingleStack' when releasing the secondary clusterIP"
    );
        assert_eq!(
        first(&s4, &base(&["10.0.0.11", V6], &["IPv4", "IPv6"], "RequireDualStack")),
        "spec.clusterIPs[0]: Invalid value: []string{\"10.0.0.11\", \"fd00::10\"}: may not change once set"
    );
        let s6 = base(&[V6], &["IPv6"], "SingleStack");
        assert_eq!(
            validate_update(&base(&[V6], &["IPv4"], "SingleStack"), &s6, &cfg)[0].to_string(),
            "spec.ipFamilies[0]: Invalid value: []core.IPFamily{\"IPv4\"}: may not change once set"
        );
        let two = validate_update(
            &base(&[V4, V6], &["IPv6", "IPv4"], "RequireDualStack"),
            &d,
            &cfg,
        );
        assert_eq!(
            two.iter()
                .filter(|e| e.field == "spec.ipFamilies[0]")
                .count(),
            2,
            "one per differing index, path always [0]"
        );
        let mut u7 = base(&[], &["IPv4"], "SingleStack");
        spec_mut(&mut u7).cluster_ips = None;
        let errs: Vec<String> = validate_update(&u7, &d, &cfg)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(errs.contains(&"spec.ipFamilies[0]: Invalid value: []core.IPFamily{\"IPv4\"}: primary ipFamily can not be unset".to_string()), "{errs:?}");
        let errs: Vec<String> = validate_update(&base(&[V6], &["IPv6"], "SingleStack"), &d, &cfg)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert!(
        errs.contains(
            &"spec.ipFamilies[0]: Invalid value: []string{\"fd00::10\"}: may not change once set"
                .to_string()
        ),
        "U8: {errs:?}"
    );
        let errs: Vec<String> =
            validate_update(&base(&[V4], &["IPv4"], "PreferDualStack"), &d, &cfg)
                .iter()
                .map(|e| e.to_string())
                .collect();
        assert!(errs.contains(&"spec.ipFamilyPolicy: Invalid value: \"PreferDualStack\": must be set to 'SingleStack' when releasing the secondary ipFamily".to_string()), "U9: {errs:?}");
        let errs: Vec<String> = validate_update(
            &base(&[V4, V6], &["IPv6", "IPv4"], "RequireDualStack"),
            &s4,
            &cfg,
        )
        .iter()
        .map(|e| e.to_string())
        .collect();
        assert!(errs.contains(&"spec.ipFamilies[0]: Invalid value: []string{\"10.0.0.10\", \"fd00::10\"}: may not change once set".to_string()), "U10: {errs:?}");
    }
    let cfg = cfg("D46");
    // Through the pipeline, changing the family of an existing IP is caught by the loose
    // validation first.
    let mut a = mem(&cfg);
    let old = created("D46", &mut a, json!({"clusterIP": V4}));
    assert_eq!(
        update(&cfg, &mut a, &old, with(&old, |s| s.ip_families = Some(vec!["IPv6".into()]))).unwrap_err(),
        "spec.clusterIPs[0]: Invalid value: \"10.0.0.10\": expected an IPv6 value as indicated by `ipFamilies[0]`"
    );
    // Clearing clusterIP restores it (patchAllocatedValues): the update succeeds unchanged.
    let s = update(
        &cfg,
        &mut a,
        &old,
        with(&old, |s| {
            s.cluster_ip = None;
            s.cluster_ips = None;
        }),
    )
    .unwrap();
    assert_eq!(cluster_ips(&s), cluster_ips(&old));
    // Headless <-> non-headless is a change of clusterIPs[0].
    assert_eq!(
        update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| {
                s.cluster_ip = Some("None".into());
                s.cluster_ips = Some(vec!["None".into()]);
            })
        )
        .unwrap_err(),
        "spec.clusterIPs[0]: Invalid value: []string{\"None\"}: may not change once set"
    );
}

/// §9.5 type changes to and from ExternalName.
#[test]
fn update_type_changes() {
    for c in CLUSTERS {
        let cfg = cfg(c);
        let mut a = mem(&cfg);
        let pol = if cfg.is_dual_stack() {
            "RequireDualStack"
        } else {
            "SingleStack"
        };
        let old = created(
            c,
            &mut a,
            json!({"ipFamilyPolicy": pol, "type": "NodePort"}),
        );
        // PATCH-like: only type and externalName change; all four fields are cleared.
        let new = with(&old, |s| {
            s.type_ = Some("ExternalName".into());
            s.external_name = Some("example.com".into());
        });
        let en = update(&cfg, &mut a, &old, new).unwrap();
        assert_eq!(
            (
                cluster_ip(&en),
                cluster_ips(&en).len(),
                ip_families(&en).len(),
                policy(&en)
            ),
            ("", 0, 0, None),
            "{c}"
        );
        assert_eq!(node_port_of(&ports(&en)[0]), 0);
        assert_eq!(
            (
                a.used_ips(Family::IPv4),
                a.used_ips(Family::IPv6),
                a.used_node_ports()
            ),
            (0, 0, 0),
            "{c}: all released"
        );
        // A changed field is kept and rejected.
        let err = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| {
                s.type_ = Some("ExternalName".into());
                s.external_name = Some("example.com".into());
                s.ip_family_policy = Some("PreferDualStack".into());
            }),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services"
        );
        // ExternalName -> ClusterIP: treated as a create.
        let back = update(
            &cfg,
            &mut a,
            &en,
            with(&en, |s| {
                s.type_ = Some("ClusterIP".into());
                s.external_name = None;
            }),
        )
        .unwrap();
        let prim = if cfg.primary() == Family::IPv4 {
            "4"
        } else {
            "6"
        };
        check_ok(&back, "SingleStack", prim, false, c);
        let hl = update(
            &cfg,
            &mut a,
            &en,
            with(&en, |s| {
                s.type_ = Some("ClusterIP".into());
                s.external_name = None;
                s.cluster_ip = Some("None".into());
            }),
        )
        .unwrap();
        check_ok(
            &hl,
            "RequireDualStack",
            if prim == "4" { "46" } else { "64" },
            true,
            c,
        );
    }
}

/// §9.6: PreferDualStack stability across a cluster reconfiguration.
#[test]
fn update_prefer_dual_stack_stability() {
    let s4 = cfg("S4");
    let d46 = cfg("D46");
    let mut a = mem(&d46);
    let old = create(
        &s4,
        &mut a,
        svc(json!({"ipFamilyPolicy": "PreferDualStack"})),
    )
    .unwrap();
    check_ok(&old, "PreferDualStack", "4", false, "created on S4");
    // Cluster is now dual-stack: restating the policy with identical lists changes nothing.
    let s = update(&d46, &mut a, &old, old.clone()).unwrap();
    check_ok(&s, "PreferDualStack", "4", false, "not upgraded");
    // A PUT omitting ipFamilies is upgraded.
    let s = update(&d46, &mut a, &old, with(&old, |s| s.ip_families = None)).unwrap();
    check_ok(&s, "PreferDualStack", "46", false, "upgraded");
    // A type change runs the full defaulting too.
    let s = update(
        &d46,
        &mut a,
        &old,
        with(&old, |s| s.type_ = Some("NodePort".into())),
    )
    .unwrap();
    check_ok(&s, "PreferDualStack", "46", false, "type change");
    // Cluster lost its second range: two-family services.
    let mut a = mem(&d46);
    let prefer = create(
        &d46,
        &mut a,
        svc(json!({"ipFamilyPolicy": "PreferDualStack"})),
    )
    .unwrap();
    let s = update(&s4, &mut a, &prefer, prefer.clone()).unwrap();
    check_ok(&s, "PreferDualStack", "46", false, "prefer keeps both");
    let require = create(
        &d46,
        &mut a,
        svc(json!({"ipFamilyPolicy": "RequireDualStack"})),
    )
    .unwrap();
    assert_eq!(
        update(&s4, &mut a, &require, require.clone()).unwrap_err(),
        "[spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not configured for dual-stack services, spec.ipFamilies[1]: Invalid value: \"IPv6\": not configured on this cluster]"
    );
    // ...until downgraded; the secondary is not released (family gone), only the service moves.
    let s = update(
        &s4,
        &mut a,
        &require,
        with(&require, |s| {
            s.ip_family_policy = Some("SingleStack".into())
        }),
    )
    .unwrap();
    check_ok(&s, "SingleStack", "4", false, "downgraded");
}

#[test]
fn defaults_and_read_path() {
    let mut s = svc(
        json!({"type": "LoadBalancer", "sessionAffinity": "ClientIP", "ports": [{"port": 443, "targetPort": 0}]}),
    );
    set_defaults(&mut s);
    let sp = spec(&s);
    assert_eq!(
        sp.session_affinity_config
            .as_ref()
            .unwrap()
            .client_ip
            .as_ref()
            .unwrap()
            .timeout_seconds,
        Some(10800)
    );
    assert_eq!(ports(&s)[0].protocol.as_deref(), Some("TCP"));
    assert_eq!(
        ports(&s)[0].target_port,
        Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(443))
    );
    assert_eq!(sp.external_traffic_policy.as_deref(), Some("Cluster"));
    assert_eq!(sp.internal_traffic_policy.as_deref(), Some("Cluster"));
    assert_eq!(sp.allocate_load_balancer_node_ports, Some(true));
    assert_eq!(
        sp.ip_family_policy, None,
        "v1 defaulting sets nothing dual-stack"
    );
    // Read path on legacy objects.
    let d64 = cfg("D64");
    let mut legacy = svc(json!({"clusterIP": "None"}));
    default_on_read(&mut legacy, &d64);
    assert_eq!(
        (policy(&legacy), fams(&legacy)),
        (Some("RequireDualStack"), "64".to_string())
    );
    let mut legacy = svc(json!({"clusterIP": "None", "selector": {"a": "b"}}));
    default_on_read(&mut legacy, &d64);
    assert_eq!(
        (policy(&legacy), fams(&legacy)),
        (Some("SingleStack"), "6".to_string())
    );
    let mut legacy = svc(json!({"clusterIP": V4}));
    default_on_read(&mut legacy, &d64);
    assert_eq!(
        (policy(&legacy), fams(&legacy), cluster_ips(&legacy).len()),
        (Some("SingleStack"), "4".to_string(), 1)
    );
    let mut en = svc(
        json!({"type": "ExternalName", "externalName": "a.b", "internalTrafficPolicy": "Cluster"}),
    );
    default_on_read(&mut en, &d64);
    assert_eq!(spec(&en).internal_traffic_policy, None);
}

#[test]
fn validation_messages() {
    let cfg = cfg("S4");
    let mut a = mem(&cfg);
    let cases = [
        (json!({"ports": []}), "spec.ports: Required value"),
        (json!({"ports": [{"port": 80}, {"port": 81}]}), "[spec.ports[0].name: Required value, spec.ports[1].name: Required value]"),
        (
            json!({"ports": [{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]}),
            "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}",
        ),
        (json!({"ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "a"}]}), "spec.ports[1].name: Duplicate value: \"a\""),
        (json!({"ports": [{"port": 0}]}), "[spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]"),
        (json!({"ports": [{"port": 80, "protocol": "HTTP"}]}), "spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\""),
        (json!({"ports": [{"port": 80, "targetPort": "HTTP"}]}), "[spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), spec.ports[0].targetPort: Invalid value: \"HTTP\": must contain at least one letter (a-z)]"),
        (
            json!({"ports": [{"port": 80, "name": "Web"}]}),
            "spec.ports[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        ),
        (
            json!({"selector": {"app": "-x"}}),
            "spec.selector: Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
        ),
        (json!({"sessionAffinity": "Sticky"}), "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\""),
        (
            json!({"sessionAffinity": "ClientIP", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 0}}}),
            "spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400",
        ),
        (json!({"type": "Magic"}), "spec.type: Unsupported value: \"Magic\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""),
        (json!({"externalIPs": ["127.0.0.1"]}), "spec.externalIPs[0]: Invalid value: \"127.0.0.1\": may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        (json!({"loadBalancerSourceRanges": ["10.0.0.0/8"]}), "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"),
        (json!({"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/33"]}), "spec.LoadBalancerSourceRanges[0]: Invalid value: \"10.0.0.0/33\": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"),
        (json!({"externalTrafficPolicy": "Local"}), "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services"),
        (json!({"type": "NodePort", "externalTrafficPolicy": "Global"}), "spec.externalTrafficPolicy: Unsupported value: \"Global\": supported values: \"Cluster\", \"Local\""),
        (json!({"internalTrafficPolicy": "Node"}), "spec.internalTrafficPolicy: Unsupported value: \"Node\": supported values: \"Cluster\", \"Local\""),
        (json!({"trafficDistribution": "PreferSameZone"}), "spec.trafficDistribution: Unsupported value: \"PreferSameZone\": supported values: \"PreferClose\""),
        (json!({"loadBalancerClass": "x/y"}), "spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"),
    ];
    for (spec, want) in cases {
        assert_eq!(
            create(&cfg, &mut a, svc(spec.clone())).unwrap_err(),
            want,
            "{spec}"
        );
    }
    assert_eq!(
        usage(&a),
        (0, 0, 0),
        "failed creates leave nothing allocated"
    );
}

#[test]
fn warnings_for_non_canonical_ips() {
    let cfg = cfg("D46");
    let mut a = mem(&cfg);
    let s = created("D46", &mut a, json!({"clusterIP": "010.000.000.010"}));
    assert!(a.has_ip(V4.parse().unwrap()), "leading zeros are decimal");
    assert_eq!(
        warnings(&s, None),
        vec!["spec.clusterIPs[0]: non-standard IP address \"010.000.000.010\" will be considered invalid in a future Kubernetes release: use \"10.0.0.10\"".to_string()]
    );
    let s = created("D46", &mut a, json!({"clusterIP": "FD00::0:20"}));
    assert_eq!(
        warnings(&s, None),
        vec!["spec.clusterIPs[0]: IPv6 address \"FD00::0:20\" should be in RFC 5952 canonical format (\"fd00::20\")".to_string()]
    );
    let s = created("D46", &mut a, json!({"clusterIP": "::ffff:10.0.0.30"}));
    assert_eq!(fams(&s), "4", "IPv4-mapped counts as IPv4");
    assert_eq!(
        warnings(&s, None),
        vec!["spec.clusterIPs[0]: non-standard IP address \"::ffff:10.0.0.30\" will be considered invalid in a future Kubernetes release: use \"10.0.0.30\"".to_string()]
    );
    assert!(warnings(&created("D46", &mut a, json!({})), None).is_empty());
}

/// §8.1 rules C1–C12 on hand-built objects (C1 is unreachable through the pipeline because
/// normalization fills `clusterIPs`).
#[test]
fn cluster_ips_rules_c1_to_c12() {
    let v = |spec: Value| -> String {
        let s: Service =
            serde_json::from_value(json!({"metadata": {"name": "web"}, "spec": spec})).unwrap();
        aggregate(&validate_cluster_ips_related_fields(&s))
    };
    assert_eq!(
        v(json!({"clusterIP": V4})),
        "spec.clusterIPs: Required value"
    );
    assert_eq!(
        v(json!({"clusterIP": V4, "clusterIPs": ["10.0.0.11"]})),
        "spec.clusterIPs: Invalid value: []string{\"10.0.0.11\"}: first value must match `clusterIP`"
    );
    assert_eq!(
        v(json!({"clusterIPs": [V4]})),
        "spec.clusterIPs: Invalid value: []string{\"10.0.0.10\"}: must be empty when `clusterIP` is not specified"
    );
    assert_eq!(
        v(json!({"ipFamilies": ["IPv4", "IPv4", "IPv6"]})),
        "spec.ipFamilies[1]: Duplicate value: \"IPv4\""
    );
    assert_eq!(
        v(json!({"ipFamilies": ["IPv4", "IPv6", "IPv5"]})),
        "spec.ipFamilies[2]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\""
    );
    assert_eq!(
        v(json!({"clusterIP": "None", "clusterIPs": ["None", V4]})),
        "spec.clusterIPs: Invalid value: []string{\"None\", \"10.0.0.10\"}: 'None' must be the first and only value"
    );
    assert_eq!(
        v(json!({"clusterIP": V4, "clusterIPs": [V4, "None"]})),
        "spec.clusterIPs[1]: Invalid value: \"None\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    );
    assert_eq!(
        v(json!({"clusterIP": V4, "clusterIPs": [V4, ""]})),
        "spec.clusterIPs[1]: Invalid value: \"\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
    );
    // C9 is still reported after C8; C10 is not.
    assert_eq!(
        v(json!({"clusterIP": V4, "clusterIPs": [V4, V6, "x"]})),
        "[spec.clusterIPs[2]: Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff), spec.clusterIPs: Invalid value: []string{\"10.0.0.10\", \"fd00::10\", \"x\"}: may only hold up to 2 values]"
    );
    assert_eq!(
        v(json!({"clusterIP": V4, "clusterIPs": [V4, V6, "10.0.0.11"]})),
        "spec.clusterIPs: Invalid value: []string{\"10.0.0.10\", \"fd00::10\", \"10.0.0.11\"}: may only hold up to 2 values"
    );
    assert_eq!(
        v(json!({"clusterIP": V6, "clusterIPs": [V6, "fd00::11"]})),
        "spec.clusterIPs: Invalid value: []string{\"fd00::10\", \"fd00::11\"}: may specify no more than one IP for each IP family"
    );
    assert_eq!(
        v(json!({"clusterIP": V4, "clusterIPs": [V4], "ipFamilies": ["IPv6"]})),
        "spec.clusterIPs[0]: Invalid value: \"10.0.0.10\": expected an IPv6 value as indicated by `ipFamilies[0]`"
    );
    assert_eq!(
        v(json!({"clusterIP": V6, "clusterIPs": [V6], "ipFamilies": ["IPv4"]})),
        "spec.clusterIPs[0]: Invalid value: \"fd00::10\": expected an IPv4 value as indicated by `ipFamilies[0]`"
    );
    // Legacy syntax is accepted; IPv4-mapped counts as IPv4.
    assert_eq!(
        v(json!({"clusterIP": "010.0.0.1", "clusterIPs": ["010.0.0.1"], "ipFamilies": ["IPv4"]})),
        ""
    );
    assert_eq!(
        v(
            json!({"clusterIP": "::ffff:10.0.0.1", "clusterIPs": ["::ffff:10.0.0.1"], "ipFamilies": ["IPv4"]})
        ),
        ""
    );
    assert_eq!(
        v(json!({"type": "ExternalName", "clusterIPs": ["x"]})),
        "",
        "skipped for ExternalName"
    );
}

#[test]
fn update_node_ports() {
    let cfg = cfg("S4");
    let mut a = mem(&cfg);
    let old = created(
        "S4",
        &mut a,
        json!({"type": "NodePort", "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}]}),
    );
    let nps: Vec<i32> = ports(&old).iter().map(node_port_of).collect();
    // A PUT that omits the allocated node ports keeps them (patchAllocatedValues).
    let s = update(
        &cfg,
        &mut a,
        &old,
        with(&old, |s| {
            for p in s.ports.as_mut().unwrap() {
                p.node_port = None;
            }
        }),
    )
    .unwrap();
    assert_eq!(ports(&s).iter().map(node_port_of).collect::<Vec<_>>(), nps);
    assert_eq!(a.used_node_ports(), 2);
    // Two ports asking for the same node port on update: upstream's plain error (HTTP 500).
    let np = nps[0];
    let err = update(
        &cfg,
        &mut a,
        &old,
        with(&old, |s| {
            for p in s.ports.as_mut().unwrap() {
                p.node_port = Some(np);
            }
        }),
    )
    .unwrap_err();
    assert_eq!(
        err,
        format!("Internal error occurred: duplicate nodePort: {{TCP {np}}}")
    );
    assert_eq!(a.used_node_ports(), 2, "nothing changed");
    // Dropping a port releases its node port.
    let s = update(
        &cfg,
        &mut a,
        &old,
        with(&old, |s| {
            s.ports.as_mut().unwrap().truncate(1);
        }),
    )
    .unwrap();
    assert_eq!(ports(&s).len(), 1);
    assert!(!a.has_node_port(nps[1]));
    // Health-check node port: allocated when switching to Local, released when leaving it.
    let lb = created("S4", &mut a, json!({"type": "LoadBalancer"}));
    let local = update(
        &cfg,
        &mut a,
        &lb,
        with(&lb, |s| s.external_traffic_policy = Some("Local".into())),
    )
    .unwrap();
    let hc = hc_node_port(&local);
    assert!(a.has_node_port(hc));
    let err = update(
        &cfg,
        &mut a,
        &local,
        with(&local, |s| {
            s.health_check_node_port = Some(if hc == 32767 { 32766 } else { hc + 1 })
        }),
    )
    .unwrap_err();
    assert!(
        err.contains("spec.healthCheckNodePort: Forbidden: field is immutable"),
        "{err}"
    );
    let back = update(
        &cfg,
        &mut a,
        &local,
        with(&local, |s| {
            s.external_traffic_policy = Some("Cluster".into())
        }),
    )
    .unwrap();
    assert_eq!(hc_node_port(&back), 0);
    assert!(!a.has_node_port(hc));
    // Requested health-check port already taken: HTTP 500 with upstream's wording.
    let taken = node_port_of(&ports(&lb)[0]);
    let err = create(&cfg, &mut a, svc(json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": taken}))).unwrap_err();
    assert_eq!(
        err,
        format!("Internal error occurred: failed to allocate requested HealthCheck NodePort {taken}: provided port is already allocated")
    );
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn spec_for(choice: u8) -> Value {
        match choice % 8 {
            0 => json!({}),
            1 => json!({"ipFamilyPolicy": "PreferDualStack"}),
            2 => json!({"ipFamilyPolicy": "RequireDualStack", "type": "NodePort"}),
            3 => {
                json!({"ipFamilies": ["IPv6"], "type": "LoadBalancer", "externalTrafficPolicy": "Local"})
            }
            4 => json!({"clusterIP": "None"}),
            5 => json!({"type": "ExternalName", "externalName": "example.com"}),
            6 => json!({"clusterIP": "10.1.0.3"}),
            _ => {
                json!({"ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv6", "IPv4"], "type": "NodePort"})
            }
        }
    }

    proptest! {
        #[test]
        fn create_delete_never_duplicates(ops in proptest::collection::vec((any::<bool>(), any::<u8>()), 1..60), dual in any::<bool>()) {
            let cidrs: Vec<IpNet> = if dual {
                vec!["10.1.0.0/28".parse().unwrap(), "fd00::/124".parse().unwrap()]
            } else {
                vec!["10.1.0.0/28".parse().unwrap()]
            };
            let cfg = ClusterConfig::new(&cidrs).unwrap();
            let mut a = mem(&cfg);
            let mut live: Vec<Service> = Vec::new();
            for (is_create, choice) in ops {
                if is_create || live.is_empty() {
                    if let Ok(s) = create(&cfg, &mut a, svc(spec_for(choice))) {
                        live.push(s);
                    }
                } else {
                    let s = live.remove(choice as usize % live.len());
                    release(&s, &cfg, &mut a);
                }
                let mut ips: Vec<String> = live.iter().flat_map(|s| cluster_ips(s).to_vec()).filter(|i| i != "None").collect();
                let n = ips.len();
                ips.sort();
                ips.dedup();
                prop_assert_eq!(ips.len(), n, "an address handed out twice");
                prop_assert_eq!((a.used_ips(Family::IPv4) + a.used_ips(Family::IPv6)) as usize, n);
                let mut nps: Vec<i32> = live.iter().flat_map(|s| {
                    let mut v: Vec<i32> = ports(s).iter().map(node_port_of).filter(|p| *p != 0).collect();
                    if hc_node_port(s) != 0 { v.push(hc_node_port(s)); }
                    v
                }).collect();
                let m = nps.len();
                nps.sort();
                nps.dedup();
                prop_assert_eq!(nps.len(), m, "a node port handed out twice");
                prop_assert_eq!(a.used_node_ports() as usize, m);
            }
            for s in live.drain(..) {
                release(&s, &cfg, &mut a);
            }
            prop_assert_eq!(usage(&a), (0, 0, 0));
        }
    }
}

/// §9.4: headless Services may change families; with a selector they must be configured.
#[test]
fn update_headless_families() {
    for c in CLUSTERS {
        let cfg = cfg(c);
        let mut a = mem(&cfg);
        let old = created(c, &mut a, json!({"clusterIP": "None"}));
        let mut flipped = ip_families(&old).to_vec();
        flipped.reverse();
        let want: String = flipped
            .iter()
            .map(|f| if f == "IPv4" { '4' } else { '6' })
            .collect();
        let s = update(
            &cfg,
            &mut a,
            &old,
            with(&old, |s| s.ip_families = Some(flipped.clone())),
        )
        .unwrap();
        check_ok(&s, "RequireDualStack", &want, true, c);
        let sel = created(
            c,
            &mut a,
            json!({"clusterIP": "None", "selector": {"app": "web"}}),
        );
        let other = cfg.primary().other();
        let r = update(
            &cfg,
            &mut a,
            &sel,
            with(&sel, |s| s.ip_families = Some(vec![other.as_str().into()])),
        );
        if cfg.is_dual_stack() {
            check_ok(
                &r.unwrap(),
                "SingleStack",
                if other == Family::IPv4 { "4" } else { "6" },
                true,
                c,
            );
        } else {
            assert_eq!(r.unwrap_err(), format!("spec.ipFamilies[0]: Invalid value: \"{other}\": not configured on this cluster"));
        }
    }
}

#[test]
fn warnings_for_source_ranges_and_names() {
    let mut s = svc(json!({
        "type": "LoadBalancer",
        "externalName": "x.example",
        "loadBalancerSourceRanges": ["10.0.0.1/8", "010.0.0.0/8", "2001:DB8::/64", "10.1.0.0/16"],
    }));
    set_defaults(&mut s);
    assert_eq!(
        warnings(&s, None),
        vec![
            "spec.loadBalancerSourceRanges[0]: CIDR value \"10.0.0.1/8\" is ambiguous in this context (should be \"10.0.0.0/8\" or \"10.0.0.1/32\"?)".to_string(),
            "spec.loadBalancerSourceRanges[1]: non-standard CIDR value \"010.0.0.0/8\" will be considered invalid in a future Kubernetes release: use \"10.0.0.0/8\"".to_string(),
            "spec.loadBalancerSourceRanges[2]: IPv6 CIDR value \"2001:DB8::/64\" should be in RFC 5952 canonical format (\"2001:db8::/64\")".to_string(),
            "spec.externalName is ignored when spec.type is not \"ExternalName\"".to_string(),
        ]
    );
}

/// `dryRun=All` reproduces upstream's dry-run allocators.
#[test]
fn dry_run_create() {
    let cfg = cfg("D46");
    let mut real = mem(&cfg);
    let taken = created(
        "D46",
        &mut real,
        json!({"type": "NodePort", "clusterIP": "10.0.0.1"}),
    );
    let taken_np = node_port_of(&ports(&taken)[0]);
    let mut dry =
        twinstack_core::ipam::DryRunAllocator::new(cfg.ranges(), |p| real.has_node_port(p));
    let mut s = svc(
        json!({"type": "NodePort", "ipFamilyPolicy": "PreferDualStack", "ports": [{"port": 80, "name": "a"}, {"port": 81, "name": "b"}]}),
    );
    set_defaults(&mut s);
    begin_create(&mut s, &cfg, &mut dry).unwrap();
    assert_eq!(
        cluster_ips(&s),
        &["10.0.0.0".to_string(), "fd00::".to_string()]
    );
    assert_eq!(
        ports(&s).iter().map(node_port_of).collect::<Vec<_>>(),
        vec![32769, 32770]
    );
    // An address in use is accepted; a node port in use is not.
    let mut dry =
        twinstack_core::ipam::DryRunAllocator::new(cfg.ranges(), |p| real.has_node_port(p));
    let mut s = svc(json!({"clusterIP": "10.0.0.1"}));
    set_defaults(&mut s);
    assert!(begin_create(&mut s, &cfg, &mut dry).is_ok());
    let mut s = svc(json!({"type": "NodePort", "ports": [{"port": 80, "nodePort": taken_np}]}));
    set_defaults(&mut s);
    assert_eq!(
        render(begin_create(&mut s, &cfg, &mut dry).unwrap_err()),
        format!(
            "spec.ports[0].nodePort: Invalid value: {taken_np}: provided port is already allocated"
        )
    );
    assert_eq!(usage(&real), (1, 0, 1), "dry run changes nothing");
}
