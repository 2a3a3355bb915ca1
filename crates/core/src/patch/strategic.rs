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
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

/// A JSON value as a hash key with [`json_eq`]'s equality (`1` equals `1.0`), so that list
/// merges look items up in constant time: upstream's linear scans are quadratic in the list
/// lengths, and here they would run on the store's single writer.
#[derive(Clone, Copy)]
struct JsonKey<'a>(&'a Value);

impl PartialEq for JsonKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        json_eq(self.0, other.0)
    }
}

impl Eq for JsonKey<'_> {}

impl Hash for JsonKey<'_> {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_json(self.0, h);
    }
}

fn hash_json<H: Hasher>(v: &Value, h: &mut H) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => {
            // Equal numbers have equal f64 values; -0 and 0 are equal.
            let f = n.as_f64().unwrap_or(0.0);
            let f = if f == 0.0 { 0.0 } else { f };
            (2u8, f.to_bits()).hash(h);
        }
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(a) => {
            (4u8, a.len()).hash(h);
            for x in a {
                hash_json(x, h);
            }
        }
        Value::Object(m) => {
            // Key order does not matter to json_eq, so combine entries commutatively.
            let sum = m.iter().fold(0u64, |acc, (k, x)| {
                let mut e = std::collections::hash_map::DefaultHasher::new();
                k.hash(&mut e);
                hash_json(x, &mut e);
                acc.wrapping_add(e.finish())
            });
            (5u8, m.len(), sum).hash(h);
        }
    }
}

/// The first position of each element of `list` by its merge key (or its value for a
/// primitive list), for constant-time lookups.
fn positions<'a>(list: &'a [Value], key: Option<&str>) -> HashMap<JsonKey<'a>, usize> {
    let mut m = HashMap::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        if let Some(kv) = key_value(v, key) {
            m.entry(JsonKey(kv)).or_insert(i);
        }
    }
    m
}

fn position_in(index: &HashMap<JsonKey<'_>, usize>, v: &Value, key: Option<&str>) -> Option<usize> {
    key_value(v, key).and_then(|kv| index.get(&JsonKey(kv)).copied())
}

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
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
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
            let del: HashSet<JsonKey<'_>> = del.iter().map(JsonKey).collect();
            ol.retain(|v| !del.contains(&JsonKey(v)));
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
    let keys: HashSet<String> = keys.into_iter().collect();
    for (k, v) in patch.iter() {
        if k.starts_with('$') || v.is_null() {
            continue;
        }
        if !keys.contains(k) {
            // applyRetainKeysDirective answers ErrBadPatchFormatForRetainKeys (400) here.
            return Err(bad());
        }
    }
    original.retain(|k, _| keys.contains(k));
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
        // deduplicateScalars: the first of equal values stays.
        let mut seen: HashSet<JsonKey<'_>> = HashSet::new();
        let merged: Vec<Value> = original
            .iter()
            .chain(patch.iter())
            .filter(|v| seen.insert(JsonKey(v)))
            .cloned()
            .collect();
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

fn partition(merged: Vec<Value>, order: &[Value], key: Option<&str>) -> (Vec<Value>, Vec<Value>) {
    let index = positions(order, key);
    merged
        .into_iter()
        .partition(|v| position_in(&index, v, key).is_some())
}

fn merge_special_elements(
    original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let mut original = original;
    let mut without = Vec::new();
    let mut replace = false;
    // deleteMatchingEntries for every `$patch: delete`, done in one pass at the end.
    let mut deletes: Vec<Value> = Vec::new();
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
                    deletes.push(kv.clone());
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
    if !deletes.is_empty() {
        let del: HashSet<JsonKey<'_>> = deletes.iter().map(JsonKey).collect();
        original.retain(|o| !o.get(key).is_some_and(|ok| del.contains(&JsonKey(ok))));
    }
    if replace {
        Ok((without, Vec::new()))
    } else {
        Ok((original, without))
    }
}

/// An owned merge-key value with [`JsonKey`]'s equality and hash.
struct KeyOf(Value);

impl PartialEq for KeyOf {
    fn eq(&self, other: &Self) -> bool {
        json_eq(&self.0, &other.0)
    }
}

impl Eq for KeyOf {}

impl Hash for KeyOf {
    fn hash<H: Hasher>(&self, h: &mut H) {
        hash_json(&self.0, h);
    }
}

