//! Label and field selector parsing never panics, and what parses prints back to a string that
//! parses to the same selector.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_core::selector::{FieldSelector, LabelSelector};

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    if let Ok(l) = LabelSelector::parse(&s) {
        let again = LabelSelector::parse(&l.to_string()).expect("printed selector parses");
        assert_eq!(again.to_string(), l.to_string());
    }
    let _ = FieldSelector::parse(&s);
});
