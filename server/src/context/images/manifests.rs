//! `manifests/`: every `.yaml`, `.yml` and `.tmpl` file below it, scanned line by line for
//! `image:` (sealos `ParseYamlImages` and `parseImageRefFromLine`). Rendered charts go through
//! the same scan ([`record`]).

use std::{borrow::Cow, collections::HashMap, fs, ops::Range, path::Path, sync::LazyLock};

use memchr::memmem;

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
    let mut lines = Vec::new();
    scan_image_lines(content, |hit| {
        lines.push(ImageLine { line: hit.line, range: hit.range, text: hit.text.to_owned(), parsed: hit.parsed.clone() });
    });
    lines
}

/// An `image:` line as the scan reports it, borrowing from the content and the scan's parses.
struct Hit<'a> {
    line: u32,
    range: Range<usize>,
    text: &'a str,
    parsed: &'a Result<Reference, ReferenceError>,
}

/// The `image:` finder (SIMD), built once.
static IMAGE_KEY_FINDER: LazyLock<memmem::Finder<'static>> = LazyLock::new(|| memmem::Finder::new(IMAGE_KEY));

/// Calls `on_hit` for every `image:` line of `content`, in order.
fn scan_image_lines(content: &[u8], mut on_hit: impl FnMut(Hit<'_>)) {
    // Manifests name the same image many times: each distinct text is parsed once.
    let mut parsed_by_text: HashMap<&str, Result<Reference, ReferenceError>> = HashMap::new();
    // Almost no line has the key, so look for the key and read only the lines that have it.
    // `cursor` is always a line start, and `line_number` the number of that line.
    let mut cursor = 0;
    let mut line_number = 1u32;
    while let Some(found) = IMAGE_KEY_FINDER.find(&content[cursor..]) {
        let key = cursor + found;
        let start = memchr::memrchr(b'\n', &content[cursor..key]).map_or(cursor, |i| cursor + i + 1);
        let newlines = u32::try_from(count_newlines(&content[cursor..start])).unwrap_or(u32::MAX);
        let number = line_number.saturating_add(newlines);
        let end = memchr::memchr(b'\n', &content[key..]).map_or(content.len(), |i| key + i + 1);
        // A long line is several sealos lines; the key may even be cut in two.
        for piece in go_lines(&content[start..end]) {
            let piece_start = piece.bytes.as_ptr() as usize - content.as_ptr() as usize;
            match String::from_utf8_lossy(piece.bytes) {
                Cow::Borrowed(line) => {
                    let Some(text) = candidate(line) else { continue };
                    let offset = piece_start + (text.as_ptr() as usize - line.as_ptr() as usize);
                    let parsed = parsed_by_text.entry(text).or_insert_with(|| Reference::parse_normalized(text));
                    on_hit(Hit { line: number, range: offset..offset + text.len(), text, parsed });
                }
                // Not UTF-8: the range is the whole piece, and the text is not the content's.
                Cow::Owned(line) => {
                    let Some(text) = candidate(&line) else { continue };
                    let parsed = Reference::parse_normalized(text);
                    let range = piece_start..piece_start + piece.bytes.len();
                    on_hit(Hit { line: number, range, text, parsed: &parsed });
                }
            }
        }
        cursor = end;
        line_number = number.saturating_add(1);
    }
}

/// The text sealos parses on one line: after the first `image:`, trimmed, one pair of quotes
/// removed. `None` for comment lines, lines without the key, and empty values.
fn candidate(line: &str) -> Option<&str> {
    let trimmed = trim_space(line);
    if trimmed.starts_with('#') {
        return None;
    }
    let start = IMAGE_KEY_FINDER.find(trimmed.as_bytes())? + IMAGE_KEY.len();
    let candidate = trim_quotes(trim_space(&trimmed[start..]));
    (!candidate.is_empty()).then_some(candidate)
}

/// Newlines in `bytes`; written so the compiler vectorises it.
fn count_newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'\n').count()
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
    scan_image_lines(content, |hit| {
        let (file, line, chart) = (file.to_path_buf(), hit.line, chart.map(str::to_owned));
        match hit.parsed {
            Ok(reference) => scan.found.push(Found { image: reference.as_str().to_owned(), source, file, line, chart }),
            Err(reason) => {
                let (text, reason) = (hit.text.to_owned(), reason.clone());
                scan.skipped.push(Skipped { source, file, line, text, reason, chart });
            }
        }
    });
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
    fn repeated_text_is_reported_at_every_line_with_its_own_range() {
        let content = "image: nginx:1\nimage: ${X}\n  image: nginx:1\nimage: ${X}\n";
        let found = image_lines(content.as_bytes());
        let got: Vec<(u32, &str, bool)> =
            found.iter().map(|h| (h.line, &content[h.range.clone()], h.parsed.is_ok())).collect();
        assert_eq!(got, [(1, "nginx:1", true), (2, "${X}", false), (3, "nginx:1", true), (4, "${X}", false)]);
        assert_eq!(found[0].parsed, found[2].parsed);
        assert_eq!(found[1].parsed, found[3].parsed);
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
