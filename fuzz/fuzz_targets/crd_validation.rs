//! CRDs and custom resources: any CRD body goes through defaulting and validation (structural
//! rules, CEL compilation), and any instance through pruning, defaulting, schema and CEL
//! validation against each of its versions' schemas, without a panic; pruning is idempotent.
#![no_main]
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use libfuzzer_sys::fuzz_target;
use twinstack_kube::apiextensions::{prepare, validate_instance, validation};

fuzz_target!(|data: &[u8]| {
    // Two JSON documents separated by a NUL byte: the CRD, then the instance.
    let mut parts = data.splitn(2, |b| *b == 0);
    let (Some(crd), Some(obj)) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(mut crd) = serde_json::from_slice::<CustomResourceDefinition>(crd) else {
        return;
    };
    validation::set_defaults(&mut crd);
    let _ = validation::validate(&crd);
    let Ok(obj) = serde_json::from_slice::<serde_json::Value>(obj) else {
        return;
    };
    for v in &crd.spec.versions {
        let Some(schema) = v.schema.as_ref().and_then(|s| s.open_api_v3_schema.as_ref()) else {
            continue;
        };
        let mut o = obj.clone();
        prepare(&mut o, schema);
        let mut again = o.clone();
        assert!(prepare(&mut again, schema).is_empty(), "pruning is idempotent");
        let _ = validate_instance(&o, Some(&obj), schema);
        let _ = validate_instance(&o, None, schema);
    }
});
