//! The OpenAPI documents, as the clients that read them use them: `kubectl explain` (OpenAPI v3
//! since kubectl 1.27, v2 with `--output plaintext-openapiv2`), `kubectl apply` (its strategic
//! merge patch computed from the documents' patch extensions, its `--validate=strict` left to
//! the server because the PATCH operations declare `fieldValidation`), and plain HTTP for the
//! index, hashes and content negotiation.

mod common;

use common::{fails, kubectl_version, ok, Twin};

const SERVICE_FIELD_DOC: &str = "IPFamilyPolicy represents the dual-stack-ness requested or \
required by this Service. If there is no value provided, then this field will be set to \
SingleStack.";

fn kubectls() -> Vec<String> {
    vec![
        "kubectl".to_string(),
        kubectl_version(27).expect("kubectl.1.27 is installed beside kubectl"),
        kubectl_version(33).expect("kubectl.1.33 is installed beside kubectl"),
    ]
}

/// Joins the indented description lines kubectl wraps at 80 columns.
fn unwrapped(out: &str) -> String {
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn explain_prints_upstream_field_documentation() {
    let t = Twin::start(&[]);
    for k in kubectls() {
        let out = ok(&t.kubectl_with(&k, &["explain", "service.spec.ipFamilyPolicy"], None));
        assert!(
            out.contains("KIND:") && out.contains("Service"),
            "{k}: {out}"
        );
        assert!(out.contains("FIELD: ipFamilyPolicy <string>"), "{k}: {out}");
        assert!(unwrapped(&out).contains(SERVICE_FIELD_DOC), "{k}: {out}");

        let out = ok(&t.kubectl_with(&k, &["explain", "deployment.spec.strategy"], None));
        assert!(out.contains("GROUP:") && out.contains("apps"), "{k}: {out}");
        assert!(
            out.contains("FIELD: strategy <DeploymentStrategy>"),
            "{k}: {out}"
        );
        assert!(
            unwrapped(&out)
                .contains("The deployment strategy to use to replace existing pods with new ones."),
            "{k}: {out}"
        );
        assert!(
            out.contains("rollingUpdate\t<RollingUpdateDeployment>"),
            "{k}: {out}"
        );
    }
}

#[test]
fn explain_from_the_v2_protobuf_document() {
    // `plaintext-openapiv2` reads /openapi/v2 as gnostic protobuf, parsed by kube-openapi's
    // proto models: the same parse kubectl's client-side validation uses.
    let t = Twin::start(&[]);
    let out = ok(&t.kubectl(&[
        "explain",
        "--output",
        "plaintext-openapiv2",
        "service.spec.ipFamilyPolicy",
    ]));
    assert!(out.contains("FIELD:    ipFamilyPolicy <string>"), "{out}");
    assert!(unwrapped(&out).contains(SERVICE_FIELD_DOC), "{out}");
    let out = ok(&t.kubectl(&[
        "explain",
        "--output",
        "plaintext-openapiv2",
        "deployment.spec.strategy",
    ]));
    assert!(
        unwrapped(&out).contains("The deployment strategy to use to replace existing pods"),
        "{out}"
    );
}

const WITH_UNKNOWN_FIELD: &str = "apiVersion: v1
kind: Service
metadata:
  name: strict
spec:
  foo: bar
  ports:
  - port: 80
";

#[test]
fn apply_validate_strict_refuses_an_unknown_field_as_against_a_real_cluster() {
    // kubectl finds `fieldValidation` on the PATCH operation of the Service's GVK in the v3
    // document (QueryParamVerifierV3), so it leaves validation to the server and sends
    // fieldValidation=Strict: the answer is kube-apiserver's strict decoding error.
    let t = Twin::start(&[]);
    for k in kubectls() {
        let err = fails(&t.kubectl_with(
            &k,
            &["apply", "--validate=strict", "-f", "-"],
            Some(WITH_UNKNOWN_FIELD),
        ));
        assert_eq!(
            err.trim(),
            "Error from server (BadRequest): error when creating \"STDIN\": Service in version \
             \"v1\" cannot be handled as a Service: strict decoding error: unknown field \
             \"spec.foo\"",
            "{k}"
        );
    }
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx
        env:
        - {name: A, value: a}
        - {name: B, value: b}
        ports:
        - containerPort: 80
";

#[test]
fn apply_computes_patches_from_the_documents() {
    // A second apply without env B: kubectl computes the strategic merge patch from the
    // documents' patch extensions (containers by name, env by name), so B goes and A stays.
    let t = Twin::start(&[]);
    for (i, k) in kubectls().iter().enumerate() {
        let name = format!("web{i}");
        let manifest = DEPLOYMENT.replace("name: web\nspec", &format!("name: {name}\nspec"));
        ok(&t.kubectl_with(k, &["apply", "-f", "-"], Some(&manifest)));
        let without_b = manifest.replace("        - {name: B, value: b}\n", "");
        let out = ok(&t.kubectl_with(k, &["apply", "-f", "-"], Some(&without_b)));
        assert!(
            out.contains(&format!("deployment.apps/{name} configured")),
            "{k}: {out}"
        );
        let env = ok(&t.kubectl_with(
            k,
            &[
                "get",
                "deployment",
                &name,
                "-o",
                "jsonpath={.spec.template.spec.containers[0].env[*].name}",
            ],
            None,
        ));
        assert_eq!(env.trim(), "A", "{k}");
        // And a valid manifest applies with the default validation.
        let out = ok(&t.kubectl_with(k, &["apply", "-f", "-"], Some(&without_b)));
        assert!(out.contains("unchanged"), "{k}: {out}");
    }
}

#[tokio::test]
async fn v3_index_hashes_and_v2_negotiation() {
    let t = Twin::start(&[]);
    let c = t.client();
    let auth = format!("Bearer {}", t.token());
    let get = |path: String, accept: &'static str| {
        c.get(format!("{}{path}", t.base_url()))
            .header("Authorization", auth.clone())
            .header("Accept", accept)
            .send()
    };
    let index: serde_json::Value = get("/openapi/v3".into(), "application/json")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = index["paths"]["api/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.starts_with("/runtimes/local/openapi/v3/api/v1?hash="),
        "{url}"
    );
    let hashed = url.trim_start_matches("/runtimes/local").to_string();
    let r = get(hashed.clone(), "application/json").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "public, immutable");
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.0.0");
    assert!(doc["components"]["schemas"]["io.k8s.api.core.v1.Service"].is_object());
    // A stale hash is sent to the current one.
    let no_redirect = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&t.ca_pem()).unwrap())
        .use_rustls_tls()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .get(format!("{}/openapi/v3/api/v1?hash=0123", t.base_url()))
        .header("Authorization", auth.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], url.as_str());
    // v2: JSON by default, gnostic protobuf on request, 406 otherwise.
    let r = get("/openapi/v2".into(), "application/json").await.unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    let v2: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v2["swagger"], "2.0");
    let r = get(
        "/openapi/v2".into(),
        "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    )
    .await
    .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    );
    assert!(r.bytes().await.unwrap().len() > 100_000);
    let r = get("/openapi/v2".into(), "text/html").await.unwrap();
    assert_eq!(r.status(), 406);
}
