//! Kyma's module controllers that act on a runtime's objects:
//!
//! - the api-gateway's APIRule controller: each APIRule is reconciled by
//!   [`twinstack_kyma::apirule::reconcile`]; its VirtualService, AuthorizationPolicies and
//!   RequestAuthentications (found by the module's owner labels) are created, updated or
//!   deleted to match, its status written, and on a Service with IPv6 a Warning event says
//!   that IPv6 traffic to it is outside the mesh. Objects whose APIRule is gone are deleted
//!   (the module's `gateway.kyma-project.io/subresources` finalizer does this on delete).
//! - the `kyma-system/kyma-gateway` DNSEntry's targets and `ip-stack` annotation from the
//!   `istio-ingressgateway` Service ([`twinstack_kyma::dnsentry`]), with the state Gardener's
//!   dns-controller-manager reports.
//!
//! APIRules are custom resources the informer does not cache: they are read from the store on
//! each pass (a pass runs at least every second).

use super::{name_of, Ctl, World};
use k8s_openapi::api::core::v1::{Pod, Service};
use serde_json::{json, Value};
use std::sync::Arc;
use twinstack_kyma::apirule::{self, OWNER_NAME, OWNER_NAMESPACE};
use twinstack_kyma::runtime::{GATEWAY_SERVICE, ISTIO_SYSTEM, KYMA_GATEWAY, KYMA_SYSTEM};
use twinstack_registry::conditional::Scope;
use twinstack_registry::kinds::Kind;

const COMPONENT: &str = "api-gateway-controller";

/// The served kind of a custom resource (`None` when its CRD is not installed).
fn custom(ctl: &Ctl, group: &str, version: &str, plural: &str) -> Option<Arc<dyn Kind>> {
    ctl.reg.kind_for(ctl.rt.name(), group, version, plural)
}

