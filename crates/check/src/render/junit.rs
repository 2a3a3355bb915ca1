//! JUnit XML, as CI systems read test reports (the Ant/Surefire shape Jenkins, GitLab and
//! GitHub reporters take): one `<testsuite>` for the check, one `<testcase>` per object named
//! `Kind namespace/name`, class name = its file. An object with an error finding gets a
//! `<failure>` (the first error as its message, all of them as text); an unsupported kind is
//! `<skipped>`; warnings and events go to `<system-out>`.

use crate::report::{Outcome, Report, Severity};
use std::fmt::Write;

use twinstack_cloud::api::xml::escape as esc;

pub fn junit(r: &Report) -> String {
    let failures = r
        .objects
        .iter()
        .filter(|o| o.severity() == Some(Severity::Error))
        .count();
    let skipped = r.summary.unsupported;
    let suite = format!(
        "twinstack check ({} {} {})",
        if r.runtime.plan.is_empty() {
            &r.runtime.provider
        } else {
            &r.runtime.plan
        },
        r.runtime.region,
        r.runtime.families.join(",")
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"twinstack check\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        r.objects.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        esc(&suite),
        r.objects.len()
    );
    for o in &r.objects {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\">",
            esc(&o.title()),
            esc(&o.file),
            esc(&o.file),
            o.line
        );
        let errors: Vec<&str> = o
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| f.message.as_str())
            .collect();
        if o.outcome == Outcome::Unsupported {
            let msg = o.findings.first().map(|f| f.message.as_str()).unwrap_or("");
            let _ = write!(out, "\n      <skipped message=\"{}\"/>", esc(msg));
        } else if let Some(first) = errors.first() {
            let kind = o
                .findings
                .iter()
                .find(|f| f.severity == Severity::Error)
                .map(|f| f.rule.as_str())
                .unwrap_or("");
            let _ = write!(
                out,
                "\n      <failure message=\"{}\" type=\"{}\">{}</failure>",
                esc(first),
                esc(kind),
                esc(&errors.join("\n"))
            );
        }
        let mut text: Vec<String> = o
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| format!("warning: {} [{}]", f.message, f.rule))
            .collect();
        text.extend(
            o.events
                .iter()
                .map(|e| format!("event: {} {} {}", e.type_, e.reason, e.message)),
        );
        if !text.is_empty() {
            let _ = write!(
                out,
                "\n      <system-out>{}</system-out>",
                esc(&text.join("\n"))
            );
        }
        let close = if o.outcome == Outcome::Unsupported || !errors.is_empty() || !text.is_empty() {
            "\n    </testcase>\n"
        } else {
            "</testcase>\n"
        };
        out.push_str(close);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
