//! `GET /runtimes` as KEB answers it: query parsing (`common/pagination/pagination.go`
//! `ExtractPaginationConfigFromRequest`, `internal/runtime/handler.go` `getFilters`, `getOpDetail`,
//! `getBoolParam`), the instance filters and paging of the SQL storage
//! (`internal/storage/postsql/read.go` `ListInstancesWithSubaccountStates`, `ListInstances`,
//! `ListInstancesArchived`, `buildInstanceStateFilters`, `addInstanceFilters`,
//! `addInstanceArchivedFilter`), and the DTO (`common/runtime/model.go` `RuntimeDTO`,
//! `internal/runtime/converter.go`).

use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::{ApiError, Time};

/// `cmd/broker/main.go` `Config.MaxPaginationPage` (`envconfig:"default=100"`): the default and
/// the maximum `page_size`.
pub const DEFAULT_MAX_PAGE: usize = 100;

/// `internal/runtime/handler.go` `numberOfUpgradeOperationsToReturn`.
pub const UPDATE_OPERATIONS_TO_RETURN: usize = 2;

// ---------------------------------------------------------------------------------------------
// Query
// ---------------------------------------------------------------------------------------------

/// `common/runtime/model.go` `State`: the runtime states of the API (query values and
/// `status.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Succeeded,
    Failed,
    Error,
    Provisioning,
    Deprovisioning,
    Deprovisioned,
    DeprovisionIncomplete,
    Upgrading,
    Updating,
    Suspended,
    /// `all`: only a query value.
    All,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Error => "error",
            State::Provisioning => "provisioning",
            State::Deprovisioning => "deprovisioning",
            State::Deprovisioned => "deprovisioned",
            State::DeprovisionIncomplete => "deprovisionincomplete",
            State::Upgrading => "upgrading",
            State::Updating => "updating",
            State::Suspended => "suspended",
            State::All => "all",
        }
    }
    /// Case-sensitive, as Go's `switch pkg.State(s)`.
    pub fn parse(s: &str) -> Option<State> {
        [
            State::Succeeded,
            State::Failed,
            State::Error,
            State::Provisioning,
            State::Deprovisioning,
            State::Deprovisioned,
            State::DeprovisionIncomplete,
            State::Upgrading,
            State::Updating,
            State::Suspended,
            State::All,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `dbmodel.InstanceState`: the storage's state filters (on the instance's last operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbState {
    Succeeded,
    Failed,
    Error,
    Provisioning,
    Deprovisioning,
    Upgrading,
    Updating,
    Deprovisioned,
    NotDeprovisioned,
}

/// `op_detail`: `all` (default) or `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OperationDetail {
    #[default]
    All,
    Last,
}

/// `dbmodel.InstanceFilter` as `getFilters` fills it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstanceFilter {
    pub global_account_ids: Vec<String>,
    pub subaccount_ids: Vec<String>,
    pub instance_ids: Vec<String>,
    pub runtime_ids: Vec<String>,
    pub regions: Vec<String>,
    pub shoots: Vec<String>,
    pub plans: Vec<String>,
    pub states: Vec<DbState>,
    /// `expired=true` (first value only): `expired_at IS NOT NULL`.
    pub expired: bool,
    /// `state=deprovisionincomplete` (or `deprovisioned`): `deleted_at` set.
    pub deletion_attempted: bool,
    /// `with_bindings=true` (first value only): the instance has a binding.
    pub binding_exists: bool,
    /// `state=suspended`: `ers_context.active IS false`, OR-ed with the states.
    pub suspended: bool,
}

/// The parsed query of `GET /runtimes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimesQuery {
    pub page_size: usize,
    pub page: usize,
    pub filter: InstanceFilter,
    pub op_detail: OperationDetail,
    /// `runtime_config=true`: attach the KIM `Runtime` CR (I/O; see [`runtime_config_object`]).
    pub runtime_config: bool,
    /// `bindings=true`: attach [`BindingDto`]s (I/O).
    pub bindings: bool,
    /// `actions=true`: attach the instance's actions (I/O).
    pub actions: bool,
}

impl RuntimesQuery {
    /// [`RuntimesQuery::parse_with_max`] with KEB's default `MaxPaginationPage` (100).
    pub fn parse(pairs: &[(String, String)]) -> Result<RuntimesQuery, ApiError> {
        RuntimesQuery::parse_with_max(pairs, DEFAULT_MAX_PAGE)
    }

    /// Parse decoded query pairs (in URL order). Errors are KEB's 400s:
    /// `while getting query parameters: <pagination error>`. Unknown states and unknown
    /// parameters are ignored, as in KEB.
    pub fn parse_with_max(
        pairs: &[(String, String)],
        max_page: usize,
    ) -> Result<RuntimesQuery, ApiError> {
        let (page_size, page) = extract_pagination(pairs, max_page)
            .map_err(|e| ApiError::new(400, format!("while getting query parameters: {e}")))?;
        let filter = get_filters(pairs);
        // getOpDetail: the last recognised value wins.
        let mut op_detail = OperationDetail::All;
        for v in values(pairs, "op_detail") {
            match v {
                "all" => op_detail = OperationDetail::All,
                "last" => op_detail = OperationDetail::Last,
                _ => {}
            }
        }
        Ok(RuntimesQuery {
            page_size,
            page,
            filter,
            op_detail,
            runtime_config: bool_param(pairs, "runtime_config"),
            bindings: bool_param(pairs, "bindings"),
            actions: bool_param(pairs, "actions"),
        })
    }
}

