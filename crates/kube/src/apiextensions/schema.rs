//! Structural schemas at work on custom resources: validation with kube-openapi's messages as
//! apiextensions-apiserver reports them, pruning of unknown fields and defaulting.
//!
//! Upstream: `staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/validation/validation.go`
//! (`ValidateCustomResource`, kube-openapi's `validate` errors turned into field errors by
//! `kubeOpenAPIResultToFieldErrors`), `pkg/apiserver/schema/pruning/algorithm.go` (`PruneWithOptions`),
//! `pkg/apiserver/schema/defaulting/algorithm.go` (`Default`) and
//! `pkg/apiserver/schema/listtype/validation.go` (`ValidateListSetsAndMaps`).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool,
};
use serde_json::{Map, Value};
use twinstack_core::field::{BadValue, ErrorList, ErrorType, FieldError, Path};

/// The JSON type name of a value as kube-openapi names it in its type errors.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON value as Go's `%v`/`%q` of the decoded `interface{}` shows it in a field error.
pub fn bad_value(v: &Value) -> BadValue {
    match v {
        Value::Null => BadValue::Null,
        Value::String(s) => BadValue::Str(s.clone()),
        Value::Bool(b) => BadValue::Plain(b.to_string()),
        Value::Number(n) => BadValue::Plain(n.to_string()),
        Value::Array(a) => BadValue::Raw(format!(
            "[]interface {{}}{{{}}}",
            a.iter().map(go_value).collect::<Vec<_>>().join(", ")
        )),
        Value::Object(_) => BadValue::Raw(go_value(v)),
    }
}

