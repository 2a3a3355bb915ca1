//! Object metadata validation, as kube-apiserver 1.32 runs it on every create and update.
//!
//! Sources (read for facts, not copied): k8s.io/apimachinery `pkg/api/validation/objectmeta.go`
//! (`ValidateObjectMeta`, `ValidateObjectMetaAccessor`, `ValidateObjectMetaUpdate`,
//! `ValidateAnnotations`, `ValidateOwnerReferences`, `ValidateFinalizers`),
//! `pkg/api/validation/generic.go` (`NameIsDNSSubdomain`, `NameIsDNSLabel`,
//! `NameIsDNS1035Label`, `maskTrailingDash`, `ValidateNonnegativeField`),
//! `pkg/api/validation/path/name.go` (`ValidatePathSegmentName`),
//! `pkg/apis/meta/v1/validation/validation.go` (`ValidateLabels`, `ValidateManagedFields`,
//! `ValidateFieldManager`) and `pkg/util/validation/field/errors.go` (how bad values print).
//!
//! Errors come back in upstream's order. Go iterates label and annotation maps in random
//! order; we iterate them sorted, which is one of the orders upstream can produce.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ManagedFieldsEntry, ObjectMeta, OwnerReference, Time,
};

use crate::field::{go_quote, BadValue, ErrorList, FieldError, Path};

pub use crate::selector::{
    is_dns1035_label, is_dns1123_label, is_dns1123_subdomain, is_qualified_name,
    is_valid_label_value, max_len_error, regex_error, validate_label_name, validate_labels,
};

/// `FieldImmutableErrorMsg`.
pub const FIELD_IMMUTABLE: &str = "field is immutable";
/// `TotalAnnotationSizeLimitB`: 256 KiB over all keys and values.
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * (1 << 10);
/// `IsNegativeErrorMsg`.
pub const IS_NEGATIVE: &str = "must be greater than or equal to 0";
/// `metav1.FinalizerOrphanDependents`.
pub const FINALIZER_ORPHAN: &str = "orphan";
/// `metav1.FinalizerDeleteDependents`.
pub const FINALIZER_DELETE_DEPENDENTS: &str = "foregroundDeletion";
/// `v1validation.FieldManagerMaxLength`.
pub const FIELD_MANAGER_MAX: usize = 128;
/// `v1validation.MaxSubresourceNameLength`.
pub const SUBRESOURCE_NAME_MAX: usize = 256;

/// Which `ValidateNameFunc` a resource uses for `metadata.name` (and `generateName`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameValidation {
    /// `NameIsDNSSubdomain`: most resources (pods, configmaps, deployments, ...).
    Dns1123Subdomain,
    /// `NameIsDNSLabel`: namespaces (also `ValidateNamespaceName`).
    Dns1123Label,
    /// `NameIsDNS1035Label`: services.
    Dns1035Label,
    /// `path.ValidatePathSegmentName`: RBAC roles and bindings, CRD-backed resources.
    PathSegment,
}

impl NameValidation {
    /// Messages for `name`; `prefix` is true for `generateName`, where a trailing `-` is allowed.
    pub fn validate(self, name: &str, prefix: bool) -> Vec<String> {
        match self {
            NameValidation::Dns1123Subdomain => {
                is_dns1123_subdomain(&mask_trailing_dash(name, prefix))
            }
            NameValidation::Dns1123Label => is_dns1123_label(&mask_trailing_dash(name, prefix)),
            NameValidation::Dns1035Label => is_dns1035_label(&mask_trailing_dash(name, prefix)),
            NameValidation::PathSegment => {
                if prefix {
                    is_valid_path_segment_prefix(name)
                } else {
                    is_valid_path_segment_name(name)
                }
            }
        }
    }
}

/// `maskTrailingDash`: upstream drops the last *two* bytes and appends `a` (a quirk kept as is,
/// since it decides which generateNames pass).
fn mask_trailing_dash(name: &str, prefix: bool) -> String {
    if prefix && name.len() > 1 && name.ends_with('-') {
        let cut = name.len() - 2;
        if name.is_char_boundary(cut) {
            return format!("{}a", &name[..cut]);
        }
        // A multi-byte character before the dash: Go would cut inside it; the result is
        // invalid either way, so keep the invalid character.
        return format!("{}a", &name[..name.len() - 1]);
    }
    name.to_string()
}

