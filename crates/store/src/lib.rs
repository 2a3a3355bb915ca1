//! twinstack-store: an embedded, durable, revisioned key-value store with watches, shaped like
//! etcd as kube-apiserver uses it (resourceVersion = revision), on top of redb.
//!
//! # Model
//! - One global revision counter (u64). A fresh store is at revision 1, like etcd. Each
//!   transaction that changes something consumes exactly one revision; every key it writes gets
//!   `mod_revision` = that revision, created keys get `create_revision` = that revision, and each
//!   key has a `version` (1 at creation, +1 per modifying revision, reset by delete).
//! - Every committed revision is appended to a log (its events with previous values), from which
//!   watchers replay before they switch to the live broadcast.
//! - Compaction drops log entries up to a revision; a watch from before it fails with
//!   [`StoreError::Compacted`] (HTTP 410 Gone in the server).
//!
//! # Tables (redb)
//! - `kv`: `&str` key → `&[u8]`: `create_revision u64 LE | mod_revision u64 LE | version u64 LE |
//!   value bytes`.
//! - `log`: `u64` revision → `&[u8]`: commit time (ms), then the revision's events (see
//!   `types::encode_log`).
//! - `meta`: `&str` → `u64`: `revision` (current), `compacted` (compacted revision).
//!
//! # Writes and durability
//! All writes go through one writer thread (redb has a single writer). It drains the queue and
//! runs up to [`StoreOptions::max_batch`] transaction closures inside ONE redb write transaction
//! committed with `Durability::Immediate` (one fsync): a group commit. Each closure gets its own
//! consecutive revision and its writes are buffered in an overlay that is applied only if the
//! closure returns `Ok`, so a failing closure does not affect the others. Callers are answered
//! only after the commit returned, i.e. after the data is on disk. A store in memory
//! ([`Store::open_in_memory`], for `twinstack check`) has no disk: most of its commits skip
//! redb's durable commit (`Durability::None`), one in 64 is durable so redb reclaims pages.

#![warn(missing_docs)]

mod error;
mod metrics;
mod txn;
mod types;
mod watch;
mod writer;

use std::collections::VecDeque;
use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use tokio::sync::{broadcast, oneshot};

pub use error::{StoreError, TxnError};
pub use metrics::{Metrics, MetricsSnapshot};
pub use txn::Txn;
pub use types::{Event, EventKind, KeyValue};
pub use watch::Watcher;

use txn::BaseRead;
use types::decode_log;
use watch::RevisionEvents;
use writer::{Job, TypedJob};

pub(crate) const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
pub(crate) const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
pub(crate) const META_REVISION: &str = "revision";
pub(crate) const META_COMPACTED: &str = "compacted";

/// Tuning of a [`Store`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Automatic compaction keeps at least this many most recent revisions in the log.
    pub keep_revisions: u64,
    /// ... and also every revision committed within this duration.
    pub keep_duration: Duration,
    /// Whether the writer compacts automatically.
    pub auto_compact: bool,
    /// Automatic compaction runs once this many revisions beyond the window have accumulated
    /// (hysteresis, so that not every commit deletes log entries).
    pub compaction_slack: u64,
    /// At most this many log entries are dropped by automatic compaction per group commit.
    pub compaction_chunk: usize,
    /// At most this many transactions go into one group commit.
    pub max_batch: usize,
    /// Revisions a live watcher may fall behind before it is ended with
    /// [`StoreError::WatcherLagged`].
    pub watch_buffer: usize,
    /// redb page cache size in bytes.
    pub cache_size: usize,
    /// Whether each commit is durable (fsync'd) before it is answered; only a store in memory
    /// ([`Store::open_in_memory`]) does without.
    pub durable: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            keep_revisions: 10_000,
            keep_duration: Duration::from_secs(300),
            auto_compact: true,
            compaction_slack: 1_000,
            compaction_chunk: 4_096,
            max_batch: 256,
            watch_buffer: 4_096,
            cache_size: 256 * 1024 * 1024,
            durable: true,
        }
    }
}

