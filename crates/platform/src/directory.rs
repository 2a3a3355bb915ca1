//! The platform: runtimes come and go (from `up` or through the broker). Provisioning records a
//! runtime with a fresh credential, creates what every cluster has and writes its kubeconfig;
//! deprovisioning removes every key of the runtime in one transaction.
//!
//! Ownership and serialization: a runtime record names its owner (the OSB instance ID, empty for
//! the runtime of `up`), and only a deletion on behalf of that owner removes it. Everything that
//! creates or deletes the runtime of one name holds that name's lock ([`KeyLocks`]) from the
//! store transaction until its kubeconfig file is written or removed, so the record, the
//! registry and the file never disagree for long. Platform records live under `/twinstack/`,
//! which no runtime's `/registry/<name>/` prefix can reach.

use crate::{kubeconfig, kubeconfig_path, write_private};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use twinstack_core::runtime::{Network, Provider};
use twinstack_registry::kinds::{self, Kind};
use twinstack_registry::registry::{self, Registry};
use twinstack_registry::runtimes::{self, Runtime, RuntimeRecord};
use twinstack_store::{Txn, TxnError};

/// Why the platform refused to create or delete a runtime.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    #[error("a runtime named {0:?} already exists")]
    RuntimeExists(String),
    #[error("runtime {0:?} not found")]
    RuntimeNotFound(String),
    /// Only the owner of a runtime may delete it.
    #[error("runtime {name:?} belongs to service instance {owner:?}; deprovision the instance")]
    NotOwner { name: String, owner: String },
}

/// Locks by key (a runtime name, an instance ID): holders of one key run one at a time, holders
/// of different keys in parallel. An entry lives only while someone holds or awaits it, so the
/// map stays as small as the number of requests in flight.
#[derive(Default)]
pub struct KeyLocks {
    held: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// A held [`KeyLocks`] key; released on drop.
pub struct KeyGuard<'a> {
    locks: &'a KeyLocks,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl KeyLocks {
    /// Waits until `key` is free and takes it.
    pub async fn lock(&self, key: &str) -> KeyGuard<'_> {
        let mutex = {
            let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
            // A waiter whose future was dropped can leave an entry nobody uses (only the map
            // refers to it); sweep those before the map grows.
            if held.len() >= 64 {
                held.retain(|_, m| Arc::strong_count(m) > 1);
            }
            held.entry(key.to_string()).or_default().clone()
        };
        let mut g = KeyGuard {
            locks: self,
            key: key.to_string(),
            guard: None,
        };
        g.guard = Some(mutex.lock_owned().await);
        g
    }

    /// How many keys are held or awaited (for tests of the map's bound).
    pub fn len(&self) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for KeyGuard<'_> {
    fn drop(&mut self) {
        let mut held = self
            .locks
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.guard.take();
        // Only the map's own reference left: nobody holds or awaits the key.
        if held
            .get(&self.key)
            .is_some_and(|m| Arc::strong_count(m) == 1)
        {
            held.remove(&self.key);
        }
    }
}

/// What a new runtime is made of.
#[derive(Debug, Clone)]
pub struct RuntimeSpec {
    pub name: String,
    pub provider: Provider,
    pub region: String,
    pub network: Network,
    pub nodes: u32,
    /// KEB plan name, empty for the runtime of `up`.
    pub plan: String,
    pub instance_id: String,
    /// Objects the provisioner adds (for example `kyma-system/kyma-provisioning-info`), as
    /// (resource plural, object) with the namespace in the object.
    pub extra_objects: Vec<(&'static str, Value)>,
}

impl RuntimeSpec {
    /// The runtime a KEB provisioning of `plan` makes: its networking as KEB/KIM make the
    /// Shoot, and KIM's `kyma-provisioning-info` and `kube-dns` as extra objects. The broker
    /// provisions this; `twinstack check --plan` builds the same runtime in memory.
    pub fn from_plan(
        plan: &twinstack_keb::ProvisionPlan,
        runtime: &str,
        info: &twinstack_keb::shoot::ProvisioningInfo,
    ) -> RuntimeSpec {
        use twinstack_keb::shoot;
        let networking = shoot::shoot_networking(plan, runtime);
        let mut spec = RuntimeSpec::new(
            runtime,
            plan.provider,
            &plan.region,
            networking.to_network(),
            3,
        );
        spec.plan = plan.plan_name.clone();
        spec.instance_id = info.instance_id.clone();
        spec.extra_objects = vec![
            (
                "configmaps",
                shoot::provisioning_info_configmap(plan, &networking, info),
            ),
            ("services", shoot::kube_dns_service(&networking)),
        ];
        spec
    }

