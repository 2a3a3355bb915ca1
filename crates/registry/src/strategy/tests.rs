//! The driver: hook order, ObjectMeta errors first, the pass-through and status strategies.

use super::*;
use crate::kinds::{ResourceInfo, ALL_VERBS};
use crate::testutil::{runtime, MapTxn};
use std::sync::Mutex;
use twinstack_core::field::{BadValue, FieldError, Path};
use twinstack_kube::table::Column;

static INFO: ResourceInfo = ResourceInfo {
    group: "test",
    version: "v1",
    plural: "widgets",
    singular: "widget",
    kind: "Widget",
    namespaced: true,
    short_names: &[],
    categories: &[],
    verbs: ALL_VERBS,
    storage: "widgets",
    scale: false,
};

fn err(field: &str) -> FieldError {
    FieldError::invalid(&Path::new(field), BadValue::str("x"), "bad")
}

/// A kind that records the hooks it is called with and fails where told.
#[derive(Default)]
struct Recorder {
    calls: Mutex<Vec<&'static str>>,
    /// Errors `validate`/`validate_update` return.
    errs: ErrorList,
    status: bool,
    repeats_meta: bool,
}

impl Recorder {
    fn log(&self, hook: &'static str) {
        self.calls.lock().unwrap().push(hook);
    }
    fn calls(&self) -> Vec<&'static str> {
        self.calls.lock().unwrap().clone()
    }
}

impl Strategy for Recorder {
    fn begin_create(&self, _cx: &mut WriteCtx<'_>, obj: &mut Value) -> Result<(), Status> {
        self.log("begin_create");
        // Runs before the status reset: what it sees of status is the client's.
        obj["seenStatus"] = json!(obj.get("status").is_some());
        Ok(())
    }
    fn prepare_for_create(&self, _obj: &mut Value) -> Result<(), Status> {
        self.log("prepare_for_create");
        Ok(())
    }
    fn validate(&self, _rt: &Runtime, _obj: &Value) -> Result<ErrorList, Status> {
        self.log("validate");
        Ok(self.errs.clone())
    }
    fn warnings_on_create(&self, _obj: &Value) -> Result<Vec<String>, Status> {
        self.log("warnings_on_create");
        Ok(vec!["careful".into()])
    }
    fn canonicalize(&self, _obj: &mut Value) {
        self.log("canonicalize");
    }
    fn after_create(&self, cx: &mut WriteCtx<'_>, _obj: &Value) {
        self.log("after_create");
        cx.txn.put_raw("/after", vec![]);
    }
    fn begin_update(
        &self,
        _cx: &mut WriteCtx<'_>,
        _new: &mut Value,
        _old: &Value,
    ) -> Result<(), Status> {
        self.log("begin_update");
        Ok(())
    }
    fn prepare_for_update(&self, _new: &mut Value, _old: &Value) -> Result<(), Status> {
        self.log("prepare_for_update");
        Ok(())
    }
    fn validate_update(
        &self,
        _rt: &Runtime,
        _new: &Value,
        _old: &Value,
    ) -> Result<ErrorList, Status> {
        self.log("validate_update");
        Ok(self.errs.clone())
    }
    fn warnings_on_update(&self, _new: &Value, _old: &Value) -> Result<Vec<String>, Status> {
        self.log("warnings_on_update");
        Ok(vec!["careful".into()])
    }
    fn status_subresource(&self) -> bool {
        self.status
    }
    fn validate_repeats_object_meta(&self) -> bool {
        self.repeats_meta
    }
}

impl Kind for Recorder {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        Ok((v.clone(), vec![]))
    }
    fn columns(&self) -> Vec<Column> {
        vec![]
    }
    fn row(&self, _obj: &Value, _wide: bool, _now: jiff::Timestamp) -> Vec<Value> {
        vec![]
    }
}

