//! The OpenAPI documents kube-apiserver serves, for the resources twinstack serves: `/openapi/v3`
//! (an index of one document per group/version, each addressed with its hash) and
//! `/openapi/v2` (one document, JSON or gnostic protobuf).
//!
//! Nothing here is hand-written schema: the definitions are k8s-openapi's `schemars` schemas
//! (upstream's descriptions and types), completed with the vendor extensions upstream's
//! openapi-gen adds from the Go markers (`extensions.rs`, generated from k8s-pb's comments),
//! `x-kubernetes-group-version-kind` from the types' `Resource` impls, and the operations of
//! each resource as kube-apiserver's `APIInstaller` registers them (`paths.rs`).
//!
//! Which typed schema a served kind has is one line in [`typed_kinds`]. The documents are built
//! once per process (see [`documents`]) and served from memory.

mod extensions;
mod paths;
pub mod proto;

use axum::body::Bytes;
use k8s_openapi::{ListableResource, Resource};
use schemars::JsonSchema;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use twinstack_registry::kinds::Kind;

/// Vendor extensions of one field (or of a type, for `map_type`), as upstream publishes them.
#[derive(Debug, Clone, Copy)]
pub struct Ext {
    pub patch_strategy: Option<&'static str>,
    pub patch_merge_key: Option<&'static str>,
    pub list_type: Option<&'static str>,
    pub list_map_keys: &'static [&'static str],
    pub map_type: Option<&'static str>,
}

/// A served kind's typed schema: its GVK and how to add it (and its List) to a generator.
pub struct Typed {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    add: fn(&mut schemars::SchemaGenerator) -> String,
}

fn typed<K: Resource + ListableResource + JsonSchema>() -> Typed {
    Typed {
        group: K::GROUP,
        version: K::VERSION,
        kind: K::KIND,
        add: |g| {
            g.subschema_for::<K>();
            K::schema_name().into_owned()
        },
    }
}

/// The typed schema of every kind twinstack can serve: one line per kind.
pub fn typed_kinds() -> Vec<Typed> {
    use k8s_openapi::api::{apps::v1 as apps, batch::v1 as batch, core::v1 as core};
    use k8s_openapi::api::{discovery::v1 as discovery, rbac::v1 as rbac};
    vec![
        typed::<core::Namespace>(),
        typed::<core::Service>(),
        typed::<core::ConfigMap>(),
        typed::<core::Secret>(),
        typed::<core::Node>(),
        typed::<core::Pod>(),
        typed::<core::Endpoints>(),
        typed::<core::Event>(),
        typed::<core::PersistentVolumeClaim>(),
        typed::<core::PersistentVolume>(),
        typed::<core::ServiceAccount>(),
        typed::<core::ReplicationController>(),
        typed::<discovery::EndpointSlice>(),
        typed::<apps::Deployment>(),
        typed::<apps::ReplicaSet>(),
        typed::<apps::StatefulSet>(),
        typed::<apps::DaemonSet>(),
        typed::<batch::Job>(),
        typed::<batch::CronJob>(),
        typed::<k8s_openapi::api::policy::v1::PodDisruptionBudget>(),
        typed::<k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler>(),
        typed::<rbac::Role>(),
        typed::<rbac::ClusterRole>(),
        typed::<rbac::RoleBinding>(),
        typed::<rbac::ClusterRoleBinding>(),
        typed::<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition>(),
        typed::<k8s_openapi::api::networking::v1::NetworkPolicy>(),
        typed::<k8s_openapi::api::networking::v1::IngressClass>(),
        typed::<k8s_openapi::api::networking::v1::Ingress>(),
        typed::<k8s_openapi::api::scheduling::v1::PriorityClass>(),
        typed::<k8s_openapi::api::coordination::v1::Lease>(),
        typed::<k8s_openapi::api::storage::v1::StorageClass>(),
        typed::<k8s_openapi::api::admissionregistration::v1::MutatingWebhookConfiguration>(),
        typed::<k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration>(),
    ]
}

