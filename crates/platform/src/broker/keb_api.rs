//! KEB's endpoints besides OSB (`twinstack_keb::endpoints` has the rules and texts):
//! `GET /runtimes` (the runtimes API with KEB's filters and paging), `GET /kubeconfig/{id}`
//! (the OIDC kubeconfig KEB hands out, no credential in it), and `PUT
//! /expire/service_instance/{id}` (trial/free expiry: the runtime is suspended).
//!
//! KEB leaves authentication to Istio; twinstack asks the broker credential for `/runtimes`
//! and `/expire` and, as KEB's gateway, none for `/kubeconfig`.

use super::*;
use twinstack_keb::endpoints::{expiration, kubeconfig, runtimes as api, ApiError, Time};

/// The provisioning stage that gives the instance its runtime ID.
const GENERATE_RUNTIME_ID: &str = "Generate_Runtime_ID";

/// KEB's default OIDC configuration of a runtime (`skrOIDCDefaultValues`).
const DEFAULT_OIDC_ISSUER: &str = "https://kymatest.accounts400.ondemand.com";
const DEFAULT_OIDC_CLIENT_ID: &str = "9bd05ed7-a930-44e6-8c79-e6defeb7dec9";

fn api_error(e: &ApiError) -> Response {
    let code = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code,
        [(header::CONTENT_TYPE, e.content_type())],
        e.body_string(),
    )
        .into_response()
}

/// RFC 3339 (as twinstack records times) to KEB's time; Go's zero time when unreadable.
fn time(rfc3339: &str) -> Time {
    rfc3339
        .parse::<jiff::Timestamp>()
        .map(|t| Time::from_unix(t.as_second(), t.subsec_nanosecond() as u32))
        .unwrap_or(Time::ZERO)
}

fn state(s: OperationState) -> api::OperationState {
    match s {
        OperationState::InProgress => api::OperationState::InProgress,
        OperationState::Succeeded => api::OperationState::Succeeded,
        OperationState::Failed => api::OperationState::Failed,
    }
}

/// KEB's `Provider` names in the runtimes API.
fn provider_name(p: twinstack_core::runtime::Provider) -> &'static str {
    use twinstack_core::runtime::Provider::*;
    match p {
        Aws => "AWS",
        Gcp => "GCP",
        Azure => "Azure",
        _ => p.as_str(),
    }
}

