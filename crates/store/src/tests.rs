//! Unit tests of the store.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use proptest::prelude::*;

use super::*;

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("store.redb")).unwrap()
}

fn open_with(dir: &tempfile::TempDir, o: StoreOptions) -> Store {
    Store::open_with(&dir.path().join("store.redb"), o).unwrap()
}

#[derive(Debug, PartialEq)]
struct Refused(&'static str);

async fn next_event(w: &mut Watcher) -> Arc<Event> {
    tokio::time::timeout(Duration::from_secs(10), w.next())
        .await
        .expect("event within 10s")
        .expect("watcher open")
        .expect("no error")
}

/// The in-memory store is the same store: revisions, transactions and watches, no file.
#[tokio::test]
async fn in_memory_store_has_revisions_and_watches() {
    let s = Store::open_in_memory(StoreOptions::default()).unwrap();
    assert_eq!(s.current_revision(), 1);
    let mut w = s.watch("/a", 1).unwrap();
    assert_eq!(s.put("/a/x", b"1".to_vec()).await.unwrap(), 2);
    assert_eq!(s.put("/b", b"2".to_vec()).await.unwrap(), 3);
    let e = next_event(&mut w).await;
    assert_eq!((e.kv.key.as_str(), e.revision), ("/a/x", 2));
    let (kvs, rev) = s.list("/").unwrap();
    assert_eq!((kvs.len(), rev), (2, 3));
    // Past many commits (most of them not durable, every 64th durable): all still there.
    for i in 0..200u32 {
        s.put(&format!("/c/{i:03}"), i.to_le_bytes().to_vec())
            .await
            .unwrap();
    }
    let (kvs, rev) = s.list("/c/").unwrap();
    assert_eq!((kvs.len(), rev), (200, 203));
    assert_eq!(kvs[199].value, 199u32.to_le_bytes().to_vec());
    assert!(!s.options().durable);
    // A second in-memory store is another store.
    let other = Store::open_in_memory(StoreOptions::default()).unwrap();
    assert_eq!(other.get("/a/x").unwrap(), None);
}

#[tokio::test]
async fn crud_and_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    assert_eq!(s.current_revision(), 1);
    assert_eq!(s.compacted_revision(), 0);
    assert_eq!(s.get("/a").unwrap(), None);

    assert_eq!(s.put("/a", b"1".to_vec()).await.unwrap(), 2);
    let a = s.get("/a").unwrap().unwrap();
    assert_eq!(
        (
            a.create_revision,
            a.mod_revision,
            a.version,
            a.value.as_slice()
        ),
        (2, 2, 1, &b"1"[..])
    );

    assert_eq!(s.put("/a", b"2".to_vec()).await.unwrap(), 3);
    let a = s.get("/a").unwrap().unwrap();
    assert_eq!(
        (
            a.create_revision,
            a.mod_revision,
            a.version,
            a.value.as_slice()
        ),
        (2, 3, 2, &b"2"[..])
    );

    assert_eq!(s.put("/b", b"x".to_vec()).await.unwrap(), 4);
    assert_eq!(s.put("/ab", b"y".to_vec()).await.unwrap(), 5);
    let (items, rev) = s.list("/a").unwrap();
    assert_eq!(rev, 5);
    assert_eq!(
        items.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(),
        vec!["/a", "/ab"]
    );
    let (all, _) = s.list("").unwrap();
    assert_eq!(
        all.iter().map(|kv| kv.key.as_str()).collect::<Vec<_>>(),
        vec!["/a", "/ab", "/b"]
    );
    assert_eq!(s.count("/a").unwrap(), (2, 5));
    assert_eq!(s.count("").unwrap(), (3, 5));

    let (prev, rev) = s.delete("/a").await.unwrap().unwrap();
    assert_eq!(
        (prev.value.as_slice(), prev.mod_revision, rev),
        (&b"2"[..], 3, 6)
    );
    assert_eq!(s.get("/a").unwrap(), None);
    // Deleting a missing key changes nothing and consumes no revision.
    assert_eq!(s.delete("/a").await.unwrap(), None);
    assert_eq!(s.current_revision(), 6);
    // Re-creating starts a new life: create_revision and version reset.
    assert_eq!(s.put("/a", b"3".to_vec()).await.unwrap(), 7);
    let a = s.get("/a").unwrap().unwrap();
    assert_eq!((a.create_revision, a.mod_revision, a.version), (7, 7, 1));
    assert_eq!(s.get_at("/a").unwrap().1, 7);
}

