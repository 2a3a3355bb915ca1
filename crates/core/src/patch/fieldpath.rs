//! Field paths and sets of structured-merge-diff (`sigs.k8s.io/structured-merge-diff/fieldpath`)
//! and their `FieldsV1` encoding in `metadata.managedFields[].fieldsV1`:
//! `f:<field>`, `k:<json of the sorted key fields>`, `v:<json value>`, `i:<index>`, and `.` for a
//! path that is itself a member of the set while also having members below it.

use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// A JSON scalar (or any value) with a total order, as `value.Compare` orders values.
#[derive(Clone, Debug, PartialEq)]
pub struct OrdValue(pub Value);

impl Eq for OrdValue {}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let c = cmp_values(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|a, b| a.0.cmp(b.0));
            ys.sort_by(|a, b| a.0.cmp(b.0));
            for ((k1, v1), (k2, v2)) in xs.iter().zip(&ys) {
                let c = k1.cmp(k2).then_with(|| cmp_values(v1, v2));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

impl Ord for OrdValue {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_values(&self.0, &other.0)
    }
}

impl PartialOrd for OrdValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Normalize numbers the way Go's JSON round trip does: integral values print without `.0`.
pub(crate) fn normalize_number(v: &Value) -> Value {
    match v {
        Value::Number(n) if n.as_i64().is_none() && n.as_u64().is_none() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::from(f as i64),
            _ => v.clone(),
        },
        _ => v.clone(),
    }
}

/// One step of a field path. The variant order is structured-merge-diff's sort order.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    /// A struct field or map key: `f:<name>`.
    Field(String),
    /// An item of an associative list, by its key fields sorted by name: `k:{...}`.
    Key(Vec<(String, OrdValue)>),
    /// An item of a set list: `v:<json>`.
    Value(OrdValue),
    /// An item of a list addressed by position: `i:<n>` (not produced for atomic lists).
    Index(usize),
}

/// A path from the object root.
pub type Path = Vec<PathElement>;

fn go_value_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => crate::field::go_quote(s),
        Value::Number(_) => normalize_number(v).to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(go_value_string).collect::<Vec<_>>().join(",")
        ),
        Value::Object(m) => {
            let mut keys: Vec<_> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}={}", go_value_string(&m[*k])))
                .collect();
            format!("{{{}}}", parts.join(";"))
        }
    }
}

impl PathElement {
    /// The `FieldsV1` key of this element.
    pub fn encode(&self) -> String {
        match self {
            PathElement::Field(n) => format!("f:{n}"),
            PathElement::Key(kv) => {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.clone(), normalize_number(&v.0));
                }
                format!("k:{}", Value::Object(m))
            }
            PathElement::Value(v) => format!("v:{}", normalize_number(&v.0)),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parse a `FieldsV1` key.
    pub fn decode(s: &str) -> Result<PathElement, String> {
        let bad = || format!("invalid path element: {s}");
        if let Some(n) = s.strip_prefix("f:") {
            return Ok(PathElement::Field(n.to_string()));
        }
        if let Some(j) = s.strip_prefix("k:") {
            let Value::Object(m) = serde_json::from_str::<Value>(j).map_err(|_| bad())? else {
                return Err(bad());
            };
            let mut kv: Vec<(String, OrdValue)> = m
                .into_iter()
                .map(|(k, v)| (k, OrdValue(normalize_number(&v))))
                .collect();
            kv.sort_by(|a, b| a.0.cmp(&b.0));
            return Ok(PathElement::Key(kv));
        }
        if let Some(j) = s.strip_prefix("v:") {
            let v: Value = serde_json::from_str(j).map_err(|_| bad())?;
            return Ok(PathElement::Value(OrdValue(normalize_number(&v))));
        }
        if let Some(i) = s.strip_prefix("i:") {
            return Ok(PathElement::Index(i.parse().map_err(|_| bad())?));
        }
        Err(bad())
    }

