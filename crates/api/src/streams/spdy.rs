//! SPDY/3.1 framing, as the Kubernetes streaming protocols use it (moby/spdystream's `spdy`
//! package, draft-mbelshe-httpbis-spdy-00): control frames (SYN_STREAM, SYN_REPLY, RST_STREAM,
//! SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE) and data frames, and the name/value header
//! blocks compressed with zlib primed with the SPDY/3 dictionary, one compression context per
//! direction for the whole connection.
//!
//! Pure over bytes: [`FrameReader::next`] takes what arrived so far and returns a frame when a
//! whole one is there; [`FrameWriter::encode`] returns the bytes of one frame. Sizes are bounded
//! ([`MAX_FRAME`], [`MAX_HEADER_BLOCK`], [`MAX_HEADERS`]).

use super::dictionary::SPDY3;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// A frame's payload at most: 1 MiB (SPDY allows 16 MiB; spdystream writes at most 32 KiB of
/// data per frame).
pub const MAX_FRAME: usize = 1024 * 1024;
/// A decompressed header block at most.
pub const MAX_HEADER_BLOCK: usize = 64 * 1024;
/// Name/value pairs in one header block at most.
pub const MAX_HEADERS: usize = 64;

const VERSION: u16 = 3;
const FLAG_FIN: u8 = 0x01;

/// A decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A new stream the peer opens, with its headers.
    SynStream {
        /// The stream.
        stream_id: u32,
        /// Half-closed from the sender's side already.
        fin: bool,
        /// The headers, names lower-case.
        headers: Vec<(String, String)>,
    },
    /// The answer to a SYN_STREAM.
    SynReply {
        /// The stream.
        stream_id: u32,
        /// Half-closed from the sender's side.
        fin: bool,
        /// The headers.
        headers: Vec<(String, String)>,
    },
    /// A stream ended abnormally.
    RstStream {
        /// The stream.
        stream_id: u32,
        /// Why (1 PROTOCOL_ERROR ... 11 FRAME_TOO_LARGE).
        status: u32,
    },
    /// Settings (flags, id, value).
    Settings(Vec<(u8, u32, u32)>),
    /// A ping to echo.
    Ping(u32),
    /// The sender stops.
    GoAway {
        /// The last stream the sender accepted.
        last_good: u32,
        /// 0 OK, 1 PROTOCOL_ERROR, 2 INTERNAL_ERROR.
        status: u32,
    },
    /// More headers for a stream.
    Headers {
        /// The stream.
        stream_id: u32,
        /// Half-closed from the sender's side.
        fin: bool,
        /// The headers.
        headers: Vec<(String, String)>,
    },
    /// More window for a stream.
    WindowUpdate {
        /// The stream.
        stream_id: u32,
        /// The increase.
        delta: u32,
    },
    /// Bytes of a stream.
    Data {
        /// The stream.
        stream_id: u32,
        /// The last frame of the stream from the sender.
        fin: bool,
        /// The bytes.
        data: Vec<u8>,
    },
}

/// Why a connection's bytes are not SPDY/3.1 as this server takes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// A control frame of another version.
    #[error("unsupported SPDY version {0}")]
    Version(u16),
    /// A frame longer than [`MAX_FRAME`].
    #[error("frame of {0} bytes is too large")]
    TooLarge(usize),
    /// A control frame shorter than its fixed fields.
    #[error("invalid control frame")]
    InvalidControlFrame,
    /// The header block does not inflate, or holds more than the bounds.
    #[error("invalid header block: {0}")]
    HeaderBlock(&'static str),
    /// Stream id 0 where a stream is needed.
    #[error("stream id zero is disallowed")]
    ZeroStreamId,
}

/// The frame at the start of `buf`, without inflating its header block: its 8-byte header
/// fields and payload. `Ok(None)` until a whole frame is there.
pub fn split_frame(buf: &[u8]) -> Result<Option<(RawFrame<'_>, usize)>, FrameError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let flags = buf[4];
    let len = u32::from_be_bytes([0, buf[5], buf[6], buf[7]]) as usize;
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    if buf.len() < 8 + len {
        return Ok(None);
    }
    let payload = &buf[8..8 + len];
    let raw = if buf[0] & 0x80 != 0 {
        let version = u16::from_be_bytes([buf[0] & 0x7f, buf[1]]);
        if version != VERSION {
            return Err(FrameError::Version(version));
        }
        RawFrame::Control {
            kind: u16::from_be_bytes([buf[2], buf[3]]),
            flags,
            payload,
        }
    } else {
        RawFrame::Data {
            stream_id: u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]),
            flags,
            payload,
        }
    };
    Ok(Some((raw, 8 + len)))
}