/// The pass-through strategy: a kind that implements no hook.
struct PassThrough;
impl Strategy for PassThrough {}
impl Kind for PassThrough {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }
    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        Ok((v.clone(), vec![]))
    }
    fn columns(&self) -> Vec<Column> {
        vec![]
    }
    fn row(&self, _obj: &Value, _wide: bool, _now: jiff::Timestamp) -> Vec<Value> {
        vec![]
    }
}

fn widget() -> Value {
    json!({"metadata": {"name": "w", "namespace": "ns", "uid": "u1"},
        "spec": {"size": 1}, "status": {"ready": true}})
}

fn run_create(kind: &dyn Kind, obj: &mut Value, meta: ErrorList) -> Result<Vec<String>, Status> {
    let rt = runtime();
    let mut txn = MapTxn::default();
    let mut cx = WriteCtx {
        txn: &mut txn,
        rt: &rt,
        warnings: Vec::new(),
    };
    create(kind, &mut cx, obj, meta)
}

fn run_update(
    kind: &dyn Kind,
    new: &mut Value,
    old: &Value,
    meta: ErrorList,
) -> Result<Vec<String>, Status> {
    let rt = runtime();
    let mut txn = MapTxn::default();
    let mut cx = WriteCtx {
        txn: &mut txn,
        rt: &rt,
        warnings: Vec::new(),
    };
    update(kind, &mut cx, new, old, meta)
}

/// The field paths of an `Invalid` status's causes, in order.
fn causes(s: &Status) -> Vec<String> {
    let v = serde_json::to_value(s).unwrap();
    v.pointer("/details/causes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| c["field"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn create_runs_upstreams_order() {
    let k = Recorder::default();
    let warnings = run_create(&k, &mut widget(), vec![]).unwrap();
    assert_eq!(
        k.calls(),
        [
            "begin_create",
            "prepare_for_create",
            "validate",
            "warnings_on_create",
            "canonicalize",
            "after_create"
        ]
    );
    assert_eq!(warnings, ["careful"]);
}

#[test]
fn update_runs_upstreams_order() {
    let k = Recorder::default();
    let warnings = run_update(&k, &mut widget(), &widget(), vec![]).unwrap();
    assert_eq!(
        k.calls(),
        [
            "begin_update",
            "prepare_for_update",
            "validate_update",
            "warnings_on_update",
            "canonicalize"
        ]
    );
    assert_eq!(warnings, ["careful"]);
}

#[test]
fn invalid_stops_before_warnings_and_after_create() {
    let k = Recorder {
        errs: vec![err("spec.size")],
        ..Default::default()
    };
    let s = run_create(&k, &mut widget(), vec![]).unwrap_err();
    assert_eq!(s.code, 422);
    assert_eq!(
        k.calls(),
        ["begin_create", "prepare_for_create", "validate"]
    );
}

/// `(meta errors, kind errors, repeats ObjectMeta checks, expected causes)`.
type MetaCase = (
    &'static [&'static str],
    &'static [&'static str],
    bool,
    &'static [&'static str],
);

#[test]
fn meta_errors_come_first() {
    let cases: &[MetaCase] = &[
        (&[], &[], false, &[]),
        (&["metadata.name"], &[], false, &["metadata.name"]),
        (&[], &["spec.size"], false, &["spec.size"]),
        (
            &["metadata.name"],
            &["spec.size", "spec.color"],
            false,
            &["metadata.name", "spec.size", "spec.color"],
        ),
        // A kind whose validation repeats the ObjectMeta checks: meta errors alone.
        (&["metadata.name"], &["spec.size"], true, &["metadata.name"]),
        (&[], &["spec.size"], true, &["spec.size"]),
    ];
    for (meta, kind_errs, repeats, want) in cases {
        for update in [false, true] {
            let k = Recorder {
                errs: kind_errs.iter().map(|f| err(f)).collect(),
                repeats_meta: *repeats,
                ..Default::default()
            };
            let meta_errs: ErrorList = meta.iter().map(|f| err(f)).collect();
            let r = if update {
                run_update(&k, &mut widget(), &widget(), meta_errs)
            } else {
                run_create(&k, &mut widget(), meta_errs)
            };
            let got = match r {
                Ok(_) => vec![],
                Err(s) => {
                    assert_eq!(s.code, 422);
                    assert!(
                        s.message.starts_with("Widget.test \"w\" is invalid"),
                        "{}",
                        s.message
                    );
                    causes(&s)
                }
            };
            assert_eq!(
                got, *want,
                "meta {meta:?} kind {kind_errs:?} update {update}"
            );
        }
    }
}

