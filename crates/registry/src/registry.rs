//! The generic registry: create, update, patch, delete, get and list of any kind, driving the
//! kind's strategy inside one store transaction (decode → default → allocate → validate →
//! persist), with kube-apiserver's metadata rules, optimistic concurrency and dry run.

use crate::decode::Decoded;
use crate::kinds::{DeleteAction, Kind, WriteCtx};
use crate::managed;
use crate::runtimes::Runtime;
use crate::store_ext::TxnExt;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use twinstack_core::field::{ErrorList, Path};
use twinstack_core::meta;
use twinstack_core::selector::{FieldSelector, LabelSelector};
use twinstack_core::status::Status;
use twinstack_store::Store;

/// `fieldValidation` (the apiserver's default is `Warn`; the API layer parses and validates it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Strict,
    Warn,
    Ignore,
}

#[derive(Debug, Clone)]
pub struct WriteOptions {
    pub dry_run: bool,
    pub validation: FieldValidation,
    pub manager: String,
    pub force: bool,
}

#[derive(Debug, Clone)]
pub struct WriteResult {
    pub object: Value,
    pub warnings: Vec<String>,
    /// True when the write created the object (201 instead of 200).
    pub created: bool,
}

/// Patch formats accepted on PATCH.
/// The patch a PATCH request carries, by its content type (`application/json-patch+json`,
/// `merge-patch`, `strategic-merge-patch`, `apply-patch+yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Json,
    Merge,
    Strategic,
    Apply,
}

/// A runtime's served kinds, shared by the requests that read them.
pub type ServedKinds = Arc<Vec<Arc<dyn Kind>>>;

pub struct Registry {
    pub store: Store,
    runtimes: RwLock<BTreeMap<String, Arc<Runtime>>>,
    kinds: Vec<Arc<dyn Kind>>,
    /// Each runtime's served kinds: the built-in ones and those of its established CRDs, built
    /// from the store on first use and dropped when a CRD of the runtime is written.
    served: RwLock<BTreeMap<String, (u64, ServedKinds)>>,
    /// Bumped by every CRD write; a runtime's kinds built before the last bump are rebuilt.
    crd_generation: std::sync::atomic::AtomicU64,
    /// The platform's clock (token expiry, binding expiry).
    pub clock: crate::tokens::Clock,
    tokens: crate::tokens::TokenSigner,
}

/// Why a write transaction closure stops without committing: an error for the client, or a
/// dry run that went through everything and must leave nothing behind.
enum Abort {
    Status(Box<Status>),
    DryRun(WriteResult),
    DryRunDelete(Deleted),
}

impl From<Status> for Abort {
    fn from(s: Status) -> Self {
        Abort::Status(Box::new(s))
    }
}

pub use crate::keys::{collection_prefix, now_rfc3339, object_key};

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
}

fn metadata_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = json!({});
    }
    obj["metadata"].as_object_mut().unwrap()
}

/// Characters of generated name suffixes (`utilrand.String`).
const GENERATE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

fn generate_name(base: &str) -> String {
    let base: String = if base.len() > 58 {
        base[..58].to_string()
    } else {
        base.to_string()
    };
    let suffix: String = (0..5)
        .map(|_| {
            GENERATE_ALPHABET[rand::random::<u32>() as usize % GENERATE_ALPHABET.len()] as char
        })
        .collect();
    format!("{base}{suffix}")
}

fn object_meta(obj: &Value) -> k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
    obj.get("metadata")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default()
}

fn name_rule(kind: &dyn Kind) -> meta::NameValidation {
    match kind.info().plural {
        "services" => meta::NameValidation::Dns1035Label,
        "namespaces" => meta::NameValidation::Dns1123Label,
        // ValidateRBACName: `system:controller:x` and the like are valid role names.
        "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings" => {
            meta::NameValidation::PathSegment
        }
        _ => meta::NameValidation::Dns1123Subdomain,
    }
}

/// The strict errors of a decode, in upstream's order: those found in the body's bytes
/// (duplicate fields), then the unknown fields (`unknown field "spec.x"`).
fn strict_errors(body_strict: &[String], unknown: &[String]) -> Vec<String> {
    body_strict
        .iter()
        .cloned()
        .chain(
            unknown
                .iter()
                .map(|f| format!("unknown field {}", twinstack_core::field::go_quote(f))),
        )
        .collect()
}

fn strict_decoding_error(kind: &dyn Kind, errs: &[String]) -> Status {
    Status::bad_request(format!(
        "{k} in version {v:?} cannot be handled as a {k}: strict decoding error: {}",
        errs.join(", "),
        k = kind.info().kind,
        v = kind.info().version
    ))
}

/// Applies `fieldValidation` to the strict errors of a create or update body: Strict refuses
/// with 400, Warn turns each into a `Warning` (a YAML error one per line), Ignore drops them.
fn unknown_fields(
    kind: &dyn Kind,
    body_strict: &[String],
    unknown: &[String],
    v: FieldValidation,
) -> Result<Vec<String>, Status> {
    let errs = strict_errors(body_strict, unknown);
    if errs.is_empty() {
        return Ok(vec![]);
    }
    match v {
        FieldValidation::Strict => Err(strict_decoding_error(kind, &errs)),
        FieldValidation::Warn => Ok(crate::decode::strict_warnings(&errs)),
        FieldValidation::Ignore => Ok(vec![]),
    }
}

/// `applyPatcher`: the apply configuration's duplicate keys (go-yaml's strict errors) refuse an
/// apply under Strict (`error strict decoding YAML: ...`) and warn under Warn.
fn apply_strict_errors(errs: &[String], v: FieldValidation) -> Result<Vec<String>, Status> {
    let errs: Vec<String> = errs
        .iter()
        .map(|e| format!("error converting YAML to JSON: {e}"))
        .collect();
    match v {
        _ if errs.is_empty() => Ok(vec![]),
        FieldValidation::Strict => Err(Status::bad_request(format!(
            "error strict decoding YAML: {}",
            errs.join(", ")
        ))),
        FieldValidation::Warn => Ok(crate::decode::strict_warnings(&errs)),
        FieldValidation::Ignore => Ok(vec![]),
    }
}

/// How the patch handler reports a patched object that does not decode or, under Strict, has
/// strict errors: `NewInvalid(GroupKind{}, "", [field.Invalid("patch", <shown>, err)])`.
fn invalid_patch(shown: &str, err: &str) -> Status {
    Status::invalid_patch(&[twinstack_core::field::FieldError::invalid(
        &Path::new("patch"),
        twinstack_core::field::BadValue::str(shown),
        err,
    )])
}

