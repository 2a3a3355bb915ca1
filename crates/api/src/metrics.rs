//! Prometheus metrics, named and labelled as kube-apiserver's where one exists
//! (`k8s.io/apiserver/pkg/endpoints/metrics/metrics.go`, `pkg/endpoints/filters/metrics.go`,
//! `pkg/storage/cacher/metrics/metrics.go`).
//!
//! Every label value comes from a closed set: verbs from upstream's list (`other` beyond it),
//! group/version/resource only from the registry's kinds (`other` for a path that names none),
//! subresources from a fixed list, codes as answered. So no request, authenticated or not, can
//! add a series: memory and the size of `/metrics` are bounded by the kinds served.
//!
//! Two views, neither open to anyone: `/runtimes/<rt>/metrics` shows one runtime's requests to
//! the bearer of that runtime's token (as a runtime's kube-apiserver serves `/metrics` to an
//! authorized user), and `/metrics` shows the sum over all runtimes plus authentication and
//! authorization attempts and the store, to the platform's credential (the broker's).

use crate::request_info::Target;
use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use twinstack_registry::kinds::{Kind, ResourceInfo};
use twinstack_registry::runtimes::Runtime;

/// The `component` label of kube-apiserver's request metrics.
const COMPONENT: &str = "apiserver";

/// Stands for any value outside a label's closed set (upstream's `OtherRequestMethod`).
pub const OTHER: &str = "other";

/// The subresources kube-apiserver serves; any other name is reported as `other`.
const SUBRESOURCES: &[&str] = &[
    "approval",
    "attach",
    "binding",
    "ephemeralcontainers",
    "eviction",
    "exec",
    "finalize",
    "log",
    "portforward",
    "proxy",
    "resize",
    "scale",
    "status",
    "token",
];

/// `apiserver_request_duration_seconds` buckets, as upstream's `requestLatencies`.
const LATENCY_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

/// The labels of `apiserver_request_duration_seconds` (and, with `code`, of
/// `apiserver_request_total`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub verb: &'static str,
    pub dry_run: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    pub scope: &'static str,
    pub component: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    #[prometheus(flatten)]
    pub request: RequestLabels,
    pub code: u16,
}

/// `apiserver_longrunning_requests`: upstream's labels are the request's without `dry_run`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LongRunningLabels {
    pub verb: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
    pub scope: &'static str,
    pub component: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResourceLabels {
    /// The group-qualified resource (`pods`, `deployments.apps`), as `GroupResource.String()`.
    pub resource: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

/// The scope of a request, as upstream's `CleanScope`.
fn clean_scope(target: &Target, method: &Method) -> &'static str {
    match target {
        Target::Resource(r) if r.name.is_some() || *method == Method::POST => "resource",
        Target::Resource(r) if r.namespace.is_some() => "namespace",
        Target::Resource(_) => "cluster",
        _ => "",
    }
}

/// The reported verb, as upstream's `CanonicalVerb` and `cleanVerb`: the HTTP method in capitals,
/// GET of a collection as LIST, `watch=true` as WATCH, an apply patch as APPLY, `other` for any
/// method outside upstream's list.
fn reported_verb(method: &Method, scope: &str, watch: bool, apply: bool) -> &'static str {
    match *method {
        Method::GET | Method::HEAD if watch => "WATCH",
        Method::GET | Method::HEAD if scope != "resource" && !scope.is_empty() => "LIST",
        Method::GET | Method::HEAD => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH if apply => "APPLY",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => OTHER,
    }
}

/// `dryRun` as upstream's `cleanDryRun` reports it: empty, `All`, or `invalid`.
fn clean_dry_run(dry_run: Option<&str>) -> &'static str {
    match dry_run {
        None => "",
        Some("All") => "All",
        Some(_) => "invalid",
    }
}

fn clean_subresource(sub: Option<&str>) -> &'static str {
    match sub {
        None => "",
        Some(s) => SUBRESOURCES
            .iter()
            .find(|known| **known == s)
            .copied()
            .unwrap_or(OTHER),
    }
}

