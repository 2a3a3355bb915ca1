use proptest::prelude::*;
use serde_json::{json, Value};
use twinstack_keb::plans::PLANS;
use twinstack_keb::{shoot_networking, validate_provision, validate_update, KebOptions};

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[ -~]{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("10.250.0.0/16"),
            Just("10.250.0.1/22"),
            Just("fd00::/16"),
            Just("1abcd"),
            Just("0.0.0.0/0"),
            Just("::/0"),
            Just("10.96.0.0/13"),
            Just("240.0.0.0/4"),
            Just("255.255.255.255/32"),
            Just("10.0.0.0/016"),
            Just("IPv4"),
            Just("IPv6"),
            Just("eu-central-1"),
            Just("europe-west3"),
            Just("2600:1f18::/56"),
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    let keys = prop_oneof![
        Just("name"),
        Just("region"),
        Just("networking"),
        Just("nodes"),
        Just("pods"),
        Just("services"),
        Just("dualStack"),
        Just("zones"),
        Just("twinstack"),
        Just("ipFamilies"),
        Just("ipv6"),
        Just("machineType"),
        Just("autoScalerMin"),
        Just("autoScalerMax"),
        Just("Networking"),
        Just("x"),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|kv| Value::Object(
                kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
            )),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn validate_provision_never_panics(params in arb_json(), plan_ix in 0usize..PLANS.len(), strict in any::<bool>()) {
        let opts = if strict { KebOptions::strict() } else { KebOptions::default() };
        let plan = &PLANS[plan_ix];
        match validate_provision(plan.id, &params, &opts) {
            Ok(p) => {
                let s = shoot_networking(&p, "prop");
                let _ = s.to_network();
                let _ = twinstack_keb::kube_dns_service(&s);
                let _ = twinstack_keb::provisioning_info_configmap(&p, &s, &Default::default());
                let out = validate_update(plan.id, &p, &params, &opts);
                if let Ok(o) = out {
                    prop_assert_eq!(o.plan.ip_families, p.ip_families);
                }
            }
            Err(e) => {
                prop_assert!(e.status == 400 || e.status == 422);
                prop_assert!(!e.description.is_empty());
            }
        }
    }
}

fn arb_cidr() -> impl Strategy<Value = Value> {
    prop_oneof![
        (any::<[u8; 4]>(), 0u8..=33)
            .prop_map(|(a, p)| json!(format!("{}.{}.{}.{}/{p}", a[0], a[1], a[2], a[3]))),
        (any::<u128>(), 0u8..=129)
            .prop_map(|(a, p)| json!(format!("{}/{p}", std::net::Ipv6Addr::from(a)))),
        Just(json!("10.250.0.0/20")),
        Just(json!("2600:1f18:aa:100::/56")),
        Just(json!("2600:1f18:aa:100::/108")),
        Just(json!("ffff:ffff:ffff:ffff::/64")),
        Just(json!(null)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]
    /// Near-valid requests reach the Ok path; whatever is accepted yields consistent shoots.
    #[test]
    fn accepted_requests_give_consistent_networks(
        plan_ix in 0usize..PLANS.len(),
        nodes in arb_cidr(), pods in arb_cidr(), services in arb_cidr(),
        dual in prop::option::of(any::<bool>()),
        fams in prop::option::of(prop::sample::select(vec![json!(["IPv4"]), json!(["IPv6"]), json!(["IPv4","IPv6"]), json!(["IPv6","IPv4"]), json!(["IPv5"]), json!([])])),
        v6nodes in arb_cidr(), v6services in arb_cidr(),
        with_net in any::<bool>(), strict in any::<bool>(), idx in any::<u32>(),
    ) {
        let plan = &PLANS[plan_ix];
        let region = plan.regions[0];
        let mut params = json!({"name": "kyma-1", "region": region});
        if with_net {
            let mut net = json!({"nodes": nodes, "pods": pods, "services": services});
            if let Some(d) = dual { net["dualStack"] = json!(d); }
            params["networking"] = net;
        }
        if let Some(f) = fams {
            params["twinstack"] = json!({"ipFamilies": f, "ipv6": {"nodes": v6nodes, "services": v6services}});
        }
        let opts = if strict { KebOptions::strict() } else { KebOptions::default() };
        if let Ok(p) = validate_provision(plan.id, &params, &opts) {
            let s = shoot_networking(&p, "prop");
            prop_assert_eq!(&s.families, &p.ip_families);
            prop_assert_eq!(s.status.nodes.len(), p.ip_families.len());
            let n = s.to_network();
            prop_assert_eq!(n.services.len(), p.ip_families.len());
            let _ = s.node_ipv6(idx as usize, idx);
            let _ = twinstack_keb::kube_dns_service(&s);
            let _ = twinstack_keb::provisioning_info_configmap(&p, &s, &Default::default());
            let flip = json!({"networking": {"nodes": "10.250.0.0/16", "dualStack": !p.networking.dual_stack}});
            if let Ok(o) = validate_update(plan.id, &p, &flip, &KebOptions::default()) {
                prop_assert_eq!(o.plan.ip_families, p.ip_families);
            }
        }
    }
}
