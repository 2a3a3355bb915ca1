//! The garbage collector: a dependent (pod, ReplicaSet, EndpointSlice, Deployment, Service)
//! whose every owner (of a built-in or a custom kind) is gone
//! (no object of the owner's kind with the owner's name and uid) is deleted in the background,
//! as kube-controller-manager's garbage collector does after a `Background` delete.

use super::{meta, name_of, Ctl, World};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::BTreeSet;

pub async fn sync(ctl: &Ctl, w: &World) {
    // An owner goes with a change the informer sees (or, for kinds it does not watch, is
    // noticed at the next resync); an idle pass over every object would cost O(N log N).
    if w.quiet {
        return;
    }
    let l = &w.lists;
    let mut uids: BTreeSet<&str> = BTreeSet::new();
    let metas = l
        .pods
        .iter()
        .map(|o| &o.metadata)
        .chain(l.services.iter().map(|o| &o.metadata))
        .chain(l.replicasets.iter().map(|o| &o.metadata))
        .chain(l.deployments.iter().map(|o| &o.metadata))
        .chain(l.nodes.iter().map(|o| &o.metadata))
        .chain(l.slices.iter().map(|o| &o.metadata))
        .chain(l.statefulsets.iter().map(|o| &o.metadata))
        .chain(l.daemonsets.iter().map(|o| &o.metadata))
        .chain(l.jobs.iter().map(|o| &o.metadata))
        .chain(l.replicationcontrollers.iter().map(|o| &o.metadata));
    uids.extend(metas.map(|m| name_of(&m.uid)));
    let dependents = l
        .replicasets
        .iter()
        .map(|o| ("apps", "replicasets", &o.metadata))
        .chain(l.pods.iter().map(|o| ("", "pods", &o.metadata)))
        .chain(
            l.slices
                .iter()
                .map(|o| ("discovery.k8s.io", "endpointslices", &o.metadata)),
        )
        // What controllers of custom resources own (a Function's Deployment and Service).
        .chain(
            l.deployments
                .iter()
                .map(|o| ("apps", "deployments", &o.metadata)),
        )
        .chain(l.services.iter().map(|o| ("", "services", &o.metadata)));
    let mut orphans: Vec<(&str, &str, &ObjectMeta)> = Vec::new();
    for (group, plural, m) in dependents {
        let Some(refs) = m.owner_references.as_ref().filter(|r| !r.is_empty()) else {
            continue;
        };
        if m.deletion_timestamp.is_some() {
            continue;
        }
        if refs.iter().all(|r| !owner_exists(ctl, &uids, m, r)) {
            orphans.push((group, plural, m));
        }
    }
    // Concurrent deletes share the store's group commits.
    futures::stream::iter(orphans)
        .for_each_concurrent(64, |(group, plural, m)| async move {
            let _ = ctl.delete(group, plural, m).await;
        })
        .await;
}

/// Whether the owner a reference names exists. Owners of kinds twinstack does not serve are
/// assumed to exist (the collector cannot tell).
fn owner_exists(
    ctl: &Ctl,
    known: &BTreeSet<&str>,
    dependent: &ObjectMeta,
    r: &OwnerReference,
) -> bool {
    if known.contains(r.uid.as_str()) {
        return true;
    }
    let (group, version) = match r.api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", r.api_version.as_str()),
    };
    let kinds = ctl.reg.kinds_for(ctl.rt.name());
    let Some(kind) = kinds.iter().find(|k| {
        k.info().group == group && k.info().version == version && k.info().kind == r.kind
    }) else {
        return true;
    };
    let ns = kind
        .info()
        .namespaced
        .then(|| name_of(&dependent.namespace));
    match ctl.reg.get(&ctl.rt, kind.as_ref(), ns, &r.name) {
        Ok(o) => meta(&o, "uid") == r.uid,
        Err(_) => false,
    }
}
