//! Code lenses above the final FROM: "N images will be saved" (from the build context), and
//! "Build image" once the build command exists (off until then).

use super::{diagnostics::FileKind, docs::Locale, model::Model, ContextFacts};
use crate::syntax::{SourceFile, TextRange};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLensOptions {
    pub locale: Locale,
    pub kind: FileKind,
    /// The server can run the build (`kubefile.build`); no "Build image" lens without it.
    pub build_command: bool,
}

impl Default for CodeLensOptions {
    fn default() -> CodeLensOptions {
        CodeLensOptions { locale: Locale::En, kind: FileKind::Kubefile, build_command: false }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeLensKind {
    /// `sealos build` will save this many distinct images into `registry/`.
    ImagesSaved { count: usize },
    /// Run `sealos build` for this file.
    BuildImage,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeLens {
    pub range: TextRange,
    pub title: String,
    /// What the lens does when clicked (the server picks the command).
    pub kind: CodeLensKind,
}

pub fn code_lenses(file: &SourceFile, facts: Option<&ContextFacts>, opts: &CodeLensOptions) -> Vec<CodeLens> {
    if opts.kind != FileKind::Kubefile {
        return Vec::new();
    }
    let model = Model::new(file);
    let Some(stage) = model.final_stage() else { return Vec::new() };
    let range = stage.from.node.byte_range();
    let mut lenses = Vec::new();
    if opts.build_command {
        lenses.push(CodeLens {
            range: range.clone(),
            title: match opts.locale {
                Locale::En => "▶ Build image".to_string(),
                Locale::ZhCn => "▶ 构建镜像".to_string(),
            },
            kind: CodeLensKind::BuildImage,
        });
    }
    if let Some(facts) = facts {
        let mut images: Vec<String> = facts.images.iter().map(|image| image.image.clone()).collect();
        images.sort();
        images.dedup();
        let count = images.len();
        let title = match opts.locale {
            Locale::En if count == 1 => "1 image will be saved".to_string(),
            Locale::En => format!("{count} images will be saved"),
            Locale::ZhCn => format!("将保存 {count} 个镜像"),
        };
        lenses.push(CodeLens {
            range,
            title,
            kind: CodeLensKind::ImagesSaved { count },
        });
    }
    lenses
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn images_lens_above_final_from() {
        let f = fixture::parse("//- /Kubefile\nFROM alpine AS build\nFROM scratch\nCOPY registry registry\n//- /images/shim/list\nnginx:1\nredis:7\nnginx:1\n");
        let lenses = code_lenses(&f.file, f.facts(), &CodeLensOptions { build_command: true, ..CodeLensOptions::default() });
        let out: Vec<String> = lenses
            .iter()
            .map(|lens| format!("{} {} {:?}", fixture::range(&f.file, &lens.range), lens.title, lens.kind))
            .collect();
        expect![[r#"
            2:1-2:13 ▶ Build image BuildImage
            2:1-2:13 2 images will be saved ImagesSaved { count: 2 }"#]].assert_eq(&out.join("\n"));
        let zh = code_lenses(&f.file, f.facts(), &CodeLensOptions { locale: Locale::ZhCn, ..CodeLensOptions::default() });
        assert_eq!(zh[0].title, "将保存 2 个镜像");
    }

    #[test]
    fn no_lens_without_context_or_for_dockerfiles() {
        let f = fixture::parse("FROM scratch\n");
        assert!(code_lenses(&f.file, None, &CodeLensOptions::default()).is_empty());
        let facts = ContextFacts::default();
        let opts = CodeLensOptions { kind: FileKind::Dockerfile, ..CodeLensOptions::default() };
        assert!(code_lenses(&f.file, Some(&facts), &opts).is_empty());
    }
}