/// A frame's fields before its header block is inflated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawFrame<'a> {
    /// A control frame.
    Control {
        /// Its type.
        kind: u16,
        /// Its flags.
        flags: u8,
        /// Its payload.
        payload: &'a [u8],
    },
    /// A data frame.
    Data {
        /// Its stream.
        stream_id: u32,
        /// Its flags.
        flags: u8,
        /// Its bytes.
        payload: &'a [u8],
    },
}

fn be32(b: &[u8], at: usize) -> Result<u32, FrameError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(FrameError::InvalidControlFrame)
}

/// Reads frames of one direction of a connection, with its header decompression context.
pub struct FrameReader {
    inflate: Decompress,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader {
            inflate: Decompress::new(true),
        }
    }
}

impl FrameReader {
    /// The first whole frame of `buf` and the bytes it took; `Ok(None)` until one is there.
    pub fn next(&mut self, buf: &[u8]) -> Result<Option<(Frame, usize)>, FrameError> {
        let Some((raw, used)) = split_frame(buf)? else {
            return Ok(None);
        };
        Ok(Some((self.decode(raw)?, used)))
    }

    /// Decodes a split frame, inflating its header block.
    pub fn decode(&mut self, raw: RawFrame<'_>) -> Result<Frame, FrameError> {
        let (kind, flags, p) = match raw {
            RawFrame::Data {
                stream_id,
                flags,
                payload,
            } => {
                return Ok(Frame::Data {
                    stream_id: stream_id & 0x7fff_ffff,
                    fin: flags & FLAG_FIN != 0,
                    data: payload.to_vec(),
                })
            }
            RawFrame::Control {
                kind,
                flags,
                payload,
            } => (kind, flags, payload),
        };
        let fin = flags & FLAG_FIN != 0;
        let sid = |at| be32(p, at).map(|v| v & 0x7fff_ffff);
        Ok(match kind {
            1 => {
                let stream_id = sid(0)?;
                if p.len() < 10 {
                    return Err(FrameError::InvalidControlFrame);
                }
                if stream_id == 0 {
                    return Err(FrameError::ZeroStreamId);
                }
                Frame::SynStream {
                    stream_id,
                    fin,
                    headers: self.headers(&p[10..])?,
                }
            }
            2 => Frame::SynReply {
                stream_id: sid(0)?,
                fin,
                headers: self.headers(&p[4..])?,
            },
            3 => Frame::RstStream {
                stream_id: sid(0)?,
                status: be32(p, 4)?,
            },
            4 => {
                let n = be32(p, 0)? as usize;
                if n > (p.len().saturating_sub(4)) / 8 {
                    return Err(FrameError::InvalidControlFrame);
                }
                let mut v = Vec::with_capacity(n);
                for i in 0..n {
                    let at = 4 + i * 8;
                    let fid = be32(p, at)?;
                    v.push(((fid >> 24) as u8, fid & 0x00ff_ffff, be32(p, at + 4)?));
                }
                Frame::Settings(v)
            }
            6 => Frame::Ping(be32(p, 0)?),
            7 => Frame::GoAway {
                last_good: sid(0)?,
                status: if p.len() >= 8 { be32(p, 4)? } else { 0 },
            },
            8 => Frame::Headers {
                stream_id: sid(0)?,
                fin,
                headers: self.headers(&p[4.min(p.len())..])?,
            },
            9 => Frame::WindowUpdate {
                stream_id: sid(0)?,
                delta: be32(p, 4)? & 0x7fff_ffff,
            },
            _ => return Err(FrameError::InvalidControlFrame),
        })
    }

    /// Inflates a header block (with the connection's context) and reads its pairs; a value
    /// with NULs is several values of one name.
    fn headers(&mut self, compressed: &[u8]) -> Result<Vec<(String, String)>, FrameError> {
        let block = self.inflate_block(compressed)?;
        parse_header_block(&block)
    }

    fn inflate_block(&mut self, mut input: &[u8]) -> Result<Vec<u8>, FrameError> {
        let mut out: Vec<u8> = Vec::with_capacity(1024);
        let mut chunk = [0u8; 4096];
        loop {
            let before_in = self.inflate.total_in();
            let before_out = self.inflate.total_out();
            let r = self
                .inflate
                .decompress(input, &mut chunk, FlushDecompress::Sync);
            let used = (self.inflate.total_in() - before_in) as usize;
            let made = (self.inflate.total_out() - before_out) as usize;
            input = &input[used..];
            out.extend_from_slice(&chunk[..made]);
            if out.len() > MAX_HEADER_BLOCK {
                return Err(FrameError::HeaderBlock("too large"));
            }
            match r {
                Ok(Status::StreamEnd) => return Ok(out),
                Ok(_) => {
                    if input.is_empty() && made < chunk.len() {
                        return Ok(out);
                    }
                    if used == 0 && made == 0 {
                        return Err(FrameError::HeaderBlock("stalled"));
                    }
                }
                Err(e) if e.needs_dictionary().is_some() => {
                    self.inflate
                        .set_dictionary(SPDY3)
                        .map_err(|_| FrameError::HeaderBlock("dictionary"))?;
                }
                Err(_) => return Err(FrameError::HeaderBlock("corrupt")),
            }
        }
    }
}

