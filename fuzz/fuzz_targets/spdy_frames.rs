//! The SPDY/3.1 frames of `kubectl exec`/`attach`/`port-forward` (1.27–1.29, and the tunnel of
//! later ones): any bytes parse into frames or a protocol error without a panic, within the
//! frame and header-block bounds; the header block inflates with the connection's one zlib
//! context. Also the shell lists and tool flags of client containers.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_api::streams::spdy::{Frame, FrameReader, MAX_HEADER_BLOCK};
use twinstack_dataplane::pods::exec::parse::{parse, parse_script, Toolbox};

fuzz_target!(|data: &[u8]| {
    let mut r = FrameReader::default();
    let mut at = 0;
    while let Ok(Some((frame, used))) = r.next(&data[at..]) {
        assert!(used >= 8 && at + used <= data.len());
        if let Frame::SynStream { headers, .. } | Frame::Headers { headers, .. } = &frame {
            let bytes: usize = headers.iter().map(|(k, v)| k.len() + v.len()).sum();
            assert!(bytes <= MAX_HEADER_BLOCK);
            assert!(headers.len() <= MAX_HEADER_BLOCK);
        }
        at += used;
    }
    let s = String::from_utf8_lossy(data);
    let _ = parse_script(&s, &|_| None);
    let argv: Vec<String> = s.split('\0').map(String::from).collect();
    for t in [Toolbox::Curl, Toolbox::Busybox, Toolbox::Netshoot] {
        let _ = parse(t, &argv);
    }
});
