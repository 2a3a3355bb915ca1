//! ServiceAccounts: what every namespace has (the `default` ServiceAccount the serviceaccounts
//! controller creates, pkg/controller/serviceaccount/serviceaccounts_controller.go, and the
//! `kube-root-ca.crt` ConfigMap of the root-CA publisher,
//! pkg/controller/certificates/rootcacertpublisher/publisher.go) and the `ServiceAccount`
//! admission plugin on pod create (plugin/pkg/admission/serviceaccount/admission.go `Admit` and
//! `Validate`).

#[cfg(test)]
mod tests;

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapProjection, Container, DownwardAPIProjection, DownwardAPIVolumeFile,
    KeyToPath, LocalObjectReference, ObjectFieldSelector, Pod, PodSpec, ProjectedVolumeSource,
    ServiceAccount, ServiceAccountTokenProjection, Volume, VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// `DefaultServiceAccountName`: the ServiceAccount of pods that name none.
pub const DEFAULT_SERVICE_ACCOUNT_NAME: &str = "default";
/// `EnforceMountableSecretsAnnotation` (deprecated in 1.32, still honoured).
pub const ENFORCE_MOUNTABLE_SECRETS_ANNOTATION: &str = "kubernetes.io/enforce-mountable-secrets";
/// `ServiceAccountVolumeName`: prefix of the projected token volume.
pub const SERVICE_ACCOUNT_VOLUME_NAME: &str = "kube-api-access";
/// `DefaultAPITokenMountPath`.
pub const DEFAULT_API_TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// `serviceaccount.WarnOnlyBoundTokenExpirationSeconds`: 1 h + 7 s, so kubelet's refresh logic
/// can tell the admission plugin's tokens from user-requested ones.
pub const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS: i64 = 3607;
/// `v1.ProjectedVolumeSourceDefaultMode` (0644).
pub const PROJECTED_VOLUME_SOURCE_DEFAULT_MODE: i32 = 420;
/// `MirrorPodAnnotationKey`: pods kubelet mirrors from static manifests.
pub const MIRROR_POD_ANNOTATION_KEY: &str = "kubernetes.io/config.mirror";

/// `RootCACertConfigMapName`.
pub const ROOT_CA_CERT_CONFIGMAP_NAME: &str = "kube-root-ca.crt";
/// The root-CA publisher's `DescriptionAnnotation`.
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
/// The root-CA publisher's `Description`.
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

/// The `default` ServiceAccount the serviceaccounts controller creates in a namespace.
pub fn default_service_account(namespace: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: ObjectMeta {
            name: Some(DEFAULT_SERVICE_ACCOUNT_NAME.into()),
            namespace: Some(namespace.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn root_ca_data(root_ca: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("ca.crt".to_string(), root_ca.to_string())])
}

/// The `kube-root-ca.crt` ConfigMap the root-CA publisher creates in a namespace.
pub fn root_ca_configmap(namespace: &str, root_ca: &str) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(ROOT_CA_CERT_CONFIGMAP_NAME.into()),
            namespace: Some(namespace.into()),
            annotations: Some(BTreeMap::from([(
                DESCRIPTION_ANNOTATION.to_string(),
                DESCRIPTION.to_string(),
            )])),
            ..Default::default()
        },
        data: Some(root_ca_data(root_ca)),
        ..Default::default()
    }
}

/// The publisher's `syncNamespace` on an existing ConfigMap: the data and a non-empty
/// description annotation as they must be, or `None` when they already are.
pub fn root_ca_configmap_update(cm: &ConfigMap, root_ca: &str) -> Option<ConfigMap> {
    let data = root_ca_data(root_ca);
    let described = cm
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
        .is_some_and(|d| !d.is_empty());
    if cm.data.as_ref() == Some(&data) && described {
        return None;
    }
    let mut next = cm.clone();
    next.data = Some(data);
    next.metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
    Some(next)
}

/// Why the `ServiceAccount` admission plugin refuses a pod; the text is upstream's (the API
/// answers it as `pods "<name>" is forbidden: <text>`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    /// `getServiceAccount` found none (`errors.NewNotFound(api.Resource("serviceaccount"), name)`).
    #[error(
        "error looking up service account {namespace}/{name}: serviceaccount \"{name}\" not found"
    )]
    NotFound { namespace: String, name: String },
    #[error("a mirror pod may not reference service accounts")]
    MirrorPodServiceAccount,
    #[error("a mirror pod may not reference secrets")]
    MirrorPodSecrets,
    #[error("a mirror pod may not use ServiceAccountToken volume projections")]
    MirrorPodTokenProjection,
    #[error("volume with secret.secretName=\"{secret}\" is not allowed because service account {service_account} does not reference that secret")]
    VolumeSecret {
        secret: String,
        service_account: String,
    },
    /// `what` is `container` or `init container`.
    #[error("{what} {container} with envVar {env} referencing secret.secretName=\"{secret}\" is not allowed because service account {service_account} does not reference that secret")]
    EnvSecret {
        what: &'static str,
        container: String,
        env: String,
        secret: String,
        service_account: String,
    },
    #[error("{what} {container} with envFrom referencing secret.secretName=\"{secret}\" is not allowed because service account {service_account} does not reference that secret")]
    EnvFromSecret {
        what: &'static str,
        container: String,
        secret: String,
        service_account: String,
    },
    #[error("imagePullSecrets[{index}].name=\"{name}\" is not allowed because service account {service_account} does not reference that imagePullSecret")]
    PullSecret {
        index: usize,
        name: String,
        service_account: String,
    },
}