fn values<'a>(pairs: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn all(pairs: &[(String, String)], key: &str) -> Vec<String> {
    values(pairs, key).map(str::to_string).collect()
}

/// `getBoolParam`: any value `true`.
fn bool_param(pairs: &[(String, String)], key: &str) -> bool {
    values(pairs, key).any(|v| v == "true")
}

/// `checkIfLabelIsTrue(v[0])`: only the first value counts.
fn first_is_true(pairs: &[(String, String)], key: &str) -> bool {
    values(pairs, key).next() == Some("true")
}

/// Go's `strconv.Atoi` (accepts a sign and leading zeros, rejects anything else and overflow).
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// `common/pagination/pagination.go` `ExtractPaginationConfigFromRequest`.
fn extract_pagination(
    pairs: &[(String, String)],
    max_page: usize,
) -> Result<(usize, usize), String> {
    let sizes: Vec<&str> = values(pairs, "page_size").collect();
    if sizes.len() > 1 {
        return Err("pageSize has to be one parameter".into());
    }
    let page_size: i64 = match sizes.first() {
        None => max_page as i64,
        Some(v) => go_atoi(v).ok_or("pageSize has to be an integer")?,
    };
    if page_size > max_page as i64 {
        return Err(format!("pageSize is bigger than maxPage({max_page})"));
    }
    if page_size < 1 {
        return Err("pageSize cannot be smaller than 1".into());
    }
    let pages: Vec<&str> = values(pairs, "page").collect();
    if pages.len() > 1 {
        return Err("page has to be one parameter".into());
    }
    let page: i64 = match pages.first() {
        None => 1,
        Some(v) => {
            let p = go_atoi(v).ok_or("page has to be an integer")?;
            if p < 1 {
                return Err("page cannot be smaller than 1".into());
            }
            p
        }
    };
    Ok((page_size as usize, page as usize))
}

/// `internal/runtime/handler.go` `getFilters`.
fn get_filters(pairs: &[(String, String)]) -> InstanceFilter {
    let mut f = InstanceFilter {
        global_account_ids: all(pairs, "account"),
        subaccount_ids: all(pairs, "subaccount"),
        instance_ids: all(pairs, "instance_id"),
        runtime_ids: all(pairs, "runtime_id"),
        regions: all(pairs, "region"),
        shoots: all(pairs, "shoot"),
        plans: all(pairs, "plan"),
        binding_exists: first_is_true(pairs, "with_bindings"),
        expired: first_is_true(pairs, "expired"),
        ..InstanceFilter::default()
    };
    let states: Vec<&str> = values(pairs, "state").collect();
    if states.is_empty() {
        // By default suspended/deprovisioned runtimes are excluded.
        f.states.push(DbState::NotDeprovisioned);
        return f;
    }
    let mut all_state = false;
    for s in states {
        match State::parse(s) {
            Some(State::Succeeded) => f.states.push(DbState::Succeeded),
            Some(State::Failed) => f.states.push(DbState::Failed),
            Some(State::Error) => f.states.push(DbState::Error),
            Some(State::Provisioning) => f.states.push(DbState::Provisioning),
            Some(State::Deprovisioning) => f.states.push(DbState::Deprovisioning),
            Some(State::Upgrading) => f.states.push(DbState::Upgrading),
            Some(State::Updating) => f.states.push(DbState::Updating),
            Some(State::Suspended) => f.suspended = true,
            Some(State::Deprovisioned) => f.states.push(DbState::Deprovisioned),
            Some(State::DeprovisionIncomplete) => f.deletion_attempted = true,
            Some(State::All) => all_state = true,
            None => {}
        }
    }
    if all_state {
        f.states.clear();
    }
    f
}

// ---------------------------------------------------------------------------------------------
// Stored facts the broker passes in
// ---------------------------------------------------------------------------------------------

/// `internal.OperationType` (the `operations.type` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationType {
    Provision,
    Deprovision,
    Update,
    UpgradeCluster,
    UpgradeKyma,
}

impl OperationType {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationType::Provision => "provision",
            OperationType::Deprovision => "deprovision",
            OperationType::Update => "update",
            OperationType::UpgradeCluster => "upgradeCluster",
            OperationType::UpgradeKyma => "upgradeKyma",
        }
    }
}

/// Operation states (brokerapi `domain.LastOperationState` and KEB's `OperationState*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationState {
    Pending,
    InProgress,
    Succeeded,
    Failed,
    Canceled,
    Canceling,
    Retrying,
}

impl OperationState {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationState::Pending => "pending",
            OperationState::InProgress => "in progress",
            OperationState::Succeeded => "succeeded",
            OperationState::Failed => "failed",
            OperationState::Canceled => "canceled",
            OperationState::Canceling => "canceling",
            OperationState::Retrying => "retrying",
        }
    }
}