/// Reads an inflated header block: a 32-bit count, then length-prefixed names and values.
pub fn parse_header_block(b: &[u8]) -> Result<Vec<(String, String)>, FrameError> {
    let bad = FrameError::HeaderBlock("malformed");
    let n = be32(b, 0).map_err(|_| bad.clone())? as usize;
    if n > MAX_HEADERS {
        return Err(FrameError::HeaderBlock("too many headers"));
    }
    let mut at = 4;
    let mut out = Vec::with_capacity(n);
    let read = |at: &mut usize| -> Result<String, FrameError> {
        let len = be32(b, *at).map_err(|_| bad.clone())? as usize;
        *at += 4;
        let s = b.get(*at..at.saturating_add(len)).ok_or(bad.clone())?;
        *at += len;
        String::from_utf8(s.to_vec()).map_err(|_| bad.clone())
    };
    for _ in 0..n {
        let name = read(&mut at)?.to_ascii_lowercase();
        let value = read(&mut at)?;
        for v in value.split('\0') {
            out.push((name.clone(), v.to_string()));
        }
    }
    Ok(out)
}

/// Writes frames of one direction of a connection, with its header compression context.
pub struct FrameWriter {
    deflate: Compress,
    primed: bool,
}

impl Default for FrameWriter {
    fn default() -> Self {
        FrameWriter {
            deflate: Compress::new(Compression::default(), true),
            primed: false,
        }
    }
}

impl FrameWriter {
    /// The bytes of `frame`.
    pub fn encode(&mut self, frame: &Frame) -> Vec<u8> {
        match frame {
            Frame::Data {
                stream_id,
                fin,
                data,
            } => {
                let mut out = Vec::with_capacity(8 + data.len());
                out.extend_from_slice(&(stream_id & 0x7fff_ffff).to_be_bytes());
                out.push(if *fin { FLAG_FIN } else { 0 });
                out.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
                out.extend_from_slice(data);
                out
            }
            Frame::SynStream {
                stream_id,
                fin,
                headers,
            } => {
                let mut p = stream_id.to_be_bytes().to_vec();
                p.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
                p.extend(self.header_block(headers));
                control(1, *fin, &p)
            }
            Frame::SynReply {
                stream_id,
                fin,
                headers,
            } => {
                let mut p = stream_id.to_be_bytes().to_vec();
                p.extend(self.header_block(headers));
                control(2, *fin, &p)
            }
            Frame::Headers {
                stream_id,
                fin,
                headers,
            } => {
                let mut p = stream_id.to_be_bytes().to_vec();
                p.extend(self.header_block(headers));
                control(8, *fin, &p)
            }
            Frame::RstStream { stream_id, status } => {
                let mut p = stream_id.to_be_bytes().to_vec();
                p.extend_from_slice(&status.to_be_bytes());
                control(3, false, &p)
            }
            Frame::Settings(v) => {
                let mut p = (v.len() as u32).to_be_bytes().to_vec();
                for (flags, id, value) in v {
                    p.extend_from_slice(
                        &(((*flags as u32) << 24) | (id & 0x00ff_ffff)).to_be_bytes(),
                    );
                    p.extend_from_slice(&value.to_be_bytes());
                }
                control(4, false, &p)
            }
            Frame::Ping(id) => control(6, false, &id.to_be_bytes()),
            Frame::GoAway { last_good, status } => {
                let mut p = last_good.to_be_bytes().to_vec();
                p.extend_from_slice(&status.to_be_bytes());
                control(7, false, &p)
            }
            Frame::WindowUpdate { stream_id, delta } => {
                let mut p = stream_id.to_be_bytes().to_vec();
                p.extend_from_slice(&delta.to_be_bytes());
                control(9, false, &p)
            }
        }
    }

