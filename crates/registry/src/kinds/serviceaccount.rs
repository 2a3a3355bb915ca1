//! ServiceAccounts (core/v1), and what every namespace has from the moment it exists: the
//! `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap carrying the runtime's CA
//! (`twinstack_kube::serviceaccount`). They are written in the namespace's own create
//! transaction, so a client that creates a namespace and at once reads them finds them;
//! upstream's serviceaccounts controller and root-CA publisher do it a moment later. The
//! controllers (`twinstack_controllers::serviceaccounts`) put them back when they are deleted or
//! edited, as those controllers do.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::keys::object_key;
use crate::runtimes::Runtime;
use crate::store_ext::TxnExt;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use serde_json::{json, Value};
use twinstack_kube::serviceaccount as ksa;
use twinstack_kube::table::{self, Column};

pub static INFO: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "serviceaccounts",
    singular: "serviceaccount",
    kind: "ServiceAccount",
    namespaced: true,
    short_names: &["sa"],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "serviceaccounts",
    scale: false,
};

/// Where the server keeps the CA its runtimes' API servers present (PEM), as
/// kube-controller-manager reads it from `--root-ca-file`. Written at every start.
pub const ROOT_CA_KEY: &str = "/registry/twinstack/pki/ca.crt";

/// What the controllers write as: upstream's kube-controller-manager.
pub const MANAGER: &str = "kube-controller-manager";

pub struct ServiceAccountKind;

/// Pass-through: `ValidateServiceAccount` is the ObjectMeta validation alone.
impl Strategy for ServiceAccountKind {}

impl Kind for ServiceAccountKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (sa, unknown): (ServiceAccount, _) = decode::typed(v)?;
        Ok((
            serde_json::to_value(sa).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    fn delete_returns_object(&self) -> bool {
        true
    }

    /// printers.go `serviceAccountColumnDefinitions`.
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column::new("Secrets", "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret"),
            Column::new("Age", table::AGE_DESCRIPTION),
        ]
    }

    /// `printServiceAccount`: name, the number of listed secrets, age.
    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let secrets = obj
            .get("secrets")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        vec![
            json!(obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")),
            json!(secrets),
            json!(table::age(
                obj.pointer("/metadata/creationTimestamp")
                    .and_then(Value::as_str),
                now
            )),
        ]
    }
}

/// The runtime's CA as stored under [`ROOT_CA_KEY`].
pub fn root_ca(txn: &mut dyn TxnExt) -> Option<String> {
    txn.get_raw(ROOT_CA_KEY)
        .and_then(|b| String::from_utf8(b).ok())
}

/// Writes an object the controllers own into `txn` as a create would: uid, creation time,
/// resourceVersion and kube-controller-manager's managedFields.
fn put_new(txn: &mut dyn TxnExt, key: &str, info: &ResourceInfo, obj: Value) {
    let mut obj = obj;
    let now = crate::keys::now_rfc3339();
    let managed = crate::managed::for_create(info, &obj, MANAGER, &now);
    let m = &mut obj["metadata"];
    m["uid"] = json!(uuid::Uuid::new_v4().to_string());
    m["creationTimestamp"] = json!(now);
    m["resourceVersion"] = json!(txn.revision().to_string());
    if managed.as_array().is_some_and(|a| !a.is_empty()) {
        m["managedFields"] = managed;
    }
    txn.put_json(key, &obj);
}

/// Makes sure namespace `ns` has its `default` ServiceAccount and a correct `kube-root-ca.crt`
/// (created if missing, data and description put back if edited), inside `txn`. Returns
/// whether it wrote anything. Without a stored CA only the ServiceAccount is ensured.
pub fn ensure_namespace_defaults(txn: &mut dyn TxnExt, rt: &Runtime, ns: &str) -> bool {
    let mut wrote = false;
    let sa_key = object_key(
        rt.name(),
        &ServiceAccountKind,
        Some(ns),
        ksa::DEFAULT_SERVICE_ACCOUNT_NAME,
    );
    if txn.get_raw(&sa_key).is_none() {
        let sa = ksa::default_service_account(ns);
        put_new(
            txn,
            &sa_key,
            &INFO,
            serde_json::to_value(sa).unwrap_or_default(),
        );
        wrote = true;
    }
    let Some(ca) = root_ca(txn) else {
        return wrote;
    };
    let cm_key = object_key(
        rt.name(),
        &super::config::ConfigMapKind,
        Some(ns),
        ksa::ROOT_CA_CERT_CONFIGMAP_NAME,
    );
    match txn.get_json(&cm_key) {
        None => {
            let cm = ksa::root_ca_configmap(ns, &ca);
            put_new(
                txn,
                &cm_key,
                &super::config::CONFIGMAP,
                serde_json::to_value(cm).unwrap_or_default(),
            );
            wrote = true;
        }
        Some(cur) => {
            let Ok(cm) = serde_json::from_value::<ConfigMap>(cur) else {
                return wrote;
            };
            if let Some(next) = ksa::root_ca_configmap_update(&cm, &ca) {
                let mut v = serde_json::to_value(next).unwrap_or_default();
                v["metadata"]["resourceVersion"] = json!(txn.revision().to_string());
                txn.put_json(&cm_key, &v);
                wrote = true;
            }
        }
    }
    wrote
}

/// Stores the CA (when it changed) so namespaces created from now on carry it.
pub async fn store_root_ca(store: &twinstack_store::Store, ca_pem: &str) -> anyhow::Result<()> {
    let ca = ca_pem.as_bytes().to_vec();
    store
        .txn(move |txn| -> Result<(), String> {
            let txn: &mut dyn TxnExt = txn;
            if txn.get_raw(ROOT_CA_KEY).as_deref() != Some(ca.as_slice()) {
                txn.put_raw(ROOT_CA_KEY, ca);
            }
            Ok(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("storing the root CA: {e}"))?;
    Ok(())
}