/// One stored operation of an instance (`internal.Operation`).
#[derive(Debug, Clone, PartialEq)]
pub struct OperationRecord {
    pub id: String,
    pub kind: OperationType,
    pub state: OperationState,
    pub description: String,
    pub created_at: Time,
    pub updated_at: Time,
    pub finished_stages: Vec<String>,
    /// `ExcutedButNotCompleted`: deprovisioning steps to retry.
    pub executed_but_not_completed: Vec<String>,
    /// Suspension (a `deprovision` with `Temporary`).
    pub temporary: bool,
    /// `RawParameters`: the request's `parameters` object as received, if stored.
    pub raw_parameters: Option<Value>,
    /// `ProvisioningParameters.Parameters` (fallback when there are no raw parameters).
    pub parameters: Value,
    /// `ProvisioningParameters.Parameters.TargetSecret` (provisioning operations).
    pub target_secret: Option<String>,
    /// `LastError` when not empty (`{"message","reason","component"}` ...), written as is.
    pub last_error: Option<Value>,
    /// `UpdatedPlanID` (plan upgrade); its name is looked up in this crate's plans.
    pub updated_plan_id: Option<String>,
}

/// The row of `instances_archived` KEB reads for deleted instances (`state=deprovisioned`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedFacts {
    pub provisioning_started_at: Time,
    pub provisioning_finished_at: Time,
    pub provisioning_state: String,
    pub last_deprovisioning_finished_at: Time,
}

/// One stored instance (`internal.Instance` plus the columns the list query joins).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceRecord {
    pub instance_id: String,
    pub runtime_id: String,
    pub global_account_id: String,
    pub subscription_global_account_id: String,
    pub subaccount_id: String,
    pub service_id: String,
    pub service_name: String,
    pub plan_id: String,
    pub plan_name: String,
    /// `instance.Provider` (`AWS`, `Azure`, `GCP`, `SapConvergedCloud`, ...).
    pub provider: String,
    pub provider_region: String,
    /// `Parameters.PlatformRegion` (`""` → the broker's `defaultRequestRegion`).
    pub platform_region: String,
    /// `Parameters.ErsContext.UserID`.
    pub user_id: String,
    /// The shoot name of the last operation's instance details.
    pub shoot_name: String,
    pub created_at: Time,
    pub updated_at: Time,
    /// `deleted_at` (`None` = Go's zero time).
    pub deleted_at: Option<Time>,
    pub expired_at: Option<Time>,
    /// `Parameters.Parameters` (`ProvisioningParametersDTO` as JSON).
    pub parameters: Value,
    pub subscription_secret_name: String,
    pub license_type: Option<String>,
    pub commercial_model: Option<String>,
    /// `Parameters.ErsContext.Active`.
    pub active: Option<bool>,
    pub empty_updates: i64,
    /// `subaccount_states.beta_enabled` / `used_for_production` (left join).
    pub beta_enabled: Option<String>,
    pub used_for_production: Option<String>,
    pub has_bindings: bool,
    /// `instances.last_operation_id`; `None`: the newest operation that left `pending`
    /// (KEB sets the column when an operation starts), else the newest one.
    pub last_operation_id: Option<String>,
    /// `Some` for an `instances_archived` row (the instance row is gone).
    pub archived: Option<ArchivedFacts>,
}

/// An instance with all its operations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuntimeRecord {
    pub instance: InstanceRecord,
    pub operations: Vec<OperationRecord>,
}

// ---------------------------------------------------------------------------------------------
// DTO
// ---------------------------------------------------------------------------------------------

/// `common/runtime/model.go` `Operation`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct OperationDto {
    pub state: String,
    /// Set by KEB only on the copy `LastOperation()` returns; never written by the handler.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    pub description: String,
    #[serde(rename = "createdAt")]
    pub created_at: Time,
    #[serde(rename = "updatedAt")]
    pub updated_at: Time,
    #[serde(rename = "operationID")]
    pub operation_id: String,
    /// `null` when Go's slice is nil (archived rows).
    #[serde(rename = "finishedStages")]
    pub finished_stages: Option<Vec<String>>,
    #[serde(
        rename = "executedButNotCompletedSteps",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub executed_but_not_completed_steps: Vec<String>,
    pub parameters: Value,
    #[serde(rename = "rawParameters", skip_serializing_if = "Option::is_none")]
    pub raw_parameters: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    #[serde(rename = "updatedPlanName", skip_serializing_if = "String::is_empty")]
    pub updated_plan_name: String,
}

/// `OperationsData`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct OperationsData {
    pub data: Vec<OperationDto>,
    #[serde(rename = "totalCount")]
    pub total_count: usize,
    pub count: usize,
}

/// `UpdateOperationsData`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct UpdateOperationsData {
    /// `null` when only `emptyUpdatesCount` is known (no update operation listed).
    pub data: Option<Vec<OperationDto>>,
    #[serde(rename = "totalCount")]
    pub total_count: usize,
    #[serde(rename = "emptyUpdatesCount", skip_serializing_if = "is_zero")]
    pub empty_updates_count: i64,
    pub count: usize,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn state_str<S: Serializer>(s: &Option<State>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.map(State::as_str).unwrap_or(""))
}

