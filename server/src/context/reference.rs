//! Image references exactly as sealos reads them.
//!
//! Two parsers are involved in `sealos build`, and both are reproduced here:
//!
//! * The line scan of manifests and rendered charts uses containers/image v5.25
//!   `reference.ParseNormalizedNamed` ([`Reference::parse_normalized`]). A reference it rejects is
//!   skipped by sealos (logged, not fatal).
//! * Saving uses go-containerregistry v0.15 `name.ParseReference` and re-parses the result with
//!   containers/image, then stores the image under its repository path with the registry domain
//!   removed ([`registry_path`]). A reference rejected there fails the build.
//!
//! The grammar is written out by hand instead of with a regex engine: it is small, and this keeps
//! the decision exact (the regexes are anchored, so only acceptance matters) while letting the
//! error say *why* a reference was rejected.

use std::fmt;

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// Any registry host works: the temporary registry sealos saves into is `127.0.0.1:<port>`.
const LOCAL_REGISTRY: &str = "127.0.0.1:5000";

/// A reference accepted by containers/image, normalised (`nginx` → `docker.io/library/nginx`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `name[:tag][@digest]`, the whole normalised string: one allocation per reference, since
    /// the line scan parses one for every `image:` line.
    text: String,
    domain_len: usize,
    name_len: usize,
    /// Where `name[:tag]` ends.
    tag_end: usize,
}

impl Reference {
    /// `reference.ParseNormalizedNamed` of containers/image v5.25.
    pub fn parse_normalized(s: &str) -> Result<Self, ReferenceError> {
        if s.is_empty() {
            return Err(ReferenceError::Empty);
        }
        if s.len() == 64 && s.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')) {
            return Err(ReferenceError::ImageId(s.to_owned()));
        }
        let (domain, library_prefix, remainder) = split_docker_domain(s);
        let remote_name = remainder.split(':').next().unwrap_or_default();
        if has_uppercase(remote_name) {
            return Err(classify_failure(s).unwrap_or_else(|| ReferenceError::Uppercase(s.to_owned())));
        }
        let mut full = String::with_capacity(domain.len() + 1 + library_prefix.len() + remainder.len());
        for part in [domain, "/", library_prefix, remainder] {
            full.push_str(part);
        }
        parse_full(full, s)
    }

    /// The full repository name, e.g. `docker.io/library/nginx`.
    pub fn name(&self) -> &str {
        &self.text[..self.name_len]
    }

    /// The registry host, e.g. `docker.io` (empty when the first component is not a valid host).
    pub fn domain(&self) -> &str {
        &self.text[..self.domain_len]
    }

    /// The repository path inside the registry, e.g. `library/nginx`.
    pub fn path(&self) -> &str {
        match self.domain_len {
            0 => self.name(),
            n => &self.text[n + 1..self.name_len],
        }
    }

    pub fn tag(&self) -> Option<&str> {
        (self.tag_end > self.name_len).then(|| &self.text[self.name_len + 1..self.tag_end])
    }

    pub fn digest(&self) -> Option<&str> {
        (self.text.len() > self.tag_end).then(|| &self.text[self.tag_end + 1..])
    }

    /// The form sealos's line scan produces: `name:tag` when tagged (a digest beside the tag is
    /// dropped), `name@digest` when only digested, bare `name` otherwise (no `:latest` added).
    pub fn as_str(&self) -> &str {
        match self.tag() {
            Some(_) => &self.text[..self.tag_end],
            None => &self.text,
        }
    }
}

/// [`Reference::as_str`].
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where `sealos build` stores an image inside `registry/`, and what it pulls to get it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryPath {
    /// Repository and tag (or digest) with the registry domain removed: `library/nginx:1.25`.
    pub path: String,
    /// The normalised source the copy comes from, e.g. `docker.io/library/nginx:1.25`. Two
    /// images with the same `path` but different `pulled_from` overwrite each other.
    pub pulled_from: String,
}

