//! Patch metadata of the built-in types twinstack serves: for each field, how strategic merge
//! patch merges it (Go struct tags `patchStrategy` / `patchMergeKey` in k8s.io/api) and how
//! server-side apply tracks it (`+listType`, `+listMapKey`, `+mapType`, `+structType` markers,
//! which structured-merge-diff reads from the OpenAPI schema).
//!
//! Verified against k8s.io/api `core/v1/types.go`, `apps/v1/types.go`, `batch/v1/types.go`,
//! apimachinery `meta/v1/types.go` and cross-checked with k8s-openapi 0.28 `DeepMerge` impls.
//! Differences between the two worlds are deliberate, e.g. Service ports: SMP merge key `port`,
//! SSA keys `port`+`protocol`; container ports: SMP `containerPort`, SSA `containerPort`+`protocol`.
//!
//! Fields not listed behave as in an unknown type: maps merge recursively (SMP) / are granular
//! (SSA), lists are replaced (SMP) / atomic (SSA).

/// The kinds with patch metadata. Anything else is [`PatchKind::Unknown`] (SMP then behaves as a
/// JSON merge patch with the `$patch` directives still honoured; SSA treats lists as atomic).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PatchKind {
    Pod,
    Service,
    Namespace,
    Node,
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
    ConfigMap,
    Secret,
    EndpointSlice,
    Event,
    Unknown,
    /// apimachinery patch_test.go's `MergeItem` test struct.
    #[cfg(test)]
    TestMergeItem,
}

impl PatchKind {
    /// Map a `kind` string (`"Pod"`, `"Deployment"`, …) to its patch metadata.
    pub fn from_kind(kind: &str) -> PatchKind {
        match kind {
            "Pod" => PatchKind::Pod,
            "Service" => PatchKind::Service,
            "Namespace" => PatchKind::Namespace,
            "Node" => PatchKind::Node,
            "Deployment" => PatchKind::Deployment,
            "ReplicaSet" => PatchKind::ReplicaSet,
            "StatefulSet" => PatchKind::StatefulSet,
            "DaemonSet" => PatchKind::DaemonSet,
            "Job" => PatchKind::Job,
            "CronJob" => PatchKind::CronJob,
            "ConfigMap" => PatchKind::ConfigMap,
            "Secret" => PatchKind::Secret,
            "EndpointSlice" => PatchKind::EndpointSlice,
            "Event" => PatchKind::Event,
            _ => PatchKind::Unknown,
        }
    }

    /// The type of the top-level object.
    pub(crate) fn root(self) -> Ty {
        Ty::Root(self)
    }

    /// The Go zero value of the kind as the apiserver's `scope.Creater.New` object serializes
    /// (non-pointer structs present as `{}`, non-omitempty slices as `null`). Server-side apply
    /// compares a create against it, which decides whether a map gets a `.` member in
    /// `fieldsV1` (present in the zero value: no `.`).
    pub(crate) fn zero_object(self) -> serde_json::Value {
        use serde_json::json;
        let pod_template =
            json!({"metadata": {"creationTimestamp": null}, "spec": {"containers": null}});
        match self {
            PatchKind::Pod => {
                json!({"metadata": {"creationTimestamp": null}, "spec": {"containers": null}, "status": {}})
            }
            PatchKind::Service => {
                json!({"metadata": {"creationTimestamp": null}, "spec": {}, "status": {"loadBalancer": {}}})
            }
            PatchKind::Namespace | PatchKind::Node => {
                json!({"metadata": {"creationTimestamp": null}, "spec": {}, "status": {}})
            }
            PatchKind::Deployment => json!({
                "metadata": {"creationTimestamp": null},
                "spec": {"selector": null, "template": pod_template, "strategy": {}},
                "status": {}
            }),
            PatchKind::ReplicaSet | PatchKind::Job => json!({
                "metadata": {"creationTimestamp": null},
                "spec": {"template": pod_template},
                "status": {}
            }),
            PatchKind::StatefulSet => json!({
                "metadata": {"creationTimestamp": null},
                "spec": {"selector": null, "template": pod_template, "serviceName": "", "updateStrategy": {}},
                "status": {"replicas": 0, "availableReplicas": 0}
            }),
            PatchKind::DaemonSet => json!({
                "metadata": {"creationTimestamp": null},
                "spec": {"selector": null, "template": pod_template, "updateStrategy": {}},
                "status": {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}
            }),
            PatchKind::CronJob => json!({
                "metadata": {"creationTimestamp": null},
                "spec": {"schedule": "", "jobTemplate": {"metadata": {"creationTimestamp": null}, "spec": {"template": pod_template}}},
                "status": {}
            }),
            PatchKind::EndpointSlice => {
                json!({"metadata": {"creationTimestamp": null}, "addressType": "", "endpoints": null, "ports": null})
            }
            PatchKind::Event => json!({
                "metadata": {"creationTimestamp": null},
                "involvedObject": {}, "source": {},
                "firstTimestamp": null, "lastTimestamp": null, "eventTime": null,
                "reportingComponent": "", "reportingInstance": ""
            }),
            PatchKind::ConfigMap | PatchKind::Secret | PatchKind::Unknown => {
                json!({"metadata": {"creationTimestamp": null}})
            }
            #[cfg(test)]
            PatchKind::TestMergeItem => json!({}),
        }
    }
}

