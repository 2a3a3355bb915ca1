//! KEB's per-plan JSON schemas (internal/broker/plans_schema.go) and the subset of JSON-schema
//! validation KEB runs on them (santhosh-tekuri/jsonschema v6), with v6's English messages.

use crate::plans::{Plan, PlanInfo};
use crate::KebOptions;
use serde_json::{json, Map, Value};
use twinstack_core::runtime::{
    DEFAULT_NODES_CIDR, DEFAULT_PODS_CIDR, DEFAULT_SERVICES_CIDR, GARDENER_SEED_CIDRS,
};

/// Production value of `broker.dualStackDocsURL`.
pub const DUAL_STACK_DOCS_URL: &str =
    "https://help.sap.com/docs/btp/sap-business-technology-platform/kyma-runtime-with-dual-stack-support";

const CONTROLS_ORDER: &[&str] = &[
    "name",
    "kubeconfig",
    "shootName",
    "shootDomain",
    "region",
    "colocateControlPlane",
    "machineType",
    "autoScalerMin",
    "autoScalerMax",
    "additionalWorkerNodePools",
    "modules",
    "networking",
    "oidc",
    "administrators",
    "ingressFiltering",
];

fn enum_display(items: &[(&str, &str)]) -> Value {
    let mut m = Map::new();
    for (k, v) in items {
        m.insert((*k).to_string(), json!(v));
    }
    Value::Object(m)
}

fn name_property() -> Value {
    json!({
        "_BTPdefaultTemplate": { "elements": ["saSubdomain"] },
        "maxLength": 64,
        "minLength": 1,
        "pattern": "^[a-zA-Z0-9-]*$",
        "title": "Cluster Name",
        "type": "string"
    })
}

/// `NewNetworkingSchema`: `dualStack` only when the provider has the dual-stack flag,
/// `additionalProperties: false` only with `rejectUnsupportedParameters`.
pub fn networking_schema(dual_stack: bool, strict: bool) -> Value {
    let seeds = GARDENER_SEED_CIDRS.join(", ");
    let mut props = Map::new();
    if dual_stack {
        props.insert(
            "dualStack".into(),
            json!({
                "type": "boolean",
                "title": "Enable dual stack (Istio module doesn't support dual stack)",
                "description": format!("Enable dual-stack networking (IPv4 and IPv6). The Kyma Istio module does not support dual-stack mode. For more information, see <a href={DUAL_STACK_DOCS_URL}>documentation</a>.")
            }),
        );
    }
    props.insert("nodes".into(), json!({"type": "string", "title": "CIDR range for Nodes", "default": DEFAULT_NODES_CIDR, "description": format!("CIDR range for Nodes, must not overlap with the following CIDRs: {seeds}")}));
    props.insert("pods".into(), json!({"type": "string", "title": "CIDR range for Pods", "default": DEFAULT_PODS_CIDR, "description": format!("CIDR range for Pods, must not overlap with the following CIDRs: {seeds}")}));
    props.insert("services".into(), json!({"type": "string", "title": "CIDR range for Services", "default": DEFAULT_SERVICES_CIDR, "description": format!("CIDR range for Services, must not overlap with the following CIDRs: {seeds}")}));
    let mut n = Map::new();
    n.insert("type".into(), json!("object"));
    if strict {
        n.insert("additionalProperties".into(), json!(false));
    }
    n.insert("description".into(), json!("Networking configuration. These values are immutable and cannot be updated later. All provided CIDR ranges must not overlap one another."));
    n.insert("required".into(), json!(["nodes"]));
    n.insert("properties".into(), Value::Object(props));
    Value::Object(n)
}

