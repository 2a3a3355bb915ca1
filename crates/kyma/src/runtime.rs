//! What every Kyma runtime starts with, beside its CRDs ([`crate::crds`]): the namespaces, the
//! `Kyma` resource and the module resources with their state, the Istio ingress gateway (its
//! ServiceAccount, Deployment and `LoadBalancer` Service), and the `kyma-system/kyma-gateway`
//! Gateway and DNSEntry.
//!
//! Which Istio module build: the released ("regular") one. Its
//! `internal/clusterconfig/regular.go` never enables dual stack, so the ingress gateway's
//! Service keeps the cluster's default family policy (`SingleStack`, the primary family) on
//! every runtime, and its annotations are `aws.go`'s IPv4 NLB ones on AWS
//! (`internal/clusterconfig/factory/aws/aws.go`): Gardener's webhook then makes the NLB dual
//! stack on a dual-stack shoot, as it does for any new `LoadBalancer` Service.

use serde_json::{json, Value};
use twinstack_core::runtime::Provider;

/// The Istio module's proxy image (kyma-project/istio `config/manager/env-images.yaml`).
pub const PROXY_IMAGE: &str =
    "europe-docker.pkg.dev/kyma-project/prod/external/istio/proxyv2:1.30.2-distroless";

pub const KYMA_SYSTEM: &str = "kyma-system";
pub const ISTIO_SYSTEM: &str = "istio-system";
pub const GATEWAY_SERVICE: &str = "istio-ingressgateway";
pub const KYMA_GATEWAY: &str = "kyma-gateway";
/// The default modules the runtime's `Kyma` resource lists. istio, api-gateway and
/// btp-operator are Kyma's default modules; serverless is added so that Kyma's Function
/// examples apply (on a real runtime a user adds it).
pub const MODULES: [&str; 4] = ["istio", "api-gateway", "btp-operator", "serverless"];

/// The facts of the runtime the objects depend on.
pub struct Facts<'a> {
    pub runtime: &'a str,
    pub provider: Provider,
}

/// The runtime's domain, under which the Kyma gateway serves `*.<domain>` (a Kyma runtime's
/// shoot domain, `<shoot>.kyma.ondemand.com` in SAP's production landscape).
pub fn domain(runtime: &str) -> String {
    format!("{runtime}.kyma.ondemand.com")
}

/// One object to create: API group, resource plural, namespace, body, and the status its
/// controller reports once it exists (written through the status subresource).
pub struct Object {
    pub group: &'static str,
    pub plural: &'static str,
    pub namespace: Option<&'static str>,
    pub body: Value,
    pub status: Option<Value>,
}

fn obj(group: &'static str, plural: &'static str, ns: Option<&'static str>, body: Value) -> Object {
    Object {
        group,
        plural,
        namespace: ns,
        body,
        status: None,
    }
}

fn ready(mut o: Object) -> Object {
    o.status = Some(json!({"state": "Ready"}));
    o
}

fn gateway_labels() -> Value {
    json!({"app": GATEWAY_SERVICE, "istio": "ingressgateway"})
}

/// The ingress gateway Service's annotations: the Istio module's per provider (`aws.go`; the
/// module sets none elsewhere).
fn gateway_annotations(provider: Provider) -> Value {
    match provider {
        Provider::Aws => json!({
            "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
            "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "instance",
        }),
        // Google Cloud: a plain external passthrough load balancer. Other providers are not
        // emulated (no dual stack): they get the same.
        _ => json!({}),
    }
}