/// `group/version` as the API paths spell it: `api/v1`, `apis/apps/v1`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The served documents, built once.
pub struct Documents {
    /// `api/v1` → (hash, JSON bytes of the v3 document). `Bytes`: answers share the buffers.
    pub v3: BTreeMap<String, (String, Bytes)>,
    pub v2_json: Bytes,
    pub v2_proto: Bytes,
    /// The v2 document's ETag (the hash of its JSON form).
    pub v2_etag: String,
    /// Served kinds without a typed schema (a line missing in [`typed_kinds`]).
    pub untyped: Vec<String>,
}

impl Documents {
    /// The `/openapi/v3` index; `prefix` is the runtime's path (`/runtimes/<rt>`), so that the
    /// server-relative URLs reach this runtime from old and new clients alike.
    pub fn v3_index(&self, prefix: &str) -> Value {
        let paths: Map<String, Value> = self
            .v3
            .iter()
            .map(|(gv, (hash, _))| {
                (
                    gv.clone(),
                    json!({"serverRelativeURL": format!("{prefix}/openapi/v3/{gv}?hash={hash}")}),
                )
            })
            .collect();
        json!({ "paths": paths })
    }
}

static DOCUMENTS: OnceLock<Arc<Documents>> = OnceLock::new();

/// The documents of `kinds`, built on first use and kept for the life of the process (the
/// served kinds never change while it runs).
pub fn documents(kinds: &[Arc<dyn Kind>]) -> Arc<Documents> {
    DOCUMENTS
        .get_or_init(|| {
            let started = std::time::Instant::now();
            let d = build(kinds);
            tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                v3_json_bytes = d.v3.values().map(|(_, b)| b.len()).sum::<usize>(),
                v2_json_bytes = d.v2_json.len(),
                v2_protobuf_bytes = d.v2_proto.len(),
                "OpenAPI documents built"
            );
            Arc::new(d)
        })
        .clone()
}

/// The documents of runtime `rt`, whose served `kinds` may include custom resources: the
/// process-wide documents when it has none, else documents built for its CRDs and kept until
/// they change (a fingerprint of the CRDs' names and resourceVersions).
pub fn documents_for(rt: &str, kinds: &[Arc<dyn Kind>]) -> Arc<Documents> {
    use std::sync::Mutex;
    let builtin: Vec<Arc<dyn Kind>> = kinds
        .iter()
        .filter(|k| k.custom().is_none())
        .cloned()
        .collect();
    let fingerprint: String = kinds
        .iter()
        .filter_map(|k| k.custom())
        .map(|c| {
            format!(
                "{}@{}/{};",
                c.crd.metadata.name.as_deref().unwrap_or(""),
                c.crd.metadata.resource_version.as_deref().unwrap_or(""),
                c.version.name
            )
        })
        .collect();
    if fingerprint.is_empty() {
        return documents(&builtin);
    }
    type Cache = Mutex<BTreeMap<String, (String, Arc<Documents>)>>;
    static PER_RUNTIME: OnceLock<Cache> = OnceLock::new();
    let cache = PER_RUNTIME.get_or_init(Default::default);
    if let Some((f, d)) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(rt) {
        if *f == fingerprint {
            return d.clone();
        }
    }
    let started = std::time::Instant::now();
    let d = Arc::new(build(kinds));
    tracing::debug!(
        runtime = rt,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "OpenAPI documents with custom resources built"
    );
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(rt.to_string(), (fingerprint, d.clone()));
    d
}

/// The OpenAPI definition name of a custom resource (apiextensions' builder): the group's
/// labels reversed, the version and the kind (`com.example.stable.v1.CronTab`).
pub fn custom_definition_name(group: &str, version: &str, kind: &str) -> String {
    let g: Vec<&str> = group.split('.').rev().collect();
    format!("{}.{version}.{kind}", g.join("."))
}