/// rest.EnsureObjectNamespaceMatchesRequestNamespace with ExpectedNamespaceForResource: a
/// patched object keeps the request's namespace; another one is refused.
fn ensure_namespace(obj: &mut Value, kind: &dyn Kind, ns: Option<&str>) -> Result<(), Status> {
    let info = kind.info();
    let request = if info.namespaced && !(info.group.is_empty() && info.plural == "namespaces") {
        ns.unwrap_or("")
    } else {
        ""
    };
    let have = meta_str(obj, "namespace").unwrap_or("").to_string();
    if have == request {
        return Ok(());
    }
    if have.is_empty() || request.is_empty() {
        let m = metadata_mut(obj);
        if request.is_empty() {
            m.remove("namespace");
        } else {
            m.insert("namespace".into(), Value::String(request.into()));
        }
        return Ok(());
    }
    Err(Status::bad_request(
        "the namespace of the provided object does not match the namespace sent on the request",
    ))
}

/// etcd's default `--max-request-bytes` (1.5 MiB), the largest object kube-apiserver's storage
/// takes. twinstack applies it to the stored JSON.
pub const MAX_OBJECT_BYTES: usize = 1536 * 1024;

/// What etcd answers past [`MAX_OBJECT_BYTES`] (rpctypes `ErrRequestTooLarge`), passed on by
/// kube-apiserver as a plain 500.
pub const REQUEST_TOO_LARGE: &str = "etcdserver: request is too large";

/// The bytes to store for `obj`, within etcd's limit. As the create, update and (non-apply) patch
/// handlers do on `etcdserver: request is too large`, an object over the limit is tried once
/// more without its managedFields (which can be large); `keep_managed` (server-side apply) skips
/// that. A dry run never reaches etcd upstream, so it is not limited (its transaction is thrown
/// away).
fn storage_bytes(obj: &mut Value, keep_managed: bool, dry_run: bool) -> Result<Vec<u8>, Status> {
    let bytes = serde_json::to_vec(obj).map_err(Status::internal)?;
    if bytes.len() <= MAX_OBJECT_BYTES || dry_run {
        return Ok(bytes);
    }
    if keep_managed || obj.pointer("/metadata/managedFields").is_none() {
        return Err(Status::unknown_error(REQUEST_TOO_LARGE));
    }
    metadata_mut(obj).remove("managedFields");
    let bytes = serde_json::to_vec(obj).map_err(Status::internal)?;
    if bytes.len() <= MAX_OBJECT_BYTES {
        Ok(bytes)
    } else {
        Err(Status::unknown_error(REQUEST_TOO_LARGE))
    }
}

fn decode_error(kind: &dyn Kind, e: &str) -> Status {
    Status::bad_request(format!(
        "{k} in version {v:?} cannot be handled as a {k}: {e}",
        k = kind.info().kind,
        v = kind.info().version
    ))
}

/// Checks `apiVersion`/`kind` of a body against the endpoint and fills them when absent.
fn check_type(kind: &dyn Kind, body: &mut Value) -> Result<(), Status> {
    let Some(obj) = body.as_object_mut() else {
        return Err(decode_error(
            kind,
            "json: cannot unmarshal non-object into Go value",
        ));
    };
    let want_av = kind.info().api_version();
    match obj.get("apiVersion").and_then(Value::as_str) {
        None | Some("") => {
            obj.insert("apiVersion".into(), Value::String(want_av.clone()));
        }
        Some(av) if av != want_av => {
            return Err(Status::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({want_av})"
            )))
        }
        _ => {}
    }
    match obj.get("kind").and_then(Value::as_str) {
        None | Some("") => {
            obj.insert("kind".into(), Value::String(kind.info().kind.into()));
        }
        Some(k) if k != kind.info().kind => {
            return Err(Status::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                kind.info().kind
            )))
        }
        _ => {}
    }
    Ok(())
}

impl Registry {
    pub fn new(store: Store, kinds: Vec<Arc<dyn Kind>>) -> Self {
        Registry {
            store,
            runtimes: RwLock::new(BTreeMap::new()),
            kinds,
            served: RwLock::new(BTreeMap::new()),
            crd_generation: std::sync::atomic::AtomicU64::new(0),
            clock: Default::default(),
            tokens: crate::tokens::TokenSigner::random(),
        }
    }

    /// Signs ServiceAccount tokens with `secret` (kept in the data directory, so tokens
    /// outlive a restart as they do on a real cluster).
    pub fn with_token_key(mut self, secret: &[u8]) -> Self {
        self.tokens = crate::tokens::TokenSigner::new(secret);
        self
    }

    pub fn kinds(&self) -> &[Arc<dyn Kind>] {
        &self.kinds
    }

    /// Every kind runtime `rt` serves: the built-in kinds, then one per served version of each
    /// established CustomResourceDefinition of the runtime (preferred version first).
    pub fn kinds_for(&self, rt: &str) -> Arc<Vec<Arc<dyn Kind>>> {
        use std::sync::atomic::Ordering;
        let gen = self.crd_generation.load(Ordering::SeqCst);
        if let Some((g, k)) = self.served.read().unwrap().get(rt) {
            if *g == gen {
                return k.clone();
            }
        }
        let crds = crate::kinds::crd::stored_crds(&self.store, rt);
        let mut all = self.kinds.clone();
        all.extend(crate::kinds::crd::custom_kinds(&crds));
        let all = Arc::new(all);
        self.served
            .write()
            .unwrap()
            .insert(rt.to_string(), (gen, all.clone()));
        all
    }