/// The objects, in creation order (namespaces first).
pub fn objects(f: &Facts<'_>) -> Vec<Object> {
    let domain = domain(f.runtime);
    let wildcard = format!("*.{domain}");
    let module_labels = json!({"operator.kyma-project.io/managed-by": "lifecycle-manager"});
    let modules: Vec<Value> = MODULES.iter().map(|m| json!({"name": m})).collect();
    let module_status: Vec<Value> = MODULES
        .iter()
        .map(|m| json!({"name": m, "channel": "regular", "state": "Ready"}))
        .collect();
    let mut kyma = obj(
        "operator.kyma-project.io",
        "kymas",
        Some(KYMA_SYSTEM),
        json!({
            "apiVersion": "operator.kyma-project.io/v1beta2", "kind": "Kyma",
            "metadata": {"name": "default", "namespace": KYMA_SYSTEM, "labels": module_labels},
            "spec": {"channel": "regular", "modules": modules},
        }),
    );
    kyma.status = Some(json!({"state": "Ready", "modules": module_status}));
    vec![
        obj(
            "",
            "namespaces",
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": KYMA_SYSTEM}}),
        ),
        obj(
            "",
            "namespaces",
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ISTIO_SYSTEM, "labels": {"istio-injection": "disabled"}}}),
        ),
        kyma,
        ready(obj(
            "operator.kyma-project.io",
            "istios",
            Some(KYMA_SYSTEM),
            json!({"apiVersion": "operator.kyma-project.io/v1alpha2", "kind": "Istio",
                   "metadata": {"name": "default", "namespace": KYMA_SYSTEM}, "spec": {}}),
        )),
        ready(obj(
            "operator.kyma-project.io",
            "apigateways",
            None,
            json!({"apiVersion": "operator.kyma-project.io/v1alpha1", "kind": "APIGateway",
                   "metadata": {"name": "default"}, "spec": {"enableKymaGateway": true}}),
        )),
        ready(obj(
            "operator.kyma-project.io",
            "btpoperators",
            Some(KYMA_SYSTEM),
            json!({"apiVersion": "operator.kyma-project.io/v1alpha1", "kind": "BtpOperator",
                   "metadata": {"name": "btpoperator", "namespace": KYMA_SYSTEM}, "spec": {}}),
        )),
        ready(obj(
            "operator.kyma-project.io",
            "serverlesses",
            Some(KYMA_SYSTEM),
            json!({"apiVersion": "operator.kyma-project.io/v1alpha1", "kind": "Serverless",
                   "metadata": {"name": "default", "namespace": KYMA_SYSTEM}, "spec": {}}),
        )),
        obj(
            "",
            "serviceaccounts",
            Some(ISTIO_SYSTEM),
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "istio-ingressgateway-service-account", "namespace": ISTIO_SYSTEM, "labels": gateway_labels()}}),
        ),
        obj(
            "apps",
            "deployments",
            Some(ISTIO_SYSTEM),
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": GATEWAY_SERVICE, "namespace": ISTIO_SYSTEM, "labels": gateway_labels()},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": gateway_labels()},
                    "template": {
                        "metadata": {"labels": gateway_labels(), "annotations": {"sidecar.istio.io/inject": "false"}},
                        "spec": {
                            "serviceAccountName": "istio-ingressgateway-service-account",
                            "containers": [{
                                "name": "istio-proxy", "image": PROXY_IMAGE,
                                "args": ["proxy", "router", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
                                "ports": [
                                    {"name": "status-port", "containerPort": 15021, "protocol": "TCP"},
                                    {"name": "http2", "containerPort": 8080, "protocol": "TCP"},
                                    {"name": "https", "containerPort": 8443, "protocol": "TCP"},
                                ],
                            }],
                        }
                    }
                }
            }),
        ),
        obj(
            "",
            "services",
            Some(ISTIO_SYSTEM),
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": GATEWAY_SERVICE, "namespace": ISTIO_SYSTEM, "labels": gateway_labels(),
                             "annotations": gateway_annotations(f.provider)},
                "spec": {
                    "type": "LoadBalancer",
                    "selector": gateway_labels(),
                    "ports": [
                        {"name": "status-port", "port": 15021, "targetPort": 15021, "protocol": "TCP"},
                        {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                        {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"},
                    ],
                }
            }),
        ),
        obj(
            "networking.istio.io",
            "gateways",
            Some(KYMA_SYSTEM),
            json!({
                "apiVersion": "networking.istio.io/v1", "kind": "Gateway",
                "metadata": {"name": KYMA_GATEWAY, "namespace": KYMA_SYSTEM,
                             "labels": {"kyma-project.io/module": "api-gateway", "app.kubernetes.io/managed-by": "api-gateway"}},
                "spec": {
                    "selector": gateway_labels(),
                    "servers": [
                        {"hosts": [wildcard], "port": {"name": "https", "number": 443, "protocol": "HTTPS"},
                         "tls": {"mode": "SIMPLE", "credentialName": "kyma-gateway-certs"}},
                        {"hosts": [wildcard], "port": {"name": "http", "number": 80, "protocol": "HTTP"},
                         "tls": {"httpsRedirect": true}},
                    ]
                }
            }),
        ),
        obj(
            "dns.gardener.cloud",
            "dnsentries",
            Some(KYMA_SYSTEM),
            json!({
                "apiVersion": "dns.gardener.cloud/v1alpha1", "kind": "DNSEntry",
                "metadata": {"name": KYMA_GATEWAY, "namespace": KYMA_SYSTEM,
                             "annotations": {"dns.gardener.cloud/class": "garden"},
                             "labels": {"kyma-project.io/module": "api-gateway", "app.kubernetes.io/managed-by": "api-gateway"}},
                "spec": {"dnsName": wildcard, "ttl": 600, "targets": []},
            }),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(objs: &'a [Object], plural: &str, name: &str) -> &'a Object {
        objs.iter()
            .find(|o| o.plural == plural && o.body["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{plural}/{name}"))
    }

    #[test]
    fn the_gateway_service_has_the_istio_modules_annotations_per_provider() {
        for (provider, nlb) in [(Provider::Aws, true), (Provider::Gcp, false)] {
            let objs = objects(&Facts {
                runtime: "rt",
                provider,
            });
            let svc = &find(&objs, "services", GATEWAY_SERVICE).body;
            assert_eq!(svc["spec"]["type"], "LoadBalancer");
            // The released module sets no families: the cluster's default policy applies.
            assert!(svc["spec"].get("ipFamilyPolicy").is_none());
            let a = &svc["metadata"]["annotations"];
            assert_eq!(
                a.get("service.beta.kubernetes.io/aws-load-balancer-type")
                    .is_some(),
                nlb
            );
        }
    }

    #[test]
    fn namespaces_come_first_and_the_gateway_serves_the_runtime_domain() {
        let objs = objects(&Facts {
            runtime: "rt1",
            provider: Provider::Aws,
        });
        assert_eq!(objs[0].plural, "namespaces");
        assert_eq!(objs[1].plural, "namespaces");
        let gw = &find(&objs, "gateways", KYMA_GATEWAY).body;
        assert_eq!(
            gw["spec"]["servers"][0]["hosts"][0],
            "*.rt1.kyma.ondemand.com"
        );
        let kyma = find(&objs, "kymas", "default");
        assert_eq!(kyma.status.as_ref().unwrap()["modules"][0]["name"], "istio");
    }
}