/// A node type in the patch schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ty {
    /// Unknown: maps merge/granular, lists replace/atomic.
    Any,
    #[cfg(test)]
    TestMergeItem,
    #[cfg(test)]
    TestRetainKeysItem,
    /// SSA atomic struct or map (`+structType=atomic`, `+mapType=atomic`): owned as one leaf.
    /// SMP still merges maps recursively (it has no notion of atomic maps).
    Atomic,
    Root(PatchKind),
    Meta,
    PodTemplate,
    PodSpec,
    PodStatus,
    Container,
    ServiceSpec,
    ServiceStatus,
    NamespaceStatus,
    NodeSpec,
    NodeStatus,
    /// Deployment/ReplicaSet/StatefulSet/DaemonSet spec (selector atomic, template).
    WorkloadSpec {
        retain_strategy: bool,
    },
    /// Status with `conditions` keyed by `type` in both SMP and SSA.
    ConditionsStatus,
    JobSpec,
    JobStatus,
    CronJobSpec,
    JobTemplate,
}

/// How strategic merge patch treats a list field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SmpList {
    /// No patch strategy: the patch list replaces the live list.
    Replace,
    /// `patchStrategy:"merge"` on a list of scalars.
    MergePrimitive,
    /// `patchStrategy:"merge" patchMergeKey:"<key>"` on a list of objects.
    MergeKeyed(&'static str),
}

/// How server-side apply treats a list field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SsaList {
    Atomic,
    /// `+listType=set`.
    Set,
    /// `+listType=map` with these `+listMapKey`s (in declaration order).
    Map(&'static [&'static str]),
}

/// Metadata of one field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FieldMeta {
    /// The type of the field's value (for lists: of each item).
    pub ty: Ty,
    pub smp: SmpList,
    pub ssa: SsaList,
    /// `patchStrategy` includes `retainKeys` (applies to the object, or to each list item).
    pub retain_keys: bool,
}

const fn f(ty: Ty) -> FieldMeta {
    FieldMeta {
        ty,
        smp: SmpList::Replace,
        ssa: SsaList::Atomic,
        retain_keys: false,
    }
}

