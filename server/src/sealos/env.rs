//! ENV keys with a meaning to sealos (§2.4.1, §2.4.2).

/// An ENV key the official rootfs images define, with its containerd default.
pub struct RootfsKey {
    pub name: &'static str,
    pub default: &'static str,
}

pub const ROOTFS_KEYS: &[RootfsKey] = &[
    RootfsKey { name: "criData", default: "/var/lib/containerd" },
    RootfsKey { name: "criDockerdData", default: "/var/lib/cri-dockerd" },
    RootfsKey { name: "registryData", default: "/var/lib/registry" },
    RootfsKey { name: "registryConfig", default: "/etc/registry" },
    RootfsKey { name: "registryDomain", default: "sealos.hub" },
    RootfsKey { name: "registryPort", default: "5000" },
    RootfsKey { name: "registryUsername", default: "admin" },
    RootfsKey { name: "registryPassword", default: "passw0rd" },
    RootfsKey { name: "disableApparmor", default: "false" },
    RootfsKey { name: "SEALOS_SYS_CRI_ENDPOINT", default: "/var/run/containerd/containerd.sock" },
    RootfsKey { name: "SEALOS_SYS_IMAGE_ENDPOINT", default: "/var/run/image-cri-shim.sock" },
    RootfsKey { name: "defaultVIP", default: "10.103.97.2" },
    RootfsKey { name: "sandboxImage", default: "pause:3.9" },
];

/// Values sealos sets itself when it runs rootfs (and, remotely, patch) images.
pub const BUILTINS: &[&str] = &["SEALOS_SYS_KUBE_VERSION", "SEALOS_SYS_SEALOS_VERSION", "SEALOS_SYS_RUN_MODE"];

/// The prefix sealos reserves: Clusterfile env with it is dropped (§2.4.2).
pub const SYSTEM_PREFIX: &str = "SEALOS_SYS";

/// Keys sealos always overwrites, so setting them in a Kubefile has no effect.
pub const OVERWRITTEN: &[&str] = &["SEALOS_SYS_KUBE_VERSION", "SEALOS_SYS_SEALOS_VERSION", "SEALOS_SYS_RUN_MODE"];

/// Keys the official rootfs images legitimately define in their Kubefile.
pub const ROOTFS_ENDPOINTS: &[&str] = &["SEALOS_SYS_CRI_ENDPOINT", "SEALOS_SYS_IMAGE_ENDPOINT"];

/// ARGs BuildKit predefines (proxy and platform ARGs), usable without an ARG line.
pub const PREDEFINED_ARGS: &[&str] = &[
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy",
    "ALL_PROXY", "all_proxy", "TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM",
    "BUILDOS", "BUILDARCH", "BUILDVARIANT",
];

pub fn rootfs_key(name: &str) -> Option<&'static RootfsKey> {
    ROOTFS_KEYS.iter().find(|key| key.name == name)
}
