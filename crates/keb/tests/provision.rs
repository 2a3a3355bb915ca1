mod common;
use common::*;
use serde_json::json;
use twinstack_core::ipam::Family;
use twinstack_keb::{validate_provision, KebOptions, Plan};

/// Every networking message of KEB's `validateNetworking`, with the input that produces it.
#[test]
fn keb_networking_messages_table() {
    let cases: Vec<(serde_json::Value, Vec<&str>)> = vec![
        (
            json!({"nodes": "1abcd"}),
            vec!["while parsing nodes CIDR: invalid CIDR address: 1abcd"],
        ),
        (
            json!({"nodes": "10.250.0.1/22"}),
            vec!["while parsing nodes CIDR: 10.250.0.1 must be valid canonical CIDR"],
        ),
        (
            json!({"nodes": "10.250.0.0/24"}),
            vec!["the suffix of the node CIDR must not be greater than 23"],
        ),
        (
            json!({"dualStack": true}),
            vec!["while parsing nodes CIDR: invalid CIDR address: "],
        ),
        (
            json!({"nodes": "10.250.0.0/16", "pods": "10abcd/16"}),
            vec!["while parsing pods CIDR: invalid CIDR address: 10abcd/16"],
        ),
        (
            json!({"nodes": "10.250.0.0/16", "pods": "10.96.0.1/13"}),
            vec!["while parsing pods CIDR: 10.96.0.1 must be valid canonical CIDR"],
        ),
        (
            json!({"nodes": "10.250.0.0/16", "services": "10.104.0.0/33"}),
            vec!["while parsing services CIDR: invalid CIDR address: 10.104.0.0/33"],
        ),
        (
            json!({"nodes": "10.243.128.0/18"}),
            vec![
                "nodes CIDR must not overlap 10.243.128.0/17",
                "nodes CIDR must not overlap 10.243.0.0/16",
            ],
        ),
        (
            json!({"nodes": "10.242.0.0/20"}),
            vec!["nodes CIDR must not overlap 10.242.0.0/16"],
        ),
        (
            json!({"nodes": "10.250.0.0/16", "services": "10.64.0.0/16"}),
            vec!["services CIDR must not overlap 10.64.0.0/11"],
        ),
        (
            json!({"nodes": "10.250.0.0/16", "pods": "10.254.0.0/16"}),
            vec!["pods CIDR must not overlap 10.254.0.0/16"],
        ),
        (
            json!({"nodes": "192.168.122.0/23"}),
            vec!["nodes CIDR must not overlap 192.168.123.0/24"],
        ),
        (
            json!({"nodes": "10.250.0.0/16", "pods": "240.0.0.0/16"}),
            vec!["pods CIDR must not overlap 240.0.0.0/8"],
        ),
        (
            json!({"nodes": "10.96.0.0/16"}),
            vec!["nodes CIDR must not overlap pods CIDR"],
        ),
        (
            json!({"nodes": "10.104.0.0/16"}),
            vec!["nodes CIDR must not overlap serivces CIDR"],
        ),
        (
            json!({"nodes": "10.250.0.0/16", "pods": "10.104.0.0/13"}),
            vec!["services CIDR must not overlap pods CIDR"],
        ),
    ];
    for plan in [AWS, GCP, AZURE] {
        for (net, want) in &cases {
            let e = err(plan, with_networking(plan, net.clone()));
            assert_eq!(e.status, 400, "{net}");
            assert_eq!(e.error, None);
            assert_eq!(e.description, multi(want), "{net}");
            assert_eq!(e.body(), json!({"description": multi(want)}));
        }
    }
}