/// Go's `%#v` of a decoded JSON value (close enough for error texts).
fn go_value(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".into(),
        Value::String(s) => twinstack_core::field::go_quote(s),
        Value::Object(m) => format!(
            "map[string]interface {{}}{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}:{}", twinstack_core::field::go_quote(k), go_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Array(a) => format!(
            "[]interface {{}}{{{}}}",
            a.iter().map(go_value).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

fn items(s: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &s.items {
        Some(JSONSchemaPropsOrArray::Schema(i)) => Some(i),
        Some(JSONSchemaPropsOrArray::Schemas(v)) => v.first(),
        None => None,
    }
}

fn additional(s: &JSONSchemaProps) -> Option<&JSONSchemaProps> {
    match &s.additional_properties {
        Some(JSONSchemaPropsOrBool::Schema(a)) => Some(a),
        _ => None,
    }
}

fn additional_allowed(s: &JSONSchemaProps) -> bool {
    matches!(
        &s.additional_properties,
        Some(JSONSchemaPropsOrBool::Bool(true)) | Some(JSONSchemaPropsOrBool::Schema(_))
    )
}

fn preserves(s: &JSONSchemaProps) -> bool {
    s.x_kubernetes_preserve_unknown_fields == Some(true)
}

fn int_or_string(s: &JSONSchemaProps) -> bool {
    s.x_kubernetes_int_or_string == Some(true)
}

fn embedded(s: &JSONSchemaProps) -> bool {
    s.x_kubernetes_embedded_resource == Some(true)
}

/// `<path> in body` as kube-openapi prefixes its messages.
fn in_body(p: &Path) -> String {
    format!("{} in body", p)
}

/// Validates `v` at `path` against the structural schema `s` (kube-openapi's `SchemaValidator`
/// plus the list-type checks), appending field errors with upstream's texts.
pub fn validate(v: &Value, s: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) {
    if v.is_null() {
        if s.nullable == Some(true) {
            return;
        }
        if let Some(t) = s.type_.as_deref().filter(|t| !t.is_empty()) {
            errs.push(FieldError::invalid(
                path,
                BadValue::str("null"),
                format!("{} must be of type {t}: \"null\"", in_body(path)),
            ));
            return;
        }
        if int_or_string(s) {
            errs.push(FieldError::invalid(
                path,
                BadValue::str("null"),
                format!("{} must be of type integer,string: \"null\"", in_body(path)),
            ));
        }
        return;
    }
    if !type_ok(v, s, path, errs) {
        return;
    }
    if let Some(e) = &s.enum_ {
        if !e.iter().any(|allowed| json_eq(&allowed.0, v)) {
            let valid: Vec<String> = e
                .iter()
                .map(|a| match &a.0 {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            let mut fe = FieldError::not_supported(path, bad_value(v), &valid);
            if e.iter().any(|a| !a.0.is_string()) {
                fe.detail = format!(
                    "supported values: {}",
                    e.iter()
                        .map(|a| go_value(&a.0))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            errs.push(fe);
        }
    }
    match v {
        Value::Number(n) => number(n.as_f64().unwrap_or(0.0), v, s, path, errs),
        Value::String(st) => string(st, s, path, errs),
        Value::Array(a) => {
            let n = a.len() as i64;
            if let Some(max) = s.max_items.filter(|m| n > *m) {
                errs.push(FieldError {
                    kind: ErrorType::TooMany,
                    field: path.to_string(),
                    value: BadValue::Plain(n.to_string()),
                    detail: format!("must have at most {max} items"),
                });
            }
            if let Some(min) = s.min_items.filter(|m| n < *m) {
                errs.push(FieldError::invalid(
                    path,
                    BadValue::Plain(n.to_string()),
                    format!("{} should have at least {min} items", in_body(path)),
                ));
            }
            if s.unique_items == Some(true) {
                for (i, x) in a.iter().enumerate() {
                    if a[..i].iter().any(|y| json_eq(x, y)) {
                        errs.push(FieldError::duplicate(&path.index(i), bad_value(x)));
                    }
                }
            }
            list_type(a, s, path, errs);
            if let Some(item) = items(s) {
                for (i, x) in a.iter().enumerate() {
                    validate(x, item, &path.index(i), errs);
                }
            }
        }
        Value::Object(m) => object(m, s, path, errs),
        _ => {}
    }
}

fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// The type check (with `x-kubernetes-int-or-string` and an integral `number`); false when
/// the subtree must not be checked further.
fn type_ok(v: &Value, s: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) -> bool {
    let actual = type_name(v);
    if int_or_string(s) {
        if matches!(actual, "integer" | "string") {
            return true;
        }
        errs.push(FieldError::invalid(
            path,
            BadValue::str(actual),
            format!(
                "{} must be of type integer,string: {:?}",
                in_body(path),
                actual
            ),
        ));
        return false;
    }
    let Some(want) = s.type_.as_deref().filter(|t| !t.is_empty()) else {
        return true;
    };
    let ok = match want {
        "number" => matches!(actual, "number" | "integer"),
        "integer" => actual == "integer",
        w => w == actual,
    };
    if !ok {
        errs.push(FieldError::invalid(
            path,
            BadValue::str(actual),
            format!("{} must be of type {want}: {:?}", in_body(path), actual),
        ));
    }
    ok
}

fn fmt_num(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn number(f: f64, v: &Value, s: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) {
    let bv = || bad_value(v);
    if let Some(max) = s.maximum {
        let excl = s.exclusive_maximum == Some(true);
        if (excl && f >= max) || (!excl && f > max) {
            let rel = if excl {
                "less than"
            } else {
                "less than or equal to"
            };
            errs.push(FieldError::invalid(
                path,
                bv(),
                format!("{} should be {rel} {}", in_body(path), fmt_num(max)),
            ));
        }
    }
    if let Some(min) = s.minimum {
        let excl = s.exclusive_minimum == Some(true);
        if (excl && f <= min) || (!excl && f < min) {
            let rel = if excl {
                "greater than"
            } else {
                "greater than or equal to"
            };
            errs.push(FieldError::invalid(
                path,
                bv(),
                format!("{} should be {rel} {}", in_body(path), fmt_num(min)),
            ));
        }
    }
    if let Some(m) = s.multiple_of.filter(|m| *m > 0.0) {
        let q = f / m;
        if (q - q.round()).abs() > 1e-9 {
            errs.push(FieldError::invalid(
                path,
                bv(),
                format!("{} should be a multiple of {}", in_body(path), fmt_num(m)),
            ));
        }
    }
    if let Some(fmt) = s.format.as_deref() {
        let ok = match fmt {
            "int32" => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) || v.is_f64(),
            _ => true,
        };
        if !ok {
            errs.push(FieldError::invalid(
                path,
                bv(),
                format!("{} must be of type {fmt}: {}", in_body(path), v),
            ));
        }
    }
}

fn string(st: &str, s: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) {
    let len = st.chars().count() as i64;
    if let Some(max) = s.max_length.filter(|m| len > *m) {
        // apiextensions' `field.TooLong(path, value, maxLength)`; 1.32 shows the limit.
        errs.push(FieldError {
            kind: ErrorType::TooLong,
            field: path.to_string(),
            value: BadValue::Omit,
            detail: format!("may not be more than {max} bytes"),
        });
    }
    if let Some(min) = s.min_length.filter(|m| len < *m) {
        errs.push(FieldError::invalid(
            path,
            BadValue::str(st),
            format!("{} should be at least {min} chars long", in_body(path)),
        ));
    }
    if let Some(p) = s.pattern.as_deref() {
        // A pattern the CRD's validation accepted compiles; an ECMA construct Rust's regex lacks
        // matches nothing rather than failing the write.
        if let Ok(re) = regex::Regex::new(&go_regex(p)) {
            if !re.is_match(st) {
                errs.push(FieldError::invalid(
                    path,
                    BadValue::str(st),
                    format!("{} should match '{p}'", in_body(path)),
                ));
            }
        }
    }
    if let Some(fmt) = s.format.as_deref() {
        if !format_ok(fmt, st) {
            errs.push(FieldError::invalid(
                path,
                BadValue::str(st),
                format!("{} must be of type {fmt}: {:?}", in_body(path), st),
            ));
        }
    }
}

/// A Go (RE2) pattern in the syntax of the `regex` crate: inside a class, Go takes a `[` that
/// opens no `[:name:]` and a `-` after a range as literals, where `regex` reads a nested class
/// or a range; both are escaped.
pub fn go_regex(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let mut out = String::with_capacity(p.len() + 8);
    let mut i = 0;
    let mut in_class = false;
    // Inside a class: whether the last item closed a range (`a-z`), and whether one was seen.
    let mut after_range = false;
    let mut items = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() {
            out.push(c);
            out.push(chars[i + 1]);
            i += 2;
            after_range = false;
            items += 1;
            continue;
        }
        if !in_class {
            if c == '[' {
                in_class = true;
                after_range = false;
                items = 0;
                out.push(c);
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                    items += 1;
                }
            } else {
                out.push(c);
            }
            i += 1;
            continue;
        }
        match c {
            ']' => {
                in_class = false;
                out.push(c);
            }
            '[' if chars.get(i + 1) == Some(&':') => {
                if let Some(end) = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == ':' && chars[j + 1] == ']')
                {
                    out.extend(&chars[i..=end + 1]);
                    i = end + 2;
                    items += 1;
                    after_range = false;
                    continue;
                }
                out.push_str("\\[");
            }
            '[' | '&' | '~' => {
                out.push('\\');
                out.push(c);
                items += 1;
                after_range = false;
            }
            '-' => {
                let next = chars.get(i + 1).copied();
                let literal = after_range || items == 0 || next == Some(']') || next.is_none();
                if literal {
                    out.push_str("\\-");
                    items += 1;
                    after_range = false;
                } else {
                    // A range: copy its end too.
                    out.push('-');
                    i += 1;
                    let end = chars[i];
                    if end == '\\' && i + 1 < chars.len() {
                        out.push(end);
                        out.push(chars[i + 1]);
                        i += 1;
                    } else if end == '[' || end == '&' || end == '~' {
                        out.push('\\');
                        out.push(end);
                    } else {
                        out.push(end);
                    }
                    after_range = true;
                }
            }
            _ => {
                out.push(c);
                items += 1;
                after_range = false;
            }
        }
        i += 1;
    }
    out
}

/// The formats apiextensions-apiserver checks (`pkg/apiserver/validation/formats.go`
/// `supportedFormats`); unknown formats are accepted.
pub fn format_ok(fmt: &str, s: &str) -> bool {
    match fmt {
        "ipv4" => s.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => s.parse::<std::net::Ipv6Addr>().is_ok(),
        "cidr" => s.parse::<ipnet::IpNet>().is_ok(),
        "uuid" => uuid_ok(s),
        "date" => jiff::civil::Date::strptime("%Y-%m-%d", s).is_ok(),
        "date-time" | "datetime" => s.parse::<jiff::Timestamp>().is_ok(),
        "byte" => base64_ok(s),
        "hostname" => {
            !s.is_empty()
                && s.len() <= 255
                && s.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                })
        }
        "email" => s
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.')),
        "mac" => {
            let parts: Vec<&str> = s.split([':', '-']).collect();
            matches!(parts.len(), 6 | 8 | 20)
                && parts
                    .iter()
                    .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()))
        }
        "uri" => s.contains(':'),
        _ => true,
    }
}

