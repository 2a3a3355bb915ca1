//! Kubernetes semantics beyond Services (filled in by the workloads work).
