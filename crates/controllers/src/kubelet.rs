//! kube-scheduler and the emulated kubelet: a Pending pod is bound to a node
//! (`twinstack_kube::pod::schedule`: nodeName and nodeSelector honoured, least loaded first),
//! gets one address per runtime family from the node's `spec.podCIDRs` in the same store
//! transaction that writes its Running status, and the events kubelet records. A terminating
//! pod goes once its containers have exited (`twinstack_kube::pod::termination`: at once on
//! SIGTERM, after a preStop hook, or at the end of the grace period for a process that ignores
//! SIGTERM) and no finalizer remains.
//!
//! Client pods (`curlimages/curl`, `busybox`, `nicolaka/netshoot`: see
//! `twinstack_dataplane::pods::exec`) run their command once Running, from the pod's own
//! addresses; its output goes to the pod's log and, unless the pod restarts its containers
//! (`restartPolicy: Always`), the containers terminate with its exit code
//! (`twinstack_kube::pod::completed_status`).

use super::{meta, name_of, Ctl, World};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::json;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use twinstack_kube::events::{self, Reporter};
use twinstack_kube::pod::volumes;
use twinstack_kube::{nodes, pod as kpod, podip};
use twinstack_registry::kinds::pod::StorePodAllocator;
use twinstack_registry::registry::{object_key, Preconditions};
use twinstack_registry::store_ext::TxnExt;

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or("")
}

fn node_name(p: &Pod) -> &str {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .unwrap_or("")
}

fn uid(p: &Pod) -> &str {
    name_of(&p.metadata.uid)
}

/// Deterministic event name suffix: the same event about the same object is recorded once.
fn suffix(pod: &Pod, reason: &str, extra: &str) -> u64 {
    twinstack_core::hash::fnv1a64(&format!("{}/{reason}/{extra}", uid(pod)))
}

/// Deterministic suffix that also orders a pod's start events by name (upstream's names are
/// `<pod>.<unix nanos hex>`, so listing order is recording order): a per-pod base, then `seq`.
fn ordered_suffix(pod: &Pod, seq: u64) -> u64 {
    (twinstack_core::hash::fnv1a64(uid(pod)) & 0x0fff_ffff_ffff_0000) | (seq & 0xffff)
}

