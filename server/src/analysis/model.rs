//! The semantic model of a Kubefile that every feature shares: stages, the labels and image type
//! of the final image, and the ENV/ARG definitions visible at each instruction.

use crate::syntax::NodeKind as _;
use tree_sitter::Node;

use crate::{
    sealos::ImageType,
    syntax::{
        ast::{self, Instruction},
        SourceFile,
    },
};

/// One build stage: a FROM and the instructions up to the next FROM.
pub struct Stage<'t> {
    pub from: Instruction<'t>,
    /// The base image as written, with quotes removed (`scratch`, `labring/kubernetes:v1.27.7`).
    pub base: String,
    pub name: Option<String>,
    pub instructions: Vec<Instruction<'t>>,
}

impl Stage<'_> {
    pub fn is_scratch(&self) -> bool {
        self.base.eq_ignore_ascii_case("scratch")
    }

    /// A base from labring's kubernetes images makes the stage inherit rootfs type and labels.
    pub fn inherits_rootfs(&self) -> bool {
        let repository = self.base.split(['@', ':']).next().unwrap_or("");
        let repository = repository.trim_start_matches("docker.io/");
        repository.starts_with("labring/kubernetes") || repository.starts_with("labring/k3s")
    }
}

/// A LABEL pair of the final stage.
pub struct Label<'t> {
    pub key: String,
    pub key_node: Node<'t>,
    pub value: String,
    pub value_node: Option<Node<'t>>,
}

/// How the image type was decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeSource {
    /// From a `sealos.io.type` / `apps.sealos.io/type` label in the Kubefile.
    Label,
    /// Inherited from a known rootfs base image.
    Base,
    /// No label: sealos treats the image as an application (or the base image decides).
    Default,
}

pub struct Model<'t> {
    pub file: &'t SourceFile,
    pub instructions: Vec<Instruction<'t>>,
    pub stages: Vec<Stage<'t>>,
}

impl<'t> Model<'t> {
    pub fn new(file: &'t SourceFile) -> Model<'t> {
        Model::from_instructions(file, ast::instructions(file))
    }

    /// The model of `file` from its top-level instructions, for callers that have them already.
    pub fn from_instructions(file: &'t SourceFile, instructions: Vec<Instruction<'t>>) -> Model<'t> {
        let mut stages: Vec<Stage<'t>> = Vec::new();
        for instruction in &instructions {
            if instruction.node.kind_name() == "from_instruction" {
                let base = instruction
                    .node
                    .child_by_field_name("image")
                    .map_or_else(String::new, |node| ast::literal_text(file, node));
                let name = instruction.node.child_by_field_name("as").map(|node| ast::literal_text(file, node));
                stages.push(Stage { from: *instruction, base, name, instructions: Vec::new() });
            } else if let Some(stage) = stages.last_mut() {
                stage.instructions.push(*instruction);
            }
        }
        Model { file, instructions, stages }
    }

    /// The stage that becomes the image (the last one).
    pub fn final_stage(&self) -> Option<&Stage<'t>> {
        self.stages.last()
    }

    /// LABEL pairs of the final stage, in order.
    pub fn labels(&self) -> Vec<Label<'t>> {
        let Some(stage) = self.final_stage() else { return Vec::new() };
        let mut labels = Vec::new();
        for instruction in &stage.instructions {
            if instruction.node.kind_name() != "label_instruction" {
                continue;
            }
            for pair in instruction.pairs() {
                let Some(key_node) = pair.key_node() else { continue };
                let value_node = pair.value_node();
                labels.push(Label {
                    key: pair.key(self.file),
                    key_node,
                    value: value_node.map_or_else(String::new, |node| ast::literal_text(self.file, node)),
                    value_node,
                });
            }
        }
        labels
    }

    /// The first non-empty value among `keys`, as sealos's `maps.GetFromKeys` reads it (the last
    /// LABEL of a key wins, as in the image config).
    pub fn label_value(&self, labels: &[Label<'t>], keys: &[&str]) -> Option<String> {
        keys.iter().find_map(|key| {
            labels.iter().rev().find(|label| label.key == *key).map(|label| label.value.clone()).filter(|v| !v.is_empty())
        })
    }

    /// The image type sealos will see, with where it comes from. `None` for a type label whose
    /// value is not a valid type (sealos then never runs the image).
    pub fn image_type(&self) -> (Option<ImageType>, TypeSource) {
        let labels = self.labels();
        if let Some(value) = self.label_value(&labels, &["sealos.io.type", "apps.sealos.io/type"]) {
            return (ImageType::parse(&value), TypeSource::Label);
        }
        if self.final_stage().is_some_and(Stage::inherits_rootfs) {
            return (Some(ImageType::Rootfs), TypeSource::Base);
        }
        (Some(ImageType::Application), TypeSource::Default)
    }

    /// The stage an instruction belongs to.
    pub fn stage_of(&self, node: Node<'_>) -> Option<&Stage<'t>> {
        self.stages.iter().rev().find(|stage| stage.from.node.start_byte() <= node.start_byte())
    }
}
