use super::*;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use serde_json::{json, Value};

fn msgs(errs: &ErrorList) -> Vec<String> {
    errs.iter().map(|e| e.to_string()).collect()
}

fn role(rules: Value) -> Role {
    serde_json::from_value(json!({"metadata": {"name": "r"}, "rules": rules})).unwrap()
}

#[test]
fn policy_rules_as_upstream_validates_them() {
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!([{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]), vec![]),
        (
            json!([{"apiGroups": [""], "resources": ["pods"], "verbs": []}]),
            vec!["rules[0].verbs: Required value: verbs must contain at least one value"],
        ),
        (
            json!([{"verbs": ["get"]}]),
            vec![
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
                "rules[0].resources: Required value: resource rules must supply at least one resource",
            ],
        ),
        (
            json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz"], "resources": ["pods"]}]),
            vec![
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to non-resource URLs",
                "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: rules cannot apply to both regular resources and non-resource URLs",
            ],
        ),
    ];
    for (rules, want) in cases {
        assert_eq!(msgs(&validate_role(&role(rules.clone()))), want, "{rules}");
    }
    // Cluster-wide rules may name non-resource URLs.
    let cr: ClusterRole = serde_json::from_value(json!({"metadata": {"name": "c"},
        "rules": [{"verbs": ["get"], "nonResourceURLs": ["/metrics"]}]}))
    .unwrap();
    assert!(validate_cluster_role(&cr).is_empty());
}

#[test]
fn aggregation_rules_need_valid_selectors() {
    let cr = |agg: Value| -> ClusterRole {
        serde_json::from_value(json!({"metadata": {"name": "c"}, "aggregationRule": agg})).unwrap()
    };
    assert_eq!(
        msgs(&validate_cluster_role(&cr(json!({})))),
        vec!["aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if aggregationRule is non-nil"]
    );
    assert!(validate_cluster_role(&cr(
        json!({"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]})
    ))
    .is_empty());
    let bad = msgs(&validate_cluster_role(&cr(
        json!({"clusterRoleSelectors": [
        {"matchExpressions": [{"key": "a", "operator": "In"}]}]}),
    )));
    assert_eq!(
        bad[0],
        "aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
    );
}

#[test]
fn bindings_default_and_validate_as_upstream() {
    let mut rb: RoleBinding = serde_json::from_value(json!({"metadata": {"name": "b"},
        "roleRef": {"kind": "Role", "name": "r"},
        "subjects": [{"kind": "User", "name": "jane"}, {"kind": "ServiceAccount", "name": "robot"},
            {"kind": "Group", "name": "devs", "apiGroup": ""}]}))
    .unwrap();
    set_binding_defaults(&mut rb.role_ref, rb.subjects.as_mut());
    let v = serde_json::to_value(&rb).unwrap();
    assert_eq!(v["roleRef"]["apiGroup"], GROUP_NAME);
    assert_eq!(v["subjects"][0]["apiGroup"], GROUP_NAME);
    assert!(v["subjects"][1].get("apiGroup").is_none(), "{v}");
    assert_eq!(v["subjects"][2]["apiGroup"], GROUP_NAME);
    assert!(validate_binding(&rb.role_ref, rb.subjects.as_deref().unwrap(), true).is_empty());

    let bad: RoleBinding = serde_json::from_value(json!({"metadata": {"name": "b"},
        "roleRef": {"apiGroup": "example.com", "kind": "Policy", "name": "a/b"},
        "subjects": [{"kind": "Robot", "name": "x"}, {"kind": "User", "name": "", "apiGroup": "x"},
            {"kind": "ServiceAccount", "name": "Bad_Name", "apiGroup": "v1"}]}))
    .unwrap();
    assert_eq!(
        msgs(&validate_binding(&bad.role_ref, bad.subjects.as_deref().unwrap(), true)),
        vec![
            "roleRef.apiGroup: Unsupported value: \"example.com\": supported values: \"rbac.authorization.k8s.io\"",
            "roleRef.kind: Unsupported value: \"Policy\": supported values: \"Role\", \"ClusterRole\"",
            "roleRef.name: Invalid value: \"a/b\": may not contain '/'",
            "subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\"",
            "subjects[1].name: Required value",
            "subjects[1].apiGroup: Unsupported value: \"x\": supported values: \"rbac.authorization.k8s.io\"",
            "subjects[2].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            "subjects[2].apiGroup: Unsupported value: \"v1\": supported values: \"\"",
        ]
    );

    // Cluster bindings: ClusterRoles only, and a ServiceAccount needs its namespace.
    let crb: ClusterRoleBinding = serde_json::from_value(json!({"metadata": {"name": "b"},
        "roleRef": {"apiGroup": GROUP_NAME, "kind": "Role", "name": "r"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot"}]}))
    .unwrap();
    assert_eq!(
        msgs(&validate_binding(
            &crb.role_ref,
            crb.subjects.as_deref().unwrap(),
            false
        )),
        vec![
            "roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
            "subjects[0].namespace: Required value",
        ]
    );
}

#[test]
fn role_ref_cannot_change() {
    let a = RoleRef {
        api_group: GROUP_NAME.into(),
        kind: "Role".into(),
        name: "a".into(),
    };
    let b = RoleRef {
        name: "b".into(),
        ..a.clone()
    };
    assert!(validate_binding_update(&a, &a).is_empty());
    assert_eq!(
        msgs(&validate_binding_update(&b, &a)),
        vec!["roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"Role\", Name:\"b\"}: cannot change roleRef"]
    );
}

#[test]
fn binding_cells_as_kubectl_shows_them() {
    let subjects: Vec<Subject> = serde_json::from_value(json!([
        {"kind": "User", "name": "jane"}, {"kind": "User", "name": "joe"},
        {"kind": "Group", "name": "devs"},
        {"kind": "ServiceAccount", "name": "robot", "namespace": "shop"}]))
    .unwrap();
    let rr = RoleRef {
        api_group: GROUP_NAME.into(),
        kind: "ClusterRole".into(),
        name: "view".into(),
    };
    assert_eq!(
        binding_cells(&rr, &subjects),
        (
            "ClusterRole/view".to_string(),
            [
                "jane, joe".to_string(),
                "devs".to_string(),
                "shop/robot".to_string()
            ]
        )
    );
}