#[tokio::test]
async fn pagination() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for i in 0..10 {
        s.put(&format!("/p/{i:02}"), vec![i]).await.unwrap();
    }
    s.put("/q", vec![]).await.unwrap();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = s.list_from("/p/", after.as_deref(), 3).unwrap();
        assert_eq!(page.revision, 12);
        seen.extend(page.items.iter().map(|kv| kv.key.clone()));
        if !page.more {
            break;
        }
        after = page.items.last().map(|kv| kv.key.clone());
    }
    assert_eq!(
        seen,
        (0..10).map(|i| format!("/p/{i:02}")).collect::<Vec<_>>()
    );
    let page = s.list_from("/p/", Some("/p/09"), 3).unwrap();
    assert!(page.items.is_empty() && !page.more);
    let page = s.list_from("/p/", None, 0).unwrap();
    assert!(page.items.is_empty() && page.more);
    // A start key before the prefix starts at the prefix.
    let page = s.list_from("/p/", Some("/a"), 2).unwrap();
    assert_eq!(page.items[0].key, "/p/00");
}

/// Pages at a past revision show the keys as they were then, whatever changed since, and
/// count what follows; compacted and future revisions fail as etcd's range does.
#[tokio::test]
async fn list_at_a_past_revision() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for i in 0..6 {
        s.put(&format!("/p/{i}"), vec![i]).await.unwrap();
    }
    let then = s.current_revision();
    // After `then`: one key changed, one deleted, one created, and a key outside the prefix.
    s.put("/p/1", vec![10]).await.unwrap();
    s.delete("/p/2").await.unwrap();
    s.put("/p/25", vec![25]).await.unwrap();
    s.put("/q", vec![]).await.unwrap();

    let keys = |p: &ListPage| p.items.iter().map(|kv| kv.key.clone()).collect::<Vec<_>>();
    let page = s.list_at("/p/", None, 3, Some(then)).unwrap();
    assert_eq!(keys(&page), ["/p/0", "/p/1", "/p/2"]);
    assert_eq!(page.items[1].value, vec![1]);
    assert_eq!((page.revision, page.more, page.remaining), (then, true, 3));
    let next = s.list_at("/p/", Some("/p/2\0"), 3, Some(then)).unwrap();
    assert_eq!(keys(&next), ["/p/3", "/p/4", "/p/5"]);
    assert!(!next.more);
    // The same pages now.
    let now = s.list_at("/p/", None, 0, None).unwrap();
    assert_eq!(
        keys(&now),
        ["/p/0", "/p/1", "/p/25", "/p/3", "/p/4", "/p/5"]
    );
    assert_eq!(now.items[1].value, vec![10]);
    assert_eq!(now.revision, s.current_revision());
    assert_eq!(
        s.list_at("/p/", None, 0, Some(then + 100)).unwrap_err(),
        StoreError::FutureRevision {
            requested: then + 100,
            current: s.current_revision()
        }
    );
    s.compact(then + 1).await.unwrap();
    assert!(matches!(
        s.list_at("/p/", None, 0, Some(then)),
        Err(StoreError::Compacted { .. })
    ));
    assert_eq!(
        keys(&s.list_at("/p/", None, 0, Some(then + 1)).unwrap()).len(),
        6
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    /// Reading at every past revision matches a model of the key space kept at each revision.
    #[test]
    fn list_at_matches_the_history(ops in proptest::collection::vec((0u8..6, proptest::option::of(0u8..50)), 1..40), limit in 0usize..4) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let s = open(&dir);
            let mut model: BTreeMap<String, Vec<u8>> = BTreeMap::new();
            let mut history = vec![(s.current_revision(), model.clone())];
            for (k, v) in ops {
                let key = format!("/m/{k}");
                match v {
                    Some(v) => { s.put(&key, vec![v]).await.unwrap(); model.insert(key, vec![v]); }
                    None => { s.delete(&key).await.unwrap(); model.remove(&key); }
                }
                history.push((s.current_revision(), model.clone()));
            }
            for (rev, want) in history {
                // Walk all pages at `rev` as a client would.
                let mut got = Vec::new();
                let mut start: Option<String> = None;
                loop {
                    let page = s.list_at("/m/", start.as_deref(), limit, Some(rev)).unwrap();
                    got.extend(page.items.iter().map(|kv| (kv.key.clone(), kv.value.clone())));
                    if !page.more { break; }
                    start = Some(format!("{}\0", page.items.last().unwrap().key));
                }
                let want: Vec<_> = want.into_iter().collect();
                prop_assert_eq!(got, want);
            }
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn failed_or_panicking_closure_commits_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.put("/keep", b"v".to_vec()).await.unwrap();
    let r = s
        .txn(|t| {
            t.put("/x", b"1".to_vec());
            t.delete("/keep");
            Err::<(), _>(Refused("no"))
        })
        .await;
    assert!(matches!(r, Err(TxnError::Aborted(Refused("no")))));
    assert_eq!(s.current_revision(), 2);
    assert_eq!(s.get("/x").unwrap(), None);
    assert!(s.get("/keep").unwrap().is_some());

    let r = s
        .txn(|t| -> Result<(), Refused> {
            t.put("/y", b"1".to_vec());
            panic!("boom in closure");
        })
        .await;
    match r {
        Err(TxnError::Panicked(m)) => assert!(m.contains("boom")),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(s.get("/y").unwrap(), None);
    // The writer survived.
    assert_eq!(s.put("/z", vec![]).await.unwrap(), 3);
    assert_eq!(s.metrics().failed_txns.load(Ordering::Relaxed), 2);
    // A watcher sees only the committed revisions.
    let mut w = s.watch("", 1).unwrap();
    assert_eq!(next_event(&mut w).await.kv.key, "/keep");
    assert_eq!(next_event(&mut w).await.kv.key, "/z");
    assert!(w.try_next().unwrap().is_none());
}

#[tokio::test]
async fn read_your_writes_inside_txn() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    s.put("/r/a", b"a0".to_vec()).await.unwrap();
    s.put("/r/c", b"c0".to_vec()).await.unwrap();
    s.put("/r/d", b"d0".to_vec()).await.unwrap();
    let c = s
        .txn(|t| {
            let rev = t.revision();
            assert_eq!(rev, 5);
            assert_eq!(t.current_revision(), 4);
            assert_eq!(t.get("/r/a").unwrap().version, 1);
            let prev = t.put("/r/a", format!("a@{rev}").into_bytes()).unwrap();
            assert_eq!(prev.value, b"a0");
            let a = t.get("/r/a").unwrap();
            assert_eq!((a.mod_revision, a.version, a.create_revision), (5, 2, 2));
            assert!(t.put("/r/b", b"b".to_vec()).is_none());
            assert_eq!(t.get("/r/b").unwrap().create_revision, 5);
            assert_eq!(t.delete("/r/c").unwrap().value, b"c0");
            assert!(t.get("/r/c").is_none());
            assert!(!t.exists("/r/c"));
            let keys: Vec<String> = t.list("/r/").into_iter().map(|kv| kv.key).collect();
            assert_eq!(keys, vec!["/r/a", "/r/b", "/r/d"]);
            let keys: Vec<String> = t
                .range("/r/", "/r/b", 10)
                .into_iter()
                .map(|kv| kv.key)
                .collect();
            assert_eq!(keys, vec!["/r/b", "/r/d"]);
            assert_eq!(t.range("/r/", "", 2).len(), 2);
            assert_eq!(
                t.first_key_at_or_after("/r/", "/r/c").as_deref(),
                Some("/r/d")
            );
            assert_eq!(t.first_key_at_or_after("/r/", "/r/e"), None);
            // put then delete of a new key is no change at all
            t.put("/r/tmp", vec![]);
            t.delete("/r/tmp");
            Ok::<_, Refused>(rev)
        })
        .await
        .unwrap();
    assert!(c.changed);
    assert_eq!(c.revision, 5);
    assert_eq!(c.value, 5);
    assert_eq!(s.get("/r/a").unwrap().unwrap().value, b"a@5");
    assert_eq!(s.get("/r/b").unwrap().unwrap().mod_revision, 5);
    assert_eq!(s.get("/r/c").unwrap(), None);
    assert_eq!(s.get("/r/tmp").unwrap(), None);
    let mut w = s.watch("/r/", 4).unwrap();
    let evs: Vec<_> = (0..3).map(|_| w.try_next().unwrap().unwrap()).collect();
    assert!(w.try_next().unwrap().is_none());
    assert!(evs.iter().all(|e| e.revision == 5));
    assert_eq!(
        evs.iter()
            .map(|e| (e.kv.key.as_str(), e.kind))
            .collect::<Vec<_>>(),
        vec![
            ("/r/a", EventKind::Put),
            ("/r/b", EventKind::Put),
            ("/r/c", EventKind::Delete)
        ]
    );
    assert!(!evs[0].is_create() && evs[1].is_create());
    assert_eq!(evs[2].prev.as_ref().unwrap().value, b"c0");

    // A transaction that writes nothing consumes no revision.
    let c = s
        .txn(|t| Ok::<_, Refused>(t.get("/r/a").map(|kv| kv.version)))
        .await
        .unwrap();
    assert_eq!((c.value, c.changed, c.revision), (Some(2), false, 5));
    assert_eq!(s.current_revision(), 5);
    assert_eq!(s.metrics().noop_txns.load(Ordering::Relaxed), 1);
    // delete then put of an existing key: recreated (delete + put events at one revision)
    let c = s
        .txn(|t| {
            t.delete("/r/d");
            t.put("/r/d", b"d1".to_vec());
            Ok::<_, Refused>(())
        })
        .await
        .unwrap();
    assert_eq!(c.revision, 6);
    let d = s.get("/r/d").unwrap().unwrap();
    assert_eq!((d.create_revision, d.version), (6, 1));
    let mut w = s.watch("/r/d", 5).unwrap();
    assert_eq!(w.try_next().unwrap().unwrap().kind, EventKind::Delete);
    assert!(w.try_next().unwrap().unwrap().is_create());
}

