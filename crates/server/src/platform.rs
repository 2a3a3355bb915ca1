//! The platform: runtimes come and go (from `up` or through the broker). Provisioning records a
//! runtime with a fresh credential, creates what every cluster has and writes its kubeconfig;
//! deprovisioning removes every key of the runtime in one transaction.

use crate::kinds::{self, Kind};
use crate::registry::{self, Registry};
use crate::runtimes::{self, Runtime, RuntimeRecord};
use crate::{kubeconfig, kubeconfig_path, write_private};
use anyhow::{Context, Result};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use twinstack_core::runtime::{Network, Provider};

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
        let rt = create_runtime(&self.registry, spec).await?;
        ensure_system_objects(&self.registry, rt.clone()).await?;
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
            self.registry
                .create_system(rt.clone(), kind, ns, obj.clone())
                .await
                .map_err(|s| anyhow::anyhow!("creating {plural}: {}", s.message))?;
        }
        if self.addr.get().is_some() {
            self.write_kubeconfig(&rt)?;
        }
        Ok(rt)
    }

    /// Removes a runtime and everything in it; its ranges and credential are gone with it.
    pub async fn deprovision(&self, name: &str) -> Result<()> {
        let prefix = format!("/registry/{name}/");
        let record_key = format!("{}{name}", runtimes::RUNTIMES_PREFIX);
        self.registry
            .store
            .txn(move |txn| -> Result<(), String> {
                for kv in txn.list(&prefix) {
                    txn.delete(&kv.key);
                }
                txn.delete(&record_key);
                Ok(())
            })
            .await
            .map_err(|e| anyhow::anyhow!("deleting runtime {name}: {e}"))?;
        self.registry.remove_runtime(name);
        let _ = std::fs::remove_file(kubeconfig_path(&self.data_dir, name));
        tracing::info!(runtime = %name, "runtime deleted");
        Ok(())
    }
}

/// Records a new runtime with a fresh credential.
pub async fn create_runtime(registry: &Registry, spec: &RuntimeSpec) -> Result<Arc<Runtime>> {
    let record = RuntimeRecord {
        name: spec.name.clone(),
        provider: spec.provider,
        region: spec.region.clone(),
        network: spec.network.clone(),
        token: runtimes::new_token(),
        created: registry::now_rfc3339(),
        nodes: spec.nodes,
        plan: spec.plan.clone(),
        instance_id: spec.instance_id.clone(),
    };
    let rt = Arc::new(Runtime::new(record.clone())?);
    let key = rt.key();
    let bytes = serde_json::to_vec(&record)?;
    registry
        .store
        .txn(move |txn| -> Result<(), String> {
            if txn.get(&key).is_some() {
                return Err(format!("runtime {:?} already exists", record.name));
            }
            txn.put(&key, bytes);
            Ok(())
        })
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

fn first_address(net: &ipnet::IpNet) -> String {
    match net {
        ipnet::IpNet::V4(n) => std::net::Ipv4Addr::from(u32::from(n.network()) + 1).to_string(),
        ipnet::IpNet::V6(n) => std::net::Ipv6Addr::from(u128::from(n.network()) + 1).to_string(),
    }
}

#[allow(dead_code)]
fn _assert_kind_object_safe(_: &dyn Kind) {}
