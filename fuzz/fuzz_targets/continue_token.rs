//! Continue tokens from clients never panic the decoder; decoded tokens never reach above their
//! collection (no `..` segment survives), and tokens the server writes decode to what it wrote.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_core::pagination::{decode_continue, encode_continue};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(c) = decode_continue(&s) {
        assert!(!c.start.split('/').any(|seg| seg == ".."), "{:?}", c.start);
    }
    // The server writes tokens for store keys, whose segments are valid path segment names
    // (never empty, `.` or `..`: `ValidatePathSegmentName`).
    let a_key = !s.is_empty() && s.split('/').all(|seg| !matches!(seg, "" | "." | ".."));
    if a_key {
        let t = encode_continue(&s, 7);
        let c = decode_continue(&t).expect("the server's own token decodes");
        assert_eq!(c.start, format!("{s}\u{0}"));
        assert_eq!(c.revision, 7);
    }
});
