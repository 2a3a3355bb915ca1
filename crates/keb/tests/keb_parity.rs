//! KEB parity of the request rules added for issue items 3 and 4: each case asserts KEB's exact
//! status and description (what brokerapi sends as `{"description": ...}`).
mod common;
use common::*;
use serde_json::{json, Value};
use twinstack_keb::{
    catalog_with, plan_by_name, provision_details_with, validate_provision,
    validate_provision_request, validate_update, KebOptions, Plan,
};

const ALICLOUD: &str = "9f2c3b4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
const BUILD_RUNTIME_ALICLOUD: &str = "72efa867-7b54-4d59-8df7-68f4759ff271";
const GDCH: &str = "024e11fb-40df-4753-a992-24d136e2d15c";

fn ctx() -> Value {
    json!({"globalaccount_id": "ga", "subaccount_id": "sa", "user_id": "u@x.com"})
}

fn body(plan: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({"service_id": "47c9dcbf-ff30-448e-ab36-d3bad66ba281", "plan_id": plan, "context": ctx(), "parameters": {"name": "x"}})).unwrap()
}

fn status_desc(e: twinstack_keb::OsbError) -> (u16, String) {
    (e.status, e.description)
}

#[test]
fn plan_id_not_in_the_catalog_where_brokerapi_says_it() {
    let only_aws = KebOptions {
        enabled_plans: vec![Plan::Aws],
        ..KebOptions::default()
    };
    let on = |pr: &str| KebOptions {
        platform_region: Some(pr.into()),
        ..KebOptions::default()
    };
    let cases: Vec<(&str, &str, KebOptions)> = vec![
        ("disabled plan", GCP, only_aws.clone()),
        ("unknown plan", "nope", KebOptions::default()),
        ("scc on cf-eu11", SCC, on("cf-eu11")),
    ];
    for (name, plan, o) in cases {
        let e = provision_details_with(&body(plan), &o).unwrap_err();
        assert_eq!(
            status_desc(e),
            (400, "plan-id not in the catalog".into()),
            "{name}"
        );
    }
    assert!(provision_details_with(&body(SCC), &on("cf-eu20")).is_ok());
    assert!(provision_details_with(&body(AWS), &only_aws).is_ok());
}

#[test]
fn context_checks_come_after_parameter_decoding() {
    let o = KebOptions::default();
    let bad_params = json!({"name": 5});
    let e = validate_provision_request(AWS, &bad_params, &json!({}), 0, &o).unwrap_err();
    assert_eq!(status_desc(e), (400, "while unmarshaling raw parameters: json: cannot unmarshal number into Go struct field ProvisioningParametersDTO.name of type string".into()));
    let params = json!({"name": "x", "region": "eu-central-1"});
    for (c, want) in [
        (json!({}), "global accountID parameter cannot be empty"),
        (
            json!({"globalaccount_id": "g"}),
            "subAccountID parameter cannot be empty",
        ),
        (
            json!({"globalaccount_id": "g", "subaccount_id": "s"}),
            "UserID parameter cannot be empty",
        ),
    ] {
        let e = validate_provision_request(AWS, &params, &c, 0, &o).unwrap_err();
        assert_eq!(status_desc(e), (400, want.into()));
    }
    let (_, c) = validate_provision_request(AWS, &params, &ctx(), 5, &o).unwrap();
    assert_eq!(c.global_account_id, "ga");
}

#[test]
fn one_trial_per_global_account() {
    let o = KebOptions::default();
    let e = validate_provision_request(TRIAL, &json!({"name": "x"}), &ctx(), 1, &o).unwrap_err();
    assert_eq!(
        status_desc(e),
        (
            400,
            "trial Kyma was created for the global account, but there is only one allowed".into()
        )
    );
    // The region check comes first.
    let e = validate_provision_request(
        TRIAL,
        &json!({"name": "x", "region": "mars"}),
        &ctx(),
        1,
        &o,
    )
    .unwrap_err();
    assert_eq!(
        status_desc(e),
        (400, "invalid region specified in request for trial".into())
    );
    assert!(validate_provision_request(TRIAL, &json!({"name": "x"}), &ctx(), 0, &o).is_ok());
}

