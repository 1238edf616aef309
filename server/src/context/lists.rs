//! The files of a context that `analysis::lists` checks, found on disk (for `kubefile-ls check`
//! on a whole context; the editor checks the file it has open).

use std::path::{Path, PathBuf};

use crate::analysis::lists::{file_role, ListFile};

/// Every file below `images/shim/`, `images/skopeo/tar.txt`, the manifests of `manifests/` and
/// the `charts/*.values.yaml` files, relative to `root`, in path order, with their role.
/// Symlinked directories are not entered, as sealos's walks do not enter them.
pub fn files(root: &Path) -> Vec<(PathBuf, ListFile)> {
    let mut found = Vec::new();
    for dir in ["charts", "images", "manifests"] {
        walk(root, Path::new(dir), &mut found);
    }
    found
}

fn walk(root: &Path, relative: &Path, out: &mut Vec<(PathBuf, ListFile)>) {
    let Ok(entries) = std::fs::read_dir(root.join(relative)) else { return };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let Ok(file_type) = entry.file_type() else { continue };
        let path = relative.join(entry.file_name());
        if file_type.is_dir() {
            walk(root, &path, out);
        } else if entry.path().is_file() {
            if let Some(role) = file_role(&path) {
                out.push((path, role));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn every_checked_file_of_a_context_is_found_with_its_role() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "images/shim/b/list",
            "images/shim/a",
            "images/skopeo/tar.txt",
            "images/skopeo/a.tar",
            "manifests/app/deploy.YAML",
            "manifests/notes.md",
            "charts/calico.values.yaml",
            "charts/calico/values.yaml",
            "Kubefile",
        ] {
            let path = dir.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "x").unwrap();
        }
        fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        fs::write(dir.path().join("elsewhere/x.yaml"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join("manifests/linked")).unwrap();
        let found: Vec<(String, ListFile)> =
            files(dir.path()).into_iter().map(|(path, role)| (path.display().to_string(), role)).collect();
        assert_eq!(
            found,
            [
                ("charts/calico.values.yaml".to_owned(), ListFile::ChartValues),
                ("images/shim/a".to_owned(), ListFile::Shim),
                ("images/shim/b/list".to_owned(), ListFile::Shim),
                ("images/skopeo/tar.txt".to_owned(), ListFile::TarList),
                ("manifests/app/deploy.YAML".to_owned(), ListFile::Manifest),
            ]
        );
    }
}
