//! Kyma's modules as a Kyma runtime ships them, as pure rules: the shell
//! (`twinstack-platform` at provisioning, `twinstack-controllers` for the api-gateway's and the
//! gateway DNSEntry's reconciliation) gathers the inputs and carries out what these return.
//!
//! - [`crds`]: the CustomResourceDefinitions of the default modules (APIRule v2 and v2alpha1,
//!   Istio's networking, security and telemetry kinds, Function, ServiceInstance and
//!   ServiceBinding, the module resources, Gardener's DNSEntry), written from the modules' Go
//!   types.
//! - [`runtime`]: what every Kyma runtime starts with: `kyma-system` and `istio-system`, the
//!   `Kyma` resource with its modules, the module resources, the `istio-ingressgateway`
//!   `LoadBalancer` Service with the Istio module's annotations per provider, the
//!   `kyma-system/kyma-gateway` Gateway and DNSEntry.
//! - [`apirule`]: the api-gateway's APIRule v2 reconciliation: validation with its messages,
//!   the VirtualService and AuthorizationPolicies it creates, the status it writes.
//! - [`function`]: the serverless module's Function controller (Deployment, Service, status).
//! - [`gateway`]: the Kyma gateway's HTTP routes from the VirtualServices bound to it.
//! - [`dnsentry`]: the `kyma-gateway` DNSEntry's targets and Gardener's `ip-stack` annotation.

pub mod apirule;
pub mod crds;
pub mod dnsentry;
pub mod function;
pub mod gateway;
pub mod runtime;
