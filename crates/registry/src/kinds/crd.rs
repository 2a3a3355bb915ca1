//! CustomResourceDefinitions (`apiextensions.k8s.io/v1`) and the custom resources they define,
//! as kube-apiserver's apiextensions-apiserver stores and serves them.
//!
//! - [`CrdKind`]: the CRD resource itself: defaulting and validation
//!   (`twinstack_kube::apiextensions::validation`), `acceptedNames` with the `NamesAccepted`
//!   and `Established` conditions set in the same write (the naming and establishing
//!   controllers' work, `twinstack_kube::apiextensions::names`), and a delete that removes every
//!   instance (the finalizer controller's work) in the same transaction.
//! - [`CustomResourceKind`]: one served version of one established CRD: decoding with pruning
//!   and defaulting, schema and CEL validation, the status split, printer columns. Its
//!   [`ResourceInfo`] is built at run time ([`custom_kinds`]) and interned, since a CRD's
//!   facts live as long as the process serves them.
//! - [`StatusView`]: the `/status` subresource of a custom resource.
//! - [`serve_scale`]: the `/scale` subresource from the CRD's replica paths.

use super::{Kind, ResourceInfo, Strategy, WriteCtx, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionVersion, CustomResourceSubresourceScale,
    JSONSchemaProps,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_kube::apiextensions::{self as apiext, names, printers, validation};
use twinstack_kube::table::{self, Column};

/// The CustomResourceDefinition resource.
pub static INFO: ResourceInfo = ResourceInfo {
    group: apiext::GROUP_NAME,
    version: "v1",
    plural: "customresourcedefinitions",
    singular: "customresourcedefinition",
    kind: "CustomResourceDefinition",
    namespaced: false,
    short_names: &["crd", "crds"],
    categories: &["api-extensions"],
    verbs: ALL_VERBS,
    storage: "apiextensions.k8s.io/customresourcedefinitions",
    scale: false,
};

/// Where the CRDs of runtime `rt` are stored.
pub fn crd_prefix(rt: &str) -> String {
    format!("/registry/{rt}/{}/", INFO.storage)
}

fn crd_of(v: &Value) -> Result<CustomResourceDefinition, Status> {
    super::typed(v, INFO.kind)
}

fn now_time() -> Time {
    Time(jiff::Timestamp::now())
}

/// The other CRDs of the runtime, as the naming controller lists them.
fn other_crds(cx: &mut WriteCtx<'_>, me: &str) -> Vec<CustomResourceDefinition> {
    cx.txn
        .scan(&crd_prefix(cx.rt.name()))
        .into_iter()
        .filter_map(|(_, raw)| serde_json::from_slice::<CustomResourceDefinition>(&raw).ok())
        .filter(|c| c.metadata.name.as_deref() != Some(me))
        .collect()
}

fn set_names_status(cx: &mut WriteCtx<'_>, obj: &mut Value) -> Result<(), Status> {
    let mut crd = crd_of(obj)?;
    let me = crd.metadata.name.clone().unwrap_or_default();
    let others = other_crds(cx, &me);
    names::update_status(&mut crd, &others, now_time());
    let stored = crd
        .status
        .as_ref()
        .and_then(|s| s.stored_versions.clone())
        .unwrap_or_default();
    let sv = validation::stored_versions(&crd.spec, &stored);
    if let Some(s) = crd.status.as_mut() {
        s.stored_versions = Some(sv);
    }
    obj["status"] = serde_json::to_value(&crd.status).map_err(Status::internal)?;
    Ok(())
}

/// The CRD resource's strategy (`pkg/registry/customresourcedefinition/strategy.go`).
pub struct CrdKind;

impl Strategy for CrdKind {
    /// `PrepareForCreate` clears the status and sets generation 1; the naming and establishing
    /// controllers' status follows at once.
    fn begin_create(&self, cx: &mut WriteCtx<'_>, obj: &mut Value) -> Result<(), Status> {
        if let Some(o) = obj.as_object_mut() {
            o.remove("status");
        }
        obj["metadata"]["generation"] = json!(1);
        set_names_status(cx, obj)
    }

    fn begin_update(
        &self,
        cx: &mut WriteCtx<'_>,
        new: &mut Value,
        old: &Value,
    ) -> Result<(), Status> {
        let gen = old
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let gen = if new.get("spec") != old.get("spec") {
            gen + 1
        } else {
            gen
        };
        new["metadata"]["generation"] = json!(gen);
        match old.get("status") {
            Some(s) => new["status"] = s.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        if old.pointer("/metadata/deletionTimestamp").is_none() {
            set_names_status(cx, new)?;
        }
        Ok(())
    }

    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(validation::validate(&crd_of(obj)?))
    }

    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(validation::validate_update(&crd_of(new)?, &crd_of(old)?))
    }
}

