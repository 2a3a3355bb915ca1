//! What kubelet needs before it can start a pod's containers: the Secrets and ConfigMaps its
//! volumes name (`pkg/volume/secret`, `pkg/volume/configmap`, `pkg/volume/projected`) and the
//! ones its containers' environment reads (`pkg/kubelet/kubelet_pods.go`
//! `makeEnvironmentVariables`). A missing required one holds the pod: a volume with kubelet's
//! `FailedMount` event (`MountVolume.SetUp failed for volume "V" : secret "S" not found`)
//! and the containers `ContainerCreating`; an environment source with
//! `CreateContainerConfigError` (`secret "S" not found`). Sources marked `optional` never
//! hold a pod.

use k8s_openapi::api::core::v1::Pod;

/// A Secret or ConfigMap the pod needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    /// `secret` or `configmap` (kubelet's words in its messages).
    pub kind: &'static str,
    pub name: String,
    /// The volume that names it; `None` for a container's environment.
    pub volume: Option<String>,
}

impl Dependency {
    /// kubelet's message when the dependency does not exist.
    pub fn message(&self) -> String {
        match &self.volume {
            Some(v) => format!(
                "MountVolume.SetUp failed for volume \"{v}\" : {} \"{}\" not found",
                self.kind, self.name
            ),
            None => format!("{} \"{}\" not found", self.kind, self.name),
        }
    }

    /// The event reason: `FailedMount` for a volume, `Failed` for the environment.
    pub fn reason(&self) -> &'static str {
        if self.volume.is_some() {
            "FailedMount"
        } else {
            "Failed"
        }
    }
}

fn dep(kind: &'static str, name: &str, volume: Option<&str>) -> Dependency {
    Dependency {
        kind,
        name: name.to_string(),
        volume: volume.map(String::from),
    }
}

/// The required Secrets and ConfigMaps of `pod`, volumes first, in spec order.
pub fn dependencies(pod: &Pod) -> Vec<Dependency> {
    let Some(spec) = pod.spec.as_ref() else {
        return vec![];
    };
    let mut out = Vec::new();
    for v in spec.volumes.iter().flatten() {
        let vol = Some(v.name.as_str());
        if let Some(s) = &v.secret {
            if s.optional != Some(true) {
                if let Some(n) = &s.secret_name {
                    out.push(dep("secret", n, vol));
                }
            }
        }
        if let Some(c) = &v.config_map {
            if c.optional != Some(true) {
                out.push(dep("configmap", &c.name, vol));
            }
        }
        for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(s) = src.secret.as_ref().filter(|s| s.optional != Some(true)) {
                out.push(dep("secret", &s.name, vol));
            }
            if let Some(c) = src.config_map.as_ref().filter(|c| c.optional != Some(true)) {
                out.push(dep("configmap", &c.name, vol));
            }
        }
    }
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for c in containers {
        for e in c.env_from.iter().flatten() {
            if let Some(s) = e.secret_ref.as_ref().filter(|s| s.optional != Some(true)) {
                out.push(dep("secret", &s.name, None));
            }
            if let Some(m) = e
                .config_map_ref
                .as_ref()
                .filter(|m| m.optional != Some(true))
            {
                out.push(dep("configmap", &m.name, None));
            }
        }
        for e in c.env.iter().flatten() {
            let Some(from) = &e.value_from else { continue };
            if let Some(s) = from
                .secret_key_ref
                .as_ref()
                .filter(|s| s.optional != Some(true))
            {
                out.push(dep("secret", &s.name, None));
            }
            if let Some(m) = from
                .config_map_key_ref
                .as_ref()
                .filter(|m| m.optional != Some(true))
            {
                out.push(dep("configmap", &m.name, None));
            }
        }
    }
    out.dedup();
    out
}

/// The PersistentVolumeClaims `pod` uses: `persistentVolumeClaim.claimName`, and the claim
/// `<pod>-<volume>` of each generic ephemeral volume.
pub fn claims(pod: &Pod) -> Vec<String> {
    let pod_name = pod.metadata.name.as_deref().unwrap_or("");
    pod.spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            if let Some(c) = &v.persistent_volume_claim {
                Some(c.claim_name.clone())
            } else {
                v.ephemeral
                    .as_ref()
                    .map(|_| format!("{pod_name}-{}", v.name))
            }
        })
        .collect()
}

