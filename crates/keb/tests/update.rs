mod common;
use common::*;
use serde_json::json;
use twinstack_core::ipam::Family;
use twinstack_keb::{validate_update, KebOptions};

#[test]
fn flipping_dual_stack_never_changes_families() {
    let v4 = ok(AWS, json!({"name": "x", "region": "eu-central-1"}));
    let ds = ok(
        AWS,
        with_networking(AWS, json!({"nodes": "10.250.0.0/20", "dualStack": true})),
    );
    for (stored, flip) in [(&v4, true), (&ds, false)] {
        let params = json!({"networking": {"nodes": "10.250.0.0/20", "dualStack": flip}});
        // Default: KEB accepts the update and ignores networking.
        let out = validate_update(AWS, stored, &params, &KebOptions::default()).unwrap();
        assert_eq!(out.plan.ip_families, stored.ip_families);
        assert_eq!(out.plan.networking, stored.networking);
        assert_eq!(out.ignored_parameters, vec!["networking".to_string()]);
        assert!(out.changed.is_empty());
        assert!(out.new_operation, "KEB answers 202 with an operation");
        let sync = KebOptions {
            sync_empty_update_response: true,
            ..KebOptions::default()
        };
        assert!(
            !validate_update(AWS, stored, &params, &sync)
                .unwrap()
                .new_operation
        );
        // Strict: the update schema has no networking.
        let e = validate_update(AWS, stored, &params, &KebOptions::strict()).unwrap_err();
        assert_eq!(e.status, 400);
        assert_eq!(e.description, "while validating update parameters: at '': additional properties 'networking' not allowed");
        assert_eq!(e.logger_action.as_deref(), Some("validation failed"));
    }
    assert_eq!(ds.ip_families, vec![Family::IPv4, Family::IPv6]);
}

#[test]
fn updatable_parameters_apply() {
    let stored = ok(AWS, json!({"name": "x", "region": "eu-central-1"}));
    let out = validate_update(
        "",
        &stored,
        &json!({"machineType": "m6i.xlarge", "autoScalerMax": 30}),
        &KebOptions::default(),
    )
    .unwrap();
    assert_eq!(out.plan.machine_type.as_deref(), Some("m6i.xlarge"));
    assert_eq!(out.plan.auto_scaler_max, Some(30));
    assert_eq!(
        out.changed,
        vec!["machineType".to_string(), "autoScalerMax".to_string()]
    );
    let e = validate_update(
        AWS,
        &stored,
        &json!({"autoScalerMin": 4, "autoScalerMax": 3}),
        &KebOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.description
            .starts_with("AutoScalerMax 3 should be larger than AutoScalerMin 4"),
        "{}",
        e.description
    );
    let e = validate_update(
        AWS,
        &stored,
        &json!({"autoScalerMin": 1, "autoScalerMax": 1}),
        &KebOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.description
            .starts_with("while validating update parameters:"),
        "{}",
        e.description
    );
    let e =
        validate_update(AWS, &stored, &json!({"name": ""}), &KebOptions::default()).unwrap_err();
    assert_eq!(
        e.description,
        "while validating update parameters: at '/name': minLength: got 0, want 1"
    );
    let e = validate_update(GCP, &stored, &json!({}), &KebOptions::default()).unwrap_err();
    assert_eq!(e.status, 400);
}

#[test]
fn twinstack_families_are_immutable() {
    let v4 = ok(AWS, json!({"name": "x", "region": "eu-central-1"}));
    let e = validate_update(
        AWS,
        &v4,
        &json!({"twinstack": {"ipFamilies": ["IPv4", "IPv6"]}}),
        &KebOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        e.description,
        "spec.networking.ipFamilies: Forbidden: IP families of a Kyma runtime are immutable: the dual-stack feature is only available for newly created Kyma instances (oldIPFamilies=[IPv4], newIPFamilies=[IPv4 IPv6])"
    );
    let e = validate_update(
        AWS,
        &v4,
        &json!({"twinstack": {"ipFamilies": ["IPv6"]}}),
        &KebOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.description, "spec.networking.ipFamilies: Forbidden: unsupported IP family update: oldIPFamilies=[IPv4], newIPFamilies=[IPv6]");
    let same = validate_update(
        AWS,
        &v4,
        &json!({"twinstack": {"ipFamilies": ["IPv4"]}}),
        &KebOptions::strict(),
    )
    .unwrap();
    assert_eq!(same.plan.ip_families, vec![Family::IPv4]);
}
