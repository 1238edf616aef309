//! `images/skopeo/tar.txt`: image archives to load into `registry/` (sealos `TarList`).
//!
//! Each line is `docker-archive:<path>@<dest>` or `oci-archive:<path>@<dest>`. `<path>` is joined
//! to `images/skopeo` (even when absolute); `<dest>` is the repository path in `registry/`. Only
//! exactly empty lines are skipped; the first bad line stops the whole list and fails the build.
//!
//! Stricter than sealos: an archive that resolves outside the build context (through `..` or a
//! symlink) and a line with control characters are refused, so a context cannot make the save
//! read arbitrary files of the machine it is built on.

use std::path::{Path, PathBuf};

use super::{lines::go_lines, outside_context, Archive, ArchiveTransport, ExtractError, Found, ImageSource, Scan};
use crate::context::reference::control_character;

const SKOPEO_DIR: &str = "images/skopeo";
const TAR_LIST: &str = "images/skopeo/tar.txt";
const TRANSPORTS: [(&str, ArchiveTransport); 2] =
    [("docker-archive:", ArchiveTransport::DockerArchive), ("oci-archive:", ArchiveTransport::OciArchive)];

/// The destinations as images (for the merged report) and the archives to load.
#[derive(Default)]
pub(super) struct TarList {
    pub scan: Scan,
    pub archives: Vec<Archive>,
}

impl TarList {
    fn failed(error: ExtractError) -> Self {
        Self { scan: Scan::failed(error), archives: Vec::new() }
    }
}

pub(super) fn scan(root: &Path) -> TarList {
    let mut list = TarList::default();
    let path = root.join(TAR_LIST);
    if !path.exists() {
        return list;
    }
    let content = match std::fs::read(&path) {
        Ok(content) => content,
        Err(source) => {
            list.scan.errors.push(ExtractError::read(root, &path, source));
            return list;
        }
    };
    let scan = &mut list.scan;
    let file = PathBuf::from(TAR_LIST);
    for line in go_lines(&content) {
        if line.bytes.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(line.bytes).into_owned();
        if control_character(&text).is_some() {
            scan.errors.push(ExtractError::TarLineControlCharacter { file: file.clone(), line: line.number, text });
            continue;
        }
        let Some((archive, destination)) = text.split_once('@') else {
            return TarList::failed(ExtractError::TarLineWithoutDestination { file, line: line.number, text });
        };
        let Some((written, transport)) =
            TRANSPORTS.iter().find_map(|(prefix, transport)| Some((archive.strip_prefix(prefix)?, *transport)))
        else {
            return TarList::failed(ExtractError::TarLineTransport { file, line: line.number, text });
        };
        let Some(archive_path) = archive_path(written).map(PathBuf::from) else {
            scan.errors.push(ExtractError::ArchiveOutsideContext {
                file: file.clone(),
                line: line.number,
                archive: Path::new(SKOPEO_DIR).join(written),
                target: None,
            });
            continue;
        };
        let on_disk = root.join(&archive_path);
        if let Some(target) = outside_context(root, &on_disk) {
            scan.errors.push(ExtractError::ArchiveOutsideContext {
                file: file.clone(),
                line: line.number,
                archive: archive_path,
                target: Some(target),
            });
            continue;
        }
        if !on_disk.exists() {
            scan.errors.push(ExtractError::MissingArchive {
                file: file.clone(),
                line: line.number,
                archive: archive_path.clone(),
            });
        }
        list.archives.push(Archive {
            transport,
            path: archive_path,
            destination: destination.to_owned(),
            line: line.number,
        });
        scan.found.push(Found {
            image: destination.to_owned(),
            source: ImageSource::Tar,
            file: file.clone(),
            line: line.number,
            chart: None,
        });
    }
    list
}

