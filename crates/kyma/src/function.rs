//! The serverless module's Function controller (kyma-project/serverless
//! `components/buildless-serverless`, `internal/controller/resources/{service,deployment}.go`,
//! `internal/controller/state`): a Function runs as a Deployment `<name>-<suffix>` of the
//! runtime image with the inline source in the environment, behind a Service `<name>` on port
//! 80 (`http`, to 8080); its status has `ConfigurationReady` and `Running` as the module sets
//! them, `runtime`, `replicas` and the `podSelector` the `scale` subresource reads.

use serde_json::{json, Map, Value};

pub const NAME: &str = "serverless.kyma-project.io/function-name";
pub const MANAGED_BY: &str = "serverless.kyma-project.io/managed-by";
pub const UUID: &str = "serverless.kyma-project.io/uuid";
pub const RESOURCE: &str = "serverless.kyma-project.io/resource";

fn s<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or("")
}

/// `InternalFunctionLabels`.
fn internal(f: &Value) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(NAME.into(), json!(s(f, "/metadata/name")));
    m.insert(MANAGED_BY.into(), json!("function-controller"));
    m.insert(UUID.into(), json!(s(f, "/metadata/uid")));
    m
}

/// `SelectorLabels`.
pub fn selector(f: &Value) -> Map<String, Value> {
    let mut m = internal(f);
    m.insert(RESOURCE.into(), json!("deployment"));
    m
}

/// `FunctionLabels`: the Function's own labels and the internal ones.
fn function_labels(f: &Value) -> Map<String, Value> {
    let mut m = f
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    m.extend(internal(f));
    m
}

/// The runtime image (the module's `function-config`, `hack/function-config.yaml`).
pub fn runtime_image(runtime: &str) -> String {
    format!("europe-docker.pkg.dev/kyma-project/prod/function-runtime-{runtime}:main")
}

/// The Service `NewService` builds.
pub fn service(f: &Value) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": s(f, "/metadata/name"), "namespace": s(f, "/metadata/namespace"), "labels": function_labels(f)},
        "spec": {
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
            "selector": selector(f),
        }
    })
}

/// The Deployment `NewDeployment` builds (without its generated name).
pub fn deployment(f: &Value) -> Value {
    let name = s(f, "/metadata/name");
    let runtime = s(f, "/spec/runtime");
    let mut pod_labels = f
        .pointer("/spec/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    pod_labels.extend(selector(f));
    pod_labels.insert("app.kubernetes.io/name".into(), json!(name));
    let mut env = vec![
        json!({"name": "FUNC_RUNTIME", "value": runtime}),
        json!({"name": "FUNC_NAME", "value": name}),
        json!({"name": "FUNC_PORT", "value": "8080"}),
    ];
    if let Some(src) = f
        .pointer("/spec/source/inline/source")
        .and_then(Value::as_str)
    {
        env.push(json!({"name": "FUNC_HANDLER_SOURCE", "value": src}));
        env.push(json!({"name": "FUNC_HANDLER_DEPENDENCIES", "value": s(f, "/spec/source/inline/dependencies")}));
    }
    if let Some(user) = f.pointer("/spec/env").and_then(Value::as_array) {
        env.extend(user.iter().cloned());
    }
    let image = f
        .pointer("/spec/runtimeImageOverride")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| runtime_image(runtime));
    let mut annotations = f
        .pointer("/spec/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    annotations.insert(
        "proxy.istio.io/config".into(),
        json!("{ \"holdApplicationUntilProxyStarts\": true }"),
    );
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"generateName": format!("{name}-"), "namespace": s(f, "/metadata/namespace"), "labels": function_labels(f)},
        "spec": {
            "replicas": f.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1),
            "selector": {"matchLabels": selector(f)},
            "template": {
                "metadata": {"labels": pod_labels, "annotations": annotations},
                "spec": {"containers": [{
                    "name": "function", "image": image, "env": env,
                    "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                }]},
            }
        }
    })
}

/// The Function's status given its Deployment (name, ready replicas, replicas).
pub fn status(f: &Value, deployment: Option<(&str, i64, i64)>, now: &str) -> Value {
    let cond = |t: &str, st: &str, reason: &str, msg: String| json!({"type": t, "status": st, "reason": reason, "message": msg, "lastTransitionTime": now});
    let selector: Vec<String> = selector(f)
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    let mut conditions = vec![cond(
        "ConfigurationReady",
        "True",
        "FunctionSpecValidated",
        "Function configured".into(),
    )];
    let replicas = match deployment {
        Some((name, ready, want)) if ready >= want => {
            conditions.push(cond(
                "Running",
                "True",
                "DeploymentReady",
                format!("Deployment {name} is ready"),
            ));
            ready
        }
        Some((name, ready, _)) => {
            conditions.push(cond(
                "Running",
                "Unknown",
                "DeploymentWaiting",
                format!("Deployment {name} is not ready yet"),
            ));
            ready
        }
        None => 0,
    };
    json!({
        "conditions": conditions,
        "runtime": s(f, "/spec/runtime"),
        "replicas": replicas,
        "podSelector": selector.join(","),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn function() -> Value {
        json!({"metadata": {"name": "rest-fn", "namespace": "default", "uid": "u1", "labels": {"app": "x"}},
               "spec": {"runtime": "nodejs24", "replicas": 2,
                        "source": {"inline": {"source": "module.exports = {}"}},
                        "env": [{"name": "A", "value": "b"}]}})
    }

    #[test]
    fn a_function_runs_as_a_deployment_behind_a_service() {
        let f = function();
        let svc = service(&f);
        assert_eq!(svc["metadata"]["name"], "rest-fn");
        assert_eq!(
            svc["spec"]["ports"][0],
            json!({"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080})
        );
        assert_eq!(svc["spec"]["selector"][RESOURCE], "deployment");
        assert_eq!(svc["metadata"]["labels"]["app"], "x");
        let d = deployment(&f);
        assert_eq!(d["metadata"]["generateName"], "rest-fn-");
        assert_eq!(d["spec"]["replicas"], 2);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(
            c["image"],
            "europe-docker.pkg.dev/kyma-project/prod/function-runtime-nodejs24:main"
        );
        assert!(c["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "A"));
        assert_eq!(
            d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"],
            "rest-fn"
        );
    }

    #[test]
    fn status_follows_the_deployment() {
        let f = function();
        let st = status(&f, Some(("rest-fn-abcde", 2, 2)), "t");
        assert_eq!(st["conditions"][1]["reason"], "DeploymentReady");
        assert_eq!(
            st["conditions"][1]["message"],
            "Deployment rest-fn-abcde is ready"
        );
        assert_eq!(st["replicas"], 2);
        assert!(st["podSelector"]
            .as_str()
            .unwrap()
            .contains("serverless.kyma-project.io/function-name=rest-fn"));
        let st = status(&f, Some(("rest-fn-abcde", 0, 2)), "t");
        assert_eq!(st["conditions"][1]["status"], "Unknown");
    }
}
