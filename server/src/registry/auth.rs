//! Registry credentials from the files Docker and the containers tools (podman, skopeo,
//! buildah, `sealos login`) write.
//!
//! Search order without `--authfile` (containers/image `pkg/docker/config`):
//! `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
//! `$XDG_CONFIG_HOME/containers/auth.json` (`~/.config/…`), then Docker's
//! `$DOCKER_CONFIG/config.json` (`~/.docker/config.json`). The first file with an entry for the
//! registry wins. With `--authfile F` only `F` is read. In each file: `credHelpers` for the
//! registry, then `auths` (most specific `registry/namespace` key first), then `credsStore`.
//!
//! Secrets live only in [`Secret`], whose `Debug`/`Display` print `<redacted>`.

use std::{
    collections::BTreeMap,
    fmt,
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use base64::Engine as _;
use serde::Deserialize;

/// A password or token. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where credentials come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AuthSource {
    /// The standard files (see the module documentation).
    #[default]
    Default,
    /// Only this file (`--authfile`), in containers `auth.json` or Docker `config.json` format.
    File(PathBuf),
    /// No credentials at all.
    Anonymous,
}

/// A username and password for one registry, and where they were found (for error messages).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub username: String,
    pub password: Secret,
    /// The file (or `credential helper docker-credential-X`) the entry came from.
    pub origin: String,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("password", &self.password)
            .field("origin", &self.origin)
            .finish()
    }
}

#[derive(Debug, Default, Deserialize)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// Credentials for the registries of one save.
#[derive(Debug, Default)]
pub struct CredentialStore {
    files: Vec<(PathBuf, AuthFile)>,
    /// Files that exist but could not be read or parsed (reported as warnings).
    pub warnings: Vec<String>,
}

/// Why `--authfile` could not be used.
#[derive(Debug, thiserror::Error)]
#[error("cannot read auth file {}: {message}", path.display())]
pub struct AuthFileError {
    pub path: PathBuf,
    pub message: String,
}

impl CredentialStore {
    pub fn load(source: &AuthSource) -> Result<Self, AuthFileError> {
        let mut store = Self::default();
        match source {
            AuthSource::Anonymous => {}
            AuthSource::File(path) => {
                let file = read_auth_file(path).map_err(|message| AuthFileError {
                    path: path.clone(),
                    message,
                })?;
                store.files.push((path.clone(), file));
            }
            AuthSource::Default => {
                for path in default_auth_files() {
                    if !path.is_file() {
                        continue;
                    }
                    match read_auth_file(&path) {
                        Ok(file) => store.files.push((path, file)),
                        Err(message) => store
                            .warnings
                            .push(format!("ignoring auth file {}: {message}", path.display())),
                    }
                }
            }
        }
        Ok(store)
    }

    /// Files that were read, in search order (for "no credentials in …" messages).
    pub fn searched(&self) -> Vec<&Path> {
        self.files.iter().map(|(p, _)| p.as_path()).collect()
    }

    /// The credential for `repository` (`library/nginx`) on `registry` (`docker.io`,
    /// `quay.io`, `127.0.0.1:5000`), if any file has one.
    pub fn lookup(&self, registry: &str, repository: &str) -> Result<Option<Credential>, String> {
        for (path, file) in &self.files {
            if let Some(helper) = file.cred_helpers.get(registry).or_else(|| {
                docker_hub_aliases(registry)
                    .iter()
                    .find_map(|alias| file.cred_helpers.get(*alias))
            }) {
                if let Some(credential) = run_helper(helper, registry)? {
                    return Ok(Some(credential));
                }
            }
            if let Some(entry) = best_entry(&file.auths, registry, repository) {
                if let Some(credential) = entry_credential(entry, path)? {
                    return Ok(Some(credential));
                }
            }
            if let Some(helper) = &file.creds_store {
                if let Some(credential) = run_helper(helper, registry)? {
                    return Ok(Some(credential));
                }
            }
        }
        Ok(None)
    }
}

