//! The DaemonSet and StatefulSet controllers. What they decide is
//! [`twinstack_kube::workloads::daemonset`] and [`twinstack_kube::workloads::statefulset`];
//! here the snapshot is gathered and the plan carried out.

use super::workloads::{create_pods, delete_pods, write_status};
use super::{name_of, Ctl, World};
use k8s_openapi::api::apps::v1::{DaemonSet, StatefulSet};
use k8s_openapi::api::core::v1::Node;
use twinstack_kube::workloads::{daemonset, statefulset};

pub async fn sync(ctl: &Ctl, w: &World) {
    let mut nodes: Option<Vec<Node>> = None;
    for ds in &w.lists.daemonsets {
        if ds.metadata.deletion_timestamp.is_none() {
            let nodes =
                nodes.get_or_insert_with(|| w.lists.nodes.iter().map(|n| Node::clone(n)).collect());
            daemon_set(ctl, w, ds, nodes).await;
        }
    }
    for sts in &w.lists.statefulsets {
        if sts.metadata.deletion_timestamp.is_none() {
            stateful_set(ctl, w, sts).await;
        }
    }
}

async fn daemon_set(ctl: &Ctl, w: &World, ds: &DaemonSet, nodes: &[Node]) {
    let (api_version, kind, component) = ("apps/v1", "DaemonSet", "daemonset-controller");
    let m = &ds.metadata;
    let pods = w.owned_pods(name_of(&m.uid));
    let hash = daemonset::revision_hash(ds);
    let eligible = daemonset::eligible_nodes(ds, nodes, &hash);
    let plan = daemonset::plan(ds, &pods, &eligible, &hash);
    create_pods(ctl, m, api_version, kind, component, plan.create).await;
    delete_pods(ctl, m, api_version, kind, component, &plan.delete).await;
    if let Some(p) = plan.replace {
        let _ = ctl.delete_pod(p).await;
    }
    if let (Ok(stored), Ok(status)) = (serde_json::to_value(ds), serde_json::to_value(plan.status))
    {
        write_status(ctl, "apps", "daemonsets", &stored, status).await;
    }
}

async fn stateful_set(ctl: &Ctl, w: &World, sts: &StatefulSet) {
    let m = &sts.metadata;
    let (name, ns) = (name_of(&m.name), name_of(&m.namespace));
    let pods = w.owned_pods(name_of(&m.uid));
    let plan = statefulset::plan(sts, &pods);
    let event = |reason: &'static str, msg: String| async move {
        ctl.controller_event(
            m,
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
        // `createPersistentVolumeClaims`: the pod's claims first; an existing one is kept.
        let ordinal = pod_name
            .rsplit('-')
            .next()
            .and_then(|o| o.parse::<i64>().ok())
            .unwrap_or(0);
        let mut claims_ready = true;
        for claim in statefulset::claims_for(sts, ordinal) {
            let claim_name = claim.metadata.name.clone().unwrap_or_default();
            let Ok(body) = serde_json::to_value(claim) else {
                continue;
            };
            match ctl
                .create("", "persistentvolumeclaims", Some(ns), body)
                .await
            {
                Ok(_) => {
                    event(
                        "SuccessfulCreate",
                        statefulset::create_claim_message(&claim_name, &pod_name, name),
                    )
                    .await
                }
                Err(s) if s.code == 409 => {}
                Err(_) => claims_ready = false,
            }
        }
        if !claims_ready {
            continue;
        }
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
    if let (Ok(stored), Ok(status)) = (serde_json::to_value(sts), serde_json::to_value(plan.status))
    {
        write_status(ctl, "apps", "statefulsets", &stored, status).await;
    }
}