/// The ServiceAccount a pod runs as once admitted: `serviceAccountName` (or the deprecated
/// `serviceAccount`, as the v1 conversion reads it), else `default`.
pub fn service_account_name(pod: &Pod) -> String {
    let spec = pod.spec.as_ref();
    [
        spec.and_then(|s| s.service_account_name.as_deref()),
        spec.and_then(|s| s.service_account.as_deref()),
    ]
    .into_iter()
    .flatten()
    .find(|s| !s.is_empty())
    .unwrap_or(DEFAULT_SERVICE_ACCOUNT_NAME)
    .to_string()
}

fn is_mirror_pod(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(MIRROR_POD_ANNOTATION_KEY))
}

/// The plugin's `Admit` then `Validate` on a pod create. `sa` is the ServiceAccount
/// [`service_account_name`] names, if it exists in the pod's namespace; `volume_suffix` the 5
/// characters upstream's `SimpleNameGenerator` draws for `kube-api-access-<suffix>`.
pub fn admit(
    pod: &mut Pod,
    sa: Option<&ServiceAccount>,
    volume_suffix: &str,
) -> Result<(), AdmissionError> {
    if is_mirror_pod(pod) {
        return validate_mirror_pod(pod);
    }
    let name = service_account_name(pod);
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    spec.service_account_name = Some(name.clone());
    // The v1 conversion mirrors the name into the deprecated field.
    spec.service_account = Some(name.clone());
    let Some(sa) = sa else {
        return Err(AdmissionError::NotFound { namespace, name });
    };
    if should_automount(sa, spec) {
        mount_service_account_token(spec, volume_suffix);
    }
    if spec.image_pull_secrets.as_ref().is_none_or(Vec::is_empty) {
        let pulls: Vec<LocalObjectReference> = sa
            .image_pull_secrets
            .iter()
            .flatten()
            .map(|r| LocalObjectReference {
                name: r.name.clone(),
            })
            .collect();
        spec.image_pull_secrets = (!pulls.is_empty()).then_some(pulls);
    }
    if enforce_mountable_secrets(sa) {
        limit_secret_references(sa, spec)?;
    }
    Ok(())
}

/// `shouldAutomount`: the pod's preference wins, then the ServiceAccount's, else true.
fn should_automount(sa: &ServiceAccount, spec: &PodSpec) -> bool {
    spec.automount_service_account_token
        .or(sa.automount_service_account_token)
        .unwrap_or(true)
}

/// `enforceMountableSecrets`: the annotation parsed as Go's `strconv.ParseBool`.
fn enforce_mountable_secrets(sa: &ServiceAccount) -> bool {
    sa.metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ENFORCE_MOUNTABLE_SECRETS_ANNOTATION))
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "TRUE" | "true" | "True"))
}

fn secret_refs_of(c: &Container) -> (Vec<(String, String)>, Vec<String>) {
    let env = c
        .env
        .iter()
        .flatten()
        .filter_map(|e| {
            let r = e.value_from.as_ref()?.secret_key_ref.as_ref()?;
            Some((e.name.clone(), r.name.clone()))
        })
        .collect();
    let env_from = c
        .env_from
        .iter()
        .flatten()
        .filter_map(|e| Some(e.secret_ref.as_ref()?.name.clone()))
        .collect();
    (env, env_from)
}

/// `limitSecretReferences`: every Secret the pod uses must be listed by the ServiceAccount.
fn limit_secret_references(sa: &ServiceAccount, spec: &PodSpec) -> Result<(), AdmissionError> {
    let sa_name = sa.metadata.name.clone().unwrap_or_default();
    let mountable: Vec<&str> = sa
        .secrets
        .iter()
        .flatten()
        .filter_map(|s| s.name.as_deref())
        .collect();
    for v in spec.volumes.iter().flatten() {
        if let Some(s) = &v.secret {
            let name = s.secret_name.clone().unwrap_or_default();
            if !mountable.contains(&name.as_str()) {
                return Err(AdmissionError::VolumeSecret {
                    secret: name,
                    service_account: sa_name,
                });
            }
        }
    }
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .map(|c| ("init container", c))
        .chain(spec.containers.iter().map(|c| ("container", c)));
    for (what, c) in containers {
        let (env, env_from) = secret_refs_of(c);
        for (env, secret) in env {
            if !mountable.contains(&secret.as_str()) {
                return Err(AdmissionError::EnvSecret {
                    what,
                    container: c.name.clone(),
                    env,
                    secret,
                    service_account: sa_name,
                });
            }
        }
        for secret in env_from {
            if !mountable.contains(&secret.as_str()) {
                return Err(AdmissionError::EnvFromSecret {
                    what,
                    container: c.name.clone(),
                    secret,
                    service_account: sa_name,
                });
            }
        }
    }
    let pulls: Vec<&str> = sa
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.as_str())
        .collect();
    for (index, r) in spec.image_pull_secrets.iter().flatten().enumerate() {
        if !pulls.contains(&r.name.as_str()) {
            return Err(AdmissionError::PullSecret {
                index,
                name: r.name.clone(),
                service_account: sa_name,
            });
        }
    }
    Ok(())
}

