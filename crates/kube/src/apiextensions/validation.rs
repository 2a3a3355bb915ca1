//! CustomResourceDefinition defaulting and validation, as kube-apiserver's apiextensions-apiserver
//! does it.
//!
//! Upstream: `staging/src/k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation/validation.go`
//! (`ValidateCustomResourceDefinition`, `validateCustomResourceDefinitionSpec`,
//! `ValidateCustomResourceDefinitionNames`, `ValidateCustomResourceDefinitionVersion`,
//! `ValidateCustomResourceColumnDefinition`, `validateCustomResourceDefinitionSubresources`,
//! `ValidateCustomResourceDefinitionOpenAPISchema`, `ValidateCustomResourceDefinitionUpdate`),
//! `pkg/apiserver/schema/validation.go` (`ValidateStructural`) and
//! `pkg/apis/apiextensions/v1/defaults.go` (`SetDefaults_*`).

use super::cel;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionSpec, CustomResourceDefinitionVersion,
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::selector::{is_dns1035_label, is_dns1123_subdomain};

/// `SetDefaults_CustomResourceDefinition` and its spec's: `listKind`, `singular`, conversion
/// `None`, and `status.storedVersions` gaining the storage version.
pub fn set_defaults(crd: &mut CustomResourceDefinition) {
    let n = &mut crd.spec.names;
    if n.singular.as_deref().unwrap_or("").is_empty() {
        n.singular = Some(n.kind.to_lowercase());
    }
    if n.list_kind.as_deref().unwrap_or("").is_empty() && !n.kind.is_empty() {
        n.list_kind = Some(format!("{}List", n.kind));
    }
    let conv = crd.spec.conversion.get_or_insert_with(Default::default);
    if conv.strategy.is_empty() {
        conv.strategy = "None".into();
    }
    for v in &mut crd.spec.versions {
        for c in v.additional_printer_columns.iter_mut().flatten() {
            if c.priority.is_none() {
                c.priority = Some(0);
            }
        }
    }
}

fn storage_version(spec: &CustomResourceDefinitionSpec) -> Option<&str> {
    spec.versions
        .iter()
        .find(|v| v.storage)
        .map(|v| v.name.as_str())
}

/// Go's `%#v` of the versions in an error (`[]apiextensions.CustomResourceDefinitionVersion{...}`),
/// shortened to the fields that decide the message.
fn versions_value(vs: &[CustomResourceDefinitionVersion]) -> BadValue {
    let items: Vec<String> = vs
        .iter()
        .map(|v| {
            format!(
                "apiextensions.CustomResourceDefinitionVersion{{Name:{}, Served:{}, Storage:{}}}",
                twinstack_core::field::go_quote(&v.name),
                v.served,
                v.storage
            )
        })
        .collect();
    BadValue::Raw(format!(
        "[]apiextensions.CustomResourceDefinitionVersion{{{}}}",
        items.join(", ")
    ))
}

/// `ValidateCustomResourceDefinition` (after ObjectMeta, which the registry checks): the name,
/// the spec, the structural schemas and their CEL rules.
pub fn validate(crd: &CustomResourceDefinition) -> ErrorList {
    let mut errs = ErrorList::new();
    let spec = &crd.spec;
    let name = crd.metadata.name.as_deref().unwrap_or("");
    let want = format!("{}.{}", spec.names.plural, spec.group);
    if !name.is_empty() && name != want {
        errs.push(FieldError::invalid(
            &Path::new("metadata").child("name"),
            BadValue::str(name),
            "must be spec.names.plural+\".\"+spec.group",
        ));
    }
    validate_spec(spec, &Path::new("spec"), &mut errs);
    validate_api_approval(crd, &mut errs);
    if crd.spec.preserve_unknown_fields == Some(true) {
        errs.push(FieldError::invalid(
            &Path::new("spec").child("preserveUnknownFields"),
            BadValue::Plain("true".into()),
            "cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead",
        ));
    }
    errs
}

/// The annotation a CRD of a protected group must carry.
pub const API_APPROVED_ANNOTATION: &str = "api-approved.kubernetes.io";

/// `validateAPIApproval`: CRDs of the community's groups (`k8s.io`, `kubernetes.io` and their
/// subdomains) name the approved API change (a URL) or say they are `unapproved...`.
fn validate_api_approval(crd: &CustomResourceDefinition, errs: &mut ErrorList) {
    let g = crd.spec.group.as_str();
    let protected = g == "k8s.io"
        || g.ends_with(".k8s.io")
        || g == "kubernetes.io"
        || g.ends_with(".kubernetes.io");
    if !protected {
        return;
    }
    let path = Path::new("metadata")
        .child("annotations")
        .key(API_APPROVED_ANNOTATION);
    match crd
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(API_APPROVED_ANNOTATION))
    {
        None => errs.push(FieldError::required(
            &path,
            "protected groups must have approval annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111",
        )),
        Some(v) if v.starts_with("unapproved") || v.starts_with("https://") || v.starts_with("http://") => {}
        Some(v) => errs.push(FieldError::invalid(
            &path,
            BadValue::str(v),
            "protected groups must have approval annotation \"api-approved.kubernetes.io\" with either a URL or a reason starting with \"unapproved\", see https://github.com/kubernetes/enhancements/pull/1111",
        )),
    }
}

