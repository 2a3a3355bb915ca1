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

/// Go's `encoding/json` texts, as `json.Unmarshal` gives them (checked against Go 1.23).
#[test]
fn json_syntax_errors_are_go_texts() {
    for (input, want) in [
        (&b""[..], "unexpected end of JSON input"),
        (b"   ", "unexpected end of JSON input"),
        (b"{\"apiVersion\": \"v1\", ", "unexpected end of JSON input"),
        (b"{\"a\" 1}", "invalid character '1' after object key"),
        (
            b"{\"a\":1 \"b\"}",
            "invalid character '\"' after object key:value pair",
        ),
        (b"[1 2]", "invalid character '2' after array element"),
        (
            b"{1:2}",
            "invalid character '1' looking for beginning of object key string",
        ),
        (b"x", "invalid character 'x' looking for beginning of value"),
        (b"{} {}", "invalid character '{' after top-level value"),
        (b"\"a\x01\"", "invalid character '\\x01' in string literal"),
        (b"\"\\q\"", "invalid character 'q' in string escape code"),
        (
            b"\"\\u12x4\"",
            "invalid character 'x' in \\u hexadecimal character escape",
        ),
        (b"-a", "invalid character 'a' in numeric literal"),
        (
            b"1.x",
            "invalid character 'x' after decimal point in numeric literal",
        ),
        (
            b"1ex",
            "invalid character 'x' in exponent of numeric literal",
        ),
        (
            b"trux",
            "invalid character 'x' in literal true (expecting 'e')",
        ),
        (b"nul", "unexpected end of JSON input"),
        (b"[\n", "unexpected end of JSON input"),
        (
            b"'a'",
            "invalid character '\\'' looking for beginning of value",
        ),
    ] {
        assert_eq!(
            go_json_syntax_error(input).as_deref(),
            Some(want),
            "{}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(
            parse_json(input).unwrap_err(),
            DecodeError::Json(want.into())
        );
    }
    for ok in [
        &b"{}"[..],
        b" [1, 2.5e-3, -0, true, null, \"\\u00e9\"] ",
        b"0",
    ] {
        assert_eq!(go_json_syntax_error(ok), None);
    }
    let deep = "[".repeat(10_001);
    assert_eq!(
        go_json_syntax_error(deep.as_bytes()).as_deref(),
        Some("invalid character '[' exceeded max depth")
    );
}

/// sigs.k8s.io/json's strict errors for duplicate keys, in document order, with its paths.
#[test]
fn json_duplicates_are_strict_errors_and_the_last_value_wins() {
    let d = parse_json(
        br#"{"kind":"Service","metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},
            "spec":{"ports":[{"port":1,"port":2}]},"kind":"Service"}"#,
    )
    .unwrap();
    assert_eq!(d.value["metadata"]["name"], "b");
    assert_eq!(d.value["metadata"]["labels"]["x"], "2");
    assert_eq!(
        d.strict_errors,
        vec![
            "duplicate field \"metadata.name\"",
            "duplicate field \"metadata.labels.x\"",
            "duplicate field \"spec.ports[0].port\"",
            "duplicate field \"kind\"",
        ]
    );
    assert!(parse_json(br#"{"a":1,"b":2}"#)
        .unwrap()
        .strict_errors
        .is_empty());
}

