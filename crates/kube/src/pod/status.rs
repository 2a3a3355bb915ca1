//! Pod status as the scheduler and kubelet write it: the Unschedulable condition, the
//! Pending/ContainerCreating status right after binding, and the Running status once the
//! sandbox and containers are up (kubelet `generateAPIPodStatus`, `pkg/kubelet/status`
//! `GeneratePodReadyCondition` & co., `pkg/apis/core/v1/helper/qos` `GetPodQOS`).
//! Container and image IDs are derived from the pod UID and image name (no randomness), in
//! containerd's shape.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, HostIP, Node,
    Pod, PodCondition, PodIP, PodStatus, VolumeMountStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::quantity::Quantity;

/// Status the scheduler writes when no node fits (condition `PodScheduled=False`).
pub fn unschedulable_status(pod: &Pod, message: &str, now: jiff::Timestamp) -> PodStatus {
    let mut st = pod.status.clone().unwrap_or_default();
    st.phase = Some("Pending".into());
    st.qos_class = Some(qos_class(pod).into());
    set_condition(
        &mut st,
        condition(
            "PodScheduled",
            "False",
            Some("Unschedulable"),
            Some(message),
            now,
        ),
    );
    st
}

/// Status right after binding, before containers run: `PodScheduled=True`, every container
/// waiting in `ContainerCreating` (what `kubectl get pods` shows meanwhile).
pub fn pending_status(pod: &Pod, host_ips: &[IpAddr], now: jiff::Timestamp) -> PodStatus {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut st = pod.status.clone().unwrap_or_default();
    st.phase = Some("Pending".into());
    set_host_ips(&mut st, host_ips);
    st.start_time = Some(Time(now));
    st.qos_class = Some(qos_class(pod).into());
    for c in [
        condition("PodReadyToStartContainers", "False", None, None, now),
        condition("Initialized", "True", None, None, now),
        condition(
            "Ready",
            "False",
            Some("ContainersNotReady"),
            Some(&not_ready_message(&spec)),
            now,
        ),
        condition(
            "ContainersReady",
            "False",
            Some("ContainersNotReady"),
            Some(&not_ready_message(&spec)),
            now,
        ),
        condition("PodScheduled", "True", None, None, now),
    ] {
        set_condition(&mut st, c);
    }
    st.container_statuses = Some(
        spec.containers
            .iter()
            .map(|c| ContainerStatus {
                name: c.name.clone(),
                image: c.image.clone().unwrap_or_default(),
                image_id: String::new(),
                ready: false,
                started: Some(false),
                restart_count: 0,
                state: Some(ContainerState {
                    waiting: Some(ContainerStateWaiting {
                        reason: Some("ContainerCreating".into()),
                        message: None,
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .collect(),
    );
    st
}

fn not_ready_message(spec: &k8s_openapi::api::core::v1::PodSpec) -> String {
    let names: Vec<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    format!("containers with unready status: [{}]", names.join(" "))
}

/// The Running status kubelet reports once every container started. `pod_ips` and
/// `host_ips` are in the cluster's family order (primary first); `node` only feeds the host
/// IPs when `host_ips` is empty. Readiness gates without a True condition keep Ready False.
pub fn running_status(
    pod: &Pod,
    node: Option<&Node>,
    pod_ips: &[IpAddr],
    host_ips: &[IpAddr],
    now: jiff::Timestamp,
) -> PodStatus {
    let spec = pod.spec.clone().unwrap_or_default();
    let mut st = pod.status.clone().unwrap_or_default();
    let started = st.start_time.clone().unwrap_or(Time(now));
    st.phase = Some("Running".into());
    st.start_time = Some(started.clone());
    let node_ips: Vec<IpAddr> = if host_ips.is_empty() {
        node.map(node_internal_ips).unwrap_or_default()
    } else {
        host_ips.to_vec()
    };
    set_host_ips(&mut st, &node_ips);
    let pod_ips: Vec<IpAddr> = if spec.host_network == Some(true) {
        node_ips.clone()
    } else {
        pod_ips.to_vec()
    };
    st.pod_ip = pod_ips.first().map(|i| i.to_string());
    st.pod_ips = Some(
        pod_ips
            .iter()
            .map(|i| PodIP { ip: i.to_string() })
            .collect(),
    );
    st.qos_class = Some(qos_class(pod).into());
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    st.container_statuses = Some(
        spec.containers
            .iter()
            .map(|c| {
                let image = c.image.clone().unwrap_or_default();
                ContainerStatus {
                    name: c.name.clone(),
                    container_id: Some(format!(
                        "containerd://{}",
                        hex64(&format!("{uid}/{}", c.name))
                    )),
                    image: normalize_image(&image),
                    image_id: image_id(&image),
                    ready: true,
                    started: Some(true),
                    restart_count: 0,
                    volume_mounts: mount_statuses(c),
                    state: Some(ContainerState {
                        running: Some(ContainerStateRunning {
                            started_at: Some(Time(now)),
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }
            })
            .collect(),
    );
    let gates: Vec<String> = spec
        .readiness_gates
        .iter()
        .flatten()
        .map(|g| g.condition_type.clone())
        .collect();
    let missing: Vec<&String> = gates
        .iter()
        .filter(|g| {
            !st.conditions
                .iter()
                .flatten()
                .any(|c| &c.type_ == *g && c.status == "True")
        })
        .collect();
    let ready = if let Some(g) = missing.first() {
        let exists = st.conditions.iter().flatten().any(|c| &c.type_ == *g);
        let msg = if exists {
            format!("the status of pod readiness gate \"{g}\" is not \"True\", but False")
        } else {
            format!("corresponding condition of pod readiness gate \"{g}\" does not exist.")
        };
        condition(
            "Ready",
            "False",
            Some("ReadinessGatesNotReady"),
            Some(&msg),
            now,
        )
    } else {
        condition("Ready", "True", None, None, now)
    };
    for c in [
        condition("PodReadyToStartContainers", "True", None, None, now),
        condition("Initialized", "True", None, None, now),
        ready,
        condition("ContainersReady", "True", None, None, now),
        condition("PodScheduled", "True", None, None, now),
    ] {
        set_condition(&mut st, c);
    }
    st
}

/// `containerStatuses[].volumeMounts` (RecursiveReadOnlyMounts, beta and on since 1.31):
/// read-only mounts report `recursiveReadOnly: Disabled` unless recursive read-only was asked
/// for (`Enabled`/`IfPossible` resolve to Enabled on containerd 1.7 runtimes, which support it).
fn mount_statuses(c: &k8s_openapi::api::core::v1::Container) -> Option<Vec<VolumeMountStatus>> {
    let mounts = c.volume_mounts.as_ref()?;
    Some(
        mounts
            .iter()
            .map(|m| {
                let ro = m.read_only == Some(true);
                let rro = ro.then(|| match m.recursive_read_only.as_deref() {
                    Some("Enabled") | Some("IfPossible") => "Enabled".to_string(),
                    _ => "Disabled".to_string(),
                });
                VolumeMountStatus {
                    name: m.name.clone(),
                    mount_path: m.mount_path.clone(),
                    read_only: ro.then_some(true),
                    recursive_read_only: rro,
                }
            })
            .collect(),
    )
}

fn set_host_ips(st: &mut PodStatus, ips: &[IpAddr]) {
    st.host_ip = ips.first().map(|i| i.to_string());
    st.host_ips = Some(ips.iter().map(|i| HostIP { ip: i.to_string() }).collect());
}

/// The node's InternalIP addresses in the order the node lists them.
pub fn node_internal_ips(node: &Node) -> Vec<IpAddr> {
    node.status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .into_iter()
        .flatten()
        .filter(|a| a.type_ == "InternalIP")
        .filter_map(|a| a.address.parse().ok())
        .collect()
}

fn condition(
    ty: &str,
    status: &str,
    reason: Option<&str>,
    message: Option<&str>,
    now: jiff::Timestamp,
) -> PodCondition {
    PodCondition {
        type_: ty.into(),
        status: status.into(),
        reason: reason.map(String::from),
        message: message.map(String::from),
        last_transition_time: Some(Time(now)),
        last_probe_time: None,
    }
}

/// Upserts a condition, keeping `lastTransitionTime` when the status does not change (as
/// kubelet's status manager does). Conditions keep kubelet's order.
fn set_condition(st: &mut PodStatus, c: PodCondition) {
    let list = st.conditions.get_or_insert_with(Vec::new);
    if let Some(old) = list.iter_mut().find(|o| o.type_ == c.type_) {
        let keep = old.status == c.status;
        let t = old.last_transition_time.clone();
        *old = c;
        if keep {
            old.last_transition_time = t;
        }
        return;
    }
    list.push(c);
    const ORDER: [&str; 5] = [
        "PodReadyToStartContainers",
        "Initialized",
        "Ready",
        "ContainersReady",
        "PodScheduled",
    ];
    let rank = |t: &str| ORDER.iter().position(|o| *o == t).unwrap_or(ORDER.len());
    list.sort_by_key(|c| rank(&c.type_));
}

/// `GetPodQOS`: Guaranteed when every container limits cpu and memory and the summed requests
/// equal the summed limits,
/// BestEffort when none sets any cpu/memory request or limit, Burstable otherwise.
pub fn qos_class(pod: &Pod) -> &'static str {
    let Some(spec) = pod.spec.as_ref() else {
        return "BestEffort";
    };
    let mut requests: BTreeMap<&str, i128> = BTreeMap::new();
    let mut limits: BTreeMap<&str, i128> = BTreeMap::new();
    let mut guaranteed = true;
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let res = c.resources.as_ref();
        let get = |m: Option<
            &BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
        >,
                   k: &str| {
            m.and_then(|m| m.get(k))
                .and_then(|q| Quantity::parse(&q.0).ok())
                .map(|q| q.nanos)
        };
        let mut c_limits = 0;
        for k in ["cpu", "memory"] {
            let r = get(res.and_then(|r| r.requests.as_ref()), k).filter(|v| *v > 0);
            let l = get(res.and_then(|r| r.limits.as_ref()), k).filter(|v| *v > 0);
            if let Some(r) = r {
                *requests.entry(k).or_default() += r;
            }
            if let Some(l) = l {
                *limits.entry(k).or_default() += l;
                c_limits += 1;
            }
        }
        if c_limits != 2 {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed && requests == limits {
        return "Guaranteed";
    }
    "Burstable"
}

/// The image reference containerd reports: `nginx` → `docker.io/library/nginx:latest`.
pub fn normalize_image(image: &str) -> String {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let mut full = if has_registry {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if let Some(d) = digest {
        full = format!("{full}@{d}");
    } else if !last.contains(':') {
        full.push_str(":latest");
    }
    full
}

/// `repo@sha256:<digest>` as kubelet reports `imageID`; the digest is derived from the image
/// reference (stable, not the registry's).
pub fn image_id(image: &str) -> String {
    let full = normalize_image(image);
    if full.contains("@sha256:") {
        return full;
    }
    let repo = match full.rfind(':') {
        Some(i) if i > full.rfind('/').unwrap_or(0) => &full[..i],
        _ => &full,
    };
    format!("{repo}@sha256:{}", hex64(&full))
}

/// 64 hex characters from FNV-1a over `s` with four seeds (stable IDs, not cryptographic).
pub fn hex64(s: &str) -> String {
    let mut out = String::with_capacity(64);
    for seed in 0u64..4 {
        let mut h: u64 = 0xcbf29ce484222325 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        for b in s.bytes() {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
        out.push_str(&format!("{h:016x}"));
    }
    out
}
