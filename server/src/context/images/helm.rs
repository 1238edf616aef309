//! Running the real `helm` binary, isolated from the user's Helm and Kubernetes configuration.
//!
//! sealos renders charts with the Helm v3.15 library (`engine.Render`); the closest the CLI gets
//! is `helm template` with release name `dryrun` and `--kube-version 1.20.0` (the library's
//! default capabilities; release binaries default to a newer version). Known differences from
//! the library call, all rare in practice:
//! * `NOTES.txt` is not part of `helm template` output, so images written there are not seen;
//! * sealos renders with an empty namespace, which the CLI cannot express (it falls back to
//!   `default`). `default` makes charts that refuse the default namespace fail (the corpus's
//!   mysql-operator does), so the namespace is `dryrun` instead;
//! * `.Release.IsInstall` is true and `.Release.Revision` 1 (sealos: false and 0);
//! * Helm refuses charts whose `kubeVersion` excludes 1.20.0, charts with missing dependencies
//!   and library charts, and rendered output that is not valid YAML; sealos renders them.

use std::{
    env, fs, io,
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
};

const RELEASE_NAME: &str = "dryrun";
const NAMESPACE: &str = "dryrun";
const KUBE_VERSION: &str = "1.20.0";

/// A helm binary and the empty home directories it runs with.
pub(super) struct Helm {
    binary: PathBuf,
    home: IsolatedHome,
}

/// Why helm produced no output.
#[derive(Debug)]
pub(super) enum HelmFailure {
    /// The binary could not be started.
    Spawn(io::Error),
    /// helm ran and failed; its stderr without the `Error: ` prefix.
    Failed(String),
}

impl Helm {
    /// `explicit` if given, otherwise `helm` on `PATH`.
    pub(super) fn locate(explicit: Option<&Path>) -> Option<PathBuf> {
        match explicit {
            Some(path) => path.is_file().then(|| path.to_path_buf()),
            None => env::var_os("PATH").and_then(|paths| {
                env::split_paths(&paths).map(|dir| dir.join("helm")).find(|candidate| is_executable(candidate))
            }),
        }
    }

    pub(super) fn new(binary: PathBuf) -> io::Result<Self> {
        Ok(Self { binary, home: IsolatedHome::create()? })
    }

    pub(super) fn binary(&self) -> &Path {
        &self.binary
    }

    /// `helm template dryrun <chart> --namespace dryrun --kube-version 1.20.0 [-f <values>]`:
    /// the rendered manifests, hooks and tests.
    pub(super) fn template(&self, chart: &Path, values: Option<&Path>) -> Result<Vec<u8>, HelmFailure> {
        let mut command = self.command();
        command.arg("template").arg(RELEASE_NAME).arg(chart);
        command.arg("--namespace").arg(NAMESPACE).arg("--kube-version").arg(KUBE_VERSION);
        if let Some(values) = values {
            command.arg("-f").arg(values);
        }
        run(command)
    }

    /// No inherited environment: `HELM_NAMESPACE`, `KUBECONFIG`, repositories and plugins of the
    /// user must not change what sealos would render.
    fn command(&self) -> Command {
        let home = &self.home.path;
        let mut command = Command::new(&self.binary);
        command
            .env_clear()
            .env("HOME", home)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", home.join("kubeconfig"))
            .current_dir(home);
        command
    }
}

