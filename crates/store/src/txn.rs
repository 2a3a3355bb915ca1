//! The transaction handle given to [`crate::Store::txn`] closures, with its write overlay.

use std::collections::BTreeMap;
use std::ops::Bound;

use redb::ReadableTable;

use crate::error::StoreError;
use crate::types::{decode_kv, encode_kv, Event, EventKind, KeyValue, Meta};

pub(crate) type KvTable<'t> = redb::Table<'t, &'static str, &'static [u8]>;

/// Read access to the committed (or batch-applied) state under a transaction.
pub(crate) trait BaseRead {
    fn get_kv(&self, key: &str) -> Result<Option<KeyValue>, StoreError>;
    /// Keys under `prefix` from `start` on (inclusive or exclusive), at most `limit`, sorted.
    fn scan(
        &self,
        prefix: &str,
        start: Bound<&str>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError>;
}

impl<T: ReadableTable<&'static str, &'static [u8]>> BaseRead for T {
    fn get_kv(&self, key: &str) -> Result<Option<KeyValue>, StoreError> {
        match self.get(key)? {
            None => Ok(None),
            Some(raw) => decode_kv(key, raw.value()).map(Some),
        }
    }

    fn scan(
        &self,
        prefix: &str,
        start: Bound<&str>,
        limit: usize,
    ) -> Result<Vec<KeyValue>, StoreError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        let lower = effective_start(prefix, start);
        for item in self.range::<&str>((lower, Bound::Unbounded))? {
            let (k, v) = item?;
            let key = k.value();
            if !key.starts_with(prefix) {
                break;
            }
            out.push(decode_kv(key, v.value())?);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }
}

/// The lower bound of a scan of `prefix` starting at `start`: whichever is greater.
pub(crate) fn effective_start<'a>(prefix: &'a str, start: Bound<&'a str>) -> Bound<&'a str> {
    match start {
        Bound::Included(s) | Bound::Excluded(s) if s < prefix => Bound::Included(prefix),
        Bound::Unbounded => Bound::Included(prefix),
        b => b,
    }
}

/// One key written by a transaction: its state before the transaction and its state now.
#[derive(Debug)]
pub(crate) struct Pending {
    base: Option<KeyValue>,
    value: Option<Vec<u8>>,
    /// The key existed, was deleted and then put again in this transaction.
    recreated: bool,
}

/// A transaction in progress. Reads see the committed state, the writes of transactions
/// committed earlier in the same group commit, and this transaction's own writes.
///
/// Reads never fail from the closure's point of view: if storage fails, the read returns
/// nothing, the failure is recorded, and the transaction is then rejected with
/// [`crate::TxnError::Store`] whatever the closure returns, so no decision taken on a failed
/// read is ever committed.
pub struct Txn<'a> {
    base: &'a dyn BaseRead,
    revision: u64,
    overlay: BTreeMap<String, Pending>,
    error: Option<StoreError>,
}

impl<'a> Txn<'a> {
    pub(crate) fn new(base: &'a dyn BaseRead, revision: u64) -> Self {
        Txn {
            base,
            revision,
            overlay: BTreeMap::new(),
            error: None,
        }
    }

    /// The revision this transaction commits as if it writes anything: every key it writes
    /// gets this `mod_revision` (so the caller can put the resourceVersion into the object).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// The store's revision before this transaction.
    pub fn current_revision(&self) -> u64 {
        self.revision - 1
    }