impl Broker {
    /// Every live instance.
    pub(super) fn all_instances(&self) -> Vec<Instance> {
        self.store()
            .list(INSTANCES)
            .map(|(kvs, _)| {
                kvs.iter()
                    .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An instance and its operations as the runtimes API reads them.
    fn runtime_record(&self, inst: &Instance) -> api::RuntimeRecord {
        let ctx = |k: &str| {
            inst.context
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let operations: Vec<api::OperationRecord> = inst
            .operations
            .iter()
            .filter_map(|id| self.operation(id))
            .map(|o| api::OperationRecord {
                id: o.id.clone(),
                kind: match o.kind {
                    OperationType::Provision => api::OperationType::Provision,
                    OperationType::Update => api::OperationType::Update,
                    OperationType::Deprovision => api::OperationType::Deprovision,
                },
                state: state(o.state),
                description: o.description.clone(),
                created_at: time(&o.created_at),
                updated_at: time(&o.updated_at),
                finished_stages: o.finished_stages.clone(),
                executed_but_not_completed: Vec::new(),
                temporary: o.temporary,
                raw_parameters: (o.kind == OperationType::Provision)
                    .then(|| inst.parameters.clone()),
                parameters: inst.parameters.clone(),
                target_secret: None,
                last_error: None,
                updated_plan_id: None,
            })
            .collect();
        let created = operations
            .first()
            .map(|o| o.created_at)
            .unwrap_or(Time::ZERO);
        let updated = operations
            .iter()
            .map(|o| o.updated_at)
            .max()
            .unwrap_or(created);
        api::RuntimeRecord {
            instance: api::InstanceRecord {
                instance_id: inst.instance_id.clone(),
                runtime_id: inst.runtime.clone(),
                global_account_id: ctx("globalaccount_id"),
                subscription_global_account_id: String::new(),
                subaccount_id: ctx("subaccount_id"),
                service_id: inst.service_id.clone(),
                service_name: twinstack_keb::KYMA_SERVICE_NAME.into(),
                plan_id: inst.plan_id.clone(),
                plan_name: inst.plan.plan_name.clone(),
                provider: provider_name(inst.plan.provider).into(),
                provider_region: inst.plan.region.clone(),
                platform_region: String::new(),
                user_id: ctx("user_id").to_lowercase(),
                shoot_name: inst.runtime.clone(),
                created_at: created,
                updated_at: updated,
                deleted_at: None,
                expired_at: inst.expired_at.as_deref().map(time),
                parameters: inst.parameters.clone(),
                subscription_secret_name: String::new(),
                license_type: inst
                    .context
                    .get("license_type")
                    .and_then(Value::as_str)
                    .map(String::from),
                commercial_model: inst
                    .context
                    .get("commercial_model")
                    .and_then(Value::as_str)
                    .map(String::from),
                active: inst.context.get("active").and_then(Value::as_bool),
                empty_updates: 0,
                beta_enabled: None,
                used_for_production: None,
                has_bindings: !self.bindings_of(&inst.instance_id).is_empty(),
                last_operation_id: inst.operations.last().cloned(),
                archived: None,
            },
            operations,
        }
    }

    /// `GET /runtimes` (KEB `runtime.Handler.getRuntimes`).
    pub(super) fn runtimes_api(&self, raw_query: Option<&str>) -> Response {
        let pairs: Vec<(String, String)> = raw_query
            .map(twinstack_keb::endpoints::query_pairs)
            .unwrap_or_default();
        let query = match api::RuntimesQuery::parse(&pairs) {
            Ok(q) => q,
            Err(e) => return api_error(&e),
        };
        let records: Vec<api::RuntimeRecord> = self
            .all_instances()
            .iter()
            .map(|i| self.runtime_record(i))
            .collect();
        let mut page = match api::page(&query, &records, "") {
            Ok(p) => p,
            Err(e) => return api_error(&e),
        };
        if query.bindings {
            let now = self.platform.registry.clock.now();
            for dto in &mut page.data {
                dto.bindings = self
                    .bindings_of(&dto.instance_id)
                    .into_iter()
                    .map(|b| api::BindingDto {
                        created_at: time(&b.created_at),
                        expires_in_seconds: (b.expires_at - now).max(0),
                        expires_at: Time::from_unix(b.expires_at, 0),
                        kubeconfig_exists: !b.kubeconfig.is_empty(),
                        created_by: b.created_by,
                        id: b.id,
                    })
                    .collect();
            }
        }
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            page.body_string(),
        )
            .into_response()
    }

    /// `GET /kubeconfig/{instance_id}` (KEB `kubeconfig.Handler.GetKubeconfig`).
    pub(super) fn kubeconfig_api(&self, instance_id: &str, origin: Option<&str>) -> Response {
        let inst = self.instance(instance_id);
        let provisioning_op = inst
            .as_ref()
            .and_then(|i| self.operation(&i.provisioning_operation));
        let kc_instance = inst.as_ref().map(|i| kubeconfig::KubeconfigInstance {
            // KEB records the runtime ID in its `Generate_Runtime_ID` step.
            runtime_id: match &provisioning_op {
                Some(o)
                    if o.state == OperationState::InProgress
                        && !o.finished_stages.iter().any(|s| s == GENERATE_RUNTIME_ID) =>
                {
                    String::new()
                }
                _ => i.runtime.clone(),
            },
            name: i.plan.name.clone(),
        });
        let provisioning = provisioning_op.map(|o| kubeconfig::ProvisioningOperation {
            instance_id: o.instance_id,
            state: state(o.state),
        });
        let result = kubeconfig::check(instance_id, kc_instance.as_ref(), provisioning.as_ref())
            .and_then(|()| {
                let i = inst.as_ref().expect("checked");
                let k = kc_instance.as_ref().expect("checked");
                let server = self
                    .platform
                    .addr
                    .get()
                    .map(|a| crate::kubeconfig::server_url(*a, &i.runtime))
                    .unwrap_or_default();
                let ca = base64::engine::general_purpose::STANDARD
                    .encode(self.platform.ca_pem.as_bytes());
                let admin = kubeconfig::AdminKubeconfigLookup::Found(kubeconfig::AdminKubeconfig {
                    current_context: crate::kubeconfig::context_name(&i.runtime),
                    first_cluster: Some((ca, server)),
                });
                let oidc =
                    kubeconfig::RuntimeResourceLookup::Found(Some(oidc_entries(&i.parameters)));
                kubeconfig::build_kubeconfig(k, &admin, &oidc)
            });
        // `specifyAllowOriginHeader`: twinstack allows any origin (a local tool).
        let allow = (!instance_id.is_empty())
            .then(|| kubeconfig::allow_origin(origin, "*"))
            .flatten();
        let mut resp = match result {
            Ok(text) => {
                let mut r = (StatusCode::OK, text).into_response();
                for (k, v) in kubeconfig::serve_headers() {
                    if let Ok(v) = v.parse() {
                        r.headers_mut().insert(k, v);
                    }
                }
                r
            }
            Err(e) => {
                let code =
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                (
                    code,
                    [(header::CONTENT_TYPE, "application/json")],
                    e.body_string(),
                )
                    .into_response()
            }
        };
        if let Some(v) = allow.and_then(|a| a.parse().ok()) {
            resp.headers_mut()
                .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        resp
    }

    /// `PUT /expire/service_instance/{instance_id}` (KEB `expiration.handler.expireInstance`):
    /// marks a trial or free instance expired, deactivates it and suspends its runtime.
    pub(super) async fn expire_api(self: &Arc<Self>, instance_id: &str) -> Response {
        let request = self.request_locks.lock(instance_id).await;
        let instance = self.instance_locks.lock(instance_id).await;
        let inst = self.instance(instance_id);
        let facts = inst.as_ref().map(|i| expiration::ExpirationInstance {
            plan_id: i.plan_id.clone(),
            expired: i.expired_at.is_some(),
            active: i.context.get("active").and_then(Value::as_bool),
        });
        let last = inst.as_ref().and_then(|i| {
            self.last_deprovision(i)
                .map(|o| expiration::LastDeprovisioning {
                    id: o.id.clone(),
                    state: state(o.state),
                    temporary: o.temporary,
                    has_steps_to_retry: false,
                })
        });
        let decision = match expiration::decide(instance_id, facts.as_ref(), last.as_ref()) {
            Ok(d) => d,
            Err(e) => return api_error(&e),
        };
        let mut inst = inst.expect("decided on an instance");
        if decision.set_expired_at {
            inst.expired_at = Some(twinstack_registry::registry::now_rfc3339());
        }
        if decision.deactivate {
            if let Some(ctx) = inst.context.as_object_mut() {
                ctx.insert("active".into(), json!(false));
            }
        }
        let (op, new) = match decision.suspension {
            expiration::Suspension::Existing(id) => (id, None),
            expiration::Suspension::Create => {
                let mut op = Operation::new(instance_id, OperationType::Deprovision);
                op.temporary = true;
                inst.operations.push(op.id.clone());
                (op.id.clone(), Some(op))
            }
        };
        let (i, o) = (inst.clone(), new.clone());
        if let Err(e) = self
            .store()
            .txn(move |txn| {
                put_json(txn, &instance_key(&i.instance_id), &i);
                if let Some(o) = &o {
                    put_json(txn, &operation_key(&o.id), o);
                }
                Ok::<_, std::convert::Infallible>(())
            })
            .await
        {
            return api_error(&ApiError::new(500, e.to_string()));
        }
        drop((instance, request));
        if new.is_some() {
            tracing::info!(instance = %instance_id, operation = %op, "suspending an expired instance");
            self.run_operation(op.clone()).await;
        }
        (
            StatusCode::from_u16(expiration::ACCEPTED).expect("202"),
            [(header::CONTENT_TYPE, "application/json")],
            expiration::accepted_body(&op).to_string(),
        )
            .into_response()
    }
}

/// The OIDC configurations of a runtime as KIM writes them into the Runtime resource: the
/// instance's `oidc` parameter (an object, or `{"list": [...]}`), else KEB's default.
fn oidc_entries(params: &Value) -> Vec<kubeconfig::OidcEntry> {
    let entry = |o: &Value| kubeconfig::OidcEntry {
        issuer_url: o.get("issuerURL").and_then(Value::as_str).map(String::from),
        client_id: o.get("clientID").and_then(Value::as_str).map(String::from),
    };
    match params.get("oidc") {
        Some(o) if o.get("list").is_some() => o["list"]
            .as_array()
            .map(|l| l.iter().map(entry).collect())
            .unwrap_or_default(),
        Some(o) if o.get("issuerURL").is_some() || o.get("clientID").is_some() => vec![entry(o)],
        _ => vec![kubeconfig::OidcEntry {
            issuer_url: Some(DEFAULT_OIDC_ISSUER.into()),
            client_id: Some(DEFAULT_OIDC_CLIENT_ID.into()),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oidc_of_an_instance() {
        let d = oidc_entries(&json!({}));
        assert_eq!(d[0].client_id.as_deref(), Some(DEFAULT_OIDC_CLIENT_ID));
        let one = oidc_entries(&json!({"oidc": {"issuerURL": "https://i", "clientID": "c"}}));
        assert_eq!(one[0].issuer_url.as_deref(), Some("https://i"));
        let list = oidc_entries(
            &json!({"oidc": {"list": [{"issuerURL": "https://a", "clientID": "1"}, {"issuerURL": "https://b", "clientID": "2"}]}}),
        );
        assert_eq!(list.len(), 2);
    }
}