/// Every stored object of `kind` in the runtime.
fn list(ctl: &Ctl, kind: &dyn Kind) -> Vec<Value> {
    let prefix = twinstack_registry::keys::collection_prefix(ctl.rt.name(), kind, None);
    match ctl.reg.store.list(&prefix) {
        Ok((kvs, _)) => kvs
            .iter()
            .filter_map(|kv| serde_json::from_slice(&kv.value).ok())
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn meta<'a>(v: &'a Value, f: &str) -> &'a str {
    v.pointer(&format!("/metadata/{f}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn label<'a>(v: &'a Value, k: &str) -> &'a str {
    v.pointer("/metadata/labels")
        .and_then(|l| l.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub async fn sync(ctl: &Ctl, w: &World) {
    sync_dns_entry(ctl, w).await;
    sync_functions(ctl, w).await;
    sync_apirules(ctl, w).await;
}

/// The serverless module's Function controller ([`twinstack_kyma::function`]): the Service
/// and Deployment of each Function, owned by it (the garbage collector removes them with it),
/// and its status from the Deployment's.
async fn sync_functions(ctl: &Ctl, w: &World) {
    use twinstack_kyma::function as kfn;
    let Some(kind) = custom(ctl, "serverless.kyma-project.io", "v1alpha2", "functions") else {
        return;
    };
    for f in list(ctl, kind.as_ref()) {
        if f.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let (name, ns, uid) = (meta(&f, "name"), meta(&f, "namespace"), meta(&f, "uid"));
        let owner = json!([{"apiVersion": "serverless.kyma-project.io/v1alpha2", "kind": "Function",
                            "name": name, "uid": uid, "controller": true, "blockOwnerDeletion": true}]);
        let svc_exists = w
            .lists
            .services
            .iter()
            .any(|s| name_of(&s.metadata.namespace) == ns && name_of(&s.metadata.name) == name);
        if !svc_exists {
            let mut svc = kfn::service(&f);
            svc["metadata"]["ownerReferences"] = owner.clone();
            let _ = ctl.create("", "services", Some(ns), svc).await;
        }
        let mut want = kfn::deployment(&f);
        let mine = w.lists.deployments.iter().find(|d| {
            name_of(&d.metadata.namespace) == ns
                && d.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.get(kfn::UUID).map(String::as_str) == Some(uid))
        });
        let deployment = match mine {
            None => {
                want["metadata"]["ownerReferences"] = owner.clone();
                let _ = ctl.create("apps", "deployments", Some(ns), want).await;
                None
            }
            Some(d) => {
                let Some(mut full) = ctl.full("apps", "deployments", &d.metadata) else {
                    continue;
                };
                let template_changed = full.pointer("/spec/template/spec/containers/0/env")
                    != want.pointer("/spec/template/spec/containers/0/env")
                    || full.pointer("/spec/template/spec/containers/0/image")
                        != want.pointer("/spec/template/spec/containers/0/image")
                    || full.pointer("/spec/replicas") != want.pointer("/spec/replicas");
                if template_changed {
                    full["spec"]["replicas"] = want["spec"]["replicas"].clone();
                    full["spec"]["template"]["spec"]["containers"][0]["env"] =
                        want["spec"]["template"]["spec"]["containers"][0]["env"].clone();
                    full["spec"]["template"]["spec"]["containers"][0]["image"] =
                        want["spec"]["template"]["spec"]["containers"][0]["image"].clone();
                    ctl.write("apps", "deployments", full.clone()).await;
                }
                let n = |p: &str| full.pointer(p).and_then(Value::as_i64).unwrap_or(0);
                Some((
                    meta(&full, "name").to_string(),
                    n("/status/readyReplicas"),
                    n("/spec/replicas"),
                ))
            }
        };
        let now = jiff::Timestamp::now()
            .round(jiff::Unit::Second)
            .unwrap_or_else(|_| jiff::Timestamp::now())
            .to_string();
        let st = kfn::status(
            &f,
            deployment.as_ref().map(|(n, r, w)| (n.as_str(), *r, *w)),
            &now,
        );
        // Written when something but the transition times changed.
        let strip = |v: Option<&Value>| {
            let mut v = v.cloned().unwrap_or(Value::Null);
            if let Some(cs) = v.get_mut("conditions").and_then(Value::as_array_mut) {
                for c in cs {
                    if let Some(o) = c.as_object_mut() {
                        o.remove("lastTransitionTime");
                    }
                }
            }
            v
        };
        if strip(f.get("status")) != strip(Some(&st)) {
            let mut o = f.clone();
            o["status"] = st;
            let _ = ctl
                .reg
                .write_if_unchanged(&ctl.rt, kind.as_ref(), o, Scope::Status)
                .await;
        }
    }
}

async fn sync_dns_entry(ctl: &Ctl, w: &World) {
    let Some(kind) = custom(ctl, "dns.gardener.cloud", "v1alpha1", "dnsentries") else {
        return;
    };
    let Some(slim) = w.lists.services.iter().find(|s| {
        name_of(&s.metadata.namespace) == ISTIO_SYSTEM
            && name_of(&s.metadata.name) == GATEWAY_SERVICE
    }) else {
        return;
    };
    let Some(svc) = ctl.full_typed::<Service>("", "services", &slim.metadata) else {
        return;
    };
    let Ok(entry) = ctl
        .reg
        .get(&ctl.rt, kind.as_ref(), Some(KYMA_SYSTEM), KYMA_GATEWAY)
    else {
        return;
    };
    let provider_type = match ctl.rt.record.provider {
        twinstack_core::runtime::Provider::Aws => "aws-route53",
        _ => "google-clouddns",
    };
    let Some(want) = twinstack_kyma::dnsentry::desired(&entry, &svc, provider_type) else {
        return;
    };
    // Annotations and targets are the spec's; the state is the status's.
    let status = want["status"].clone();
    if want["metadata"] != entry["metadata"] || want["spec"] != entry["spec"] {
        let mut spec_write = want.clone();
        spec_write["status"] = entry.get("status").cloned().unwrap_or(Value::Null);
        if ctl
            .reg
            .write_if_unchanged(&ctl.rt, kind.as_ref(), spec_write, Scope::Object)
            .await
            .is_err()
        {
            return;
        }
    }
    if entry.get("status") != Some(&status) {
        if let Ok(mut cur) = ctl
            .reg
            .get(&ctl.rt, kind.as_ref(), Some(KYMA_SYSTEM), KYMA_GATEWAY)
        {
            cur["status"] = status;
            let _ = ctl
                .reg
                .write_if_unchanged(&ctl.rt, kind.as_ref(), cur, Scope::Status)
                .await;
        }
    }
}

/// The kinds the APIRule controller writes, as (group, plural, kind).
struct Owned {
    vs: Arc<dyn Kind>,
    ap: Arc<dyn Kind>,
    ra: Arc<dyn Kind>,
}

async fn sync_apirules(ctl: &Ctl, w: &World) {
    let (Some(ar_kind), Some(gw), Some(vs), Some(ap), Some(ra)) = (
        custom(ctl, "gateway.kyma-project.io", "v2", "apirules"),
        custom(ctl, "networking.istio.io", "v1", "gateways"),
        custom(ctl, "networking.istio.io", "v1", "virtualservices"),
        custom(ctl, "security.istio.io", "v1", "authorizationpolicies"),
        custom(ctl, "security.istio.io", "v1", "requestauthentications"),
    ) else {
        return;
    };
    let owned = Owned { vs, ap, ra };
    let apirules = list(ctl, ar_kind.as_ref());
    let vss = list(ctl, owned.vs.as_ref());
    publish_gateway_routes(ctl, w, &vss);
    // Orphans: objects of an APIRule that is gone.
    let exists = |v: &Value| {
        apirules.iter().any(|a| {
            meta(a, "name") == label(v, OWNER_NAME)
                && meta(a, "namespace") == label(v, OWNER_NAMESPACE)
        })
    };
    for kind in [&owned.vs, &owned.ap, &owned.ra] {
        let objs = if Arc::ptr_eq(kind, &owned.vs) {
            vss.clone()
        } else {
            list(ctl, kind.as_ref())
        };
        for o in objs
            .iter()
            .filter(|o| !label(o, OWNER_NAME).is_empty() && !exists(o))
        {
            delete(ctl, kind, o).await;
        }
    }
    if apirules.is_empty() {
        return;
    }
    let gateways = list(ctl, gw.as_ref());
    let services: Vec<Service> = w.lists.services.iter().map(|s| Service::clone(s)).collect();
    let pods: Vec<Pod> = w.lists.pods.iter().map(|p| Pod::clone(p)).collect();
    for ar in &apirules {
        if ar.pointer("/metadata/deletionTimestamp").is_some() {
            continue;
        }
        let out = apirule::reconcile(&apirule::Inputs {
            apirule: ar,
            gateways: &gateways,
            virtual_services: &vss,
            services: &services,
            pods: &pods,
        });
        let (name, ns) = (meta(ar, "name"), meta(ar, "namespace"));
        let mine = |o: &&Value| label(o, OWNER_NAME) == name && label(o, OWNER_NAMESPACE) == ns;
        if let Some(want) = &out.virtual_service {
            let have: Vec<&Value> = vss.iter().filter(mine).collect();
            converge(ctl, &owned.vs, &have, std::slice::from_ref(want), false).await;
        }
        if out.failures.is_empty() {
            let aps = list(ctl, owned.ap.as_ref());
            let have: Vec<&Value> = aps.iter().filter(mine).collect();
            converge(ctl, &owned.ap, &have, &out.authorization_policies, true).await;
            let ras = list(ctl, owned.ra.as_ref());
            let have: Vec<&Value> = ras.iter().filter(mine).collect();
            converge(ctl, &owned.ra, &have, &out.request_authentications, true).await;
            warn_ipv6(ctl, ar, &services).await;
        }
        write_status(ctl, &ar_kind, ar, &out.status).await;
    }
}

/// The Kyma gateway's routes ([`twinstack_kyma::gateway::routes`]) with their destination
/// Services' cluster IPs, for the data plane's gateway pods.
fn publish_gateway_routes(ctl: &Ctl, w: &World, vss: &[Value]) {
    let Some(dp) = &ctl.dataplane else {
        return;
    };
    let gateway = format!("{KYMA_SYSTEM}/{KYMA_GATEWAY}");
    let routes = twinstack_kyma::gateway::routes(vss, &gateway)
        .into_iter()
        .filter_map(|r| {
            let svc = w.lists.services.iter().find(|s| {
                name_of(&s.metadata.namespace) == r.service.0
                    && name_of(&s.metadata.name) == r.service.1
            })?;
            let destinations = svc
                .spec
                .as_ref()?
                .cluster_ips
                .iter()
                .flatten()
                .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
                .map(|ip| std::net::SocketAddr::new(ip, r.port))
                .collect();
            Some(twinstack_dataplane::frontends::gateway::Route {
                hosts: r.hosts,
                method: r.method_regex,
                uri_prefix: r.uri_prefix,
                uri_regex: r.uri_regex,
                destinations,
                set_headers: r.set_headers,
            })
        })
        .collect();
    dp.publish_routes(ctl.rt.name(), routes);
}

/// Makes the objects `have` (of one APIRule) into `want`: matched by the index label (or the
/// only one, for the VirtualService), spec and labels updated, missing ones created with their
/// generated name, extra ones deleted.
async fn converge(
    ctl: &Ctl,
    kind: &Arc<dyn Kind>,
    have: &[&Value],
    want: &[Value],
    by_index: bool,
) {
    let key = |v: &Value| {
        if by_index {
            label(v, apirule::INDEX).to_string()
        } else {
            String::new()
        }
    };
    for w in want {
        match have.iter().find(|h| key(h) == key(w)) {
            Some(h) => {
                if h.get("spec") != w.get("spec")
                    || h.pointer("/metadata/labels") != w.pointer("/metadata/labels")
                {
                    let mut o = (*h).clone();
                    o["spec"] = w["spec"].clone();
                    o["metadata"]["labels"] = w["metadata"]["labels"].clone();
                    let _ = ctl
                        .reg
                        .write_if_unchanged(&ctl.rt, kind.as_ref(), o, Scope::Object)
                        .await;
                }
            }
            None => {
                let ns = w
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(String::from);
                if let Err(s) = ctl
                    .reg
                    .create_system(ctl.rt.clone(), kind.clone(), ns, w.clone())
                    .await
                {
                    tracing::debug!(runtime = %ctl.rt.name(), "api-gateway: creating {}: {}", kind.info().plural, s.message);
                }
            }
        }
    }
    for h in have {
        if !want.iter().any(|w| key(w) == key(h)) {
            delete(ctl, kind, h).await;
        }
    }
}

async fn delete(ctl: &Ctl, kind: &Arc<dyn Kind>, o: &Value) {
    let pre = twinstack_registry::registry::Preconditions {
        uid: Some(meta(o, "uid").to_string()),
        ..Default::default()
    };
    let ns = Some(meta(o, "namespace").to_string()).filter(|n| !n.is_empty());
    let _ = ctl
        .reg
        .delete(
            ctl.rt.clone(),
            kind.clone(),
            ns,
            meta(o, "name").to_string(),
            pre,
            false,
        )
        .await;
}

async fn write_status(ctl: &Ctl, kind: &Arc<dyn Kind>, ar: &Value, status: &Value) {
    let cur = ar.get("status");
    let same = cur.is_some_and(|c| {
        c.get("state") == status.get("state") && c.get("description") == status.get("description")
    });
    if same {
        return;
    }
    let mut o = ar.clone();
    let mut st = status.clone();
    st["lastProcessedTime"] = json!(jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string());
    o["status"] = st;
    let _ = ctl
        .reg
        .write_if_unchanged(&ctl.rt, kind.as_ref(), o, Scope::Status)
        .await;
}

/// The seed's warning on an APIRule whose Services serve IPv6 to sidecar pods: IPv6 traffic to
/// them does not pass the mesh the APIRule's policies live in.
async fn warn_ipv6(ctl: &Ctl, ar: &Value, services: &[Service]) {
    let ns = meta(ar, "namespace");
    let mut targets: Vec<(String, String)> = Vec::new();
    for r in ar
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let svc = r.get("service").or_else(|| ar.pointer("/spec/service"));
        if let Some(svc) = svc {
            let tns = svc.get("namespace").and_then(Value::as_str).unwrap_or(ns);
            let t = (
                tns.to_string(),
                svc["name"].as_str().unwrap_or("").to_string(),
            );
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
    }
    for (tns, tname) in targets {
        let Some(svc) = services
            .iter()
            .find(|s| name_of(&s.metadata.namespace) == tns && name_of(&s.metadata.name) == tname)
        else {
            continue;
        };
        let Some(msg) = twinstack_cloud::istio::ipv6_outside_mesh_warning(svc, true) else {
            continue;
        };
        let Ok(m) = serde_json::from_value::<
            k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        >(ar["metadata"].clone()) else {
            continue;
        };
        let api_version = ar["apiVersion"]
            .as_str()
            .unwrap_or("gateway.kyma-project.io/v2alpha1");
        ctl.event(twinstack_kube::events::event_for(
            &super::reference(&m, api_version, "APIRule"),
            twinstack_cloud::istio::IPV6_OUTSIDE_MESH_REASON,
            &msg,
            "Warning",
            &twinstack_kube::events::Reporter::controller(COMPONENT),
            jiff::Timestamp::now(),
            twinstack_core::hash::fnv1a64(&format!("{}/ipv6/{tns}/{tname}", name_of(&m.uid))),
        ))
        .await;
    }
}