fn uuid_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn base64_ok(s: &str) -> bool {
    let t = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - t.len() <= 2
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/')
}

fn object(m: &Map<String, Value>, s: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) {
    let n = m.len() as i64;
    if let Some(max) = s.max_properties.filter(|x| n > *x) {
        errs.push(FieldError {
            kind: ErrorType::TooMany,
            field: path.to_string(),
            value: BadValue::Plain(n.to_string()),
            detail: format!("must have at most {max} items"),
        });
    }
    if let Some(min) = s.min_properties.filter(|x| n < *x) {
        errs.push(FieldError::invalid(
            path,
            BadValue::Plain(n.to_string()),
            format!("{} should have at least {min} properties", in_body(path)),
        ));
    }
    for r in s.required.iter().flatten() {
        if !m.contains_key(r) {
            errs.push(FieldError::required(&path.child(r), ""));
        }
    }
    let props = s.properties.as_ref();
    for (k, v) in m {
        if let Some(p) = props.and_then(|p| p.get(k)) {
            validate(v, p, &path.child(k), errs);
        } else if let Some(a) = additional(s) {
            validate(v, a, &path.key(k), errs);
        }
    }
}

/// `x-kubernetes-list-type: set|map`: duplicates refused (`listtype.ValidateListSetsAndMaps`).
fn list_type(a: &[Value], s: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) {
    match s.x_kubernetes_list_type.as_deref() {
        Some("set") => {
            for (i, x) in a.iter().enumerate() {
                if a[..i].iter().any(|y| json_eq(x, y)) {
                    errs.push(FieldError::duplicate(&path.index(i), bad_value(x)));
                }
            }
        }
        Some("map") => {
            let keys = s.x_kubernetes_list_map_keys.clone().unwrap_or_default();
            let key_of = |x: &Value| -> Value {
                let mut k = Map::new();
                for name in &keys {
                    if let Some(v) = x.get(name) {
                        k.insert(name.clone(), v.clone());
                    } else if let Some(d) = items(s)
                        .and_then(|i| i.properties.as_ref())
                        .and_then(|p| p.get(name))
                        .and_then(|p| p.default.as_ref())
                    {
                        k.insert(name.clone(), d.0.clone());
                    }
                }
                Value::Object(k)
            };
            for (i, x) in a.iter().enumerate() {
                let k = key_of(x);
                if a[..i].iter().any(|y| key_of(y) == k) {
                    errs.push(FieldError::duplicate(&path.index(i), bad_value(&k)));
                }
            }
        }
        _ => {}
    }
}