impl Kind for CrdKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut crd, unknown): (CustomResourceDefinition, _) = decode::typed(v)?;
        validation::set_defaults(&mut crd);
        Ok((
            serde_json::to_value(crd).map_err(|e| e.to_string())?,
            unknown,
        ))
    }

    /// The finalizer controller's work, at once: every instance of the CRD goes with it, and
    /// the CRDs of its group whose names it held are named again.
    fn delete(&self, cx: &mut WriteCtx<'_>, old: &Value) -> Result<(), Status> {
        let crd = crd_of(old)?;
        let prefix = format!(
            "/registry/{}/{}/{}/",
            cx.rt.name(),
            crd.spec.group,
            crd.spec.names.plural
        );
        for (key, _) in cx.txn.scan(&prefix) {
            cx.txn.delete_raw(&key);
        }
        let me = crd.metadata.name.clone().unwrap_or_default();
        let others = other_crds(cx, &me);
        for (i, o) in others.iter().enumerate() {
            if o.spec.group != crd.spec.group || names::is_established(o) && accepted(o) {
                continue;
            }
            let rest: Vec<CustomResourceDefinition> = others
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, c)| c.clone())
                .collect();
            let mut renamed = o.clone();
            names::update_status(&mut renamed, &rest, now_time());
            if renamed.status != o.status {
                let key = format!(
                    "{}{}",
                    crd_prefix(cx.rt.name()),
                    o.metadata.name.as_deref().unwrap_or("")
                );
                let mut v = serde_json::to_value(&renamed).map_err(Status::internal)?;
                v["metadata"]["resourceVersion"] = json!(cx.txn.revision().to_string());
                cx.txn.put_json(&key, &v);
            }
        }
        Ok(())
    }

    /// No printer upstream: the default table convertor's Name and Created At.
    fn columns(&self) -> Vec<Column> {
        vec![
            Column::name_column(),
            Column {
                name: "Created At",
                ty: "date",
                format: "",
                description: table::AGE_DESCRIPTION,
                priority: 0,
            },
        ]
    }

    fn row(&self, obj: &Value, _wide: bool, _now: jiff::Timestamp) -> Vec<Value> {
        vec![
            json!(obj
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")),
            json!(obj
                .pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .unwrap_or("")),
        ]
    }
}

fn accepted(c: &CustomResourceDefinition) -> bool {
    c.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "NamesAccepted" && c.status == "True")
        })
}

// ---------------------------------------------------------------------------------------------
// Interning: a served CRD's facts as the `&'static` values `ResourceInfo` and `Column` hold.
// Each distinct string or info is leaked once; CRD churn adds only what it has not seen.

fn intern(s: &str) -> &'static str {
    static SEEN: OnceLock<Mutex<std::collections::HashSet<&'static str>>> = OnceLock::new();
    let mut set = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(x) = set.get(s) {
        return x;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

fn intern_list(items: &[String]) -> &'static [&'static str] {
    static SEEN: OnceLock<Mutex<HashMap<Vec<String>, &'static [&'static str]>>> = OnceLock::new();
    let mut map = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(x) = map.get(items) {
        return x;
    }
    let v: Vec<&'static str> = items.iter().map(|s| intern(s)).collect();
    let leaked: &'static [&'static str] = Box::leak(v.into_boxed_slice());
    map.insert(items.to_vec(), leaked);
    leaked
}

#[allow(clippy::too_many_arguments)]
fn intern_info(
    group: &str,
    version: &str,
    plural: &str,
    singular: &str,
    kind: &str,
    namespaced: bool,
    short: &[String],
    categories: &[String],
    scale: bool,
) -> &'static ResourceInfo {
    type Key = (
        String,
        String,
        String,
        String,
        String,
        bool,
        Vec<String>,
        Vec<String>,
        bool,
    );
    static SEEN: OnceLock<Mutex<HashMap<Key, &'static ResourceInfo>>> = OnceLock::new();
    let key: Key = (
        group.into(),
        version.into(),
        plural.into(),
        singular.into(),
        kind.into(),
        namespaced,
        short.to_vec(),
        categories.to_vec(),
        scale,
    );
    {
        let map = SEEN
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(x) = map.get(&key) {
            return x;
        }
    }
    let info: &'static ResourceInfo = Box::leak(Box::new(ResourceInfo {
        group: intern(group),
        version: intern(version),
        plural: intern(plural),
        singular: intern(singular),
        kind: intern(kind),
        namespaced,
        short_names: intern_list(short),
        categories: intern_list(categories),
        verbs: ALL_VERBS,
        storage: intern(&format!("{group}/{plural}")),
        scale,
    }));
    SEEN.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, info);
    info
}

