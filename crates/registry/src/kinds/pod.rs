//! Pods (core/v1): defaulting, admission and validation from `twinstack_kube::pod`; created
//! Pending for the scheduler and emulated kubelet (`twinstack_controllers`). Pod addresses are held
//! as one store key per address (`/registry/<rt>/podips/<family>/<hex address>`), written in the
//! same transaction as the pod status that carries them and removed with the pod.

use super::{DeleteAction, Kind, ResourceInfo, Strategy, WriteCtx, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use crate::store_ext::TxnExt;
use ipnet::IpNet;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use serde_json::{json, Value};
use std::net::IpAddr;
use twinstack_core::field::ErrorList;
use twinstack_core::ipam::Family;
use twinstack_core::status::Status;
use twinstack_kube::pod::{self as kpod, Deletion};
use twinstack_kube::podip::{PodAllocator, PodIpError, PodRange};
use twinstack_kube::printers;
use twinstack_kube::table::Column;

pub static INFO: ResourceInfo = ResourceInfo {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    short_names: &["po"],
    categories: &["all"],
    verbs: ALL_VERBS,
    storage: "pods",
    scale: false,
};

pub struct PodKind;

fn typed(v: &Value) -> Result<Pod, Status> {
    super::typed(v, "Pod")
}

fn to_value(p: &Pod) -> Value {
    serde_json::to_value(p).expect("Pod serializes")
}

fn name_of(v: &Value) -> &str {
    v.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Characters of `utilrand.String`.
const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// `utilrand.String(n)`.
pub fn rand_suffix(n: usize) -> String {
    (0..n)
        .map(|_| ALPHABET[rand::random::<u32>() as usize % ALPHABET.len()] as char)
        .collect()
}

impl Strategy for PodKind {
    /// Admission, which kube-apiserver runs before the strategy (mutating admission: the
    /// ServiceAccount's token volume; a refusal is Forbidden, before any validation).
    fn begin_create(&self, cx: &mut WriteCtx<'_>, obj: &mut Value) -> Result<(), Status> {
        let mut pod = typed(obj)?;
        let sa = service_account_of(cx, &pod);
        kpod::admit_create(&mut pod, sa.as_ref(), &rand_suffix(5))
            .map_err(|e| Status::forbidden(admission_name(&pod), INFO.subject(), &e.to_string()))?;
        // Istio's sidecar injector (a mutating webhook, after the built-in admission).
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        let ns_key =
            crate::keys::object_key(cx.rt.name(), &super::namespace::NamespaceKind, None, ns);
        let ns_labels: std::collections::BTreeMap<String, String> = cx
            .txn
            .get_json(&ns_key)
            .and_then(|v| v.pointer("/metadata/labels").cloned())
            .and_then(|l| serde_json::from_value(l).ok())
            .unwrap_or_default();
        if twinstack_cloud::istio::inject(&mut pod, &ns_labels) {
            // A webhook's patch is decoded and defaulted again, as the apiserver does.
            kpod::set_defaults(&mut pod);
        }
        *obj = to_value(&pod);
        Ok(())
    }

    /// Status is the server's; a new pod is Pending.
    fn prepare_for_create(&self, obj: &mut Value) -> Result<(), Status> {
        let mut pod = typed(obj)?;
        pod.status = Some(k8s_openapi::api::core::v1::PodStatus {
            phase: Some("Pending".into()),
            qos_class: Some(kpod::qos_class(&pod).into()),
            ..Default::default()
        });
        *obj = to_value(&pod);
        Ok(())
    }

    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        Ok(kpod::validate_create(&typed(obj)?))
    }

    /// The main resource never changes status (that is the status subresource's job).
    fn prepare_for_update(&self, new: &mut Value, old: &Value) -> Result<(), Status> {
        match old.get("status") {
            Some(st) => new["status"] = st.clone(),
            None => {
                if let Some(o) = new.as_object_mut() {
                    o.remove("status");
                }
            }
        }
        let mut pod = typed(new)?;
        kpod::set_defaults(&mut pod);
        *new = to_value(&pod);
        Ok(())
    }

    fn validate_update(
        &self,
        _rt: &Runtime,
        new: &Value,
        old: &Value,
    ) -> Result<ErrorList, Status> {
        Ok(kpod::validate_update(&typed(new)?, &typed(old)?))
    }

    /// `ValidatePodCreate`/`ValidatePodUpdate` open with the ObjectMeta checks.
    fn validate_repeats_object_meta(&self) -> bool {
        true
    }
}

impl Kind for PodKind {
    fn info(&self) -> &'static ResourceInfo {
        &INFO
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let (mut pod, unknown): (Pod, _) = decode::typed(v)?;
        kpod::set_defaults(&mut pod);
        Ok((to_value(&pod), unknown))
    }

    fn delete(&self, cx: &mut WriteCtx<'_>, old: &Value) -> Result<(), Status> {
        release_pod_addresses(cx.txn, cx.rt.name(), old);
        Ok(())
    }

    fn before_delete(&self, old: &Value, grace: Option<i64>) -> Result<DeleteAction, Status> {
        let pod = typed(old)?;
        let has_finalizers = pod
            .metadata
            .finalizers
            .as_ref()
            .is_some_and(|f| !f.is_empty());
        let now = jiff::Timestamp::now();
        match kpod::plan_deletion(&pod, grace) {
            Deletion::Unchanged => Ok(DeleteAction::Unchanged),
            Deletion::Immediate if !has_finalizers => Ok(DeleteAction::Remove),
            Deletion::Immediate => {
                if pod.metadata.deletion_timestamp.is_some() {
                    return Ok(DeleteAction::Unchanged);
                }
                let mut p = pod;
                kpod::mark_terminating(&mut p, 0, now);
                Ok(DeleteAction::Keep(to_value(&p)))
            }
            Deletion::Graceful { grace_seconds } => {
                let mut p = pod;
                kpod::mark_terminating(&mut p, grace_seconds, now);
                Ok(DeleteAction::Keep(to_value(&p)))
            }
        }
    }

    fn delete_returns_object(&self) -> bool {
        true
    }

    fn columns(&self) -> Vec<Column> {
        printers::pod_columns()
    }

    fn row(&self, obj: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        printers::pod_row(obj, wide, now)
    }

    fn field(&self, obj: &Value, name: &str) -> Option<String> {
        printers::selectable_field("pods", obj, name)
    }
}

