//! `twinstack runtime ...`: runtimes through the broker API of a running twinstack, as a Kyma
//! user creates them through KEB (BTP cockpit or the btp CLI).

use crate::output::{errln, out, outln};
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// How to reach the broker of the twinstack that owns a data dir.
pub struct BrokerClient {
    url: String,
    user: String,
    password: String,
    client: reqwest::Client,
}

fn read_json(path: &Path) -> Result<Value> {
    let b = std::fs::read(path).with_context(|| {
        format!(
            "reading {} (is `twinstack up` running with this data dir?)",
            path.display()
        )
    })?;
    Ok(serde_json::from_slice(&b)?)
}

impl BrokerClient {
    pub fn new(data_dir: &Path) -> Result<BrokerClient> {
        let server = read_json(&data_dir.join("server.json"))?;
        let creds = read_json(&data_dir.join("broker.json"))?;
        let ca = std::fs::read(data_dir.join("pki").join("ca.crt"))?;
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&ca)?)
            .use_rustls_tls()
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(BrokerClient {
            url: server["url"]
                .as_str()
                .context("server.json has no url")?
                .to_string(),
            user: creds["username"].as_str().unwrap_or("").to_string(),
            password: creds["password"].as_str().unwrap_or("").to_string(),
            client,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value)> {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .basic_auth(&self.user, Some(&self.password))
            .header("X-Broker-API-Version", "2.17");
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("connecting to twinstack at {}", self.url))?;
        let code = resp.status().as_u16();
        let text = resp.text().await?;
        Ok((
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    async fn runtimes(&self) -> Result<Vec<Value>> {
        let (code, v) = self
            .call(reqwest::Method::GET, "/twinstack/v1/runtimes", None)
            .await?;
        if code != 200 {
            bail!("listing runtimes: {code} {v}");
        }
        Ok(v["runtimes"].as_array().cloned().unwrap_or_default())
    }

    /// The runtime named `name`, else the one runtime whose instance has that name (an
    /// instance name that is not a DNS label gives the runtime another name).
    async fn runtime(&self, name: &str) -> Result<Value> {
        let all = self.runtimes().await?;
        if let Some(r) = all.iter().find(|r| r["name"] == name) {
            return Ok(r.clone());
        }
        let by_instance: Vec<&Value> = all.iter().filter(|r| r["instanceName"] == name).collect();
        match by_instance.as_slice() {
            [one] => Ok((*one).clone()),
            [] => bail!("runtime {name:?} not found"),
            many => bail!(
                "several runtimes belong to instances named {name:?}: {}",
                many.iter()
                    .filter_map(|r| r["name"].as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    /// The runtime a service instance owns.
    async fn runtime_of_instance(&self, instance: &str) -> Result<Value> {
        self.runtimes()
            .await?
            .into_iter()
            .find(|r| r["instanceId"] == instance)
            .with_context(|| format!("no runtime belongs to instance {instance}"))
    }

    /// Polls `last_operation` until the operation ends, showing on stderr each of KEB's
    /// stages as it finishes (`[3/10] Resolve_Credentials_Binding (0.6s)`).
    async fn wait(&self, instance: &str, op: &str, what: &str) -> Result<Value> {
        let started = Instant::now();
        let mut shown = 0;
        loop {
            let (code, v) = self
                .call(
                    reqwest::Method::GET,
                    &format!("/v2/service_instances/{instance}/last_operation?operation={op}"),
                    None,
                )
                .await?;
            if code != 200 {
                bail!(
                    "{what}: the broker answered {code}: {}",
                    v["description"].as_str().unwrap_or(&v.to_string())
                );
            }
            // The stages reached (gone once a deprovisioning removed the operation).
            if let Ok((200, o)) = self
                .call(
                    reqwest::Method::GET,
                    &format!("/twinstack/v1/operations/{op}"),
                    None,
                )
                .await
            {
                let total = match o["type"].as_str() {
                    Some("provision") => twinstack_keb::operations::PROVISIONING_STAGES.len(),
                    Some("update") => twinstack_keb::operations::UPDATE_STAGES.len(),
                    _ => twinstack_keb::operations::DEPROVISIONING_STAGES.len(),
                };
                let stages: Vec<&str> = o["finishedStages"]
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                for (i, stage) in stages.iter().enumerate().skip(shown) {
                    errln!(
                        "{what}: [{}/{total}] {stage} ({:.1}s)",
                        i + 1,
                        started.elapsed().as_secs_f64()
                    );
                }
                shown = shown.max(stages.len());
            }
            let state = v["state"].as_str().unwrap_or("unknown").to_string();
            match state.as_str() {
                "in progress" => tokio::time::sleep(Duration::from_millis(200)).await,
                _ => {
                    errln!(
                        "{what}: {state}: {} ({:.1}s)",
                        v["description"].as_str().unwrap_or(""),
                        started.elapsed().as_secs_f64()
                    );
                    return Ok(v);
                }
            }
        }
    }
}

/// KEB's default region per plan when the user names none.
fn default_region(plan: &str) -> Option<&'static str> {
    match plan {
        "aws" | "build-runtime-aws" | "preview" => Some("eu-central-1"),
        "gcp" | "build-runtime-gcp" => Some("europe-west3"),
        "azure" | "azure_lite" | "build-runtime-azure" => Some("westeurope"),
        "sap-converged-cloud" => Some("eu-de-1"),
        _ => None,
    }
}

pub struct CreateArgs<'a> {
    pub name: &'a str,
    pub plan: &'a str,
    pub region: Option<&'a str>,
    pub dual_stack: bool,
    pub nodes_cidr: Option<&'a str>,
    pub param_file: Option<&'a Path>,
}

/// The OSB `parameters` for a create, as the BTP cockpit would send them.
pub fn provisioning_parameters(a: &CreateArgs<'_>) -> Result<Value> {
    let mut params = json!({"name": a.name});
    if let Some(r) = a.region.or_else(|| default_region(a.plan)) {
        params["region"] = json!(r);
    }
    if a.dual_stack || a.nodes_cidr.is_some() {
        // KEB requires `nodes` whenever `networking` is given; its default is 10.250.0.0/16.
        let mut net =
            json!({"nodes": a.nodes_cidr.unwrap_or(twinstack_core::runtime::DEFAULT_NODES_CIDR)});
        if a.dual_stack {
            net["dualStack"] = json!(true);
        }
        params["networking"] = net;
    }
    if let Some(f) = a.param_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let extra: Value =
            serde_saphyr::from_str(&text).with_context(|| format!("parsing {}", f.display()))?;
        let Some(extra) = extra.as_object() else {
            bail!("{}: parameters must be an object", f.display())
        };
        for (k, v) in extra {
            params[k.as_str()] = v.clone();
        }
    }
    Ok(params)
}

pub async fn create(data_dir: &Path, a: CreateArgs<'_>) -> Result<ExitCode> {
    let b = BrokerClient::new(data_dir)?;
    let Some(plan) = twinstack_keb::plan_by_name(a.plan) else {
        errln!("error: unknown plan {:?}", a.plan);
        return Ok(ExitCode::from(2));
    };
    // KEB lets instances share a name; this CLI addresses runtimes by it, so it keeps it unique.
    if b.runtimes()
        .await?
        .iter()
        .any(|r| r["instanceName"] == a.name)
    {
        errln!(
            "error: a runtime of an instance named {:?} exists (`twinstack runtime show {}`)",
            a.name,
            a.name
        );
        return Ok(ExitCode::from(1));
    }
    let params = provisioning_parameters(&a)?;
    let instance = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "service_id": twinstack_keb::KYMA_SERVICE_ID,
        "plan_id": plan.plan.id(),
        // What the BTP cockpit sends (KEB requires the three IDs): one local global account
        // and subaccount, the user from the environment. Trials live in global accounts of
        // their own on BTP (KEB allows one trial per global account, and counts every instance).
        "context": {
            "platform": "twinstack",
            "globalaccount_id": if a.plan == "trial" { "twinstack-trial" } else { "twinstack-local" },
            "subaccount_id": "twinstack-local",
            "user_id": std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "twinstack".into()),
        },
        "parameters": params,
    });
    errln!("provisioning runtime {:?} (plan {}) ...", a.name, a.plan);
    let (code, v) = b
        .call(
            reqwest::Method::PUT,
            &format!("/v2/service_instances/{instance}?accepts_incomplete=true"),
            Some(body),
        )
        .await?;
    if code != 202 && code != 200 {
        errln!(
            "error: the broker refused ({code}): {}",
            v["description"].as_str().unwrap_or(&v.to_string())
        );
        return Ok(ExitCode::from(1));
    }
    let op = v["operation"].as_str().unwrap_or("");
    let end = b.wait(&instance, op, "provisioning").await?;
    if end["state"] != "succeeded" {
        errln!(
            "error: {}",
            end["description"].as_str().unwrap_or("provisioning failed")
        );
        return Ok(ExitCode::from(1));
    }
    let rt = b.runtime_of_instance(&instance).await?;
    print_show(&rt);
    Ok(ExitCode::SUCCESS)
}

