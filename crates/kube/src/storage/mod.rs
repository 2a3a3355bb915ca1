//! StorageClasses (`storage.k8s.io/v1`): v1 defaults (`pkg/apis/storage/v1/defaults.go`
//! `SetDefaults_StorageClass`), the classes a Gardener shoot is given by its provider extension
//! (`gardener-extension-provider-aws` and `-gcp`, `charts/internal/shoot-storageclasses`), and
//! the printer's name cell (`printers.go` `printStorageClass`, `IsDefaultAnnotation`).

#[cfg(test)]
mod tests;

use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;
use twinstack_core::runtime::Provider;

/// The annotation that makes a class the default (`IsDefaultAnnotation`; the beta spelling is
/// still honoured upstream).
pub const IS_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
pub const BETA_IS_DEFAULT_CLASS: &str = "storageclass.beta.kubernetes.io/is-default-class";

/// `SetDefaults_StorageClass`: `reclaimPolicy: Delete`, `volumeBindingMode: Immediate`.
pub fn set_defaults(sc: &mut StorageClass) {
    sc.reclaim_policy.get_or_insert_with(|| "Delete".into());
    sc.volume_binding_mode
        .get_or_insert_with(|| "Immediate".into());
}

/// `IsDefaultAnnotation`: either annotation is exactly `"true"`.
pub fn is_default(m: &ObjectMeta) -> bool {
    m.annotations.as_ref().is_some_and(|a| {
        a.get(IS_DEFAULT_CLASS).map(String::as_str) == Some("true")
            || a.get(BETA_IS_DEFAULT_CLASS).map(String::as_str) == Some("true")
    })
}

/// The NAME cell: `<name> (default)` for a default class.
pub fn name_cell(sc: &StorageClass) -> String {
    let name = sc.metadata.name.clone().unwrap_or_default();
    if is_default(&sc.metadata) {
        format!("{name} (default)")
    } else {
        name
    }
}

fn class(name: &str, default: bool, provisioner: &str, params: &[(&str, &str)]) -> StorageClass {
    let mut annotations = BTreeMap::from([(
        "resources.gardener.cloud/delete-on-invalid-update".to_string(),
        "true".to_string(),
    )]);
    if default {
        annotations.insert(IS_DEFAULT_CLASS.into(), "true".into());
    }
    let mut sc = StorageClass {
        metadata: ObjectMeta {
            name: Some(name.into()),
            annotations: Some(annotations),
            ..Default::default()
        },
        allow_volume_expansion: Some(true),
        parameters: Some(
            params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        provisioner: provisioner.into(),
        volume_binding_mode: Some("WaitForFirstConsumer".into()),
        ..Default::default()
    };
    set_defaults(&mut sc);
    sc
}

/// The StorageClasses the provider extension installs in a shoot with its default values
/// (`managedDefaultClass: true` on AWS, `defaultStorageClass: default` on Google Cloud; no
/// Hyperdisk or Filestore classes). Other providers: none (not modelled).
/// Whether the runtime runs `provisioner`: the CSI drivers of the classes Gardener's provider
/// extension installs ([`provider_classes`]). Claims of any other provisioner wait, as on a
/// shoot where nothing serves them.
pub fn runs_provisioner(provider: Provider, provisioner: &str) -> bool {
    provider_classes(provider)
        .iter()
        .any(|c| c.provisioner == provisioner)
}

/// The PV controller's event while it waits for an external provisioner
/// (`pkg/controller/volume/persistentvolume/pv_controller.go`, `provisionClaim`).
pub fn external_provisioning_message(provisioner: &str) -> String {
    format!("Waiting for a volume to be created either by the external provisioner '{provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.")
}

pub fn provider_classes(provider: Provider) -> Vec<StorageClass> {
    match provider {
        Provider::Aws => vec![class(
            "default",
            true,
            "ebs.csi.aws.com",
            &[("encrypted", "true")],
        )],
        Provider::Gcp => vec![
            class(
                "default",
                true,
                "pd.csi.storage.gke.io",
                &[("type", "pd-balanced")],
            ),
            class(
                "gce-sc-hdd",
                false,
                "pd.csi.storage.gke.io",
                &[("type", "pd-standard")],
            ),
            class(
                "gce-sc-fast",
                false,
                "pd.csi.storage.gke.io",
                &[("type", "pd-ssd")],
            ),
        ],
        _ => vec![],
    }
}

pub mod claims;