/// `RuntimeStatus`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct RuntimeStatus {
    #[serde(rename = "createdAt")]
    pub created_at: Time,
    #[serde(rename = "modifiedAt")]
    pub modified_at: Time,
    #[serde(rename = "expiredAt", skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<Time>,
    #[serde(rename = "deletedAt", skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Time>,
    /// `""` (None) when KEB never computed a state (no operation applied).
    #[serde(serialize_with = "state_str")]
    pub state: Option<State>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<OperationDto>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprovisioning: Option<OperationDto>,
    #[serde(rename = "upgradingCluster", skip_serializing_if = "Option::is_none")]
    pub upgrading_cluster: Option<OperationsData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update: Option<UpdateOperationsData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspension: Option<OperationsData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsuspension: Option<OperationsData>,
}

/// `BindingDTO` (`bindings=true`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindingDto {
    pub id: String,
    #[serde(rename = "createdAt")]
    pub created_at: Time,
    #[serde(rename = "expiresInSeconds")]
    pub expires_in_seconds: i64,
    #[serde(rename = "expiresAt")]
    pub expires_at: Time,
    #[serde(rename = "kubeconfigExists")]
    pub kubeconfig_exists: bool,
    #[serde(rename = "createdBy")]
    pub created_by: String,
}

/// `common/runtime/model.go` `RuntimeDTO`, fields in Go's order with Go's `omitempty`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct RuntimeDto {
    #[serde(rename = "instanceID")]
    pub instance_id: String,
    #[serde(rename = "runtimeID")]
    pub runtime_id: String,
    #[serde(rename = "globalAccountID")]
    pub global_account_id: String,
    #[serde(rename = "subscriptionGlobalAccountID")]
    pub subscription_global_account_id: String,
    #[serde(rename = "subAccountID")]
    pub subaccount_id: String,
    pub region: String,
    #[serde(rename = "subAccountRegion")]
    pub subaccount_region: String,
    #[serde(rename = "shootName")]
    pub shoot_name: String,
    #[serde(rename = "serviceClassID")]
    pub service_class_id: String,
    #[serde(rename = "serviceClassName")]
    pub service_class_name: String,
    #[serde(rename = "servicePlanID")]
    pub service_plan_id: String,
    #[serde(rename = "servicePlanName")]
    pub service_plan_name: String,
    pub provider: String,
    /// A Go struct: never omitted (`{}` at least).
    pub parameters: Value,
    pub status: RuntimeStatus,
    #[serde(rename = "userID")]
    pub user_id: String,
    #[serde(rename = "runtimeConfig", skip_serializing_if = "Option::is_none")]
    pub runtime_config: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bindings: Vec<BindingDto>,
    #[serde(rename = "betaEnabled", skip_serializing_if = "String::is_empty")]
    pub beta_enabled: String,
    #[serde(rename = "usedForProduction", skip_serializing_if = "String::is_empty")]
    pub used_for_production: String,
    #[serde(
        rename = "subscriptionSecretName",
        skip_serializing_if = "Option::is_none"
    )]
    pub subscription_secret_name: Option<String>,
    #[serde(rename = "licenseType", skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
    #[serde(rename = "commercialModel", skip_serializing_if = "Option::is_none")]
    pub commercial_model: Option<String>,
    /// `[]runtime.Action` as JSON objects (`ID`, `type`, `message`, `oldValue`, `newValue`, `createdAt`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Value>,
}

/// `RuntimesPage`.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct RuntimesPage {
    pub data: Vec<RuntimeDto>,
    pub count: usize,
    #[serde(rename = "totalCount")]
    pub total_count: usize,
}

impl RuntimesPage {
    /// `httputil.WriteResponse(w, 200, page)`: `json.Marshal` bytes.
    pub fn body_string(&self) -> String {
        super::go_json(self)
    }
}

/// The fields of `ProvisioningParametersDTO` in Go order (with the inlined `AutoScalerParameters`).
const PARAMETER_FIELDS: &[&str] = &[
    "autoScalerMin",
    "autoScalerMax",
    "maxSurge",
    "maxUnavailable",
    "name",
    "targetSecret",
    "machineType",
    "region",
    "purpose",
    "zones",
    "administrators",
    "provider",
    "kubeconfig",
    "shootName",
    "shootDomain",
    "oidc",
    "networking",
    "modules",
    "colocateControlPlane",
    "additionalWorkerNodePools",
    "ingressFiltering",
    "accessControlList",
    "gvisor",
    "additionalVolumeSizeGi",
    "auditLogAccess",
];

/// A parameters object as Go re-encodes it through `ProvisioningParametersDTO`: known top-level
/// fields only, in struct order (a key matches exactly, else case-insensitively), `omitempty`
/// (null, `""` for `name`/`shootName`/`shootDomain`, empty arrays), `targetSecret` and
/// `kubeconfig` removed (the converter clears them). Nested objects are kept as given.
pub fn dto_parameters(params: &Value) -> Value {
    let mut out = Map::new();
    let Some(obj) = params.as_object() else {
        return Value::Object(out);
    };
    for field in PARAMETER_FIELDS {
        if matches!(*field, "targetSecret" | "kubeconfig") {
            continue;
        }
        let v = obj.get(*field).or_else(|| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .map(|(_, v)| v)
        });
        let Some(v) = v else { continue };
        let empty = match v {
            Value::Null => true,
            Value::String(s) => {
                s.is_empty() && matches!(*field, "name" | "shootName" | "shootDomain")
            }
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            out.insert(field.to_string(), v.clone());
        }
    }
    Value::Object(out)
}

