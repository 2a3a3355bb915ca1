//! The DaemonSet controller (`pkg/controller/daemon`): one pod per eligible node, pinned by
//! the `matchFields` node affinity `util.ReplaceDaemonSetPodNodeNameNodeAffinity` writes, the
//! tolerations `util.AddOrUpdateDaemonPodTolerations` adds, and rolling replacement one pod at a
//! time once every daemon pod is ready (`maxUnavailable` 1).

use super::{controller_ref, count, pod_from_template, positive, template_hash, PodSummary};
use crate::pod as kpod;
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{
    Node, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod, Toleration,
};
use std::collections::BTreeMap;

pub use super::statefulset::REVISION_HASH;
pub const TEMPLATE_GENERATION: &str = "pod-template-generation";

/// What one pass does for a DaemonSet.
#[derive(Debug, PartialEq)]
pub struct Plan<'a> {
    /// Daemon pods to create, one per eligible node without one.
    pub create: Vec<Pod>,
    /// Pods on nodes that are not eligible, and extra pods on a node (`SuccessfulDelete`).
    pub delete: Vec<&'a PodSummary>,
    /// The outdated pod the rolling update replaces now (no event).
    pub replace: Option<&'a PodSummary>,
    pub status: DaemonSetStatus,
}

/// The tolerations the DaemonSet controller adds to every daemon pod
/// (`AddOrUpdateDaemonPodTolerations`).
const DAEMON_TOLERATIONS: [(&str, &str); 6] = [
    ("node.kubernetes.io/not-ready", "NoExecute"),
    ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"),
    ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"),
    ("node.kubernetes.io/unschedulable", "NoSchedule"),
];

/// The hash that marks the DaemonSet's current template on its pods.
pub fn revision_hash(ds: &DaemonSet) -> String {
    template_hash(ds.spec.as_ref().map(|s| &s.template), None)
}

/// The daemon pod for `node` (`NewPod` plus the node affinity); `node` None gives the pod
/// before it is pinned, which decides whether a node is eligible.
pub fn new_pod(ds: &DaemonSet, node: Option<&str>, hash: &str) -> Pod {
    let mut pod = pod_from_template(
        ds.spec.as_ref().map(|s| &s.template),
        ds.metadata.namespace.as_deref().unwrap_or(""),
        controller_ref("apps/v1", "DaemonSet", &ds.metadata),
    );
    let labels = pod.metadata.labels.get_or_insert_with(Default::default);
    labels.insert(REVISION_HASH.into(), hash.into());
    labels.insert(
        TEMPLATE_GENERATION.into(),
        ds.metadata.generation.unwrap_or(0).to_string(),
    );
    let spec = pod.spec.get_or_insert_with(Default::default);
    let tolerations = spec.tolerations.get_or_insert_with(Default::default);
    for (key, effect) in DAEMON_TOLERATIONS {
        let present = tolerations
            .iter()
            .any(|t| t.key.as_deref() == Some(key) && t.effect.as_deref() == Some(effect));
        if !present {
            tolerations.push(Toleration {
                key: Some(key.into()),
                operator: Some("Exists".into()),
                effect: Some(effect.into()),
                ..Default::default()
            });
        }
    }
    if let Some(node) = node {
        let affinity = spec.affinity.get_or_insert_with(Default::default);
        let na = affinity
            .node_affinity
            .get_or_insert_with(NodeAffinity::default);
        na.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
            node_selector_terms: vec![NodeSelectorTerm {
                match_fields: Some(vec![NodeSelectorRequirement {
                    key: "metadata.name".into(),
                    operator: "In".into(),
                    values: Some(vec![node.into()]),
                }]),
                match_expressions: None,
            }],
        });
    }
    pod
}

/// The nodes whose labels, taints and capacity admit the daemon pod (`NodeShouldRunDaemonPod`).
pub fn eligible_nodes(ds: &DaemonSet, nodes: &[Node], hash: &str) -> Vec<String> {
    let probe = new_pod(ds, None, hash);
    nodes
        .iter()
        .filter(|n| kpod::schedule(&probe, std::slice::from_ref(*n), &BTreeMap::new()).is_ok())
        .filter_map(|n| n.metadata.name.clone())
        .collect()
}

/// One pass of the DaemonSet controller over `ds`, the pods it controls and the names of the
/// nodes that should run it ([`eligible_nodes`]).
pub fn plan<'a>(
    ds: &DaemonSet,
    pods: &[&'a PodSummary],
    eligible: &[String],
    hash: &str,
) -> Plan<'a> {
    let active: Vec<&PodSummary> = pods.iter().copied().filter(|p| p.is_active()).collect();
    let mut by_node: BTreeMap<&str, Vec<&PodSummary>> = BTreeMap::new();
    for p in &active {
        by_node
            .entry(p.pinned_node.as_deref().unwrap_or(""))
            .or_default()
            .push(p);
    }
    let create = eligible
        .iter()
        .filter(|n| !by_node.contains_key(n.as_str()))
        .map(|n| new_pod(ds, Some(n), hash))
        .collect();
    let mut delete = Vec::new();
    for (n, ps) in &by_node {
        let keep = usize::from(eligible.iter().any(|e| e == n));
        delete.extend(ps.iter().skip(keep).copied());
    }
    let current = |p: &PodSummary| p.labels.get(REVISION_HASH).map(String::as_str) == Some(hash);
    let on_delete = ds
        .spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|s| s.type_.as_deref())
        == Some("OnDelete");
    let unavailable =
        active.iter().filter(|p| !p.ready).count() + eligible.len().saturating_sub(by_node.len());
    let replace = if !on_delete && unavailable == 0 {
        active.iter().copied().find(|p| !current(p))
    } else {
        None
    };
    let on_eligible: Vec<&PodSummary> = active
        .iter()
        .copied()
        .filter(|p| p.pinned_node.as_ref().is_some_and(|n| eligible.contains(n)))
        .collect();
    let ready = on_eligible.iter().filter(|p| p.ready).count();
    let status = DaemonSetStatus {
        current_number_scheduled: count(on_eligible.len()),
        desired_number_scheduled: count(eligible.len()),
        number_misscheduled: 0,
        number_ready: count(ready),
        observed_generation: Some(ds.metadata.generation.unwrap_or(0)),
        number_available: positive(ready),
        updated_number_scheduled: positive(on_eligible.iter().filter(|p| current(p)).count()),
        number_unavailable: positive(eligible.len().saturating_sub(ready)),
        collision_count: None,
        conditions: None,
    };
    Plan {
        create,
        delete,
        replace,
        status,
    }
}
