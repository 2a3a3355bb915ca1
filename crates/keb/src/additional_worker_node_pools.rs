//! `additionalWorkerNodePools`: KEB's checks after the JSON schema's (name pattern, machine
//! enum of regular + additional machines, required keys), in KEB's order:
//! `ProvisionEndpoint.validateAdditionalWorkerNodePools` (internal/broker/instance_create.go),
//! `UpdateEndpoint.validateAdditionalWorkerPoolsParams` (instance_update.go), and the pool
//! methods of `AdditionalWorkerNodePool` (common/runtime/model.go).
//!
//! Not reproduced: internal-only machines for external licenses and `regionsSupportingMachine`
//! (both come from landscape configuration; KEB's default configuration has neither), zone
//! discovery against the hyperscaler, and duplicate label/annotation keys
//! (`CheckDuplicateWorkerNodePoolKeys` reads raw bytes; `serde_json::Value` keeps the last key).

use crate::plans::Plan;
use serde_json::Value;
use twinstack_core::selector::{is_qualified_name, is_valid_label_value};

/// `pkg.HAAutoscalerMinimumValue`.
pub const HA_AUTOSCALER_MINIMUM: i64 = 3;

/// `additionalWorkerPoolsValidationIssuesMsg`.
pub const VALIDATION_ISSUES: &str = "The following additionalWorkerPools have validation issues: ";

/// One pool as Go decodes it (missing fields are zero values).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdditionalWorkerNodePool {
    pub name: String,
    pub machine_type: String,
    pub ha_zones: bool,
    pub auto_scaler_min: i64,
    pub auto_scaler_max: i64,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub taints: Vec<(String, String, String)>,
}