/// `converter.go` `sanitizeRawParams`: drop `targetSecret` and `kubeconfig`; Go re-marshals a
/// `map[string]json.RawMessage`, so the top-level keys come out sorted.
fn sanitize_raw_params(raw: &Value) -> Value {
    match raw.as_object() {
        Some(obj) => {
            let mut keys: Vec<&String> = obj
                .keys()
                .filter(|k| *k != "targetSecret" && *k != "kubeconfig")
                .collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), obj[k].clone()))
                    .collect(),
            )
        }
        None => raw.clone(),
    }
}

/// `converter.go` `applyOperation`.
fn operation_dto(op: &OperationRecord) -> OperationDto {
    let (raw_parameters, parameters) = match &op.raw_parameters {
        Some(raw) if !raw.is_null() => {
            let sanitized = sanitize_raw_params(raw);
            let params = dto_parameters(&sanitized);
            (Some(sanitized), params)
        }
        _ => (None, dto_parameters(&op.parameters)),
    };
    OperationDto {
        state: op.state.as_str().to_string(),
        kind: None,
        description: op.description.clone(),
        created_at: op.created_at,
        updated_at: op.updated_at,
        operation_id: op.id.clone(),
        finished_stages: Some(op.finished_stages.clone()),
        executed_but_not_completed_steps: op.executed_but_not_completed.clone(),
        parameters,
        raw_parameters,
        error: op.last_error.clone(),
        updated_plan_name: op
            .updated_plan_id
            .as_deref()
            .and_then(crate::plans::plan_by_id)
            .map(|p| p.name.to_string())
            .unwrap_or_default(),
    }
}

/// `converter.go` `NewDTO` (plus `setRegionOrDefault`).
fn new_dto(i: &InstanceRecord, default_subaccount_region: &str) -> RuntimeDto {
    let mut status = RuntimeStatus {
        created_at: i.created_at,
        modified_at: i.updated_at,
        expired_at: i.expired_at,
        deleted_at: i.deleted_at.filter(|t| !t.is_zero()),
        ..RuntimeStatus::default()
    };
    if i.empty_updates > 0 {
        status.update = Some(UpdateOperationsData {
            empty_updates_count: i.empty_updates,
            ..UpdateOperationsData::default()
        });
    }
    RuntimeDto {
        instance_id: i.instance_id.clone(),
        runtime_id: i.runtime_id.clone(),
        global_account_id: i.global_account_id.clone(),
        subscription_global_account_id: i.subscription_global_account_id.clone(),
        subaccount_id: i.subaccount_id.clone(),
        region: i.provider_region.clone(),
        subaccount_region: if i.platform_region.is_empty() {
            default_subaccount_region.to_string()
        } else {
            i.platform_region.clone()
        },
        shoot_name: i.shoot_name.clone(),
        service_class_id: i.service_id.clone(),
        service_class_name: i.service_name.clone(),
        service_plan_id: i.plan_id.clone(),
        service_plan_name: i.plan_name.clone(),
        provider: i.provider.clone(),
        parameters: dto_parameters(&i.parameters),
        status,
        user_id: i.user_id.clone(),
        subscription_secret_name: Some(i.subscription_secret_name.clone()),
        license_type: i.license_type.clone(),
        commercial_model: i.commercial_model.clone(),
        ..RuntimeDto::default()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ApiOpType {
    Provision,
    Deprovision,
    UpgradeCluster,
    Update,
    Suspension,
    Unsuspension,
}

/// `RuntimeDTO.LastOperation()`: the newest of the listed operations by `createdAt`
/// (`After`, strictly), in KEB's order of precedence.
fn last_operation(st: &RuntimeStatus) -> (Option<ApiOpType>, Option<&OperationDto>) {
    let mut op: Option<&OperationDto> = None;
    let mut t: Option<ApiOpType> = None;
    let created = |o: Option<&OperationDto>| o.map(|o| o.created_at).unwrap_or(Time::ZERO);
    if let Some(p) = &st.provisioning {
        op = Some(p);
        t = Some(ApiOpType::Provision);
    }
    if let Some(u) = st.upgrading_cluster.as_ref().filter(|d| d.count > 0) {
        op = Some(&u.data[0]);
        t = Some(ApiOpType::UpgradeCluster);
    }
    if let Some(u) = st.unsuspension.as_ref().filter(|d| d.count > 0) {
        if u.data[0].created_at > created(op) {
            op = Some(&u.data[0]);
            t = Some(ApiOpType::Unsuspension);
        }
    }
    if let Some(s) = st.suspension.as_ref().filter(|d| d.count > 0) {
        if s.data[0].created_at > created(op) {
            op = Some(&s.data[0]);
            t = Some(ApiOpType::Suspension);
        }
    }
    if let Some(d) = &st.deprovisioning {
        if d.created_at > created(op) {
            op = Some(d);
            t = Some(ApiOpType::Deprovision);
        }
    }
    if let Some(u) = st.update.as_ref().filter(|d| d.count > 0) {
        if let Some(first) = u.data.as_ref().and_then(|d| d.first()) {
            if first.created_at > created(op) {
                op = Some(first);
                t = Some(ApiOpType::Update);
            }
        }
    }
    (t, op)
}

/// The runtime state KEB computes from the operations listed in a status
/// (`internal/runtime/converter.go` `adjustRuntimeState` over `RuntimeDTO.LastOperation()`).
/// Note KEB's quirks: a `pending` (or any unknown) last operation yields `succeeded`; a
/// suspension newer than the last unsuspension overrides the state.
pub fn runtime_state(st: &RuntimeStatus) -> State {
    let (t, op) = last_operation(st);
    let op_state = op.map(|o| o.state.as_str()).unwrap_or("");
    let mut state = match op_state {
        "succeeded" => match t {
            Some(ApiOpType::Suspension) => State::Suspended,
            Some(ApiOpType::Deprovision) => {
                if op.is_some_and(|o| o.executed_but_not_completed_steps.is_empty()) {
                    State::Deprovisioned
                } else {
                    State::DeprovisionIncomplete
                }
            }
            _ => State::Succeeded,
        },
        "failed" => match t {
            Some(ApiOpType::UpgradeCluster | ApiOpType::Update) => State::Error,
            _ => State::Failed,
        },
        "in progress" => match t {
            Some(ApiOpType::Provision | ApiOpType::Unsuspension) => State::Provisioning,
            Some(ApiOpType::Deprovision | ApiOpType::Suspension) => State::Deprovisioning,
            Some(ApiOpType::UpgradeCluster) => State::Upgrading,
            Some(ApiOpType::Update) => State::Updating,
            // Go leaves the previous value; with no type the zero op has state "".
            None => State::Succeeded,
        },
        _ => State::Succeeded,
    };
    if let Some(s) = st.suspension.as_ref().filter(|d| d.count > 0) {
        let after_unsuspension = match &st.unsuspension {
            None => true,
            Some(u) => u.count > 0 && u.data[0].created_at < s.data[0].created_at,
        };
        if after_unsuspension {
            state = match s.data[0].state.as_str() {
                "in progress" => State::Deprovisioning,
                "failed" => State::Failed,
                _ => State::Suspended,
            };
        }
    }
    state
}

/// Operations newest first (`ORDER BY created_at DESC`), stable for equal times.
fn newest_first<'a>(ops: impl Iterator<Item = &'a OperationRecord>) -> Vec<&'a OperationRecord> {
    let mut v: Vec<&OperationRecord> = ops.collect();
    v.sort_by_key(|o| std::cmp::Reverse(o.created_at));
    v
}