fn merge_without_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    ty: Ty,
) -> Result<Vec<Value>, PatchError> {
    // The first item of each key value, by key value (owned: items are merged in place).
    let mut index: HashMap<KeyOf, usize> = HashMap::with_capacity(original.len());
    for (i, o) in original.iter().enumerate() {
        if let Some(ok) = o.get(key) {
            index.entry(KeyOf(ok.clone())).or_insert(i);
        }
    }
    for v in patch {
        let Value::Object(pm) = v else {
            return Err(PatchError::Internal(
                "expected a map in a merge list".into(),
            ));
        };
        let Some(kv) = pm.get(key).cloned() else {
            return Err(no_merge_key(&pm, key));
        };
        match index.get(&KeyOf(kv.clone())) {
            Some(&i) => {
                let om = match std::mem::take(&mut original[i]) {
                    Value::Object(om) => om,
                    _ => Map::new(),
                };
                original[i] = Value::Object(merge_map(om, pm, ty)?);
            }
            None => {
                index.insert(KeyOf(kv), original.len());
                original.push(Value::Object(merge_map(Map::new(), pm, ty)?));
            }
        }
    }
    Ok(original)
}

/// `normalizeSliceOrder`: stable sort of `to_sort` by the position of each item in `order`.
fn normalize_slice_order(
    to_sort: Vec<Value>,
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
    let index = positions(order, key);
    let mut ranked: Vec<(usize, Value)> = to_sort
        .into_iter()
        .map(|v| (position_in(&index, &v, key).unwrap_or(usize::MAX), v))
        .collect();
    ranked.sort_by_key(|(rank, _)| *rank);
    Ok(ranked.into_iter().map(|(_, v)| v).collect())
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
    let server_index = positions(server_order, key);
    let mut out = Vec::with_capacity(size);
    let (mut li, mut ri) = (left.into_iter().peekable(), right.into_iter().peekable());
    while out.len() < size {
        let take_left = match (li.peek(), ri.peek()) {
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => {
                match (
                    position_in(&server_index, l, key),
                    position_in(&server_index, r, key),
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
    let mut backing: Vec<Value> = original.to_vec();
    // The live slice is always the originals not yet deleted, in order, so its last element
    // is the highest-indexed survivor.
    let mut alive = vec![true; n];
    let mut last = n;
    let mut len = n;
    let mut by_key: HashMap<JsonKey<'_>, Vec<usize>> = HashMap::new();
    for (i, o) in original.iter().enumerate() {
        if let Some(kv) = o.get(key) {
            by_key.entry(JsonKey(kv)).or_default().push(i);
        }
    }
    let mut ghosts: Vec<(usize, usize)> = Vec::new();
    let mut replace = false;
    let mut additions = Vec::new();
    for v in patch {
        match v.get(DIRECTIVE).and_then(Value::as_str) {
            None => additions.push(v),
            Some("replace") => replace = true,
            Some("delete") => {
                let Some(matching) = v.get(key).and_then(|kv| by_key.get(&JsonKey(kv))) else {
                    continue;
                };
                for &k in matching {
                    if !alive[k] {
                        continue;
                    }
                    // append(s[:k], s[k+1:]...) shifts left and leaves the old last element
                    // at the slot that falls out of the slice.
                    while last > 0 && !alive[last - 1] {
                        last -= 1;
                    }
                    ghosts.push((len - 1, last - 1));
                    alive[k] = false;
                    len -= 1;
                }
            }
            Some(_) => {}
        }
    }
    let survivors: Vec<usize> = (0..n).filter(|&i| alive[i]).collect();
    for (slot, &i) in survivors.iter().enumerate() {
        backing[slot] = original[i].clone();
    }
    for (slot, i) in ghosts {
        backing[slot] = original[i].clone();
    }
    if !replace {
        let mut present: HashSet<JsonKey<'_>> = survivors
            .iter()
            .filter_map(|&i| original[i].get(key).map(JsonKey))
            .collect();
        for v in additions {
            let Some(kv) = v.get(key) else {
                // Without a key nothing matches it: it is always added.
                if len < n {
                    backing[len] = v.clone();
                }
                len += 1;
                continue;
            };
            if !present.insert(JsonKey(kv)) {
                continue;
            }
            if len < n {
                backing[len] = v.clone();
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
