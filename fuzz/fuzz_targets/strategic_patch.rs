//! Strategic merge, JSON merge and JSON patches on arbitrary documents never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_core::patch::{json_patch, merge_patch, strategic_merge_patch, PatchKind};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let mut parts = s.splitn(2, '\u{0}');
    let (Some(a), Some(b)) = (parts.next(), parts.next()) else { return };
    let (Ok(doc), Ok(patch)) = (serde_json::from_str(a), serde_json::from_str(b)) else { return };
    let _ = strategic_merge_patch(&doc, &patch, PatchKind::Service);
    let _ = strategic_merge_patch(&doc, &patch, PatchKind::Pod);
    let _ = merge_patch(&doc, &patch);
    let _ = json_patch(&doc, &patch);
});