fn ops_data(ops: &[&OperationRecord], total: usize) -> OperationsData {
    let data: Vec<OperationDto> = ops.iter().map(|o| operation_dto(o)).collect();
    OperationsData {
        count: data.len(),
        total_count: total,
        data,
    }
}

fn apply_update_ops(dto: &mut RuntimeDto, ops: &[&OperationRecord], total: usize) {
    let u = dto
        .status
        .update
        .get_or_insert_with(UpdateOperationsData::default);
    u.data = Some(ops.iter().map(|o| operation_dto(o)).collect());
    u.count = ops.len();
    u.total_count = total;
}

fn apply_provisioning(dto: &mut RuntimeDto, op: &OperationRecord) {
    dto.status.provisioning = Some(operation_dto(op));
    dto.subscription_secret_name = op.target_secret.clone();
}

fn apply_suspensions(dto: &mut RuntimeDto, ops: &[&OperationRecord]) {
    let listed: Vec<&OperationRecord> = ops
        .iter()
        .copied()
        .filter(|o| o.temporary && o.state != OperationState::Pending)
        .collect();
    if !listed.is_empty() {
        dto.status.suspension = Some(ops_data(&listed, listed.len()));
    }
}

/// GetLastOperation: the newest operation not `pending`/`canceled`.
fn last_stored_operation(ops: &[OperationRecord]) -> Option<&OperationRecord> {
    newest_first(ops.iter())
        .into_iter()
        .find(|o| !matches!(o.state, OperationState::Pending | OperationState::Canceled))
}

/// The operation `instances.last_operation_id` points to (see [`InstanceRecord::last_operation_id`]).
fn db_last_operation(r: &RuntimeRecord) -> Option<&OperationRecord> {
    if let Some(id) = &r.instance.last_operation_id {
        return r.operations.iter().find(|o| &o.id == id);
    }
    let sorted = newest_first(r.operations.iter());
    sorted
        .iter()
        .copied()
        .find(|o| o.state != OperationState::Pending)
        .or_else(|| sorted.first().copied())
}

