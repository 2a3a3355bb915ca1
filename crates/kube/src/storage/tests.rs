use super::*;
use serde_json::json;

#[test]
fn provider_classes_table() {
    // (provider, [(name, default, provisioner)])
    let cases = [
        (Provider::Aws, vec![("default", true, "ebs.csi.aws.com")]),
        (
            Provider::Gcp,
            vec![
                ("default", true, "pd.csi.storage.gke.io"),
                ("gce-sc-hdd", false, "pd.csi.storage.gke.io"),
                ("gce-sc-fast", false, "pd.csi.storage.gke.io"),
            ],
        ),
        (Provider::Azure, vec![]),
    ];
    for (p, want) in cases {
        let got: Vec<(String, bool, String)> = provider_classes(p)
            .iter()
            .map(|c| {
                (
                    c.metadata.name.clone().unwrap(),
                    is_default(&c.metadata),
                    c.provisioner.clone(),
                )
            })
            .collect();
        let want: Vec<(String, bool, String)> = want
            .into_iter()
            .map(|(n, d, p)| (n.to_string(), d, p.to_string()))
            .collect();
        assert_eq!(got, want, "{p:?}");
        for c in provider_classes(p) {
            assert_eq!(
                c.volume_binding_mode.as_deref(),
                Some("WaitForFirstConsumer")
            );
            assert_eq!(c.reclaim_policy.as_deref(), Some("Delete"));
        }
    }
}

#[test]
fn defaults_and_name_cell() {
    let mut sc: StorageClass = serde_json::from_value(json!({
        "metadata": {"name": "fast", "annotations": {BETA_IS_DEFAULT_CLASS: "true"}},
        "provisioner": "example.com/x"
    }))
    .unwrap();
    set_defaults(&mut sc);
    assert_eq!(sc.reclaim_policy.as_deref(), Some("Delete"));
    assert_eq!(sc.volume_binding_mode.as_deref(), Some("Immediate"));
    assert_eq!(name_cell(&sc), "fast (default)");
    sc.metadata.annotations = Some(BTreeMap::from([(IS_DEFAULT_CLASS.into(), "false".into())]));
    assert_eq!(name_cell(&sc), "fast");
}

mod claim_rules {
    use super::super::claims::*;
    use super::super::*;
    use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
    use serde_json::{json, Value};

    fn pvc(tweak: impl FnOnce(&mut Value)) -> PersistentVolumeClaim {
        let mut v = json!({
            "metadata": {"name": "data", "namespace": "default", "uid": "1234-5678"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        });
        tweak(&mut v);
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn validation_table() {
        type Tweak = fn(&mut Value);
        let cases: Vec<(&str, Tweak, Vec<&str>)> = vec![
            ("valid", |_| {}, vec![]),
            (
                "no access modes",
                |v| v["spec"]["accessModes"] = json!([]),
                vec!["spec.accessModes: Required value: at least 1 access mode is required"],
            ),
            (
                "bad access mode",
                |v| v["spec"]["accessModes"] = json!(["ReadWriteSometimes"]),
                vec!["spec.accessModes: Unsupported value: \"ReadWriteSometimes\": supported values: \"ReadOnlyMany\", \"ReadWriteMany\", \"ReadWriteOnce\", \"ReadWriteOncePod\""],
            ),
            (
                "no storage request",
                |v| v["spec"]["resources"] = json!({}),
                vec!["spec.resources[storage]: Required value"],
            ),
        ];
        for (name, tweak, want) in cases {
            let got: Vec<String> = validate_claim(&pvc(tweak))
                .iter()
                .map(|e| e.to_string())
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn default_storage_class_admission_table() {
        let classes = provider_classes(twinstack_core::runtime::Provider::Gcp);
        // (name, tweak, class after admission)
        type Tweak = fn(&mut Value);
        let cases: Vec<(&str, Tweak, Option<&str>)> = vec![
            ("no class gets the default", |_| {}, Some("default")),
            (
                "a named class stays",
                |v| v["spec"]["storageClassName"] = json!("gce-sc-fast"),
                Some("gce-sc-fast"),
            ),
            (
                "empty means no class",
                |v| v["spec"]["storageClassName"] = json!(""),
                Some(""),
            ),
            (
                "the beta annotation names a class",
                |v| v["metadata"]["annotations"] = json!({BETA_STORAGE_CLASS: "gce-sc-hdd"}),
                None,
            ),
        ];
        for (name, tweak, want) in cases {
            let mut c = pvc(tweak);
            admit_claim(&mut c, &classes);
            assert_eq!(
                c.spec.unwrap().storage_class_name.as_deref(),
                want,
                "{name}"
            );
        }
        let mut c = pvc(|_| {});
        admit_claim(
            &mut c,
            &provider_classes(twinstack_core::runtime::Provider::Azure),
        );
        assert_eq!(c.spec.unwrap().storage_class_name, None);
    }

    #[test]
    fn provisioning_binds_both_sides() {
        let classes = provider_classes(twinstack_core::runtime::Provider::Aws);
        let class = &classes[0];
        let c = pvc(|v| v["spec"]["storageClassName"] = json!("default"));
        // WaitForFirstConsumer: only once a consumer is scheduled.
        assert!(!may_provision(&c, Some(class), false));
        assert!(may_provision(&c, Some(class), true));
        assert!(!may_provision(&c, None, true));
        let (pv, bound) = provision(&c, class);
        assert_eq!(pv.metadata.name.as_deref(), Some("pvc-1234-5678"));
        let pvs = pv.spec.unwrap();
        assert_eq!(pvs.claim_ref.unwrap().name.as_deref(), Some("data"));
        assert_eq!(
            pvs.persistent_volume_reclaim_policy.as_deref(),
            Some("Delete")
        );
        assert_eq!(pvs.csi.unwrap().driver, "ebs.csi.aws.com");
        assert!(is_bound(&bound));
        assert!(!may_provision(&bound, Some(class), true));
        assert_eq!(
            access_modes_string(&bound.status.unwrap().access_modes.unwrap()),
            "RWO"
        );
    }

    #[test]
    fn pod_claims_bound_table() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}
        }))
        .unwrap();
        let classes = provider_classes(twinstack_core::runtime::Provider::Aws);
        let (_, bound) = provision(&pvc(|_| {}), &classes[0]);
        let cases = [
            ("claim missing", vec![], false),
            ("claim pending", vec![pvc(|_| {})], false),
            ("claim bound", vec![bound.clone()], true),
            (
                "bound claim of another namespace",
                vec![{
                    let mut b = bound.clone();
                    b.metadata.namespace = Some("other".into());
                    b
                }],
                false,
            ),
        ];
        for (name, claims, want) in cases {
            assert_eq!(pod_claims_bound(&pod, &claims), want, "{name}");
        }
        let no_claims: Pod =
            serde_json::from_value(json!({"metadata": {"name": "q"}, "spec": {"containers": []}}))
                .unwrap();
        assert!(pod_claims_bound(&no_claims, &[]));
    }
}
