//! The conditional write: precondition, skipped no-op, status scope.

use super::*;
use crate::testutil::MapTxn;

const KEY: &str = "/registry/rt/deployments/ns/d";

fn stored() -> Value {
    json!({"metadata": {"name": "d", "namespace": "ns", "uid": "u1", "resourceVersion": "5",
        "generation": 2}, "spec": {"replicas": 1}, "status": {"replicas": 0}})
}

fn txn_with(v: Option<Value>) -> MapTxn {
    let mut t = MapTxn::default();
    if let Some(v) = v {
        t.0.insert(KEY.into(), serde_json::to_vec(&v).unwrap());
    }
    t
}

fn read(t: &MapTxn) -> Value {
    serde_json::from_slice(&t.0[KEY]).unwrap()
}

/// A tweak of the stored object as a controller would send it.
fn with(f: impl Fn(&mut Value)) -> Value {
    let mut v = stored();
    f(&mut v);
    v
}

/// (name, stored, written, result, stored resourceVersion after)
type Case = (
    &'static str,
    Option<Value>,
    Value,
    Result<(), Conflict>,
    Option<&'static str>,
);

#[test]
fn precondition_and_no_op() {
    let cases: Vec<Case> = vec![
        (
            "changed status is written with the transaction's revision",
            Some(stored()),
            with(|v| v["status"]["replicas"] = json!(1)),
            Ok(()),
            Some("7"),
        ),
        (
            "identical object is not written",
            Some(stored()),
            stored(),
            Ok(()),
            Some("5"),
        ),
        (
            "stale resourceVersion",
            Some(stored()),
            with(|v| v["metadata"]["resourceVersion"] = json!("4")),
            Err(Conflict::Changed),
            Some("5"),
        ),
        (
            "recreated under the same name",
            Some(stored()),
            with(|v| v["metadata"]["uid"] = json!("u0")),
            Err(Conflict::Changed),
            Some("5"),
        ),
        ("deleted", None, stored(), Err(Conflict::Gone), None),
    ];
    for (name, cur, obj, want, rv) in cases {
        let mut t = txn_with(cur);
        let got = write_if_unchanged_in_txn(&mut t, KEY, obj, Scope::Object);
        assert_eq!(got, want, "{name}");
        let after = t.0.contains_key(KEY).then(|| read(&t));
        assert_eq!(
            after
                .as_ref()
                .and_then(|v| v["metadata"]["resourceVersion"].as_str()),
            rv,
            "{name}"
        );
    }
}

#[test]
fn object_scope_writes_spec_and_status() {
    let mut t = txn_with(Some(stored()));
    let obj = with(|v| {
        v["spec"]["replicas"] = json!(3);
        v["status"]["replicas"] = json!(3);
    });
    write_if_unchanged_in_txn(&mut t, KEY, obj, Scope::Object).unwrap();
    let v = read(&t);
    assert_eq!(v["spec"]["replicas"], 3);
    assert_eq!(v["status"]["replicas"], 3);
}

#[test]
fn status_scope_keeps_spec_and_generation() {
    let mut t = txn_with(Some(stored()));
    let obj = with(|v| {
        v["spec"]["replicas"] = json!(3);
        v["status"]["replicas"] = json!(1);
        v["metadata"]["generation"] = json!(9);
    });
    write_if_unchanged_in_txn(&mut t, KEY, obj, Scope::Status).unwrap();
    let v = read(&t);
    assert_eq!(v["spec"]["replicas"], 1);
    assert_eq!(v["status"]["replicas"], 1);
    assert_eq!(v["metadata"]["generation"], 2);
    assert_eq!(v["metadata"]["resourceVersion"], "7");

    // A status write that only touches the spec changes nothing: not written.
    let mut t = txn_with(Some(stored()));
    let obj = with(|v| v["spec"]["replicas"] = json!(3));
    write_if_unchanged_in_txn(&mut t, KEY, obj, Scope::Status).unwrap();
    assert_eq!(read(&t)["metadata"]["resourceVersion"], "5");
}
