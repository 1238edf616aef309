//! `kubefile-ls images`: the images `sealos build` would save into `registry/`, with the place
//! each one comes from. The extraction is [`crate::context::images::extract`]; this only renders
//! it (docs/images.md describes both formats).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::Write as _,
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::context::{
    images::{self, Archive, ChartInfo, Collision, ExtractOptions, IgnoredImage, ImageIndex, ImageRef, ImageSource, Skipped},
    reference::Escaped,
    BuildContext,
};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Images grouped by source, with `file:line`.
    Text,
    /// One JSON object (see docs/images.md).
    Json,
}

#[derive(Args)]
pub struct ImagesArgs {
    /// The build context (the directory `sealos build` is given).
    context: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Helm binary used to render charts/ [default: helm on PATH].
    #[arg(long, value_name = "PATH")]
    helm: Option<PathBuf>,
    /// Do not render charts/ (no helm needed; chart images are then missing).
    #[arg(long)]
    no_charts: bool,
}

pub fn run(args: ImagesArgs) -> ExitCode {
    if !args.context.is_dir() {
        eprintln!("kubefile-ls images: {} is not a directory", args.context.display());
        return ExitCode::from(2);
    }
    let options = ExtractOptions { helm: args.helm.clone(), render_charts: !args.no_charts };
    let index = images::extract(&BuildContext::new(&args.context), &options);
    let rendered = match args.format {
        Format::Text => text(&index),
        Format::Json => json(&index),
    };
    let _ = std::io::stdout().lock().write_all(rendered.as_bytes());
    let mut stderr = std::io::stderr().lock();
    for error in &index.errors {
        let _ = writeln!(stderr, "kubefile-ls images: error: {error}");
    }
    if index.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The JSON document: every field of the extraction, errors as messages.
#[derive(Serialize)]
struct JsonOutput<'a> {
    images: &'a [ImageRef],
    skipped: &'a [Skipped],
    ignored: &'a [IgnoredImage],
    collisions: &'a [Collision],
    charts: &'a [ChartInfo],
    orphan_values_files: &'a [PathBuf],
    archives: &'a [Archive],
    errors: Vec<String>,
}

fn json(index: &ImageIndex) -> String {
    let output = JsonOutput {
        images: &index.images,
        skipped: &index.skipped,
        ignored: &index.ignored,
        collisions: &index.collisions,
        charts: &index.charts,
        orphan_values_files: &index.orphan_values_files,
        archives: &index.archives,
        errors: index.errors.iter().map(ToString::to_string).collect(),
    };
    let mut text = serde_json::to_string_pretty(&output).expect("plain data serialises");
    text.push('\n');
    text
}

const SOURCES: [(ImageSource, &str); 4] = [
    (ImageSource::Chart, "charts/ (rendered with helm)"),
    (ImageSource::Manifest, "manifests/"),
    (ImageSource::Shim, "images/shim/"),
    (ImageSource::Tar, "images/skopeo/tar.txt (archives)"),
];

