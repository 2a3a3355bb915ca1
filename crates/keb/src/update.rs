//! Updating: KEB's `UpdateEndpoint.Update` parameter rules. Networking and IP families never change.

use crate::error::OsbError;
use crate::plans::plan_by_id;
use crate::provision::{
    aggregate, families_for_message, parse_ext_families, split_twinstack, ProvisionPlan,
};
use crate::schema::{update_schema, validate};
use crate::KebOptions;
use serde_json::Value;
use twinstack_core::ipam::Family;

/// What an accepted update does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateOutcome {
    /// The stored plan with the update applied (networking and IP families unchanged).
    pub plan: ProvisionPlan,
    /// Top-level parameters KEB accepted and ignored (`networking`, unknown keys).
    pub ignored_parameters: Vec<String>,
    /// Parameters that changed (`name`, `machineType`, `autoScalerMin`, `autoScalerMax`).
    pub changed: Vec<String>,
    /// KEB's answer: `true` = 202 Accepted with a new update operation (any non-empty
    /// parameters, a networking-only update included); `false` = 200 without a new operation
    /// (empty parameters, or `sync_empty_update_response` with nothing changed).
    pub new_operation: bool,
}

fn update_error(status: u16, text: String, action: &str) -> OsbError {
    OsbError::new(status, text).with_logger_action(action)
}

const UPDATABLE: &[&str] = &[
    "name",
    "machineType",
    "autoScalerMin",
    "autoScalerMax",
    "additionalWorkerNodePools",
    "oidc",
    "administrators",
    "ingressFiltering",
    "accessControlList",
    "gvisor",
    "additionalVolumeSizeGi",
    "auditLogAccess",
];

/// Validates `PATCH /v2/service_instances/:id` for the runtime provisioned as `stored`.
///
/// * JSON schema of the plan's update schema (400 `while validating update parameters: ...`); it has
///   no `networking`, so strict mode refuses `networking` with
///   `at '': additional properties 'networking' not allowed`, default mode ignores it (KEB accepts
///   the update and `UpdatingParametersDTO` drops the field).
/// * `additionalWorkerNodePools`, then `oidc` (400, KEB's texts).
/// * auto-scaler bounds on the merged values (400).
/// * `ingressFiltering` outside `ingressFilteringPlans` (400 `ingress filtering option is not available`).
/// * `plan_id` empty or equal to the stored plan; another plan is refused with KEB's
///   `plan upgrade from aws (planID: ...) to gcp (planID: ...) is not allowed` (400) unless
///   `enable_plan_upgrades` and the pair is upgradable (then the plan stays as stored here).
/// * `parameters.twinstack.ipFamilies`/`ipv6` must equal what the runtime has (400, Gardener's
///   `unsupported IP family update` wording where Gardener refuses too).
pub fn validate_update(
    plan_id: &str,
    stored: &ProvisionPlan,
    params: &Value,
    opts: &KebOptions,
) -> Result<UpdateOutcome, OsbError> {
    let Some(info) = plan_by_id(&stored.plan_id) else {
        return Err(update_error(
            400,
            format!("plan ID {:?} is not recognized", stored.plan_id),
            "validation failed",
        ));
    };
    let (keb_params, ext) = split_twinstack(params);
    if !keb_params.is_null() {
        let causes = validate(&update_schema(info, opts), &keb_params);
        if !causes.is_empty() {
            return Err(update_error(
                400,
                format!("while validating update parameters: {}", causes.join(", ")),
                "validation failed",
            ));
        }
    }
    let field = |k: &str| keb_params.get(k).filter(|v| !v.is_null());
    // validateAdditionalWorkerPoolsParams: KEB asks about the *request's* plan ID (empty when
    // the client sends none, which passes the plan check).
    if let Some(pools) = field("additionalWorkerNodePools") {
        let pools = crate::additional_worker_node_pools::parse(pools);
        let request_plan = plan_by_id(plan_id).map(|p| p.plan).unwrap_or(info.plan);
        crate::additional_worker_node_pools::validate(request_plan, plan_id, &pools)
            .map_err(|e| update_error(400, e.clone(), &e))?;
    }
    if let Some(o) = field("oidc") {
        if crate::oidc::is_provided(Some(o)) {
            crate::oidc::validate(o, crate::oidc::InstanceOidc::None)
                .map_err(|e| update_error(400, e.clone(), &e))?;
        }
    }
    let mut plan = stored.clone();
    let mut changed = Vec::new();
    let mut ignored = Vec::new();
    let empty = serde_json::Map::new();
    let obj = keb_params.as_object().unwrap_or(&empty);
    for (k, v) in obj {
        match k.as_str() {
            "name" => {
                if let Some(s) = v.as_str() {
                    if s != plan.name {
                        plan.name = s.to_string();
                        changed.push("name".into());
                    }
                }
            }
            "machineType" if plan.machine_type.is_some() => {
                if let Some(s) = v.as_str() {
                    if Some(s) != plan.machine_type.as_deref() {
                        plan.machine_type = Some(s.to_string());
                        changed.push("machineType".into());
                    }
                }
            }
            "autoScalerMin" | "autoScalerMax" if info.auto_scaler.is_some() => {
                if let Some(n) = v.as_u64() {
                    let slot = if k == "autoScalerMin" {
                        &mut plan.auto_scaler_min
                    } else {
                        &mut plan.auto_scaler_max
                    };
                    if *slot != Some(n as u32) {
                        *slot = Some(n as u32);
                        changed.push(k.clone());
                    }
                }
            }
            other if UPDATABLE.contains(&other) => {}
            other => ignored.push(other.to_string()),
        }
    }
    if let (Some(a), Some(min), Some(max)) =
        (info.auto_scaler, plan.auto_scaler_min, plan.auto_scaler_max)
    {
        if min > max {
            return Err(update_error(
                400,
                format!(
                    "AutoScalerMax {max} should be larger than AutoScalerMin {min}. User provided values min:{min}, max:{max}; plan defaults min:{}, max:{}",
                    a.default_min, a.default_max
                ),
                "invalid autoscaler parameters",
            ));
        }
    }
    if let Some(f) = field("ingressFiltering") {
        crate::provision::validate_ingress_filtering(
            info.plan,
            f.as_bool().unwrap_or(false),
            &crate::ErsContext::default(),
            opts,
        )
        .map_err(|e| update_error(400, e.clone(), &e))?;
    }
    // updateInstanceAndOperationParameters → isPlanChangePossible.
    if !plan_id.is_empty() && plan_id != stored.plan_id {
        let target = plan_by_id(plan_id).map_or("", |p| p.name);
        let text = format!(
            "plan upgrade from {} (planID: {}) to {target} (planID: {plan_id}) is not allowed",
            info.name, stored.plan_id
        );
        if !opts.enable_plan_upgrades || !upgradable_between(info.plan, plan_id) {
            return Err(update_error(400, text.clone(), &text));
        }
    }
    if let Some(ext) = ext {
        check_twinstack_unchanged(stored, &ext)?;
    }
    let non_empty = match params {
        Value::Null => false,
        Value::Object(o) => !o.is_empty(),
        _ => true,
    };
    let new_operation = non_empty && !(opts.sync_empty_update_response && changed.is_empty());
    Ok(UpdateOutcome {
        plan,
        ignored_parameters: ignored,
        changed,
        new_operation,
    })
}

