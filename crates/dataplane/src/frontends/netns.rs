//! Namespace mode (`--dataplane netns`, root only): each runtime gets a network namespace of its
//! own, `/run/netns/<name>` as `ip netns` names them, with only a loopback interface where every
//! address is local (`ip route add local 0.0.0.0/0 dev lo` and the IPv6 twin, AnyIP) and
//! non-local binds allowed. Frontends listen there on their real emulated addresses and ports,
//! so `ip netns exec <name> curl -6 http://[2a05:...]/` works as in the cloud, and no packet
//! leaves the namespace (it has no other interface).
//!
//! The namespace is set up with iproute2 (`ip`), as an operator would; sockets are created in
//! it by a short-lived thread that enters it with setns(2) (a socket stays in the namespace it
//! was created in).

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;

/// A runtime's network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Netns {
    /// The name `ip netns` knows it by.
    pub name: String,
}

fn ip(args: &[&str]) -> io::Result<()> {
    let out = Command::new("ip").args(args).output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

impl Netns {
    fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// Creates the namespace (or takes the one left by an earlier run) and makes every address
    /// in it local.
    pub fn ensure(name: &str) -> io::Result<Netns> {
        let ns = Netns {
            name: name.to_string(),
        };
        if !ns.path().exists() {
            ip(&["netns", "add", name])?;
        }
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        // `replace`: idempotent for a namespace that already has them.
        ip(&[
            "-n",
            name,
            "route",
            "replace",
            "local",
            "0.0.0.0/0",
            "dev",
            "lo",
        ])?;
        ip(&[
            "-n", name, "-6", "route", "replace", "local", "::/0", "dev", "lo",
        ])?;
        for key in ["net.ipv4.ip_nonlocal_bind", "net.ipv6.ip_nonlocal_bind"] {
            ip(&["netns", "exec", name, "sysctl", "-qw", &format!("{key}=1")])?;
        }
        Ok(ns)
    }

    /// Removes the namespace (its sockets close with their owners).
    pub fn remove(&self) {
        let _ = ip(&["netns", "del", &self.name]);
    }

    /// A client TCP socket inside the namespace, bound to the loopback address of `to`'s
    /// family (for a trace from within the runtime).
    pub fn socket(&self, to: SocketAddr) -> io::Result<tokio::net::TcpSocket> {
        let path = self.path();
        let std = std::thread::spawn(move || -> io::Result<socket2::Socket> {
            let f = std::fs::File::open(&path)?;
            // SAFETY: as in `bind`: only this short-lived thread changes namespace.
            if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            let domain = if to.is_ipv4() {
                socket2::Domain::IPV4
            } else {
                socket2::Domain::IPV6
            };
            let s = socket2::Socket::new(domain, socket2::Type::STREAM, None)?;
            s.set_nonblocking(true)?;
            let me: std::net::IpAddr = if to.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            };
            s.bind(&SocketAddr::new(me, 0).into())?;
            Ok(s)
        })
        .join()
        .map_err(|_| io::Error::other("the namespace thread panicked"))??;
        let std: std::net::TcpStream = std.into();
        Ok(tokio::net::TcpSocket::from_std_stream(std))
    }

    /// A listening TCP socket on `addr` inside the namespace.
    pub fn bind(&self, addr: SocketAddr) -> io::Result<std::net::TcpListener> {
        let path = self.path();
        std::thread::spawn(move || -> io::Result<std::net::TcpListener> {
            let f = std::fs::File::open(&path)?;
            // SAFETY: setns on a descriptor of a namespace file this thread opened; it only
            // changes this short-lived thread's network namespace.
            if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            super::bind(addr)
        })
        .join()
        .map_err(|_| io::Error::other("the namespace thread panicked"))?
    }
}

/// The namespace name of a runtime: `ts-<runtime>` and a short hash of the instance (the data
/// dir), so two twinstacks on one machine never share one; at most 15 characters of runtime.
pub fn name_for(instance: &str, runtime: &str) -> String {
    let h = instance.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let rt: String = runtime.chars().take(15).collect();
    format!("ts-{rt}-{:06x}", h & 0xff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_per_instance_and_runtime() {
        let a = name_for("/root/.twinstack", "local");
        assert!(a.starts_with("ts-local-"), "{a}");
        assert_ne!(a, name_for("/tmp/other", "local"));
        assert_eq!(a, name_for("/root/.twinstack", "local"));
    }
}
