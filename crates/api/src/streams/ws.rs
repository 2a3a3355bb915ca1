//! The WebSocket side of the streaming protocols (apimachinery `util/httpstream/wsstream`):
//! binary messages whose first byte names the channel (`v4.channel.k8s.io`,
//! `v5.channel.k8s.io` with its close signal `[255, channel]`), and the tunnel that carries a
//! SPDY connection in binary messages for port-forwarding (`SPDY/3.1+portforward.k8s.io`,
//! client-go `tools/portforward/tunneling_connection.go`).

use axum::response::Response;
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// A message (and frame) at most: 1 MiB.
pub const MAX_MESSAGE: usize = 1024 * 1024;

/// The v5 close signal's channel byte.
const CLOSE_SIGNAL: u8 = 255;

/// A normal closure (1000): client-go reads anything else as an error.
fn normal_close() -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))
}

/// An upgraded connection speaking WebSocket.
pub type Socket = WebSocketStream<Box<dyn Io>>;

/// The byte stream under a socket.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// The `101` answer to a WebSocket upgrade choosing `protocol`.
pub fn switching(key: &str, protocol: &str) -> Response {
    super::switching(&[
        ("connection", "Upgrade".into()),
        ("upgrade", "websocket".into()),
        (
            "sec-websocket-accept",
            tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()),
        ),
        ("sec-websocket-protocol", protocol.to_string()),
    ])
}

/// The server side of a WebSocket over an upgraded connection, with bounded messages.
pub async fn server<IO: Io + 'static>(io: IO) -> Socket {
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_MESSAGE);
    config.max_frame_size = Some(MAX_MESSAGE);
    WebSocketStream::from_raw_socket(Box::new(io) as Box<dyn Io>, Role::Server, Some(config)).await
}

/// What the client sent.
#[derive(Debug, PartialEq)]
pub enum In {
    /// Bytes on a channel.
    Data(u8, Vec<u8>),
    /// The client closed a channel (v5).
    Close(u8),
}

/// What to send.
#[derive(Debug)]
pub enum Out {
    /// Bytes on a channel.
    Data(u8, Vec<u8>),
    /// A normal close of the connection.
    Close,
}

/// Splits a socket into the channels' messages: what arrives, and a sender of what goes out.
/// The receiver ends when the client closes the connection.
pub fn channels(socket: Socket, v5: bool) -> (mpsc::Receiver<In>, mpsc::Sender<Out>) {
    let (mut sink, mut stream) = socket.split();
    let (in_tx, in_rx) = mpsc::channel(16);
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(16);
    tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            match out {
                Out::Data(ch, d) => {
                    let mut m = Vec::with_capacity(d.len() + 1);
                    m.push(ch);
                    m.extend_from_slice(&d);
                    if sink.send(Message::Binary(m.into())).await.is_err() {
                        break;
                    }
                }
                Out::Close => {
                    let _ = sink.send(normal_close()).await;
                    break;
                }
            }
        }
        let _ = sink.close().await;
    });
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let data = match msg {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => t.as_bytes().to_vec(),
                Message::Close(_) => break,
                _ => continue,
            };
            let Some((&ch, rest)) = data.split_first() else {
                continue;
            };
            let m = if v5 && ch == CLOSE_SIGNAL {
                match rest.first() {
                    Some(&c) => In::Close(c),
                    None => continue,
                }
            } else {
                In::Data(ch, rest.to_vec())
            };
            if in_tx.send(m).await.is_err() {
                break;
            }
        }
    });
    (in_rx, out_tx)
}

/// The byte stream a socket's binary messages carry, as one end of a pipe: what the client
/// sends is read from it, what is written to it goes out in binary messages.
pub fn tunnel(socket: Socket) -> DuplexStream {
    let (mine, theirs) = tokio::io::duplex(256 * 1024);
    let (mut rd, mut wr) = tokio::io::split(theirs);
    let (mut sink, mut stream) = socket.split();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sink
                        .send(Message::Binary(buf[..n].to_vec().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = sink.send(normal_close()).await;
        let _ = sink.close().await;
    });
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Binary(b) if wr.write_all(&b).await.is_err() => break,
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = wr.shutdown().await;
    });
    mine
}
