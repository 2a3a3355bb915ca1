//! Pod create validation (`pkg/apis/core/validation/validation.go`: `ValidatePodCreate`,
//! `ValidatePodSpec`, `ValidateVolumes`, `validateContainers`, `validateContainerCommon`,
//! `validateContainerPorts`, `ValidateEnv`, `ValidateVolumeMounts`, `validatePullPolicy`,
//! `ValidateResourceRequirements`, `validateRestartPolicy`, `validateDNSPolicy`,
//! `AccumulateUniqueHostPorts`) for what users write. Errors come in upstream's order; maps are
//! walked sorted (one of the orders Go can produce).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, Volume};
use twinstack_core::field::{BadValue, ErrorList, FieldError, Path};
use twinstack_core::meta::{validate_object_meta, NameValidation};
use twinstack_core::selector::{is_dns1123_label, max_len_error, validate_labels};

use crate::quantity::{Quantity, FORMAT_ERROR};

/// `validation.InclusiveRangeError(1, 65535)`.
pub const PORT_RANGE_ERROR: &str = "must be between 1 and 65535, inclusive";
/// `relaxedEnvVarNameFmtErrMsg` (RelaxedEnvironmentVariableValidation is on by default in 1.32).
pub const RELAXED_ENV_NAME_ERROR: &str =
    "a valid environment variable name must consist only of printable ASCII characters other than '='";

/// `ValidatePodCreate`: metadata, then the spec.
pub fn validate_create(pod: &Pod) -> ErrorList {
    let mut errs = validate_object_meta(
        &pod.metadata,
        true,
        NameValidation::Dns1123Subdomain,
        &Path::new("metadata"),
    );
    let default_spec = PodSpec::default();
    let spec = pod.spec.as_ref().unwrap_or(&default_spec);
    errs.extend(validate_spec(spec, &Path::new("spec")));
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.push(FieldError::forbidden(
            &Path::new("spec").child("ephemeralContainers"),
            "cannot be set on create",
        ));
    }
    errs
}

/// `ValidatePodSpec` (the parts users reach).
pub fn validate_spec(spec: &PodSpec, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    if spec.termination_grace_period_seconds.is_none() {
        errs.push(FieldError::required(
            &path.child("terminationGracePeriodSeconds"),
            "",
        ));
    }
    let volumes = validate_volumes(
        spec.volumes.as_deref().unwrap_or(&[]),
        &path.child("volumes"),
        &mut errs,
    );
    let init = spec.init_containers.as_deref().unwrap_or(&[]);
    // Init container names must differ from each other and from the regular containers; the
    // collision is reported on the init container (validateInitContainers).
    let mut names: BTreeSet<&str> = spec.containers.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in init.iter().enumerate() {
        let p = path.child("initContainers").index(i);
        errs.extend(validate_container_common(c, &volumes, &p));
        if !names.insert(&c.name) {
            errs.push(FieldError::duplicate(
                &p.child("name"),
                BadValue::str(&c.name),
            ));
        }
    }
    let containers_path = path.child("containers");
    if spec.containers.is_empty() {
        errs.push(FieldError::required(&containers_path, ""));
    }
    let mut regular: BTreeSet<&str> = BTreeSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let p = containers_path.index(i);
        errs.extend(validate_container_common(c, &volumes, &p));
        if !regular.insert(&c.name) {
            errs.push(FieldError::duplicate(
                &p.child("name"),
                BadValue::str(&c.name),
            ));
        }
    }
    errs.extend(unique_host_ports(&spec.containers, &containers_path));
    errs.extend(one_of(
        spec.restart_policy.as_deref(),
        &path.child("restartPolicy"),
        &["Always", "OnFailure", "Never"],
    ));
    errs.extend(one_of(
        spec.dns_policy.as_deref(),
        &path.child("dnsPolicy"),
        &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
    ));
    if let Some(sel) = spec.node_selector.as_ref() {
        errs.extend(validate_labels(sel, &path.child("nodeSelector")));
    }
    if let Some(sa) = spec
        .service_account_name
        .as_deref()
        .filter(|s| !s.is_empty())
    {
        for m in NameValidation::Dns1123Subdomain.validate(sa, false) {
            errs.push(FieldError::invalid(
                &path.child("serviceAccountName"),
                BadValue::str(sa),
                m,
            ));
        }
    }
    if let Some(n) = spec.node_name.as_deref().filter(|s| !s.is_empty()) {
        for m in NameValidation::Dns1123Subdomain.validate(n, false) {
            errs.push(FieldError::invalid(
                &path.child("nodeName"),
                BadValue::str(n),
                m,
            ));
        }
    }
    if let Some(v) = spec.active_deadline_seconds {
        if !(1..=i32::MAX as i64).contains(&v) {
            errs.push(FieldError::invalid(
                &path.child("activeDeadlineSeconds"),
                BadValue::int(v),
                format!("must be between 1 and {}, inclusive", i32::MAX),
            ));
        }
    }
    for (field, value) in [
        ("hostname", spec.hostname.as_deref()),
        ("subdomain", spec.subdomain.as_deref()),
    ] {
        if let Some(v) = value.filter(|s| !s.is_empty()) {
            errs.extend(dns1123_label(v, &path.child(field)));
        }
    }
    errs
}

