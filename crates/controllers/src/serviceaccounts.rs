//! The serviceaccounts controller and the root-CA publisher
//! (pkg/controller/serviceaccount/serviceaccounts_controller.go,
//! pkg/controller/certificates/rootcacertpublisher/publisher.go): every active namespace keeps
//! its `default` ServiceAccount and a `kube-root-ca.crt` with the runtime's CA. Namespaces get
//! them when they are created (`twinstack_registry::kinds::serviceaccount`); this puts them back when they
//! are deleted or edited.

use super::{name_of, Ctl, World};
use k8s_openapi::api::core::v1::ConfigMap;
use std::collections::{BTreeMap, BTreeSet};
use twinstack_kube::serviceaccount as ksa;
use twinstack_registry::kinds::serviceaccount::{ensure_namespace_defaults, ROOT_CA_KEY};
use twinstack_registry::store_ext::TxnExt;

pub async fn sync(ctl: &Ctl, w: &World) {
    let with_default: BTreeSet<&str> = w
        .lists
        .serviceaccounts
        .iter()
        .filter(|s| name_of(&s.metadata.name) == ksa::DEFAULT_SERVICE_ACCOUNT_NAME)
        .map(|s| name_of(&s.metadata.namespace))
        .collect();
    let root_cas: BTreeMap<&str, &ConfigMap> = w
        .lists
        .root_ca_configmaps
        .iter()
        .map(|c| (name_of(&c.metadata.namespace), &**c))
        .collect();
    let ca = ctl
        .reg
        .store
        .get(ROOT_CA_KEY)
        .ok()
        .flatten()
        .and_then(|kv| String::from_utf8(kv.value).ok());
    for ns in &w.lists.namespaces {
        let active = ns.metadata.deletion_timestamp.is_none()
            && ns.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Terminating");
        let name = name_of(&ns.metadata.name);
        if !active {
            continue;
        }
        let needs = !with_default.contains(name)
            || ca.as_deref().is_some_and(|ca| match root_cas.get(name) {
                None => true,
                Some(cm) => ksa::root_ca_configmap_update(cm, ca).is_some(),
            });
        if needs {
            repair(ctl, name).await;
        }
    }
}

/// Writes what the namespace lacks, if the namespace still exists.
async fn repair(ctl: &Ctl, ns: &str) {
    let rt = ctl.rt.clone();
    let ns = ns.to_string();
    let ns_key = twinstack_registry::registry::object_key(
        rt.name(),
        &twinstack_registry::kinds::namespace::NamespaceKind,
        None,
        &ns,
    );
    let _ = ctl
        .reg
        .store
        .txn(move |txn| -> Result<(), String> {
            let txn: &mut dyn TxnExt = txn;
            if txn.get_raw(&ns_key).is_some() {
                ensure_namespace_defaults(txn, &rt, &ns);
            }
            Ok(())
        })
        .await;
}
