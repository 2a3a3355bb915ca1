//! The CustomResourceDefinitions a Kyma runtime serves with its default modules, written from
//! the modules' Go types (their CRDs are generated from them):
//!
//! - api-gateway (kyma-project/api-gateway `apis/gateway/v2`, `apis/gateway/v2alpha1`): APIRule
//!   `v2` and `v2alpha1` with the `+kubebuilder` validations of the types (enums, patterns,
//!   bounds, CEL rules with their messages), printer columns and the status subresource.
//!   `v1beta1` is left out: the module no longer supports it.
//! - Istio (istio/api): the `networking.istio.io`, `security.istio.io` and
//!   `telemetry.istio.io` kinds with their versions, short names, categories and printer
//!   columns. Their `spec` keeps unknown fields (as Istio's CRDs did before they carried full
//!   schemas): its top-level fields are typed, the rest is Istio's to validate.
//! - serverless (kyma-project/serverless `components/buildless-serverless/api/v1alpha2`):
//!   Function (buildless) with its runtimes, CEL rules, printer columns and the `scale`
//!   subresource.
//! - btp-operator (SAP/sap-btp-service-operator `api/v1`): ServiceInstance and ServiceBinding.
//! - lifecycle-manager and the module managers (`operator.kyma-project.io`): Kyma, Istio,
//!   APIGateway, BtpOperator, Serverless.
//! - Gardener's dns-controller-manager (`dns.gardener.cloud/v1alpha1`): DNSEntry.

use serde_json::{json, Map, Value};

/// One version of a definition: name, storage.
type Version = (&'static str, bool);

/// One definition, in the few words that differ between them.
struct Def {
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    versions: &'static [Version],
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    /// (name, JSONPath, type) of each printer column before `Age`.
    columns: &'static [(&'static str, &'static str, &'static str)],
    spec: Value,
    status: Value,
    /// `scale` subresource: (specReplicasPath, statusReplicasPath, labelSelectorPath).
    scale: Option<(&'static str, &'static str, &'static str)>,
    /// Deprecation warnings by version.
    deprecated: &'static [(&'static str, &'static str)],
}

impl Def {
    fn render(self) -> Value {
        let mut columns: Vec<Value> = self
            .columns
            .iter()
            .map(|(name, path, ty)| json!({"name": name, "jsonPath": path, "type": ty}))
            .collect();
        columns.push(
            json!({"name": "Age", "jsonPath": ".metadata.creationTimestamp", "type": "date"}),
        );
        let mut props = Map::new();
        props.insert("apiVersion".into(), json!({"type": "string"}));
        props.insert("kind".into(), json!({"type": "string"}));
        props.insert("metadata".into(), json!({"type": "object"}));
        props.insert("spec".into(), self.spec);
        props.insert("status".into(), self.status);
        let schema = json!({"openAPIV3Schema": {"type": "object", "properties": props}});
        let mut subresources = json!({"status": {}});
        if let Some((spec, status, selector)) = self.scale {
            subresources["scale"] = json!({"specReplicasPath": spec, "statusReplicasPath": status, "labelSelectorPath": selector});
        }
        let versions: Vec<Value> = self
            .versions
            .iter()
            .map(|(name, storage)| {
                let mut v = json!({
                    "name": name, "served": true, "storage": storage,
                    "schema": schema, "subresources": subresources,
                    "additionalPrinterColumns": columns,
                });
                if let Some((_, w)) = self.deprecated.iter().find(|(n, _)| n == name) {
                    v["deprecated"] = json!(true);
                    v["deprecationWarning"] = json!(w);
                }
                v
            })
            .collect();
        let singular = self.kind.to_lowercase();
        let mut names = json!({
            "kind": self.kind, "listKind": format!("{}List", self.kind),
            "plural": self.plural, "singular": singular,
        });
        if !self.short_names.is_empty() {
            names["shortNames"] = json!(self.short_names);
        }
        if !self.categories.is_empty() {
            names["categories"] = json!(self.categories);
        }
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {
                "name": format!("{}.{}", self.plural, self.group),
                "labels": {"app.kubernetes.io/managed-by": "kyma"},
            },
            "spec": {
                "group": self.group,
                "names": names,
                "scope": if self.namespaced { "Namespaced" } else { "Cluster" },
                "versions": versions,
            }
        })
    }
}

fn string() -> Value {
    json!({"type": "string"})
}

fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}

fn string_map() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}

fn open() -> Value {
    json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true})
}

/// An object with typed `props` that keeps any other field.
fn open_with(props: Value) -> Value {
    json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": props})
}

/// The `status` of the module resources (lifecycle-manager's `shared.Status`).
fn module_status() -> Value {
    open_with(json!({
        "state": {"type": "string", "enum": ["Processing", "Deleting", "Ready", "Error", "Warning", ""]},
        "description": string(),
        "conditions": {"type": "array", "items": open()},
    }))
}

/// `^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$`, the
/// namespace/name of an APIRule's gateway.
const GATEWAY_NAME: &str =
    r"self.matches('^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)$')";

/// The host rule of `apis/gateway/v2/apirule_types.go` (`Host`).
const HOST_RULE: &str = r"self.matches('^(?:\\*\\.(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z0-9]{2,63}|(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:(?:\\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?:\\.[a-z0-9]{2,63}))?)$')";
const HOST_MESSAGE: &str = "Host must be a lowercase RFC 1123 label (must consist of lowercase alphanumeric characters or '-', and must start and end with an lowercase alphanumeric character), a fully qualified domain name, or a wildcard domain name (e.g. *.local.kyma.dev)";

fn apirule_service() -> Value {
    json!({
        "type": "object",
        "required": ["name", "port"],
        "properties": {
            "name": string(),
            "namespace": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
            "port": {"type": "integer", "format": "int32", "minimum": 1, "maximum": 65535},
            "external": {"type": "boolean"},
        }
    })
}

fn jwt_authentications() -> Value {
    json!({"type": "array", "items": {
        "type": "object", "required": ["issuer", "jwksUri"],
        "properties": {
            "issuer": string(), "jwksUri": string(),
            "fromHeaders": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {"name": string(), "prefix": string()}}},
            "fromParams": strings(),
        }
    }})
}

fn jwt_authorizations() -> Value {
    json!({"type": "array", "items": {"type": "object", "properties": {"requiredScopes": strings(), "audiences": strings()}}})
}

/// `APIRuleSpec` of `apis/gateway/v2` (v2alpha1 has the same fields).
fn apirule_spec() -> Value {
    let rule = json!({
        "type": "object",
        "required": ["methods", "path"],
        "properties": {
            "path": {"type": "string", "pattern": r"^((\/([A-Za-z0-9-._~!$&'()+,;=:@]|%[0-9a-fA-F]{2})*)|(\/\{\*{1,2}\}))+$|^\/\*$"},
            "service": apirule_service(),
            "methods": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]}},
            "noAuth": {"type": "boolean"},
            "jwt": {"type": "object", "properties": {"authentications": jwt_authentications(), "authorizations": jwt_authorizations()}},
            "extAuth": {"type": "object", "required": ["authorizers"], "properties": {
                "authorizers": {"type": "array", "minItems": 1, "items": string()},
                "restrictions": {"type": "object", "properties": {"authentications": jwt_authentications(), "authorizations": jwt_authorizations()}},
            }},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 3900},
            "request": {"type": "object", "properties": {"cookies": string_map(), "headers": string_map()}},
        },
        "x-kubernetes-validations": [{
            "rule": "((has(self.extAuth)?1:0)+(has(self.jwt)?1:0)+((has(self.noAuth)&&self.noAuth==true)?1:0))==1",
            "message": "One of the following fields must be set: noAuth, jwt, extAuth",
        }],
    });
    json!({
        "type": "object",
        "required": ["hosts", "rules"],
        "properties": {
            "hosts": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "string", "maxLength": 255,
                "x-kubernetes-validations": [{"rule": HOST_RULE, "message": HOST_MESSAGE}],
            }},
            "service": apirule_service(),
            "gateway": {"type": "string", "maxLength": 127, "x-kubernetes-validations": [{"rule": GATEWAY_NAME, "message": "Gateway must be in the namespace/name format"}]},
            "externalGateway": {"type": "string", "maxLength": 127, "x-kubernetes-validations": [{"rule": GATEWAY_NAME, "message": "ExternalGateway must be in the namespace/name format"}]},
            "corsPolicy": {"type": "object", "properties": {
                "allowHeaders": strings(), "allowMethods": strings(),
                "allowOrigins": {"type": "array", "items": string_map()},
                "allowCredentials": {"type": "boolean"}, "exposeHeaders": strings(),
                "maxAge": {"type": "integer", "format": "int64", "minimum": 1},
            }},
            "rules": {"type": "array", "minItems": 1, "items": rule},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 3900},
        }
    })
}

