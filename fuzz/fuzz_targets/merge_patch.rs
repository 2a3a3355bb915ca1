//! RFC 7396 merge patches never panic, and the patch computed between two objects turns the
//! first into the second (for objects without nulls, which a merge patch cannot express).
//! Input: document, NUL, target (both JSON).
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinstack_core::patch::{create_merge_patch, merge_patch};

fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(has_null),
        Value::Object(m) => m.values().any(has_null),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let Some((a, b)) = s.split_once('\u{0}') else { return };
    let (Ok(doc), Ok(other)) = (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)) else { return };
    let _ = merge_patch(&doc, &other);
    if doc.is_object() && other.is_object() && !has_null(&other) {
        let p = create_merge_patch(&doc, &other);
        assert_eq!(merge_patch(&doc, &p).expect("a computed patch applies"), other);
    }
});