fn run(mut command: Command) -> Result<Vec<u8>, HelmFailure> {
    let output = command.output().map_err(HelmFailure::Spawn)?;
    if output.status.success() {
        return Ok(output.stdout);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The `--debug` hint is advice for helm users; here nobody can pass the flag.
    let message = stderr
        .lines()
        .map(|line| line.strip_prefix("Error: ").unwrap_or(line))
        .filter(|line| !line.trim().is_empty() && *line != "Use --debug flag to render out invalid YAML")
        .collect::<Vec<_>>()
        .join("\n");
    Err(HelmFailure::Failed(if message.is_empty() { output.status.to_string() } else { message }))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A fresh temporary directory, removed when dropped.
struct IsolatedHome {
    path: PathBuf,
}

impl IsolatedHome {
    fn create() -> io::Result<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let unique = format!("kubefile-ls-helm-{}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let path = env::temp_dir().join(unique);
        // A leftover from a crashed run with the same pid is safe to reuse once emptied.
        let _ = fs::remove_dir_all(&path);
        for sub in ["cache", "config", "data"] {
            fs::create_dir_all(path.join(sub))?;
        }
        Ok(Self { path })
    }
}

impl Drop for IsolatedHome {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// One template's rendered text as `helm template` prints it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct RenderedTemplate {
    /// helm's `# Source:` path: `<chart name>/templates/x.yaml`, subcharts below `<chart>/charts/`.
    pub source: String,
    /// The template's documents joined with `---` lines, as they would read in one file.
    pub content: Vec<u8>,
}

/// Splits `helm template` output (`---\n# Source: <path>\n<document>\n` per document) into
/// templates, in order of first appearance.
pub(super) fn split_rendered(output: &[u8]) -> Vec<RenderedTemplate> {
    const HEADER: &[u8] = b"---\n# Source: ";
    let mut templates: Vec<RenderedTemplate> = Vec::new();
    let mut starts = Vec::new();
    let mut position = 0;
    while position + HEADER.len() <= output.len() {
        let at_line_start = position == 0 || output[position - 1] == b'\n';
        if at_line_start && output[position..].starts_with(HEADER) {
            starts.push(position);
            position += HEADER.len();
        } else {
            position += 1;
        }
    }
    for (index, &start) in starts.iter().enumerate() {
        let end = starts.get(index + 1).copied().unwrap_or(output.len());
        let document = &output[start + HEADER.len()..end];
        let (source, body) = match document.iter().position(|&b| b == b'\n') {
            Some(newline) => (&document[..newline], &document[newline + 1..]),
            None => (document, &[][..]),
        };
        let source = String::from_utf8_lossy(source).into_owned();
        match templates.iter_mut().find(|t| t.source == source) {
            Some(template) => {
                template.content.extend_from_slice(b"---\n");
                template.content.extend_from_slice(body);
            }
            None => templates.push(RenderedTemplate { source, content: body.to_vec() }),
        }
    }
    templates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_output_is_split_per_template_and_documents_of_one_template_are_joined() {
        let output = b"---\n# Source: app/templates/a.yaml\nkind: A\nimage: a:1\n---\n# Source: app/charts/db/templates/b.yaml\nimage: b:1\n---\n# Source: app/templates/a.yaml\nkind: A2\n";
        let templates = split_rendered(output);
        assert_eq!(templates.len(), 2);
        assert_eq!(templates[0].source, "app/templates/a.yaml");
        assert_eq!(templates[0].content, b"kind: A\nimage: a:1\n---\nkind: A2\n");
        assert_eq!(templates[1].source, "app/charts/db/templates/b.yaml");
    }

    #[test]
    fn separator_like_text_inside_a_line_is_not_a_header() {
        let output = b"---\n# Source: app/templates/a.yaml\nx: \"---\\n# Source: y\"\n";
        assert_eq!(split_rendered(output).len(), 1);
    }

    #[test]
    fn empty_output_has_no_templates() {
        assert!(split_rendered(b"").is_empty());
    }

    #[test]
    fn explicit_helm_path_must_exist() {
        assert_eq!(Helm::locate(Some(Path::new("/nonexistent/helm"))), None);
    }

    #[test]
    fn isolated_home_is_removed_on_drop() {
        let home = IsolatedHome::create().unwrap();
        let path = home.path.clone();
        assert!(path.join("config").is_dir());
        drop(home);
        assert!(!path.exists());
    }
}