    /// The kind serving `group`/`version`/`plural` in runtime `rt` (built-in kinds win).
    pub fn kind_for(
        &self,
        rt: &str,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<Arc<dyn Kind>> {
        self.kinds_for(rt)
            .iter()
            .find(|k| {
                let i = k.info();
                i.group == group && i.plural == plural && i.version == version
            })
            .cloned()
    }

    /// After a write of `kind` in `rt`: a CRD write changes what the runtime serves.
    fn written(&self, rt: &str, kind: &dyn Kind) {
        if std::ptr::eq(kind.info(), &crate::kinds::crd::INFO) {
            self.crd_generation
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.served.write().unwrap().remove(rt);
        }
    }

    pub fn kind(&self, group: &str, plural: &str) -> Option<Arc<dyn Kind>> {
        self.kinds
            .iter()
            .find(|k| k.info().group == group && k.info().plural == plural)
            .cloned()
    }

    pub fn runtime(&self, name: &str) -> Option<Arc<Runtime>> {
        self.runtimes.read().unwrap().get(name).cloned()
    }

    pub fn runtimes(&self) -> Vec<Arc<Runtime>> {
        self.runtimes.read().unwrap().values().cloned().collect()
    }

    pub fn remove_runtime(&self, name: &str) {
        self.runtimes.write().unwrap().remove(name);
        self.served.write().unwrap().remove(name);
    }

    pub fn insert_runtime(&self, rt: Arc<Runtime>) {
        self.runtimes
            .write()
            .unwrap()
            .insert(rt.name().to_string(), rt);
    }

    /// Finds the runtime a bearer token belongs to: a runtime's admin token, or a bound
    /// ServiceAccount token that is within its lifetime and whose ServiceAccount (same UID)
    /// still exists (kube-apiserver's `serviceaccount.validator.Validate`).
    pub fn runtime_for_token(&self, token: &str) -> Option<Arc<Runtime>> {
        if token.contains('.') {
            return self.runtime_for_service_account_token(token);
        }
        self.runtimes
            .read()
            .unwrap()
            .values()
            .find(|r| crate::runtimes::token_eq(&r.record.token, token))
            .cloned()
    }

    fn runtime_for_service_account_token(&self, token: &str) -> Option<Arc<Runtime>> {
        let claims = self.tokens.verify(token)?;
        if !claims.valid_at(self.clock.now()) {
            return None;
        }
        let rt = self.runtime(&claims.runtime)?;
        let kind = self.kind("", "serviceaccounts")?;
        let sa = &claims.kubernetes;
        let key = object_key(
            rt.name(),
            kind.as_ref(),
            Some(&sa.namespace),
            &sa.serviceaccount.name,
        );
        let stored: Value = serde_json::from_slice(&self.store.get(&key).ok()??.value).ok()?;
        let live = meta_str(&stored, "uid") == Some(sa.serviceaccount.uid.as_str())
            && stored.pointer("/metadata/deletionTimestamp").is_none();
        live.then_some(rt)
    }

    /// `TokenRequest` (`POST .../serviceaccounts/<name>/token`, upstream `TokenREST.Create`):
    /// a bound token for an existing ServiceAccount, valid for `expiration_seconds` (default
    /// one hour, at least ten minutes, cut down to the maximum). Returns the token and its
    /// expiry in Unix seconds.
    pub fn request_token(
        &self,
        rt: &Runtime,
        namespace: &str,
        name: &str,
        expiration_seconds: Option<i64>,
    ) -> Result<(String, i64), Status> {
        use crate::tokens::*;
        let seconds = expiration_seconds.unwrap_or(DEFAULT_EXPIRATION_SECONDS);
        if let Some(msg) = validate_expiration_seconds(seconds) {
            let err = twinstack_core::field::FieldError::invalid(
                &Path::new("spec").child("expirationSeconds"),
                twinstack_core::field::BadValue::Plain(seconds.to_string()),
                msg,
            );
            let subject = twinstack_core::status::Subject {
                group: "authentication.k8s.io",
                resource: "token",
                kind: "TokenRequest",
            };
            return Err(Status::invalid(name, subject, &[err]));
        }
        let seconds = seconds.min(MAX_EXPIRATION_SECONDS);
        let kind = self
            .kind("", "serviceaccounts")
            .ok_or_else(Status::path_not_found)?;
        let sa = self.get(rt, kind.as_ref(), Some(namespace), name)?;
        let uid = meta_str(&sa, "uid").unwrap_or_default();
        let now = self.clock.now();
        let claims = Claims::new(rt.name(), namespace, name, uid, now, seconds);
        Ok((self.tokens.sign(&claims), claims.exp))
    }

    fn decorate(&self, rt: &Runtime, kind: &dyn Kind, mut obj: Value) -> Value {
        kind.on_read(rt, &mut obj);
        obj
    }

    /// A stored object as the API serves it (read defaulting applied).
    pub fn read_stored(
        &self,
        rt: &Runtime,
        kind: &dyn Kind,
        bytes: &[u8],
    ) -> Result<Value, Status> {
        let v: Value = serde_json::from_slice(bytes).map_err(Status::internal)?;
        Ok(self.decorate(rt, kind, v))
    }

    /// GET of one object.
    pub fn get(
        &self,
        rt: &Runtime,
        kind: &dyn Kind,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Value, Status> {
        let key = object_key(rt.name(), kind, ns, name);
        match self.store.get(&key).map_err(Status::internal)? {
            Some(kv) => {
                let v: Value = serde_json::from_slice(&kv.value).map_err(Status::internal)?;
                Ok(self.decorate(rt, kind, v))
            }
            None => Err(Status::not_found(name, kind.info().subject())),
        }
    }

    /// The stored bytes of a collection at one revision. Stored objects are read-defaulted when
    /// written, so they can be served as they are.
    pub fn list_raw(
        &self,
        rt: &Runtime,
        kind: &dyn Kind,
        ns: Option<&str>,
    ) -> Result<(Vec<twinstack_store::KeyValue>, u64), Status> {
        let prefix = collection_prefix(rt.name(), kind, ns);
        self.store.list(&prefix).map_err(Status::internal)
    }

    /// All objects of a collection at one revision.
    pub fn list(
        &self,
        rt: &Runtime,
        kind: &dyn Kind,
        ns: Option<&str>,
    ) -> Result<(Vec<Value>, u64), Status> {
        let prefix = collection_prefix(rt.name(), kind, ns);
        let (kvs, rev) = self.store.list(&prefix).map_err(Status::internal)?;
        let mut out = Vec::with_capacity(kvs.len());
        for kv in kvs {
            // A namespaced prefix of all namespaces must not match deeper keys of other kinds.
            let v: Value = serde_json::from_slice(&kv.value).map_err(Status::internal)?;
            out.push(self.decorate(rt, kind, v));
        }
        Ok((out, rev))
    }

    fn namespace_must_exist(
        txn: &mut dyn TxnExt,
        rt: &Runtime,
        kind: &dyn Kind,
        ns: Option<&str>,
        creating: bool,
    ) -> Result<(), Status> {
        let Some(ns) = ns.filter(|_| kind.info().namespaced) else {
            return Ok(());
        };
        let key = format!("/registry/{}/namespaces/{ns}", rt.name());
        match txn.get_json(&key) {
            None => Err(Status::not_found(ns, crate::kinds::namespace::INFO.subject())),
            Some(n) if creating && n.pointer("/metadata/deletionTimestamp").is_some() => Err(Status::forbidden(
                meta_str(&n, "name").unwrap_or(ns),
                kind.info().subject(),
                &format!("unable to create new content in namespace {ns} because it is being terminated"),
            )),
            Some(_) => Ok(()),
        }
    }

    /// POST: creates an object in `ns` from a request body.
    pub async fn create(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        body: Value,
        opts: WriteOptions,
    ) -> Result<WriteResult, Status> {
        self.create_decoded(rt, kind, ns, Decoded::plain(body), opts)
            .await
    }

    /// POST of a decoded request body, whose strict errors (duplicate fields) count with the
    /// unknown fields under `fieldValidation`.
    pub async fn create_decoded(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        body: Decoded,
        opts: WriteOptions,
    ) -> Result<WriteResult, Status> {
        let (obj, warnings) =
            decode_body(kind.as_ref(), body, ns.as_deref(), None, opts.validation)?;
        // Field ownership depends only on the object as sent, so it is computed here rather
        // than on the store's single writer thread.
        let managed_fields = initial_managed_fields(kind.info(), &obj, &opts.manager);
        let (rt_name, written_kind) = (rt.name().to_string(), kind.clone());
        let res = self
            .store
            .txn(move |txn| -> Result<WriteResult, Abort> {
                let txn: &mut dyn TxnExt = txn;
                let r = create_in_txn(
                    txn,
                    &rt,
                    kind.as_ref(),
                    ns.as_deref(),
                    obj,
                    &opts,
                    managed_fields,
                )?;
                conclude(r, warnings, opts.dry_run)
            })
            .await;
        let r = finish(res);
        if r.is_ok() {
            self.written(&rt_name, written_kind.as_ref());
        }
        r
    }

    /// PUT: replaces an object.
    pub async fn update(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        name: String,
        body: Value,
        opts: WriteOptions,
    ) -> Result<WriteResult, Status> {
        self.update_decoded(rt, kind, ns, name, Decoded::plain(body), opts)
            .await
    }

    /// PUT of a decoded request body (see [`Registry::create_decoded`]).
    pub async fn update_decoded(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        name: String,
        body: Decoded,
        opts: WriteOptions,
    ) -> Result<WriteResult, Status> {
        let (obj, warnings) = decode_body(
            kind.as_ref(),
            body,
            ns.as_deref(),
            Some(&name),
            opts.validation,
        )?;
        let (rt_name, written_kind) = (rt.name().to_string(), kind.clone());
        let res = self
            .store
            .txn(move |txn| -> Result<WriteResult, Abort> {
                let txn: &mut dyn TxnExt = txn;
                let key = object_key(rt.name(), kind.as_ref(), ns.as_deref(), &name);
                let Some(old) = txn.get_json(&key) else {
                    return Err(Status::not_found(&name, kind.info().subject()).into());
                };
                let r = update_in_txn(txn, &rt, kind.as_ref(), &key, obj, old, &opts, "Update")?;
                conclude(r, warnings, opts.dry_run)
            })
            .await;
        let r = finish(res);
        if r.is_ok() {
            self.written(&rt_name, written_kind.as_ref());
        }
        r
    }

    /// PATCH in any of the four patch formats; an apply patch creates a missing object.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        name: String,
        ptype: PatchType,
        patch: Value,
        opts: WriteOptions,
    ) -> Result<WriteResult, Status> {
        self.patch_decoded(rt, kind, ns, name, ptype, Decoded::plain(patch), opts)
            .await
    }

    /// PATCH with the strict errors the patch body's decoding found (duplicate fields, a JSON
    /// patch's unknown operation fields), handled as the apiserver's patcher does: warnings under
    /// Warn; under Strict a 422 once the patch has applied (400 for an apply patch).
    #[allow(clippy::too_many_arguments)]
    pub async fn patch_decoded(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        name: String,
        ptype: PatchType,
        patch: Decoded,
        opts: WriteOptions,
    ) -> Result<WriteResult, Status> {
        if ptype == PatchType::Apply && opts.manager.is_empty() {
            return Err(Status::invalid_options(
                "PatchOptions",
                &[twinstack_core::field::FieldError::required(
                    &Path::new("fieldManager"),
                    "is required for apply patch",
                )],
            ));
        }
        let Decoded {
            value: patch,
            strict_errors: patch_strict,
        } = patch;
        let (rt_name, written_kind) = (rt.name().to_string(), kind.clone());
        let res = self
            .store
            .txn(move |txn| -> Result<WriteResult, Abort> {
                let txn: &mut dyn TxnExt = txn;
                let key = object_key(rt.name(), kind.as_ref(), ns.as_deref(), &name);
                let current = txn.get_json(&key);
                let Some(old) = current else {
                    if ptype != PatchType::Apply {
                        return Err(Status::not_found(&name, kind.info().subject()).into());
                    }
                    // Server-side apply of a missing object creates it.
                    let mut body = patch.clone();
                    check_type(kind.as_ref(), &mut body)?;
                    if meta_str(&body, "name").is_none() {
                        metadata_mut(&mut body).insert("name".into(), Value::String(name.clone()));
                    }
                    let applied = managed::apply(
                        kind.info(),
                        None,
                        &body,
                        &opts.manager,
                        opts.force,
                        &now_rfc3339(),
                    )?;
                    let mut warnings = apply_strict_errors(&patch_strict, opts.validation)?;
                    let (mut obj, unknown) = kind
                        .decode(&applied)
                        .map_err(|e| decode_error(kind.as_ref(), &e))?;
                    warnings.extend(unknown_fields(
                        kind.as_ref(),
                        &[],
                        &unknown,
                        opts.validation,
                    )?);
                    ensure_namespace(&mut obj, kind.as_ref(), ns.as_deref())?;
                    let managed_fields = obj.pointer("/metadata/managedFields").cloned();
                    let r = create_in_txn(
                        txn,
                        &rt,
                        kind.as_ref(),
                        ns.as_deref(),
                        obj,
                        &opts,
                        managed_fields,
                    )?;
                    return conclude(r, warnings, opts.dry_run);
                };
                let patched = match ptype {
                    PatchType::Json => {
                        twinstack_core::patch::json_patch(&old, &patch).map_err(patch_error)?
                    }
                    PatchType::Merge => {
                        twinstack_core::patch::merge_patch(&old, &patch).map_err(patch_error)?
                    }
                    PatchType::Strategic => twinstack_core::patch::strategic_merge_patch(
                        &old,
                        &patch,
                        twinstack_core::patch::PatchKind::from_kind(kind.info().kind),
                    )
                    .map_err(patch_error)?,
                    PatchType::Apply => {
                        let mut body = patch.clone();
                        check_type(kind.as_ref(), &mut body)?;
                        let (cfg, unknown) = kind
                            .decode(&body)
                            .map_err(|e| decode_error(kind.as_ref(), &e))?;
                        unknown_fields(kind.as_ref(), &[], &unknown, opts.validation)?;
                        let _ = cfg;
                        managed::apply(
                            kind.info(),
                            Some(&old),
                            &body,
                            &opts.manager,
                            opts.force,
                            &now_rfc3339(),
                        )?
                    }
                };
                // The value the patcher's 422s show: the patched object as JSON, or Go's `%+v`
                // of a strategic merge patch (`applyPatchToObject`). Only built on error.
                let shown = |patched: &Value| match ptype {
                    PatchType::Strategic => twinstack_core::patch::go_fmt(&patch),
                    _ => serde_json::to_string(patched).unwrap_or_default(),
                };
                let (mut obj, warnings) = if ptype == PatchType::Apply {
                    let mut warnings = apply_strict_errors(&patch_strict, opts.validation)?;
                    let (obj, unknown) = kind
                        .decode(&patched)
                        .map_err(|e| decode_error(kind.as_ref(), &e))?;
                    warnings.extend(unknown_fields(
                        kind.as_ref(),
                        &[],
                        &unknown,
                        opts.validation,
                    )?);
                    (obj, warnings)
                } else {
                    // The patcher decodes the patched object; its failures are 422s on `patch`.
                    let (obj, unknown) = kind
                        .decode(&patched)
                        .map_err(|e| Abort::from(invalid_patch(&shown(&patched), &e)))?;
                    let errs = strict_errors(&patch_strict, &unknown);
                    let warnings = match opts.validation {
                        _ if errs.is_empty() => vec![],
                        FieldValidation::Strict => {
                            let msg = format!("strict decoding error: {}", errs.join(", "));
                            return Err(invalid_patch(&shown(&patched), &msg).into());
                        }
                        FieldValidation::Warn => crate::decode::strict_warnings(&errs),
                        FieldValidation::Ignore => vec![],
                    };
                    (obj, warnings)
                };
                ensure_namespace(&mut obj, kind.as_ref(), ns.as_deref())?;
                if meta_str(&obj, "name") != Some(name.as_str()) {
                    return Err(Status::bad_request(format!(
                        "the name of the object ({}) does not match the name on the URL ({name})",
                        meta_str(&obj, "name").unwrap_or("")
                    ))
                    .into());
                }
                let op = if ptype == PatchType::Apply {
                    "Apply"
                } else {
                    "Update"
                };
                let r = update_in_txn(txn, &rt, kind.as_ref(), &key, obj, old, &opts, op)?;
                conclude(r, warnings, opts.dry_run)
            })
            .await;
        let r = finish(res);
        if r.is_ok() {
            self.written(&rt_name, written_kind.as_ref());
        }
        r
    }

    /// DELETE of one object, with optional preconditions: the object the API answers with.
    pub async fn delete(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        name: String,
        pre: Preconditions,
        dry_run: bool,
    ) -> Result<Value, Status> {
        self.delete_object(rt, kind, ns, name, pre, dry_run)
            .await
            .map(|d| d.object)
    }

    /// DELETE of one object (genericregistry `Store.Delete`): removed at once, or kept while
    /// graceful deletion or finalizers hold it. [`Deleted::deleted`] tells which.
    pub async fn delete_object(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        name: String,
        pre: Preconditions,
        dry_run: bool,
    ) -> Result<Deleted, Status> {
        let (rt_name, written_kind) = (rt.name().to_string(), kind.clone());
        let kinds: Vec<Arc<dyn Kind>> = self.kinds_for(rt.name()).as_ref().clone();
        let res = self
            .store
            .txn(move |txn| -> Result<Deleted, Abort> {
                let txn: &mut dyn TxnExt = txn;
                let key = object_key(rt.name(), kind.as_ref(), ns.as_deref(), &name);
                let Some(old) = txn.get_json(&key) else {
                    return Err(Status::not_found(&name, kind.info().subject()).into());
                };
                let d = delete_in_txn(txn, &rt, &kinds, kind.as_ref(), &key, old, &pre)?;
                if dry_run {
                    return Err(Abort::DryRunDelete(d));
                }
                Ok(d)
            })
            .await;
        if res.is_ok() {
            self.written(&rt_name, written_kind.as_ref());
        }
        match res {
            Ok(c) => Ok(c.value),
            Err(twinstack_store::TxnError::Aborted(Abort::DryRunDelete(d))) => Ok(d),
            Err(e) => finish(Err(e)).map(|r| Deleted {
                object: r.object,
                deleted: false,
            }),
        }
    }

    /// DELETE of a collection (genericregistry `Store.DeleteCollection`): every object of the
    /// collection that the selectors match is deleted as one DELETE would, and the answer is
    /// the list as it was read before (`<Kind>List`), as upstream returns `listObj`.
    #[allow(clippy::too_many_arguments)]
    pub async fn delete_collection(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        labels: Option<twinstack_core::selector::LabelSelector>,
        fields: Option<twinstack_core::selector::FieldSelector>,
        pre: Preconditions,
        dry_run: bool,
    ) -> Result<Value, Status> {
        let (rt_name, written_kind) = (rt.name().to_string(), kind.clone());
        let kinds: Vec<Arc<dyn Kind>> = self.kinds_for(rt.name()).as_ref().clone();
        let res = self
            .store
            .txn(move |txn| -> Result<WriteResult, Abort> {
                let txn: &mut dyn TxnExt = txn;
                let list_rv = txn.revision().saturating_sub(1).to_string();
                let prefix = collection_prefix(rt.name(), kind.as_ref(), ns.as_deref());
                let mut items = Vec::new();
                for (key, raw) in txn.scan(&prefix) {
                    let Ok(mut old) = serde_json::from_slice::<Value>(&raw) else {
                        continue;
                    };
                    kind.on_read(&rt, &mut old);
                    if !matches(kind.as_ref(), &old, &labels, &fields) {
                        continue;
                    }
                    // Deleting a namespace's object may already have removed this one.
                    if txn.get_raw(&key).is_none() {
                        continue;
                    }
                    items.push(old.clone());
                    match delete_in_txn(txn, &rt, &kinds, kind.as_ref(), &key, old, &pre) {
                        Ok(_) => {}
                        // Upstream skips objects that are gone by the time it deletes them.
                        Err(Abort::Status(s)) if s.code == 404 => {}
                        Err(e) => return Err(e),
                    }
                }
                let info = kind.info();
                let list = json!({
                    "kind": format!("{}List", info.kind),
                    "apiVersion": info.api_version(),
                    "metadata": {"resourceVersion": list_rv},
                    "items": items,
                });
                let r = WriteResult {
                    object: list,
                    warnings: vec![],
                    created: false,
                };
                if dry_run {
                    return Err(Abort::DryRun(r));
                }
                Ok(r)
            })
            .await;
        let r = finish(res).map(|r| r.object);
        if r.is_ok() {
            self.written(&rt_name, written_kind.as_ref());
        }
        r
    }

    /// Creates an object on the server's own behalf (bootstrap), outside any request.
    pub async fn create_system(
        &self,
        rt: Arc<Runtime>,
        kind: Arc<dyn Kind>,
        ns: Option<String>,
        body: Value,
    ) -> Result<Value, Status> {
        let opts = WriteOptions {
            dry_run: false,
            validation: FieldValidation::Strict,
            manager: "twinstack".into(),
            force: false,
        };
        self.create(rt, kind, ns, body, opts)
            .await
            .map(|r| r.object)
    }
}

/// DELETE preconditions (`DeleteOptions.preconditions`).
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    /// `DeleteOptions.gracePeriodSeconds` (graceful deletion of pods).
    pub grace_period_seconds: Option<i64>,
    /// `DeleteOptions.propagationPolicy`: `Orphan` strips the owner from its dependents;
    /// `Background` and `Foreground` leave them to the garbage collector.
    pub propagation_policy: Option<String>,
}

