//! The renderers over one report with an accepted, a refused and an unsupported object.

use super::*;
use crate::observe::tests::{observed, runtime};
use crate::observe::*;
use crate::report::*;
use serde_json::json;

fn report() -> Report {
    let rt = runtime("aws", &["IPv4"]);
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web & <co>", "namespace": "default"},
                     "spec": {"type": "ClusterIP", "ipFamilyPolicy": "PreferDualStack", "ipFamilies": ["IPv4"], "clusterIPs": ["10.104.0.7"]}});
    let ok = object_report(
        observed(
            svc.clone(),
            Applied::Accepted {
                object: svc.clone(),
                warnings: vec![],
            },
        ),
        &rt,
    );
    let mut refused = observed(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "dual"}}),
        Applied::Refused(Refusal {
            code: 422,
            reason: "Invalid".into(),
            message: "Service \"dual\" is invalid: \"quoted\"".into(),
        }),
    );
    refused.origin.file = "dir with space/b.yaml".into();
    refused.origin.line = 12;
    let refused = object_report(refused, &rt);
    let unsupported = object_report(
        observed(
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "i"}}),
            Applied::Unsupported("no matches for kind \"Ingress\"".into()),
        ),
        &rt,
    );
    Report::new(rt, true, vec![ok, refused, unsupported])
}

#[test]
fn the_table_is_coloured_only_when_asked() {
    let r = report();
    let plain = table::table(&r, false);
    assert!(!plain.contains('\x1b'), "{plain}");
    assert!(plain.starts_with("RESULT"), "{plain}");
    assert!(plain.contains("REFUSED"), "{plain}");
    assert!(plain.contains("dir with space/b.yaml:12"), "{plain}");
    assert!(plain.contains("3 objects on check (aws eu-central-1, IPv4): 1 accepted, 1 refused, 1 skipped; 1 errors, 2 warnings"), "{plain}");
    assert!(table::table(&r, true).contains("\x1b[31mREFUSED\x1b[0m"));
}

#[test]
fn junit_has_one_escaped_test_case_per_object() {
    let x = junit::junit(&report());
    assert_eq!(x.matches("<testcase ").count(), 3, "{x}");
    assert!(
        x.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""),
        "{x}"
    );
    assert!(
        x.contains("name=\"Service default/web &amp; &lt;co&gt;\""),
        "{x}"
    );
    assert!(x.contains("<failure message=\"Service &quot;dual&quot; is invalid: &quot;quoted&quot;\" type=\"refused\">"), "{x}");
    assert!(x.contains("<skipped message="), "{x}");
}

#[test]
fn sarif_locates_each_finding_at_its_file_and_line() {
    let v: serde_json::Value = serde_json::from_str(&sarif::sarif(&report(), "0.1.0")).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let refused = results.iter().find(|r| r["ruleId"] == "refused").unwrap();
    assert_eq!(refused["level"], "error");
    let loc = &refused["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "dir%20with%20space/b.yaml");
    assert_eq!(loc["region"]["startLine"], 12);
    let ids: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["prefer-dual-stack-single", "refused", "unsupported-kind"]
    );
}

#[test]
fn json_is_the_report() {
    let r = report();
    let v: serde_json::Value = serde_json::from_str(&json(&r)).unwrap();
    assert_eq!(v["summary"]["objects"], 3);
    assert_eq!(v["objects"][1]["refusal"]["code"], 422);
    assert_eq!(
        v["objects"][0]["service"]["clusterIPs"],
        json!(["10.104.0.7"])
    );
}