fn validate_spec(spec: &CustomResourceDefinitionSpec, p: &Path, errs: &mut ErrorList) {
    let gp = p.child("group");
    if spec.group.is_empty() {
        errs.push(FieldError::required(&gp, ""));
    } else {
        let msgs = is_dns1123_subdomain(&spec.group);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &gp,
                BadValue::str(&spec.group),
                msgs.join(","),
            ));
        }
        if spec.group.split('.').count() < 2 {
            errs.push(FieldError::invalid(
                &gp,
                BadValue::str(&spec.group),
                "should be a domain with at least one dot",
            ));
        }
    }
    let sp = p.child("scope");
    match spec.scope.as_str() {
        "" => errs.push(FieldError::required(&sp, "")),
        "Cluster" | "Namespaced" => {}
        other => errs.push(FieldError::not_supported(
            &sp,
            BadValue::str(other),
            &["Cluster", "Namespaced"],
        )),
    }
    let vp = p.child("versions");
    if spec.versions.is_empty() {
        errs.push(FieldError::required(
            &vp,
            "must have exactly one version marked as storage version",
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut unique = true;
    for (i, v) in spec.versions.iter().enumerate() {
        if !seen.insert(v.name.as_str()) {
            unique = false;
        }
        let ip = vp.index(i);
        let msgs = is_dns1035_label(&v.name);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &ip.child("name"),
                BadValue::str(&v.name),
                msgs.join(","),
            ));
        }
        validate_version(v, &ip, errs);
    }
    if !unique {
        errs.push(FieldError::invalid(
            &vp,
            versions_value(&spec.versions),
            "must contain unique version names",
        ));
    }
    let storage = spec.versions.iter().filter(|v| v.storage).count();
    if !spec.versions.is_empty() && storage != 1 {
        errs.push(FieldError::invalid(
            &vp,
            versions_value(&spec.versions),
            "must have exactly one version marked as storage version",
        ));
    }
    validate_names(&spec.names, &p.child("names"), errs);
    if let Some(c) = &spec.conversion {
        let cp = p.child("conversion").child("strategy");
        match c.strategy.as_str() {
            "None" | "Webhook" => {}
            other => errs.push(FieldError::not_supported(
                &cp,
                BadValue::str(other),
                &["None", "Webhook"],
            )),
        }
        if c.strategy == "Webhook" && c.webhook.is_none() {
            errs.push(FieldError::required(
                &p.child("conversion").child("webhook"),
                "must be set if strategy is Webhook",
            ));
        }
    }
}

/// `ValidateCustomResourceDefinitionNames`.
fn validate_names(
    n: &k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinitionNames,
    p: &Path,
    errs: &mut ErrorList,
) {
    let label = |field: &str, value: &str, errs: &mut ErrorList| {
        let msgs = is_dns1035_label(value);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &p.child(field),
                BadValue::str(value),
                msgs.join(","),
            ));
        }
    };
    if n.plural.is_empty() {
        errs.push(FieldError::required(&p.child("plural"), ""));
    } else {
        label("plural", &n.plural, errs);
    }
    if let Some(s) = n.singular.as_deref().filter(|s| !s.is_empty()) {
        label("singular", s, errs);
    }
    let kind_label = |field: &str, value: &str, errs: &mut ErrorList| {
        let msgs = is_dns1035_label(&value.to_lowercase());
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &p.child(field),
                BadValue::str(value),
                "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?",
            ));
        }
    };
    if n.kind.is_empty() {
        errs.push(FieldError::required(&p.child("kind"), ""));
    } else {
        kind_label("kind", &n.kind, errs);
    }
    match n.list_kind.as_deref() {
        None | Some("") => errs.push(FieldError::required(&p.child("listKind"), "")),
        Some(lk) => {
            kind_label("listKind", lk, errs);
            if lk == n.kind {
                errs.push(FieldError::invalid(
                    &p.child("listKind"),
                    BadValue::str(lk),
                    "kind and listKind may not be the same",
                ));
            }
        }
    }
    for (i, s) in n.short_names.iter().flatten().enumerate() {
        let msgs = is_dns1035_label(s);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &p.child("shortNames").index(i),
                BadValue::str(s),
                msgs.join(","),
            ));
        }
    }
    for (i, c) in n.categories.iter().flatten().enumerate() {
        let msgs = is_dns1035_label(c);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(
                &p.child("categories").index(i),
                BadValue::str(c),
                msgs.join(","),
            ));
        }
    }
}