impl Preconditions {
    fn check(&self, old: &Value, name: &str, kind: &dyn Kind) -> Result<(), Status> {
        if let Some(uid) = &self.uid {
            let have = meta_str(old, "uid").unwrap_or("");
            if uid != have {
                return Err(Status::conflict(
                    name,
                    kind.info().subject(),
                    &format!("Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"),
                ));
            }
        }
        if let Some(rv) = &self.resource_version {
            let have = meta_str(old, "resourceVersion").unwrap_or("");
            if rv != have {
                return Err(Status::conflict(
                    name,
                    kind.info().subject(),
                    &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {have}"),
                ));
            }
        }
        Ok(())
    }
}

/// The outcome of a DELETE: the object the API answers with, and whether the object is gone
/// (`wasDeleted` of upstream's handler) or still kept by graceful deletion or finalizers.
#[derive(Debug, Clone)]
pub struct Deleted {
    pub object: Value,
    pub deleted: bool,
}

fn has_finalizers(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| !f.is_empty())
}

/// genericregistry `markAsDeleting`: an object without graceful deletion that finalizers keep
/// gets `deletionTimestamp` (kept when already set), `deletionGracePeriodSeconds: 0` and, the
/// first time, a generation bump.
fn mark_as_deleting(obj: &mut Value) {
    let first = obj.pointer("/metadata/deletionTimestamp").is_none();
    let m = metadata_mut(obj);
    if first {
        if let Some(g) = m
            .get("generation")
            .and_then(Value::as_i64)
            .filter(|g| *g > 0)
        {
            m.insert("generation".into(), json!(g + 1));
        }
        m.insert("deletionTimestamp".into(), Value::String(now_rfc3339()));
    }
    m.insert("deletionGracePeriodSeconds".into(), json!(0));
}

