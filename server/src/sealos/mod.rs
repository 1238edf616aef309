//! What Sealos and BuildKit define, as data: instructions and their flags, the LABEL keys sealos
//! reads, the ENV keys of rootfs images. One place to update when Sealos or BuildKit changes;
//! every entry is cited from ../shared/docs/sealos-semantics.md.

pub mod docs;
pub mod env;
pub mod instructions;
pub mod labels;

/// The image type a cluster image declares with `sealos.io.type` (§2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImageType {
    Rootfs,
    Application,
    Patch,
}

impl ImageType {
    pub const ALL: [ImageType; 3] = [ImageType::Rootfs, ImageType::Application, ImageType::Patch];

    pub fn parse(value: &str) -> Option<ImageType> {
        ImageType::ALL.into_iter().find(|kind| kind.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImageType::Rootfs => "rootfs",
            ImageType::Application => "application",
            ImageType::Patch => "patch",
        }
    }
}
