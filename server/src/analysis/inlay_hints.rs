//! Inlay hints: the value `sealos run` substitutes for `$(VAR)` (and `${VAR}`/`$VAR`) in
//! CMD/ENTRYPOINT, the build-time value of `${VAR...}` elsewhere, and the number of images a
//! `COPY registry ...` ships.

use super::{
    copies,
    docs::{self, Locale},
    navigation::{Index, Role, Scope, SymbolKind},
    variables::{self, Definition, DefinitionKind},
    ContextFacts,
};
use crate::{
    sealos::{env, ImageType},
    syntax::{fields, NodeField as _, SourceFile, TextRange},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlayHintOptions {
    pub locale: Locale,
    /// Also show build-time values of `${VAR}` in ENV/LABEL/COPY/... (not only CMD templates).
    pub build_time_values: bool,
    /// Longest value shown before it is cut with `…`.
    pub max_length: usize,
}

impl Default for InlayHintOptions {
    fn default() -> InlayHintOptions {
        InlayHintOptions { locale: Locale::En, build_time_values: true, max_length: 32 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InlayHintKind {
    /// A value (`= nginx`).
    Type,
    /// A count or note.
    Parameter,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    /// Where the hint is shown (after this byte).
    pub offset: usize,
    pub label: String,
    pub kind: InlayHintKind,
    pub padding_left: bool,
    pub padding_right: bool,
    /// Markdown.
    pub tooltip: Option<String>,
}

/// Hints for the instructions overlapping `range`.
pub fn inlay_hints(
    file: &SourceFile,
    range: TextRange,
    facts: Option<&ContextFacts>,
    opts: &InlayHintOptions,
) -> Vec<InlayHint> {
    let model = super::navigation::local_model(file, range.clone());
    let index = Index::new(file, &model);
    let global = variables::global_args(&model);
    let (image_type, _) = model.image_type();
    let rootfs_env = matches!(image_type, Some(ImageType::Rootfs | ImageType::Patch));
    let mut stage_defs: Vec<Option<Vec<Definition<'_>>>> = vec![None; model.stages.len()];
    let mut hints = Vec::new();
    let overlaps = |r: &TextRange| r.end >= range.start && r.start <= range.end;

    for occurrence in &index.occurrences {
        if occurrence.kind != SymbolKind::Variable || occurrence.role != Role::Read || !overlaps(&occurrence.full_range) {
            continue;
        }
        let Scope::Stage(stage_index) = occurrence.scope else { continue };
        if !occurrence.run_time && !opts.build_time_values {
            continue;
        }
        if occurrence.instruction == "RUN" {
            continue;
        }
        let defs = stage_defs[stage_index]
            .get_or_insert_with(|| variables::stage_definitions(&model, &model.stages[stage_index], None, &global));
        let is_final = stage_index + 1 == model.stages.len();
        let (value, tooltip) = if occurrence.run_time {
            match defs.iter().rev().find(|def| def.kind == DefinitionKind::Env && def.name == occurrence.name) {
                Some(def) => (def.value.clone(), Some(definition_tooltip(file, def, opts.locale))),
                None if is_final && rootfs_env => match env::rootfs_key(&occurrence.name) {
                    Some(key) => (Some(key.default.to_string()), docs::env_markdown(&occurrence.name, opts.locale)),
                    None => (None, None),
                },
                None => (None, None),
            }
        } else {
            let visible: Vec<Definition<'_>> =
                defs.iter().filter(|def| def.instruction.node.start_byte() < occurrence.instruction_start).cloned().collect();
            let node = file.root().descendant_for_byte_range(occurrence.full_range.start, occurrence.full_range.end);
            let Some(node) = node.filter(|n| n.kind() == "expansion") else { continue };
            let defined = visible.iter().rev().find(|def| def.name == occurrence.name);
            if defined.is_none() && node.field(&fields::OPERATOR).is_none() {
                continue;
            }
            let tooltip = defined.map(|def| definition_tooltip(file, def, opts.locale));
            (Some(variables::expand(&model, node, &visible)), tooltip)
        };
        let Some(value) = value else { continue };
        // `ENV NAME=${NAME:-"x"}`: the hint would repeat the literal right next to it.
        if !occurrence.run_time && file.text()[occurrence.full_range.clone()].contains(&format!("\"{value}\"")) {
            continue;
        }
        hints.push(InlayHint {
            offset: occurrence.full_range.end,
            label: format!("= {}", shorten(&value, opts.max_length)),
            kind: InlayHintKind::Type,
            padding_left: true,
            padding_right: false,
            tooltip,
        });
    }

    if let Some(facts) = facts {
        for copy in copies::context_copies(&model) {
            let node = copy.instruction.node;
            if !copy.ships_registry() || !overlaps(&node.byte_range()) {
                continue;
            }
            let count = facts.images.iter().map(|image| image.image.as_str()).collect::<std::collections::BTreeSet<_>>().len();
            let end = file.text()[node.start_byte()..node.end_byte()].find('\n').map_or(node.end_byte(), |i| node.start_byte() + i);
            let label = match opts.locale {
                Locale::En if count == 1 => "1 image".to_string(),
                Locale::En => format!("{count} images"),
                Locale::ZhCn => format!("{count} 个镜像"),
            };
            hints.push(InlayHint {
                offset: end,
                label,
                kind: InlayHintKind::Parameter,
                padding_left: true,
                padding_right: false,
                tooltip: Some(super::hover::images_markdown(facts, opts.locale, 40)),
            });
        }
    }
    hints.sort_by_key(|hint| hint.offset);
    hints
}

fn definition_tooltip(file: &SourceFile, def: &Definition<'_>, locale: Locale) -> String {
    let line = file.line_index().line_of(def.key_node.start_byte()) + 1;
    let keyword = match def.kind {
        DefinitionKind::Env => "ENV",
        DefinitionKind::Arg => "ARG",
    };
    let node = def.key_node.parent().filter(|p| p.kind() == "key_value_pair").unwrap_or(def.key_node);
    let text = file.node_text(node).lines().next().unwrap_or("").trim_end().trim_end_matches('\\').trim_end();
    docs::defined_at(line, &format!("{keyword} {text}"), locale)
}

fn shorten(value: &str, max: usize) -> String {
    let value = value.replace('\n', " ");
    if value.chars().count() > max {
        format!("{}…", value.chars().take(max.saturating_sub(1)).collect::<String>())
    } else if value.is_empty() {
        "\"\"".to_string()
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;
    use crate::analysis::fixture;

    fn check(fixture: &str, expect: Expect) {
        let f = fixture::parse(fixture);
        let hints = inlay_hints(&f.file, 0..f.file.text().len(), f.facts(), &InlayHintOptions::default());
        let mut text = f.file.text().to_string();
        for hint in hints.iter().rev() {
            text.insert_str(hint.offset, &format!("⟨{}⟩", hint.label));
        }
        expect.assert_eq(&text);
    }

    #[test]
    fn values_after_templates_in_cmd() {
        check(
            "FROM scratch\nENV NAME=${NAME:-\"nginx\"} CHARTS=./charts/$NAME OPTS=\"\"\nCMD [\"helm upgrade -i $(NAME) $(CHARTS) ${OPTS} $(UNDEFINED)\"]\n",
            expect![[r#"
                FROM scratch
                ENV NAME=${NAME:-"nginx"} CHARTS=./charts/$NAME OPTS=""
                CMD ["helm upgrade -i $(NAME)⟨= nginx⟩ $(CHARTS)⟨= ./charts/$NAME⟩ ${OPTS}⟨= ""⟩ $(UNDEFINED)"]
            "#]],
        );
    }

    #[test]
    fn rootfs_defaults_and_build_time_values() {
        check(
            "ARG V=1.27.7\nFROM scratch\nARG V\nLABEL sealos.io.type=rootfs version=v${V} image=${IMG:-ghcr.io/labring/lvscare:v5}\nCMD [\"echo $(registryDomain):$(registryPort)\"]\n",
            expect![[r#"
                ARG V=1.27.7
                FROM scratch
                ARG V
                LABEL sealos.io.type=rootfs version=v${V}⟨= 1.27.7⟩ image=${IMG:-ghcr.io/labring/lvscare:v5}⟨= ghcr.io/labring/lvscare:v5⟩
                CMD ["echo $(registryDomain)⟨= sealos.hub⟩:$(registryPort)⟨= 5000⟩"]
            "#]],
        );
    }

    #[test]
    fn image_count_after_copy_registry() {
        check(
            "//- /Kubefile\nFROM scratch\nCOPY registry registry\nCOPY charts charts\n//- /manifests/a.yaml\nimage: nginx:1\nimage: redis:7\n",
            expect![[r#"
                FROM scratch
                COPY registry registry⟨2 images⟩
                COPY charts charts
            "#]],
        );
    }

    #[test]
    fn range_limits_hints() {
        let f = fixture::parse("FROM scratch\nENV A=1\nCMD $(A)\nENTRYPOINT $(A)\n");
        let start = f.file.text().find("ENTRYPOINT").unwrap();
        let hints = inlay_hints(&f.file, start..f.file.text().len(), None, &InlayHintOptions::default());
        assert_eq!(hints.len(), 1);
    }
}
