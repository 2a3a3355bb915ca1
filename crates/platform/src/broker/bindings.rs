//! Service bindings as KEB makes them (`internal/broker/bind_create.go`, `bind_get.go`,
//! `bind_delete.go`, `bindings/bindings_manager.go`): a ServiceAccount `kyma-binding-<id>` in
//! `kyma-system` with a ClusterRole and ClusterRoleBinding of the same name, and a bound token
//! from the TokenRequest API as the credential of a kubeconfig. The token expires with the
//! binding; unbinding deletes the ServiceAccount, which revokes the token at once.
//!
//! The rules and texts are `twinstack_keb::binding`'s; this module gathers their inputs and
//! carries out their outcome, under the instance's lock.

use super::*;
use twinstack_keb::binding::{
    self as rules, BindDecision, LastOperation, StoredBinding, BINDING_NAMESPACE, MANAGED_BY,
};

const BINDINGS: &str = "/twinstack/bindings/";

/// Where an instance's bindings are kept.
pub(super) fn prefix(instance_id: &str) -> String {
    format!("{BINDINGS}{instance_id}/")
}

fn key(instance_id: &str, binding_id: &str) -> String {
    format!("{}{binding_id}", prefix(instance_id))
}

/// KEB's `internal.Binding`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub id: String,
    pub instance_id: String,
    pub expiration_seconds: i64,
    /// Unix seconds, on the platform clock.
    pub expires_at: i64,
    pub created_at: String,
    pub created_by: String,
    pub kubeconfig: String,
}

impl Binding {
    fn stored(&self) -> StoredBinding {
        StoredBinding {
            expiration_seconds: self.expiration_seconds,
            expires_at: self.expires_at,
            has_kubeconfig: !self.kubeconfig.is_empty(),
        }
    }

    /// brokerapi's `BindingResponse` with KEB's credentials and metadata.
    fn response(&self) -> Value {
        json!({
            "credentials": {"kubeconfig": self.kubeconfig},
            "metadata": {"expires_at": rules::expires_at(self.expires_at)},
        })
    }
}

/// The runtime objects of a binding, as `ServiceAccountBindingsManager.Create` writes them.
fn runtime_objects(name: &str) -> [(&'static str, &'static str, Value); 3] {
    let labels = json!({ MANAGED_BY.0: MANAGED_BY.1 });
    [
        (
            "",
            "serviceaccounts",
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": name, "namespace": BINDING_NAMESPACE, "labels": labels}}),
        ),
        (
            "rbac.authorization.k8s.io",
            "clusterroles",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": name, "labels": labels},
                   "rules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]}),
        ),
        (
            "rbac.authorization.k8s.io",
            "clusterrolebindings",
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                   "metadata": {"name": name, "labels": labels},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                   "subjects": [{"kind": "ServiceAccount", "namespace": BINDING_NAMESPACE, "name": name}]}),
        ),
    ]
}

impl Broker {
    fn binding(&self, instance_id: &str, binding_id: &str) -> Option<Binding> {
        self.read(&key(instance_id, binding_id))
    }