    pub fn new(name: &str, provider: Provider, region: &str, network: Network, nodes: u32) -> Self {
        RuntimeSpec {
            name: name.to_string(),
            provider,
            region: region.to_string(),
            network,
            nodes,
            plan: String::new(),
            instance_id: String::new(),
            extra_objects: Vec::new(),
        }
    }
}

pub struct Platform {
    pub registry: Arc<Registry>,
    pub data_dir: PathBuf,
    pub ca_pem: String,
    /// The serving address, known once the listener is bound.
    pub addr: OnceLock<SocketAddr>,
    /// One lock per runtime name: creation and deletion of a name never interleave.
    pub runtime_locks: KeyLocks,
}

impl Platform {
    /// Writes (or rewrites) a runtime's kubeconfig for the serving address.
    pub fn write_kubeconfig(&self, rt: &Runtime) -> Result<PathBuf> {
        let addr = *self
            .addr
            .get()
            .context("the server address is not known yet")?;
        let k = kubeconfig::render(
            rt.name(),
            &kubeconfig::server_url(addr, rt.name()),
            &self.ca_pem,
            &rt.record.token,
        );
        let path = kubeconfig_path(&self.data_dir, rt.name());
        write_private(&path, &k)?;
        Ok(path)
    }

    /// Creates a runtime: its record and credential, the system namespaces, the `kubernetes`
    /// Service, the provisioner's extra objects, and its kubeconfig (when serving).
    pub async fn provision(&self, spec: &RuntimeSpec) -> Result<Arc<Runtime>> {
        let _name = self.runtime_locks.lock(&spec.name).await;
        let rt = create_runtime(&self.registry, spec).await?;
        self.complete(rt.clone(), spec).await?;
        Ok(rt)
    }

    /// Creates what a recorded runtime is made of (idempotent: a restart after a crash or a
    /// repeated call completes it) and writes its kubeconfig when serving.
    pub async fn complete(&self, rt: Arc<Runtime>, spec: &RuntimeSpec) -> Result<()> {
        ensure_system_objects(&self.registry, rt.clone()).await?;
        ensure_kyma_modules(&self.registry, rt.clone()).await?;
        for (plural, obj) in &spec.extra_objects {
            let kind = self
                .registry
                .kind("", plural)
                .with_context(|| format!("no kind {plural}"))?;
            let ns = obj
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(String::from);
            if let Some(ns) = &ns {
                ensure_namespace(&self.registry, rt.clone(), ns).await?;
            }
            match self
                .registry
                .create_system(rt.clone(), kind, ns, obj.clone())
                .await
            {
                Ok(_) => {}
                Err(s) if s.reason == "AlreadyExists" => {}
                Err(s) => anyhow::bail!("creating {plural}: {}", s.message),
            }
        }
        if self.addr.get().is_some() {
            self.write_kubeconfig(&rt)?;
        }
        Ok(())
    }

