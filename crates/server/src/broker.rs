//! The Open Service Broker API (v2.17) of the Kyma Environment Broker, on the platform's port:
//! catalog, asynchronous provision / update / deprovision with `last_operation` polling, and
//! instance fetch, answered as KEB (pivotal-cf/brokerapi) answers. The rules (plans, schemas,
//! validation messages, runtime networking) come from `twinstack-keb`; this module keeps the
//! instances and operations in the store and turns them into runtimes.
//!
//! Besides OSB, `GET /twinstack/v1/runtimes` lists runtimes for the CLI (same credential).

use crate::platform::{Platform, RuntimeSpec};
use crate::write_private;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use twinstack_keb::{shoot, KebOptions, OsbError, ProvisionPlan};

const INSTANCES: &str = "/registry/twinstack/instances/";

/// The broker's basic-auth credential, as OSB platforms use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    pub id: String,
    /// `provision`, `update` or `deprovision`.
    pub kind: String,
    /// OSB states: `in progress`, `succeeded`, `failed`.
    pub state: String,
    pub description: String,
}

/// An OSB service instance and the runtime it stands for.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    pub instance_id: String,
    pub service_id: String,
    pub plan_id: String,
    pub runtime: String,
    pub plan: ProvisionPlan,
    pub parameters: Value,
    #[serde(default)]
    pub context: Value,
    pub operations: Vec<Operation>,
    #[serde(default)]
    pub deleted: bool,
}