/// `path.IsValidPathSegmentName`.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    for bad in [".", ".."] {
        if name == bad {
            return vec![format!("may not be '{bad}'")];
        }
    }
    is_valid_path_segment_prefix(name)
}

/// `path.IsValidPathSegmentPrefix`.
pub fn is_valid_path_segment_prefix(name: &str) -> Vec<String> {
    ["/", "%"]
        .iter()
        .filter(|c| name.contains(**c))
        .map(|c| format!("may not contain '{c}'"))
        .collect()
}

/// Go's `time.Time.String()` in UTC (how kube-apiserver prints a `metav1.Time` bad value):
/// `2024-01-02 03:04:05 +0000 UTC`, fractional seconds only when non-zero.
pub fn go_time_string(t: Option<&Time>) -> String {
    let Some(t) = t else {
        return "0001-01-01 00:00:00 +0000 UTC".to_string();
    };
    let z = t.0.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC);
    let mut s = z.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let ns = z.subsec_nanosecond();
    if ns > 0 {
        let frac = format!("{ns:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push_str(" +0000 UTC");
    s
}

fn opt_str(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// `ValidateAnnotations`: keys are qualified names compared lowercased; total size limit.
pub fn validate_annotations(annotations: &BTreeMap<String, String>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for k in annotations.keys() {
        for m in is_qualified_name(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, BadValue::str(k), m));
        }
    }
    let total: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

fn go_bool_ptr(b: Option<bool>) -> String {
    match b {
        None => "(*bool)(nil)".to_string(),
        // Go prints the pointer's address here; any fixed address is as good as the real one.
        Some(_) => "(*bool)(0xc000000000)".to_string(),
    }
}

/// `%#v` of a `metav1.OwnerReference`.
fn go_owner_reference(r: &OwnerReference) -> String {
    format!(
        "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
        go_quote(&r.api_version),
        go_quote(&r.kind),
        go_quote(&r.name),
        go_quote(&r.uid),
        go_bool_ptr(r.controller),
        go_bool_ptr(r.block_owner_deletion)
    )
}

/// `schema.ParseGroupVersion` + `FromAPIVersionAndKind`: (group, version).
fn parse_group_version(api_version: &str) -> (String, String) {
    if api_version.is_empty() || api_version == "/" {
        return (String::new(), String::new());
    }
    match api_version.matches('/').count() {
        0 => (String::new(), api_version.to_string()),
        1 => {
            let (g, v) = api_version.split_once('/').unwrap_or(("", api_version));
            (g.to_string(), v.to_string())
        }
        _ => (String::new(), String::new()),
    }
}

fn validate_owner_reference(r: &OwnerReference, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let (group, version) = parse_group_version(&r.api_version);
    if version.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("apiVersion"),
            BadValue::str(&r.api_version),
            "version must not be empty",
        ));
    }
    if r.kind.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("kind"),
            BadValue::str(&r.kind),
            "kind must not be empty",
        ));
    }
    if r.name.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("name"),
            BadValue::str(&r.name),
            "name must not be empty",
        ));
    }
    if r.uid.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("uid"),
            BadValue::str(&r.uid),
            "uid must not be empty",
        ));
    }
    // BannedOwners: core v1 Event.
    if group.is_empty() && version == "v1" && r.kind == "Event" {
        errs.push(FieldError::invalid(
            path,
            BadValue::Raw(go_owner_reference(r)),
            format!(
                "{group}/{version}, Kind={} is disallowed from being an owner",
                r.kind
            ),
        ));
    }
    errs
}

/// `ValidateOwnerReferences`: errors are reported at `path` itself (not per index), as upstream.
pub fn validate_owner_references(refs: &[OwnerReference], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut first_controller = String::new();
    for r in refs {
        errs.extend(validate_owner_reference(r, path));
        if r.controller == Some(true) {
            let cur = format!("{}/{}", r.kind, r.name);
            if first_controller.is_empty() {
                first_controller = cur;
            } else {
                let all: Vec<String> = refs.iter().map(go_owner_reference).collect();
                errs.push(FieldError::invalid(
                    path,
                    BadValue::Raw(format!("[]v1.OwnerReference{{{}}}", all.join(", "))),
                    format!("Only one reference can have Controller set to true. Found \"true\" in references for {first_controller} and {cur}"),
                ));
            }
        }
    }
    errs
}