/// The definition of a custom resource version: its structural schema with `apiVersion`,
/// `kind` and `metadata` added, as apiextensions' OpenAPI builder publishes it.
fn custom_definition(c: &twinstack_registry::kinds::crd::CustomResourceKind, f: Format) -> Value {
    let common = "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md";
    let mut s = serde_json::to_value(c.schema()).unwrap_or_else(|_| json!({}));
    if !s.get("properties").is_some_and(Value::is_object) {
        s["properties"] = json!({});
    }
    let props = s["properties"].as_object_mut().expect("set above");
    props.insert("apiVersion".into(), json!({"type": "string", "description": format!("APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. {common}#resources")}));
    props.insert("kind".into(), json!({"type": "string", "description": format!("Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. {common}#types-kinds")}));
    props.insert("metadata".into(), json!({"$ref": f.reference("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"), "description": format!("Standard object's metadata. {common}#metadata")}));
    let i = c.info();
    s["x-kubernetes-group-version-kind"] =
        json!([{"group": i.group, "kind": i.kind, "version": i.version}]);
    if f == Format::V2 {
        strip_for_v2(&mut s);
    }
    s
}

/// What OpenAPI v2 cannot say (`ToStructuralOpenAPIV2`): `nullable`, and the combinators.
fn strip_for_v2(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in ["nullable", "anyOf", "oneOf", "not", "allOf"] {
                m.remove(k);
            }
            m.values_mut().for_each(strip_for_v2);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_for_v2),
        _ => {}
    }
}

/// Builds every document.
pub fn build(kinds: &[Arc<dyn Kind>]) -> Documents {
    let table = typed_kinds();
    let mut untyped = Vec::new();
    // Group/versions in the order discovery lists them.
    let mut gvs: Vec<(&'static str, &'static str)> = Vec::new();
    for k in kinds {
        let i = k.info();
        if !gvs.contains(&(i.group, i.version)) {
            gvs.push((i.group, i.version));
        }
        if !table
            .iter()
            .any(|t| t.group == i.group && t.version == i.version && t.kind == i.kind)
        {
            untyped.push(format!("{}/{}", i.api_version(), i.kind));
        }
    }
    let mut v3 = BTreeMap::new();
    for (g, v) in &gvs {
        let served: Vec<&Arc<dyn Kind>> = kinds
            .iter()
            .filter(|k| k.info().group == *g && k.info().version == *v)
            .collect();
        let doc = v3_document(&table, &served, &gvs);
        let bytes = serde_json::to_vec(&doc).unwrap_or_default();
        v3.insert(gv_path(g, v), (hash(&bytes), Bytes::from(bytes)));
    }
    let all: Vec<&Arc<dyn Kind>> = kinds.iter().collect();
    let v2 = v2_document(&table, &all, &gvs);
    let v2_proto = proto::encode_document(&v2);
    let v2_json = serde_json::to_vec(&v2).unwrap_or_default();
    Documents {
        v3,
        v2_etag: hash(&v2_json),
        v2_json: Bytes::from(v2_json),
        v2_proto: Bytes::from(v2_proto),
        untyped,
    }
}

/// kube-openapi's handler3 hash of a document: SHA-512, upper-case hex.
fn hash(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA512, bytes);
    d.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

/// Where definitions live in each version of the format.
#[derive(Clone, Copy, PartialEq)]
enum Format {
    V2,
    V3,
}

impl Format {
    fn definitions_path(self) -> &'static str {
        match self {
            Format::V2 => "/definitions",
            Format::V3 => "/components/schemas",
        }
    }
    fn reference(self, name: &str) -> String {
        format!("#{}/{name}", self.definitions_path())
    }
}

