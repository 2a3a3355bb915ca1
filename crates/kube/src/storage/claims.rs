//! PersistentVolumeClaims and PersistentVolumes: v1 defaults (`pkg/apis/core/v1/defaults.go`
//! `SetDefaults_PersistentVolumeClaim(Spec)`, `SetDefaults_PersistentVolume`), the claim rules
//! users meet first (`pkg/apis/core/validation/validation.go`
//! `ValidatePersistentVolumeClaimSpec`), the DefaultStorageClass admission plugin
//! (`plugin/pkg/admission/storage/storageclass/setdefault/admission.go`,
//! `pkg/volume/util/storageclass.go` `GetDefaultClass`), what a dynamic provisioner and the
//! PV controller's binder do once a claim may be provisioned
//! (`pkg/controller/volume/persistentvolume/pv_controller.go` `provisionClaimOperation`,
//! `bindVolumeToClaim`, `bindClaimToVolume`; the CSI external-provisioner names volumes
//! `pvc-<claim uid>`), the printers' access-mode text (`GetAccessModesAsString`), and the
//! predicate the kubelet and scheduler need: is every claim of a pod bound.

use super::is_default;
use k8s_openapi::api::core::v1::{
    CSIPersistentVolumeSource, ObjectReference, PersistentVolume, PersistentVolumeClaim,
    PersistentVolumeClaimStatus, PersistentVolumeSpec, PersistentVolumeStatus, Pod,
};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};

/// The annotation that named a claim's class before `storageClassName` existed.
pub const BETA_STORAGE_CLASS: &str = "volume.beta.kubernetes.io/storage-class";
/// The provisioner of classes that only bind pre-created volumes.
pub const NO_PROVISIONER: &str = "kubernetes.io/no-provisioner";

const ACCESS_MODES: [&str; 4] = [
    "ReadOnlyMany",
    "ReadWriteMany",
    "ReadWriteOnce",
    "ReadWriteOncePod",
];

/// `SetDefaults_PersistentVolumeClaim`: `volumeMode: Filesystem`, phase `Pending`.
pub fn set_claim_defaults(pvc: &mut PersistentVolumeClaim) {
    let spec = pvc.spec.get_or_insert_with(Default::default);
    spec.volume_mode.get_or_insert_with(|| "Filesystem".into());
    let status = pvc.status.get_or_insert_with(Default::default);
    status.phase.get_or_insert_with(|| "Pending".into());
}

/// `SetDefaults_PersistentVolume`: `persistentVolumeReclaimPolicy: Retain`, `volumeMode:
/// Filesystem`, phase `Pending`.
pub fn set_volume_defaults(pv: &mut PersistentVolume) {
    let spec = pv.spec.get_or_insert_with(Default::default);
    spec.persistent_volume_reclaim_policy
        .get_or_insert_with(|| "Retain".into());
    spec.volume_mode.get_or_insert_with(|| "Filesystem".into());
    let status = pv.status.get_or_insert_with(Default::default);
    status.phase.get_or_insert_with(|| "Pending".into());
}

/// `ValidatePersistentVolumeClaimSpec`'s access modes and storage request.
pub fn validate_claim(pvc: &PersistentVolumeClaim) -> ErrorList {
    let mut errs = ErrorList::new();
    let default_spec = Default::default();
    let spec = pvc.spec.as_ref().unwrap_or(&default_spec);
    let p = Path::new("spec");
    let modes = spec.access_modes.as_deref().unwrap_or_default();
    if modes.is_empty() {
        errs.push(FieldError::required(
            &p.child("accessModes"),
            "at least 1 access mode is required",
        ));
    }
    for m in modes {
        if !ACCESS_MODES.contains(&m.as_str()) {
            errs.push(FieldError::not_supported(
                &p.child("accessModes"),
                BadValue::str(m),
                &ACCESS_MODES,
            ));
        }
    }
    let rp = p.child("resources").key("storage");
    match spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
    {
        None => errs.push(FieldError::required(&rp, "")),
        Some(q) => {
            let positive = crate::quantity::Quantity::parse(&q.0).is_ok_and(|v| v.nanos > 0);
            if !positive {
                errs.push(FieldError::invalid(
                    &rp,
                    BadValue::Raw(q.0.clone()),
                    "must be greater than zero",
                ));
            }
        }
    }
    errs
}