/// One pass; returns the earliest graceful-deletion deadline still ahead.
pub async fn sync(ctl: &Ctl, w: &World) -> Option<jiff::Timestamp> {
    let now = jiff::Timestamp::now();
    let node_objs: Vec<Node> = w.lists.nodes.iter().map(|n| Node::clone(n)).collect();
    let by_name: BTreeMap<&str, &Node> = node_objs
        .iter()
        .map(|n| (n.metadata.name.as_deref().unwrap_or(""), n))
        .collect();
    let mut load: BTreeMap<String, usize> = BTreeMap::new();
    for p in &w.lists.pods {
        let n = node_name(p);
        if !n.is_empty() && !kpod::is_terminal(p) {
            *load.entry(n.to_string()).or_default() += 1;
        }
    }
    ctl.terminations.forget_all_but(&w.lists.pods);
    ctl.commands.forget_all_but(&w.lists.pods);
    if let Some(pods) = &ctl.pods {
        // The logs of pods that are gone (also force-deleted ones) go, and their followers end.
        let live: std::collections::BTreeSet<(&str, &str)> = w
            .lists
            .pods
            .iter()
            .map(|p| (name_of(&p.metadata.namespace), name_of(&p.metadata.name)))
            .collect();
        for (ns, name) in pods.logs.pods(ctl.rt.name()) {
            if !live.contains(&(ns.as_str(), name.as_str())) {
                pods.logs.remove_pod(ctl.rt.name(), &ns, &name);
            }
        }
    }
    let mut next: Option<jiff::Timestamp> = None;
    // The pods to start, as projections: holding thousands of whole pods at once would
    // multiply the memory of a large rollout.
    let mut starts: Vec<(&Pod, &Node, bool)> = Vec::new();
    for slim in &w.lists.pods {
        // Most pods are running and need nothing: decide that from the projection.
        let terminating = slim.metadata.deletion_timestamp.is_some();
        let settled = match phase(slim) {
            "Succeeded" | "Failed" => true,
            "Running" => !owned_by_job(slim),
            _ => false,
        };
        if settled && !terminating {
            continue;
        }
        // Scheduling and status writes need the whole pod; the projection serves the rest.
        let needs_whole = !terminating && (node_name(slim).is_empty() || phase(slim) == "Running");
        let pod: Cow<'_, Pod> = if needs_whole {
            match ctl.full_typed("", "pods", &slim.metadata) {
                Some(p) => Cow::Owned(p),
                None => continue,
            }
        } else {
            Cow::Borrowed(&**slim)
        };
        if pod.metadata.deletion_timestamp.is_some() {
            let finalizers = pod
                .metadata
                .finalizers
                .as_ref()
                .is_some_and(|f| !f.is_empty());
            // A pod bound to a node that does not exist has no kubelet to stop it: the pod
            // garbage collector removes it (gcOrphaned).
            let orphaned = !node_name(&pod).is_empty() && !by_name.contains_key(node_name(&pod));
            // Its containers stop as kubelet stops them (preStop, SIGTERM, SIGKILL when the
            // grace period ends), from when kubelet saw the delete; the object goes once they
            // have all exited.
            let saw = ctl.terminations.saw(&pod, now);
            let exited = kpod::termination::containers_exited_at(&pod, saw).unwrap_or(now);
            if orphaned || exited <= now {
                if !finalizers {
                    remove(ctl, &pod).await;
                }
            } else {
                next = Some(next.map_or(exited, |n: jiff::Timestamp| n.min(exited)));
                if !node_name(&pod).is_empty() {
                    killing_events(ctl, &pod, now).await;
                }
            }
            continue;
        }
        if kpod::is_terminal(&pod) {
            continue;
        }
        if phase(&pod) == "Running" && owned_by_job(&pod) && ctl.commands.contains(uid(&pod)) {
            // Its command decides when it completes.
            continue;
        }
        if phase(&pod) == "Running" && owned_by_job(&pod) {
            // The emulated containers of a Job's pod exit 0 after JOB_POD_RUN.
            let started = pod
                .status
                .as_ref()
                .and_then(|s| s.start_time.as_ref())
                .map_or(now, |t| t.0);
            let at = started
                .checked_add(jiff::SignedDuration::from_millis(JOB_POD_RUN_MS))
                .unwrap_or(now);
            if at <= now {
                complete(ctl, &pod, now).await;
            } else {
                next = Some(next.map_or(at, |n: jiff::Timestamp| n.min(at)));
            }
            continue;
        }
        let bound = node_name(&pod).to_string();
        if bound.is_empty() {
            // VolumeBinding's PreFilter: a missing or unbound immediate claim fits no node.
            let ns = name_of(&pod.metadata.namespace);
            if let Some(msg) = volumes::volume_binding_prefilter(&pod, |c| claim_state(ctl, ns, c))
            {
                let msg = volumes::prefilter_fit_error(node_objs.len(), &msg);
                unschedulable(ctl, &pod, &msg, now).await;
                continue;
            }
            let (sched_pod, candidates) = pinned_by_fields(&pod, &node_objs);
            let result = match &candidates {
                Some(c) if c.is_empty() => kpod::schedule(&pod, &node_objs, &load),
                Some(c) => kpod::schedule(&sched_pod, c, &load),
                None => kpod::schedule(&pod, &node_objs, &load),
            };
            match result {
                Ok(n) => {
                    let Some(node) = by_name.get(n.as_str()) else {
                        continue;
                    };
                    *load.entry(n).or_default() += 1;
                    starts.push((slim, *node, true));
                }
                Err(msg) => unschedulable(ctl, &pod, &msg, now).await,
            }
        } else if phase(&pod) == "Pending"
            && pod
                .status
                .as_ref()
                .and_then(|s| s.pod_ips.as_ref())
                .is_none_or(|a| a.is_empty())
        {
            // Bound by the user (`spec.nodeName`): the node's kubelet starts it. A pod bound to
            // a node that does not exist has no kubelet and stays Pending, as upstream.
            if let Some(node) = by_name.get(bound.as_str()) {
                starts.push((slim, *node, false));
            }
        }
    }
    // Bindings are decided in order (the load counts them); the writes run concurrently so
    // the store's group commit batches them.
    futures::stream::iter(starts)
        .for_each_concurrent(CONCURRENCY, |(pv, node, bind)| async move {
            start(ctl, pv, node, bind).await;
        })
        .await;
    next
}