    /// Removes a runtime that no service instance owns (the runtime of `up`) and everything in
    /// it; its ranges and credential are gone with it.
    pub async fn deprovision(&self, name: &str) -> Result<(), DeprovisionError> {
        let _name = self.runtime_locks.lock(name).await;
        let owner = String::new();
        let key = runtime_key(name);
        let record = self
            .registry
            .store
            .get(&key)
            .ok()
            .flatten()
            .and_then(|kv| serde_json::from_slice::<RuntimeRecord>(&kv.value).ok())
            .ok_or_else(|| PlatformError::RuntimeNotFound(name.to_string()))?;
        if record.instance_id != owner {
            return Err(PlatformError::NotOwner {
                name: name.to_string(),
                owner: record.instance_id,
            }
            .into());
        }
        self.forget(name);
        let n = name.to_string();
        let deleted = self
            .registry
            .store
            .txn(move |txn| delete_runtime_in_txn(txn, &n, &owner))
            .await;
        match deleted {
            Ok(_) => {
                self.remove_kubeconfig(name);
                tracing::info!(runtime = %name, "runtime deleted");
                Ok(())
            }
            Err(e) => {
                // Nothing was deleted: serve the runtime again.
                if let Ok(rt) = Runtime::new(record) {
                    self.registry.insert_runtime(Arc::new(rt));
                }
                Err(match e {
                    TxnError::Aborted(refused) => refused.into(),
                    other => DeprovisionError::Store(other.to_string()),
                })
            }
        }
    }

    /// Stops serving a runtime (its API and controllers); the caller deletes its keys.
    pub fn forget(&self, name: &str) {
        self.registry.remove_runtime(name);
    }

    /// Removes a runtime's kubeconfig file, if any.
    pub fn remove_kubeconfig(&self, name: &str) {
        let _ = std::fs::remove_file(kubeconfig_path(&self.data_dir, name));
    }
}

/// Why `DELETE /twinstack/v1/runtimes/<name>` failed.
#[derive(Debug, thiserror::Error)]
pub enum DeprovisionError {
    #[error(transparent)]
    Refused(#[from] PlatformError),
    #[error("deleting runtime: {0}")]
    Store(String),
}

/// The store key of a runtime's record.
pub fn runtime_key(name: &str) -> String {
    format!("{}{name}", runtimes::RUNTIMES_PREFIX)
}

/// A new runtime's record with a fresh credential, owned by `spec.instance_id`.
pub fn new_runtime_record(spec: &RuntimeSpec) -> RuntimeRecord {
    RuntimeRecord {
        name: spec.name.clone(),
        provider: spec.provider,
        region: spec.region.clone(),
        network: spec.network.clone(),
        token: runtimes::new_token(),
        created: registry::now_rfc3339(),
        nodes: spec.nodes,
        plan: spec.plan.clone(),
        instance_id: spec.instance_id.clone(),
    }
}

/// Inside a transaction: claims a runtime name with its record. Refused when the name is taken;
/// keys a crashed deletion may have left under the name's prefix are removed, so a new runtime
/// never inherits objects of an old one.
pub fn claim_runtime_in_txn(
    txn: &mut Txn<'_>,
    record: &RuntimeRecord,
) -> Result<(), PlatformError> {
    let key = runtime_key(&record.name);
    if txn.get(&key).is_some() {
        return Err(PlatformError::RuntimeExists(record.name.clone()));
    }
    for kv in txn.list(&format!("/registry/{}/", record.name)) {
        txn.delete(&kv.key);
    }
    let bytes = serde_json::to_vec(record).expect("a runtime record serializes");
    txn.put(&key, bytes);
    Ok(())
}

/// Inside a transaction: deletes a runtime and every key under its prefix on behalf of `owner`
/// (an instance ID, or empty for unowned runtimes). `Ok(false)` when there is no such runtime;
/// [`PlatformError::NotOwner`] (and nothing deleted) when it belongs to someone else.
pub fn delete_runtime_in_txn(
    txn: &mut Txn<'_>,
    name: &str,
    owner: &str,
) -> Result<bool, PlatformError> {
    let key = runtime_key(name);
    let Some(kv) = txn.get(&key) else {
        return Ok(false);
    };
    let holder = serde_json::from_slice::<RuntimeRecord>(&kv.value)
        .map(|r| r.instance_id)
        .unwrap_or_default();
    if holder != owner {
        return Err(PlatformError::NotOwner {
            name: name.to_string(),
            owner: holder,
        });
    }
    for kv in txn.list(&format!("/registry/{name}/")) {
        txn.delete(&kv.key);
    }
    txn.delete(&key);
    Ok(true)
}

/// Records a new runtime with a fresh credential (the caller holds the name's lock).
pub async fn create_runtime(registry: &Registry, spec: &RuntimeSpec) -> Result<Arc<Runtime>> {
    let record = new_runtime_record(spec);
    let rt = Arc::new(Runtime::new(record.clone())?);
    registry
        .store
        .txn(move |txn| claim_runtime_in_txn(txn, &record))
        .await
        .map_err(|e| anyhow::anyhow!("creating runtime: {e}"))?;
    registry.insert_runtime(rt.clone());
    tracing::info!(runtime = %spec.name, provider = spec.provider.as_str(), region = %spec.region, "runtime created");
    Ok(rt)
}

async fn ensure_namespace(registry: &Registry, rt: Arc<Runtime>, name: &str) -> Result<()> {
    let ns_kind = registry.kind("", "namespaces").expect("namespaces kind");
    if registry.get(&rt, ns_kind.as_ref(), None, name).is_err() {
        registry
            .create_system(
                rt.clone(),
                ns_kind,
                None,
                kinds::namespace::system_namespace(name),
            )
            .await
            .map_err(|s| anyhow::anyhow!("creating namespace {name}: {}", s.message))?;
    }
    Ok(())
}

/// The namespaces every cluster has and the `default/kubernetes` Service, which holds the first
/// address of the primary service range. Idempotent: a restart after a crash completes it.
pub async fn ensure_system_objects(registry: &Registry, rt: Arc<Runtime>) -> Result<()> {
    for name in kinds::namespace::SYSTEM {
        ensure_namespace(registry, rt.clone(), name).await?;
    }
    kinds::node::ensure_nodes(registry, rt.clone()).await?;
    // The StorageClasses the provider extension installs in every shoot.
    let sc_kind = registry
        .kind("storage.k8s.io", "storageclasses")
        .expect("storageclasses kind");
    for sc in twinstack_kube::storage::provider_classes(rt.record.provider) {
        let name = sc.metadata.name.clone().unwrap_or_default();
        if registry.get(&rt, sc_kind.as_ref(), None, &name).is_ok() {
            continue;
        }
        let mut body = serde_json::to_value(&sc)?;
        body["apiVersion"] = json!("storage.k8s.io/v1");
        body["kind"] = json!("StorageClass");
        registry
            .create_system(rt.clone(), sc_kind.clone(), None, body)
            .await
            .map_err(|s| anyhow::anyhow!("creating StorageClass {name}: {}", s.message))?;
    }
    let svc_kind = registry.kind("", "services").expect("services kind");
    if registry
        .get(&rt, svc_kind.as_ref(), Some("default"), "kubernetes")
        .is_err()
    {
        let first = first_address(&rt.record.network.services[0]);
        let svc: Value = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": first, "clusterIPs": [first], "ipFamilyPolicy": "SingleStack",
                     "sessionAffinity": "None", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}]}
        });
        registry
            .create_system(rt.clone(), svc_kind, Some("default".into()), svc)
            .await
            .map_err(|s| anyhow::anyhow!("creating the kubernetes Service: {}", s.message))?;
    }
    Ok(())
}