fn text(index: &ImageIndex) -> String {
    let mut out = String::new();
    for (source, title) in SOURCES {
        let mut group: Vec<&ImageRef> = index.images.iter().filter(|image| image.source == source).collect();
        if group.is_empty() {
            continue;
        }
        group.sort_by(|a, b| (&a.file, a.line, &a.image).cmp(&(&b.file, b.line, &b.image)));
        let _ = writeln!(out, "{title}");
        for image in group {
            let chart = image.chart.as_deref().map(|name| format!("  (chart {name})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {}  {}  -> {}{chart}",
                place(&image.file, image.line),
                Escaped(&image.image),
                image.registry_path.as_deref().unwrap_or("(cannot be saved)")
            );
        }
    }
    let unrendered: Vec<&ChartInfo> = index.charts.iter().filter(|chart| !chart.rendered).collect();
    if !unrendered.is_empty() {
        let _ = writeln!(out, "charts/ not rendered (their images are missing above)");
        for chart in unrendered {
            let _ = writeln!(out, "  {}", chart.path.display());
        }
    }
    if !index.skipped.is_empty() {
        let _ = writeln!(out, "skipped (sealos ignores these image: lines)");
        for skipped in &index.skipped {
            let _ = writeln!(out, "  {}  `{}`: {}", place(&skipped.file, skipped.line), Escaped(&skipped.text), skipped.reason);
        }
    }
    if !index.ignored.is_empty() {
        let _ = writeln!(out, "left out by .sealignore");
        for ignored in &index.ignored {
            let image = &ignored.image;
            let _ = writeln!(
                out,
                "  {}  {}  (.sealignore:{})",
                place(&image.file, image.line),
                Escaped(&image.image),
                ignored.sealignore_line
            );
        }
    }
    let mut warnings = Vec::new();
    for collision in &index.collisions {
        let mut images: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for image in &collision.images {
            images.entry(&image.image).or_default().push(place(&image.file, image.line));
        }
        let listed: Vec<String> =
            images.iter().map(|(image, places)| format!("{} ({})", Escaped(image), places.join(", "))).collect();
        warnings.push(format!(
            "{} are all stored as {} in registry/; the last one saved overwrites the others",
            listed.join(", "),
            collision.registry_path
        ));
    }
    for orphan in &index.orphan_values_files {
        warnings.push(format!(
            "{}: no chart in charts/ has this Chart.yaml name, so sealos never applies these values",
            orphan.display()
        ));
    }
    if !warnings.is_empty() {
        let _ = writeln!(out, "warnings");
        for warning in warnings {
            let _ = writeln!(out, "  {warning}");
        }
    }
    let saved = index.image_list().len();
    let archives = index.images.iter().filter(|image| image.source == ImageSource::Tar).count();
    let _ = writeln!(out, "{saved} image(s) to pull and {archives} archive(s) to load into registry/");
    out
}

fn place(file: &Path, line: u32) -> String {
    format!("{}:{line}", file.display())
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;
    use std::fs;

    fn index(files: &[(&str, &str)]) -> ImageIndex {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let full = dir.path().join(path);
            fs::create_dir_all(full.parent().unwrap()).unwrap();
            fs::write(full, content).unwrap();
        }
        images::extract(&BuildContext::new(dir.path()), &ExtractOptions { helm: None, render_charts: false })
    }

    #[test]
    fn text_groups_images_by_source_with_their_places() {
        let index = index(&[
            ("manifests/app.yaml", "image: nginx:1.25\nimage: {{ .Values.x }}\n"),
            ("images/shim/list", "quay.io/calico/cni:v3\nbusybox:1\n"),
            ("images/shim/more", "docker.io/calico/cni:v3\n"),
            ("images/skopeo/tar.txt", "docker-archive:a.tar@library/app:1\n"),
            ("images/skopeo/a.tar", ""),
            (".sealignore", "busybox:1\n"),
            ("charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n"),
            ("charts/calico.values.yaml", "a: 1\n"),
        ]);
        expect![[r#"
            manifests/
              manifests/app.yaml:1  docker.io/library/nginx:1.25  -> library/nginx:1.25
            images/shim/
              images/shim/list:1  quay.io/calico/cni:v3  -> calico/cni:v3
              images/shim/more:1  docker.io/calico/cni:v3  -> calico/cni:v3
            images/skopeo/tar.txt (archives)
              images/skopeo/tar.txt:1  library/app:1  -> library/app:1
            charts/ not rendered (their images are missing above)
              charts/app
            skipped (sealos ignores these image: lines)
              manifests/app.yaml:2  `{{ .Values.x }}`: `{{ .Values.x }}` is not a valid image reference: template syntax (`{{ … }}`) is not rendered, the text is read as is
            left out by .sealignore
              images/shim/list:2  busybox:1  (.sealignore:1)
            warnings
              docker.io/calico/cni:v3 (images/shim/more:1), quay.io/calico/cni:v3 (images/shim/list:1) are all stored as calico/cni:v3 in registry/; the last one saved overwrites the others
              charts/calico.values.yaml: no chart in charts/ has this Chart.yaml name, so sealos never applies these values
            3 image(s) to pull and 1 archive(s) to load into registry/
        "#]]
        .assert_eq(&text(&index));
    }

    #[test]
    fn json_has_every_part_of_the_extraction() {
        let index = index(&[
            ("manifests/app.yaml", "image: nginx:1.25\nimage: ${IMG}\n"),
            ("images/shim/list", "Bad:Ref\n"),
        ]);
        let value: serde_json::Value = serde_json::from_str(&json(&index)).unwrap();
        expect![[r#"
            {
              "archives": [],
              "charts": [],
              "collisions": [],
              "errors": [
                "images/shim/list:1: `Bad:Ref` cannot be saved into registry/: `Bad:Ref` is not a valid image reference: path components are lowercase letters and digits joined by `.`, `_`, `__` or dashes"
              ],
              "ignored": [],
              "images": [
                {
                  "file": "images/shim/list",
                  "image": "Bad:Ref",
                  "line": 1,
                  "registry_path": null,
                  "source": "shim"
                },
                {
                  "file": "manifests/app.yaml",
                  "image": "docker.io/library/nginx:1.25",
                  "line": 1,
                  "registry_path": "library/nginx:1.25",
                  "source": "manifest"
                }
              ],
              "orphan_values_files": [],
              "skipped": [
                {
                  "file": "manifests/app.yaml",
                  "line": 2,
                  "reason": "`${IMG}` is not a valid image reference: variables such as `${VAR}` are not expanded, the text is read as is",
                  "source": "manifest",
                  "text": "${IMG}"
                }
              ]
            }"#]]
        .assert_eq(&serde_json::to_string_pretty(&value).unwrap());
    }

    #[test]
    fn text_escapes_control_characters_of_list_lines() {
        let index = index(&[("images/shim/list", "nginx\u{1b}[2J:1\n")]);
        assert!(text(&index).contains("images/shim/list:1  nginx\\u{1b}[2J:1  -> (cannot be saved)"), "{}", text(&index));
    }
}