/// The ServiceAccount the pod names, if it exists in the pod's namespace.
fn service_account_of(cx: &mut WriteCtx<'_>, pod: &Pod) -> Option<ServiceAccount> {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let name = twinstack_kube::serviceaccount::service_account_name(pod);
    let key = crate::keys::object_key(
        cx.rt.name(),
        &super::serviceaccount::ServiceAccountKind,
        Some(ns),
        &name,
    );
    cx.txn
        .get_json(&key)
        .and_then(|v| serde_json::from_value(v).ok())
}

/// The name admission errors give the pod (`extractResourceName`): admission runs before the
/// name is generated, so a pod named by `generateName` is called by its `generateName`. The
/// registry has generated it by now (`generateName` + 5 characters).
fn admission_name(pod: &Pod) -> &str {
    let name = pod.metadata.name.as_deref().unwrap_or("");
    match pod.metadata.generate_name.as_deref() {
        Some(g) if !g.is_empty() && name.starts_with(g) && name.len() == g.len() + 5 => g,
        _ => name,
    }
}

/// Directory of the address keys of one family.
pub fn podip_dir(rt: &str, family: Family) -> String {
    match family {
        Family::IPv4 => format!("/registry/{rt}/podips/ipv4/"),
        Family::IPv6 => format!("/registry/{rt}/podips/ipv6/"),
    }
}

fn hex_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v) => format!("{:08x}", u32::from(v)),
        IpAddr::V6(v) => format!("{:032x}", u128::from(v)),
    }
}

/// Key of a held pod address.
pub fn podip_key(rt: &str, ip: IpAddr) -> String {
    format!("{}{}", podip_dir(rt, Family::of_ip(&ip)), hex_of(ip))
}

/// `namespace/name` of a pod, as the holders of addresses are recorded.
pub fn pod_id(pod: &Value) -> String {
    format!(
        "{}/{}",
        pod.pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(""),
        name_of(pod)
    )
}

/// The addresses a pod holds (its `status.podIPs`).
pub fn pod_ips(pod: &Value) -> Vec<IpAddr> {
    let mut out: Vec<IpAddr> = pod
        .pointer("/status/podIPs")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("ip").and_then(Value::as_str))
        .filter_map(|s| s.parse().ok())
        .collect();
    if out.is_empty() {
        if let Some(ip) = pod
            .pointer("/status/podIP")
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
        {
            out.push(ip);
        }
    }
    out
}

