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
