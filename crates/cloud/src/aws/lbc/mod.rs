//! The AWS Load Balancer Controller v3.5.0's Service controller
//! (`controllers/service/service_controller.go`): `IsServiceSupported`
//! (`pkg/service/service_utils.go`), build the model (`pkg/service/model_builder.go`), add the
//! finalizer, deploy, write the status; cleanup deploys the empty stack.

pub mod annotations;
mod deploy;
mod model_build_load_balancer;
mod model_build_target_group;
pub mod names;
pub mod subnets;

use super::{Cluster, Endpoint};
use crate::inventory::{HealthCheck, LoadBalancer, Subnet};
use crate::{Event, Reconciled};
use annotations::Parser;
use k8s_openapi::api::core::v1::{Service, ServicePort};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The event recorder's component of the LBC's Service controller.
pub const COMPONENT: &str = "service";
/// `shared_constants.ServiceFinalizer`.
pub const FINALIZER: &str = "service.k8s.aws/resources";
/// `--load-balancer-class` default.
pub const LOAD_BALANCER_CLASS: &str = "service.k8s.aws/nlb";

/// `IsServiceSupported` with the LBC's defaults (`ServiceTypeLoadBalancerOnly` gate off).
pub fn is_service_supported(svc: &Service) -> bool {
    if svc.metadata.deletion_timestamp.is_some() {
        return false;
    }
    if let Some(class) = svc
        .spec
        .as_ref()
        .and_then(|s| s.load_balancer_class.as_deref())
    {
        return class == LOAD_BALANCER_CLASS;
    }
    let ann = svc.metadata.annotations.clone().unwrap_or_default();
    let get = |s: &str| ann.get(&annotations::key(s)).map(String::as_str);
    match get(annotations::TYPE) {
        Some("nlb-ip") => true,
        Some("external") => matches!(get(annotations::TARGET_TYPE), Some("ip") | Some("instance")),
        _ => false,
    }
}

/// One model build (`defaultModelBuildTask`).
pub(crate) struct Task<'a> {
    pub svc: &'a Service,
    pub ann: Parser<'a>,
    pub cluster: &'a Cluster<'a>,
    /// The load balancer this Service's stack already has (`fetchExistingLoadBalancer`).
    pub existing: Option<&'a LoadBalancer>,
    pub namespace: &'a str,
    pub name: &'a str,
    pub uid: &'a str,
}

impl Task<'_> {
    fn svc_spec_source_ranges(&self) -> Vec<String> {
        self.svc
            .spec
            .as_ref()
            .and_then(|s| s.load_balancer_source_ranges.clone())
            .unwrap_or_default()
    }
}

/// The load balancer of the model (`elbv2model.LoadBalancerSpec`).
pub(crate) struct LbSpec<'v> {
    pub name: String,
    pub scheme: String,
    pub ip_address_type: String,
    pub source_nat: bool,
    pub subnets: Vec<&'v Subnet>,
    pub mappings: Vec<MappingSpec>,
    pub attributes: BTreeMap<String, String>,
    pub managed_sg: bool,
    pub source_ranges: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Default)]
pub(crate) struct MappingSpec {
    pub allocation_id: Option<String>,
    pub private_ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    pub source_nat_prefix: Option<String>,
}

/// A listener's target group (`elbv2model.TargetGroupSpec` + the binding's node selector).
pub(crate) struct TgSpec {
    pub name: String,
    pub target_type: String,
    pub port: i32,
    pub protocol: String,
    pub ip_address_type: String,
    pub health_check: HealthCheck,
    pub attributes: BTreeMap<String, String>,
    pub node_selector: Option<BTreeMap<String, String>>,
    pub svc_port: ServicePort,
}

impl<'a> Task<'a> {
    /// `buildModel`: scheme → IP address type → subnets → load balancer → listeners.
    fn build_model(&self) -> Result<(LbSpec<'a>, Vec<TgSpec>), String> {
        let scheme = self.build_load_balancer_scheme()?;
        let ip_type = self.build_load_balancer_ip_address_type()?;
        let subnets = self.build_load_balancer_subnets(&scheme, &ip_type)?;
        let lb = self.build_load_balancer_spec(&scheme, &ip_type, subnets)?;
        let tgs = self.build_listeners(&ip_type)?;
        Ok((lb, tgs))
    }
}

/// The LBC's reconcile of `svc`; `existing` are the records this Service owns that the LBC
/// built, `has_finalizer` whether the Service carries [`FINALIZER`].
pub(crate) fn reconcile(
    svc: &Service,
    cluster: &Cluster<'_>,
    existing: &[&LoadBalancer],
    endpoints: &[Endpoint],
    has_finalizer: bool,
    out: &mut Reconciled<LoadBalancer>,
) {
    if !is_service_supported(svc) {
        // Empty stack: cleanup runs only while our finalizer is on the Service.
        if has_finalizer {
            out.remove_finalizers.push(FINALIZER.into());
            out.ingress = Some(Vec::new());
        } else {
            out.resources
                .extend(existing.iter().map(|lb| (*lb).clone()));
        }
        return;
    }
    let ann_map = svc.metadata.annotations.clone().unwrap_or_default();
    let ns = svc
        .metadata
        .namespace
        .clone()
        .unwrap_or_else(|| "default".into());
    let name = svc.metadata.name.clone().unwrap_or_default();
    let uid = svc.metadata.uid.clone().unwrap_or_default();
    let task = Task {
        svc,
        ann: Parser(&ann_map),
        cluster,
        existing: existing.first().copied(),
        namespace: &ns,
        name: &name,
        uid: &uid,
    };
    match task.build_model() {
        Err(e) => {
            // A failed build changes nothing in the cloud and adds no finalizer.
            out.events.push(Event::warning(
                COMPONENT,
                "FailedBuildModel",
                format!("Failed build model due to {e}"),
            ));
            out.resources
                .extend(existing.iter().map(|lb| (*lb).clone()));
        }
        Ok((lb, tgs)) => {
            if !has_finalizer {
                out.add_finalizers.push(FINALIZER.into());
            }
            let deployed = deploy::deploy(&task, &lb, &tgs, endpoints);
            out.resources.push(deployed.record);
            match deployed.error {
                Some(e) => out.events.push(Event::warning(
                    COMPONENT,
                    "FailedDeployModel",
                    format!("Failed deploy model due to {e}"),
                )),
                None => {
                    out.ingress = Some(vec![deployed.ingress]);
                    out.events.push(Event::normal(
                        COMPONENT,
                        "SuccessfullyReconciled",
                        "Successfully reconciled",
                    ));
                }
            }
        }
    }
}
