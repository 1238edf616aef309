//! Document links: COPY/ADD sources to the files and folders of the build context, FROM images
//! (and images in `images/shim` lists) to their registry pages when the registry is known
//! (Docker Hub, ghcr.io, quay.io).

use super::{copies, model::Model, ContextFacts};
use crate::syntax::{ast, fields, NodeField as _, SourceFile, TextRange};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkTarget {
    /// A path relative to the build context root (the LSP layer makes it a `file:` URI).
    ContextPath(String),
    Url(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentLink {
    pub range: TextRange,
    pub target: LinkTarget,
    pub tooltip: Option<String>,
}

/// Links of a Kubefile.
pub fn document_links(file: &SourceFile, facts: Option<&ContextFacts>) -> Vec<DocumentLink> {
    let model = Model::new(file);
    let mut links = Vec::new();
    let mut stages: Vec<String> = Vec::new();
    for instruction in &model.instructions {
        match instruction.node.kind() {
            "from_instruction" => {
                if let Some(image) = instruction.node.field(&fields::IMAGE) {
                    let text = ast::literal_text(file, image);
                    let lowered = text.to_ascii_lowercase();
                    if !stages.contains(&lowered) && !text.contains('$') {
                        if let Some(url) = image_url(&text) {
                            links.push(DocumentLink { range: image.byte_range(), target: LinkTarget::Url(url), tooltip: None });
                        }
                    }
                }
                if let Some(alias) = instruction.node.field(&fields::AS) {
                    stages.push(ast::literal_text(file, alias).to_ascii_lowercase());
                }
            }
            "copy_instruction" | "add_instruction" => {
                let Some(facts) = facts else { continue };
                if instruction.flag(file, "from").is_some() || instruction.json_array().is_some() {
                    continue;
                }
                let paths: Vec<_> = instruction.paths().collect();
                let Some((_, sources)) = paths.split_last() else { continue };
                for source in sources {
                    let raw = ast::literal_text(file, *source);
                    if raw.contains(['$', '*', '?', '[']) || raw.contains("://") {
                        continue;
                    }
                    let path = copies::normalize_source(&raw);
                    if path == "." || path.starts_with("..") || !facts.exists(&path) {
                        continue;
                    }
                    links.push(DocumentLink {
                        range: source.byte_range(),
                        target: LinkTarget::ContextPath(path),
                        tooltip: None,
                    });
                }
            }
            _ => {}
        }
    }
    links
}

/// Links of an `images/shim` list: one per image line whose registry has a web page.
pub fn shim_links(text: &str) -> Vec<DocumentLink> {
    let mut links = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        let trimmed = content.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            let start = offset + (content.len() - content.trim_start().len());
            let image = trimmed.trim_matches(|c| c == '"' || c == '\'');
            let image = image.strip_prefix("docker://").unwrap_or(image);
            if let Some(url) = image_url(image) {
                links.push(DocumentLink { range: start..start + trimmed.len(), target: LinkTarget::Url(url), tooltip: None });
            }
        }
        offset += line.len();
    }
    links
}