/// When this kubelet first saw each terminating pod (by uid, with the deletionTimestamp it
/// saw: a second delete that shortens the grace period starts over). Kept in memory as a real
/// kubelet's pod workers are; after a restart `termination_started` bounds it by the delete.
#[derive(Default)]
pub struct Terminations {
    seen: std::sync::Mutex<BTreeMap<String, (Option<jiff::Timestamp>, jiff::Timestamp)>>,
}

impl Terminations {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<String, (Option<jiff::Timestamp>, jiff::Timestamp)>>
    {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the deletion of `pod` was first seen (now, if this is the first time).
    pub fn saw(&self, pod: &Pod, now: jiff::Timestamp) -> jiff::Timestamp {
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let at = pod.metadata.deletion_timestamp.as_ref().map(|t| t.0);
        let mut seen = self.lock();
        let entry = seen.entry(uid).or_insert((at, now));
        if entry.0 != at {
            *entry = (at, now);
        }
        entry.1
    }

    /// Forgets the pods that are gone or no longer terminating.
    fn forget_all_but(&self, pods: &[std::sync::Arc<Pod>]) {
        let mut seen = self.lock();
        if seen.is_empty() {
            return;
        }
        let live: std::collections::BTreeSet<&str> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_some())
            .map(|p| uid(p))
            .collect();
        seen.retain(|uid, _| live.contains(uid.as_str()));
    }
}

/// Pods started concurrently in one pass.
const CONCURRENCY: usize = 64;

/// How long the emulated containers of a Job's pod run before exiting 0.
pub const JOB_POD_RUN_MS: i64 = 1000;

fn owned_by_job(p: &Pod) -> bool {
    p.metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.kind == "Job" && r.controller == Some(true))
}

/// A pod pinned with `matchFields: metadata.name In [node]` (DaemonSet pods): the candidate
/// nodes and the pod without those terms for the pure scheduler (which only evaluates
/// `matchExpressions`). `None` when the pod has no such terms.
fn pinned_by_fields(pod: &Pod, nodes: &[Node]) -> (Pod, Option<Vec<Node>>) {
    let mut p = pod.clone();
    let Some(req) = p
        .spec
        .as_mut()
        .and_then(|s| s.affinity.as_mut())
        .and_then(|a| a.node_affinity.as_mut())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_mut()
        })
    else {
        return (p, None);
    };
    let mut names: Vec<String> = Vec::new();
    for t in &req.node_selector_terms {
        for f in t.match_fields.iter().flatten() {
            if f.key == "metadata.name" && f.operator == "In" {
                names.extend(f.values.iter().flatten().cloned());
            }
        }
    }
    if names.is_empty() {
        return (p, None);
    }
    req.node_selector_terms
        .retain(|t| t.match_expressions.as_ref().is_some_and(|e| !e.is_empty()));
    if req.node_selector_terms.is_empty() {
        if let Some(na) = p
            .spec
            .as_mut()
            .and_then(|s| s.affinity.as_mut())
            .and_then(|a| a.node_affinity.as_mut())
        {
            na.required_during_scheduling_ignored_during_execution = None;
        }
    }
    let candidates = nodes
        .iter()
        .filter(|n| {
            names
                .iter()
                .any(|x| Some(x.as_str()) == n.metadata.name.as_deref())
        })
        .cloned()
        .collect();
    (p, Some(candidates))
}

/// kubelet reports a Job's pod Succeeded: containers terminated with exit code 0, not ready;
/// the CNI releases its addresses in the same transaction (`status.podIPs` stays).
async fn complete(ctl: &Ctl, pod: &Pod, now: jiff::Timestamp) {
    finish(&ctl.reg, ctl.rt.name(), pod, &[], now).await;
}

