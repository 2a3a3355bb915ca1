//! KEB's endpoints besides OSB, end to end: OSB under `/oauth/v2` and `/oauth/{region}/v2`,
//! the runtimes API with its filters and paging, the kubeconfig endpoint (before and after
//! provisioning), and the expiration of a trial (its runtime suspended, the instance kept).

mod common;
use common::osb::{Osb, AWS, SERVICE};
use common::*;
use reqwest::Method;
use serde_json::{json, Value};

const GCP: &str = "ca6e5357-707f-4565-bbbd-b3ab732597c6";
const TRIAL: &str = "7d55d31d-35ae-4438-bf13-6ffdfa107d9f";

fn put(o: &Osb<'_>, path: &str, plan: &str, ga: &str, params: Value) -> (u16, Value) {
    o.call(
        Method::PUT,
        path,
        Some(json!({"service_id": SERVICE, "plan_id": plan,
            "context": {"globalaccount_id": ga, "subaccount_id": "sa", "user_id": "Dev@Example.com"},
            "parameters": params})),
    )
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn kebs_runtimes_kubeconfig_and_expiration_endpoints() {
    let t = Twin::start(&["--operation-time", "1s"]);
    let o = Osb::new(&t);

    // OSB under /oauth/v2 and /oauth/{region}/v2, as the BTP platform calls KEB.
    let (code, cat) = o.call(Method::GET, "/oauth/cf-eu10/v2/catalog", None);
    assert_eq!(code, 200, "{cat}");
    let (code, body) = put(
        &o,
        "/oauth/v2/service_instances/x1?accepts_incomplete=true",
        AWS,
        "ga",
        json!({"name": "one", "region": "eu-central-1"}),
    );
    assert_eq!(code, 202, "{body}");
    let op1 = body["operation"].as_str().unwrap().to_string();

    // The kubeconfig endpoint: open, KEB's texts while provisioning and for unknown IDs.
    let (code, _, text) = o.raw(Method::GET, "/kubeconfig/x1", false);
    assert_eq!(
        (code, text.as_str()),
        (404, "{\"Error\":\"kubeconfig for instance x1 does not exist. Provisioning could be in progress, please try again later\"}\n")
    );
    // Once KEB's `Generate_Runtime_ID` stage is done, the runtime has an ID but no cluster yet.
    o.wait_for_stages(&op1, 6);
    let (code, _, text) = o.raw(Method::GET, "/kubeconfig/x1", false);
    assert_eq!(
        (code, text.as_str()),
        (404, "{\"Error\":\"provisioning operation for instance x1 is in progress state, kubeconfig not exist yet, please try again later\"}\n")
    );
    let (code, _, text) = o.raw(Method::GET, "/kubeconfig/nope", false);
    assert_eq!(
        (code, text.as_str()),
        (
            404,
            "{\"Error\":\"instance with ID nope does not exist\"}\n"
        )
    );
    let (code, _, text) = o.raw(Method::GET, "/kubeconfig/", false);
    assert_eq!(
        (code, text.as_str()),
        (404, "{\"Error\":\"instanceID is required\"}\n")
    );
    let (answers, _) = o.poll("x1", &op1);
    assert_eq!(answers.last().unwrap()["state"], "succeeded");
    let (code, body) = put(
        &o,
        "/oauth/cf-eu10/v2/service_instances/x2?accepts_incomplete=true",
        GCP,
        "ga",
        json!({"name": "two", "region": "europe-west3"}),
    );
    assert_eq!(code, 202, "{body}");
    let op2 = body["operation"].as_str().unwrap().to_string();
    o.poll("x2", &op2);

    let rt1 = t.runtime_of("one");
    let (code, headers, text) = o.raw(Method::GET, "/kubeconfig/x1", false);
    assert_eq!(code, 200, "{text}");
    assert_eq!(headers["content-type"], "application/x-yaml");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=kubeconfig.yaml"
    );
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(text.contains("current-context: one\n"), "{text}");
    assert!(
        text.contains(&format!(
            "server: https://127.0.0.1:{}/runtimes/{rt1}\n",
            t.port
        )),
        "{text}"
    );
    assert!(
        text.contains("--oidc-issuer-url=https://kymatest.accounts400.ondemand.com"),
        "{text}"
    );
    assert!(!text.contains("token:"), "no credential: {text}");

    // The runtimes API: behind the credential, KEB's DTOs, filters and paging.
    assert_eq!(o.raw(Method::GET, "/runtimes", false).0, 401);
    let (code, _, text) = o.raw(Method::GET, "/runtimes", true);
    assert_eq!(code, 200, "{text}");
    let page = json_of(&text);
    assert_eq!(
        (page["count"].as_u64(), page["totalCount"].as_u64()),
        (Some(2), Some(2)),
        "{page}"
    );
    let x1 = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["instanceID"] == "x1")
        .unwrap()
        .clone();
    assert_eq!(x1["runtimeID"], rt1.as_str());
    assert_eq!(x1["shootName"], rt1.as_str());
    assert_eq!(x1["servicePlanName"], "aws");
    assert_eq!(x1["globalAccountID"], "ga");
    assert_eq!(x1["userID"], "dev@example.com");
    assert_eq!(x1["status"]["state"], "succeeded", "{x1}");
    assert_eq!(
        x1["status"]["provisioning"]["finishedStages"]
            .as_array()
            .unwrap()
            .len(),
        10,
        "{x1}"
    );
    let (_, _, text) = o.raw(Method::GET, "/runtimes?plan=gcp", true);
    let gcp = json_of(&text);
    assert_eq!(gcp["totalCount"], 1, "{gcp}");
    assert_eq!(gcp["data"][0]["instanceID"], "x2");
    let (_, _, text) = o.raw(Method::GET, "/runtimes?page_size=1&page=2", true);
    let p2 = json_of(&text);
    assert_eq!(
        (p2["count"].as_u64(), p2["totalCount"].as_u64()),
        (Some(1), Some(2)),
        "{p2}"
    );
    let (code, _, text) = o.raw(Method::GET, "/runtimes?page_size=x", true);
    assert_eq!(
        (code, text.as_str()),
        (
            400,
            "{\"error\":\"while getting query parameters: pageSize has to be an integer\"}"
        )
    );

    // Expiration: only trial and free; the trial's runtime is suspended, its instance kept.
    let (code, _, text) = o.raw(Method::PUT, "/expire/service_instance/x1", true);
    assert_eq!(
        (code, text.as_str()),
        (400, "{\"error\":\"unsupported plan: aws\"}")
    );
    let (code, _, text) = o.raw(Method::PUT, "/expire/service_instance/nope", true);
    assert_eq!(
        (code, text.as_str()),
        (404, "{\"error\":\"Instance with id nope not exist\"}")
    );
    assert_eq!(
        o.raw(Method::PUT, "/expire/service_instance/x1", false).0,
        401
    );
    let (code, body) = put(
        &o,
        "/v2/service_instances/tr?accepts_incomplete=true",
        TRIAL,
        "trial-ga",
        json!({"name": "trial"}),
    );
    assert_eq!(code, 202, "{body}");
    o.poll("tr", body["operation"].as_str().unwrap());
    let trial_rt = t.runtime_of("trial");
    let (code, _, text) = o.raw(Method::PUT, "/expire/service_instance/tr", true);
    assert_eq!(code, 202, "{text}");
    let suspension = json_of(&text)["operation"].as_str().unwrap().to_string();
    let (code, _, again) = o.raw(Method::PUT, "/expire/service_instance/tr", true);
    assert_eq!(
        (code, json_of(&again)["operation"].as_str()),
        (202, Some(suspension.as_str()))
    );
    let (answers, _) = o.poll("tr", &suspension);
    assert_eq!(
        answers.last().unwrap(),
        &json!({"state": "succeeded", "description": "Processing finished"})
    );
    // The runtime is gone, the instance stays, expired and suspended.
    assert!(!t
        .data_dir()
        .join(format!("kubeconfigs/{trial_rt}.yaml"))
        .exists());
    assert_eq!(o.call(Method::GET, "/v2/service_instances/tr", None).0, 200);
    let (_, _, text) = o.raw(
        Method::GET,
        "/runtimes?instance_id=tr&state=suspended",
        true,
    );
    let tr = json_of(&text);
    assert_eq!(tr["data"][0]["status"]["state"], "suspended", "{tr}");
    assert!(tr["data"][0]["status"]["expiredAt"].is_string(), "{tr}");
    assert_eq!(
        o.call(
            Method::PATCH,
            "/v2/service_instances/tr?accepts_incomplete=true",
            Some(json!({"service_id": SERVICE, "plan_id": TRIAL, "parameters": {}}))
        ),
        (
            400,
            json!({"description": "cannot update an expired instance"})
        )
    );
    assert!(!t.stderr().contains("panicked"));
}
