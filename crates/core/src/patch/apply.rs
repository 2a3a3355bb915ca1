//! Server-side apply and managedFields tracking: a faithful subset of
//! sigs.k8s.io/structured-merge-diff `merge.Updater` (`Apply`, `Update`, `prune`) and of the
//! apiserver fieldmanager chain (`stripMetaManager`, `managedFieldsUpdater`,
//! `probabilisticSkipNonAppliedManager` with track-on-create probability 1,
//! `skipNonAppliedManager`'s `before-first-apply`, `lastAppliedUpdater`, `lastAppliedManager`,
//! `capManagersManager`, conflict errors of
//! `internal/conflict.go`).
//!
//! Server-set fields: `status` is a reset field of every built-in main resource, so it is
//! filtered out of every field set (nobody owns it through the main resource); the metadata
//! fields `stripMetaManager` strips (`metadata.name`, `namespace`, `uid`, `resourceVersion`,
//! `generation`, `creationTimestamp`, `managedFields`, `selfLink`, `clusterName`, and
//! `apiVersion`/`kind`) are never owned. Values the server fills in later (an allocated
//! `spec.clusterIP(s)`, defaults) are owned by nobody unless a manager sets them: callers must
//! run [`track_update`] on the object as the client sent it (after decoding defaults, before
//! allocation), which is what the apiserver does; an unowned field never conflicts.

use super::fieldpath::{normalize_number, path_string, FieldSet, OrdValue, Path, PathElement};
use super::json::{json_eq, prune_nulls};
use super::schema::{field, key_default, FieldMeta, PatchKind, SsaList, Ty};
use crate::status::{Status, StatusCause, StatusDetails};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// `metav1.ManagedFieldsOperationType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    manager: String,
    operation: Operation,
    api_version: String,
    time: Option<String>,
    subresource: String,
    set: FieldSet,
}

impl Entry {
    fn same_identity(&self, manager: &str, op: Operation, api_version: &str) -> bool {
        self.same_identity_in(manager, op, api_version, "")
    }

    /// `BuildManagerIdentifier`: manager, operation, subresource, and the apiVersion for
    /// updaters only.
    fn same_identity_in(
        &self,
        manager: &str,
        op: Operation,
        api_version: &str,
        subresource: &str,
    ) -> bool {
        self.manager == manager
            && self.operation == op
            && self.subresource == subresource
            && (op == Operation::Apply || self.api_version == api_version)
    }
}

/// One field owned by another manager whose value the applied configuration changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub subresource: String,
    /// `fieldpath.Path.String()`, e.g. `.spec.type`.
    pub path: String,
}

impl Conflict {
    /// `printManager`: `"kubectl"` for appliers, `"kubectl-client-side-apply" using v1` for
    /// updaters (the manager identifier carries no time, so no `at <time>` is printed).
    pub fn manager_display(&self) -> String {
        let mut s = crate::field::go_quote(&self.manager);
        if !self.subresource.is_empty() {
            s = format!(
                "{s} with subresource {}",
                crate::field::go_quote(&self.subresource)
            );
        }
        if self.operation == Operation::Update {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }
}

/// The conflicts of a refused apply (`merge.Conflicts`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyConflicts {
    pub conflicts: Vec<Conflict>,
}

impl ApplyConflicts {
    /// `getConflictMessage` of apiserver fieldmanager `internal/conflict.go`.
    pub fn message(&self) -> String {
        if self.conflicts.len() == 1 {
            let c = &self.conflicts[0];
            return format!(
                "Apply failed with 1 conflict: conflict with {}: {}",
                c.manager_display(),
                c.path
            );
        }
        let mut groups: Vec<(String, String, Vec<&str>)> = Vec::new();
        for c in &self.conflicts {
            let id = format!(
                "{}\u{0}{}\u{0}{}",
                c.manager,
                c.operation.as_str(),
                c.api_version
            );
            match groups.iter_mut().find(|g| g.0 == id) {
                Some(g) => g.2.push(&c.path),
                None => groups.push((id, c.manager_display(), vec![&c.path])),
            }
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let mut lines = Vec::new();
        for (_, disp, paths) in groups {
            lines.push(format!("conflicts with {disp}:"));
            lines.extend(paths.into_iter().map(|p| format!("- {p}")));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            self.conflicts.len(),
            lines.join("\n")
        )
    }

    /// `NewApplyConflict`: 409 Conflict, one `FieldManagerConflict` cause per conflict.
    pub fn to_status(&self) -> Status {
        let causes = self
            .conflicts
            .iter()
            .map(|c| StatusCause {
                reason: Some("FieldManagerConflict".into()),
                message: Some(format!("conflict with {}", c.manager_display())),
                field: Some(c.path.clone()),
            })
            .collect();
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            metadata: serde_json::json!({}),
            status: "Failure".into(),
            message: self.message(),
            reason: "Conflict".into(),
            details: Some(StatusDetails {
                causes,
                ..Default::default()
            }),
            code: 409,
        }
    }
}

