//! Zero-copy forwarding between two TCP sockets with splice(2) through a pipe, as HAProxy's
//! `option splice-auto` and the kernel's own proxies do: the bytes move from one socket's
//! receive queue to the other's send queue without entering this process.
//!
//! Each direction owns a pipe; readiness comes from tokio (`readable`/`writable` and
//! `try_io`, which clears a readiness the kernel answered with `EAGAIN`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// What one pipe holds at most (Linux's default pipe size is 64 KiB; larger batches mean
/// fewer system calls per byte).
const PIPE_SIZE: usize = 1 << 20;

struct Pipe {
    r: OwnedFd,
    w: OwnedFd,
}

fn pipe() -> io::Result<Pipe> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` is a valid two-element array for pipe2 to fill.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both descriptors are open and owned by nobody else.
    let p = unsafe {
        Pipe {
            r: OwnedFd::from_raw_fd(fds[0]),
            w: OwnedFd::from_raw_fd(fds[1]),
        }
    };
    // Best effort: a larger pipe where /proc/sys/fs/pipe-max-size allows it.
    // SAFETY: fcntl on a descriptor this function owns.
    unsafe {
        libc::fcntl(
            p.w.as_raw_fd(),
            libc::F_SETPIPE_SZ,
            PIPE_SIZE as libc::c_int,
        )
    };
    Ok(p)
}

fn splice(from: RawFd, to: RawFd, len: usize) -> io::Result<usize> {
    // SAFETY: both descriptors are open for the duration of the call; null offsets mean the
    // current position (sockets and pipes have none).
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            libc::SPLICE_F_MOVE | libc::SPLICE_F_NONBLOCK,
        )
    };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// Moves bytes from `from` to `to` until `from` ends, then shuts `to` down for writing.
async fn one_way(from: &TcpStream, to: &TcpStream) -> io::Result<u64> {
    let p = pipe()?;
    let mut total = 0u64;
    loop {
        let n = loop {
            from.readable().await?;
            match from.try_io(Interest::READABLE, || {
                splice(from.as_raw_fd(), p.w.as_raw_fd(), PIPE_SIZE)
            }) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        };
        if n == 0 {
            let _ = socket2::SockRef::from(to).shutdown(std::net::Shutdown::Write);
            return Ok(total);
        }
        let mut left = n;
        while left > 0 {
            to.writable().await?;
            match to.try_io(Interest::WRITABLE, || {
                splice(p.r.as_raw_fd(), to.as_raw_fd(), left)
            }) {
                Ok(m) => left -= m,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        }
        total += n as u64;
    }
}

/// Forwards both ways until both directions ended; returns the bytes moved.
pub async fn both_ways(a: &TcpStream, b: &TcpStream) -> io::Result<u64> {
    let (x, y) = tokio::join!(one_way(a, b), one_way(b, a));
    Ok(x? + y?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_cross_both_ways_and_the_end_is_passed_on() {
        let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let front = tokio::net::TcpListener::bind("[::1]:0").await.unwrap();
        let (baddr, faddr) = (backend.local_addr().unwrap(), front.local_addr().unwrap());
        let proxy = tokio::spawn(async move {
            let (c, _) = front.accept().await.unwrap();
            let u = TcpStream::connect(baddr).await.unwrap();
            both_ways(&c, &u).await.unwrap()
        });
        let server = tokio::spawn(async move {
            let (mut s, _) = backend.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            s.write_all(&got[..1000]).await.unwrap();
            got.len()
        });
        let mut c = TcpStream::connect(faddr).await.unwrap();
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        c.write_all(&big).await.unwrap();
        c.shutdown().await.unwrap();
        let mut back = Vec::new();
        c.read_to_end(&mut back).await.unwrap();
        assert_eq!(server.await.unwrap(), big.len());
        assert_eq!(back, &big[..1000]);
        assert_eq!(proxy.await.unwrap(), big.len() as u64 + 1000);
    }
}