#[test]
fn yaml_duplicates_are_go_yaml_strict_errors() {
    let d = parse_yaml(b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\ndata:\n  k: v\n  k: w\n").unwrap();
    assert_eq!(d.value["metadata"]["name"], "b");
    assert_eq!(d.value["data"]["k"], "w");
    assert_eq!(
        d.strict_errors,
        vec!["yaml: unmarshal errors:\n  line 5: key \"name\" already set in map\n  line 8: key \"k\" already set in map"]
    );
    assert_eq!(
        strict_warnings(&d.strict_errors),
        vec![
            "line 5: key \"name\" already set in map",
            "line 8: key \"k\" already set in map"
        ]
    );
}

/// A billion-laughs document: each level doubles the previous one by aliases. Refused once its
/// JSON form passes the bound, with go-yaml's text, long before it reaches memory.
#[test]
fn yaml_alias_bomb_is_bounded_by_output_size() {
    let mut doc = String::from("a0: &a0 [\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]\n");
    for i in 1..40 {
        doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
    }
    assert_eq!(
        parse_yaml(doc.as_bytes()).unwrap_err(),
        DecodeError::Yaml(EXCESSIVE_ALIASING.into())
    );
    // Modest reuse of anchors is fine.
    let ok = "base: &b {app: web}\nfirst: *b\nsecond: *b\n";
    assert_eq!(
        parse_yaml(ok.as_bytes()).unwrap().value["second"]["app"],
        "web"
    );
}

#[test]
fn yaml_errors_are_go_yaml_shaped_without_library_hints() {
    for bad in [&b"a: [\n"[..], b"a: b: c\n", b"- a\nb: c\n"] {
        let e = parse_yaml(bad).unwrap_err().to_string();
        assert!(e.starts_with("yaml: "), "{e}");
        for hint in ["Options", "serde", "DuplicateKeyPolicy", "\n", "column"] {
            assert!(!e.contains(hint), "{e}");
        }
    }
}

#[test]
fn decode_error_wrappers_are_the_apiservers() {
    assert_eq!(summarize(b""), "<empty>");
    assert_eq!(summarize(b"{\"a\":1}"), "{\"a\":1}");
    assert_eq!(summarize(b"[1,2,3]"), "5b312c322c335d");
    assert_eq!(summarize(&[b'{'; 40]), format!("{} ...", "{".repeat(30)));
    assert_eq!(
        not_an_object(&json!([1])).unwrap(),
        "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; Kind string \"json:\\\"kind,omitempty\\\"\" }"
    );
}

/// Go's `UnmarshalTypeError` texts, as kube-apiserver answers them.
#[test]
fn type_errors_are_go_texts() {
    let e = typed::<Service>(&json!({"spec":{"ports":[{"port":"eighty"}]}})).unwrap_err();
    assert_eq!(
        e,
        "json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32"
    );
    let e = typed::<Service>(&json!({"spec":[]})).unwrap_err();
    assert_eq!(
        e,
        "json: cannot unmarshal array into Go struct field Service.spec of type v1.ServiceSpec"
    );
    let e = typed::<Service>(&json!({"metadata":{"name":5}})).unwrap_err();
    assert_eq!(
        e,
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.name of type string"
    );
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

    /// The Go scanner and serde agree on what is valid JSON (below serde's depth limit).
    #[test]
    fn go_scanner_agrees_with_serde(s in "[\\[\\]{}:,\"a-z0-9.eE+\\- \\\\]{0,80}") {
        let serde_ok = serde_json::from_str::<Value>(&s).is_ok();
        let go_ok = go_json_syntax_error(s.as_bytes()).is_none();
        proptest::prop_assert_eq!(serde_ok, go_ok, "{}", s);
    }

    /// Parsing through the duplicate-tracking builder gives what serde_json gives.
    #[test]
    fn builder_matches_serde_json(v in arb_json()) {
        let text = serde_json::to_vec(&v).unwrap();
        let d = parse_json(&text).unwrap();
        proptest::prop_assert_eq!(d.value, v);
        proptest::prop_assert!(d.strict_errors.is_empty());
    }

    /// Every YAML rendering of a JSON document reads back as that document.
    #[test]
    fn yaml_round_trip(v in arb_json()) {
        let text = serde_saphyr::to_string(&v).unwrap();
        let d = parse_yaml(text.as_bytes()).unwrap();
        proptest::prop_assert_eq!(d.value, v);
    }
}

fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::prelude::*;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-z ]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// go-yaml v2 resolves YAML 1.1 booleans in keys too (`y`, `on`), and sigs.k8s.io/yaml writes
/// such a key as `"true"`.
#[test]
fn yaml_keys_are_converted_as_sigs_yaml_does() {
    let d = parse_yaml(b"y: 1\n2: b\n").unwrap();
    assert_eq!(d.value, json!({"true": 1, "2": "b"}));
}
