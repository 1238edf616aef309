//! Inputs the fuzz targets (`fuzz/`) found failing, minimised, run through the same checks the
//! targets make (`fuzz/src/requests.rs`). Each stays here once fixed, as a regression test.

use crate::requests;

/// Found by the `format` target (2026-11-26; of its 76 findings, the 44 whose two passes differ
/// only in whitespace; this one minimised): a line continuation followed by a blank line. With `keep_aligned_continuations` the first pass
/// indented the instruction after the blank line as if it continued the one before (BuildKit does
/// drop blank lines inside a continuation), and the second pass took the indentation away again,
/// because the grammar recovers differently with the indentation. Such lines are now left as written.
#[test]
fn formatting_a_continuation_followed_by_a_blank_line_is_idempotent() {
    requests::check_format_idempotent("FROM s=D_E \\\n\nCOPY ac");
}

/// Found by the `format` target (the other 32 findings, whose second pass changes text; this one
/// minimised): the legacy `ENV key value`
/// → `key=value` rewrite on a key that starts with a quote. `ENV " "h o` becomes `ENV " "h=o`,
/// which the next pass reads as the legacy form again (`" "h=o` is no single word to BuildKit's
/// splitting) and rewrites to `ENV " "=h=o`: finding 1 of `fuzz/README.md` with the quote first.
#[test]
fn formatting_a_legacy_pair_whose_key_starts_with_a_quote_is_idempotent() {
    requests::check_format_idempotent("ENV \" \"h o");
}