/// The DTO of one runtime as `GetRuntimes` writes it (before the I/O extras `runtimeConfig`,
/// `bindings`, `actions`): `NewDTO`, then `addAllOperationsToRuntime` or
/// `addLastOperationToRuntime`, then `determineStatusModifiedAt`. Error: KEB's 500
/// `unsupported operation type: upgradeKyma` (`op_detail=last` with such a last operation).
pub fn runtime_dto(
    record: &RuntimeRecord,
    detail: OperationDetail,
    default_subaccount_region: &str,
) -> Result<RuntimeDto, ApiError> {
    let i = &record.instance;
    let mut dto = new_dto(i, default_subaccount_region);
    if let Some(a) = &i.archived {
        // listInstances: the archived instance's status is replaced.
        dto.parameters = Value::Object(Map::new());
        dto.status = RuntimeStatus {
            created_at: a.provisioning_started_at,
            deleted_at: Some(a.last_deprovisioning_finished_at),
            provisioning: Some(OperationDto {
                created_at: a.provisioning_started_at,
                updated_at: a.provisioning_finished_at,
                state: a.provisioning_state.clone(),
                parameters: Value::Object(Map::new()),
                ..OperationDto::default()
            }),
            deprovisioning: Some(OperationDto {
                updated_at: a.last_deprovisioning_finished_at,
                parameters: Value::Object(Map::new()),
                ..OperationDto::default()
            }),
            ..RuntimeStatus::default()
        };
    }
    let ops = &record.operations;
    let of = |t: OperationType| newest_first(ops.iter().filter(move |o| o.kind == t));
    let mut adjusted = false;
    match detail {
        OperationDetail::All => {
            let prov = of(OperationType::Provision);
            if let Some(first) = prov.last() {
                apply_provisioning(&mut dto, first);
                adjusted = true;
                if prov.len() > 1 {
                    let uns = &prov[..prov.len() - 1];
                    dto.status.unsuspension = Some(ops_data(uns, uns.len()));
                }
            }
            let deprov = of(OperationType::Deprovision);
            if let Some(d) = deprov.iter().find(|o| !o.temporary) {
                if d.state != OperationState::Pending {
                    dto.status.deprovisioning = Some(operation_dto(d));
                    adjusted = true;
                }
            }
            if !deprov.is_empty() {
                apply_suspensions(&mut dto, &deprov);
                adjusted = true;
            }
            let upd = of(OperationType::Update);
            if !upd.is_empty() {
                let n = upd.len().min(UPDATE_OPERATIONS_TO_RETURN);
                apply_update_ops(&mut dto, &upd[..n], upd.len());
                adjusted = true;
            }
            let uc = of(OperationType::UpgradeCluster);
            if !uc.is_empty() {
                let n = uc.len().min(UPDATE_OPERATIONS_TO_RETURN);
                dto.status.upgrading_cluster = Some(ops_data(&uc[..n], uc.len()));
                adjusted = true;
            }
        }
        OperationDetail::Last => {
            if let Some(last) = last_stored_operation(ops) {
                adjusted = true;
                match last.kind {
                    OperationType::Provision => {
                        let prov = of(OperationType::Provision);
                        let newest = prov[0];
                        if prov.len() > 1 {
                            dto.status.unsuspension = Some(ops_data(&[newest], 1));
                        } else {
                            apply_provisioning(&mut dto, newest);
                        }
                    }
                    OperationType::Deprovision => {
                        if last.temporary {
                            apply_suspensions(&mut dto, &[last]);
                        } else {
                            dto.status.deprovisioning = Some(operation_dto(last));
                        }
                    }
                    OperationType::UpgradeCluster => {
                        dto.status.upgrading_cluster = Some(ops_data(&[last], 1));
                    }
                    OperationType::Update => apply_update_ops(&mut dto, &[last], 1),
                    OperationType::UpgradeKyma => {
                        return Err(ApiError::new(
                            500,
                            format!("unsupported operation type: {}", last.kind.as_str()),
                        ))
                    }
                }
            }
        }
    }
    if adjusted {
        dto.status.state = Some(runtime_state(&dto.status));
    }
    // determineStatusModifiedAt
    if let Some(last) = last_stored_operation(ops) {
        dto.status.modified_at = last.updated_at;
    }
    Ok(dto)
}

// ---------------------------------------------------------------------------------------------
// Filters and paging
// ---------------------------------------------------------------------------------------------

/// `buildInstanceStateFilters` (OR of the states, plus `suspended`).
fn matches_states(f: &InstanceFilter, r: &RuntimeRecord, last: &OperationRecord) -> bool {
    if f.states.is_empty() && !f.suspended {
        return true;
    }
    use OperationState as S;
    use OperationType as T;
    let (t, s) = (last.kind, last.state);
    let state_match = f.states.iter().any(|st| match st {
        DbState::Succeeded => s == S::Succeeded && t != T::Deprovision,
        DbState::Failed => matches!(t, T::Provision | T::Deprovision) && s == S::Failed,
        DbState::Error => !matches!(t, T::Provision | T::Deprovision) && s == S::Failed,
        DbState::Provisioning => t == T::Provision && s == S::InProgress,
        DbState::Deprovisioning => t == T::Deprovision && s == S::InProgress,
        DbState::Upgrading => matches!(t, T::UpgradeCluster | T::UpgradeKyma) && s == S::InProgress,
        DbState::Updating => t == T::Update && s == S::InProgress,
        DbState::Deprovisioned => t == T::Deprovision && s == S::Succeeded,
        DbState::NotDeprovisioned => t != T::Deprovision || s != S::Succeeded,
    });
    state_match || (f.suspended && r.instance.active == Some(false))
}

fn in_list(list: &[String], v: &str) -> bool {
    list.is_empty() || list.iter().any(|x| x == v)
}

/// `addInstanceFilters`. The shoot filter is a Postgres regex `^(a|b)$` in KEB; matched exactly here.
fn matches_instance_filters(f: &InstanceFilter, i: &InstanceRecord) -> bool {
    in_list(&f.global_account_ids, &i.global_account_id)
        && in_list(&f.subaccount_ids, &i.subaccount_id)
        && in_list(&f.instance_ids, &i.instance_id)
        && in_list(&f.runtime_ids, &i.runtime_id)
        && in_list(&f.regions, &i.provider_region)
        && in_list(&f.plans, &i.plan_name)
        && in_list(&f.shoots, &i.shoot_name)
        && (!f.expired || i.expired_at.is_some())
        && (!f.deletion_attempted || i.deleted_at.is_some_and(|t| !t.is_zero()))
        && (!f.binding_exists || i.has_bindings)
}