/// The path an image from the merged list (charts, manifests, `images/shim`) gets in
/// `registry/` (sealos `ImageNameToReference` + `RegistryToImage`). An error here fails the build.
pub fn registry_path(image: &str) -> Result<RegistryPath, ReferenceError> {
    if let Some(rest) = image.strip_prefix("docker-daemon:") {
        return local_transport_path(image, rest, LocalTransport::DockerDaemon);
    }
    if let Some(rest) = image.strip_prefix("containers-storage:") {
        return local_transport_path(image, rest, LocalTransport::ContainersStorage);
    }
    let ggcr = parse_ggcr(image)?;
    // go-containerregistry writes Docker Hub as index.docker.io; containers/image then parses
    // `docker://<that>` and rewrites it to docker.io.
    let reparsed = Reference::parse_normalized(&ggcr).map_err(|e| e.in_context_of(image))?;
    let pulled_from = with_default_tag(&reparsed);
    let path = strip_registry_domain(&pulled_from).ok_or_else(|| invalid(image, Problem::NoRepositoryAfterDomain))?;
    Ok(RegistryPath { path, pulled_from })
}

/// The path a `images/skopeo/tar.txt` destination (`library/foo`, `calico/cni:v3`) gets in
/// `registry/`: sealos parses `docker://127.0.0.1:<port>/<dest>`, which adds `:latest`.
pub fn archive_destination_path(destination: &str) -> Result<String, ReferenceError> {
    let full = format!("{LOCAL_REGISTRY}/{destination}");
    let reference = Reference::parse_normalized(&full).map_err(|e| e.in_context_of(destination))?;
    strip_registry_domain(&with_default_tag(&reference))
        .ok_or_else(|| invalid(destination, Problem::NoRepositoryAfterDomain))
}

/// Why a reference was rejected. The messages are for users; the decision itself is exactly
/// the one containers/image or go-containerregistry make.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    #[error("the image reference is empty")]
    Empty,
    #[error("`{}` is a 64-character hexadecimal image ID, not an image name", Escaped(.0))]
    ImageId(String),
    #[error("uppercase letters are not allowed in repository names: `{}`", Escaped(.0))]
    Uppercase(String),
    #[error("the repository name in `{}` is longer than 255 characters", Escaped(.0))]
    NameTooLong(String),
    #[error("`{}` is not a valid image reference: {problem}", Escaped(reference))]
    Invalid { reference: String, problem: Problem },
}

impl ReferenceError {
    /// Errors from a re-parse name the string the user wrote, not the intermediate form.
    fn in_context_of(self, original: &str) -> Self {
        let original = original.to_owned();
        match self {
            Self::Empty => self,
            Self::ImageId(_) => Self::ImageId(original),
            Self::Uppercase(_) => Self::Uppercase(original),
            Self::NameTooLong(_) => Self::NameTooLong(original),
            Self::Invalid { problem, .. } => Self::Invalid { reference: original, problem },
        }
    }
}

/// Text from a list file shown in a message: control characters are written as escapes
/// (`\u{1b}`), so a line cannot move the cursor or recolour the terminal it is printed on.
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// The first control character of `text` (tabs included), if any.
pub fn control_character(text: &str) -> Option<char> {
    text.chars().find(|c| c.is_control())
}

/// The specific reason behind [`ReferenceError::Invalid`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    ControlCharacter,
    TemplateSyntax,
    ShellVariable,
    InlineComment,
    Whitespace,
    NonAscii,
    InvalidTag,
    InvalidDigest,
    UnsupportedDigestAlgorithm,
    InvalidRepositoryPath,
    InvalidRegistryHost,
    RepositoryTooShort,
    NoRepositoryAfterDomain,
    DaemonNeedsTagOrDigest,
    TagAndDigestUnsupported,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ControlCharacter => "it contains a control character (shown escaped), which no image name can hold",
            Self::TemplateSyntax => "template syntax (`{{ … }}`) is not rendered, the text is read as is",
            Self::ShellVariable => "variables such as `${VAR}` are not expanded, the text is read as is",
            Self::InlineComment => "the `#` comment after the reference is read as part of it",
            Self::Whitespace => "it contains whitespace",
            Self::NonAscii => "only ASCII letters, digits and `._-/:@` are allowed",
            Self::InvalidTag => "a tag is 1 to 128 of `A-Za-z0-9_.-` and cannot start with `.` or `-`",
            Self::InvalidDigest => "a digest is `algorithm:hex`, and a sha256 digest has exactly 64 lowercase hex digits",
            Self::UnsupportedDigestAlgorithm => "sealos can only pull images by sha256 digest",
            Self::InvalidRepositoryPath => "path components are lowercase letters and digits joined by `.`, `_`, `__` or dashes",
            Self::InvalidRegistryHost => "the registry host is not a valid host[:port]",
            Self::RepositoryTooShort => "the repository name must be at least 2 characters",
            Self::NoRepositoryAfterDomain => "sealos removes the first path component as the registry only when it contains `.` or `:`, so `localhost/…` leaves an empty repository",
            Self::DaemonNeedsTagOrDigest => "a `docker-daemon:` reference needs a tag or a digest",
            Self::TagAndDigestUnsupported => "a `docker-daemon:` reference cannot have both a tag and a digest",
        })
    }
}