fn age(created: &str) -> String {
    twinstack_kube::table::age(Some(created), jiff::Timestamp::now())
}

pub async fn list(data_dir: &Path) -> Result<ExitCode> {
    let b = BrokerClient::new(data_dir)?;
    let rts = b.runtimes().await?;
    let rows: Vec<[String; 7]> = rts
        .iter()
        .map(|r| {
            let fams: Vec<&str> = r["families"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            [
                r["name"].as_str().unwrap_or("").to_string(),
                r["instanceName"]
                    .as_str()
                    .filter(|n| !n.is_empty())
                    .unwrap_or("<none>")
                    .to_string(),
                r["plan"]
                    .as_str()
                    .filter(|p| !p.is_empty())
                    .unwrap_or("<none>")
                    .to_string(),
                r["region"].as_str().unwrap_or("").to_string(),
                fams.join(","),
                r["state"].as_str().unwrap_or("").to_string(),
                age(r["created"].as_str().unwrap_or("")),
            ]
        })
        .collect();
    let header = [
        "NAME", "INSTANCE", "PLAN", "REGION", "FAMILIES", "STATE", "AGE",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.len());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i + 1 == cells.len() {
                    c.to_string()
                } else {
                    format!("{c:<w$}", w = widths[i])
                }
            })
            .collect();
        parts.join("   ")
    };
    outln!("{}", line(header.to_vec()));
    for r in &rows {
        outln!("{}", line(r.iter().map(String::as_str).collect()));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_show(r: &Value) {
    outln!("Name:        {}", r["name"].as_str().unwrap_or(""));
    outln!(
        "Plan:        {}",
        r["plan"]
            .as_str()
            .filter(|p| !p.is_empty())
            .unwrap_or("<none>")
    );
    outln!("Provider:    {}", r["provider"].as_str().unwrap_or(""));
    outln!("Region:      {}", r["region"].as_str().unwrap_or(""));
    if let Some(i) = r["instanceId"].as_str().filter(|i| !i.is_empty()) {
        outln!("Instance:    {i}");
    }
    if let Some(n) = r["instanceName"]
        .as_str()
        .filter(|n| !n.is_empty() && Some(*n) != r["name"].as_str())
    {
        outln!("Instance name: {n}");
    }
    let n = &r["network"];
    let fams: Vec<&str> = n["families"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    outln!("IP families: {}", fams.join(","));
    for (i, f) in fams.iter().enumerate() {
        outln!("{f}:");
        for (label, key) in [
            ("nodes", "nodes"),
            ("pods", "pods"),
            ("services", "services"),
        ] {
            outln!("  {label:<9} {}", n[key][i].as_str().unwrap_or(""));
        }
    }
    outln!("State:       {}", r["state"].as_str().unwrap_or(""));
    outln!("Kubeconfig:  {}", r["kubeconfig"].as_str().unwrap_or(""));
    if let Some(t) = r["token"].as_str() {
        outln!("Token:       {t}");
    }
    let lbs = r["cloud"].as_array().cloned().unwrap_or_default();
    if !lbs.is_empty() {
        outln!("Load balancers:");
        for lb in lbs {
            let s = |k: &str| lb[k].as_str().unwrap_or("").to_string();
            let tgs: Vec<&str> = lb["targetGroups"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            outln!(
                "  {} {} ({}) {} {} {}{}{}",
                s("kind"),
                s("name"),
                s("service"),
                s("address"),
                s("scheme"),
                s("ipAddressType"),
                if tgs.is_empty() {
                    String::new()
                } else {
                    format!(", target groups: {}", tgs.join(", "))
                },
                if lb["leaked"] == true { " LEAKED" } else { "" }
            );
        }
    }
}

pub async fn show(data_dir: &Path, name: &str, output: &str) -> Result<ExitCode> {
    if output != "text" && output != "json" {
        errln!("error: unable to match a printer suitable for the output format {output:?}, allowed formats are: json,text");
        return Ok(ExitCode::from(2));
    }
    let b = BrokerClient::new(data_dir)?;
    match b.runtime(name).await {
        Ok(mut r) if output == "json" => {
            let rt = r["name"].as_str().unwrap_or(name).to_string();
            let (code, v) = b
                .call(
                    reqwest::Method::GET,
                    &format!("/twinstack/v1/runtimes/{rt}/frontends"),
                    None,
                )
                .await?;
            if code != 200 {
                bail!("reading frontends: {code} {v}");
            }
            r["frontends"] = v["frontends"].clone();
            if !v["netns"].is_null() {
                r["netns"] = v["netns"].clone();
            }
            outln!("{}", serde_json::to_string_pretty(&r)?);
            Ok(ExitCode::SUCCESS)
        }
        Ok(r) => {
            print_show(&r);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            errln!("error: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

pub async fn delete(data_dir: &Path, name: &str) -> Result<ExitCode> {
    let b = BrokerClient::new(data_dir)?;
    let r = match b.runtime(name).await {
        Ok(r) => r,
        Err(e) => {
            errln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    let instance = r["instanceId"].as_str().unwrap_or("");
    if instance.is_empty() {
        let (code, v) = b
            .call(
                reqwest::Method::DELETE,
                &format!("/twinstack/v1/runtimes/{name}"),
                None,
            )
            .await?;
        if code != 200 {
            errln!("error: {code} {v}");
            return Ok(ExitCode::from(1));
        }
    } else {
        let plan_id = r["planId"].as_str().unwrap_or("");
        let (code, v) = b
            .call(
                reqwest::Method::DELETE,
                &format!(
                    "/v2/service_instances/{instance}?accepts_incomplete=true&service_id={}&plan_id={plan_id}",
                    twinstack_keb::KYMA_SERVICE_ID
                ),
                None,
            )
            .await?;
        if code != 202 {
            errln!(
                "error: the broker refused ({code}): {}",
                v["description"].as_str().unwrap_or(&v.to_string())
            );
            return Ok(ExitCode::from(1));
        }
        let op = v["operation"].as_str().unwrap_or("");
        b.wait(instance, op, "deprovisioning").await?;
    }
    outln!("runtime {:?} deleted", r["name"].as_str().unwrap_or(name));
    Ok(ExitCode::SUCCESS)
}

/// Prints the kubeconfig of the runtime named `name`, or of the runtime whose instance has that
/// name (asked of the running twinstack).
pub async fn kubeconfig(data_dir: &Path, name: &str) -> Result<ExitCode> {
    let path = twinstack_platform::kubeconfig_path(data_dir, name);
    if let Ok(k) = std::fs::read_to_string(&path) {
        out!("{k}");
        return Ok(ExitCode::SUCCESS);
    }
    let by_instance = match BrokerClient::new(data_dir) {
        Ok(b) => b.runtime(name).await.ok(),
        Err(_) => None,
    };
    let file = by_instance
        .as_ref()
        .and_then(|r| r["kubeconfig"].as_str())
        .and_then(|p| std::fs::read_to_string(p).ok());
    match file {
        Some(k) => {
            out!("{k}");
            Ok(ExitCode::SUCCESS)
        }
        None => {
            errln!(
                "error: no runtime {name:?} in {} (has `twinstack up` run with this data dir?)",
                data_dir.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// What `twinstack trace` asks.
pub struct TraceArgs<'a> {
    pub runtime: Option<&'a str>,
    pub namespace: &'a str,
    pub service: &'a str,
    pub family: &'a str,
    pub port: Option<u16>,
    pub output: &'a str,
}

/// The runtime `up` created: the one the data dir's kubeconfig serves (its server URL ends in
/// `/runtimes/NAME`).
fn default_runtime(data_dir: &Path) -> Option<String> {
    let k = std::fs::read_to_string(data_dir.join("kubeconfig")).ok()?;
    k.lines()
        .find_map(|l| l.trim().strip_prefix("server:"))
        .and_then(|u| u.trim().trim_matches('"').rsplit_once("/runtimes/"))
        .map(|(_, n)| n.trim_end_matches('/').to_string())
}

/// `twinstack trace`: one real request through a Service, hop by hop.
pub async fn trace(data_dir: &Path, a: TraceArgs<'_>) -> Result<ExitCode> {
    if a.output != "text" && a.output != "json" {
        errln!("error: unable to match a printer suitable for the output format {:?}, allowed formats are: json,text", a.output);
        return Ok(ExitCode::from(2));
    }
    let Some(family) = twinstack_cloud::path::Family::parse(a.family) else {
        errln!(
            "error: invalid --family {:?}: expected IPv4 or IPv6",
            a.family
        );
        return Ok(ExitCode::from(2));
    };
    let b = BrokerClient::new(data_dir)?;
    let rt = match a.runtime {
        Some(r) => b.runtime(r).await?["name"]
            .as_str()
            .unwrap_or(r)
            .to_string(),
        None => match default_runtime(data_dir) {
            Some(r) => r,
            None => bail!(
                "no runtime given and no kubeconfig in {}",
                data_dir.display()
            ),
        },
    };
    let mut path = format!(
        "/twinstack/v1/runtimes/{rt}/trace?namespace={}&service={}&family={}",
        urlencoding(a.namespace),
        urlencoding(a.service),
        family.as_str()
    );
    if let Some(p) = a.port {
        path.push_str(&format!("&port={p}"));
    }
    let (code, v) = b.call(reqwest::Method::GET, &path, None).await?;
    if code != 200 {
        let msg = v["description"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        errln!("error: {msg}");
        return Ok(ExitCode::from(1));
    }
    if a.output == "json" {
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let fe = &v["frontend"];
        outln!(
            "{} {} {}:{} ({}) via {}",
            v["service"].as_str().unwrap_or(""),
            fe["kind"].as_str().unwrap_or(""),
            fe["address"].as_str().unwrap_or(""),
            fe["port"],
            fe["hostname"].as_str().unwrap_or("no hostname"),
            fe["listen"].as_str().unwrap_or("")
        );
        for (i, h) in v["hops"].as_array().into_iter().flatten().enumerate() {
            outln!(
                "  {}. {:<60} {} → {}",
                i + 1,
                h["name"].as_str().unwrap_or(""),
                h["src"].as_str().unwrap_or(""),
                h["dst"].as_str().unwrap_or("")
            );
            if let Some(n) = h["note"].as_str() {
                outln!("     {n}");
            }
        }
        if let Some(seen) = v["seen"].as_str() {
            outln!("the pod sees the client as {seen}");
        }
        match (v["response"].as_str(), v["error"].as_str()) {
            (Some(r), _) => {
                outln!("response:");
                for l in r.lines().take(40) {
                    outln!("  {l}");
                }
            }
            (None, Some(e)) => outln!("no response: {e}"),
            _ => outln!("no response"),
        }
    }
    let answered = v["response"].is_string();
    Ok(if answered {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Percent-encodes a query value.
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