#[test]
fn pass_through_stores_what_it_is_given() {
    let mut obj = widget();
    assert_eq!(
        run_create(&PassThrough, &mut obj, vec![]).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(obj, widget());
    let mut new = widget();
    new["spec"]["size"] = json!(2);
    let want = new.clone();
    run_update(&PassThrough, &mut new, &widget(), vec![]).unwrap();
    assert_eq!(new, want);
    let s = run_create(&PassThrough, &mut widget(), vec![err("metadata.name")]).unwrap_err();
    assert_eq!(causes(&s), ["metadata.name"]);
}

#[test]
fn status_strategy_on_create_clears_status_after_begin_create() {
    let k = Recorder {
        status: true,
        ..Default::default()
    };
    let mut obj = widget();
    run_create(&k, &mut obj, vec![]).unwrap();
    assert_eq!(obj.get("status"), None);
    assert_eq!(obj["metadata"]["generation"], 1);
    assert_eq!(obj["seenStatus"], true);
}

/// `(name, new spec, new status, old generation, want generation)`: the main resource keeps the
/// stored status; generation follows spec changes.
#[test]
fn status_strategy_on_update_keeps_status() {
    let cases = [
        (
            "same spec",
            json!({"size": 1}),
            json!({"ready": false}),
            3,
            3,
        ),
        ("spec changed", json!({"size": 2}), json!(null), 3, 4),
        ("no old generation", json!({"size": 2}), json!({}), -1, 2),
    ];
    for (name, spec, status, old_gen, want_gen) in cases {
        let mut old = widget();
        if old_gen >= 0 {
            old["metadata"]["generation"] = json!(old_gen);
        }
        let mut new = widget();
        new["spec"] = spec.clone();
        new["status"] = status;
        let k = Recorder {
            status: true,
            ..Default::default()
        };
        run_update(&k, &mut new, &old, vec![]).unwrap();
        assert_eq!(new["status"], old["status"], "{name}");
        assert_eq!(new["spec"], spec, "{name}");
        assert_eq!(new["metadata"]["generation"], want_gen, "{name}");
    }
    // No stored status: none is written either.
    let mut old = widget();
    old.as_object_mut().unwrap().remove("status");
    let mut new = widget();
    status::prepare_for_update(&mut new, &old);
    assert_eq!(new.get("status"), None);
}

/// The status half: a status write keeps the stored spec and generation.
#[test]
fn status_write_keeps_spec() {
    let mut old = widget();
    old["metadata"]["generation"] = json!(5);
    let mut new = widget();
    new["spec"] = json!({"size": 9});
    new["status"] = json!({"ready": false});
    new["metadata"]["generation"] = json!(6);
    status::prepare_for_status_update(&mut new, &old);
    assert_eq!(new["spec"], json!({"size": 1}));
    assert_eq!(new["status"], json!({"ready": false}));
    assert_eq!(new["metadata"]["generation"], 5);

    let mut old = widget();
    old.as_object_mut().unwrap().remove("spec");
    let mut new = widget();
    new["metadata"]["generation"] = json!(2);
    status::prepare_for_status_update(&mut new, &old);
    assert_eq!(new.get("spec"), None);
    assert_eq!(new["metadata"].get("generation"), None);
}

#[test]
fn kinds_without_status_subresource_keep_client_status() {
    let k = Recorder::default();
    let mut obj = widget();
    run_create(&k, &mut obj, vec![]).unwrap();
    assert_eq!(obj["status"], json!({"ready": true}));
    assert_eq!(obj["metadata"].get("generation"), None);
}
