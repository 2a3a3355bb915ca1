//! `GET /v2/catalog` as KEB serves it (internal/broker/services.go).

use crate::plans::{PlanInfo, KYMA_SERVICE_ID, KYMA_SERVICE_NAME, PLANS};
use crate::schema::{create_schema, update_schema};
use crate::KebOptions;
use serde_json::{json, Value};

fn plan_json(plan: &PlanInfo, opts: &KebOptions) -> Value {
    let mut p = json!({
        "id": plan.id,
        "name": plan.name,
        "description": plan.description,
        "metadata": { "displayName": plan.display_name },
        "schemas": {
            "service_instance": {
                "create": { "parameters": create_schema(plan, opts) },
                "update": { "parameters": update_schema(plan, opts) }
            }
        }
    });
    if plan.bindable {
        p["bindable"] = json!(true);
    }
    p
}

/// The catalog with default [`KebOptions`].
pub fn catalog() -> Value {
    catalog_with(&KebOptions::default())
}

/// The catalog: one service `kymaruntime` with the enabled plans sorted by name, as KEB does.
pub fn catalog_with(opts: &KebOptions) -> Value {
    let mut plans: Vec<&PlanInfo> = PLANS
        .iter()
        .filter(|p| opts.enabled_plans.contains(&p.plan))
        .collect();
    plans.sort_by_key(|p| p.name);
    let plans: Vec<Value> = plans.iter().map(|p| plan_json(p, opts)).collect();
    json!({
        "services": [{
            "id": KYMA_SERVICE_ID,
            "name": KYMA_SERVICE_NAME,
            "description": "SAP BTP, Kyma runtime",
            "bindable": false,
            "instances_retrievable": true,
            "tags": ["SAP", "Kyma"],
            "plan_updateable": false,
            "plans": plans,
            "metadata": {
                "displayName": "Kyma runtime",
                "imageUrl": "",
                "longDescription": "SAP BTP, Kyma runtime is a fully managed Kubernetes runtime based on the open-source project \"Kyma\".",
                "providerDisplayName": "SAP",
                "documentationUrl": "https://help.sap.com/docs/btp/sap-business-technology-platform/kyma-environment",
                "supportUrl": "https://help.sap.com/docs/btp/sap-business-technology-platform/kyma-environment"
            },
            "allow_context_updates": true
        }]
    })
}
