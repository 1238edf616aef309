//! Lines of a list file as sealos's read loop sees them (`bufio.Reader.ReadLine`): `\n` and
//! `\r\n` end a line, a lone `\r` stays in it, and a last line without a newline counts. Each line
//! keeps its byte offset so diagnostics get exact ranges.

use crate::syntax::TextRange;

pub(super) struct Line<'a> {
    /// 0-based.
    pub number: usize,
    /// Byte offset of the line's first character in the file.
    pub start: usize,
    /// The line without its line ending.
    pub text: &'a str,
}

impl Line<'_> {
    /// The line with its line ending, for "delete this line" fixes.
    pub fn full_range(&self, file: &str) -> TextRange {
        let end = self.start + self.text.len();
        let rest = &file[end..];
        let ending = if rest.starts_with("\r\n") {
            2
        } else {
            usize::from(rest.starts_with('\n'))
        };
        self.start..end + ending
    }

    /// `range` relative to the line, made absolute.
    pub fn absolute(&self, range: TextRange) -> TextRange {
        self.start + range.start..self.start + range.end
    }
}

pub(super) fn lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut number = 0;
    while start < text.len() {
        let (line, next) = match text[start..].find('\n') {
            Some(newline) => (&text[start..start + newline], start + newline + 1),
            None => (&text[start..], text.len()),
        };
        let line = line.strip_suffix('\r').filter(|_| next <= text.len() && text[..next].ends_with('\n')).unwrap_or(line);
        out.push(Line { number, start, text: line });
        number += 1;
        start = next;
    }
    out
}

/// Go's `strings.TrimSpace`, returning the byte range of the trimmed text inside `text`.
pub(super) fn trim_space_range(text: &str) -> TextRange {
    let start = text.len() - text.trim_start_matches(char::is_whitespace).len();
    let end = text.trim_end_matches(char::is_whitespace).len();
    start..end.max(start)
}

/// sealos `TrimQuotes`: the range inside one pair of matching `"` or `'` around the whole text.
pub(super) fn trim_quotes_range(text: &str, range: TextRange) -> TextRange {
    let inner = &text[range.clone()];
    let bytes = inner.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if bytes.len() >= 2 && first == last && (first == b'"' || first == b'\'') => {
            range.start + 1..range.end - 1
        }
        _ => range,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_as_sealos_reads_them() {
        let text = "a\r\nb\rc\n\nlast";
        let got: Vec<(usize, usize, &str)> = lines(text).iter().map(|l| (l.number, l.start, l.text)).collect();
        assert_eq!(got, [(0, 0, "a"), (1, 3, "b\rc"), (2, 7, ""), (3, 8, "last")]);
        assert_eq!(lines(text)[0].full_range(text), 0..3);
        assert_eq!(lines(text)[3].full_range(text), 8..12);
    }

    #[test]
    fn trimming_ranges() {
        assert_eq!(trim_space_range("  \"a\" \t"), 2..5);
        assert_eq!(trim_quotes_range("  \"a\" ", 2..5), 3..4);
        assert_eq!(trim_quotes_range("'a\"", 0..3), 0..3);
        assert_eq!(trim_space_range("   "), 3..3);
    }
}