/// Where sealos reads the archive of a `tar.txt` line from: Go's `path.Join("images/skopeo",
/// path)`, so `path` is appended even when absolute and `..` is resolved lexically. `None` when
/// it climbs above the context root.
pub fn archive_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in SKOPEO_DIR.split('/').chain(path.split('/')) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn run(content: &str, archives: &[&str]) -> Scan {
        run_list(content, archives).scan
    }

    fn run_list(content: &str, archives: &[&str]) -> TarList {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(SKOPEO_DIR)).unwrap();
        fs::write(dir.path().join(TAR_LIST), content).unwrap();
        for archive in archives {
            fs::write(dir.path().join(SKOPEO_DIR).join(archive), "").unwrap();
        }
        scan(dir.path())
    }

    #[test]
    fn archive_lines_give_their_destination() {
        let scan = run(
            "docker-archive:cni.tar@calico/cni:v3.20.0\noci-archive:main.tar@library/config_main\n",
            &["cni.tar", "main.tar"],
        );
        assert!(scan.errors.is_empty(), "{:?}", scan.errors);
        let found: Vec<(u32, &str)> = scan.found.iter().map(|f| (f.line, f.image.as_str())).collect();
        assert_eq!(found, [(1, "calico/cni:v3.20.0"), (2, "library/config_main")]);
    }

    #[test]
    fn only_exactly_empty_lines_are_skipped() {
        let scan = run("docker-archive:a.tar@a/b\n\n   \n", &["a.tar"]);
        assert!(
            matches!(&scan.errors[..], [ExtractError::TarLineWithoutDestination { line: 3, .. }]),
            "{:?}",
            scan.errors
        );
    }

    #[test]
    fn comment_line_is_an_invalid_image_format() {
        let scan = run("# archives\ndocker-archive:a.tar@a/b\n", &["a.tar"]);
        assert_eq!(
            scan.errors[0].to_string(),
            "images/skopeo/tar.txt:1: invalid image format: `# archives` has no `@<repository>` destination"
        );
    }

    #[test]
    fn first_bad_line_stops_the_list() {
        let scan = run("docker-archive:a.tar@a/b\ndocker://nginx@x/y\ndocker-archive:c.tar\n", &["a.tar"]);
        assert!(scan.found.is_empty());
        assert_eq!(scan.errors.len(), 1);
        assert!(matches!(scan.errors[0], ExtractError::TarLineTransport { line: 2, .. }));
    }

    #[test]
    fn other_transport_must_prefix_in_docker_archive_or_oci_archive() {
        let scan = run("docker://nginx:1@library/nginx\n", &[]);
        assert!(
            scan.errors[0].to_string().contains("must start with docker-archive: or oci-archive:"),
            "{}",
            scan.errors[0]
        );
    }

    #[test]
    fn absolute_archive_path_is_joined_under_images_skopeo() {
        let scan = run("docker-archive:/tmp/x.tar@a/b\n", &[]);
        match &scan.errors[..] {
            [ExtractError::MissingArchive { archive, .. }] => assert_eq!(archive, Path::new("images/skopeo/tmp/x.tar")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn crlf_line_ending_is_not_part_of_the_destination() {
        let scan = run("docker-archive:a.tar@a/b:1\r\n", &["a.tar"]);
        assert_eq!(scan.found[0].image, "a/b:1");
    }

    #[test]
    fn archives_keep_transport_and_path_inside_the_context() {
        let list = run_list("docker-archive:cni.tar@calico/cni:v3\noci-archive:sub/../main.tar@library/main\n", &["cni.tar", "main.tar"]);
        let archives: Vec<(ArchiveTransport, &Path, &str, u32)> =
            list.archives.iter().map(|a| (a.transport, a.path.as_path(), a.destination.as_str(), a.line)).collect();
        assert_eq!(
            archives,
            [
                (ArchiveTransport::DockerArchive, Path::new("images/skopeo/cni.tar"), "calico/cni:v3", 1),
                (ArchiveTransport::OciArchive, Path::new("images/skopeo/main.tar"), "library/main", 2)
            ]
        );
    }

    #[test]
    fn missing_tar_txt_is_no_source() {
        let dir = tempfile::tempdir().unwrap();
        let scan = scan(dir.path()).scan;
        assert!(scan.found.is_empty() && scan.errors.is_empty());
    }

    #[test]
    fn archive_climbing_out_of_the_context_is_refused() {
        let scan = run("docker-archive:../../../x.tar@a/b\n", &[]);
        assert!(scan.found.is_empty());
        assert_eq!(
            scan.errors[0].to_string(),
            "images/skopeo/tar.txt:1: the archive images/skopeo/../../../x.tar is outside the build context; only files inside the context can be saved into registry/"
        );
    }

    #[test]
    fn archive_symlink_leading_outside_the_context_is_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.tar"), "").unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(SKOPEO_DIR)).unwrap();
        fs::write(dir.path().join(TAR_LIST), "docker-archive:link.tar@a/b\ndocker-archive:inside.tar@c/d\n").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret.tar"), dir.path().join(SKOPEO_DIR).join("link.tar")).unwrap();
        fs::write(dir.path().join("real.tar"), "").unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.tar"), dir.path().join(SKOPEO_DIR).join("inside.tar")).unwrap();
        let scan = scan(dir.path()).scan;
        assert_eq!(scan.errors.len(), 1, "{:?}", scan.errors);
        let message = scan.errors[0].to_string();
        assert!(message.contains("the archive images/skopeo/link.tar is outside the build context (it leads to "), "{message}");
        let found: Vec<&str> = scan.found.iter().map(|f| f.image.as_str()).collect();
        assert_eq!(found, ["c/d"]);
    }

    #[test]
    fn line_with_control_characters_is_refused_and_shown_escaped() {
        let scan = run("docker-archive:a.tar@a/b\u{1b}[2J\n", &["a.tar"]);
        assert!(scan.found.is_empty());
        assert_eq!(
            scan.errors[0].to_string(),
            "images/skopeo/tar.txt:1: `docker-archive:a.tar@a/b\\u{1b}[2J` contains a control character (shown escaped); kubefile-ls refuses the line"
        );
    }

    #[test]
    fn archive_path_is_go_path_join_under_images_skopeo() {
        assert_eq!(archive_path("../../x.tar").as_deref(), Some("x.tar"));
        assert_eq!(archive_path("./a//b.tar").as_deref(), Some("images/skopeo/a/b.tar"));
        assert_eq!(archive_path("/abs/x.tar").as_deref(), Some("images/skopeo/abs/x.tar"));
        assert_eq!(archive_path("../../../x.tar"), None);
    }
}
