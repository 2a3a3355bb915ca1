//! A small, deterministic kube-scheduler: the default Filter plugins in their order
//! (`NodeUnschedulable`, `TaintToleration`, `NodeAffinity` for `nodeSelector` and required
//! node affinity `matchExpressions`, `NodeResourcesFit` pod count), scoring by fewest pods with
//! ties broken by node name (which spreads pods round-robin), and upstream's `FitError` text
//! with the `DefaultPreemption` post-filter message (pkg/scheduler/framework/types.go,
//! pkg/scheduler/framework/plugins/*, pkg/scheduler/framework/preemption/preemption.go).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, NodeSelectorRequirement, Pod, Taint, Toleration};

/// `ErrNoNodesAvailable`.
pub const NO_NODES_AVAILABLE: &str = "no nodes available to schedule pods";
pub const REASON_UNSCHEDULABLE: &str = "node(s) were unschedulable";
pub const REASON_NODE_AFFINITY: &str = "node(s) didn't match Pod's node affinity/selector";
pub const REASON_TOO_MANY_PODS: &str = "Too many pods";
pub const PREEMPTION_NOT_HELPFUL: &str = "Preemption is not helpful for scheduling";
pub const NO_PREEMPTION_VICTIMS: &str = "No preemption victims found for incoming pod";

/// Picks the node for `pod`. `pods_per_node` counts the non-terminal pods bound to each node.
/// A pod with `spec.nodeName` bypasses the scheduler (returned as is). On failure the error
/// is the FailedScheduling message (also the PodScheduled condition message).
pub fn schedule(
    pod: &Pod,
    nodes: &[Node],
    pods_per_node: &BTreeMap<String, usize>,
) -> Result<String, String> {
    let spec = pod.spec.as_ref();
    if let Some(n) = spec
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
    {
        return Ok(n.to_string());
    }
    if nodes.is_empty() {
        return Err(NO_NODES_AVAILABLE.into());
    }
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    // Nodes rejected only for resources could in principle be freed by preemption.
    let mut resolvable = 0usize;
    let mut feasible: Vec<(&str, usize)> = Vec::new();
    for node in nodes {
        let name = node.metadata.name.as_deref().unwrap_or("");
        let load = pods_per_node.get(name).copied().unwrap_or(0);
        match filter(pod, node, load) {
            None => feasible.push((name, load)),
            Some((reason, is_resolvable)) => {
                *reasons.entry(reason).or_default() += 1;
                if is_resolvable {
                    resolvable += 1;
                }
            }
        }
    }
    if let Some((name, _)) = feasible
        .iter()
        .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(b.0)))
    {
        return Ok(name.to_string());
    }
    Err(fit_error(nodes.len(), &reasons, resolvable))
}

/// `FitError.Error()` plus the preemption post-filter message.
fn fit_error(total: usize, reasons: &BTreeMap<String, usize>, resolvable: usize) -> String {
    let mut parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
    parts.sort();
    let mut post: Vec<String> = Vec::new();
    if resolvable > 0 {
        post.push(format!("{resolvable} {NO_PREEMPTION_VICTIMS}"));
    }
    if total - resolvable > 0 {
        post.push(format!("{} {PREEMPTION_NOT_HELPFUL}", total - resolvable));
    }
    post.sort();
    format!(
        "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {}.",
        parts.join(", "),
        post.join(", ")
    )
}

/// The first failing filter for `node`: (reason, resolvable by preemption).
fn filter(pod: &Pod, node: &Node, load: usize) -> Option<(String, bool)> {
    let spec = pod.spec.as_ref();
    let tolerations: &[Toleration] = spec.and_then(|s| s.tolerations.as_deref()).unwrap_or(&[]);
    let nspec = node.spec.as_ref();
    if nspec.and_then(|s| s.unschedulable) == Some(true)
        && !tolerations.iter().any(|t| {
            tolerates(
                t,
                &Taint {
                    key: "node.kubernetes.io/unschedulable".into(),
                    effect: "NoSchedule".into(),
                    ..Default::default()
                },
            )
        })
    {
        return Some((REASON_UNSCHEDULABLE.into(), false));
    }
    for taint in nspec.and_then(|s| s.taints.as_deref()).unwrap_or(&[]) {
        if taint.effect == "PreferNoSchedule" {
            continue;
        }
        if !tolerations.iter().any(|t| tolerates(t, taint)) {
            return Some((
                format!(
                    "node(s) had untolerated taint {{{}: {}}}",
                    taint.key,
                    taint.value.as_deref().unwrap_or("")
                ),
                false,
            ));
        }
    }
    let empty = BTreeMap::new();
    let labels = node.metadata.labels.as_ref().unwrap_or(&empty);
    let selector_ok = spec
        .and_then(|s| s.node_selector.as_ref())
        .map(|sel| sel.iter().all(|(k, v)| labels.get(k) == Some(v)))
        .unwrap_or(true);
    let terms = spec
        .and_then(|s| s.affinity.as_ref())
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .map(|r| r.node_selector_terms.as_slice());
    let affinity_ok = match terms {
        None => true,
        // Terms are ORed; each term's expressions are ANDed; an empty term matches nothing.
        Some(terms) => terms.iter().any(|t| {
            let exprs = t.match_expressions.as_deref().unwrap_or(&[]);
            !exprs.is_empty() && exprs.iter().all(|e| requirement_matches(e, labels))
        }),
    };
    if !selector_ok || !affinity_ok {
        return Some((REASON_NODE_AFFINITY.into(), false));
    }
    let max_pods = node
        .status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get("pods"))
        .and_then(|q| q.0.parse::<usize>().ok())
        .unwrap_or(110);
    if load >= max_pods {
        return Some((REASON_TOO_MANY_PODS.into(), true));
    }
    None
}

fn requirement_matches(e: &NodeSelectorRequirement, labels: &BTreeMap<String, String>) -> bool {
    let values = e.values.as_deref().unwrap_or(&[]);
    let v = labels.get(&e.key);
    match e.operator.as_str() {
        "In" => v.is_some_and(|v| values.contains(v)),
        "NotIn" => !v.is_some_and(|v| values.contains(v)),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        "Gt" | "Lt" => {
            let (Some(l), Some(r)) = (
                v.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|x| x.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if e.operator == "Gt" {
                l > r
            } else {
                l < r
            }
        }
        _ => false,
    }
}

/// `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    let effect = t.effect.as_deref().unwrap_or("");
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match t.operator.as_deref().unwrap_or("Equal") {
        "Exists" => true,
        "Equal" | "" => t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or(""),
        _ => false,
    }
}