/// Kyma's default modules, as lifecycle-manager installs them on a new runtime: their CRDs,
/// then the objects a runtime starts with ([`twinstack_kyma::runtime::objects`]), each with the
/// status its module reports. Idempotent: what exists is left as it is.
pub async fn ensure_kyma_modules(registry: &Registry, rt: Arc<Runtime>) -> Result<()> {
    let crds = registry
        .kind("apiextensions.k8s.io", "customresourcedefinitions")
        .expect("the CRD kind");
    for crd in twinstack_kyma::crds::definitions() {
        create_if_missing(registry, rt.clone(), crds.clone(), None, crd).await?;
    }
    let facts = twinstack_kyma::runtime::Facts {
        runtime: rt.name(),
        provider: rt.record.provider,
    };
    for o in twinstack_kyma::runtime::objects(&facts) {
        let version = o.body["apiVersion"]
            .as_str()
            .and_then(|v| v.rsplit('/').next())
            .unwrap_or("v1")
            .to_string();
        let kind = registry
            .kind(o.group, o.plural)
            .or_else(|| registry.kind_for(rt.name(), o.group, &version, o.plural))
            .with_context(|| format!("no kind {}.{}", o.plural, o.group))?;
        let ns = o.namespace.map(String::from);
        let name = o.body["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if !create_if_missing(registry, rt.clone(), kind.clone(), ns.clone(), o.body).await? {
            continue;
        }
        if let Some(status) = o.status {
            let mut obj = registry
                .get(&rt, kind.as_ref(), ns.as_deref(), &name)
                .map_err(|s| anyhow::anyhow!("reading {name}: {}", s.message))?;
            obj["status"] = status;
            registry
                .write_if_unchanged(
                    &rt,
                    kind.as_ref(),
                    obj,
                    twinstack_registry::conditional::Scope::Status,
                )
                .await
                .map_err(|e| anyhow::anyhow!("writing the status of {name}: {e:?}"))?;
        }
    }
    Ok(())
}

