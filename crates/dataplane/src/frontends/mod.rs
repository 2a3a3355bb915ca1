//! The load balancer data plane: a real listening socket per frontend (host mode: a loopback
//! address of its own for IPv4 and `[::1]` for IPv6, with the frontend's port where it can be
//! bound and a mapped port otherwise), each accepted connection carried to a target's pod as the
//! path model says (`twinstack_cloud::path`), with a real PROXY protocol v2 header when the
//! target group asks for one, health checks that really probe, and the in-process [`Network`]
//! that `kubectl exec`, client pods and `port-forward` connect through.
//!
//! Start here: the controllers call [`DataPlane::publish`] with a runtime's frontends and pods
//! (replacing the previous set: new frontends start listening, changed ones switch targets for
//! new connections, removed ones stop accepting while their established connections drain).

pub mod gateway;
mod health;
mod metrics;
pub mod netns;
mod spec;
mod splice;

pub use metrics::FrontendMetrics;
pub use spec::{
    Backend, FrontendKey, FrontendSpec, FrontendView, HealthCheck, PodSpec, Protocol, Serve,
    Target, TargetHealthView,
};

use crate::network::{Conn, Network};
use crate::workloads::{self, Context, Instance};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use twinstack_cloud::path::{self, Flow};

/// Where access lines of built-in servers go (`kubectl logs`): runtime, `namespace/pod`,
/// container, line.
pub type AccessLog = Arc<dyn Fn(&str, &str, &str, String) + Send + Sync>;

/// Buffer per direction when copying between a client and a user's process.
const COPY_BUFFER: usize = 64 * 1024;

/// The data plane of every runtime.
#[derive(Clone)]
pub struct DataPlane {
    inner: Arc<Inner>,
}

/// Where frontends listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Loopback addresses of the host (unprivileged).
    Host,
    /// A network namespace per runtime with the real emulated addresses (root); `instance`
    /// tells this twinstack's namespaces from another's (its data dir).
    Netns {
        /// What makes the namespace names unique to this twinstack.
        instance: String,
    },
}

struct Inner {
    mode: Mode,
    /// Namespace mode: each runtime's namespace.
    namespaces: Mutex<HashMap<String, netns::Netns>>,
    runtimes: Mutex<HashMap<String, Rt>>,
    /// The loopback IPv4 each (runtime, service, kind) listens on.
    loopback: Mutex<Loopback>,
    ephemeral: AtomicU16,
    access: Mutex<Option<AccessLog>>,
    metrics: Arc<FrontendMetrics>,
    /// Flows of connections a trace opened, by the client's local address.
    traces: Mutex<HashMap<SocketAddr, tokio::sync::oneshot::Sender<Flow>>>,
    /// The counters of connections straight to pods (exec, port-forward).
    pod_counters: Arc<metrics::Counters>,
    /// Bumped when a publication changes the frontends, and on a runtime's removal: the web
    /// view's streams follow it, as the frontends are not in the store.
    changes: tokio::sync::watch::Sender<u64>,
}

#[derive(Default)]
struct Rt {
    frontends: HashMap<FrontendKey, Arc<Live>>,
    pods: HashMap<IpAddr, Arc<PodSpec>>,
    cluster_dns: Option<IpAddr>,
    /// The HTTP routes of the runtime's Istio ingress gateway.
    routes: Arc<Vec<gateway::Route>>,
}

#[derive(Default)]
struct Loopback {
    by_owner: HashMap<(String, String, path::FrontendKind), Ipv4Addr>,
    next: u32,
}

