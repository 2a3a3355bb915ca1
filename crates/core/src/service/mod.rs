//! Service dual-stack semantics of kube-apiserver.
