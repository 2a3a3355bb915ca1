//! How a pod's containers stop once it is deleted gracefully: kubelet 1.32's `killContainer`
//! (pkg/kubelet/kuberuntime/kuberuntime_container.go) run for every container at once, and the
//! container runtime's `StopContainer(timeout)` (SIGTERM, then SIGKILL when the timeout ends).
//!
//! For each container, from the moment kubelet starts stopping the pod, with `grace` the pod's
//! `deletionGracePeriodSeconds`:
//!
//! 1. its `preStop` hook runs, for as long as it takes (an exec `sleep N` N seconds, the
//!    `sleep` action its seconds, an httpGet quickly) but at most `grace`; kubelet takes the
//!    whole seconds it waited off the grace period (`executePreStopHook`);
//! 2. a sidecar (an init container with `restartPolicy: Always`) then waits until the regular
//!    containers and the sidecars declared after it have exited (`terminationOrdering`), again
//!    taken off what is left;
//! 3. whatever is left, but never less than [`MINIMUM_GRACE_PERIOD_SECONDS`], is the runtime's
//!    stop timeout: SIGTERM now, SIGKILL when it ends;
//! 4. the process exits after [`SIGTERM_EXIT`] if it handles SIGTERM, or is killed when the
//!    timeout ends if it ignores it ([`process::on_sigterm`]).
//!
//! The pod is gone when its last container has exited.

pub mod process;

#[cfg(test)]
mod tests;

use jiff::SignedDuration;
use k8s_openapi::api::core::v1::{Container, LifecycleHandler, Pod};
pub use process::OnSigterm;

/// kubelet's `minimumGracePeriodInSeconds`: a container always gets this long after SIGTERM.
pub const MINIMUM_GRACE_PERIOD_SECONDS: i64 = 2;

/// From SIGTERM to kubelet being done with an ordinary container: the process exits at once,
/// the runtime reaps it, `StopContainer` returns and kubelet's final delete follows. Chosen,
/// not measured upstream: half a second, within the second or so a real `kubectl delete pod`
/// of an nginx pod takes.
pub const SIGTERM_EXIT: SignedDuration = SignedDuration::from_millis(500);

/// How one container stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerStop {
    pub name: String,
    /// How long its preStop hook held it (zero without one).
    pub pre_stop: SignedDuration,
    /// The runtime's stop timeout in seconds (SIGTERM to SIGKILL).
    pub stop_timeout_seconds: i64,
    /// Whether it ends by SIGKILL (it ignored SIGTERM, or outlasted the timeout).
    pub killed: bool,
    /// From the start of termination until it has exited.
    pub exits_after: SignedDuration,
}

/// How the containers of a pod stop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Termination {
    pub containers: Vec<ContainerStop>,
}

impl Termination {
    /// From the start of termination until every container has exited.
    pub fn done_after(&self) -> SignedDuration {
        self.containers
            .iter()
            .map(|c| c.exits_after)
            .max()
            .unwrap_or(SignedDuration::ZERO)
    }
}

fn is_sidecar(c: &Container) -> bool {
    c.restart_policy.as_deref() == Some("Always")
}

/// How long a preStop hook runs (`None`: until the grace period ends).
pub fn pre_stop_time(hook: &LifecycleHandler) -> Option<SignedDuration> {
    if let Some(s) = &hook.sleep {
        return Some(SignedDuration::from_secs(s.seconds.max(0)));
    }
    if let Some(e) = &hook.exec {
        return process::run_time(e.command.as_deref().unwrap_or(&[]));
    }
    // httpGet (and the deprecated tcpSocket, which kubelet does not run) is quick.
    Some(SignedDuration::ZERO)
}

/// What the container's main process does on SIGTERM.
pub fn container_on_sigterm(pod: &Pod, c: &Container) -> OnSigterm {
    let argv = process::container_argv(
        c.image.as_deref().unwrap_or(""),
        c.command.as_deref(),
        c.args.as_deref(),
    );
    let shared = pod
        .spec
        .as_ref()
        .and_then(|s| s.share_process_namespace)
        .unwrap_or(false);
    process::on_sigterm(argv.as_deref(), shared)
}

