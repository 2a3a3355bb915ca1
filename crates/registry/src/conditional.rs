//! Conditional writes, the one way controllers write objects they read: the write is made only
//! if the stored object is still the one read (same uid and resourceVersion), as a client's
//! update with `metadata.resourceVersion` set is refused with a 409 otherwise. A conflict is not
//! an error to report: the controller's next pass recomputes from the newer object.
//!
//! A write of the whole object (spec and status, as today's controllers compute them) or of
//! the status alone through the status strategy ([`crate::strategy::status`]: the stored spec
//! and generation stay).

use crate::keys::object_key;
use crate::kinds::Kind;
use crate::registry::Registry;
use crate::runtimes::Runtime;
use crate::store_ext::TxnExt;
use crate::strategy::status;
use serde_json::{json, Value};

/// Why a conditional write was not made: the stored object is not the one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Nothing is stored under the object's key any more.
    #[error("the object has been deleted")]
    Gone,
    /// The stored object has another uid or resourceVersion.
    #[error("the object has been modified; please apply your changes to the latest version and try again")]
    Changed,
}

/// Why [`Registry::write_if_unchanged`] (or a variant) did not write.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// The object does not serialize.
    #[error("the object does not encode: {0}")]
    Encode(String),
    /// The store refused the transaction.
    #[error("{0}")]
    Store(String),
}

/// Which part of the stored object a conditional write replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole object, as given.
    Object,
    /// The status: the stored spec and generation are kept (`*StatusStrategy.PrepareForUpdate`).
    Status,
}

fn meta<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
}

/// The precondition: `cur` is stored and has `uid` and `resource_version`.
fn precondition(
    cur: Option<(Option<&str>, Option<&str>)>,
    uid: Option<&str>,
    resource_version: Option<&str>,
) -> Result<(), Conflict> {
    let Some((cur_uid, cur_rv)) = cur else {
        return Err(Conflict::Gone);
    };
    if cur_uid != uid || cur_rv != resource_version {
        return Err(Conflict::Changed);
    }
    Ok(())
}

/// The conditional write inside a transaction: `obj` replaces the object stored under `key`
/// (or its status, by `scope`) if that still has `obj`'s uid and resourceVersion; a write that
/// changes nothing is skipped (no new resourceVersion, no watch event), as the registry's
/// update skips it.
pub fn write_if_unchanged_in_txn(
    txn: &mut dyn TxnExt,
    key: &str,
    mut obj: Value,
    scope: Scope,
) -> Result<(), Conflict> {
    let cur = txn.get_json(key);
    // A missing uid or resourceVersion reads as empty on both sides.
    fn field<'a>(v: &'a Value, f: &str) -> Option<&'a str> {
        Some(meta(v, f).unwrap_or(""))
    }
    precondition(
        cur.as_ref()
            .map(|c| (field(c, "uid"), field(c, "resourceVersion"))),
        field(&obj, "uid"),
        field(&obj, "resourceVersion"),
    )?;
    let cur = cur.expect("checked by the precondition");
    if scope == Scope::Status {
        status::prepare_for_status_update(&mut obj, &cur);
    }
    if cur == obj {
        return Ok(());
    }
    obj["metadata"]["resourceVersion"] = json!(txn.revision().to_string());
    txn.put_json(key, &obj);
    Ok(())
}

fn store_error<E>(e: twinstack_store::TxnError<E>) -> WriteError
where
    WriteError: From<E>,
{
    match e {
        twinstack_store::TxnError::Aborted(e) => e.into(),
        twinstack_store::TxnError::Store(e) => WriteError::Store(e.to_string()),
        twinstack_store::TxnError::Panicked(m) => WriteError::Store(m),
    }
}

impl Registry {
    /// Writes `obj` (or its status, by `scope`) in place of the stored object if that is still
    /// the one `obj` was read from (see [`write_if_unchanged_in_txn`]).
    pub async fn write_if_unchanged(
        &self,
        rt: &Runtime,
        kind: &dyn Kind,
        obj: Value,
        scope: Scope,
    ) -> Result<(), WriteError> {
        let ns = meta(&obj, "namespace").filter(|n| !n.is_empty());
        let key = object_key(rt.name(), kind, ns, meta(&obj, "name").unwrap_or(""));
        self.store
            .txn(move |txn| -> Result<(), Conflict> {
                let txn: &mut dyn TxnExt = txn;
                write_if_unchanged_in_txn(txn, &key, obj, scope)
            })
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    /// [`Registry::write_if_unchanged`] of the whole object, for a typed object, without
    /// building a `Value` of it or of the stored object (an EndpointSlice of 100 endpoints is
    /// ~350 KB as a `Value`). It writes even when nothing changed: telling would take the
    /// `Value`s it avoids.
    pub async fn write_typed_if_unchanged<T>(
        &self,
        rt: &Runtime,
        kind: &dyn Kind,
        mut obj: T,
    ) -> Result<(), WriteError>
    where
        T: k8s_openapi::Metadata<Ty = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta>
            + serde::Serialize
            + Send
            + 'static,
    {
        #[derive(serde::Deserialize)]
        struct Identity {
            metadata: IdentityMeta,
        }
        #[derive(serde::Deserialize)]
        struct IdentityMeta {
            uid: Option<String>,
            #[serde(rename = "resourceVersion")]
            resource_version: Option<String>,
        }
        let m = obj.metadata();
        let ns = m.namespace.as_deref().filter(|n| !n.is_empty());
        let key = object_key(rt.name(), kind, ns, m.name.as_deref().unwrap_or(""));
        self.store
            .txn(move |txn| -> Result<(), WriteError> {
                let txn: &mut dyn TxnExt = txn;
                let cur: Option<Identity> = txn
                    .get_raw(&key)
                    .and_then(|b| serde_json::from_slice(&b).ok());
                let m = obj.metadata_mut();
                precondition(
                    cur.as_ref().map(|c| {
                        (
                            c.metadata.uid.as_deref(),
                            c.metadata.resource_version.as_deref(),
                        )
                    }),
                    m.uid.as_deref(),
                    m.resource_version.as_deref(),
                )?;
                m.resource_version = Some(txn.revision().to_string());
                let bytes =
                    serde_json::to_vec(&obj).map_err(|e| WriteError::Encode(e.to_string()))?;
                txn.put_raw(&key, bytes);
                Ok(())
            })
            .await
            .map(|_| ())
            .map_err(store_error)
    }
}

#[cfg(test)]
mod tests;