/// Writes the terminal status of `pod` (its containers exited with `exits`, the others 0) and
/// releases its addresses, in one transaction, if the pod is still the one that ran.
async fn finish(
    reg: &twinstack_registry::registry::Registry,
    rt: &str,
    pod: &Pod,
    exits: &[(String, kpod::ContainerExit)],
    now: jiff::Timestamp,
) {
    let rt = rt.to_string();
    let key = object_key(
        &rt,
        &twinstack_registry::kinds::pod::PodKind,
        Some(name_of(&pod.metadata.namespace)),
        name_of(&pod.metadata.name),
    );
    let uid = uid(pod).to_string();
    let exits = exits.to_vec();
    let _ = reg
        .store
        .txn(move |txn| -> Result<(), String> {
            let txn: &mut dyn TxnExt = txn;
            let Some(cur) = txn.get_json(&key) else {
                return Err("gone".into());
            };
            if meta(&cur, "uid") != uid {
                return Err("changed".into());
            }
            let mut p: Pod = serde_json::from_value(cur).map_err(|e| e.to_string())?;
            if kpod::is_terminal(&p) || p.metadata.deletion_timestamp.is_some() {
                return Err("done".into());
            }
            p.status = Some(kpod::completed_status(&p, &exits, now));
            let mut v = serde_json::to_value(&p).map_err(|e| e.to_string())?;
            v["metadata"]["resourceVersion"] = json!(txn.revision().to_string());
            twinstack_registry::kinds::pod::release_pod_addresses(txn, &rt, &v);
            txn.put_json(&key, &v);
            Ok(())
        })
        .await;
}

/// The client pods whose command runs (by uid), to stop them when their pod goes.
#[derive(Default)]
pub struct Commands {
    running: std::sync::Mutex<BTreeMap<String, tokio::task::AbortHandle>>,
}

impl Commands {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, tokio::task::AbortHandle>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn contains(&self, uid: &str) -> bool {
        self.lock().contains_key(uid)
    }

