//! Kinds that charts ship and that twinstack stores and serves without acting on them (issue 14,
//! item 2): NetworkPolicy (the data plane does not enforce it yet), Ingress and IngressClass (no
//! ingress controller), PriorityClass, Lease, StorageClass (every runtime has its provider's
//! classes, [`twinstack_kube::storage::provider_classes`]; nothing provisions from them yet),
//! and the admission webhook configurations (stored;
//! never called). Each decodes through its k8s-openapi type (unknown fields reported, v1
//! defaults of the typed round trip) and prints kube-apiserver's columns
//! (`pkg/printers/internalversion/printers.go`). Their own validation is not implemented:
//! only ObjectMeta's.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use serde_json::{json, Value};
use twinstack_kube::table::{self, Column};

const fn info(
    group: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    storage: &'static str,
) -> ResourceInfo {
    ResourceInfo {
        group,
        version: "v1",
        plural,
        singular,
        kind,
        namespaced,
        short_names,
        categories: &[],
        verbs: ALL_VERBS,
        storage,
        scale: false,
    }
}

pub static NETWORK_POLICY: ResourceInfo = info(
    "networking.k8s.io",
    "networkpolicies",
    "networkpolicy",
    "NetworkPolicy",
    true,
    &["netpol"],
    "networkpolicies",
);
pub static INGRESS: ResourceInfo = info(
    "networking.k8s.io",
    "ingresses",
    "ingress",
    "Ingress",
    true,
    &["ing"],
    "ingress",
);
pub static INGRESS_CLASS: ResourceInfo = info(
    "networking.k8s.io",
    "ingressclasses",
    "ingressclass",
    "IngressClass",
    false,
    &[],
    "ingressclasses",
);
pub static PRIORITY_CLASS: ResourceInfo = info(
    "scheduling.k8s.io",
    "priorityclasses",
    "priorityclass",
    "PriorityClass",
    false,
    &["pc"],
    "priorityclasses",
);
pub static LEASE: ResourceInfo = info(
    "coordination.k8s.io",
    "leases",
    "lease",
    "Lease",
    true,
    &[],
    "leases",
);
pub static STORAGE_CLASS: ResourceInfo = info(
    "storage.k8s.io",
    "storageclasses",
    "storageclass",
    "StorageClass",
    false,
    &["sc"],
    "storageclasses",
);
pub static MUTATING_WEBHOOK_CONFIGURATION: ResourceInfo = info(
    "admissionregistration.k8s.io",
    "mutatingwebhookconfigurations",
    "mutatingwebhookconfiguration",
    "MutatingWebhookConfiguration",
    false,
    &[],
    "mutatingwebhookconfigurations",
);
pub static VALIDATING_WEBHOOK_CONFIGURATION: ResourceInfo = info(
    "admissionregistration.k8s.io",
    "validatingwebhookconfigurations",
    "validatingwebhookconfiguration",
    "ValidatingWebhookConfiguration",
    false,
    &[],
    "validatingwebhookconfigurations",
);

/// One stored kind: its facts and its typed round trip.
pub struct StoredKind {
    pub info: &'static ResourceInfo,
}

impl StoredKind {
    /// Every stored kind, in discovery order.
    pub fn all() -> Vec<StoredKind> {
        [
            &NETWORK_POLICY,
            &INGRESS_CLASS,
            &INGRESS,
            &PRIORITY_CLASS,
            &LEASE,
            &STORAGE_CLASS,
            &MUTATING_WEBHOOK_CONFIGURATION,
            &VALIDATING_WEBHOOK_CONFIGURATION,
        ]
        .into_iter()
        .map(|info| StoredKind { info })
        .collect()
    }
}

/// Pass-through: ObjectMeta validation alone.
impl Strategy for StoredKind {}

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    v: &Value,
) -> Result<(Value, Vec<String>), String> {
    let (t, unknown): (T, _) = decode::typed(v)?;
    Ok((serde_json::to_value(t).map_err(|e| e.to_string())?, unknown))
}

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

fn or_none(x: String) -> String {
    if x.is_empty() {
        "<none>".into()
    } else {
        x
    }
}