/// `ValidateDNS1123Label`.
fn dns1123_label(value: &str, path: &Path) -> ErrorList {
    is_dns1123_label(value)
        .into_iter()
        .map(|m| FieldError::invalid(path, BadValue::str(value), m))
        .collect()
}

/// Required when empty, NotSupported when not in `valid` (in upstream's listed order).
fn one_of(value: Option<&str>, path: &Path, valid: &[&str]) -> ErrorList {
    match value.unwrap_or("") {
        "" => vec![FieldError::required(path, "")],
        v if valid.contains(&v) => vec![],
        v => vec![FieldError::not_supported(path, BadValue::str(v), valid)],
    }
}

/// Volume sources in the order `validateVolumeSource` checks them.
const VOLUME_SOURCE_ORDER: [&str; 30] = [
    "hostPath",
    "emptyDir",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "persistentVolumeClaim",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "downwardAPI",
    "fc",
    "azureFile",
    "configMap",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "projected",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "csi",
    "ephemeral",
    "image",
];

/// `ValidateVolumes`: returns the names of the valid volumes.
fn validate_volumes(volumes: &[Volume], path: &Path, errs: &mut ErrorList) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, v) in volumes.iter().enumerate() {
        let p = path.index(i);
        let mut el = ErrorList::new();
        let mut sources: Vec<String> = serde_json::to_value(v)
            .ok()
            .and_then(|j| {
                j.as_object()
                    .map(|o| o.keys().filter(|k| *k != "name").cloned().collect())
            })
            .unwrap_or_default();
        // validateVolumeSource checks the sources in this order and rejects each one after
        // the first it meets.
        let rank = |k: &str| {
            VOLUME_SOURCE_ORDER
                .iter()
                .position(|x| *x == k)
                .unwrap_or(VOLUME_SOURCE_ORDER.len())
        };
        sources.sort_by_key(|k| rank(k));
        if sources.is_empty() {
            el.push(FieldError::required(&p, "must specify a volume type"));
        }
        for extra in sources.iter().skip(1) {
            el.push(FieldError::forbidden(
                &p.child(extra),
                "may not specify more than 1 volume type",
            ));
        }
        let name_path = p.child("name");
        if v.name.is_empty() {
            el.push(FieldError::required(&name_path, ""));
        } else {
            el.extend(dns1123_label(&v.name, &name_path));
        }
        if names.contains(&v.name) {
            el.push(FieldError::duplicate(&name_path, BadValue::str(&v.name)));
        }
        if el.is_empty() {
            names.insert(v.name.clone());
        } else {
            errs.extend(el);
        }
    }
    names
}

/// `validateContainerCommon`.
fn validate_container_common(c: &Container, volumes: &BTreeSet<String>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let name_path = path.child("name");
    if c.name.is_empty() {
        errs.push(FieldError::required(&name_path, ""));
    } else {
        errs.extend(dns1123_label(&c.name, &name_path));
    }
    if c.image.as_deref().unwrap_or("").is_empty() {
        errs.push(FieldError::required(&path.child("image"), ""));
    }
    errs.extend(one_of(
        c.termination_message_policy.as_deref(),
        &path.child("terminationMessagePolicy"),
        &["File", "FallbackToLogsOnError"],
    ));
    errs.extend(validate_ports(c, &path.child("ports")));
    errs.extend(validate_env(c, &path.child("env")));
    errs.extend(validate_mounts(c, volumes, &path.child("volumeMounts")));
    errs.extend(one_of(
        c.image_pull_policy.as_deref(),
        &path.child("imagePullPolicy"),
        &["Always", "IfNotPresent", "Never"],
    ));
    errs.extend(validate_resources(c, &path.child("resources")));
    errs
}

