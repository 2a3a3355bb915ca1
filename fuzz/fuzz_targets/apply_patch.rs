//! Server-side apply of arbitrary configurations onto arbitrary live objects never panics, and
//! applying the same configuration again by the same manager changes nothing but the
//! managedFields timestamp. Input: live object, NUL, applied configuration (both JSON).
#![no_main]
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinstack_core::patch::{apply, PatchKind};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let Some((a, b)) = s.split_once('\u{0}') else { return };
    let (Ok(live), Ok(config)) = (serde_json::from_str::<Value>(a), serde_json::from_str::<Value>(b)) else { return };
    for kind in [PatchKind::Service, PatchKind::Pod] {
        let live = live.is_object().then_some(&live);
        let Ok(once) = apply(live, &config, "fuzz", false, "v1", "2024-01-01T00:00:00Z", kind) else {
            continue;
        };
        let twice = apply(Some(&once), &config, "fuzz", false, "v1", "2024-01-01T00:00:00Z", kind)
            .expect("re-applying an accepted configuration by its owner succeeds");
        assert_eq!(once, twice);
    }
});