/// The labels of a request under `/runtimes/<rt>/`. `kinds` are the registry's: a resource
/// request names a served kind or is reported as `other`.
pub fn request_labels(
    method: &Method,
    target: &Target,
    kinds: &[Arc<dyn Kind>],
    watch: bool,
    apply: bool,
    dry_run: Option<&str>,
) -> RequestLabels {
    let scope = clean_scope(target, method);
    let (group, version, resource, subresource) = match target {
        Target::Resource(r) => match served(kinds, &r.group, &r.version, &r.resource) {
            Some(info) => (
                info.group,
                info.version,
                info.plural,
                clean_subresource(r.subresource.as_deref()),
            ),
            None => (
                OTHER,
                OTHER,
                OTHER,
                clean_subresource(r.subresource.as_deref()),
            ),
        },
        Target::Unknown => ("", "", OTHER, ""),
        // Discovery, /version and OpenAPI: non-resource requests, labelled as upstream's.
        _ => ("", "", "", ""),
    };
    RequestLabels {
        verb: reported_verb(method, scope, watch, apply),
        dry_run: clean_dry_run(dry_run),
        group,
        version,
        resource,
        subresource,
        scope,
        component: COMPONENT,
    }
}

fn served(
    kinds: &[Arc<dyn Kind>],
    group: &str,
    version: &str,
    plural: &str,
) -> Option<&'static ResourceInfo> {
    kinds
        .iter()
        .map(|k| k.info())
        .find(|i| i.group == group && i.version == version && i.plural == plural)
}

/// The labels of a watch of `info` (in one namespace or across all).
pub fn watch_labels(info: &'static ResourceInfo, namespaced: bool) -> LongRunningLabels {
    LongRunningLabels {
        verb: "WATCH",
        group: info.group,
        version: info.version,
        resource: info.plural,
        subresource: "",
        scope: if namespaced { "namespace" } else { "cluster" },
        component: COMPONENT,
    }
}

/// `GroupResource.String()`: `pods`, `deployments.apps`.
pub fn group_resource(info: &ResourceInfo) -> String {
    if info.group.is_empty() {
        info.plural.to_string()
    } else {
        format!("{}.{}", info.plural, info.group)
    }
}

/// The request metrics of one view: one runtime's, or the sum over all of them.
#[derive(Clone)]
pub struct ApiMetrics {
    requests: Family<CodeLabels, Counter>,
    latency: Family<RequestLabels, Histogram>,
    longrunning: Family<LongRunningLabels, Gauge>,
    terminated_watchers: Family<ResourceLabels, Counter>,
}

impl ApiMetrics {
    fn new() -> Self {
        ApiMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS)),
            longrunning: Family::default(),
            terminated_watchers: Family::default(),
        }
    }

    fn register(&self, registry: &mut Registry) {
        registry.register(
            "apiserver_request",
            "Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.",
            self.requests.clone(),
        );
        registry.register(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.",
            self.latency.clone(),
        );
        registry.register(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.",
            self.longrunning.clone(),
        );
        registry.register(
            "apiserver_terminated_watchers",
            "Counter of watchers closed due to unresponsiveness broken by resource type.",
            self.terminated_watchers.clone(),
        );
    }

    fn request(&self, labels: &RequestLabels, code: u16, elapsed: Option<Duration>) {
        if let Some(d) = elapsed {
            self.latency.get_or_create(labels).observe(d.as_secs_f64());
        }
        let labels = CodeLabels {
            request: labels.clone(),
            code,
        };
        self.requests.get_or_create(&labels).inc();
    }
}

/// One runtime's metrics: what `/runtimes/<rt>/metrics` shows.
pub struct RuntimeMetrics {
    registry: Registry,
    api: ApiMetrics,
}

impl RuntimeMetrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let api = ApiMetrics::new();
        api.register(&mut registry);
        RuntimeMetrics { registry, api }
    }

    pub fn render(&self) -> String {
        encode(&self.registry)
    }
}

struct RuntimeEntry {
    /// The runtime these counters belong to: a runtime deleted and created again under the
    /// same name is another tenant and starts from zero.
    runtime: Weak<Runtime>,
    metrics: Arc<RuntimeMetrics>,
}

pub struct Metrics {
    registry: Registry,
    all: ApiMetrics,
    authentication: Family<ResultLabels, Counter>,
    authorization: Family<ResultLabels, Counter>,
    store_revision: Gauge<u64, AtomicU64>,
    runtimes: Mutex<HashMap<String, RuntimeEntry>>,
}

