//! CEL `x-kubernetes-validations` of a structural schema, evaluated with the `cel` crate.
//!
//! Upstream: `staging/src/k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/validation.go`
//! (`Validator.Validate`, `validateExpressions`, `ruleMessageOrDefault`,
//! `fieldErrorForReason`) and `.../schema/cel/compilation.go` (`Compile`). Simplified: no cost
//! budget (upstream refuses rules whose estimated cost exceeds the per-CRD limit and stops at a
//! runtime cost of 1e6 per call; here a rule runs to completion), only the `cel` crate's
//! standard library (no Kubernetes extension libraries such as `quantity()`, `url()`,
//! `isSorted()`), and `oldSelf` correlated through object properties and map-keyed lists.

use super::schema::type_name;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    JSONSchemaProps, JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, ValidationRule,
};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use twinstack_core::field::{BadValue, ErrorList, ErrorType, FieldError, Path};

/// A JSON value as CEL sees it: objects are maps with string keys, integers are `int`.
pub fn to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => cel::Value::Int(i),
            None => cel::Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => cel::Value::String(Arc::new(s.clone())),
        Value::Array(a) => cel::Value::List(Arc::new(a.iter().map(to_cel).collect())),
        Value::Object(m) => {
            let map: HashMap<cel::objects::Key, cel::Value> = m
                .iter()
                .map(|(k, v)| (cel::objects::Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            cel::Value::Map(cel::objects::Map { map: Arc::new(map) })
        }
    }
}

/// Go's `%#v` of a `ValidationRule` as upstream's compilation errors show it.
fn rule_value(r: &ValidationRule) -> BadValue {
    BadValue::Raw(format!(
        "apiextensions.ValidationRule{{Rule:{}, Message:{}, MessageExpression:{}, Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:{}, OptionalOldSelf:(*bool)(nil)}}",
        twinstack_core::field::go_quote(&r.rule),
        twinstack_core::field::go_quote(r.message.as_deref().unwrap_or("")),
        twinstack_core::field::go_quote(r.message_expression.as_deref().unwrap_or("")),
        twinstack_core::field::go_quote(r.field_path.as_deref().unwrap_or("")),
    ))
}

fn parse_error_text(e: &cel::ParseErrors) -> String {
    e.to_string()
}

/// The compilation errors of every rule below `s` (a CRD's schema at `path`), as the CRD
/// validation reports them (`compilation failed: ...`).
pub fn compile_errors(s: &JSONSchemaProps, path: &Path, errs: &mut ErrorList) {
    for (i, r) in s.x_kubernetes_validations.iter().flatten().enumerate() {
        let p = path.child("x-kubernetes-validations").index(i);
        if r.rule.trim().is_empty() {
            errs.push(FieldError::required(&p.child("rule"), ""));
            continue;
        }
        if let Err(e) = cel::Program::compile(&r.rule) {
            errs.push(FieldError::invalid(
                &p.child("rule"),
                rule_value(r),
                format!("compilation failed: {}", parse_error_text(&e)),
            ));
        }
        if let Some(me) = r.message_expression.as_deref().filter(|m| !m.is_empty()) {
            if let Err(e) = cel::Program::compile(me) {
                errs.push(FieldError::invalid(
                    &p.child("messageExpression"),
                    rule_value(r),
                    format!(
                        "messageExpression compilation failed: {}",
                        parse_error_text(&e)
                    ),
                ));
            }
        }
        if r.message.as_deref().is_some_and(|m| m.contains('\n')) {
            errs.push(FieldError::invalid(
                &p.child("message"),
                BadValue::str(r.message.clone().unwrap_or_default()),
                "message must not contain line breaks",
            ));
        }
    }
    for (k, p) in s.properties.iter().flatten() {
        compile_errors(p, &path.child("properties").key(k), errs);
    }
    if let Some(JSONSchemaPropsOrArray::Schema(i)) = &s.items {
        compile_errors(i, &path.child("items"), errs);
    }
    if let Some(JSONSchemaPropsOrBool::Schema(a)) = &s.additional_properties {
        compile_errors(a, &path.child("additionalProperties"), errs);
    }
}

fn uses_old_self(rule: &str) -> bool {
    cel::Program::compile(rule)
        .map(|p| p.references().has_variable("oldSelf"))
        .unwrap_or(false)
}

