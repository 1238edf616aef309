//! Documentation of the LABEL keys sealos reads and of their values (sealos-semantics.md §2.2, §2.3).

use super::Text;
use crate::sealos::labels::LabelRole;

pub struct LabelDoc {
    pub key: &'static str,
    pub doc: Text,
    /// The value inserted after `key=` by completion, in snippet syntax.
    pub value_snippet: &'static str,
    /// Only rootfs images should carry it.
    pub rootfs_only: bool,
}

const fn label(key: &'static str, value_snippet: &'static str, rootfs_only: bool, en: &'static str, zh: &'static str) -> LabelDoc {
    LabelDoc { key, doc: Text::new(en, zh), value_snippet, rootfs_only }
}

const TYPE_EN: &str = "The image type, read at `sealos run` (case-sensitive): `rootfs` (the cluster's base: Kubernetes binaries, bootstrap scripts and registry), `application` (installed on master0; the default when the label is missing) or `patch` (overlaid onto the rootfs of every node). Any other value makes sealos skip the image's files and CMD; only its `registry/` is synced.";
const TYPE_ZH: &str = "镜像类型，`sealos run` 时读取（区分大小写）：`rootfs`（集群基础：Kubernetes 二进制、引导脚本和镜像仓库）、`application`（安装在 master0 上；缺少该标签时的默认值）或 `patch`（覆盖到每个节点的 rootfs 上）。其他任何值都会让 sealos 跳过该镜像的文件和 CMD，只同步其 `registry/`。";
const VERSION_EN: &str = "The cluster API version of a **rootfs** image: `v1beta1` or `v1beta2`. Required when the rootfs creates a cluster (\"can't apply rootfs type images and version ... not [v1beta1 v1beta2]\"); ignored for other types.";
const VERSION_ZH: &str = "**rootfs** 镜像的集群 API 版本：`v1beta1` 或 `v1beta2`。用 rootfs 创建集群时必须提供（否则报错 \"can't apply rootfs type images and version ... not [v1beta1 v1beta2]\"）；其他类型忽略。";
const DISTRIBUTION_EN: &str = "The Kubernetes distribution of a **rootfs** image (sealos v5.0+): `kubernetes`, `kubeadm` or empty select kubeadm, `k3s` selects k3s. Any other value fails with \"unsupported distribution\".";
const DISTRIBUTION_ZH: &str = "**rootfs** 镜像的 Kubernetes 发行版（sealos v5.0+）：`kubernetes`、`kubeadm` 或留空表示 kubeadm，`k3s` 表示 k3s。其他值会报错 \"unsupported distribution\"。";

pub const LABELS: &[LabelDoc] = &[
    label("sealos.io.type", "\"${1|application,rootfs,patch|}\"", false, TYPE_EN, TYPE_ZH),
    label(
        "apps.sealos.io/type",
        "\"${1|application,rootfs,patch|}\"",
        false,
        "The v2 spelling of `sealos.io.type` (sealos v5.0+), read when `sealos.io.type` is missing or empty.",
        "`sealos.io.type` 的 v2 写法（sealos v5.0+），在 `sealos.io.type` 缺失或为空时读取。",
    ),
    label("sealos.io.version", "\"${1|v1beta1,v1beta2|}\"", false, VERSION_EN, VERSION_ZH),
    label(
        "apps.sealos.io/version",
        "\"${1|v1beta1,v1beta2|}\"",
        false,
        "The v2 spelling of `sealos.io.version` (sealos v5.0+).",
        "`sealos.io.version` 的 v2 写法（sealos v5.0+）。",
    ),
    label("sealos.io.distribution", "\"${1|kubernetes,kubeadm,k3s|}\"", true, DISTRIBUTION_EN, DISTRIBUTION_ZH),
    label(
        "apps.sealos.io/distribution",
        "\"${1|kubernetes,kubeadm,k3s|}\"",
        true,
        "The v2 spelling of `sealos.io.distribution` (sealos v5.0+).",
        "`sealos.io.distribution` 的 v2 写法（sealos v5.0+）。",
    ),
    label(
        "version",
        "\"${1:v1.27.7}\"",
        true,
        "The Kubernetes version of a **rootfs** image, e.g. `v1.27.7`. Required (\"cluster image kubernetes version cannot be empty\"); it becomes `SEALOS_SYS_KUBE_VERSION` and must be semver, or upgrades panic.",
        "**rootfs** 镜像的 Kubernetes 版本，例如 `v1.27.7`。必填（否则报错 \"cluster image kubernetes version cannot be empty\"）；它会成为 `SEALOS_SYS_KUBE_VERSION`，且必须符合 semver，否则升级时会 panic。",
    ),
    label(
        "vip",
        "\"\\\\\\$defaultVIP\"",
        true,
        "The virtual IP of the API server for lvscare, read from the **rootfs** image and rendered by sealos with the rootfs ENV (`$defaultVIP`, `${defaultVIP}` and `$(defaultVIP)` work). Write `\"\\$defaultVIP\"` so that buildah does not expand it at build time. An empty value breaks lvscare (\"vip and mster not allow empty\").",
        "API server 的虚拟 IP，供 lvscare 使用；从 **rootfs** 镜像读取，由 sealos 用 rootfs 的 ENV 渲染（支持 `$defaultVIP`、`${defaultVIP}` 和 `$(defaultVIP)`）。请写成 `\"\\$defaultVIP\"`，避免 buildah 在构建时展开。值为空会导致 lvscare 失败（\"vip and mster not allow empty\"）。",
    ),
    label(
        "image",
        "\"${1:ghcr.io/labring/lvscare:v5.0.0}\"",
        true,
        "The lvscare (IPVS) image of a **rootfs** image, rendered like `vip`. When empty, sealos uses `sealos.hub:5000/sealos/lvscare:latest`; list the same image in `images/shim/` so that it is saved into `registry/`.",
        "**rootfs** 镜像使用的 lvscare（IPVS）镜像，渲染方式与 `vip` 相同。为空时 sealos 使用 `sealos.hub:5000/sealos/lvscare:latest`；请把同一镜像写进 `images/shim/`，以便保存到 `registry/`。",
    ),
    label("check", "\"${1:check.sh}\"", true, "", ""),
    label("init", "\"${1:init.sh}\"", true, "", ""),
    label("clean", "\"${1:clean.sh}\"", true, "", ""),
    label("init-registry", "\"${1:init-registry.sh}\"", true, "", ""),
    label("clean-registry", "\"${1:clean-registry.sh}\"", true, "", ""),
    label("init-cri", "\"${1:init-cri.sh}\"", true, "", ""),
    label("clean-cri", "\"${1:clean-cri.sh}\"", true, "", ""),
];