/// Removes the address keys a pod holds (only those recorded as held by this pod's uid).
pub fn release_pod_addresses(txn: &mut dyn TxnExt, rt: &str, pod: &Value) {
    let uid = pod
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("");
    if pod.pointer("/spec/hostNetwork").and_then(Value::as_bool) == Some(true) {
        return;
    }
    for ip in pod_ips(pod) {
        let key = podip_key(rt, ip);
        if let Some(held) = txn.get_json(&key) {
            if held.get("uid").and_then(Value::as_str) == Some(uid) {
                txn.delete_raw(&key);
            }
        }
    }
}

/// A [`PodAllocator`] over the store transaction: one key per held address, next fit after
/// the last address handed out in the node's range (so a just-released address is not reused
/// at once unless the range wrapped).
pub struct StorePodAllocator<'a> {
    pub txn: &'a mut dyn TxnExt,
    pub rt: &'a str,
    /// The node's pod CIDRs (`spec.podCIDRs`).
    pub cidrs: Vec<IpNet>,
    /// What the key records as the holder.
    pub holder: Value,
}

impl StorePodAllocator<'_> {
    fn range(&self, node: &str, family: Family) -> Result<PodRange, PodIpError> {
        self.cidrs
            .iter()
            .find(|c| Family::of_net(c) == family)
            .map(|c| PodRange::new(*c))
            .ok_or_else(|| PodIpError::NoRange {
                node: node.to_string(),
                family,
            })
    }

    /// Offsets held inside `range`.
    fn held(&mut self, range: &PodRange) -> Vec<u128> {
        let cidr = range.cidr();
        let nibbles = (cidr.prefix_len() / 4) as usize;
        let base = hex_of(cidr.network());
        let prefix = format!("{}{}", podip_dir(self.rt, range.family()), &base[..nibbles]);
        self.txn
            .scan(&prefix)
            .into_iter()
            .filter_map(|(k, _)| {
                let hex = k.rsplit('/').next()?;
                let v = u128::from_str_radix(hex, 16).ok()?;
                let ip = match range.family() {
                    Family::IPv4 => IpAddr::V4((v as u32).into()),
                    Family::IPv6 => IpAddr::V6(v.into()),
                };
                range.offset_of(ip)
            })
            .collect()
    }

    fn hold(&mut self, node: &str, ip: IpAddr) {
        let mut v = self.holder.clone();
        v["ip"] = json!(ip.to_string());
        v["node"] = json!(node);
        let key = podip_key(self.rt, ip);
        self.txn.put_json(&key, &v);
    }
}

impl PodAllocator for StorePodAllocator<'_> {
    fn allocate_next(&mut self, node: &str, family: Family) -> Result<IpAddr, PodIpError> {
        let range = self.range(node, family)?;
        let held = self.held(&range);
        let (first, last) = (range.first(), range.last());
        let count = held.iter().filter(|o| **o >= first && **o <= last).count() as u128;
        if range.capacity() == 0 || count >= range.capacity() {
            return Err(PodIpError::Full(range.range_string()));
        }
        let set: std::collections::BTreeSet<u128> = held.into_iter().collect();
        // Next fit after the last address handed out (host-local's `lastReservedIP`, kept in
        // the store so a restart does not reuse a just-released address either).
        let last_key = format!(
            "/registry/{}/podiplast/{}",
            self.rt,
            range.cidr().to_string().replace('/', "_")
        );
        let last_given = self
            .txn
            .get_json(&last_key)
            .and_then(|v| v.as_str().and_then(|s| s.parse::<IpAddr>().ok()))
            .and_then(|ip| range.offset_of(ip))
            .or_else(|| set.iter().next_back().copied());
        let mut cand = match last_given {
            Some(m) if m < last && m >= first => m + 1,
            _ => first,
        };
        while set.contains(&cand) {
            cand = if cand >= last { first } else { cand + 1 };
        }
        let ip = range
            .ip_at(cand)
            .ok_or_else(|| PodIpError::Full(range.range_string()))?;
        self.hold(node, ip);
        self.txn.put_json(&last_key, &json!(ip.to_string()));
        Ok(ip)
    }

    fn allocate(&mut self, node: &str, ip: IpAddr) -> Result<(), PodIpError> {
        let range = self.range(node, Family::of_ip(&ip))?;
        if !range.allocatable(ip) || self.txn.get_raw(&podip_key(self.rt, ip)).is_some() {
            return Err(PodIpError::Unavailable {
                ip,
                range: range.range_string(),
            });
        }
        self.hold(node, ip);
        Ok(())
    }

    fn release(&mut self, _node: &str, ip: IpAddr) {
        self.txn.delete_raw(&podip_key(self.rt, ip));
    }
}
