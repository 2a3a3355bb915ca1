use std::collections::HashSet;
use twinstack_core::runtime::Provider;
use twinstack_keb::plans::PLANS;
use twinstack_keb::{catalog, catalog_with, plan_by_id, plan_by_name, KebOptions, Plan};

#[test]
fn catalog_shape() {
    let c = catalog();
    let svc = &c["services"][0];
    assert_eq!(c["services"].as_array().unwrap().len(), 1);
    assert_eq!(svc["id"], "47c9dcbf-ff30-448e-ab36-d3bad66ba281");
    assert_eq!(svc["name"], "kymaruntime");
    assert_eq!(svc["bindable"], false);
    assert_eq!(svc["plan_updateable"], false);
    let plans = svc["plans"].as_array().unwrap();
    assert_eq!(plans.len(), PLANS.len());
    let ids: HashSet<&str> = plans.iter().map(|p| p["id"].as_str().unwrap()).collect();
    let names: Vec<&str> = plans.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), plans.len(), "plan IDs unique");
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "KEB sorts plans by name");
    for p in plans {
        let info = plan_by_id(p["id"].as_str().unwrap()).unwrap();
        assert_eq!(plan_by_name(info.name).unwrap().id, info.id);
        let create = &p["schemas"]["service_instance"]["create"]["parameters"];
        let update = &p["schemas"]["service_instance"]["update"]["parameters"];
        assert_eq!(create["$schema"], "http://json-schema.org/draft-04/schema#");
        assert!(
            update
                .get("properties")
                .is_none_or(|u| u.get("networking").is_none()),
            "networking is not updatable"
        );
        let net = &create["properties"]["networking"];
        let has_ds = net["properties"].get("dualStack").is_some();
        let want = matches!(
            info.provider_on(Provider::Aws),
            Provider::Aws | Provider::Gcp
        ) && info.plan != Plan::Trial;
        assert_eq!(has_ds, want, "{}", info.name);
        if info.plan == Plan::Trial {
            assert!(net.is_null(), "trial has no networking");
        } else {
            assert_eq!(net["required"], serde_json::json!(["nodes"]));
            assert!(net.get("additionalProperties").is_none());
        }
    }
    let by = |n: &str| plans.iter().find(|p| p["name"] == n).unwrap().clone();
    assert_eq!(by("aws")["id"], "361c511f-f939-4621-b228-d0fb79a1fe15");
    assert_eq!(by("gcp")["id"], "ca6e5357-707f-4565-bbbd-b3ab732597c6");
    assert_eq!(by("azure")["id"], "4deee563-e5ec-4731-b9b1-53b42d855f0c");
    assert_eq!(
        by("azure_lite")["id"],
        "8cb22518-aa26-44c5-91a0-e669ec9bf443"
    );
    assert_eq!(
        by("sap-converged-cloud")["id"],
        "03b812ac-c991-4528-b5bd-08b303523a63"
    );
    assert_eq!(by("trial")["id"], "7d55d31d-35ae-4438-bf13-6ffdfa107d9f");
    assert_eq!(by("free")["id"], "b1a5764e-2ea1-4f95-94c0-2b4538b37b55");
    let aws_net = &by("aws")["schemas"]["service_instance"]["create"]["parameters"]["properties"]
        ["networking"];
    assert_eq!(
        aws_net["properties"]["dualStack"]["title"],
        "Enable dual stack (Istio module doesn't support dual stack)"
    );
    assert_eq!(aws_net["properties"]["nodes"]["default"], "10.250.0.0/16");
    assert!(aws_net["properties"]["dualStack"].get("default").is_none());
    assert_eq!(Plan::Gcp.provider(), Provider::Gcp);
    assert_eq!(Plan::SapConvergedCloud.provider(), Provider::Openstack);
}

#[test]
fn strict_catalog_closes_schemas() {
    let c = catalog_with(&KebOptions::strict());
    for p in c["services"][0]["plans"].as_array().unwrap() {
        let create = &p["schemas"]["service_instance"]["create"]["parameters"];
        assert_eq!(create["additionalProperties"], false);
        if let Some(net) = create["properties"].get("networking") {
            assert_eq!(net["additionalProperties"], false);
        }
    }
    // Azure platform: free offers no dualStack.
    let az = catalog_with(&KebOptions {
        platform_provider: Provider::Azure,
        ..KebOptions::default()
    });
    let free = az["services"][0]["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "free")
        .unwrap()
        .clone();
    assert!(
        free["schemas"]["service_instance"]["create"]["parameters"]["properties"]["networking"]
            ["properties"]
            .get("dualStack")
            .is_none()
    );
}
