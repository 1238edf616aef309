//! The line parsers of the image lists, on arbitrary bytes:
//!
//! * on disk, the way `sealos build` reads a context: the input, split at NUL bytes, becomes
//!   `manifests/app.yaml`, `images/shim/imageList`, `images/skopeo/tar.txt`, `.sealignore` and
//!   `.dockerignore` of a scratch context, which `context::images::extract` and
//!   `context::facts::from_index` read (no helm);
//! * in the editor: shim and tar.txt diagnostics, shim links and shim completion at every offset
//!   (see `src/requests.rs`) on the input as text.
//!
//! Fails on any panic, on an image attributed to a line the file does not have, and on the
//! request checks of `requests.rs`.

#![no_main]

use std::{fs, path::PathBuf, sync::OnceLock};

use kubefile_ls::{
    analysis::FileKind,
    context::{
        facts::from_index,
        images::{extract, ExtractOptions},
        BuildContext,
    },
};
use kubefile_ls_fuzz::requests::{cursor_offsets, Subject, SHIM_AT_OFFSET, SHIM_WHOLE_FILE};
use libfuzzer_sys::fuzz_target;

const FILES: [&str; 5] =
    ["manifests/app.yaml", "images/shim/imageList", "images/skopeo/tar.txt", ".sealignore", ".dockerignore"];

/// One scratch context per fuzzing process, in memory when /dev/shm exists.
fn scratch_context() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let dir = base.join(format!("kubefile-ls-fuzz-lists-{}", std::process::id()));
        for file in FILES {
            fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
        }
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let root = scratch_context();
    let mut parts = data.split(|&b| b == 0);
    let mut line_counts = Vec::new();
    for file in FILES {
        let content = parts.next().unwrap_or_default();
        line_counts.push((file, content.split(|&b| b == b'\n').count() as u32));
        fs::write(root.join(file), content).unwrap();
    }
    let index = extract(&BuildContext::new(root), &ExtractOptions { helm: None, render_charts: false });
    for image in &index.images {
        let lines = line_counts.iter().find(|(file, _)| image.file == std::path::Path::new(file)).map_or(0, |(_, n)| *n);
        assert!(image.line >= 1 && image.line <= lines, "{image:?} is on a line {:?} does not have", image.file);
    }
    let facts = from_index(root, &index);

    let Ok(text) = std::str::from_utf8(data) else { return };
    let subject = Subject::new(text, Some(facts), FileKind::Kubefile);
    for (_, request) in SHIM_WHOLE_FILE {
        request(&subject, 0);
    }
    for offset in cursor_offsets(text) {
        for (_, request) in SHIM_AT_OFFSET {
            request(&subject, offset);
        }
    }
});