fn invalid(reference: &str, problem: Problem) -> ReferenceError {
    ReferenceError::Invalid { reference: reference.to_owned(), problem }
}

/// `reference.SplitDockerDomain`: the first component is a registry only if it contains `.` or
/// `:` or is exactly `localhost`. Returns the domain, the `library/` prefix Docker Hub's official
/// images get (or ""), and the rest.
fn split_docker_domain(name: &str) -> (&str, &'static str, &str) {
    let (mut domain, remainder) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => (first, rest),
        _ => (DEFAULT_DOMAIN, name),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN;
    }
    let library_prefix = if domain == DEFAULT_DOMAIN && !remainder.contains('/') { OFFICIAL_REPO_PREFIX } else { "" };
    (domain, library_prefix, remainder)
}

/// Go's `strings.ToLower(s) != s`.
fn has_uppercase(s: &str) -> bool {
    if s.is_ascii() {
        return s.bytes().any(|b| b.is_ascii_uppercase());
    }
    s.chars().any(|c| {
        let mut lower = c.to_lowercase();
        !(lower.next() == Some(c) && lower.next().is_none())
    })
}

/// `reference.Parse` on the normalised string: the anchored `ReferenceRegexp`
/// `^(name)(?::(tag))?(?:@(digest))?$`, then the name length limit and `digest.Parse`.
fn parse_full(s: String, original: &str) -> Result<Reference, ReferenceError> {
    let parts = match match_reference(&s) {
        Ok(parts) => parts,
        Err(problem) => {
            let fallback = if match_reference(&s.to_lowercase()).is_ok() {
                ReferenceError::Uppercase(original.to_owned())
            } else {
                invalid(original, problem)
            };
            return Err(classify_failure(original).unwrap_or(fallback));
        }
    };
    if parts.name.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(ReferenceError::NameTooLong(original.to_owned()));
    }
    if let Some(digest) = parts.digest {
        validate_digest(digest).map_err(|problem| invalid(original, problem))?;
    }
    // The regex is anchored: `s` is exactly `name[:tag][@digest]`.
    let name_len = parts.name.len();
    let tag_end = parts.tag.map_or(name_len, |tag| name_len + 1 + tag.len());
    let domain_len = parts.domain_len;
    Ok(Reference { text: s, domain_len, name_len, tag_end })
}

struct ReferenceParts<'a> {
    name: &'a str,
    domain_len: usize,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Matches `ReferenceRegexp`, or says which part does not. Neither the name nor the tag can
/// contain `@`, and a `:` in the name is always followed by a `/`, so the split below is the only
/// one the regex can make.
fn match_reference(s: &str) -> Result<ReferenceParts<'_>, Problem> {
    let (left, digest) = match s.split_once('@') {
        Some((left, digest)) => (left, Some(digest)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest_pattern(d)) {
        return Err(Problem::InvalidDigest);
    }
    let (name, tag) = match left.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (left, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return Err(Problem::InvalidTag);
    }
    let Some(domain_len) = match_name(name) else {
        return Err(match name.split_once('/') {
            Some((first, _)) if first.contains(['.', ':']) && !is_domain(first) => Problem::InvalidRegistryHost,
            _ => Problem::InvalidRepositoryPath,
        });
    };
    Ok(ReferenceParts { name, domain_len, tag, digest })
}