// ---------------------------------------------------------------------------------------------

/// A printer column of a custom resource version.
#[derive(Clone)]
struct PrinterColumn {
    column: Column,
    json_path: String,
}

/// One served version of an established CRD.
pub struct CustomResourceKind {
    info: &'static ResourceInfo,
    schema: JSONSchemaProps,
    columns: Vec<PrinterColumn>,
    status: bool,
    scale: Option<CustomResourceSubresourceScale>,
    /// `list_kind` of the CRD (`CronTabList`).
    pub list_kind: String,
    /// The CRD this version belongs to, for OpenAPI and discovery.
    pub crd: Arc<CustomResourceDefinition>,
    /// The version's schema as published in OpenAPI.
    pub version: CustomResourceDefinitionVersion,
}

/// `swaggerMetadataDescriptions["creationTimestamp"]`, the default Age column's description.
const AGE: &str = table::AGE_DESCRIPTION;

fn printer_columns(v: &CustomResourceDefinitionVersion) -> Vec<PrinterColumn> {
    let given = v.additional_printer_columns.clone().unwrap_or_default();
    if given.is_empty() {
        // `serveDefaultColumnsIfEmpty`.
        return vec![PrinterColumn {
            column: Column {
                name: "Age",
                ty: "date",
                format: "",
                description: AGE,
                priority: 0,
            },
            json_path: ".metadata.creationTimestamp".into(),
        }];
    }
    given
        .iter()
        .map(|c| PrinterColumn {
            column: Column {
                name: intern(&c.name),
                ty: intern(&c.type_),
                format: intern(c.format.as_deref().unwrap_or("")),
                description: intern(c.description.as_deref().unwrap_or("")),
                priority: c.priority.unwrap_or(0),
            },
            json_path: c.json_path.clone(),
        })
        .collect()
}

/// The kinds the established CRDs among `crds` serve: one per served version, the preferred
/// version (kube-aware priority) first within each CRD.
pub fn custom_kinds(crds: &[CustomResourceDefinition]) -> Vec<Arc<dyn Kind>> {
    let mut out: Vec<Arc<dyn Kind>> = Vec::new();
    for crd in crds {
        if !names::is_established(crd) || crd.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(accepted) = crd.status.as_ref().and_then(|s| s.accepted_names.clone()) else {
            continue;
        };
        let shared = Arc::new(crd.clone());
        let mut versions: Vec<&CustomResourceDefinitionVersion> =
            crd.spec.versions.iter().filter(|v| v.served).collect();
        versions.sort_by(|a, b| names::compare_versions(&a.name, &b.name));
        for v in versions {
            let Some(schema) = v.schema.as_ref().and_then(|s| s.open_api_v3_schema.clone()) else {
                continue;
            };
            let subs = v.subresources.as_ref();
            let scale = subs.and_then(|s| s.scale.clone());
            let info = intern_info(
                &crd.spec.group,
                &v.name,
                &accepted.plural,
                accepted.singular.as_deref().unwrap_or(""),
                &accepted.kind,
                crd.spec.scope == "Namespaced",
                accepted.short_names.as_deref().unwrap_or(&[]),
                accepted.categories.as_deref().unwrap_or(&[]),
                scale.is_some(),
            );
            out.push(Arc::new(CustomResourceKind {
                info,
                schema,
                columns: printer_columns(v),
                status: subs.is_some_and(|s| s.status.is_some()),
                scale,
                list_kind: accepted
                    .list_kind
                    .clone()
                    .unwrap_or_else(|| format!("{}List", accepted.kind)),
                crd: shared.clone(),
                version: v.clone(),
            }));
        }
    }
    out
}

impl CustomResourceKind {
    pub fn schema(&self) -> &JSONSchemaProps {
        &self.schema
    }

    pub fn has_status(&self) -> bool {
        self.status
    }

    pub fn scale_paths(&self) -> Option<&CustomResourceSubresourceScale> {
        self.scale.as_ref()
    }

    fn errors(&self, new: &Value, old: Option<&Value>) -> ErrorList {
        apiext::validate_instance(new, old, &self.schema)
    }
}

