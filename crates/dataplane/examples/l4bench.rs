//! The client and backend of `bench/dataplane.sh`: a small-request echo backend, a
//! short-connection rate client and a fixed-rate latency client, so that direct, twinstack,
//! HAProxy and nginx are measured by the same code. (Bulk throughput is iperf3's.)
//!
//! ```text
//! l4bench server ADDR...                      # echo 64-byte requests until the peer closes
//! l4bench rate ADDR SECONDS CONCURRENCY       # new connection per request: prints conns/s
//! l4bench latency ADDR SECONDS RATE           # fixed rate over 16 kept connections: p50 p99 µs
//! ```

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MSG: usize = 64;

async fn serve(addr: SocketAddr) {
    let l = TcpListener::bind(addr).await.expect("bind");
    loop {
        let Ok((mut s, _)) = l.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let _ = s.set_nodelay(true);
            let mut buf = [0u8; MSG];
            while s.read_exact(&mut buf).await.is_ok() {
                if s.write_all(&buf).await.is_err() {
                    return;
                }
            }
        });
    }
}

async fn one_exchange(s: &mut TcpStream) -> std::io::Result<()> {
    let mut buf = [7u8; MSG];
    s.write_all(&buf).await?;
    s.read_exact(&mut buf).await?;
    Ok(())
}

async fn rate(addr: SocketAddr, secs: u64, conc: usize) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let (done, errors) = (done.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            while Instant::now() < end {
                let ok = async {
                    let mut s = TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    one_exchange(&mut s).await
                }
                .await;
                match ok {
                    Ok(()) => done.fetch_add(1, Ordering::Relaxed),
                    Err(_) => errors.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    println!(
        "{:.0} {}",
        done.load(Ordering::Relaxed) as f64 / secs as f64,
        errors.load(Ordering::Relaxed)
    );
}

async fn latency(addr: SocketAddr, secs: u64, rate: u64) {
    const CONNS: usize = 16;
    let (tx, rx) = async_channel();
    let mut workers = Vec::new();
    let lat = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    for _ in 0..CONNS {
        let rx = rx.clone();
        let lat = lat.clone();
        workers.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.set_nodelay(true).unwrap();
            while let Ok(due) = rx.recv().await {
                if one_exchange(&mut s).await.is_err() {
                    return;
                }
                // From when the request was due: queueing counts (no coordinated omission).
                lat.lock().unwrap().push(due.elapsed().as_micros() as u64);
            }
        }));
    }
    let start = Instant::now();
    let total = rate * secs;
    for i in 0..total {
        let due = start + Duration::from_nanos(i * 1_000_000_000 / rate);
        tokio::time::sleep_until(due.into()).await;
        if tx.send(due).await.is_err() {
            break;
        }
    }
    drop(tx);
    for w in workers {
        let _ = w.await;
    }
    let mut v = lat.lock().unwrap().clone();
    v.sort_unstable();
    let pct = |p: f64| {
        v.get(((v.len() as f64 * p) as usize).min(v.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!("{} {} {}", pct(0.50), pct(0.99), v.len());
}

/// A multi-consumer queue from tokio's primitives.
fn async_channel() -> (Sender, Receiver) {
    let (tx, rx) = tokio::sync::mpsc::channel::<Instant>(1024);
    (Sender(tx), Receiver(Arc::new(tokio::sync::Mutex::new(rx))))
}
struct Sender(tokio::sync::mpsc::Sender<Instant>);
impl Sender {
    async fn send(&self, v: Instant) -> Result<(), ()> {
        self.0.send(v).await.map_err(|_| ())
    }
}
#[derive(Clone)]
struct Receiver(Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<Instant>>>);
impl Receiver {
    async fn recv(&self) -> Result<Instant, ()> {
        self.0.lock().await.recv().await.ok_or(())
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = |i: usize| -> SocketAddr { args[i].parse().expect("ADDR:PORT") };
    let num = |i: usize| -> u64 { args[i].parse().expect("a number") };
    match args.first().map(String::as_str) {
        Some("server") => {
            let mut ts = Vec::new();
            for i in 1..args.len() {
                ts.push(tokio::spawn(serve(addr(i))));
            }
            for t in ts {
                let _ = t.await;
            }
        }
        Some("rate") => rate(addr(1), num(2), num(3) as usize).await,
        Some("latency") => latency(addr(1), num(2), num(3)).await,
        _ => eprintln!("usage: l4bench server ADDR... | rate ADDR SECONDS CONCURRENCY | latency ADDR SECONDS RATE"),
    }
}
