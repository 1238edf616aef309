//! LABEL keys sealos reads (§2.2). Keys are read with `maps.GetFromKeys`: the first key of a
//! group with a non-empty value wins.

/// What a LABEL key means to sealos.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelRole {
    /// `sealos.io.type`: rootfs, application or patch.
    Type,
    /// `sealos.io.version`: v1beta1 or v1beta2, required for rootfs.
    ApiVersion,
    /// `sealos.io.distribution`: kubernetes, kubeadm or k3s.
    Distribution,
    /// `version`: the Kubernetes version of a rootfs image.
    KubeVersion,
    /// `vip` and `image`: rendered with the rootfs env by sealos itself.
    RenderedByRootfs,
    /// `init`, `check`, `clean`, ...: shell fragments run by `bash` on every node.
    Bootstrap,
}

pub struct LabelKey {
    pub key: &'static str,
    pub role: LabelRole,
}

pub const KEYS: &[LabelKey] = &[
    LabelKey { key: "sealos.io.type", role: LabelRole::Type },
    LabelKey { key: "apps.sealos.io/type", role: LabelRole::Type },
    LabelKey { key: "sealos.io.version", role: LabelRole::ApiVersion },
    LabelKey { key: "apps.sealos.io/version", role: LabelRole::ApiVersion },
    LabelKey { key: "sealos.io.distribution", role: LabelRole::Distribution },
    LabelKey { key: "apps.sealos.io/distribution", role: LabelRole::Distribution },
    LabelKey { key: "version", role: LabelRole::KubeVersion },
    LabelKey { key: "vip", role: LabelRole::RenderedByRootfs },
    LabelKey { key: "image", role: LabelRole::RenderedByRootfs },
    LabelKey { key: "check", role: LabelRole::Bootstrap },
    LabelKey { key: "init", role: LabelRole::Bootstrap },
    LabelKey { key: "clean", role: LabelRole::Bootstrap },
    LabelKey { key: "init-registry", role: LabelRole::Bootstrap },
    LabelKey { key: "clean-registry", role: LabelRole::Bootstrap },
    LabelKey { key: "init-cri", role: LabelRole::Bootstrap },
    LabelKey { key: "clean-cri", role: LabelRole::Bootstrap },
];

pub const API_VERSIONS: &[&str] = &["v1beta1", "v1beta2"];
pub const DISTRIBUTIONS: &[&str] = &["kubernetes", "kubeadm", "k3s"];

/// Reverse-DNS namespaces of other standards and tools, whose labels sealos ignores on purpose.
pub const FOREIGN_NAMESPACES: &[&str] = &[
    "org.opencontainers.",
    "org.label-schema.",
    "io.buildah.",
    "io.k8s.",
    "io.openshift.",
    "com.docker.",
    "io.containers.",
];

pub fn find(key: &str) -> Option<&'static LabelKey> {
    KEYS.iter().find(|label| label.key == key)
}

/// True when `key` sits in a sealos namespace (`sealos.io.x`, `apps.sealos.io/x`).
pub fn in_sealos_namespace(key: &str) -> bool {
    key.starts_with("sealos.io") || key.starts_with("apps.sealos.io") || key.contains(".sealos.io")
}

/// True when `key` is a reverse-DNS or domain-qualified key of some other tool.
pub fn in_foreign_namespace(key: &str) -> bool {
    if FOREIGN_NAMESPACES.iter().any(|ns| key.starts_with(ns)) {
        return true;
    }
    // Any other dotted or domain/path key (`com.example.vendor`, `example.com/owner`) is a
    // namespaced label by Docker's convention; only bare words can be sealos typos.
    key.contains('.') || key.contains('/')
}
