use super::*;
use serde_json::json;

#[test]
fn endpoints_and_slice_as_the_reconciler_writes_them() {
    let v4 = advertise_address(false);
    assert_eq!(
        serde_json::to_value(master_endpoints(v4)).unwrap(),
        json!({"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": "kubernetes", "namespace": "default",
                "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
            "subsets": [{"addresses": [{"ip": "203.0.113.10"}],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]}]})
    );
    assert_eq!(
        serde_json::to_value(master_endpoint_slice(v4)).unwrap(),
        json!({"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": "kubernetes", "namespace": "default",
                "labels": {"kubernetes.io/service-name": "kubernetes"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["203.0.113.10"], "conditions": {"ready": true}}],
            "ports": [{"name": "https", "port": 443, "protocol": "TCP"}]})
    );
    let v6 = advertise_address(true);
    assert_eq!(v6.to_string(), "2001:db8::443");
    assert_eq!(master_endpoint_slice(v6).address_type, "IPv6");
}

#[test]
fn existing_objects_are_reset_only_when_they_differ() {
    let v4 = advertise_address(false);
    let v6 = advertise_address(true);
    let mut ep = master_endpoints(v4);
    ep.metadata.uid = Some("u".into());
    assert_eq!(endpoints_update(&ep, v4), None);
    let moved = endpoints_update(&ep, v6).unwrap();
    assert_eq!(moved.metadata.uid.as_deref(), Some("u"));
    assert_eq!(moved.subsets, master_endpoints(v6).subsets);
    let mut edited = ep.clone();
    edited.metadata.labels = None;
    assert!(endpoints_update(&edited, v4).is_some());

    let slice = master_endpoint_slice(v4);
    assert_eq!(endpoint_slice_update(&slice, v4), SliceChange::None);
    assert_eq!(
        endpoint_slice_update(&slice, v6),
        SliceChange::Recreate(master_endpoint_slice(v6))
    );
    let mut stale = slice.clone();
    stale.ports = None;
    assert!(matches!(
        endpoint_slice_update(&stale, v4),
        SliceChange::Update(_)
    ));
}

#[test]
fn service_ports_are_checked_as_check_service_format() {
    assert!(master_service_ports_correct(&master_service_ports()));
    let mut old = master_service_ports();
    old[0].target_port = Some(IntOrString::Int(6443));
    assert!(!master_service_ports_correct(&old));
    assert!(!master_service_ports_correct(&[]));
}