#[test]
fn order_of_networking_checks() {
    // Parse errors and the /23 rule are collected together (canonical + suffix) ...
    let e = err(AWS, with_networking(AWS, json!({"nodes": "10.250.0.1/24"})));
    assert_eq!(
        e.description,
        multi(&[
            "while parsing nodes CIDR: 10.250.0.1 must be valid canonical CIDR",
            "the suffix of the node CIDR must not be greater than 23"
        ])
    );
    // ... and stop before the seed checks.
    let e = err(
        AWS,
        with_networking(AWS, json!({"nodes": "1abcd", "pods": "10.64.0.0/16"})),
    );
    assert_eq!(
        e.description,
        multi(&["while parsing nodes CIDR: invalid CIDR address: 1abcd"])
    );
    // Seed checks: per seed in KEB's list, nodes, services, pods.
    let e = err(
        AWS,
        with_networking(
            AWS,
            json!({"nodes": "10.242.0.0/16", "pods": "10.243.128.0/17"}),
        ),
    );
    assert_eq!(
        e.description,
        multi(&[
            "pods CIDR must not overlap 10.243.128.0/17",
            "nodes CIDR must not overlap 10.242.0.0/16",
            "pods CIDR must not overlap 10.243.0.0/16",
        ])
    );
    // Seed overlaps stop before the mutual checks.
    let e = err(
        AWS,
        with_networking(
            AWS,
            json!({"nodes": "10.64.0.0/16", "pods": "10.64.0.0/16"}),
        ),
    );
    assert_eq!(
        e.description,
        multi(&[
            "nodes CIDR must not overlap 10.64.0.0/11",
            "pods CIDR must not overlap 10.64.0.0/11"
        ])
    );
    // A wide range hits every seed in the 10/8, in KEB's list order.
    let e = err(AWS, with_networking(AWS, json!({"nodes": "10.0.0.0/8"})));
    assert_eq!(
        e.description,
        multi(&[
            "nodes CIDR must not overlap 10.243.128.0/17",
            "nodes CIDR must not overlap 10.242.0.0/16",
            "nodes CIDR must not overlap 10.243.0.0/17",
            "nodes CIDR must not overlap 10.64.0.0/11",
            "nodes CIDR must not overlap 10.254.0.0/16",
            "nodes CIDR must not overlap 10.243.0.0/16",
        ])
    );
    // All mutual overlaps at once, in KEB's order.
    let e = err(
        AWS,
        with_networking(
            AWS,
            json!({"nodes": "10.96.0.0/12", "pods": "10.96.0.0/13", "services": "10.100.0.0/14"}),
        ),
    );
    assert_eq!(
        e.description,
        multi(&[
            "nodes CIDR must not overlap pods CIDR",
            "nodes CIDR must not overlap serivces CIDR",
            "services CIDR must not overlap pods CIDR",
        ])
    );
    // Networking comes before the auto-scaler and the schema. The auto-scaler check builds a
    // 422 inside `validate`, but `Provision` wraps it in a 400 (brokerapi answers the outer status).
    let p = json!({"name": "x", "region": "nowhere", "autoScalerMin": 10, "autoScalerMax": 5, "networking": {"nodes": "1abcd"}});
    assert_eq!(
        err(AWS, p).description,
        multi(&["while parsing nodes CIDR: invalid CIDR address: 1abcd"])
    );
    let p = json!({"name": "x", "region": "nowhere", "autoScalerMin": 10, "autoScalerMax": 5});
    let e = err(AWS, p);
    assert_eq!(e.status, 400);
    assert_eq!(e.description, "AutoScalerMax 5 should be larger than AutoScalerMin 10. User provided values min:10, max:5; plan defaults min:3, max:20");
    let e = err(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "autoScalerMin": 30}),
    );
    assert_eq!(e.description, "AutoScalerMax 20 should be larger than AutoScalerMin 30. User provided values min:30, max:<nil>; plan defaults min:3, max:20");
    // Go decoding comes first of all.
    let e = err(AWS, json!({"name": "x", "networking": {"nodes": 5}}));
    assert_eq!(
        e.description,
        "while unmarshaling raw parameters: json: cannot unmarshal number into Go struct field NetworkingDTO.networking.nodes of type string"
    );
    let e = err(
        AWS,
        json!({"networking": {"nodes": "1abcd", "dualStack": "true"}}),
    );
    assert_eq!(
        e.description,
        "while unmarshaling raw parameters: json: cannot unmarshal string into Go struct field NetworkingDTO.networking.dualStack of type bool"
    );
    let e = err(AWS, json!({"autoScalerMin": "3"}));
    assert_eq!(
        e.description,
        "while unmarshaling raw parameters: json: cannot unmarshal string into Go struct field AutoScalerParameters.autoScalerMin of type int"
    );
    let e = err(AWS, json!([1]));
    assert_eq!(e.description, "while unmarshaling raw parameters: json: cannot unmarshal array into Go value of type runtime.ProvisioningParametersDTO");
}

#[test]
fn zones_limit_only_with_networking() {
    let zones = json!(["a", "b", "c", "d", "e"]);
    let e = err(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "zones": zones, "networking": {"nodes": "10.250.0.0/16"}}),
    );
    assert_eq!(
        e.description,
        multi(&["number of zones must not be greater than 4"])
    );
    let e = err(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "zones": zones, "networking": {"nodes": "1abcd"}}),
    );
    assert_eq!(
        e.description,
        multi(&[
            "number of zones must not be greater than 4",
            "while parsing nodes CIDR: invalid CIDR address: 1abcd"
        ])
    );
    // KEB returns nil before looking at networking when there is none: accepted.
    let p = ok(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "zones": zones}),
    );
    assert_eq!(p.zones.len(), 5);
}

