//! `.containerignore` / `.dockerignore`: which context files `COPY` and `ADD` cannot see.
//!
//! `sealos build` is buildah v1.30: `.containerignore` is read if it exists, otherwise
//! `.dockerignore` (imagebuilder `ParseIgnore`), and paths are matched with
//! moby/patternmatcher v0.5.0 the way Docker does. Lines are read like imagebuilder does:
//! split on `\n`, lines starting with `#` dropped, `/` trimmed from both ends; then each
//! pattern is trimmed, cleaned (`./a/../b` → `b`) and a leading `!` makes it an exception.
//! Patterns are relative to the context root, `*` and `?` stay within one path component, `**`
//! crosses any number of them, and a pattern matching a directory hides everything below it.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

use globset::{Glob, GlobBuilder, GlobMatcher};

/// The ignore files buildah reads, first existing one wins.
pub const IGNORE_FILE_NAMES: [&str; 2] = [".containerignore", ".dockerignore"];

/// The patterns of a context's ignore file (none when it has no ignore file).
#[derive(Debug, Clone, Default)]
pub struct ContextIgnore {
    file: Option<PathBuf>,
    patterns: Vec<Pattern>,
}

#[derive(Debug, thiserror::Error)]
pub enum IgnoreError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("line {line}: `!` alone is not a valid exclusion pattern")]
    LoneExclamation { line: u32 },
    #[error("line {line}: invalid pattern `{pattern}`: {message}")]
    BadPattern { line: u32, pattern: String, message: String },
}

impl ContextIgnore {
    /// Reads the ignore file buildah would use for the context at `root`.
    pub fn load(root: &Path) -> Result<Self, IgnoreError> {
        for name in IGNORE_FILE_NAMES {
            let path = root.join(name);
            match fs::read(&path) {
                Ok(bytes) => {
                    let mut ignore = Self::parse(&String::from_utf8_lossy(&bytes))?;
                    ignore.file = Some(PathBuf::from(name));
                    return Ok(ignore);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(IgnoreError::Io { path, source }),
            }
        }
        Ok(Self::default())
    }

    /// Parses the text of an ignore file.
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let mut patterns = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let line = u32::try_from(index + 1).unwrap_or(u32::MAX);
            // imagebuilder: comments are recognised before any trimming.
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            let trimmed = raw.trim_matches('/').trim();
            if trimmed.is_empty() {
                continue;
            }
            let cleaned = clean(trimmed);
            let (exclusion, body) = match cleaned.strip_prefix('!') {
                Some("") => return Err(IgnoreError::LoneExclamation { line }),
                Some(body) => (true, body.to_owned()),
                None => (false, cleaned),
            };
            let matcher = Matcher::compile(&body).map_err(|message| IgnoreError::BadPattern {
                line,
                pattern: raw.trim().to_owned(),
                message,
            })?;
            patterns.push(Pattern { exclusion, matcher });
        }
        Ok(Self { file: None, patterns })
    }

    /// The ignore file in use, relative to the context root.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Whether `rel_path` (relative to the context root, `/`-separated) is hidden from the
    /// build: the last pattern that matches it or one of its parent directories decides.
    pub fn is_ignored(&self, rel_path: &str) -> bool {
        let path = clean(rel_path.trim_start_matches('/'));
        if path == "." {
            return false;
        }
        let parents: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
        let mut matched = false;
        for pattern in &self.patterns {
            // An exception can only undo an earlier match, an exclusion only add one.
            if pattern.exclusion != matched {
                continue;
            }
            let hit = pattern.matcher.is_match(&path) || parents.iter().any(|parent| pattern.matcher.is_match(parent));
            if hit {
                matched = !pattern.exclusion;
            }
        }
        matched
    }
}

#[derive(Debug, Clone)]
struct Pattern {
    exclusion: bool,
    matcher: Matcher,
}