fn apirule() -> Def {
    Def {
        group: "gateway.kyma-project.io",
        kind: "APIRule",
        plural: "apirules",
        namespaced: true,
        // As the module's CRD: v2alpha1 is the storage version, v2 the one users write.
        versions: &[("v2", false), ("v2alpha1", true)],
        short_names: &[],
        categories: &["kyma-api-gateway"],
        columns: &[
            ("Status", ".status.state", "string"),
            ("Hosts", ".spec.hosts", "string"),
        ],
        spec: apirule_spec(),
        status: json!({"type": "object", "required": ["state"], "properties": {
            "state": {"type": "string", "enum": ["Processing", "Deleting", "Ready", "Error", "Warning"]},
            "description": string(),
            "lastProcessedTime": {"type": "string", "format": "date-time"},
            "conditions": {"type": "array", "items": open()},
        }}),
        scale: None,
        deprecated: &[],
    }
}

/// An Istio kind: its `spec` typed at the top (`props`), open below.
#[allow(clippy::too_many_arguments)]
fn istio(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    versions: &'static [Version],
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
    columns: &'static [(&'static str, &'static str, &'static str)],
    props: Value,
) -> Def {
    Def {
        group,
        kind,
        plural,
        namespaced: true,
        versions,
        short_names,
        categories,
        columns,
        spec: open_with(props),
        status: open(),
        scale: None,
        deprecated: &[],
    }
}

const NETWORKING: &[Version] = &[("v1", false), ("v1alpha3", true), ("v1beta1", false)];
const SECURITY: &[Version] = &[("v1", false), ("v1beta1", true)];
const NET_CATEGORIES: &[&str] = &["istio-io", "networking-istio-io"];
const SEC_CATEGORIES: &[&str] = &["istio-io", "security-istio-io"];

