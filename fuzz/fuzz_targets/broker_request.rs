//! Broker request bodies never panic: brokerapi's decoding of a provisioning, update or bind
//! body, KEB's validation for the plan the body names (default and strict mode) and its bind
//! rules, the runtime name from any instance ID, the networking of the runtime it would make,
//! the runtimes API's query, and bound ServiceAccount tokens.
//!
//! Input: one flags byte (bit 0: strict mode, bits 1-2: 0 provision, 1 update, 2 bind, 3 the
//! body as a `/runtimes` query string and as a bearer token), the instance ID up to the first
//! NUL byte, then the body.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use twinstack_keb::{KebOptions, ProvisionPlan};

/// The runtime an update applies to: an AWS dual-stack runtime.
fn stored() -> &'static ProvisionPlan {
    static PLAN: OnceLock<ProvisionPlan> = OnceLock::new();
    PLAN.get_or_init(|| {
        let params = serde_json::json!({"name": "fuzz", "region": "eu-central-1",
            "networking": {"nodes": "10.250.0.0/20", "dualStack": true}});
        twinstack_keb::validate_provision(
            "361c511f-f939-4621-b228-d0fb79a1fe15",
            &params,
            &KebOptions::default(),
        )
        .expect("a valid AWS request")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((flags, rest)) = data.split_first() else {
        return;
    };
    let (id, body) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&b""[..], rest),
    };
    let id = String::from_utf8_lossy(id);
    let opts = if flags & 1 == 1 {
        KebOptions::strict()
    } else {
        KebOptions::default()
    };
    match (flags >> 1) & 3 {
        0 => {
            let Ok(d) = twinstack_keb::provision_details(body) else {
                return;
            };
            let Ok(plan) = twinstack_keb::validate_provision(&d.plan_id, &d.parameters, &opts)
            else {
                return;
            };
            let name = twinstack_keb::runtime_name(&id);
            assert!(twinstack_core::runtime::validate_runtime_name(&name).is_ok());
            let shoot = twinstack_keb::shoot_networking(&plan, &name);
            let _ = shoot.to_network();
            let _ = twinstack_keb::kube_dns_service(&shoot);
        }
        1 => {
            if let Ok(d) = twinstack_keb::update_details(body) {
                let _ = twinstack_keb::validate_update(&d.plan_id, stored(), &d.parameters, &opts);
            }
        }
        2 => {
            use twinstack_keb::binding::*;
            let Ok(d) = bind_details(body) else {
                return;
            };
            let facts = BindFacts {
                plan_bindable: true,
                last: LastOperation::Other,
                instance_id: &id,
                existing: None,
                bindings_of_instance: &[],
                now: 0,
            };
            if let Ok(BindDecision::Create { expiration_seconds, .. }) =
                decide(&BindingConfig::default(), &d, &facts)
            {
                assert!((600..=7200).contains(&expiration_seconds));
            }
        }
        _ => {
            let text = String::from_utf8_lossy(body);
            let pairs = twinstack_keb::endpoints::query_pairs(&text);
            let _ = twinstack_keb::endpoints::runtimes::RuntimesQuery::parse(&pairs);
            let signer = twinstack_registry::tokens::TokenSigner::new(b"fuzz");
            assert!(signer.verify(&text).is_none());
        }
    }
});