/// Writes `obj` under a new resourceVersion when it differs from `old` (an unchanged object is
/// not written, as etcd3's GuaranteedUpdate), and answers with it.
fn keep_for_deletion(txn: &mut dyn TxnExt, key: &str, old: &Value, mut obj: Value) -> Deleted {
    if &obj != old {
        let rv = txn.revision().to_string();
        metadata_mut(&mut obj).insert("resourceVersion".into(), Value::String(rv));
        txn.put_json(key, &obj);
    }
    Deleted {
        object: obj,
        deleted: false,
    }
}

/// One object's deletion inside a transaction (genericregistry `Store.Delete`): preconditions,
/// `Orphan` propagation, the kind's graceful deletion, pending finalizers, and the removal with
/// what the object holds. The answer is the object when the store keeps it or the resource
/// storage sets `ReturnDeletedObject` ([`Kind::delete_returns_object`]), else a Success
/// `Status` (`finalizeDelete`).
fn delete_in_txn(
    txn: &mut dyn TxnExt,
    rt: &Runtime,
    kinds: &[Arc<dyn Kind>],
    kind: &dyn Kind,
    key: &str,
    old: Value,
    pre: &Preconditions,
) -> Result<Deleted, Abort> {
    let name = meta_str(&old, "name").unwrap_or("").to_string();
    pre.check(&old, &name, kind)?;
    if pre.propagation_policy.as_deref() == Some("Orphan") {
        orphan_dependents(txn, rt, kinds, kind, &old);
    }
    let is_namespace = kind.info().plural == "namespaces";
    match kind.before_delete(&old, pre.grace_period_seconds)? {
        DeleteAction::Remove => {}
        DeleteAction::Unchanged => {
            return Ok(Deleted {
                object: old,
                deleted: false,
            })
        }
        DeleteAction::Keep(o) => return Ok(keep_for_deletion(txn, key, &old, o)),
    }
    let mut cx = WriteCtx {
        txn: &mut *txn,
        rt,
        warnings: Vec::new(),
    };
    kind.delete(&mut cx, &old)?;
    if is_namespace {
        delete_namespace_contents(txn, rt, kinds, &name)?;
    }
    if has_finalizers(&old) {
        // Pending finalizers keep any object (`updateForGracefulDeletionAndFinalizers`); the
        // answer is then the object itself, whatever the resource's ReturnDeletedObject says.
        let mut o = old.clone();
        mark_as_deleting(&mut o);
        if is_namespace {
            o["status"] = json!({"phase": "Terminating"});
        }
        return Ok(keep_for_deletion(txn, key, &old, o));
    }
    txn.delete_raw(key);
    let object = if kind.delete_returns_object() {
        let mut o = old;
        if kind.info().plural == "pods" {
            // A pod deleted at once went through the graceful update with a zero grace period
            // first (`BeforeDelete`), so the answer carries it.
            let m = metadata_mut(&mut o);
            m.entry("deletionTimestamp")
                .or_insert_with(|| Value::String(now_rfc3339()));
            m.insert("deletionGracePeriodSeconds".into(), json!(0));
        }
        if is_namespace {
            // The namespace registry's Delete answers the namespace it marked Terminating; the
            // namespace controller's work happened in this transaction.
            metadata_mut(&mut o)
                .entry("deletionTimestamp")
                .or_insert_with(|| Value::String(now_rfc3339()));
            o["status"] = json!({"phase": "Terminating"});
        }
        o
    } else {
        let uid = meta_str(&old, "uid").map(String::from);
        serde_json::to_value(Status::success(&name, kind.info().subject(), uid))
            .map_err(Status::internal)?
    };
    Ok(Deleted {
        object,
        deleted: true,
    })
}

