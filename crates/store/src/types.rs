//! Public value types and their on-disk encoding.

use crate::error::StoreError;

/// A key with its value and etcd-style revision metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    /// The key, e.g. `/registry/<runtime>/pods/default/web-0`.
    pub key: String,
    /// The stored bytes (empty in the `kv` of a [`EventKind::Delete`] event).
    pub value: Vec<u8>,
    /// Revision of the transaction that created the key (0 in a delete event's `kv`).
    pub create_revision: u64,
    /// Revision of the last transaction that modified the key: the resourceVersion.
    pub mod_revision: u64,
    /// Number of modifications since creation (1 after creation, 0 in a delete event's `kv`).
    pub version: u64,
}

/// Kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The key was created or updated.
    Put,
    /// The key was deleted.
    Delete,
}

/// One change of one key at one revision, as a watcher sees it (etcd event with `prev_kv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Put or Delete.
    pub kind: EventKind,
    /// The revision of the transaction that made the change.
    pub revision: u64,
    /// New state. For a delete: the key, empty value, `mod_revision` = `revision`, version 0.
    pub kv: KeyValue,
    /// The state before the change, if the key existed (always present for a delete).
    pub prev: Option<KeyValue>,
}

impl Event {
    /// True for a put that created the key (kube `ADDED`).
    pub fn is_create(&self) -> bool {
        self.kind == EventKind::Put && self.kv.create_revision == self.revision
    }
}

/// The metadata stored in front of every value in the `kv` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta {
    pub create_revision: u64,
    pub mod_revision: u64,
    pub version: u64,
}

pub(crate) const KV_HEADER: usize = 24;

/// `kv` table value: create_revision u64 LE | mod_revision u64 LE | version u64 LE | value bytes.
pub(crate) fn encode_kv(meta: Meta, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(KV_HEADER + value.len());
    out.extend_from_slice(&meta.create_revision.to_le_bytes());
    out.extend_from_slice(&meta.mod_revision.to_le_bytes());
    out.extend_from_slice(&meta.version.to_le_bytes());
    out.extend_from_slice(value);
    out
}

pub(crate) fn decode_kv(key: &str, raw: &[u8]) -> Result<KeyValue, StoreError> {
    if raw.len() < KV_HEADER {
        return Err(StoreError::Corrupt(format!(
            "kv record of {key:?} too short"
        )));
    }
    let u = |i: usize| u64::from_le_bytes(raw[i..i + 8].try_into().expect("8 bytes"));
    Ok(KeyValue {
        key: key.to_string(),
        value: raw[KV_HEADER..].to_vec(),
        create_revision: u(0),
        mod_revision: u(8),
        version: u(16),
    })
}

/// `log` table value: commit time (ms since the Unix epoch, u64 LE) | event count (u32 LE) |
/// events. An event: kind u8 (0 put, 1 delete) | key (u32 LE length + bytes) | for a put:
/// create_revision, version (u64 LE each) and value (u32 LE length + bytes) | prev flag u8 and,
/// if 1, prev create_revision, mod_revision, version (u64 LE each) and value (u32 LE + bytes).
pub(crate) fn encode_log(time_ms: u64, events: &[Event]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        12 + events
            .iter()
            .map(|e| {
                64 + 2 * e.kv.key.len()
                    + e.kv.value.len()
                    + e.prev.as_ref().map_or(0, |p| p.value.len())
            })
            .sum::<usize>(),
    );
    out.extend_from_slice(&time_ms.to_le_bytes());
    out.extend_from_slice(&(events.len() as u32).to_le_bytes());
    for e in events {
        out.push(match e.kind {
            EventKind::Put => 0,
            EventKind::Delete => 1,
        });
        put_bytes(&mut out, e.kv.key.as_bytes());
        if e.kind == EventKind::Put {
            out.extend_from_slice(&e.kv.create_revision.to_le_bytes());
            out.extend_from_slice(&e.kv.version.to_le_bytes());
            put_bytes(&mut out, &e.kv.value);
        }
        match &e.prev {
            None => out.push(0),
            Some(p) => {
                out.push(1);
                out.extend_from_slice(&p.create_revision.to_le_bytes());
                out.extend_from_slice(&p.mod_revision.to_le_bytes());
                out.extend_from_slice(&p.version.to_le_bytes());
                put_bytes(&mut out, &p.value);
            }
        }
    }
    out
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Commit time of a log record without decoding its events.
pub(crate) fn log_time(raw: &[u8]) -> Result<u64, StoreError> {
    Reader {
        raw,
        pos: 0,
        revision: 0,
    }
    .u64()
}

