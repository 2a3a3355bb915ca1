//! PersistentVolumeClaims and PersistentVolumes (core v1): v1 defaults, the claim's
//! validation essentials, the DefaultStorageClass admission plugin (in `begin_create`, reading
//! the runtime's StorageClasses in the write transaction), status kept apart (the PV
//! controller writes it), and kube-apiserver's columns. The rules are
//! [`twinstack_kube::storage::claims`]'s; binding is the controllers' (`volumes`).

use super::{Kind, ResourceInfo, Strategy, WriteCtx, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::storage::v1::StorageClass;
use serde_json::{json, Value};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_kube::storage::claims;
use twinstack_kube::table::{self, Column};

pub static PERSISTENT_VOLUME_CLAIM: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "persistentvolumeclaims",
    singular: "persistentvolumeclaim",
    kind: "PersistentVolumeClaim",
    namespaced: true,
    short_names: &["pvc"],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "persistentvolumeclaims",
    scale: false,
};

pub static PERSISTENT_VOLUME: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "persistentvolumes",
    singular: "persistentvolume",
    kind: "PersistentVolume",
    namespaced: false,
    short_names: &["pv"],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "persistentvolumes",
    scale: false,
};

pub struct PersistentVolumeClaimKind;
pub struct PersistentVolumeKind;

fn storage_classes(cx: &mut WriteCtx<'_>) -> Vec<StorageClass> {
    let prefix = crate::keys::collection_prefix(
        cx.rt.name(),
        &super::stored::StoredKind {
            info: &super::stored::STORAGE_CLASS,
        },
        None,
    );
    cx.txn
        .scan(&prefix)
        .into_iter()
        .filter_map(|(_, b)| serde_json::from_slice(&b).ok())
        .collect()
}

impl Strategy for PersistentVolumeClaimKind {
    /// The DefaultStorageClass admission plugin.
    fn begin_create(&self, cx: &mut WriteCtx<'_>, obj: &mut Value) -> Result<(), Status> {
        let mut pvc: PersistentVolumeClaim = super::typed(obj, "PersistentVolumeClaim")?;
        claims::admit_claim(&mut pvc, &storage_classes(cx));
        if let Some(name) = pvc.spec.as_ref().and_then(|s| s.storage_class_name.clone()) {
            obj["spec"]["storageClassName"] = json!(name);
        }
        Ok(())
    }

    /// The status strategy resets status to a new claim's (`Pending`).
    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        obj["status"] = json!({"phase": "Pending"});
        Ok(())
    }

    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(claims::validate_claim(&super::typed(
            obj,
            "PersistentVolumeClaim",
        )?))
    }

    fn status_subresource(&self) -> bool {
        true
    }
}

impl Strategy for PersistentVolumeKind {
    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        obj["status"] = json!({"phase": "Pending"});
        Ok(())
    }

    fn status_subresource(&self) -> bool {
        true
    }
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn modes(v: &Value, p: &str) -> String {
    let m: Vec<String> = v
        .pointer(p)
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default();
    claims::access_modes_string(&m)
}

impl Kind for PersistentVolumeClaimKind {
    fn info(&self) -> &'static ResourceInfo {
        &PERSISTENT_VOLUME_CLAIM
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut pvc, unknown): (PersistentVolumeClaim, _) = decode::typed(v)?;
        claims::set_claim_defaults(&mut pvc);
        Ok((
            serde_json::to_value(pvc).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    fn delete_returns_object(&self) -> bool {
        true
    }

    /// `persistentVolumeClaimColumnDefinitions`.
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Status", "status represents the current information/status of a persistent volume claim. Read-only. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#persistentvolumeclaims"),
            Column::new("Volume", "volumeName is the binding reference to the PersistentVolume backing this claim."),
            Column::new("Capacity", "capacity represents the actual resources of the underlying volume."),
            Column::new("Access Modes", "accessModes contains the desired access modes the volume should have. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1"),
            Column::new("StorageClass", "storageClassName is the name of the StorageClass required by the claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#class-1"),
            Column::new("VolumeAttributesClass", "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim."),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("VolumeMode", "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.").wide(),
        ]
    }

    /// `printPersistentVolumeClaim`.
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let pvc: PersistentVolumeClaim = serde_json::from_value(obj.clone()).unwrap_or_default();
        let phase = if obj.pointer("/metadata/deletionTimestamp").is_some() {
            "Terminating"
        } else {
            s(obj, "/status/phase")
        };
        let volume = s(obj, "/spec/volumeName");
        let (capacity, access) = if volume.is_empty() {
            (String::new(), String::new())
        } else {
            (
                s(obj, "/status/capacity/storage").to_string(),
                modes(obj, "/status/accessModes"),
            )
        };
        let vac = s(obj, "/spec/volumeAttributesClassName");
        let mode = s(obj, "/spec/volumeMode");
        vec![
            json!(s(obj, "/metadata/name")),
            json!(phase),
            json!(volume),
            json!(capacity),
            json!(access),
            json!(claims::claim_class(&pvc)),
            json!(if vac.is_empty() { "<unset>" } else { vac }),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
            json!(if mode.is_empty() { "<unset>" } else { mode }),
        ]
    }
}

impl Kind for PersistentVolumeKind {
    fn info(&self) -> &'static ResourceInfo {
        &PERSISTENT_VOLUME
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut pv, unknown): (PersistentVolume, _) = decode::typed(v)?;
        claims::set_volume_defaults(&mut pv);
        Ok((
            serde_json::to_value(pv).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    fn delete_returns_object(&self) -> bool {
        true
    }

    /// `persistentVolumeColumnDefinitions`.
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Capacity", "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity"),
            Column::new("Access Modes", "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes"),
            Column::new("Reclaim Policy", "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim."),
            Column::new("Status", "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase"),
            Column::new("Claim", "claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim."),
            Column::new("StorageClass", "storageClassName is the name of StorageClass to which this persistent volume belongs. Empty value means that this volume does not belong to any StorageClass."),
            Column::new("VolumeAttributesClass", "Name of VolumeAttributesClass to which this persistent volume belongs. Empty value is not allowed."),
            Column::new("Reason", "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI."),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("VolumeMode", "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.").wide(),
        ]
    }

    /// `printPersistentVolume`.
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let claim = match obj.pointer("/spec/claimRef") {
            Some(c) => format!("{}/{}", s(c, "/namespace"), s(c, "/name")),
            None => String::new(),
        };
        let phase = if obj.pointer("/metadata/deletionTimestamp").is_some() {
            "Terminating"
        } else {
            s(obj, "/status/phase")
        };
        let vac = s(obj, "/spec/volumeAttributesClassName");
        let mode = s(obj, "/spec/volumeMode");
        vec![
            json!(s(obj, "/metadata/name")),
            json!(s(obj, "/spec/capacity/storage")),
            json!(modes(obj, "/spec/accessModes")),
            json!(s(obj, "/spec/persistentVolumeReclaimPolicy")),
            json!(phase),
            json!(claim),
            json!(s(obj, "/spec/storageClassName")),
            json!(if vac.is_empty() { "<unset>" } else { vac }),
            json!(s(obj, "/status/reason")),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
            json!(if mode.is_empty() { "<unset>" } else { mode }),
        ]
    }
}
