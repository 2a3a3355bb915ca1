//! Pure rules of twinstack. Nothing in this crate performs I/O: functions take values and
//! return values (objects, warnings, errors), so the server and offline checks share one rule.

pub mod field;
pub mod gojson;
pub mod hash;
pub mod ipam;
pub mod meta;
pub mod pagination;
pub mod patch;
pub mod runtime;
pub mod selector;
pub mod service;
pub mod status;
pub mod table;
