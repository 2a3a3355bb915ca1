//! Counters of the store, plain atomics the server can export.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters (monotonic unless noted). Read them with `Ordering::Relaxed` or [`Metrics::snapshot`].
#[derive(Debug, Default)]
pub struct Metrics {
    /// Transactions that committed a change (each consumed one revision).
    pub writes: AtomicU64,
    /// Transactions whose closure succeeded but changed nothing (no revision consumed).
    pub noop_txns: AtomicU64,
    /// Transactions not committed: closure error, panic, or storage failure.
    pub failed_txns: AtomicU64,
    /// Key changes (events) committed.
    pub events: AtomicU64,
    /// redb write transactions committed (group commits: one holds one or more writes).
    pub commits: AtomicU64,
    /// Durable commits, i.e. fsync rounds (`Durability::Immediate` commits).
    pub fsyncs: AtomicU64,
    /// Total nanoseconds spent in redb `commit()` (the fsync path).
    pub commit_nanos: AtomicU64,
    /// Largest number of transactions seen in one group commit.
    pub max_batch: AtomicU64,
    /// Watchers currently open (a gauge).
    pub watchers_active: AtomicU64,
    /// Watchers ever started.
    pub watchers_started: AtomicU64,
    /// Watchers ended because they fell behind.
    pub watchers_lagged: AtomicU64,
    /// Log entries (revisions) removed by compaction.
    pub compacted_entries: AtomicU64,
}

/// A copy of [`Metrics`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct MetricsSnapshot {
    pub writes: u64,
    pub noop_txns: u64,
    pub failed_txns: u64,
    pub events: u64,
    pub commits: u64,
    pub fsyncs: u64,
    pub commit_nanos: u64,
    pub max_batch: u64,
    pub watchers_active: u64,
    pub watchers_started: u64,
    pub watchers_lagged: u64,
    pub compacted_entries: u64,
}

impl Metrics {
    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        MetricsSnapshot {
            writes: l(&self.writes),
            noop_txns: l(&self.noop_txns),
            failed_txns: l(&self.failed_txns),
            events: l(&self.events),
            commits: l(&self.commits),
            fsyncs: l(&self.fsyncs),
            commit_nanos: l(&self.commit_nanos),
            max_batch: l(&self.max_batch),
            watchers_active: l(&self.watchers_active),
            watchers_started: l(&self.watchers_started),
            watchers_lagged: l(&self.watchers_lagged),
            compacted_entries: l(&self.compacted_entries),
        }
    }
}