fn default_auth_files() -> Vec<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let home = env("HOME");
    let mut files = Vec::new();
    if let Some(path) = env("REGISTRY_AUTH_FILE") {
        files.push(path);
    }
    if let Some(runtime) = env("XDG_RUNTIME_DIR") {
        files.push(runtime.join("containers/auth.json"));
    }
    match (env("XDG_CONFIG_HOME"), &home) {
        (Some(config), _) => files.push(config.join("containers/auth.json")),
        (None, Some(home)) => files.push(home.join(".config/containers/auth.json")),
        _ => {}
    }
    match (env("DOCKER_CONFIG"), &home) {
        (Some(dir), _) => files.push(dir.join("config.json")),
        (None, Some(home)) => files.push(home.join(".docker/config.json")),
        _ => {}
    }
    files
}

fn read_auth_file(path: &Path) -> Result<AuthFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if text.trim().is_empty() {
        return Ok(AuthFile::default());
    }
    // Never echo the file content: serde_json errors carry only line and column.
    serde_json::from_str(&text)
        .map_err(|e| format!("not valid JSON (line {}, column {})", e.line(), e.column()))
}

fn docker_hub_aliases(registry: &str) -> &'static [&'static str] {
    match registry {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => &[
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v1/",
        ],
        _ => &[],
    }
}

/// Normalises an `auths` key: no scheme, no `/v1/`/`/v2/` suffix, Docker Hub as `docker.io`.
fn normalize_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let key = key.trim_end_matches('/');
    let key = key
        .strip_suffix("/v1")
        .or_else(|| key.strip_suffix("/v2"))
        .unwrap_or(key);
    let (host, rest) = match key.split_once('/') {
        Some((host, rest)) => (host, Some(rest)),
        None => (key, None),
    };
    let host = match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        other => other,
    };
    match rest {
        Some(rest) => format!("{host}/{rest}"),
        None => host.to_owned(),
    }
}

/// The entry whose key is the longest prefix (at `/` boundaries) of `registry/repository`.
fn best_entry<'a>(
    auths: &'a BTreeMap<String, AuthEntry>,
    registry: &str,
    repository: &str,
) -> Option<&'a AuthEntry> {
    let registry = normalize_key(registry);
    let full = format!("{registry}/{repository}");
    auths
        .iter()
        .filter_map(|(key, entry)| {
            let key = normalize_key(key);
            let matches = key == registry
                || key == full
                || (full.starts_with(&key) && full.as_bytes().get(key.len()) == Some(&b'/'));
            matches.then_some((key.len(), entry))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, entry)| entry)
}

fn entry_credential(entry: &AuthEntry, path: &Path) -> Result<Option<Credential>, String> {
    let origin = path.display().to_string();
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| format!("the `auth` value in {origin} is not valid base64"))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| format!("the `auth` value in {origin} is not UTF-8"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| format!("the `auth` value in {origin} is not `user:password`"))?;
        return Ok(Some(Credential {
            username: username.to_owned(),
            password: Secret::new(password),
            origin,
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) if !username.is_empty() => Ok(Some(Credential {
            username: username.clone(),
            password: Secret::new(password.clone()),
            origin,
        })),
        _ if entry.identity_token.is_some() => Err(format!(
            "{origin} holds an OAuth identity token for this registry, which is not supported; log in with a username and password"
        )),
        _ => Ok(None),
    }
}