/// What POST (`name` `None`) and PUT do with a request body before the transaction: its kind,
/// its name and namespace against the URL's, decoding, and the unknown and duplicate fields
/// under `fieldValidation`. Returns the decoded object and the decoding warnings.
fn decode_body(
    kind: &dyn Kind,
    body: Decoded,
    ns: Option<&str>,
    name: Option<&str>,
    validation: FieldValidation,
) -> Result<(Value, Vec<String>), Status> {
    let Decoded {
        value: mut body,
        strict_errors: body_strict,
    } = body;
    check_type(kind, &mut body)?;
    if let (Some(name), Some(bname)) = (name, meta_str(&body, "name")) {
        if bname != name {
            return Err(Status::bad_request(format!(
                "the name of the object ({bname}) does not match the name on the URL ({name})"
            )));
        }
    }
    if let (Some(ns), Some(bns)) = (ns, meta_str(&body, "namespace")) {
        if !bns.is_empty() && bns != ns && kind.info().namespaced {
            return Err(Status::bad_request("the namespace of the provided object does not match the namespace sent on the request"));
        }
    }
    let (obj, unknown) = kind.decode(&body).map_err(|e| decode_error(kind, &e))?;
    let warnings = unknown_fields(kind, &body_strict, &unknown, validation)?;
    Ok((obj, warnings))
}