/// What each bootstrap label does, in addition to the shared bootstrap text.
pub const BOOTSTRAP_STEPS: &[(&str, Text)] = &[
    ("check", Text::new("Preflight check, the first step of `sealos run`. Default: `bash check.sh`.", "预检，`sealos run` 的第一步。默认：`bash check.sh`。")),
    ("init", Text::new("Initialises the node (CRI, kubelet, ...), the last bootstrap step. Default: `bash init.sh`.", "初始化节点（CRI、kubelet 等），引导的最后一步。默认：`bash init.sh`。")),
    ("clean", Text::new("Undoes `init` when a node is reset or removed. Default: `bash clean.sh`.", "重置或移除节点时撤销 `init`。默认：`bash clean.sh`。")),
    ("init-registry", Text::new("Starts the image registry on registry hosts, after `<rootfs>/registry` is linked to `registryData`. Default: `bash init-registry.sh`.", "在 `<rootfs>/registry` 链接到 `registryData` 之后，在镜像仓库节点上启动镜像仓库。默认：`bash init-registry.sh`。")),
    ("clean-registry", Text::new("Stops and removes the registry. Default: `bash clean-registry.sh`.", "停止并移除镜像仓库。默认：`bash clean-registry.sh`。")),
    ("init-cri", Text::new("Installs the container runtime (sealos v5.0+). No default: skipped when the label is absent.", "安装容器运行时（sealos v5.0+）。没有默认值：缺少该标签时跳过。")),
    ("clean-cri", Text::new("Removes the container runtime (sealos v5.0+). No default: skipped when the label is absent.", "移除容器运行时（sealos v5.0+）。没有默认值：缺少该标签时跳过。")),
];

pub const BOOTSTRAP_SHARED: Text = Text::new(
    "A bootstrap step of a **rootfs** image: sealos runs `bash <value>` after `cd <rootfs>/scripts`, with the rootfs ENV exported. Write `\\$registryDomain` to let the node's shell expand a variable. Bootstrap labels merge across every image of the cluster and the last one wins, so application and patch images must not set them.",
    "**rootfs** 镜像的引导步骤：sealos 在 `cd <rootfs>/scripts` 后执行 `bash <值>`，并导出 rootfs 的 ENV。要让节点上的 shell 展开变量，请写 `\\$registryDomain`。引导标签在集群所有镜像之间合并，最后一个生效，因此 application 和 patch 镜像不应设置它们。",
);

pub fn find(key: &str) -> Option<&'static LabelDoc> {
    LABELS.iter().find(|doc| doc.key == key)
}

