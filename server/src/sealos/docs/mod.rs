//! Documentation texts for hover, completion and signature help, in English and Simplified
//! Chinese, written for this project. Texts are Markdown; `analysis::docs` renders them as plain
//! text for clients without Markdown support.
//!
//! One row per fact, like the other `sealos` tables: a new flag or label is one row here.

pub mod directives;
pub mod env;
pub mod flags;
pub mod instructions;
pub mod labels;
pub mod signatures;

/// The language documentation is shown in: the client's `locale` from `initialize`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Locale {
    #[default]
    En,
    ZhCn,
}

impl Locale {
    /// `zh`, `zh-CN`, `zh-Hans`, `zh_CN.UTF-8`, ... → Simplified Chinese; anything else English.
    /// Traditional Chinese tags (`zh-TW`, `zh-HK`, `zh-Hant`) fall back to English.
    pub fn from_tag(tag: &str) -> Locale {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split(['-', '.']);
        if parts.next() != Some("zh") {
            return Locale::En;
        }
        match parts.next() {
            None | Some("cn" | "hans" | "sg" | "my" | "utf8" | "utf-8") => Locale::ZhCn,
            Some(_) => Locale::En,
        }
    }
}

/// One text in both languages.
#[derive(Clone, Copy, Debug)]
pub struct Text {
    pub en: &'static str,
    pub zh: &'static str,
}

impl Text {
    pub const fn new(en: &'static str, zh: &'static str) -> Text {
        Text { en, zh }
    }

    pub fn get(&self, locale: Locale) -> &'static str {
        match locale {
            Locale::En => self.en,
            Locale::ZhCn if self.zh.is_empty() => self.en,
            Locale::ZhCn => self.zh,
        }
    }
}

/// Short phrases the features put around the table texts.
pub mod phrases {
    use super::Text;

    pub const AT_SEALOS_RUN: Text = Text::new("At `sealos run`", "`sealos run` 时");
    pub const UNDEFINED: Text = Text::new("Not defined in this file", "本文件中未定义");
    pub const DEFAULT: Text = Text::new("default", "默认值");
    pub const ROOTFS_DEFAULT: Text = Text::new("Default in the official rootfs images", "官方 rootfs 镜像中的默认值");
    pub const NO_IMAGES: Text = Text::new(
        "No image source (`charts/`, `manifests/`, `images/shim/`, `images/skopeo/tar.txt`) lists an image: `sealos build` will not create `registry/` and this COPY fails.",
        "构建上下文中没有任何镜像来源（`charts/`、`manifests/`、`images/shim/`、`images/skopeo/tar.txt`）：`sealos build` 不会创建 `registry/`，这条 COPY 会失败。",
    );
    pub const UNKNOWN_CONTEXT: Text = Text::new(
        "The build context is not known (unsaved file): the images cannot be listed.",
        "构建上下文未知（文件未保存）：无法列出镜像。",
    );
    pub const AND_MORE: Text = Text::new("and {n} more", "另有 {n} 个");
    pub const STAGE: Text = Text::new("Build stage", "构建阶段");
    pub const BASE_IMAGE: Text = Text::new("base image", "基础镜像");
    pub const FINAL_STAGE: Text = Text::new("This is the last stage: it becomes the image.", "这是最后一个阶段：它就是最终镜像。");
    pub const NOT_IN_IMAGE: Text = Text::new(
        "ARG values are not part of the image: `sealos run` cannot see them.",
        "ARG 的值不会写入镜像：`sealos run` 看不到它们。",
    );
    pub const NO_EFFECT_AT_RUN: Text = Text::new("no effect at `sealos run`", "`sealos run` 时无效");
    pub const IMAGE_TYPE: Text = Text::new("Image type", "镜像类型");
    pub const SAVED_AS: Text = Text::new(
        "`sealos build` pulls `{pulled}` and saves it into `registry/` as `{path}`.",
        "`sealos build` 会拉取 `{pulled}`，并以 `{path}` 保存到 `registry/` 中。",
    );
    pub const ALSO_NAMED_IN: Text = Text::new("Also named in", "也出现在");
    pub const BUILDKIT_ONLY: Text = Text::new("BuildKit only: no kubefile-ls rule", "仅 BuildKit：没有对应的 kubefile-ls 规则");
    pub const EVERY_BUILD_CHECK: Text = Text::new("every build check", "所有构建检查");
}