/// `NewModulesSchema` (plans_schema.go): `oneOf` Default `{default, channel}` / Custom
/// `{channel, list}`, both closed; the channel default is the plan's (`regular` without a
/// channel resolver); strict mode closes the list items.
fn modules_schema(strict: bool) -> Value {
    const DEFAULT_CHANNEL: &str = "regular";
    let channel_doc = "<a href=https://help.sap.com/docs/btp/sap-business-technology-platform/provisioning-and-update-parameters-in-kyma-environment?locale=en-US&q=IPv#modules>Modules</a>";
    let modules_doc = "<a href=https://help.sap.com/docs/btp/sap-business-technology-platform/kyma-modules?version=Cloud>website</a>";
    let channel = |description: String| {
        json!({"type": "string", "title": "Default Module Channel", "description": description,
               "enum": ["regular", "fast"], "_enumDisplayName": {"regular": "Regular - default version", "fast": "Fast - latest version"},
               "default": DEFAULT_CHANNEL})
    };
    let mut item = json!({
        "type": "object",
        "additionalProperties": false,
        "_controlsOrder": ["name", "channel", "customResourcePolicy"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "title": "Name", "description": format!("Check a module technical name on this {modules_doc}. You can only use a module technical name once.")},
            "channel": {"type": "string", "default": "", "enum": ["", "regular", "fast"], "_enumDisplayName": {"": "", "regular": "Regular - default version", "fast": "Fast - latest version"}, "description": "Select your preferred release channel or leave this field empty. Overrides the Default Module Channel."},
            "customResourcePolicy": {"type": "string", "default": "", "enum": ["", "CreateAndDelete", "Ignore"], "_enumDisplayName": {"": "", "CreateAndDelete": "CreateAndDelete - default module resource is created or deleted.", "Ignore": "Ignore - module resource is not created."}, "description": "Select your preferred CustomResourcePolicy setting or leave this field empty."}
        }
    });
    if strict {
        item["additionalProperties"] = json!(false);
    }
    json!({
        "type": "object",
        "description": "Use default modules or provide your custom list of modules. Provide an empty custom list of modules if you don’t want any modules enabled.",
        "oneOf": [
            {"type": "object", "title": "Default", "description": "Default modules", "additionalProperties": false,
             "_controlsOrder": ["default", "channel"],
             "properties": {
                "default": {"type": "boolean", "title": "Use Default", "default": true, "readOnly": true, "description": "Check the default modules in the <a href=https://help.sap.com/docs/btp/sap-business-technology-platform/kyma-modules?version=Cloud>default modules table</a>."},
                "channel": channel(format!("For the default modules, specifies your preferred default release channel: regular or fast. For details, see {channel_doc}."))
             }},
            {"type": "object", "title": "Custom", "description": "Define custom module list", "additionalProperties": false,
             "_controlsOrder": ["channel", "list"],
             "properties": {
                "channel": channel(format!("Specifies your preferred release channel, regular or fast, for all modules in your custom list. You can change this setting for individual modules if needed. For details, see {channel_doc}.")),
                "list": {"type": "array", "uniqueItems": true, "items": item, "description": format!("Check a module technical name on this {modules_doc}. You can only use a module technical name once. Provide an empty custom list of modules if you don’t want any modules enabled.")}
             }}
        ]
    })
}

fn oidc_schema() -> Value {
    json!({
        "type": "object",
        "description": "OIDC configuration. The list-based configuration is recommended. The object-based configuration is provided for backward compatibility. The object-based configuration inputs are still writable, but only from the JSON view."
    })
}

/// `IngressFilteringProperty` (plans of `ingressFilteringPlans`).
fn ingress_filtering_property() -> Value {
    json!({"type": "boolean", "title": "Enable ingress geo-blocking", "default": false, "description": "If set to true, ingress traffic from embargoed countries is blocked."})
}

fn administrators_schema() -> Value {
    json!({"type": "array", "title": "Administrators", "description": "Specifies the list of runtime administrators.", "items": {"type": "string"}})
}