/// What the scheduler's VolumeBinding plugin knows of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    Missing,
    Bound,
    /// Not bound yet; `wait_for_first_consumer` when its StorageClass binds on first use.
    Unbound {
        wait_for_first_consumer: bool,
    },
}

/// The VolumeBinding plugin's PreFilter (pkg/scheduler/framework/plugins/volumebinding):
/// the reason `pod` cannot be scheduled on any node because of its claims, if any.
pub fn volume_binding_prefilter(pod: &Pod, state: impl Fn(&str) -> Claim) -> Option<String> {
    let mut unbound_immediate = false;
    for c in claims(pod) {
        match state(&c) {
            Claim::Missing => return Some(format!("persistentvolumeclaim \"{c}\" not found")),
            Claim::Unbound {
                wait_for_first_consumer: false,
            } => unbound_immediate = true,
            _ => {}
        }
    }
    unbound_immediate.then(|| "pod has unbound immediate PersistentVolumeClaims".to_string())
}

/// `FitError.Error()` for a PreFilter failure: no node was even tried.
pub fn prefilter_fit_error(total_nodes: usize, msg: &str) -> String {
    format!(
        "0/{total_nodes} nodes are available: {msg}. preemption: 0/{total_nodes} nodes are available: {total_nodes} Preemption is not helpful for scheduling."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(spec: serde_json::Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "spec": spec})).unwrap()
    }

    #[test]
    fn required_sources_are_dependencies_with_kubelets_messages() {
        let p = pod(json!({
            "volumes": [
                {"name": "creds", "secret": {"secretName": "db"}},
                {"name": "opt", "secret": {"secretName": "maybe", "optional": true}},
                {"name": "config", "configMap": {"name": "app"}},
                {"name": "proj", "projected": {"sources": [{"configMap": {"name": "kube-root-ca.crt"}}]}},
            ],
            "containers": [{"name": "c", "image": "x",
                "envFrom": [{"secretRef": {"name": "env"}}],
                "env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "vals", "key": "a"}}},
                        {"name": "B", "valueFrom": {"secretKeyRef": {"name": "o", "key": "b", "optional": true}}}]}],
        }));
        let deps = dependencies(&p);
        let msgs: Vec<(String, &str)> = deps.iter().map(|d| (d.message(), d.reason())).collect();
        assert_eq!(
            msgs,
            vec![
                ("MountVolume.SetUp failed for volume \"creds\" : secret \"db\" not found".into(), "FailedMount"),
                ("MountVolume.SetUp failed for volume \"config\" : configmap \"app\" not found".into(), "FailedMount"),
                ("MountVolume.SetUp failed for volume \"proj\" : configmap \"kube-root-ca.crt\" not found".into(), "FailedMount"),
                ("secret \"env\" not found".into(), "Failed"),
                ("configmap \"vals\" not found".into(), "Failed"),
            ]
        );
    }

    #[test]
    fn claims_decide_scheduling_as_the_volume_binding_plugin() {
        let p = pod(json!({"containers": [{"name": "c"}], "volumes": [
            {"name": "data", "persistentVolumeClaim": {"claimName": "db"}},
            {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}}]}));
        assert_eq!(claims(&p), vec!["db".to_string(), "p-scratch".to_string()]);
        let all = |c: Claim| move |_: &str| c;
        assert_eq!(volume_binding_prefilter(&p, all(Claim::Bound)), None);
        assert_eq!(
            volume_binding_prefilter(
                &p,
                all(Claim::Unbound {
                    wait_for_first_consumer: true
                })
            ),
            None
        );
        assert_eq!(
            volume_binding_prefilter(
                &p,
                all(Claim::Unbound {
                    wait_for_first_consumer: false
                })
            )
            .as_deref(),
            Some("pod has unbound immediate PersistentVolumeClaims")
        );
        assert_eq!(
            volume_binding_prefilter(&p, all(Claim::Missing)).as_deref(),
            Some("persistentvolumeclaim \"db\" not found")
        );
        assert_eq!(
            prefilter_fit_error(3, "pod has unbound immediate PersistentVolumeClaims"),
            "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
        );
    }

    #[test]
    fn a_pod_without_sources_needs_nothing() {
        assert_eq!(
            dependencies(&pod(json!({"containers": [{"name": "c"}]}))),
            vec![]
        );
    }
}
