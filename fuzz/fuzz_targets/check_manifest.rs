//! `twinstack check`'s manifest reader (YAML streams split as kubectl splits them, JSON streams,
//! `List`s) never panics, whatever the bytes; every object and every error points at a line
//! inside the input, and the splitter gives back each document at the line it starts on.
#![no_main]
use libfuzzer_sys::fuzz_target;
use twinstack_check::manifest;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // YAML breaks lines at \n, \r\n and a lone \r; the reader must stay within them.
    let lines = text.replace("\r\n", "\n").matches(['\n', '\r']).count() + 1;
    match manifest::read("f.yaml", text) {
        Ok(objs) => {
            for o in objs {
                assert!(o.origin.line >= 1 && o.origin.line <= lines, "{}", o.origin.line);
                assert!(o.object.get("kind").is_some());
            }
        }
        Err(e) => assert!(e.line >= 1 && e.line <= lines, "{e}"),
    }
    if let Ok(docs) = manifest::split_documents(text) {
        let all: Vec<&str> = text.split_inclusive('\n').collect();
        for d in docs {
            assert!(all[d.line - 1].len() <= d.text.len());
            assert!(d.text.starts_with(all[d.line - 1]));
        }
    }
});
