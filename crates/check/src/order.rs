//! The order `check` applies objects in: what others depend on first. kubectl applies in file
//! order and fails an object whose namespace does not exist yet; a CI check must not depend
//! on how files happen to be named, so `check` uses Helm's install order
//! (`helm/pkg/release/util/kind_sorter.go`, `InstallOrder`): namespaces, then policies,
//! ServiceAccounts, Secrets and ConfigMaps, storage, CRDs, RBAC, Services, then workloads.
//! Objects of one kind keep their order in the input; kinds Helm does not list come last.

/// Helm's `InstallOrder`.
const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

/// Where a kind goes in [`INSTALL_ORDER`] (unknown kinds after all of them).
pub fn rank(kind: &str) -> usize {
    INSTALL_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(INSTALL_ORDER.len())
}

/// The indexes of `kinds` in the order to apply them (a stable sort by [`rank`]).
pub fn apply_order<S: AsRef<str>>(kinds: &[S]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..kinds.len()).collect();
    idx.sort_by_key(|i| rank(kinds[*i].as_ref()));
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_first_services_before_workloads_unknown_last() {
        let cases: &[(&[&str], &[usize])] = &[
            (&["Deployment", "Service", "Namespace"], &[2, 1, 0]),
            (
                &["Ingress", "ConfigMap", "Widget", "Secret", "ServiceAccount"],
                &[4, 3, 1, 0, 2],
            ),
            // Stable within a kind.
            (&["Service", "Namespace", "Service"], &[1, 0, 2]),
            (&["RoleBinding", "Role", "ClusterRole"], &[2, 1, 0]),
            (&[], &[]),
        ];
        for (kinds, want) in cases {
            assert_eq!(apply_order(kinds), *want, "{kinds:?}");
        }
    }
}
