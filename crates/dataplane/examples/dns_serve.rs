//! Serve N NLB-like names (A + AAAA each) from twinstack's DNS server, for `bench/dns.sh`.
//!
//! ```text
//! cargo run --release -p twinstack-dataplane --example dns_serve -- \
//!     --listen 127.0.0.1:5300 --names 1000 --unbound-out names.conf --queries-out queries.txt
//! dig @127.0.0.1 -p 5300 k8s-shop-web-0000000000-<hex>.elb.eu-central-1.amazonaws.com AAAA
//! ```
//!
//! `--unbound-out` writes the same names as unbound `local-data` lines, `--queries-out` a
//! dnsperf query file (`name A` and `name AAAA` for every name), so a plain resolver can be
//! measured on exactly the same data.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use twinstack_dataplane::dns::{serve, DnsTable};

#[derive(Parser)]
struct Args {
    /// Address for UDP and TCP.
    #[arg(long, default_value = "127.0.0.1:5300")]
    listen: SocketAddr,
    /// Number of load balancer names.
    #[arg(long, default_value_t = 1000)]
    names: u32,
    /// Tokio worker threads.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Write unbound `local-zone`/`local-data` lines for the same names here.
    #[arg(long)]
    unbound_out: Option<PathBuf>,
    /// Write a dnsperf query file (A and AAAA of every name) here.
    #[arg(long)]
    queries_out: Option<PathBuf>,
}

const ZONE: &str = "elb.eu-central-1.amazonaws.com";

/// splitmix64: deterministic hex ids without a randomness dependency.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The i-th name and its two addresses, as the AWS LBC would name an NLB.
fn record(i: u32) -> (String, Ipv4Addr, Ipv6Addr) {
    let h = mix(u64::from(i));
    let name = format!(
        "k8s-shop-web-{:010x}-{:016x}.{ZONE}",
        mix(h) & 0xff_ffff_ffff,
        h
    );
    let v4 = Ipv4Addr::new(127, 1, (i >> 8) as u8, i as u8);
    let v6 = Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, (i >> 16) as u16, i as u16);
    (name, v4, v6)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let records: Vec<_> = (0..args.names).map(record).collect();

    if let Some(path) = &args.unbound_out {
        let mut out = format!("local-zone: \"{ZONE}.\" static\n");
        for (name, v4, v6) in &records {
            writeln!(out, "local-data: \"{name}. 60 IN A {v4}\"")?;
            writeln!(out, "local-data: \"{name}. 60 IN AAAA {v6}\"")?;
        }
        std::fs::write(path, out)?;
    }
    if let Some(path) = &args.queries_out {
        let mut out = String::new();
        for (name, _, _) in &records {
            writeln!(out, "{name} A")?;
            writeln!(out, "{name} AAAA")?;
        }
        std::fs::write(path, out)?;
    }

    let table = Arc::new(DnsTable::new());
    let mut set = Vec::with_capacity(records.len() * 2);
    for (name, v4, v6) in records {
        set.push((name.clone(), IpAddr::V4(v4)));
        set.push((name, IpAddr::V6(v6)));
    }
    table.replace("bench", set)?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = serve(args.listen, table).await?;
        println!("listening on {}", server.local_addr());
        // SIGINT or SIGTERM (a script's background job ignores SIGINT).
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
        let counts = server.metrics().counts();
        server.shutdown().await?;
        println!(
            "queries {} noerror {} nxdomain {}",
            counts.queries, counts.noerror, counts.nxdomain
        );
        Ok(())
    })
}
