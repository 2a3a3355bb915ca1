//! Crash test: a child process writes acknowledged keys in a loop and prints each
//! acknowledgement; the parent kills it with SIGKILL mid-stream, reopens the store and checks
//! that every acknowledged write survived with consistent revisions.
//!
//! The child is this test binary re-executed on the same test with `TWINSTACK_STORE_CRASH_CHILD`
//! set: the test then runs [`child_writer`] instead of the parent side. The child is not a test
//! of its own, so no test can pass by finding its environment missing.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use twinstack_store::{EventKind, Store};

const ENV: &str = "TWINSTACK_STORE_CRASH_CHILD";

const ROUND_ENV: &str = "TWINSTACK_STORE_CRASH_ROUND";
const TEST: &str = "kill9_keeps_every_acknowledged_write";

/// Child side: writes and acknowledges keys until it is killed; never returns.
fn child_writer(path: &str) -> ! {
    let round: u64 = std::env::var(ROUND_ENV)
        .expect("the parent sets the round")
        .parse()
        .expect("a numeric round");
    let store = Store::open(Path::new(path)).unwrap();
    // Several writer threads, so that group commits are in flight when the kill lands.
    let threads: Vec<_> = (0..6)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0u64.. {
                    let key = format!("/crash/{round}/{t}/{i:08}");
                    let k2 = key.clone();
                    let c = store
                        .txn_blocking(move |x| {
                            let rev = x.revision();
                            // The value carries the revision it was written at, as an object
                            // carries its resourceVersion.
                            x.put(&k2, format!("rev={rev};{}", "x".repeat(200)).into_bytes());
                            // and a per-thread counter key updated in the same transaction
                            x.put(&format!("/counter/{round}/{t}"), i.to_string().into_bytes());
                            Ok::<_, std::convert::Infallible>(rev)
                        })
                        .unwrap();
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ACK {key} {}", c.revision).unwrap();
                    out.flush().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    unreachable!("the writers loop until the parent kills the process")
}

fn run_child_and_kill(path: &Path, round: u64, acks_before_kill: usize) -> Vec<(String, u64)> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(ENV, path)
        .env(ROUND_ENV, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut acks = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acks.len() < acks_before_kill && Instant::now() < deadline {
        let Some(line) = lines.next() else { break };
        if let Some((key, rev)) = parse_ack(&line.unwrap()) {
            acks.push((key, rev));
        }
    }
    // SIGKILL on Unix, mid-stream: writers are still running.
    child.kill().unwrap();
    child.wait().unwrap();
    // Whatever was printed before the kill was acknowledged, too.
    for line in lines {
        match line {
            Ok(l) => {
                if let Some(a) = parse_ack(&l) {
                    acks.push(a);
                }
            }
            Err(_) => break, // a line cut by the kill
        }
    }
    assert!(
        acks.len() >= acks_before_kill.min(50),
        "child produced too few acks: {}",
        acks.len()
    );
    acks
}

fn parse_ack(line: &str) -> Option<(String, u64)> {
    let rest = line.strip_prefix("ACK ")?;
    let (key, rev) = rest.split_once(' ')?;
    Some((key.to_string(), rev.trim().parse().ok()?))
}

#[test]
fn kill9_keeps_every_acknowledged_write() {
    if let Ok(path) = std::env::var(ENV) {
        child_writer(&path);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.redb");
    let mut all_acks: BTreeMap<String, u64> = BTreeMap::new();
    let mut last_rev = 1;
    for round in 0..3u64 {
        let acks = run_child_and_kill(&path, round, 300 + 200 * round as usize);
        for (k, r) in &acks {
            assert!(
                all_acks.insert(k.clone(), *r).is_none(),
                "duplicate ack {k}"
            );
        }

        let store = Store::open(&path).unwrap();
        let current = store.current_revision();
        // Revisions of acknowledged writes are unique and not beyond the recovered revision.
        let mut revs: Vec<u64> = acks.iter().map(|(_, r)| *r).collect();
        revs.sort_unstable();
        revs.dedup();
        assert_eq!(revs.len(), acks.len(), "unique revisions");
        assert!(revs[0] > last_rev);
        assert!(
            *revs.last().unwrap() <= current,
            "acked revision beyond recovered revision {current}"
        );
        for (key, rev) in &all_acks {
            let kv = store
                .get(key)
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged {key} lost"));
            assert_eq!(kv.mod_revision, *rev, "{key}");
            assert_eq!(kv.create_revision, *rev, "{key}");
            assert_eq!(kv.version, 1);
            let v = String::from_utf8(kv.value).unwrap();
            assert!(v.starts_with(&format!("rev={rev};")), "{key}: {v}");
        }
        // The recovered state is self-consistent: no key beyond the revision, the log holds
        // every revision since the previous round and replays to the same state.
        let (items, at) = store.list("/crash/").unwrap();
        assert_eq!(at, current);
        assert!(items.iter().all(|kv| kv.mod_revision <= current));
        let mut w = store.watch("/crash/", last_rev).unwrap();
        let mut replayed = 0;
        let mut prev_rev = last_rev;
        while let Some(e) = w.try_next().unwrap() {
            assert_eq!(e.kind, EventKind::Put);
            assert!(e.revision > prev_rev);
            prev_rev = e.revision;
            let kv = store.get(&e.kv.key).unwrap().unwrap();
            assert_eq!(kv.mod_revision, e.revision);
            replayed += 1;
        }
        assert_eq!(prev_rev, current, "log reaches the current revision");
        assert_eq!(
            replayed as u64,
            current - last_rev,
            "one event per revision"
        );
        assert!(replayed >= acks.len());
        // Every counter equals the last index written by its thread (same txn as the key).
        for t in 0..6 {
            if let Some(c) = store.get(&format!("/counter/{round}/{t}")).unwrap() {
                let i: u64 = String::from_utf8(c.value).unwrap().parse().unwrap();
                let key = format!("/crash/{round}/{t}/{i:08}");
                assert_eq!(
                    store.get(&key).unwrap().unwrap().mod_revision,
                    c.mod_revision
                );
                assert!(store
                    .get(&format!("/crash/{round}/{t}/{:08}", i + 1))
                    .unwrap()
                    .is_none());
            }
        }
        // And it accepts new writes.
        let rev = store
            .txn_blocking(|x| {
                x.put("/after-crash", b"ok".to_vec());
                Ok::<_, std::convert::Infallible>(())
            })
            .unwrap()
            .revision;
        assert_eq!(rev, current + 1);
        last_rev = rev;
        eprintln!(
            "round {round}: {} acks, recovered revision {current}",
            acks.len()
        );
    }
}