pub struct Broker {
    platform: Arc<Platform>,
    pub credentials: Credentials,
    pub options: KebOptions,
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

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Broker {
    /// Loads the broker credential from `DIR/broker.json`, creating it on first start.
    pub fn load_or_create(platform: Arc<Platform>) -> anyhow::Result<Broker> {
        let path = platform.data_dir.join("broker.json");
        let credentials = match std::fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)?,
            Err(_) => {
                let c = Credentials {
                    username: "broker".into(),
                    password: crate::runtimes::new_token(),
                };
                write_private(&path, &serde_json::to_string(&c)?)?;
                c
            }
        };
        Ok(Broker {
            platform,
            credentials,
            options: KebOptions::default(),
        })
    }

    pub(crate) fn authorized(&self, headers: &HeaderMap) -> bool {
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
        crate::runtimes::token_eq(&String::from_utf8_lossy(&raw), &want)
    }

    /// Entry point for `/v2/...` and `/twinstack/v1/...`.
    pub async fn handle(
        &self,
        method: &Method,
        path: &str,
        query: &HashMap<String, String>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Response {
        if !self.authorized(headers) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Basic realm=\"twinstack broker\"")],
                "Not Authorized\n",
            )
                .into_response();
        }
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if segs.first() == Some(&"twinstack") {
            return match (method, segs.as_slice()) {
                (&Method::GET, ["twinstack", "v1", "runtimes"]) => self.list_runtimes().await,
                // Runtimes that did not come through the broker (the one of `up`) are deleted here.
                (&Method::DELETE, ["twinstack", "v1", "runtimes", name]) => {
                    if self.platform.registry.runtime(name).is_none() {
                        return describe(404, &format!("runtime {name:?} not found"));
                    }
                    match self.platform.deprovision(name).await {
                        Ok(()) => osb(200, json!({})),
                        Err(e) => describe(500, &format!("{e:#}")),
                    }
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
        match (method, segs.as_slice()) {
            (&Method::GET, ["v2", "catalog"]) => {
                osb(200, twinstack_keb::catalog_with(&self.options))
            }
            (&Method::PUT, ["v2", "service_instances", id]) => {
                self.provision(id, query, body).await
            }
            (&Method::PATCH, ["v2", "service_instances", id]) => self.update(id, query, body).await,
            (&Method::GET, ["v2", "service_instances", id]) => self.fetch(id).await,
            (&Method::DELETE, ["v2", "service_instances", id]) => self.deprovision(id, query).await,
            (&Method::GET, ["v2", "service_instances", id, "last_operation"]) => {
                self.last_operation(id, query).await
            }
            (_, ["v2", "service_instances", _, "service_bindings", ..]) => {
                describe(400, "service is not bindable")
            }
            _ => describe(404, "not found"),
        }
    }

    fn load(&self, id: &str) -> Option<Instance> {
        let kv = self
            .platform
            .registry
            .store
            .get(&format!("{INSTANCES}{id}"))
            .ok()??;
        serde_json::from_slice(&kv.value).ok()
    }

    async fn save(&self, inst: &Instance) -> anyhow::Result<()> {
        let key = format!("{INSTANCES}{}", inst.instance_id);
        let bytes = serde_json::to_vec(inst)?;
        self.platform
            .registry
            .store
            .txn(move |txn| -> Result<(), String> {
                txn.put(&key, bytes);
                Ok(())
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(())
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

    async fn provision(&self, id: &str, query: &HashMap<String, String>, body: &[u8]) -> Response {
        if query.get("accepts_incomplete").map(String::as_str) != Some("true") {
            return osb(
                422,
                json!({"error": "AsyncRequired", "description": "This service plan requires client support for asynchronous service operations."}),
            );
        }
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return describe(422, "The format of the parameters is not valid JSON");
        };
        let service_id = req.get("service_id").and_then(Value::as_str).unwrap_or("");
        let plan_id = req.get("plan_id").and_then(Value::as_str).unwrap_or("");
        if service_id.is_empty() {
            return describe(400, "service_id missing");
        }
        if plan_id.is_empty() {
            return describe(400, "plan_id missing");
        }
        if service_id != twinstack_keb::KYMA_SERVICE_ID {
            return describe(400, "service-id not in the catalog");
        }
        if twinstack_keb::plan_by_id(plan_id).is_none() {
            return describe(400, "plan_id not in the catalog");
        }
        let params = req.get("parameters").cloned().unwrap_or(json!({}));
        if let Some(existing) = self.load(id).filter(|i| !i.deleted) {
            if existing.plan_id == plan_id && existing.parameters == params {
                let op = existing.operations.first().cloned();
                return match op {
                    Some(op) if op.state == "in progress" => osb(
                        202,
                        json!({"operation": op.id, "dashboard_url": self.dashboard_url(&existing)}),
                    ),
                    _ => osb(200, json!({"dashboard_url": self.dashboard_url(&existing)})),
                };
            }
            return describe(409, "instance already exists");
        }
        let mut opts = self.options.clone();
        opts.instance_id = id.to_string();
        let plan = match twinstack_keb::validate_provision(plan_id, &params, &opts) {
            Ok(p) => p,
            Err(e) => return osb_error(&e),
        };
        // The runtime name is the instance's `name` when it makes a good URL segment.
        let runtime = if twinstack_core::runtime::validate_runtime_name(&plan.name).is_ok() {
            plan.name.clone()
        } else {
            format!(
                "rt-{}",
                &id.to_ascii_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "")[..8.min(id.len())]
            )
        };
        if self.platform.registry.runtime(&runtime).is_some() {
            return describe(409, &format!("a runtime named {runtime:?} already exists"));
        }
        let op = Operation {
            id: new_id(),
            kind: "provision".into(),
            state: "in progress".into(),
            description: "Operation created".into(),
        };
        let inst = Instance {
            instance_id: id.to_string(),
            service_id: service_id.to_string(),
            plan_id: plan_id.to_string(),
            runtime: runtime.clone(),
            plan: plan.clone(),
            parameters: params,
            context: req.get("context").cloned().unwrap_or(json!({})),
            operations: vec![op.clone()],
            deleted: false,
        };
        if let Err(e) = self.save(&inst).await {
            return describe(500, &e.to_string());
        }
        let shoot = shoot::shoot_networking(&plan, &runtime);
        let info = shoot::ProvisioningInfo {
            global_account_id: inst
                .context
                .get("globalaccount_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            subaccount_id: inst
                .context
                .get("subaccount_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
            instance_id: id.to_string(),
            instance_name: plan.name.clone(),
        };
        let mut spec =
            RuntimeSpec::new(&runtime, plan.provider, &plan.region, shoot.to_network(), 3);
        spec.plan = plan.plan_name.clone();
        spec.instance_id = id.to_string();
        spec.extra_objects = vec![
            (
                "configmaps",
                shoot::provisioning_info_configmap(&plan, &shoot, &info),
            ),
            ("services", shoot::kube_dns_service(&shoot)),
        ];
        let result = self.platform.provision(&spec).await;
        let mut inst = inst;
        inst.operations[0] = match result {
            Ok(_) => Operation {
                state: "succeeded".into(),
                description: "Operation succeeded".into(),
                ..op.clone()
            },
            Err(e) => Operation {
                state: "failed".into(),
                description: format!("provisioning failed: {e:#}"),
                ..op.clone()
            },
        };
        if let Err(e) = self.save(&inst).await {
            return describe(500, &e.to_string());
        }
        osb(
            202,
            json!({"operation": op.id, "dashboard_url": self.dashboard_url(&inst)}),
        )
    }

    async fn update(&self, id: &str, query: &HashMap<String, String>, body: &[u8]) -> Response {
        if query.get("accepts_incomplete").map(String::as_str) != Some("true") {
            return osb(
                422,
                json!({"error": "AsyncRequired", "description": "This service plan requires client support for asynchronous service operations."}),
            );
        }
        let Ok(req) = serde_json::from_slice::<Value>(body) else {
            return describe(422, "The format of the parameters is not valid JSON");
        };
        let Some(mut inst) = self.load(id).filter(|i| !i.deleted) else {
            return describe(404, "instance does not exist");
        };
        let plan_id = req.get("plan_id").and_then(Value::as_str).unwrap_or("");
        let params = req.get("parameters").cloned().unwrap_or(json!({}));
        let mut opts = self.options.clone();
        opts.instance_id = id.to_string();
        let outcome = match twinstack_keb::validate_update(plan_id, &inst.plan, &params, &opts) {
            Ok(o) => o,
            Err(e) => return osb_error(&e),
        };
        // Networking and IP families never change: the runtime is left as it is.
        inst.plan = outcome.plan;
        if !outcome.new_operation {
            let _ = self.save(&inst).await;
            return osb(200, json!({}));
        }
        let op = Operation {
            id: new_id(),
            kind: "update".into(),
            state: "succeeded".into(),
            description: "Operation succeeded".into(),
        };
        inst.operations.insert(0, op.clone());
        if let Err(e) = self.save(&inst).await {
            return describe(500, &e.to_string());
        }
        osb(
            202,
            json!({"operation": op.id, "dashboard_url": self.dashboard_url(&inst)}),
        )
    }

    async fn fetch(&self, id: &str) -> Response {
        match self.load(id).filter(|i| !i.deleted) {
            Some(inst) => osb(
                200,
                json!({
                    "service_id": inst.service_id,
                    "plan_id": inst.plan_id,
                    "dashboard_url": self.dashboard_url(&inst),
                    "parameters": inst.parameters,
                }),
            ),
            None => describe(404, "instance does not exist"),
        }
    }

    async fn deprovision(&self, id: &str, query: &HashMap<String, String>) -> Response {
        if query.get("service_id").is_none_or(|s| s.is_empty()) {
            return describe(400, "service_id missing");
        }
        if query.get("plan_id").is_none_or(|s| s.is_empty()) {
            return describe(400, "plan_id missing");
        }
        let Some(mut inst) = self.load(id).filter(|i| !i.deleted) else {
            return describe(410, "instance does not exist");
        };
        if query.get("accepts_incomplete").map(String::as_str) != Some("true") {
            return osb(
                422,
                json!({"error": "AsyncRequired", "description": "This service plan requires client support for asynchronous service operations."}),
            );
        }
        let op = Operation {
            id: new_id(),
            kind: "deprovision".into(),
            state: "in progress".into(),
            description: "Operation created".into(),
        };
        let result = self.platform.deprovision(&inst.runtime).await;
        let done = match result {
            Ok(()) => Operation {
                state: "succeeded".into(),
                description: "Operation succeeded".into(),
                ..op.clone()
            },
            Err(e) => Operation {
                state: "failed".into(),
                description: format!("deprovisioning failed: {e:#}"),
                ..op.clone()
            },
        };
        inst.deleted = done.state == "succeeded";
        inst.operations.insert(0, done);
        if let Err(e) = self.save(&inst).await {
            return describe(500, &e.to_string());
        }
        osb(202, json!({"operation": op.id}))
    }

    async fn last_operation(&self, id: &str, query: &HashMap<String, String>) -> Response {
        let Some(inst) = self.load(id) else {
            return describe(410, "instance does not exist");
        };
        let op = match query.get("operation").filter(|o| !o.is_empty()) {
            Some(want) => inst.operations.iter().find(|o| &o.id == want),
            None => inst.operations.first(),
        };
        match op {
            Some(op)
                if op.kind == "deprovision"
                    && op.state == "succeeded"
                    && query.get("operation").is_none() =>
            {
                describe(410, "instance does not exist")
            }
            Some(op) => osb(
                200,
                json!({"state": op.state, "description": op.description}),
            ),
            None => describe(404, "operation does not exist"),
        }
    }

    async fn list_runtimes(&self) -> Response {
        let runtimes: Vec<Value> = self
            .platform
            .registry
            .runtimes()
            .iter()
            .map(|rt| {
                let r = &rt.record;
                let inst = (!r.instance_id.is_empty()).then(|| self.load(&r.instance_id)).flatten();
                json!({
                    "name": r.name,
                    "plan": r.plan,
                    "planId": inst.as_ref().map(|i| i.plan_id.clone()).unwrap_or_default(),
                    "instanceId": r.instance_id,
                    "provider": r.provider.as_str(),
                    "region": r.region,
                    "families": r.network.families.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                    "network": r.network,
                    "state": inst.as_ref().and_then(|i| i.operations.first()).map(|o| format!("{} {}", o.kind, o.state)).unwrap_or_else(|| "ready".into()),
                    "created": r.created,
                    "kubeconfig": crate::kubeconfig_path(&self.platform.data_dir, &r.name),
                })
            })
            .collect();
        osb(200, json!({"runtimes": runtimes}))
    }
}
