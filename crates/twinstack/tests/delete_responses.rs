//! DELETE and deletecollection answer what kube-apiserver 1.32 answers, per resource, seen
//! through a typed client (kube-rs `Api::delete` gives `Either<K, Status>`).
//!
//! One line per served resource in [`cases`]: the test fails when discovery serves a resource
//! the table does not name, so a new kind cannot skip this check.
//!
//! Upstream facts (kube-apiserver 1.32):
//! - the body of a DELETE that removes the object is the object when the resource's storage
//!   sets `ReturnDeletedObject` (pods, services, serviceaccounts, ...; the namespace registry
//!   answers the namespace from its own `Delete`), else a Success `Status`
//!   (`genericregistry.Store.finalizeDelete`);
//! - an object kept by finalizers (or graceful deletion) is answered as the object itself,
//!   with `deletionTimestamp` (`updateForGracefulDeletionAndFinalizers`);
//! - the code is 200, and 202 only when the object is kept and the client sent
//!   `orphanDependents: false` (`handlers/delete.go`);
//! - deletecollection answers the `<Kind>List` it listed before deleting (`Store.DeleteCollection`
//!   returns `listObj`), although the OpenAPI document names `Status`.

mod common;

use common::{ok, Twin};
use futures_util::future::BoxFuture;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Endpoints, Event, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Pod,
    ReplicationController, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::{Ingress, IngressClass, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use std::fmt::Debug;

/// What DELETE of a resource answers with when the object goes at once.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Answer {
    /// The deleted object (`ReturnDeletedObject`).
    Object,
    /// A Success `Status`.
    Status,
}
use Answer::{Object, Status};

/// One served resource: `resource.group` (the core group without a dot), the answer, and the
/// checks run against it.
struct Case {
    resource: String,
    answer: Answer,
    run: Box<dyn Fn(Client, String) -> BoxFuture<'static, ()> + Send + Sync>,
}

