//! The StatefulSet controller (`pkg/controller/statefulset`): pods `<sts>-<ordinal>` with
//! stable hostnames, OrderedReady or Parallel creation, scale down from the highest ordinal,
//! rolling update from the highest ordinal at or above the partition.

use super::{controller_ref, count, pod_from_template, template_hash, PodSummary};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetStatus};
use k8s_openapi::api::core::v1::Pod;
use std::collections::BTreeMap;

pub const REVISION_HASH: &str = "controller-revision-hash";
pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

/// What one pass does for a StatefulSet.
#[derive(Debug, PartialEq)]
pub struct Plan<'a> {
    /// Pods to create (at most one unless `Parallel`).
    pub create: Vec<Pod>,
    /// Pods above `replicas` to delete (scale down), with a `SuccessfulDelete` event.
    pub scale_down: Vec<&'a PodSummary>,
    /// The outdated pod the rolling update replaces now (deleted without an event; the next
    /// passes create it again at the new revision).
    pub replace: Option<&'a PodSummary>,
    pub status: StatefulSetStatus,
}

/// The ordinal of a pod of `sts` (`getOrdinal`).
fn ordinal(sts: &str, pod: &str) -> Option<i64> {
    pod.strip_prefix(sts)?.strip_prefix('-')?.parse().ok()
}

/// The `create Pod ... successful` event message.
pub fn create_message(pod: &str, sts: &str) -> String {
    format!("create Pod {pod} in StatefulSet {sts} successful")
}

/// The `delete Pod ... successful` event message.
pub fn delete_message(pod: &str, sts: &str) -> String {
    format!("delete Pod {pod} in StatefulSet {sts} successful")
}

/// The revision the StatefulSet's pods should be at (`<sts>-<hash of the template>`).
pub fn update_revision(sts: &StatefulSet) -> String {
    let name = sts.metadata.name.as_deref().unwrap_or("");
    let template = sts.spec.as_ref().map(|s| &s.template);
    format!("{name}-{}", template_hash(template, None))
}

/// The pod of ordinal `i` (`newVersionedStatefulSetPod`).
pub fn new_pod(sts: &StatefulSet, i: i64, revision: &str) -> Pod {
    let name = sts.metadata.name.as_deref().unwrap_or("");
    let spec = sts.spec.as_ref();
    let mut pod = pod_from_template(
        spec.map(|s| &s.template),
        sts.metadata.namespace.as_deref().unwrap_or(""),
        controller_ref("apps/v1", "StatefulSet", &sts.metadata),
    );
    let pod_name = format!("{name}-{i}");
    pod.metadata.generate_name = None;
    pod.metadata.name = Some(pod_name.clone());
    let labels = pod.metadata.labels.get_or_insert_with(Default::default);
    labels.insert(REVISION_HASH.into(), revision.into());
    labels.insert(POD_NAME_LABEL.into(), pod_name.clone());
    labels.insert(POD_INDEX_LABEL.into(), i.to_string());
    let ps = pod.spec.get_or_insert_with(Default::default);
    // `updateStorage`: each claim template is the pod's volume of that name, on its claim.
    let volumes = ps.volumes.get_or_insert_with(Vec::new);
    for claim in claims_for(sts, i) {
        let template = sts
            .spec
            .as_ref()
            .and_then(|s| s.volume_claim_templates.as_ref())
            .into_iter()
            .flatten()
            .find(|t| claim_name(t, name, i) == claim.metadata.name.clone().unwrap_or_default());
        let Some(template) = template else { continue };
        let vol_name = template.metadata.name.clone().unwrap_or_default();
        volumes.retain(|v| v.name != vol_name);
        volumes.push(k8s_openapi::api::core::v1::Volume {
            name: vol_name,
            persistent_volume_claim: Some(
                k8s_openapi::api::core::v1::PersistentVolumeClaimVolumeSource {
                    claim_name: claim.metadata.name.clone().unwrap_or_default(),
                    read_only: None,
                },
            ),
            ..Default::default()
        });
    }
    if volumes.is_empty() {
        ps.volumes = None;
    }
    let ps = pod.spec.get_or_insert_with(Default::default);
    ps.hostname = Some(pod_name);
    if let Some(svc) = spec
        .and_then(|s| s.service_name.as_deref())
        .filter(|s| !s.is_empty())
    {
        ps.subdomain = Some(svc.into());
    }
    pod
}

/// `getPersistentVolumeClaimName`: `<template>-<set>-<ordinal>`.
fn claim_name(
    template: &k8s_openapi::api::core::v1::PersistentVolumeClaim,
    set: &str,
    ordinal: i64,
) -> String {
    format!(
        "{}-{set}-{ordinal}",
        template.metadata.name.as_deref().unwrap_or("")
    )
}

