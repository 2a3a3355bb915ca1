//! `application/json-patch+json` (RFC 6902) and `application/merge-patch+json` (RFC 7396), with
//! the semantics of the library kube-apiserver uses (`gopkg.in/evanphx/json-patch.v4`):
//! negative array indices count from the end, a missing `value` is `null`, the patch is atomic.
//!
//! Bounds, as kube-apiserver 1.32 sets them:
//! - at most [`MAX_JSON_PATCH_OPERATIONS`] operations (apiserver
//!   `pkg/endpoints/handlers/patch.go` `maxJSONPatchOperations`), else 413;
//! - `copy` operations may add at most [`JSON_PATCH_MAX_COPY_BYTES`] bytes in total (the
//!   library's `AccumulatedCopySizeLimit`, which apiserver `pkg/server/config.go` sets from
//!   `JSONPatchMaxCopyBytes`, 3 MiB), else the operation fails with the library's text. Without it
//!   a 2.4 KB patch of 30 self-appending copies doubles the document 30 times.

use super::PatchError;
use serde_json::{Map, Value};

/// apiserver `maxJSONPatchOperations`.
pub const MAX_JSON_PATCH_OPERATIONS: usize = 10_000;

/// apiserver `Config.JSONPatchMaxCopyBytes` default (3 MiB), installed as json-patch's
/// `AccumulatedCopySizeLimit`.
pub const JSON_PATCH_MAX_COPY_BYTES: u64 = 3 * 1024 * 1024;

/// Apply an RFC 6902 JSON patch. Atomic: on any failure `doc` is untouched and an error returned.
///
/// Errors: a patch that is not an array of objects is [`PatchError::BadRequest`] (400, the
/// apiserver's `DecodePatch` failure); more than [`MAX_JSON_PATCH_OPERATIONS`] operations is
/// [`PatchError::TooLarge`] (413); an operation that does not apply (including a copy past
/// [`JSON_PATCH_MAX_COPY_BYTES`]) is [`PatchError::JsonPatchFailed`] (422 with the generic text
/// the apiserver answers).
pub fn json_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops = match patch {
        Value::Array(ops) => ops,
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Patch",
                go_json_kind(other)
            )))
        }
    };
    for op in ops {
        if !op.is_object() && !op.is_null() {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type jsonpatch.Operation",
                go_json_kind(op)
            )));
        }
    }
    if ops.len() > MAX_JSON_PATCH_OPERATIONS {
        return Err(PatchError::TooLarge(format!(
            "The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {}",
            ops.len()
        )));
    }
    let mut out = doc.clone();
    let mut copied: u64 = 0;
    for op in ops {
        apply_op(&mut out, op, &mut copied)?;
    }
    Ok(out)
}

/// The fields of the apiserver's `jsonPatchOp` struct, which it strictly decodes the patch into
/// when `fieldValidation` is `Warn` (the default) or `Strict`.
const JSON_PATCH_OP_FIELDS: [&str; 4] = ["op", "path", "from", "value"];

/// The apiserver's strict decoding of a JSON patch into `[]jsonPatchOp`
/// (`kjson.UnmarshalStrict`, run under `fieldValidation=Warn|Strict` before the patch is
/// applied). A value of the wrong type is a 400 `error decoding patch: json: cannot unmarshal
/// ...`; unknown fields are returned as strict errors (`json patch unknown field "[0].x"`), which
/// the caller turns into warnings or, under Strict, a 422 once the patch has applied.
pub fn json_patch_strict_errors(patch: &Value) -> Result<Vec<String>, PatchError> {
    let bad = |m: String| PatchError::BadRequest(format!("error decoding patch: {m}"));
    let ops = match patch {
        Value::Array(ops) => ops,
        Value::Null => return Ok(Vec::new()),
        other => {
            return Err(bad(format!(
                "json: cannot unmarshal {} into Go value of type []handlers.jsonPatchOp",
                go_json_kind(other)
            )))
        }
    };
    let mut type_error = None;
    let mut strict = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        let m = match op {
            Value::Object(m) => m,
            Value::Null => continue,
            other => {
                type_error.get_or_insert_with(|| {
                    format!(
                        "json: cannot unmarshal {} into Go value of type handlers.jsonPatchOp",
                        go_json_kind(other)
                    )
                });
                continue;
            }
        };
        for (k, v) in m {
            if !JSON_PATCH_OP_FIELDS.contains(&k.as_str()) {
                push_strict(
                    &mut strict,
                    format!("json patch unknown field \"[{i}].{k}\""),
                );
                continue;
            }
            if k != "value" && !v.is_string() && !v.is_null() {
                type_error.get_or_insert_with(|| {
                    format!(
                        "json: cannot unmarshal {} into Go struct field jsonPatchOp.{k} of type string",
                        go_json_kind(v)
                    )
                });
            }
        }
    }
    // Go's decoder reports the first type error and drops the strict errors with it.
    match type_error {
        Some(e) => Err(bad(e)),
        None => Ok(strict),
    }
}