/// Decodes `parameters.additionalWorkerNodePools` (after the schema accepted it).
pub fn parse(v: &Value) -> Vec<AdditionalWorkerNodePool> {
    let s = |o: &Value, k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let map = |o: &Value, k: &str| -> Vec<(String, String)> {
        o.get(k)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default()
    };
    v.as_array()
        .map(|items| {
            items
                .iter()
                .map(|p| AdditionalWorkerNodePool {
                    name: s(p, "name"),
                    machine_type: s(p, "machineType"),
                    ha_zones: p.get("haZones").and_then(Value::as_bool).unwrap_or(false),
                    auto_scaler_min: p.get("autoScalerMin").and_then(Value::as_i64).unwrap_or(0),
                    auto_scaler_max: p.get("autoScalerMax").and_then(Value::as_i64).unwrap_or(0),
                    labels: map(p, "labels"),
                    annotations: map(p, "annotations"),
                    taints: p
                        .get("taints")
                        .and_then(Value::as_array)
                        .map(|ts| {
                            ts.iter()
                                .map(|t| (s(t, "key"), s(t, "value"), s(t, "effect")))
                                .collect()
                        })
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `supportsAdditionalWorkerNodePools`: every plan but free and trial.
pub fn supported(plan: Plan) -> bool {
    !matches!(plan, Plan::Free | Plan::Trial)
}

/// KEB's checks in order; the first failing one's text. KEB answers 422 on provisioning
/// (then wrapped to 400 by `Provision`) and 400 on update, except taints/labels/annotations
/// (400 in both).
pub fn validate(
    plan: Plan,
    plan_id: &str,
    pools: &[AdditionalWorkerNodePool],
) -> Result<(), String> {
    if !supported(plan) {
        return Err(format!(
            "additional worker node pools are not supported for plan ID: {plan_id}"
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if !pools.iter().all(|p| seen.insert(p.name.as_str())) {
        return Err("names of additional worker node pools must be unique".into());
    }
    issues(pools.iter().filter_map(auto_scaler))?;
    issues(pools.iter().filter_map(taints))?;
    issues(
        pools
            .iter()
            .filter_map(|p| key_values(&p.labels, "label", &p.name, true)),
    )?;
    issues(
        pools
            .iter()
            .filter_map(|p| key_values(&p.annotations, "annotation", &p.name, false)),
    )?;
    Ok(())
}

/// `checkHAZonesUnchanged` (update): `haZones` of an existing pool is permanent.
pub fn check_ha_zones_unchanged(
    current: &[AdditionalWorkerNodePool],
    new: &[AdditionalWorkerNodePool],
) -> Result<(), String> {
    let changed: Vec<&str> = new
        .iter()
        .filter(|n| {
            current
                .iter()
                .any(|c| c.name == n.name && c.ha_zones != n.ha_zones)
        })
        .map(|n| n.name.as_str())
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    Err(format!(
        "HA zones setting is permanent and cannot be changed for additional worker node pools: {}.",
        changed.join(", ")
    ))
}

/// `workerPoolValidationError`.
fn issues(errs: impl Iterator<Item = String>) -> Result<(), String> {
    let errs: Vec<String> = errs.collect();
    if errs.is_empty() {
        return Ok(());
    }
    Err(format!("{VALIDATION_ISSUES}{}.", errs.join("; ")))
}

/// `AdditionalWorkerNodePool.Validate`.
fn auto_scaler(a: &AdditionalWorkerNodePool) -> Option<String> {
    let n = &a.name;
    if a.auto_scaler_min > a.auto_scaler_max {
        return Some(format!("AutoScalerMax value {} should be larger than AutoScalerMin value {} for {n} additional worker node pool", a.auto_scaler_max, a.auto_scaler_min));
    }
    if a.ha_zones && a.auto_scaler_min < HA_AUTOSCALER_MINIMUM {
        return Some(format!("AutoScalerMin value {} should be at least {HA_AUTOSCALER_MINIMUM} when HA zones are enabled for {n} additional worker node pool", a.auto_scaler_min));
    }
    if a.auto_scaler_min < 0 {
        return Some(format!(
            "AutoScalerMin value cannot be lower than 0 for {n} additional worker node pool"
        ));
    }
    None
}

/// `AdditionalWorkerNodePool.ValidateTaints`.
fn taints(p: &AdditionalWorkerNodePool) -> Option<String> {
    let pool = &p.name;
    let mut seen = std::collections::HashSet::new();
    for (key, value, effect) in &p.taints {
        if key.is_empty() {
            return Some(format!(
                "taint key must not be empty for {pool} additional worker node pool"
            ));
        }
        let errs = is_qualified_name(key);
        if !errs.is_empty() {
            return Some(format!(
                "taint key {key:?} is invalid for pool {pool:?}: {}",
                errs.join("; ")
            ));
        }
        if !value.is_empty() {
            let errs = is_valid_label_value(value);
            if !errs.is_empty() {
                return Some(format!(
                    "taint value {value:?} for key {key:?} is invalid for pool {pool:?}: {}",
                    errs.join("; ")
                ));
            }
        }
        if !matches!(
            effect.as_str(),
            "NoSchedule" | "PreferNoSchedule" | "NoExecute"
        ) {
            return Some(format!("taint effect {effect:?} is not valid for {pool} additional worker node pool, valid effects are: NoSchedule, PreferNoSchedule, NoExecute"));
        }
        if !seen.insert((key.clone(), effect.clone())) {
            return Some(format!("duplicate taint with key {key:?} and effect {effect:?} for {pool} additional worker node pool"));
        }
    }
    None
}

/// `validateKeyValueMap` (Go iterates the map in random order; document order here).
fn key_values(m: &[(String, String)], kind: &str, pool: &str, check_value: bool) -> Option<String> {
    for (k, v) in m {
        let errs = is_qualified_name(k);
        if !errs.is_empty() {
            return Some(format!(
                "{kind} key {k:?} is invalid for pool {pool:?}: {}",
                errs.join("; ")
            ));
        }
        if check_value {
            let errs = is_valid_label_value(v);
            if !errs.is_empty() {
                return Some(format!(
                    "{kind} value {v:?} for key {k:?} is invalid for pool {pool:?}: {}",
                    errs.join("; ")
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pool(name: &str, ha: bool, min: i64, max: i64) -> Value {
        json!({"name": name, "machineType": "m6i.large", "haZones": ha, "autoScalerMin": min, "autoScalerMax": max})
    }

    /// KEB's own expectations (internal/broker/instance_create_test.go) and one case per message.
    #[test]
    fn keb_messages() {
        let aws = "361c511f-f939-4621-b228-d0fb79a1fe15";
        let cases: Vec<(&str, Plan, Value, &str)> = vec![
            ("trial", Plan::Trial, json!([pool("a", false, 0, 1)]),
             "additional worker node pools are not supported for plan ID: 7d55d31d-35ae-4438-bf13-6ffdfa107d9f"),
            ("duplicate names", Plan::Aws, json!([pool("a", false, 0, 1), pool("a", false, 0, 1)]),
             "names of additional worker node pools must be unique"),
            ("max < min", Plan::Aws, json!([pool("name-1", false, 20, 3)]),
             "The following additionalWorkerPools have validation issues: AutoScalerMax value 3 should be larger than AutoScalerMin value 20 for name-1 additional worker node pool."),
            ("two issues", Plan::Aws, json!([pool("name-1", false, 20, 3), pool("name-2", true, 1, 20)]),
             "The following additionalWorkerPools have validation issues: AutoScalerMax value 3 should be larger than AutoScalerMin value 20 for name-1 additional worker node pool; AutoScalerMin value 1 should be at least 3 when HA zones are enabled for name-2 additional worker node pool."),
            ("bad effect", Plan::Aws, json!([{"name": "p", "machineType": "m6i.large", "haZones": false, "autoScalerMin": 0, "autoScalerMax": 1, "taints": [{"key": "k", "value": "v", "effect": "Evict"}]}]),
             "The following additionalWorkerPools have validation issues: taint effect \"Evict\" is not valid for p additional worker node pool, valid effects are: NoSchedule, PreferNoSchedule, NoExecute."),
            ("empty taint key", Plan::Aws, json!([{"name": "p", "machineType": "m6i.large", "haZones": false, "autoScalerMin": 0, "autoScalerMax": 1, "taints": [{"key": "", "effect": "NoSchedule"}]}]),
             "The following additionalWorkerPools have validation issues: taint key must not be empty for p additional worker node pool."),
        ];
        for (name, plan, v, want) in cases {
            let plan_id = if plan == Plan::Trial { plan.id() } else { aws };
            assert_eq!(
                validate(plan, plan_id, &parse(&v)).unwrap_err(),
                want,
                "{name}"
            );
        }
        assert!(validate(
            Plan::Aws,
            aws,
            &parse(&json!([pool("a", false, 0, 1), pool("b", true, 3, 5)]))
        )
        .is_ok());
    }

    #[test]
    fn ha_zones_are_permanent() {
        let cur = parse(&json!([pool("a", true, 3, 5), pool("b", false, 0, 1)]));
        let new = parse(&json!([
            pool("a", false, 0, 5),
            pool("b", false, 0, 1),
            pool("c", true, 3, 5)
        ]));
        assert_eq!(
            check_ha_zones_unchanged(&cur, &new).unwrap_err(),
            "HA zones setting is permanent and cannot be changed for additional worker node pools: a."
        );
    }
}
