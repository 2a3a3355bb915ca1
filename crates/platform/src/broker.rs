//! The Open Service Broker API (v2.17) of the Kyma Environment Broker, on the platform's port:
//! catalog, provision / update / deprovision with `last_operation` polling, and instance fetch,
//! answered as KEB (pivotal-cf/brokerapi v12) answers. The rules (request decoding, plans,
//! schemas, validation messages, runtime networking) come from `twinstack-keb`; this module keeps
//! instances and operations in the store and turns them into runtimes.
//!
//! Besides OSB, `GET /twinstack/v1/runtimes` lists runtimes for the CLI (same credential).
//!
//! # Records and concurrency
//!
//! Keys (all outside `/registry/`, so no runtime name reaches them):
//! - `/twinstack/instances/<id>`: an [`Instance`], naming its runtime and its operations;
//! - `/twinstack/operations/<operation id>`: an [`Operation`] (KEB's operations table);
//! - `/twinstack/instances-archived/<id>`: an [`ArchivedInstance`] once deprovisioned (KEB's
//!   instances_archived), so `last_operation` still answers for every operation handed out.
//!
//! Every request that changes an instance holds that instance's lock ([`KeyLocks`]), and
//! every creation or deletion of a runtime also holds the runtime name's lock (always taken
//! after the instance's, so they cannot deadlock). An instance, its operation and its
//! runtime's record are written in one store transaction, and the runtime is deleted in the
//! same transaction as the instance it belongs to, only if that instance owns it. The work runs
//! in its own task, so a client that hangs up does not leave it half done.
//!
//! # Asynchronous operations
//!
//! Provision, update and deprovision write their operation `in progress` (KEB's `Operation
//! created`) with the instance and answer 202; a task ([`worker`]) then runs KEB's stages for
//! that operation, spreading `--operation-time` over them and recording each finished stage,
//! and ends it `succeeded` (`Processing finished`) or `failed`. Each stage takes the instance
//! lock only to write, so `last_operation`, a repeated request or a bind never wait for a
//! whole operation. With an operation time of 0 the request waits for its operation.
//! [`Broker::resume`] restarts, from the stage they reached, the operations a restart
//! interrupted, so none stays `in progress`.
//!
//! # Bindings
//!
//! [`bindings`]: `/twinstack/bindings/<instance id>/<binding id>`, changed under the
//! instance's lock and deleted with the instance; each names a ServiceAccount in the runtime
//! whose bound token is the binding's credential.

mod bindings;
mod keb_api;
mod worker;

use crate::directory::{self, KeyLocks, Platform, PlatformError, RuntimeSpec};
use crate::write_private;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use twinstack_keb::{shoot, KebOptions, OsbError, ProvisionPlan};
use twinstack_registry::runtimes::{Runtime, RuntimeRecord};
use twinstack_store::{Store, TxnError};

const INSTANCES: &str = "/twinstack/instances/";
const OPERATIONS: &str = "/twinstack/operations/";
const ARCHIVED: &str = "/twinstack/instances-archived/";
/// Where instances lived before (see [`migrate_legacy_records`]).
const LEGACY_INSTANCES: &str = "/registry/twinstack/instances/";

/// The broker's basic-auth credential, as OSB platforms use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// KEB's operation types (the ones OSB sees).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OperationType {
    Provision,
    Update,
    Deprovision,
}

/// OSB operation states.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum OperationState {
    #[serde(rename = "in progress")]
    InProgress,
    #[serde(rename = "succeeded")]
    Succeeded,
    #[serde(rename = "failed")]
    Failed,
}

impl OperationType {
    fn as_str(self) -> &'static str {
        match self {
            OperationType::Provision => "provision",
            OperationType::Update => "update",
            OperationType::Deprovision => "deprovision",
        }
    }
}

impl OperationState {
    fn as_str(self) -> &'static str {
        match self {
            OperationState::InProgress => "in progress",
            OperationState::Succeeded => "succeeded",
            OperationState::Failed => "failed",
        }
    }
}

/// One operation on an instance, as `last_operation` reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    pub instance_id: String,
    #[serde(rename = "type")]
    pub kind: OperationType,
    pub state: OperationState,
    pub description: String,
    pub created_at: String,
    /// KEB's `FinishedStages`: the stages done so far, in order.
    #[serde(default)]
    pub finished_stages: Vec<String>,
    /// A suspension (KEB's `Temporary` deprovisioning): the runtime goes, the instance stays.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub temporary: bool,
    #[serde(default)]
    pub updated_at: String,
}

