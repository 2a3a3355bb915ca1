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
    if opts.binding_enabled && plan.bindable {
        p["bindable"] = json!(true);
    }
    // `defaultServicePlan`: `IsUpgradable(name) && EnablePlanUpgrades`, always sent (a *bool).
    p["plan_updateable"] = json!(opts.enable_plan_upgrades && upgradable(plan.plan));
    p
}

/// `services.kymaruntime.description` (and `longDescription`) of KEB's chart
/// (resources/keb/files/catalog.yaml).
pub const SERVICE_DESCRIPTION: &str = "Kyma environment is a runtime you can use to build cloud-native Kubernetes-based applications by using microservices and serverless functions.";
/// `catalog.documentationUrl` of resources/keb/values.yaml.
pub const DOCUMENTATION_URL: &str = "https://help.sap.com/docs/btp/sap-business-technology-platform/provisioning-and-update-parameters-in-kyma-environment";
/// `metadata.imageUrl` of catalog.yaml: the Kyma logo as an SVG data URL.
pub const IMAGE_URL: &str = include_str!("catalog_image_url.txt");

/// `upgradableToPlans` of KEB's plans configuration (source side).
fn upgradable(plan: crate::Plan) -> bool {
    use crate::Plan::*;
    matches!(plan, Aws | Preview | Azure | Alicloud)
}

/// The catalog with default [`KebOptions`].
pub fn catalog() -> Value {
    catalog_with(&KebOptions::default())
}

/// The catalog: one service `kymaruntime` with the enabled plans sorted by name, as KEB does.
pub fn catalog_with(opts: &KebOptions) -> Value {
    let mut plans: Vec<&PlanInfo> = PLANS
        .iter()
        .filter(|p| {
            opts.enabled_plans.contains(&p.plan)
                && p.offered_on(opts.platform_provider, opts.platform_region.as_deref())
        })
        .collect();
    plans.sort_by_key(|p| p.name);
    let plans: Vec<Value> = plans.iter().map(|p| plan_json(p, opts)).collect();
    json!({
        "services": [{
            "id": KYMA_SERVICE_ID,
            "name": KYMA_SERVICE_NAME,
            "description": SERVICE_DESCRIPTION,
            "bindable": false,
            "instances_retrievable": true,
            "tags": ["SAP", "Kyma"],
            "plan_updateable": false,
            "plans": plans,
            "metadata": {
                "displayName": "Kyma Environment",
                "imageUrl": IMAGE_URL,
                "longDescription": SERVICE_DESCRIPTION,
                "providerDisplayName": "SAP",
                "documentationUrl": DOCUMENTATION_URL,
                "supportUrl": "https://launchpad.support.sap.com/"
            },
            "allow_context_updates": true
        }]
    })
}
