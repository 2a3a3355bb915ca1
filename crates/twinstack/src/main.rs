//! `twinstack`: a local twin of SAP BTP, Kyma runtime with IPv4/IPv6 dual-stack networking.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

mod check_cli;
mod output;
mod runtime_cli;
use output::{errln, out};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use twinstack::{Config, RuntimeSpec};
use twinstack_core::runtime::{resolve_network, validate_runtime_name, NetworkRequest, Provider};

#[derive(Parser)]
#[command(
    name = "twinstack",
    version,
    about = "A local twin of SAP BTP, Kyma runtime with IPv4/IPv6 dual-stack networking",
    long_about = "twinstack runs Kyma runtimes on your machine: each one has a Kubernetes API that \
kubectl and client libraries use as they would a real cluster, with Services defaulted, validated \
and given IPv4 and IPv6 cluster IPs exactly as kube-apiserver does.\n\nStart with `twinstack up`, \
then `export KUBECONFIG=...` as it prints, and use kubectl."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct DataDir {
    /// Where twinstack keeps its store, certificates and kubeconfigs
    /// [default: $TWINSTACK_HOME, else ~/.twinstack]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDir {
    fn resolve(&self) -> Result<PathBuf> {
        if let Some(d) = &self.data_dir {
            return Ok(d.clone());
        }
        if let Some(h) = std::env::var_os("TWINSTACK_HOME").filter(|h| !h.is_empty()) {
            return Ok(PathBuf::from(h));
        }
        let home = std::env::var_os("HOME")
            .context("neither --data-dir, $TWINSTACK_HOME nor $HOME is set")?;
        Ok(PathBuf::from(home).join(".twinstack"))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run twinstack in the foreground until interrupted (Ctrl-C or SIGTERM).
    ///
    /// On the first start it creates the data directory, a CA and serving certificate, and one
    /// runtime from the flags below; later starts reuse what is there (the runtime flags then
    /// only matter if no runtime exists).
    Up(UpArgs),
    /// Check manifests against an in-memory runtime: no server, no port, no data dir.
    ///
    /// Every object is applied (namespaces first) through the same registry, admission
    /// webhooks and controllers `up` runs; once the controllers are done, each object is
    /// reported: accepted or refused with the API server's message, its IP families and
    /// addresses, its load balancer, its events and warnings. Exit code 1 on a refusal or a
    /// Warning event (see --fail-on), 2 on malformed input.
    Check(check_cli::CheckArgs),
    /// Create, list, show and delete runtimes through the broker of a running twinstack.
    #[command(subcommand)]
    Runtime(RuntimeCmd),
    /// Follow one request through a Service, hop by hop: which address each side sees, where
    /// the load balancer translates between IPv6 and IPv4, the PROXY protocol header, and
    /// whether the pod's Istio sidecar sees it; then send one real request through the data
    /// plane and print the answer.
    Trace(TraceArgs),
    /// Print the kubeconfig of a runtime (as `kind get kubeconfig` does).
    Kubeconfig {
        /// The runtime [default: the runtime `up` created]
        runtime: Option<String>,
        #[command(flatten)]
        data_dir: DataDir,
    },
}

#[derive(Subcommand)]
enum RuntimeCmd {
    /// Provision a runtime through the Kyma Environment Broker API, as the BTP cockpit does,
    /// and wait until it is ready.
    Create {
        /// The instance's `name` parameter; the runtime itself gets a Shoot name as on KEB
        /// (e.g. c-4b3c3cb), and the `runtime` commands accept either
        name: String,
        /// KEB plan: aws, gcp, azure, azure_lite, sap-converged-cloud, trial, free, ...
        #[arg(long, default_value = "aws")]
        plan: String,
        /// Region [default: the plan's usual region, e.g. eu-central-1 for aws]
        #[arg(long)]
        region: Option<String>,
        /// Request dual stack (`networking.dualStack: true`); KEB honours it on aws and gcp only
        #[arg(long)]
        dual_stack: bool,
        /// IPv4 node CIDR (`networking.nodes`) [KEB default 10.250.0.0/16]
        #[arg(long, value_name = "CIDR")]
        nodes_cidr: Option<String>,
        /// JSON or YAML file with more provisioning parameters (merged last)
        #[arg(long, value_name = "FILE")]
        param_file: Option<PathBuf>,
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// List runtimes: name (the Shoot name KEB gives it), instance name, plan, region, IP
    /// families, state, age.
    List {
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Show a runtime's networking of both families and its kubeconfig path; with `-o json`
    /// also its data plane frontends (each load balancer listener, forwarding rule, cluster
    /// IP and NodePort per family, with the local `listen` socket that reaches it).
    Show {
        name: String,
        /// Output format: text (default) or json
        #[arg(
            short = 'o',
            long = "output",
            default_value = "text",
            value_name = "FORMAT"
        )]
        output: String,
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Deprovision a runtime: everything in it is removed and its ranges released.
    Delete {
        name: String,
        #[command(flatten)]
        data_dir: DataDir,
    },
    /// Print a runtime's kubeconfig.
    Kubeconfig {
        name: String,
        #[command(flatten)]
        data_dir: DataDir,
    },
}

async fn runtime_cmd(cmd: RuntimeCmd) -> Result<ExitCode> {
    match cmd {
        RuntimeCmd::Create {
            name,
            plan,
            region,
            dual_stack,
            nodes_cidr,
            param_file,
            data_dir,
        } => {
            let args = runtime_cli::CreateArgs {
                name: &name,
                plan: &plan,
                region: region.as_deref(),
                dual_stack,
                nodes_cidr: nodes_cidr.as_deref(),
                param_file: param_file.as_deref(),
            };
            runtime_cli::create(&data_dir.resolve()?, args).await
        }
        RuntimeCmd::List { data_dir } => runtime_cli::list(&data_dir.resolve()?).await,
        RuntimeCmd::Show {
            name,
            output,
            data_dir,
        } => runtime_cli::show(&data_dir.resolve()?, &name, &output).await,
        RuntimeCmd::Delete { name, data_dir } => {
            runtime_cli::delete(&data_dir.resolve()?, &name).await
        }
        RuntimeCmd::Kubeconfig { name, data_dir } => {
            runtime_cli::kubeconfig(&data_dir.resolve()?, &name).await
        }
    }
}

#[derive(clap::Args)]
struct TraceArgs {
    /// The Service
    service: String,
    /// Its namespace
    #[arg(short = 'n', long, default_value = "default")]
    namespace: String,
    /// The client's IP family: IPv4 or IPv6
    #[arg(long, default_value = "IPv4")]
    family: String,
    /// The Service port [default: its load balancer's first port]
    #[arg(long)]
    port: Option<u16>,
    /// The runtime [default: the runtime `up` created]
    #[arg(long)]
    runtime: Option<String>,
    /// Output format: text (default) or json
    #[arg(
        short = 'o',
        long = "output",
        default_value = "text",
        value_name = "FORMAT"
    )]
    output: String,
    #[command(flatten)]
    data_dir: DataDir,
}

