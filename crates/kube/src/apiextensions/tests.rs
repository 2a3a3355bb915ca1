//! Table tests of the CRD rules: a valid CRD and a valid custom resource, each case one tweak.

use super::*;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use proptest::prelude::*;
use serde_json::json;
use twinstack_core::field::aggregate;

fn crd_json() -> Value {
    json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "crontabs.stable.example.com"},
        "spec": {
            "group": "stable.example.com", "scope": "Namespaced",
            "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab", "shortNames": ["ct"]},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
                "additionalPrinterColumns": [{"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"}],
                "schema": {"openAPIV3Schema": schema_json()}
            }]
        }
    })
}

fn schema_json() -> Value {
    json!({
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "required": ["cronSpec"],
                "x-kubernetes-validations": [{"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"}],
                "properties": {
                    "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
                    "image": {"type": "string", "maxLength": 10},
                    "replicas": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
                    "maxReplicas": {"type": "integer", "default": 5},
                    "mode": {"type": "string", "enum": ["a", "b"]},
                    "port": {"x-kubernetes-int-or-string": true},
                    "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set", "maxItems": 3},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                    "note": {"type": "string", "nullable": true},
                    "immutable": {"type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf", "message": "is immutable"}]}
                }
            },
            "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}}
        }
    })
}

fn crd(tweak: impl FnOnce(&mut Value)) -> CustomResourceDefinition {
    let mut v = crd_json();
    tweak(&mut v);
    let mut c: CustomResourceDefinition = serde_json::from_value(v).unwrap();
    validation::set_defaults(&mut c);
    c
}

fn now() -> k8s_openapi::apimachinery::pkg::apis::meta::v1::Time {
    k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(jiff::Timestamp::UNIX_EPOCH)
}

fn schema() -> JSONSchemaProps {
    serde_json::from_value(schema_json()).unwrap()
}

