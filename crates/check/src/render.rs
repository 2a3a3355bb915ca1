//! The report as people and tools read it: [`table`] for a terminal (colour when asked),
//! [`json`] (the report itself, the contract the tests compare with a live twin), [`junit`]
//! (one test case per object) and [`sarif`] (2.1.0, one result per finding, at the object's
//! file and line).

pub mod junit;
pub mod sarif;
pub mod table;

use crate::report::Report;

/// The report as JSON (pretty, with a trailing newline).
pub fn json(r: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

#[cfg(test)]
mod tests;
