//! `twinstack check`: the whole twin in memory, no data dir, no port. It opens an in-memory
//! store and the same registry, runtime, system objects and controllers `up` runs
//! ([`crate::open_runtimes`], `twinstack_controllers::start_with`), applies every object
//! through the registry's write path (the one the API server's handlers call, so a refusal is
//! the API server's `Status`), waits until the controllers have nothing left to do, and
//! gathers what the twin did with each object into a `twinstack_check::report::Report`.
//!
//! Apply: in Helm's install order (`twinstack_check::order`); an object that does not exist is
//! created, one that does (a system namespace, a duplicate in the input) is server-side
//! applied, as `kubectl apply` creates or patches. Field validation is `Strict`, kubectl's
//! default (`--validate=strict`).
//!
//! Settle: the controllers are level-triggered and idempotent, so a pass that read the store
//! as of its current revision and left it there has nothing more to do. [`settle`] asks for
//! such passes (`twinstack_controllers::Progress`) until one changes nothing, or the time
//! allowed is up (reported as `converged: false`).

pub mod input;

use anyhow::{Context, Result};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use twinstack_check::manifest::Located;
use twinstack_check::observe::{self, Applied, Observed};
use twinstack_check::order;
use twinstack_check::report::{EventReport, Refusal, Report, RuntimeReport};
use twinstack_controllers::Progress;
use twinstack_core::status::Status;
use twinstack_platform::RuntimeSpec;
use twinstack_registry::decode::Decoded;
use twinstack_registry::kinds::Kind;
use twinstack_registry::registry::{FieldValidation, PatchType, Registry, WriteOptions};
use twinstack_registry::runtimes::Runtime;

/// What to check against.
#[derive(Debug, Clone)]
pub struct CheckConfig {
    pub runtime: RuntimeSpec,
    /// How long the controllers may take to settle.
    pub settle_timeout: Duration,
}

/// The field manager of `check`'s writes: kubectl's, so managed fields read as after
/// `kubectl apply`.
const MANAGER: &str = "kubectl-client-side-apply";

/// Runs the check of `objects` and returns its report.
pub async fn run(mut objects: Vec<Located>, cfg: &CheckConfig) -> Result<Report> {
    let store = twinstack_store::Store::open_in_memory(twinstack_store::StoreOptions {
        // A short watch history (the informer only replays when it lags): the log of old
        // values is what makes an in-memory database grow, and growing it copies it.
        keep_revisions: 2_048,
        keep_duration: Duration::ZERO,
        compaction_slack: 256,
        cache_size: 16 * 1024 * 1024,
        ..Default::default()
    })
    .context("opening the in-memory store")?;
    let token_key: [u8; 32] = rand::random();
    let (tls, _) = twinstack_platform::tls::generate()?;
    let (registry, _platform) = crate::open_runtimes(
        store,
        &token_key,
        &tls.ca_pem,
        std::path::PathBuf::new(),
        &cfg.runtime,
    )
    .await?;
    let rt = registry
        .runtime(&cfg.runtime.name)
        .context("the check's runtime was not created")?;
    let progress = Progress::default();
    let controllers = twinstack_controllers::start_with(
        registry.clone(),
        Default::default(),
        Some(progress.clone()),
    );

    // Namespaced objects without a namespace go to `default`, as kubectl's context sends them
    // (so the report names them as the cluster would).
    for o in &mut objects {
        if let Some(ns) =
            kind_of(&registry, &o.object).and_then(|k| namespace_of(k.as_ref(), &o.object))
        {
            if let Some(meta) = o.object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(ns));
            }
        }
    }
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o.object["kind"].as_str().unwrap_or(""))
        .collect();
    let started = std::time::Instant::now();
    let mut applied: Vec<Option<Applied>> = vec![None; objects.len()];
    for i in order::apply_order(&kinds) {
        applied[i] = Some(apply(&registry, &rt, &objects[i]).await);
    }
    let applied_in = started.elapsed();
    let converged = settle(&registry.store, &progress, cfg.settle_timeout).await;
    controllers.abort();
    tracing::debug!(
        objects = objects.len(),
        apply_ms = applied_in.as_millis() as u64,
        settle_ms = (started.elapsed() - applied_in).as_millis() as u64,
        revision = registry.store.current_revision(),
        "applied and settled"
    );

    let gathered = Gathered::read(&registry, &rt);
    let runtime = runtime_report(&rt);
    let reports = objects
        .into_iter()
        .zip(applied)
        .map(|(o, a)| {
            let a = a.unwrap_or_else(|| Applied::Unsupported("not applied".into()));
            observe::object_report(gathered.observe(&registry, &rt, o, a), &runtime)
        })
        .collect();
    Ok(Report::new(runtime, converged, reports))
}

