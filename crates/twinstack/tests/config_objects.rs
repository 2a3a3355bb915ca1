//! ConfigMaps and Secrets are stored as given (users' manifests contain them), namespaces hold
//! them, and deleting a namespace removes them.

mod common;
use common::*;

const MANIFEST: &str = r#"apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data:
  mode: dual
  LOG_LEVEL: info
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: shop
stringData:
  password: s3cret
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  ipFamilyPolicy: PreferDualStack
  selector:
    app: web
  ports:
    - port: 80
"#;

#[test]
fn configmaps_secrets_and_namespace_lifecycle() {
    let t = Twin::start(&[]);
    let m = write(t.data_dir(), "app.yaml", MANIFEST);
    let out = ok(&t.kubectl(&["apply", "-f", m.to_str().unwrap()]));
    for line in [
        "namespace/shop created",
        "configmap/settings created",
        "secret/creds created",
        "service/web created",
    ] {
        assert!(out.contains(line), "{out}");
    }
    let cm = ok(&t.kubectl(&["get", "cm", "-n", "shop"]));
    assert!(
        cm.lines()
            .any(|l| l.starts_with("settings") && l.split_whitespace().nth(1) == Some("2")),
        "{cm}"
    );
    let sec = ok(&t.kubectl(&[
        "get",
        "secret",
        "creds",
        "-n",
        "shop",
        "-o",
        "jsonpath={.type} {.data.password}",
    ]));
    assert_eq!(sec, "Opaque czNjcmV0");
    let again = ok(&t.kubectl(&["apply", "-f", m.to_str().unwrap()]));
    assert!(again.contains("configmap/settings unchanged"), "{again}");

    let bad = write(
        t.data_dir(),
        "bad.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  \"a b\": x\n",
    );
    let e = fails(&t.kubectl(&["apply", "-f", bad.to_str().unwrap()]));
    assert!(e.contains("ConfigMap \"bad\" is invalid: data[a b]: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters"), "{e}");

    let ips = ok(&t.kubectl(&[
        "get",
        "svc",
        "web",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.clusterIPs}",
    ]));
    let out = ok(&t.kubectl(&["delete", "ns", "shop"]));
    assert!(out.contains("namespace \"shop\" deleted"), "{out}");
    let e = fails(&t.kubectl(&["get", "cm", "settings", "-n", "shop"]));
    assert!(e.contains("not found"), "{e}");
    // The Service's addresses were released with the namespace: they can be taken again.
    let first: Vec<String> = serde_json::from_str(&ips).unwrap();
    let svc = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: again\nspec:\n  ipFamilyPolicy: RequireDualStack\n  clusterIP: {0}\n  clusterIPs: [{0}, {1}]\n  ports:\n  - port: 80\n",
        first[0], first[1]
    );
    let again = write(t.data_dir(), "again.yaml", &svc);
    ok(&t.kubectl(&["apply", "-f", again.to_str().unwrap()]));
    let e = fails(&t.kubectl(&["delete", "ns", "default"]));
    assert!(
        e.contains("namespaces \"default\" is forbidden: this namespace may not be deleted"),
        "{e}"
    );
}