fn istio_kinds() -> Vec<Def> {
    let selector = json!({"type": "object", "properties": {"matchLabels": string_map()}});
    vec![
        istio(
            "networking.istio.io",
            "VirtualService",
            "virtualservices",
            NETWORKING,
            &["vs"],
            NET_CATEGORIES,
            &[
                ("Gateways", ".spec.gateways", "string"),
                ("Hosts", ".spec.hosts", "string"),
            ],
            json!({"hosts": strings(), "gateways": strings(), "exportTo": strings(),
                   "http": {"type": "array", "items": open()}, "tcp": {"type": "array", "items": open()},
                   "tls": {"type": "array", "items": open()}}),
        ),
        istio(
            "networking.istio.io",
            "Gateway",
            "gateways",
            NETWORKING,
            &["gw"],
            NET_CATEGORIES,
            &[],
            json!({"selector": string_map(), "servers": {"type": "array", "items": open_with(json!({
                "hosts": strings(), "name": string(),
                "port": open_with(json!({"number": {"type": "integer", "minimum": 0, "maximum": 4294967295u64}, "name": string(), "protocol": string()})),
            }))}}),
        ),
        istio(
            "networking.istio.io",
            "DestinationRule",
            "destinationrules",
            NETWORKING,
            &["dr"],
            NET_CATEGORIES,
            &[("Host", ".spec.host", "string")],
            json!({"host": string(), "exportTo": strings(), "trafficPolicy": open(),
                   "subsets": {"type": "array", "items": open()}, "workloadSelector": selector}),
        ),
        istio(
            "networking.istio.io",
            "ServiceEntry",
            "serviceentries",
            NETWORKING,
            &["se"],
            NET_CATEGORIES,
            &[
                ("Hosts", ".spec.hosts", "string"),
                ("Location", ".spec.location", "string"),
                ("Resolution", ".spec.resolution", "string"),
            ],
            json!({"hosts": strings(), "addresses": strings(), "exportTo": strings(),
                   "location": {"type": "string", "enum": ["MESH_EXTERNAL", "MESH_INTERNAL"]},
                   "resolution": {"type": "string", "enum": ["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"]},
                   "ports": {"type": "array", "items": open()}, "endpoints": {"type": "array", "items": open()}}),
        ),
        istio(
            "networking.istio.io",
            "Sidecar",
            "sidecars",
            NETWORKING,
            &[],
            NET_CATEGORIES,
            &[],
            json!({"workloadSelector": selector, "egress": {"type": "array", "items": open()},
                   "ingress": {"type": "array", "items": open()}, "outboundTrafficPolicy": open()}),
        ),
        istio(
            "networking.istio.io",
            "WorkloadEntry",
            "workloadentries",
            NETWORKING,
            &["we"],
            NET_CATEGORIES,
            &[("Address", ".spec.address", "string")],
            json!({"address": string(), "labels": string_map(), "ports": open(), "network": string()}),
        ),
        istio(
            "networking.istio.io",
            "WorkloadGroup",
            "workloadgroups",
            NETWORKING,
            &["wg"],
            NET_CATEGORIES,
            &[],
            json!({"metadata": open(), "template": open(), "probe": open()}),
        ),
        istio(
            "networking.istio.io",
            "EnvoyFilter",
            "envoyfilters",
            &[("v1alpha3", true)],
            &[],
            NET_CATEGORIES,
            &[],
            json!({"workloadSelector": open(), "configPatches": {"type": "array", "items": open()}, "priority": {"type": "integer"}}),
        ),
        istio(
            "security.istio.io",
            "AuthorizationPolicy",
            "authorizationpolicies",
            SECURITY,
            &["ap"],
            SEC_CATEGORIES,
            &[("Action", ".spec.action", "string")],
            json!({"selector": selector, "action": {"type": "string", "enum": ["ALLOW", "DENY", "AUDIT", "CUSTOM"]},
                   "rules": {"type": "array", "items": open()}, "provider": open()}),
        ),
        istio(
            "security.istio.io",
            "PeerAuthentication",
            "peerauthentications",
            SECURITY,
            &["pa"],
            SEC_CATEGORIES,
            &[("Mode", ".spec.mtls.mode", "string")],
            json!({"selector": selector, "mtls": {"type": "object", "properties": {"mode": {"type": "string", "enum": ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"]}}},
                   "portLevelMtls": open()}),
        ),
        istio(
            "security.istio.io",
            "RequestAuthentication",
            "requestauthentications",
            SECURITY,
            &["ra"],
            SEC_CATEGORIES,
            &[],
            json!({"selector": selector, "jwtRules": {"type": "array", "items": open()}}),
        ),
        istio(
            "telemetry.istio.io",
            "Telemetry",
            "telemetries",
            &[("v1", false), ("v1alpha1", true)],
            &["telemetry"],
            &["istio-io", "telemetry-istio-io"],
            &[],
            json!({"selector": selector, "tracing": {"type": "array", "items": open()},
                   "metrics": {"type": "array", "items": open()}, "accessLogging": {"type": "array", "items": open()}}),
        ),
    ]
}

fn function() -> Def {
    Def {
        group: "serverless.kyma-project.io",
        kind: "Function",
        plural: "functions",
        namespaced: true,
        versions: &[("v1alpha2", true)],
        short_names: &["fn", "fns"],
        categories: &["all"],
        columns: &[
            (
                "Configured",
                ".status.conditions[?(@.type=='ConfigurationReady')].status",
                "string",
            ),
            (
                "Running",
                ".status.conditions[?(@.type=='Running')].status",
                "string",
            ),
            ("Runtime", ".spec.runtime", "string"),
            ("Version", ".metadata.generation", "integer"),
        ],
        spec: json!({
            "type": "object",
            "required": ["runtime", "source"],
            "properties": {
                "runtime": {"type": "string", "enum": ["nodejs20", "nodejs22", "nodejs24", "python312"]},
                "runtimeImageOverride": string(),
                "source": {"type": "object", "properties": {
                    "inline": {"type": "object", "required": ["source"], "properties": {"source": {"type": "string", "minLength": 1}, "dependencies": string()}},
                    "gitRepository": {"type": "object", "required": ["url"], "properties": {
                        "url": string(), "baseDir": string(), "reference": string(),
                        "auth": {"type": "object", "required": ["secretName", "type"], "properties": {"secretName": string(), "type": {"type": "string", "enum": ["basic", "key"]}}},
                    }, "x-kubernetes-validations": [
                        {"rule": "has(self.baseDir) && (self.baseDir.trim().size() != 0)", "message": "BaseDir is required and cannot be empty"},
                        {"rule": "has(self.reference) && (self.reference.trim().size() != 0)", "message": "Reference is required and cannot be empty"},
                    ]},
                }, "x-kubernetes-validations": [{
                    "rule": "has(self.gitRepository) && !has(self.inline) || !has(self.gitRepository) && has(self.inline)",
                    "message": "Use GitRepository or Inline source",
                }]},
                "env": {"type": "array", "items": open(), "x-kubernetes-validations": [{
                    "rule": "(self.all(e, !(e.name in ['FUNC_RUNTIME','FUNC_HANDLER','FUNC_PORT','FUNC_HANDLER_SOURCE','FUNC_HANDLER_DEPENDENCIES','MOD_NAME','NODE_PATH','PYTHONPATH'])))",
                    "message": "Following envs are reserved and cannot be used: ['FUNC_RUNTIME','FUNC_HANDLER','FUNC_PORT','FUNC_HANDLER_SOURCE','FUNC_HANDLER_DEPENDENCIES','MOD_NAME','NODE_PATH','PYTHONPATH']",
                }]},
                "resourceConfiguration": open(),
                "replicas": {"type": "integer", "format": "int32", "minimum": 0, "default": 1},
                "scaleConfig": open(),
                "secretMounts": {"type": "array", "items": open()},
                "podSecurityContext": open(),
                "containerSecurityContext": open(),
                "labels": {"type": "object", "additionalProperties": {"type": "string"}, "x-kubernetes-validations": [
                    {"rule": "!(self.exists(e, e.startsWith('serverless.kyma-project.io/')))", "message": "Labels has key starting with serverless.kyma-project.io/ which is not allowed"},
                    {"rule": "self.all(e, size(e)<64)", "message": "Label value cannot be longer than 63"},
                ]},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}, "x-kubernetes-validations": [
                    {"rule": "!(self.exists(e, e.startsWith('serverless.kyma-project.io/')))", "message": "Annotations has key starting with serverless.kyma-project.io/ which is not allowed"},
                    {"rule": "!(self.exists(e, e=='proxy.istio.io/config'))", "message": "Annotations has key proxy.istio.io/config which is not allowed"},
                ]},
            }
        }),
        status: open_with(json!({
            "replicas": {"type": "integer", "format": "int32"},
            "podSelector": string(),
            "runtime": string(),
            "conditions": {"type": "array", "items": open()},
        })),
        scale: Some((".spec.replicas", ".status.replicas", ".status.podSelector")),
        deprecated: &[],
    }
}

fn btp_kinds() -> Vec<Def> {
    let parameters_from = json!({"type": "array", "items": {"type": "object", "properties": {
        "secretKeyRef": {"type": "object", "required": ["key", "name"], "properties": {"key": string(), "name": string()}},
    }}});
    let status = open_with(json!({
        "ready": {"type": "string"},
        "conditions": {"type": "array", "items": open()},
        "instanceID": string(),
        "bindingID": string(),
    }));
    vec![
        Def {
            group: "services.cloud.sap.com",
            kind: "ServiceInstance",
            plural: "serviceinstances",
            namespaced: true,
            versions: &[("v1", true)],
            short_names: &[],
            categories: &[],
            columns: &[
                ("Offering", ".spec.serviceOfferingName", "string"),
                ("Plan", ".spec.servicePlanName", "string"),
                ("shared", ".spec.shared", "boolean"),
                ("dataCenter", ".spec.dataCenter", "string"),
                ("Status", ".status.conditions[0].reason", "string"),
                ("Ready", ".status.ready", "string"),
            ],
            spec: json!({
                "type": "object",
                "required": ["serviceOfferingName", "servicePlanName"],
                "properties": {
                    "serviceOfferingName": string(), "servicePlanName": string(),
                    "servicePlanID": string(), "externalName": string(),
                    "btpAccessCredentialsSecret": string(), "dataCenter": string(),
                    "shared": {"type": "boolean"}, "customTags": strings(),
                    "parameters": open(), "parametersFrom": parameters_from,
                    "userInfo": open(), "watchParametersFromChanges": {"type": "boolean"},
                }
            }),
            status: status.clone(),
            scale: None,
            deprecated: &[],
        },
        Def {
            group: "services.cloud.sap.com",
            kind: "ServiceBinding",
            plural: "servicebindings",
            namespaced: true,
            versions: &[("v1", true)],
            short_names: &[],
            categories: &[],
            columns: &[
                ("Instance", ".spec.serviceInstanceName", "string"),
                ("Status", ".status.conditions[0].reason", "string"),
                ("Ready", ".status.ready", "string"),
            ],
            spec: json!({
                "type": "object",
                "required": ["serviceInstanceName"],
                "properties": {
                    "serviceInstanceName": string(), "serviceInstanceNamespace": string(),
                    "externalName": string(), "secretName": string(), "secretKey": string(),
                    "secretRootKey": string(), "parameters": open(), "parametersFrom": parameters_from,
                    "credRotationPolicy": open(), "secretTemplate": string(), "userInfo": open(),
                }
            }),
            status,
            scale: None,
            deprecated: &[],
        },
    ]
}

/// A module resource of `operator.kyma-project.io` (state printed, spec open).
fn module(
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
    versions: &'static [Version],
    categories: &'static [&'static str],
) -> Def {
    Def {
        group: "operator.kyma-project.io",
        kind,
        plural,
        namespaced,
        versions,
        short_names: &[],
        categories,
        columns: &[("State", ".status.state", "string")],
        spec: open(),
        status: module_status(),
        scale: None,
        deprecated: &[],
    }
}

