//! Kyma Environment Broker and Gardener rules (filled in by the broker work).