fn worker_pools_schema(plan: &PlanInfo, strict: bool) -> Value {
    let all = plan.worker_pool_machine_types();
    let machines: Vec<&str> = all.iter().map(|(m, _)| *m).collect();
    let mut item = json!({
        "type": "object",
        "required": ["name", "machineType", "haZones", "autoScalerMin", "autoScalerMax"],
        "_controlsOrder": ["name", "machineType", "haZones", "autoScalerMin", "autoScalerMax"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 15, "pattern": "^(?!cpu-worker-0$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
                     "description": "Specifies the unique name of the additional worker node pool. The name must consist of lowercase alphanumeric characters or '-', must start and end with an alphanumeric character, and can be a maximum of 15 characters in length. Do not use the name “cpu-worker-0” because it's reserved for the Kyma worker node pool."},
            "machineType": {"type": "string", "minLength": 1, "enum": machines, "_enumDisplayName": enum_display(&all), "description": "Specifies the type of the virtual machine."},
            "haZones": {"type": "boolean", "title": "HA zones", "default": true, "description": "Specifies whether high availability (HA) zones are supported."},
            "autoScalerMin": {"type": "integer", "minimum": 0, "maximum": 300, "default": 3, "description": "Specifies the minimum number of virtual machines to create."},
            "autoScalerMax": {"type": "integer", "minimum": 1, "maximum": 300, "default": 20, "description": "Specifies the maximum number of virtual machines to create."}
        }
    });
    if strict {
        item["additionalProperties"] = json!(false);
    }
    json!({"type": "array", "uniqueItems": true, "items": item, "description": "Specifies the list of additional worker node pools."})
}

/// Whether the plan's networking schema offers `dualStack` under these options.
pub fn plan_offers_dual_stack(plan: &PlanInfo, opts: &KebOptions) -> bool {
    plan.networking == crate::plans::NetworkingSupport::Create
        && opts
            .dual_stack_providers
            .contains(&plan.provider_on(opts.platform_provider))
}

fn root(props: Map<String, Value>, required: &[&str], strict: bool) -> Value {
    let order: Vec<&str> = CONTROLS_ORDER
        .iter()
        .copied()
        .filter(|k| props.contains_key(*k))
        .collect();
    let mut m = Map::new();
    m.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-04/schema#"),
    );
    m.insert("_controlsOrder".into(), json!(order));
    m.insert("_load_current_config".into(), json!(true));
    m.insert("_show_form_view".into(), json!(true));
    if strict {
        m.insert("additionalProperties".into(), json!(false));
    }
    m.insert("properties".into(), Value::Object(props));
    if !required.is_empty() {
        m.insert("required".into(), json!(required));
    }
    m.insert("type".into(), json!("object"));
    Value::Object(m)
}

fn machine_and_scaler(plan: &PlanInfo, props: &mut Map<String, Value>, update: bool) {
    if let Some(a) = plan.auto_scaler {
        let mut max = json!({"type": "integer", "minimum": a.minimum, "maximum": a.maximum, "description": "Specifies the maximum number of virtual machines to create"});
        let mut min = json!({"type": "integer", "minimum": a.minimum, "maximum": a.maximum, "description": "Specifies the minimum number of virtual machines to create"});
        if !update {
            max["default"] = json!(a.default_max);
            min["default"] = json!(a.default_min);
        }
        props.insert("autoScalerMax".into(), max);
        props.insert("autoScalerMin".into(), min);
    }
    if !plan.machine_types.is_empty() {
        let machines: Vec<&str> = plan.machine_types.iter().map(|(m, _)| *m).collect();
        props.insert(
            "machineType".into(),
            json!({"_enumDisplayName": enum_display(plan.machine_types), "description": "Specifies the type of the virtual machine.", "enum": machines, "type": "string"}),
        );
    }
}

