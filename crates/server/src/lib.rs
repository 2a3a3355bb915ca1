//! twinstack's server: one HTTPS port carrying each runtime's Kubernetes API, backed by the
//! embedded store, with the rules of `twinstack-core`.

// `Status` is the API's error value; it is large, but it is built once on the error path and
// turned into a response, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod alloc;
pub mod api;
pub mod decode;
pub mod discovery;
pub mod kinds;
pub mod kubeconfig;
pub mod managed;
pub mod metrics;
pub mod negotiate;
pub mod proto;
pub mod registry;
pub mod runtimes;
pub mod serve;
pub mod store_ext;
pub mod tls;
pub mod watch;

use anyhow::{Context, Result};
use kinds::Kind;
use registry::Registry;
use runtimes::{Runtime, RuntimeRecord};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use twinstack_core::runtime::Network;
use twinstack_core::runtime::Provider;

/// The runtime `up` creates when the data dir has none.
#[derive(Debug, Clone)]
pub struct RuntimeSpec {
    pub name: String,
    pub provider: Provider,
    pub region: String,
    pub network: Network,
    pub nodes: u32,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub default_runtime: RuntimeSpec,
    /// How far back watches can resume: at least this many revisions and this long. Older
    /// resourceVersions get 410 Expired, as after an etcd compaction.
    pub watch_history_revisions: u64,
    pub watch_history: std::time::Duration,
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub kubeconfig: PathBuf,
    pub default_runtime: String,
    pub registry: Arc<Registry>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stops accepting connections, ends open ones and waits for the server to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = self.task.await;
    }
}

pub fn all_kinds() -> Vec<Arc<dyn Kind>> {
    vec![
        Arc::new(kinds::namespace::NamespaceKind),
        Arc::new(kinds::service::ServiceKind),
        Arc::new(kinds::config::ConfigMapKind),
        Arc::new(kinds::config::SecretKind),
    ]
}

fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("creating data directory {}", dir.display()))?;
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

pub fn kubeconfig_path(data_dir: &Path, runtime: &str) -> PathBuf {
    data_dir.join("kubeconfigs").join(format!("{runtime}.yaml"))
}

/// Opens the data dir, makes sure the default runtime and every runtime's system objects
/// exist, writes kubeconfigs and starts serving.
pub async fn start(cfg: Config) -> Result<Running> {
    create_private_dir(&cfg.data_dir)?;
    let tls = tls::load_or_create(&cfg.data_dir)?;
    let server_tls = tls::server_config(&tls)?;
    let store_options = twinstack_store::StoreOptions {
        keep_revisions: cfg.watch_history_revisions,
        keep_duration: cfg.watch_history,
        compaction_slack: (cfg.watch_history_revisions / 10).clamp(1, 1_000),
        ..Default::default()
    };
    let store = twinstack_store::Store::open_with(&cfg.data_dir.join("store.redb"), store_options)
        .context("opening the store")?;
    let registry = Arc::new(Registry::new(store, all_kinds()));
    load_runtimes(&registry)?;
    if registry.runtimes().is_empty() {
        create_runtime(&registry, &cfg.default_runtime).await?;
    }
    for rt in registry.runtimes() {
        ensure_system_objects(&registry, rt.clone()).await?;
    }
    // Kubeconfigs carry the address clients must use; rewrite them on every start.
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    create_private_dir(&cfg.data_dir.join("kubeconfigs"))?;
    for rt in registry.runtimes() {
        let k = kubeconfig::render(
            rt.name(),
            &kubeconfig::server_url(addr, rt.name()),
            &tls.ca_pem,
            &rt.record.token,
        );
        write_private(&kubeconfig_path(&cfg.data_dir, rt.name()), &k)?;
    }
    let default_runtime = if registry.runtime(&cfg.default_runtime.name).is_some() {
        cfg.default_runtime.name.clone()
    } else {
        registry.runtimes()[0].name().to_string()
    };
    let kubeconfig = cfg.data_dir.join("kubeconfig");
    std::fs::copy(
        kubeconfig_path(&cfg.data_dir, &default_runtime),
        &kubeconfig,
    )?;

    let state = Arc::new(api::AppState {
        registry: registry.clone(),
        metrics: Arc::new(metrics::Metrics::new()),
        ready: Default::default(),
    });
    let router = api::router(state.clone());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(serve::serve_tls(listener, server_tls, router, rx));
    state.ready.store(true, Ordering::Release);
    Ok(Running {
        addr,
        kubeconfig,
        default_runtime,
        registry,
        shutdown: tx,
        task,
    })
}

fn load_runtimes(registry: &Registry) -> Result<()> {
    let (kvs, _) = registry.store.list(runtimes::RUNTIMES_PREFIX)?;
    for kv in kvs {
        let record: RuntimeRecord =
            serde_json::from_slice(&kv.value).with_context(|| format!("decoding {}", kv.key))?;
        registry.insert_runtime(Arc::new(Runtime::new(record)?));
    }
    Ok(())
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

/// The namespaces every cluster has and the `default/kubernetes` Service, which holds the first
/// address of the primary service range. Idempotent: a restart after a crash completes it.
async fn ensure_system_objects(registry: &Registry, rt: Arc<Runtime>) -> Result<()> {
    let ns_kind = registry.kind("", "namespaces").expect("namespaces kind");
    for name in kinds::namespace::SYSTEM {
        if registry.get(&rt, ns_kind.as_ref(), None, name).is_err() {
            registry
                .create_system(
                    rt.clone(),
                    ns_kind.clone(),
                    None,
                    kinds::namespace::system_namespace(name),
                )
                .await
                .map_err(|s| anyhow::anyhow!("creating namespace {name}: {}", s.message))?;
        }
    }
    let svc_kind = registry.kind("", "services").expect("services kind");
    if registry
        .get(&rt, svc_kind.as_ref(), Some("default"), "kubernetes")
        .is_err()
    {
        let primary = rt.record.network.services[0];
        let first = first_address(&primary);
        let svc: Value = json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "kubernetes", "namespace": "default", "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": first, "clusterIPs": [first], "ipFamilyPolicy": "SingleStack",
                     "sessionAffinity": "None", "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}]}
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