impl Operation {
    /// A new operation, `in progress` with KEB's `Operation created`.
    fn new(instance_id: &str, kind: OperationType) -> Operation {
        let now = twinstack_registry::registry::now_rfc3339();
        Operation {
            id: uuid::Uuid::new_v4().to_string(),
            instance_id: instance_id.to_string(),
            kind,
            state: OperationState::InProgress,
            description: twinstack_keb::operations::OPERATION_CREATED.into(),
            created_at: now.clone(),
            finished_stages: Vec::new(),
            temporary: false,
            updated_at: now,
        }
    }
}

/// An OSB service instance and the runtime it owns.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    pub instance_id: String,
    pub service_id: String,
    pub plan_id: String,
    /// The runtime this instance owns (its record names this instance as owner).
    pub runtime: String,
    pub plan: ProvisionPlan,
    /// The provisioning request's `parameters` and `context`, compared on a repeated PUT.
    pub parameters: Value,
    #[serde(default)]
    pub context: Value,
    /// KEB's `GetProvisioningOperationByInstanceID`.
    pub provisioning_operation: String,
    /// Every operation of the instance, oldest first.
    pub operations: Vec<String>,
    /// When KEB's expiration endpoint expired the instance (trial, free).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_at: Option<String>,
}

/// What remains of a deprovisioned instance (KEB's `instances_archived`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchivedInstance {
    pub instance_id: String,
    pub plan_id: String,
    pub runtime: String,
    pub deprovisioned_at: String,
}

/// Broker settings of `twinstack up`.
#[derive(Debug, Clone)]
pub struct BrokerSettings {
    /// How long an operation takes in all (`--operation-time`); 0 finishes it in the request.
    pub operation_time: std::time::Duration,
    /// `--test-clock`: `POST /twinstack/v1/clock` may move the platform clock forward.
    pub test_clock: bool,
    pub bindings: twinstack_keb::binding::BindingConfig,
}

impl Default for BrokerSettings {
    fn default() -> Self {
        BrokerSettings {
            operation_time: std::time::Duration::from_secs(2),
            test_clock: false,
            bindings: Default::default(),
        }
    }
}

pub struct Broker {
    platform: Arc<Platform>,
    pub credentials: Credentials,
    pub options: KebOptions,
    pub settings: BrokerSettings,
    instance_locks: KeyLocks,
    /// Held by a provision, update or deprovision request from its first read to its answer
    /// (taken before the instance lock). With an operation time of 0 the answer waits for the
    /// operation, so requests on one instance stay one after the other, as before operations
    /// ran in the background.
    request_locks: KeyLocks,
}

fn osb(status: u16, body: Value) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn osb_error(e: &OsbError) -> Response {
    osb(e.status, e.body())
}

fn describe(status: u16, text: &str) -> Response {
    osb(status, json!({"description": text}))
}

/// OSB's answer to a broker that only works asynchronously when the platform does not accept it.
fn async_required() -> Response {
    osb(
        422,
        json!({"error": "AsyncRequired", "description": "This service plan requires client support for asynchronous service operations."}),
    )
}

/// The minor version of `X-Broker-API-Version` (checked to be `2.x` before routing).
fn api_minor(headers: &HeaderMap) -> u32 {
    headers
        .get("X-Broker-API-Version")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split('.').nth(1))
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

fn accepts_incomplete(query: &HashMap<String, String>) -> bool {
    query.get("accepts_incomplete").map(String::as_str) == Some("true")
}

fn instance_key(id: &str) -> String {
    format!("{INSTANCES}{id}")
}

fn operation_key(id: &str) -> String {
    format!("{OPERATIONS}{id}")
}

fn archived_key(id: &str) -> String {
    format!("{ARCHIVED}{id}")
}

fn put_json<T: Serialize>(txn: &mut twinstack_store::Txn<'_>, key: &str, v: &T) {
    txn.put(
        key,
        serde_json::to_vec(v).expect("broker records serialize"),
    );
}