    /// `PathElement.String()`: `.name`, `[k=v,k2="s"]`, `[="x"]`, `[3]`.
    pub fn display(&self) -> String {
        match self {
            PathElement::Field(n) => format!(".{n}"),
            PathElement::Key(kv) => {
                let parts: Vec<String> = kv
                    .iter()
                    .map(|(k, v)| format!("{k}={}", go_value_string(&v.0)))
                    .collect();
                format!("[{}]", parts.join(","))
            }
            PathElement::Value(v) => format!("[={}]", go_value_string(&v.0)),
            PathElement::Index(i) => format!("[{i}]"),
        }
    }
}

/// `Path.String()`, e.g. `.spec.ports[port=80,protocol="TCP"].targetPort`.
pub fn path_string(p: &[PathElement]) -> String {
    p.iter().map(PathElement::display).collect()
}

/// A set of field paths (`fieldpath.Set`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSet(pub BTreeSet<Path>);

#[derive(Default)]
struct Node {
    member: bool,
    children: BTreeMap<PathElement, Node>,
}

impl Node {
    fn emit(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (pe, child) in &self.children {
            m.insert(pe.encode(), child.emit());
        }
        Value::Object(m)
    }
}

impl FieldSet {
    pub fn new() -> Self {
        FieldSet::default()
    }
    pub fn insert(&mut self, p: Path) {
        self.0.insert(p);
    }
    pub fn contains(&self, p: &[PathElement]) -> bool {
        self.0.contains(p)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn iter(&self) -> impl Iterator<Item = &Path> {
        self.0.iter()
    }
    pub fn union(&self, o: &FieldSet) -> FieldSet {
        FieldSet(self.0.union(&o.0).cloned().collect())
    }
    pub fn difference(&self, o: &FieldSet) -> FieldSet {
        FieldSet(self.0.difference(&o.0).cloned().collect())
    }
    pub fn intersection(&self, o: &FieldSet) -> FieldSet {
        FieldSet(self.0.intersection(&o.0).cloned().collect())
    }
    /// Whether some member starts with `prefix` (the prefix itself included).
    pub fn has_prefix(&self, prefix: &[PathElement]) -> bool {
        self.0
            .range(prefix.to_vec()..)
            .next()
            .is_some_and(|p| p.starts_with(prefix))
    }

    /// The `fieldsV1` JSON object.
    pub fn to_fields_v1(&self) -> Value {
        let mut root = Node::default();
        for p in &self.0 {
            let mut n = &mut root;
            for pe in p {
                n = n.children.entry(pe.clone()).or_default();
            }
            n.member = true;
        }
        root.emit()
    }

    /// Parse a `fieldsV1` JSON object.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        fn walk(v: &Value, path: &mut Path, out: &mut FieldSet) -> Result<(), String> {
            let Value::Object(m) = v else {
                return Err("fieldsV1 must be an object".into());
            };
            for (k, child) in m {
                if k == "." {
                    if !path.is_empty() {
                        out.insert(path.clone());
                    }
                    continue;
                }
                path.push(PathElement::decode(k)?);
                if child.as_object().is_some_and(|c| c.is_empty()) {
                    out.insert(path.clone());
                } else {
                    walk(child, path, out)?;
                }
                path.pop();
            }
            Ok(())
        }
        let mut out = FieldSet::new();
        walk(v, &mut Vec::new(), &mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_round_trip_and_order() {
        let v = json!({
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:ports": {
                    ".": {},
                    "k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}, "f:protocol": {}, "f:targetPort": {}}
                },
                "f:type": {}
            }
        });
        let s = FieldSet::from_fields_v1(&v).unwrap();
        assert_eq!(s.len(), 8);
        assert_eq!(
            serde_json::to_string(&s.to_fields_v1()).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
        let p: Vec<String> = s.iter().map(|p| path_string(p)).collect();
        assert!(p.contains(&".spec.ports[port=80,protocol=\"TCP\"].targetPort".to_string()));
        let fin = FieldSet::from_fields_v1(
            &json!({"f:metadata": {"f:finalizers": {".": {}, "v:\"a/b\"": {}}}}),
        )
        .unwrap();
        assert!(fin
            .iter()
            .any(|p| path_string(p) == ".metadata.finalizers[=\"a/b\"]"));
    }
}