/// The plan's `schemas.service_instance.create.parameters`.
pub fn create_schema(plan: &PlanInfo, opts: &KebOptions) -> Value {
    let strict = opts.reject_unsupported_parameters;
    let mut props = Map::new();
    props.insert("name".into(), name_property());
    match plan.plan {
        Plan::Trial => {}
        _ => {
            let regions = plan.regions_for(opts.platform_provider, opts.platform_region.as_deref());
            props.insert(
                "region".into(),
                json!({"type": "string", "enum": regions, "minLength": 1}),
            );
        }
    }
    // `NewProvisioningProperties` sets it for every plan built from it (not free or trial);
    // `disableColocateControlPlane` removes it (gdch).
    if plan.colocate_control_plane {
        props.insert("colocateControlPlane".into(), json!({"type": "boolean", "default": false, "title": "Colocate control plane and worker nodes in the same region", "description": "If set to true, the control plane is placed in the same region as the selected region from the Region field. Check regions supporting the feature on this <a href=https://help.sap.com/docs/btp/sap-business-technology-platform/provisioning-and-update-parameters-in-kyma-environment?locale=en-US#region*>website</a>. The provisioning process fails if the control plane cannot be colocated in the region."}));
    }
    machine_and_scaler(plan, &mut props, false);
    if plan.auto_scaler.is_some() {
        props.insert(
            "additionalWorkerNodePools".into(),
            worker_pools_schema(plan, strict),
        );
    }
    props.insert("modules".into(), modules_schema(strict));
    if plan.networking == crate::plans::NetworkingSupport::Create {
        props.insert(
            "networking".into(),
            networking_schema(plan_offers_dual_stack(plan, opts), strict),
        );
    }
    if opts.include_additional_params_in_schema {
        props.insert("oidc".into(), oidc_schema());
        props.insert("administrators".into(), administrators_schema());
    }
    if opts.ingress_filtering_plans.contains(&plan.plan) {
        props.insert("ingressFiltering".into(), ingress_filtering_property());
    }
    let required: &[&str] = if plan.plan == Plan::Trial {
        &["name"]
    } else {
        &["name", "region"]
    };
    root(props, required, strict)
}

/// The plan's `schemas.service_instance.update.parameters` (no `networking`: it is immutable).
pub fn update_schema(plan: &PlanInfo, opts: &KebOptions) -> Value {
    let strict = opts.reject_unsupported_parameters;
    if matches!(plan.plan, Plan::Trial | Plan::Free) && !opts.include_additional_params_in_schema {
        return json!({});
    }
    let mut props = Map::new();
    if !matches!(plan.plan, Plan::Trial | Plan::Free) {
        props.insert("name".into(), name_property());
        machine_and_scaler(plan, &mut props, true);
        props.insert(
            "additionalWorkerNodePools".into(),
            worker_pools_schema(plan, strict),
        );
    }
    if opts.include_additional_params_in_schema {
        props.insert("oidc".into(), oidc_schema());
        props.insert("administrators".into(), administrators_schema());
    }
    if opts.ingress_filtering_plans.contains(&plan.plan) {
        props.insert("ingressFiltering".into(), ingress_filtering_property());
    }
    root(props, &[], strict)
}

// ---------------------------------------------------------------------------------------------
// Validation (the subset of draft-04 the schemas above use), messages as jsonschema v6.

/// jsonschema v6 `quote`: single-quoted, Go-escaped.
pub(crate) fn quote(s: &str) -> String {
    let q = format!("{s:?}");
    let inner = &q[1..q.len() - 1];
    format!("'{}'", inner.replace("\\\"", "\"").replace('\'', "\\'"))
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => quote(s),
        other => other.to_string(),
    }
}

fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
        Value::Number(_) => "number",
    }
}

fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

fn type_matches(want: &str, v: &Value) -> bool {
    match want {
        "integer" => is_integer(v),
        w => type_of(v) == w,
    }
}

fn pattern_matches(pattern: &str, s: &str) -> bool {
    let alnum_lower = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    match pattern {
        "^[a-zA-Z0-9-]*$" => s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "^(?!cpu-worker-0$)[a-z0-9]([-a-z0-9]*[a-z0-9])?$" => {
            s != "cpu-worker-0"
                && !s.is_empty()
                && s.chars().all(|c| alnum_lower(c) || c == '-')
                && s.chars().next().is_some_and(alnum_lower)
                && s.chars().last().is_some_and(alnum_lower)
        }
        "^[^=]+=[^=]+$" => {
            let parts: Vec<&str> = s.split('=').collect();
            parts.len() == 2 && !parts[0].is_empty() && !parts[1].is_empty()
        }
        _ => true,
    }
}

fn ptr_push(ptr: &str, key: &str) -> String {
    format!("{ptr}/{}", key.replace('~', "~0").replace('/', "~1"))
}