    fn header_block(&mut self, headers: &[(String, String)]) -> Vec<u8> {
        let mut plain = (headers.len() as u32).to_be_bytes().to_vec();
        for (k, v) in headers {
            plain.extend_from_slice(&(k.len() as u32).to_be_bytes());
            plain.extend_from_slice(k.to_ascii_lowercase().as_bytes());
            plain.extend_from_slice(&(v.len() as u32).to_be_bytes());
            plain.extend_from_slice(v.as_bytes());
        }
        if !self.primed {
            // The dictionary goes in before the first byte (zlib's deflateSetDictionary).
            let _ = self.deflate.set_dictionary(SPDY3);
            self.primed = true;
        }
        let mut out = Vec::with_capacity(plain.len() + 64);
        let mut input: &[u8] = &plain;
        loop {
            out.reserve(256);
            let before = self.deflate.total_in();
            let _ = self
                .deflate
                .compress_vec(input, &mut out, FlushCompress::Sync);
            input = &input[(self.deflate.total_in() - before) as usize..];
            // Done when all input is in and the sync flush left room to spare.
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        out
    }
}

fn control(kind: u16, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.push(if fin { FLAG_FIN } else { 0 });
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_dictionary_is_spdy3s() {
        assert_eq!(SPDY3.len(), 1423);
        assert!(SPDY3.starts_with(b"\0\0\0\x07options"));
        assert!(SPDY3.ends_with(b"enq=0."));
    }

    #[test]
    fn frames_round_trip_over_one_compression_context() {
        let frames = vec![
            Frame::SynStream {
                stream_id: 1,
                fin: false,
                headers: h(&[("streamtype", "error")]),
            },
            Frame::SynStream {
                stream_id: 3,
                fin: true,
                headers: h(&[("streamtype", "stdout"), ("port", "8080")]),
            },
            Frame::SynReply {
                stream_id: 3,
                fin: false,
                headers: vec![],
            },
            Frame::Data {
                stream_id: 3,
                fin: true,
                data: b"hello".to_vec(),
            },
            Frame::Ping(7),
            Frame::Settings(vec![(0, 7, 65536)]),
            Frame::WindowUpdate {
                stream_id: 3,
                delta: 10,
            },
            Frame::RstStream {
                stream_id: 3,
                status: 5,
            },
            Frame::GoAway {
                last_good: 3,
                status: 0,
            },
        ];
        let mut w = FrameWriter::default();
        let mut bytes = Vec::new();
        for f in &frames {
            bytes.extend(w.encode(f));
        }
        let mut r = FrameReader::default();
        let mut got = Vec::new();
        let mut at = 0;
        while let Some((f, used)) = r.next(&bytes[at..]).unwrap() {
            got.push(f);
            at += used;
        }
        assert_eq!(got, frames);
        assert_eq!(at, bytes.len());
    }

    #[test]
    fn partial_frames_wait_and_oversized_ones_fail() {
        let mut w = FrameWriter::default();
        let bytes = w.encode(&Frame::Ping(1));
        let mut r = FrameReader::default();
        assert_eq!(r.next(&bytes[..5]).unwrap(), None);
        let mut big = vec![0u8, 0, 0, 1, 0];
        big.extend_from_slice(&((MAX_FRAME as u32 + 1).to_be_bytes()[1..]));
        assert_eq!(r.next(&big), Err(FrameError::TooLarge(MAX_FRAME + 1)));
    }

    #[test]
    fn a_header_block_names_its_bounds() {
        let mut b = 1000u32.to_be_bytes().to_vec();
        b.extend_from_slice(&[0; 8]);
        assert!(parse_header_block(&b).is_err());
        let mut b = 1u32.to_be_bytes().to_vec();
        b.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(parse_header_block(&b).is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_parse_or_fail_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut r = FrameReader::default();
            let mut at = 0;
            while let Ok(Some((_, used))) = r.next(&bytes[at..]) {
                at += used;
            }
        }

        #[test]
        fn control_frames_with_any_payload_do_not_panic(kind in 0u16..12, flags in any::<u8>(), payload in proptest::collection::vec(any::<u8>(), 0..256)) {
            let frame = control(kind, false, &payload);
            let mut f = frame.clone();
            f[4] = flags;
            let mut r = FrameReader::default();
            let _ = r.next(&f);
        }

        #[test]
        fn header_blocks_round_trip(pairs in proptest::collection::vec(("[a-z-]{1,20}", "[ -~]{0,40}"), 0..20)) {
            let mut w = FrameWriter::default();
            let headers: Vec<(String, String)> = pairs;
            let bytes = w.encode(&Frame::Headers { stream_id: 1, fin: false, headers: headers.clone() });
            let mut r = FrameReader::default();
            let (f, _) = r.next(&bytes).unwrap().unwrap();
            prop_assert_eq!(f, Frame::Headers { stream_id: 1, fin: false, headers });
        }
    }
}
