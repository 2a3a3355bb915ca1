//! The status kubelet reports when a pod's containers exit (`pkg/kubelet/kubelet_pods.go`
//! `getPhase` and `convertToAPIContainerStatuses`): each container terminated with its exit
//! code (`Completed` for 0, `Error` otherwise, or the runtime's start error), the pod
//! `Succeeded` when every container exited 0 and `Failed` otherwise, not ready
//! (`PodCompleted`/`PodFailed`).

use k8s_openapi::api::core::v1::{ContainerState, ContainerStateTerminated, Pod, PodStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

/// How one container ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerExit {
    /// Its exit code.
    pub code: i32,
    /// The runtime's reason when it could not start (`StartError`); `None`: `Completed` for 0,
    /// `Error` otherwise.
    pub reason: Option<String>,
    /// The runtime's message (a start error's text).
    pub message: Option<String>,
}

/// containerd's start error for a command that is not in the image (exit code 128).
pub fn start_error(executable: &str) -> ContainerExit {
    ContainerExit {
        code: 128,
        reason: Some("StartError".into()),
        message: Some(format!(
            "failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: \"{executable}\": executable file not found in $PATH: unknown"
        )),
    }
}

/// The status once every container exited: `exits` by container name (a container not listed
/// exited 0).
pub fn completed_status(
    pod: &Pod,
    exits: &[(String, ContainerExit)],
    now: jiff::Timestamp,
) -> PodStatus {
    let mut st = pod.status.clone().unwrap_or_default();
    let exit_of = |name: &str| {
        exits
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e.clone())
            .unwrap_or_default()
    };
    let failed = pod
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .any(|c| exit_of(&c.name).code != 0);
    st.phase = Some(if failed { "Failed" } else { "Succeeded" }.into());
    let at = Time(now);
    let reason = if failed { "PodFailed" } else { "PodCompleted" };
    for c in st.conditions.iter_mut().flatten() {
        match c.type_.as_str() {
            "Ready" | "ContainersReady" => {
                c.status = "False".into();
                c.reason = Some(reason.into());
                c.message = None;
                c.last_transition_time = Some(at.clone());
            }
            "PodReadyToStartContainers" => {
                c.status = "False".into();
                c.last_transition_time = Some(at.clone());
            }
            _ => {}
        }
    }
    for cs in st.container_statuses.iter_mut().flatten() {
        let exit = exit_of(&cs.name);
        let started_at = cs
            .state
            .as_ref()
            .and_then(|s| s.running.as_ref())
            .and_then(|r| r.started_at.clone());
        cs.ready = false;
        cs.started = Some(false);
        let reason = exit
            .reason
            .clone()
            .unwrap_or_else(|| if exit.code == 0 { "Completed" } else { "Error" }.into());
        cs.state = Some(ContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: exit.code,
                reason: Some(reason),
                message: exit.message.clone(),
                // A container that never started has no start time.
                started_at: if exit.reason.is_some() {
                    None
                } else {
                    started_at
                },
                finished_at: Some(at.clone()),
                container_id: cs.container_id.clone(),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    st
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, ContainerStateRunning, ContainerStatus, PodSpec};

    fn running() -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![Container {
                    name: "c".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some("Running".into()),
                container_statuses: Some(vec![ContainerStatus {
                    name: "c".into(),
                    state: Some(ContainerState {
                        running: Some(ContainerStateRunning { started_at: None }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn now() -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000).unwrap()
    }

    fn terminated(st: &PodStatus) -> ContainerStateTerminated {
        st.container_statuses.as_ref().unwrap()[0]
            .state
            .clone()
            .unwrap()
            .terminated
            .unwrap()
    }

    #[test]
    fn exit_zero_succeeds_and_others_fail() {
        let ok = completed_status(&running(), &[], now());
        assert_eq!(ok.phase.as_deref(), Some("Succeeded"));
        assert_eq!(terminated(&ok).reason.as_deref(), Some("Completed"));
        let exit = ContainerExit {
            code: 7,
            ..Default::default()
        };
        let failed = completed_status(&running(), &[("c".into(), exit)], now());
        assert_eq!(failed.phase.as_deref(), Some("Failed"));
        assert_eq!(terminated(&failed).exit_code, 7);
        assert_eq!(terminated(&failed).reason.as_deref(), Some("Error"));
        let start = completed_status(&running(), &[("c".into(), start_error("foo"))], now());
        assert_eq!(terminated(&start).exit_code, 128);
        assert_eq!(terminated(&start).reason.as_deref(), Some("StartError"));
    }
}