/// Creates the database file readable and writable by its owner only (0600), before redb
/// initialises it (redb creates files with the process umask, typically 0644; the store holds
/// secrets). An existing file is left as it is.
fn create_private_file(path: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(StoreError::storage(e)),
        }
    }
    Ok(())
}

/// The outcome of a committed transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed<R> {
    /// What the closure returned.
    pub value: R,
    /// The revision the transaction committed as, or if it changed nothing, the store's
    /// revision after the group commit it ran in.
    pub revision: u64,
    /// Whether it changed anything (and so consumed `revision`).
    pub changed: bool,
}

/// What [`Store::txn`] returns.
pub type TxnResult<R, E> = Result<Committed<R>, TxnError<E>>;

/// One page of a paginated list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// The keys, sorted.
    pub items: Vec<KeyValue>,
    /// The revision of the snapshot read.
    pub revision: u64,
    /// Whether more keys follow under the prefix (continue after the last item's key).
    pub more: bool,
    /// How many keys follow the page under the prefix (etcd's `count` minus the page).
    pub remaining: u64,
}

/// State shared between the handles and the writer thread.
pub(crate) struct Shared {
    pub revision: AtomicU64,
    pub compacted: AtomicU64,
    pub metrics: Arc<Metrics>,
    pub events: broadcast::Sender<Arc<RevisionEvents>>,
    pub options: StoreOptions,
}

struct Inner {
    db: Arc<Database>,
    shared: Arc<Shared>,
    jobs: Option<mpsc::Sender<Job>>,
    writer: Option<JoinHandle<()>>,
    writer_id: ThreadId,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has finished the queued jobs; waiting for it
        // releases the database file so that it can be reopened at once.
        self.jobs.take();
        if let Some(h) = self.writer.take() {
            if std::thread::current().id() != self.writer_id {
                let _ = h.join();
            }
        }
    }
}

/// A handle to the store. Cheap to clone; the store shuts down when the last handle is dropped.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("revision", &self.current_revision())
            .field("compacted", &self.compacted_revision())
            .finish()
    }
}

