//! The DaemonSet and StatefulSet controllers. What they decide is
//! [`twinstack_kube::workloads::daemonset`] and [`twinstack_kube::workloads::statefulset`];
//! here the snapshot is gathered and the plan carried out.

use super::workloads::{create_pods, delete_pods, typed, write_status};
use super::{Ctl, World};
use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::Node;
use serde_json::Value;
use twinstack_kube::workloads::{daemonset, statefulset};

pub async fn sync(ctl: &Ctl, w: &World) {
    let mut nodes: Option<Vec<Node>> = None;
    for v in &w.daemonsets {
        let Some(ds) = typed::<DaemonSet>(v) else {
            continue;
        };
        if ds.metadata.deletion_timestamp.is_none() {
            let nodes = nodes.get_or_insert_with(|| w.nodes.iter().filter_map(typed).collect());
            daemon_set(ctl, w, v, &ds, nodes).await;
        }
    }
    for v in &w.statefulsets {
        let Some(sts) = typed::<StatefulSet>(v) else {
            continue;
        };
        if sts.metadata.deletion_timestamp.is_none() {
            stateful_set(ctl, w, v, &sts).await;
        }
    }
}

const DAEMONSET: (&str, &str, &str) = ("apps/v1", "DaemonSet", "daemonset-controller");

async fn daemon_set(ctl: &Ctl, w: &World, v: &Value, ds: &DaemonSet, nodes: &[Node]) {
    let (api_version, kind, component) = DAEMONSET;
    let pods = w.owned_pods(ds.metadata.uid.as_deref().unwrap_or(""));
    let hash = daemonset::revision_hash(ds);
    let eligible = daemonset::eligible_nodes(ds, nodes, &hash);
    let plan = daemonset::plan(ds, &pods, &eligible, &hash);
    create_pods(ctl, v, api_version, kind, component, plan.create).await;
    delete_pods(ctl, v, api_version, kind, component, &plan.delete).await;
    if let Some(p) = plan.replace {
        let _ = ctl.delete_pod(p).await;
    }
    if let Ok(status) = serde_json::to_value(plan.status) {
        write_status(ctl, "apps", "daemonsets", v, status).await;
    }
}

async fn stateful_set(ctl: &Ctl, w: &World, v: &Value, sts: &StatefulSet) {
    let name = sts.metadata.name.as_deref().unwrap_or("");
    let ns = sts.metadata.namespace.as_deref().unwrap_or("");
    let pods = w.owned_pods(sts.metadata.uid.as_deref().unwrap_or(""));
    let plan = statefulset::plan(sts, &pods);
    let event = |reason: &'static str, msg: String| async move {
        ctl.controller_event(
            v,
            "apps/v1",
            "StatefulSet",
            "statefulset-controller",
            reason,
            &msg,
        )
        .await
    };
    for pod in plan.create {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let Ok(body) = serde_json::to_value(pod) else {
            continue;
        };
        if ctl.create("", "pods", Some(ns), body).await.is_ok() {
            event(
                "SuccessfulCreate",
                statefulset::create_message(&pod_name, name),
            )
            .await;
        }
    }
    for p in &plan.scale_down {
        if ctl.delete_pod(p).await.is_ok() {
            event(
                "SuccessfulDelete",
                statefulset::delete_message(&p.name, name),
            )
            .await;
        }
    }
    if let Some(p) = plan.replace {
        let _ = ctl.delete_pod(p).await;
    }
    if let Ok(status) = serde_json::to_value(plan.status) {
        write_status(ctl, "apps", "statefulsets", v, status).await;
    }
}