/// A frontend that listens.
struct Live {
    spec: ArcSwap<FrontendSpec>,
    counters: Arc<metrics::Counters>,
    listen: SocketAddr,
    rr: AtomicUsize,
    health: Arc<health::Health>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Live {
    fn drop(&mut self) {
        // Stops accepting and probing; connections already carried run on their own tasks and
        // drain as their peers close them.
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// A connection's route, decided before any byte moves.
struct Planned {
    flow: Flow,
    pod: Arc<PodSpec>,
    port: u16,
    counters: Arc<metrics::Counters>,
}

impl Default for DataPlane {
    fn default() -> Self {
        Self::new()
    }
}

impl DataPlane {
    /// An empty data plane in host mode.
    pub fn new() -> Self {
        Self::with_mode(Mode::Host)
    }

    /// An empty data plane listening as `mode` says.
    pub fn with_mode(mode: Mode) -> Self {
        let metrics = Arc::new(FrontendMetrics::default());
        DataPlane {
            inner: Arc::new(Inner {
                mode,
                namespaces: Mutex::new(HashMap::new()),
                runtimes: Mutex::new(HashMap::new()),
                loopback: Mutex::new(Loopback::default()),
                ephemeral: AtomicU16::new(32768),
                access: Mutex::new(None),
                pod_counters: metrics.counters(&metrics::Labels::pod()),
                metrics,
                traces: Mutex::new(HashMap::new()),
                changes: tokio::sync::watch::Sender::new(0),
            }),
        }
    }

    /// Replaces the HTTP routes of a runtime's Istio ingress gateway (the VirtualServices bound
    /// to it, in order).
    pub fn publish_routes(&self, runtime: &str, routes: Vec<gateway::Route>) {
        let mut rts = self
            .inner
            .runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        rts.entry(runtime.to_string()).or_default().routes = Arc::new(routes);
    }

    /// Sends built-in servers' access lines to `log`.
    pub fn set_access_log(&self, log: AccessLog) {
        *self.inner.access.lock().unwrap_or_else(|e| e.into_inner()) = Some(log);
    }

    /// The per-frontend metrics, for the server's `/metrics`.
    pub fn metrics(&self) -> Arc<FrontendMetrics> {
        self.inner.metrics.clone()
    }

    /// Replaces a runtime's frontends and pods. Must run inside a tokio runtime.
    pub fn publish(
        &self,
        runtime: &str,
        frontends: Vec<FrontendSpec>,
        pods: Vec<PodSpec>,
        cluster_dns: Option<IpAddr>,
    ) {
        let mut rts = self
            .inner
            .runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let rt = rts.entry(runtime.to_string()).or_default();
        rt.cluster_dns = cluster_dns;
        rt.pods = pods
            .into_iter()
            .flat_map(|p| {
                let p = Arc::new(p);
                p.ips.clone().into_iter().map(move |ip| (ip, p.clone()))
            })
            .collect();
        let mut next: HashMap<FrontendKey, Arc<Live>> = HashMap::with_capacity(frontends.len());
        let mut changed = false;
        for spec in frontends {
            let key = spec.key();
            if let Some(live) = rt.frontends.remove(&key) {
                if **live.spec.load() != spec {
                    live.health.retarget(&spec);
                    live.spec.store(Arc::new(spec));
                    changed = true;
                }
                next.insert(key, live);
                continue;
            }
            if spec.protocol == Protocol::Udp {
                // UDP frontends are listed but not carried yet (docs/dataplane.md).
                continue;
            }
            match self.listen(runtime, spec) {
                Ok(live) => {
                    next.insert(key, live);
                    changed = true;
                }
                Err(e) => {
                    tracing::warn!(%runtime, service = %key.service, "frontend not served: {e}")
                }
            }
        }
        // What is left in `rt.frontends` is dropped here: it stops accepting.
        changed |= !rt.frontends.is_empty();
        rt.frontends = next;
        drop(rts);
        if changed {
            self.inner.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// Follows the frontends (any runtime's): a receiver sees a new value after a publication
    /// that added, changed or removed one, and after a runtime's removal, so a reader of
    /// [`DataPlane::frontends`] knows when to read again. Target health is not followed.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// Forgets a runtime (deprovisioned): its frontends stop accepting, its namespace goes.
    pub fn remove(&self, runtime: &str) {
        self.inner
            .runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(runtime);
        let ns = self
            .inner
            .namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(runtime);
        if let Some(ns) = ns {
            ns.remove();
        }
        self.inner.changes.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Stops every frontend and removes the namespaces this data plane made.
    pub fn shutdown(&self) {
        let names: Vec<String> = self
            .inner
            .runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        for n in names {
            self.remove(&n);
        }
    }

    /// Namespace mode: the name of a runtime's namespace (`ip netns exec NAME ...`).
    pub fn netns_name(&self, runtime: &str) -> Option<String> {
        match &self.inner.mode {
            Mode::Host => None,
            Mode::Netns { instance } => Some(netns::name_for(instance, runtime)),
        }
    }

    fn netns(&self, runtime: &str) -> io::Result<netns::Netns> {
        let mut nss = self
            .inner
            .namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(ns) = nss.get(runtime) {
            return Ok(ns.clone());
        }
        let name = self
            .netns_name(runtime)
            .ok_or_else(|| io::Error::other("host mode has no namespaces"))?;
        let ns = netns::Netns::ensure(&name)?;
        nss.insert(runtime.to_string(), ns.clone());
        Ok(ns)
    }

    /// A runtime's frontends with their local sockets and target health, sorted.
    pub fn frontends(&self, runtime: &str) -> Vec<FrontendView> {
        let rts = self
            .inner
            .runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let Some(rt) = rts.get(runtime) else {
            return Vec::new();
        };
        let mut out: Vec<FrontendView> = rt
            .frontends
            .values()
            .map(|live| {
                let s = live.spec.load();
                FrontendView {
                    service: s.service.clone(),
                    kind: s.model.kind.as_str(),
                    family: s.model.family().as_str(),
                    backend_family: s.model.backend_family().as_str(),
                    address: s.model.address.ip(),
                    port: s.model.address.port(),
                    protocol: s.protocol.as_str(),
                    listen: live.listen.to_string(),
                    hostname: s.hostname.clone(),
                    targets: live.health.view(&s),
                }
            })
            .collect();
        out.sort_by(|a, b| {
            (&a.service, a.kind, a.family, a.port).cmp(&(&b.service, b.kind, b.family, b.port))
        });
        out
    }

    /// The measured health of each (target group ARN, target id) of a runtime: healthy when
    /// any of the frontends sending to the group measured it healthy, else unhealthy when any
    /// did, else initial.
    pub fn target_health(&self, runtime: &str) -> HashMap<(String, String), &'static str> {
        let rts = self
            .inner
            .runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut out: HashMap<(String, String), &'static str> = HashMap::new();
        let Some(rt) = rts.get(runtime) else {
            return out;
        };
        let rank = |s: &str| match s {
            "healthy" => 2,
            "unhealthy" => 1,
            _ => 0,
        };
        for live in rt.frontends.values() {
            let spec = live.spec.load();
            let Some(tg) = &spec.target_group else {
                continue;
            };
            for v in live.health.view(&spec) {
                let e = out.entry((tg.clone(), v.id)).or_insert(v.state);
                if rank(v.state) > rank(e) {
                    *e = v.state;
                }
            }
        }
        out
    }

    /// The loopback IPv4 a runtime's Service listens on for one kind of frontend.
    fn loopback_v4(&self, runtime: &str, service: &str, kind: path::FrontendKind) -> Ipv4Addr {
        let mut lb = self
            .inner
            .loopback
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let key = (runtime.to_string(), service.to_string(), kind);
        if let Some(a) = lb.by_owner.get(&key) {
            return *a;
        }
        // 127.0.1.1 upwards, skipping .0 and .255 host parts; 127.0.0.0/24 stays for the user.
        loop {
            lb.next += 1;
            let n = 256 + lb.next;
            let a = Ipv4Addr::from(0x7f00_0000 | (n & 0x00ff_ffff));
            let last = a.octets()[3];
            if last != 0 && last != 255 {
                lb.by_owner.insert(key, a);
                return a;
            }
        }
    }

    fn listen(&self, runtime: &str, spec: FrontendSpec) -> io::Result<Arc<Live>> {
        let std_listener = match &self.inner.mode {
            Mode::Host => {
                let ip: IpAddr = match spec.model.address {
                    SocketAddr::V4(_) => self
                        .loopback_v4(runtime, &spec.service, spec.model.kind)
                        .into(),
                    SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
                };
                bind(SocketAddr::new(ip, spec.model.address.port()))
                    .or_else(|_| bind(SocketAddr::new(ip, 0)))?
            }
            // The real address and port, in the runtime's namespace.
            Mode::Netns { .. } => self.netns(runtime)?.bind(spec.model.address)?,
        };
        let listen = std_listener.local_addr()?;
        let listener = TcpListener::from_std(std_listener)?;
        let health = Arc::new(health::Health::new(&spec));
        let live = Arc::new_cyclic(|weak: &std::sync::Weak<Live>| {
            let mut tasks = Vec::new();
            let inner = self.inner.clone();
            let w = weak.clone();
            let runtime = runtime.to_string();
            tasks.push(tokio::spawn(async move {
                loop {
                    let Ok((sock, peer)) = listener.accept().await else {
                        // EMFILE and friends: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    };
                    let Some(live) = w.upgrade() else { return };
                    // Planned here, so that a connection never holds its frontend: a removed
                    // frontend stops accepting while its flows go on.
                    let planned = inner.plan_accepted(&live, peer);
                    drop(live);
                    let inner = inner.clone();
                    let runtime = runtime.clone();
                    tokio::spawn(async move {
                        let _ = sock.set_nodelay(true);
                        match planned {
                            Some(p) => inner.carry(&runtime, p, sock).await,
                            None => reset(sock),
                        }
                    });
                }
            }));
            if spec.health.is_some() {
                tasks.push(health::spawn(weak.clone(), |l: &Live| {
                    (l.spec.load_full(), l.health.clone())
                }));
            }
            Live {
                counters: self.inner.metrics.counters(&metrics::Labels::of(&spec)),
                spec: ArcSwap::from_pointee(spec),
                listen,
                rr: AtomicUsize::new(0),
                health,
                tasks,
            }
        });
        Ok(live)
    }

    /// Sends one real request through a Service's frontend of `family` (its load balancer's,
    /// else its cluster IP's) on `port` (the first when `None`), from this machine, and returns
    /// the flow the data plane carried it along with the answer.
    pub async fn trace(
        &self,
        runtime: &str,
        service: &str,
        family: path::Family,
        port: Option<u16>,
    ) -> Result<Trace, TraceError> {
        let (spec, listen) = {
            let rts = self
                .inner
                .runtimes
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let rt = rts.get(runtime).ok_or(TraceError::NoFrontend)?;
            let mut cands: Vec<(Arc<FrontendSpec>, SocketAddr)> = rt
                .frontends
                .values()
                .map(|l| (l.spec.load_full(), l.listen))
                .filter(|(s, _)| {
                    s.service == service
                        && s.model.family() == family
                        && port.is_none_or(|p| p == s.model.address.port())
                })
                .collect();
            // Load balancers first, then cluster IPs, then NodePorts; lowest port first.
            let rank = |k: path::FrontendKind| match k {
                path::FrontendKind::Nlb
                | path::FrontendKind::ClassicElb
                | path::FrontendKind::ForwardingRule => 0,
                path::FrontendKind::ClusterIp => 1,
                path::FrontendKind::NodePort => 2,
            };
            cands.sort_by_key(|(s, _)| (rank(s.model.kind), s.model.address.port()));
            cands.into_iter().next().ok_or(TraceError::NoFrontend)?
        };
        let local_ip: IpAddr = match listen {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        };
        let ns = match &self.inner.mode {
            Mode::Host => None,
            Mode::Netns { .. } => Some(self.netns(runtime).map_err(TraceError::Io)?),
        };
        let sock = match &ns {
            // A client inside the runtime's namespace: it reaches the real address.
            Some(ns) => ns.socket(listen).map_err(TraceError::Io)?,
            None => {
                let s = match listen {
                    SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
                    SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
                }
                .map_err(TraceError::Io)?;
                s.bind(SocketAddr::new(local_ip, 0))
                    .map_err(TraceError::Io)?;
                s
            }
        };
        let client = sock.local_addr().map_err(TraceError::Io)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner
            .traces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(client, tx);
        let result = tokio::time::timeout(Duration::from_secs(5), async {
            let mut s = sock.connect(listen).await?;
            let host = spec
                .hostname
                .clone()
                .unwrap_or_else(|| spec.model.address.to_string());
            s.write_all(
                format!(
                    "GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: twinstack-trace\r\nAccept: */*\r\nConnection: close\r\n\r\n"
                )
                .as_bytes(),
            )
            .await?;
            let mut out = Vec::new();
            (&mut s).take(64 * 1024).read_to_end(&mut out).await?;
            Ok::<_, io::Error>(out)
        })
        .await;
        let flow = rx.await.ok();
        self.inner
            .traces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&client);
        let response = match result {
            Ok(Ok(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("timed out after 5s".to_string()),
        };
        Ok(Trace {
            frontend: FrontendView {
                service: spec.service.clone(),
                kind: spec.model.kind.as_str(),
                family: spec.model.family().as_str(),
                backend_family: spec.model.backend_family().as_str(),
                address: spec.model.address.ip(),
                port: spec.model.address.port(),
                protocol: spec.protocol.as_str(),
                listen: listen.to_string(),
                hostname: spec.hostname.clone(),
                targets: Vec::new(),
            },
            client,
            flow,
            response,
        })
    }
}

/// What [`DataPlane::trace`] found.
#[derive(Debug)]
pub struct Trace {
    /// The frontend the request went through.
    pub frontend: FrontendView,
    /// The local client socket.
    pub client: SocketAddr,
    /// The flow the data plane carried it along (`None` when it refused the connection).
    pub flow: Option<Flow>,
    /// The answer (status line, headers and body), or why none came.
    pub response: Result<String, String>,
}

/// Why a trace could not start.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// The Service has no frontend of that family (and port).
    #[error("no frontend of that family and port")]
    NoFrontend,
    /// A local socket error.
    #[error("{0}")]
    Io(io::Error),
}

fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let domain = match addr {
        SocketAddr::V4(_) => socket2::Domain::IPV4,
        SocketAddr::V6(_) => socket2::Domain::IPV6,
    };
    let s = socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(1024)?;
    Ok(s.into())
}

impl Inner {
    fn ephemeral(&self) -> u16 {
        // 32768–60999, Linux's default ip_local_port_range.
        let p = self.ephemeral.fetch_add(1, Ordering::Relaxed);
        32768 + (p.wrapping_sub(32768) % (60999 - 32768 + 1))
    }

    /// Chooses a target and a backend for a new connection from `client` and builds its flow.
    fn plan(&self, live: &Live, spec: &FrontendSpec, client: SocketAddr) -> Option<Planned> {
        let eligible = live.health.eligible(spec);
        if eligible.is_empty() {
            return None;
        }
        let n = live.rr.fetch_add(1, Ordering::Relaxed);
        let target = &spec.targets[eligible[n % eligible.len()]];
        if target.backends.is_empty() {
            return None;
        }
        let backend = &target.backends[(n / eligible.len()) % target.backends.len()];
        let flow = path::flow(
            &spec.model,
            client,
            target.node.as_ref(),
            &backend.endpoint,
            self.ephemeral(),
        )
        .ok()?;
        Some(Planned {
            flow,
            pod: backend.pod.clone(),
            port: backend.endpoint.address.port(),
            counters: live.counters.clone(),
        })
    }

    /// Plans an accepted connection from `peer` (counted; a trace waiting for it gets its
    /// flow); `None`: no target, reset it.
    fn plan_accepted(&self, live: &Live, peer: SocketAddr) -> Option<Planned> {
        let spec = live.spec.load_full();
        let planned = self.plan(live, &spec, peer);
        let trace = self
            .traces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&peer);
        live.counters.connections.inc();
        match &planned {
            None => {
                live.counters.errors.inc();
            }
            Some(p) => {
                if let Some(tx) = trace {
                    let _ = tx.send(p.flow.clone());
                }
            }
        }
        planned
    }

    /// [`Inner::carry`] of an in-process connection, as a boxed `Send` future: the gateway
    /// (carried) opens in-process connections (carried), and naming the type breaks the cycle
    /// the compiler cannot prove `Send` through.
    fn carry_in_process(
        self: Arc<Self>,
        runtime: String,
        p: Planned,
        b: tokio::io::DuplexStream,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        Box::pin(async move { self.carry(&runtime, p, b).await })
    }

    /// The gateway routes of `runtime`.
    fn routes(&self, runtime: &str) -> Arc<Vec<gateway::Route>> {
        self.runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(runtime)
            .map(|r| r.routes.clone())
            .unwrap_or_default()
    }

    /// Carries a planned connection to its pod.
    async fn carry<S: AsyncRead + AsyncWrite + Unpin + Send + Resettable>(
        self: &Arc<Self>,
        runtime: &str,
        p: Planned,
        mut client: S,
    ) {
        let m = p.counters.clone();
        if p.flow.translated {
            m.translated.inc();
        }
        if p.flow.mesh == path::Mesh::OutsideMesh {
            m.outside_mesh.inc();
        }
        let header = p.flow.proxy_header.and_then(|h| {
            ppp::v2::Builder::with_addresses(
                ppp::v2::Version::Two | ppp::v2::Command::Proxy,
                ppp::v2::Protocol::Stream,
                (h.src, h.dst),
            )
            .build()
            .ok()
        });
        match p.pod.serve(p.port) {
            Serve::Refuse => {
                m.errors.inc();
                client.reset();
            }
            Serve::Local(addr) => {
                let Ok(mut up) = TcpStream::connect(addr).await else {
                    m.errors.inc();
                    client.reset();
                    return;
                };
                let _ = up.set_nodelay(true);
                if let Some(h) = &header {
                    if up.write_all(h).await.is_err() {
                        return;
                    }
                }
                // Socket to socket: splice(2), no copy through this process.
                let moved = match client.tcp() {
                    Some(c) => splice::both_ways(c, &up).await.ok(),
                    None => tokio::io::copy_bidirectional_with_sizes(
                        &mut client,
                        &mut up,
                        COPY_BUFFER,
                        COPY_BUFFER,
                    )
                    .await
                    .ok()
                    .map(|(a, b)| a + b),
                };
                if let Some(n) = moved {
                    m.bytes.inc_by(n);
                }
            }
            Serve::Builtin(workloads::Workload::IstioGateway) => {
                let mut stream = Prefixed::new(header.unwrap_or_default(), client);
                gateway::serve(self, runtime, &p, &mut stream).await;
                m.bytes.inc_by(stream.read + stream.written);
            }
            Serve::Builtin(w) => {
                let ctx = Context {
                    hostname: p.pod.hostname.clone(),
                    pod_ips: p.pod.ips.clone(),
                    peer: p.flow.seen,
                    now: jiff::Timestamp::now(),
                };
                let access = self
                    .access
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone();
                let inst = Instance {
                    workload: &w,
                    ctx: &ctx,
                };
                let pod = p.pod.pod.clone();
                let container = p.pod.containers.get(&p.port).cloned().unwrap_or_default();
                let mut stream = Prefixed::new(header.unwrap_or_default(), client);
                workloads::serve(&mut stream, &inst, |req, resp| {
                    if let (Some(log), Some(line)) =
                        (&access, workloads::access_line(&w, &ctx, req, resp))
                    {
                        log(runtime, &pod, &container, line);
                    }
                })
                .await;
                m.bytes.inc_by(stream.read + stream.written);
            }
        }
    }

    /// Opens an in-process connection from `src` (a pod of `runtime`, or its localhost) to an
    /// emulated `dst`.
    async fn connect(
        self: Arc<Self>,
        runtime: &str,
        src: IpAddr,
        dst: SocketAddr,
    ) -> io::Result<Box<dyn Conn>> {
        enum To {
            Frontend(Arc<Live>),
            Pod(Arc<PodSpec>),
        }
        // The pod's own localhost (port-forward) is the pod itself.
        let dst = if dst.ip().is_loopback() {
            SocketAddr::new(src, dst.port())
        } else {
            dst
        };
        let to = {
            let rts = self.runtimes.lock().unwrap_or_else(|e| e.into_inner());
            let rt = rts
                .get(runtime)
                .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such runtime"))?;
            let local = src.is_loopback() || src == dst.ip();
            if !local && src.is_ipv4() != dst.is_ipv4() {
                return Err(io::Error::new(
                    io::ErrorKind::NetworkUnreachable,
                    "Network is unreachable",
                ));
            }
            if let Some(l) = rt
                .frontends
                .values()
                .find(|l| l.spec.load().model.address == dst)
            {
                To::Frontend(l.clone())
            } else if let Some(p) = rt.pods.get(&dst.ip()) {
                To::Pod(p.clone())
            } else {
                return Err(io::Error::new(
                    io::ErrorKind::HostUnreachable,
                    "No route to host",
                ));
            }
        };
        let client = SocketAddr::new(src, self.ephemeral());
        let planned = match to {
            To::Frontend(live) => {
                let spec = live.spec.load_full();
                live.counters.connections.inc();
                self.plan(&live, &spec, client)
            }
            To::Pod(pod) => {
                // Straight to the pod: it sees the client as it is.
                let ep = path::Endpoint {
                    pod: pod.pod.clone(),
                    address: dst,
                    node: pod.node.clone(),
                    injected: pod.injected,
                };
                let fe = path::Frontend {
                    kind: path::FrontendKind::ClusterIp,
                    address: dst,
                    delivery: path::Delivery::KubeProxy,
                    local_traffic_policy: false,
                    node_port: None,
                };
                path::flow(&fe, client, None, &ep, 0).ok().map(|mut flow| {
                    flow.hops = vec![path::Hop {
                        name: "pod → pod".into(),
                        src: client,
                        dst,
                        note: None,
                    }];
                    Planned {
                        flow,
                        pod,
                        port: dst.port(),
                        counters: self.pod_counters.clone(),
                    }
                })
            }
        };
        let Some(p) = planned else {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "Connection refused",
            ));
        };
        match p.pod.serve(p.port) {
            Serve::Refuse => Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "Connection refused",
            )),
            _ => {
                let (a, b) = tokio::io::duplex(COPY_BUFFER);
                let runtime = runtime.to_string();
                // The pod's server runs on its own task, as a server process would.
                tokio::spawn(self.clone().carry_in_process(runtime, p, b));
                Ok(Box::new(a))
            }
        }
    }
}

