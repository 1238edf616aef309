//! `manifests/`: every `.yaml`, `.yml` and `.tmpl` file below it, scanned line by line for
//! `image:` (sealos `ParseYamlImages` and `parseImageRefFromLine`). Rendered charts go through
//! the same scan ([`record`]).

use std::{borrow::Cow, fs, ops::Range, path::Path};

use super::{
    lines::{go_lines, trim_quotes, trim_space},
    relative, ExtractError, Found, ImageSource, Scan, Skipped,
};
use crate::context::reference::{Reference, ReferenceError};

const MANIFESTS_DIR: &str = "manifests";
const IMAGE_KEY: &[u8] = b"image:";

/// An `image:` line of a manifest and what containers/image made of the text after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageLine {
    /// 1-based.
    pub line: u32,
    /// Where `text` is in the content (the whole piece of line when it is not valid UTF-8).
    pub range: Range<usize>,
    /// The text sealos parses: after the first `image:`, trimmed, one pair of quotes removed.
    pub text: String,
    pub parsed: Result<Reference, ReferenceError>,
}

/// sealos `parseImageRefFromLine` on every line of `content` (a manifest or a rendered chart
/// template). Lines that start with `#` once trimmed, have no `image:`, or nothing after it are
/// not reported. Pure: the editor runs it on unsaved text.
pub fn image_lines(content: &[u8]) -> Vec<ImageLine> {
    let mut hits = Vec::new();
    // Almost no line has the key, so look for the key and read only the lines that have it.
    // `cursor` is always a line start, and `line_number` the number of that line.
    let mut cursor = 0;
    let mut line_number = 1u32;
    while let Some((key, newlines)) = find_key(content, cursor) {
        let number = line_number.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
        let start = content[cursor..key].iter().rposition(|&b| b == b'\n').map_or(cursor, |i| cursor + i + 1);
        let end = content[key..].iter().position(|&b| b == b'\n').map_or(content.len(), |i| key + i + 1);
        // A long line is several sealos lines; the key may even be cut in two.
        for piece in go_lines(&content[start..end]) {
            let piece_start = piece.bytes.as_ptr() as usize - content.as_ptr() as usize;
            hits.extend(parse_line(piece.bytes).map(|(inner, text, parsed)| ImageLine {
                line: number,
                range: inner.map_or(piece_start..piece_start + piece.bytes.len(), |r| piece_start + r.start..piece_start + r.end),
                text,
                parsed,
            }));
        }
        cursor = end;
        line_number = number.saturating_add(1);
    }
    hits
}

/// The candidate of one line: its byte range in the line (when the line is valid UTF-8), the
/// text, and the parse.
type Candidate = (Option<Range<usize>>, String, Result<Reference, ReferenceError>);

fn parse_line(bytes: &[u8]) -> Option<Candidate> {
    let text = String::from_utf8_lossy(bytes);
    let trimmed = trim_space(&text);
    if trimmed.starts_with('#') {
        return None;
    }
    let start = trimmed.find("image:")? + IMAGE_KEY.len();
    let candidate = trim_quotes(trim_space(&trimmed[start..]));
    if candidate.is_empty() {
        return None;
    }
    let range = match &text {
        Cow::Borrowed(line) => {
            let offset = candidate.as_ptr() as usize - line.as_ptr() as usize;
            Some(offset..offset + candidate.len())
        }
        Cow::Owned(_) => None,
    };
    Some((range, candidate.to_owned(), Reference::parse_normalized(candidate)))
}

/// The next `image:` at or after `from`, and how many newlines come before it: each `:` is
/// found eight bytes at a time and checked for `image` in front of it.
fn find_key(haystack: &[u8], from: usize) -> Option<(usize, usize)> {
    let before = IMAGE_KEY.len() - 1;
    let is_key = |colon: usize| colon >= from + before && &haystack[colon - before..colon] == b"image";
    let mut newlines = 0;
    let mut position = from;
    while let Some(word) = haystack.get(position..position + 8) {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let line_ends = bytes_equal_to(word, b'\n');
        let mut colons = bytes_equal_to(word, b':');
        while colons != 0 {
            let offset = colons.trailing_zeros() as usize / 8;
            if is_key(position + offset) {
                let earlier_line_ends = line_ends & ((1u64 << (8 * offset)) - 1);
                return Some((position + offset - before, newlines + earlier_line_ends.count_ones() as usize));
            }
            colons &= colons - 1;
        }
        newlines += line_ends.count_ones() as usize;
        position += 8;
    }
    for (index, &byte) in haystack.iter().enumerate().skip(position) {
        match byte {
            b'\n' => newlines += 1,
            b':' if is_key(index) => return Some((index - before, newlines)),
            _ => {}
        }
    }
    None
}