/// The runtime an instance stands for (see [`RuntimeSpec::from_plan`]). Pure in the instance,
/// so a restart can complete a provisioning it interrupted.
fn runtime_spec(inst: &Instance) -> RuntimeSpec {
    let ctx = |k: &str| {
        inst.context
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let info = shoot::ProvisioningInfo {
        global_account_id: ctx("globalaccount_id"),
        subaccount_id: ctx("subaccount_id"),
        instance_id: inst.instance_id.clone(),
        instance_name: inst.plan.name.clone(),
    };
    RuntimeSpec::from_plan(&inst.plan, &inst.runtime, &info)
}

/// Why a provisioning transaction did not commit.
#[derive(Debug, thiserror::Error)]
enum ProvisionRefusal {
    #[error(transparent)]
    Platform(#[from] PlatformError),
}

impl Broker {
    /// Loads the broker credential from `DIR/broker.json`, creating it on first start.
    pub fn load_or_create(
        platform: Arc<Platform>,
        settings: BrokerSettings,
    ) -> anyhow::Result<Broker> {
        let path = platform.data_dir.join("broker.json");
        let credentials = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)?,
            Err(_) => {
                let c = Credentials {
                    username: "broker".into(),
                    password: twinstack_registry::runtimes::new_token(),
                };
                write_private(&path, &serde_json::to_string(&c)?)?;
                c
            }
        };
        Ok(Broker {
            platform,
            credentials,
            // twinstack serves bindings (KEB ships them off): the catalog says so.
            options: KebOptions {
                binding_enabled: settings.bindings.enabled,
                ..KebOptions::default()
            },
            settings,
            instance_locks: KeyLocks::default(),
            request_locks: KeyLocks::default(),
        })
    }

    /// Whether the request carries the platform credential (the broker's basic auth).
    pub fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Some(b64) = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))
        else {
            return false;
        };
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
            return false;
        };
        let want = format!(
            "{}:{}",
            self.credentials.username, self.credentials.password
        );
        twinstack_registry::runtimes::token_eq(&String::from_utf8_lossy(&raw), &want)
    }

    /// Entry point for `/v2/...` and `/twinstack/v1/...`.
    pub async fn handle(
        self: &Arc<Self>,
        method: &Method,
        path: &str,
        raw_query: Option<&str>,
        query: &HashMap<String, String>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // KEB's kubeconfig endpoint: open, as KEB's gateway leaves it (the kubeconfig holds no
        // credential, only the OIDC login).
        if segs.first() == Some(&"kubeconfig") {
            let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
            return match (method, segs.as_slice()) {
                (&Method::GET | &Method::HEAD, ["kubeconfig", id]) => {
                    self.kubeconfig_api(id, origin)
                }
                (&Method::GET | &Method::HEAD, _) => self.kubeconfig_api("", origin),
                _ => (
                    StatusCode::METHOD_NOT_ALLOWED,
                    [(header::ALLOW, "GET, HEAD")],
                    "Method Not Allowed\n",
                )
                    .into_response(),
            };
        }
        if !self.authorized(headers) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"twinstack broker\"")],
                "Not Authorized\n",
            )
                .into_response();
        }
        match (method, segs.as_slice()) {
            // KEB's runtimes API and expiration endpoint.
            (&Method::GET, ["runtimes"]) => return self.runtimes_api(raw_query),
            (&Method::PUT, ["expire", "service_instance", id]) => {
                let id = id.to_string();
                return self
                    .detached(move |b| async move { b.expire_api(&id).await })
                    .await;
            }
            _ => {}
        }
        if segs.first() == Some(&"twinstack") {
            return match (method, segs.as_slice()) {
                (&Method::GET, ["twinstack", "v1", "runtimes"]) => self.list_runtimes().await,
                // One operation with its stages (the CLI's progress display).
                (&Method::GET, ["twinstack", "v1", "operations", op]) => match self.operation(op) {
                    Some(op) => osb(200, json!(op)),
                    None => describe(404, "Operation not found"),
                },
                // `up --test-clock`: tests move the platform clock instead of sleeping.
                (&Method::POST, ["twinstack", "v1", "clock"]) if self.settings.test_clock => {
                    self.advance_clock(body)
                }
                // Runtimes that did not come through the broker (the one of `up`) are deleted here.
                (&Method::DELETE, ["twinstack", "v1", "runtimes", name]) => {
                    let name = name.to_string();
                    self.detached(move |b| async move { b.delete_unowned_runtime(&name).await })
                        .await
                }
                _ => describe(404, "not found"),
            };
        }
        // brokerapi's APIVersionMiddleware.
        match headers
            .get("X-Broker-API-Version")
            .and_then(|v| v.to_str().ok())
        {
            None => return describe(412, "X-Broker-API-Version Header not set"),
            Some(v) if !v.starts_with("2.") => {
                return describe(412, "X-Broker-API-Version Header must be 2.x")
            }
            _ => {}
        }
        // KEB serves OSB under `/oauth/v2/...` and `/oauth/{region}/v2/...` (the platform region
        // decides the catalog's regions and the trial mapping); twinstack also under `/v2/...`.
        let mut opts = self.options.clone();
        let segs: &[&str] = match segs.as_slice() {
            ["oauth", "v2", ..] => &segs[1..],
            ["oauth", region, "v2", ..] => {
                opts.platform_region = Some(region.to_string());
                &segs[2..]
            }
            other => other,
        };
        let (query, body) = (query.clone(), body.to_vec());
        match (method, segs) {
            (&Method::GET, ["v2", "catalog"]) => osb(200, twinstack_keb::catalog_with(&opts)),
            (&Method::PUT, ["v2", "service_instances", id]) => {
                let id = id.to_string();
                self.detached(move |b| async move { b.provision(&id, &query, &body, opts).await })
                    .await
            }
            (&Method::PATCH, ["v2", "service_instances", id]) => {
                let id = id.to_string();
                self.detached(move |b| async move { b.update(&id, &query, &body, opts).await })
                    .await
            }
            (&Method::GET, ["v2", "service_instances", id]) => self.fetch(id),
            (&Method::DELETE, ["v2", "service_instances", id]) => {
                let id = id.to_string();
                self.detached(move |b| async move { b.deprovision(&id, &query).await })
                    .await
            }
            (&Method::GET, ["v2", "service_instances", id, "last_operation"]) => {
                self.last_operation(id, &query)
            }
            (&Method::PUT, ["v2", "service_instances", id, "service_bindings", bid]) => {
                let (id, bid) = (id.to_string(), bid.to_string());
                self.detached(move |b| async move { b.bind(&id, &bid, &body).await })
                    .await
            }
            (&Method::GET, ["v2", "service_instances", id, "service_bindings", bid]) => {
                if api_minor(headers) < 14 {
                    return describe(
                        412,
                        "get binding endpoint only supported starting with OSB version 2.14",
                    );
                }
                self.get_binding(id, bid)
            }
            (&Method::DELETE, ["v2", "service_instances", id, "service_bindings", bid]) => {
                let (id, bid) = (id.to_string(), bid.to_string());
                self.detached(move |b| async move { b.unbind(&id, &bid, &query).await })
                    .await
            }
            // KEB `LastBindingOperation`: bindings are synchronous.
            (
                &Method::GET,
                ["v2", "service_instances", _, "service_bindings", _, "last_operation"],
            ) => describe(500, "not supported"),
            _ => describe(404, "not found"),
        }
    }

    /// `POST /twinstack/v1/clock` `{"advanceSeconds": N}`: moves the platform clock (token
    /// and binding expiry) forward; answers the clock's time.
    fn advance_clock(&self, body: &[u8]) -> Response {
        let Some(secs) = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.get("advanceSeconds").and_then(Value::as_i64))
            .filter(|s| *s >= 0)
        else {
            return describe(400, "advanceSeconds must be a non-negative integer");
        };
        let clock = &self.platform.registry.clock;
        clock.advance(secs);
        osb(
            200,
            json!({"now": twinstack_registry::tokens::Clock::rfc3339(clock.now()), "offsetSeconds": clock.offset()}),
        )
    }

    /// Runs a request that changes state in its own task: a client that hangs up (the
    /// connection's future is dropped) does not cut it off between two transactions.
    async fn detached<F, Fut>(self: &Arc<Self>, f: F) -> Response
    where
        F: FnOnce(Arc<Broker>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Response> + Send + 'static,
    {
        match tokio::spawn(f(self.clone())).await {
            Ok(r) => r,
            Err(e) => {
                tracing::error!("broker request failed: {e}");
                describe(500, "internal error")
            }
        }
    }

    fn store(&self) -> &Store {
        &self.platform.registry.store
    }

    fn read<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        let kv = self.store().get(key).ok()??;
        serde_json::from_slice(&kv.value).ok()
    }

    fn instance(&self, id: &str) -> Option<Instance> {
        self.read(&instance_key(id))
    }

    fn operation(&self, id: &str) -> Option<Operation> {
        self.read(&operation_key(id))
    }

    fn dashboard_url(&self, inst: &Instance) -> String {
        let addr = self
            .platform
            .addr
            .get()
            .map(|a| crate::kubeconfig::host_port(*a))
            .unwrap_or_default();
        format!("https://{addr}/runtimes/{}", inst.runtime)
    }

    /// `PUT /v2/service_instances/:id`: brokerapi's checks, KEB's validation, then under the
    /// instance's lock either KEB's answer to an existing instance or a new instance whose
    /// runtime name is claimed at once and whose provisioning runs in the background.
    async fn provision(
        self: &Arc<Self>,
        id: &str,
        query: &HashMap<String, String>,
        body: &[u8],
        mut opts: KebOptions,
    ) -> Response {
        let details = match twinstack_keb::provision_details_with(body, &opts) {
            Ok(d) => d,
            Err(e) => return osb_error(&e),
        };
        // KEB's `Provision` never looks at `accepts_incomplete`: provisioning is asynchronous
        // whatever the platform says, and answers 202.
        let _ = query;
        let params = match details.parameters {
            Value::Null => json!({}),
            p => p,
        };
        let context = details.context;
        opts.instance_id = id.to_string();
        // One trial per global account: KEB counts the global account's instances.
        let in_global_account = twinstack_keb::validate_context(&context)
            .map(|c| self.instances_in_global_account(&c.global_account_id))
            .unwrap_or(0);
        let plan = match twinstack_keb::validate_provision_request(
            &details.plan_id,
            &params,
            &context,
            in_global_account,
            &opts,
        ) {
            Ok((p, _)) => p,
            Err(e) => return osb_error(&e),
        };
        let context = match context {
            Value::Null => json!({}),
            c => c,
        };
        let _request = self.request_locks.lock(id).await;
        let instance = self.instance_locks.lock(id).await;
        if let Some(existing) = self.instance(id) {
            // KEB `handleExistingOperation`: the same request gets the same operation again
            // (202 while it runs, as OSB requires of a repeated PUT).
            let same = existing.plan_id == details.plan_id
                && existing.service_id == details.service_id
                && existing.parameters == params
                && existing.context == context;
            if !same {
                return describe(409, "provisioning operation already exist");
            }
            return osb(
                202,
                json!({"operation": existing.provisioning_operation, "dashboard_url": self.dashboard_url(&existing)}),
            );
        }
        let runtime = twinstack_keb::runtime_name(id);
        let name = self.platform.runtime_locks.lock(&runtime).await;
        let op = Operation::new(id, OperationType::Provision);
        let inst = Instance {
            instance_id: id.to_string(),
            service_id: details.service_id,
            plan_id: details.plan_id,
            runtime,
            plan,
            parameters: params,
            context,
            provisioning_operation: op.id.clone(),
            operations: vec![op.id.clone()],
            expired_at: None,
        };
        let record = directory::new_runtime_record(&runtime_spec(&inst));
        if let Err(e) = Runtime::new(record.clone()) {
            return describe(500, &format!("{e:#}"));
        }
        let (i, o) = (inst.clone(), op.clone());
        let created = self
            .store()
            .txn(move |txn| -> Result<(), ProvisionRefusal> {
                directory::claim_runtime_in_txn(txn, &record)?;
                put_json(txn, &instance_key(&i.instance_id), &i);
                put_json(txn, &operation_key(&o.id), &o);
                Ok(())
            })
            .await;
        match created {
            Ok(_) => {}
            Err(TxnError::Aborted(ProvisionRefusal::Platform(e))) => {
                return describe(409, &e.to_string())
            }
            Err(e) => return describe(500, &e.to_string()),
        }
        drop((name, instance));
        tracing::info!(instance = %id, runtime = %inst.runtime, operation = %op.id, "provisioning");
        self.run_operation(op.id.clone()).await;
        osb(
            202,
            json!({"operation": op.id, "dashboard_url": self.dashboard_url(&inst)}),
        )
    }

    /// Runs an operation's stages in a task of its own; with an operation time of 0, waits
    /// for it (the request answers once it is done, as before operations took time).
    async fn run_operation(self: &Arc<Self>, operation: String) {
        let task = tokio::spawn(worker::run(self.clone(), operation));
        if self.settings.operation_time.is_zero() {
            let _ = task.await;
        }
    }

    /// Picks up the operations a restart interrupted, from the stage they reached.
    pub async fn resume(self: &Arc<Self>) -> anyhow::Result<()> {
        let (kvs, _) = self.store().list(INSTANCES)?;
        for kv in kvs {
            let Ok(inst) = serde_json::from_slice::<Instance>(&kv.value) else {
                continue;
            };
            for id in &inst.operations {
                let Some(op) = self
                    .operation(id)
                    .filter(|o| o.state == OperationState::InProgress)
                else {
                    continue;
                };
                tracing::info!(instance = %inst.instance_id, operation = %op.id, kind = op.kind.as_str(), "resuming operation");
                self.run_operation(op.id).await;
            }
        }
        Ok(())
    }

    /// `PATCH /v2/service_instances/:id`: networking and IP families never change, so the
    /// runtime stays as it is; the instance records the updated plan and the operation, whose
    /// stages run in the background.
    async fn update(
        self: &Arc<Self>,
        id: &str,
        query: &HashMap<String, String>,
        body: &[u8],
        mut opts: KebOptions,
    ) -> Response {
        let details = match twinstack_keb::update_details(body) {
            Ok(d) => d,
            Err(e) => return osb_error(&e),
        };
        let _request = self.request_locks.lock(id).await;
        let instance = self.instance_locks.lock(id).await;
        let Some(mut inst) = self.instance(id) else {
            // KEB `handleGetInstanceError`: the storage's not-found text.
            return describe(404, &format!("Instance with id {id} not exist"));
        };
        if self
            .operation(&inst.provisioning_operation)
            .is_some_and(|o| o.state == OperationState::Failed)
        {
            return describe(422, "Unable to process an update of a failed instance");
        }
        if self.deprovisioning(&inst).is_some() {
            return describe(
                422,
                "Unable to process an update of a deprovisioned instance",
            );
        }
        // KEB: an expired instance takes no update (without a global account in the context,
        // 400; with one, KEB answers without doing anything).
        if inst.expired_at.is_some() {
            let ga = details
                .context
                .get("globalaccount_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            if ga.is_empty() {
                return describe(400, "cannot update an expired instance");
            }
            return osb(200, json!({}));
        }
        // KEB `processUpdateParameters`: the platform must accept an asynchronous answer,
        // checked after the instance's state and before the parameters.
        if !accepts_incomplete(query) {
            return async_required();
        }
        let params = match details.parameters {
            Value::Null => json!({}),
            p => p,
        };
        opts.instance_id = id.to_string();
        let outcome =
            match twinstack_keb::validate_update(&details.plan_id, &inst.plan, &params, &opts) {
                Ok(o) => o,
                Err(e) => return osb_error(&e),
            };
        inst.plan = outcome.plan;
        let op = outcome
            .new_operation
            .then(|| Operation::new(id, OperationType::Update));
        if let Some(op) = &op {
            inst.operations.push(op.id.clone());
        }
        let (i, o) = (inst.clone(), op.clone());
        let saved = self
            .store()
            .txn(move |txn| {
                put_json(txn, &instance_key(&i.instance_id), &i);
                if let Some(o) = &o {
                    put_json(txn, &operation_key(&o.id), o);
                }
                Ok::<_, std::convert::Infallible>(())
            })
            .await;
        if let Err(e) = saved {
            return describe(500, &e.to_string());
        }
        drop(instance);
        match op {
            Some(op) => {
                self.run_operation(op.id.clone()).await;
                osb(
                    202,
                    json!({"operation": op.id, "dashboard_url": self.dashboard_url(&inst)}),
                )
            }
            None => osb(200, json!({})),
        }
    }

    /// How many instances the global account has (KEB `instances.GetNumberOfInstancesForGlobalAccountID`).
    fn instances_in_global_account(&self, global_account: &str) -> usize {
        self.all_instances()
            .iter()
            .filter(|i| {
                i.context.get("globalaccount_id").and_then(Value::as_str) == Some(global_account)
            })
            .count()
    }

    /// The instance's deprovisioning operation, once one was started (a suspension is not
    /// one: KEB's `!Temporary`).
    fn deprovisioning(&self, inst: &Instance) -> Option<Operation> {
        self.last_deprovision(inst).filter(|o| !o.temporary)
    }

    /// The newest `deprovision` operation, suspensions included.
    fn last_deprovision(&self, inst: &Instance) -> Option<Operation> {
        inst.operations
            .iter()
            .rev()
            .filter_map(|o| self.operation(o))
            .find(|o| o.kind == OperationType::Deprovision)
    }

    /// `GET /v2/service_instances/:id` (KEB `GetInstance`).
    fn fetch(&self, id: &str) -> Response {
        let Some(inst) = self.instance(id) else {
            return describe(
                404,
                &format!("instance with instanceID {id} does not exist"),
            );
        };
        match self
            .operation(&inst.provisioning_operation)
            .map(|o| o.state)
        {
            Some(s @ (OperationState::InProgress | OperationState::Failed)) => describe(
                404,
                &format!("provisioning of instanceID {id} {}", s.as_str()),
            ),
            _ => osb(
                200,
                json!({
                    "service_id": inst.service_id,
                    "plan_id": inst.plan_id,
                    "dashboard_url": self.dashboard_url(&inst),
                    "parameters": inst.parameters,
                }),
            ),
        }
    }

    /// `DELETE /v2/service_instances/:id`: a deprovisioning operation whose stages run in the
    /// background; its `Remove_Instance` stage deletes the instance, its operations, bindings
    /// and runtime in one transaction (see [`worker`]). A repeated DELETE while it runs gets
    /// the same operation (KEB `Deprovision`).
    async fn deprovision(self: &Arc<Self>, id: &str, query: &HashMap<String, String>) -> Response {
        if query.get("service_id").is_none_or(|s| s.is_empty()) {
            return describe(400, "service_id missing");
        }
        if query.get("plan_id").is_none_or(|s| s.is_empty()) {
            return describe(400, "plan_id missing");
        }
        // KEB's `Deprovision` never looks at `accepts_incomplete` (always 202).
        let _request = self.request_locks.lock(id).await;
        let instance = self.instance_locks.lock(id).await;
        let Some(mut inst) = self.instance(id) else {
            // KEB: an instance that does not exist is answered synchronously, 200 `{}`.
            return osb(200, json!({}));
        };
        if let Some(running) = self
            .deprovisioning(&inst)
            .filter(|o| o.state != OperationState::Failed)
        {
            return osb(202, json!({"operation": running.id}));
        }
        let op = Operation::new(id, OperationType::Deprovision);
        inst.operations.push(op.id.clone());
        let (i, o) = (inst.clone(), op.clone());
        let saved = self
            .store()
            .txn(move |txn| {
                put_json(txn, &instance_key(&i.instance_id), &i);
                put_json(txn, &operation_key(&o.id), &o);
                Ok::<_, std::convert::Infallible>(())
            })
            .await;
        if let Err(e) = saved {
            return describe(500, &e.to_string());
        }
        drop(instance);
        tracing::info!(instance = %id, runtime = %inst.runtime, operation = %op.id, "deprovisioning");
        self.run_operation(op.id.clone()).await;
        osb(202, json!({"operation": op.id}))
    }

    /// `GET /v2/service_instances/:id/last_operation` (KEB `LastOperation`).
    fn last_operation(&self, id: &str, query: &HashMap<String, String>) -> Response {
        let op = match query.get("operation").filter(|o| !o.is_empty()) {
            None => self
                .instance(id)
                .and_then(|i| i.operations.last().and_then(|o| self.operation(o))),
            Some(want) => match self.operation(want) {
                Some(op) if op.instance_id != id => {
                    return describe(400, "operation exists, but instanceID is invalid")
                }
                found => found,
            },
        };
        match op {
            Some(op) => osb(
                200,
                json!({"state": op.state.as_str(), "description": op.description}),
            ),
            // KEB `responseFromInstanceArchived`.
            None if self.read::<ArchivedInstance>(&archived_key(id)).is_some() => osb(
                200,
                json!({"state": "succeeded", "description": "Operation succeeded. The instance was deprovisioned."}),
            ),
            None => describe(404, "Operation not found"),
        }
    }

    /// `DELETE /twinstack/v1/runtimes/<name>`: only runtimes no instance owns.
    async fn delete_unowned_runtime(&self, name: &str) -> Response {
        match self.platform.deprovision(name).await {
            Ok(()) => osb(200, json!({})),
            Err(directory::DeprovisionError::Refused(e @ PlatformError::RuntimeNotFound(_))) => {
                describe(404, &e.to_string())
            }
            Err(directory::DeprovisionError::Refused(e)) => describe(409, &e.to_string()),
            Err(e) => describe(500, &e.to_string()),
        }
    }

    /// A runtime's state as the runtimes list shows it: its instance's last operation
    /// (`provision succeeded`, `update in progress`, ...), or `ready` for a runtime that came
    /// without the broker (`up`'s own).
    pub fn runtime_state(&self, r: &twinstack_registry::runtimes::RuntimeRecord) -> String {
        let inst = (!r.instance_id.is_empty())
            .then(|| self.instance(&r.instance_id))
            .flatten();
        inst.as_ref()
            .and_then(|i| i.operations.last())
            .and_then(|o| self.operation(o))
            .map(|o| format!("{} {}", o.kind.as_str(), o.state.as_str()))
            .unwrap_or_else(|| "ready".into())
    }

    async fn list_runtimes(&self) -> Response {
        let runtimes: Vec<Value> = self
            .platform
            .registry
            .runtimes()
            .iter()
            .map(|rt| {
                let r = &rt.record;
                let inst = (!r.instance_id.is_empty())
                    .then(|| self.instance(&r.instance_id))
                    .flatten();
                json!({
                    "name": r.name,
                    "plan": r.plan,
                    "planId": inst.as_ref().map(|i| i.plan_id.clone()).unwrap_or_default(),
                    "instanceId": r.instance_id,
                    "instanceName": inst.as_ref().map(|i| i.plan.name.clone()).unwrap_or_default(),
                    "provider": r.provider.as_str(),
                    "region": r.region,
                    "families": r.network.families.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                    "network": r.network,
                    "state": self.runtime_state(r),
                    "created": r.created,
                    "kubeconfig": crate::kubeconfig_path(&self.platform.data_dir, &r.name),
                    // The secret of the runtime's cloud APIs (AWS: access key id = name).
                    "token": r.token,
                    "cloud": cloud_summary(&self.platform.registry.store, &r.name),
                })
            })
            .collect();
        osb(200, json!({"runtimes": runtimes}))
    }
}

