//! `images/skopeo/tar.txt`: image archives to load into `registry/` (sealos `TarList`).
//!
//! Each line is `docker-archive:<path>@<dest>` or `oci-archive:<path>@<dest>`. `<path>` is joined
//! to `images/skopeo` (even when absolute); `<dest>` is the repository path in `registry/`. Only
//! exactly empty lines are skipped; the first bad line stops the whole list and fails the build.

use std::path::{Component, Path, PathBuf};

use super::{lines::go_lines, ExtractError, Found, ImageSource, Scan};

const SKOPEO_DIR: &str = "images/skopeo";
const TAR_LIST: &str = "images/skopeo/tar.txt";
const TRANSPORTS: [&str; 2] = ["docker-archive:", "oci-archive:"];

pub(super) fn scan(root: &Path) -> Scan {
    let mut scan = Scan::default();
    let list = root.join(TAR_LIST);
    if !list.exists() {
        return scan;
    }
    let content = match std::fs::read(&list) {
        Ok(content) => content,
        Err(source) => {
            scan.errors.push(ExtractError::read(root, &list, source));
            return scan;
        }
    };
    let file = PathBuf::from(TAR_LIST);
    for line in go_lines(&content) {
        if line.bytes.is_empty() {
            continue;
        }
        let text = String::from_utf8_lossy(line.bytes).into_owned();
        let Some((archive, destination)) = text.split_once('@') else {
            return Scan::failed(ExtractError::TarLineWithoutDestination { file, line: line.number, text });
        };
        let Some(archive_path) = TRANSPORTS.iter().find_map(|t| archive.strip_prefix(t)) else {
            return Scan::failed(ExtractError::TarLineTransport { file, line: line.number, text });
        };
        let archive_path = join_clean(Path::new(SKOPEO_DIR), archive_path);
        if !root.join(&archive_path).exists() {
            scan.errors.push(ExtractError::MissingArchive {
                file: file.clone(),
                line: line.number,
                archive: archive_path,
            });
        }
        scan.found.push(Found {
            image: destination.to_owned(),
            source: ImageSource::Tar,
            file: file.clone(),
            line: line.number,
            chart: None,
        });
    }
    scan
}

/// Go's `path.Join(dir, p)`: `p` is appended even when absolute, and `..` is resolved lexically.
fn join_clean(dir: &Path, path: &str) -> PathBuf {
    let mut joined = PathBuf::new();
    for component in dir.components().chain(Path::new(path).components()) {
        match component {
            Component::Normal(part) => joined.push(part),
            Component::ParentDir => {
                if !joined.pop() {
                    joined.push("..");
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn run(content: &str, archives: &[&str]) -> Scan {
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
    fn missing_tar_txt_is_no_source() {
        let dir = tempfile::tempdir().unwrap();
        let scan = scan(dir.path());
        assert!(scan.found.is_empty() && scan.errors.is_empty());
    }

    #[test]
    fn go_path_join() {
        assert_eq!(join_clean(Path::new("images/skopeo"), "../../x.tar"), Path::new("x.tar"));
        assert_eq!(join_clean(Path::new("images/skopeo"), "./a//b.tar"), Path::new("images/skopeo/a/b.tar"));
    }
}