/// `NameRegexp`: `(domain/)?component(/component)*`. Returns the length of the domain part the
/// anchored name regex captures (0 when it matches as a path only).
fn match_name(name: &str) -> Option<usize> {
    let (first, rest) = match name.split_once('/') {
        Some((first, rest)) => (first, Some(rest)),
        None => (name, None),
    };
    let rest_is_path = rest.is_none_or(|rest| rest.split('/').all(is_path_component));
    if let Some(rest) = rest {
        if is_domain(first) && rest.split('/').all(is_path_component) {
            return Some(first.len());
        }
    }
    (is_path_component(first) && rest_is_path).then_some(0)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`.
fn is_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(&bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(&bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let valid = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !valid {
            return false;
        }
    }
    true
}

/// `domainComponent(\.domainComponent)*(:[0-9]+)?` (no IPv6 in containers/image v5.25).
fn is_domain(domain: &str) -> bool {
    let host = match domain.split_once(':') {
        Some((host, port)) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return false;
            }
            host
        }
        None => domain,
    };
    host.split('.').all(|label| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    })
}

/// `[\w][\w.-]{0,127}`.
fn is_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`.
fn is_digest_pattern(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['-', '_', '+', '.']).all(|part| {
        let bytes = part.as_bytes();
        bytes.first().is_some_and(u8::is_ascii_alphabetic) && bytes.iter().all(u8::is_ascii_alphanumeric)
    });
    algorithm_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `digest.Parse` of go-digest: sha256, sha384 and sha512 are linked into sealos; their hex
/// part must have the exact length and be lowercase.
fn validate_digest(digest: &str) -> Result<(), Problem> {
    let (algorithm, hex) = digest.split_once(':').ok_or(Problem::InvalidDigest)?;
    let expected_len = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return Err(Problem::UnsupportedDigestAlgorithm),
    };
    if hex.len() == expected_len && hex.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')) {
        Ok(())
    } else {
        Err(Problem::InvalidDigest)
    }
}

/// The mistakes people actually make in manifests, named so the message helps. Only used to
/// explain a rejection the grammar already made; never to accept or reject.
fn classify_failure(original: &str) -> Option<ReferenceError> {
    let problem = if original.chars().any(|c| c.is_control() && c != '\t') {
        Problem::ControlCharacter
    } else if original.contains("{{") || original.contains("}}") {
        Problem::TemplateSyntax
    } else if original.contains('$') {
        Problem::ShellVariable
    } else if original.contains(" #") || original.contains("\t#") {
        Problem::InlineComment
    } else if original.chars().any(char::is_whitespace) {
        Problem::Whitespace
    } else if !original.is_ascii() {
        Problem::NonAscii
    } else {
        return None;
    };
    Some(invalid(original, problem))
}

/// `reference.TagNameOnly(ref).String()`: `:latest` when neither tag nor digest is present, and
/// both of them when both are.
fn with_default_tag(reference: &Reference) -> String {
    match (reference.tag(), reference.digest()) {
        (None, None) => format!("{}:{DEFAULT_TAG}", reference.name()),
        _ => reference.text.clone(),
    }
}

/// sealos `RegistryToImage`: everything after the first `/`, if the part before it contains
/// `.` or `:`.
fn strip_registry_domain(full: &str) -> Option<String> {
    match full.split_once('/') {
        Some((domain, repo)) if domain.contains(['.', ':']) => Some(repo.to_owned()),
        _ => None,
    }
}

/// go-containerregistry v0.15 `name.ParseReference` with default (weak) validation, returning
/// `Name()`: `<registry>/<repository>:<tag>` or `<registry>/<repository>@<digest>`.
fn parse_ggcr(image: &str) -> Result<String, ReferenceError> {
    if let Ok((repository, tag)) = ggcr_tag(image) {
        return Ok(format!("{repository}:{tag}"));
    }
    let digest_error = match ggcr_digest(image) {
        Ok((repository, digest)) => return Ok(format!("{repository}@{digest}")),
        Err(problem) => problem,
    };
    // Report what the user most likely got wrong: the tag form unless there is an `@`.
    let problem = if image.contains('@') {
        digest_error
    } else {
        ggcr_tag(image).err().unwrap_or(Problem::InvalidRepositoryPath)
    };
    Err(classify_failure(image).unwrap_or_else(|| invalid(image, problem)))
}

/// `name.NewTag` with weak validation: returns (`Repository.Name()`, tag with `latest` as
/// default). The tag is only checked when it is not empty, so `repo:` is `repo:latest`.
fn ggcr_tag(name: &str) -> Result<(String, String), Problem> {
    let (base, tag) = match name.rsplit_once(':') {
        Some((base, tag)) if !tag.contains('/') => (base, tag),
        _ => (name, ""),
    };
    if !tag.is_empty() && !ggcr_check_element(tag, TAG_CHARS, 1, 128) {
        return Err(Problem::InvalidTag);
    }
    let repository = ggcr_repository(base)?;
    let tag = if tag.is_empty() { DEFAULT_TAG } else { tag };
    Ok((repository, tag.to_owned()))
}