#[test]
fn plan_upgrade_refusal_on_update() {
    let stored = ok(AWS, json!({"name": "x", "region": "eu-central-1"}));
    let e = validate_update(GCP, &stored, &json!({}), &KebOptions::default()).unwrap_err();
    assert_eq!(status_desc(e), (400, "plan upgrade from aws (planID: 361c511f-f939-4621-b228-d0fb79a1fe15) to gcp (planID: ca6e5357-707f-4565-bbbd-b3ab732597c6) is not allowed".into()));
    // Even an upgradable pair is refused while `enablePlanUpgrades` is off (KEB's default).
    let bra = "6aae0ff3-89f7-4f12-86de-51466145422e";
    let e = validate_update(bra, &stored, &json!({}), &KebOptions::default()).unwrap_err();
    assert_eq!(status_desc(e), (400, format!("plan upgrade from aws (planID: {AWS}) to build-runtime-aws (planID: {bra}) is not allowed")));
    let up = KebOptions {
        enable_plan_upgrades: true,
        ..KebOptions::default()
    };
    assert!(validate_update(bra, &stored, &json!({}), &up).is_ok());
    // The schema is checked before the plan change.
    let e =
        validate_update(GCP, &stored, &json!({"name": ""}), &KebOptions::default()).unwrap_err();
    assert_eq!(
        e.description,
        "while validating update parameters: at '/name': minLength: got 0, want 1"
    );
}

#[test]
fn provisioning_checks_in_keb_order() {
    let base = |extra: Value| {
        let mut p = json!({"name": "x", "region": "eu-central-1"});
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    };
    let pool = |name: &str, ha: bool, min: i64, max: i64| json!({"name": name, "machineType": "c7i.large", "haZones": ha, "autoScalerMin": min, "autoScalerMax": max});
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("pools before networking", AWS, base(json!({"additionalWorkerNodePools": [pool("a", true, 1, 5)], "networking": {"nodes": "bad"}})),
         "The following additionalWorkerPools have validation issues: AutoScalerMin value 1 should be at least 3 when HA zones are enabled for a additional worker node pool."),
        ("pools unique", AWS, base(json!({"additionalWorkerNodePools": [pool("a", false, 0, 1), pool("a", false, 0, 1)]})),
         "names of additional worker node pools must be unique"),
        ("pools on free", FREE, base(json!({"additionalWorkerNodePools": []})),
         "additional worker node pools are not supported for plan ID: b1a5764e-2ea1-4f95-94c0-2b4538b37b55"),
        ("oidc after auto-scaler", AWS, base(json!({"oidc": {"clientID": "c", "issuerURL": "http://a"}, "autoScalerMin": 9, "autoScalerMax": 4})),
         "AutoScalerMax 4 should be larger than AutoScalerMin 9. User provided values min:9, max:4; plan defaults min:3, max:20"),
        ("oidc object", AWS, base(json!({"oidc": {"clientID": "c", "issuerURL": "http://a"}})),
         "issuerURL must have https scheme"),
        ("oidc list", AWS, base(json!({"oidc": {"list": [{"clientID": "", "issuerURL": "https://a"}]}})),
         "clientID must not be empty for OIDC at index 0"),
        ("ingress on azure_lite", AZURE_LITE, json!({"name": "x", "region": "westeurope", "ingressFiltering": false}),
         "ingress filtering option is not available"),
        ("pool machine not in plan", AWS, base(json!({"additionalWorkerNodePools": [{"name": "a", "machineType": "n2-standard-2", "haZones": false, "autoScalerMin": 0, "autoScalerMax": 1}]})),
         "while validating input parameters: at '/additionalWorkerNodePools/0/machineType': value must be one of 'm6i.large', 'm6i.xlarge', 'm6i.2xlarge', 'm6i.4xlarge', 'm6i.8xlarge', 'm6i.12xlarge', 'm6i.16xlarge', 'm5.large', 'm5.xlarge', 'm5.2xlarge', 'm5.4xlarge', 'm5.8xlarge', 'm5.12xlarge', 'm5.16xlarge', 'c7i.large', 'c7i.xlarge', 'c7i.2xlarge', 'c7i.4xlarge', 'c7i.8xlarge', 'c7i.12xlarge', 'c7i.16xlarge', 'g6.xlarge', 'g6.2xlarge', 'g6.4xlarge', 'g6.8xlarge', 'g6.12xlarge', 'g6.16xlarge', 'g4dn.xlarge', 'g4dn.2xlarge', 'g4dn.4xlarge', 'g4dn.8xlarge', 'g4dn.12xlarge', 'g4dn.16xlarge'"),
        ("modules: both shapes", AWS, base(json!({"modules": {"default": true, "list": []}})),
         "while validating input parameters: at '/modules': 'oneOf' failed, none matched"),
    ];
    for (name, plan, params, want) in cases {
        let e = validate_provision(plan, &params, &KebOptions::default()).unwrap_err();
        assert_eq!(status_desc(e), (400, want.into()), "{name}");
    }
    for good in [
        base(json!({"ingressFiltering": true, "colocateControlPlane": true})),
        base(json!({"modules": {"default": true, "channel": "fast"}})),
        base(
            json!({"modules": {"channel": "regular", "list": [{"name": "istio", "channel": "fast"}]}}),
        ),
        base(json!({"additionalWorkerNodePools": [pool("gpu", false, 0, 1)]})),
    ] {
        assert!(
            validate_provision(AWS, &good, &KebOptions::default()).is_ok(),
            "{good}"
        );
    }
}

