//! `twinstack up` as a library: opens the data directory and the store, makes sure every
//! runtime and its system objects exist, writes the kubeconfigs, starts the controllers and
//! serves the API and the broker on one HTTPS port. This is where the crates are wired together
//! and nothing else: each concern lives in its own crate (see the README's "Where things are").
//! [`check`] wires the same crates in memory, without a port, for `twinstack check`.

pub mod check;
pub mod network;

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use twinstack_api::{metrics, serve, state::AppState};
use twinstack_platform::datadir::{
    create_private_dir, kubeconfig_path, load_runtimes, remove_stale_kubeconfigs, secure_data_dir,
    write_private,
};
use twinstack_platform::{broker, directory, kubeconfig, tls, Platform};
use twinstack_registry::kinds;
use twinstack_registry::registry::Registry;

pub use twinstack_api::serve::Limits;
pub use twinstack_platform::RuntimeSpec;

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
    /// Operation time, bindings and the test clock of the broker.
    pub broker: broker::BrokerSettings,
    /// Where the DNS server listens (UDP and TCP); `None`: no DNS server.
    pub dns_listen: Option<SocketAddr>,
    /// Serve the frontends with real sockets, on the host's loopback or in a namespace per
    /// runtime (`--dataplane host|netns`); `None`: no listeners (`--dataplane off`).
    pub dataplane: Option<twinstack_dataplane::frontends::Mode>,
}

/// A started server.
pub struct Running {
    pub addr: SocketAddr,
    pub kubeconfig: PathBuf,
    pub default_runtime: String,
    pub registry: Arc<Registry>,
    /// The DNS server's address (UDP and TCP), when it runs.
    pub dns_addr: Option<SocketAddr>,
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
    let token_key = twinstack_platform::datadir::load_or_create_secret(
        &cfg.data_dir.join("service-account.key"),
    )?;
    let (registry, platform) = open_runtimes(
        store,
        &token_key,
        &tls.ca_pem,
        cfg.data_dir.clone(),
        &cfg.default_runtime,
    )
    .await?;
    // The OpenAPI documents are built once, off the request path (a request before they are
    // ready waits for them).
    let kinds = registry.kinds().to_vec();
    std::thread::spawn(move || twinstack_api::openapi::documents(&kinds));
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
    let broker = Arc::new(broker::Broker::load_or_create(
        platform.clone(),
        cfg.broker.clone(),
    )?);
    broker.resume().await?;
    write_private(
        &cfg.data_dir.join("server.json"),
        &serde_json::json!({"url": format!("https://{}", kubeconfig::host_port(addr))}).to_string(),
    )?;

    // The data plane serves the frontends with real sockets (`--dataplane host`); in-process
    // it is also the network pods see (`kubectl exec`, client pods, port-forward), with names
    // from the DNS table the controllers fill.
    let table = Arc::new(twinstack_dataplane::dns::DnsTable::new());
    let dp = twinstack_dataplane::frontends::DataPlane::with_mode(
        cfg.dataplane
            .clone()
            .unwrap_or(twinstack_dataplane::frontends::Mode::Host),
    );
    let dataplane = cfg.dataplane.is_some().then(|| dp.clone());
    let mut api_metrics = metrics::Metrics::new();
    if let Some(dp) = &dataplane {
        api_metrics = api_metrics.with_dataplane(&dp.metrics());
    }
    // What runs in pods: one log store for the streaming subresources, the kubelet's client
    // pods and the built-in servers' access lines.
    let logs = Arc::new(twinstack_dataplane::pods::PodLogs::default());
    {
        let logs = logs.clone();
        dp.set_access_log(Arc::new(
            move |runtime: &str, pod: &str, container: &str, line: String| {
                if let Some((ns, name)) = pod.split_once('/') {
                    logs.append(runtime, ns, name, container, &line);
                }
            },
        ));
    }
    let network: Arc<dyn twinstack_dataplane::network::Network> =
        Arc::new(network::RuntimeNetwork {
            dataplane: dp,
            dns: table.clone(),
        });
    let pods = twinstack_dataplane::pods::Pods { network, logs };
    let state = Arc::new(AppState {
        registry: registry.clone(),
        broker,
        metrics: Arc::new(api_metrics),
        ready: Default::default(),
        dataplane: dataplane.clone(),
        pods: Some(pods.clone()),
    });
    let dns = match cfg.dns_listen {
        Some(listen) => Some(
            twinstack_dataplane::dns::serve(listen, table.clone())
                .await
                .with_context(|| format!("DNS server on {listen}"))?,
        ),
        None => None,
    };
    let dns_addr = dns.as_ref().map(|d| d.local_addr());
    let controllers = twinstack_controllers::start(
        registry.clone(),
        twinstack_controllers::Outputs {
            dns: Some(dns_publisher(table, default_runtime.clone())),
            dataplane: dataplane.clone(),
            pods: Some(pods),
        },
    );
    let router = twinstack_api::handlers::router(state.clone());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let serving = tokio::spawn(serve::serve_tls(
        listener, server_tls, router, cfg.limits, rx,
    ));
    let listeners = dataplane;
    let task = tokio::spawn(async move {
        let _ = serving.await;
        controllers.abort();
        if let Some(dp) = listeners {
            dp.shutdown();
        }
        if let Some(d) = dns {
            let _ = d.shutdown().await;
        }
    });
    state.ready.store(true, Ordering::Release);
    Ok(Running {
        addr,
        kubeconfig,
        default_runtime,
        registry,
        dns_addr,
        shutdown: tx,
        task,
    })
}