/// Many concurrent writers: all acknowledged, revisions unique and dense, and they share
/// fsyncs (group commit).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn group_commit_concurrent_writers() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let tasks = 32;
    let per = 40;
    let mut handles = Vec::new();
    for t in 0..tasks {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut revs = Vec::new();
            for i in 0..per {
                let key = format!("/g/{t:03}/{i:03}");
                let c = s
                    .txn(move |x| {
                        let rev = x.revision();
                        x.put(&key, rev.to_le_bytes().to_vec());
                        Ok::<_, Refused>(rev)
                    })
                    .await
                    .unwrap();
                assert!(c.changed);
                assert_eq!(c.value, c.revision);
                // every 5th, a failing transaction in between must not disturb anything
                if i % 5 == 0 {
                    let r = s
                        .txn(move |x| {
                            x.put("/g/poison", vec![]);
                            Err::<(), _>(Refused("x"))
                        })
                        .await;
                    assert!(r.is_err());
                }
                revs.push(c.revision);
            }
            revs
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort_unstable();
    let n = (tasks * per) as u64;
    assert_eq!(
        all,
        (2..2 + n).collect::<Vec<_>>(),
        "dense unique revisions"
    );
    assert_eq!(s.current_revision(), 1 + n);
    let (items, _) = s.list("/g/").unwrap();
    assert_eq!(items.len() as u64, n);
    for kv in &items {
        assert_eq!(kv.value, kv.mod_revision.to_le_bytes());
    }
    assert_eq!(s.get("/g/poison").unwrap(), None);
    let m = s.metrics().snapshot();
    assert_eq!(m.writes, n);
    assert!(m.commits <= n);
    assert_eq!(m.fsyncs, m.commits);
    eprintln!(
        "{n} writes in {} commits, max batch {}",
        m.commits, m.max_batch
    );
}