/// The runtime's load balancers as the cloud APIs list them (one line each in `runtime show`).
fn cloud_summary(store: &twinstack_store::Store, runtime: &str) -> Value {
    let inv = twinstack_registry::cloud_inventory::load(store, runtime);
    let mut out: Vec<Value> = inv
        .load_balancers
        .iter()
        .map(|lb| {
            json!({
                "kind": if lb.kind == "classic" { "Classic ELB" } else { "NLB" },
                "name": lb.load_balancer_name,
                "service": format!("{}/{}", lb.owner.namespace, lb.owner.name),
                "address": lb.dns_name,
                "scheme": lb.scheme,
                "ipAddressType": lb.ip_address_type,
                "targetGroups": lb.target_groups.iter().map(|t| format!("{} {}", t.target_group_name, t.ip_address_type)).collect::<Vec<_>>(),
                "leaked": lb.leaked,
            })
        })
        .collect();
    out.extend(inv.forwarding_rules.iter().map(|fr| {
        json!({
            "kind": "forwarding rule",
            "name": fr.name,
            "service": format!("{}/{}", fr.owner.namespace, fr.owner.name),
            "address": fr.ip_address,
            "scheme": fr.load_balancing_scheme,
            "ipAddressType": fr.ip_version,
            "targetGroups": [],
            "leaked": fr.leaked,
        })
    }));
    Value::Array(out)
}

