//! `application/strategic-merge-patch+json`: a port of the apply side of apimachinery
//! `pkg/util/strategicpatch/patch.go` (`StrategicMergeMapPatchUsingLookupPatchMeta` with
//! `MergeParallelList` and `IgnoreUnmatchedNulls`), driven by [`super::schema`].
//!
//! Supported: recursive map merge, `null` deletes, `$patch: replace|delete` in maps,
//! `$patch: replace|delete` elements in merge lists, `$setElementOrder/<list>`,
//! `$deleteFromPrimitiveList/<list>`, `$retainKeys`, merge lists keyed by their merge key,
//! merge primitive lists (deduplicated union), replace for other lists.
//!
//! One deliberate difference: upstream copies values of keys absent from the live object
//! verbatim (directives included) and relies on decoding into Go structs to drop them; here such
//! values are merged into an empty value, which drops directives and `null`s the same way.

use super::json::json_eq;
use super::schema::{field, FieldMeta, PatchKind, SmpList, Ty};
use super::PatchError;
use serde_json::{Map, Value};

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER_PREFIX: &str = "$setElementOrder/";
const DELETE_PRIMITIVE_PREFIX: &str = "$deleteFromPrimitiveList/";

impl From<&str> for PatchKind {
    fn from(kind: &str) -> Self {
        PatchKind::from_kind(kind)
    }
}

/// Apply a strategic merge patch to `doc` (a whole object) for an object of `kind`
/// (`"Pod"`, [`PatchKind::Service`], …). Unknown kinds merge like a JSON merge patch (lists
/// replaced) while still honouring `$patch` directives.
pub fn strategic_merge_patch(
    doc: &Value,
    patch: &Value,
    kind: impl Into<PatchKind>,
) -> Result<Value, PatchError> {
    let kind = kind.into();
    let patch = match patch {
        Value::Object(p) => p.clone(),
        Value::Null => return Ok(doc.clone()),
        other => {
            return Err(PatchError::BadRequest(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                match other {
                    Value::Array(_) => "array",
                    Value::String(_) => "string",
                    Value::Number(_) => "number",
                    _ => "bool",
                }
            )))
        }
    };
    let original = match doc {
        Value::Object(d) => d.clone(),
        _ => Map::new(),
    };
    merge_map(original, patch, kind.root()).map(Value::Object)
}

fn bad_set_order() -> PatchError {
    PatchError::BadRequest("invalid patch format of setElementOrder list".into())
}

fn no_merge_key(m: &Map<String, Value>, key: &str) -> PatchError {
    PatchError::Internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt(&Value::Object(m.clone()))
    ))
}

/// `mergepatch.ErrBadPatchType`: `unknown patch type: %s in map: %v`.
fn bad_patch_type(directive: &Value, map: &Value) -> PatchError {
    PatchError::Internal(format!(
        "unknown patch type: {} in map: {}",
        go_fmt_s(directive),
        go_fmt(map)
    ))
}

