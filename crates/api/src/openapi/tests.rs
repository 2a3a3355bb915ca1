use super::*;
use serde_json::Value;

fn docs() -> Documents {
    build(&twinstack_registry::all_kinds())
}

fn v3(d: &Documents, gv: &str) -> Value {
    serde_json::from_slice(&d.v3[gv].1).unwrap()
}

#[test]
fn every_served_kind_has_a_typed_schema() {
    // A kind added to `all_kinds` needs its line in `typed_kinds`.
    assert_eq!(docs().untyped, Vec::<String>::new());
}

#[test]
fn documents_have_no_dangling_references() {
    let d = docs();
    for (gv, (_, bytes)) in &d.v3 {
        let doc: Value = serde_json::from_slice(bytes).unwrap();
        assert_eq!(dangling_refs(&doc), BTreeSet::new(), "{gv}");
    }
    let v2: Value = serde_json::from_slice(&d.v2_json).unwrap();
    assert_eq!(dangling_refs(&v2), BTreeSet::new(), "v2");
}

#[test]
fn one_v3_document_per_served_group_version() {
    let d = docs();
    let gvs: BTreeSet<&str> = d.v3.keys().map(String::as_str).collect();
    let served: BTreeSet<String> = twinstack_registry::all_kinds()
        .iter()
        .map(|k| gv_path(k.info().group, k.info().version))
        .collect();
    assert_eq!(gvs, served.iter().map(String::as_str).collect());
    assert!(gvs.contains("api/v1") && gvs.contains("apis/apps/v1"));
    let index = d.v3_index("/runtimes/rt");
    let url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .unwrap();
    let hash = &d.v3["apis/apps/v1"].0;
    assert_eq!(
        url,
        format!("/runtimes/rt/openapi/v3/apis/apps/v1?hash={hash}")
    );
    assert_eq!(hash.len(), 128, "SHA-512 in hex");
    assert!(hash
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
}

#[test]
fn schemas_carry_upstream_docs_gvk_and_extensions() {
    let d = docs();
    let core = v3(&d, "api/v1");
    let s = &core["components"]["schemas"];
    let svc = &s["io.k8s.api.core.v1.Service"];
    assert_eq!(
        svc["x-kubernetes-group-version-kind"],
        json!([{"group": "", "kind": "Service", "version": "v1"}])
    );
    // v3 wraps a reference with a description in allOf, as kube-openapi does.
    assert_eq!(
        svc["properties"]["spec"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.ServiceSpec"
    );
    let spec = &s["io.k8s.api.core.v1.ServiceSpec"]["properties"];
    assert!(spec["ipFamilyPolicy"]["description"]
        .as_str()
        .unwrap()
        .starts_with("IPFamilyPolicy represents the dual-stack-ness requested or required"));
    let ports = &spec["ports"];
    assert_eq!(ports["x-kubernetes-patch-strategy"], "merge");
    assert_eq!(ports["x-kubernetes-patch-merge-key"], "port");
    assert_eq!(ports["x-kubernetes-list-type"], "map");
    assert_eq!(
        ports["x-kubernetes-list-map-keys"],
        json!(["port", "protocol"])
    );
    let containers = &s["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"];
    assert_eq!(containers["x-kubernetes-patch-merge-key"], "name");
    assert_eq!(
        s["io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"]["x-kubernetes-map-type"],
        "atomic"
    );
    assert_eq!(
        s["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["format"],
        "int-or-string"
    );
    let list = &s["io.k8s.api.core.v1.ServiceList"];
    assert_eq!(list["description"], "ServiceList holds a list of services.");
    assert_eq!(
        list["properties"]["items"]["description"],
        "List of services"
    );

    let apps = v3(&d, "apis/apps/v1");
    let strategy = &apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]
        ["properties"]["strategy"];
    assert_eq!(strategy["x-kubernetes-patch-strategy"], "retainKeys");
    assert!(strategy["description"]
        .as_str()
        .unwrap()
        .starts_with("The deployment strategy to use to replace existing pods with new ones."));
}

#[test]
fn patch_operations_offer_field_validation_and_strategic_merge() {
    // What kubectl's QueryParamVerifierV3 and apply's gvkSupportsPatchOpenAPIV3 look for.
    let d = docs();
    let apps = v3(&d, "apis/apps/v1");
    let path = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"];
    let patch = &path["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "kind": "Deployment", "version": "v1"})
    );
    assert_eq!(patch["operationId"], "patchAppsV1NamespacedDeployment");
    let params: Vec<&str> = patch["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(params.contains(&"fieldValidation"), "{params:?}");
    assert!(patch["requestBody"]["content"]
        .get("application/strategic-merge-patch+json")
        .is_some());
    // Delete answers: Status for deployments, the object for services, Status for namespaces.
    let del = &path["delete"]["responses"]["200"]["content"]["application/json"]["schema"];
    assert_eq!(
        del["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    );
    let core = v3(&d, "api/v1");
    let svc = &core["paths"]["/api/v1/namespaces/{namespace}/services/{name}"]["delete"];
    assert_eq!(
        svc["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.Service"
    );
    let ns = &core["paths"]["/api/v1/namespaces/{name}"]["delete"];
    assert_eq!(
        ns["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    );
    assert!(
        core["paths"]["/api/v1/namespaces"].get("delete").is_none(),
        "namespaces have no deletecollection"
    );
    assert_eq!(
        core["paths"]["/api/v1/namespaces/{namespace}/services"]["delete"]["operationId"],
        "deleteCoreV1CollectionNamespacedService"
    );
}

/// Enough of gnostic's `openapi.v2` messages to read the protobuf document back.
mod gnostic {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Document {
        #[prost(string, tag = "1")]
        pub swagger: String,
        #[prost(message, optional, tag = "8")]
        pub paths: Option<Paths>,
        #[prost(message, optional, tag = "9")]
        pub definitions: Option<Definitions>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Paths {
        #[prost(message, repeated, tag = "2")]
        pub path: Vec<NamedPathItem>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedPathItem {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<PathItem>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PathItem {
        #[prost(message, optional, tag = "8")]
        pub patch: Option<Operation>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Operation {
        #[prost(string, tag = "5")]
        pub operation_id: String,
        #[prost(message, repeated, tag = "8")]
        pub parameters: Vec<ParametersItem>,
        #[prost(message, repeated, tag = "13")]
        pub vendor_extension: Vec<NamedAny>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ParametersItem {
        #[prost(message, optional, tag = "1")]
        pub parameter: Option<Parameter>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Parameter {
        #[prost(message, optional, tag = "2")]
        pub non_body_parameter: Option<NonBodyParameter>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NonBodyParameter {
        #[prost(message, optional, tag = "3")]
        pub query: Option<QueryParameterSubSchema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct QueryParameterSubSchema {
        #[prost(string, tag = "2")]
        pub r#in: String,
        #[prost(string, tag = "4")]
        pub name: String,
        #[prost(string, tag = "6")]
        pub r#type: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Definitions {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedSchema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedSchema {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<Schema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Schema {
        #[prost(string, tag = "1")]
        pub r#ref: String,
        #[prost(string, tag = "4")]
        pub description: String,
        #[prost(message, optional, tag = "22")]
        pub r#type: Option<TypeItem>,
        #[prost(message, optional, tag = "25")]
        pub properties: Option<Properties>,
        #[prost(message, repeated, tag = "31")]
        pub vendor_extension: Vec<NamedAny>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TypeItem {
        #[prost(string, repeated, tag = "1")]
        pub value: Vec<String>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Properties {
        #[prost(message, repeated, tag = "1")]
        pub additional_properties: Vec<NamedSchema>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NamedAny {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<Any>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Any {
        #[prost(string, tag = "2")]
        pub yaml: String,
    }
}

#[test]
fn v2_protobuf_is_the_gnostic_document_of_the_json_one() {
    use prost::Message;
    let d = docs();
    let json: Value = serde_json::from_slice(&d.v2_json).unwrap();
    let doc = gnostic::Document::decode(&d.v2_proto[..]).unwrap();
    assert_eq!(doc.swagger, "2.0");
    let defs = doc.definitions.unwrap().additional_properties;
    assert_eq!(defs.len(), json["definitions"].as_object().unwrap().len());
    let spec = defs
        .iter()
        .find(|d| d.name == "io.k8s.api.core.v1.ServiceSpec")
        .and_then(|d| d.value.clone())
        .unwrap();
    assert_eq!(spec.r#type.unwrap().value, vec!["object"]);
    let ports = spec
        .properties
        .unwrap()
        .additional_properties
        .into_iter()
        .find(|p| p.name == "ports")
        .and_then(|p| p.value)
        .unwrap();
    let ext: Vec<(String, String)> = ports
        .vendor_extension
        .into_iter()
        .map(|e| (e.name, e.value.unwrap().yaml))
        .collect();
    assert!(ext.contains(&("x-kubernetes-patch-merge-key".into(), "\"port\"\n".into())));
    let paths = doc.paths.unwrap().path;
    assert_eq!(paths.len(), json["paths"].as_object().unwrap().len());
    let patch = paths
        .iter()
        .find(|p| p.name == "/api/v1/namespaces/{namespace}/services/{name}")
        .and_then(|p| p.value.clone())
        .and_then(|p| p.patch)
        .unwrap();
    assert_eq!(patch.operation_id, "patchCoreV1NamespacedService");
    assert!(patch.parameters.iter().any(|p| {
        p.parameter
            .as_ref()
            .and_then(|p| p.non_body_parameter.as_ref())
            .and_then(|n| n.query.as_ref())
            .is_some_and(|q| q.name == "fieldValidation" && q.r#in == "query")
    }));
}

#[test]
fn extensions_table_is_current() {
    // The committed table is what the generator writes from the k8s-pb and k8s-openapi sources
    // in the cargo registry (run `cargo fetch` first).
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scripts/gen-openapi-extensions.py"
        ))
        .output()
        .expect("python3 runs the generator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let committed = include_str!("extensions.rs");
    assert!(
        committed == String::from_utf8_lossy(&out.stdout),
        "crates/api/src/openapi/extensions.rs is stale: regenerate it (see its header)"
    );
}