/// The served resources: one line each.
fn cases() -> Vec<Case> {
    let pod_template = json!({"metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}});
    let selector = json!({"matchLabels": {"app": "x"}});
    vec![
        cluster::<Namespace>(Object, json!({})),
        namespaced::<Service>(Object, json!({"spec": {"ports": [{"port": 80}]}})),
        namespaced::<ConfigMap>(Status, json!({"data": {"a": "b"}})),
        namespaced::<Secret>(Status, json!({"data": {"a": "Yg=="}})),
        cluster::<Node>(Status, json!({})),
        namespaced::<Pod>(Object, json!({"spec": pod_template["spec"]})),
        namespaced::<EndpointSlice>(Status, json!({"addressType": "IPv4", "endpoints": []})),
        namespaced::<Endpoints>(Status, json!({})),
        namespaced::<Event>(
            Status,
            json!({"involvedObject": {"kind": "Pod", "name": "p", "apiVersion": "v1"},
                   "reason": "Tested", "message": "m", "type": "Normal"}),
        ),
        namespaced::<Deployment>(
            Status,
            json!({"spec": {"replicas": 0, "selector": selector, "template": pod_template}}),
        ),
        namespaced::<ReplicaSet>(
            Status,
            json!({"spec": {"replicas": 0, "selector": selector, "template": pod_template}}),
        ),
        namespaced::<StatefulSet>(
            Status,
            json!({"spec": {"replicas": 0, "serviceName": "x", "selector": selector,
                            "template": pod_template}}),
        ),
        namespaced::<DaemonSet>(
            Status,
            json!({"spec": {"selector": selector, "template": pod_template}}),
        ),
        namespaced::<Job>(
            Status,
            json!({"spec": {"suspend": true, "template": {"metadata": {"labels": {"app": "x"}},
                "spec": {"restartPolicy": "Never",
                         "containers": [{"name": "c", "image": "busybox"}]}}}}),
        ),
        namespaced::<ServiceAccount>(Object, json!({})),
        namespaced::<ReplicationController>(
            Status,
            json!({"spec": {"replicas": 0, "selector": {"app": "x"}, "template": pod_template}}),
        ),
        namespaced::<Role>(
            Status,
            json!({"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ),
        namespaced::<RoleBinding>(
            Status,
            json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
                   "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "d"}]}),
        ),
        cluster::<ClusterRole>(
            Status,
            json!({"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
        ),
        cluster::<ClusterRoleBinding>(
            Status,
            json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": "r"},
                   "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "d"}]}),
        ),
        namespaced::<NetworkPolicy>(Status, json!({"spec": {"podSelector": {}}})),
        cluster::<IngressClass>(
            Status,
            json!({"spec": {"controller": "example.com/ingress"}}),
        ),
        namespaced::<Ingress>(
            Status,
            json!({"spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}}}),
        ),
        cluster::<PriorityClass>(Status, json!({"value": 1000})),
        namespaced::<Lease>(Status, json!({"spec": {"holderIdentity": "me"}})),
        cluster::<MutatingWebhookConfiguration>(Status, json!({})),
        cluster::<ValidatingWebhookConfiguration>(Status, json!({})),
        namespaced::<HorizontalPodAutoscaler>(
            Status,
            json!({"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                "name": "x"}, "maxReplicas": 2}}),
        ),
        namespaced::<CronJob>(
            Status,
            json!({"spec": {"schedule": "*/5 * * * *", "suspend": true, "jobTemplate": {"spec":
                {"template": {"spec": {"restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}]}}}}}}),
        ),
        cluster::<StorageClass>(Status, json!({"provisioner": "example.com/x"})),
        namespaced::<PodDisruptionBudget>(
            Status,
            json!({"spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "x"}}}}),
        ),
        namespaced::<PersistentVolumeClaim>(
            Object,
            json!({"spec": {"storageClassName": "", "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}}}}),
        ),
        cluster::<PersistentVolume>(
            Object,
            json!({"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/x"}}}),
        ),
    ]
}

/// A namespaced resource's case.
fn namespaced<K>(answer: Answer, manifest: Value) -> Case
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    K: Clone + Debug + DeserializeOwned + Serialize + Send + Sync + 'static,
{
    case::<K>(answer, manifest, |c, ns| Api::namespaced(c, ns))
}

/// A cluster-scoped resource's case.
fn cluster<K>(answer: Answer, manifest: Value) -> Case
where
    K: Resource<Scope = ClusterResourceScope, DynamicType = ()>,
    K: Clone + Debug + DeserializeOwned + Serialize + Send + Sync + 'static,
{
    case::<K>(answer, manifest, |c, _| Api::all(c))
}

fn case<K>(answer: Answer, manifest: Value, api: fn(Client, &str) -> Api<K>) -> Case
where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize,
    K: Send + Sync + 'static,
{
    let group = K::group(&());
    let plural = K::plural(&());
    let resource = if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    };
    Case {
        resource,
        answer,
        run: Box::new(move |client, ns| {
            let manifest = manifest.clone();
            Box::pin(async move {
                check_kind::<K>(client, api, &ns, answer, manifest).await;
            })
        }),
    }
}

/// The object of a case: the manifest with a name, labels and finalizers.
fn object<K: Resource<DynamicType = ()> + DeserializeOwned>(
    manifest: &Value,
    name: &str,
    labels: Value,
    finalizers: &[&str],
) -> K {
    let mut v = manifest.clone();
    v["apiVersion"] = json!(K::api_version(&()));
    v["kind"] = json!(K::kind(&()));
    v["metadata"] = json!({"name": name, "labels": labels});
    if !finalizers.is_empty() {
        v["metadata"]["finalizers"] = json!(finalizers);
    }
    serde_json::from_value(v).expect("manifest decodes into the typed object")
}

/// The HTTP code and body of a DELETE sent through the same typed client's connection.
async fn raw_delete(client: &Client, url_path: &str, name: &str, body: Value) -> (u16, Value) {
    let req = http::Request::delete(format!("{url_path}/{name}"))
        .header("Content-Type", "application/json")
        .body(kube::client::Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap();
    let resp = client.send(req).await.expect("DELETE sent");
    let code = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("DELETE answer read")
        .to_bytes();
    (code, serde_json::from_slice(&bytes).expect("JSON answer"))
}

async fn check_kind<K>(
    client: Client,
    api: fn(Client, &str) -> Api<K>,
    ns: &str,
    answer: Answer,
    manifest: Value,
) where
    K: Resource<DynamicType = ()> + Clone + Debug + DeserializeOwned + Serialize,
{
    let kind = K::kind(&()).to_string();
    let a: Api<K> = api(client.clone(), ns);
    let pp = PostParams::default();
    let cluster_scoped = a.resource_url() == K::url_path(&(), None);
    let prefix = if cluster_scoped {
        format!("{}-{}", ns, kind.to_lowercase())
    } else {
        kind.to_lowercase()
    };
    // A label value (the batch selector below) has at most 63 characters.
    let prefix: String = prefix.chars().take(50).collect();
    let prefix = prefix.trim_end_matches('-').to_string();
    let name = |s: &str| format!("{prefix}-{s}");
    let none = json!({});
    if kind == "Endpoints" {
        // twinstack's endpoints controller removes Endpoints that have no Service of their name
        // (upstream's removes only the Endpoints it manages), so each gets a Service without a
        // selector, which the controller leaves alone.
        let svcs: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(client.clone(), ns);
        for s in ["a", "b", "c", "d1", "d2", "e"] {
            let svc = json!({"metadata": {"name": name(s)}, "spec": {"ports": [{"port": 80}]}});
            svcs.create(&pp, &serde_json::from_value(svc).unwrap())
                .await
                .unwrap();
        }
    }

    // 1. DELETE of an object without finalizers: gone, answered as the resource's storage says.
    a.create(&pp, &object::<K>(&manifest, &name("a"), none.clone(), &[]))
        .await
        .unwrap_or_else(|e| panic!("{kind}: create: {e}"));
    // Without a grace period, so that a pod goes at once too.
    let now = DeleteParams::default().grace_period(0);
    let r = a
        .delete(&name("a"), &now)
        .await
        .unwrap_or_else(|e| panic!("{kind}: delete: {e}"));
    match (answer, &r) {
        (Object, either) if either.is_left() => {
            let o = either.as_ref().left().unwrap();
            assert_eq!(o.meta().name.as_deref(), Some(name("a").as_str()), "{kind}");
        }
        (Status, either) if either.is_right() => {
            let s = either.as_ref().right().unwrap();
            assert_eq!(s.status, Some(kube::core::response::StatusSummary::Success));
            let d = s.details.as_ref().expect("Status details");
            assert_eq!(d.name, name("a"), "{kind}");
            assert_eq!(
                d.kind,
                K::plural(&()),
                "{kind}: details.kind is the resource"
            );
        }
        _ => panic!("{kind}: expected the {answer:?} side, got {r:?}"),
    }
    // A namespace goes through Terminating: the namespace controller removes it once empty.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while kind == "Namespace"
        && a.get_opt(&name("a")).await.unwrap().is_some()
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        a.get_opt(&name("a")).await.unwrap().is_none(),
        "{kind}: gone"
    );

    // 2. The code of that answer: 200 with the same body type (for a pod also when it is kept
    //    for its grace period).
    a.create(&pp, &object::<K>(&manifest, &name("b"), none.clone(), &[]))
        .await
        .unwrap();
    let (code, body) = raw_delete(&client, a.resource_url(), &name("b"), json!({})).await;
    assert_eq!(code, 200, "{kind}: {body}");
    let want = match answer {
        Object => kind.as_str(),
        Status => "Status",
    };
    assert_eq!(body["kind"], want, "{kind}: {body}");

    // 3. Finalizers keep the object: the answer is the object itself (whatever the storage's
    //    ReturnDeletedObject), with deletionTimestamp; 202 only with orphanDependents=false.
    let fin = "twinstack.test/keep";
    a.create(
        &pp,
        &object::<K>(&manifest, &name("c"), none.clone(), &[fin]),
    )
    .await
    .unwrap();
    let r = a.delete(&name("c"), &now).await.unwrap();
    let kept = r
        .left()
        .unwrap_or_else(|| panic!("{kind}: an object kept by finalizers is answered as itself"));
    assert!(
        kept.meta().deletion_timestamp.is_some(),
        "{kind}: deletionTimestamp set"
    );
    let (code, body) = raw_delete(
        &client,
        a.resource_url(),
        &name("c"),
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "orphanDependents": false}),
    )
    .await;
    assert_eq!(code, 202, "{kind}: kept and orphanDependents=false: {body}");
    assert_eq!(body["kind"], kind.as_str(), "{kind}: {body}");
    // Taking the last finalizer off finishes the deletion (`shouldDeleteDuringUpdate`).
    a.patch(
        &name("c"),
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap_or_else(|e| panic!("{kind}: removing the finalizer: {e}"));
    assert!(
        a.get_opt(&name("c")).await.unwrap().is_none(),
        "{kind}: gone once the last finalizer is removed"
    );

    // 4. deletecollection with a label selector: the List as it was, the others untouched.
    let sel = json!({"batch": prefix});
    for s in ["d1", "d2"] {
        a.create(&pp, &object::<K>(&manifest, &name(s), sel.clone(), &[]))
            .await
            .unwrap();
    }
    a.create(&pp, &object::<K>(&manifest, &name("e"), none, &[]))
        .await
        .unwrap();
    let lp = ListParams::default().labels(&format!("batch={prefix}"));
    let supports_collection = K::plural(&()) != "namespaces";
    match a.delete_collection(&now, &lp).await {
        Ok(r) if supports_collection => {
            let list = r
                .left()
                .unwrap_or_else(|| panic!("{kind}: deletecollection answers the list"));
            let mut names: Vec<String> = list
                .items
                .iter()
                .filter_map(|o| o.meta().name.clone())
                .collect();
            names.sort();
            assert_eq!(names, vec![name("d1"), name("d2")], "{kind}");
            for s in ["d1", "d2"] {
                assert!(a.get_opt(&name(s)).await.unwrap().is_none(), "{kind}");
            }
        }
        Err(kube::Error::Api(s)) if !supports_collection => {
            assert_eq!(s.code, 405, "{kind}: {s:?}");
            for s in ["d1", "d2"] {
                a.delete(&name(s), &DeleteParams::default()).await.unwrap();
            }
        }
        other => panic!("{kind}: deletecollection: {other:?}"),
    }
    assert!(
        a.get_opt(&name("e")).await.unwrap().is_some(),
        "{kind}: unselected object kept"
    );
    a.delete(&name("e"), &DeleteParams::default())
        .await
        .unwrap();
}

/// Every resource discovery serves (subresources aside), as `plural.group`.
async fn served_resources(client: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for r in client
        .list_core_api_resources("v1")
        .await
        .unwrap()
        .resources
    {
        if !r.name.contains('/') {
            out.push(r.name);
        }
    }
    for g in client.list_api_groups().await.unwrap().groups {
        for v in &g.versions {
            let list = client
                .list_api_group_resources(&v.group_version)
                .await
                .unwrap();
            for r in list.resources.into_iter().filter(|r| !r.name.contains('/')) {
                out.push(format!("{}.{}", r.name, g.name));
            }
        }
    }
    out
}

async fn typed_client(t: &Twin) -> Client {
    let kc = kube::config::Kubeconfig::read_from(&t.kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    Client::try_from(cfg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_served_resource_answers_delete_as_upstream() {
    let t = Twin::start(&[]);
    let client = typed_client(&t).await;
    let table = cases();
    let served = served_resources(&client).await;
    let crd_names = ok(&t.kubectl(&["get", "crd", "-o", "jsonpath={.items[*].metadata.name}"]));
    let crds: Vec<&str> = crd_names.split_whitespace().collect();
    // CustomResourceDefinitions are named by their spec (`<plural>.<group>`), which this table's
    // generated names cannot be; their deletion is tested in crds.rs.
    let missing: Vec<&String> = served
        .iter()
        .filter(|r| !table.iter().any(|c| &c.resource == *r))
        .filter(|r| *r != "customresourcedefinitions.apiextensions.k8s.io")
        // Custom resources (the Kyma modules' every runtime has) answer as crds.rs tests.
        .filter(|r| !crds.contains(&r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "served resources without a line in cases(): {missing:?}"
    );
    for case in table {
        assert!(
            served.contains(&case.resource),
            "{} is in the table but not served",
            case.resource
        );
        // The plural alone is unique among the served resources, and keeps names and label
        // values derived from it within 63 characters.
        let plural = case.resource.split('.').next().unwrap_or_default();
        let ns = format!("del-{plural}");
        let nsapi: Api<Namespace> = Api::all(client.clone());
        nsapi
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap(),
            )
            .await
            .unwrap();
        eprintln!("{}: expects {:?}", case.resource, case.answer);
        (case.run)(client.clone(), ns).await;
    }
}