/// The high bit of every byte of `word` that equals `byte`, and no other bit (no false
/// positives: the addition cannot carry into the next byte).
fn bytes_equal_to(word: u64, byte: u8) -> u64 {
    const LOW_SEVEN: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let difference = word ^ (u64::from(byte) * 0x0101_0101_0101_0101);
    !(((difference & LOW_SEVEN) + LOW_SEVEN) | difference | LOW_SEVEN)
}

/// Scans `<ctx>/manifests` recursively.
pub(super) fn scan(root: &Path) -> Scan {
    let mut scan = Scan::default();
    let dir = root.join(MANIFESTS_DIR);
    // filepath.Walk lstat()s its root: a symlinked manifests/ is one entry, not a directory.
    if fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
        walk(root, &dir, &mut scan);
    }
    scan
}

fn walk(root: &Path, dir: &Path, scan: &mut Scan) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(source) => return scan.errors.push(ExtractError::read(root, dir, source)),
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        // Symlinked directories are not followed; symlinked files are read.
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(root, &path, scan);
        } else if is_manifest(&path) {
            scan_file(root, &path, scan);
        }
    }
}

/// sealos's yaml and tmpl matchers: the lower-cased extension is `.yaml`, `.yml` or `.tmpl`.
pub fn is_manifest(path: &Path) -> bool {
    path.extension()
        .map(|ext| ext.to_string_lossy().to_lowercase())
        .is_some_and(|ext| matches!(ext.as_str(), "yaml" | "yml" | "tmpl"))
}

fn scan_file(root: &Path, path: &Path, scan: &mut Scan) {
    match fs::read(path) {
        Ok(content) => record(scan, &content, ImageSource::Manifest, &relative(root, path), None),
        Err(source) => scan.errors.push(ExtractError::read(root, path, source)),
    }
}

