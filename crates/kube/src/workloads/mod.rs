//! What kube-controller-manager's workload controllers decide, as pure functions of one
//! snapshot: the controller gathers the object, its dependents and the time, calls `plan`, and
//! carries out the plan (creates, deletes, scales, one status write). Nothing here does I/O or
//! draws at random; upstream's random pod-name suffixes are the registry's `generateName`.
//!
//! - [`replicaset`]: `pkg/controller/replicaset` (also runs ReplicationControllers, as
//!   `pkg/controller/replication` wraps it after a conversion).
//! - [`deployment`]: `pkg/controller/deployment` (rolling and Recreate, revision history, status
//!   and conditions).
//! - [`statefulset`]: `pkg/controller/statefulset` (ordinals, OrderedReady/Parallel, partition).
//! - [`daemonset`]: `pkg/controller/daemon` (one pod per eligible node, rolling one at a time).
//! - [`job`]: `pkg/controller/job` (parallelism, completions, the `Complete` conditions).
//!
//! Pods are read as [`PodSummary`], the few fields these controllers look at.

pub mod daemonset;
pub mod deployment;
pub mod job;
pub mod replicaset;
pub mod statefulset;

#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use std::collections::BTreeMap;

/// What a workload controller reads of a pod.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSummary {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    /// `metadata.creationTimestamp` in RFC 3339 (which sorts as the time does).
    pub created: String,
    pub labels: BTreeMap<String, String>,
    /// The uid of the owner reference with `controller: true`.
    pub controller_uid: Option<String>,
    pub node_name: Option<String>,
    /// The node a daemon pod is pinned to: its `matchFields metadata.name In [node]` node
    /// affinity, else `spec.nodeName`.
    pub pinned_node: Option<String>,
    pub phase: String,
    /// `metadata.deletionTimestamp` is set.
    pub deleting: bool,
    /// The Ready condition is True.
    pub ready: bool,
    /// When the Ready condition last became True.
    pub ready_since: Option<jiff::Timestamp>,
}

impl PodSummary {
    /// What the workload controllers read of `pod` (a whole pod or a projection of one).
    pub fn from_pod(pod: &Pod) -> PodSummary {
        let m = &pod.metadata;
        let spec = pod.spec.as_ref();
        let status = pod.status.as_ref();
        let ready_cond = status
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.type_ == "Ready");
        let ready = ready_cond.is_some_and(|c| c.status == "True");
        let node_name = spec
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        PodSummary {
            name: m.name.clone().unwrap_or_default(),
            namespace: m.namespace.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            created: m
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_default(),
            labels: m.labels.clone().unwrap_or_default(),
            controller_uid: m
                .owner_references
                .iter()
                .flatten()
                .find(|r| r.controller == Some(true))
                .map(|r| r.uid.clone()),
            pinned_node: pinned_node(pod).or_else(|| node_name.clone()),
            node_name,
            phase: status.and_then(|s| s.phase.clone()).unwrap_or_default(),
            deleting: m.deletion_timestamp.is_some(),
            ready,
            ready_since: ready_cond
                .and_then(|c| c.last_transition_time.as_ref())
                .map(|t| t.0),
        }
    }

    /// `controller.IsPodActive`: neither being deleted nor terminal.
    pub fn is_active(&self) -> bool {
        !self.deleting && !self.is_terminal()
    }

    /// `podutil.IsPodTerminal`.
    pub fn is_terminal(&self) -> bool {
        matches!(self.phase.as_str(), "Succeeded" | "Failed")
    }

    /// `podutil.IsPodAvailable`: Ready for at least `min_ready_seconds`.
    pub fn is_available(&self, min_ready_seconds: i64, now: jiff::Timestamp) -> bool {
        if !self.ready {
            return false;
        }
        min_ready_seconds <= 0
            || self
                .ready_since
                .is_some_and(|t| t.as_second() + min_ready_seconds <= now.as_second())
    }
}

/// The node of a daemon pod's `matchFields metadata.name In [node]` node affinity.
fn pinned_node(pod: &Pod) -> Option<String> {
    let terms = pod
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?;
    terms
        .node_selector_terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name" && f.operator == "In")
        .and_then(|f| f.values.as_ref()?.first().cloned())
}

/// `metav1.NewControllerRef`: the owner reference a controller puts on what it creates.
pub fn controller_ref(api_version: &str, kind: &str, owner: &ObjectMeta) -> OwnerReference {
    OwnerReference {
        api_version: api_version.into(),
        kind: kind.into(),
        name: owner.name.clone().unwrap_or_default(),
        uid: owner.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// `controller.GetPodFromTemplate`: a pod of `template` owned by `owner`, named by
/// `generateName` `<owner>-` (the registry appends the random suffix).
pub fn pod_from_template(
    template: Option<&PodTemplateSpec>,
    namespace: &str,
    owner: OwnerReference,
) -> Pod {
    let t = template.cloned().unwrap_or_default();
    let tm = t.metadata.unwrap_or_default();
    Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{}-", owner.name)),
            namespace: Some(namespace.into()),
            labels: Some(tm.labels.unwrap_or_default()),
            annotations: Some(tm.annotations.unwrap_or_default()),
            owner_references: Some(vec![owner]),
            ..Default::default()
        },
        spec: t.spec,
        status: None,
    }
}

/// `rand.SafeEncodeString`.
fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| ALPHANUMS[b as usize % ALPHANUMS.len()] as char)
        .collect()
}

/// `controller.ComputeHash`: FNV-32a over the template (its JSON here, spew upstream) and the
/// collision count, safe-encoded.
pub fn template_hash(template: Option<&PodTemplateSpec>, collision: Option<i32>) -> String {
    let mut h: u32 = 0x811c9dc5;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u32;
            h = h.wrapping_mul(0x01000193);
        }
    };
    let json = match template {
        Some(t) => serde_json::to_string(t).unwrap_or_default(),
        None => "{}".into(),
    };
    feed(json.as_bytes());
    if let Some(c) = collision {
        feed(&(c as u32).to_le_bytes());
    }
    safe_encode(&h.to_string())
}

/// Whether every label of `template` is on the pod (`fullyLabeledReplicas`).
fn has_labels(pod: &PodSummary, want: Option<&BTreeMap<String, String>>) -> bool {
    want.into_iter()
        .flatten()
        .all(|(k, v)| pod.labels.get(k) == Some(v))
}

/// A count as the status fields carry it.
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A count that the status carries only when positive (`omitempty` on an `int32`).
fn positive(n: usize) -> Option<i32> {
    Some(count(n)).filter(|n| *n > 0)
}