impl Metrics {
    /// Adds the data plane's counters to `/metrics`.
    pub fn with_dataplane(mut self, dp: &twinstack_dataplane::frontends::FrontendMetrics) -> Self {
        dp.register(&mut self.registry);
        self
    }

    pub fn new() -> Self {
        let mut registry = Registry::default();
        let all = ApiMetrics::new();
        all.register(&mut registry);
        let authentication = Family::<ResultLabels, Counter>::default();
        let authorization = Family::<ResultLabels, Counter>::default();
        let store_revision = Gauge::<u64, AtomicU64>::default();
        // Upstream's `authentication_attempts` has no `_total`; this library adds it to every
        // counter.
        registry.register(
            "authentication_attempts",
            "Counter of authenticated attempts.",
            authentication.clone(),
        );
        registry.register(
            "authorization_attempts",
            "Counter of authorization attempts broken down by result. It can be either 'allowed', 'denied', 'no-opinion' or 'error'.",
            authorization.clone(),
        );
        registry.register(
            "twinstack_store_revision",
            "Current revision of the embedded store",
            store_revision.clone(),
        );
        Metrics {
            registry,
            all,
            authentication,
            authorization,
            store_revision,
            runtimes: Mutex::default(),
        }
    }

    /// The metrics of `rt`, created on its first request.
    pub fn runtime(&self, rt: &Arc<Runtime>) -> Arc<RuntimeMetrics> {
        let mut map = self.runtimes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get(rt.name()) {
            if std::ptr::eq(e.runtime.as_ptr(), Arc::as_ptr(rt)) {
                return e.metrics.clone();
            }
        }
        // Runtimes that are gone take their counters with them.
        map.retain(|_, e| e.runtime.strong_count() > 0);
        let metrics = Arc::new(RuntimeMetrics::new());
        map.insert(
            rt.name().to_string(),
            RuntimeEntry {
                runtime: Arc::downgrade(rt),
                metrics: metrics.clone(),
            },
        );
        metrics
    }

    /// A request that passed authentication and authorization, answered with `code`;
    /// `elapsed` is `None` for long-running requests (watches), as upstream measures latency
    /// only for the others.
    pub fn request(
        &self,
        rt: &Arc<Runtime>,
        labels: &RequestLabels,
        code: u16,
        elapsed: Option<Duration>,
    ) {
        self.all.request(labels, code, elapsed);
        self.runtime(rt).api.request(labels, code, elapsed);
    }

    /// `authentication_attempts{result}`: the only trace an unauthenticated request leaves.
    pub fn authentication(&self, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.authentication
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// `authorization_attempts_total{result}`.
    pub fn authorization(&self, allowed: bool) {
        let result = if allowed { "allowed" } else { "denied" };
        self.authorization
            .get_or_create(&ResultLabels { result })
            .inc();
    }

    /// Counts an open watch of `rt` until the guard is dropped.
    pub fn watch_started(&self, rt: &Arc<Runtime>, labels: LongRunningLabels) -> WatchGuard {
        let gauges = [
            self.all.longrunning.get_or_create_owned(&labels),
            self.runtime(rt)
                .api
                .longrunning
                .get_or_create_owned(&labels),
        ];
        for g in &gauges {
            g.inc();
        }
        WatchGuard { gauges }
    }

    /// `apiserver_terminated_watchers_total`: a watcher of `rt` ended for not reading.
    pub fn watch_terminated(&self, rt: &Arc<Runtime>, info: &ResourceInfo) {
        let labels = ResourceLabels {
            resource: group_resource(info),
        };
        self.all.terminated_watchers.get_or_create(&labels).inc();
        self.runtime(rt)
            .api
            .terminated_watchers
            .get_or_create(&labels)
            .inc();
    }

    /// The aggregate view (`/metrics`).
    pub fn render(&self, store_revision: u64) -> String {
        self.store_revision.set(store_revision);
        encode(&self.registry)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Decrements the long-running gauges of a watch when it ends.
pub struct WatchGuard {
    gauges: [Gauge; 2],
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        for g in &self.gauges {
            g.dec();
        }
    }
}

fn encode(registry: &Registry) -> String {
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, registry);
    out
}

#[cfg(test)]
mod tests;