/// Validates `v` against `schema`; returns causes as `at '<json pointer>': <message>`.
pub fn validate(schema: &Value, v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    validate_at(schema, v, "", &mut out);
    out
}

fn validate_at(schema: &Value, v: &Value, ptr: &str, out: &mut Vec<String>) {
    let Some(s) = schema.as_object() else { return };
    let mut err = |msg: String| out.push(format!("at {}: {msg}", quote(ptr)));
    if let Some(t) = s.get("type").and_then(Value::as_str) {
        if !type_matches(t, v) {
            err(format!("got {}, want {t}", type_of(v)));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = s.get("enum") {
        if !allowed.contains(v) {
            let shown: Vec<String> = allowed.iter().map(display).collect();
            if shown.len() == 1 {
                err(format!("value must be {}", shown[0]));
            } else {
                err(format!("value must be one of {}", shown.join(", ")));
            }
            // v6 returns on an enum failure: no other keyword is reported for this value.
            return;
        }
    }
    if let Value::String(st) = v {
        let n = st.chars().count() as u64;
        if let Some(min) = s.get("minLength").and_then(Value::as_u64) {
            if n < min {
                err(format!("minLength: got {n}, want {min}"));
            }
        }
        if let Some(max) = s.get("maxLength").and_then(Value::as_u64) {
            if n > max {
                err(format!("maxLength: got {n}, want {max}"));
            }
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            if !pattern_matches(p, st) {
                err(format!("{} does not match pattern {}", quote(st), quote(p)));
            }
        }
    }
    if let Value::Number(num) = v {
        let x = num.as_f64().unwrap_or(0.0);
        if let Some(min) = s.get("minimum").and_then(Value::as_f64) {
            if x < min {
                err(format!("minimum: got {num}, want {}", s["minimum"]));
            }
        }
        if let Some(max) = s.get("maximum").and_then(Value::as_f64) {
            if x > max {
                err(format!("maximum: got {num}, want {}", s["maximum"]));
            }
        }
    }
    if let Value::Object(obj) = v {
        if let Some(Value::Array(req)) = s.get("required") {
            let missing: Vec<String> = req
                .iter()
                .filter_map(Value::as_str)
                .filter(|k| !obj.contains_key(*k))
                .map(quote)
                .collect();
            match missing.len() {
                0 => {}
                1 => err(format!("missing property {}", missing[0])),
                _ => err(format!("missing properties {}", missing.join(", "))),
            }
        }
        // v6 walks the instance's keys: properties first, unknown keys collected for
        // additionalProperties, reported after the walk.
        let props = s.get("properties").and_then(Value::as_object);
        let closed = s.get("additionalProperties") == Some(&Value::Bool(false));
        let mut extra: Vec<String> = Vec::new();
        for (k, val) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(sub) => validate_at(sub, val, &ptr_push(ptr, k), out),
                None if closed => extra.push(quote(k)),
                None => {}
            }
        }
        if !extra.is_empty() {
            out.push(format!(
                "at {}: additional properties {} not allowed",
                quote(ptr),
                extra.join(", ")
            ));
        }
    }
    if let Value::Array(items) = v {
        if let Some(item_schema) = s.get("items") {
            for (i, it) in items.iter().enumerate() {
                validate_at(item_schema, it, &ptr_push(ptr, &i.to_string()), out);
            }
        }
        if let Some(min) = s.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                out.push(format!(
                    "at {}: minItems: got {}, want {min}",
                    quote(ptr),
                    items.len()
                ));
            }
        }
    }
    if let Some(Value::Array(branches)) = s.get("oneOf") {
        let matched: Vec<usize> = branches
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                let mut tmp = Vec::new();
                validate_at(b, v, ptr, &mut tmp);
                tmp.is_empty()
            })
            .map(|(i, _)| i)
            .collect();
        match matched.len() {
            1 => {}
            0 => out.push(format!("at {}: 'oneOf' failed, none matched", quote(ptr))),
            _ => out.push(format!(
                "at {}: 'oneOf' failed, subschemas {}, {} matched",
                quote(ptr),
                matched[0],
                matched[1]
            )),
        }
    }
}