/// Evaluates the rules of `s` and below on `new` (and `old`, for transition rules), appending
/// the failures with upstream's texts: `<path>: Invalid value: "<type>": <message>`.
pub fn validate(
    new: &Value,
    old: Option<&Value>,
    s: &JSONSchemaProps,
    path: &Path,
    errs: &mut ErrorList,
) {
    if new.is_null() {
        return;
    }
    for r in s.x_kubernetes_validations.iter().flatten() {
        let transition = uses_old_self(&r.rule);
        if transition && old.is_none() {
            continue;
        }
        if let Some(e) = eval_rule(r, new, old, s, path) {
            errs.push(e);
        }
    }
    match new {
        Value::Object(m) => {
            for (k, v) in m {
                let child_old = old.and_then(|o| o.get(k));
                if let Some(p) = s.properties.as_ref().and_then(|p| p.get(k)) {
                    validate(v, child_old, p, &path.child(k), errs);
                } else if let Some(JSONSchemaPropsOrBool::Schema(a)) = &s.additional_properties {
                    validate(v, child_old, a, &path.key(k), errs);
                }
            }
        }
        Value::Array(a) => {
            let Some(JSONSchemaPropsOrArray::Schema(item)) = &s.items else {
                return;
            };
            let keys = s.x_kubernetes_list_map_keys.clone().unwrap_or_default();
            let is_map = s.x_kubernetes_list_type.as_deref() == Some("map") && !keys.is_empty();
            for (i, x) in a.iter().enumerate() {
                // Only map-keyed list items correlate with an old item (upstream: lists of type
                // map by key; sets and atomic lists have no oldSelf below them).
                let child_old = if is_map {
                    old.and_then(Value::as_array).and_then(|oa| {
                        oa.iter()
                            .find(|y| keys.iter().all(|k| y.get(k) == x.get(k)))
                    })
                } else {
                    None
                };
                validate(x, child_old, item, &path.index(i), errs);
            }
        }
        _ => {}
    }
}

fn schema_type(s: &JSONSchemaProps, v: &Value) -> String {
    s.type_
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| type_name(v).to_string())
}

/// The CEL environment of `x-kubernetes-validations`: the standard library with the strings
/// and lists extensions kube-apiserver's environment also has (`ext.Strings`, `ext.Lists`:
/// `trim`, `lowerAscii`, `split`, `indexOf`, ...; staging/src/k8s.io/apiserver/pkg/cel/environment/base.go).
/// Kubernetes' own libraries (quantity, URLs, IP and CIDR, authz) are not there.
fn environment() -> std::sync::Arc<cel::Env> {
    static ENV: std::sync::OnceLock<std::sync::Arc<cel::Env>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = cel::Env::stdlib();
        // Declaring an extension twice is the only failure: this runs once.
        let _ = cel::extensions::strings(&mut env);
        let _ = cel::extensions::lists(&mut env);
        std::sync::Arc::new(env)
    })
    .clone()
}

fn eval_rule(
    r: &ValidationRule,
    new: &Value,
    old: Option<&Value>,
    s: &JSONSchemaProps,
    path: &Path,
) -> Option<FieldError> {
    let ty = schema_type(s, new);
    let program = match cel::Program::compile(&r.rule) {
        Ok(p) => p,
        Err(e) => {
            return Some(FieldError::invalid(
                path,
                BadValue::str(&ty),
                format!("rule compile error: {}", parse_error_text(&e)),
            ))
        }
    };
    let mut ctx = cel::Context::with_env(environment());
    ctx.add_variable_from_value("self", to_cel(new));
    if let Some(o) = old {
        ctx.add_variable_from_value("oldSelf", to_cel(o));
    }
    let result = program.execute(&ctx);
    let failed = match result {
        Ok(cel::Value::Bool(true)) => false,
        Ok(cel::Value::Bool(false)) => true,
        Ok(_) => {
            return Some(FieldError::invalid(
                path,
                BadValue::str(&ty),
                "rule did not evaluate to a bool",
            ))
        }
        Err(e) => {
            return Some(FieldError::invalid(
                path,
                BadValue::str(&ty),
                format!("{} evaluation error: {e}", r.rule.trim()),
            ))
        }
    };
    if !failed {
        return None;
    }
    let mut message = match r.message.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => format!("failed rule: {}", r.rule.trim()),
    };
    if let Some(me) = r.message_expression.as_deref().filter(|m| !m.is_empty()) {
        if let Ok(p) = cel::Program::compile(me) {
            if let Ok(cel::Value::String(s)) = p.execute(&ctx) {
                let s = s.trim();
                if !s.is_empty() && !s.contains('\n') {
                    message = s.to_string();
                }
            }
        }
    }
    let mut at = path.clone();
    if let Some(fp) = r.field_path.as_deref().filter(|f| !f.is_empty()) {
        for seg in fp.trim_start_matches('.').split('.') {
            at = at.child(seg);
        }
    }
    Some(match r.reason.as_deref() {
        Some("FieldValueRequired") => FieldError::required(&at, message),
        Some("FieldValueForbidden") => FieldError::forbidden(&at, message),
        Some("FieldValueDuplicate") => FieldError {
            kind: ErrorType::Duplicate,
            field: at.to_string(),
            value: BadValue::str(&ty),
            detail: message,
        },
        _ => FieldError::invalid(&at, BadValue::str(&ty), message),
    })
}