/// `addInstanceArchivedFilter` (no state, expiry or binding filters there).
fn matches_archived_filters(f: &InstanceFilter, i: &InstanceRecord) -> bool {
    in_list(&f.instance_ids, &i.instance_id)
        && in_list(&f.global_account_ids, &i.global_account_id)
        && in_list(&f.subaccount_ids, &i.subaccount_id)
        && in_list(&f.plans, &i.plan_name)
        && in_list(&f.regions, &i.provider_region)
        && in_list(&f.runtime_ids, &i.runtime_id)
        && in_list(&f.shoots, &i.shoot_name)
}

/// Live instances matching the filter, `ORDER BY created_at` (the join on the last operation
/// drops instances without one).
fn list_live<'a>(f: &InstanceFilter, records: &'a [RuntimeRecord]) -> Vec<&'a RuntimeRecord> {
    let mut v: Vec<&RuntimeRecord> = records
        .iter()
        .filter(|r| r.instance.archived.is_none())
        .filter(|r| match db_last_operation(r) {
            Some(last) => matches_states(f, r, last) && matches_instance_filters(f, &r.instance),
            None => false,
        })
        .collect();
    v.sort_by_key(|r| r.instance.created_at);
    v
}

fn paginate<T: Copy>(v: &[T], page: usize, page_size: usize) -> Vec<T> {
    v.iter()
        .skip((page - 1).saturating_mul(page_size))
        .take(page_size)
        .copied()
        .collect()
}

/// The page KEB answers for `query` over all stored runtimes (live instances and, for
/// `state=deprovisioned`, archived ones): `GetRuntimes` / `listInstances`.
///
/// * default: live instances matching the filters, ordered by `created_at`, page
///   `(page-1)*page_size`, `count` = rows on the page, `totalCount` = all matches; `betaEnabled`
///   and `usedForProduction` from the record.
/// * `state=deprovisioned`: live instances with `deleted_at` set (and the state filters) plus
///   archived rows (newest deprovisioning first), each paged separately; `count` and
///   `totalCount` are the sums; duplicates (by instance ID) dropped after counting; no
///   `betaEnabled`/`usedForProduction`.
///
/// Errors: [`runtime_dto`]'s 500.
pub fn page(
    query: &RuntimesQuery,
    records: &[RuntimeRecord],
    default_subaccount_region: &str,
) -> Result<RuntimesPage, ApiError> {
    let f = &query.filter;
    let (rows, count, total, with_subaccount_state): (Vec<&RuntimeRecord>, usize, usize, bool) =
        if f.states.contains(&DbState::Deprovisioned) {
            let fd = InstanceFilter {
                deletion_attempted: true,
                ..f.clone()
            };
            let live = list_live(&fd, records);
            let live_page = paginate(&live, query.page, query.page_size);
            let mut archived: Vec<&RuntimeRecord> = records
                .iter()
                .filter(|r| r.instance.archived.is_some())
                .filter(|r| matches_archived_filters(f, &r.instance))
                .collect();
            archived.sort_by(|a, b| {
                let t = |r: &RuntimeRecord| {
                    r.instance
                        .archived
                        .as_ref()
                        .map(|a| a.last_deprovisioning_finished_at)
                };
                t(b).cmp(&t(a))
            });
            let archived_page = paginate(&archived, query.page, query.page_size);
            let count = live_page.len() + archived_page.len();
            let total = live.len() + archived.len();
            let mut seen = std::collections::HashSet::new();
            let rows = live_page
                .into_iter()
                .chain(archived_page)
                .filter(|r| seen.insert(r.instance.instance_id.clone()))
                .collect();
            (rows, count, total, false)
        } else {
            let live = list_live(f, records);
            let rows = paginate(&live, query.page, query.page_size);
            (rows.clone(), rows.len(), live.len(), true)
        };
    let mut data = Vec::with_capacity(rows.len());
    for r in rows {
        let mut dto = runtime_dto(r, query.op_detail, default_subaccount_region)?;
        if with_subaccount_state {
            dto.beta_enabled = r.instance.beta_enabled.clone().unwrap_or_default();
            dto.used_for_production = r.instance.used_for_production.clone().unwrap_or_default();
        }
        data.push(dto);
    }
    Ok(RuntimesPage {
        data,
        count,
        total_count: total,
    })
}

/// `runtime_config=true`: the KIM `Runtime` CR (`infrastructuremanager.kyma-project.io/v1`,
/// namespace `kcp-system` or the last operation's `KymaResourceNamespace`, name the operation's
/// `RuntimeResourceName` or the runtime ID) with `metadata.managedFields` removed. KEB sets
/// `runtimeConfig` only when `runtimeID != ""` and the object exists (any error: omitted).
pub fn runtime_config_object(mut runtime_cr: Value) -> Value {
    if let Some(meta) = runtime_cr
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
    {
        meta.remove("managedFields");
    }
    runtime_cr
}
