//! Conversion between byte offsets and line/column positions in UTF-8 or UTF-16 code units.

/// How columns are counted, as negotiated with an LSP client (`positionEncoding`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PositionEncoding {
    Utf8,
    #[default]
    Utf16,
}

/// A 0-based line and column; the column counts code units of the chosen encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// Byte offsets of line starts, for one version of a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { line_starts, len: text.len() }
    }

    /// Updates the index for `replaced` (a byte range of the old text) replaced by `new_text`:
    /// the lines before the edit stay, the ones after it move by the change in length, so an edit
    /// costs a shift of the line starts after it instead of a scan of the whole text.
    pub fn edit(&mut self, replaced: std::ops::Range<usize>, new_text: &str) {
        // Line starts in (start, end] follow a newline that the edit removes.
        let first_removed = self.line_starts.partition_point(|&start| start <= replaced.start);
        let first_kept = self.line_starts.partition_point(|&start| start <= replaced.end);
        let inserted = new_text.match_indices('\n').map(|(i, _)| replaced.start + i + 1);
        let first_moved = first_removed + inserted.clone().count();
        self.line_starts.splice(first_removed..first_kept, inserted);
        let removed = replaced.end - replaced.start;
        for start in &mut self.line_starts[first_moved..] {
            *start = *start - removed + new_text.len();
        }
        self.len = self.len - removed + new_text.len();
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// The byte offset where `line` starts, or the text length past the last line.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(self.len)
    }

    /// The 0-based line holding byte `offset` (offsets past the end map to the last line).
    pub fn line_of(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset.min(self.len)) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    /// Line and column of a byte offset. An offset inside a character counts as that character.
    pub fn line_col(&self, text: &str, offset: usize, encoding: PositionEncoding) -> LineCol {
        let offset = offset.min(text.len());
        let line = self.line_of(offset);
        let start = self.line_starts[line];
        let mut end = offset;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let prefix = &text[start..end];
        let col = match encoding {
            PositionEncoding::Utf8 => prefix.len(),
            PositionEncoding::Utf16 => utf16_len(prefix),
        };
        LineCol { line: line as u32, col: col as u32 }
    }

    /// Byte offset of a line/column. Columns past the end of the line clamp to the line end
    /// (before its newline); a column inside a UTF-16 surrogate pair clamps to the character start;
    /// lines past the end clamp to the end of the text.
    pub fn offset(&self, text: &str, pos: LineCol, encoding: PositionEncoding) -> usize {
        let line = pos.line as usize;
        if line >= self.line_starts.len() {
            return text.len();
        }
        let start = self.line_starts[line];
        let end = self.line_starts.get(line + 1).map_or(text.len(), |next| next - 1);
        let line_text = &text[start..end.max(start)];
        let mut units = 0usize;
        for (i, ch) in line_text.char_indices() {
            let width = match encoding {
                PositionEncoding::Utf8 => ch.len_utf8(),
                PositionEncoding::Utf16 => ch.len_utf16(),
            };
            if units + width > pos.col as usize {
                return start + i;
            }
            units += width;
        }
        start + line_text.len()
    }
}

/// Where the line holding `offset` ends, before its `\n` or `\r\n`: where text appended to the
/// line goes, keeping the line break whole.
pub fn line_content_end(text: &str, offset: usize) -> usize {
    match text[offset..].find('\n').map(|newline| offset + newline) {
        Some(end) if end > offset && text[..end].ends_with('\r') => end - 1,
        Some(end) => end,
        None => text.len(),
    }
}

/// The length of `text` in UTF-16 code units, counted on its bytes (this runs for every position
/// of a whole-document answer): one unit per character (per byte that is no continuation byte),
/// two for the characters outside the BMP (the ones with a four-byte encoding, lead byte 0xF0+).
pub fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    text.bytes().map(|b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_content_ends_before_either_line_break() {
        assert_eq!(line_content_end("FROM a\nCOPY", 2), 6);
        assert_eq!(line_content_end("FROM a\r\nCOPY", 2), 6);
        assert_eq!(line_content_end("FROM a\r\nCOPY", 7), 7, "right after the \\r: the line is empty from here");
        assert_eq!(line_content_end("FROM a\r", 0), 7, "a lone \\r at the end is part of the line");
        assert_eq!(line_content_end("COPY", 1), 4);
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs_as_two() {
        let text = "LABEL a=\"😀\" b=c\n";
        let index = LineIndex::new(text);
        let b = text.find("b=").unwrap();
        assert_eq!(index.line_col(text, b, PositionEncoding::Utf16), LineCol { line: 0, col: 13 });
        assert_eq!(index.line_col(text, b, PositionEncoding::Utf8), LineCol { line: 0, col: 15 });
        assert_eq!(index.offset(text, LineCol { line: 0, col: 13 }, PositionEncoding::Utf16), b);
    }

    #[test]
    fn utf16_lengths_counted_on_bytes_match_the_characters() {
        for text in ["", "FROM a", "é", "aé😀b", "日本語", "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}"] {
            assert_eq!(utf16_len(text), text.encode_utf16().count(), "{text:?}");
        }
    }

    #[test]
    fn position_inside_surrogate_pair_clamps_to_character_start() {
        let text = "😀x";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, LineCol { line: 0, col: 1 }, PositionEncoding::Utf16), 0);
    }

    #[test]
    fn positions_past_line_or_file_end_clamp() {
        let text = "FROM a\nCOPY b c\n";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, LineCol { line: 0, col: 99 }, PositionEncoding::Utf16), 6);
        assert_eq!(index.offset(text, LineCol { line: 9, col: 0 }, PositionEncoding::Utf16), text.len());
        assert_eq!(index.line_col(text, 999, PositionEncoding::Utf16), LineCol { line: 2, col: 0 });
    }

    #[test]
    fn edits_update_the_index_as_a_fresh_build_would() {
        let mut text = String::from("FROM a\nRUN b\n\nCOPY . .\n");
        let mut index = LineIndex::new(&text);
        let edits: &[(usize, usize, &str)] = &[
            (0, 0, "# top\n"),
            (7, 8, ""),
            (3, 12, "x\ny\nz"),
            (0, 1, "\n\n"),
            (5, 5, "é\n"),
            (0, 0, ""),
        ];
        for &(start, end, new_text) in edits {
            let end = end.min(text.len());
            text.replace_range(start..end, new_text);
            index.edit(start..end, new_text);
            assert_eq!(index, LineIndex::new(&text), "after replacing {start}..{end} with {new_text:?}");
        }
        let end = text.len();
        text.replace_range(0..end, "");
        index.edit(0..end, "");
        assert_eq!(index, LineIndex::new(""));
    }

    #[test]
    fn crlf_lines_end_before_the_newline() {
        let text = "FROM a\r\nRUN b\r\n";
        let index = LineIndex::new(text);
        assert_eq!(index.line_of(text.find("RUN").unwrap()), 1);
        assert_eq!(index.offset(text, LineCol { line: 1, col: 0 }, PositionEncoding::Utf16), 8);
    }
}
