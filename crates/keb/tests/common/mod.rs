#![allow(dead_code)]
use serde_json::{json, Value};
use twinstack_keb::{validate_provision, KebOptions, OsbError, ProvisionPlan};

pub const AWS: &str = "361c511f-f939-4621-b228-d0fb79a1fe15";
pub const GCP: &str = "ca6e5357-707f-4565-bbbd-b3ab732597c6";
pub const AZURE: &str = "4deee563-e5ec-4731-b9b1-53b42d855f0c";
pub const AZURE_LITE: &str = "8cb22518-aa26-44c5-91a0-e669ec9bf443";
pub const SCC: &str = "03b812ac-c991-4528-b5bd-08b303523a63";
pub const TRIAL: &str = "7d55d31d-35ae-4438-bf13-6ffdfa107d9f";
pub const FREE: &str = "b1a5764e-2ea1-4f95-94c0-2b4538b37b55";

pub fn region_of(plan: &str) -> &'static str {
    match plan {
        GCP => "europe-west3",
        AZURE | AZURE_LITE => "westeurope",
        SCC => "eu-de-1",
        _ => "eu-central-1",
    }
}

pub fn with_networking(plan: &str, networking: Value) -> Value {
    json!({"name": "my-kyma", "region": region_of(plan), "networking": networking})
}

pub fn ok(plan: &str, params: Value) -> ProvisionPlan {
    validate_provision(plan, &params, &KebOptions::default())
        .unwrap_or_else(|e| panic!("{params}: {e:?}"))
}

pub fn ok_strict(plan: &str, params: Value) -> ProvisionPlan {
    validate_provision(plan, &params, &KebOptions::strict())
        .unwrap_or_else(|e| panic!("{params}: {e:?}"))
}

pub fn err(plan: &str, params: Value) -> OsbError {
    validate_provision(plan, &params, &KebOptions::default()).expect_err("must fail")
}

pub fn err_strict(plan: &str, params: Value) -> OsbError {
    validate_provision(plan, &params, &KebOptions::strict()).expect_err("must fail")
}

/// go-multierror's text.
pub fn multi(errs: &[&str]) -> String {
    if errs.len() == 1 {
        format!("1 error occurred:\n\t* {}\n\n", errs[0])
    } else {
        let pts: Vec<String> = errs.iter().map(|e| format!("* {e}")).collect();
        format!(
            "{} errors occurred:\n\t{}\n\n",
            errs.len(),
            pts.join("\n\t")
        )
    }
}