/// `Validate` of a mirror pod: no ServiceAccount, no Secret, no token projection.
fn validate_mirror_pod(pod: &Pod) -> Result<(), AdmissionError> {
    let Some(spec) = pod.spec.as_ref() else {
        return Ok(());
    };
    if spec
        .service_account_name
        .as_deref()
        .is_some_and(|s| !s.is_empty())
    {
        return Err(AdmissionError::MirrorPodServiceAccount);
    }
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    let secret_in_containers = containers.into_iter().any(|c| {
        let (env, env_from) = secret_refs_of(c);
        !env.is_empty() || !env_from.is_empty()
    });
    let secret_in_volumes = spec.volumes.iter().flatten().any(|v| {
        v.secret.is_some()
            || v.projected
                .iter()
                .flat_map(|p| p.sources.iter().flatten())
                .any(|s| s.secret.is_some())
    });
    let pull_secrets = spec
        .image_pull_secrets
        .as_ref()
        .is_some_and(|p| !p.is_empty());
    if secret_in_containers || secret_in_volumes || pull_secrets {
        return Err(AdmissionError::MirrorPodSecrets);
    }
    let token = spec.volumes.iter().flatten().any(|v| {
        v.projected
            .iter()
            .flat_map(|p| p.sources.iter().flatten())
            .any(|s| s.service_account_token.is_some())
    });
    if token {
        return Err(AdmissionError::MirrorPodTokenProjection);
    }
    Ok(())
}

/// `TokenVolumeSource`: the token (3607 s), the root CA and the namespace.
pub fn token_volume_source() -> ProjectedVolumeSource {
    ProjectedVolumeSource {
        default_mode: Some(PROJECTED_VOLUME_SOURCE_DEFAULT_MODE),
        sources: Some(vec![
            VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    expiration_seconds: Some(WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS),
                    path: "token".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            VolumeProjection {
                config_map: Some(ConfigMapProjection {
                    name: ROOT_CA_CERT_CONFIGMAP_NAME.into(),
                    items: Some(vec![KeyToPath {
                        key: "ca.crt".into(),
                        path: "ca.crt".into(),
                        mode: None,
                    }]),
                    optional: None,
                }),
                ..Default::default()
            },
            VolumeProjection {
                downward_api: Some(DownwardAPIProjection {
                    items: Some(vec![DownwardAPIVolumeFile {
                        path: "namespace".into(),
                        field_ref: Some(ObjectFieldSelector {
                            api_version: Some("v1".into()),
                            field_path: "metadata.namespace".into(),
                        }),
                        ..Default::default()
                    }]),
                }),
                ..Default::default()
            },
        ]),
    }
}

/// `mountServiceAccountToken`: reuses a `kube-api-access-*` volume or names a new one, mounts
/// it read-only at the token path in every init and regular container that mounts nothing
/// there, and adds the volume when some container got the mount.
fn mount_service_account_token(spec: &mut PodSpec, suffix: &str) {
    let prefix = format!("{SERVICE_ACCOUNT_VOLUME_NAME}-");
    let existing = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name.starts_with(&prefix))
        .map(|v| v.name.clone());
    let name = existing
        .clone()
        .unwrap_or_else(|| format!("{prefix}{suffix}"));
    let mount = VolumeMount {
        name: name.clone(),
        mount_path: DEFAULT_API_TOKEN_MOUNT_PATH.into(),
        read_only: Some(true),
        ..Default::default()
    };
    let mut needs_volume = false;
    for c in spec
        .init_containers
        .iter_mut()
        .flatten()
        .chain(spec.containers.iter_mut())
    {
        let has = c
            .volume_mounts
            .iter()
            .flatten()
            .any(|m| m.mount_path == DEFAULT_API_TOKEN_MOUNT_PATH);
        if !has {
            c.volume_mounts
                .get_or_insert_with(Vec::new)
                .push(mount.clone());
            needs_volume = true;
        }
    }
    if existing.is_none() && needs_volume {
        spec.volumes.get_or_insert_with(Vec::new).push(Volume {
            name,
            projected: Some(token_volume_source()),
            ..Default::default()
        });
    }
}
