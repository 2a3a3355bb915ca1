//! v1 defaulting of pods (`pkg/apis/core/v1/defaults.go`: `SetDefaults_Pod`,
//! `SetDefaults_PodSpec`, `SetDefaults_Container`, `SetDefaults_ContainerPort`,
//! `SetDefaults_Probe`, `SetDefaults_HTTPGetAction`, `SetDefaults_Volume`, the volume source
//! `DefaultMode`s and `SetDefaults_ObjectFieldSelector`) and the admission plugins every
//! kube-apiserver runs on pod create: `ServiceAccount`, `DefaultTolerationSeconds` and
//! `Priority`.

use k8s_openapi::api::core::v1::{
    ConfigMapProjection, Container, DownwardAPIProjection, DownwardAPIVolumeFile,
    EmptyDirVolumeSource, KeyToPath, ObjectFieldSelector, Pod, PodSecurityContext, PodSpec, Probe,
    ProjectedVolumeSource, ResourceRequirements, ServiceAccountTokenProjection, Toleration, Volume,
    VolumeMount, VolumeProjection,
};

/// `v1.DefaultTerminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// `v1.TerminationMessagePathDefault`.
pub const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// `v1.DefaultSchedulerName`.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// Where the ServiceAccount admission plugin mounts the API credentials.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// Token lifetime the ServiceAccount admission plugin requests (1 h + 7 s, so kubelet's
/// refresh logic can tell it apart from user-requested tokens).
pub const API_ACCESS_TOKEN_EXPIRATION_SECONDS: i64 = 3607;
/// `DefaultTolerationSeconds` admission default for not-ready and unreachable nodes.
pub const DEFAULT_TOLERATION_SECONDS: i64 = 300;
/// Mode every projected/secret/configMap volume defaults to (0644).
pub const DEFAULT_VOLUME_MODE: i32 = 420;

/// `SetDefaults_Pod` + `SetDefaults_PodSpec` + per-container defaults. Idempotent.
pub fn set_defaults(pod: &mut Pod) {
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        default_container(c);
        // SetDefaults_Pod: requests default to limits where only limits are given.
        let res = c
            .resources
            .get_or_insert_with(ResourceRequirements::default);
        if let Some(limits) = res.limits.clone() {
            let req = res.requests.get_or_insert_with(Default::default);
            for (k, v) in limits {
                req.entry(k).or_insert(v);
            }
        }
    }
    if spec.enable_service_links.is_none() {
        spec.enable_service_links = Some(true);
    }
    if spec.dns_policy.as_deref().unwrap_or("").is_empty() {
        spec.dns_policy = Some("ClusterFirst".into());
    }
    if spec.restart_policy.as_deref().unwrap_or("").is_empty() {
        spec.restart_policy = Some("Always".into());
    }
    if spec.security_context.is_none() {
        spec.security_context = Some(PodSecurityContext::default());
    }
    if spec.termination_grace_period_seconds.is_none() {
        spec.termination_grace_period_seconds = Some(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    }
    if spec.scheduler_name.as_deref().unwrap_or("").is_empty() {
        spec.scheduler_name = Some(DEFAULT_SCHEDULER_NAME.into());
    }
    if spec.host_network == Some(true) {
        // defaultHostNetworkPorts: hostPort mirrors containerPort on the host network.
        for c in spec
            .init_containers
            .iter_mut()
            .flatten()
            .chain(spec.containers.iter_mut())
        {
            for p in c.ports.iter_mut().flatten() {
                if p.host_port.unwrap_or(0) == 0 {
                    p.host_port = Some(p.container_port);
                }
            }
        }
    }
    for v in spec.volumes.iter_mut().flatten() {
        default_volume(v);
    }
}

/// `SetDefaults_Container` and the defaults of its nested structs.
fn default_container(c: &mut Container) {
    if c.image_pull_policy.as_deref().unwrap_or("").is_empty() {
        c.image_pull_policy = Some(if image_tag(c.image.as_deref().unwrap_or("")) == "latest" {
            "Always".into()
        } else {
            "IfNotPresent".into()
        });
    }
    if c.termination_message_path
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        c.termination_message_path = Some(TERMINATION_MESSAGE_PATH.into());
    }
    if c.termination_message_policy
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        c.termination_message_policy = Some("File".into());
    }
    for p in c.ports.iter_mut().flatten() {
        if p.protocol.as_deref().unwrap_or("").is_empty() {
            p.protocol = Some("TCP".into());
        }
    }
    for probe in [
        c.liveness_probe.as_mut(),
        c.readiness_probe.as_mut(),
        c.startup_probe.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        default_probe(probe);
    }
    for e in c.env.iter_mut().flatten() {
        if let Some(fr) = e.value_from.as_mut().and_then(|v| v.field_ref.as_mut()) {
            default_field_selector(fr);
        }
    }
}

fn default_field_selector(f: &mut ObjectFieldSelector) {
    if f.api_version.as_deref().unwrap_or("").is_empty() {
        f.api_version = Some("v1".into());
    }
}

fn default_probe(p: &mut Probe) {
    p.timeout_seconds.get_or_insert(1);
    p.period_seconds.get_or_insert(10);
    p.success_threshold.get_or_insert(1);
    p.failure_threshold.get_or_insert(3);
    if let Some(h) = p.http_get.as_mut() {
        if h.path.as_deref().unwrap_or("").is_empty() {
            h.path = Some("/".into());
        }
        if h.scheme.as_deref().unwrap_or("").is_empty() {
            h.scheme = Some("HTTP".into());
        }
    }
}