/// What `up` and `check` share: the registry over `store` (every kind, service account tokens
/// signed with `token_key`), the root CA every namespace's `kube-root-ca.crt` carries, the
/// runtimes the store holds (or `default_runtime`, provisioned when it holds none) with their
/// system objects, and the platform that provisions them. `data_dir` is where the platform
/// writes kubeconfigs once a serving address is set (never, for `check`).
pub async fn open_runtimes(
    store: twinstack_store::Store,
    token_key: &[u8],
    ca_pem: &str,
    data_dir: PathBuf,
    default_runtime: &RuntimeSpec,
) -> Result<(Arc<Registry>, Arc<Platform>)> {
    let registry =
        Arc::new(Registry::new(store, twinstack_registry::all_kinds()).with_token_key(token_key));
    // Namespaces carry the CA in their kube-root-ca.crt from their creation on.
    kinds::serviceaccount::store_root_ca(&registry.store, ca_pem).await?;
    broker::migrate_legacy_records(&registry.store).await?;
    load_runtimes(&registry)?;
    let platform = Arc::new(Platform {
        registry: registry.clone(),
        data_dir,
        ca_pem: ca_pem.to_string(),
        addr: Default::default(),
        runtime_locks: Default::default(),
    });
    if registry.runtimes().is_empty() {
        platform.provision(default_runtime).await?;
    }
    for rt in registry.runtimes() {
        directory::ensure_system_objects(&registry, rt.clone()).await?;
        // Namespaces of an older store, or edited while stopped, get their ServiceAccount and
        // root CA before the first request.
        directory::ensure_every_namespace(&registry, rt.clone()).await?;
    }
    Ok((registry, platform))
}

/// Publishes a runtime's DNS records into the server's table. Load balancer hostnames are
/// global; Service names are answered as `<svc>.<ns>.svc.<runtime>.cluster.local` for every
/// runtime, and as kube-dns names them (`<svc>.<ns>.svc.cluster.local`) for the runtime `up`
/// serves (one DNS port serves every runtime, and those names would clash between them).
fn dns_publisher(
    table: Arc<twinstack_dataplane::dns::DnsTable>,
    default_runtime: String,
) -> twinstack_controllers::cloudlb::Publish {
    Arc::new(
        move |runtime: &str, records: Vec<(String, std::net::IpAddr)>| {
            const LOCAL: &str = ".svc.cluster.local";
            let mut out = Vec::with_capacity(records.len() * 2);
            for (name, ip) in records {
                match name.strip_suffix(LOCAL) {
                    Some(svc) => {
                        out.push((format!("{svc}.svc.{runtime}.cluster.local"), ip));
                        if runtime == default_runtime {
                            out.push((name, ip));
                        }
                    }
                    None => out.push((name, ip)),
                }
            }
            if let Err(e) = table.replace(runtime, out) {
                tracing::warn!(%runtime, "DNS records not published: {e}");
            }
        },
    )
}