/// `name.NewDigest`: exactly one `@`, sha256 only; a tag in front of it is dropped.
fn ggcr_digest(name: &str) -> Result<(String, String), Problem> {
    let mut parts = name.split('@');
    let (Some(base), Some(digest), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Problem::InvalidDigest);
    };
    let hex = digest.strip_prefix("sha256:").ok_or(Problem::UnsupportedDigestAlgorithm)?;
    if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'a'..=b'f' | b'0'..=b'9')) {
        return Err(Problem::InvalidDigest);
    }
    let repository = match ggcr_tag(base) {
        Ok((repository, _)) => repository,
        Err(_) => ggcr_repository(base)?,
    };
    Ok((repository, digest.to_owned()))
}

const REPOSITORY_CHARS: &str = "abcdefghijklmnopqrstuvwxyz0123456789_-./";
const TAG_CHARS: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.";

fn ggcr_check_element(element: &str, allowed: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&element.len()) && element.chars().all(|c| allowed.contains(c))
}

/// `name.NewRepository` + `Repository.Name()`: the registry is the first component only if it
/// contains `.` or `:` (no `localhost` rule); Docker Hub gets `index.docker.io` and `library/`.
fn ggcr_repository(name: &str) -> Result<String, Problem> {
    let (registry, repository) = match name.split_once('/') {
        Some((first, rest)) if first.contains(['.', ':']) => (first, rest),
        _ => ("", name),
    };
    if repository.len() < 2 {
        return Err(Problem::RepositoryTooShort);
    }
    if !ggcr_check_element(repository, REPOSITORY_CHARS, 2, 255) {
        return Err(Problem::InvalidRepositoryPath);
    }
    if !is_uri_authority(registry) {
        return Err(Problem::InvalidRegistryHost);
    }
    let registry = match registry {
        "" | "docker.io" => LEGACY_DEFAULT_DOMAIN,
        other => other,
    };
    let repository = if registry == LEGACY_DEFAULT_DOMAIN && !repository.contains('/') {
        format!("{OFFICIAL_REPO_PREFIX}{repository}")
    } else {
        repository.to_owned()
    };
    Ok(format!("{registry}/{repository}"))
}