const fn keyed(ty: Ty, smp_key: &'static str, ssa_keys: &'static [&'static str]) -> FieldMeta {
    FieldMeta {
        ty,
        smp: SmpList::MergeKeyed(smp_key),
        ssa: SsaList::Map(ssa_keys),
        retain_keys: false,
    }
}

const fn retain(mut m: FieldMeta) -> FieldMeta {
    m.retain_keys = true;
    m
}

const SET: FieldMeta = FieldMeta {
    ty: Ty::Any,
    smp: SmpList::MergePrimitive,
    ssa: SsaList::Set,
    retain_keys: false,
};
const CONDITIONS: FieldMeta = keyed(Ty::Any, "type", &["type"]);

/// Metadata of field `name` of a value of type `parent`.
pub(crate) fn field(parent: Ty, name: &str) -> FieldMeta {
    use PatchKind as K;
    match (parent, name) {
        #[cfg(test)]
        (Ty::Root(K::TestMergeItem), _) => field(Ty::TestMergeItem, name),
        #[cfg(test)]
        (Ty::TestMergeItem, "mergingList") | (Ty::TestRetainKeysItem, "mergingList") => {
            keyed(Ty::TestMergeItem, "name", &["name"])
        }
        #[cfg(test)]
        (Ty::TestMergeItem, "nonMergingList") | (Ty::TestRetainKeysItem, "nonMergingList") => {
            f(Ty::TestMergeItem)
        }
        #[cfg(test)]
        (Ty::TestMergeItem, "mergingIntList") | (Ty::TestRetainKeysItem, "mergingIntList") => SET,
        #[cfg(test)]
        (Ty::TestMergeItem, "mergeItemPtr") => f(Ty::TestMergeItem),
        #[cfg(test)]
        (Ty::TestMergeItem, "retainKeysMap") => retain(f(Ty::TestRetainKeysItem)),
        #[cfg(test)]
        (Ty::TestMergeItem, "retainKeysMergingList") => {
            retain(keyed(Ty::TestMergeItem, "name", &["name"]))
        }
        (Ty::Root(_), "metadata") => f(Ty::Meta),
        (Ty::Root(k), "spec") => match k {
            K::Pod => f(Ty::PodSpec),
            K::Service => f(Ty::ServiceSpec),
            K::Node => f(Ty::NodeSpec),
            K::Deployment => f(Ty::WorkloadSpec {
                retain_strategy: true,
            }),
            K::ReplicaSet | K::StatefulSet | K::DaemonSet => f(Ty::WorkloadSpec {
                retain_strategy: false,
            }),
            K::Job => f(Ty::JobSpec),
            K::CronJob => f(Ty::CronJobSpec),
            _ => f(Ty::Any),
        },
        (Ty::Root(k), "status") => match k {
            K::Pod => f(Ty::PodStatus),
            K::Service => f(Ty::ServiceStatus),
            K::Namespace => f(Ty::NamespaceStatus),
            K::Node => f(Ty::NodeStatus),
            K::Deployment | K::ReplicaSet | K::StatefulSet | K::DaemonSet => {
                f(Ty::ConditionsStatus)
            }
            K::Job => f(Ty::JobStatus),
            _ => f(Ty::Any),
        },
        // EndpointSlice endpoints/ports: +listType=atomic, no patch strategy (the default).
        // Event: no lists with strategies.
        (Ty::Meta, "ownerReferences") => keyed(Ty::Any, "uid", &["uid"]),
        (Ty::Meta, "finalizers") => SET,
        (Ty::PodTemplate, "metadata") | (Ty::JobTemplate, "metadata") => f(Ty::Meta),
        (Ty::PodTemplate, "spec") => f(Ty::PodSpec),
        (Ty::JobTemplate, "spec") => f(Ty::JobSpec),
        (Ty::CronJobSpec, "jobTemplate") => f(Ty::JobTemplate),
        (Ty::WorkloadSpec { .. }, "template") | (Ty::JobSpec, "template") => f(Ty::PodTemplate),
        (Ty::WorkloadSpec { .. }, "selector") | (Ty::JobSpec, "selector") => f(Ty::Atomic),
        (
            Ty::WorkloadSpec {
                retain_strategy: true,
            },
            "strategy",
        ) => retain(f(Ty::Any)),
        (Ty::PodSpec, "volumes") => retain(keyed(Ty::Any, "name", &["name"])),
        (Ty::PodSpec, "containers")
        | (Ty::PodSpec, "initContainers")
        | (Ty::PodSpec, "ephemeralContainers") => keyed(Ty::Container, "name", &["name"]),
        (Ty::PodSpec, "imagePullSecrets") => keyed(Ty::Any, "name", &["name"]),
        (Ty::PodSpec, "hostAliases") => keyed(Ty::Any, "ip", &["ip"]),
        (Ty::PodSpec, "topologySpreadConstraints") => keyed(
            Ty::Any,
            "topologyKey",
            &["topologyKey", "whenUnsatisfiable"],
        ),
        (Ty::PodSpec, "resourceClaims") => retain(keyed(Ty::Any, "name", &["name"])),
        (Ty::PodSpec, "schedulingGates") => keyed(Ty::Any, "name", &["name"]),
        (Ty::PodSpec, "nodeSelector") => f(Ty::Atomic),
        (Ty::Container, "env") => keyed(Ty::Any, "name", &["name"]),
        (Ty::Container, "ports") => keyed(Ty::Any, "containerPort", &["containerPort", "protocol"]),
        (Ty::Container, "volumeMounts") => keyed(Ty::Any, "mountPath", &["mountPath"]),
        (Ty::Container, "volumeDevices") => keyed(Ty::Any, "devicePath", &["devicePath"]),
        (Ty::PodStatus, "conditions") => CONDITIONS,
        (Ty::PodStatus, "podIPs") => keyed(Ty::Any, "ip", &["ip"]),
        (Ty::PodStatus, "hostIPs") => FieldMeta {
            ssa: SsaList::Atomic,
            ..keyed(Ty::Any, "ip", &["ip"])
        },
        (Ty::ServiceSpec, "ports") => keyed(Ty::Any, "port", &["port", "protocol"]),
        (Ty::ServiceSpec, "selector") => f(Ty::Atomic),
        (Ty::ServiceStatus, "conditions") => CONDITIONS,
        (Ty::NamespaceStatus, "conditions") => CONDITIONS,
        (Ty::NodeSpec, "podCIDRs") => SET,
        (Ty::NodeStatus, "addresses") => keyed(Ty::Any, "type", &["type"]),
        (Ty::NodeStatus, "conditions") => CONDITIONS,
        (Ty::ConditionsStatus, "conditions") => CONDITIONS,
        (Ty::JobStatus, "conditions") => FieldMeta {
            ssa: SsaList::Atomic,
            ..CONDITIONS
        },
        _ => f(Ty::Any),
    }
}

/// The default of an SSA list-map key field missing from an item (structured-merge-diff uses
/// the schema default: `protocol` defaults to `TCP` for Service and container ports).
pub(crate) fn key_default(key: &str) -> Option<serde_json::Value> {
    match key {
        "protocol" => Some(serde_json::Value::String("TCP".into())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keys_match_types_go() {
        let svc = field(PatchKind::Service.root(), "spec").ty;
        assert_eq!(field(svc, "ports").smp, SmpList::MergeKeyed("port"));
        assert_eq!(field(svc, "ports").ssa, SsaList::Map(&["port", "protocol"]));
        assert_eq!(field(svc, "clusterIPs").smp, SmpList::Replace);
        assert_eq!(field(svc, "ipFamilies").ssa, SsaList::Atomic);
        let pod = field(PatchKind::Pod.root(), "spec").ty;
        assert_eq!(field(pod, "tolerations").smp, SmpList::Replace);
        assert!(field(pod, "volumes").retain_keys);
        let c = field(pod, "containers").ty;
        assert_eq!(
            field(c, "volumeMounts").smp,
            SmpList::MergeKeyed("mountPath")
        );
        assert_eq!(field(c, "ports").smp, SmpList::MergeKeyed("containerPort"));
        let meta = field(PatchKind::Deployment.root(), "metadata").ty;
        assert_eq!(field(meta, "finalizers").smp, SmpList::MergePrimitive);
        assert_eq!(
            field(meta, "ownerReferences").smp,
            SmpList::MergeKeyed("uid")
        );
        let dspec = field(PatchKind::Deployment.root(), "spec").ty;
        assert!(field(dspec, "strategy").retain_keys);
        let tmpl = field(dspec, "template").ty;
        assert_eq!(field(tmpl, "spec").ty, Ty::PodSpec);
        assert_eq!(PatchKind::from_kind("Widget"), PatchKind::Unknown);
    }
}