pub(crate) fn decode_log(revision: u64, raw: &[u8]) -> Result<Vec<Event>, StoreError> {
    let mut r = Reader {
        raw,
        pos: 0,
        revision,
    };
    let _time = r.u64()?;
    let n = r.u32()? as usize;
    let mut events = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let kind = match r.u8()? {
            0 => EventKind::Put,
            1 => EventKind::Delete,
            k => return Err(r.err(&format!("unknown event kind {k}"))),
        };
        let key = String::from_utf8(r.bytes()?.to_vec()).map_err(|_| r.err("key is not UTF-8"))?;
        let kv = if kind == EventKind::Put {
            let create_revision = r.u64()?;
            let version = r.u64()?;
            let value = r.bytes()?.to_vec();
            KeyValue {
                key: key.clone(),
                value,
                create_revision,
                mod_revision: revision,
                version,
            }
        } else {
            KeyValue {
                key: key.clone(),
                value: Vec::new(),
                create_revision: 0,
                mod_revision: revision,
                version: 0,
            }
        };
        let prev = match r.u8()? {
            0 => None,
            1 => {
                let create_revision = r.u64()?;
                let mod_revision = r.u64()?;
                let version = r.u64()?;
                let value = r.bytes()?.to_vec();
                Some(KeyValue {
                    key,
                    value,
                    create_revision,
                    mod_revision,
                    version,
                })
            }
            f => return Err(r.err(&format!("bad prev flag {f}"))),
        };
        events.push(Event {
            kind,
            revision,
            kv,
            prev,
        });
    }
    if r.pos != raw.len() {
        return Err(r.err("trailing bytes"));
    }
    Ok(events)
}

struct Reader<'a> {
    raw: &'a [u8],
    pos: usize,
    revision: u64,
}

impl<'a> Reader<'a> {
    fn err(&self, what: &str) -> StoreError {
        StoreError::Corrupt(format!(
            "log record {}: {what} at byte {}",
            self.revision, self.pos
        ))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.raw.len() - self.pos < n {
            return Err(self.err("truncated"));
        }
        let s = &self.raw[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, StoreError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, StoreError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, StoreError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn bytes(&mut self) -> Result<&'a [u8], StoreError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_roundtrip() {
        let events = vec![
            Event {
                kind: EventKind::Put,
                revision: 7,
                kv: KeyValue {
                    key: "/a".into(),
                    value: b"x".to_vec(),
                    create_revision: 3,
                    mod_revision: 7,
                    version: 2,
                },
                prev: Some(KeyValue {
                    key: "/a".into(),
                    value: b"old".to_vec(),
                    create_revision: 3,
                    mod_revision: 3,
                    version: 1,
                }),
            },
            Event {
                kind: EventKind::Delete,
                revision: 7,
                kv: KeyValue {
                    key: "/b".into(),
                    value: vec![],
                    create_revision: 0,
                    mod_revision: 7,
                    version: 0,
                },
                prev: Some(KeyValue {
                    key: "/b".into(),
                    value: b"gone".to_vec(),
                    create_revision: 2,
                    mod_revision: 5,
                    version: 4,
                }),
            },
            Event {
                kind: EventKind::Put,
                revision: 7,
                kv: KeyValue {
                    key: "/c".into(),
                    value: vec![],
                    create_revision: 7,
                    mod_revision: 7,
                    version: 1,
                },
                prev: None,
            },
        ];
        let raw = encode_log(1234, &events);
        assert_eq!(log_time(&raw).unwrap(), 1234);
        assert_eq!(decode_log(7, &raw).unwrap(), events);
        assert!(decode_log(7, &raw[..raw.len() - 1]).is_err());
    }

    #[test]
    fn kv_roundtrip() {
        let m = Meta {
            create_revision: 2,
            mod_revision: 9,
            version: 3,
        };
        let kv = decode_kv("/k", &encode_kv(m, b"val")).unwrap();
        assert_eq!(
            (
                kv.create_revision,
                kv.mod_revision,
                kv.version,
                kv.value.as_slice()
            ),
            (2, 9, 3, &b"val"[..])
        );
        assert!(decode_kv("/k", &[1, 2]).is_err());
    }
}
