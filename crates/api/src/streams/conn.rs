//! A SPDY/3.1 connection as the server side of Kubernetes' streaming protocols runs it
//! (apimachinery `util/httpstream/spdy/connection.go` over moby/spdystream): every stream the
//! client opens is answered with an empty SYN_REPLY and handed out with its headers; data
//! frames go to the stream's reader; PINGs are echoed. Generic over the byte stream, so the
//! same code serves an upgraded HTTP/1.1 connection and a WebSocket tunnel.

use super::spdy::{Frame, FrameReader, FrameWriter};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

/// Streams open at once on one connection at most; more are refused (RST_STREAM
/// REFUSED_STREAM).
pub const MAX_STREAMS: usize = 256;
/// Data frames queued per stream before the connection waits for its reader.
const QUEUE: usize = 16;
/// Bytes of one outgoing data frame at most (spdystream's 32 KiB).
pub const MAX_DATA: usize = 32 * 1024;

/// A stream the client opened.
pub struct Stream {
    /// Its id.
    pub id: u32,
    /// Its SYN_STREAM headers (names lower-case).
    pub headers: Vec<(String, String)>,
    /// What the client sends on it; ends at its FIN or a reset.
    pub rx: mpsc::Receiver<Vec<u8>>,
}

impl Stream {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends frames on the connection.
#[derive(Clone)]
pub struct Sender(mpsc::Sender<Out>);

enum Out {
    Frame(Frame),
    Close,
}

impl Sender {
    /// Writes `data` on stream `id` (in frames of at most [`MAX_DATA`]).
    pub async fn data(&self, id: u32, data: &[u8]) -> bool {
        for chunk in data.chunks(MAX_DATA) {
            let f = Frame::Data {
                stream_id: id,
                fin: false,
                data: chunk.to_vec(),
            };
            if self.0.send(Out::Frame(f)).await.is_err() {
                return false;
            }
        }
        true
    }

    /// Half-closes stream `id` from this side (an empty data frame with FIN).
    pub async fn fin(&self, id: u32) {
        let _ = self
            .0
            .send(Out::Frame(Frame::Data {
                stream_id: id,
                fin: true,
                data: vec![],
            }))
            .await;
    }

    /// Resets stream `id`.
    pub async fn reset(&self, id: u32) {
        let _ = self
            .0
            .send(Out::Frame(Frame::RstStream {
                stream_id: id,
                status: 5,
            }))
            .await;
    }

    /// Resolves once the connection is gone (the client closed it, or [`Sender::close`]).
    pub async fn closed(&self) {
        self.0.closed().await
    }