    /// Stops the commands of pods that are gone or terminating (kubelet kills their
    /// containers).
    fn forget_all_but(&self, pods: &[std::sync::Arc<Pod>]) {
        let mut running = self.lock();
        if running.is_empty() {
            return;
        }
        let live: std::collections::BTreeSet<&str> = pods
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .map(|p| uid(p))
            .collect();
        running.retain(|uid, task| {
            let keep = live.contains(uid.as_str()) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
    }
}

/// Writes a container's output to its log line by line (stdout and stderr both go there, as
/// the container runtime's log does).
struct LogWriter {
    pods: twinstack_dataplane::pods::Pods,
    key: [String; 4],
    partial: Vec<u8>,
}

impl LogWriter {
    fn line(&self, bytes: &[u8]) {
        let text = String::from_utf8_lossy(bytes);
        let [rt, ns, pod, c] = &self.key;
        self.pods
            .logs
            .append(rt, ns, pod, c, text.trim_end_matches('\r'));
    }

    fn end(&mut self) {
        if !self.partial.is_empty() {
            let rest = std::mem::take(&mut self.partial);
            self.line(&rest);
        }
    }
}

impl tokio::io::AsyncWrite for LogWriter {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let this = &mut *self;
        this.partial.extend_from_slice(buf);
        while let Some(i) = this.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = this.partial.drain(..=i).collect();
            this.line(&line[..line.len() - 1]);
        }
        // A line longer than kubelet's 16 KiB is split.
        if this.partial.len() > 16 * 1024 {
            let rest = std::mem::take(&mut this.partial);
            this.line(&rest);
        }
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

/// The argv a client image's container runs: `command` + `args`, or the image's entrypoint
/// with `args` (curl's is `curl`), or its default command (a shell, which exits at once
/// without a terminal).
fn container_argv(image: &str, command: &[String], args: &[String]) -> Vec<String> {
    use twinstack_dataplane::pods::exec::parse::Toolbox;
    if !command.is_empty() {
        return command.iter().chain(args).cloned().collect();
    }
    let toolbox = Toolbox::of(image);
    match toolbox {
        // curlimages/curl's entrypoint.sh: `curl "$@"` unless the first argument is a command.
        Toolbox::Curl
            if args
                .first()
                .is_none_or(|a| a.starts_with('-') || !toolbox.has(a)) =>
        {
            std::iter::once("curl".to_string())
                .chain(args.iter().cloned())
                .collect()
        }
        _ if !args.is_empty() => args.to_vec(),
        _ => vec!["sh".into()],
    }
}

/// Starts the commands of a client pod that just started: each client container runs its
/// command; when all of the pod's containers are clients and have exited, the pod completes
/// (unless `restartPolicy: Always`, where kubelet would restart them).
fn run_commands(ctl: &Ctl, pod: &Pod) {
    use twinstack_dataplane::pods::exec::{self, parse::Toolbox, PodContext, Stdio};
    let Some(pods) = ctl.pods.clone() else {
        return;
    };
    let spec = pod.spec.clone().unwrap_or_default();
    let clients: Vec<_> = spec
        .containers
        .iter()
        .filter(|c| Toolbox::of(c.image.as_deref().unwrap_or("")).is_client())
        .cloned()
        .collect();
    if clients.is_empty() {
        return;
    }
    let all_clients = clients.len() == spec.containers.len();
    let restarts =
        spec.restart_policy.as_deref().unwrap_or("Always") == "Always" && !owned_by_job(pod);
    let rt = ctl.rt.name().to_string();
    let ns = name_of(&pod.metadata.namespace).to_string();
    let name = name_of(&pod.metadata.name).to_string();
    let ips: Vec<IpAddr> = pod
        .status
        .as_ref()
        .and_then(|s| s.pod_ips.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|p| p.ip.parse().ok())
        .collect();
    let reg = ctl.reg.clone();
    let started = pod.clone();
    let task = tokio::spawn(async move {
        let runs = clients.into_iter().map(|c| {
            let pods = pods.clone();
            let ctx = PodContext {
                runtime: rt.clone(),
                namespace: ns.clone(),
                pod: name.clone(),
                image: c.image.clone().unwrap_or_default(),
                ips: ips.clone(),
                env: c
                    .env
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|e| e.value.map(|v| (e.name, v)))
                    .collect(),
            };
            async move {
                let argv = container_argv(
                    &ctx.image,
                    c.command.as_deref().unwrap_or(&[]),
                    c.args.as_deref().unwrap_or(&[]),
                );
                pods.logs
                    .start(&ctx.runtime, &ctx.namespace, &ctx.pod, &c.name);
                let key = [
                    ctx.runtime.clone(),
                    ctx.namespace.clone(),
                    ctx.pod.clone(),
                    c.name.clone(),
                ];
                let mut out = LogWriter {
                    pods: pods.clone(),
                    key: key.clone(),
                    partial: Vec::new(),
                };
                let mut err = LogWriter {
                    pods: pods.clone(),
                    key,
                    partial: Vec::new(),
                };
                let r = {
                    let mut io = Stdio {
                        stdin: None,
                        stdout: &mut out,
                        stderr: &mut err,
                    };
                    exec::run(pods.network.as_ref(), &ctx, &argv, &mut io).await
                };
                out.end();
                err.end();
                pods.logs
                    .terminate(&ctx.runtime, &ctx.namespace, &ctx.pod, &c.name);
                let exit = match r {
                    Ok(code) => kpod::ContainerExit {
                        code,
                        ..Default::default()
                    },
                    Err(e) => kpod::start_error(&e.0),
                };
                (c.name.clone(), exit)
            }
        });
        let exits = futures::future::join_all(runs).await;
        if all_clients && !restarts {
            finish(&reg, &rt, &started, &exits, jiff::Timestamp::now()).await;
        }
    });
    ctl.commands
        .lock()
        .insert(uid(pod).to_string(), task.abort_handle());
}

/// The scheduler's FailedScheduling: condition PodScheduled=False and a Warning event, once per
/// distinct message.
async fn unschedulable(ctl: &Ctl, pod: &Pod, msg: &str, now: jiff::Timestamp) {
    let current = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .into_iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled")
        .and_then(|c| c.message.as_deref());
    if current == Some(msg) {
        return;
    }
    let mut p = pod.clone();
    p.status = Some(kpod::unschedulable_status(pod, msg, now));
    let Ok(v) = serde_json::to_value(&p) else {
        return;
    };
    if ctl.write("", "pods", v).await {
        ctl.event(events::event_for(
            &events::pod_reference(pod, None),
            "FailedScheduling",
            msg,
            "Warning",
            &Reporter::scheduler("Scheduling"),
            now,
            suffix(pod, "FailedScheduling", msg),
        ))
        .await;
    }
}

/// Binds (when `bind`), allocates the pod's addresses and writes the Running status in one
/// transaction, then records the scheduler's and kubelet's events. Returns whether it wrote.
/// The scheduler's view of claim `name` in `ns`: missing, bound, or unbound with its
/// StorageClass's binding mode. A runtime without PersistentVolumeClaims has nothing to wait
/// for.
fn claim_state(ctl: &Ctl, ns: &str, name: &str) -> volumes::Claim {
    let Some(kind) = ctl.reg.kind("", "persistentvolumeclaims") else {
        return volumes::Claim::Bound;
    };
    let key = object_key(ctl.rt.name(), kind.as_ref(), Some(ns), name);
    let Some(pvc) = ctl
        .reg
        .store
        .get(&key)
        .ok()
        .flatten()
        .and_then(|kv| serde_json::from_slice::<serde_json::Value>(&kv.value).ok())
    else {
        return volumes::Claim::Missing;
    };
    if pvc.pointer("/status/phase").and_then(|p| p.as_str()) == Some("Bound") {
        return volumes::Claim::Bound;
    }
    let class = pvc
        .pointer("/spec/storageClassName")
        .and_then(|c| c.as_str())
        .unwrap_or("");
    let wait_for_first_consumer = ctl
        .reg
        .kind("storage.k8s.io", "storageclasses")
        .filter(|_| !class.is_empty())
        .and_then(|k| {
            let key = object_key(ctl.rt.name(), k.as_ref(), None, class);
            ctl.reg.store.get(&key).ok().flatten()
        })
        .and_then(|kv| serde_json::from_slice::<serde_json::Value>(&kv.value).ok())
        .is_some_and(|sc| {
            sc.pointer("/volumeBindingMode").and_then(|m| m.as_str())
                == Some("WaitForFirstConsumer")
        });
    volumes::Claim::Unbound {
        wait_for_first_consumer,
    }
}

/// What a start transaction did.
enum Start {
    /// Running, with what its bootstrap containers create (`twinstack_kube::pod::bootstrap`).
    Running(Pod, Vec<serde_json::Value>),
    /// Bound but held: these Secrets or ConfigMaps are missing.
    Held(Pod, Vec<volumes::Dependency>),
}

/// The events of a pod held for missing Secrets or ConfigMaps: the scheduler's `Scheduled`
/// when it was bound now, then kubelet's `FailedMount` (a volume) or `Failed` (the
/// environment, as `CreateContainerConfigError`), one per missing source.
async fn held(
    ctl: &Ctl,
    pod: &Pod,
    missing: &[volumes::Dependency],
    node_name: &str,
    bind: bool,
    now: jiff::Timestamp,
) {
    let (ns, name) = (
        name_of(&pod.metadata.namespace),
        name_of(&pod.metadata.name),
    );
    if bind {
        ctl.event(events::event_for(
            &events::pod_reference(pod, None),
            "Scheduled",
            &events::scheduled_message(ns, name, node_name),
            "Normal",
            &Reporter::scheduler("Binding"),
            now,
            ordered_suffix(pod, 1),
        ))
        .await;
    }
    for d in missing {
        let msg = d.message();
        let msg = if d.volume.is_some() {
            msg
        } else {
            format!("Error: {msg}")
        };
        ctl.event(events::event_for(
            &events::pod_reference(pod, None),
            d.reason(),
            &msg,
            "Warning",
            &Reporter::kubelet(node_name),
            now,
            suffix(pod, d.reason(), &msg),
        ))
        .await;
    }
}

async fn start(ctl: &Ctl, pv: &Pod, node: &Node, bind: bool) -> bool {
    let now = jiff::Timestamp::now();
    let node_name = node.metadata.name.clone().unwrap_or_default();
    let cidrs = nodes::pod_cidrs(node);
    let host_ips = nodes::internal_ips(node);
    let families = ctl.rt.record.network.families.clone();
    let rt = ctl.rt.name().to_string();
    let (ns, name) = (name_of(&pv.metadata.namespace), name_of(&pv.metadata.name));
    let key = object_key(
        &rt,
        &twinstack_registry::kinds::pod::PodKind,
        Some(ns),
        name,
    );
    let rv = name_of(&pv.metadata.resource_version).to_string();
    let uid = uid(pv).to_string();
    let host_ips_held = host_ips.clone();
    let pvc_kind = ctl.reg.kind("", "persistentvolumeclaims");
    let holder = json!({"pod": format!("{ns}/{name}"), "uid": uid});
    let node_obj = node.clone();
    let nn = node_name.clone();
    let logs = ctl.pods.clone();
    let (ns_s, name_s) = (ns.to_string(), name.to_string());
    let res = ctl
        .reg
        .store
        .txn(move |txn| -> Result<Start, String> {
            let txn: &mut dyn TxnExt = txn;
            let Some(cur) = txn.get_json(&key) else {
                return Err("gone".into());
            };
            if meta(&cur, "resourceVersion") != rv || meta(&cur, "uid") != uid {
                return Err("changed".into());
            }
            let mut pod: Pod = serde_json::from_value(cur).map_err(|e| e.to_string())?;
            if bind {
                pod.spec.get_or_insert_with(Default::default).node_name = Some(nn.clone());
            }
            // A Secret or ConfigMap it needs is missing: bound, held in ContainerCreating.
            // What its own (init) containers create does not hold it.
            let boot = kpod::bootstrap::objects(&pod);
            let made_here = |d: &volumes::Dependency| {
                d.kind == "secret"
                    && boot.iter().any(|o| {
                        o["metadata"]["name"] == d.name.as_str()
                            && o["metadata"]["namespace"] == ns_s.as_str()
                    })
            };
            let missing: Vec<volumes::Dependency> = volumes::dependencies(&pod)
                .into_iter()
                .filter(|d| !made_here(d))
                .filter(|d| {
                    let kind: &dyn twinstack_registry::kinds::Kind = if d.kind == "secret" {
                        &twinstack_registry::kinds::config::SecretKind
                    } else {
                        &twinstack_registry::kinds::config::ConfigMapKind
                    };
                    txn.get_json(&object_key(&rt, kind, Some(&ns_s), &d.name))
                        .is_none()
                })
                .collect();
            // A claim not bound yet (a WaitForFirstConsumer class provisions once the pod is
            // on a node): its volume cannot attach, the containers wait.
            let unbound_claim = pvc_kind.as_ref().is_some_and(|k| {
                volumes::claims(&pod).iter().any(|c| {
                    txn.get_json(&object_key(&rt, k.as_ref(), Some(&ns_s), c))
                        .and_then(|v| v.pointer("/status/phase").cloned())
                        != Some(json!("Bound"))
                })
            });
            if !missing.is_empty() || unbound_claim {
                // Volumes mount first (ContainerCreating); then the environment fails the
                // container's config (CreateContainerConfigError).
                let mut want = kpod::pending_status(&pod, &host_ips_held, now);
                if !unbound_claim && missing.iter().all(|d| d.volume.is_none()) {
                    for c in want.container_statuses.iter_mut().flatten() {
                        if let Some(w) = c.state.as_mut().and_then(|s| s.waiting.as_mut()) {
                            w.reason = Some("CreateContainerConfigError".into());
                            w.message = Some(missing[0].message());
                        }
                    }
                }
                let waiting = |st: Option<&k8s_openapi::api::core::v1::PodStatus>| {
                    st.and_then(|st| st.container_statuses.clone())
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| c.state.and_then(|s| s.waiting))
                        .collect::<Vec<_>>()
                };
                let same = pod.status.as_ref().and_then(|st| st.phase.as_deref())
                    == Some("Pending")
                    && waiting(pod.status.as_ref()) == waiting(Some(&want));
                if bind || !same {
                    pod.status = Some(want);
                    let mut v = serde_json::to_value(&pod).map_err(|e| e.to_string())?;
                    v["metadata"]["resourceVersion"] = json!(txn.revision().to_string());
                    txn.put_json(&key, &v);
                }
                return Ok(Start::Held(pod, missing));
            }
            let host_network = pod
                .spec
                .as_ref()
                .and_then(|s| s.host_network)
                .unwrap_or(false);
            let ips: Vec<IpAddr> = if host_network {
                vec![]
            } else {
                let mut alloc = StorePodAllocator {
                    txn: &mut *txn,
                    rt: &rt,
                    cidrs,
                    holder,
                };
                podip::allocate_pod_ips(&mut alloc, &nn, &families).map_err(|e| e.to_string())?
            };
            // A client container's log exists before the pod is seen Running, so an attach
            // (`kubectl run -i`) that comes at once follows it from its first line.
            if let Some(pods) = &logs {
                for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
                    let image = c.image.as_deref().unwrap_or("");
                    if twinstack_dataplane::pods::exec::parse::Toolbox::of(image).is_client() {
                        pods.logs
                            .start(&rt, ns_s.as_str(), name_s.as_str(), &c.name);
                    }
                }
            }
            pod.status = Some(kpod::running_status(
                &pod,
                Some(&node_obj),
                &ips,
                &host_ips,
                now,
            ));
            let mut v = serde_json::to_value(&pod).map_err(|e| e.to_string())?;
            v["metadata"]["resourceVersion"] = json!(txn.revision().to_string());
            txn.put_json(&key, &v);
            Ok(Start::Running(pod, boot))
        })
        .await;
    let started = match res {
        Ok(c) => match c.value {
            Start::Running(pod, boot) => {
                for o in boot {
                    let ns = o["metadata"]["namespace"].as_str().map(String::from);
                    let _ = ctl.create("", "secrets", ns.as_deref(), o).await;
                }
                run_commands(ctl, &pod);
                pod
            }
            Start::Held(pod, missing) => {
                held(ctl, &pod, &missing, &node_name, bind, now).await;
                return false;
            }
        },
        Err(twinstack_store::TxnError::Aborted(e)) if e != "gone" && e != "changed" => {
            ctl.event(events::event_for(
                &events::pod_reference(pv, None),
                "FailedCreatePodSandBox",
                &format!(
                    "Failed to create pod sandbox: plugin type=\"calico\" failed (add): failed to allocate for range 0: {e}"
                ),
                "Warning",
                &Reporter::kubelet(&node_name),
                now,
                suffix(pv, "FailedCreatePodSandBox", &e),
            ))
            .await;
            return false;
        }
        Err(_) => return false,
    };
    let mut evs_out = Vec::new();
    if bind {
        evs_out.push(events::event_for(
            &events::pod_reference(&started, None),
            "Scheduled",
            &events::scheduled_message(ns, name, &node_name),
            "Normal",
            &Reporter::scheduler("Binding"),
            now,
            ordered_suffix(pv, 1),
        ));
    }
    let kubelet = Reporter::kubelet(&node_name);
    let spec = started.spec.clone().unwrap_or_default();
    let containers = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter());
    for (ci, c) in containers.enumerate() {
        let image = c.image.clone().unwrap_or_default();
        let r = events::pod_reference(&started, Some(&c.name));
        let pull_ms = 900 + twinstack_core::hash::fnv1a64(&image) % 4000;
        let evs = [
            ("Pulling", events::pulling_message(&image)),
            (
                "Pulled",
                events::pulled_message(
                    &image,
                    pull_ms,
                    pull_ms + 12,
                    20_000_000 + twinstack_core::hash::fnv1a64(&image) % 50_000_000,
                ),
            ),
            ("Created", events::created_message(&c.name)),
            ("Started", events::started_message(&c.name)),
        ];
        for (k, (reason, msg)) in evs.into_iter().enumerate() {
            evs_out.push(events::event_for(
                &r,
                reason,
                &msg,
                "Normal",
                &kubelet,
                now,
                ordered_suffix(pv, 0x10 + ci as u64 * 8 + k as u64),
            ));
        }
    }
    futures::future::join_all(evs_out.into_iter().map(|e| ctl.event(e))).await;
    true
}

