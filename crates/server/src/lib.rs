//! twinstack's server: one HTTPS port carrying each runtime's Kubernetes API, backed by the
//! embedded store, with the rules of `twinstack-core`.

// `Status` is the API's error value; it is large, but it is built once on the error path and
// turned into a response, so boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod alloc;
pub mod api;
pub mod broker;
pub mod controllers;
pub mod decode;
pub mod discovery;
pub mod kinds;
pub mod kubeconfig;
pub mod managed;
pub mod metrics;
pub mod negotiate;
pub mod openapi;
pub mod platform;
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
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub use platform::{Platform, RuntimeSpec};

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub default_runtime: RuntimeSpec,
    /// How far back watches can resume: at least this many revisions and this long. Older
    /// resourceVersions get 410 Expired, as after an etcd compaction.
    pub watch_history_revisions: u64,
    pub watch_history: std::time::Duration,
    /// Connection limits and timeouts of the HTTPS port.
    pub limits: serve::Limits,
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
        Arc::new(kinds::serviceaccount::ServiceAccountKind),
        Arc::new(kinds::node::NodeKind),
        Arc::new(kinds::pod::PodKind),
        Arc::new(kinds::endpointslice::EndpointSliceKind),
        Arc::new(kinds::endpointslice::EndpointsKind),
        Arc::new(kinds::event::EventKind),
        Arc::new(kinds::workload::DeploymentKind),
        Arc::new(kinds::workload::ReplicaSetKind),
        Arc::new(kinds::workload::ReplicationControllerKind),
        Arc::new(kinds::workload::SetKind {
            info: &kinds::workload::STATEFULSET,
        }),
        Arc::new(kinds::workload::SetKind {
            info: &kinds::workload::DAEMONSET,
        }),
        Arc::new(kinds::batch::JobKind),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::ROLE,
        }),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::CLUSTER_ROLE,
        }),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::ROLE_BINDING,
        }),
        Arc::new(kinds::rbac::RbacKind {
            info: &kinds::rbac::CLUSTER_ROLE_BINDING,
        }),
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

/// The data dir holds every credential (tokens in `store.redb` and the kubeconfigs, the CA key,
/// the broker's password): on every start, whatever an older version or the user left, the
/// directory loses all group and other permissions (0700), and so does everything twinstack
/// keeps in it (0600 for its files): every file directly in it, and `pki/` and `kubeconfigs/`
/// with their contents. Other subdirectories are not twinstack's and are left alone; owner bits
/// are never changed (a data dir pointed at an existing directory keeps its executables). Each
/// change is logged. Symbolic links are not followed.
pub fn secure_data_dir(dir: &Path) -> Result<()> {
    create_private_dir(dir)?;
    restrict(dir)?;
    let mut pending = vec![(dir.to_path_buf(), true)];
    while let Some((d, top)) = pending.pop() {
        let entries = std::fs::read_dir(&d).with_context(|| format!("reading {}", d.display()))?;
        for entry in entries {
            let path = entry?.path();
            let meta = std::fs::symlink_metadata(&path)?;
            let ours = !top
                || path
                    .file_name()
                    .is_some_and(|n| n == "pki" || n == "kubeconfigs");
            if meta.is_dir() && ours {
                restrict(&path)?;
                pending.push((path, false));
            } else if meta.is_file() {
                restrict(&path)?;
            }
        }
    }
    Ok(())
}

/// Takes group and other permissions away from `path`, logging the change.
fn restrict(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o7777;
    let private = current & !0o077;
    if current != private {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(private))
            .with_context(|| format!("restricting {}", path.display()))?;
        tracing::warn!(
            path = %path.display(),
            "mode was {current:04o}; set to {private:04o} (the data directory holds credentials)"
        );
    }
    Ok(())
}

/// Removes kubeconfig files of runtimes that no longer exist (a deletion interrupted between
/// its transaction and the file).
fn remove_stale_kubeconfigs(registry: &Registry, data_dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(data_dir.join("kubeconfigs"))? {
        let path = entry?.path();
        let stale = match path.file_name().and_then(|n| n.to_str()) {
            Some(n) => match n.strip_suffix(".yaml") {
                Some(rt) => registry.runtime(rt).is_none(),
                None => n.ends_with(".tmp"),
            },
            None => false,
        };
        if stale {
            let _ = std::fs::remove_file(&path);
            tracing::info!(path = %path.display(), "removed the kubeconfig of a deleted runtime");
        }
    }
    Ok(())
}