impl Store {
    /// Creates or opens the store at `path` with default options.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_with(path, StoreOptions::default())
    }

    /// Creates or opens the store at `path`. After a crash, redb recovers the last durable
    /// commit (this may take a while on a large file).
    pub fn open_with(path: &Path, options: StoreOptions) -> Result<Store, StoreError> {
        create_private_file(path)?;
        // A file is always written durably.
        let options = StoreOptions {
            durable: true,
            ..options
        };
        let db = redb::Builder::new()
            .set_cache_size(options.cache_size)
            .create(path)?;
        tracing::debug!(path = %path.display(), "store file opened");
        Store::start(db, options)
    }

    /// A fresh store held in memory only (redb's `InMemoryBackend`): the same tables, revisions,
    /// transactions and watches, gone when the last handle is dropped. For `twinstack check`,
    /// which runs the whole twin without a data directory.
    pub fn open_in_memory(options: StoreOptions) -> Result<Store, StoreError> {
        let options = StoreOptions {
            durable: false,
            ..options
        };
        let db = redb::Builder::new()
            .set_cache_size(options.cache_size)
            .create_with_backend(redb::backends::InMemoryBackend::new())?;
        Store::start(db, options)
    }

    /// Initialises (or reads) the revision counters of an opened database and starts its
    /// writer thread.
    fn start(db: Database, options: StoreOptions) -> Result<Store, StoreError> {
        let w = db.begin_write()?;
        let (revision, compacted) = {
            w.open_table(KV)?;
            w.open_table(LOG)?;
            let mut meta = w.open_table(META)?;
            let revision = meta.get(META_REVISION)?.map(|g| g.value());
            let compacted = meta.get(META_COMPACTED)?.map(|g| g.value());
            let revision = match revision {
                Some(r) => r,
                None => {
                    meta.insert(META_REVISION, 1)?;
                    1
                }
            };
            let compacted = match compacted {
                Some(c) => c,
                None => {
                    meta.insert(META_COMPACTED, 0)?;
                    0
                }
            };
            (revision, compacted)
        };
        w.commit()?;
        let db = Arc::new(db);
        let (events, _) = broadcast::channel(options.watch_buffer.max(1));
        let shared = Arc::new(Shared {
            revision: AtomicU64::new(revision),
            compacted: AtomicU64::new(compacted),
            metrics: Arc::new(Metrics::default()),
            events,
            options,
        });
        let (tx, rx) = mpsc::channel();
        let (wdb, wshared) = (db.clone(), shared.clone());
        let writer = std::thread::Builder::new()
            .name("twinstack-store-writer".into())
            .spawn(move || writer::run(wdb, wshared, rx))
            .map_err(StoreError::storage)?;
        let writer_id = writer.thread().id();
        tracing::debug!(revision, compacted, "store opened");
        Ok(Store {
            inner: Arc::new(Inner {
                db,
                shared,
                jobs: Some(tx),
                writer: Some(writer),
                writer_id,
            }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.shared().options
    }

    /// The counters of this store.
    pub fn metrics(&self) -> &Metrics {
        &self.shared().metrics
    }

    /// The revision of the last durable commit.
    pub fn current_revision(&self) -> u64 {
        self.shared().revision.load(Ordering::SeqCst)
    }

    /// The compacted revision: the log holds no revision `<=` it.
    pub fn compacted_revision(&self) -> u64 {
        self.shared().compacted.load(Ordering::SeqCst)
    }

    fn submit(&self, job: Job) -> Result<(), StoreError> {
        let tx = self.inner.jobs.as_ref().ok_or(StoreError::Closed)?;
        tx.send(job).map_err(|_| StoreError::Closed)
    }

    fn enqueue<F, R, E>(&self, f: F) -> Result<oneshot::Receiver<TxnResult<R, E>>, TxnError<E>>
    where
        F: FnOnce(&mut Txn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Txn(Box::new(TypedJob::new(f, reply))))?;
        Ok(rx)
    }

    /// Runs `f` as one transaction on the writer thread and waits until it is durable.
    ///
    /// `f` runs synchronously (keep it short: it delays the other writers). It sees the
    /// committed state plus its own writes; [`Txn::revision`] is the revision it commits as.
    /// If `f` returns `Err`, panics, or writes nothing, nothing is committed and no revision is
    /// consumed. The caller is answered only after the group commit holding it is on disk. If
    /// the caller stops waiting, the transaction still runs.
    pub async fn txn<F, R, E>(&self, f: F) -> Result<Committed<R>, TxnError<E>>
    where
        F: FnOnce(&mut Txn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
    {
        let rx = self.enqueue(f)?;
        rx.await.map_err(|_| TxnError::Store(StoreError::Closed))?
    }

    /// [`Store::txn`] for synchronous callers (must not be called from an async task).
    pub fn txn_blocking<F, R, E>(&self, f: F) -> Result<Committed<R>, TxnError<E>>
    where
        F: FnOnce(&mut Txn<'_>) -> Result<R, E> + Send + 'static,
        R: Send + 'static,
        E: Send + 'static,
    {
        let rx = self.enqueue(f)?;
        rx.blocking_recv()
            .map_err(|_| TxnError::Store(StoreError::Closed))?
    }

    /// Sets `key` to `value`; returns the revision it committed as.
    pub async fn put(&self, key: &str, value: Vec<u8>) -> Result<u64, StoreError> {
        let key = key.to_string();
        let c = self
            .txn(move |t| {
                t.put(&key, value);
                Ok::<_, std::convert::Infallible>(())
            })
            .await
            .map_err(infallible)?;
        Ok(c.revision)
    }

    /// Deletes `key`; returns its last state and the delete's revision, if it existed.
    pub async fn delete(&self, key: &str) -> Result<Option<(KeyValue, u64)>, StoreError> {
        let key = key.to_string();
        let c = self
            .txn(move |t| Ok::<_, std::convert::Infallible>(t.delete(&key)))
            .await
            .map_err(infallible)?;
        Ok(c.value.map(|prev| (prev, c.revision)))
    }

    /// Drops the log up to and including `revision` (etcd `compact`). Returns the compacted
    /// revision afterwards. Compacting below the current compacted revision is a no-op; beyond
    /// the current revision is [`StoreError::FutureRevision`].
    pub async fn compact(&self, revision: u64) -> Result<u64, StoreError> {
        let (done, rx) = oneshot::channel();
        self.submit(Job::Compact { revision, done })?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    fn read(&self) -> Result<redb::ReadTransaction, StoreError> {
        Ok(self.inner.db.begin_read()?)
    }

    fn snapshot_revision(r: &redb::ReadTransaction) -> Result<(u64, u64), StoreError> {
        let meta = r.open_table(META)?;
        let rev = meta.get(META_REVISION)?.map(|g| g.value()).unwrap_or(1);
        let compacted = meta.get(META_COMPACTED)?.map(|g| g.value()).unwrap_or(0);
        Ok((rev, compacted))
    }

    /// The current state of `key`. Reads are synchronous and do not wait for the writer.
    pub fn get(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        let r = self.read()?;
        let kv = r.open_table(KV)?;
        kv.get_kv(key)
    }

    /// The current state of `key` and the revision of the snapshot it was read from.
    pub fn get_at(&self, key: &str) -> Result<(Option<KeyValue>, u64), StoreError> {
        let r = self.read()?;
        let (rev, _) = Self::snapshot_revision(&r)?;
        let kv = r.open_table(KV)?;
        Ok((kv.get_kv(key)?, rev))
    }

    /// All keys under `prefix`, sorted, from one consistent snapshot, with its revision.
    pub fn list(&self, prefix: &str) -> Result<(Vec<KeyValue>, u64), StoreError> {
        let r = self.read()?;
        let (rev, _) = Self::snapshot_revision(&r)?;
        let kv = r.open_table(KV)?;
        Ok((kv.scan(prefix, Bound::Unbounded, usize::MAX)?, rev))
    }

    /// At most `limit` keys under `prefix` that sort after `start_after` (or from the first key
    /// if `None`), from the current snapshot (pages are not pinned to an older revision).
    pub fn list_from(
        &self,
        prefix: &str,
        start_after: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, StoreError> {
        let r = self.read()?;
        let (revision, _) = Self::snapshot_revision(&r)?;
        let kv = r.open_table(KV)?;
        let start = start_after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut items = kv.scan(prefix, start, limit.saturating_add(1))?;
        let more = items.len() > limit;
        items.truncate(limit);
        Ok(ListPage {
            items,
            revision,
            more,
            remaining: u64::from(more),
        })
    }

    /// A page of the keys under `prefix` from `start` on (inclusive; `None`: from the first), as
    /// they were at `revision` (`None`: the current one), at most `limit` of them (0: no limit),
    /// with the number of keys after the page: what etcd's range request at a revision gives the
    /// apiserver's paginated lists.
    ///
    /// A past revision is rebuilt from the log: a key changed since keeps the value it had
    /// before its first change after `revision` (absent if that change created it). Fails with
    /// [`StoreError::Compacted`] below the compacted revision and [`StoreError::FutureRevision`]
    /// beyond the current one. The cost is one key scan from `start` (for the count) plus the
    /// log since `revision`; only the page's values are copied.
    pub fn list_at(
        &self,
        prefix: &str,
        start: Option<&str>,
        limit: usize,
        revision: Option<u64>,
    ) -> Result<ListPage, StoreError> {
        let r = self.read()?;
        let (current, compacted) = Self::snapshot_revision(&r)?;
        let at = revision.unwrap_or(current);
        if at > current {
            return Err(StoreError::FutureRevision {
                requested: at,
                current,
            });
        }
        if at < compacted {
            return Err(StoreError::Compacted {
                requested: at,
                compacted,
            });
        }
        let from = |key: &str| key.starts_with(prefix) && start.is_none_or(|s| key >= s);
        // Keys changed after `at`, with what they held at `at`.
        let mut past: std::collections::BTreeMap<String, Option<KeyValue>> = Default::default();
        if at < current {
            let log = r.open_table(LOG)?;
            for item in log.range::<u64>((at + 1)..=current)? {
                let (k, v) = item?;
                for e in decode_log(k.value(), v.value())? {
                    if from(&e.kv.key) {
                        past.entry(e.kv.key).or_insert(e.prev);
                    }
                }
            }
        }
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut page = ListPage {
            items: Vec::new(),
            revision: at,
            more: false,
            remaining: 0,
        };
        let take = |kv: Option<KeyValue>, page: &mut ListPage| {
            let Some(kv) = kv else { return };
            if page.items.len() < limit {
                page.items.push(kv);
            } else {
                page.remaining += 1;
            }
        };
        let mut past = past.into_iter().peekable();
        let kv = r.open_table(KV)?;
        let lower = txn::effective_start(prefix, start.map_or(Bound::Unbounded, Bound::Included));
        for item in kv.range::<&str>((lower, Bound::Unbounded))? {
            let (k, v) = item?;
            let key = k.value();
            if !key.starts_with(prefix) {
                break;
            }
            // Keys deleted since `at` that sort before this one.
            while let Some((pk, _)) = past.peek() {
                if pk.as_str() >= key {
                    break;
                }
                let (_, old) = past.next().expect("peeked");
                take(old, &mut page);
            }
            match past.peek() {
                Some((pk, _)) if pk == key => {
                    let (_, old) = past.next().expect("peeked");
                    take(old, &mut page);
                }
                _ if page.items.len() < limit => {
                    take(Some(types::decode_kv(key, v.value())?), &mut page)
                }
                _ => page.remaining += 1,
            }
        }
        for (_, old) in past {
            take(old, &mut page);
        }
        page.more = page.remaining > 0;
        Ok(page)
    }

    /// Number of keys under `prefix` (a key scan without decoding values) and the snapshot
    /// revision.
    pub fn count(&self, prefix: &str) -> Result<(u64, u64), StoreError> {
        let r = self.read()?;
        let (rev, _) = Self::snapshot_revision(&r)?;
        let kv = r.open_table(KV)?;
        if prefix.is_empty() {
            return Ok((kv.len()?, rev));
        }
        let mut n = 0;
        for item in kv.range::<&str>(prefix..)? {
            let (k, _) = item?;
            if !k.value().starts_with(prefix) {
                break;
            }
            n += 1;
        }
        Ok((n, rev))
    }

    /// Watches keys under `prefix`: every event with revision `> after_revision`, replayed from
    /// the log, then live, in revision order, without gaps or duplicates.
    ///
    /// Fails with [`StoreError::Compacted`] if `after_revision` is older than the compacted
    /// revision. A start revision in the future is allowed (events begin after it).
    pub fn watch(&self, prefix: &str, after_revision: u64) -> Result<Watcher, StoreError> {
        // Subscribe before taking the snapshot: any revision the snapshot misses is committed
        // (and so broadcast) after the subscription; revisions in both are skipped by number.
        let rx = self.shared().events.subscribe();
        let r = self.read()?;
        let (rev, compacted) = Self::snapshot_revision(&r)?;
        if after_revision < compacted {
            return Err(StoreError::Compacted {
                requested: after_revision,
                compacted,
            });
        }
        let mut replay = VecDeque::new();
        if after_revision < rev {
            let log = r.open_table(LOG)?;
            for item in log.range::<u64>((after_revision + 1)..=rev)? {
                let (k, v) = item?;
                for e in decode_log(k.value(), v.value())? {
                    if e.kv.key.starts_with(prefix) {
                        replay.push_back(Arc::new(e));
                    }
                }
            }
        }
        Ok(Watcher::new(
            prefix.to_string(),
            replay,
            rx,
            rev.max(after_revision),
            self.shared().metrics.clone(),
        ))
    }
}

fn infallible(e: TxnError<std::convert::Infallible>) -> StoreError {
    match e {
        TxnError::Store(e) => e,
        TxnError::Panicked(m) => StoreError::Storage(format!("panic: {m}")),
        TxnError::Aborted(never) => match never {},
    }
}

#[cfg(test)]
mod tests;