/// Metadata fields of an embedded or root object that pruning keeps (`ObjectMeta`'s JSON names).
const OBJECT_META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "selfLink",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "labels",
    "annotations",
    "ownerReferences",
    "finalizers",
    "managedFields",
];

/// Removes the fields `s` does not specify (`PruneWithOptions` with `isResourceRoot`) and returns
/// their paths (`spec.foo`, `spec.items[0].bar`), which the API turns into
/// `unknown field "<path>"` warnings or a strict-validation error.
pub fn prune(v: &mut Value, s: &JSONSchemaProps, root: bool) -> Vec<String> {
    let mut out = Vec::new();
    prune_at(v, s, root, "", &mut out);
    out
}

fn join(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

fn prune_at(v: &mut Value, s: &JSONSchemaProps, resource: bool, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if resource {
                // apiVersion, kind and metadata belong to every object (metadata to ObjectMeta).
                if let Some(Value::Object(meta)) = m.get_mut("metadata") {
                    let unknown: Vec<String> = meta
                        .keys()
                        .filter(|k| !OBJECT_META_FIELDS.contains(&k.as_str()))
                        .cloned()
                        .collect();
                    for k in unknown {
                        meta.remove(&k);
                        out.push(join(&join(at, "metadata"), &k));
                    }
                }
            }
            let props = s.properties.as_ref();
            let keys: Vec<String> = m.keys().cloned().collect();
            for k in keys {
                if resource && matches!(k.as_str(), "apiVersion" | "kind" | "metadata") {
                    continue;
                }
                let child = m.get_mut(&k).expect("key listed");
                if let Some(p) = props.and_then(|p| p.get(&k)) {
                    prune_at(child, p, embedded(p), &join(at, &k), out);
                } else if let Some(a) = additional(s) {
                    prune_at(child, a, embedded(a), &format!("{at}[{k}]"), out);
                } else if preserves(s) || additional_allowed(s) {
                    // Unspecified fields are kept as they are.
                } else {
                    m.remove(&k);
                    out.push(join(at, &k));
                }
            }
        }
        Value::Array(a) => {
            if let Some(item) = items(s) {
                for (i, x) in a.iter_mut().enumerate() {
                    prune_at(x, item, embedded(item), &format!("{at}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Sets the defaults of `s` on `v` (`structuraldefaulting.Default`): an absent property with a
/// default gets it, and so does a `null` one that is not nullable.
pub fn default(v: &mut Value, s: &JSONSchemaProps) {
    match v {
        Value::Object(m) => {
            if let Some(props) = &s.properties {
                for (k, p) in props {
                    let absent = match m.get(k) {
                        None => true,
                        Some(Value::Null) => p.nullable != Some(true),
                        _ => false,
                    };
                    if absent {
                        if let Some(d) = &p.default {
                            m.insert(k.clone(), d.0.clone());
                        }
                    }
                    if let Some(child) = m.get_mut(k) {
                        default(child, p);
                    }
                }
            }
            if let Some(a) = additional(s) {
                for (k, child) in m.iter_mut() {
                    if s.properties.as_ref().is_some_and(|p| p.contains_key(k)) {
                        continue;
                    }
                    default(child, a);
                }
            }
        }
        Value::Array(a) => {
            if let Some(item) = items(s) {
                for x in a.iter_mut() {
                    if x.is_null() && item.nullable != Some(true) {
                        if let Some(d) = &item.default {
                            *x = d.0.clone();
                        }
                    }
                    default(x, item);
                }
            }
        }
        _ => {}
    }
}

/// The schema of the value at a JSONPath-like chain of property names (`.spec.replicas`),
/// following properties and array items.
pub fn schema_at<'s>(s: &'s JSONSchemaProps, path: &str) -> Option<&'s JSONSchemaProps> {
    let mut cur = s;
    for seg in path
        .trim_start_matches('.')
        .split('.')
        .filter(|p| !p.is_empty())
    {
        let name = seg.split('[').next().unwrap_or(seg);
        cur = cur.properties.as_ref()?.get(name)?;
        if seg.contains('[') {
            cur = items(cur)?;
        }
    }
    Some(cur)
}
