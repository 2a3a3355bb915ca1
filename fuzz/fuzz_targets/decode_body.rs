//! Request bodies (JSON or YAML) decoded into a Service with unknown-field detection and the
//! v1 defaulting never panic, whatever the bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_server::kinds::{service::ServiceKind, Kind};

fuzz_target!(|data: &[u8]| {
    let (yaml, body) = match data.split_first() {
        Some((flag, rest)) => (flag & 1 == 1, rest),
        None => return,
    };
    if let Ok(v) = twinstack_server::decode::parse_body(body, yaml) {
        let _ = ServiceKind.decode(&v);
    }
});
