//! Store write benchmark: sequential writers (one commit, one fsync per write) vs concurrent
//! writers sharing group commits, plus watch fan-out cost.
//!
//! Set `BENCH_DIR` to put the database file on another file system (default: the temp dir).
//!
//! `cargo run --release -p twinstack-store --example store_bench [-- SEQ_WRITES CONC_WRITES TASKS]`

use std::time::{Duration, Instant};

use twinstack_store::{MetricsSnapshot, Store, StoreOptions};

fn value(i: u64) -> Vec<u8> {
    // about the size of a small Pod object
    format!(
        "{{\"kind\":\"Pod\",\"metadata\":{{\"name\":\"p-{i}\"}},\"spec\":\"{}\"}}",
        "x".repeat(900)
    )
    .into_bytes()
}

struct Run {
    name: String,
    writes: u64,
    elapsed: Duration,
    m: MetricsSnapshot,
}

impl Run {
    fn per_sec(&self) -> f64 {
        self.writes as f64 / self.elapsed.as_secs_f64()
    }
    fn print(&self) {
        let commit_us = self.m.commit_nanos as f64 / self.m.commits.max(1) as f64 / 1e3;
        println!(
            "{:<34} {:>8} {:>10.0} {:>8} {:>8.1} {:>12.1} {:>12.1}",
            self.name,
            self.writes,
            self.per_sec(),
            self.m.fsyncs,
            self.writes as f64 / self.m.commits.max(1) as f64,
            commit_us,
            self.elapsed.as_secs_f64() * 1e6 / self.writes as f64,
        );
    }
}

fn delta(a: MetricsSnapshot, b: MetricsSnapshot) -> MetricsSnapshot {
    MetricsSnapshot {
        writes: b.writes - a.writes,
        commits: b.commits - a.commits,
        fsyncs: b.fsyncs - a.fsyncs,
        commit_nanos: b.commit_nanos - a.commit_nanos,
        ..b
    }
}

async fn sequential(store: &Store, n: u64, tag: &str) -> Run {
    let before = store.metrics().snapshot();
    let t = Instant::now();
    for i in 0..n {
        store
            .put(&format!("/registry/bench/pods/seq-{tag}/{i:08}"), value(i))
            .await
            .unwrap();
    }
    Run {
        name: format!("sequential (1 writer) {tag}"),
        writes: n,
        elapsed: t.elapsed(),
        m: delta(before, store.metrics().snapshot()),
    }
}

async fn concurrent(store: &Store, n: u64, tasks: u64, tag: &str) -> Run {
    let before = store.metrics().snapshot();
    let t = Instant::now();
    let per = n / tasks;
    let mut hs = Vec::new();
    for k in 0..tasks {
        let s = store.clone();
        let tag = tag.to_string();
        hs.push(tokio::spawn(async move {
            for i in 0..per {
                let key = format!("/registry/bench/pods/conc-{tag}/{k:04}-{i:08}");
                // a create-if-absent transaction, as the API server does
                s.txn(move |x| {
                    if x.exists(&key) {
                        return Err("exists");
                    }
                    let rv = x.revision();
                    let mut v = value(i);
                    v.extend_from_slice(rv.to_string().as_bytes());
                    x.put(&key, v);
                    Ok(rv)
                })
                .await
                .unwrap();
            }
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
    Run {
        name: format!("concurrent ({tasks} writers) {tag}"),
        writes: per * tasks,
        elapsed: t.elapsed(),
        m: delta(before, store.metrics().snapshot()),
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let seq_n = args.first().copied().unwrap_or(2_000);
    let conc_n = args.get(1).copied().unwrap_or(20_000);
    let tasks = args.get(2).copied().unwrap_or(64);

    let dir = tempfile::tempdir_in(
        std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, Into::into),
    )
    .unwrap();
    let store = Store::open_with(&dir.path().join("bench.redb"), StoreOptions::default()).unwrap();
    println!(
        "twinstack-store write benchmark (redb, Durability::Immediate), file in {}",
        dir.path().display()
    );
    println!(
        "{:<34} {:>8} {:>10} {:>8} {:>8} {:>12} {:>12}",
        "run", "writes", "writes/s", "fsyncs", "w/fsync", "commit_us", "us/write"
    );
    let s1 = sequential(&store, seq_n, "a").await;
    s1.print();
    let c1 = concurrent(&store, conc_n, tasks, "a").await;
    c1.print();
    let c8 = concurrent(&store, conc_n / 4, 8, "b").await;
    c8.print();
    let s2 = sequential(&store, seq_n, "b").await;
    s2.print();

    // watch fan-out: 100 watchers on the prefix while concurrent writers run
    let mut watchers = Vec::new();
    let start = store.current_revision();
    for _ in 0..100 {
        watchers.push(store.watch("/registry/bench/pods/", start).unwrap());
    }
    let readers: Vec<_> = watchers
        .into_iter()
        .map(|mut w| {
            tokio::spawn(async move {
                let mut n = 0u64;
                while let Some(Ok(_)) = w.next().await {
                    n += 1;
                }
                n
            })
        })
        .collect();
    let cw = concurrent(&store, conc_n / 2, tasks, "w").await;
    let mut cw = cw;
    cw.name = format!("concurrent ({tasks}) + 100 watchers");
    cw.print();
    drop(store);
    let mut delivered = 0;
    for r in readers {
        delivered += r.await.unwrap();
    }

    let seq = (s1.per_sec() + s2.per_sec()) / 2.0;
    let fsync_us =
        (s1.m.commit_nanos + s2.m.commit_nanos) as f64 / (s1.m.commits + s2.m.commits) as f64 / 1e3;
    println!();
    println!("per-commit (fsync) cost, sequential:        {fsync_us:.1} us");
    println!(
        "group commit speed-up, {tasks} writers vs 1:  {:.1}x  ({:.1} writes per fsync)",
        c1.per_sec() / seq,
        c1.writes as f64 / c1.m.commits as f64
    );
    println!(
        "group commit speed-up, 8 writers vs 1:   {:.1}x  ({:.1} writes per fsync)",
        c8.per_sec() / seq,
        c8.writes as f64 / c8.m.commits as f64
    );
    println!(
        "with 100 watchers vs without:            {:.2}x  ({delivered} events delivered)",
        cw.per_sec() / c1.per_sec()
    );
}
