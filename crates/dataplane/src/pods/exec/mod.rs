//! The commands a container runs, for the client images people use for network checks
//! (`curlimages/curl`, `busybox`, `nicolaka/netshoot`): [`parse`] decides what a command line
//! asks for, [`run`] carries it out against the runtime's [`Network`] from the pod's own
//! addresses, with the tools' real output and exit codes.
//!
//! Start at [`run`]; `kubectl exec` and client pods' commands both come here.

pub mod parse;
mod tools;

use crate::network::Network;
use parse::{Command, Item, Sep, Toolbox};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The pod a command runs in.
#[derive(Debug, Clone, Default)]
pub struct PodContext {
    /// The runtime's name.
    pub runtime: String,
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name (also its hostname).
    pub pod: String,
    /// The container's image.
    pub image: String,
    /// `status.podIPs`.
    pub ips: Vec<IpAddr>,
    /// The container's literal environment variables.
    pub env: Vec<(String, String)>,
}

impl PodContext {
    fn toolbox(&self) -> Toolbox {
        Toolbox::of(&self.image)
    }

    fn var(&self, name: &str, last: i32) -> Option<String> {
        match name {
            "HOSTNAME" => Some(self.pod.clone()),
            "HOME" => Some("/root".into()),
            "PATH" => Some(PATH.into()),
            "?" => Some(last.to_string()),
            _ => self
                .env
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
        }
    }
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A process's standard streams.
pub struct Stdio<'a> {
    /// Standard input; `None` reads as empty.
    pub stdin: Option<&'a mut (dyn AsyncRead + Send + Unpin)>,
    /// Standard output.
    pub stdout: &'a mut (dyn AsyncWrite + Send + Unpin),
    /// Standard error.
    pub stderr: &'a mut (dyn AsyncWrite + Send + Unpin),
}

/// The process could not start: the executable is not in the image.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("exec: \"{0}\": executable file not found in $PATH")]
pub struct NotFound(pub String);

/// Runs `argv` in the pod and returns its exit code, or [`NotFound`] when its executable is
/// not in the image (the container runtime refuses to start it).
pub async fn run(
    net: &dyn Network,
    ctx: &PodContext,
    argv: &[String],
    io: &mut Stdio<'_>,
) -> Result<i32, NotFound> {
    match parse::parse(ctx.toolbox(), argv) {
        Command::NotFound(n) => Err(NotFound(n)),
        cmd => Ok(run_command(net, ctx, cmd, io).await),
    }
}

type Boxed<'a> = Pin<Box<dyn Future<Output = i32> + Send + 'a>>;

fn run_command<'a>(
    net: &'a dyn Network,
    ctx: &'a PodContext,
    cmd: Command,
    io: &'a mut Stdio<'_>,
) -> Boxed<'a> {
    Box::pin(async move {
        match cmd {
            Command::Curl(c) => tools::curl(net, ctx, &c, io).await,
            Command::Wget(w) => tools::wget(net, ctx, &w, io).await,
            Command::Nc(n) => tools::nc(net, ctx, &n, io).await,
            Command::Nslookup { name } => tools::nslookup(net, ctx, &name, io).await,
            Command::Dig { name, short, aaaa } => {
                tools::dig(net, ctx, &name, short, aaaa, io).await
            }
            Command::Echo { text, newline } => {
                let nl = if newline { "\n" } else { "" };
                out(io, &format!("{text}{nl}")).await;
                0
            }
            Command::Cat { files } => {
                if let Some(f) = files.first() {
                    err(
                        io,
                        &format!("cat: can't open '{f}': No such file or directory\n"),
                    )
                    .await;
                    return 1;
                }
                if let Some(stdin) = io.stdin.as_mut() {
                    let _ = tokio::io::copy(stdin, io.stdout).await;
                }
                0
            }
            Command::Hostname => {
                out(io, &format!("{}\n", ctx.pod)).await;
                0
            }
            Command::Env => {
                let mut s = format!("HOSTNAME={}\nHOME=/root\nPATH={PATH}\n", ctx.pod);
                for (k, v) in &ctx.env {
                    s.push_str(&format!("{k}={v}\n"));
                }
                out(io, &s).await;
                0
            }
            Command::Sleep(d) => {
                tokio::time::sleep(d).await;
                0
            }
            Command::Exit(n) => n,
            Command::Usage { stderr, code } => {
                err(io, &stderr).await;
                code
            }
            Command::NotFound(n) => {
                err(io, &format!("sh: {n}: not found\n")).await;
                127
            }
            Command::Sh(script) => {
                let text = match script {
                    Some(s) => s,
                    None => {
                        // `sh` without `-c` reads its script from stdin (bounded).
                        let mut buf = Vec::new();
                        if let Some(stdin) = io.stdin.as_mut() {
                            let _ = stdin.take(MAX_SCRIPT as u64).read_to_end(&mut buf).await;
                        }
                        String::from_utf8_lossy(&buf).into_owned()
                    }
                };
                let script = match parse::parse_script(&text, &|n| ctx.var(n, 0)) {
                    Ok(s) => s,
                    Err(e) => {
                        err(io, &format!("sh: -c: line 1: syntax error: {}\n", e.0)).await;
                        return 2;
                    }
                };
                run_script(net, ctx, &script, io).await.0
            }
        }
    })
}

/// Scripts read from stdin at most.
const MAX_SCRIPT: usize = 1024 * 1024;

/// Runs a list; returns the last status and whether `exit` ended the shell.
fn run_script<'a>(
    net: &'a dyn Network,
    ctx: &'a PodContext,
    script: &'a parse::Script,
    io: &'a mut Stdio<'_>,
) -> Pin<Box<dyn Future<Output = (i32, bool)> + Send + 'a>> {
    Box::pin(async move {
        let mut last = 0;
        for (sep, item) in &script.0 {
            let go = match sep {
                Sep::Seq => true,
                Sep::And => last == 0,
                Sep::Or => last != 0,
            };
            if !go {
                continue;
            }
            match item {
                Item::Forever(body) => loop {
                    let started = tokio::time::Instant::now();
                    let (code, exited) = run_script(net, ctx, body, io).await;
                    if exited {
                        return (code, true);
                    }
                    // A loop without a sleep would spin: at most 20 passes a second.
                    tokio::time::sleep_until(started + std::time::Duration::from_millis(50)).await;
                },
                Item::Simple {
                    argv,
                    quiet_out,
                    quiet_err,
                } => {
                    if argv.is_empty() {
                        continue;
                    }
                    let cmd = parse::parse(ctx.toolbox(), argv);
                    if let Command::Exit(n) = cmd {
                        if argv[0] == "exit" {
                            return (n, true);
                        }
                    }
                    let mut sink_out = tokio::io::sink();
                    let mut sink_err = tokio::io::sink();
                    let mut sub = Stdio {
                        stdin: io.stdin.as_deref_mut().map(|s| s as _),
                        stdout: if *quiet_out {
                            &mut sink_out
                        } else {
                            &mut *io.stdout
                        },
                        stderr: if *quiet_err {
                            &mut sink_err
                        } else {
                            &mut *io.stderr
                        },
                    };
                    last = run_command(net, ctx, cmd, &mut sub).await;
                }
            }
        }
        (last, false)
    })
}

async fn out(io: &mut Stdio<'_>, s: &str) {
    let _ = io.stdout.write_all(s.as_bytes()).await;
    let _ = io.stdout.flush().await;
}

async fn err(io: &mut Stdio<'_>, s: &str) {
    let _ = io.stderr.write_all(s.as_bytes()).await;
    let _ = io.stderr.flush().await;
}

#[cfg(test)]
mod tests;