impl Kind for StoredKind {
    fn info(&self) -> &'static ResourceInfo {
        self.info
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        use k8s_openapi::api::{admissionregistration::v1 as adm, coordination::v1 as coord};
        use k8s_openapi::api::{networking::v1 as net, scheduling::v1 as sched};
        match self.info.kind {
            "NetworkPolicy" => round_trip::<net::NetworkPolicy>(v),
            "Ingress" => round_trip::<net::Ingress>(v),
            "IngressClass" => round_trip::<net::IngressClass>(v),
            "PriorityClass" => round_trip::<sched::PriorityClass>(v),
            "Lease" => round_trip::<coord::Lease>(v),
            "StorageClass" => {
                let (mut sc, unknown): (k8s_openapi::api::storage::v1::StorageClass, _) =
                    decode::typed(v)?;
                twinstack_kube::storage::set_defaults(&mut sc);
                Ok((
                    serde_json::to_value(sc).map_err(|e| e.to_string())?,
                    unknown,
                ))
            }
            "MutatingWebhookConfiguration" => round_trip::<adm::MutatingWebhookConfiguration>(v),
            _ => round_trip::<adm::ValidatingWebhookConfiguration>(v),
        }
    }

    fn columns(&self) -> Vec<Column> {
        let age = Column::new("Age", table::AGE_DESCRIPTION);
        let mut cols = vec![Column::name_column()];
        match self.info.kind {
            "NetworkPolicy" => cols.push(Column::new(
                "Pod-Selector",
                "Selects the pods to which this NetworkPolicy object applies.",
            )),
            "Ingress" => {
                cols.push(Column::new(
                    "Class",
                    "The name of the IngressClass resource.",
                ));
                cols.push(Column::new(
                    "Hosts",
                    "Hosts that incoming requests are matched against before the ingress rule",
                ));
                cols.push(Column::new(
                    "Address",
                    "Address is a list containing ingress points for the load-balancer",
                ));
                cols.push(Column::new(
                    "Ports",
                    "Ports of TLS configurations that open",
                ));
            }
            "IngressClass" => {
                cols.push(Column::new(
                    "Controller",
                    "Controller that is responsible for handling this class",
                ));
                cols.push(Column::new(
                    "Parameters",
                    "A reference to a resource with additional parameters",
                ));
            }
            "PriorityClass" => {
                let mut v = Column::new("Value", "Value is the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.");
                v.ty = "integer";
                cols.push(v);
                let mut g = Column::new("Global-Default", "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.");
                g.ty = "boolean";
                cols.push(g);
                cols.push(age);
                cols.push(Column::new(
                    "PreemptionPolicy",
                    "preemptionPolicy is the Policy for preempting pods with lower priority.",
                ));
                return cols;
            }
            "Lease" => cols.push(Column::new("Holder", "The holder of the lease")),
            // `storageClassColumnDefinitions`.
            "StorageClass" => {
                cols.push(Column::new(
                    "Provisioner",
                    "provisioner indicates the type of the provisioner.",
                ));
                cols.push(Column::new("ReclaimPolicy", "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete."));
                cols.push(Column::new("VolumeBindingMode", "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature."));
                let mut ave = Column::new(
                    "AllowVolumeExpansion",
                    "allowVolumeExpansion shows whether the storage class allow volume expand.",
                );
                ave.ty = "boolean";
                cols.push(ave);
            }
            _ => {
                let mut w = Column::new(
                    "Webhooks",
                    "Webhooks indicates the number of webhooks in this configuration",
                );
                w.ty = "integer";
                cols.push(w);
            }
        }
        cols.push(age);
        cols
    }

    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let age = json!(table::age(
            obj.pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str),
            now
        ));
        let mut row = vec![json!(s(obj, "/metadata/name"))];
        match self.info.kind {
            "NetworkPolicy" => {
                let sel = obj
                    .pointer("/spec/podSelector/matchLabels")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                row.push(json!(or_none(sel)));
            }
            "Ingress" => {
                let class = s(obj, "/spec/ingressClassName");
                row.push(json!(if class.is_empty() { "<none>" } else { class }));
                let hosts: Vec<&str> = obj
                    .pointer("/spec/rules")
                    .and_then(Value::as_array)
                    .map(|r| {
                        r.iter()
                            .filter_map(|x| x.get("host").and_then(Value::as_str))
                            .collect()
                    })
                    .unwrap_or_default();
                row.push(json!(if hosts.is_empty() {
                    "*".to_string()
                } else {
                    hosts.join(",")
                }));
                let addrs: Vec<&str> = obj
                    .pointer("/status/loadBalancer/ingress")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| {
                                x.get("ip")
                                    .or_else(|| x.get("hostname"))
                                    .and_then(Value::as_str)
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                row.push(json!(addrs.join(",")));
                let tls = obj
                    .pointer("/spec/tls")
                    .and_then(Value::as_array)
                    .is_some_and(|t| !t.is_empty());
                row.push(json!(if tls { "80, 443" } else { "80" }));
            }
            "IngressClass" => {
                row.push(json!(s(obj, "/spec/controller")));
                let p = obj.pointer("/spec/parameters");
                let params = match p {
                    Some(p) => {
                        let g = s(p, "/apiGroup");
                        let kind = if g.is_empty() {
                            s(p, "/kind").to_string()
                        } else {
                            format!("{}.{g}", s(p, "/kind"))
                        };
                        format!("{kind}/{}", s(p, "/name"))
                    }
                    None => "<none>".into(),
                };
                row.push(json!(params));
            }
            "PriorityClass" => {
                row.push(obj.get("value").cloned().unwrap_or(json!(0)));
                row.push(json!(obj
                    .get("globalDefault")
                    .and_then(Value::as_bool)
                    .unwrap_or(false)));
                row.push(age);
                let p = s(obj, "/preemptionPolicy");
                row.push(json!(if p.is_empty() {
                    "PreemptLowerPriority"
                } else {
                    p
                }));
                return row;
            }
            "Lease" => row.push(json!(s(obj, "/spec/holderIdentity"))),
            // `printStorageClass`.
            "StorageClass" => {
                let sc: k8s_openapi::api::storage::v1::StorageClass =
                    serde_json::from_value(obj.clone()).unwrap_or_default();
                row[0] = json!(twinstack_kube::storage::name_cell(&sc));
                row.push(json!(sc.provisioner));
                row.push(json!(sc.reclaim_policy.as_deref().unwrap_or("Delete")));
                row.push(json!(sc
                    .volume_binding_mode
                    .as_deref()
                    .unwrap_or("Immediate")));
                row.push(json!(sc.allow_volume_expansion.unwrap_or(false)));
            }
            _ => row.push(json!(obj
                .get("webhooks")
                .and_then(Value::as_array)
                .map_or(0, Vec::len))),
        }
        row.push(age);
        row
    }
}
