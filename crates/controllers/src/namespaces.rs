//! The namespace controller (pkg/controller/namespace): a `Terminating` namespace's content is
//! deleted through the registry (pods gracefully, objects with finalizers once their
//! controllers let go), its conditions say what remains
//! (`twinstack_kube::namespace::deletion_conditions`), and once nothing is left the `kubernetes`
//! finalizer is removed and the namespace deleted.

use super::{name_of, Ctl, World};
use k8s_openapi::api::core::v1::Namespace;
use serde_json::Value;
use std::collections::BTreeSet;
use twinstack_kube::namespace as kns;
use twinstack_registry::conditional::Scope;
use twinstack_registry::registry::Preconditions;

/// How long after a namespace's deletion its content starts to go. Upstream's controller first
/// discovers every resource of the API (one request per group version) and its queue
/// rate-limits: a client deleting a manifest that holds its own namespace (ingress-nginx's,
/// Argo CD's) deletes the rest of its objects itself before the controller gets to them, and
/// `kubectl delete -f` exits 0. Modelled as two seconds from `deletionTimestamp` (a second's
/// precision), so one to two seconds.
const DISCOVERY: i64 = 2;

pub async fn sync(ctl: &Ctl, w: &World) {
    let now = jiff::Timestamp::now();
    for slim in &w.lists.namespaces {
        let Some(deleted) = &slim.metadata.deletion_timestamp else {
            continue;
        };
        if now.as_second() < deleted.0.as_second() + DISCOVERY {
            continue;
        }
        let name = name_of(&slim.metadata.name).to_string();
        let remaining = empty(ctl, &name).await;
        let Some(ns) = ctl.full_typed::<Namespace>("", "namespaces", &slim.metadata) else {
            continue;
        };
        let ns_kind = ctl.kind("", "namespaces");
        if remaining.is_empty() {
            let mut done = ns.clone();
            kns::finalize(&mut done);
            let Ok(v) = serde_json::to_value(&done) else {
                continue;
            };
            if done != ns
                && ctl
                    .reg
                    .write_if_unchanged(&ctl.rt, ns_kind.as_ref(), v, Scope::Object)
                    .await
                    .is_err()
            {
                continue;
            }
            let pre = Preconditions {
                uid: ns.metadata.uid.clone(),
                ..Default::default()
            };
            let _ = ctl
                .reg
                .delete(ctl.rt.clone(), ns_kind, None, name, pre, false)
                .await;
            continue;
        }
        // Report what remains (only when it changed: the conditions' times would churn).
        let want = kns::deletion_conditions(&remaining, jiff::Timestamp::now());
        let have = ns
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        let same = want.len() == have.len()
            && want
                .iter()
                .zip(&have)
                .all(|(a, b)| a.type_ == b.type_ && a.status == b.status && a.message == b.message);
        if !same {
            let mut n = ns.clone();
            n.status.get_or_insert_with(Default::default).conditions = Some(want);
            if let Ok(v) = serde_json::to_value(&n) {
                let _ = ctl
                    .reg
                    .write_if_unchanged(&ctl.rt, ns_kind.as_ref(), v, Scope::Status)
                    .await;
            }
        }
    }
}

/// Deletes what is in namespace `ns` (each object once: a deleted object that finalizers or
/// graceful deletion keep is not deleted again) and returns (resource, group, count) of what
/// is still there.
async fn empty(ctl: &Ctl, ns: &str) -> Vec<(String, String, usize)> {
    let kinds = ctl.reg.kinds_for(ctl.rt.name());
    let mut seen = BTreeSet::new();
    let mut remaining = Vec::new();
    for kind in kinds.iter().filter(|k| k.info().namespaced) {
        // A custom resource is served once per version: list its storage once.
        let prefix =
            twinstack_registry::keys::collection_prefix(ctl.rt.name(), kind.as_ref(), Some(ns));
        if !seen.insert(prefix.clone()) {
            continue;
        }
        let Ok((kvs, _)) = ctl.reg.store.list(&prefix) else {
            continue;
        };
        if kvs.is_empty() {
            continue;
        }
        for kv in &kvs {
            let Ok(o) = serde_json::from_slice::<Value>(&kv.value) else {
                continue;
            };
            if o.pointer("/metadata/deletionTimestamp").is_some() {
                continue;
            }
            let name = o
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let pre = Preconditions {
                uid: o
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .map(String::from),
                propagation_policy: Some("Background".into()),
                ..Default::default()
            };
            let _ = ctl
                .reg
                .delete(
                    ctl.rt.clone(),
                    kind.clone(),
                    Some(ns.to_string()),
                    name,
                    pre,
                    false,
                )
                .await;
        }
        let left = ctl
            .reg
            .store
            .list(&prefix)
            .map(|(k, _)| k.len())
            .unwrap_or(0);
        if left > 0 {
            let i = kind.info();
            remaining.push((i.plural.to_string(), i.group.to_string(), left));
        }
    }
    remaining
}
