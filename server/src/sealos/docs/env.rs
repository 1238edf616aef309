//! Documentation of the ENV keys of rootfs images and of the `SEALOS_SYS*` variables
//! (sealos-semantics.md §2.4.1, §2.4.2). Default values are in `sealos::env::ROOTFS_KEYS`.

use super::Text;

pub struct EnvDoc {
    pub name: &'static str,
    pub doc: Text,
}

const fn env(name: &'static str, en: &'static str, zh: &'static str) -> EnvDoc {
    EnvDoc { name, doc: Text::new(en, zh) }
}

pub const ENV: &[EnvDoc] = &[
    env(
        "criData",
        "Data directory of the container runtime (`/var/lib/containerd`, `/var/lib/docker` or `/var/lib/crio` in the official images). Used by the CRI config templates and the `clean` label.",
        "容器运行时的数据目录（官方镜像中为 `/var/lib/containerd`、`/var/lib/docker` 或 `/var/lib/crio`）。用于 CRI 配置模板和 `clean` 标签。",
    ),
    env(
        "criDockerdData",
        "Data directory of cri-dockerd (docker rootfs only). Used by `cri-docker.service.tmpl`.",
        "cri-dockerd 的数据目录（仅 docker rootfs）。用于 `cri-docker.service.tmpl`。",
    ),
    env(
        "registryData",
        "Directory of the cluster registry's storage on registry hosts; `<rootfs>/registry` is linked there before `init-registry` runs.",
        "镜像仓库节点上集群镜像仓库的存储目录；执行 `init-registry` 之前，`<rootfs>/registry` 会被链接到这里。",
    ),
    env("registryConfig", "Configuration directory of the cluster registry.", "集群镜像仓库的配置目录。"),
    env(
        "registryDomain",
        "Host name of the cluster registry (`sealos.hub`). Nodes pull saved images as `<registryDomain>:<registryPort>/<repo>:<tag>`.",
        "集群镜像仓库的主机名（`sealos.hub`）。节点以 `<registryDomain>:<registryPort>/<repo>:<tag>` 拉取保存的镜像。",
    ),
    env("registryPort", "Port of the cluster registry (`5000`).", "集群镜像仓库的端口（`5000`）。"),
    env("registryUsername", "User name of the cluster registry.", "集群镜像仓库的用户名。"),
    env("registryPassword", "Password of the cluster registry.", "集群镜像仓库的密码。"),
    env("disableApparmor", "Disables AppArmor in the containerd config (containerd rootfs only).", "在 containerd 配置中禁用 AppArmor（仅 containerd rootfs）。"),
    env(
        "SEALOS_SYS_CRI_ENDPOINT",
        "Socket of the container runtime, used by the templates of image-cri-shim, kubelet and crictl. Defined by rootfs images only.",
        "容器运行时的套接字，供 image-cri-shim、kubelet 和 crictl 的模板使用。只应由 rootfs 镜像定义。",
    ),
    env(
        "SEALOS_SYS_IMAGE_ENDPOINT",
        "Socket of image-cri-shim, read by sealos itself for the kubelet `ImageServiceEndpoint`. A rootfs without it gets the broken `unix://`. Defined by rootfs images only.",
        "image-cri-shim 的套接字，sealos 会读取它作为 kubelet 的 `ImageServiceEndpoint`。rootfs 缺少它时会得到错误的 `unix://`。只应由 rootfs 镜像定义。",
    ),
    env(
        "defaultVIP",
        "Default virtual IP of the API server, read through the `vip` label (`\\$defaultVIP`). The official builds pass it with `sealos build --env defaultVIP=10.103.97.2`.",
        "API server 的默认虚拟 IP，通过 `vip` 标签（`\\$defaultVIP`）读取。官方构建用 `sealos build --env defaultVIP=10.103.97.2` 传入。",
    ),
    env(
        "sandboxImage",
        "The pause image without its registry (e.g. `pause:3.9`); templates pull it as `<registryDomain>:<registryPort>/<sandboxImage>`.",
        "不含仓库地址的 pause 镜像（例如 `pause:3.9`）；模板以 `<registryDomain>:<registryPort>/<sandboxImage>` 拉取。",
    ),
    env(
        "SEALOS_SYS_KUBE_VERSION",
        "Set by sealos at `sealos run` to the rootfs `version` label, for rootfs images (and the remote render of patch images). Application images do not receive it; a Kubefile ENV with this name is overwritten.",
        "由 sealos 在 `sealos run` 时设置为 rootfs 的 `version` 标签，适用于 rootfs 镜像（以及 patch 镜像的远程渲染）。application 镜像拿不到它；Kubefile 中同名的 ENV 会被覆盖。",
    ),
    env(
        "SEALOS_SYS_SEALOS_VERSION",
        "Set by sealos at `sealos run` to its own version, for rootfs images (and the remote render of patch images). Application images do not receive it.",
        "由 sealos 在 `sealos run` 时设置为它自身的版本，适用于 rootfs 镜像（以及 patch 镜像的远程渲染）。application 镜像拿不到它。",
    ),
    env(
        "SEALOS_SYS_RUN_MODE",
        "Set per node during the remote template render of rootfs and patch images: the node's roles joined with `,` (e.g. `master,amd64`). Test it with `contains \"master\" .SEALOS_SYS_RUN_MODE`.",
        "在 rootfs 与 patch 镜像的远程模板渲染时按节点设置：节点角色以 `,` 连接（例如 `master,amd64`）。可用 `contains \"master\" .SEALOS_SYS_RUN_MODE` 判断。",
    ),
];

/// Any other `SEALOS_SYS*` name.
pub const SYSTEM_PREFIX_DOC: Text = Text::new(
    "The `SEALOS_SYS` prefix is reserved for sealos: keys with it are dropped from the Clusterfile env (\"envs with prefix SEALOS_SYS are sealos system only\").",
    "`SEALOS_SYS` 前缀为 sealos 保留：Clusterfile env 中带该前缀的键会被丢弃（\"envs with prefix SEALOS_SYS are sealos system only\"）。",
);

pub fn find(name: &str) -> Option<&'static EnvDoc> {
    ENV.iter().find(|doc| doc.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_rootfs_key_and_builtin_has_docs() {
        for key in crate::sealos::env::ROOTFS_KEYS {
            assert!(super::find(key.name).is_some(), "{} has no docs", key.name);
        }
        for name in crate::sealos::env::BUILTINS {
            assert!(super::find(name).is_some(), "{name} has no docs");
        }
    }
}
