//! Watchers: replay from the log, then live events from the writer's broadcast.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use crate::error::StoreError;
use crate::metrics::Metrics;
use crate::types::Event;

/// The events of one committed revision, as the writer broadcasts them.
#[derive(Debug)]
pub(crate) struct RevisionEvents {
    pub revision: u64,
    pub events: Vec<Arc<Event>>,
}

/// A stream of the events under a prefix with revisions greater than the start revision, in
/// revision order (and key order within a revision), without gaps or duplicates.
///
/// It first yields the events replayed from the log, then live events. It ends with
/// `Some(Err(StoreError::WatcherLagged))` if it falls more than
/// [`crate::StoreOptions::watch_buffer`] revisions behind the writer (writers never wait for
/// watchers), and with `None` when the store is shut down.
pub struct Watcher {
    prefix: String,
    queue: VecDeque<Arc<Event>>,
    rx: Option<broadcast::Receiver<Arc<RevisionEvents>>>,
    last: u64,
    metrics: Arc<Metrics>,
}

impl Watcher {
    pub(crate) fn new(
        prefix: String,
        replay: VecDeque<Arc<Event>>,
        rx: broadcast::Receiver<Arc<RevisionEvents>>,
        last: u64,
        metrics: Arc<Metrics>,
    ) -> Self {
        metrics.watchers_active.fetch_add(1, Ordering::Relaxed);
        metrics.watchers_started.fetch_add(1, Ordering::Relaxed);
        Watcher {
            prefix,
            queue: replay,
            rx: Some(rx),
            last,
            metrics,
        }
    }

    /// The prefix watched.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The revision up to which this watcher has taken in every event (events may still be
    /// queued, i.e. not yet returned by [`Watcher::next`]). When nothing is queued, a bookmark
    /// at this revision is accurate.
    pub fn seen_revision(&self) -> u64 {
        self.last
    }

    /// Number of events queued and ready to be returned without waiting.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    fn take(&mut self, batch: &RevisionEvents) {
        if batch.revision <= self.last {
            return; // already covered by the replay snapshot
        }
        debug_assert_eq!(batch.revision, self.last + 1, "revisions are dense");
        self.last = batch.revision;
        for e in &batch.events {
            if e.kv.key.starts_with(&self.prefix) {
                self.queue.push_back(e.clone());
            }
        }
    }

    fn lagged(&mut self, missed: u64) -> Option<Result<Arc<Event>, StoreError>> {
        self.rx = None;
        self.queue.clear();
        self.metrics.watchers_lagged.fetch_add(1, Ordering::Relaxed);
        Some(Err(StoreError::WatcherLagged { missed }))
    }

    /// The next event; waits for one. `None` once the watcher has ended.
    pub async fn next(&mut self) -> Option<Result<Arc<Event>, StoreError>> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Some(Ok(e));
            }
            let rx = self.rx.as_mut()?;
            match rx.recv().await {
                Ok(batch) => self.take(&batch),
                Err(RecvError::Lagged(n)) => return self.lagged(n),
                Err(RecvError::Closed) => {
                    self.rx = None;
                    return None;
                }
            }
        }
    }

    /// The next event if one is available now, without waiting: `Ok(None)` if none is ready,
    /// `Err(..)` if the watcher has ended (lagged) and `Ok(None)` forever after the store closed.
    pub fn try_next(&mut self) -> Result<Option<Arc<Event>>, StoreError> {
        loop {
            if let Some(e) = self.queue.pop_front() {
                return Ok(Some(e));
            }
            let Some(rx) = self.rx.as_mut() else {
                return Ok(None);
            };
            match rx.try_recv() {
                Ok(batch) => self.take(&batch),
                Err(TryRecvError::Empty) => return Ok(None),
                Err(TryRecvError::Lagged(n)) => {
                    return self.lagged(n).expect("some").map(Some);
                }
                Err(TryRecvError::Closed) => {
                    self.rx = None;
                    return Ok(None);
                }
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.metrics.watchers_active.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("prefix", &self.prefix)
            .field("seen_revision", &self.last)
            .field("queued", &self.queue.len())
            .field("live", &self.rx.is_some())
            .finish()
    }
}