    /// Sends GOAWAY and closes the connection once what is queued is written.
    pub async fn close(&self) {
        let _ = self.0.send(Out::Close).await;
    }
}

/// Runs the connection over `io`: returns the streams the client opens (in order) and the
/// sender. The connection ends when the client closes it or [`Sender::close`] is called.
pub fn serve<IO>(io: IO) -> (mpsc::Receiver<Stream>, Sender)
where
    IO: AsyncRead + AsyncWrite + Send + 'static,
{
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(64);
    let (streams_tx, streams_rx) = mpsc::channel::<Stream>(MAX_STREAMS);
    let (mut rd, mut wr) = tokio::io::split(io);
    let replies = out_tx.clone();
    // Writer: frames in the order they were queued, one compression context.
    let writer = tokio::spawn(async move {
        let mut framer = FrameWriter::default();
        let mut last_good = 0;
        while let Some(out) = out_rx.recv().await {
            match out {
                Out::Frame(f) => {
                    if let Frame::SynReply { stream_id, .. } = &f {
                        last_good = *stream_id;
                    }
                    if wr.write_all(&framer.encode(&f)).await.is_err() {
                        break;
                    }
                }
                Out::Close => {
                    let _ = wr
                        .write_all(&framer.encode(&Frame::GoAway {
                            last_good,
                            status: 0,
                        }))
                        .await;
                    break;
                }
            }
        }
        let _ = wr.flush().await;
        let _ = wr.shutdown().await;
    });
    tokio::spawn(async move {
        let mut framer = FrameReader::default();
        let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
        let mut chunk = vec![0u8; 64 * 1024];
        let mut open: std::collections::HashMap<u32, mpsc::Sender<Vec<u8>>> = Default::default();
        'read: loop {
            let n = tokio::select! {
                r = rd.read(&mut chunk) => match r {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                },
                _ = replies.closed() => break,
            };
            buf.extend_from_slice(&chunk[..n]);
            let mut at = 0;
            loop {
                let (frame, used) = match framer.next(&buf[at..]) {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "SPDY protocol error");
                        let _ = replies
                            .send(Out::Frame(Frame::GoAway {
                                last_good: 0,
                                status: 1,
                            }))
                            .await;
                        break 'read;
                    }
                };
                at += used;
                match frame {
                    Frame::SynStream {
                        stream_id,
                        fin,
                        headers,
                    } => {
                        open.retain(|_, tx| !tx.is_closed());
                        if open.len() >= MAX_STREAMS || open.contains_key(&stream_id) {
                            let _ = replies
                                .send(Out::Frame(Frame::RstStream {
                                    stream_id,
                                    status: 3,
                                }))
                                .await;
                            continue;
                        }
                        let (tx, rx) = mpsc::channel(QUEUE);
                        if !fin {
                            open.insert(stream_id, tx);
                        }
                        let _ = replies
                            .send(Out::Frame(Frame::SynReply {
                                stream_id,
                                fin: false,
                                headers: vec![],
                            }))
                            .await;
                        if streams_tx
                            .send(Stream {
                                id: stream_id,
                                headers,
                                rx,
                            })
                            .await
                            .is_err()
                        {
                            break 'read;
                        }
                    }
                    Frame::Data {
                        stream_id,
                        fin,
                        data,
                    } => {
                        if let Some(tx) = open.get(&stream_id) {
                            if !data.is_empty() {
                                let _ = tx.send(data).await;
                            }
                        }
                        if fin {
                            open.remove(&stream_id);
                        }
                    }
                    Frame::RstStream { stream_id, .. } => {
                        open.remove(&stream_id);
                    }
                    Frame::Ping(id) => {
                        let _ = replies.send(Out::Frame(Frame::Ping(id))).await;
                    }
                    Frame::GoAway { .. } => break 'read,
                    Frame::Headers { .. }
                    | Frame::Settings(_)
                    | Frame::WindowUpdate { .. }
                    | Frame::SynReply { .. } => {}
                }
            }
            buf.drain(..at);
        }
        drop(open);
        drop(streams_tx);
        // The client is gone: the writer stops too, and senders see the connection closed.
        let _ = replies.send(Out::Close).await;
        let _ = writer.await;
    });
    (streams_rx, Sender(out_tx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams::spdy::{FrameReader, FrameWriter};

    /// Reads frames from the server side until `n` arrived.
    async fn frames(
        rd: &mut (impl AsyncRead + Unpin),
        r: &mut FrameReader,
        buf: &mut Vec<u8>,
        n: usize,
    ) -> Vec<Frame> {
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        while out.len() < n {
            while let Some((f, used)) = r.next(buf).unwrap() {
                buf.drain(..used);
                out.push(f);
            }
            if out.len() >= n {
                break;
            }
            let k = rd.read(&mut chunk).await.unwrap();
            assert!(k > 0, "connection closed after {out:?}");
            buf.extend_from_slice(&chunk[..k]);
        }
        out
    }

    #[tokio::test]
    async fn streams_are_answered_and_carry_data_both_ways() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (mut incoming, tx) = serve(server);
        let (mut rd, mut wr) = tokio::io::split(client);
        let mut w = FrameWriter::default();
        let mut r = FrameReader::default();
        let mut buf = Vec::new();
        let open = w.encode(&Frame::SynStream {
            stream_id: 1,
            fin: false,
            headers: vec![("streamtype".into(), "stdin".into())],
        });
        wr.write_all(&open).await.unwrap();
        let st = incoming.recv().await.unwrap();
        assert_eq!(st.header("streamtype"), Some("stdin"));
        assert_eq!(
            frames(&mut rd, &mut r, &mut buf, 1).await,
            vec![Frame::SynReply {
                stream_id: 1,
                fin: false,
                headers: vec![]
            }]
        );
        let mut st = st;
        wr.write_all(&w.encode(&Frame::Data {
            stream_id: 1,
            fin: true,
            data: b"abc".to_vec(),
        }))
        .await
        .unwrap();
        assert_eq!(st.rx.recv().await.unwrap(), b"abc");
        assert!(st.rx.recv().await.is_none(), "FIN ends the stream");
        wr.write_all(&w.encode(&Frame::Ping(9))).await.unwrap();
        assert_eq!(
            frames(&mut rd, &mut r, &mut buf, 1).await,
            vec![Frame::Ping(9)]
        );
        tx.data(1, b"out").await;
        tx.fin(1).await;
        tx.close().await;
        assert_eq!(
            frames(&mut rd, &mut r, &mut buf, 3).await,
            vec![
                Frame::Data {
                    stream_id: 1,
                    fin: false,
                    data: b"out".to_vec()
                },
                Frame::Data {
                    stream_id: 1,
                    fin: true,
                    data: vec![]
                },
                Frame::GoAway {
                    last_good: 1,
                    status: 0
                },
            ]
        );
    }

    #[tokio::test]
    async fn a_protocol_error_ends_the_connection() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let (mut incoming, _tx) = serve(server);
        let (mut rd, mut wr) = tokio::io::split(client);
        // A control frame of SPDY version 2.
        wr.write_all(&[0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1])
            .await
            .unwrap();
        let mut r = FrameReader::default();
        let mut buf = Vec::new();
        let got = frames(&mut rd, &mut r, &mut buf, 1).await;
        assert!(matches!(got[0], Frame::GoAway { status: 1, .. }));
        assert!(incoming.recv().await.is_none());
    }
}