/// go-containerregistry checks that `url.Parse("//" + registry).Host == registry`; this accepts
/// the same practical set: host characters Go leaves unescaped and an all-digit port.
fn is_uri_authority(registry: &str) -> bool {
    let host_char = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=[]".contains(c);
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !registry.ends_with(']') => (host, Some(port)),
        _ => (registry, None),
    };
    host.chars().all(|c| host_char(c) || c == ':') && port.is_none_or(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[derive(Clone, Copy)]
enum LocalTransport {
    DockerDaemon,
    ContainersStorage,
}

/// `docker-daemon:` and `containers-storage:` images are read from the local daemon or storage
/// (which this tool cannot see); their registry path still follows from the reference.
fn local_transport_path(
    image: &str,
    reference: &str,
    transport: LocalTransport,
) -> Result<RegistryPath, ReferenceError> {
    let reference = match transport {
        // A `[driver@root+runroot]` store specifier may precede the name.
        LocalTransport::ContainersStorage => match reference.strip_prefix('[') {
            Some(rest) => rest.split_once(']').map_or(reference, |(_, name)| name),
            None => reference,
        },
        LocalTransport::DockerDaemon => reference,
    };
    let parsed = Reference::parse_normalized(reference).map_err(|e| e.in_context_of(image))?;
    if let LocalTransport::DockerDaemon = transport {
        match (parsed.tag(), parsed.digest()) {
            (None, None) => return Err(invalid(image, Problem::DaemonNeedsTagOrDigest)),
            (Some(_), Some(_)) => return Err(invalid(image, Problem::TagAndDigestUnsupported)),
            _ => {}
        }
    }
    let source = with_default_tag(&parsed);
    let path = strip_registry_domain(&source).ok_or_else(|| invalid(image, Problem::NoRepositoryAfterDomain))?;
    let prefix = match transport {
        LocalTransport::DockerDaemon => "docker-daemon:",
        LocalTransport::ContainersStorage => "containers-storage:",
    };
    Ok(RegistryPath { path, pulled_from: format!("{prefix}{source}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";

    fn normalized(s: &str) -> String {
        Reference::parse_normalized(s).unwrap_or_else(|e| panic!("{s}: {e}")).to_string()
    }

    fn rejected(s: &str) -> ReferenceError {
        Reference::parse_normalized(s).expect_err(s)
    }

    fn path(s: &str) -> String {
        registry_path(s).unwrap_or_else(|e| panic!("{s}: {e}")).path
    }

    #[test]
    fn docker_hub_short_name_gets_domain_and_library_prefix() {
        assert_eq!(normalized("nginx:1.25"), "docker.io/library/nginx:1.25");
        assert_eq!(normalized("bitnami/redis:7"), "docker.io/bitnami/redis:7");
        assert_eq!(normalized("library/foo/bar"), "docker.io/library/foo/bar");
    }

    #[test]
    fn index_docker_io_becomes_docker_io() {
        assert_eq!(normalized("index.docker.io/nginx"), "docker.io/library/nginx");
        assert_eq!(normalized("index.docker.io/a/b:1"), "docker.io/a/b:1");
    }

    #[test]
    fn first_component_is_a_domain_only_with_dot_colon_or_localhost() {
        let cases = [
            ("quay.io/cilium/cilium:v1.12.0", "quay.io"),
            ("myhost:5000/app", "myhost:5000"),
            ("localhost/app", "localhost"),
            ("docker/migrator", "docker.io"),
            ("test_com/foo", "docker.io"),
        ];
        for (input, domain) in cases {
            let reference = Reference::parse_normalized(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(reference.domain(), domain, "{input}");
        }
    }

    #[test]
    fn uppercase_in_repository_is_an_error_with_a_readable_message() {
        let error = rejected("bitnami/Redis:7");
        assert_eq!(error, ReferenceError::Uppercase("bitnami/Redis:7".into()));
        assert_eq!(error.to_string(), "uppercase letters are not allowed in repository names: `bitnami/Redis:7`");
    }

    #[test]
    fn uppercase_first_component_is_not_a_domain_in_the_pinned_containers_image() {
        // Newer containers/image treats `LOCALDOMAIN/x` as a registry; v5.25 does not.
        assert_eq!(rejected("LOCALDOMAIN/debian"), ReferenceError::Uppercase("LOCALDOMAIN/debian".into()));
    }

    #[test]
    fn uppercase_registry_host_is_allowed() {
        assert_eq!(normalized("Quay.IO/a/b:1"), "Quay.IO/a/b:1");
    }

    #[test]
    fn uppercase_tag_is_allowed() {
        assert_eq!(normalized("nginx:V1.0-RC"), "docker.io/library/nginx:V1.0-RC");
    }

    #[test]
    fn tag_grammar_is_word_start_then_128_chars_at_most() {
        assert!(Reference::parse_normalized("nginx:_x.y-z").is_ok());
        assert!(Reference::parse_normalized("nginx:.x").is_err());
        assert!(Reference::parse_normalized("nginx:-x").is_err());
        assert!(Reference::parse_normalized(&format!("nginx:{}", "a".repeat(128))).is_ok());
        assert!(Reference::parse_normalized(&format!("nginx:{}", "a".repeat(129))).is_err());
        assert!(Reference::parse_normalized("nginx:").is_err());
    }

    #[test]
    fn tag_and_digest_keeps_tag_and_drops_digest() {
        assert_eq!(normalized(&format!("busybox:1.36@{SHA}")), "docker.io/library/busybox:1.36");
    }

    #[test]
    fn digest_only_reference_keeps_the_digest() {
        assert_eq!(normalized(&format!("busybox@{SHA}")), format!("docker.io/library/busybox@{SHA}"));
    }

    #[test]
    fn untagged_reference_stays_untagged() {
        assert_eq!(normalized("nginx"), "docker.io/library/nginx");
    }

    #[test]
    fn sha256_digest_needs_64_lowercase_hex_digits() {
        assert!(Reference::parse_normalized(&format!("busybox@{}", &SHA[..SHA.len() - 1])).is_err());
        assert!(Reference::parse_normalized(&format!("busybox@{}", SHA.to_uppercase().replace("SHA", "sha"))).is_err());
    }

    #[test]
    fn unknown_digest_algorithm_is_rejected() {
        let error = rejected(&format!("busybox@md5:{}", "a".repeat(32)));
        assert!(
            matches!(error, ReferenceError::Invalid { problem: Problem::UnsupportedDigestAlgorithm, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn sha512_digest_parses_in_the_line_scan() {
        assert!(Reference::parse_normalized(&format!("busybox@sha512:{}", "a".repeat(128))).is_ok());
    }

    #[test]
    fn sixty_four_hex_chars_are_an_image_id() {
        let id = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
        assert_eq!(rejected(id), ReferenceError::ImageId(id.into()));
        assert!(Reference::parse_normalized(&format!("docker.io/{id}")).is_ok());
    }

    #[test]
    fn path_component_separators_follow_the_grammar() {
        for valid in ["docker---rules/docker", "dock__er/docker", "a.b/c_d", "d/docker", "jess/t"] {
            assert!(Reference::parse_normalized(valid).is_ok(), "{valid}");
        }
        for bad in [
            "-docker/docker",
            "docker-/docker",
            "____/____",
            "dock..er/docker",
            "dock_.er/docker",
            "dock-.er/docker",
            "docker/",
            "docker///docker",
            "a___b",
        ] {
            assert!(Reference::parse_normalized(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ipv6_registry_is_not_supported_by_the_pinned_containers_image() {
        assert!(Reference::parse_normalized("[fc00::1]:5000/docker").is_err());
    }

    #[test]
    fn name_longer_than_255_characters_is_rejected() {
        let name = format!("a/{}", "b".repeat(250));
        assert!(matches!(rejected(&name), ReferenceError::NameTooLong(_)));
    }

    #[test]
    fn trailing_comment_is_explained() {
        let error = rejected("nginx:1.25 # pinned");
        assert!(matches!(error, ReferenceError::Invalid { problem: Problem::InlineComment, .. }), "{error:?}");
    }

    #[test]
    fn template_expression_is_explained_before_uppercase() {
        let error = rejected("{{ .Values.image }}");
        assert!(matches!(error, ReferenceError::Invalid { problem: Problem::TemplateSyntax, .. }), "{error:?}");
    }

    #[test]
    fn shell_variable_is_explained() {
        let error = rejected("${REGISTRY}/app:1");
        assert!(matches!(error, ReferenceError::Invalid { problem: Problem::ShellVariable, .. }), "{error:?}");
    }

    #[test]
    fn no_input_panics() {
        let inputs = [
            "",
            ":",
            "@",
            "/",
            "//",
            "a@",
            "@a",
            "a:",
            ":a",
            "a/:b",
            "\u{0}",
            "\u{7f}x",
            "é",
            "a\u{301}",
            "ﬀ",
            "İstanbul/x",
            "a@b@c",
            "a:b:c",
            "[",
            "]",
            "a/[",
            "x:5000",
            "x:5000/",
            "\n",
            "a\tb",
        ];
        for input in inputs {
            let _ = Reference::parse_normalized(input);
            let _ = registry_path(input);
            let _ = archive_destination_path(input);
        }
        let huge = "a".repeat(1 << 20);
        assert!(Reference::parse_normalized(&huge).is_err());
        assert!(registry_path(&huge).is_err());
        let control: String = (0u8..=127).map(char::from).collect();
        let _ = Reference::parse_normalized(&control);
        let _ = registry_path(&control);
    }

    #[test]
    fn control_characters_are_named_and_shown_escaped() {
        let error = registry_path("nginx\u{1b}[31m:1").unwrap_err();
        assert!(matches!(error, ReferenceError::Invalid { problem: Problem::ControlCharacter, .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "`nginx\\u{1b}[31m:1` is not a valid image reference: it contains a control character (shown escaped), which no image name can hold"
        );
        assert!(matches!(rejected("a\u{0}b"), ReferenceError::Invalid { problem: Problem::ControlCharacter, .. }));
        assert_eq!(control_character("ok\tx"), Some('\t'));
        assert_eq!(control_character("nginx:1"), None);
    }

    #[test]
    fn registry_path_strips_the_domain_and_defaults_the_tag() {
        assert_eq!(path("docker.io/library/nginx:1.25"), "library/nginx:1.25");
        assert_eq!(path("quay.io/cilium/cilium:v1.12.0"), "cilium/cilium:v1.12.0");
        assert_eq!(path("registry.k8s.io/pause:3.9"), "pause:3.9");
        assert_eq!(path("docker.io/library/nginx"), "library/nginx:latest");
        assert_eq!(path("nginx"), "library/nginx:latest");
    }

    #[test]
    fn registry_path_keeps_digest_references() {
        assert_eq!(path(&format!("docker.io/library/busybox@{SHA}")), format!("library/busybox@{SHA}"));
    }

    #[test]
    fn registry_path_of_tag_and_digest_keeps_only_the_digest() {
        assert_eq!(path(&format!("busybox:1.36@{SHA}")), format!("library/busybox@{SHA}"));
    }

    #[test]
    fn registry_path_pulls_docker_hub_through_docker_io() {
        let saved = registry_path("nginx:1").unwrap();
        assert_eq!(saved.pulled_from, "docker.io/library/nginx:1");
    }

    #[test]
    fn registry_path_has_no_localhost_rule_so_localhost_is_a_docker_hub_namespace() {
        let saved = registry_path("localhost/app:1").unwrap();
        assert_eq!(saved.path, "localhost/app:1");
        assert_eq!(saved.pulled_from, "docker.io/localhost/app:1");
    }

    #[test]
    fn registry_path_rejects_sha512_digests() {
        let error = registry_path(&format!("busybox@sha512:{}", "a".repeat(128))).unwrap_err();
        assert!(
            matches!(error, ReferenceError::Invalid { problem: Problem::UnsupportedDigestAlgorithm, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn registry_path_rejects_one_character_repository() {
        let error = registry_path("a").unwrap_err();
        assert!(matches!(error, ReferenceError::Invalid { problem: Problem::RepositoryTooShort, .. }), "{error:?}");
    }

    #[test]
    fn registry_path_rejects_inline_comment_in_shim_line() {
        let error = registry_path("nginx:1.25 # web").unwrap_err();
        assert!(matches!(error, ReferenceError::Invalid { problem: Problem::InlineComment, .. }), "{error:?}");
    }

    #[test]
    fn registry_path_reads_an_empty_tag_as_latest_like_go_containerregistry() {
        assert_eq!(path("rancher/harvester-csi-driver:"), "rancher/harvester-csi-driver:latest");
        assert_eq!(path("quay.io/a/b:"), "a/b:latest");
        assert_eq!(path(&format!("busybox:@{SHA}")), format!("library/busybox@{SHA}"));
        assert!(registry_path("nginx::").is_err());
        assert!(registry_path(":").is_err());
        // The line scan (containers/image) still rejects it.
        assert!(Reference::parse_normalized("nginx:").is_err());
    }

    #[test]
    fn registry_path_rejects_tag_that_go_containerregistry_accepts_but_containers_image_does_not() {
        assert!(registry_path("nginx:.hidden").is_err());
    }

    #[test]
    fn containers_storage_prefix_is_read_from_local_storage_with_latest_default() {
        let saved = registry_path("containers-storage:quay.io/app/web").unwrap();
        assert_eq!(saved.path, "app/web:latest");
        assert_eq!(saved.pulled_from, "containers-storage:quay.io/app/web:latest");
        assert_eq!(registry_path("containers-storage:[overlay@/var/lib/c]docker.io/a/b:1").unwrap().path, "a/b:1");
    }

    #[test]
    fn containers_storage_localhost_image_leaves_an_empty_repository() {
        let error = registry_path("containers-storage:localhost/web:1").unwrap_err();
        assert!(
            matches!(error, ReferenceError::Invalid { problem: Problem::NoRepositoryAfterDomain, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn docker_daemon_prefix_needs_a_tag_or_digest() {
        assert_eq!(registry_path("docker-daemon:nginx:1.25").unwrap().path, "library/nginx:1.25");
        let error = registry_path("docker-daemon:nginx").unwrap_err();
        assert!(matches!(error, ReferenceError::Invalid { problem: Problem::DaemonNeedsTagOrDigest, .. }), "{error:?}");
    }

    #[test]
    fn archive_destination_gets_latest_and_no_library_prefix() {
        assert_eq!(archive_destination_path("library/config_main").unwrap(), "library/config_main:latest");
        assert_eq!(archive_destination_path("calico/cni:v3.20.0").unwrap(), "calico/cni:v3.20.0");
        assert_eq!(archive_destination_path("busybox").unwrap(), "busybox:latest");
        assert!(archive_destination_path("Calico/cni").is_err());
    }
}