/// `ValidateFinalizers`: each name a qualified name (errors at `path`, not indexed), and not
/// both `orphan` and `foregroundDeletion`.
pub fn validate_finalizers(finalizers: &[String], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for f in finalizers {
        for m in is_qualified_name(f) {
            errs.push(FieldError::invalid(path, BadValue::str(f), m));
        }
    }
    let has = |n: &str| finalizers.iter().any(|f| f == n);
    if has(FINALIZER_ORPHAN) && has(FINALIZER_DELETE_DEPENDENTS) {
        errs.push(FieldError::invalid(
            path,
            BadValue::list(finalizers),
            format!(
                "finalizer {FINALIZER_ORPHAN} and {FINALIZER_DELETE_DEPENDENTS} cannot be both set"
            ),
        ));
    }
    errs
}

/// Go's `unicode.IsPrint`, approximated with what std offers (letters, marks, numbers,
/// punctuation, symbols and the ASCII space; not other spaces, controls or format characters).
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E
        | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB | 0xD800..=0xDFFF | 0xE000..=0xF8FF
        | 0xFFFE | 0xFFFF | 0xF0000..=0x10FFFF)
}

/// `ValidateFieldManager`.
pub fn validate_field_manager(manager: &str, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if manager.len() > FIELD_MANAGER_MAX {
        errs.push(FieldError::too_long(path, FIELD_MANAGER_MAX));
    }
    for (i, c) in manager.char_indices() {
        if !go_is_print(c) {
            errs.push(FieldError::invalid(
                path,
                BadValue::str(manager),
                format!("invalid character U+{:04X} (at position {i})", c as u32),
            ));
        }
    }
    errs
}

/// `ValidateManagedFields`.
pub fn validate_managed_fields(entries: &[ManagedFieldsEntry], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, e) in entries.iter().enumerate() {
        let p = path.index(i);
        let op = opt_str(&e.operation);
        if op != "Apply" && op != "Update" {
            errs.push(FieldError::invalid(
                &p.child("operation"),
                BadValue::str(op),
                "must be `Apply` or `Update`",
            ));
        }
        let ft = opt_str(&e.fields_type);
        if !ft.is_empty() && ft != "FieldsV1" {
            errs.push(FieldError::invalid(
                &p.child("fieldsType"),
                BadValue::str(ft),
                "must be `FieldsV1`",
            ));
        }
        errs.extend(validate_field_manager(
            opt_str(&e.manager),
            &p.child("manager"),
        ));
        if opt_str(&e.subresource).len() > SUBRESOURCE_NAME_MAX {
            errs.push(FieldError::too_long(
                &p.child("subresource"),
                SUBRESOURCE_NAME_MAX,
            ));
        }
    }
    errs
}