    fn note<T: Default>(&mut self, r: Result<T, StoreError>) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.error.get_or_insert(e);
                T::default()
            }
        }
    }

    fn view(&self, key: &str, p: &Pending) -> Option<KeyValue> {
        let value = p.value.as_ref()?;
        let (create_revision, version) = match (&p.base, p.recreated) {
            (Some(b), false) => (b.create_revision, b.version + 1),
            _ => (self.revision, 1),
        };
        Some(KeyValue {
            key: key.to_string(),
            value: value.clone(),
            create_revision,
            mod_revision: self.revision,
            version,
        })
    }

    /// The current value of `key` as this transaction sees it.
    pub fn get(&mut self, key: &str) -> Option<KeyValue> {
        if let Some(p) = self.overlay.get(key) {
            return self.view(key, p);
        }
        let r = self.base.get_kv(key);
        self.note(r)
    }

    /// Whether `key` exists as this transaction sees it.
    pub fn exists(&mut self, key: &str) -> bool {
        match self.overlay.get(key) {
            Some(p) => p.value.is_some(),
            None => self.get(key).is_some(),
        }
    }

    /// Sets `key` to `value`; returns the previous state as this transaction saw it.
    pub fn put(&mut self, key: &str, value: Vec<u8>) -> Option<KeyValue> {
        if let Some(p) = self.overlay.get(key) {
            let prev = self.view(key, p);
            let p = self.overlay.get_mut(key).expect("present");
            if p.value.is_none() && p.base.is_some() {
                p.recreated = true;
            }
            p.value = Some(value);
            return prev;
        }
        let r = self.base.get_kv(key);
        let base = self.note(r);
        let prev = base.clone();
        self.overlay.insert(
            key.to_string(),
            Pending {
                base,
                value: Some(value),
                recreated: false,
            },
        );
        prev
    }

    /// Deletes `key`; returns the state it had (as this transaction saw it), if it existed.
    pub fn delete(&mut self, key: &str) -> Option<KeyValue> {
        if let Some(p) = self.overlay.get(key) {
            let prev = self.view(key, p);
            self.overlay.get_mut(key).expect("present").value = None;
            return prev;
        }
        let r = self.base.get_kv(key);
        let base = self.note(r)?;
        let prev = base.clone();
        self.overlay.insert(
            key.to_string(),
            Pending {
                base: Some(base),
                value: None,
                recreated: false,
            },
        );
        Some(prev)
    }

    /// Keys under `prefix`, starting at `start_at` (inclusive; `""` = from the beginning of the
    /// prefix), at most `limit`, sorted by key, as this transaction sees them.
    pub fn range(&mut self, prefix: &str, start_at: &str, limit: usize) -> Vec<KeyValue> {
        self.scan(prefix, Bound::Included(start_at), limit)
    }

    /// All keys under `prefix`, sorted, as this transaction sees them.
    pub fn list(&mut self, prefix: &str) -> Vec<KeyValue> {
        self.scan(prefix, Bound::Unbounded, usize::MAX)
    }

    /// The first existing key under `prefix` that is `>= key` (for allocators that look for a
    /// free slot: a gap before the returned key is free).
    pub fn first_key_at_or_after(&mut self, prefix: &str, key: &str) -> Option<String> {
        self.range(prefix, key, 1)
            .into_iter()
            .next()
            .map(|kv| kv.key)
    }

    fn scan(&mut self, prefix: &str, start: Bound<&str>, limit: usize) -> Vec<KeyValue> {
        if limit == 0 {
            return Vec::new();
        }
        let lower = effective_start(prefix, start);
        let mine: Vec<(&String, &Pending)> = self
            .overlay
            .range::<str, _>((lower, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .collect();
        // Each overlay key can hide at most one base key, so this many base keys suffice.
        let want = limit.saturating_add(mine.len());
        let base = match self.base.scan(prefix, start, want) {
            Ok(b) => b,
            Err(e) => {
                self.error.get_or_insert(e);
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        let mut b = base.into_iter().peekable();
        let mut m = mine.into_iter().peekable();
        while out.len() < limit {
            let take_mine = match (b.peek(), m.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(bk), Some((mk, _))) => mk.as_str() <= bk.key.as_str(),
            };
            if take_mine {
                let (k, p) = m.next().expect("peeked");
                if b.peek().is_some_and(|bk| &bk.key == k) {
                    b.next();
                }
                if let Some(kv) = self.view(k, p) {
                    out.push(kv);
                }
            } else {
                out.push(b.next().expect("peeked"));
            }
        }
        out
    }

    /// Consumes the handle: the recorded storage error, or the writes.
    pub(crate) fn finish(self) -> Result<BTreeMap<String, Pending>, StoreError> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.overlay),
        }
    }
}

/// Applies a finished transaction's writes at `revision`; returns its events (empty when it
/// changed nothing). On error the table may be partly modified: the caller aborts the batch.
pub(crate) fn apply(
    table: &mut KvTable<'_>,
    revision: u64,
    writes: BTreeMap<String, Pending>,
) -> Result<Vec<Event>, StoreError> {
    let mut events = Vec::new();
    for (key, p) in writes {
        match (p.base, p.value) {
            (None, None) => {}
            (Some(b), None) => {
                table.remove(key.as_str())?;
                events.push(delete_event(revision, b));
            }
            (base, Some(value)) => {
                let (meta, prev) = match base {
                    Some(b) if p.recreated => {
                        events.push(delete_event(revision, b));
                        (
                            Meta {
                                create_revision: revision,
                                mod_revision: revision,
                                version: 1,
                            },
                            None,
                        )
                    }
                    Some(b) => (
                        Meta {
                            create_revision: b.create_revision,
                            mod_revision: revision,
                            version: b.version + 1,
                        },
                        Some(b),
                    ),
                    None => (
                        Meta {
                            create_revision: revision,
                            mod_revision: revision,
                            version: 1,
                        },
                        None,
                    ),
                };
                table.insert(key.as_str(), encode_kv(meta, &value).as_slice())?;
                events.push(Event {
                    kind: EventKind::Put,
                    revision,
                    kv: KeyValue {
                        key,
                        value,
                        create_revision: meta.create_revision,
                        mod_revision: revision,
                        version: meta.version,
                    },
                    prev,
                });
            }
        }
    }
    Ok(events)
}

fn delete_event(revision: u64, prev: KeyValue) -> Event {
    Event {
        kind: EventKind::Delete,
        revision,
        kv: KeyValue {
            key: prev.key.clone(),
            value: Vec::new(),
            create_revision: 0,
            mod_revision: revision,
            version: 0,
        },
        prev: Some(prev),
    }
}