/// An instance as stored before the move to `/twinstack/` (operations inside, newest first).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LegacyInstance {
    instance_id: String,
    service_id: String,
    plan_id: String,
    runtime: String,
    plan: ProvisionPlan,
    parameters: Value,
    #[serde(default)]
    context: Value,
    operations: Vec<LegacyOperation>,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
struct LegacyOperation {
    id: String,
    kind: String,
    state: String,
    description: String,
}

/// Moves platform records from `/registry/twinstack/` (where a runtime named `twinstack` could
/// delete them) to `/twinstack/`, in one transaction. Returns how many records moved.
pub async fn migrate_legacy_records(store: &Store) -> anyhow::Result<usize> {
    let (runtimes, _) = store.list(twinstack_registry::runtimes::LEGACY_RUNTIMES_PREFIX)?;
    let (instances, _) = store.list(LEGACY_INSTANCES)?;
    if runtimes.is_empty() && instances.is_empty() {
        return Ok(0);
    }
    let moved = runtimes.len() + instances.len();
    let now = twinstack_registry::registry::now_rfc3339();
    let mut writes: Vec<(String, Vec<u8>)> = Vec::new();
    for kv in &runtimes {
        let record: RuntimeRecord = serde_json::from_slice(&kv.value)?;
        writes.push((directory::runtime_key(&record.name), kv.value.clone()));
    }
    for kv in &instances {
        let old: LegacyInstance = serde_json::from_slice(&kv.value)?;
        writes.extend(migrate_instance(old, &now)?);
    }
    let deletes: Vec<String> = runtimes
        .iter()
        .chain(instances.iter())
        .map(|kv| kv.key.clone())
        .collect();
    store
        .txn(move |txn| {
            for (k, v) in writes {
                txn.put(&k, v);
            }
            for k in &deletes {
                txn.delete(k);
            }
            Ok::<_, std::convert::Infallible>(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("moving platform records: {e}"))?;
    tracing::info!(
        records = moved,
        "moved platform records from /registry/twinstack/ to /twinstack/"
    );
    Ok(moved)
}

fn migrate_instance(old: LegacyInstance, now: &str) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    if old.deleted {
        let a = ArchivedInstance {
            instance_id: old.instance_id.clone(),
            plan_id: old.plan_id,
            runtime: old.runtime,
            deprovisioned_at: now.to_string(),
        };
        return Ok(vec![(
            archived_key(&old.instance_id),
            serde_json::to_vec(&a)?,
        )]);
    }
    let mut out = Vec::new();
    let mut ids = Vec::new();
    let mut provisioning = String::new();
    for o in old.operations.iter().rev() {
        let kind = match o.kind.as_str() {
            "provision" => OperationType::Provision,
            "deprovision" => OperationType::Deprovision,
            _ => OperationType::Update,
        };
        let state = match o.state.as_str() {
            "succeeded" => OperationState::Succeeded,
            "failed" => OperationState::Failed,
            _ => OperationState::InProgress,
        };
        if kind == OperationType::Provision {
            provisioning = o.id.clone();
        }
        let op = Operation {
            id: o.id.clone(),
            instance_id: old.instance_id.clone(),
            kind,
            state,
            description: o.description.clone(),
            created_at: now.to_string(),
            finished_stages: Vec::new(),
            temporary: false,
            updated_at: now.to_string(),
        };
        out.push((operation_key(&op.id), serde_json::to_vec(&op)?));
        ids.push(op.id);
    }
    let inst = Instance {
        instance_id: old.instance_id,
        service_id: old.service_id,
        plan_id: old.plan_id,
        runtime: old.runtime,
        plan: old.plan,
        parameters: old.parameters,
        context: old.context,
        provisioning_operation: provisioning,
        operations: ids,
        expired_at: None,
    };
    out.push((instance_key(&inst.instance_id), serde_json::to_vec(&inst)?));
    Ok(out)
}
