//! Provisioning: KEB's `ProvisionEndpoint.Provision` checks, in KEB's order, and the
//! twinstack parameter object.

use crate::context::{validate_context, ErsContext};
use crate::error::{go_kind, multierror_text, OsbError};
use crate::gonet::{netip_prefix_bits, overlaps, validate_cidr};
use crate::plans::{plan_by_id, Plan};
use crate::schema::{create_schema, validate};
use crate::KebOptions;
use ipnet::{IpNet, Ipv6Net};
use serde_json::Value;
use twinstack_core::ipam::Family;
use twinstack_core::runtime::{
    Provider, DEFAULT_NODES_CIDR, DEFAULT_PODS_CIDR, DEFAULT_SERVICES_CIDR, GARDENER_SEED_CIDRS,
};

/// The key of the twinstack parameter object inside `parameters` (not a KEB field).
pub const TWINSTACK_KEY: &str = "twinstack";

/// The networking a runtime was provisioned with (KEB's IPv4 ranges, defaults filled in).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedNetworking {
    pub nodes: IpNet,
    pub pods: IpNet,
    pub services: IpNet,
    /// `networking.dualStack` as KEB stores it (dropped to `false` on plans without dual stack).
    pub dual_stack: bool,
    /// Whether the request carried a `networking` object at all.
    pub custom: bool,
}

/// Explicit IPv6 ranges from `parameters.twinstack.ipv6`; `None` = provider-assigned.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ipv6Ranges {
    pub nodes: Option<Ipv6Net>,
    pub pods: Option<Ipv6Net>,
    pub services: Option<Ipv6Net>,
}

/// A validated provisioning request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisionPlan {
    pub plan: Plan,
    pub plan_id: String,
    pub plan_name: String,
    pub provider: Provider,
    /// The cloud region (trial region groups are mapped to a region of the trial provider).
    pub region: String,
    /// `parameters.name` (the Kyma instance name).
    pub name: String,
    pub machine_type: Option<String>,
    pub auto_scaler_min: Option<u32>,
    pub auto_scaler_max: Option<u32>,
    /// Worker zones, in order.
    pub zones: Vec<String>,
    pub networking: RequestedNetworking,
    /// The runtime's IP families, primary first: `[IPv4]`, `[IPv4, IPv6]`, `[IPv6, IPv4]` or `[IPv6]`.
    pub ip_families: Vec<Family>,
    pub ipv6: Ipv6Ranges,
    /// Parameters KEB accepted but dropped (for example `networking.dualStack` on azure).
    pub ignored_parameters: Vec<String>,
}

impl ProvisionPlan {
    pub fn is_dual_stack(&self) -> bool {
        self.ip_families.len() == 2
    }
    /// The AWS exception of the Kyma dual-stack page: an IPv4-only AWS runtime can still serve
    /// public IPv6 through a dual-stack NLB (IPv6-to-IPv4 translation).
    pub fn aws_ipv6_ingress_exception(&self) -> bool {
        self.provider == Provider::Aws && !self.ip_families.contains(&Family::IPv6)
    }
}

// ---------------------------------------------------------------------------------------------
// Go `encoding/json` decoding of `ProvisioningParametersDTO`.

#[derive(Debug, Default, Clone)]
pub(crate) struct NetDto {
    pub nodes: String,
    pub pods: Option<String>,
    pub services: Option<String>,
    pub dual_stack: Option<bool>,
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Dto {
    pub name: String,
    pub region: Option<String>,
    pub machine_type: Option<String>,
    pub auto_scaler_min: Option<i64>,
    pub auto_scaler_max: Option<i64>,
    pub zones: Vec<String>,
    pub networking: Option<NetDto>,
}

struct Decoder {
    first: Option<String>,
}

impl Decoder {
    fn fail(&mut self, value: &str, strukt: &str, field: &str, ty: &str) {
        if self.first.is_none() {
            self.first = Some(format!(
                "json: cannot unmarshal {value} into Go struct field {strukt}.{field} of type {ty}"
            ));
        }
    }
    fn string(&mut self, v: &Value, strukt: &str, field: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => {
                self.fail(go_kind(other), strukt, field, "string");
                None
            }
        }
    }
    fn boolean(&mut self, v: &Value, strukt: &str, field: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Null => None,
            other => {
                self.fail(go_kind(other), strukt, field, "bool");
                None
            }
        }
    }
    fn int(&mut self, v: &Value, strukt: &str, field: &str) -> Option<i64> {
        match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Some(i),
                None => {
                    self.fail(&format!("number {n}"), strukt, field, "int");
                    None
                }
            },
            Value::Null => None,
            other => {
                self.fail(go_kind(other), strukt, field, "int");
                None
            }
        }
    }
}

