//! Delegating the assembly step to `buildah bud` (`--engine buildah`), for Kubefiles the
//! native assembler cannot build (`RUN` needs a container runtime).
//!
//! Buildah runs the way the cluster-image CI runs it, without a daemon and without touching
//! the host's image store: `vfs` storage (works on any file system, no overlay mounts) in a
//! private `--root`/`--runroot` (a temporary directory unless [`BuildahOptions::storage_dir`] is
//! given, e.g. a cache directory to keep pulled base images), `--isolation chroot` (no
//! runc/crun needed for `RUN`). The image is then copied with `buildah push` into an OCI image
//! layout directory, the same kind of output the native assembler writes, so the `oci-archive:`
//! and `docker://` outputs ([`super::output`]) work the same for both engines.

use std::{
    fs,
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Command, ExitStatus, Stdio},
    sync::mpsc,
    time::{SystemTime, UNIX_EPOCH},
};

use crate::context::{BuildContext, NoBuildFile};

/// Lines of buildah's output kept for the error message of a failed build.
const ERROR_TAIL_LINES: usize = 15;

/// The name the image gets inside the private storage when no tag is given.
const UNTAGGED_NAME: &str = "localhost/kubefile-ls-build:latest";

/// `sealos build` flags passed through to `buildah bud`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildahOptions {
    /// The buildah program (default: `buildah` on PATH).
    pub program: PathBuf,
    /// `-f`: build files, concatenated by buildah in order (empty: sealos's discovery, every one
    /// of Sealfile, Kubefile, Dockerfile, Containerfile in the context).
    pub files: Vec<PathBuf>,
    /// `-t`: the first names the image; all are applied in the private storage.
    pub tags: Vec<String>,
    /// `--build-arg K=V`.
    pub build_args: Vec<String>,
    /// `--label K=V`, appended as a final LABEL.
    pub labels: Vec<String>,
    /// `--env K=V`, inserted right after FROM.
    pub envs: Vec<String>,
    /// `--platform OS/ARCH[/VARIANT]`.
    pub platform: Option<String>,
    /// `--timestamp`: created time in seconds since the epoch, for reproducible images.
    pub timestamp: Option<i64>,
    /// `--authfile` for pulling base images.
    pub authfile: Option<PathBuf>,
    /// `--tls-verify` for pulling base images (sealos defaults it to false).
    pub tls_verify: bool,
    /// `org.opencontainers.image.ref.name` of the image in the output layout.
    pub layout_tag: String,
    /// Parent of buildah's `--root` and `--runroot`; kept after the build. `None`: a temporary
    /// directory, removed afterwards.
    pub storage_dir: Option<PathBuf>,
}

impl Default for BuildahOptions {
    fn default() -> Self {
        Self {
            program: PathBuf::from("buildah"),
            files: Vec::new(),
            tags: Vec::new(),
            build_args: Vec::new(),
            labels: Vec::new(),
            envs: Vec::new(),
            platform: None,
            timestamp: None,
            authfile: None,
            tls_verify: false,
            layout_tag: "latest".into(),
            storage_dir: None,
        }
    }
}

/// What [`build`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildahReport {
    /// `sha256:…` of the image config, as buildah reports it.
    pub image_id: String,
    /// `sha256:…` of the manifest in the output layout.
    pub manifest_digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildahError {
    #[error("`--engine buildah` needs buildah, which is not installed (`{program}` not found); install it, e.g. `apt-get install buildah` on Debian/Ubuntu")]
    NotInstalled { program: String },
    #[error("cannot run `{program}`: {message}")]
    Spawn { program: String, message: String },
    #[error("buildah {step} failed ({status}):\n{output}")]
    Failed {
        step: &'static str,
        status: String,
        output: String,
    },
    #[error("cannot use {}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    #[error("{}: {source}", context.display())]
    NoBuildFile {
        context: PathBuf,
        source: NoBuildFile,
    },
}

impl BuildahError {
    fn io(path: &Path, error: &std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            message: error.to_string(),
        }
    }
}