/// Puts the decoding warnings first and turns a dry run into an abort that commits nothing.
fn conclude(
    mut r: WriteResult,
    warnings: Vec<String>,
    dry_run: bool,
) -> Result<WriteResult, Abort> {
    r.warnings.splice(0..0, warnings);
    if dry_run {
        return Err(Abort::DryRun(r));
    }
    Ok(r)
}

fn patch_error(e: twinstack_core::patch::PatchError) -> Abort {
    Abort::Status(Box::new(e.to_status()))
}

fn finish(
    res: Result<twinstack_store::Committed<WriteResult>, twinstack_store::TxnError<Abort>>,
) -> Result<WriteResult, Status> {
    match res {
        Ok(c) => Ok(c.value),
        Err(twinstack_store::TxnError::Aborted(Abort::DryRun(r))) => Ok(r),
        Err(twinstack_store::TxnError::Aborted(Abort::DryRunDelete(d))) => Ok(WriteResult {
            object: d.object,
            warnings: vec![],
            created: false,
        }),
        Err(twinstack_store::TxnError::Aborted(Abort::Status(s))) => Err(*s),
        Err(twinstack_store::TxnError::Store(e)) => Err(Status::internal(e)),
        Err(twinstack_store::TxnError::Panicked(m)) => {
            Err(Status::internal(format!("request handling panicked: {m}")))
        }
    }
}

/// managedFields of a new object created by `manager` with an Update operation. They are
/// computed on the object as the client sent it (decoded and defaulted), before allocation, as
/// upstream's fieldmanager does, so allocated values belong to nobody.
fn initial_managed_fields(
    info: &crate::kinds::ResourceInfo,
    obj: &Value,
    manager: &str,
) -> Option<Value> {
    let mf = managed::for_create(info, obj, manager, &now_rfc3339());
    mf.as_array().is_some_and(|a| !a.is_empty()).then_some(mf)
}

fn create_in_txn(
    txn: &mut dyn TxnExt,
    rt: &Runtime,
    kind: &dyn Kind,
    ns: Option<&str>,
    mut obj: Value,
    opts: &WriteOptions,
    managed_fields: Option<Value>,
) -> Result<WriteResult, Abort> {
    if let Some(rv) = meta_str(&obj, "resourceVersion").filter(|rv| !rv.is_empty()) {
        let _ = rv;
        let mut s = Status::internal("resourceVersion should not be set on objects to be created");
        s.message = "resourceVersion should not be set on objects to be created".into();
        s.reason = String::new();
        s.details = None;
        return Err(s.into());
    }
    Registry::namespace_must_exist(txn, rt, kind, ns, true)?;
    let now = now_rfc3339();
    {
        let m = metadata_mut(&mut obj);
        let name_empty = m
            .get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty);
        if name_empty {
            if let Some(g) = m
                .get("generateName")
                .and_then(Value::as_str)
                .filter(|g| !g.is_empty())
            {
                let n = generate_name(g);
                m.insert("name".into(), Value::String(n));
            }
        }
        if kind.info().namespaced {
            m.insert(
                "namespace".into(),
                Value::String(ns.unwrap_or("default").to_string()),
            );
        } else {
            m.remove("namespace");
        }
        m.insert(
            "uid".into(),
            Value::String(uuid::Uuid::new_v4().to_string()),
        );
        m.insert("creationTimestamp".into(), Value::String(now.clone()));
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        m.remove("selfLink");
        m.remove("generation");
    }
    let name = meta_str(&obj, "name").unwrap_or("").to_string();
    let meta_errs: ErrorList = meta::validate_object_meta(
        &object_meta(&obj),
        kind.info().namespaced,
        name_rule(kind),
        &Path::new("metadata"),
    );
    let key = object_key(rt.name(), kind, ns, &name);
    // Upstream validates before it learns the name is taken, but a name that does not validate
    // cannot exist either, so checking existence first changes no answer.
    if meta_errs.is_empty() && txn.get_raw(&key).is_some() {
        return Err(Status::already_exists(&name, kind.info().subject()).into());
    }
    let mut cx = WriteCtx {
        txn: &mut *txn,
        rt,
        warnings: Vec::new(),
    };
    let warnings = crate::strategy::create(kind, &mut cx, &mut obj, meta_errs)?;
    match managed_fields {
        Some(mf) => {
            metadata_mut(&mut obj).insert("managedFields".into(), mf);
        }
        None => {
            metadata_mut(&mut obj).remove("managedFields");
        }
    }
    let rv = txn.revision().to_string();
    metadata_mut(&mut obj).insert("resourceVersion".into(), Value::String(rv));
    // Stored objects are already read-defaulted, so lists can serve the stored bytes as they are.
    kind.on_read(rt, &mut obj);
    let bytes = storage_bytes(&mut obj, false, opts.dry_run)?;
    txn.put_raw(&key, bytes);
    if opts.dry_run {
        metadata_mut(&mut obj).remove("resourceVersion");
    }
    Ok(WriteResult {
        object: obj,
        warnings,
        created: true,
    })
}