/// `SetDefaults_Volume` (no source → emptyDir) and the sources' default modes.
fn default_volume(v: &mut Volume) {
    let has_source = serde_json::to_value(&*v)
        .ok()
        .and_then(|j| j.as_object().map(|o| o.keys().any(|k| k != "name")))
        .unwrap_or(false);
    if !has_source {
        v.empty_dir = Some(EmptyDirVolumeSource::default());
    }
    if let Some(s) = v.secret.as_mut() {
        s.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(s) = v.config_map.as_mut() {
        s.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
    }
    if let Some(s) = v.downward_api.as_mut() {
        s.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for item in s.items.iter_mut().flatten() {
            if let Some(fr) = item.field_ref.as_mut() {
                default_field_selector(fr);
            }
        }
    }
    if let Some(s) = v.projected.as_mut() {
        s.default_mode.get_or_insert(DEFAULT_VOLUME_MODE);
        for src in s.sources.iter_mut().flatten() {
            if let Some(t) = src.service_account_token.as_mut() {
                t.expiration_seconds.get_or_insert(3600);
            }
        }
    }
    if let Some(h) = v.host_path.as_mut() {
        h.type_.get_or_insert_with(String::new);
    }
}

/// The tag `parsers.ParseImageName` reports: the explicit tag, `""` for digest-only references
/// and `latest` when neither is given.
pub fn image_tag(image: &str) -> &str {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':') {
        Some((_, tag)) => tag,
        None if digest.is_some() => "",
        None => "latest",
    }
}

/// Admission on pod create, after defaulting:
/// - `ServiceAccount`: `serviceAccountName` defaults to `default` (mirrored into the deprecated
///   `serviceAccount`); unless `automountServiceAccountToken` is false, adds the projected
///   `kube-api-access-<suffix>` volume (token 3607 s, `kube-root-ca.crt`, namespace) and a
///   read-only mount at `/var/run/secrets/kubernetes.io/serviceaccount` to every init and
///   regular container that does not already mount that path (the volume only if some
///   container got the mount; an existing `kube-api-access-*` volume is reused). `suffix` is the 5 characters
///   upstream draws from `utilrand.String(5)`; the caller supplies them.
/// - `DefaultTolerationSeconds`: NoExecute tolerations of 300 s for `not-ready` and
///   `unreachable` unless the pod already tolerates those taints.
/// - `Priority`: `priority: 0` and `preemptionPolicy: PreemptLowerPriority` when unset (no
///   PriorityClass objects exist in twinstack).
pub fn admit_create(pod: &mut Pod, api_access_suffix: &str) {
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    if spec
        .service_account_name
        .as_deref()
        .unwrap_or("")
        .is_empty()
    {
        spec.service_account_name = Some(
            spec.service_account
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "default".into()),
        );
    }
    spec.service_account = spec.service_account_name.clone();
    if spec.automount_service_account_token != Some(false) {
        mount_api_access(spec, api_access_suffix);
    }
    add_default_tolerations(spec);
    spec.priority.get_or_insert(0);
    if spec.preemption_policy.as_deref().unwrap_or("").is_empty() {
        spec.preemption_policy = Some("PreemptLowerPriority".into());
    }
}

fn mount_api_access(spec: &mut PodSpec, suffix: &str) {
    // Reuse an existing kube-api-access-* volume (a re-admitted pod), else name a new one.
    let existing = spec
        .volumes
        .iter()
        .flatten()
        .find(|v| v.name.starts_with("kube-api-access-"))
        .map(|v| v.name.clone());
    let name = existing
        .clone()
        .unwrap_or_else(|| format!("kube-api-access-{suffix}"));
    let mount = VolumeMount {
        name: name.clone(),
        mount_path: SERVICE_ACCOUNT_MOUNT_PATH.into(),
        read_only: Some(true),
        ..Default::default()
    };
    // Every container without a mount at the token path gets one; a container that already
    // mounts something there keeps it.
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
            .any(|m| m.mount_path == SERVICE_ACCOUNT_MOUNT_PATH);
        if !has {
            c.volume_mounts
                .get_or_insert_with(Vec::new)
                .push(mount.clone());
            needs_volume = true;
        }
    }
    if existing.is_some() || !needs_volume {
        return;
    }
    let volume = Volume {
        name: name.clone(),
        projected: Some(ProjectedVolumeSource {
            default_mode: Some(DEFAULT_VOLUME_MODE),
            sources: Some(vec![
                VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        expiration_seconds: Some(API_ACCESS_TOKEN_EXPIRATION_SECONDS),
                        path: "token".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: "kube-root-ca.crt".into(),
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
        }),
        ..Default::default()
    };
    spec.volumes.get_or_insert_with(Vec::new).push(volume);
}

fn add_default_tolerations(spec: &mut PodSpec) {
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        let tolerated = spec.tolerations.iter().flatten().any(|t| {
            let effect = t.effect.as_deref().unwrap_or("");
            let key_ok = t.key.as_deref().unwrap_or("").is_empty() || t.key.as_deref() == Some(key);
            key_ok && (effect.is_empty() || effect == "NoExecute")
        });
        if !tolerated {
            spec.tolerations
                .get_or_insert_with(Vec::new)
                .push(Toleration {
                    key: Some(key.into()),
                    operator: Some("Exists".into()),
                    effect: Some("NoExecute".into()),
                    toleration_seconds: Some(DEFAULT_TOLERATION_SECONDS),
                    value: None,
                });
        }
    }
}