/// Deterministic group commit: jobs queued behind a slow one go into one redb transaction,
/// each with its own revision and its own failure.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_commit_isolates_failures() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    // A first transaction holds the writer until the others are queued behind it.
    let slow = s
        .enqueue(move |t| {
            started_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            t.put("/b/slow", vec![]);
            Ok::<_, Refused>(())
        })
        .unwrap();
    started_rx.recv().unwrap();
    let mut hs = Vec::new();
    for i in 0..10u8 {
        hs.push(
            s.enqueue(move |t| {
                // Each sees the ones committed before it in the same batch.
                let seen = t.list("/b/ok/").len();
                let kind = if i % 2 == 0 { "ok" } else { "bad" };
                t.put(&format!("/b/{kind}/{i}"), vec![i]);
                if i % 2 == 0 {
                    Ok(seen)
                } else {
                    Err(Refused("odd"))
                }
            })
            .unwrap(),
        );
    }
    release_tx.send(()).unwrap();
    assert_eq!(slow.await.unwrap().unwrap().revision, 2);
    let mut revs = Vec::new();
    for (i, h) in hs.into_iter().enumerate() {
        match h.await.unwrap() {
            Ok(c) => {
                assert_eq!(i % 2, 0);
                assert_eq!(c.value, i / 2);
                revs.push(c.revision);
            }
            Err(TxnError::Aborted(Refused("odd"))) => assert_eq!(i % 2, 1),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(revs, vec![3, 4, 5, 6, 7]);
    assert!(s.list("/b/bad/").unwrap().0.is_empty());
    assert_eq!(s.list("/b/ok/").unwrap().0.len(), 5);
    let m = s.metrics().snapshot();
    assert_eq!(m.max_batch, 10, "queued jobs were batched: {m:?}");
    assert_eq!((m.commits, m.fsyncs, m.writes, m.failed_txns), (2, 2, 6, 5));
}

/// Watchers started at various revisions while writers run see exactly the revisions after
/// their start, in order, without gaps or duplicates.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn watch_replay_then_live_no_gaps_no_dups() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let writers = 8;
    let per = 60u64;
    let total = writers * per;
    let final_rev = 1 + total;
    let mut hs = Vec::new();
    for w in 0..writers {
        let s = s.clone();
        hs.push(tokio::spawn(async move {
            for i in 0..per {
                // alternate prefixes so that filtering matters
                let p = if i % 2 == 0 { "even" } else { "odd" };
                s.put(&format!("/w/{p}/{w}/{i}"), vec![]).await.unwrap();
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut watchers = Vec::new();
    watchers.push((1, s.watch("/w/", 1).unwrap()));
    while s.current_revision() < final_rev {
        let start = s.current_revision();
        watchers.push((start, s.watch("/w/", start).unwrap()));
        // one starting from an old revision: replays the log, then goes live
        let old = start / 2;
        watchers.push((old, s.watch("/w/", old).unwrap()));
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    for h in hs {
        h.await.unwrap();
    }
    let mut filtered = s.watch("/w/even/", 1).unwrap();
    assert!(watchers.len() > 3);
    for (start, mut w) in watchers {
        let mut got = Vec::new();
        while got.last().copied().unwrap_or(start) < final_rev {
            got.push(next_event(&mut w).await.revision);
        }
        // revision 1 is the empty initial revision: it has no events
        assert_eq!(
            got,
            ((start + 1).max(2)..=final_rev).collect::<Vec<_>>(),
            "watch from {start}"
        );
        assert!(w.try_next().unwrap().is_none());
    }
    let mut n = 0;
    while let Some(e) = filtered.try_next().unwrap() {
        assert!(e.kv.key.starts_with("/w/even/"));
        n += 1;
    }
    assert_eq!(n, total / 2);
    assert_eq!(s.metrics().watchers_active.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn compaction_and_compacted_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    for i in 0..10 {
        s.put(&format!("/c/{i}"), vec![]).await.unwrap();
    }
    assert_eq!(s.current_revision(), 11);
    assert_eq!(s.compact(5).await.unwrap(), 5);
    assert_eq!(s.compacted_revision(), 5);
    match s.watch("/c/", 4) {
        Err(StoreError::Compacted {
            requested: 4,
            compacted: 5,
        }) => {}
        other => panic!("expected Compacted, got {other:?}"),
    }
    let mut w = s.watch("/c/", 5).unwrap();
    assert_eq!(w.try_next().unwrap().unwrap().revision, 6);
    // compacting backwards is a no-op; into the future is refused
    assert_eq!(s.compact(3).await.unwrap(), 5);
    assert!(matches!(
        s.compact(12).await,
        Err(StoreError::FutureRevision {
            requested: 12,
            current: 11
        })
    ));
    // compaction does not touch the data nor the revision
    assert_eq!(s.list("/c/").unwrap().0.len(), 10);
    assert_eq!(s.current_revision(), 11);
    assert_eq!(s.metrics().compacted_entries.load(Ordering::Relaxed), 4);
    // a watch from the future waits for it
    let mut f = s.watch("/c/", 12).unwrap();
    s.put("/c/a", vec![]).await.unwrap();
    s.put("/c/b", vec![]).await.unwrap();
    assert_eq!(next_event(&mut f).await.kv.key, "/c/b");
}

#[tokio::test]
async fn automatic_compaction_keeps_window() {
    let dir = tempfile::tempdir().unwrap();
    let o = StoreOptions {
        keep_revisions: 5,
        keep_duration: Duration::ZERO,
        compaction_slack: 0,
        ..Default::default()
    };
    let s = open_with(&dir, o.clone());
    for i in 0..20 {
        s.put(&format!("/a/{i}"), vec![]).await.unwrap();
    }
    assert_eq!(s.current_revision(), 21);
    assert_eq!(s.compacted_revision(), 16);
    assert!(s.watch("", 15).is_err());
    let mut w = s.watch("", 16).unwrap();
    let mut n = 0;
    while w.try_next().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 5);
    drop((w, s));
    // With a time window, nothing recent is compacted.
    let dir = tempfile::tempdir().unwrap();
    let s = open_with(
        &dir,
        StoreOptions {
            keep_duration: Duration::from_secs(60),
            ..o
        },
    );
    for i in 0..20 {
        s.put(&format!("/a/{i}"), vec![]).await.unwrap();
    }
    assert_eq!(s.compacted_revision(), 0);
}

#[tokio::test]
async fn reopen_keeps_revision_data_and_log() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = open(&dir);
        s.put("/k/1", b"one".to_vec()).await.unwrap();
        s.put("/k/2", b"two".to_vec()).await.unwrap();
        s.delete("/k/1").await.unwrap();
        s.compact(2).await.unwrap();
        let clone = s.clone();
        drop(s);
        clone.put("/k/3", b"three".to_vec()).await.unwrap();
    }
    let s = open(&dir);
    assert_eq!(s.current_revision(), 5);
    assert_eq!(s.compacted_revision(), 2);
    assert_eq!(s.get("/k/1").unwrap(), None);
    let k2 = s.get("/k/2").unwrap().unwrap();
    assert_eq!((k2.value.as_slice(), k2.mod_revision), (&b"two"[..], 3));
    let mut w = s.watch("/k/", 2).unwrap();
    let evs: Vec<_> = std::iter::from_fn(|| w.try_next().unwrap()).collect();
    assert_eq!(
        evs.iter().map(|e| (e.revision, e.kind)).collect::<Vec<_>>(),
        vec![
            (3, EventKind::Put),
            (4, EventKind::Delete),
            (5, EventKind::Put)
        ]
    );
    assert_eq!(s.put("/k/4", vec![]).await.unwrap(), 6);
}

#[tokio::test]
async fn slow_watcher_is_ended_not_blocking_writers() {
    let dir = tempfile::tempdir().unwrap();
    let s = open_with(
        &dir,
        StoreOptions {
            watch_buffer: 4,
            ..Default::default()
        },
    );
    let mut slow = s.watch("", 1).unwrap();
    for i in 0..20 {
        s.put(&format!("/s/{i}"), vec![]).await.unwrap();
    }
    match slow.next().await {
        Some(Err(StoreError::WatcherLagged { missed })) => assert!(missed > 0),
        other => panic!("expected lag error, got {other:?}"),
    }
    assert!(slow.next().await.is_none());
    assert_eq!(s.metrics().watchers_lagged.load(Ordering::Relaxed), 1);
    // It can resume from where it got to, like a client re-watching.
    let mut again = s.watch("", 1).unwrap();
    assert_eq!(next_event(&mut again).await.revision, 2);
}

#[tokio::test]
async fn watcher_ends_when_store_closes() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(&dir);
    let mut w = s.watch("", 1).unwrap();
    drop(s);
    assert!(tokio::time::timeout(Duration::from_secs(5), w.next())
        .await
        .unwrap()
        .is_none());
}

// ---------------------------------------------------------------------------------------------
// Model-based property test.

#[derive(Debug, Clone)]
enum Op {
    Put(u8, u8),
    Delete(u8),
    Txn(Vec<(u8, Option<u8>)>, bool),
    Compact,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u8..8, any::<u8>()).prop_map(|(k, v)| Op::Put(k, v)),
        2 => (0u8..8).prop_map(Op::Delete),
        3 => (proptest::collection::vec((0u8..8, proptest::option::of(any::<u8>())), 0..5), any::<bool>())
            .prop_map(|(w, fail)| Op::Txn(w, fail)),
        1 => Just(Op::Compact),
    ]
}

#[derive(Debug, Clone, PartialEq)]
struct ModelKv {
    value: Vec<u8>,
    create: u64,
    modified: u64,
    version: u64,
}

fn key(k: u8) -> String {
    format!("/m/{k}")
}

/// Applies writes (in order, last write per key wins, like the store) to the model.
fn model_txn(
    model: &mut BTreeMap<String, ModelKv>,
    rev: &mut u64,
    writes: &[(u8, Option<u8>)],
) -> bool {
    // Replay sequentially to know the state at each step.
    let mut state: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    let mut recreated: BTreeSet<String> = BTreeSet::new();
    for (k, v) in writes {
        let k = key(*k);
        let cur_exists = match state.get(&k) {
            Some(s) => s.is_some(),
            None => model.contains_key(&k),
        };
        match v {
            Some(v) => {
                if !cur_exists && model.contains_key(&k) {
                    recreated.insert(k.clone());
                }
                state.insert(k, Some(vec![*v]));
            }
            None => {
                state.insert(k, None);
            }
        }
    }
    let next = *rev + 1;
    let mut changed = false;
    for (k, v) in state {
        match v {
            None => {
                if model.remove(&k).is_some() {
                    changed = true;
                }
            }
            Some(value) => {
                changed = true;
                let (create, version) = match model.get(&k) {
                    Some(m) if !recreated.contains(&k) => (m.create, m.version + 1),
                    _ => (next, 1),
                };
                model.insert(
                    k,
                    ModelKv {
                        value,
                        create,
                        modified: next,
                        version,
                    },
                );
            }
        }
    }
    if changed {
        *rev = next;
    }
    changed
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_ops_match_btreemap_model(ops in proptest::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.redb");
        let s = Store::open(&path).unwrap();
        let mut model: BTreeMap<String, ModelKv> = BTreeMap::new();
        let mut rev = 1u64;
        let mut compacted = 0u64;
        for op in &ops {
            match op.clone() {
                Op::Put(k, v) => {
                    model_txn(&mut model, &mut rev, &[(k, Some(v))]);
                    let c = s.txn_blocking(move |t| { t.put(&key(k), vec![v]); Ok::<_, Refused>(()) }).unwrap();
                    prop_assert_eq!(c.revision, rev);
                }
                Op::Delete(k) => {
                    let changed = model_txn(&mut model, &mut rev, &[(k, None)]);
                    let c = s.txn_blocking(move |t| Ok::<_, Refused>(t.delete(&key(k)))).unwrap();
                    prop_assert_eq!(c.changed, changed);
                    prop_assert_eq!(c.value.is_some(), changed);
                }
                Op::Txn(writes, fail) => {
                    let w2 = writes.clone();
                    let r = s.txn_blocking(move |t| {
                        for (k, v) in w2 {
                            match v { Some(v) => { t.put(&key(k), vec![v]); } None => { t.delete(&key(k)); } }
                        }
                        if fail { Err(Refused("fail")) } else { Ok(()) }
                    });
                    if fail {
                        prop_assert!(r.is_err());
                    } else {
                        let changed = model_txn(&mut model, &mut rev, &writes);
                        let c = r.unwrap();
                        prop_assert_eq!(c.changed, changed);
                        prop_assert_eq!(c.revision, rev);
                    }
                }
                Op::Compact => {
                    let target = (compacted + rev) / 2;
                    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                    compacted = compacted.max(target);
                    prop_assert_eq!(rt.block_on(s.compact(target)).unwrap(), compacted);
                }
            }
            prop_assert_eq!(s.current_revision(), rev);
            let (items, at) = s.list("/m/").unwrap();
            prop_assert_eq!(at, rev);
            let got: BTreeMap<String, ModelKv> = items.into_iter().map(|kv| (kv.key, ModelKv {
                value: kv.value, create: kv.create_revision, modified: kv.mod_revision, version: kv.version,
            })).collect();
            prop_assert_eq!(&got, &model);
        }
        // Replaying the whole log from the compacted revision on top of nothing reproduces the
        // keys touched since then; from revision 1 (no compaction) it reproduces everything.
        if compacted == 0 {
            let mut w = s.watch("/m/", 1).unwrap();
            let mut replayed: BTreeMap<String, ModelKv> = BTreeMap::new();
            let mut last = 1;
            while let Some(e) = w.try_next().unwrap() {
                prop_assert!(e.revision >= last);
                last = e.revision;
                match e.kind {
                    EventKind::Put => { replayed.insert(e.kv.key.clone(), ModelKv {
                        value: e.kv.value.clone(), create: e.kv.create_revision, modified: e.kv.mod_revision, version: e.kv.version }); }
                    EventKind::Delete => { prop_assert!(replayed.remove(&e.kv.key).is_some()); }
                }
            }
            prop_assert_eq!(&replayed, &model);
        }
        drop(s);
        // Reopen: same state and revision.
        let s = Store::open(&path).unwrap();
        prop_assert_eq!(s.current_revision(), rev);
        prop_assert_eq!(s.compacted_revision(), compacted);
        prop_assert_eq!(s.list("/m/").unwrap().0.len(), model.len());
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Range reads inside a transaction merge the committed keys with the transaction's own
    /// puts and deletes correctly, for any start key and limit.
    #[test]
    fn txn_range_merges_overlay(
        base in proptest::collection::btree_map(0u8..24, any::<u8>(), 0..16),
        writes in proptest::collection::vec((0u8..24, proptest::option::of(any::<u8>())), 0..16),
        queries in proptest::collection::vec((0u8..26, 0usize..8), 1..8),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("r.redb")).unwrap();
        // keys under the prefix and just outside it on both sides
        let k = |i: u8| format!("/m/{i:02}");
        let base2 = base.clone();
        s.txn_blocking(move |t| {
            t.put("/l", vec![]);
            t.put("/n", vec![]);
            for (i, v) in base2 { t.put(&k(i), vec![v]); }
            Ok::<_, Refused>(())
        }).unwrap();
        let mut model: BTreeMap<String, u8> = base.iter().map(|(i, v)| (k(*i), *v)).collect();
        for (i, v) in &writes {
            match v { Some(v) => { model.insert(k(*i), *v); } None => { model.remove(&k(*i)); } }
        }
        let expected: Vec<Vec<(String, u8)>> = queries.iter().map(|(start, limit)| {
            model.range(k(*start)..).take(*limit).map(|(a, b)| (a.clone(), *b)).collect()
        }).collect();
        let first: Vec<Option<String>> = queries.iter()
            .map(|(start, _)| model.range(k(*start)..).next().map(|(a, _)| a.clone()))
            .collect();
        let all: Vec<(String, u8)> = model.iter().map(|(a, b)| (a.clone(), *b)).collect();
        let r = s.txn_blocking(move |t| {
            for (i, v) in writes {
                match v { Some(v) => { t.put(&k(i), vec![v]); } None => { t.delete(&k(i)); } }
            }
            let got: Vec<Vec<(String, u8)>> = queries.iter().map(|(start, limit)| {
                t.range("/m/", &k(*start), *limit).into_iter().map(|kv| (kv.key, kv.value[0])).collect()
            }).collect();
            let got_first: Vec<Option<String>> = queries.iter()
                .map(|(start, _)| t.first_key_at_or_after("/m/", &k(*start)))
                .collect();
            let got_all: Vec<(String, u8)> = t.list("/m/").into_iter().map(|kv| (kv.key, kv.value[0])).collect();
            let from_empty = t.range("/m/", "", usize::MAX).len();
            Ok::<_, Refused>((got, got_first, got_all, from_empty))
        }).unwrap().value;
        prop_assert_eq!(r.0, expected);
        prop_assert_eq!(r.1, first);
        prop_assert_eq!(r.3, all.len());
        prop_assert_eq!(r.2, all);
    }
}
