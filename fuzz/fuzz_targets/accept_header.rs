//! Accept and Content-Type negotiation never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_api::negotiate;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = negotiate::output(Some(&s));
    let _ = negotiate::body_type(Some(&s));
    let _ = negotiate::patch_type(Some(&s));
});
