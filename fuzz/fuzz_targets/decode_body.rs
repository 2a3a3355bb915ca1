//! Request bodies (JSON or YAML) decoded into a Service with unknown-field detection and the
//! v1 defaulting never panic, whatever the bytes; a YAML body never decodes to more than its
//! alias bound, and a JSON body Go's scanner refuses is refused.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_registry::kinds::{service::ServiceKind, Kind};

fuzz_target!(|data: &[u8]| {
    let (yaml, body) = match data.split_first() {
        Some((flag, rest)) => (flag & 1 == 1, rest),
        None => return,
    };
    use twinstack_registry::decode;
    let parsed = if yaml { decode::parse_yaml(body) } else { decode::parse_json(body) };
    if !yaml && decode::go_json_syntax_error(body).is_some() {
        assert!(parsed.is_err(), "Go refuses it, so must we");
    }
    if let Ok(d) = parsed {
        if yaml {
            let out = serde_json::to_vec(&d.value).unwrap().len() as u64;
            // The bound counts escapes loosely; allow for JSON's own escaping of strings.
            assert!(out <= 6 * decode::yaml_output_limit(body.len()), "{out}");
        }
        let _ = ServiceKind.decode(&d.value);
    }
});
