//! The whole analysis on arbitrary text: every whole-file request once, every positional request
//! at every cursor offset (see `src/requests.rs`), as a Kubefile with a build context and as a
//! plain Dockerfile without one (the first byte of the input picks which).
//!
//! Fails on any panic, and on an answer whose ranges are not inside the text on character
//! boundaries, or whose edits overlap.

#![no_main]

use kubefile_ls::analysis::FileKind;
use kubefile_ls_fuzz::requests::{cursor_offsets, sample_facts, Subject, AT_OFFSET, WHOLE_FILE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // LSP text is JSON strings, hence always UTF-8.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let subject = match data.first() {
        Some(byte) if byte % 2 == 1 => Subject::new(text, None, FileKind::Dockerfile),
        _ => Subject::new(text, Some(sample_facts()), FileKind::Kubefile),
    };
    for (_, request) in WHOLE_FILE {
        request(&subject, 0);
    }
    for offset in cursor_offsets(text) {
        for (_, request) in AT_OFFSET {
            request(&subject, offset);
        }
    }
});
