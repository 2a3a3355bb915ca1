//! The rules of the cloud load balancers behind a runtime's `type: LoadBalancer` Services, as
//! the real controllers apply them, with no I/O: the shell (`twinstack-controllers`) gathers a
//! Service and the runtime's facts, calls a `reconcile`, and carries out what it returns
//! (events, finalizers, status, the inventory records).
//!
//! - [`aws`]: the AWS Load Balancer Controller (LBC) and the legacy AWS cloud provider, the
//!   emulated VPC ([`aws::vpc`]).
//! - [`gcp`]: ingress-gce's L4 NetLB/ILB controllers and the legacy GCE provider, the emulated
//!   VPC network.
//! - [`gardener`]: Gardener's shoot Service webhooks (AWS and GCP).
//! - [`istio`]: Istio's sidecar injection and the "IPv6 is not part of the mesh" warning.
//! - [`inventory`]: what the clouds hold (load balancers, target groups, forwarding rules,
//!   subnets), as the cloud APIs describe them.
//! - [`path`]: the path model: who sees which address at each hop of a flow.
//! - [`api`]: the cloud APIs the CLIs call, read-only, over the inventory (ELBv2/EC2 Query API
//!   with Signature Version 4, Compute Engine REST).

pub mod api;
pub mod aws;
pub mod gardener;
pub mod gcp;
pub mod inventory;
pub mod istio;
pub mod outcome;
pub mod path;

pub use outcome::{Event, EventType, Reconciled};
