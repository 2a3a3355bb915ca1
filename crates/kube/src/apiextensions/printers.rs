//! `additionalPrinterColumns` of a custom resource version in server-side Tables.
//!
//! Upstream: `staging/src/k8s.io/apiextensions-apiserver/pkg/registry/customresource/tableconvertor/tableconvertor.go`
//! (`New`, `ConvertToTable`) and `pkg/apiserver/customresource_handler.go`
//! (`serveDefaultColumnsIfEmpty`: the `Age` column when a version lists none).

use serde_json::{json, Value};

/// `.a.b[0].c`, `.a[*].b`, `{.a.b}`: the simple JSONPaths printer columns use. Returns every
/// value found (more than one through `[*]`).
pub fn eval(obj: &Value, path: &str) -> Vec<Value> {
    let p = path.trim();
    let p = p
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(p);
    let mut cur = vec![obj.clone()];
    for seg in split(p) {
        let mut next = Vec::new();
        for v in cur {
            match seg.clone() {
                Seg::Field(f) => {
                    if let Some(x) = v.get(f.as_str()) {
                        next.push(x.clone());
                    }
                }
                Seg::Index(i) => {
                    if let Some(a) = v.as_array() {
                        let idx = if i < 0 { a.len() as i64 + i } else { i };
                        if let Some(x) = usize::try_from(idx).ok().and_then(|i| a.get(i)) {
                            next.push(x.clone());
                        }
                    }
                }
                Seg::All => match v {
                    Value::Array(a) => next.extend(a),
                    Value::Object(m) => next.extend(m.into_iter().map(|(_, v)| v)),
                    _ => {}
                },
            }
        }
        cur = next;
    }
    cur
}

#[derive(Clone)]
enum Seg {
    Field(String),
    Index(i64),
    All,
}

fn split(p: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut rest = p;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                out.push(Seg::Field(r[..end].to_string()));
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap_or(r.len());
            let inner = r[..end].trim_matches(|c| c == '\'' || c == '"');
            if inner == "*" {
                out.push(Seg::All);
            } else if let Ok(i) = inner.parse() {
                out.push(Seg::Index(i));
            } else {
                out.push(Seg::Field(inner.to_string()));
            }
            rest = r.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            out.push(Seg::Field(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    out
}

/// One cell of a printer column of `ty` (`integer`, `number`, `string`, `boolean`, `date`), as
/// the table convertor fills it: `null` when the path finds nothing, dates as ages.
pub fn cell(obj: &Value, json_path: &str, ty: &str, now: jiff::Timestamp) -> Value {
    let vals = eval(obj, json_path);
    if vals.is_empty() {
        return Value::Null;
    }
    if vals.len() == 1 {
        let v = &vals[0];
        return match (ty, v) {
            ("date", Value::String(s)) => json!(crate::table::age(Some(s), now)),
            ("integer", Value::Number(n)) if n.is_i64() || n.is_u64() => v.clone(),
            ("number", Value::Number(_)) => v.clone(),
            ("boolean", Value::Bool(_)) => v.clone(),
            (_, Value::String(s)) => json!(s),
            (_, other) => json!(go_print(other)),
        };
    }
    json!(vals.iter().map(go_print).collect::<Vec<_>>().join(" "))
}

/// What `fmt.Sprint` / the JSONPath printer show for a value.
fn go_print(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".into(),
        other => other.to_string(),
    }
}
