//! Pure rules of the Kyma Environment Broker (KEB) and Gardener for twinstack: the OSB catalog,
//! plans, provisioning and update validation with KEB's messages and order, and the networking
//! of a provisioned runtime (Gardener Shoot, KIM's `kyma-provisioning-info`, `kube-dns`).
//! No I/O: the HTTP broker and the CLI call these functions.
//!
//! # Public API
//!
//! Catalog and plans ([`mod@catalog`], [`plans`]):
//! * [`catalog()`] → `serde_json::Value`: `{"services": [kymaruntime]}` with default options;
//!   [`catalog_with(&KebOptions)`](catalog_with) for strict mode / other platforms.
//! * [`plans::plan_by_id`]`(&str)`, [`plans::plan_by_name`]`(&str)` → `Option<&'static PlanInfo>`;
//!   [`Plan`] (`aws`, `gcp`, `azure`, `azure_lite`, `sap-converged-cloud`, `trial`, `free`,
//!   `preview`, `build-runtime-aws|gcp|azure|alicloud`, `alicloud`, `gdch`) with `.id()`,
//!   `.name()`, `.provider()`; [`PlanInfo::provider_on`](plans::PlanInfo::provider_on) for
//!   `free`/`trial`, [`PlanInfo::regions_for`](plans::PlanInfo::regions_for)`(platform, platform region)`,
//!   [`PlanInfo::offered_on`](plans::PlanInfo::offered_on).
//! * [`schema::create_schema`], [`schema::update_schema`] → the plan's JSON schemas.
//!
//! Requests ([`request`]):
//! * [`provision_details_with`]`(body, &KebOptions)` / [`update_details`]`(body)` → brokerapi's
//!   decoding and ID checks with its texts (422 Go decoding errors, 400 `service_id missing`,
//!   400 `plan-id not in the catalog` for plans not in the catalog KEB serves under the options),
//!   KEB's 64 KiB [`MAX_RAW_PARAMETERS_SIZE`]; [`provision_details`] = with default options.
//! * [`validate_context`]`(&context)` → [`ErsContext`] or 400 (`global accountID parameter
//!   cannot be empty`, ...); gives the global account the broker counts instances of.
//! * [`runtime_name`]`(instance ID)` → the twinstack runtime name: KEB's Shoot name, derived from the ID.
//!
//! Validation:
//! * [`validate_provision_request`]`(plan_id, &params, &context, instances_in_global_account,
//!   &KebOptions) -> Result<(ProvisionPlan, ErsContext), OsbError>`: KEB's whole provisioning
//!   sequence (decoding, context, checks, one trial per global account).
//! * [`validate_provision`]`(plan_id, &params, &KebOptions) -> Result<ProvisionPlan, OsbError>`
//!   (the same without context and trial count)
//! * Rule modules: [`additional_worker_node_pools`], [`oidc`], [`trial`], [`context`],
//!   [`validate_ingress_filtering`].
//! * [`validate_update`]`(plan_id, &stored ProvisionPlan, &params, &KebOptions) -> Result<UpdateOutcome, OsbError>`
//! * [`OsbError`] `{ status, error, description, logger_action }`, [`OsbError::body`] → the OSB body.
//!
//! Runtime networking:
//! * [`shoot_networking`]`(&ProvisionPlan, runtime_name) -> ShootNetworking` with
//!   `.spec_json()`, `.status_json()`, `.to_network()` / `Network::from(&shoot)` (core's [`Network`](twinstack_core::runtime::Network)),
//!   `.kube_dns_ips()`, `.node_ipv6(zone, index)`, and the AWS exception flag
//!   [`ShootNetworking::aws_ipv4_runtime_dual_stack_nlb`].
//! * [`provisioning_info_configmap`]`(&ProvisionPlan, &ShootNetworking, &ProvisioningInfo)` →
//!   `kyma-system/kyma-provisioning-info` ConfigMap JSON (`data.details` YAML with
//!   `networkDetails.dualStackIPEnabled`).
//! * [`kube_dns_service`]`(&ShootNetworking)` → `kube-system/kube-dns` Service JSON.
//! * [`shoot::aws_zone_layout`] → KIM's AWS zone CIDRs.
//!
//! Value types: [`ProvisionPlan`] `{ plan, plan_id, plan_name, provider, region, name,
//! machine_type, auto_scaler_min, auto_scaler_max, zones, networking: RequestedNetworking { nodes,
//! pods, services, dual_stack, custom }, ip_families, ipv6: Ipv6Ranges { nodes, pods, services },
//! ignored_parameters }` (`name` is `parameters.name`; the twinstack runtime name is passed to
//! [`shoot_networking`] separately), [`UpdateOutcome`] `{ plan, ignored_parameters, changed, new_operation }`,
//! [`KebOptions`] `{ reject_unsupported_parameters, instance_id, dual_stack_providers,
//! platform_provider, include_additional_params_in_schema, enabled_plans,
//! sync_empty_update_response, platform_region, only_single_trial_per_ga, enable_plan_upgrades,
//! binding_enabled, ingress_filtering_plans }`.
//!
//! # Provisioning checks, in KEB's order
//!
//! | step | status | description (body) |
//! |---|---|---|
//! | Go decoding of `ProvisioningParametersDTO` | 400 | `while unmarshaling raw parameters: json: cannot unmarshal number into Go struct field NetworkingDTO.networking.nodes of type string` |
//! | `extractERSContext` (only [`validate_provision_request`]) | 400 | `global accountID parameter cannot be empty`, `subAccountID parameter cannot be empty`, `UserID parameter cannot be empty` |
//! | plan enabled | 400 | `plan ID "<id>" is not recognized` |
//! | `additionalWorkerNodePools` | 400 | `names of additional worker node pools must be unique`, `The following additionalWorkerPools have validation issues: ...` |
//! | `validateNetworking` (go-multierror text, e.g. `1 error occurred:\n\t* <msg>\n\n`) | 400 | `number of zones must not be greater than 4` (only with `networking`), `while parsing nodes CIDR: invalid CIDR address: 1abcd`, `while parsing pods CIDR: 10.96.0.1 must be valid canonical CIDR`, `the suffix of the node CIDR must not be greater than 23`; then per seed `nodes/services/pods CIDR must not overlap <seed>`; then `nodes CIDR must not overlap pods CIDR`, `nodes CIDR must not overlap serivces CIDR` (sic), `services CIDR must not overlap pods CIDR` |
//! | auto-scaler (KEB's inner 422 is wrapped into 400 by `Provision`) | 400 | `AutoScalerMax 5 should be larger than AutoScalerMin 10. User provided values min:10, max:5; plan defaults min:3, max:20` |
//! | `oidc` | 400 | `issuerURL must have https scheme`, `clientID must not be empty for OIDC at index 0` |
//! | `ingressFiltering` | 400 | `ingress filtering option is not available` |
//! | JSON schema (jsonschema v6 wording) | 400 | `while validating input parameters: at '/networking': additional properties 'dualStack' not allowed` |
//! | trial region group | 400 | `invalid region specified in request for trial` |
//! | one trial per global account (only [`validate_provision_request`]) | 400 | `trial Kyma was created for the global account, but there is only one allowed` |
//! | `parameters.twinstack` | 400 | `spec.networking.ipFamilies[0]: Unsupported value: "IPv5": supported values: "IPv4", "IPv6"`, `IPv6 single-stack networking is not supported` |
//!
//! The body's `description` is the error text itself; KEB's `"[instanceID: <id>] <err>"` string
//! is brokerapi's *logger action* (see [`OsbError::logger_action`]).
//!
//! # The twinstack parameter object
//!
//! `parameters.twinstack` is twinstack's own, kept apart from KEB's fields (removed before KEB's
//! checks, exempt from strict mode):
//!
//! ```json
//! "twinstack": { "ipFamilies": ["IPv6", "IPv4"],
//!                "ipv6": { "nodes": "2600:1f18:0:100::/56", "pods": "...", "services": "2600:1f18:0:100:0:0:10::/108" } }
//! ```
//!
//! Any Gardener-valid family list (`[IPv4]`, `[IPv6]`, `[IPv4, IPv6]`, `[IPv6, IPv4]`) on a
//! provider with dual stack; Gardener's messages (`Unsupported value`, `Duplicate value`,
//! GCP `IPv6 single-stack networking is not supported`).