/// The documentation of a label key (the bootstrap keys share one text plus their step).
pub fn key_doc(key: &str) -> Option<(Text, Option<Text>)> {
    let doc = find(key)?;
    if doc.doc.en.is_empty() {
        let step = BOOTSTRAP_STEPS.iter().find(|(k, _)| *k == key).map(|(_, text)| *text);
        return Some((BOOTSTRAP_SHARED, step));
    }
    Some((doc.doc, None))
}

/// Documentation of one valid value of a label role.
pub struct LabelValueDoc {
    pub role: LabelRole,
    pub value: &'static str,
    pub doc: Text,
}

pub const VALUES: &[LabelValueDoc] = &[
    LabelValueDoc {
        role: LabelRole::Type,
        value: "application",
        doc: Text::new(
            "An application image (the default): at `sealos run` its files are copied to master0 only, to `/var/lib/sealos/data/<cluster>/applications/<name>/workdir`, and its CMD runs there once, with the image ENV, within `SEALOS_EXECUTION_TIMEOUT` (300 s). Needs a rootfs image in the cluster.",
            "应用镜像（默认）：`sealos run` 时其文件只复制到 master0 的 `/var/lib/sealos/data/<cluster>/applications/<name>/workdir`，CMD 在那里带着镜像 ENV 执行一次，时限为 `SEALOS_EXECUTION_TIMEOUT`（300 秒）。集群中需要先有 rootfs 镜像。",
        ),
    },
    LabelValueDoc {
        role: LabelRole::Type,
        value: "rootfs",
        doc: Text::new(
            "The cluster's base image: copied (without `registry/`) to every node at `/var/lib/sealos/data/<cluster>/rootfs`, bootstrapped with its `check`/`init-registry`/`init-cri`/`init` labels, and its CMD runs on every node. Needs `sealos.io.version`, `version` and `vip`; sealos adds `SEALOS_SYS_KUBE_VERSION` and `SEALOS_SYS_SEALOS_VERSION` to its ENV.",
            "集群的基础镜像：（不含 `registry/`）复制到每个节点的 `/var/lib/sealos/data/<cluster>/rootfs`，通过 `check`/`init-registry`/`init-cri`/`init` 标签引导，CMD 在每个节点上执行。需要 `sealos.io.version`、`version` 和 `vip`；sealos 会向其 ENV 加入 `SEALOS_SYS_KUBE_VERSION` 和 `SEALOS_SYS_SEALOS_VERSION`。",
        ),
    },
    LabelValueDoc {
        role: LabelRole::Type,
        value: "patch",
        doc: Text::new(
            "A patch image: overlaid onto the rootfs directory of every node (it can replace rootfs scripts and binaries), templates are rendered with the rootfs ENV, and its CMD runs on every node in the rootfs directory.",
            "补丁镜像：覆盖到每个节点的 rootfs 目录（可以替换 rootfs 中的脚本和二进制），模板用 rootfs 的 ENV 渲染，CMD 在每个节点的 rootfs 目录中执行。",
        ),
    },
    LabelValueDoc {
        role: LabelRole::ApiVersion,
        value: "v1beta1",
        doc: Text::new("The API version the official rootfs images declare.", "官方 rootfs 镜像声明的 API 版本。"),
    },
    LabelValueDoc {
        role: LabelRole::ApiVersion,
        value: "v1beta2",
        doc: Text::new("Also accepted for rootfs images.", "rootfs 镜像也接受该版本。"),
    },
    LabelValueDoc {
        role: LabelRole::Distribution,
        value: "kubernetes",
        doc: Text::new("Kubernetes installed with kubeadm (same as `kubeadm` or an empty value).", "用 kubeadm 安装的 Kubernetes（与 `kubeadm` 或空值相同）。"),
    },
    LabelValueDoc {
        role: LabelRole::Distribution,
        value: "kubeadm",
        doc: Text::new("Kubernetes installed with kubeadm.", "用 kubeadm 安装的 Kubernetes。"),
    },
    LabelValueDoc {
        role: LabelRole::Distribution,
        value: "k3s",
        doc: Text::new("A k3s cluster (the rootfs brings k3s and uses `init-cri`/`clean-cri`).", "k3s 集群（rootfs 自带 k3s，并使用 `init-cri`/`clean-cri`）。"),
    },
];

pub fn values_of(role: LabelRole) -> impl Iterator<Item = &'static LabelValueDoc> {
    VALUES.iter().filter(move |value| value.role == role)
}

pub fn value_doc(role: LabelRole, value: &str) -> Option<&'static LabelValueDoc> {
    VALUES.iter().find(|doc| doc.role == role && doc.value == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sealos_label_has_docs() {
        for key in crate::sealos::labels::KEYS {
            let (doc, _) = key_doc(key.key).unwrap_or_else(|| panic!("{} has no docs", key.key));
            assert!(!doc.en.is_empty() && !doc.zh.is_empty());
        }
    }
}