fn secs(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n)
}

/// Whole seconds of `d`, as Go's `int64(d.Seconds())` truncates them.
fn whole_seconds(d: SignedDuration) -> i64 {
    d.as_secs()
}

/// One container's stop as `killContainer` carries it out; `turn` is when the containers it
/// must outlast have exited (sidecars only).
fn stop(pod: &Pod, c: &Container, grace: i64, turn: Option<SignedDuration>) -> ContainerStop {
    let mut grace_left = grace;
    let mut t = SignedDuration::ZERO;
    if let Some(hook) = c.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()) {
        if grace_left > 0 {
            let runs = pre_stop_time(hook).map_or(secs(grace_left), |d| d.min(secs(grace_left)));
            t = runs;
            grace_left -= whole_seconds(runs);
        }
    }
    let pre_stop = t;
    if let Some(turn) = turn {
        if grace_left > 0 {
            let waits = (turn - t).max(SignedDuration::ZERO).min(secs(grace_left));
            t += waits;
            grace_left -= whole_seconds(waits);
        }
    }
    let timeout = grace_left.max(MINIMUM_GRACE_PERIOD_SECONDS);
    let (runs, killed) = match container_on_sigterm(pod, c) {
        OnSigterm::Exits => (SIGTERM_EXIT.min(secs(timeout)), false),
        OnSigterm::Ignores => (secs(timeout), true),
        OnSigterm::ExitsAfter(d) if d < secs(timeout) => (d, false),
        OnSigterm::ExitsAfter(_) => (secs(timeout), true),
    };
    ContainerStop {
        name: c.name.clone(),
        pre_stop,
        stop_timeout_seconds: timeout,
        killed,
        exits_after: t + runs,
    }
}

/// How the running containers of `pod` stop with a grace period of `grace_seconds`: the
/// regular containers at once, then the sidecars from the last declared to the first. A pod
/// that is not Running has no running containers and stops at once.
pub fn termination(pod: &Pod, grace_seconds: i64) -> Termination {
    let running = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    let Some(spec) = pod.spec.as_ref().filter(|_| running) else {
        return Termination { containers: vec![] };
    };
    let mut containers: Vec<ContainerStop> = spec
        .containers
        .iter()
        .map(|c| stop(pod, c, grace_seconds, None))
        .collect();
    let mut turn = containers
        .iter()
        .map(|c| c.exits_after)
        .max()
        .unwrap_or(SignedDuration::ZERO);
    let sidecars: Vec<&Container> = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| is_sidecar(c))
        .collect();
    for c in sidecars.into_iter().rev() {
        let s = stop(pod, c, grace_seconds, Some(turn));
        turn = turn.max(s.exits_after);
        containers.push(s);
    }
    Termination { containers }
}

/// When kubelet starts stopping a terminating pod: when it `saw` the deletion, but no later
/// than the delete itself as `deletionTimestamp` − `deletionGracePeriodSeconds` tells it.
/// `deletionTimestamp` is stored to the second (metav1.Time), so that bound is taken a second
/// late: a kubelet that saw the deletion only after a restart starts at most a second after
/// the delete, never before it.
pub fn termination_started(pod: &Pod, saw: jiff::Timestamp) -> Option<jiff::Timestamp> {
    let at = pod.metadata.deletion_timestamp.as_ref()?.0;
    let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
    let bound = at
        .checked_sub(secs(grace))
        .ok()?
        .checked_add(secs(1))
        .ok()?;
    Some(saw.min(bound))
}

/// When every container of a terminating pod has exited (kubelet then removes the object),
/// for a kubelet that `saw` the deletion then.
pub fn containers_exited_at(pod: &Pod, saw: jiff::Timestamp) -> Option<jiff::Timestamp> {
    let start = termination_started(pod, saw)?;
    let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
    start.checked_add(termination(pod, grace).done_after()).ok()
}