// Go matches JSON keys to struct fields exactly or case-insensitively; the last match wins.
pub(crate) fn decode_dto(params: &Value) -> Result<Dto, String> {
    const S: &str = "ProvisioningParametersDTO";
    let obj = match params {
        Value::Null => return Ok(Dto::default()),
        Value::Object(o) => o,
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type runtime.ProvisioningParametersDTO",
                go_kind(other)
            ))
        }
    };
    let mut d = Decoder { first: None };
    let mut dto = Dto::default();
    // Go decodes keys in document order; walk the object once and dispatch.
    for (k, v) in obj {
        let key = k.to_ascii_lowercase();
        match key.as_str() {
            "name" => dto.name = d.string(v, S, "name").unwrap_or(dto.name),
            "region" => {
                if let Some(s) = d.string(v, S, "region") {
                    dto.region = Some(s)
                } else if v.is_null() {
                    dto.region = None
                }
            }
            "machinetype" => {
                if let Some(s) = d.string(v, S, "machineType") {
                    dto.machine_type = Some(s)
                } else if v.is_null() {
                    dto.machine_type = None
                }
            }
            "autoscalermin" => {
                if let Some(i) = d.int(v, "AutoScalerParameters", "autoScalerMin") {
                    dto.auto_scaler_min = Some(i)
                } else if v.is_null() {
                    dto.auto_scaler_min = None
                }
            }
            "autoscalermax" => {
                if let Some(i) = d.int(v, "AutoScalerParameters", "autoScalerMax") {
                    dto.auto_scaler_max = Some(i)
                } else if v.is_null() {
                    dto.auto_scaler_max = None
                }
            }
            "zones" => match v {
                Value::Array(items) => {
                    dto.zones = items
                        .iter()
                        .filter_map(|i| d.string(i, S, "zones"))
                        .collect();
                }
                Value::Null => dto.zones = Vec::new(),
                other => d.fail(go_kind(other), S, "zones", "[]string"),
            },
            // Pointer/slice fields KEB reads later: only their Go type is checked here.
            "additionalworkernodepools" if !matches!(v, Value::Array(_) | Value::Null) => d.fail(
                go_kind(v),
                S,
                "additionalWorkerNodePools",
                "[]runtime.AdditionalWorkerNodePool",
            ),
            "oidc" if !matches!(v, Value::Object(_) | Value::Null) => {
                d.fail(go_kind(v), S, "oidc", "runtime.OIDCConnectDTO")
            }
            "modules" if !matches!(v, Value::Object(_) | Value::Null) => {
                d.fail(go_kind(v), S, "modules", "runtime.ModulesDTO")
            }
            "colocatecontrolplane" => {
                d.boolean(v, S, "colocateControlPlane");
            }
            "ingressfiltering" => {
                d.boolean(v, S, "ingressFiltering");
            }
            "administrators" => match v {
                Value::Array(items) => {
                    for i in items {
                        d.string(i, S, "administrators");
                    }
                }
                Value::Null => {}
                other => d.fail(go_kind(other), S, "administrators", "[]string"),
            },
            "networking" => match v {
                Value::Null => dto.networking = None,
                Value::Object(n) => {
                    const N: &str = "NetworkingDTO";
                    let mut net = dto.networking.take().unwrap_or_default();
                    for (nk, nv) in n {
                        match nk.to_ascii_lowercase().as_str() {
                            "nodes" => {
                                net.nodes = d.string(nv, N, "networking.nodes").unwrap_or(net.nodes)
                            }
                            "pods" => {
                                if let Some(s) = d.string(nv, N, "networking.pods") {
                                    net.pods = Some(s)
                                } else if nv.is_null() {
                                    net.pods = None
                                }
                            }
                            "services" => {
                                if let Some(s) = d.string(nv, N, "networking.services") {
                                    net.services = Some(s)
                                } else if nv.is_null() {
                                    net.services = None
                                }
                            }
                            "dualstack" => {
                                if let Some(b) = d.boolean(nv, N, "networking.dualStack") {
                                    net.dual_stack = Some(b)
                                } else if nv.is_null() {
                                    net.dual_stack = None
                                }
                            }
                            _ => {}
                        }
                    }
                    dto.networking = Some(net);
                }
                other => d.fail(go_kind(other), S, "networking", "runtime.NetworkingDTO"),
            },
            _ => {}
        }
    }
    match d.first {
        Some(e) => Err(e),
        None => Ok(dto),
    }
}

