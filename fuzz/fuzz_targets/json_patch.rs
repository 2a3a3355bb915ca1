//! RFC 6902 JSON patches on arbitrary documents never panic, and whatever they do stays within
//! kube-apiserver's bounds: at most 10,000 operations, and `copy` operations add at most 3 MiB
//! (json-patch's `AccumulatedCopySizeLimit`), so the result is never larger than the document,
//! plus the patch's own values, plus 3 MiB. Input: document, NUL, patch (both JSON).
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_core::patch::{go_json_len, json_patch, json_patch_strict_errors, JSON_PATCH_MAX_COPY_BYTES};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let Some((a, b)) = s.split_once('\u{0}') else { return };
    let (Ok(doc), Ok(patch)) = (serde_json::from_str(a), serde_json::from_str(b)) else { return };
    let _ = json_patch_strict_errors(&patch);
    if let Ok(out) = json_patch(&doc, &patch) {
        let bound = go_json_len(&doc) + go_json_len(&patch) + JSON_PATCH_MAX_COPY_BYTES;
        assert!(go_json_len(&out) <= bound, "{} > {bound}", go_json_len(&out));
    }
});