#[test]
fn logger_action_carries_instance_id() {
    let opts = KebOptions {
        instance_id: "inst-1".into(),
        ..KebOptions::default()
    };
    let e = validate_provision(
        AWS,
        &with_networking(AWS, json!({"nodes": "10.250.0.0/24"})),
        &opts,
    )
    .unwrap_err();
    assert_eq!(
        e.logger_action.as_deref(),
        Some("[instanceID: inst-1] 1 error occurred:\n\t* the suffix of the node CIDR must not be greater than 23\n\n")
    );
    assert!(!e.body().to_string().contains("instanceID"));
}

#[test]
fn unknown_plan_and_schema_errors() {
    let e = err("nope", json!({}));
    assert_eq!(
        (e.status, e.description.as_str()),
        (400, "plan ID \"nope\" is not recognized")
    );
    let e = err(AWS, json!({}));
    assert_eq!(
        e.description,
        "while validating input parameters: at '': missing properties 'name', 'region'"
    );
    let e = err(AWS, json!({"name": "x", "region": "europe-west3"}));
    assert!(e.description.starts_with("while validating input parameters: at '/region': value must be one of 'eu-central-1', 'eu-west-2',"), "{}", e.description);
    let e = err(GCP, json!({"name": "x", "region": "eu-central-1"}));
    assert!(e.description.starts_with(
        "while validating input parameters: at '/region': value must be one of 'europe-west3'"
    ));
    let e = err(AWS, json!({"name": "my_kyma", "region": "eu-central-1"}));
    assert_eq!(e.description, "while validating input parameters: at '/name': 'my_kyma' does not match pattern '^[a-zA-Z0-9-]*$'");
    let e = err(AWS, json!({"name": "", "region": "eu-central-1"}));
    assert_eq!(
        e.description,
        "while validating input parameters: at '/name': minLength: got 0, want 1"
    );
    let e = err(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "machineType": "n2-standard-4"}),
    );
    assert!(e.description.starts_with(
        "while validating input parameters: at '/machineType': value must be one of 'm6i.large'"
    ));
    let e = err(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "autoScalerMin": 1}),
    );
    assert_eq!(
        e.description,
        "while validating input parameters: at '/autoScalerMin': minimum: got 1, want 3"
    );
    // Schema: networking requires nodes (only reachable through the schema when nodes parses).
    let e = err(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "networking": {"nodes": null}}),
    );
    assert_eq!(
        e.description,
        multi(&["while parsing nodes CIDR: invalid CIDR address: "])
    );
}

#[test]
fn strict_mode_refuses_unknown_properties() {
    let p = json!({"name": "x", "region": "eu-central-1", "foo": 1, "networking": {"nodes": "10.250.0.0/16", "bar": true}});
    ok(AWS, p.clone());
    let e = err_strict(AWS, p);
    assert_eq!(
        e.description,
        "while validating input parameters: at '/networking': additional properties 'bar' not allowed, at '': additional properties 'foo' not allowed"
    );
    // The twinstack object is not a KEB parameter: exempt in strict mode.
    ok_strict(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "twinstack": {"ipFamilies": ["IPv4"]}}),
    );
}