#[test]
fn new_plans() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (ALICLOUD, "alicloud", "eu-central-1", "ecs.g9i.large"),
        (
            BUILD_RUNTIME_ALICLOUD,
            "build-runtime-alicloud",
            "eu-west-1",
            "ecs.g9i.large",
        ),
        (GDCH, "gdch", "us-west16", "n3-standard-2-gdc"),
    ];
    for (id, name, region, machine) in cases {
        let p = ok(
            id,
            json!({"name": "x", "region": region, "networking": {"nodes": "10.250.0.0/20", "dualStack": true}}),
        );
        assert_eq!(
            (p.plan_name.as_str(), p.machine_type.as_deref()),
            (*name, Some(*machine))
        );
        // Neither provider has KEB's dual-stack flag: dropped, as KEB does.
        assert_eq!(
            p.ignored_parameters,
            vec!["networking.dualStack".to_string()]
        );
        assert!(!p.is_dual_stack());
        let e = err(id, json!({"name": "x", "region": "mars"}));
        assert!(
            e.description
                .starts_with("while validating input parameters: at '/region': value must be"),
            "{}",
            e.description
        );
    }
    let e = err(
        GDCH,
        json!({"name": "x", "region": "us-west16", "autoScalerMin": 11}),
    );
    assert_eq!(e.description, "AutoScalerMax 10 should be larger than AutoScalerMin 11. User provided values min:11, max:<nil>; plan defaults min:3, max:10");
    let e = err_strict(
        GDCH,
        json!({"name": "x", "region": "us-west16", "colocateControlPlane": true}),
    );
    assert_eq!(e.description, "while validating input parameters: at '': additional properties 'colocateControlPlane' not allowed");
    assert_eq!(plan_by_name("gdch").unwrap().id, GDCH);
}

#[test]
fn catalog_texts_as_keb() {
    let c = catalog_with(&KebOptions::default());
    let svc = &c["services"][0];
    assert_eq!(svc["description"], "Kyma environment is a runtime you can use to build cloud-native Kubernetes-based applications by using microservices and serverless functions.");
    assert_eq!(svc["metadata"]["displayName"], "Kyma Environment");
    assert_eq!(
        svc["metadata"]["supportUrl"],
        "https://launchpad.support.sap.com/"
    );
    assert!(svc["metadata"]["imageUrl"]
        .as_str()
        .unwrap()
        .starts_with("data:image/svg+xml;base64,PHN2Zy"));
    let plan = |n: &str| {
        svc["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == n)
            .cloned()
            .unwrap()
    };
    for (n, text) in [
        ("aws", "AWS"),
        ("azure_lite", "Azure Lite"),
        ("sap-converged-cloud", "SAP Converged Cloud"),
        ("alicloud", "Alicloud"),
        ("preview", "PREVIEW"),
        ("gdch", "GDCH"),
    ] {
        let p = plan(n);
        assert_eq!(
            (
                p["description"].as_str(),
                p["metadata"]["displayName"].as_str()
            ),
            (Some(text), Some(text)),
            "{n}"
        );
        assert_eq!(p["plan_updateable"], false, "{n}");
        assert!(
            p.get("bindable").is_none(),
            "{n}: binding is off by default"
        );
    }
    let bind = KebOptions {
        binding_enabled: true,
        ..KebOptions::default()
    };
    let c = catalog_with(&bind);
    let bindable: Vec<&str> = c["services"][0]["plans"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["bindable"] == true)
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(bindable, vec!["aws"]);
    // sap-converged-cloud is only in the catalog on its platform regions.
    let on = |pr: &str| KebOptions {
        platform_region: Some(pr.into()),
        ..KebOptions::default()
    };
    let names = |o: &KebOptions| {
        catalog_with(o)["services"][0]["plans"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(!names(&on("cf-eu11")).contains(&"sap-converged-cloud".to_string()));
    let scc = catalog_with(&on("cf-eu20"))["services"][0]["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "sap-converged-cloud")
        .cloned()
        .unwrap();
    assert_eq!(
        scc["schemas"]["service_instance"]["create"]["parameters"]["properties"]["region"]["enum"],
        json!(["eu-de-1"])
    );
}