#[allow(clippy::too_many_arguments)]
fn update_in_txn(
    txn: &mut dyn TxnExt,
    rt: &Runtime,
    kind: &dyn Kind,
    key: &str,
    mut new: Value,
    mut old: Value,
    opts: &WriteOptions,
    operation: &str,
) -> Result<WriteResult, Abort> {
    kind.on_read(rt, &mut old);
    let name = meta_str(&old, "name").unwrap_or("").to_string();
    let old_rv = meta_str(&old, "resourceVersion").unwrap_or("").to_string();
    if let Some(rv) = meta_str(&new, "resourceVersion").filter(|rv| !rv.is_empty()) {
        if rv != old_rv {
            return Err(
                Status::conflict(&name, kind.info().subject(), Status::OPTIMISTIC_LOCK).into(),
            );
        }
    }
    {
        // System fields cannot be changed by an update (rest.BeforeUpdate).
        let om = old.get("metadata").cloned().unwrap_or(json!({}));
        let m = metadata_mut(&mut new);
        for f in [
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ] {
            match om.get(f) {
                Some(v) => {
                    m.insert(f.into(), v.clone());
                }
                None => {
                    m.remove(f);
                }
            }
        }
        if m.get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            if let Some(uid) = om.get("uid") {
                m.insert("uid".into(), uid.clone());
            }
        }
        if kind.info().namespaced {
            if let Some(ns) = om.get("namespace") {
                m.insert("namespace".into(), ns.clone());
            }
        }
        m.insert("resourceVersion".into(), Value::String(old_rv.clone()));
    }
    let mut meta_errs = meta::validate_object_meta_update(
        &object_meta(&new),
        &object_meta(&old),
        &Path::new("metadata"),
    );
    if meta_errs.is_empty() {
        meta_errs = meta::validate_object_meta(
            &object_meta(&new),
            kind.info().namespaced,
            name_rule(kind),
            &Path::new("metadata"),
        );
    }
    let now = now_rfc3339();
    let managed_fields = if operation == "Update" {
        let mut tracked = new.clone();
        managed::track_update(kind.info(), Some(&old), &mut tracked, &opts.manager, &now);
        tracked.pointer("/metadata/managedFields").cloned()
    } else {
        new.pointer("/metadata/managedFields").cloned()
    };
    let mut cx = WriteCtx {
        txn: &mut *txn,
        rt,
        warnings: Vec::new(),
    };
    let warnings = crate::strategy::update(kind, &mut cx, &mut new, &old, meta_errs)?;
    match managed_fields {
        Some(mf) => {
            metadata_mut(&mut new).insert("managedFields".into(), mf);
        }
        None => {
            metadata_mut(&mut new).remove("managedFields");
        }
    }
    if should_delete_during_update(&new, &old) {
        return delete_without_finalizers(txn, rt, kind, key, &old, new);
    }
    // An update that changes nothing is not written (etcd3 GuaranteedUpdate): no new
    // resourceVersion, no watch event.
    let mut cmp_new = new.clone();
    let mut cmp_old = old.clone();
    for v in [&mut cmp_new, &mut cmp_old] {
        if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("managedFields");
            m.remove("resourceVersion");
        }
    }
    if cmp_new == cmp_old {
        return Ok(WriteResult {
            object: old,
            warnings,
            created: false,
        });
    }
    let rv = txn.revision().to_string();
    metadata_mut(&mut new).insert("resourceVersion".into(), Value::String(rv));
    kind.on_read(rt, &mut new);
    let bytes = storage_bytes(&mut new, operation == "Apply", opts.dry_run)?;
    txn.put_raw(key, bytes);
    if opts.dry_run {
        metadata_mut(&mut new).insert("resourceVersion".into(), Value::String(old_rv));
    }
    Ok(WriteResult {
        object: new,
        warnings,
        created: false,
    })
}

/// genericregistry `shouldDeleteDuringUpdate`: an update that takes the last finalizer off an
/// object whose deletion was requested without a grace period deletes it.
fn should_delete_during_update(new: &Value, old: &Value) -> bool {
    !has_finalizers(new)
        && old.pointer("/metadata/deletionTimestamp").is_some()
        && old
            .pointer("/metadata/deletionGracePeriodSeconds")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            == 0
}

/// genericregistry `deleteWithoutFinalizers`: the update becomes the deletion. The answer is
/// the updated object ("clients are expecting an updated object if a PUT succeeded").
fn delete_without_finalizers(
    txn: &mut dyn TxnExt,
    rt: &Runtime,
    kind: &dyn Kind,
    key: &str,
    old: &Value,
    new: Value,
) -> Result<WriteResult, Abort> {
    let mut cx = WriteCtx {
        txn: &mut *txn,
        rt,
        warnings: Vec::new(),
    };
    kind.delete(&mut cx, old)?;
    txn.delete_raw(key);
    Ok(WriteResult {
        object: new,
        warnings: vec![],
        created: false,
    })
}

/// The namespace controller's work, done at once: every object in the namespace is removed,
/// releasing what it holds.
fn delete_namespace_contents(
    txn: &mut dyn TxnExt,
    rt: &Runtime,
    kinds: &[Arc<dyn Kind>],
    ns: &str,
) -> Result<(), Status> {
    for kind in kinds.iter().filter(|k| k.info().namespaced) {
        let prefix = collection_prefix(rt.name(), kind.as_ref(), Some(ns));
        for (key, raw) in txn.scan(&prefix) {
            let Ok(old) = serde_json::from_slice::<Value>(&raw) else {
                continue;
            };
            let mut cx = WriteCtx {
                txn: &mut *txn,
                rt,
                warnings: Vec::new(),
            };
            kind.delete(&mut cx, &old)?;
            txn.delete_raw(&key);
        }
    }
    Ok(())
}

/// `propagationPolicy: Orphan`: the dependents of `owner` (objects whose ownerReferences name
/// its uid) lose that reference, so the garbage collector leaves them alone.
fn orphan_dependents(
    txn: &mut dyn TxnExt,
    rt: &Runtime,
    kinds: &[Arc<dyn Kind>],
    owner_kind: &dyn Kind,
    owner: &Value,
) {
    let Some(uid) = meta_str(owner, "uid").map(String::from) else {
        return;
    };
    let ns = meta_str(owner, "namespace").map(String::from);
    for kind in kinds.iter().filter(|k| k.info().namespaced) {
        let prefix = collection_prefix(
            rt.name(),
            kind.as_ref(),
            ns.as_deref().filter(|_| owner_kind.info().namespaced),
        );
        for (key, raw) in txn.scan(&prefix) {
            let Ok(mut obj) = serde_json::from_slice::<Value>(&raw) else {
                continue;
            };
            let Some(refs) = obj
                .pointer_mut("/metadata/ownerReferences")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            let before = refs.len();
            refs.retain(|r| r.get("uid").and_then(Value::as_str) != Some(uid.as_str()));
            if refs.len() == before {
                continue;
            }
            if refs.is_empty() {
                metadata_mut(&mut obj).remove("ownerReferences");
            }
            let rv = txn.revision().to_string();
            metadata_mut(&mut obj).insert("resourceVersion".into(), Value::String(rv));
            txn.put_json(&key, &obj);
        }
    }
}

/// Whether `obj` is selected by the label and field selectors (none: everything).
pub fn matches(
    kind: &dyn Kind,
    obj: &Value,
    labels: &Option<LabelSelector>,
    fields: &Option<FieldSelector>,
) -> bool {
    if let Some(l) = labels {
        let map: std::collections::BTreeMap<String, String> = obj
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        if !l.matches(&map) {
            return false;
        }
    }
    if let Some(f) = fields {
        if !f.matches(&|name: &str| kind.field(obj, name)) {
            return false;
        }
    }
    true
}