fn runtime_report(rt: &Runtime) -> RuntimeReport {
    let r = &rt.record;
    RuntimeReport {
        name: r.name.clone(),
        plan: r.plan.clone(),
        provider: r.provider.as_str().to_string(),
        region: r.region.clone(),
        families: r
            .network
            .families
            .iter()
            .map(|f| f.as_str().to_string())
            .collect(),
    }
}

/// The registry's kind for an object's `apiVersion` and `kind`.
fn kind_of(reg: &Registry, obj: &Value) -> Option<Arc<dyn Kind>> {
    let api_version = obj["apiVersion"].as_str()?;
    let kind = obj["kind"].as_str()?;
    reg.kinds()
        .iter()
        .find(|k| k.info().kind == kind && k.info().api_version() == api_version)
        .cloned()
}

/// The namespace an object goes to (kubectl's default namespace is `default`).
fn namespace_of(kind: &dyn Kind, obj: &Value) -> Option<String> {
    kind.info().namespaced.then(|| {
        obj.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
            .to_string()
    })
}

fn refusal(s: Status) -> Applied {
    Applied::Refused(Refusal {
        code: s.code,
        reason: s.reason,
        message: s.message,
    })
}

/// Creates the object, or applies it over the one that exists, as `kubectl apply` would.
async fn apply(reg: &Registry, rt: &Arc<Runtime>, o: &Located) -> Applied {
    let obj = &o.object;
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(kind) = kind_of(reg, obj) else {
        let ns = obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        // kubectl's text when discovery does not know a kind.
        return Applied::Unsupported(format!(
            "resource mapping not found for name: {name:?} namespace: {ns:?} from {:?}: no matches for kind {:?} in version {:?}",
            o.origin.file,
            obj["kind"].as_str().unwrap_or(""),
            obj["apiVersion"].as_str().unwrap_or("")
        ));
    };
    let ns = namespace_of(kind.as_ref(), obj);
    let opts = WriteOptions {
        dry_run: false,
        validation: FieldValidation::Strict,
        manager: MANAGER.into(),
        force: true,
    };
    let exists = !name.is_empty() && reg.get(rt, kind.as_ref(), ns.as_deref(), name).is_ok();
    let written = if exists {
        reg.patch_decoded(
            rt.clone(),
            kind.clone(),
            ns,
            name.to_string(),
            PatchType::Apply,
            Decoded::plain(obj.clone()),
            opts,
        )
        .await
    } else {
        reg.create_decoded(
            rt.clone(),
            kind.clone(),
            ns,
            Decoded::plain(obj.clone()),
            opts,
        )
        .await
    };
    match written {
        Ok(w) => Applied::Accepted {
            object: w.object,
            warnings: w.warnings,
        },
        Err(s) => refusal(s),
    }
}

/// Asks the controllers for passes until one reads the store as it is and leaves it so, or
/// `timeout` is up. A pass that left a deadline (a graceful deletion) is waited for until it.
pub async fn settle(
    store: &twinstack_store::Store,
    progress: &Progress,
    timeout: Duration,
) -> bool {
    let end = tokio::time::Instant::now() + timeout;
    loop {
        let revision = store.current_revision();
        let Ok(pass) = tokio::time::timeout_at(end, progress.pass_at(revision)).await else {
            return false;
        };
        if store.current_revision() != revision {
            continue;
        }
        let Some(deadline) = pass.deadline else {
            return true;
        };
        let ms = deadline.as_millisecond() - jiff::Timestamp::now().as_millisecond();
        let until = tokio::time::Instant::now() + Duration::from_millis(ms.max(1) as u64);
        if until >= end {
            return false;
        }
        tokio::time::sleep_until(until).await;
    }
}

