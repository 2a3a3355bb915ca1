//! The data plane's built-in servers (whoami, netexec, nginx, ...) never panic on what a client
//! sends over a connection: any bytes, including a PROXY header, a truncated head or a huge
//! Content-Length. The input is split at the first byte into the workload's index and the
//! stream the client writes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use twinstack_dataplane::workloads::{serve, Context, Instance, Workload};

fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, input)) = data.split_first() else {
        return;
    };
    let workload = match which % 6 {
        0 => Workload::Whoami { name: "n".into() },
        1 => Workload::Netexec,
        2 => Workload::ServeHostname,
        3 => Workload::HttpEcho { text: "t".into() },
        4 => Workload::Nginx,
        _ => Workload::Httpd,
    };
    let input = input.to_vec();
    rt().block_on(async move {
        let (mut client, mut server) = tokio::io::duplex(1 << 20);
        let ctx = Context {
            hostname: "web-1".into(),
            pod_ips: vec!["10.96.0.5".parse().unwrap(), "2600::5".parse().unwrap()],
            peer: "10.250.0.9:40000".parse().unwrap(),
            now: jiff::Timestamp::UNIX_EPOCH,
        };
        let srv = async {
            let inst = Instance { workload: &workload, ctx: &ctx };
            serve(&mut server, &inst, |_, _| {}).await;
            drop(server);
        };
        let cli = async {
            let _ = client.write_all(&input).await;
            let _ = client.shutdown().await;
            let mut out = Vec::new();
            let _ = client.read_to_end(&mut out).await;
        };
        tokio::join!(srv, cli);
    });
});