/// Line-scans one manifest or rendered chart template into `scan`.
pub(super) fn record(scan: &mut Scan, content: &[u8], source: ImageSource, file: &Path, chart: Option<&str>) {
    for hit in image_lines(content) {
        let (file, line, chart) = (file.to_path_buf(), hit.line, chart.map(str::to_owned));
        match hit.parsed {
            Ok(reference) => scan.found.push(Found { image: reference.to_string(), source, file, line, chart }),
            Err(reason) => scan.skipped.push(Skipped { source, file, line, text: hit.text, reason, chart }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::reference::Problem;

    fn images(yaml: &str) -> Vec<String> {
        image_lines(yaml.as_bytes()).into_iter().filter_map(|h| h.parsed.ok()).map(|r| r.to_string()).collect()
    }

    fn skipped(yaml: &str) -> Vec<(u32, String, ReferenceError)> {
        image_lines(yaml.as_bytes())
            .into_iter()
            .filter_map(|h| h.parsed.err().map(|e| (h.line, h.text, e)))
            .collect()
    }

    fn problem(yaml: &str) -> Problem {
        match skipped(yaml).pop().expect("a skipped line").2 {
            ReferenceError::Invalid { problem, .. } => problem,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn image_key_is_case_sensitive() {
        assert!(images("Image: nginx:1\nIMAGE: nginx:2\n").is_empty());
    }

    #[test]
    fn any_key_ending_in_image_matches() {
        assert_eq!(
            images("- image: a:1\ninitimage: b:1\nsidecar_image: c:1\nsidecarImage: d:1\n"),
            ["docker.io/library/a:1", "docker.io/library/b:1", "docker.io/library/c:1"]
        );
    }

    #[test]
    fn json_style_image_key_is_not_matched() {
        assert!(images("{\"image\": \"nginx:1\"}\n\"image\" : nginx\n").is_empty());
    }

    #[test]
    fn image_key_anywhere_in_the_line_matches() {
        assert_eq!(
            images("containers: [{name: a, image: nginx:1}]x\nfoo: bar image: redis:7\n"),
            ["docker.io/library/redis:7"]
        );
        assert_eq!(skipped("containers: [{name: a, image: nginx:1}]x\n")[0].1, "nginx:1}]x");
    }

    #[test]
    fn line_starting_with_hash_is_skipped_after_trimming() {
        assert!(images("  # image: nginx:1\n\t#image: redis\n").is_empty());
        assert!(skipped("  # image: nginx:1\n").is_empty());
    }

    #[test]
    fn hash_in_the_middle_is_not_a_comment() {
        assert_eq!(images("foo: 1 # image: nginx:1\n"), ["docker.io/library/nginx:1"]);
    }

    #[test]
    fn trailing_comment_makes_ref_unparsable_and_is_reported_as_skipped() {
        let found = skipped("    image: nginx:1.25 # pinned\n");
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].0, found[0].1.as_str()), (1, "nginx:1.25 # pinned"));
        assert_eq!(problem("image: nginx:1.25 # pinned"), Problem::InlineComment);
    }

    #[test]
    fn one_pair_of_quotes_is_removed() {
        assert_eq!(
            images("image: \"nginx:1\"\nimage: 'redis:7'\n"),
            ["docker.io/library/nginx:1", "docker.io/library/redis:7"]
        );
    }

    #[test]
    fn mismatched_quotes_are_kept_and_fail_to_parse() {
        assert_eq!(skipped("image: \"nginx:1'\n")[0].1, "\"nginx:1'");
    }

    #[test]
    fn empty_value_of_map_style_image_is_ignored_not_skipped() {
        let yaml = "image:\n  repository: nginx\n  tag: 1.25\nimage: \"\"\n";
        assert!(images(yaml).is_empty());
        assert!(skipped(yaml).is_empty());
    }

    #[test]
    fn template_expression_is_skipped() {
        assert_eq!(problem("image: {{ .Values.image }}\n"), Problem::TemplateSyntax);
    }

    #[test]
    fn shell_variable_is_skipped() {
        assert_eq!(problem("image: ${REGISTRY}/app:1\n"), Problem::ShellVariable);
    }

    #[test]
    fn uppercase_repository_is_skipped() {
        assert!(matches!(skipped("image: bitnami/Redis:7\n")[0].2, ReferenceError::Uppercase(_)));
    }

    #[test]
    fn only_the_first_image_key_counts() {
        assert_eq!(skipped("image: a image: b\n")[0].1, "a image: b");
    }

    #[test]
    fn references_are_normalised_like_containers_image() {
        let sha = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
        let yaml =
            format!("image: nginx\nimage: quay.io/a/b:1@{sha}\nimage: busybox@{sha}\nimage: index.docker.io/x/y:2\n");
        assert_eq!(
            images(&yaml),
            [
                "docker.io/library/nginx".to_string(),
                "quay.io/a/b:1".into(),
                format!("docker.io/library/busybox@{sha}"),
                "docker.io/x/y:2".into()
            ]
        );
    }

    #[test]
    fn crlf_line_endings_do_not_leak_into_the_reference() {
        assert_eq!(
            images("image: nginx:1\r\nimage: redis:7\r\n"),
            ["docker.io/library/nginx:1", "docker.io/library/redis:7"]
        );
    }

    #[test]
    fn image_key_split_by_the_4096_byte_buffer_is_not_seen() {
        let yaml = format!("{}image: nginx:1\n", "x".repeat(4093));
        assert!(images(&yaml).is_empty());
        let yaml = format!("{}image: nginx:1\n", "x".repeat(4096));
        assert_eq!(images(&yaml), ["docker.io/library/nginx:1"]);
    }

    #[test]
    fn ranges_point_at_the_text_sealos_parses() {
        let content = "a: 1\n  - image: \"nginx:1 # x\"\r\nimage: é\n";
        let found = image_lines(content.as_bytes());
        assert_eq!(&content[found[0].range.clone()], "nginx:1 # x");
        let bytes = b"x: 1\nimage: a\xff\n";
        let found = image_lines(bytes);
        assert_eq!(found[0].range, 5..14, "the whole line when it is not UTF-8");
    }

    #[test]
    fn line_numbers_are_one_based() {
        let found: Vec<u32> = image_lines(b"a: 1\n\nimage: x:1\nimage: Y\n").into_iter().map(|h| h.line).collect();
        assert_eq!(found, [3, 4]);
    }

    #[test]
    fn key_search_counts_lines_across_word_boundaries() {
        for prefix in 0..20 {
            let content = format!("{}\n{}image: a:1\nx: y\nimage: b:2", "ab\n".repeat(prefix), " ".repeat(prefix % 9));
            let found: Vec<(u32, String)> =
                image_lines(content.as_bytes()).into_iter().map(|h| (h.line, h.text)).collect();
            let first = u32::try_from(prefix).unwrap() + 2;
            assert_eq!(found, [(first, "a:1".to_owned()), (first + 2, "b:2".to_owned())], "prefix {prefix}");
        }
    }

    #[test]
    fn bytes_equal_to_marks_exactly_the_matching_bytes() {
        let word = u64::from_le_bytes(*b":\n\x3b\x39:\xba\x00:");
        assert_eq!(bytes_equal_to(word, b':'), 0x8000_0080_0000_0080);
        assert_eq!(bytes_equal_to(word, b'\n'), 0x8000);
    }

    #[test]
    fn invalid_utf8_does_not_panic() {
        let content = b"image: nginx:1\xff\nimage: \xc3\n\xff image: redis:7\n";
        let got: Vec<String> =
            image_lines(content).into_iter().filter_map(|h| h.parsed.ok()).map(|r| r.to_string()).collect();
        assert_eq!(got, ["docker.io/library/redis:7"]);
    }

    fn write(root: &Path, path: &str, content: &str) {
        let full = root.join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
    }

    fn files(scan: &Scan) -> Vec<String> {
        scan.found.iter().map(|f| format!("{}:{}", f.file.display(), f.line)).collect()
    }

    #[test]
    fn walk_is_recursive_and_extension_is_case_insensitive() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "manifests/a.YAML", "image: a:1\n");
        write(dir.path(), "manifests/deep/er/b.yml", "image: b:1\n");
        write(dir.path(), "manifests/c.yaml.tmpl", "x: 1\nimage: c:1\n");
        write(dir.path(), "manifests/d.json", "image: d:1\n");
        write(dir.path(), "manifests/e.yaml.bak", "image: e:1\n");
        write(dir.path(), "manifests/README", "image: f:1\n");
        let scan = scan(dir.path());
        assert_eq!(files(&scan), ["manifests/a.YAML:1", "manifests/c.yaml.tmpl:2", "manifests/deep/er/b.yml:1"]);
        assert!(scan.errors.is_empty());
    }

    #[test]
    fn symlinked_directory_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "elsewhere/a.yaml", "image: a:1\n");
        fs::create_dir_all(dir.path().join("manifests")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("manifests/linked")).unwrap();
        assert!(scan(dir.path()).found.is_empty());
    }

    #[test]
    fn symlinked_file_is_read() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "elsewhere/a.txt", "image: a:1\n");
        fs::create_dir_all(dir.path().join("manifests")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere/a.txt"), dir.path().join("manifests/a.yaml")).unwrap();
        assert_eq!(files(&scan(dir.path())), ["manifests/a.yaml:1"]);
    }

    #[test]
    fn symlinked_manifests_root_yields_nothing() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "elsewhere/a.yaml", "image: a:1\n");
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("manifests")).unwrap();
        assert!(scan(dir.path()).found.is_empty());
    }

    #[test]
    fn directory_with_manifest_extension_is_walked_not_read() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "manifests/x.yaml/inner.yml", "image: a:1\n");
        assert_eq!(files(&scan(dir.path())), ["manifests/x.yaml/inner.yml:1"]);
    }

    #[test]
    fn skipped_lines_carry_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "manifests/app.yaml", "a: 1\nimage: {{ .Values.image }}\n");
        let scan = scan(dir.path());
        assert_eq!(scan.skipped.len(), 1);
        assert_eq!(scan.skipped[0].file, Path::new("manifests/app.yaml"));
        assert_eq!(scan.skipped[0].line, 2);
        assert_eq!(scan.skipped[0].text, "{{ .Values.image }}");
    }
}
