//! `images/shim/`: plain image lists (sealos `ParseShimImages` and `formalizeImages`).
//!
//! Every file below the directory counts, whatever its name. Each line is trimmed; empty lines
//! and lines starting with `#` are dropped; one pair of quotes is removed. Nothing else: an
//! inline comment stays part of the name, and names are not normalised here, so they reach the
//! save step as written (where an invalid one fails the build).

use std::{fs, path::Path};

use super::{
    lines::{go_lines, trim_quotes, trim_space},
    relative, ExtractError, Found, ImageSource, Scan,
};

const SHIM_DIR: &str = "images/shim";

pub(super) fn scan(root: &Path) -> Scan {
    let mut scan = Scan::default();
    let dir = root.join(SHIM_DIR);
    // sealos checks existence with stat() (a dangling symlink is "missing") and then walks with
    // lstat(), so a symlink is read as a file.
    if dir.exists() {
        collect(root, &dir, &mut scan);
    }
    scan
}

fn collect(root: &Path, path: &Path, scan: &mut Scan) {
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            Err(source) => return scan.errors.push(ExtractError::read(root, path, source)),
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for entry in entries {
            collect(root, &entry, scan);
        }
        return;
    }
    let content = match fs::read(path) {
        Ok(content) => content,
        Err(source) => return scan.errors.push(ExtractError::read(root, path, source)),
    };
    let file = relative(root, path);
    for line in go_lines(&content) {
        let text = String::from_utf8_lossy(line.bytes);
        let trimmed = trim_space(&text);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        scan.found.push(Found {
            image: trim_quotes(trimmed).to_owned(),
            source: ImageSource::Shim,
            file: file.clone(),
            line: line.number,
            chart: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn shim(files: &[(&str, &str)]) -> Vec<(PathBuf, u32, String)> {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            let path = dir.path().join(SHIM_DIR).join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        let scan = scan(dir.path());
        assert!(scan.errors.is_empty(), "{:?}", scan.errors);
        scan.found.into_iter().map(|f| (f.file, f.line, f.image)).collect()
    }

    fn images(content: &str) -> Vec<String> {
        shim(&[("list", content)]).into_iter().map(|(_, _, image)| image).collect()
    }

    #[test]
    fn every_file_is_read_recursively_whatever_its_name() {
        let found = shim(&[("imageList", "a:1\n"), ("README.md", "b:1\n"), ("sub/dir/x.txt", "c:1\n")]);
        let files: Vec<String> = found.iter().map(|(f, l, _)| format!("{}:{l}", f.display())).collect();
        assert_eq!(files, ["images/shim/README.md:1", "images/shim/imageList:1", "images/shim/sub/dir/x.txt:1"]);
    }

    #[test]
    fn raw_names_are_not_normalised() {
        assert_eq!(images("nginx\ndocker.io/library/nginx:1.25\n"), ["nginx", "docker.io/library/nginx:1.25"]);
    }

    #[test]
    fn full_line_comments_and_blank_lines_are_dropped() {
        assert_eq!(images("# list\n\n   \n  # indented\nnginx:1\n"), ["nginx:1"]);
    }

    #[test]
    fn inline_comment_stays_part_of_the_name() {
        assert_eq!(images("nginx:1 # web\n"), ["nginx:1 # web"]);
    }

    #[test]
    fn one_pair_of_quotes_is_removed_after_trimming_and_not_retrimmed() {
        assert_eq!(images("  \"nginx:1\"  \n' redis:7 '\n"), ["nginx:1", " redis:7 "]);
    }

    #[test]
    fn quoted_hash_is_not_a_comment() {
        assert_eq!(images("\"#nginx\"\n"), ["#nginx"]);
    }

    #[test]
    fn transport_prefixes_are_kept() {
        assert_eq!(
            images("containers-storage:localhost/app:1\ndocker-daemon:nginx:1\n"),
            ["containers-storage:localhost/app:1", "docker-daemon:nginx:1"]
        );
    }

    #[test]
    fn crlf_and_missing_final_newline_are_handled() {
        assert_eq!(images("a:1\r\nb:2"), ["a:1", "b:2"]);
    }

    #[test]
    fn duplicates_are_kept_with_their_lines() {
        let found = shim(&[("list", "a:1\nb:1\na:1\n")]);
        let lines: Vec<u32> = found.iter().filter(|(_, _, i)| i == "a:1").map(|(_, l, _)| *l).collect();
        assert_eq!(lines, [1, 3]);
    }

    #[test]
    fn missing_shim_directory_is_no_source() {
        let dir = tempfile::tempdir().unwrap();
        assert!(scan(dir.path()).found.is_empty());
    }

    #[test]
    fn symlinked_directory_inside_shim_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("elsewhere")).unwrap();
        fs::create_dir_all(dir.path().join(SHIM_DIR)).unwrap();
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), dir.path().join(SHIM_DIR).join("linked")).unwrap();
        let scan = scan(dir.path());
        assert_eq!(scan.errors.len(), 1);
        assert!(scan.errors[0].to_string().contains("images/shim/linked"), "{}", scan.errors[0]);
    }
}
