use super::*;
use k8s_openapi::api::core::v1::{Container, PodSpec};

fn pod(containers: &[&str]) -> Pod {
    Pod {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("web".into()),
            namespace: Some("shop".into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: containers
                .iter()
                .map(|n| Container {
                    name: n.to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        status: None,
    }
}

#[test]
fn a_container_must_be_named_among_several() {
    assert_eq!(validate_container("", &pod(&["a"])).unwrap(), "a");
    assert_eq!(
        validate_container("", &pod(&["a", "b"]))
            .unwrap_err()
            .message,
        "a container name must be specified for pod web, choose one of: [a b]"
    );
    assert_eq!(
        validate_container("x", &pod(&["a"])).unwrap_err().message,
        "container x is not valid for pod web"
    );
}

#[test]
fn a_container_without_status_is_waiting_to_start() {
    assert_eq!(
        container_log_status(&pod(&["a"]), "a", false)
            .unwrap_err()
            .message,
        "container \"a\" in pod \"web\" is waiting to start: ContainerCreating"
    );
}

#[test]
fn exit_codes_become_the_error_streams_status() {
    let argv: Vec<String> = ["sh", "-c", "exit 3"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let s = remotecommand::exit_status(&argv, 3);
    assert_eq!(s["reason"], "NonZeroExitCode");
    assert_eq!(
        s["details"]["causes"][0],
        serde_json::json!({"reason": "ExitCode", "message": "3"})
    );
    assert_eq!(remotecommand::exit_status(&argv, 0)["status"], "Success");
}
