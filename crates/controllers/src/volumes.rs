//! Dynamic provisioning and binding of PersistentVolumeClaims: what the PV controller
//! (`pkg/controller/volume/persistentvolume`) and the provider's CSI external-provisioner do
//! together on a Gardener shoot. The rules are [`twinstack_kube::storage::claims`]'s (when a
//! claim may be provisioned, the volume and the bound claim); here the snapshot is gathered,
//! the volume created, both objects' phases written and the events recorded. The predicate
//! the kubelet will need ("is every claim of this pod bound") is
//! [`twinstack_kube::storage::claims::pod_claims_bound`].

use super::{name_of, Ctl, World};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use twinstack_kube::storage::claims;

/// The PV controller's component.
const PV_CONTROLLER: &str = "persistentvolume-controller";

/// The node the scheduler picked for a WaitForFirstConsumer claim's first consumer.
const SELECTED_NODE: &str = "volume.kubernetes.io/selected-node";

/// Whether the claim's first consumer is scheduled: the scheduler's `selected-node`
/// annotation, or a pod with a node that names the claim.
fn consumer_scheduled(pods: &[std::sync::Arc<Pod>], pvc: &PersistentVolumeClaim) -> bool {
    if pvc
        .metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(SELECTED_NODE))
    {
        return true;
    }
    let ns = pvc.metadata.namespace.as_deref();
    let name = pvc.metadata.name.as_deref().unwrap_or("");
    pods.iter().any(|p| {
        p.metadata.namespace.as_deref() == ns
            && p.spec
                .as_ref()
                .and_then(|s| s.node_name.as_deref())
                .is_some()
            && claims::pod_claim_names(p).iter().any(|c| c == name)
    })
}

pub async fn sync(ctl: &Ctl, w: &World) {
    for pvc in &w.lists.persistentvolumeclaims {
        let m = &pvc.metadata;
        if m.deletion_timestamp.is_some() || claims::is_bound(pvc) {
            continue;
        }
        let class_name = claims::claim_class(pvc);
        let event = |type_: &'static str, component: String, reason: &'static str, msg: String| async move {
            ctl.controller_event_of_type(
                m,
                "v1",
                "PersistentVolumeClaim",
                &component,
                type_,
                reason,
                &msg,
            )
            .await
        };
        if class_name.is_empty() {
            event(
                "Normal",
                PV_CONTROLLER.into(),
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set".into(),
            )
            .await;
            continue;
        }
        let Some(class) = w
            .lists
            .storageclasses
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(class_name.as_str()))
        else {
            event(
                "Warning",
                PV_CONTROLLER.into(),
                "ProvisioningFailed",
                format!("storageclass.storage.k8s.io \"{class_name}\" not found"),
            )
            .await;
            continue;
        };
        // No driver of this provisioner runs on the shoot: the claim waits for it.
        if class.provisioner != claims::NO_PROVISIONER
            && !twinstack_kube::storage::runs_provisioner(
                ctl.rt.record.provider,
                &class.provisioner,
            )
        {
            event(
                "Normal",
                PV_CONTROLLER.into(),
                "ExternalProvisioning",
                twinstack_kube::storage::external_provisioning_message(&class.provisioner),
            )
            .await;
            continue;
        }
        let scheduled = consumer_scheduled(&w.lists.pods, pvc);
        if !claims::may_provision(pvc, Some(class), scheduled) {
            if class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer") && !scheduled {
                event(
                    "Normal",
                    PV_CONTROLLER.into(),
                    "WaitForFirstConsumer",
                    "waiting for first consumer to be created before binding".into(),
                )
                .await;
            }
            continue;
        }
        let (pv, bound) = claims::provision(pvc, class);
        let pv_name = pv.metadata.name.clone().unwrap_or_default();
        let Ok(body) = serde_json::to_value(&pv) else {
            continue;
        };
        // The volume exists already when an earlier pass created it but lost the claim's write.
        let created = match ctl.create("", "persistentvolumes", None, body).await {
            Ok(v) => Some(v),
            Err(s) if s.code == 409 => None,
            Err(_) => continue,
        };
        if let Some(mut v) = created {
            v["status"] = serde_json::json!({"phase": "Bound"});
            ctl.write("", "persistentvolumes", v).await;
        }
        let Ok(next) = serde_json::to_value(&bound) else {
            continue;
        };
        if ctl.write("", "persistentvolumeclaims", next).await {
            let provisioner = class.provisioner.clone();
            let ns = name_of(&m.namespace);
            let name = name_of(&m.name);
            event(
                "Normal",
                provisioner.clone(),
                "Provisioning",
                format!("External provisioner is provisioning volume for claim \"{ns}/{name}\""),
            )
            .await;
            event(
                "Normal",
                provisioner,
                "ProvisioningSucceeded",
                format!("Successfully provisioned volume {pv_name}"),
            )
            .await;
        }
    }
}
