//! Pure apimachinery of twinstack, as k8s.io/apimachinery is upstream: object metadata
//! validation, field errors, `Status`, label and field selectors, patches, pagination, Go JSON,
//! plus the IPAM range math and runtime networks that both `kube` and `keb` use. Nothing in this
//! crate performs I/O, and nothing here knows a resource's rules (those are `twinstack-kube`'s):
//! functions take values and return values, so the server and offline checks share one rule.

pub mod field;
pub mod gojson;
pub mod hash;
pub mod ipam;
pub mod meta;
pub mod pagination;
pub mod patch;
pub mod runtime;
pub mod selector;
pub mod status;