fn validate_version(v: &CustomResourceDefinitionVersion, p: &Path, errs: &mut ErrorList) {
    let sp = p.child("schema").child("openAPIV3Schema");
    match v
        .schema
        .as_ref()
        .and_then(|s| s.open_api_v3_schema.as_ref())
    {
        None => errs.push(FieldError::required(&sp, "schemas are required")),
        Some(s) => {
            validate_structural(s, &sp, Level::Root, errs);
            cel::compile_errors(s, &sp, errs);
        }
    }
    for (i, c) in v.additional_printer_columns.iter().flatten().enumerate() {
        let cp = p.child("additionalPrinterColumns").index(i);
        if c.name.is_empty() {
            errs.push(FieldError::required(&cp.child("name"), ""));
        }
        match c.type_.as_str() {
            "" => errs.push(FieldError::required(&cp.child("type"), "")),
            "integer" | "number" | "string" | "boolean" | "date" => {}
            other => errs.push(FieldError::not_supported(
                &cp.child("type"),
                BadValue::str(other),
                &["boolean", "date", "integer", "number", "string"],
            )),
        }
        if let Some(f) = c.format.as_deref().filter(|f| !f.is_empty()) {
            const FORMATS: &[&str] = &[
                "int32",
                "int64",
                "float",
                "double",
                "byte",
                "date",
                "date-time",
                "password",
            ];
            if !FORMATS.contains(&f) {
                errs.push(FieldError::not_supported(
                    &cp.child("format"),
                    BadValue::str(f),
                    FORMATS,
                ));
            }
        }
        if c.json_path.is_empty() {
            errs.push(FieldError::required(&cp.child("jsonPath"), ""));
        } else if !c.json_path.starts_with('.') && !c.json_path.starts_with('{') {
            errs.push(FieldError::invalid(
                &cp.child("jsonPath"),
                BadValue::str(&c.json_path),
                "must be a simple json path starting with .",
            ));
        }
        if c.priority.is_some_and(|x| x < 0) {
            errs.push(FieldError::invalid(
                &cp.child("priority"),
                BadValue::int(c.priority.unwrap_or(0) as i64),
                twinstack_core::meta::IS_NEGATIVE,
            ));
        }
    }
    if let Some(scale) = v.subresources.as_ref().and_then(|s| s.scale.as_ref()) {
        let sp = p.child("subresources").child("scale");
        if !scale.spec_replicas_path.starts_with(".spec.") {
            errs.push(FieldError::invalid(
                &sp.child("specReplicasPath"),
                BadValue::str(&scale.spec_replicas_path),
                "should be a json path under .spec",
            ));
        }
        if !scale.status_replicas_path.starts_with(".status.") {
            errs.push(FieldError::invalid(
                &sp.child("statusReplicasPath"),
                BadValue::str(&scale.status_replicas_path),
                "should be a json path under .status",
            ));
        }
        if let Some(l) = scale
            .label_selector_path
            .as_deref()
            .filter(|l| !l.starts_with(".spec.") && !l.starts_with(".status."))
        {
            errs.push(FieldError::invalid(
                &sp.child("labelSelectorPath"),
                BadValue::str(l),
                "should be a json path under either .spec or .status",
            ));
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Root,
    /// Directly below the root (where `metadata` may only name `name` and `generateName`).
    RootChild,
    Nested,
}

/// `ValidateStructural` and the v1 schema rules that users meet: every node typed (unless
/// int-or-string or preserve-unknown-fields), no `$ref`, `metadata` restricted, int-or-string
/// untyped, list types well formed.
fn validate_structural(s: &JSONSchemaProps, p: &Path, level: Level, errs: &mut ErrorList) {
    let typed = s.type_.as_deref().is_some_and(|t| !t.is_empty());
    let ios = s.x_kubernetes_int_or_string == Some(true);
    let pres = s.x_kubernetes_preserve_unknown_fields == Some(true);
    if level == Level::Root {
        if !typed {
            errs.push(FieldError::required(
                &p.child("type"),
                "must not be empty at the root",
            ));
        } else if s.type_.as_deref() != Some("object") {
            errs.push(FieldError::invalid(
                &p.child("type"),
                BadValue::str(s.type_.clone().unwrap_or_default()),
                "must be object at the root",
            ));
        }
        if s.nullable == Some(true) {
            errs.push(FieldError::forbidden(
                &p.child("nullable"),
                "must be false at the root",
            ));
        }
    } else if !typed && !ios && !pres {
        errs.push(FieldError::required(
            &p.child("type"),
            "must not be empty for specified object fields",
        ));
    }
    if ios && typed {
        errs.push(FieldError::forbidden(
            &p.child("type"),
            "must be empty to be structural with x-kubernetes-int-or-string",
        ));
    }
    if s.ref_path.is_some() {
        errs.push(FieldError::forbidden(
            &p.child("$ref"),
            "$ref is not supported",
        ));
    }
    if s.additional_properties.is_some() && s.properties.as_ref().is_some_and(|p| !p.is_empty()) {
        if let Some(JSONSchemaPropsOrBool::Schema(_)) = &s.additional_properties {
            errs.push(FieldError::forbidden(
                &p.child("additionalProperties"),
                "additionalProperties and properties are mutual exclusive",
            ));
        }
    }
    if s.type_.as_deref() == Some("array") && s.items.is_none() {
        errs.push(FieldError::required(&p.child("items"), "must be specified"));
    }
    if let Some(lt) = s.x_kubernetes_list_type.as_deref() {
        let lp = p.child("x-kubernetes-list-type");
        match lt {
            "atomic" | "set" | "map" => {}
            other => errs.push(FieldError::not_supported(
                &lp,
                BadValue::str(other),
                &["atomic", "set", "map"],
            )),
        }
        if s.type_.as_deref() != Some("array") {
            errs.push(FieldError::invalid(
                &lp,
                BadValue::str(lt),
                "must only be used on arrays",
            ));
        }
        if lt == "map"
            && s.x_kubernetes_list_map_keys
                .as_ref()
                .is_none_or(|k| k.is_empty())
        {
            errs.push(FieldError::required(
                &p.child("x-kubernetes-list-map-keys"),
                "must not be empty if x-kubernetes-list-type is map",
            ));
        }
    }
    if let Some(mt) = s.x_kubernetes_map_type.as_deref() {
        if !matches!(mt, "atomic" | "granular") {
            errs.push(FieldError::not_supported(
                &p.child("x-kubernetes-map-type"),
                BadValue::str(mt),
                &["atomic", "granular"],
            ));
        }
    }
    for (k, child) in s.properties.iter().flatten() {
        let cp = p.child("properties").key(k);
        if level == Level::Root && k == "metadata" {
            let only_names = child
                .properties
                .as_ref()
                .is_none_or(|props| props.keys().all(|n| n == "name" || n == "generateName"));
            if !only_names {
                errs.push(FieldError::forbidden(
                    &cp,
                    "must not specify anything other than name and generateName, but metadata is implicitly specified",
                ));
            }
        }
        let next = if level == Level::Root {
            Level::RootChild
        } else {
            Level::Nested
        };
        validate_structural(child, &cp, next, errs);
    }
    match &s.items {
        Some(JSONSchemaPropsOrArray::Schema(i)) => {
            validate_structural(i, &p.child("items"), Level::Nested, errs)
        }
        Some(JSONSchemaPropsOrArray::Schemas(_)) => errs.push(FieldError::forbidden(
            &p.child("items"),
            "items must be a schema object and not an array",
        )),
        None => {}
    }
    if let Some(JSONSchemaPropsOrBool::Schema(a)) = &s.additional_properties {
        validate_structural(a, &p.child("additionalProperties"), Level::Nested, errs);
    }
    let _ = level == Level::RootChild;
}

/// `ValidateCustomResourceDefinitionUpdate`: the group, names' plural and the scope are fixed
/// (the name pins the first two); the stored versions must stay served or listed.
pub fn validate_update(
    new: &CustomResourceDefinition,
    old: &CustomResourceDefinition,
) -> ErrorList {
    let mut errs = validate(new);
    let p = Path::new("spec");
    if new.spec.scope != old.spec.scope {
        errs.push(FieldError::invalid(
            &p.child("scope"),
            BadValue::str(&new.spec.scope),
            "field is immutable",
        ));
    }
    if new.spec.group != old.spec.group {
        errs.push(FieldError::invalid(
            &p.child("group"),
            BadValue::str(&new.spec.group),
            "field is immutable",
        ));
    }
    if new.spec.names.plural != old.spec.names.plural {
        errs.push(FieldError::invalid(
            &p.child("names").child("plural"),
            BadValue::str(&new.spec.names.plural),
            "field is immutable",
        ));
    }
    errs
}

/// `status.storedVersions` after a write: the storage version joins the versions already stored.
pub fn stored_versions(spec: &CustomResourceDefinitionSpec, old: &[String]) -> Vec<String> {
    let mut out = old.to_vec();
    if let Some(s) = storage_version(spec) {
        if !out.iter().any(|v| v == s) {
            out.push(s.to_string());
        }
    }
    out
}