// ---------------------------------------------------------------------------------------------
// KEB `validateNetworking` (internal/broker/instance_create.go).

pub(crate) struct KebRanges {
    pub nodes: IpNet,
    pub pods: IpNet,
    pub services: IpNet,
}

/// Returns the parsed ranges (`None` without `networking`) or the multierror causes.
pub(crate) fn validate_networking(dto: &Dto) -> Result<Option<KebRanges>, Vec<String>> {
    let mut errs: Vec<String> = Vec::new();
    if dto.zones.len() > 4 {
        // the algorithm of creating AWS zone CIDRs does not work for more than 4 zones
        errs.push("number of zones must not be greater than 4".into());
    }
    // KEB returns nil here: the zones error only surfaces together with `networking`.
    let Some(net) = &dto.networking else {
        return Ok(None);
    };
    let nodes = match validate_cidr(&net.nodes) {
        Ok(n) => Some(n),
        Err(e) => {
            errs.push(format!("while parsing nodes CIDR: {e}"));
            None
        }
    };
    if netip_prefix_bits(&net.nodes) > 23 {
        errs.push("the suffix of the node CIDR must not be greater than 23".into());
    }
    let pods = match &net.pods {
        Some(p) => validate_cidr(p)
            .map_err(|e| errs.push(format!("while parsing pods CIDR: {e}")))
            .ok(),
        None => Some(DEFAULT_PODS_CIDR.parse().expect("static")),
    };
    let services = match &net.services {
        Some(s) => validate_cidr(s)
            .map_err(|e| errs.push(format!("while parsing services CIDR: {e}")))
            .ok(),
        None => Some(DEFAULT_SERVICES_CIDR.parse().expect("static")),
    };
    if !errs.is_empty() {
        return Err(errs);
    }
    let (nodes, pods, services) = (
        nodes.expect("parsed"),
        pods.expect("parsed"),
        services.expect("parsed"),
    );
    for seed in GARDENER_SEED_CIDRS {
        let s: IpNet = seed.parse().expect("static");
        if overlaps(&nodes, &s) {
            errs.push(format!("nodes CIDR must not overlap {seed}"));
        }
        if overlaps(&services, &s) {
            errs.push(format!("services CIDR must not overlap {seed}"));
        }
        if overlaps(&pods, &s) {
            errs.push(format!("pods CIDR must not overlap {seed}"));
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    if overlaps(&nodes, &pods) {
        errs.push("nodes CIDR must not overlap pods CIDR".into());
    }
    if overlaps(&nodes, &services) {
        // sic: KEB's typo
        errs.push("nodes CIDR must not overlap serivces CIDR".into());
    }
    if overlaps(&services, &pods) {
        errs.push("services CIDR must not overlap pods CIDR".into());
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Some(KebRanges {
        nodes,
        pods,
        services,
    }))
}

// ---------------------------------------------------------------------------------------------

fn provision_error(opts: &KebOptions, status: u16, text: String) -> OsbError {
    let action = format!("[instanceID: {}] {}", opts.instance_id, text);
    OsbError::new(status, text).with_logger_action(action)
}

/// Splits `parameters` into KEB's part and the twinstack object.
pub(crate) fn split_twinstack(params: &Value) -> (Value, Option<Value>) {
    match params {
        Value::Object(o) if o.contains_key(TWINSTACK_KEY) => {
            let mut o = o.clone();
            let ext = o.shift_remove(TWINSTACK_KEY);
            (Value::Object(o), ext)
        }
        other => (other.clone(), None),
    }
}

fn default_zones(provider: Provider, region: &str, n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let letter = (b'a' + i as u8) as char;
            match provider {
                Provider::Gcp => format!("{region}-{letter}"),
                Provider::Azure => format!("{}", i + 1),
                _ => format!("{region}{letter}"),
            }
        })
        .collect()
}