/// Builds `context` with `buildah bud` and writes the image into the OCI layout directory
/// `output_layout` (created if needed, tagged [`BuildahOptions::layout_tag`]). Every line
/// buildah prints goes to `log`. Blocks until buildah is done; run it on a blocking thread.
pub fn build(
    context: &Path,
    options: &BuildahOptions,
    output_layout: &Path,
    log: &mut dyn FnMut(&str),
) -> Result<BuildahReport, BuildahError> {
    let program = options.program.display().to_string();
    match Command::new(&options.program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(BuildahError::NotInstalled { program })
        }
        Err(error) => {
            return Err(BuildahError::Spawn {
                program,
                message: error.to_string(),
            })
        }
    }
    let files = if options.files.is_empty() {
        BuildContext::new(context)
            .build_files()
            .map_err(|source| BuildahError::NoBuildFile {
                context: context.to_owned(),
                source,
            })?
    } else {
        options.files.clone()
    };
    let storage = Storage::new(options.storage_dir.as_deref())?;
    let work = storage.path.join("work");
    fs::create_dir_all(&work).map_err(|e| BuildahError::io(&work, &e))?;
    let iidfile = work.join(format!("iid-{}", std::process::id()));
    let digestfile = work.join(format!("digest-{}", std::process::id()));
    let image = options
        .tags
        .first()
        .map_or(UNTAGGED_NAME, String::as_str)
        .to_owned();

    let mut bud = storage.command(&options.program);
    bud.args(["bud", "--isolation", "chroot", "--format", "oci"]);
    bud.arg("--iidfile").arg(&iidfile);
    bud.arg(format!("--tls-verify={}", options.tls_verify));
    for file in &files {
        bud.arg("-f").arg(file);
    }
    bud.arg("-t").arg(&image);
    for tag in options.tags.iter().skip(1) {
        bud.arg("-t").arg(tag);
    }
    for (flag, values) in [
        ("--build-arg", &options.build_args),
        ("--label", &options.labels),
        ("--env", &options.envs),
    ] {
        for value in values {
            bud.arg(flag).arg(value);
        }
    }
    if let Some(platform) = &options.platform {
        bud.arg("--platform").arg(platform);
    }
    if let Some(timestamp) = options.timestamp {
        bud.arg("--timestamp").arg(timestamp.to_string());
    }
    if let Some(authfile) = &options.authfile {
        bud.arg("--authfile").arg(authfile);
    }
    bud.arg(context);
    run("bud", &program, bud, log)?;

    fs::create_dir_all(output_layout).map_err(|e| BuildahError::io(output_layout, &e))?;
    let mut push = storage.command(&options.program);
    push.args(["push", "--format", "oci"]);
    push.arg("--digestfile").arg(&digestfile);
    push.arg(&image);
    push.arg(format!(
        "oci:{}:{}",
        output_layout.display(),
        options.layout_tag
    ));
    run("push", &program, push, log)?;

    let read = |path: &Path| {
        fs::read_to_string(path)
            .map(|s| s.trim().to_owned())
            .map_err(|e| BuildahError::io(path, &e))
    };
    let image_id = read(&iidfile)?;
    let manifest_digest = read(&digestfile)?;
    Ok(BuildahReport {
        image_id: if image_id.starts_with("sha256:") {
            image_id
        } else {
            format!("sha256:{image_id}")
        },
        manifest_digest,
    })
}

/// Buildah's private `--root`/`--runroot`; a temporary one is removed on drop.
struct Storage {
    path: PathBuf,
    temporary: bool,
}

impl Storage {
    fn new(dir: Option<&Path>) -> Result<Self, BuildahError> {
        let (path, temporary) = match dir {
            Some(dir) => (dir.to_owned(), false),
            None => {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.subsec_nanos());
                let name = format!("kubefile-ls-buildah-{}-{nanos}", std::process::id());
                (std::env::temp_dir().join(name), true)
            }
        };
        fs::create_dir_all(&path).map_err(|e| BuildahError::io(&path, &e))?;
        Ok(Self { path, temporary })
    }

    fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .arg("--storage-driver")
            .arg("vfs")
            .arg("--root")
            .arg(self.path.join("root"))
            .arg("--runroot")
            .arg(self.path.join("runroot"));
        command
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if self.temporary {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs `command`, sending stdout and stderr lines to `log` as they come.
fn run(
    step: &'static str,
    program: &str,
    mut command: Command,
    log: &mut dyn FnMut(&str),
) -> Result<(), BuildahError> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| BuildahError::Spawn {
            program: program.to_owned(),
            message: e.to_string(),
        })?;
    let (sender, lines) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let sender = sender.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        })
    })
    .collect();
    drop(sender);
    let mut tail = std::collections::VecDeque::with_capacity(ERROR_TAIL_LINES);
    for line in lines {
        log(&line);
        if tail.len() == ERROR_TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(line);
    }
    for reader in readers {
        let _ = reader.join();
    }
    let status: ExitStatus = child.wait().map_err(|e| BuildahError::Spawn {
        program: program.to_owned(),
        message: e.to_string(),
    })?;
    if status.success() {
        return Ok(());
    }
    Err(BuildahError::Failed {
        step,
        status: status.to_string(),
        output: Vec::from(tail).join("\n"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_buildah_names_the_package() {
        let options = BuildahOptions {
            program: PathBuf::from("/nonexistent/buildah"),
            ..BuildahOptions::default()
        };
        let dir = std::env::temp_dir();
        let error = build(&dir, &options, &dir.join("never"), &mut |_| {}).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("apt-get install buildah"), "{message}");
        assert!(!dir.join("never").exists());
    }
}
