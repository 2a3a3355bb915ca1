//! Server-side Tables (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), as kubectl asks
//! for them in `get`.

use serde_json::Value;
use std::collections::HashMap;
use twinstack_registry::kinds::Kind;

/// A Table of `objs`; `includeObject` decides what each row carries.
pub fn table_of(
    kind: &dyn Kind,
    objs: &[Value],
    rv: &str,
    q: &HashMap<String, String>,
    with_columns: bool,
) -> Value {
    use twinstack_kube::table::{table, Include};
    let now = jiff::Timestamp::now();
    // kubectl only asks for the wide columns client-side by priority; the server always sends them.
    let include = match q.get("includeObject").map(String::as_str) {
        Some("None") => Include::None,
        Some("Object") => Include::Object,
        _ => Include::Metadata,
    };
    let rows: Vec<(Vec<Value>, &Value)> =
        objs.iter().map(|o| (kind.row(o, true, now), o)).collect();
    table(&kind.columns(), rows, rv, include, with_columns)
}
