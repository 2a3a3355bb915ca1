//! Error types of the store.

use std::fmt;

/// An error of the store itself (storage, compaction, watch).
///
/// It is `Clone` so that one storage failure can be reported to every caller of a group commit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The underlying redb database failed (I/O error, corruption, ...).
    #[error("storage error: {0}")]
    Storage(String),
    /// The stored data could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The requested revision has been compacted away (etcd's `ErrCompacted`, HTTP 410 Gone).
    #[error(
        "mvcc: required revision has been compacted (requested {requested}, compacted {compacted})"
    )]
    Compacted {
        /// The revision the caller asked for.
        requested: u64,
        /// The store's compacted revision at the time of the request.
        compacted: u64,
    },
    /// The requested revision is newer than the store's current revision (etcd's `ErrFutureRev`).
    #[error(
        "mvcc: required revision is a future revision (requested {requested}, current {current})"
    )]
    FutureRevision {
        /// The revision the caller asked for.
        requested: u64,
        /// The store's current revision.
        current: u64,
    },
    /// A watcher fell too far behind the live event stream and was ended.
    #[error("watcher fell behind by {missed} revisions and was closed")]
    WatcherLagged {
        /// How many revisions it missed.
        missed: u64,
    },
    /// The store has been shut down (its writer thread is gone).
    #[error("store is closed")]
    Closed,
}

impl StoreError {
    pub(crate) fn storage(e: impl fmt::Display) -> Self {
        StoreError::Storage(e.to_string())
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::storage(e)
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError
);

/// Why a transaction did not commit.
#[derive(Debug, thiserror::Error)]
pub enum TxnError<E> {
    /// The closure returned `Err`: nothing was committed.
    #[error("transaction aborted: {0}")]
    Aborted(E),
    /// The store failed; nothing from this transaction was committed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The closure panicked; nothing was committed. Carries the panic message.
    #[error("transaction closure panicked: {0}")]
    Panicked(String),
}

impl<E> TxnError<E> {
    /// The closure's own error, if that is why the transaction did not commit.
    pub fn aborted(self) -> Option<E> {
        match self {
            TxnError::Aborted(e) => Some(e),
            _ => None,
        }
    }
}
