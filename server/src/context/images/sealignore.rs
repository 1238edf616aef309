//! `.sealignore`: images left out of `registry/` (sealos `Filter`, main and v5.1.2-rc only).
//!
//! Each line is compared as an exact string with the merged image list: no trimming, no
//! comments, no globs. Chart and manifest images are normalised and shim images are not, so an
//! entry only matches when written exactly as the image appears in the list.

use std::{collections::HashMap, path::Path};

use super::{lines::go_lines, ExtractError};

const SEALIGNORE: &str = ".sealignore";

/// The lines of `<ctx>/.sealignore`, each with its line number (first occurrence wins).
pub(super) struct SealIgnore {
    lines: HashMap<String, u32>,
}

impl SealIgnore {
    pub(super) fn load(root: &Path) -> Result<Option<Self>, ExtractError> {
        let path = root.join(SEALIGNORE);
        if !path.exists() {
            return Ok(None);
        }
        let content = std::fs::read(&path).map_err(|source| ExtractError::read(root, &path, source))?;
        let mut lines = HashMap::new();
        for line in go_lines(&content) {
            lines.entry(String::from_utf8_lossy(line.bytes).into_owned()).or_insert(line.number);
        }
        Ok(Some(Self { lines }))
    }

    /// The `.sealignore` line that removes `image`, if any.
    pub(super) fn line_of(&self, image: &str) -> Option<u32> {
        self.lines.get(image).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> SealIgnore {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(SEALIGNORE), text).unwrap();
        SealIgnore::load(dir.path()).unwrap().unwrap()
    }

    #[test]
    fn entries_match_exact_strings_only() {
        let i = ignore("nginx:1.25\n");
        assert_eq!(i.line_of("nginx:1.25"), Some(1));
        assert_eq!(i.line_of("docker.io/library/nginx:1.25"), None);
    }

    #[test]
    fn lines_are_not_trimmed() {
        let i = ignore(" nginx:1.25\nquay.io/a/b:1 \n");
        assert_eq!((i.line_of("nginx:1.25"), i.line_of("quay.io/a/b:1")), (None, None));
        assert_eq!(i.line_of(" nginx:1.25"), Some(1));
    }

    #[test]
    fn comments_and_globs_are_plain_text() {
        let i = ignore("# nginx:1.25\n*\n");
        assert_eq!((i.line_of("nginx:1.25"), i.line_of("*"), i.line_of("# nginx:1.25")), (None, Some(2), Some(1)));
    }

    #[test]
    fn crlf_is_stripped_like_every_sealos_line() {
        assert_eq!(ignore("nginx:1.25\r\n").line_of("nginx:1.25"), Some(1));
    }

    #[test]
    fn first_matching_line_is_reported() {
        let i = ignore("a\nb\na\n");
        assert_eq!((i.line_of("a"), i.line_of("b"), i.line_of("c")), (Some(1), Some(2), None));
    }

    #[test]
    fn missing_sealignore_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SealIgnore::load(dir.path()).unwrap().is_none());
    }
}