/// Creates `body` unless its name exists; whether it created it.
async fn create_if_missing(
    registry: &Registry,
    rt: Arc<Runtime>,
    kind: Arc<dyn Kind>,
    ns: Option<String>,
    body: Value,
) -> Result<bool> {
    let name = body["metadata"]["name"].as_str().unwrap_or("").to_string();
    if registry
        .get(&rt, kind.as_ref(), ns.as_deref(), &name)
        .is_ok()
    {
        return Ok(false);
    }
    match registry.create_system(rt, kind.clone(), ns, body).await {
        Ok(_) => Ok(true),
        Err(s) if s.reason == "AlreadyExists" => Ok(false),
        Err(s) => anyhow::bail!("creating {} {name}: {}", kind.info().plural, s.message),
    }
}

fn first_address(net: &ipnet::IpNet) -> String {
    match net {
        ipnet::IpNet::V4(n) => std::net::Ipv4Addr::from(u32::from(n.network()) + 1).to_string(),
        ipnet::IpNet::V6(n) => std::net::Ipv6Addr::from(u128::from(n.network()) + 1).to_string(),
    }
}

#[allow(dead_code)]
fn _assert_kind_object_safe(_: &dyn Kind) {}

/// At start: every namespace of the runtime (including those of a store written by an older
/// twinstack) gets what [`ensure_namespace_defaults`](twinstack_registry::kinds::serviceaccount::ensure_namespace_defaults) ensures, in one transaction.
pub async fn ensure_every_namespace(
    registry: &twinstack_registry::registry::Registry,
    rt: std::sync::Arc<Runtime>,
) -> anyhow::Result<()> {
    let prefix = twinstack_registry::keys::collection_prefix(
        rt.name(),
        &twinstack_registry::kinds::namespace::NamespaceKind,
        None,
    );
    registry
        .store
        .txn(move |txn| -> Result<(), String> {
            let txn: &mut dyn twinstack_registry::store_ext::TxnExt = txn;
            let names: Vec<String> = txn
                .scan(&prefix)
                .into_iter()
                .filter_map(|(k, _)| k.strip_prefix(&prefix).map(String::from))
                .collect();
            for ns in names {
                twinstack_registry::kinds::serviceaccount::ensure_namespace_defaults(txn, &rt, &ns);
            }
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("ensuring ServiceAccounts and root CAs: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn key_locks_serialize_one_key_and_keep_nothing() {
        let locks = Arc::new(KeyLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _g = locks.lock("one").await;
                    let n = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(n, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(locks.is_empty());

        // Another key is not blocked by a held one.
        let a = locks.lock("a").await;
        let b = tokio::time::timeout(Duration::from_secs(5), locks.lock("b"))
            .await
            .expect("b is free while a is held");
        assert_eq!(locks.len(), 2);
        drop((a, b));
        assert!(locks.is_empty());

        // A waiter that gives up leaves at most its key, swept once the map grows.
        let a = locks.lock("a").await;
        let gave_up = tokio::time::timeout(Duration::from_millis(20), locks.lock("a")).await;
        assert!(gave_up.is_err());
        drop(a);
        let mut held = Vec::new();
        for i in 0..64 {
            held.push(locks.lock(&format!("k{i}")).await);
        }
        held.push(locks.lock("x").await);
        assert_eq!(locks.len(), 65, "the unused entry was swept");
        drop(held);
        assert!(locks.is_empty());
    }
}