/// patternmatcher sorts patterns into three fast paths and a regex; the fast paths are not
/// always equivalent to the regex (`**foo` matches `barfoo`), so they are kept as they are.
#[derive(Debug, Clone)]
enum Matcher {
    Exact(String),
    /// `foo**`: any path starting with `foo`.
    Prefix(String),
    /// `**foo` (no other wildcard): any path ending in `foo`, or `**/foo` matching `foo`.
    Suffix(String),
    /// The regex patternmatcher would build, as globs of which any may match.
    Globs(Vec<GlobMatcher>),
}

/// One step of patternmatcher's regex translation.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(char),
    /// `*`: `[^/]*`.
    Star,
    /// `?`: `[^/]`.
    Question,
    /// `[...]` passed through as a character class.
    Class(String),
    /// `**` followed by more pattern (its `/` eaten): `(.*/)?`.
    AnyDirectories,
    /// `**` ending the pattern: `.*`.
    AnyRest,
}

impl Matcher {
    fn compile(pattern: &str) -> Result<Self, String> {
        let tokens = tokenize(pattern)?;
        let wildcards = |tokens: &[Token]| tokens.iter().any(|t| !matches!(t, Token::Literal(_)));
        let literal = |tokens: &[Token]| -> String {
            tokens.iter().filter_map(|t| if let Token::Literal(c) = t { Some(*c) } else { None }).collect()
        };
        // Any backslash is an escape (a trailing one is an error), and escapes force the regex.
        if !pattern.contains('\\') {
            match tokens.as_slice() {
                [_, rest @ ..] if pattern.starts_with("**") && !wildcards(rest) => {
                    return Ok(Self::Suffix(pattern[2..].to_owned()));
                }
                [rest @ .., Token::AnyRest] if !wildcards(rest) => {
                    return Ok(Self::Prefix(literal(rest)));
                }
                all if !wildcards(all) => return Ok(Self::Exact(literal(all))),
                _ => {}
            }
        }
        let globs = to_globs(&tokens)
            .iter()
            .map(|glob| {
                GlobBuilder::new(glob)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build()
                    .map(|g: Glob| g.compile_matcher())
                    .map_err(|e| e.kind().to_string())
            })
            .collect::<Result<_, _>>()?;
        Ok(Self::Globs(globs))
    }

    fn is_match(&self, path: &str) -> bool {
        match self {
            Self::Exact(exact) => path == exact,
            Self::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Self::Suffix(suffix) => {
                path.ends_with(suffix.as_str()) || suffix.strip_prefix('/').is_some_and(|bare| path == bare)
            }
            Self::Globs(globs) => globs.iter().any(|glob| glob.is_match(path)),
        }
    }
}

/// The scanner loop of patternmatcher's `compile`, producing tokens instead of regex text.
fn tokenize(pattern: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                }
                tokens.push(if chars.peek().is_none() { Token::AnyRest } else { Token::AnyDirectories });
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Question),
            '\\' => match chars.next() {
                Some(escaped) => tokens.push(Token::Literal(escaped)),
                None => return Err("a trailing `\\` escapes nothing".into()),
            },
            '[' => {
                let mut class = String::new();
                loop {
                    let content_start = class.is_empty() || class == "^";
                    match chars.next() {
                        // Go's filepath.Match, run by patternmatcher to validate, rejects these.
                        Some(']' | '-') if content_start => return Err("empty or malformed character class".into()),
                        Some(']') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => {
                                class.push('\\');
                                class.push(escaped);
                            }
                            None => return Err("unclosed character class `[`".into()),
                        },
                        Some(other) => class.push(other),
                        None => return Err("unclosed character class `[`".into()),
                    }
                }
                tokens.push(Token::Class(class));
            }
            other => tokens.push(Token::Literal(other)),
        }
    }
    Ok(tokens)
}