/// `GetDefaultClass`: of the classes marked default, the newest (then the first by name).
pub fn default_class(classes: &[StorageClass]) -> Option<&StorageClass> {
    let mut defaults: Vec<&StorageClass> =
        classes.iter().filter(|c| is_default(&c.metadata)).collect();
    defaults.sort_by(|a, b| {
        let t = |c: &StorageClass| c.metadata.creation_timestamp.as_ref().map(|t| t.0);
        t(b).cmp(&t(a))
            .then_with(|| a.metadata.name.cmp(&b.metadata.name))
    });
    defaults.first().copied()
}

/// The DefaultStorageClass admission plugin on a new claim: a claim that names no class (no
/// `storageClassName`, no beta annotation; `""` means "no class" and stays) gets the default.
pub fn admit_claim(pvc: &mut PersistentVolumeClaim, classes: &[StorageClass]) {
    let named = pvc
        .spec
        .as_ref()
        .is_some_and(|s| s.storage_class_name.is_some())
        || pvc
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.contains_key(BETA_STORAGE_CLASS));
    if named {
        return;
    }
    if let Some(c) = default_class(classes) {
        pvc.spec
            .get_or_insert_with(Default::default)
            .storage_class_name = c.metadata.name.clone();
    }
}

/// `GetPersistentVolumeClaimClass`: the beta annotation, else `storageClassName`, else "".
pub fn claim_class(pvc: &PersistentVolumeClaim) -> String {
    pvc.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(BETA_STORAGE_CLASS).cloned())
        .or_else(|| pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone()))
        .unwrap_or_default()
}

/// `GetAccessModesAsString`: `RWO,ROX,RWX,RWOP` in that order.
pub fn access_modes_string(modes: &[String]) -> String {
    [
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    ]
    .iter()
    .filter(|(m, _)| modes.iter().any(|x| x == m))
    .map(|(_, s)| *s)
    .collect::<Vec<_>>()
    .join(",")
}

/// Whether the claim is bound (`status.phase: Bound` and a volume named).
pub fn is_bound(pvc: &PersistentVolumeClaim) -> bool {
    pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound")
        && pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .is_some_and(|v| !v.is_empty())
}

/// The claims a pod's volumes name.
pub fn pod_claim_names(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.clone())
        })
        .collect()
}

/// Whether every claim the pod names exists in its namespace and is bound: what the scheduler
/// waits for before a pod with claims may run (`VolumeBinding` plugin). `claims` may hold
/// claims of any namespace.
pub fn pod_claims_bound(pod: &Pod, claims: &[PersistentVolumeClaim]) -> bool {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("");
    pod_claim_names(pod).iter().all(|name| {
        claims.iter().any(|c| {
            c.metadata.namespace.as_deref() == Some(ns)
                && c.metadata.name.as_deref() == Some(name.as_str())
                && is_bound(c)
        })
    })
}

/// Whether the claim may be provisioned now: it is pending with a class that provisions,
/// and either the class binds immediately or a scheduled pod uses the claim
/// (WaitForFirstConsumer: the scheduler's selected node).
pub fn may_provision(
    pvc: &PersistentVolumeClaim,
    class: Option<&StorageClass>,
    consumer_scheduled: bool,
) -> bool {
    let pending = !is_bound(pvc)
        && pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .unwrap_or("")
            .is_empty();
    let Some(class) = class else {
        return false;
    };
    if !pending || class.provisioner == NO_PROVISIONER {
        return false;
    }
    match class.volume_binding_mode.as_deref() {
        Some("WaitForFirstConsumer") => consumer_scheduled,
        _ => true,
    }
}