/// `PlanSpecifications.IsUpgradableBetween` with KEB's test configuration
/// (`upgradableToPlans`): aws/preview → build-runtime-aws, azure → build-runtime-azure,
/// alicloud → build-runtime-alicloud.
fn upgradable_between(from: crate::Plan, to_id: &str) -> bool {
    use crate::Plan::*;
    let Some(to) = plan_by_id(to_id).map(|p| p.plan) else {
        return false;
    };
    matches!(
        (from, to),
        (Aws | Preview, BuildRuntimeAws)
            | (Azure, BuildRuntimeAzure)
            | (Alicloud, BuildRuntimeAlicloud)
    )
}

fn check_twinstack_unchanged(stored: &ProvisionPlan, ext: &Value) -> Result<(), OsbError> {
    let mut errs = Vec::new();
    let Value::Object(obj) = ext else {
        return Err(OsbError::bad_request(format!(
            "parameters.twinstack: Invalid value: {ext}: must be an object"
        )));
    };
    if let Some(v) = obj.get("ipFamilies") {
        if let Some(new) = parse_ext_families(v, &mut errs) {
            let old = &stored.ip_families;
            if &new != old {
                let (o, n) = (families_for_message(old), families_for_message(&new));
                let gardener_allows = (old.as_slice() == [Family::IPv4]
                    && new.as_slice() == [Family::IPv4, Family::IPv6])
                    || (old.as_slice() == [Family::IPv4, Family::IPv6]
                        && new.as_slice() == [Family::IPv4]);
                if gardener_allows {
                    errs.push(format!(
                        "spec.networking.ipFamilies: Forbidden: IP families of a Kyma runtime are immutable: the dual-stack feature is only available for newly created Kyma instances (oldIPFamilies={o}, newIPFamilies={n})"
                    ));
                } else {
                    errs.push(format!(
                        "spec.networking.ipFamilies: Forbidden: unsupported IP family update: oldIPFamilies={o}, newIPFamilies={n}"
                    ));
                }
            }
        }
    }
    if let Some(v6) = obj.get("ipv6").and_then(Value::as_object) {
        for (k, v) in v6 {
            let old = match k.as_str() {
                "nodes" => stored.ipv6.nodes,
                "pods" => stored.ipv6.pods,
                "services" => stored.ipv6.services,
                _ => None,
            };
            let same = v
                .as_str()
                .is_some_and(|s| old.is_some_and(|o| o.to_string() == s));
            if !same {
                errs.push(format!(
                    "spec.networking.{k}: Invalid value: {v}: field is immutable"
                ));
            }
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        let text = aggregate(&errs);
        Err(OsbError::bad_request(text).with_logger_action("validation failed"))
    }
}
