//! `twinstack check`: flags, the runtime they describe, the report on stdout, the exit code.
//! The twin itself runs in the library (`twinstack::check`).

use crate::output::{errln, out};
use crate::{parse_duration, runtime_spec, RuntimeArgs};
use anyhow::Result;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use twinstack::check::{input, CheckConfig};
use twinstack::RuntimeSpec;
use twinstack_check::render;
use twinstack_check::report::{exit_code, FailOn};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Manifests: a file, a directory (its .yaml, .yml and .json files) or - for standard
    /// input; repeatable
    #[arg(short = 'f', long = "filename", value_name = "FILE|DIR|-")]
    files: Vec<String>,
    /// A kustomization directory, built with `kubectl kustomize` (kubectl must be on the
    /// PATH); repeatable
    #[arg(short = 'k', long = "kustomize", value_name = "DIR")]
    kustomize: Vec<PathBuf>,
    /// KEB plan of the runtime (aws, gcp, azure, azure_lite, ...): the runtime KEB provisions
    /// for it; without --plan, --provider and --ip-families describe the runtime
    #[arg(long, conflicts_with_all = ["provider", "ip_families", "service_cidrs", "pod_cidrs", "node_cidrs"])]
    plan: Option<String>,
    /// With --plan: request dual stack (`networking.dualStack`); KEB honours it on aws and gcp
    #[arg(long, requires = "plan")]
    dual_stack: bool,
    #[command(flatten)]
    runtime: RuntimeArgs,
    /// Output format: table (colour on a terminal), json, junit or sarif
    #[arg(short = 'o', long, default_value = "table", value_parser = ["table", "json", "junit", "sarif"])]
    output: String,
    /// Exit 1 on findings of this severity or worse: error (refusals, Warning events),
    /// warning (also admission warnings, advice, controllers that did not settle), never
    #[arg(long, default_value = "error", value_name = "SEVERITY")]
    fail_on: String,
    /// How long the controllers may take to settle (e.g. 30s, 500ms)
    #[arg(long, default_value = "30s", value_name = "DURATION", value_parser = parse_duration)]
    timeout: Duration,
}

/// The runtime KEB provisions for `--plan` (and `--dual-stack`, `--region`), through KEB's
/// own validation, as `twinstack runtime create` asks the broker for it.
fn plan_spec(a: &CheckArgs, plan: &str) -> Result<RuntimeSpec, String> {
    twinstack_core::runtime::validate_runtime_name(&a.runtime.runtime)?;
    let info = twinstack_keb::plan_by_name(plan).ok_or_else(|| format!("unknown plan {plan:?}"))?;
    let params = crate::runtime_cli::provisioning_parameters(&crate::runtime_cli::CreateArgs {
        name: &a.runtime.runtime,
        plan,
        region: a.runtime.region.as_deref(),
        dual_stack: a.dual_stack,
        nodes_cidr: None,
        param_file: None,
    })
    .map_err(|e| format!("{e:#}"))?;
    let provisioned = twinstack_keb::validate_provision(
        info.plan.id(),
        &params,
        &twinstack_keb::KebOptions::default(),
    )
    .map_err(|e| e.description)?;
    let who = twinstack_keb::shoot::ProvisioningInfo {
        global_account_id: "twinstack-local".into(),
        subaccount_id: "twinstack-local".into(),
        instance_id: String::new(),
        instance_name: a.runtime.runtime.clone(),
    };
    Ok(RuntimeSpec::from_plan(
        &provisioned,
        &a.runtime.runtime,
        &who,
    ))
}

pub async fn check(a: CheckArgs) -> Result<ExitCode> {
    let usage = |e: String| {
        errln!("error: {e}");
        Ok(ExitCode::from(2))
    };
    let fail_on = match FailOn::parse(&a.fail_on) {
        Ok(f) => f,
        Err(e) => return usage(e),
    };
    if a.files.is_empty() && a.kustomize.is_empty() {
        return usage("nothing to check: give -f FILE|DIR|- or -k DIR".into());
    }
    let spec = match &a.plan {
        Some(plan) => plan_spec(&a, plan),
        None => runtime_spec(&a.runtime),
    };
    let spec = match spec {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let objects = match input::read_all(&a.files, &a.kustomize) {
        Ok(o) => o,
        Err(input::InputError::Malformed(e)) => {
            errln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
        Err(input::InputError::Io(e)) => {
            errln!("error: {e:#}");
            return Ok(ExitCode::from(1));
        }
    };
    let cfg = CheckConfig {
        runtime: spec,
        settle_timeout: a.timeout,
    };
    let report = twinstack::check::run(objects, &cfg).await?;
    let text = match a.output.as_str() {
        "json" => render::json(&report),
        "junit" => render::junit::junit(&report),
        "sarif" => render::sarif::sarif(&report, env!("CARGO_PKG_VERSION")),
        _ => render::table::table(
            &report,
            std::io::IsTerminal::is_terminal(&std::io::stdout()),
        ),
    };
    out!("{text}");
    Ok(ExitCode::from(exit_code(&report, fail_on)))
}