impl std::fmt::Display for ApplyConflicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// Why an apply was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// 409: fields owned by other managers would change and `force` is false.
    #[error("{0}")]
    Conflicts(ApplyConflicts),
    /// 400 (e.g. `metadata.managedFields must be nil`).
    #[error("{0}")]
    BadRequest(String),
}

impl ApplyError {
    pub fn to_status(&self) -> Status {
        match self {
            ApplyError::Conflicts(c) => c.to_status(),
            ApplyError::BadRequest(m) => Status::bad_request(m.clone()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Paths of list items

fn item_element(item: &Value, ssa: SsaList) -> Option<PathElement> {
    match ssa {
        SsaList::Atomic => None,
        SsaList::Set => match item {
            Value::Object(_) | Value::Array(_) => None,
            v => Some(PathElement::Value(OrdValue(normalize_number(v)))),
        },
        SsaList::Map(keys) => {
            let m = item.as_object()?;
            let mut kv = Vec::new();
            for k in keys {
                let v = match m.get(*k) {
                    Some(v) if !v.is_null() => normalize_number(v),
                    _ => key_default(k)?,
                };
                kv.push((k.to_string(), OrdValue(v)));
            }
            kv.sort_by(|a, b| a.0.cmp(&b.0));
            Some(PathElement::Key(kv))
        }
    }
}

/// Path elements of all items, or `None` when the list must be treated as atomic (atomic
/// schema, or an item without its keys).
fn list_elements(items: &[Value], ssa: SsaList) -> Option<Vec<PathElement>> {
    items.iter().map(|i| item_element(i, ssa)).collect()
}

fn root_meta(kind: PatchKind) -> FieldMeta {
    FieldMeta {
        ty: kind.root(),
        smp: super::schema::SmpList::Replace,
        ssa: SsaList::Atomic,
        retain_keys: false,
    }
}

fn item_meta(list: &FieldMeta) -> FieldMeta {
    FieldMeta {
        ty: list.ty,
        smp: super::schema::SmpList::Replace,
        ssa: SsaList::Atomic,
        retain_keys: false,
    }
}

// ---------------------------------------------------------------------------------------------
// ToFieldSet

fn to_field_set(v: &Value, meta: FieldMeta, path: &mut Path, out: &mut FieldSet) {
    match v {
        Value::Null => {}
        Value::Object(m) => {
            if meta.ty == Ty::Atomic {
                out.insert(path.clone());
                return;
            }
            for (k, child) in m {
                path.push(PathElement::Field(k.clone()));
                to_field_set(child, field(meta.ty, k), path, out);
                path.pop();
            }
        }
        Value::Array(items) => match list_elements(items, meta.ssa) {
            None => out.insert(path.clone()),
            Some(pes) => {
                for (item, pe) in items.iter().zip(pes) {
                    path.push(pe);
                    to_field_set(item, item_meta(&meta), path, out);
                    out.insert(path.clone());
                    path.pop();
                }
            }
        },
        _ => out.insert(path.clone()),
    }
}

// ---------------------------------------------------------------------------------------------
// Compare

#[derive(Default)]
struct Comparison {
    added: FieldSet,
    modified: FieldSet,
    removed: FieldSet,
}

fn is_empty_container(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    }
}

fn compare(
    l: Option<&Value>,
    r: Option<&Value>,
    meta: FieldMeta,
    path: &mut Path,
    out: &mut Comparison,
) {
    let obj_like =
        |v: Option<&Value>| matches!(v, None | Some(Value::Null) | Some(Value::Object(_)));
    let arr_like =
        |v: Option<&Value>| matches!(v, None | Some(Value::Null) | Some(Value::Array(_)));
    let any_obj = matches!(l, Some(Value::Object(_))) || matches!(r, Some(Value::Object(_)));
    let any_arr = matches!(l, Some(Value::Array(_))) || matches!(r, Some(Value::Array(_)));
    let both_empty = is_empty_container(l) && is_empty_container(r);
    let mut descended = false;
    if any_obj && obj_like(l) && obj_like(r) && meta.ty != Ty::Atomic && !both_empty {
        let empty = Map::new();
        let lm = l.and_then(Value::as_object).unwrap_or(&empty);
        let rm = r.and_then(Value::as_object).unwrap_or(&empty);
        for k in lm.keys().chain(rm.keys().filter(|k| !lm.contains_key(*k))) {
            path.push(PathElement::Field(k.clone()));
            compare(lm.get(k), rm.get(k), field(meta.ty, k), path, out);
            path.pop();
        }
        descended = true;
    } else if any_arr && arr_like(l) && arr_like(r) && !both_empty {
        let empty = Vec::new();
        let la = l.and_then(Value::as_array).unwrap_or(&empty);
        let ra = r.and_then(Value::as_array).unwrap_or(&empty);
        if let (Some(lp), Some(rp)) = (list_elements(la, meta.ssa), list_elements(ra, meta.ssa)) {
            // First position of each element (lookups stay logarithmic for long lists).
            fn first(pes: &[PathElement]) -> BTreeMap<&PathElement, usize> {
                let mut m = BTreeMap::new();
                for (i, p) in pes.iter().enumerate() {
                    m.entry(p).or_insert(i);
                }
                m
            }
            let (lpos, rpos) = (first(&lp), first(&rp));
            let mut seen: BTreeSet<&PathElement> = BTreeSet::new();
            for pe in lp.iter().chain(rp.iter()) {
                if !seen.insert(pe) {
                    continue;
                }
                let li = lpos.get(pe).map(|i| &la[*i]);
                let ri = rpos.get(pe).map(|i| &ra[*i]);
                path.push(pe.clone());
                compare(li, ri, item_meta(&meta), path, out);
                path.pop();
            }
            descended = true;
        }
    }
    if path.is_empty() {
        return;
    }
    if descended {
        if l.is_none() {
            out.added.insert(path.clone());
        } else if r.is_none() {
            out.removed.insert(path.clone());
        }
    } else {
        match (l, r) {
            (None, Some(_)) => out.added.insert(path.clone()),
            (Some(_), None) => out.removed.insert(path.clone()),
            (Some(a), Some(b)) if !json_eq(a, b) => out.modified.insert(path.clone()),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Merge (live ⊕ applied configuration)

fn merge(l: &Value, r: &Value, meta: FieldMeta) -> Value {
    match (l, r) {
        (Value::Object(lm), Value::Object(rm)) if meta.ty != Ty::Atomic => {
            let mut out = lm.clone();
            for (k, rv) in rm {
                if rv.is_null() {
                    out.shift_remove(k);
                    continue;
                }
                let merged = match out.get(k) {
                    Some(lv) => merge(lv, rv, field(meta.ty, k)),
                    None => prune_nulls(rv.clone()),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(la), Value::Array(ra)) => {
            match (list_elements(la, meta.ssa), list_elements(ra, meta.ssa)) {
                (Some(lp), Some(rp)) => {
                    Value::Array(merge_list_items(la, &lp, ra, &rp, item_meta(&meta)))
                }
                _ => prune_nulls(r.clone()),
            }
        }
        _ => prune_nulls(r.clone()),
    }
}

/// The item order of structured-merge-diff's merge of associative lists: RHS (applied) order
/// wins for shared items, LHS-only items stay where they were.
fn merge_list_items(
    la: &[Value],
    lp: &[PathElement],
    ra: &[Value],
    rp: &[PathElement],
    im: FieldMeta,
) -> Vec<Value> {
    fn dedup(pes: &[PathElement]) -> (Vec<(usize, &PathElement)>, BTreeMap<&PathElement, usize>) {
        let mut out: Vec<(usize, &PathElement)> = Vec::new();
        let mut first: BTreeMap<&PathElement, usize> = BTreeMap::new();
        for (i, pe) in pes.iter().enumerate() {
            if let std::collections::btree_map::Entry::Vacant(e) = first.entry(pe) {
                e.insert(i);
                out.push((i, pe));
            }
        }
        (out, first)
    }
    let (lo, lfirst) = dedup(lp);
    let (ro, rfirst) = dedup(rp);
    let in_l = |pe: &PathElement| lfirst.get(pe).copied();
    let in_r = |pe: &PathElement| rfirst.get(pe).copied();
    let mut shared: std::collections::VecDeque<&PathElement> = ro
        .iter()
        .filter(|(_, p)| in_l(p).is_some())
        .map(|(_, p)| *p)
        .collect();
    let mut next_shared = shared.pop_front();
    let mut out = Vec::new();
    let (mut li, mut ri) = (0, 0);
    while li < lo.len() || ri < ro.len() {
        if li < lo.len() && ri < ro.len() {
            let (lidx, pe) = lo[li];
            if pe == ro[ri].1 {
                out.push(merge(&la[lidx], &ra[ro[ri].0], im));
                li += 1;
                ri += 1;
                next_shared = shared.pop_front();
                continue;
            }
            if in_r(pe).is_some() && next_shared.is_some_and(|n| n != pe) {
                li += 1;
                continue;
            }
        }
        if li < lo.len() {
            let (lidx, pe) = lo[li];
            if in_r(pe).is_none() {
                out.push(la[lidx].clone());
                li += 1;
                continue;
            }
        }
        if ri < ro.len() {
            let (ridx, pe) = ro[ri];
            let merged = match in_l(pe) {
                Some(lidx) => merge(&la[lidx], &ra[ridx], im),
                None => prune_nulls(ra[ridx].clone()),
            };
            out.push(merged);
            ri += 1;
            if next_shared.is_some_and(|n| n == pe) {
                next_shared = shared.pop_front();
            }
        } else {
            // Only LHS items that are also in RHS remain and were already merged; skip them.
            li += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Removal of a path (prune)

/// Removes every path of `paths` (none empty) from `v` in one walk: each list's items are
/// identified once, not once per path, so dropping many items of a long list stays linear.
/// Items of associative and set lists are matched by their first occurrence, as a lookup by
/// element finds them; index paths address the list as it was before the walk.
fn remove_paths(v: &mut Value, paths: &[&[PathElement]], meta: FieldMeta) {
    // Per first element: whether it goes entirely, and the paths below it.
    let mut groups: BTreeMap<&PathElement, (bool, Vec<&[PathElement]>)> = BTreeMap::new();
    for p in paths {
        let Some((first, rest)) = p.split_first() else {
            continue;
        };
        let g = groups.entry(first).or_default();
        if rest.is_empty() {
            g.0 = true;
        } else {
            g.1.push(rest);
        }
    }
    match v {
        Value::Object(m) => {
            for (pe, (whole, rests)) in groups {
                let PathElement::Field(k) = pe else {
                    continue;
                };
                if whole {
                    m.shift_remove(k);
                } else if let Some(child) = m.get_mut(k) {
                    remove_paths(child, &rests, field(meta.ty, k));
                }
            }
        }
        Value::Array(a) => {
            let mut first_of: BTreeMap<PathElement, usize> = BTreeMap::new();
            if groups.keys().any(|pe| !matches!(pe, PathElement::Index(_))) {
                for (i, item) in a.iter().enumerate() {
                    if let Some(pe) = item_element(item, meta.ssa) {
                        first_of.entry(pe).or_insert(i);
                    }
                }
            }
            let mut delete = vec![false; a.len()];
            for (pe, (whole, rests)) in groups {
                let idx = match pe {
                    PathElement::Index(i) => (*i < a.len()).then_some(*i),
                    other => first_of.get(other).copied(),
                };
                let Some(idx) = idx else {
                    continue;
                };
                if whole {
                    delete[idx] = true;
                } else {
                    remove_paths(&mut a[idx], &rests, item_meta(&meta));
                }
            }
            let mut i = 0;
            a.retain(|_| {
                let keep = !delete[i];
                i += 1;
                keep
            });
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// managedFields

/// Which endpoint an operation went through: the main resource ignores `status` (a reset field
/// of every built-in kind), the `status` subresource ignores everything but `status`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope<'a> {
    Main,
    Subresource(&'a str),
}

fn strip(set: FieldSet) -> FieldSet {
    strip_scoped(set, Scope::Main)
}

fn strip_scoped(set: FieldSet, scope: Scope<'_>) -> FieldSet {
    let meta = |n: &str| {
        vec![
            PathElement::Field("metadata".into()),
            PathElement::Field(n.into()),
        ]
    };
    let exact: Vec<Path> = vec![
        vec![PathElement::Field("apiVersion".into())],
        vec![PathElement::Field("kind".into())],
        vec![PathElement::Field("metadata".into())],
        meta("name"),
        meta("namespace"),
        meta("creationTimestamp"),
        meta("selfLink"),
        meta("uid"),
        meta("clusterName"),
        meta("generation"),
        meta("managedFields"),
        meta("resourceVersion"),
    ];
    let status = PathElement::Field("status".into());
    FieldSet(
        set.0
            .into_iter()
            .filter(|p| {
                !exact.contains(p)
                    && match scope {
                        Scope::Main => p.first() != Some(&status),
                        Scope::Subresource("status") => p.first() == Some(&status),
                        Scope::Subresource(_) => true,
                    }
            })
            .collect(),
    )
}

fn decode_managed(obj: Option<&Value>) -> Option<Vec<Entry>> {
    let list = obj?.get("metadata")?.get("managedFields")?.as_array()?;
    let mut out = Vec::new();
    for e in list {
        let manager = e
            .get("manager")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let operation = match e.get("operation").and_then(Value::as_str) {
            Some("Apply") => Operation::Apply,
            Some("Update") => Operation::Update,
            _ => return None,
        };
        let set = match e.get("fieldsV1") {
            Some(v) => FieldSet::from_fields_v1(v).ok()?,
            None => FieldSet::new(),
        };
        out.push(Entry {
            manager,
            operation,
            api_version: e
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            time: e.get("time").and_then(Value::as_str).map(str::to_string),
            subresource: e
                .get("subresource")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            set,
        });
    }
    Some(out)
}

fn encode_managed(mut entries: Vec<Entry>) -> Value {
    entries.retain(|e| !e.set.is_empty());
    entries.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| p.time.cmp(&q.time))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    Value::Array(
        entries
            .into_iter()
            .map(|e| {
                let mut m = Map::new();
                m.insert("manager".into(), Value::String(e.manager));
                m.insert(
                    "operation".into(),
                    Value::String(e.operation.as_str().into()),
                );
                m.insert("apiVersion".into(), Value::String(e.api_version));
                if let Some(t) = e.time {
                    m.insert("time".into(), Value::String(t));
                }
                m.insert("fieldsType".into(), Value::String("FieldsV1".into()));
                m.insert("fieldsV1".into(), e.set.to_fields_v1());
                if !e.subresource.is_empty() {
                    m.insert("subresource".into(), Value::String(e.subresource));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// The object without `metadata.managedFields` (borrowed when it has none).
fn without_managed(v: &Value) -> std::borrow::Cow<'_, Value> {
    if v.pointer("/metadata/managedFields").is_none() {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut v = v.clone();
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("managedFields");
    }
    std::borrow::Cow::Owned(v)
}

fn set_managed(v: &mut Value, entries: Vec<Entry>) {
    let encoded = encode_managed(entries);
    let Value::Object(obj) = v else { return };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = meta {
        if encoded.as_array().is_some_and(|a| a.is_empty()) {
            m.shift_remove("managedFields");
        } else {
            m.insert("managedFields".into(), encoded);
        }
    }
}

fn diff(kind: PatchKind, old: Option<&Value>, new: &Value) -> Comparison {
    diff_scoped(kind, old, new, Scope::Main)
}

/// Fill what the Go zero value of the kind always has (non-pointer structs, non-omitempty
/// fields) into `v`, so that comparing stored JSON behaves like comparing typed objects.
fn with_zero(v: &Value, zero: &Value) -> Value {
    match (v, zero) {
        (Value::Object(m), Value::Object(z)) => {
            // One copy of each node: children with a zero counterpart are filled as they are
            // copied, then the zero's missing keys are appended (the order `insert` gave).
            let mut out = Map::with_capacity(m.len() + z.len());
            for (k, cur) in m {
                let filled = match z.get(k) {
                    Some(zv) => with_zero(cur, zv),
                    None => cur.clone(),
                };
                out.insert(k.clone(), filled);
            }
            for (k, zv) in z {
                if !m.contains_key(k) {
                    out.insert(k.clone(), zv.clone());
                }
            }
            Value::Object(out)
        }
        _ => v.clone(),
    }
}

fn diff_scoped(kind: PatchKind, old: Option<&Value>, new: &Value, scope: Scope<'_>) -> Comparison {
    let zero = kind.zero_object();
    let old = old.map(|o| with_zero(o, &zero));
    let new = with_zero(new, &zero);
    let mut c = Comparison::default();
    compare(
        old.as_ref(),
        Some(&new),
        root_meta(kind),
        &mut Vec::new(),
        &mut c,
    );
    Comparison {
        added: strip_scoped(c.added, scope),
        modified: strip_scoped(c.modified, scope),
        removed: strip_scoped(c.removed, scope),
    }
}

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Go `encoding/json` output for an unstructured object: sorted keys, HTML-escaped.
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(&Value::String((*k).clone()), out);
                out.push(':');
                go_json(&m[*k], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(x, out);
            }
            out.push(']');
        }
        Value::String(s) => {
            let j = Value::String(s.clone()).to_string();
            out.push_str(
                &j.replace('<', "\\u003c")
                    .replace('>', "\\u003e")
                    .replace('&', "\\u0026")
                    .replace('\u{2028}', "\\u2028")
                    .replace('\u{2029}', "\\u2029"),
            );
        }
        other => out.push_str(&normalize_number(other).to_string()),
    }
}

/// `lastAppliedUpdater`: an apply by the `kubectl` manager rewrites an existing
/// last-applied-configuration annotation to the applied configuration.
fn sync_last_applied(obj: &mut Value, config: &Value) {
    let has = obj
        .get("metadata")
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(LAST_APPLIED))
        .is_some();
    if !has {
        return;
    }
    let mut cfg = config.clone();
    if let Some(meta) = cfg.get_mut("metadata").and_then(Value::as_object_mut) {
        let empty = match meta.get_mut("annotations").and_then(Value::as_object_mut) {
            Some(a) => {
                a.shift_remove(LAST_APPLIED);
                a.is_empty()
            }
            None => false,
        };
        if empty {
            meta.shift_remove("annotations");
        }
    }
    let mut s = String::new();
    go_json(&cfg, &mut s);
    s.push('\n');
    if let Some(a) = obj
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.insert(LAST_APPLIED.into(), Value::String(s));
    }
}

/// Server-side apply of `config` by `manager` (operation `Apply`) onto `live` (`None`: the
/// object does not exist yet and is created).
///
/// Returns the new object with `metadata.managedFields` updated: fields in `config` are set and
/// owned by `manager`; fields this manager applied before, left out of `config` and owned by no
/// other manager are removed; associative lists (merge keys) merge by key, other lists are
/// replaced. When another manager owns a field whose value changes and `force` is false,
/// nothing is applied and [`ApplyError::Conflicts`] lists them; with `force` the ownership
/// moves to `manager`. `now_rfc3339` is the entry time (`2026-01-02T03:04:05Z`).
///
/// A `null` in `config` removes the field and is not owned (upstream would own a null value).
///
/// For the `kubectl` manager, conflicts on fields recorded in the live object's
/// last-applied-configuration annotation whose values still match are allowed and the apply is
/// forced (`lastAppliedManager`, the client-side → server-side apply upgrade); an existing
/// annotation is rewritten to the applied configuration (`lastAppliedUpdater`).
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    api_version: &str,
    now_rfc3339: &str,
    kind: impl Into<PatchKind>,
) -> Result<Value, ApplyError> {
    let kind = kind.into();
    let first = apply_once(live, config, manager, force, api_version, now_rfc3339, kind);
    // lastAppliedManager: only for the `kubectl` manager.
    let (Err(ApplyError::Conflicts(conflicts)), Some(l), "kubectl") = (&first, live, manager)
    else {
        return first;
    };
    let Some(allowed) = allowed_conflicts_from_last_applied(l, api_version, kind) else {
        return first;
    };
    let remaining: Vec<Conflict> = conflicts
        .conflicts
        .iter()
        .filter(|c| !allowed.contains(&c.path))
        .cloned()
        .collect();
    if remaining.is_empty() {
        apply_once(live, config, manager, true, api_version, now_rfc3339, kind)
    } else {
        Err(ApplyError::Conflicts(ApplyConflicts {
            conflicts: remaining,
        }))
    }
}

/// `lastAppliedManager.allowedConflictsFromLastApplied`: the fields of the last-applied
/// annotation (client-side apply) whose values still match the live object. A
/// `kubectl apply --server-side` may take them over without conflict (the CSA→SSA upgrade).
fn allowed_conflicts_from_last_applied(
    live: &Value,
    api_version: &str,
    kind: PatchKind,
) -> Option<std::collections::BTreeSet<String>> {
    let annotation = live
        .pointer("/metadata/annotations")?
        .get(LAST_APPLIED)?
        .as_str()?;
    if annotation.is_empty() {
        return None;
    }
    let last: Value = serde_json::from_str(annotation).ok()?;
    if last.get("apiVersion").and_then(Value::as_str) != Some(api_version) {
        return None;
    }
    let mut set = FieldSet::new();
    to_field_set(&last, root_meta(kind), &mut Vec::new(), &mut set);
    let mut c = Comparison::default();
    let live_clean = without_managed(live);
    compare(
        Some(&last),
        Some(&live_clean),
        root_meta(kind),
        &mut Vec::new(),
        &mut c,
    );
    let allowed = set
        .difference(&c.modified)
        .difference(&c.added)
        .difference(&c.removed);
    Some(allowed.iter().map(|p| path_string(p)).collect())
}

fn apply_once(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    api_version: &str,
    now_rfc3339: &str,
    kind: PatchKind,
) -> Result<Value, ApplyError> {
    if !config.is_object() {
        return Err(ApplyError::BadRequest(
            "error decoding YAML: the applied configuration is not an object".into(),
        ));
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(|m| !m.is_null())
    {
        return Err(ApplyError::BadRequest(
            "metadata.managedFields must be nil".into(),
        ));
    }
    let live_clean = live.map(|l| without_managed(l).into_owned());
    let mut entries = decode_managed(live).unwrap_or_default();
    if let (Some(l), true) = (&live_clean, entries.is_empty()) {
        // skipNonAppliedManager: the first apply to an untracked object gives what is there to
        // `before-first-apply` (operation Update).
        let zero = kind.zero_object();
        let c = diff(kind, Some(&zero), l);
        let set = c.added.union(&c.modified);
        if !set.is_empty() {
            entries.push(Entry {
                manager: "before-first-apply".into(),
                operation: Operation::Update,
                api_version: api_version.into(),
                time: Some(now_rfc3339.into()),
                subresource: String::new(),
                set,
            });
        }
    }

    let mut config_set = FieldSet::new();
    to_field_set(config, root_meta(kind), &mut Vec::new(), &mut config_set);
    let config_set = strip(config_set);

    let base = live_clean
        .clone()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut merged = merge(&base, config, root_meta(kind));

    let mine = entries
        .iter()
        .position(|e| e.same_identity(manager, Operation::Apply, api_version));
    let last_set = mine.map(|i| entries[i].set.clone()).unwrap_or_default();
    let others: FieldSet = entries
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != mine)
        .fold(FieldSet::new(), |acc, (_, e)| acc.union(&e.set));
    let owned = others.union(&config_set);
    // prune: what this manager applied last time and no longer applies, owned by nobody.
    // Key fields of a list item that stays (someone still owns a field in it) stay too.
    let is_key_field = |p: &Path| match (p.len().checked_sub(2).map(|i| &p[i]), p.last()) {
        (Some(PathElement::Key(kv)), Some(PathElement::Field(f))) => kv.iter().any(|(k, _)| k == f),
        _ => false,
    };
    let to_remove: Vec<&[PathElement]> = last_set
        .iter()
        .filter(|p| {
            !(owned.has_prefix(p) || is_key_field(p) && owned.has_prefix(&p[..p.len() - 1]))
        })
        .map(Vec::as_slice)
        .collect();
    remove_paths(&mut merged, &to_remove, root_meta(kind));

    let c = diff(kind, live_clean.as_ref(), &merged);
    let changed = c.added.union(&c.modified);
    let mut conflicts = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if Some(i) == mine {
            continue;
        }
        for p in e.set.intersection(&changed).iter() {
            conflicts.push(Conflict {
                manager: e.manager.clone(),
                operation: e.operation,
                api_version: e.api_version.clone(),
                subresource: e.subresource.clone(),
                path: path_string(p),
            });
        }
    }
    if !force && !conflicts.is_empty() {
        conflicts.sort_by(|a, b| {
            (&a.manager, a.operation, &a.path).cmp(&(&b.manager, b.operation, &b.path))
        });
        return Err(ApplyError::Conflicts(ApplyConflicts { conflicts }));
    }
    for (i, e) in entries.iter_mut().enumerate() {
        if Some(i) == mine {
            continue;
        }
        e.set = e.set.difference(&changed).difference(&c.removed);
    }

    let object_changed = match &live_clean {
        Some(l) => !json_eq(l, &merged),
        None => true,
    };
    match mine {
        Some(i) => {
            let e = &mut entries[i];
            if object_changed || e.set != config_set || e.api_version != api_version {
                e.time = Some(now_rfc3339.into());
            }
            e.set = config_set;
            e.api_version = api_version.into();
        }
        None => entries.push(Entry {
            manager: manager.into(),
            operation: Operation::Apply,
            api_version: api_version.into(),
            time: Some(now_rfc3339.into()),
            subresource: String::new(),
            set: config_set,
        }),
    }
    if manager == "kubectl" {
        sync_last_applied(&mut merged, config);
    }
    set_managed(&mut merged, entries);
    Ok(merged)
}

/// Record in `new.metadata.managedFields` what `manager` changed from `old` to `new` by a
/// create (`old` = `None`), update or non-apply patch (operation `Update`).
///
/// Mirrors the apiserver: the managedFields of `new` are used when the client sent valid,
/// non-empty ones, else those of `old`; an existing object without managedFields stays
/// untracked (`probabilisticSkipNonAppliedManager`); fields added or changed are taken away from
/// every other manager; removed fields are dropped from every manager; the manager's entry
/// (keyed by manager, operation and apiVersion) gets the changed fields and time `now_rfc3339`
/// only if it changed something. Call it on the object as the client sent it (after defaulting,
/// before the server allocates fields), so server-set values stay unowned.
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    operation: Operation,
    api_version: &str,
    now_rfc3339: &str,
    kind: impl Into<PatchKind>,
) {
    track(
        old,
        new,
        manager,
        operation,
        api_version,
        now_rfc3339,
        kind.into(),
        "",
    )
}

/// [`track_update`] for a write through a subresource (`"status"`): only fields of that
/// subresource are recorded, in an entry with `subresource: status`; `status` fields change
/// hands between managers of the main resource and of the subresource as upstream.
pub fn track_subresource_update(
    old: &Value,
    new: &mut Value,
    manager: &str,
    subresource: &str,
    api_version: &str,
    now_rfc3339: &str,
    kind: impl Into<PatchKind>,
) {
    track(
        Some(old),
        new,
        manager,
        Operation::Update,
        api_version,
        now_rfc3339,
        kind.into(),
        subresource,
    )
}

#[allow(clippy::too_many_arguments)]
fn track(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    operation: Operation,
    api_version: &str,
    now_rfc3339: &str,
    kind: PatchKind,
    subresource: &str,
) {
    let entries = tracked_entries(
        old,
        new,
        manager,
        operation,
        api_version,
        now_rfc3339,
        kind,
        subresource,
    );
    set_managed(new, entries);
}

/// The managedFields [`track_update`] would give a new object `new` (no previous object),
/// without copying or changing `new`.
pub fn managed_fields_for_create(
    new: &Value,
    manager: &str,
    api_version: &str,
    now_rfc3339: &str,
    kind: impl Into<PatchKind>,
) -> Value {
    encode_managed(tracked_entries(
        None,
        new,
        manager,
        Operation::Update,
        api_version,
        now_rfc3339,
        kind.into(),
        "",
    ))
}

#[allow(clippy::too_many_arguments)]
fn tracked_entries(
    old: Option<&Value>,
    new: &Value,
    manager: &str,
    operation: Operation,
    api_version: &str,
    now_rfc3339: &str,
    kind: PatchKind,
    subresource: &str,
) -> Vec<Entry> {
    let scope = if subresource.is_empty() {
        Scope::Main
    } else {
        Scope::Subresource(subresource)
    };
    let from_new = decode_managed(Some(new)).filter(|e| !e.is_empty());
    let mut entries = match from_new {
        Some(e) => e,
        None => decode_managed(old).unwrap_or_default(),
    };
    let new_clean = without_managed(new);
    if old.is_some() && entries.is_empty() {
        return Vec::new();
    }
    let old_clean = match old {
        Some(o) => without_managed(o),
        None => std::borrow::Cow::Owned(kind.zero_object()),
    };
    let c = diff_scoped(kind, Some(&old_clean), &new_clean, scope);
    let changed = c.added.union(&c.modified);
    for e in entries.iter_mut() {
        e.set = e.set.difference(&changed).difference(&c.removed);
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.same_identity_in(manager, operation, api_version, subresource))
        {
            Some(e) => {
                e.set = e.set.union(&changed);
                e.time = Some(now_rfc3339.into());
            }
            None => entries.push(Entry {
                manager: manager.into(),
                operation,
                api_version: api_version.into(),
                time: Some(now_rfc3339.into()),
                subresource: subresource.into(),
                set: changed,
            }),
        }
    }
    cap_update_managers(&mut entries);
    entries
}

/// `capManagersManager` (DefaultMaxUpdateManagers = 10): beyond ten Update entries, the oldest
/// are folded into one `ancient-changes` entry.
fn cap_update_managers(entries: &mut Vec<Entry>) {
    const MAX: usize = 10;
    const BUCKET: &str = "ancient-changes";
    loop {
        let mut updaters: Vec<usize> = (0..entries.len())
            .filter(|&i| entries[i].operation == Operation::Update)
            .collect();
        if updaters.len() <= MAX {
            return;
        }
        updaters.sort_by(|&a, &b| entries[a].time.cmp(&entries[b].time));
        let Some(&oldest) = updaters.iter().find(|&&i| entries[i].manager != BUCKET) else {
            return;
        };
        let e = entries.remove(oldest);
        match entries.iter_mut().find(|b| {
            b.manager == BUCKET
                && b.operation == Operation::Update
                && b.api_version == e.api_version
        }) {
            Some(b) => {
                b.set = b.set.union(&e.set);
                if b.time < e.time {
                    b.time = e.time;
                }
            }
            None => entries.push(Entry {
                manager: BUCKET.into(),
                subresource: String::new(),
                ..e
            }),
        }
    }
}