    pub(super) fn bindings_of(&self, instance_id: &str) -> Vec<Binding> {
        self.store()
            .list(&prefix(instance_id))
            .map(|(kvs, _)| {
                kvs.iter()
                    .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn last_operation_of(&self, inst: &Instance) -> Option<Operation> {
        inst.operations.last().and_then(|o| self.operation(o))
    }

    /// `PUT /v2/service_instances/:id/service_bindings/:binding_id` (KEB `BindEndpoint.Bind`).
    pub(super) async fn bind(&self, instance_id: &str, binding_id: &str, body: &[u8]) -> Response {
        let details = match rules::bind_details(body) {
            Ok(d) => d,
            Err(e) => return osb_error(&e),
        };
        let cfg = &self.settings.bindings;
        if !cfg.enabled {
            return describe(500, "not supported");
        }
        let _instance = self.instance_locks.lock(instance_id).await;
        let Some(inst) = self.instance(instance_id) else {
            // brokerapi answers `ErrInstanceDoesNotExist` of a bind with 404 and its text.
            return describe(404, "instance does not exist");
        };
        let Some(last) = self.last_operation_of(&inst) else {
            return describe(
                500,
                &format!("failed to get last operation for instance {instance_id}"),
            );
        };
        let last = match (last.kind, last.state) {
            (OperationType::Provision, OperationState::InProgress) => {
                LastOperation::ProvisionInProgress
            }
            (OperationType::Provision, OperationState::Failed) => LastOperation::ProvisionFailed,
            _ => LastOperation::Other,
        };
        // `IsPlanBindable`: the plans of `bindablePlans` (the catalog's `bindable`).
        let bindable = twinstack_keb::plan_by_id(&inst.plan_id).is_some_and(|p| p.bindable);
        let existing = self.binding(instance_id, binding_id);
        let others: Vec<StoredBinding> = self
            .bindings_of(instance_id)
            .iter()
            .map(Binding::stored)
            .collect();
        let now = self.platform.registry.clock.now();
        let stored = existing.as_ref().map(Binding::stored);
        let facts = rules::BindFacts {
            plan_bindable: bindable,
            last,
            instance_id,
            existing: stored.as_ref(),
            bindings_of_instance: &others,
            now,
        };
        let decision = rules::decide(cfg, &details, &facts);
        let (expiration_seconds, created_by) = match decision {
            Err(e) => return osb_error(&e),
            Ok(BindDecision::Existing) => {
                let b = existing.expect("an existing binding");
                return osb(200, b.response());
            }
            Ok(BindDecision::Create {
                expiration_seconds,
                created_by,
            }) => (expiration_seconds, created_by),
        };
        let (token, expires_at) = match self
            .create_binding_objects(&inst, binding_id, expiration_seconds)
            .await
        {
            Ok(t) => t,
            Err(e) => {
                let message = format!(
                    "failed to create a Kyma binding using service account's kubeconfig: {e}"
                );
                tracing::error!(instance = %instance_id, "{message}");
                return describe(500, &message);
            }
        };
        let binding = Binding {
            id: binding_id.to_string(),
            instance_id: instance_id.to_string(),
            expiration_seconds,
            expires_at,
            created_at: twinstack_registry::registry::now_rfc3339(),
            created_by,
            kubeconfig: self.binding_kubeconfig(&inst, &token),
        };
        let b = binding.clone();
        if let Err(e) = self
            .store()
            .txn(move |txn| {
                put_json(txn, &key(&b.instance_id, &b.id), &b);
                Ok::<_, std::convert::Infallible>(())
            })
            .await
        {
            return describe(
                500,
                &format!("failed to update Kyma binding in storage: {e}"),
            );
        }
        tracing::info!(instance = %instance_id, binding = %binding_id, "Successfully created binding");
        osb(201, binding.response())
    }

    /// `ServiceAccountBindingsManager.Create`: the ServiceAccount, ClusterRole and
    /// ClusterRoleBinding (an existing one is kept), then a token for the ServiceAccount.
    async fn create_binding_objects(
        &self,
        inst: &Instance,
        binding_id: &str,
        expiration_seconds: i64,
    ) -> Result<(String, i64), String> {
        let registry = &self.platform.registry;
        let rt = registry
            .runtime(&inst.runtime)
            .filter(|rt| rt.record.instance_id == inst.instance_id)
            .ok_or_else(|| {
                format!(
                    "while creating a runtime client for binding creation: runtime {} is not running",
                    inst.runtime
                )
            })?;
        let name = rules::binding_name(binding_id);
        let whats = [
            "a service account",
            "a cluster role",
            "a cluster role binding",
        ];
        for ((group, plural, obj), what) in runtime_objects(&name).into_iter().zip(whats) {
            let kind = registry
                .kind(group, plural)
                .ok_or_else(|| format!("no kind {plural}"))?;
            let ns = kind
                .info()
                .namespaced
                .then(|| BINDING_NAMESPACE.to_string());
            match registry.create_system(rt.clone(), kind, ns, obj).await {
                Ok(_) => {}
                Err(s) if s.reason == "AlreadyExists" => {}
                Err(s) => return Err(format!("while creating {what}: {}", s.message)),
            }
        }
        registry
            .request_token(&rt, BINDING_NAMESPACE, &name, Some(expiration_seconds))
            .map_err(|s| format!("while creating a service account kubeconfig: {}", s.message))
    }

    /// `BuildFromAdminKubeconfigForBinding`: the runtime's server and CA, the token, and the
    /// instance's `name` as context, cluster and user name.
    fn binding_kubeconfig(&self, inst: &Instance, token: &str) -> String {
        let server = self
            .platform
            .addr
            .get()
            .map(|a| crate::kubeconfig::server_url(*a, &inst.runtime))
            .unwrap_or_default();
        let ca = base64::engine::general_purpose::STANDARD.encode(self.platform.ca_pem.as_bytes());
        rules::binding_kubeconfig(&inst.plan.name, &ca, &server, token)
    }

    /// `GET /v2/service_instances/:id/service_bindings/:binding_id` (KEB `GetBinding`).
    pub(super) fn get_binding(&self, instance_id: &str, binding_id: &str) -> Response {
        let Some(last) = self
            .instance(instance_id)
            .and_then(|i| self.last_operation_of(&i))
        else {
            return describe(
                500,
                &format!("failed to get last operation for instance {instance_id}"),
            );
        };
        if last.kind == OperationType::Deprovision {
            return describe(404, "Binding not found");
        }
        let Some(b) = self.binding(instance_id, binding_id) else {
            return describe(404, "Binding not found");
        };
        if b.expires_at < self.platform.registry.clock.now() {
            return describe(404, "Binding expired");
        }
        if b.kubeconfig.is_empty() {
            return describe(404, "Binding creation in progress");
        }
        osb(200, json!({"credentials": {"kubeconfig": b.kubeconfig}}))
    }

    /// `DELETE /v2/service_instances/:id/service_bindings/:binding_id` (KEB `Unbind`): the
    /// runtime objects (unless the instance is being deprovisioned), then the record.
    pub(super) async fn unbind(
        &self,
        instance_id: &str,
        binding_id: &str,
        query: &HashMap<String, String>,
    ) -> Response {
        if query.get("service_id").is_none_or(|s| s.is_empty()) {
            return describe(400, "service_id missing");
        }
        if query.get("plan_id").is_none_or(|s| s.is_empty()) {
            return describe(400, "plan_id missing");
        }
        let _instance = self.instance_locks.lock(instance_id).await;
        let record = key(instance_id, binding_id);
        let Some(inst) = self.instance(instance_id) else {
            // KEB deletes the record of a binding whose instance is gone, then answers
            // brokerapi's `ErrInstanceDoesNotExist`: 410 with an empty body.
            if let Err(e) = self.delete_key(record).await {
                return describe(500, &format!("failed to delete resources for binding {binding_id} and not existing instance {instance_id}: {e}"));
            }
            return osb(410, json!({}));
        };
        if self.binding(instance_id, binding_id).is_none() {
            return osb(410, json!({}));
        }
        let Some(last) = self.last_operation_of(&inst) else {
            return describe(
                500,
                &format!("failed to get last operation for instance {instance_id}"),
            );
        };
        if last.kind != OperationType::Deprovision {
            if let Err(e) = self.delete_binding_objects(&inst, binding_id).await {
                return describe(500, &format!("failed to delete resources for binding {binding_id} and instance {instance_id}: {e}"));
            }
        }
        if let Err(e) = self.delete_key(record).await {
            return describe(500, &format!("failed to delete resources for binding {binding_id} and instance {instance_id}: {e}"));
        }
        tracing::info!(instance = %instance_id, binding = %binding_id, "Successfully removed binding");
        osb(200, json!({}))
    }

    /// `ServiceAccountBindingsManager.Delete`: ClusterRoleBinding, ClusterRole, ServiceAccount
    /// (what is already gone is fine).
    async fn delete_binding_objects(
        &self,
        inst: &Instance,
        binding_id: &str,
    ) -> Result<(), String> {
        let registry = &self.platform.registry;
        let Some(rt) = registry
            .runtime(&inst.runtime)
            .filter(|rt| rt.record.instance_id == inst.instance_id)
        else {
            return Err(format!(
                "while creating a runtime client for binding creation: runtime {} is not running",
                inst.runtime
            ));
        };
        let name = rules::binding_name(binding_id);
        let mut objects = runtime_objects(&name);
        objects.reverse();
        let whats = [
            "while creating a service account",
            "while removing a cluster role",
            "while removing a cluster role binding",
        ];
        for ((group, plural, _), what) in objects.into_iter().zip(whats.into_iter().rev()) {
            let kind = registry
                .kind(group, plural)
                .ok_or_else(|| format!("no kind {plural}"))?;
            let ns = kind
                .info()
                .namespaced
                .then(|| BINDING_NAMESPACE.to_string());
            match registry
                .delete(
                    rt.clone(),
                    kind,
                    ns,
                    name.clone(),
                    Default::default(),
                    false,
                )
                .await
            {
                Ok(_) => {}
                Err(s) if s.reason == "NotFound" => {}
                Err(s) => return Err(format!("{what}: {}", s.message)),
            }
        }
        Ok(())
    }

    async fn delete_key(&self, key: String) -> Result<(), String> {
        self.store()
            .txn(move |txn| {
                txn.delete(&key);
                Ok::<_, std::convert::Infallible>(())
            })
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