#[derive(Deserialize)]
struct HelperOutput {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// `docker-credential-<helper> get`, server URL on stdin, JSON on stdout.
fn run_helper(helper: &str, registry: &str) -> Result<Option<Credential>, String> {
    let program = format!("docker-credential-{helper}");
    let server = if docker_hub_aliases(registry).is_empty() {
        registry.to_owned()
    } else {
        "https://index.docker.io/v1/".to_owned()
    };
    let mut child = match Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(child) => child,
        Err(error) => return Err(format!("cannot run credential helper {program}: {error}")),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("credential helper {program}: {e}"))?;
    if !output.status.success() {
        // "credentials not found in native keychain" is the normal "no entry" answer.
        return Ok(None);
    }
    let parsed: HelperOutput = serde_json::from_slice(&output.stdout).map_err(|_| {
        format!("credential helper {program} printed something that is not its JSON answer")
    })?;
    if parsed.username == "<token>" {
        return Err(format!(
            "credential helper {program} returned an identity token for {registry}, which is not supported"
        ));
    }
    Ok(Some(Credential {
        username: parsed.username,
        password: Secret::new(parsed.secret),
        origin: format!("credential helper {program}"),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(json: &str) -> (tempfile::TempDir, CredentialStore) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, json).unwrap();
        let store = CredentialStore::load(&AuthSource::File(path)).unwrap();
        (dir, store)
    }

    fn basic(user: &str, pass: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    }

    #[test]
    fn docker_hub_keys_match_every_spelling() {
        let json = format!(
            r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}}}}}}"#,
            basic("u", "p")
        );
        let (_dir, store) = store(&json);
        let credential = store.lookup("docker.io", "library/nginx").unwrap().unwrap();
        assert_eq!(credential.username, "u");
        assert_eq!(credential.password.expose(), "p");
        assert!(store.lookup("quay.io", "a/b").unwrap().is_none());
    }

    #[test]
    fn most_specific_namespace_wins() {
        let json = format!(
            r#"{{"auths":{{"quay.io":{{"auth":"{}"}},"quay.io/org":{{"auth":"{}"}},"quay.io/org/app":{{"username":"c","password":"3"}}}}}}"#,
            basic("a", "1"),
            basic("b", "2")
        );
        let (_dir, store) = store(&json);
        assert_eq!(
            store
                .lookup("quay.io", "org/app")
                .unwrap()
                .unwrap()
                .username,
            "c"
        );
        assert_eq!(
            store
                .lookup("quay.io", "org/other")
                .unwrap()
                .unwrap()
                .username,
            "b"
        );
        assert_eq!(
            store
                .lookup("quay.io", "organisation/x")
                .unwrap()
                .unwrap()
                .username,
            "a"
        );
        assert_eq!(
            store
                .lookup("quay.io", "other/x")
                .unwrap()
                .unwrap()
                .username,
            "a"
        );
    }

    #[test]
    fn ports_are_part_of_the_registry() {
        let json = format!(
            r#"{{"auths":{{"127.0.0.1:5000":{{"auth":"{}"}}}}}}"#,
            basic("u", "p:with:colons")
        );
        let (_dir, store) = store(&json);
        assert_eq!(
            store
                .lookup("127.0.0.1:5000", "x/y")
                .unwrap()
                .unwrap()
                .password
                .expose(),
            "p:with:colons"
        );
        assert!(store.lookup("127.0.0.1:5001", "x/y").unwrap().is_none());
    }

    #[test]
    fn secrets_are_never_printed() {
        let json = format!(
            r#"{{"auths":{{"r.io":{{"auth":"{}"}}}}}}"#,
            basic("user", "hunter2")
        );
        let (_dir, store) = store(&json);
        let credential = store.lookup("r.io", "a").unwrap().unwrap();
        let printed = format!("{credential:?} {}", credential.password);
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("user"));
    }

    #[test]
    fn malformed_file_error_does_not_echo_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        std::fs::write(&path, r#"{"auths": {"r.io": {"auth": "c2VjcmV0"}"#).unwrap();
        let error = CredentialStore::load(&AuthSource::File(path))
            .unwrap_err()
            .to_string();
        assert!(!error.contains("c2VjcmV0"), "{error}");
        assert!(error.contains("not valid JSON"), "{error}");
    }
}
