//! Decoding request bodies the way kube-apiserver does: JSON or YAML into the typed object,
//! reporting unknown fields (for `fieldValidation`) with upstream's paths, e.g. `spec.ports[0].foo`.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses a request body (JSON, or YAML when `yaml`) into a JSON value.
pub fn parse_body(bytes: &[u8], yaml: bool) -> Result<Value, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err("Object 'Kind' is missing in ''".into());
    }
    if yaml {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| format!("error converting YAML to JSON: {e}"))?;
        serde_saphyr::from_str::<Value>(text)
            .map_err(|e| format!("error converting YAML to JSON: {e}"))
    } else {
        serde_json::from_slice(bytes).map_err(|e| json_error(bytes, &e))
    }
}

/// Go's `encoding/json` style message for malformed JSON.
fn json_error(bytes: &[u8], e: &serde_json::Error) -> String {
    let _ = bytes;
    format!("couldn't get version/kind; json parse error: {e}")
}

fn render_path(p: &serde_ignored::Path<'_>, out: &mut String) {
    use serde_ignored::Path;
    match p {
        Path::Root => {}
        Path::Seq { parent, index } => {
            render_path(parent, out);
            out.push_str(&format!("[{index}]"));
        }
        Path::Map { parent, key } => {
            render_path(parent, out);
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(key);
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => render_path(parent, out),
    }
}

/// Decodes `v` into `T`, returning the unknown field paths (as `spec.foo`) that were dropped.
pub fn typed<T: DeserializeOwned>(v: &Value) -> Result<(T, Vec<String>), String> {
    let mut unknown = Vec::new();
    let t: T = serde_ignored::deserialize(v.clone(), |path| {
        let mut s = String::new();
        render_path(&path, &mut s);
        unknown.push(s);
    })
    .map_err(|e| e.to_string())?;
    Ok((t, unknown))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Service;
    use serde_json::json;

    #[test]
    fn unknown_fields_have_upstream_paths() {
        let v = json!({"apiVersion":"v1","kind":"Service","metadata":{"name":"a","bogus":1},
            "spec":{"ports":[{"port":80,"extra":true}],"foo":"x"}});
        let (_svc, unknown): (Service, _) = typed(&v).unwrap();
        assert_eq!(
            unknown,
            vec!["metadata.bogus", "spec.ports[0].extra", "spec.foo"]
        );
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(parse_body(b"{", false).is_err());
        assert!(parse_body(b"a: [", true).is_err());
        assert!(parse_body(b"", false).is_err());
        let bad: Result<(Service, _), _> =
            typed(&json!({"apiVersion":"v1","kind":"Service","spec":{"ports":[{"port":"x"}]}}));
        assert!(bad.is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), yaml: bool) {
            if let Ok(v) = parse_body(&bytes, yaml) {
                let _ = typed::<Service>(&v);
            }
        }

        #[test]
        fn arbitrary_json_shapes_decode_or_fail_cleanly(s in "[\\[\\]{}:,\"a-z0-9 ]{0,200}") {
            if let Ok(v) = parse_body(s.as_bytes(), false) {
                let _ = typed::<Service>(&v);
            }
        }
    }
}
