//! JSON written by hand, for the answers where serde's field-by-field serialisation of the LSP
//! types costs as much as the analysis (document symbols, published diagnostics). Each writer
//! writes exactly what serde writes for the same value (tests compare them).

use serde::Serialize;
use tower_lsp_server::ls_types as lsp;

/// A JSON string, escaped as serde_json escapes it (`"`, `\\` and control characters; everything
/// else, including non-ASCII, as it is).
pub fn write_str(out: &mut Vec<u8>, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = value.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut plain = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => &[b'\\', b'u', b'0', b'0', HEX[usize::from(byte >> 4)], HEX[usize::from(byte & 0xf)]],
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain..i]);
        out.extend_from_slice(escape);
        plain = i + 1;
    }
    out.extend_from_slice(&bytes[plain..]);
    out.push(b'"');
}

/// Whether `bytes` hold a `"`, a `\\` or a control character, eight bytes at a time (names and
/// details rarely do; an outline has 17,000 of them).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte of `x` is below `n` (n <= 128) iff its high bit is set in this.
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let zero = |x: u64| below(x, 1);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let x = u64::from_ne_bytes(chunk.try_into().expect("chunks of 8"));
        if below(x, 0x20) | zero(x ^ (ONES * u64::from(b'"'))) | zero(x ^ (ONES * u64::from(b'\\'))) != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// `{"start":{"line":…,"character":…},"end":{"line":…,"character":…}}`
pub fn write_range(out: &mut Vec<u8>, range: &lsp::Range) {
    let mut scratch = Scratch::new();
    scratch.range(range);
    out.extend_from_slice(scratch.written());
}

/// A range, then `,"selectionRange":` and another: the two ranges of a symbol, in one copy.
pub fn write_range_and_selection(out: &mut Vec<u8>, range: &lsp::Range, selection_range: &lsp::Range) {
    let mut scratch = Scratch::new();
    scratch.range(range);
    scratch.bytes(br#","selectionRange":"#);
    scratch.range(selection_range);
    out.extend_from_slice(scratch.written());
}

/// An array of numbers (`[1,20,3]`): 150,000 of them in the semantic tokens of a 10,000-line
/// file, most of one or two digits. Those are pushed byte by byte: copying each number from a
/// buffer of its own is a `memmove` call per number, and counting the digits first to write in
/// place cost more than the pushes.
pub fn write_u32s(out: &mut Vec<u8>, values: &[u32]) {
    // At least a digit and a comma each; grown if the numbers are longer.
    out.reserve(values.len() * 2 + 2);
    out.push(b'[');
    for (i, &value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if value < 10 {
            out.push(b'0' + value as u8);
        } else if value < 100 {
            let pair = value as usize * 2;
            out.push(DIGIT_PAIRS[pair]);
            out.push(DIGIT_PAIRS[pair + 1]);
        } else {
            let mut digits = [0; 10];
            let len = write_digits(&mut digits, value);
            out.extend_from_slice(&digits[..len]);
        }
    }
    out.push(b']');
}

/// `00`, `01`, … `99`.
const DIGIT_PAIRS: [u8; 200] = *b"00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/// Writes `value`'s digits at the start of `buffer` (two at a time: `itoa` formats into a buffer
/// of its own that is then copied, 40–80 % slower over the 150,000 numbers of a big file's
/// semantic tokens), and returns how many.
fn write_digits(buffer: &mut [u8], value: u32) -> usize {
    if value < 10 {
        buffer[0] = b'0' + value as u8;
        return 1;
    }
    let digits = digit_count(value);
    let mut end = digits;
    let mut rest = value;
    while rest >= 100 {
        let pair = (rest % 100) as usize * 2;
        rest /= 100;
        buffer[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        end -= 2;
    }
    if rest >= 10 {
        let pair = rest as usize * 2;
        buffer[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        buffer[end - 1] = b'0' + rest as u8;
    }
    digits
}

fn digit_count(value: u32) -> usize {
    match value {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1_000..=9_999 => 4,
        10_000..=99_999 => 5,
        _ => value.ilog10() as usize + 1,
    }
}

/// A stack buffer for the fixed-shape parts of an answer (ranges: 9,000 symbols have 18,000 of
/// them), built byte by byte and copied out once: appending each piece to the answer is a
/// `memmove` call per number.
struct Scratch {
    buffer: [u8; Scratch::CAPACITY],
    len: usize,
}

impl Scratch {
    /// Two ranges with the longest numbers and the key between them.
    const CAPACITY: usize = 2 * (50 + 4 * 10) + 24;

    fn new() -> Scratch {
        Scratch { buffer: [0; Scratch::CAPACITY], len: 0 }
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.buffer[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    fn u32(&mut self, value: u32) {
        self.len += write_digits(&mut self.buffer[self.len..], value);
    }

    fn range(&mut self, range: &lsp::Range) {
        self.bytes(br#"{"start":{"line":"#);
        self.u32(range.start.line);
        self.bytes(br#","character":"#);
        self.u32(range.start.character);
        self.bytes(br#"},"end":{"line":"#);
        self.u32(range.end.line);
        self.bytes(br#","character":"#);
        self.u32(range.end.character);
        self.bytes(b"}}");
    }

    fn written(&self) -> &[u8] {
        &self.buffer[..self.len]
    }
}

/// A value of one of the LSP types, or a string (escaped as JSON needs).
pub fn write_json(out: &mut Vec<u8>, value: &impl Serialize) {
    // Writing to a `Vec` cannot fail, nor can serialising these types.
    serde_json::to_writer(out, value).expect("an LSP value serialises");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_numbers_and_ranges_are_written_as_serde_writes_them() {
        let every_ascii: String = (0..128u8).map(char::from).collect();
        for value in ["", "plain", "a\"b\\c", "é 😀 …", "\u{1}\t\n\r\u{1f}\u{7f}", "</script>", "\"x\"", &every_ascii] {
            let mut out = Vec::new();
            write_str(&mut out, value);
            assert_eq!(String::from_utf8(out).unwrap(), serde_json::to_string(value).unwrap(), "{value:?}");
        }
        for value in [0, 7, 9, 10, 99, 100, 101, 999, 1000, 10_000, 99_999, 100_000, 4_294_967_295] {
            let mut scratch = Scratch::new();
            scratch.u32(value);
            assert_eq!(scratch.written(), serde_json::to_vec(&value).unwrap(), "{value}");
        }
        let numbers: Vec<u32> = (0..100).map(|n| n * n * 997).chain([u32::MAX, 0]).collect();
        for values in [&numbers[..], &[], &[5], &[0, 9, 10, 42, 99, 100, 101, 1000]] {
            let mut out = Vec::new();
            write_u32s(&mut out, values);
            assert_eq!(out, serde_json::to_vec(values).unwrap());
        }
        let range = lsp::Range::new(lsp::Position::new(0, 17), lsp::Position::new(u32::MAX, 3));
        let mut out = Vec::new();
        write_range(&mut out, &range);
        assert_eq!(out, serde_json::to_vec(&range).unwrap());
        let mut out = Vec::new();
        write_range_and_selection(&mut out, &range, &range);
        let both = serde_json::to_string(&range).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{both},\"selectionRange\":{both}"));
    }
}