/// `ValidateObjectMeta` (create): generateName, name (`name or generateName is required`),
/// namespace (required / `not allowed on this type`), generation, labels, annotations,
/// ownerReferences, finalizers, managedFields — in that order. Name generation is expected
/// to have happened already, as upstream.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_fn: NameValidation,
    path: &Path,
) -> ErrorList {
    let mut errs = ErrorList::new();
    let generate_name = opt_str(&meta.generate_name);
    if !generate_name.is_empty() {
        for m in name_fn.validate(generate_name, true) {
            errs.push(FieldError::invalid(
                &path.child("generateName"),
                BadValue::str(generate_name),
                m,
            ));
        }
    }
    let name = opt_str(&meta.name);
    if name.is_empty() {
        errs.push(FieldError::required(
            &path.child("name"),
            "name or generateName is required",
        ));
    } else {
        for m in name_fn.validate(name, false) {
            errs.push(FieldError::invalid(
                &path.child("name"),
                BadValue::str(name),
                m,
            ));
        }
    }
    let namespace = opt_str(&meta.namespace);
    if namespaced {
        if namespace.is_empty() {
            errs.push(FieldError::required(&path.child("namespace"), ""));
        } else {
            for m in NameValidation::Dns1123Label.validate(namespace, false) {
                errs.push(FieldError::invalid(
                    &path.child("namespace"),
                    BadValue::str(namespace),
                    m,
                ));
            }
        }
    } else if !namespace.is_empty() {
        errs.push(FieldError::forbidden(
            &path.child("namespace"),
            "not allowed on this type",
        ));
    }
    let generation = meta.generation.unwrap_or(0);
    if generation < 0 {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            BadValue::int(generation),
            IS_NEGATIVE,
        ));
    }
    errs.extend(common_meta(meta, path));
    errs.extend(validate_finalizers(
        meta.finalizers.as_deref().unwrap_or(&[]),
        &path.child("finalizers"),
    ));
    errs.extend(validate_managed_fields(
        meta.managed_fields.as_deref().unwrap_or(&[]),
        &path.child("managedFields"),
    ));
    errs
}

/// Labels, annotations and ownerReferences, shared by create and update.
fn common_meta(meta: &ObjectMeta, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if let Some(l) = &meta.labels {
        errs.extend(validate_labels(l, &path.child("labels")));
    }
    if let Some(a) = &meta.annotations {
        errs.extend(validate_annotations(a, &path.child("annotations")));
    }
    errs.extend(validate_owner_references(
        meta.owner_references.as_deref().unwrap_or(&[]),
        &path.child("ownerReferences"),
    ));
    errs
}

fn immutable(errs: &mut ErrorList, changed: bool, path: &Path, new_value: BadValue) {
    if changed {
        errs.push(FieldError::invalid(path, new_value, FIELD_IMMUTABLE));
    }
}

