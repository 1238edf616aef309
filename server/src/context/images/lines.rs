//! Lines as sealos reads them: Go's `bufio.Reader.ReadLine` with its default 4096-byte buffer,
//! called in a loop that ignores `isPrefix`.
//!
//! Every list sealos reads (manifests, rendered charts, `images/shim`, `tar.txt`,
//! `.sealignore`) goes through that loop, so a line longer than the buffer is read as several
//! lines of at most 4096 bytes. `\n` and `\r\n` are removed; a lone `\r` stays.

const BUFFER_SIZE: usize = 4096;

/// One piece of text sealos treats as a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line<'a> {
    /// 1-based number of the real line (pieces of one long line share it).
    pub number: u32,
    pub bytes: &'a [u8],
}

/// Splits `content` the way sealos's read loop does.
pub(crate) fn go_lines(content: &[u8]) -> GoLines<'_> {
    GoLines { content, position: 0, number: 1 }
}

pub(crate) struct GoLines<'a> {
    content: &'a [u8],
    position: usize,
    number: u32,
}

impl<'a> Iterator for GoLines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = &self.content[self.position..];
        if rest.is_empty() {
            return None;
        }
        let number = self.number;
        // ReadSlice('\n') sees at most BUFFER_SIZE bytes, newline included.
        let window = &rest[..rest.len().min(BUFFER_SIZE)];
        if let Some(newline) = window.iter().position(|&b| b == b'\n') {
            self.position += newline + 1;
            self.number = self.number.saturating_add(1);
            let line = &rest[..newline];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            return Some(Line { number, bytes: line });
        }
        if window.len() < BUFFER_SIZE {
            // The last line of the file, without a newline: returned as is.
            self.position = self.content.len();
            return Some(Line { number, bytes: window });
        }
        // Buffer full: a `\r` at its end is pushed back in case `\n` follows.
        let piece = window.strip_suffix(b"\r").unwrap_or(window);
        self.position += piece.len();
        Some(Line { number, bytes: piece })
    }
}

/// Go's `strings.TrimSpace`: Unicode white space at both ends. Invalid UTF-8 is never space, so
/// trimming stops there, as in Go.
pub(crate) fn trim_space(text: &str) -> &str {
    text.trim_matches(char::is_whitespace)
}

/// sealos `TrimQuotes`: one pair of matching `"` or `'` around the whole text.
pub(crate) fn trim_quotes(text: &str) -> &str {
    let bytes = text.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(&first), Some(&last)) if bytes.len() >= 2 && first == last && (first == b'"' || first == b'\'') => {
            &text[1..text.len() - 1]
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(content: &[u8]) -> Vec<(u32, Vec<u8>)> {
        go_lines(content).map(|l| (l.number, l.bytes.to_vec())).collect()
    }

    #[test]
    fn lf_and_crlf_are_stripped_but_a_lone_cr_stays() {
        assert_eq!(
            lines(b"a\nb\r\nc\rd\ne\r"),
            [(1, b"a".to_vec()), (2, b"b".to_vec()), (3, b"c\rd".to_vec()), (4, b"e\r".to_vec())]
        );
    }

    #[test]
    fn final_newline_does_not_add_an_empty_line() {
        assert_eq!(lines(b"a\n"), [(1, b"a".to_vec())]);
        assert_eq!(lines(b"a\n\n"), [(1, b"a".to_vec()), (2, b"".to_vec())]);
        assert!(lines(b"").is_empty());
    }

    #[test]
    fn line_of_4095_bytes_is_one_line() {
        let content = [vec![b'x'; 4095], b"\nz".to_vec()].concat();
        let got = lines(&content);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].1.len(), 4095);
    }

    #[test]
    fn line_of_4096_bytes_is_split_into_the_full_buffer_and_an_empty_piece() {
        let content = [vec![b'x'; 4096], b"\nz".to_vec()].concat();
        let got: Vec<usize> = lines(&content).iter().map(|(_, l)| l.len()).collect();
        assert_eq!(got, [4096, 0, 1]);
    }

    #[test]
    fn long_line_pieces_share_the_line_number() {
        let content = [vec![b'x'; 10000], b"\nz".to_vec()].concat();
        let got: Vec<(u32, usize)> = lines(&content).iter().map(|(n, l)| (*n, l.len())).collect();
        assert_eq!(got, [(1, 4096), (1, 4096), (1, 1808), (2, 1)]);
    }

    #[test]
    fn cr_at_the_buffer_edge_is_pushed_back() {
        let content = [vec![b'x'; 4095], b"\r\nz".to_vec()].concat();
        let got: Vec<usize> = lines(&content).iter().map(|(_, l)| l.len()).collect();
        assert_eq!(got, [4095, 0, 1]);
    }

    #[test]
    fn exactly_4096_bytes_without_newline_is_one_piece() {
        let got: Vec<usize> = lines(&[b'x'; 4096]).iter().map(|(_, l)| l.len()).collect();
        assert_eq!(got, [4096]);
    }

    #[test]
    fn trim_quotes_removes_one_matching_pair() {
        assert_eq!(trim_quotes("\"a\""), "a");
        assert_eq!(trim_quotes("'a'"), "a");
        assert_eq!(trim_quotes("\"'a'\""), "'a'");
        assert_eq!(trim_quotes("\"a'"), "\"a'");
        assert_eq!(trim_quotes("\""), "\"");
        assert_eq!(trim_quotes("\"\""), "");
    }

    #[test]
    fn trim_space_includes_unicode_spaces() {
        assert_eq!(trim_space("\u{a0}\u{3000} a \t\u{85}"), "a");
    }
}