/// Rewrites the token stream as globset globs whose union matches what patternmatcher's regex
/// matches. globset only allows `**` as a whole path component, so `a**b` (regex
/// `a(.*/)?b`) becomes `ab` or `a*/**/b`.
fn to_globs(tokens: &[Token]) -> Vec<String> {
    let mut globs = vec![String::new()];
    for token in tokens {
        let after_separator = |glob: &String| glob.is_empty() || glob.ends_with('/');
        match token {
            Token::Literal(c) => {
                for glob in &mut globs {
                    if "*?[]{}\\".contains(*c) {
                        glob.push('\\');
                    }
                    glob.push(*c);
                }
            }
            Token::Star => globs.iter_mut().for_each(|g| g.push('*')),
            Token::Question => globs.iter_mut().for_each(|g| g.push('?')),
            Token::Class(class) => {
                // Go regex negates with `^`; globset with `!`, and a leading `!` is literal in Go.
                let class = match class.strip_prefix('^') {
                    Some(rest) => format!("!{rest}"),
                    None => match class.strip_prefix('!') {
                        Some(rest) if !rest.is_empty() => format!("{rest}!"),
                        _ => class.clone(),
                    },
                };
                globs.iter_mut().for_each(|g| {
                    g.push('[');
                    g.push_str(&class);
                    g.push(']');
                });
            }
            Token::AnyDirectories | Token::AnyRest => {
                let (component, crossing) = match token {
                    Token::AnyDirectories => ("**/", "*/**/"),
                    _ => ("**", "*/**"),
                };
                let mut forked = Vec::new();
                for glob in &mut globs {
                    if after_separator(glob) {
                        glob.push_str(component);
                    } else {
                        let mut crossing_glob = glob.clone();
                        crossing_glob.push_str(crossing);
                        forked.push(crossing_glob);
                        if matches!(token, Token::AnyRest) {
                            glob.push('*');
                        }
                    }
                }
                globs.extend(forked);
            }
        }
    }
    globs
}