/// Keeps at most 100 distinct strict errors, as sigs.k8s.io/json's `saveStrictError` does.
pub(crate) fn push_strict(errs: &mut Vec<String>, e: String) {
    if errs.len() < 100 && !errs.contains(&e) {
        errs.push(e);
    }
}

/// The length of `v` as Go's `json.Marshal` writes it (compact, `<`, `>`, `&`, U+2028 and
/// U+2029 escaped): what json-patch's `deepCopy` counts against the copy limit.
pub fn go_json_len(v: &Value) -> u64 {
    match v {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => n.to_string().len() as u64,
        Value::String(s) => go_string_len(s),
        Value::Array(a) => {
            2 + a.iter().map(go_json_len).sum::<u64>() + a.len().saturating_sub(1) as u64
        }
        Value::Object(m) => {
            2 + m
                .iter()
                .map(|(k, v)| go_string_len(k) + 1 + go_json_len(v))
                .sum::<u64>()
                + m.len().saturating_sub(1) as u64
        }
    }
}

fn go_string_len(s: &str) -> u64 {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' => 2,
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => 6,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8() as u64,
        })
        .sum::<u64>()
}

fn go_json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn op_str<'a>(op: &'a Value, field: &str) -> Option<&'a str> {
    op.get(field).and_then(Value::as_str)
}

fn fail(msg: String) -> PatchError {
    PatchError::JsonPatchFailed(msg)
}

fn apply_op(doc: &mut Value, op: &Value, copied: &mut u64) -> Result<(), PatchError> {
    let kind = op_str(op, "op").unwrap_or("unknown");
    let path = op_str(op, "path");
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    match kind {
        "add" => {
            let path = path
                .ok_or_else(|| fail("add operation failed to decode path: missing value".into()))?;
            add(doc, path, value).map_err(|_| {
                fail(format!(
                    "add operation does not apply: doc is missing path: \"{path}\": missing value"
                ))
            })
        }
        "remove" => {
            let path = path.ok_or_else(|| {
                fail("remove operation failed to decode path: missing value".into())
            })?;
            remove(doc, path)
                .map(|_| ())
                .map_err(|_| fail(format!("remove operation does not apply: doc is missing path: \"{path}\": missing value")))
        }
        "replace" => {
            let path = path.ok_or_else(|| {
                fail("replace operation failed to decode path: missing value".into())
            })?;
            let target = get_mut(doc, path).ok_or_else(|| {
                fail(format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                ))
            })?;
            *target = value;
            Ok(())
        }
        "move" | "copy" => {
            let from = op_str(op, "from").ok_or_else(|| {
                fail(format!(
                    "{kind} operation failed to decode from: missing value"
                ))
            })?;
            let path = path.ok_or_else(|| {
                fail(format!(
                    "{kind} operation failed to decode path: missing value"
                ))
            })?;
            let missing_from = || {
                fail(format!("{kind} operation does not apply: doc is missing from path: {from}: missing value"))
            };
            let moved = if kind == "move" {
                if path.starts_with(from) && path[from.len()..].starts_with('/') {
                    return Err(fail(format!("move operation does not apply: cannot move {from} into its own child {path}")));
                }
                remove(doc, from).map_err(|_| missing_from())?
            } else {
                let source = get(doc, from).ok_or_else(missing_from)?;
                // Counted before the value is cloned, so a refused copy costs no memory.
                *copied += go_json_len(source);
                if *copied > JSON_PATCH_MAX_COPY_BYTES {
                    return Err(fail(format!(
                        "Unable to complete the copy, the accumulated size increase of copy is {copied}, exceeding the limit {JSON_PATCH_MAX_COPY_BYTES}"
                    )));
                }
                source.clone()
            };
            add(doc, path, moved)
                .map_err(|_| fail(format!("{kind} operation does not apply: doc is missing destination path: {path}: missing value")))
        }
        "test" => {
            let path = path.ok_or_else(|| {
                fail("test operation failed to decode path: missing value".into())
            })?;
            match get(doc, path) {
                Some(actual) if json_eq(actual, &value) => Ok(()),
                None if value.is_null() => Ok(()),
                _ => Err(fail(format!("testing value {path} failed: test failed"))),
            }
        }
        other => Err(fail(format!("Unexpected kind: {other}"))),
    }
}

