//! v1 defaulting of pods (`pkg/apis/core/v1/defaults.go`: `SetDefaults_Pod`,
//! `SetDefaults_PodSpec`, `SetDefaults_Container`, `SetDefaults_ContainerPort`,
//! `SetDefaults_Probe`, `SetDefaults_HTTPGetAction`, `SetDefaults_Volume`, the volume source
//! `DefaultMode`s and `SetDefaults_ObjectFieldSelector`) and the admission plugins every
//! kube-apiserver runs on pod create: `ServiceAccount`, `DefaultTolerationSeconds` and
//! `Priority`.

use crate::serviceaccount::AdmissionError;
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, ObjectFieldSelector, Pod, PodSecurityContext, PodSpec, Probe,
    ResourceRequirements, ServiceAccount, Toleration, Volume,
};

/// `v1.DefaultTerminationGracePeriodSeconds`.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;
/// `v1.TerminationMessagePathDefault`.
pub const TERMINATION_MESSAGE_PATH: &str = "/dev/termination-log";
/// `v1.DefaultSchedulerName`.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";
/// Where the ServiceAccount admission plugin mounts the API credentials.
pub const SERVICE_ACCOUNT_MOUNT_PATH: &str = crate::serviceaccount::DEFAULT_API_TOKEN_MOUNT_PATH;
/// Token lifetime the ServiceAccount admission plugin requests.
pub const API_ACCESS_TOKEN_EXPIRATION_SECONDS: i64 =
    crate::serviceaccount::WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS;
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

/// Admission on pod create, after defaulting, in kube-apiserver's plugin order:
/// - `ServiceAccount` ([`crate::serviceaccount::admit`]): `serviceAccountName` defaults to
///   `default` (mirrored into the deprecated `serviceAccount`); a ServiceAccount that does not
///   exist refuses the pod; unless `automountServiceAccountToken` is false, the projected
///   `kube-api-access-<suffix>` volume and its read-only mount at
///   `/var/run/secrets/kubernetes.io/serviceaccount`. `sa` is the ServiceAccount the pod names
///   (if it exists); `suffix` the 5 characters upstream draws from `utilrand.String(5)`.
/// - `Priority`: `priority: 0` and `preemptionPolicy: PreemptLowerPriority` when unset (no
///   PriorityClass objects exist in twinstack).
/// - `DefaultTolerationSeconds`: NoExecute tolerations of 300 s for `not-ready` and
///   `unreachable` unless the pod already tolerates those taints.
pub fn admit_create(
    pod: &mut Pod,
    sa: Option<&ServiceAccount>,
    api_access_suffix: &str,
) -> Result<(), AdmissionError> {
    crate::serviceaccount::admit(pod, sa, api_access_suffix)?;
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    spec.priority.get_or_insert(0);
    if spec.preemption_policy.as_deref().unwrap_or("").is_empty() {
        spec.preemption_policy = Some("PreemptLowerPriority".into());
    }
    add_default_tolerations(spec);
    Ok(())
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