/// `validation.IsValidPortName`.
pub fn port_name_errors(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if name.len() > 15 {
        out.push(max_len_error(15));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        out.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if !name.bytes().any(|b| b.is_ascii_lowercase()) {
        out.push("must contain at least one letter (a-z)".into());
    }
    if name.contains("--") {
        out.push("must not contain consecutive hyphens".into());
    }
    if name.starts_with('-') || name.ends_with('-') {
        out.push("must not begin or end with a hyphen".into());
    }
    out
}

/// `validateContainerPorts`.
fn validate_ports(c: &Container, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for (i, p) in c.ports.iter().flatten().enumerate() {
        let ip = path.index(i);
        if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
            let msgs = port_name_errors(name);
            if !msgs.is_empty() {
                for m in msgs {
                    errs.push(FieldError::invalid(
                        &ip.child("name"),
                        BadValue::str(name),
                        m,
                    ));
                }
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(
                    &ip.child("name"),
                    BadValue::str(name),
                ));
            }
        }
        if p.container_port == 0 {
            errs.push(FieldError::required(&ip.child("containerPort"), ""));
        } else if !(1..=65535).contains(&p.container_port) {
            errs.push(FieldError::invalid(
                &ip.child("containerPort"),
                BadValue::int(p.container_port as i64),
                PORT_RANGE_ERROR,
            ));
        }
        if let Some(hp) = p.host_port.filter(|h| *h != 0) {
            if !(1..=65535).contains(&hp) {
                errs.push(FieldError::invalid(
                    &ip.child("hostPort"),
                    BadValue::int(hp as i64),
                    PORT_RANGE_ERROR,
                ));
            }
        }
        match p.protocol.as_deref().unwrap_or("") {
            "" => errs.push(FieldError::required(&ip.child("protocol"), "")),
            "TCP" | "UDP" | "SCTP" => {}
            other => errs.push(FieldError::not_supported(
                &ip.child("protocol"),
                BadValue::str(other),
                &["SCTP", "TCP", "UDP"],
            )),
        }
    }
    errs
}

/// `AccumulateUniqueHostPorts`: one host port per protocol and host IP across containers.
fn unique_host_ports(containers: &[Container], path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, p) in c.ports.iter().flatten().enumerate() {
            let hp = p.host_port.unwrap_or(0);
            if hp == 0 {
                continue;
            }
            let key = format!(
                "{}/{}/{}",
                p.protocol.as_deref().unwrap_or(""),
                p.host_ip.as_deref().unwrap_or(""),
                hp
            );
            if !seen.insert(key.clone()) {
                errs.push(FieldError::duplicate(
                    &path.index(ci).child("ports").index(pi).child("hostPort"),
                    BadValue::str(key),
                ));
            }
        }
    }
    errs
}

/// `ValidateEnv` with relaxed names (1.32 default).
fn validate_env(c: &Container, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, e) in c.env.iter().flatten().enumerate() {
        let np = path.index(i).child("name");
        let value_from = validate_value_from(e, &path.index(i).child("valueFrom"));
        if e.name.is_empty() {
            errs.push(FieldError::required(&np, ""));
            errs.push(FieldError::invalid(
                &np,
                BadValue::str(""),
                "environment variable name must be non-empty",
            ));
        } else if e
            .name
            .chars()
            .any(|ch| !ch.is_ascii() || ch.is_ascii_control() || ch == '=')
        {
            errs.push(FieldError::invalid(
                &np,
                BadValue::str(&e.name),
                RELAXED_ENV_NAME_ERROR,
            ));
        }
        errs.extend(value_from);
    }
    errs
}