/// The runtime `up` creates on first start, and the one `check` checks against.
#[derive(clap::Args)]
struct RuntimeArgs {
    /// Name of the runtime (`up`: the one created on first start)
    #[arg(long, default_value = "local")]
    runtime: String,
    /// Cloud provider of the runtime: aws, gcp, azure, openstack
    #[arg(long, default_value = "aws")]
    provider: String,
    /// Region of the runtime [default: eu-central-1; with --plan, the plan's usual region]
    #[arg(long)]
    region: Option<String>,
    /// IP families, primary first: IPv4, IPv6, IPv4,IPv6 or IPv6,IPv4
    #[arg(long, default_value = "IPv4,IPv6", value_name = "FAMILIES")]
    ip_families: String,
    /// Service CIDRs, one per family in --ip-families order
    /// [default: 10.104.0.0/13 and a provider-assigned IPv6 /108]
    #[arg(long, value_name = "CIDRS")]
    service_cidrs: Option<String>,
    /// Pod CIDRs, one per family [default: 10.96.0.0/13 and the provider's IPv6 range]
    #[arg(long, value_name = "CIDRS")]
    pod_cidrs: Option<String>,
    /// Node CIDRs, one per family [default: 10.250.0.0/16 and the provider's IPv6 range]
    #[arg(long, value_name = "CIDRS")]
    node_cidrs: Option<String>,
    /// Number of worker nodes, one per zone
    #[arg(long, default_value_t = 3)]
    nodes: u32,
}