/// kubelet's `Killing` events when it starts stopping a pod's containers.
async fn killing_events(ctl: &Ctl, pod: &Pod, now: jiff::Timestamp) {
    if phase(pod) != "Running" {
        return;
    }
    let node = node_name(pod).to_string();
    for c in pod.spec.iter().flat_map(|s| s.containers.iter()) {
        ctl.event(events::event_for(
            &events::pod_reference(pod, Some(&c.name)),
            "Killing",
            &events::killing_message(&c.name),
            "Normal",
            &Reporter::kubelet(&node),
            now,
            suffix(pod, "Killing", &c.name),
        ))
        .await;
    }
}

/// kubelet's final delete (grace period 0) once the containers are gone: the object goes and
/// its addresses are released in the same transaction (the pod kind's delete).
async fn remove(ctl: &Ctl, pod: &Pod) {
    if let Some(pods) = &ctl.pods {
        pods.logs.remove_pod(
            ctl.rt.name(),
            name_of(&pod.metadata.namespace),
            name_of(&pod.metadata.name),
        );
    }
    let pre = Preconditions {
        uid: Some(uid(pod).to_string()),
        resource_version: None,
        grace_period_seconds: Some(0),
        propagation_policy: Some("Background".into()),
    };
    let _ = ctl
        .reg
        .delete(
            ctl.rt.clone(),
            ctl.kind("", "pods"),
            Some(name_of(&pod.metadata.namespace).to_string()),
            name_of(&pod.metadata.name).to_string(),
            pre,
            false,
        )
        .await;
}