/// Downward API paths an env var may read (`validEnvDownwardAPIFieldPathExpressions`, sorted).
const ENV_FIELD_PATHS: [&str; 9] = [
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// Field labels `ConvertDownwardAPIFieldLabel` knows for pods (v1).
const POD_FIELD_LABELS: [&str; 14] = [
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.serviceAccountName",
    "spec.schedulerName",
    "status.phase",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];

/// `validateEnvVarValueFrom` (source count) and `validateObjectFieldSelector` for `fieldRef`.
fn validate_value_from(e: &k8s_openapi::api::core::v1::EnvVar, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(vf) = e.value_from.as_ref() else {
        return errs;
    };
    let mut sources = 0;
    if let Some(fr) = vf.field_ref.as_ref() {
        sources += 1;
        let fp = path.child("fieldRef");
        let api = fr.api_version.as_deref().unwrap_or("");
        if api.is_empty() {
            errs.push(FieldError::required(&fp.child("apiVersion"), ""));
        } else if fr.field_path.is_empty() {
            errs.push(FieldError::required(&fp.child("fieldPath"), ""));
        } else {
            let label = fr.field_path.as_str();
            let (base, subscripted) = match label.split_once('[') {
                Some((b, rest)) if rest.ends_with(']') => (b, true),
                _ => (label, false),
            };
            let convert_err = if api != "v1" {
                Some(format!("unsupported pod version: {api}"))
            } else if subscripted && base != "metadata.annotations" && base != "metadata.labels" {
                Some(format!("field label does not support subscript: {label}"))
            } else if !subscripted && !POD_FIELD_LABELS.contains(&label) && label != "spec.host" {
                Some(format!("field label not supported: {label}"))
            } else {
                None
            };
            if let Some(m) = convert_err {
                errs.push(FieldError::invalid(
                    &fp.child("fieldPath"),
                    BadValue::str(label),
                    format!("error converting fieldPath: {m}"),
                ));
            } else if !subscripted {
                let internal = if label == "spec.host" {
                    "spec.nodeName"
                } else {
                    label
                };
                if !ENV_FIELD_PATHS.contains(&internal) {
                    errs.push(FieldError::not_supported(
                        &fp.child("fieldPath"),
                        BadValue::str(internal),
                        &ENV_FIELD_PATHS,
                    ));
                }
            }
        }
    }
    sources += vf.resource_field_ref.is_some() as usize
        + vf.config_map_key_ref.is_some() as usize
        + vf.secret_key_ref.is_some() as usize;
    let detail = if sources == 0 {
        Some("must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`")
    } else if !e.value.as_deref().unwrap_or("").is_empty() {
        Some("may not be specified when `value` is not empty")
    } else if sources > 1 {
        Some("may not have more than one field specified at a time")
    } else {
        None
    };
    if let Some(d) = detail {
        errs.push(FieldError::invalid(path, BadValue::str(""), d));
    }
    errs
}

/// `ValidateVolumeMounts` (name, mountPath, uniqueness).
fn validate_mounts(c: &Container, volumes: &BTreeSet<String>, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let mut paths: BTreeSet<&str> = BTreeSet::new();
    for (i, m) in c.volume_mounts.iter().flatten().enumerate() {
        let ip = path.index(i);
        if m.name.is_empty() {
            errs.push(FieldError::required(&ip.child("name"), ""));
        }
        if !volumes.contains(&m.name) {
            errs.push(FieldError::not_found(
                &ip.child("name"),
                BadValue::str(&m.name),
            ));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(&ip.child("mountPath"), ""));
        }
        if !paths.insert(&m.mount_path) {
            errs.push(FieldError::invalid(
                &ip.child("mountPath"),
                BadValue::str(&m.mount_path),
                "must be unique",
            ));
        }
    }
    errs
}

/// Resource names a container may use without a domain (`IsStandardContainerResourceName`).
const STANDARD_CONTAINER_RESOURCES: [&str; 3] = ["cpu", "memory", "ephemeral-storage"];

/// `ValidateResourceRequirements` (limits first, then requests; request <= limit).
fn validate_resources(c: &Container, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let Some(res) = c.resources.as_ref() else {
        return errs;
    };
    let empty = BTreeMap::new();
    let limits = res.limits.as_ref().unwrap_or(&empty);
    let requests = res.requests.as_ref().unwrap_or(&empty);
    let lim_path = path.child("limits");
    let req_path = path.child("requests");
    let mut parsed_limits = BTreeMap::new();
    for (name, q) in limits {
        let p = lim_path.key(name);
        errs.extend(resource_name(name, &p));
        if let Some(v) = quantity(&q.0, &p, &mut errs) {
            parsed_limits.insert(name.clone(), v);
        }
    }
    for (name, q) in requests {
        let p = req_path.key(name);
        errs.extend(resource_name(name, &p));
        let Some(v) = quantity(&q.0, &p, &mut errs) else {
            continue;
        };
        if let Some(l) = parsed_limits.get(name) {
            if v.nanos > l.nanos {
                errs.push(FieldError::invalid(
                    &req_path,
                    BadValue::str(v.canonical()),
                    format!(
                        "must be less than or equal to {name} limit of {}",
                        l.canonical()
                    ),
                ));
            }
        }
    }
    errs
}

fn resource_name(name: &str, path: &Path) -> ErrorList {
    if !name.contains('/') && !STANDARD_CONTAINER_RESOURCES.contains(&name) {
        if name.starts_with("hugepages-") {
            return vec![];
        }
        return vec![FieldError::invalid(
            path,
            BadValue::str(name),
            "must be a standard resource for containers",
        )];
    }
    vec![]
}

/// Parses a quantity; a malformed one is reported the way the decoder would reject it, and a
/// negative one as `ValidateNonnegativeQuantity` does.
fn quantity(s: &str, path: &Path, errs: &mut ErrorList) -> Option<Quantity> {
    match Quantity::parse(s) {
        Ok(q) if q.is_negative() => {
            errs.push(FieldError::invalid(
                path,
                BadValue::str(q.canonical()),
                "must be greater than or equal to 0",
            ));
            None
        }
        Ok(q) => Some(q),
        Err(_) => {
            errs.push(FieldError::invalid(path, BadValue::str(s), FORMAT_ERROR));
            None
        }
    }
}
