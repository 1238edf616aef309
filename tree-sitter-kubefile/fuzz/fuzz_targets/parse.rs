//! Parses arbitrary bytes, then edits them and re-parses incrementally.
//!
//! Asserts that nothing panics or crashes (the external scanner is C, so memory errors surface as
//! crashes under the sanitizer), that the tree covers exactly the input, and that an incremental
//! re-parse of an error-free document gives the same tree as a fresh parse (a difference means
//! the scanner serialises too little state).
//!
//! The whole input is the document, so plain Kubefiles work as seeds; the edit is derived from a
//! hash of the input, so mutations move it around.

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use tree_sitter::{InputEdit, Parser, Point, Tree};

thread_local! {
    static PARSER: RefCell<Parser> = RefCell::new({
        let mut parser = Parser::new();
        parser.set_language(&tree_sitter_kubefile::LANGUAGE.into()).unwrap();
        parser
    });
}

fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn point_at(text: &[u8], byte: usize) -> Point {
    let before = &text[..byte];
    let row = before.iter().filter(|&&b| b == b'\n').count();
    let column = byte
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
    Point::new(row, column)
}

fn check_covers(tree: &Tree, text: &[u8]) {
    let root = tree.root_node();
    assert!(
        root.end_byte() <= text.len(),
        "root ends at {} past the input ({})",
        root.end_byte(),
        text.len()
    );
}

fuzz_target!(|data: &[u8]| {
    PARSER.with_borrow_mut(|parser| {
        let tree = parser
            .parse(data, None)
            .expect("no timeout or cancellation is set");
        check_covers(&tree, data);

        // Replace data[start..end] with a slice of the document itself, which brings in the
        // document's own syntax (`\`, `<<EOF`, quotes) at another place.
        let hash = fnv1a(data);
        let len = data.len();
        let start = (hash % (len as u64 + 1)) as usize;
        let end = start + ((hash >> 16) % 8) as usize % (len - start + 1);
        let from = ((hash >> 24) % (len as u64 + 1)) as usize;
        let insert = &data[from..(from + ((hash >> 40) % 16) as usize).min(len)];
        let mut edited = Vec::with_capacity(len + insert.len());
        edited.extend_from_slice(&data[..start]);
        edited.extend_from_slice(insert);
        edited.extend_from_slice(&data[end..]);

        let mut old = tree.clone();
        old.edit(&InputEdit {
            start_byte: start,
            old_end_byte: end,
            new_end_byte: start + insert.len(),
            start_position: point_at(data, start),
            old_end_position: point_at(data, end),
            new_end_position: point_at(&edited, start + insert.len()),
        });
        let incremental = parser
            .parse(&edited, Some(&old))
            .expect("no timeout or cancellation is set");
        check_covers(&incremental, &edited);
        let fresh = parser
            .parse(&edited, None)
            .expect("no timeout or cancellation is set");
        if !fresh.root_node().has_error() {
            assert_eq!(
                incremental.root_node().to_sexp(),
                fresh.root_node().to_sexp(),
                "incremental re-parse differs from a fresh parse"
            );
        }
    });
});