/// The definitions the served kinds need, in `format`, with upstream's extensions.
fn definitions(
    table: &[Typed],
    served: &[&Arc<dyn Kind>],
    gvs: &[(&'static str, &'static str)],
    format: Format,
) -> Map<String, Value> {
    let mut settings = schemars::generate::SchemaSettings::draft07();
    settings.definitions_path = format.definitions_path().into();
    settings.transforms = vec![];
    let mut g = settings.into_generator();
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    g.subschema_for::<meta::Status>();
    g.subschema_for::<meta::DeleteOptions>();
    g.subschema_for::<meta::WatchEvent<()>>();
    g.subschema_for::<meta::Patch>();
    g.subschema_for::<meta::ListMeta>();
    let mut lists = Vec::new();
    let customs: Vec<&Arc<dyn Kind>> = served
        .iter()
        .copied()
        .filter(|k| k.custom().is_some())
        .collect();
    if !customs.is_empty() {
        g.subschema_for::<meta::ObjectMeta>();
    }
    if customs.iter().any(|k| k.info().scale) {
        g.subschema_for::<k8s_openapi::api::autoscaling::v1::Scale>();
    }
    for k in served {
        let i = k.info();
        let Some(t) = table
            .iter()
            .find(|t| t.group == i.group && t.version == i.version && t.kind == i.kind)
        else {
            continue;
        };
        let name = (t.add)(&mut g);
        lists.push((name, t.group, t.version, t.kind));
        if i.scale {
            g.subschema_for::<k8s_openapi::api::autoscaling::v1::Scale>();
        }
    }
    let mut defs = g.take_definitions(false);
    for k in customs {
        let (Some(c), i) = (k.custom(), k.info()) else {
            continue;
        };
        let name = custom_definition_name(i.group, i.version, i.kind);
        defs.insert(
            format!("{name}List"),
            list_definition(&name, i.group, i.version, i.kind, format),
        );
        defs.insert(name, custom_definition(c, format));
    }
    for (name, group, version, kind) in lists {
        if let Some(d) = defs.get_mut(&name) {
            d["x-kubernetes-group-version-kind"] =
                json!([{"group": group, "kind": kind, "version": version}]);
        }
        defs.insert(
            format!("{name}List"),
            list_definition(&name, group, version, kind, format),
        );
    }
    set_meta_kinds(&mut defs, gvs);
    for (name, schema) in defs.iter_mut() {
        upstream_form(name, schema, format);
    }
    defs
}

/// The `<Kind>List` definition, as openapi-gen writes it for the Go List type (k8s-openapi has
/// one generic `List<T>` without a schema of its own).
fn list_definition(item: &str, group: &str, version: &str, kind: &str, f: Format) -> Value {
    let list = format!("{item}List");
    let (desc, items_desc, meta_desc) = extensions::LIST_DOCS
        .iter()
        .find(|(d, ..)| *d == list)
        .map(|(_, a, b, c)| (*a, *b, *c))
        .unwrap_or(("", "", ""));
    let common = "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md";
    json!({
        "description": desc,
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": format!("APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. {common}#resources")},
            "items": {"type": "array", "description": items_desc, "items": {"$ref": f.reference(item)}},
            "kind": {"type": "string", "description": format!("Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. {common}#types-kinds")},
            "metadata": {"$ref": f.reference("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"), "description": meta_desc},
        },
        "x-kubernetes-group-version-kind": [{"group": group, "kind": format!("{kind}List"), "version": version}],
    })
}

/// The GVKs upstream attaches to the meta types every group uses.
fn set_meta_kinds(defs: &mut Map<String, Value>, gvs: &[(&'static str, &'static str)]) {
    let per_gv = |kind: &str| -> Value {
        gvs.iter()
            .map(|(g, v)| json!({"group": g, "kind": kind, "version": v}))
            .collect()
    };
    let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.";
    if let Some(d) = defs.get_mut(&format!("{meta}Status")) {
        d["x-kubernetes-group-version-kind"] =
            json!([{"group": "", "kind": "Status", "version": "v1"}]);
    }
    for kind in ["DeleteOptions", "WatchEvent"] {
        if let Some(d) = defs.get_mut(&format!("{meta}{kind}")) {
            d["x-kubernetes-group-version-kind"] = per_gv(kind);
        }
    }
    if let Some(d) = defs.get_mut("io.k8s.api.autoscaling.v1.Scale") {
        d["x-kubernetes-group-version-kind"] =
            json!([{"group": "autoscaling", "kind": "Scale", "version": "v1"}]);
    }
}

