//! Where objects live in the store: kube-apiserver's etcd layout
//! (`/registry/<runtime>/<resource>/<namespace>/<name>`), and the timestamps written with them.

use crate::kinds::Kind;

/// Now, as `metadata.creationTimestamp` and the like carry it (RFC 3339, seconds).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `metadata.namespace`/`metadata.name` → store key, like kube-apiserver's etcd layout.
pub fn object_key(rt: &str, kind: &dyn Kind, ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) if kind.info().namespaced => {
            format!("/registry/{rt}/{}/{ns}/{name}", kind.info().storage)
        }
        _ => format!("/registry/{rt}/{}/{name}", kind.info().storage),
    }
}

/// Prefix of a collection (all namespaces when `ns` is `None`).
pub fn collection_prefix(rt: &str, kind: &dyn Kind, ns: Option<&str>) -> String {
    match ns {
        Some(ns) if kind.info().namespaced => {
            format!("/registry/{rt}/{}/{ns}/", kind.info().storage)
        }
        _ => format!("/registry/{rt}/{}/", kind.info().storage),
    }
}