#[derive(clap::Args)]
struct UpArgs {
    #[command(flatten)]
    data_dir: DataDir,
    /// Address of the HTTPS port (IPv4 or IPv6, e.g. [::1]:6443)
    #[arg(long, default_value = "127.0.0.1:6443", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Watch history kept, in revisions: a watch from an older resourceVersion gets
    /// 410 Expired ("too old resource version"), as after an etcd compaction
    #[arg(long, default_value_t = 10_000, value_name = "REVISIONS")]
    watch_history_revisions: u64,
    /// Watch history kept, in seconds (whichever of the two keeps more wins)
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    watch_history_seconds: u64,
    /// Open connections at most; beyond, new ones wait until one closes
    #[arg(long, default_value_t = 4_096, value_name = "N")]
    max_connections: usize,
    /// Seconds a client gets to send a request's headers (HTTP/1.1; also the keep-alive
    /// idle time), as kube-apiserver's ReadHeaderTimeout
    #[arg(long, default_value_t = 32, value_name = "SECONDS")]
    header_timeout: u64,
    /// Seconds a connection may stay without a request in flight, as kube-apiserver's
    /// IdleTimeout
    #[arg(long, default_value_t = 90, value_name = "SECONDS")]
    idle_timeout: u64,
    /// Seconds to answer a request that is not a watch before 504, as kube-apiserver's
    /// --request-timeout
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    request_timeout: u64,
    /// How long a broker operation (provision, update, deprovision) takes, spread over KEB's
    /// stages, so OSB clients and pipelines can test their polling of last_operation
    /// (e.g. 2s, 500ms, 1m); 0 answers each request once its operation is done
    #[arg(long, default_value = "2s", value_name = "DURATION", value_parser = parse_duration)]
    operation_time: std::time::Duration,
    /// For tests of expiry: POST /twinstack/v1/clock {"advanceSeconds": N} (broker
    /// credential) moves the platform's clock forward, so tokens and bindings expire
    /// without waiting
    #[arg(long)]
    test_clock: bool,
    /// Address of the DNS server (UDP and TCP): A and AAAA for the load balancers' hostnames
    /// (AAAA only for dualstack NLBs) and for Services (`web.shop.svc.cluster.local` for the
    /// runtime `up` serves, `web.shop.svc.RUNTIME.cluster.local` for any runtime);
    /// try `dig @127.0.0.1 -p 10053 NAME AAAA`. `off` runs none
    #[arg(long, default_value = "127.0.0.1:10053", value_name = "ADDR:PORT|off")]
    dns_listen: String,
    /// How load balancers, cluster IPs and NodePorts carry real traffic. `host` (unprivileged):
    /// each frontend listens on a loopback address of its own (127.0.1.x) for IPv4 and on [::1]
    /// for IPv6, on its own port where it can be bound and a mapped one otherwise; `twinstack
    /// runtime show RUNTIME -o json` lists every frontend's `listen` socket. `netns` (root):
    /// each runtime gets a network namespace (`netns` in `runtime show -o json`) where every
    /// frontend listens on its real emulated address and port: `ip netns exec NAME curl -6
    /// http://[2a05:...]/`. `off`: no listeners
    #[arg(long, default_value = "host", value_name = "host|netns|off")]
    dataplane: String,
}

/// `2s`, `500ms`, `1m`, or plain seconds.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("invalid duration {s:?}: expected e.g. 2s, 500ms, 1m"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(format!(
            "invalid duration {s:?}: expected e.g. 2s, 500ms, 1m"
        )),
    }
}

/// The region of a runtime given by provider and families, when none is named.
const DEFAULT_REGION: &str = "eu-central-1";

fn runtime_spec(a: &RuntimeArgs) -> Result<RuntimeSpec, String> {
    validate_runtime_name(&a.runtime)?;
    let provider = Provider::parse(&a.provider)?;
    if a.nodes == 0 || a.nodes > 1000 {
        return Err(format!(
            "invalid --nodes {}: must be between 1 and 1000",
            a.nodes
        ));
    }
    let req = NetworkRequest {
        families: Some(&a.ip_families),
        services: a.service_cidrs.as_deref(),
        pods: a.pod_cidrs.as_deref(),
        nodes: a.node_cidrs.as_deref(),
    };
    let zones = a.nodes.min(3) as usize;
    let region = a.region.as_deref().unwrap_or(DEFAULT_REGION);
    let network = resolve_network(provider, region, &a.runtime, zones, &req)?;
    Ok(RuntimeSpec::new(
        &a.runtime, provider, region, network, a.nodes,
    ))
}