/// `getPersistentVolumeClaims`: the claims of ordinal `i`, one per `volumeClaimTemplates`
/// entry, with the template's labels and the set's selector labels. No owner reference: the
/// default retention policy (`whenDeleted`/`whenScaled: Retain`) keeps them after the pod and
/// the set are gone.
pub fn claims_for(
    sts: &StatefulSet,
    i: i64,
) -> Vec<k8s_openapi::api::core::v1::PersistentVolumeClaim> {
    let set = sts.metadata.name.as_deref().unwrap_or("");
    let spec = sts.spec.as_ref();
    let selector = spec
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    spec.and_then(|s| s.volume_claim_templates.as_ref())
        .into_iter()
        .flatten()
        .map(|t| {
            let mut c = t.clone();
            c.metadata = k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(claim_name(t, set, i)),
                namespace: sts.metadata.namespace.clone(),
                labels: {
                    let mut l = t.metadata.labels.clone().unwrap_or_default();
                    l.extend(selector.clone());
                    Some(l).filter(|l| !l.is_empty())
                },
                annotations: t.metadata.annotations.clone(),
                ..Default::default()
            };
            c.status = None;
            c
        })
        .collect()
}

/// The event message of a claim the controller created (`recordClaimEvent`).
pub fn create_claim_message(claim: &str, pod: &str, set: &str) -> String {
    format!("create Claim {claim} Pod {pod} in StatefulSet {set} success")
}

/// One pass of the StatefulSet controller over `sts` and the pods it controls.
pub fn plan<'a>(sts: &StatefulSet, pods: &[&'a PodSummary]) -> Plan<'a> {
    let name = sts.metadata.name.as_deref().unwrap_or("");
    let spec = sts.spec.as_ref();
    let replicas = spec.and_then(|s| s.replicas).unwrap_or(0).max(0) as i64;
    let update_revision = update_revision(sts);
    let parallel = spec.and_then(|s| s.pod_management_policy.as_deref()) == Some("Parallel");
    let strategy = spec.and_then(|s| s.update_strategy.as_ref());
    let partition = strategy
        .and_then(|s| s.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0) as i64;
    let on_delete = strategy.and_then(|s| s.type_.as_deref()) == Some("OnDelete");
    let mut by_ord: BTreeMap<i64, &PodSummary> = BTreeMap::new();
    for p in pods {
        if let Some(o) = ordinal(name, &p.name) {
            by_ord.insert(o, p);
        }
    }
    let healthy = |p: &PodSummary| p.is_active() && p.ready;
    // Create missing ordinals in order, waiting for each to be ready unless Parallel.
    let mut create = Vec::new();
    for i in 0..replicas {
        match by_ord.get(&i) {
            Some(p) if healthy(p) => continue,
            // Terminating (or terminal): wait for it to go, then create it again.
            Some(p) if !p.is_active() => {}
            Some(_) => {}
            None => create.push(new_pod(sts, i, &update_revision)),
        }
        if !parallel {
            break;
        }
    }
    let all_healthy = (0..replicas).all(|i| by_ord.get(&i).is_some_and(|p| healthy(p)));
    // Scale down from the highest ordinal (one at a time, once all below are healthy, unless
    // Parallel).
    let extra: Vec<&PodSummary> = by_ord
        .iter()
        .rev()
        .filter(|(o, p)| **o >= replicas && p.is_active())
        .map(|(_, p)| *p)
        .collect();
    let scale_down: Vec<&PodSummary> = if parallel {
        extra.clone()
    } else if all_healthy {
        extra.iter().take(1).copied().collect()
    } else {
        vec![]
    };
    // Rolling update: the highest outdated ordinal at or above the partition, one at a time.
    let mut replace = None;
    if !on_delete && all_healthy && extra.is_empty() {
        replace = by_ord
            .iter()
            .rev()
            .find(|(o, p)| {
                **o < replicas
                    && **o >= partition
                    && p.labels.get(REVISION_HASH) != Some(&update_revision)
            })
            .map(|(_, p)| *p);
    }
    let active: Vec<&PodSummary> = by_ord.values().copied().filter(|p| p.is_active()).collect();
    let at = |rev: &str| {
        active
            .iter()
            .filter(|p| p.labels.get(REVISION_HASH).map(String::as_str) == Some(rev))
            .count()
    };
    let ready = active.iter().filter(|p| p.ready).count();
    let updated = at(&update_revision);
    let mut current_revision = sts
        .status
        .as_ref()
        .and_then(|s| s.current_revision.clone())
        .unwrap_or_else(|| update_revision.clone());
    let n = replicas as usize;
    if updated == n && ready == n && active.len() == n {
        current_revision = update_revision.clone();
    }
    let current = at(&current_revision);
    let status = StatefulSetStatus {
        replicas: count(active.len()),
        observed_generation: Some(sts.metadata.generation.unwrap_or(0)),
        current_revision: Some(current_revision),
        update_revision: Some(update_revision),
        collision_count: Some(0),
        ready_replicas: Some(count(ready)).filter(|n| *n > 0),
        available_replicas: Some(count(ready)),
        current_replicas: Some(count(current)).filter(|n| *n > 0),
        updated_replicas: Some(count(updated)).filter(|n| *n > 0),
        conditions: None,
    };
    Plan {
        create,
        scale_down,
        replace,
        status,
    }
}