/// Rewrites a k8s-openapi schema into the form kube-apiserver publishes: the extensions of
/// the Go markers, `IntOrString` typed as upstream types it, and (v3) a `$ref` with siblings
/// wrapped in `allOf`, as kube-openapi's v3 builder does.
fn upstream_form(name: &str, schema: &mut Value, format: Format) {
    for (def, prop, ext) in extensions::EXTENSIONS.iter().filter(|(d, ..)| *d == name) {
        let target = if prop.is_empty() {
            Some(&mut *schema)
        } else {
            schema.pointer_mut(&format!("/properties/{prop}"))
        };
        let Some(t) = target.and_then(Value::as_object_mut) else {
            let _ = def;
            continue;
        };
        if let Some(s) = ext.patch_strategy {
            t.insert("x-kubernetes-patch-strategy".into(), json!(s));
        }
        if let Some(k) = ext.patch_merge_key {
            t.insert("x-kubernetes-patch-merge-key".into(), json!(k));
        }
        if let Some(l) = ext.list_type {
            t.insert("x-kubernetes-list-type".into(), json!(l));
        }
        if !ext.list_map_keys.is_empty() {
            t.insert(
                "x-kubernetes-list-map-keys".into(),
                json!(ext.list_map_keys),
            );
        }
        if let Some(m) = ext.map_type {
            t.insert("x-kubernetes-map-type".into(), json!(m));
        }
    }
    if schema.get("x-kubernetes-int-or-string") == Some(&json!(true))
        && schema.get("type").is_none()
    {
        schema["type"] = json!("string");
        schema["format"] = json!("int-or-string");
    }
    if format == Format::V3 {
        wrap_ref_siblings(schema);
    }
}

/// `{"$ref": R, "description": D}` → `{"allOf": [{"$ref": R}], "description": D}` below `v`.
fn wrap_ref_siblings(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("$ref") && m.len() > 1 {
                let r = m.remove("$ref").unwrap_or_default();
                m.insert("allOf".into(), json!([{ "$ref": r }]));
            }
            for (_, child) in m.iter_mut() {
                wrap_ref_siblings(child);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(wrap_ref_siblings),
        _ => {}
    }
}

const TITLE: &str = "Kubernetes";

fn v3_document(
    table: &[Typed],
    served: &[&Arc<dyn Kind>],
    gvs: &[(&'static str, &'static str)],
) -> Value {
    let schemas = definitions(table, served, gvs, Format::V3);
    let paths = paths::paths(served, Format::V3);
    json!({
        "openapi": "3.0.0",
        "info": {"title": TITLE, "version": crate::discovery::GIT_VERSION},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"BearerToken": {
                "type": "apiKey", "name": "authorization", "in": "header",
                "description": "Bearer Token authentication"}},
        },
    })
}

fn v2_document(
    table: &[Typed],
    served: &[&Arc<dyn Kind>],
    gvs: &[(&'static str, &'static str)],
) -> Value {
    let definitions = definitions(table, served, gvs, Format::V2);
    let paths = paths::paths(served, Format::V2);
    json!({
        "swagger": "2.0",
        "info": {"title": TITLE, "version": crate::discovery::GIT_VERSION},
        "paths": paths,
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": {
            "type": "apiKey", "name": "authorization", "in": "header",
            "description": "Bearer Token authentication"}},
        "security": [{"BearerToken": []}],
    })
}

/// Definitions a document refers to that it does not define (a broken document).
pub fn dangling_refs(doc: &Value) -> BTreeSet<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.insert(r.clone());
                }
                m.values().for_each(|c| walk(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| walk(c, out)),
            _ => {}
        }
    }
    let mut refs = BTreeSet::new();
    walk(doc, &mut refs);
    refs.into_iter()
        .filter(|r| {
            let p = r.trim_start_matches('#');
            doc.pointer(&p.replace('~', "~0")).is_none()
        })
        .collect()
}

#[cfg(test)]
mod tests;