/// JSON equality where `1` and `1.0` are equal (Go decodes both to float64).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn split_pointer(path: &str) -> Result<Vec<String>, ()> {
    if path.is_empty() {
        return Ok(Vec::new());
    }
    let rest = path.strip_prefix('/').ok_or(())?;
    Ok(rest
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect())
}

fn index(tok: &str, len: usize, allow_end: bool) -> Result<usize, ()> {
    if tok == "-" {
        return if allow_end { Ok(len) } else { Err(()) };
    }
    let i: i64 = tok.parse().map_err(|_| ())?;
    let i = if i < 0 { i + len as i64 } else { i };
    let max = if allow_end {
        len as i64
    } else {
        len as i64 - 1
    };
    if i < 0 || i > max {
        return Err(());
    }
    Ok(i as usize)
}

fn get<'a>(doc: &'a Value, path: &str) -> Option<&'a Value> {
    let toks = split_pointer(path).ok()?;
    let mut cur = doc;
    for t in &toks {
        cur = match cur {
            Value::Object(m) => m.get(t)?,
            Value::Array(a) => a.get(index(t, a.len(), false).ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn get_mut<'a>(doc: &'a mut Value, path: &str) -> Option<&'a mut Value> {
    let toks = split_pointer(path).ok()?;
    let mut cur = doc;
    for t in &toks {
        cur = match cur {
            Value::Object(m) => m.get_mut(t)?,
            Value::Array(a) => {
                let i = index(t, a.len(), false).ok()?;
                a.get_mut(i)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn add(doc: &mut Value, path: &str, value: Value) -> Result<(), ()> {
    let mut toks = split_pointer(path)?;
    let Some(last) = toks.pop() else {
        *doc = value;
        return Ok(());
    };
    let parent_path: String = toks
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    let parent = get_mut(doc, &parent_path).ok_or(())?;
    match parent {
        Value::Object(m) => {
            m.insert(last, value);
            Ok(())
        }
        Value::Array(a) => {
            let i = index(&last, a.len(), true)?;
            a.insert(i, value);
            Ok(())
        }
        _ => Err(()),
    }
}

fn remove(doc: &mut Value, path: &str) -> Result<Value, ()> {
    let mut toks = split_pointer(path)?;
    let last = toks.pop().ok_or(())?;
    let parent_path: String = toks
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect();
    match get_mut(doc, &parent_path).ok_or(())? {
        Value::Object(m) => m.shift_remove(&last).ok_or(()),
        Value::Array(a) => {
            let i = index(&last, a.len(), false)?;
            Ok(a.remove(i))
        }
        _ => Err(()),
    }
}

/// Apply an RFC 7396 JSON merge patch. A `null` or scalar patch is rejected with
/// `Invalid JSON Patch` (400) as `jsonpatch.MergePatch` does; an array patch replaces the
/// document. `null` members delete; new values are taken with their nested `null`s pruned.
pub fn merge_patch(doc: &Value, patch: &Value) -> Result<Value, PatchError> {
    match patch {
        Value::Object(p) => {
            let mut out = match doc {
                Value::Object(_) => doc.clone(),
                _ => Value::Object(Map::new()),
            };
            merge_into(&mut out, p);
            Ok(out)
        }
        Value::Array(_) => Ok(prune_nulls(patch.clone())),
        _ => Err(PatchError::BadRequest("Invalid JSON Patch".into())),
    }
}

fn merge_into(doc: &mut Value, patch: &Map<String, Value>) {
    let Value::Object(d) = doc else { return };
    for (k, v) in patch {
        if v.is_null() {
            d.shift_remove(k);
            continue;
        }
        match (d.get_mut(k), v) {
            (Some(existing @ Value::Object(_)), Value::Object(pv)) => merge_into(existing, pv),
            _ => {
                d.insert(k.clone(), prune_nulls(v.clone()));
            }
        }
    }
}

/// Remove `null` members of objects, recursively (array elements that are `null` stay).
pub(crate) fn prune_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, prune_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(prune_nulls).collect()),
        other => other,
    }
}

/// The RFC 7396 patch turning `from` into `to` (used by tests and property tests).
pub fn create_merge_patch(from: &Value, to: &Value) -> Value {
    match (from, to) {
        (Value::Object(a), Value::Object(b)) => {
            let mut out = Map::new();
            for (k, va) in a {
                match b.get(k) {
                    None => {
                        out.insert(k.clone(), Value::Null);
                    }
                    Some(vb) if vb == va => {}
                    Some(vb) => {
                        out.insert(k.clone(), create_merge_patch(va, vb));
                    }
                }
            }
            for (k, vb) in b {
                if !a.contains_key(k) {
                    out.insert(k.clone(), vb.clone());
                }
            }
            Value::Object(out)
        }
        _ => to.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc6902_ops() {
        let doc = json!({"a": {"b": [1, 2, 3]}, "c": "x"});
        let p = json!([
            {"op": "add", "path": "/a/b/-", "value": 4},
            {"op": "remove", "path": "/a/b/0"},
            {"op": "replace", "path": "/c", "value": "y"},
            {"op": "copy", "from": "/c", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/e"},
            {"op": "test", "path": "/e", "value": "y"},
            {"op": "add", "path": "/a/b/-1", "value": 9}
        ]);
        assert_eq!(
            json_patch(&doc, &p).unwrap(),
            json!({"a": {"b": [2, 3, 9, 4]}, "c": "y", "e": "y"})
        );
    }

    #[test]
    fn rfc6902_is_atomic_and_reports_like_apiserver() {
        let doc = json!({"spec": {"type": "ClusterIP"}});
        let p = json!([{"op": "replace", "path": "/spec/type", "value": "NodePort"}, {"op": "test", "path": "/spec/type", "value": "X"}]);
        let e = json_patch(&doc, &p).unwrap_err();
        assert_eq!(
            e,
            PatchError::JsonPatchFailed("testing value /spec/type failed: test failed".into())
        );
        let st = e.to_status();
        assert_eq!(st.code, 422);
        assert_eq!(st.reason, "Invalid");
        assert_eq!(
            st.message,
            "the server rejected our request due to an error in our request"
        );
        let e = json_patch(&doc, &json!([{"op": "remove", "path": "/spec/nope"}])).unwrap_err();
        assert!(matches!(e, PatchError::JsonPatchFailed(_)));
        let e = json_patch(&doc, &json!({"op": "add"})).unwrap_err();
        assert_eq!(e.to_status().code, 400);
        assert!(json_patch(
            &doc,
            &json!([{"op": "test", "path": "/spec/x", "value": 1.0}])
        )
        .is_err());
        assert!(json_patch(
            &json!({"n": 1}),
            &json!([{"op": "test", "path": "/n", "value": 1.0}])
        )
        .is_ok());
    }

    #[test]
    fn rfc7396() {
        let doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        let p = json!({"a": "z", "c": {"f": null, "h": {"i": null, "j": 1}}});
        assert_eq!(
            merge_patch(&doc, &p).unwrap(),
            json!({"a": "z", "c": {"d": "e", "h": {"j": 1}}})
        );
        assert_eq!(
            merge_patch(&doc, &json!(null))
                .unwrap_err()
                .to_status()
                .message,
            "Invalid JSON Patch"
        );
        assert_eq!(
            merge_patch(&json!({"a": [1]}), &json!({"a": [2, 3]})).unwrap(),
            json!({"a": [2, 3]})
        );
    }
}
