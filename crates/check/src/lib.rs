//! The pure half of `twinstack check` (the shell that runs the twin in memory is
//! `twinstack::check`): no I/O, no clock, no tokio.
//!
//! - [`manifest`]: manifests as kubectl reads them (multi-document YAML split as
//!   apimachinery's `YAMLReader` splits it, JSON streams, `List`s), each object with its file
//!   and line; malformed input as `file:line: message`.
//! - [`order`]: the order objects are applied in (Helm's install order: namespaces first).
//! - [`findings`]: what is worth telling about an object once the controllers are done
//!   (refusals, Warning events, admission warnings, a PreferDualStack Service that stayed
//!   single-stack, annotations no controller reads).
//! - [`observe`]: from what the shell observed of an object to its report.
//! - [`report`]: the per-object report, its summary and the exit code (`--fail-on`).
//! - [`render`]: the report as a table, JSON, JUnit XML and SARIF 2.1.0.
//!
//! Start at [`report::Report`]: everything else fills it or prints it.

pub mod findings;
pub mod manifest;
pub mod observe;
pub mod order;
pub mod render;
pub mod report;