/// Go's `path.Clean`: the shortest equivalent path, `.` for nothing.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> ContextIgnore {
        ContextIgnore::parse(text).unwrap()
    }

    #[test]
    fn directory_pattern_excludes_everything_below() {
        let i = ignore("registry\n");
        assert!(i.is_ignored("registry"));
        assert!(i.is_ignored("registry/docker/registry/v2/blobs"));
        assert!(!i.is_ignored("registry2"));
    }

    #[test]
    fn leading_slash_and_dot_slash_are_cleaned() {
        let i = ignore("/charts\n./manifests/\nopt/../etc\n");
        assert!(i.is_ignored("charts/a/Chart.yaml"));
        assert!(i.is_ignored("manifests/app.yaml"));
        assert!(i.is_ignored("etc/x.tmpl"));
        assert!(!i.is_ignored("opt/x"));
    }

    #[test]
    fn patterns_are_relative_to_the_context_root() {
        let i = ignore("*.md\n");
        assert!(i.is_ignored("README.md"));
        assert!(!i.is_ignored("docs/README.md"));
    }

    #[test]
    fn single_star_does_not_cross_directories() {
        let i = ignore("charts/*.tgz\n");
        assert!(i.is_ignored("charts/a.tgz"));
        assert!(!i.is_ignored("charts/sub/a.tgz"));
    }

    #[test]
    fn double_star_matches_any_depth() {
        let i = ignore("**/*.bak\n");
        assert!(i.is_ignored("a.bak"));
        assert!(i.is_ignored("a/b/c.bak"));
        assert!(!i.is_ignored("a/b/c.bak2"));
    }

    #[test]
    fn double_star_in_the_middle_matches_zero_or_more_directories() {
        let i = ignore("manifests/**/test\n");
        assert!(i.is_ignored("manifests/test"));
        assert!(i.is_ignored("manifests/a/b/test/x.yaml"));
        assert!(!i.is_ignored("manifests/a/b/notest"));
    }

    #[test]
    fn double_star_glued_to_a_name_crosses_directories() {
        let i = ignore("tmp**\n");
        assert!(i.is_ignored("tmp"));
        assert!(i.is_ignored("tmpfile"));
        assert!(i.is_ignored("tmp2/deep/file"));
        let inner = ignore("a?**b\n");
        assert!(inner.is_ignored("axb"));
        assert!(inner.is_ignored("ax/y/b"));
        assert!(!inner.is_ignored("axyb"));
    }

    #[test]
    fn leading_double_star_without_other_wildcards_is_a_plain_suffix_match() {
        let i = ignore("**foo\n");
        assert!(i.is_ignored("barfoo"));
        assert!(i.is_ignored("a/foo"));
    }

    #[test]
    fn exclamation_mark_makes_an_exception() {
        let i = ignore("manifests\n!manifests/keep.yaml\n");
        assert!(i.is_ignored("manifests/drop.yaml"));
        assert!(!i.is_ignored("manifests/keep.yaml"));
    }

    #[test]
    fn later_pattern_wins() {
        let i = ignore("!a.txt\n*.txt\n");
        assert!(i.is_ignored("a.txt"));
    }

    #[test]
    fn exception_with_leading_slash_never_matches_in_buildah() {
        // imagebuilder trims `/` before the `!` is split off, so `/keep` stays rooted.
        let i = ignore("*\n!/keep\n");
        assert!(i.is_ignored("keep"));
    }

    #[test]
    fn comment_only_when_hash_is_the_first_character() {
        let i = ignore("# registry\n #x\n");
        assert!(!i.is_ignored("registry"));
        assert!(i.is_ignored("#x"));
    }

    #[test]
    fn crlf_line_endings_are_trimmed() {
        let i = ignore("registry\r\ncharts\r\n");
        assert!(i.is_ignored("registry"));
        assert!(i.is_ignored("charts/x"));
    }

    #[test]
    fn braces_are_literal_not_alternatives() {
        let i = ignore("{a,b}*\n");
        assert!(!i.is_ignored("a"));
        assert!(i.is_ignored("{a,b}x"));
    }

    #[test]
    fn character_class_negation_uses_caret() {
        let i = ignore("[^a]*.yaml\n");
        assert!(i.is_ignored("b.yaml"));
        assert!(!i.is_ignored("a.yaml"));
    }

    #[test]
    fn escaped_wildcard_is_literal() {
        let i = ignore("a\\*b\n");
        assert!(i.is_ignored("a*b"));
        assert!(!i.is_ignored("axb"));
    }

    #[test]
    fn lone_exclamation_mark_is_an_error() {
        assert!(matches!(ContextIgnore::parse("a\n!\n"), Err(IgnoreError::LoneExclamation { line: 2 })));
    }

    #[test]
    fn unclosed_class_is_an_error() {
        assert!(matches!(ContextIgnore::parse("[abc\n"), Err(IgnoreError::BadPattern { line: 1, .. })));
    }

    #[test]
    fn containerignore_wins_over_dockerignore() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(".dockerignore"), "charts\n").unwrap();
        fs::write(dir.path().join(".containerignore"), "registry\n").unwrap();
        let i = ContextIgnore::load(dir.path()).unwrap();
        assert_eq!(i.file(), Some(Path::new(".containerignore")));
        assert!(i.is_ignored("registry"));
        assert!(!i.is_ignored("charts"));
    }

    #[test]
    fn no_ignore_file_ignores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let i = ContextIgnore::load(dir.path()).unwrap();
        assert_eq!(i.file(), None);
        assert!(!i.is_ignored("registry"));
    }

    #[test]
    fn queried_paths_are_cleaned_too() {
        let i = ignore("registry\n");
        assert!(i.is_ignored("./registry/x"));
        assert!(!i.is_ignored("."));
        assert!(!i.is_ignored(""));
    }

    #[test]
    fn go_path_clean() {
        for (input, want) in [("", "."), ("a/../..", ".."), ("/..", "/"), ("a//b/./c/", "a/b/c"), ("./", ".")] {
            assert_eq!(clean(input), want, "{input}");
        }
    }
}