/// The web page of an image's repository: Docker Hub, ghcr.io or quay.io; `None` for other
/// registries, `scratch`, local transports and names that are not image references.
pub fn image_url(image: &str) -> Option<String> {
    let image = image.trim();
    if image.is_empty() || image.eq_ignore_ascii_case("scratch") || image.contains(char::is_whitespace) || image.contains("://") {
        return None;
    }
    if image.starts_with("containers-storage:") || image.starts_with("docker-daemon:") {
        return None;
    }
    let name = image.split('@').next()?;
    // Drop a tag: a `:` after the last `/`.
    let name = match (name.rfind(':'), name.rfind('/')) {
        (Some(colon), slash) if slash.is_none_or(|slash| colon > slash) => &name[..colon],
        _ => name,
    };
    let mut parts = name.split('/');
    let first = parts.next()?;
    let has_domain = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let (domain, path) = if has_domain { (first, &name[first.len() + 1..]) } else { ("docker.io", name) };
    let valid = |s: &str| !s.is_empty() && s.split('/').all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
    if !valid(path) {
        return None;
    }
    let path_lower = path.to_ascii_lowercase();
    match domain {
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => {
            let path = path_lower.strip_prefix("library/").unwrap_or(&path_lower);
            if path.contains('/') {
                Some(format!("https://hub.docker.com/r/{path}"))
            } else {
                Some(format!("https://hub.docker.com/_/{path}"))
            }
        }
        "ghcr.io" if path.contains('/') => Some(format!("https://ghcr.io/{path_lower}")),
        "quay.io" if path.contains('/') => Some(format!("https://quay.io/repository/{path_lower}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::analysis::fixture;

    fn render(file: &str, links: &[DocumentLink]) -> String {
        links
            .iter()
            .map(|link| format!("[{}] {:?}", &file[link.range.clone()], link.target))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn copy_sources_and_from_images() {
        let f = fixture::parse(
            "//- /Kubefile\nFROM golang:1.23 AS build\nFROM build\nFROM ghcr.io/labring/lvscare:v5.0.0\nFROM scratch\nCOPY charts ./manifests/ missing ${V} registry\nCOPY --from=build /out /\n//- /charts/a/Chart.yaml\nname: a\n//- /manifests/a.yaml\nx: y\n//- /images/shim/list\nnginx:1\n",
        );
        expect![[r#"
            [golang:1.23] Url("https://hub.docker.com/_/golang")
            [ghcr.io/labring/lvscare:v5.0.0] Url("https://ghcr.io/labring/lvscare")
            [charts] ContextPath("charts")
            [./manifests/] ContextPath("manifests")"#]].assert_eq(&render(f.file.text(), &document_links(&f.file, f.facts())));
    }

    #[test]
    fn registry_pages() {
        let cases = [
            "nginx",
            "nginx:1.25",
            "library/nginx@sha256:abc",
            "docker.io/bitnami/minio:2022",
            "index.docker.io/labring/kubernetes:v1.27.7",
            "ghcr.io/labring/lvscare:v5",
            "quay.io/cilium/cilium:v1.12.0",
            "registry.k8s.io/pause:3.9",
            "localhost:5000/x:1",
            "scratch",
            "containers-storage:x",
            "${BASE}",
        ];
        let out: Vec<String> = cases.iter().map(|image| format!("{image} -> {:?}", image_url(image))).collect();
        expect![[r#"
            nginx -> Some("https://hub.docker.com/_/nginx")
            nginx:1.25 -> Some("https://hub.docker.com/_/nginx")
            library/nginx@sha256:abc -> Some("https://hub.docker.com/_/nginx")
            docker.io/bitnami/minio:2022 -> Some("https://hub.docker.com/r/bitnami/minio")
            index.docker.io/labring/kubernetes:v1.27.7 -> Some("https://hub.docker.com/r/labring/kubernetes")
            ghcr.io/labring/lvscare:v5 -> Some("https://ghcr.io/labring/lvscare")
            quay.io/cilium/cilium:v1.12.0 -> Some("https://quay.io/repository/cilium/cilium")
            registry.k8s.io/pause:3.9 -> None
            localhost:5000/x:1 -> None
            scratch -> None
            containers-storage:x -> None
            ${BASE} -> None"#]].assert_eq(&out.join("\n"));
    }

    #[test]
    fn shim_list_lines() {
        let text = "# comment\ndocker.io/bitnami/minio:2022.5.23\n\n  quay.io/strimzi/operator:0.37.0\r\nregistry.k8s.io/pause:3.9\n";
        expect![[r#"
            [docker.io/bitnami/minio:2022.5.23] Url("https://hub.docker.com/r/bitnami/minio")
            [quay.io/strimzi/operator:0.37.0] Url("https://quay.io/repository/strimzi/operator")"#]].assert_eq(&render(text, &shim_links(text)));
    }
}