fn cr(spec: Value) -> Value {
    json!({"apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "x"}, "spec": spec})
}

#[test]
fn crd_validation_cases() {
    type Tweak = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Tweak, &str)> = vec![
        ("valid", Box::new(|_| {}), ""),
        ("name not plural.group", Box::new(|v| v["metadata"]["name"] = json!("foo.stable.example.com")),
         "metadata.name: Invalid value: \"foo.stable.example.com\": must be spec.names.plural+\".\"+spec.group"),
        ("group without dot", Box::new(|v| { v["spec"]["group"] = json!("stable"); v["metadata"]["name"] = json!("crontabs.stable") }),
         "spec.group: Invalid value: \"stable\": should be a domain with at least one dot"),
        ("bad scope", Box::new(|v| v["spec"]["scope"] = json!("Global")),
         "spec.scope: Unsupported value: \"Global\": supported values: \"Cluster\", \"Namespaced\""),
        ("no storage version", Box::new(|v| v["spec"]["versions"][0]["storage"] = json!(false)),
         "must have exactly one version marked as storage version"),
        ("no schema", Box::new(|v| { v["spec"]["versions"][0].as_object_mut().unwrap().remove("schema"); }),
         "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"),
        ("untyped field", Box::new(|v| v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["x"] = json!({})),
         "spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[x].type: Required value: must not be empty for specified object fields"),
        ("metadata specified", Box::new(|v| v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] = json!({"type": "object", "properties": {"labels": {"type": "object"}}})),
         "spec.versions[0].schema.openAPIV3Schema.properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"),
        ("bad cel", Box::new(|v| v["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["x-kubernetes-validations"][0]["rule"] = json!("self.replicas <=")),
         "spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:\"self.replicas <=\""),
        ("bad column type", Box::new(|v| v["spec"]["versions"][0]["additionalPrinterColumns"][0]["type"] = json!("float")),
         "spec.versions[0].additionalPrinterColumns[0].type: Unsupported value: \"float\": supported values: \"boolean\", \"date\", \"integer\", \"number\", \"string\""),
        ("scale path", Box::new(|v| v["spec"]["versions"][0]["subresources"]["scale"]["specReplicasPath"] = json!(".status.x")),
         "spec.versions[0].subresources.scale.specReplicasPath: Invalid value: \".status.x\": should be a json path under .spec"),
        ("protected group", Box::new(|v| { v["spec"]["group"] = json!("x.k8s.io"); v["metadata"]["name"] = json!("crontabs.x.k8s.io") }),
         "metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation \"api-approved.kubernetes.io\", see https://github.com/kubernetes/enhancements/pull/1111"),
        ("protected group approved", Box::new(|v| {
            v["spec"]["group"] = json!("x.k8s.io");
            v["metadata"]["name"] = json!("crontabs.x.k8s.io");
            v["metadata"]["annotations"] = json!({"api-approved.kubernetes.io": "https://github.com/kubernetes/enhancements/pull/1111"});
        }), ""),
        ("kind equals listKind", Box::new(|v| v["spec"]["names"]["listKind"] = json!("CronTab")),
         "spec.names.listKind: Invalid value: \"CronTab\": kind and listKind may not be the same"),
    ];
    for (name, tweak, want) in cases {
        let errs = validation::validate(&crd(tweak));
        let got = aggregate(&errs);
        if want.is_empty() {
            assert!(errs.is_empty(), "{name}: {got}");
        } else {
            assert!(got.contains(want), "{name}: got {got}");
        }
    }
}

#[test]
fn instance_validation_cases() {
    let s = schema();
    let cases: Vec<(&str, Value, &str)> = vec![
        ("valid", json!({"cronSpec": "* * * * */5", "replicas": 2}), ""),
        ("required", json!({"replicas": 2}), "spec.cronSpec: Required value"),
        ("type", json!({"cronSpec": "* * * * *", "replicas": "two"}),
         "spec.replicas: Invalid value: \"string\": spec.replicas in body must be of type integer: \"string\""),
        ("maximum", json!({"cronSpec": "* * * * *", "replicas": 20, "maxReplicas": 30}),
         "spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10"),
        ("minimum", json!({"cronSpec": "* * * * *", "replicas": -1}),
         "spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0"),
        ("pattern", json!({"cronSpec": "bad"}),
         "spec.cronSpec: Invalid value: \"bad\": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'"),
        ("maxLength", json!({"cronSpec": "* * * * *", "image": "abcdefghijkl"}),
         "spec.image: Too long: may not be more than 10 bytes"),
        ("enum", json!({"cronSpec": "* * * * *", "mode": "c"}),
         "spec.mode: Unsupported value: \"c\": supported values: \"a\", \"b\""),
        ("int-or-string bool", json!({"cronSpec": "* * * * *", "port": true}),
         "spec.port: Invalid value: \"boolean\": spec.port in body must be of type integer,string: \"boolean\""),
        ("int-or-string ok", json!({"cronSpec": "* * * * *", "port": "http"}), ""),
        ("set duplicate", json!({"cronSpec": "* * * * *", "tags": ["a", "a"]}), "spec.tags[1]: Duplicate value: \"a\""),
        ("maxItems", json!({"cronSpec": "* * * * *", "tags": ["a", "b", "c", "d"]}), "spec.tags: Too many: 4: must have at most 3 items"),
        ("nullable", json!({"cronSpec": "* * * * *", "note": null}), ""),
        ("not nullable", json!({"cronSpec": "* * * * *", "image": null}),
         "spec.image: Invalid value: \"null\": spec.image in body must be of type string: \"null\""),
        ("cel", json!({"cronSpec": "* * * * *", "replicas": 6, "maxReplicas": 5}),
         "spec: Invalid value: \"object\": replicas must not exceed maxReplicas"),
    ];
    for (name, spec, want) in cases {
        let mut obj = cr(spec);
        prepare(&mut obj, &s);
        let got = aggregate(&validate_instance(&obj, None, &s));
        if want.is_empty() {
            assert!(got.is_empty(), "{name}: {got}");
        } else {
            assert_eq!(got, want, "{name}");
        }
    }
}

#[test]
fn transition_rule_needs_old_self() {
    let s = schema();
    let mut old = cr(json!({"cronSpec": "* * * * *", "immutable": "a"}));
    let mut new = cr(json!({"cronSpec": "* * * * *", "immutable": "b"}));
    prepare(&mut old, &s);
    prepare(&mut new, &s);
    assert!(validate_instance(&new, None, &s).is_empty());
    assert_eq!(
        aggregate(&validate_instance(&new, Some(&old), &s)),
        "spec.immutable: Invalid value: \"string\": is immutable"
    );
}

#[test]
fn pruning_and_defaulting() {
    let s = schema();
    let mut obj = cr(json!({"cronSpec": "* * * * *", "bogus": 1, "free": {"any": {"thing": 1}}}));
    obj["metadata"]["junk"] = json!(1);
    obj["extra"] = json!("x");
    let unknown = prepare(&mut obj, &s);
    assert_eq!(unknown, vec!["metadata.junk", "spec.bogus", "extra"]);
    assert_eq!(obj["spec"]["replicas"], json!(1));
    assert_eq!(obj["spec"]["free"]["any"]["thing"], json!(1));
    assert!(obj.get("extra").is_none());
}

#[test]
fn names_conflict() {
    let a = crd(|_| {});
    let mut a2 = a.clone();
    names::update_status(&mut a2, &[], now());
    assert!(names::is_established(&a2));
    let mut b = crd(|v| {
        v["metadata"]["name"] = json!("crontabs2.stable.example.com");
        v["spec"]["names"]["plural"] = json!("crontabs2");
        v["spec"]["names"]["singular"] = json!("crontab2");
    });
    names::update_status(&mut b, std::slice::from_ref(&a2), now());
    let conds = b.status.as_ref().unwrap().conditions.clone().unwrap();
    let na = conds.iter().find(|c| c.type_ == "NamesAccepted").unwrap();
    assert_eq!(na.status, "False");
    assert_eq!(na.reason.as_deref(), Some("ShortNamesConflict"));
    assert_eq!(na.message.as_deref(), Some("\"ct\" is already in use"));
    assert!(!names::is_established(&b));
}

#[test]
fn go_patterns_compile() {
    for (go, yes, no) in [
        (
            r"^([a-zA-Z0-9][a-zA-Z0-9-_]*\.)*[a-zA-Z0-9]*[a-zA-Z0-9-_]*[[a-zA-Z0-9]+$",
            "a.b-c",
            "a..b",
        ),
        (
            r"^[0-9a-z-_]+(\/[0-9a-z-_]+|(\.[0-9a-z-_]+)*)$",
            "kyma-system/kyma-gateway",
            "A/B",
        ),
        (r"^[-a-z]+$", "a-b", "A"),
        (r"^[[:alpha:]]+$", "ab", "1"),
    ] {
        let re = regex::Regex::new(&schema::go_regex(go)).unwrap_or_else(|e| panic!("{go}: {e}"));
        assert!(re.is_match(yes), "{go} {yes}");
        assert!(!re.is_match(no), "{go} {no}");
    }
}

#[test]
fn version_priority() {
    let mut v = vec![
        "v1alpha1", "foo", "v2", "v1beta1", "v1", "v10beta3", "v1beta2",
    ];
    v.sort_by(|a, b| names::compare_versions(a, b));
    assert_eq!(
        v,
        ["v2", "v1", "v10beta3", "v1beta2", "v1beta1", "v1alpha1", "foo"]
    );
}

#[test]
fn printer_cells() {
    let obj = json!({"spec": {"a": [{"n": 1}, {"n": 2}], "s": "x", "i": 3}});
    let now = jiff::Timestamp::UNIX_EPOCH;
    assert_eq!(printers::cell(&obj, ".spec.s", "string", now), json!("x"));
    assert_eq!(printers::cell(&obj, ".spec.i", "integer", now), json!(3));
    assert_eq!(
        printers::cell(&obj, ".spec.a[*].n", "string", now),
        json!("1 2")
    );
    assert_eq!(
        printers::cell(&obj, ".spec.a[1].n", "integer", now),
        json!(2)
    );
    assert_eq!(
        printers::cell(&obj, ".spec.none", "string", now),
        Value::Null
    );
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        "[a-z* /0-9]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any body: preparing and validating never panics, and preparing twice prunes nothing more.
    #[test]
    fn any_instance_is_handled(spec in arb_json(), extra in arb_json()) {
        let s = schema();
        let mut obj = cr(spec);
        obj["extra"] = extra;
        prepare(&mut obj, &s);
        let again = prepare(&mut obj.clone(), &s);
        prop_assert!(again.is_empty(), "{again:?}");
        let _ = validate_instance(&obj, Some(&obj), &s);
    }

    /// Any schema-shaped value as a CRD schema: validation never panics.
    #[test]
    fn any_schema_is_handled(s in arb_json()) {
        if let Ok(schema) = serde_json::from_value::<JSONSchemaProps>(s) {
            let mut errs = ErrorList::new();
            cel::compile_errors(&schema, &Path::new("s"), &mut errs);
            let mut obj = cr(json!({}));
            prepare(&mut obj, &schema);
            let _ = validate_instance(&obj, None, &schema);
        }
    }
}

#[test]
fn rules_use_the_strings_and_lists_extensions() {
    let s: JSONSchemaProps = serde_json::from_value(json!({
        "type": "object",
        "properties": {"baseDir": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "x-kubernetes-validations": [
            {"rule": "has(self.baseDir) && (self.baseDir.trim().size() != 0)", "message": "BaseDir is required and cannot be empty"},
            {"rule": "!has(self.tags) || self.tags.all(t, t.lowerAscii() == t)", "message": "lower case"},
        ]
    }))
    .unwrap();
    let run = |v: Value| {
        let mut errs = Vec::new();
        cel::validate(
            &v,
            None,
            &s,
            &twinstack_core::field::Path::new("src"),
            &mut errs,
        );
        aggregate(&errs)
    };
    assert_eq!(run(json!({"baseDir": "/src", "tags": ["a"]})), "");
    assert_eq!(
        run(json!({"baseDir": "  ", "tags": ["A"]})),
        "[src: Invalid value: \"object\": BaseDir is required and cannot be empty, src: Invalid value: \"object\": lower case]"
    );
}
