//! Formatting is idempotent on arbitrary text, with the default options and with every option
//! flipped: formatting the formatted text changes nothing, and the edits never overlap.

#![no_main]

use kubefile_ls_fuzz::requests::check_format_idempotent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    check_format_idempotent(text);
});
