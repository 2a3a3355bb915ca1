//! Gardener's shoot Service webhooks (`gardener-extension-provider-aws` and `-gcp`,
//! `pkg/webhook/shootservice/mutator.go`): on dual-stack runtimes (the trigger is
//! `kube-system/kube-dns` having IPv6 in `spec.ipFamilies`), new non-internal LoadBalancer
//! Services are handed to the dual-stack capable controller.

use k8s_openapi::api::core::v1::Service;

/// The AWS webhook on CREATE (`old` is `None`) or UPDATE of `svc`; returns whether it changed.
pub fn mutate_service_aws(svc: &mut Service, old: Option<&Service>, kube_dns_has_ipv6: bool) -> bool {
    let _ = (svc, old, kube_dns_has_ipv6);
    false
}

/// The GCP webhook (CREATE only); returns whether it changed `svc`.
pub fn mutate_service_gcp(svc: &mut Service, old: Option<&Service>, kube_dns_has_ipv6: bool) -> bool {
    let _ = (svc, old, kube_dns_has_ipv6);
    false
}