/// Validates a provisioning request (`PUT /v2/service_instances/:id`) for `plan_id` with the
/// request's `parameters`, in KEB's order (`ProvisionEndpoint.Provision` and `.validate`,
/// internal/broker/instance_create.go), without the request context; see
/// [`validate_provision_request`] for the full sequence.
///
/// 1. Go decoding of `ProvisioningParametersDTO` (400 `while unmarshaling raw parameters: json: ...`)
/// 2. plan enabled (400 `plan ID "<id>" is not recognized`)
/// 3. `additionalWorkerNodePools` ([`crate::additional_worker_node_pools`])
/// 4. `validateNetworking` (go-multierror text)
/// 5. auto-scaler bounds (`AutoScalerMax ... should be larger than AutoScalerMin ...`)
/// 6. `oidc` ([`crate::oidc`])
/// 7. `ingressFiltering` on plans outside `ingressFilteringPlans`
/// 8. JSON schema of the plan (`while validating input parameters: at '...': ...`)
/// 9. trial region group (`invalid region specified in request for trial`)
/// 10. the twinstack object `parameters.twinstack` (Gardener field-error wording)
///
/// Every failure is 400: KEB's inner checks build 422 `FailureResponse`s (auto-scaler, OIDC,
/// worker pools), but `Provision` wraps whatever `validate` returns in
/// `apiresponses.NewFailureResponse(err, http.StatusBadRequest, ...)`, and brokerapi answers
/// with the outer status and the inner text.
///
/// `dualStack: true` on a provider without the dual-stack flag is dropped (listed in
/// [`ProvisionPlan::ignored_parameters`]) in default mode, and is a schema error in strict mode.
pub fn validate_provision(
    plan_id: &str,
    params: &Value,
    opts: &KebOptions,
) -> Result<ProvisionPlan, OsbError> {
    provision(plan_id, params, None, opts).map(|(p, _)| p)
}

/// [`validate_provision`] with the request `context` and the store facts, the whole of KEB's
/// sequence: parameters decoding → [`crate::validate_context`] (400 `global accountID parameter
/// cannot be empty`, ...) → the checks of [`validate_provision`] → "one trial per global
/// account" ([`crate::trial::check_single_trial`]). `instances_in_global_account` is the
/// number of non-deleted instances of the context's global account (any plan, as KEB counts);
/// the broker reads it from its store with [`crate::ErsContext::global_account_id`] of
/// [`crate::validate_context`]`(context)` (0 when the context is invalid: the context error
/// comes first).
pub fn validate_provision_request(
    plan_id: &str,
    params: &Value,
    context: &Value,
    instances_in_global_account: usize,
    opts: &KebOptions,
) -> Result<(ProvisionPlan, ErsContext), OsbError> {
    let (plan, ctx) = provision(plan_id, params, Some(context), opts)?;
    crate::trial::check_single_trial(plan.plan, instances_in_global_account, opts)
        .map_err(|e| provision_error(opts, e.status, e.description))?;
    Ok((plan, ctx))
}

