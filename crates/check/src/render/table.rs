//! The human table: one line per object (result, kind, name, families and addresses, the load
//! balancer, where it came from), its findings beneath it, then a summary. Colour (ANSI) only
//! when the caller says the output is a terminal.

use crate::report::{ObjectReport, Outcome, Report, Severity};
use std::fmt::Write;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const GREEN: &str = "\x1b[32m";
const RESET: &str = "\x1b[0m";

fn status(o: &ObjectReport) -> (&'static str, &'static str) {
    match (&o.outcome, o.severity()) {
        (Outcome::Refused, _) => ("REFUSED", RED),
        (Outcome::Unsupported, _) => ("SKIPPED", YELLOW),
        (_, Some(Severity::Error)) => ("FAIL", RED),
        (_, Some(Severity::Warning)) => ("WARN", YELLOW),
        (_, None) => ("OK", GREEN),
    }
}

/// What the twin gave the object: families and addresses, the load balancer.
fn networking(o: &ObjectReport) -> String {
    let mut parts = Vec::new();
    if let Some(s) = &o.service {
        let mut p = s.ip_families.join(",");
        if !s.cluster_ips.is_empty() {
            p.push_str(&format!(" {}", s.cluster_ips.join(",")));
        }
        parts.push(p);
    }
    if let Some(lb) = &o.load_balancer {
        for r in lb.resources.iter().filter(|r| !r.leaked) {
            let mut p = format!("{} {} {}", r.kind, r.scheme, r.ip_address_type);
            if !r.target_group_families.is_empty() {
                p.push_str(&format!(" tg:{}", r.target_group_families.join(",")));
            }
            parts.push(p);
        }
        let addrs: Vec<&str> = lb
            .ingress
            .iter()
            .filter_map(|i| i.get("hostname").or_else(|| i.get("ip"))?.as_str())
            .collect();
        if !addrs.is_empty() {
            parts.push(addrs.join(","));
        }
    }
    if let Some(w) = &o.workload {
        parts.push(format!(
            "{}/{} ready {}",
            w.ready_replicas,
            w.replicas,
            w.pod_ip_families.join(",")
        ));
    }
    parts.join("  ")
}

/// Renders the table; `color` adds ANSI colours to the result column and findings.
pub fn table(r: &Report, color: bool) -> String {
    let paint = |text: &str, c: &str| {
        if color {
            format!("{c}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let rows: Vec<[String; 5]> = r
        .objects
        .iter()
        .map(|o| {
            let name = match &o.namespace {
                Some(ns) => format!("{ns}/{}", o.name),
                None => o.name.clone(),
            };
            [
                status(o).0.to_string(),
                o.kind.clone(),
                name,
                networking(o),
                format!("{}:{}", o.file, o.line),
            ]
        })
        .collect();
    let header = ["RESULT", "KIND", "NAME", "NETWORKING", "SOURCE"];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (i, c) in row.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String, first_color: Option<&str>| {
        for (i, c) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(c.chars().count());
            let cell = match (i, first_color) {
                (0, Some(col)) => paint(c, col),
                _ => c.clone(),
            };
            if i + 1 == cells.len() {
                let _ = write!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell}{}   ", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(&header.map(String::from), &mut out, None);
    for (o, row) in r.objects.iter().zip(&rows) {
        line(row, &mut out, Some(status(o).1));
        for f in &o.findings {
            let (label, c) = match f.severity {
                Severity::Error => ("error", RED),
                Severity::Warning => ("warning", YELLOW),
            };
            let _ = writeln!(out, "  {}: {} [{}]", paint(label, c), f.message, f.rule);
        }
    }
    let s = &r.summary;
    let _ = writeln!(
        out,
        "\n{} objects on {} ({} {}, {}): {} accepted, {} refused, {} skipped; {} errors, {} warnings{}",
        s.objects,
        r.runtime.name,
        if r.runtime.plan.is_empty() { &r.runtime.provider } else { &r.runtime.plan },
        r.runtime.region,
        r.runtime.families.join(","),
        s.accepted,
        s.refused,
        s.unsupported,
        s.errors,
        s.warnings,
        if r.converged { "" } else { " (the controllers did not settle in time)" }
    );
    out
}