#[test]
fn dual_stack_per_plan_default_and_strict() {
    let ds = json!({"nodes": "10.250.0.0/20", "dualStack": true});
    for plan in [AWS, GCP] {
        for p in [
            ok(plan, with_networking(plan, ds.clone())),
            ok_strict(plan, with_networking(plan, ds.clone())),
        ] {
            assert_eq!(p.ip_families, vec![Family::IPv4, Family::IPv6]);
            assert!(p.networking.dual_stack);
            assert!(p.ignored_parameters.is_empty());
        }
    }
    // Free on the AWS platform offers dual stack (on create).
    let p = ok(FREE, with_networking(AWS, ds.clone()));
    assert_eq!(p.ip_families, vec![Family::IPv4, Family::IPv6]);
    for plan in [AZURE, AZURE_LITE, SCC] {
        let p = ok(plan, with_networking(plan, ds.clone()));
        assert_eq!(p.ip_families, vec![Family::IPv4], "silently dropped");
        assert!(!p.networking.dual_stack);
        assert_eq!(
            p.ignored_parameters,
            vec!["networking.dualStack".to_string()]
        );
        let e = err_strict(plan, with_networking(plan, ds.clone()));
        assert_eq!(e.status, 400);
        assert_eq!(e.description, "while validating input parameters: at '/networking': additional properties 'dualStack' not allowed");
    }
    // Free on an Azure platform: no dual stack.
    let azure_platform = KebOptions {
        platform_provider: twinstack_core::runtime::Provider::Azure,
        ..KebOptions::default()
    };
    let p = validate_provision(FREE, &with_networking(AZURE, ds.clone()), &azure_platform).unwrap();
    assert_eq!(
        (p.provider, p.ip_families.clone()),
        (twinstack_core::runtime::Provider::Azure, vec![Family::IPv4])
    );
    // dualStack false or absent: IPv4 only.
    let p = ok(
        AWS,
        with_networking(AWS, json!({"nodes": "10.250.0.0/20", "dualStack": false})),
    );
    assert_eq!(p.ip_families, vec![Family::IPv4]);
    let p = ok(AWS, json!({"name": "x", "region": "eu-central-1"}));
    assert_eq!(p.ip_families, vec![Family::IPv4]);
    assert!(!p.networking.custom);
    assert_eq!(p.networking.nodes.to_string(), "10.250.0.0/16");
    assert_eq!(p.networking.pods.to_string(), "10.96.0.0/13");
    assert_eq!(p.networking.services.to_string(), "10.104.0.0/13");
    assert_eq!(p.machine_type.as_deref(), Some("m6i.large"));
    assert_eq!((p.auto_scaler_min, p.auto_scaler_max), (Some(3), Some(20)));
    assert_eq!(
        p.zones,
        vec!["eu-central-1a", "eu-central-1b", "eu-central-1c"]
    );
    assert!(p.aws_ipv4_exception_check());
}

trait Exception {
    fn aws_ipv4_exception_check(&self) -> bool;
}
impl Exception for twinstack_keb::ProvisionPlan {
    fn aws_ipv4_exception_check(&self) -> bool {
        self.aws_ipv6_ingress_exception()
    }
}

/// Trial: KEB's trial schema has no `networking`, but only strict mode closes it; in default
/// mode KEB validates the ranges and `createNetworkingConfiguration` uses them, `dualStack`
/// included (the trial provider, AWS, has the dual-stack flag).
#[test]
fn trial_networking_as_keb() {
    let p = ok(TRIAL, json!({"name": "x"}));
    assert_eq!(
        (p.plan, p.region.as_str(), p.machine_type.clone()),
        (Plan::Trial, "eu-west-1", None)
    );
    let net = json!({"name": "x", "networking": {"nodes": "10.250.0.0/20", "dualStack": true}});
    let p = ok(TRIAL, net.clone());
    assert_eq!(p.networking.nodes.to_string(), "10.250.0.0/20");
    assert_eq!(p.ip_families, vec![Family::IPv4, Family::IPv6]);
    let e = err_strict(TRIAL, net);
    assert_eq!((e.status, e.description.as_str()), (400, "while validating input parameters: at '': additional properties 'networking' not allowed"));
    let e = err(
        TRIAL,
        json!({"name": "x", "networking": {"nodes": "1abcd"}}),
    );
    assert_eq!(
        e.description,
        multi(&["while parsing nodes CIDR: invalid CIDR address: 1abcd"])
    );
    let e = err(TRIAL, json!({"name": "x", "region": "mars"}));
    assert_eq!(
        (e.status, e.description.as_str()),
        (400, "invalid region specified in request for trial")
    );
    assert_eq!(
        ok(TRIAL, json!({"name": "x", "region": "us"})).region,
        "us-east-1"
    );
    assert_eq!(
        ok(TRIAL, json!({"name": "x", "region": "europe"})).region,
        "eu-west-1"
    );
    let o = KebOptions {
        platform_region: Some("cf-eu11".into()),
        ..KebOptions::default()
    };
    assert_eq!(
        validate_provision(TRIAL, &json!({"name": "x", "region": "us"}), &o)
            .unwrap()
            .region,
        "eu-central-1"
    );
}

