//! SARIF 2.1.0 (OASIS), the format code review tools annotate pull requests from (GitHub code
//! scanning, GitLab, reviewdog): one run of the tool `twinstack check`, one result per
//! finding, located at the object's file and line. Paths stay as given (relative paths are
//! relative to where `check` ran, which is the repository root in CI), percent-encoded as URI
//! references.

use crate::report::{Report, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What each rule means (`shortDescription`), for rules known in advance; events are named
/// after their reason.
fn describe(rule: &str) -> String {
    match rule {
        "refused" => "The API server refused the object".into(),
        "unsupported-kind" => "twinstack does not serve this kind".into(),
        "api-warning" => "The API server answered with a warning".into(),
        "prefer-dual-stack-single" => "PreferDualStack stayed single-stack".into(),
        "annotation-ignored" => "An annotation no controller reads".into(),
        "load-balancer-pending" => "A LoadBalancer Service got no address".into(),
        r => match r.strip_prefix("event/") {
            Some(reason) => format!("A Warning event {reason}"),
            None => r.to_string(),
        },
    }
}

/// A path as a URI reference: unreserved characters and `/` stay, the rest is %-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The SARIF log; `version` is the tool's version.
pub fn sarif(r: &Report, version: &str) -> String {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for o in &r.objects {
        for f in &o.findings {
            rules.entry(f.rule.clone()).or_insert_with(|| {
                json!({
                    "id": f.rule,
                    "shortDescription": {"text": describe(&f.rule)},
                })
            });
            results.push(json!({
                "ruleId": f.rule,
                "level": match f.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": {"text": format!("{}: {}", o.title(), f.message)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&o.file)},
                        "region": {"startLine": o.line.max(1)},
                    },
                    "logicalLocations": [{
                        "name": o.name,
                        "fullyQualifiedName": o.title(),
                        "kind": "object",
                    }],
                }],
            }));
        }
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "twinstack check",
                "version": version,
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
            "properties": {"runtime": r.runtime, "converged": r.converged},
        }],
    });
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}