fn provision(
    plan_id: &str,
    params: &Value,
    context: Option<&Value>,
    opts: &KebOptions,
) -> Result<(ProvisionPlan, ErsContext), OsbError> {
    let (keb_params, ext) = split_twinstack(params);
    let dto = decode_dto(&keb_params).map_err(|e| {
        OsbError::bad_request(format!("while unmarshaling raw parameters: {e}"))
            .with_logger_action("while extracting input parameters")
    })?;
    let ers = match context {
        Some(c) => validate_context(c)?,
        None => ErsContext::default(),
    };
    let plan = match plan_by_id(plan_id) {
        Some(p) if opts.enabled_plans.contains(&p.plan) => p,
        _ => {
            return Err(provision_error(
                opts,
                400,
                format!("plan ID {plan_id:?} is not recognized"),
            ))
        }
    };
    let mut dto = dto;
    if plan.plan == Plan::Trial {
        dto.machine_type = None;
        dto.auto_scaler_min = None;
        dto.auto_scaler_max = None;
    }
    let obj = keb_params.as_object();
    let field = |k: &str| obj.and_then(|o| o.get(k)).filter(|v| !v.is_null());
    // validateZonesAndSupportedMachines → validateAdditionalWorkerNodePools (Go: `!= nil`).
    if let Some(pools) = field("additionalWorkerNodePools") {
        let pools = crate::additional_worker_node_pools::parse(pools);
        crate::additional_worker_node_pools::validate(plan.plan, plan.id, &pools)
            .map_err(|e| provision_error(opts, 400, e))?;
    }
    let ranges = validate_networking(&dto)
        .map_err(|errs| provision_error(opts, 400, multierror_text(&errs)))?;
    if let Some(a) = plan.auto_scaler {
        let (pmin, pmax) = (i64::from(a.default_min), i64::from(a.default_max));
        let min = dto.auto_scaler_min.unwrap_or(pmin);
        let max = dto.auto_scaler_max.unwrap_or(pmax);
        if min > max {
            let show = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "<nil>".into());
            let text = format!(
                "AutoScalerMax {max} should be larger than AutoScalerMin {min}. User provided values min:{}, max:{}; plan defaults min:{pmin}, max:{pmax}",
                show(dto.auto_scaler_min),
                show(dto.auto_scaler_max)
            );
            return Err(provision_error(opts, 400, text));
        }
    }
    if let Some(o) = field("oidc") {
        if crate::oidc::is_provided(Some(o)) {
            crate::oidc::validate(o, crate::oidc::InstanceOidc::None)
                .map_err(|e| provision_error(opts, 400, e))?;
        }
    }
    if let Some(f) = field("ingressFiltering") {
        validate_ingress_filtering(plan.plan, f.as_bool().unwrap_or(false), &ers, opts)
            .map_err(|e| provision_error(opts, 400, e))?;
    }
    let causes = validate(&create_schema(plan, opts), &keb_params);
    if !causes.is_empty() {
        return Err(provision_error(
            opts,
            400,
            format!("while validating input parameters: {}", causes.join(", ")),
        ));
    }
    let provider = plan.provider_on(opts.platform_provider);
    let region = if plan.plan == Plan::Trial {
        let group = dto.region.as_deref().filter(|r| !r.is_empty());
        if let Some(g) = group {
            if !crate::trial::TRIAL_REGION_GROUPS.contains(&g) {
                return Err(provision_error(
                    opts,
                    400,
                    crate::trial::INVALID_TRIAL_REGION.into(),
                ));
            }
        }
        crate::trial::trial_region(provider, opts.platform_region.as_deref(), group).to_string()
    } else {
        dto.region.clone().unwrap_or_default()
    };

    let mut ignored = Vec::new();
    // create_runtime_resource_step.go `createNetworkingConfiguration`: DualStack is kept when
    // the provider has the dual-stack flag (trial included: its schema does not list
    // `networking`, but the open schema lets it through), dropped (nil) otherwise.
    let offers_dual_stack = opts.dual_stack_providers.contains(&provider);
    let requested_dual = dto.networking.as_ref().and_then(|n| n.dual_stack);
    if requested_dual.is_some() && !offers_dual_stack {
        ignored.push("networking.dualStack".to_string());
    }
    let dual_stack = offers_dual_stack && requested_dual == Some(true);
    let networking = match &ranges {
        Some(r) => RequestedNetworking {
            nodes: r.nodes,
            pods: r.pods,
            services: r.services,
            dual_stack,
            custom: true,
        },
        None => RequestedNetworking {
            nodes: DEFAULT_NODES_CIDR.parse().expect("static"),
            pods: DEFAULT_PODS_CIDR.parse().expect("static"),
            services: DEFAULT_SERVICES_CIDR.parse().expect("static"),
            dual_stack,
            custom: false,
        },
    };
    let zones = if dto.zones.is_empty() || plan.plan == Plan::Trial {
        default_zones(provider, &region, plan.zones)
    } else {
        dto.zones.clone()
    };
    let (machine_type, auto_scaler_min, auto_scaler_max) = match plan.auto_scaler {
        Some(a) => (
            dto.machine_type
                .clone()
                .or(plan.default_machine_type.map(str::to_string)),
            Some(
                dto.auto_scaler_min
                    .map(|v| v as u32)
                    .unwrap_or(a.default_min),
            ),
            Some(
                dto.auto_scaler_max
                    .map(|v| v as u32)
                    .unwrap_or(a.default_max),
            ),
        ),
        None => (None, None, None),
    };
    let mut out = ProvisionPlan {
        plan: plan.plan,
        plan_id: plan.id.to_string(),
        plan_name: plan.name.to_string(),
        provider,
        region,
        name: dto.name.clone(),
        machine_type,
        auto_scaler_min,
        auto_scaler_max,
        zones,
        networking,
        ip_families: if dual_stack {
            vec![Family::IPv4, Family::IPv6]
        } else {
            vec![Family::IPv4]
        },
        ipv6: Ipv6Ranges::default(),
        ignored_parameters: ignored,
    };
    apply_twinstack(
        &mut out,
        ext.as_ref(),
        requested_dual.filter(|_| offers_dual_stack),
        opts,
    )
    .map_err(|errs| provision_error(opts, 400, aggregate(&errs)))?;
    Ok((out, ers))
}