/// The volume a CSI provisioner creates for `pvc` of `class`, already bound to it (`claimRef`,
/// phase `Bound`), and the claim bound to it (`volumeName`, phase `Bound`, capacity, access
/// modes, the binder's annotations).
pub fn provision(
    pvc: &PersistentVolumeClaim,
    class: &StorageClass,
) -> (PersistentVolume, PersistentVolumeClaim) {
    let uid = pvc.metadata.uid.clone().unwrap_or_default();
    let name = format!("pvc-{uid}");
    let spec = pvc.spec.clone().unwrap_or_default();
    let storage = spec
        .resources
        .as_ref()
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage").cloned());
    let capacity: BTreeMap<_, _> = storage
        .into_iter()
        .map(|q| ("storage".to_string(), q))
        .collect();
    let pv = PersistentVolume {
        metadata: ObjectMeta {
            name: Some(name.clone()),
            annotations: Some(BTreeMap::from([
                (
                    "pv.kubernetes.io/provisioned-by".into(),
                    class.provisioner.clone(),
                ),
                (
                    "volume.kubernetes.io/provisioner-deletion-secret-name".into(),
                    String::new(),
                ),
                (
                    "volume.kubernetes.io/provisioner-deletion-secret-namespace".into(),
                    String::new(),
                ),
            ])),
            // Upstream's `kubernetes.io/pv-protection` and the provisioner's finalizer are left
            // out: nothing here removes them, so a delete would never finish.
            ..Default::default()
        },
        spec: Some(PersistentVolumeSpec {
            access_modes: spec.access_modes.clone(),
            capacity: Some(capacity.clone()),
            claim_ref: Some(ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("PersistentVolumeClaim".into()),
                name: pvc.metadata.name.clone(),
                namespace: pvc.metadata.namespace.clone(),
                uid: pvc.metadata.uid.clone(),
                resource_version: pvc.metadata.resource_version.clone(),
                field_path: None,
            }),
            csi: Some(CSIPersistentVolumeSource {
                driver: class.provisioner.clone(),
                // An EBS-like handle from the claim's uid (deterministic).
                volume_handle: format!(
                    "vol-{}",
                    uid.chars()
                        .filter(|c| *c != '-')
                        .take(17)
                        .collect::<String>()
                ),
                fs_type: Some("ext4".into()),
                volume_attributes: Some(BTreeMap::from([(
                    "storage.kubernetes.io/csiProvisionerIdentity".into(),
                    class.provisioner.clone(),
                )])),
                ..Default::default()
            }),
            persistent_volume_reclaim_policy: Some(
                class
                    .reclaim_policy
                    .clone()
                    .unwrap_or_else(|| "Delete".into()),
            ),
            storage_class_name: class.metadata.name.clone(),
            volume_mode: spec
                .volume_mode
                .clone()
                .or_else(|| Some("Filesystem".into())),
            ..Default::default()
        }),
        status: Some(PersistentVolumeStatus {
            phase: Some("Bound".into()),
            ..Default::default()
        }),
    };
    let mut bound = pvc.clone();
    let annotations = bound.metadata.annotations.get_or_insert_with(BTreeMap::new);
    annotations.insert("pv.kubernetes.io/bind-completed".into(), "yes".into());
    annotations.insert("pv.kubernetes.io/bound-by-controller".into(), "yes".into());
    annotations.insert(
        "volume.beta.kubernetes.io/storage-provisioner".into(),
        class.provisioner.clone(),
    );
    annotations.insert(
        "volume.kubernetes.io/storage-provisioner".into(),
        class.provisioner.clone(),
    );
    bound.spec.get_or_insert_with(Default::default).volume_name = Some(name);
    bound.status = Some(PersistentVolumeClaimStatus {
        phase: Some("Bound".into()),
        access_modes: spec.access_modes,
        capacity: Some(capacity),
        ..Default::default()
    });
    (pv, bound)
}