/// `ValidateObjectMetaUpdate`: no new finalizers once deleting, resourceVersion required,
/// generation not decremented, name/namespace/uid/creationTimestamp/deletionTimestamp/
/// deletionGracePeriodSeconds immutable (`field is immutable`), then labels, annotations,
/// ownerReferences and managedFields of the new object.
pub fn validate_object_meta_update(new: &ObjectMeta, old: &ObjectMeta, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if old.deletion_timestamp.is_some() {
        let old_f = old.finalizers.as_deref().unwrap_or(&[]);
        let mut extra: Vec<String> = new
            .finalizers
            .iter()
            .flatten()
            .filter(|f| !old_f.contains(f))
            .cloned()
            .collect();
        extra.sort();
        extra.dedup();
        if !extra.is_empty() {
            errs.push(FieldError::forbidden(
                &path.child("finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {}",
                    BadValue::list(&extra)
                ),
            ));
        }
    }
    let rv = opt_str(&new.resource_version);
    if rv.is_empty() {
        errs.push(FieldError::invalid(
            &path.child("resourceVersion"),
            BadValue::str(rv),
            "must be specified for an update",
        ));
    }
    let (new_gen, old_gen) = (new.generation.unwrap_or(0), old.generation.unwrap_or(0));
    if new_gen < old_gen {
        errs.push(FieldError::invalid(
            &path.child("generation"),
            BadValue::int(new_gen),
            "must not be decremented",
        ));
    }
    let s = |o: &Option<String>| opt_str(o).to_string();
    immutable(
        &mut errs,
        s(&new.name) != s(&old.name),
        &path.child("name"),
        BadValue::Str(s(&new.name)),
    );
    immutable(
        &mut errs,
        s(&new.namespace) != s(&old.namespace),
        &path.child("namespace"),
        BadValue::Str(s(&new.namespace)),
    );
    immutable(
        &mut errs,
        s(&new.uid) != s(&old.uid),
        &path.child("uid"),
        BadValue::Str(s(&new.uid)),
    );
    let ts = |t: &Option<Time>| t.as_ref().map(|t| t.0);
    immutable(
        &mut errs,
        ts(&new.creation_timestamp) != ts(&old.creation_timestamp),
        &path.child("creationTimestamp"),
        BadValue::Raw(go_time_string(new.creation_timestamp.as_ref())),
    );
    immutable(
        &mut errs,
        ts(&new.deletion_timestamp) != ts(&old.deletion_timestamp),
        &path.child("deletionTimestamp"),
        match &new.deletion_timestamp {
            None => BadValue::Null,
            Some(t) => BadValue::Raw(go_time_string(Some(t))),
        },
    );
    immutable(
        &mut errs,
        new.deletion_grace_period_seconds != old.deletion_grace_period_seconds,
        &path.child("deletionGracePeriodSeconds"),
        match new.deletion_grace_period_seconds {
            None => BadValue::Null,
            Some(n) => BadValue::int(n),
        },
    );
    errs.extend(common_meta(new, path));
    errs.extend(validate_managed_fields(
        new.managed_fields.as_deref().unwrap_or(&[]),
        &path.child("managedFields"),
    ));
    errs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::aggregate;

    fn meta(name: &str, ns: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: ns.map(Into::into),
            ..Default::default()
        }
    }

    fn msgs(errs: &ErrorList) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    fn md() -> Path {
        Path::new("metadata")
    }

    fn time(s: &str) -> Time {
        Time(s.parse().unwrap())
    }

    #[test]
    fn valid_objects_pass() {
        assert!(validate_object_meta(
            &meta("web", Some("default")),
            true,
            NameValidation::Dns1123Subdomain,
            &md()
        )
        .is_empty());
        assert!(validate_object_meta(
            &meta("kube-system", None),
            false,
            NameValidation::Dns1123Label,
            &md()
        )
        .is_empty());
        assert!(validate_object_meta(
            &meta("svc-1", Some("ns")),
            true,
            NameValidation::Dns1035Label,
            &md()
        )
        .is_empty());
        assert!(validate_object_meta(
            &meta("system:admin", None),
            false,
            NameValidation::PathSegment,
            &md()
        )
        .is_empty());
    }

    #[test]
    fn name_required_and_invalid() {
        let m = ObjectMeta {
            namespace: Some("default".into()),
            ..Default::default()
        };
        assert_eq!(
            aggregate(&validate_object_meta(
                &m,
                true,
                NameValidation::Dns1123Subdomain,
                &md()
            )),
            "metadata.name: Required value: name or generateName is required"
        );
        let errs = validate_object_meta(
            &meta("Web", Some("default")),
            true,
            NameValidation::Dns1123Subdomain,
            &md(),
        );
        assert_eq!(msgs(&errs), vec![
            "metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ]);
        let errs = validate_object_meta(
            &meta("my.svc", Some("default")),
            true,
            NameValidation::Dns1035Label,
            &md(),
        );
        assert_eq!(msgs(&errs), vec![
            "metadata.name: Invalid value: \"my.svc\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        ]);
        let errs = validate_object_meta(
            &meta("a.b", None),
            false,
            NameValidation::Dns1123Label,
            &md(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.name: Invalid value: \"a.b\": must not contain dots"]
        );
        let errs = validate_object_meta(
            &meta("a/b", None),
            false,
            NameValidation::PathSegment,
            &md(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.name: Invalid value: \"a/b\": may not contain '/'"]
        );
        let errs =
            validate_object_meta(&meta("..", None), false, NameValidation::PathSegment, &md());
        assert_eq!(
            msgs(&errs),
            vec!["metadata.name: Invalid value: \"..\": may not be '..'"]
        );
    }

    #[test]
    fn generate_name() {
        let m = ObjectMeta {
            generate_name: Some("web-".into()),
            name: Some("web-abcde".into()),
            namespace: Some("d".into()),
            ..Default::default()
        };
        assert!(validate_object_meta(&m, true, NameValidation::Dns1123Subdomain, &md()).is_empty());
        let m = ObjectMeta {
            generate_name: Some("Web-".into()),
            name: Some("Web-abcde".into()),
            namespace: Some("d".into()),
            ..Default::default()
        };
        let errs = msgs(&validate_object_meta(
            &m,
            true,
            NameValidation::Dns1123Subdomain,
            &md(),
        ));
        assert_eq!(errs.len(), 2);
        assert!(errs[0].starts_with(
            "metadata.generateName: Invalid value: \"Web-\": a lowercase RFC 1123 subdomain"
        ));
        assert!(errs[1].starts_with(
            "metadata.name: Invalid value: \"Web-abcde\": a lowercase RFC 1123 subdomain"
        ));
        assert_eq!(mask_trailing_dash("abc-", true), "aba");
        assert_eq!(mask_trailing_dash("a-", true), "a");
        assert_eq!(mask_trailing_dash("-", true), "-");
        assert_eq!(mask_trailing_dash("abc-", false), "abc-");
        assert_eq!(
            NameValidation::Dns1123Label.validate(&format!("{}-", "a".repeat(63)), true),
            Vec::<String>::new()
        );
        assert_eq!(
            NameValidation::PathSegment.validate("..", true),
            Vec::<String>::new()
        );
    }

    #[test]
    fn namespace_rules() {
        let errs = validate_object_meta(
            &meta("x", None),
            true,
            NameValidation::Dns1123Subdomain,
            &md(),
        );
        assert_eq!(msgs(&errs), vec!["metadata.namespace: Required value"]);
        let errs = validate_object_meta(
            &meta("x", Some("Bad_NS")),
            true,
            NameValidation::Dns1123Subdomain,
            &md(),
        );
        assert_eq!(msgs(&errs), vec![
            "metadata.namespace: Invalid value: \"Bad_NS\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        ]);
        let errs = validate_object_meta(
            &meta("x", Some("default")),
            false,
            NameValidation::Dns1123Subdomain,
            &md(),
        );
        assert_eq!(
            msgs(&errs),
            vec!["metadata.namespace: Forbidden: not allowed on this type"]
        );
    }

    #[test]
    fn labels_annotations_generation() {
        let mut m = meta("x", Some("d"));
        m.generation = Some(-1);
        m.labels = Some(
            [
                ("app".to_string(), "a b".to_string()),
                ("-k".to_string(), "v".to_string()),
            ]
            .into(),
        );
        m.annotations = Some(
            [
                ("Example.COM/Key".to_string(), "v".to_string()),
                ("bad key".to_string(), "v".to_string()),
            ]
            .into(),
        );
        let errs = msgs(&validate_object_meta(
            &m,
            true,
            NameValidation::Dns1123Subdomain,
            &md(),
        ));
        assert_eq!(errs.len(), 4, "{errs:#?}");
        assert_eq!(
            errs[0],
            "metadata.generation: Invalid value: -1: must be greater than or equal to 0"
        );
        assert!(errs[1].starts_with("metadata.labels: Invalid value: \"-k\": name part must consist of alphanumeric characters"));
        assert!(errs[2].starts_with(
            "metadata.labels: Invalid value: \"a b\": a valid label must be an empty string"
        ));
        assert!(errs[3].starts_with(
            "metadata.annotations: Invalid value: \"bad key\": name part must consist"
        ));

        let mut m = meta("x", Some("d"));
        m.annotations = Some([("big".to_string(), "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT))].into());
        let errs = validate_object_meta(&m, true, NameValidation::Dns1123Subdomain, &md());
        assert_eq!(
            msgs(&errs),
            vec!["metadata.annotations: Too long: may not be more than 262144 bytes"]
        );
        m.annotations =
            Some([("b".to_string(), "x".repeat(TOTAL_ANNOTATION_SIZE_LIMIT - 1))].into());
        assert!(validate_object_meta(&m, true, NameValidation::Dns1123Subdomain, &md()).is_empty());
    }

    #[test]
    fn owner_references_and_finalizers() {
        let r = |kind: &str, name: &str, controller: Option<bool>| OwnerReference {
            api_version: "v1".into(),
            kind: kind.into(),
            name: name.into(),
            uid: "u1".into(),
            controller,
            block_owner_deletion: None,
        };
        let mut m = meta("x", Some("d"));
        m.owner_references = Some(vec![
            OwnerReference {
                api_version: "apps/".into(),
                kind: "".into(),
                name: "".into(),
                uid: "".into(),
                ..Default::default()
            },
            r("Event", "e", None),
            r("ReplicaSet", "a", Some(true)),
            r("ReplicaSet", "b", Some(true)),
        ]);
        m.finalizers = Some(vec![
            "orphan".into(),
            "foregroundDeletion".into(),
            "a/b/c".into(),
        ]);
        let errs = msgs(&validate_object_meta(
            &m,
            true,
            NameValidation::Dns1123Subdomain,
            &md(),
        ));
        assert_eq!(errs[0], "metadata.ownerReferences.apiVersion: Invalid value: \"apps/\": version must not be empty");
        assert_eq!(
            errs[1],
            "metadata.ownerReferences.kind: Invalid value: \"\": kind must not be empty"
        );
        assert_eq!(
            errs[2],
            "metadata.ownerReferences.name: Invalid value: \"\": name must not be empty"
        );
        assert_eq!(
            errs[3],
            "metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"
        );
        assert_eq!(
            errs[4],
            "metadata.ownerReferences: Invalid value: v1.OwnerReference{APIVersion:\"v1\", Kind:\"Event\", Name:\"e\", UID:\"u1\", Controller:(*bool)(nil), BlockOwnerDeletion:(*bool)(nil)}: /v1, Kind=Event is disallowed from being an owner"
        );
        assert!(errs[5].starts_with("metadata.ownerReferences: Invalid value: []v1.OwnerReference{v1.OwnerReference{APIVersion:\"apps/\""));
        assert!(errs[5].ends_with(": Only one reference can have Controller set to true. Found \"true\" in references for ReplicaSet/a and ReplicaSet/b"));
        assert!(errs[6].starts_with(
            "metadata.finalizers: Invalid value: \"a/b/c\": a qualified name must consist"
        ));
        assert_eq!(
            errs[7],
            "metadata.finalizers: Invalid value: []string{\"orphan\", \"foregroundDeletion\", \"a/b/c\"}: finalizer orphan and foregroundDeletion cannot be both set"
        );
        assert_eq!(errs.len(), 8);
    }

    #[test]
    fn managed_fields() {
        let mut m = meta("x", Some("d"));
        m.managed_fields = Some(vec![ManagedFieldsEntry {
            operation: Some("Patch".into()),
            fields_type: Some("FieldsV2".into()),
            manager: Some(format!("k\u{7}{}", "m".repeat(130))),
            subresource: Some("s".repeat(257)),
            ..Default::default()
        }]);
        let errs = msgs(&validate_object_meta(
            &m,
            true,
            NameValidation::Dns1123Subdomain,
            &md(),
        ));
        assert_eq!(errs[0], "metadata.managedFields[0].operation: Invalid value: \"Patch\": must be `Apply` or `Update`");
        assert_eq!(
            errs[1],
            "metadata.managedFields[0].fieldsType: Invalid value: \"FieldsV2\": must be `FieldsV1`"
        );
        assert_eq!(
            errs[2],
            "metadata.managedFields[0].manager: Too long: may not be more than 128 bytes"
        );
        assert!(
            errs[3].ends_with(": invalid character U+0007 (at position 1)"),
            "{}",
            errs[3]
        );
        assert_eq!(
            errs[4],
            "metadata.managedFields[0].subresource: Too long: may not be more than 256 bytes"
        );
    }

    #[test]
    fn update_rules() {
        let mut old = meta("web", Some("default"));
        old.uid = Some("u1".into());
        old.resource_version = Some("5".into());
        old.generation = Some(3);
        old.creation_timestamp = Some(time("2024-01-02T03:04:05Z"));
        let mut new = old.clone();
        assert!(validate_object_meta_update(&new, &old, &md()).is_empty());

        new.resource_version = None;
        new.generation = Some(2);
        new.name = Some("web2".into());
        new.namespace = Some("other".into());
        new.uid = Some("u2".into());
        new.creation_timestamp = Some(time("2024-05-06T07:08:09.5Z"));
        new.deletion_timestamp = Some(time("2024-05-06T07:08:09Z"));
        new.deletion_grace_period_seconds = Some(30);
        assert_eq!(msgs(&validate_object_meta_update(&new, &old, &md())), vec![
            "metadata.resourceVersion: Invalid value: \"\": must be specified for an update",
            "metadata.generation: Invalid value: 2: must not be decremented",
            "metadata.name: Invalid value: \"web2\": field is immutable",
            "metadata.namespace: Invalid value: \"other\": field is immutable",
            "metadata.uid: Invalid value: \"u2\": field is immutable",
            "metadata.creationTimestamp: Invalid value: 2024-05-06 07:08:09.5 +0000 UTC: field is immutable",
            "metadata.deletionTimestamp: Invalid value: 2024-05-06 07:08:09 +0000 UTC: field is immutable",
            "metadata.deletionGracePeriodSeconds: Invalid value: 30: field is immutable",
        ]);

        let mut deleting = old.clone();
        deleting.deletion_timestamp = Some(time("2024-05-06T07:08:09Z"));
        deleting.finalizers = Some(vec!["a.io/x".into()]);
        let mut upd = deleting.clone();
        upd.finalizers = Some(vec!["c.io/z".into(), "a.io/x".into(), "b.io/y".into()]);
        assert_eq!(msgs(&validate_object_meta_update(&upd, &deleting, &md())), vec![
            "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"b.io/y\", \"c.io/z\"}"
        ]);
        let mut cleared = old.clone();
        cleared.deletion_timestamp = None;
        let mut was = old.clone();
        was.deletion_timestamp = Some(time("2024-05-06T07:08:09Z"));
        was.deletion_grace_period_seconds = Some(0);
        assert_eq!(
            msgs(&validate_object_meta_update(&cleared, &was, &md())),
            vec![
                "metadata.deletionTimestamp: Invalid value: \"null\": field is immutable",
                "metadata.deletionGracePeriodSeconds: Invalid value: \"null\": field is immutable",
            ]
        );
        let mut no_ts = old.clone();
        no_ts.creation_timestamp = None;
        assert_eq!(msgs(&validate_object_meta_update(&no_ts, &old, &md())), vec![
            "metadata.creationTimestamp: Invalid value: 0001-01-01 00:00:00 +0000 UTC: field is immutable"
        ]);
    }

    #[test]
    fn go_time_format() {
        assert_eq!(
            go_time_string(Some(&time("2024-01-02T03:04:05Z"))),
            "2024-01-02 03:04:05 +0000 UTC"
        );
        assert_eq!(
            go_time_string(Some(&time("2024-01-02T03:04:05.120Z"))),
            "2024-01-02 03:04:05.12 +0000 UTC"
        );
        assert_eq!(
            go_time_string(Some(&time("2024-01-02T05:04:05+02:00"))),
            "2024-01-02 03:04:05 +0000 UTC"
        );
        assert_eq!(go_time_string(None), "0001-01-01 00:00:00 +0000 UTC");
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_metadata(
            name in ".{0,70}",
            gen in ".{0,12}",
            ns in ".{0,12}",
            key in ".{0,20}",
            value in ".{0,20}",
            manager in ".{0,10}",
        ) {
            let m = ObjectMeta {
                name: Some(name.clone()),
                generate_name: Some(gen.clone()),
                namespace: Some(ns),
                labels: Some([(key.clone(), value.clone())].into()),
                annotations: Some([(key, value)].into()),
                finalizers: Some(vec![gen]),
                managed_fields: Some(vec![ManagedFieldsEntry { manager: Some(manager), ..Default::default() }]),
                ..Default::default()
            };
            for nv in [NameValidation::Dns1123Subdomain, NameValidation::Dns1123Label, NameValidation::Dns1035Label, NameValidation::PathSegment] {
                let errs = validate_object_meta(&m, true, nv, &md());
                // Every message renders; a valid DNS label name yields no name error.
                let _ = aggregate(&errs);
            }
            let _ = validate_object_meta_update(&m, &ObjectMeta::default(), &md());
        }

        #[test]
        fn dns_label_names_accepted(name in "[a-z]([-a-z0-9]{0,61}[a-z0-9])?") {
            let m = meta(&name, Some("default"));
            for nv in [NameValidation::Dns1123Subdomain, NameValidation::Dns1123Label, NameValidation::Dns1035Label, NameValidation::PathSegment] {
                proptest::prop_assert!(validate_object_meta(&m, true, nv, &md()).is_empty());
            }
        }
    }
}