async fn up(a: UpArgs) -> Result<ExitCode> {
    // Refuse bad flags before anything is written.
    let spec = match runtime_spec(&a.runtime) {
        Ok(s) => s,
        Err(e) => {
            errln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let dns_listen = match a.dns_listen.as_str() {
        "off" => None,
        s => match s.parse::<SocketAddr>() {
            Ok(addr) => Some(addr),
            Err(_) => {
                errln!("error: invalid --dns-listen {s:?}: expected ADDR:PORT (e.g. 127.0.0.1:10053) or off");
                return Ok(ExitCode::from(2));
            }
        },
    };
    let data_dir = a.data_dir.resolve()?;
    let dataplane = match a.dataplane.as_str() {
        "host" => Some(twinstack_dataplane::frontends::Mode::Host),
        "off" => None,
        "netns" => {
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                errln!("error: --dataplane netns needs root (network namespaces); use --dataplane host (the default)");
                return Ok(ExitCode::from(2));
            }
            Some(twinstack_dataplane::frontends::Mode::Netns {
                instance: data_dir.display().to_string(),
            })
        }
        s => {
            errln!("error: invalid --dataplane {s:?}: expected host, netns or off");
            return Ok(ExitCode::from(2));
        }
    };
    let running = twinstack::start(Config {
        dns_listen,
        dataplane,
        data_dir: data_dir.clone(),
        listen: a.listen,
        default_runtime: spec,
        watch_history_revisions: a.watch_history_revisions,
        watch_history: std::time::Duration::from_secs(a.watch_history_seconds),
        limits: twinstack::Limits {
            max_connections: a.max_connections.max(1),
            header_read_timeout: std::time::Duration::from_secs(a.header_timeout),
            idle_timeout: std::time::Duration::from_secs(a.idle_timeout),
            request_timeout: std::time::Duration::from_secs(a.request_timeout),
            ..Default::default()
        },
        broker: twinstack_platform::broker::BrokerSettings {
            operation_time: a.operation_time,
            test_clock: a.test_clock,
            ..Default::default()
        },
    })
    .await?;
    let rt = running
        .registry
        .runtime(&running.default_runtime)
        .expect("default runtime");
    let families: Vec<&str> = rt
        .record
        .network
        .families
        .iter()
        .map(|f| f.as_str())
        .collect();
    tracing::info!(addr = %running.addr, "serving");
    let dns_line = running
        .dns_addr
        .map(|a| format!("DNS server at {a} (UDP and TCP)\n"))
        .unwrap_or_default();
    // The server keeps serving if nobody reads its stdout any more.
    let ready = format!(
        "twinstack is ready: runtime {:?} ({} {}, {}) at {}\n{dns_line}kubeconfig written to {}\nexport KUBECONFIG={}\n",
        rt.name(),
        rt.record.provider.as_str(),
        rt.record.region,
        families.join(","),
        twinstack_platform::kubeconfig::server_url(running.addr, rt.name()),
        running.kubeconfig.display(),
        running.kubeconfig.display()
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(ready.as_bytes()).and_then(|()| out.flush());
    }
    wait_for_signal().await;
    tracing::info!("shutting down");
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

fn kubeconfig(runtime: Option<String>, data_dir: DataDir) -> Result<ExitCode> {
    let dir = data_dir.resolve()?;
    let path = match &runtime {
        Some(r) if !twinstack_platform::kubeconfig_path(&dir, r).exists() => {
            // Not a runtime's name: perhaps its instance's (asked of the running twinstack).
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            return rt.block_on(runtime_cli::kubeconfig(&dir, r));
        }
        Some(r) => twinstack_platform::kubeconfig_path(&dir, r),
        None => dir.join("kubeconfig"),
    };
    match std::fs::read_to_string(&path) {
        Ok(k) => {
            out!("{k}");
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => {
            match runtime {
                Some(r) => errln!(
                    "error: no runtime {r:?} in {} (has `twinstack up` run with this data dir?)",
                    dir.display()
                ),
                None => errln!(
                    "error: no kubeconfig in {} (run `twinstack up` first)",
                    dir.display()
                ),
            }
            Ok(ExitCode::from(1))
        }
    }
}

// mimalloc: the controllers and the API allocate many short-lived JSON values; glibc's malloc
// spent about 40% of the CPU of a pod rollout and kept freed memory in fragmented arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter({
            // hickory-server logs every DNS answer at info: two lines per query.
            // `check` prints a report; its logs would only be noise on stderr.
            let default = if matches!(cli.command, Command::Check(_)) {
                "warn"
            } else {
                "info"
            };
            let f = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into());
            match "hickory_server=warn".parse() {
                Ok(d) => f.add_directive(d),
                Err(_) => f,
            }
        })
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A log line that cannot be written is dropped, not reported with a panicking eprintln.
        .log_internal_errors(false)
        .init();
    let result = match cli.command {
        Command::Kubeconfig { runtime, data_dir } => kubeconfig(runtime, data_dir),
        Command::Trace(a) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async {
                let dir = a.data_dir.resolve()?;
                runtime_cli::trace(
                    &dir,
                    runtime_cli::TraceArgs {
                        runtime: a.runtime.as_deref(),
                        namespace: &a.namespace,
                        service: &a.service,
                        family: &a.family,
                        port: a.port,
                        output: &a.output,
                    },
                )
                .await
            })
        }
        Command::Runtime(cmd) => {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(runtime_cmd(cmd))
        }
        Command::Check(a) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(check_cli::check(a))
        }
        Command::Up(a) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(up(a))
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            errln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
