//! The base images a build file names, offered after `FROM` in the other build files of the
//! workspace (`completion::CompletionOptions::workspace_images`).

use super::navigation;
use crate::syntax::{ast, fields, NodeField as _, SourceFile};

/// The images the FROM lines of `file` start from, in order and without repeats. Left out:
/// `scratch` (always offered), earlier stages of the same file (`FROM build` names nothing in
/// another file) and references built from variables (`FROM ${BASE}`), whose value is the other
/// file's business.
pub fn base_images(file: &SourceFile) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    let mut images: Vec<String> = Vec::new();
    for from in navigation::from_instructions(file, 0..file.text().len()) {
        if let Some(image) = from.field(&fields::IMAGE).map(|node| ast::literal_text(file, node)) {
            let named_elsewhere = image.is_empty()
                || image.contains('$')
                || image.eq_ignore_ascii_case("scratch")
                || stages.iter().any(|stage| stage.eq_ignore_ascii_case(&image))
                || images.contains(&image);
            if !named_elsewhere {
                images.push(image);
            }
        }
        if let Some(stage) = from.field(&fields::AS) {
            stages.push(ast::literal_text(file, stage));
        }
    }
    images
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_of_from_lines_without_stages_variables_or_scratch() {
        let file = SourceFile::parse(concat!(
            "ARG BASE=alpine\n",
            "FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n",
            "FROM ${BASE}\n",
            "FROM build AS again\n",
            "FROM scratch\n",
            "COPY --from=build /a /a\n",
            "from labring/kubernetes:v1.27.7\n",
            "FROM golang:1.22\n",
            "RUN <<EOF\nFROM not-an-instruction\nEOF\n",
        ));
        assert_eq!(base_images(&file), ["golang:1.22", "labring/kubernetes:v1.27.7"]);
    }

    #[test]
    fn broken_from_lines_give_what_they_name() {
        assert_eq!(base_images(&SourceFile::parse("FROM\nFROM \"nginx\" AS\nFROM")), ["nginx"]);
        assert!(base_images(&SourceFile::parse("")).is_empty());
    }
}