#[test]
fn go_decoding_is_case_insensitive_like_encoding_json() {
    let p = ok(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "Networking": {"Nodes": "10.250.0.0/20", "DUALSTACK": true}}),
    );
    assert_eq!(p.ip_families, vec![Family::IPv4, Family::IPv6]);
    assert_eq!(p.networking.nodes.to_string(), "10.250.0.0/20");
    let e = err_strict(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "Networking": {"nodes": "10.250.0.0/20"}}),
    );
    assert_eq!(
        e.description,
        "while validating input parameters: at '': additional properties 'Networking' not allowed"
    );
}

#[test]
fn twinstack_families_and_ranges() {
    let base =
        |ext: serde_json::Value| json!({"name": "x", "region": "eu-central-1", "twinstack": ext});
    let gbase =
        |ext: serde_json::Value| json!({"name": "x", "region": "europe-west3", "twinstack": ext});
    let fams = |f: serde_json::Value| json!({"ipFamilies": f});
    assert_eq!(
        ok(AWS, base(fams(json!(["IPv4"])))).ip_families,
        vec![Family::IPv4]
    );
    assert_eq!(
        ok(AWS, base(fams(json!(["IPv6"])))).ip_families,
        vec![Family::IPv6]
    );
    assert_eq!(
        ok(AWS, base(fams(json!(["IPv6", "IPv4"])))).ip_families,
        vec![Family::IPv6, Family::IPv4]
    );
    assert_eq!(
        ok(GCP, gbase(fams(json!(["IPv4", "IPv6"])))).ip_families,
        vec![Family::IPv4, Family::IPv6]
    );
    assert_eq!(
        ok(AWS, base(fams(json!([])))).ip_families,
        vec![Family::IPv4]
    );
    assert_eq!(
        err(GCP, gbase(fams(json!(["IPv6"])))).description,
        "IPv6 single-stack networking is not supported"
    );
    assert_eq!(
        err(AWS, base(fams(json!(["IPv5"])))).description,
        "spec.networking.ipFamilies[0]: Unsupported value: \"IPv5\": supported values: \"IPv4\", \"IPv6\""
    );
    assert_eq!(
        err(AWS, base(fams(json!(["IPv4", "IPv4"])))).description,
        "spec.networking.ipFamilies[1]: Duplicate value: \"IPv4\""
    );
    assert_eq!(
        err(AZURE, json!({"name": "x", "region": "westeurope", "twinstack": {"ipFamilies": ["IPv4", "IPv6"]}})).description,
        "IPv6 is not available on azure: Kyma runtimes support dual stack only on aws and gcp"
    );
    let e = err(
        AWS,
        json!({"name": "x", "region": "eu-central-1", "networking": {"nodes": "10.250.0.0/20", "dualStack": true}, "twinstack": {"ipFamilies": ["IPv4"]}}),
    );
    assert_eq!(e.description, "parameters.twinstack.ipFamilies: Invalid value: [\"IPv4\"]: contradicts networking.dualStack: true");
    // Explicit IPv6 ranges.
    let p = ok(
        AWS,
        base(
            json!({"ipFamilies": ["IPv4", "IPv6"], "ipv6": {"nodes": "2600:1f18:aa:100::/56", "services": "2600:1f18:aa:100::10:0/108"}}),
        ),
    );
    assert_eq!(p.ipv6.nodes.unwrap().to_string(), "2600:1f18:aa:100::/56");
    let e = err(
        AWS,
        base(
            json!({"ipFamilies": ["IPv4", "IPv6"], "ipv6": {"services": "2600:1f18::1/108", "pods": "10.0.0.0/8", "nodes": "2600:1f18::/40"}}),
        ),
    );
    assert_eq!(
        e.description,
        "[spec.networking.services: Invalid value: \"2600:1f18::1/108\": must be valid canonical CIDR, spec.networking.pods: Invalid value: \"10.0.0.0/8\": must be an IPv6 CIDR]"
    );
    let e = err(
        AWS,
        base(json!({"ipFamilies": ["IPv4", "IPv6"], "ipv6": {"services": "2600:1f18::/100"}})),
    );
    assert!(e.description.contains("the mask must be >= 108"));
    let e = err(AWS, base(json!({"ipv6": {"services": "2600:1f18::/108"}})));
    assert_eq!(
        e.description,
        "parameters.twinstack.ipv6: Forbidden: IPv6 ranges need IPv6 in ipFamilies"
    );
    // KEB's own ranges must stay IPv4 (Go parses IPv6 and /16 passes the /23 rule).
    let e = err(AWS, with_networking(AWS, json!({"nodes": "fd00::/16"})));
    assert!(
        e.description
            .starts_with("spec.networking.nodes: Invalid value: \"fd00::/16\""),
        "{}",
        e.description
    );
}