/// `generation` as the custom resource strategy keeps it when there is no status subresource:
/// 1 on create, bumped when anything but metadata changes.
fn bump_generation(new: &mut Value, old: &Value) {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("metadata");
        }
        v
    };
    let gen = old
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let gen = if strip(new) != strip(old) {
        gen + 1
    } else {
        gen
    };
    new["metadata"]["generation"] = json!(gen);
}

impl Strategy for CustomResourceKind {
    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        if !self.status {
            obj["metadata"]["generation"] = json!(1);
        }
        Ok(())
    }

    fn prepare_for_update(&self, new: &mut Value, old: &Value) -> Result<(), Status> {
        if !self.status {
            bump_generation(new, old);
        }
        Ok(())
    }

    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(self.errors(obj, None))
    }

    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(self.errors(new, Some(old)))
    }

    fn status_subresource(&self) -> bool {
        self.status
    }
}

impl Kind for CustomResourceKind {
    fn info(&self) -> &'static ResourceInfo {
        self.info
    }

    /// The decoder of custom resources: metadata as ObjectMeta, then pruning of what the
    /// schema does not specify and its defaults. Pruned paths are the unknown fields.
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let mut obj = v.clone();
        if let Some(meta) = obj.get("metadata") {
            if !meta.is_object() {
                return Err(format!(
                    "json: cannot unmarshal {} into Go struct field Object.metadata of type map[string]interface {{}}",
                    go_json_type(meta)
                ));
            }
            let (m, _): (ObjectMeta, _) = decode::typed(meta)?;
            obj["metadata"] = serde_json::to_value(m).map_err(|e| e.to_string())?;
        }
        let unknown = apiext::prepare(&mut obj, &self.schema);
        Ok((obj, unknown))
    }

    /// Conversion `None`: the stored object in the version asked for (only `apiVersion`
    /// changes).
    fn on_read(&self, _rt: &Runtime, obj: &mut Value) {
        if let Some(o) = obj.as_object_mut() {
            o.insert("apiVersion".into(), json!(self.info.api_version()));
        }
    }

    fn serves_stored_bytes(&self) -> bool {
        false
    }

    fn columns(&self) -> Vec<Column> {
        let mut cols = vec![Column::name_column()];
        cols.extend(self.columns.iter().map(|c| c.column.clone()));
        cols
    }

    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let mut cells = vec![json!(obj
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or(""))];
        for c in &self.columns {
            cells.push(printers::cell(obj, &c.json_path, c.column.ty, now));
        }
        cells
    }

    fn custom(&self) -> Option<&CustomResourceKind> {
        Some(self)
    }
}

fn go_json_type(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Array(_) => "array",
        _ => "object",
    }
}

/// The `/status` subresource of a custom resource (`statusStrategy`): a write keeps everything
/// of the stored object but its status, and validates the result.
pub struct StatusView(pub Arc<dyn Kind>);

impl StatusView {
    fn inner(&self) -> &CustomResourceKind {
        self.0.custom().expect("status views wrap custom resources")
    }
}

impl Strategy for StatusView {
    fn begin_update(
        &self,
        _cx: &mut WriteCtx<'_>,
        new: &mut Value,
        old: &Value,
    ) -> Result<(), Status> {
        let status = new.get("status").cloned();
        let managed = new.pointer("/metadata/managedFields").cloned();
        let rv = new.pointer("/metadata/resourceVersion").cloned();
        *new = old.clone();
        match status {
            Some(s) => new["status"] = s,
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        if let Some(m) = managed {
            new["metadata"]["managedFields"] = m;
        }
        if let Some(rv) = rv {
            new["metadata"]["resourceVersion"] = rv;
        }
        Ok(())
    }

    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(self.inner().errors(new, Some(old)))
    }
}

impl Kind for StatusView {
    fn info(&self) -> &'static ResourceInfo {
        self.0.info()
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        self.0.decode(v)
    }
    fn on_read(&self, rt: &Runtime, obj: &mut Value) {
        self.0.on_read(rt, obj)
    }
    fn serves_stored_bytes(&self) -> bool {
        false
    }
    fn columns(&self) -> Vec<Column> {
        self.0.columns()
    }
    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        self.0.row(obj, wide, now)
    }
    fn custom(&self) -> Option<&CustomResourceKind> {
        self.0.custom()
    }
}

/// The CRDs stored for runtime `rt` in `store` (what [`custom_kinds`] is built from).
pub fn stored_crds(store: &twinstack_store::Store, rt: &str) -> Vec<CustomResourceDefinition> {
    store
        .list(&crd_prefix(rt))
        .map(|(kvs, _)| {
            kvs.iter()
                .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
                .collect()
        })
        .unwrap_or_default()
}