fn dns_entry() -> Def {
    Def {
        group: "dns.gardener.cloud",
        kind: "DNSEntry",
        plural: "dnsentries",
        namespaced: true,
        versions: &[("v1alpha1", true)],
        short_names: &["dnse"],
        categories: &["all"],
        columns: &[
            ("DNS", ".spec.dnsName", "string"),
            ("Type", ".status.providerType", "string"),
            ("Provider", ".status.provider", "string"),
            ("Status", ".status.state", "string"),
        ],
        spec: json!({
            "type": "object",
            "required": ["dnsName"],
            "properties": {
                "dnsName": string(), "targets": strings(), "text": strings(),
                "ttl": {"type": "integer", "format": "int64"}, "ownerId": string(),
                "cnameLookupInterval": {"type": "integer", "format": "int64"},
                "routingPolicy": open(), "reference": open(),
            }
        }),
        status: open_with(json!({
            "state": string(), "message": string(), "targets": strings(),
            "ttl": {"type": "integer", "format": "int64"}, "zone": string(),
            "provider": string(), "providerType": string(),
            "observedGeneration": {"type": "integer", "format": "int64"},
        })),
        scale: None,
        deprecated: &[],
    }
}

/// Every definition a Kyma runtime starts with, in the order they are created.
pub fn definitions() -> Vec<Value> {
    let mut defs = vec![apirule()];
    defs.extend(istio_kinds());
    defs.push(function());
    defs.extend(btp_kinds());
    defs.push(module(
        "Kyma",
        "kymas",
        true,
        &[("v1beta2", true)],
        &["kyma-modules"],
    ));
    defs.push(module(
        "Istio",
        "istios",
        true,
        &[("v1alpha2", true)],
        &["kyma-modules", "kyma-istio"],
    ));
    defs.push(module(
        "APIGateway",
        "apigateways",
        false,
        &[("v1alpha1", true)],
        &["kyma-modules", "kyma-api-gateway"],
    ));
    defs.push(module(
        "BtpOperator",
        "btpoperators",
        true,
        &[("v1alpha1", true)],
        &["kyma-modules"],
    ));
    defs.push(module(
        "Serverless",
        "serverlesses",
        true,
        &[("v1alpha1", true)],
        &["kyma-modules", "kyma-serverless"],
    ));
    defs.push(dns_entry());
    defs.into_iter().map(Def::render).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

    #[test]
    fn every_definition_is_valid_for_kube_apiserver() {
        let defs = definitions();
        let mut names = std::collections::BTreeSet::new();
        for d in &defs {
            let crd: CustomResourceDefinition =
                serde_json::from_value(d.clone()).expect("a CRD decodes");
            let mut crd = crd;
            twinstack_kube::apiextensions::validation::set_defaults(&mut crd);
            let errs = twinstack_kube::apiextensions::validation::validate(&crd);
            assert!(
                errs.is_empty(),
                "{}: {errs:?}",
                crd.metadata.name.as_deref().unwrap()
            );
            assert!(names.insert(crd.metadata.name.clone().unwrap()), "unique");
        }
        assert!(names.contains("apirules.gateway.kyma-project.io"));
        assert!(names.contains("virtualservices.networking.istio.io"));
        assert!(names.contains("dnsentries.dns.gardener.cloud"));
    }
}