#[async_trait::async_trait]
impl Network for DataPlane {
    async fn connect(
        &self,
        runtime: &str,
        src: IpAddr,
        dst: SocketAddr,
    ) -> io::Result<Box<dyn Conn>> {
        self.inner.clone().connect(runtime, src, dst).await
    }

    async fn resolve(
        &self,
        _runtime: &str,
        _namespace: &str,
        _name: &str,
    ) -> io::Result<Vec<IpAddr>> {
        // Names are answered by the DNS table; the shell wraps this type with it.
        Ok(Vec::new())
    }

    fn cluster_dns(&self, runtime: &str) -> Option<IpAddr> {
        self.inner
            .runtimes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(runtime)
            .and_then(|r| r.cluster_dns)
    }
}

/// A client stream that can be reset (RST) instead of closed, as a refused connection is.
pub trait Resettable {
    /// Drops the connection with a reset where the transport has one.
    fn reset(self);
    /// The TCP socket underneath, when there is one (then bytes are spliced).
    fn tcp(&self) -> Option<&TcpStream> {
        None
    }
}

impl Resettable for TcpStream {
    fn tcp(&self) -> Option<&TcpStream> {
        Some(self)
    }
    fn reset(self) {
        // SO_LINGER 0: close sends RST (a zero linger never blocks the thread).
        let _ = socket2::SockRef::from(&self).set_linger(Some(Duration::ZERO));
        drop(self);
    }
}

impl Resettable for tokio::io::DuplexStream {
    fn reset(self) {}
}

fn reset(s: TcpStream) {
    s.reset();
}

/// A stream whose reads start with `prefix` (the PROXY header the load balancer prepends),
/// counting bytes both ways.
struct Prefixed<S> {
    prefix: Vec<u8>,
    at: usize,
    inner: S,
    read: u64,
    written: u64,
}

impl<S> Prefixed<S> {
    fn new(prefix: Vec<u8>, inner: S) -> Self {
        Prefixed {
            prefix,
            at: 0,
            inner,
            read: 0,
            written: 0,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let me = &mut *self;
        if me.at < me.prefix.len() {
            let n = (me.prefix.len() - me.at).min(buf.remaining());
            buf.put_slice(&me.prefix[me.at..me.at + n]);
            me.at += n;
            return std::task::Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut me.inner).poll_read(cx, buf);
        me.read += (buf.filled().len() - before) as u64;
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        data: &[u8],
    ) -> std::task::Poll<io::Result<usize>> {
        let me = &mut *self;
        let r = std::pin::Pin::new(&mut me.inner).poll_write(cx, data);
        if let std::task::Poll::Ready(Ok(n)) = &r {
            me.written += *n as u64;
        }
        r
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
