//! The single writer thread: group commit of queued transactions, log append, compaction.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use redb::{Database, Durability, ReadableTable, ReadableTableMetadata};
use tokio::sync::oneshot;

use crate::error::{StoreError, TxnError};
use crate::txn::{apply, Txn};
use crate::types::{encode_log, log_time};
use crate::watch::RevisionEvents;
use crate::{Committed, Shared, KV, LOG, META, META_COMPACTED, META_REVISION};

/// A queued unit of work for the writer.
pub(crate) enum Job {
    Txn(Box<dyn TxnJob>),
    Compact {
        revision: u64,
        done: oneshot::Sender<Result<u64, StoreError>>,
    },
}

/// A type-erased transaction closure with its reply channel.
pub(crate) trait TxnJob: Send {
    /// Runs the closure; true if it returned `Ok`.
    fn run(&mut self, txn: &mut Txn<'_>) -> bool;
    /// Records a storage failure seen by the transaction's reads.
    fn poison(&mut self, e: StoreError);
    /// Whether it ran and did not succeed (closure error, panic, failed read).
    fn failed(&self) -> bool;
    /// Answers the caller: `Ok((revision, changed))` once durable, or the batch's failure.
    fn complete(self: Box<Self>, outcome: Result<(u64, bool), StoreError>);
}

pub(crate) struct TypedJob<F, R, E> {
    f: Option<F>,
    state: Option<Result<R, TxnError<E>>>,
    reply: oneshot::Sender<Result<Committed<R>, TxnError<E>>>,
}

impl<F, R, E> TypedJob<F, R, E> {
    pub(crate) fn new(f: F, reply: oneshot::Sender<Result<Committed<R>, TxnError<E>>>) -> Self {
        TypedJob {
            f: Some(f),
            state: None,
            reply,
        }
    }
}

fn panic_message(p: Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}

impl<F, R, E> TxnJob for TypedJob<F, R, E>
where
    F: FnOnce(&mut Txn<'_>) -> Result<R, E> + Send + 'static,
    R: Send + 'static,
    E: Send + 'static,
{
    fn run(&mut self, txn: &mut Txn<'_>) -> bool {
        let f = self.f.take().expect("a job runs once");
        let (state, ok) = match catch_unwind(AssertUnwindSafe(|| f(txn))) {
            Ok(Ok(r)) => (Ok(r), true),
            Ok(Err(e)) => (Err(TxnError::Aborted(e)), false),
            Err(p) => (Err(TxnError::Panicked(panic_message(p))), false),
        };
        self.state = Some(state);
        ok
    }

    fn poison(&mut self, e: StoreError) {
        self.state = Some(Err(TxnError::Store(e)));
    }

    fn failed(&self) -> bool {
        matches!(self.state, Some(Err(_)))
    }

    fn complete(self: Box<Self>, outcome: Result<(u64, bool), StoreError>) {
        let answer = match (outcome, self.state) {
            (Err(e), _) => Err(TxnError::Store(e)),
            (Ok(_), None) => Err(TxnError::Store(StoreError::Closed)),
            (Ok(_), Some(Err(e))) => Err(e),
            (Ok((revision, changed)), Some(Ok(value))) => Ok(Committed {
                value,
                revision,
                changed,
            }),
        };
        // The caller may have stopped waiting; that is fine.
        let _ = self.reply.send(answer);
    }
}

/// A job of the batch being built, with what it produced.
enum Slot {
    Txn {
        job: Box<dyn TxnJob>,
        revision: Option<u64>,
    },
    Compact {
        revision: u64,
        done: oneshot::Sender<Result<u64, StoreError>>,
        result: Option<Result<u64, StoreError>>,
    },
}

pub(crate) fn run(db: Arc<Database>, shared: Arc<Shared>, rx: mpsc::Receiver<Job>) {
    let max_batch = shared.options.max_batch.max(1);
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        process_batch(&db, &shared, jobs);
    }
    tracing::debug!("store writer thread exiting");
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

struct BatchResult {
    revision: u64,
    compacted: u64,
    published: Vec<Arc<RevisionEvents>>,
}

fn process_batch(db: &Database, shared: &Shared, jobs: Vec<Job>) {
    let m = &shared.metrics;
    let n_txns = jobs.iter().filter(|j| matches!(j, Job::Txn(_))).count() as u64;
    m.max_batch.fetch_max(n_txns, Ordering::Relaxed);
    let mut slots: Vec<Slot> = jobs
        .into_iter()
        .map(|j| match j {
            Job::Txn(job) => Slot::Txn {
                job,
                revision: None,
            },
            Job::Compact { revision, done } => Slot::Compact {
                revision,
                done,
                result: None,
            },
        })
        .collect();

    let outcome = write_batch(db, shared, &mut slots);
    match outcome {
        Ok(b) => {
            shared.revision.store(b.revision, Ordering::SeqCst);
            shared.compacted.store(b.compacted, Ordering::SeqCst);
            for rev in b.published {
                m.writes.fetch_add(1, Ordering::Relaxed);
                m.events
                    .fetch_add(rev.events.len() as u64, Ordering::Relaxed);
                // No receivers is not an error.
                let _ = shared.events.send(rev);
            }
            let current = b.revision;
            for slot in slots {
                match slot {
                    Slot::Txn { job, revision } => {
                        if revision.is_none() {
                            let counter = if job.failed() {
                                &m.failed_txns
                            } else {
                                &m.noop_txns
                            };
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                        job.complete(Ok(revision.map_or((current, false), |r| (r, true))));
                    }
                    Slot::Compact { done, result, .. } => {
                        let _ = done.send(result.unwrap_or(Err(StoreError::Closed)));
                    }
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "store group commit failed; failing {} jobs", slots.len());
            for slot in slots {
                match slot {
                    Slot::Txn { job, .. } => {
                        m.failed_txns.fetch_add(1, Ordering::Relaxed);
                        job.complete(Err(e.clone()));
                    }
                    Slot::Compact { done, .. } => {
                        let _ = done.send(Err(e.clone()));
                    }
                }
            }
        }
    }
}

/// How many commits of a non-durable store run between two durable ones.
const NON_DURABLE_RUN: u64 = 64;

fn write_batch(
    db: &Database,
    shared: &Shared,
    slots: &mut [Slot],
) -> Result<BatchResult, StoreError> {
    let m = &shared.metrics;
    let start_rev = shared.revision.load(Ordering::SeqCst);
    let start_compacted = shared.compacted.load(Ordering::SeqCst);
    let mut rev = start_rev;
    let mut compacted = start_compacted;
    let mut published = Vec::new();
    let now = now_ms();

    let mut w = db.begin_write()?;
    // A store in memory has nothing to make durable: most commits skip redb's durable commit
    // (its pages are reclaimed at the next durable one, one commit in `NON_DURABLE_RUN`).
    let durable = shared.options.durable
        || m.commits
            .load(Ordering::Relaxed)
            .is_multiple_of(NON_DURABLE_RUN);
    w.set_durability(if durable {
        Durability::Immediate
    } else {
        Durability::None
    })?;
    {
        let mut kv = w.open_table(KV)?;
        let mut log = w.open_table(LOG)?;
        let mut meta = w.open_table(META)?;
        for slot in slots.iter_mut() {
            match slot {
                Slot::Txn { job, revision } => {
                    let mut txn = Txn::new(&kv, rev + 1);
                    let ok = job.run(&mut txn);
                    match txn.finish() {
                        Err(e) => job.poison(e),
                        Ok(_) if !ok => {}
                        Ok(writes) => {
                            let events = apply(&mut kv, rev + 1, writes)?;
                            if !events.is_empty() {
                                rev += 1;
                                log.insert(rev, encode_log(now, &events).as_slice())?;
                                *revision = Some(rev);
                                published.push(Arc::new(RevisionEvents {
                                    revision: rev,
                                    events: events.into_iter().map(Arc::new).collect(),
                                }));
                            }
                        }
                    }
                }
                Slot::Compact {
                    revision, result, ..
                } => {
                    let target = *revision;
                    *result = Some(if target > rev {
                        Err(StoreError::FutureRevision {
                            requested: target,
                            current: rev,
                        })
                    } else {
                        if target > compacted {
                            let before = log.len()?;
                            log.retain_in(..=target, |_, _| false)?;
                            m.compacted_entries
                                .fetch_add(before - log.len()?, Ordering::Relaxed);
                            compacted = target;
                        }
                        Ok(compacted)
                    });
                }
            }
        }
        let o = &shared.options;
        if o.auto_compact {
            let target = rev.saturating_sub(o.keep_revisions);
            if target > compacted.saturating_add(o.compaction_slack) {
                let cutoff = now.saturating_sub(o.keep_duration.as_millis() as u64);
                let mut upto = None;
                for item in log
                    .range::<u64>((compacted + 1)..=target)?
                    .take(o.compaction_chunk.max(1))
                {
                    let (r, raw) = item?;
                    // Keep an entry while its age (now - time) is below keep_duration;
                    // with a zero window even an entry of this millisecond may go.
                    if log_time(raw.value())? > cutoff {
                        break;
                    }
                    upto = Some(r.value());
                }
                if let Some(upto) = upto {
                    let before = log.len()?;
                    log.retain_in(..=upto, |_, _| false)?;
                    m.compacted_entries
                        .fetch_add(before - log.len()?, Ordering::Relaxed);
                    compacted = upto;
                }
            }
        }
        if rev != start_rev {
            meta.insert(META_REVISION, rev)?;
        }
        if compacted != start_compacted {
            meta.insert(META_COMPACTED, compacted)?;
        }
    }
    if rev != start_rev || compacted != start_compacted {
        let t = Instant::now();
        w.commit()?;
        m.commit_nanos
            .fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        m.commits.fetch_add(1, Ordering::Relaxed);
        if durable {
            m.fsyncs.fetch_add(1, Ordering::Relaxed);
        }
    } else {
        w.abort()?;
    }
    Ok(BatchResult {
        revision: rev,
        compacted,
        published,
    })
}