pub(crate) fn write_private(path: &Path, contents: &str) -> Result<()> {
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
    secure_data_dir(&cfg.data_dir)?;
    let tls = tls::load_or_create(&cfg.data_dir)?;
    let server_tls = tls::server_config(&tls)?;
    let store_options = twinstack_store::StoreOptions {
        keep_revisions: cfg.watch_history_revisions,
        keep_duration: cfg.watch_history,
        compaction_slack: (cfg.watch_history_revisions / 10).clamp(1, 1_000),
        // The page cache is a ceiling, not a reservation. Reads that miss it are served by the
        // OS page cache. Measured with bench/pods.sh (10,000 pods): 16 MiB peaks ~50 MB lower
        // than 32 MiB at the same pace; 8 MiB is ~15% slower (see bench/README.md).
        cache_size: 16 * 1024 * 1024,
        // Live watch events are held for this many revisions (each with the object before and
        // after): 1,024 keeps a watcher a second or more of slack at full write rate, where
        // 4,096 held ~200 MB while large EndpointSlices were rewritten. A watcher further
        // behind is ended and re-lists, as with kube-apiserver's watch cache.
        watch_buffer: 1_024,
        ..Default::default()
    };
    let store = twinstack_store::Store::open_with(&cfg.data_dir.join("store.redb"), store_options)
        .context("opening the store")?;
    let registry = Arc::new(Registry::new(store, all_kinds()));
    // The OpenAPI documents are built once, off the request path (a request before they are
    // ready waits for them).
    let kinds = registry.kinds().to_vec();
    std::thread::spawn(move || openapi::documents(&kinds));
    // Namespaces carry the CA in their kube-root-ca.crt from their creation on.
    kinds::serviceaccount::store_root_ca(&registry.store, &tls.ca_pem).await?;
    broker::migrate_legacy_records(&registry.store).await?;
    load_runtimes(&registry)?;
    let platform = Arc::new(Platform {
        registry: registry.clone(),
        data_dir: cfg.data_dir.clone(),
        ca_pem: tls.ca_pem.clone(),
        addr: Default::default(),
        runtime_locks: Default::default(),
    });
    if registry.runtimes().is_empty() {
        platform.provision(&cfg.default_runtime).await?;
    }
    for rt in registry.runtimes() {
        platform::ensure_system_objects(&registry, rt.clone()).await?;
        // Namespaces of an older store, or edited while stopped, get their ServiceAccount and
        // root CA before the first request.
        kinds::serviceaccount::ensure_every_namespace(&registry, rt.clone()).await?;
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("listening on {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let _ = platform.addr.set(addr);
    // Kubeconfigs carry the address clients must use; rewrite them on every start.
    create_private_dir(&cfg.data_dir.join("kubeconfigs"))?;
    for rt in registry.runtimes() {
        platform.write_kubeconfig(&rt)?;
    }
    remove_stale_kubeconfigs(&registry, &cfg.data_dir)?;
    let default_runtime = if registry.runtime(&cfg.default_runtime.name).is_some() {
        cfg.default_runtime.name.clone()
    } else {
        registry.runtimes()[0].name().to_string()
    };
    let kubeconfig = cfg.data_dir.join("kubeconfig");
    write_private(
        &kubeconfig,
        &std::fs::read_to_string(kubeconfig_path(&cfg.data_dir, &default_runtime))?,
    )?;
    let broker = broker::Broker::load_or_create(platform.clone())?;
    broker.resume().await?;
    write_private(
        &cfg.data_dir.join("server.json"),
        &serde_json::json!({"url": format!("https://{}", kubeconfig::host_port(addr))}).to_string(),
    )?;

    let state = Arc::new(api::AppState {
        registry: registry.clone(),
        broker: Arc::new(broker),
        metrics: Arc::new(metrics::Metrics::new()),
        ready: Default::default(),
    });
    let controllers = controllers::start(registry.clone());
    let router = api::router(state.clone());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let serving = tokio::spawn(serve::serve_tls(
        listener, server_tls, router, cfg.limits, rx,
    ));
    let task = tokio::spawn(async move {
        let _ = serving.await;
        controllers.abort();
    });
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