/// Go's `%s` rendering of a decoded JSON value: strings as they are, anything else marked as a
/// bad verb (`%!s(int64=5)`, `%!s(bool=true)`, `%!s(<nil>)`), maps and slices element-wise.
pub(crate) fn go_fmt_s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "%!s(<nil>)".into(),
        Value::Bool(b) => format!("%!s(bool={b})"),
        Value::Number(n) if n.is_i64() => format!("%!s(int64={n})"),
        Value::Number(_) => format!("%!s(float64={})", go_fmt(v)),
        Value::Array(a) => format!("[{}]", a.iter().map(go_fmt_s).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_fmt_s(&m[*k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` of a `float64` (`strconv.FormatFloat(f, 'g', -1, 64)` with the exponent threshold
/// of 6 that shortest formatting uses): `1`, `1.5`, `1e+06`, `1e-05`.
fn go_float_v(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() { "NaN".into() } else if f > 0.0 { "+Inf".into() } else { "-Inf".into() };
    }
    let sci = format!("{f:e}"); // shortest digits: "1.5e6", "-1e-5"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..6).contains(&exp) {
        format!("{f}")
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Go's `%v` rendering of a decoded JSON value (used inside upstream error texts).
pub fn go_fmt(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        // Decoded with ints preserved (`int64`), anything else is a `float64`.
        Value::Number(n) if n.is_i64() => n.to_string(),
        Value::Number(n) => go_float_v(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_fmt).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", go_fmt(&m[*k])))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

fn merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    ty: Ty,
) -> Result<Map<String, Value>, PatchError> {
    if let Some(d) = patch.get(DIRECTIVE) {
        return match d.as_str() {
            Some("replace") => {
                patch.shift_remove(DIRECTIVE);
                merge_map(Map::new(), patch, ty)
            }
            Some("delete") => Ok(Map::new()),
            _ => Err(bad_patch_type(d, &Value::Object(patch.clone()))),
        };
    }
    apply_retain_keys(&mut original, &mut patch)?;
    merge_set_element_order(&mut original, &mut patch, ty)?;

    let mut deletions = Vec::new();
    for (k, pv) in patch {
        if let Some(list_key) = k.strip_prefix(DELETE_PRIMITIVE_PREFIX) {
            deletions.push((list_key.to_string(), pv));
            continue;
        }
        if pv.is_null() {
            original.shift_remove(&k);
            continue;
        }
        let meta = field(ty, &k);
        // Merge in place so that an existing key keeps its position.
        let merged = match (original.get_mut(&k), pv) {
            (Some(Value::Object(ov)), Value::Object(pm)) => {
                Value::Object(merge_map(std::mem::take(ov), pm, meta.ty)?)
            }
            (Some(Value::Array(ol)), Value::Array(pl)) => {
                Value::Array(merge_list(std::mem::take(ol), pl, &meta, &k)?)
            }
            (_, pv) => clean(pv, &meta)?,
        };
        original.insert(k, merged);
    }
    for (k, pv) in deletions {
        let Value::Array(del) = pv else {
            return Err(PatchError::BadRequest(
                "invalid patch format of primitive list".into(),
            ));
        };
        if let Some(Value::Array(ol)) = original.get_mut(&k) {
            ol.retain(|v| !del.iter().any(|d| json_eq(d, v)));
        }
    }
    Ok(original)
}

/// A patch value for a key absent from (or of another type than) the live value: merged into
/// an empty value so that directives and `null`s are dropped.
fn clean(pv: Value, meta: &FieldMeta) -> Result<Value, PatchError> {
    Ok(match pv {
        Value::Object(pm) => Value::Object(merge_map(Map::new(), pm, meta.ty)?),
        Value::Array(pl) => Value::Array(merge_list(Vec::new(), pl, meta, "")?),
        other => other,
    })
}

fn apply_retain_keys(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
) -> Result<(), PatchError> {
    let Some(retain) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let bad = || PatchError::BadRequest("invalid patch format of retainKeys".into());
    let Value::Array(list) = retain else {
        return Err(bad());
    };
    let keys: Vec<String> = list
        .into_iter()
        .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    for (k, v) in patch.iter() {
        if k.starts_with('$') || v.is_null() {
            continue;
        }
        if !keys.iter().any(|r| r == k) {
            // applyRetainKeysDirective answers ErrBadPatchFormatForRetainKeys (400) here.
            return Err(bad());
        }
    }
    original.retain(|k, _| keys.iter().any(|r| r == k));
    Ok(())
}

#[derive(PartialEq, Clone, Copy, Debug)]
enum Elem {
    Map,
    Scalar,
    Empty,
}

fn element_kind(a: &[Value], b: &[Value]) -> Result<Elem, PatchError> {
    let mut kind = Elem::Empty;
    let mut tag: Option<u8> = None;
    for v in a.iter().chain(b) {
        let t = match v {
            Value::Array(_) => {
                return Err(PatchError::Unprocessable(
                    "lists of lists are not supported".into(),
                ))
            }
            Value::Object(_) => 0,
            Value::String(_) => 1,
            Value::Number(_) => 2,
            Value::Bool(_) => 3,
            Value::Null => 4,
        };
        match tag {
            Some(prev) if prev != t => {
                return Err(PatchError::Internal(format!(
                    "mismatched types in list: {} and {}",
                    go_type(prev),
                    go_type(t)
                )))
            }
            _ => tag = Some(t),
        }
        kind = if t == 0 { Elem::Map } else { Elem::Scalar };
    }
    Ok(kind)
}

fn go_type(t: u8) -> &'static str {
    match t {
        0 => "map[string]interface {}",
        1 => "string",
        2 => "float64",
        3 => "bool",
        _ => "<nil>",
    }
}

fn merge_list(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &FieldMeta,
    name: &str,
) -> Result<Vec<Value>, PatchError> {
    match meta.smp {
        SmpList::Replace => {
            // Replace: the patch list, with directives/nulls of its maps dropped.
            let item = FieldMeta {
                smp: SmpList::Replace,
                ..*meta
            };
            patch
                .into_iter()
                .map(|v| match v {
                    Value::Object(m) => Ok(Value::Object(merge_map(Map::new(), m, item.ty)?)),
                    other => Ok(other),
                })
                .collect()
        }
        SmpList::MergePrimitive | SmpList::MergeKeyed(_) => {
            merge_slice(original, patch, meta, name)
        }
    }
}

fn merge_key_of(meta: &FieldMeta) -> Option<&'static str> {
    match meta.smp {
        SmpList::MergeKeyed(k) => Some(k),
        _ => None,
    }
}

fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    meta: &FieldMeta,
    name: &str,
) -> Result<Vec<Value>, PatchError> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let kind = element_kind(&original, &patch)?;
    let key = merge_key_of(meta);
    let (original, patch, merged) = if kind != Elem::Map {
        let mut merged: Vec<Value> = Vec::new();
        for v in original.iter().chain(patch.iter()) {
            if !merged.iter().any(|m| json_eq(m, v)) {
                merged.push(v.clone());
            }
        }
        (original, patch, merged)
    } else {
        let Some(key) = key else {
            return Err(PatchError::Internal(format!(
                "cannot merge lists without merge key for {name}"
            )));
        };
        let (original, patch) = merge_special_elements(original, patch, key)?;
        let merged = merge_without_special_elements(original.clone(), patch.clone(), key, meta.ty)?;
        (original, patch, merged)
    };
    let (patch_items, server_only) = partition(merged, &patch, key);
    normalize_element_order(patch_items, server_only, &patch, &original, key)
}

fn key_value<'a>(v: &'a Value, key: Option<&str>) -> Option<&'a Value> {
    match key {
        Some(k) => v.get(k),
        None => Some(v),
    }
}

fn same_element(a: &Value, b: &Value, key: Option<&str>) -> bool {
    match (key_value(a, key), key_value(b, key)) {
        (Some(x), Some(y)) => json_eq(x, y),
        _ => false,
    }
}

fn index_in(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    list.iter().position(|v| same_element(v, item, key))
}

fn partition(merged: Vec<Value>, order: &[Value], key: Option<&str>) -> (Vec<Value>, Vec<Value>) {
    merged
        .into_iter()
        .partition(|v| index_in(order, v, key).is_some())
}

fn merge_special_elements(
    original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut original = original;
    let mut without = Vec::new();
    let mut replace = false;
    for v in patch {
        let Value::Object(m) = &v else {
            return Err(PatchError::Internal(format!(
                "expected a map, but received a {}",
                go_fmt(&v)
            )));
        };
        match m.get(DIRECTIVE) {
            None => without.push(v),
            Some(d) => match d.as_str() {
                Some("delete") => {
                    let Some(kv) = m.get(key) else {
                        return Err(no_merge_key(m, key));
                    };
                    original.retain(|o| !o.get(key).is_some_and(|ok| json_eq(ok, kv)));
                }
                Some("replace") => replace = true,
                Some("merge") => {
                    return Err(PatchError::Internal(
                        "merging lists cannot yet be specified in the patch".into(),
                    ))
                }
                _ => return Err(bad_patch_type(d, &v)),
            },
        }
    }
    if replace {
        Ok((without, Vec::new()))
    } else {
        Ok((original, without))
    }
}

fn merge_without_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    ty: Ty,
) -> Result<Vec<Value>, PatchError> {
    for v in patch {
        let Value::Object(pm) = v else {
            return Err(PatchError::Internal(
                "expected a map in a merge list".into(),
            ));
        };
        let Some(kv) = pm.get(key).cloned() else {
            return Err(no_merge_key(&pm, key));
        };
        match original
            .iter()
            .position(|o| o.get(key).is_some_and(|ok| json_eq(ok, &kv)))
        {
            Some(i) => {
                let om = match std::mem::take(&mut original[i]) {
                    Value::Object(om) => om,
                    _ => Map::new(),
                };
                original[i] = Value::Object(merge_map(om, pm, ty)?);
            }
            None => original.push(Value::Object(merge_map(Map::new(), pm, ty)?)),
        }
    }
    Ok(original)
}

/// `normalizeSliceOrder`: stable sort of `to_sort` by the position of each item in `order`.
fn normalize_slice_order(
    mut to_sort: Vec<Value>,
    order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    if let Some(k) = key {
        for v in to_sort.iter().chain(order.iter()) {
            if let Value::Object(m) = v {
                if !m.contains_key(k) {
                    return Err(no_merge_key(m, k));
                }
            }
        }
    }
    to_sort.sort_by_key(|v| index_in(order, v, key).unwrap_or(usize::MAX));
    Ok(to_sort)
}

/// `normalizeElementOrder` + `mergeSortedSlice`: patch items in patch order, server-only items
/// in live order, interleaved by their relative live order.
fn normalize_element_order(
    patch: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&str>,
) -> Result<Vec<Value>, PatchError> {
    let right = normalize_slice_order(patch, patch_order, key)?;
    let left = normalize_slice_order(server_only, server_order, key)?;
    let size = left.len() + right.len();
    let mut out = Vec::with_capacity(size);
    let (mut li, mut ri) = (left.into_iter().peekable(), right.into_iter().peekable());
    while out.len() < size {
        let take_left = match (li.peek(), ri.peek()) {
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    index_in(server_order, l, key),
                    index_in(server_order, r, key),
                ) {
                    (Some(a), Some(b)) => a < b,
                    _ => false,
                }
            }
            (None, None) => break,
        };
        let next = if take_left { li.next() } else { ri.next() };
        out.extend(next);
    }
    Ok(out)
}

fn merge_set_element_order(
    original: &mut Map<String, Value>,
    patch: &mut Map<String, Value>,
    ty: Ty,
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ORDER_PREFIX))
        .cloned()
        .collect();
    for directive in keys {
        let list_key = directive[SET_ORDER_PREFIX.len()..].to_string();
        let Some(Value::Array(order)) = patch.shift_remove(&directive) else {
            return Err(bad_set_order());
        };
        let meta = field(ty, &list_key);
        let key = merge_key_of(&meta);
        let patch_list = match patch.shift_remove(&list_key) {
            None => None,
            Some(Value::Array(l)) => Some(l),
            Some(_) => return Err(bad_set_order()),
        };
        if let Some(pl) = &patch_list {
            validate_patch_with_set_order(pl, &order, key)?;
        }
        let original_list = match original.get(&list_key) {
            None => None,
            Some(Value::Array(l)) => Some(l.clone()),
            Some(_) => return Err(bad_set_order()),
        };
        // The live order used to place server-only items. Upstream passes the live slice whose
        // backing array `deleteMatchingEntries` and `append` have rewritten in place while
        // merging, so deletions and additions of the same patch show through it.
        let mut server_order = original_list.clone().unwrap_or_default();
        let merged = match (original_list, patch_list) {
            (None, None) => continue,
            (Some(ol), None) => ol,
            (None, Some(pl)) => clean(Value::Array(pl), &meta)?
                .as_array()
                .cloned()
                .unwrap_or_default(),
            (Some(ol), Some(pl)) => {
                if let (SmpList::MergeKeyed(k), false) =
                    (meta.smp, ol.iter().any(|v| !v.is_object()))
                {
                    server_order = aliased_live_order(&ol, &pl, k);
                }
                merge_list(ol, pl, &meta, &list_key)?
            }
        };
        let (patch_items, server_only) = partition(merged, &order, key);
        let sorted = normalize_element_order(patch_items, server_only, &order, &server_order, key)?;
        original.insert(list_key, Value::Array(sorted));
    }
    Ok(())
}

/// The contents of the live list's backing array after upstream's in-place
/// `deleteMatchingEntries` (shift left, last element left duplicated) and `append` of new items
/// (written in place while the length is below the original capacity).
fn aliased_live_order(original: &[Value], patch: &[Value], key: &str) -> Vec<Value> {
    let n = original.len();
    let mut backing = original.to_vec();
    let mut len = n;
    let mut overflow: Vec<&Value> = Vec::new();
    let same = |a: &Value, b: &Value| {
        a.get(key)
            .zip(b.get(key))
            .is_some_and(|(x, y)| json_eq(x, y))
    };
    let mut replace = false;
    let mut additions = Vec::new();
    for v in patch {
        match v.get(DIRECTIVE).and_then(Value::as_str) {
            None => additions.push(v),
            Some("replace") => replace = true,
            Some("delete") => {
                while let Some(k) = backing[..len].iter().position(|o| same(o, v)) {
                    // append(s[:k], s[k+1:]...): shift left, the old last element stays.
                    let last = backing[len - 1].clone();
                    backing[k..len].rotate_left(1);
                    backing[len - 1] = last;
                    len -= 1;
                }
            }
            Some(_) => {}
        }
    }
    if !replace {
        for v in additions {
            let present = backing[..len.min(n)].iter().any(|o| same(o, v))
                || overflow.iter().any(|o| same(o, v));
            if present {
                continue;
            }
            if len < n {
                backing[len] = v.clone();
            } else {
                overflow.push(v);
            }
            len += 1;
        }
    }
    backing
}

fn validate_patch_with_set_order(
    patch_list: &[Value],
    order: &[Value],
    key: Option<&str>,
) -> Result<(), PatchError> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let non_delete: Vec<&Value> = patch_list
        .iter()
        .filter(|v| key.is_none() || v.get(DIRECTIVE).is_none())
        .collect();
    let (mut pi, mut oi) = (0, 0);
    while pi < non_delete.len() && oi < order.len() {
        if same_element(non_delete[pi], &order[oi], key) {
            pi += 1;
        }
        oi += 1;
    }
    if pi < non_delete.len() {
        // A plain fmt.Errorf upstream, hence a 500 from the apiserver.
        return Err(PatchError::Internal(format!(
            "the order in patch list:\n{}\n doesn't match $setElementOrder list:\n{}",
            go_fmt(&Value::Array(patch_list.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}