/// The cloud records the object with `uid` owns.
fn owned_by<R: Clone>(
    records: &[R],
    uid: &str,
    owner: impl Fn(&R) -> &twinstack_cloud::inventory::Owner,
) -> Vec<R> {
    records
        .iter()
        .filter(|r| owner(r).uid == uid)
        .cloned()
        .collect()
}

/// What the twin holds once settled, read once for every object.
struct Gathered {
    /// Events by the uid of their `involvedObject`, in the order `kubectl get events` lists.
    events: std::collections::HashMap<String, Vec<EventReport>>,
    inventory: twinstack_registry::cloud_inventory::Inventory,
    /// Pods: (namespace, labels, podIPs).
    pods: Vec<(String, serde_json::Map<String, Value>, Vec<String>)>,
}

fn list(reg: &Registry, rt: &Runtime, plural: &str) -> Vec<Value> {
    reg.kind("", plural)
        .and_then(|k| reg.list(rt, k.as_ref(), None).ok())
        .map(|(items, _)| items)
        .unwrap_or_default()
}

impl Gathered {
    fn read(reg: &Registry, rt: &Runtime) -> Gathered {
        let mut events: std::collections::HashMap<String, Vec<EventReport>> = Default::default();
        for e in list(reg, rt, "events") {
            let s = |p: &str| {
                e.pointer(p)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            let source = match s("/reportingController") {
                c if c.is_empty() => s("/source/component"),
                c => c,
            };
            events
                .entry(s("/involvedObject/uid"))
                .or_default()
                .push(EventReport {
                    type_: s("/type"),
                    reason: s("/reason"),
                    message: s("/message"),
                    source,
                });
        }
        let pods = list(reg, rt, "pods")
            .into_iter()
            .map(|p| {
                let ns = p
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let labels = p
                    .pointer("/metadata/labels")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let ips = p
                    .pointer("/status/podIPs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["ip"].as_str().map(String::from))
                    .collect();
                (ns, labels, ips)
            })
            .collect();
        Gathered {
            events,
            inventory: twinstack_registry::cloud_inventory::load(&reg.store, rt.name()),
            pods,
        }
    }

    /// The podIPs of a workload's pods (those its `matchLabels` select in its namespace).
    fn pod_ips(&self, object: &Value) -> Vec<String> {
        let ns = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        let Some(sel) = object
            .pointer("/spec/selector/matchLabels")
            .and_then(Value::as_object)
            .filter(|s| !s.is_empty())
        else {
            return vec![];
        };
        self.pods
            .iter()
            .filter(|(pns, labels, _)| {
                pns == ns && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
            })
            .flat_map(|(_, _, ips)| ips.iter().cloned())
            .collect()
    }

    /// Everything known of one object: its current state, events and cloud records.
    fn observe(&self, reg: &Registry, rt: &Runtime, o: Located, applied: Applied) -> Observed {
        let mut observed = Observed {
            origin: o.origin,
            input: o.object,
            result: applied,
            events: vec![],
            load_balancers: vec![],
            forwarding_rules: vec![],
            pod_ips: vec![],
        };
        let Applied::Accepted { object, .. } = &mut observed.result else {
            return observed;
        };
        // The object as the controllers left it (status, finalizers, annotations).
        if let Some(kind) = kind_of(reg, object) {
            let ns = object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str);
            let name = object
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if let Ok(now) = reg.get(rt, kind.as_ref(), ns, name) {
                *object = now;
            }
        }
        let uid = object
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        observed.events = self.events.get(&uid).cloned().unwrap_or_default();
        observed.load_balancers = owned_by(&self.inventory.load_balancers, &uid, |r| &r.owner);
        observed.forwarding_rules = owned_by(&self.inventory.forwarding_rules, &uid, |r| &r.owner);
        let object = object.clone();
        observed.pod_ips = self.pod_ips(&object);
        observed
    }
}