pub mod additional_worker_node_pools;
pub mod binding;
pub mod catalog;
pub mod context;
pub mod endpoints;
pub mod error;
pub mod gonet;
pub mod oidc;
pub mod operations;
pub mod plans;
pub mod provision;
pub mod request;
pub mod schema;
pub mod shoot;
pub mod trial;
pub mod update;

pub use catalog::{catalog, catalog_with};
pub use context::{validate_context, ErsContext};
pub use error::OsbError;
pub use plans::{plan_by_id, plan_by_name, Plan, PlanInfo, KYMA_SERVICE_ID, KYMA_SERVICE_NAME};
pub use provision::{
    validate_ingress_filtering, validate_provision, validate_provision_request, Ipv6Ranges,
    ProvisionPlan, RequestedNetworking, TWINSTACK_KEY,
};
pub use request::{
    provision_details, provision_details_with, runtime_name, update_details, ProvisionDetails,
    UpdateDetails, MAX_RAW_PARAMETERS_SIZE,
};
pub use shoot::{
    kube_dns_service, provisioning_info_configmap, shoot_networking, ProvisioningInfo,
    ShootNetworking,
};
pub use update::{validate_update, UpdateOutcome};

use twinstack_core::runtime::Provider;

/// KEB configuration that changes answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KebOptions {
    /// `APP_BROKER_REJECT_UNSUPPORTED_PARAMETERS` (default `false`): schemas get
    /// `additionalProperties: false`, unknown parameters are refused.
    pub reject_unsupported_parameters: bool,
    /// The instance ID of the request; only used in [`OsbError::logger_action`].
    pub instance_id: String,
    /// Providers with `providersConfiguration.<provider>.dualStack: true` (default aws, gcp).
    pub dual_stack_providers: Vec<Provider>,
    /// The platform provider of the request (decides `free`/`trial`; default aws).
    pub platform_provider: Provider,
    /// `includeAdditionalParamsInSchema` (oidc, administrators; default true).
    pub include_additional_params_in_schema: bool,
    /// `APP_BROKER_ENABLE_PLANS` (default: all plans of this crate).
    pub enabled_plans: Vec<Plan>,
    /// `broker.syncEmptyUpdateResponseEnabled` (default false): an update that changes nothing
    /// is answered synchronously (200) instead of with a new operation (202).
    pub sync_empty_update_response: bool,
    /// The platform (BTP) region of the request (`cf-eu10`, ...), KEB's `RegionFromContext`.
    /// Decides plan regions ([`PlanInfo::regions_for`]), which plans are in the catalog, and the
    /// trial region. `None` (default): every region of each plan, trial region from `region`.
    pub platform_region: Option<String>,
    /// `broker.onlySingleTrialPerGA` (KEB default true).
    pub only_single_trial_per_ga: bool,
    /// `broker.enablePlanUpgrades` (KEB default false): with it off every plan change is
    /// refused and `plan_updateable` is false.
    pub enable_plan_upgrades: bool,
    /// `broker.binding.enabled` (KEB default false): plans get `bindable: true` only with it on
    /// (then `bindablePlans`, default `aws`).
    pub binding_enabled: bool,
    /// `infrastructureManager.ingressFilteringPlans` (KEB default `azure,gcp,aws`).
    pub ingress_filtering_plans: Vec<Plan>,
}

impl Default for KebOptions {
    fn default() -> Self {
        KebOptions {
            reject_unsupported_parameters: false,
            instance_id: String::new(),
            dual_stack_providers: vec![Provider::Aws, Provider::Gcp],
            platform_provider: Provider::Aws,
            include_additional_params_in_schema: true,
            enabled_plans: plans::PLANS.iter().map(|p| p.plan).collect(),
            sync_empty_update_response: false,
            platform_region: None,
            only_single_trial_per_ga: true,
            enable_plan_upgrades: false,
            binding_enabled: false,
            ingress_filtering_plans: vec![Plan::Azure, Plan::Gcp, Plan::Aws],
        }
    }
}

impl KebOptions {
    /// Default options with `rejectUnsupportedParameters` on.
    pub fn strict() -> KebOptions {
        KebOptions {
            reject_unsupported_parameters: true,
            ..KebOptions::default()
        }
    }
}