/// `validateIngressFiltering` (instance_create.go): the parameter only on
/// `ingressFilteringPlans`, and never `true` for external licenses. KEB logs the reason and
/// answers the same text for both.
pub fn validate_ingress_filtering(
    plan: Plan,
    value: bool,
    ctx: &ErsContext,
    opts: &KebOptions,
) -> Result<(), String> {
    if !opts.ingress_filtering_plans.contains(&plan) || (ctx.is_external_license() && value) {
        return Err(INGRESS_FILTERING_NOT_AVAILABLE.into());
    }
    Ok(())
}

/// `IngressFilteringOptionIsNotSupported`.
pub const INGRESS_FILTERING_NOT_AVAILABLE: &str = "ingress filtering option is not available";

/// `k8s.io/apimachinery` `utilerrors.NewAggregate(...).Error()`.
pub(crate) fn aggregate(errs: &[String]) -> String {
    if errs.len() == 1 {
        errs[0].clone()
    } else {
        format!("[{}]", errs.join(", "))
    }
}

fn families_go(f: &[Family]) -> String {
    format!(
        "[{}]",
        f.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" ")
    )
}

fn families_json(f: &[Family]) -> String {
    format!(
        "[{}]",
        f.iter()
            .map(|x| format!("{:?}", x.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Parses `parameters.twinstack.ipFamilies` with Gardener's `ValidateIPFamilies` messages.
pub(crate) fn parse_ext_families(v: &Value, errs: &mut Vec<String>) -> Option<Vec<Family>> {
    let Value::Array(items) = v else {
        errs.push(format!(
            "spec.networking.ipFamilies: Invalid value: {}: must be a list of IP families",
            v
        ));
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (i, it) in items.iter().enumerate() {
        let s = it.as_str().unwrap_or("");
        match s.parse::<Family>() {
            Ok(f) if out.contains(&f) => {
                errs.push(format!(
                    "spec.networking.ipFamilies[{i}]: Duplicate value: {s:?}"
                ));
                ok = false;
            }
            Ok(f) => out.push(f),
            Err(_) => {
                let shown = if it.is_string() {
                    format!("{s:?}")
                } else {
                    it.to_string()
                };
                errs.push(format!(
                    "spec.networking.ipFamilies[{i}]: Unsupported value: {shown}: supported values: \"IPv4\", \"IPv6\""
                ));
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    if out.is_empty() {
        out.push(Family::IPv4); // Gardener defaults to ["IPv4"]
    }
    Some(out)
}

fn apply_twinstack(
    plan: &mut ProvisionPlan,
    ext: Option<&Value>,
    dual_stack_param: Option<bool>,
    opts: &KebOptions,
) -> Result<(), Vec<String>> {
    let mut errs = Vec::new();
    // KEB's ranges are IPv4 only: IPv6 strings parse in Go but KIM/Gardener would fail later.
    for (field, net) in [
        ("nodes", plan.networking.nodes),
        ("pods", plan.networking.pods),
        ("services", plan.networking.services),
    ] {
        if let IpNet::V6(_) = net {
            errs.push(format!(
                "spec.networking.{field}: Invalid value: {:?}: networking.{field} must be an IPv4 CIDR (IPv6 ranges come from the provider or parameters.twinstack.ipv6)",
                net.to_string()
            ));
        }
    }
    let Some(ext) = ext else {
        return if errs.is_empty() { Ok(()) } else { Err(errs) };
    };
    let Value::Object(obj) = ext else {
        errs.push(format!(
            "parameters.twinstack: Invalid value: {ext}: must be an object"
        ));
        return Err(errs);
    };
    for k in obj.keys() {
        if k != "ipFamilies" && k != "ipv6" {
            errs.push(format!(
                "parameters.twinstack.{k}: Not found: unknown field"
            ));
        }
    }
    let families = match obj.get("ipFamilies") {
        Some(v) => parse_ext_families(v, &mut errs),
        None => Some(plan.ip_families.clone()),
    };
    if let Some(fams) = &families {
        if fams.contains(&Family::IPv6) && !opts.dual_stack_providers.contains(&plan.provider) {
            errs.push(format!(
                "IPv6 is not available on {}: Kyma runtimes support dual stack only on aws and gcp",
                plan.provider.as_str()
            ));
        } else if plan.provider == Provider::Gcp && fams.as_slice() == [Family::IPv6] {
            // gardener-extension-provider-gcp
            errs.push("IPv6 single-stack networking is not supported".into());
        }
        if let Some(ds) = dual_stack_param {
            if obj.contains_key("ipFamilies") && ds != (fams.len() == 2) {
                errs.push(format!(
                    "parameters.twinstack.ipFamilies: Invalid value: {}: contradicts networking.dualStack: {ds}",
                    families_json(fams)
                ));
            }
        }
    }
    let mut ranges = Ipv6Ranges::default();
    match obj.get("ipv6") {
        None | Some(Value::Null) => {}
        Some(Value::Object(v6)) => {
            if families
                .as_ref()
                .is_some_and(|f| !f.contains(&Family::IPv6))
            {
                errs.push(
                    "parameters.twinstack.ipv6: Forbidden: IPv6 ranges need IPv6 in ipFamilies"
                        .into(),
                );
            }
            for (k, v) in v6 {
                let slot = match k.as_str() {
                    "nodes" => &mut ranges.nodes,
                    "pods" => &mut ranges.pods,
                    "services" => &mut ranges.services,
                    _ => {
                        errs.push(format!(
                            "parameters.twinstack.ipv6.{k}: Not found: unknown field"
                        ));
                        continue;
                    }
                };
                let Some(s) = v.as_str() else {
                    errs.push(format!(
                        "spec.networking.{k}: Invalid value: {v}: must be a string"
                    ));
                    continue;
                };
                match validate_cidr(s) {
                    Err(e) if e.starts_with("invalid CIDR") => {
                        errs.push(format!("spec.networking.{k}: Invalid value: {s:?}: {e}"))
                    }
                    Err(_) => errs.push(format!(
                        "spec.networking.{k}: Invalid value: {s:?}: must be valid canonical CIDR"
                    )),
                    Ok(IpNet::V4(_)) => errs.push(format!(
                        "spec.networking.{k}: Invalid value: {s:?}: must be an IPv6 CIDR"
                    )),
                    Ok(IpNet::V6(n)) => {
                        if k == "services" && n.prefix_len() < 108 {
                            errs.push(format!(
                                "spec.networking.services: Invalid value: {s:?}: specified --service-cluster-ip-range is too large; for 128-bit addresses, the mask must be >= 108"
                            ));
                        } else if k != "services" && n.prefix_len() > 64 {
                            errs.push(format!(
                                "spec.networking.{k}: Invalid value: {s:?}: must be /64 or larger"
                            ));
                        } else {
                            *slot = Some(n);
                        }
                    }
                }
            }
        }
        Some(other) => errs.push(format!(
            "parameters.twinstack.ipv6: Invalid value: {other}: must be an object"
        )),
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    if let Some(f) = families {
        plan.ip_families = f;
    }
    plan.ipv6 = ranges;
    Ok(())
}

pub(crate) fn families_for_message(f: &[Family]) -> String {
    families_go(f)
}
