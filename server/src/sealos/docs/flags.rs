//! Documentation and known values of instruction flags. The flags themselves (and whether they
//! take a value) are in `sealos::instructions::FLAGS`; a flag without a row here still completes.

use super::Text;

pub struct FlagDoc {
    pub instruction: &'static str,
    pub name: &'static str,
    /// How the flag is written, for completion details and signature help.
    pub syntax: &'static str,
    pub doc: Text,
    /// Values offered after `--name=`.
    pub values: &'static [&'static str],
    /// The flag may be given more than once.
    pub repeatable: bool,
}

const fn flag(
    instruction: &'static str,
    name: &'static str,
    syntax: &'static str,
    values: &'static [&'static str],
    en: &'static str,
    zh: &'static str,
) -> FlagDoc {
    FlagDoc { instruction, name, syntax, doc: Text::new(en, zh), values, repeatable: false }
}

const fn repeatable(
    instruction: &'static str,
    name: &'static str,
    syntax: &'static str,
    values: &'static [&'static str],
    en: &'static str,
    zh: &'static str,
) -> FlagDoc {
    FlagDoc { repeatable: true, ..flag(instruction, name, syntax, values, en, zh) }
}

const PLATFORMS: &[&str] = &["linux/amd64", "linux/arm64", "$BUILDPLATFORM", "$TARGETPLATFORM"];
const BOOLEANS: &[&str] = &["true", "false"];

pub const FLAGS: &[FlagDoc] = &[
    flag(
        "FROM",
        "platform",
        "--platform=<os>/<arch>[/<variant>]",
        PLATFORMS,
        "Pulls the base image for this platform instead of the target platform. A cluster image is built for one architecture per `sealos build --platform`; combine the results with `sealos manifest`.",
        "按该平台拉取基础镜像，而不是目标平台。集群镜像每次 `sealos build --platform` 只构建一种架构；多架构请用 `sealos manifest` 合并。",
    ),
    repeatable(
        "RUN",
        "mount",
        "--mount=type=<bind|cache|tmpfs|secret|ssh>[,option=value...]",
        &["type=bind,source=,target=", "type=cache,target=", "type=tmpfs,target=", "type=secret,id=", "type=ssh"],
        "Mounts a filesystem while the command runs: a bind mount from the context or a stage, a persistent cache, a tmpfs, a secret or an SSH agent socket.",
        "在命令执行期间挂载文件系统：来自上下文或其他阶段的绑定挂载、持久缓存、tmpfs、secret 或 SSH agent 套接字。",
    ),
    flag(
        "RUN",
        "network",
        "--network=<default|none|host>",
        &["default", "none", "host"],
        "The network the command runs in: `none` has no network access, `host` uses the host's network.",
        "命令执行时使用的网络：`none` 无网络，`host` 使用宿主机网络。",
    ),
    flag(
        "RUN",
        "security",
        "--security=<sandbox|insecure>",
        &["sandbox", "insecure"],
        "`insecure` runs the command with elevated privileges (needs the builder's entitlement).",
        "`insecure` 以提升的权限执行命令（需要构建器授权）。",
    ),
    repeatable(
        "RUN",
        "device",
        "--device=<name>[,required]",
        &[],
        "Makes a CDI device available to the command.",
        "让命令可以使用一个 CDI 设备。",
    ),
    flag(
        "COPY",
        "from",
        "--from=<stage|image|context>",
        &[],
        "Copies from an earlier build stage (by name or index), an image, or a named build context instead of the build context. Files from other stages are not checked against the context.",
        "从之前的构建阶段（名称或序号）、镜像或命名的构建上下文复制，而不是从构建上下文复制。",
    ),
    flag(
        "COPY",
        "chown",
        "--chown=<user>[:<group>]",
        &[],
        "Owner of the copied files. sealos copies the image files to the nodes without keeping this owner.",
        "复制后文件的属主。sealos 把镜像文件复制到节点时不会保留该属主。",
    ),
    flag(
        "COPY",
        "chmod",
        "--chmod=<perms>",
        &["0755", "0644"],
        "Permissions of the copied files (octal, or symbolic with BuildKit 1.14+). Note that sealos runs `chmod -R 0755` on the mounted image after rendering templates.",
        "复制后文件的权限（八进制；BuildKit 1.14+ 也支持符号形式）。注意 sealos 在渲染模板后会对挂载的镜像执行 `chmod -R 0755`。",
    ),
    flag(
        "COPY",
        "link",
        "--link[=<boolean>]",
        BOOLEANS,
        "Copies into an independent layer, so the layer can be reused when earlier layers change.",
        "复制到独立的层中，前面的层变化时该层仍可复用。",
    ),
    flag(
        "COPY",
        "parents",
        "--parents[=<boolean>]",
        BOOLEANS,
        "Keeps the parent directories of the sources under the destination.",
        "在目标下保留源路径的父目录结构。",
    ),
    repeatable(
        "COPY",
        "exclude",
        "--exclude=<pattern>",
        &[],
        "Leaves out files matching the pattern (may be repeated).",
        "排除匹配该模式的文件（可重复使用）。",
    ),
    flag("ADD", "chown", "--chown=<user>[:<group>]", &[], "Owner of the added files.", "添加后文件的属主。"),
    flag("ADD", "chmod", "--chmod=<perms>", &["0755", "0644"], "Permissions of the added files.", "添加后文件的权限。"),
    flag(
        "ADD",
        "link",
        "--link[=<boolean>]",
        BOOLEANS,
        "Adds into an independent layer, so the layer can be reused when earlier layers change.",
        "添加到独立的层中，前面的层变化时该层仍可复用。",
    ),
    flag(
        "ADD",
        "keep-git-dir",
        "--keep-git-dir[=<boolean>]",
        BOOLEANS,
        "Keeps the `.git` directory when adding a git repository.",
        "添加 git 仓库时保留 `.git` 目录。",
    ),
    flag(
        "ADD",
        "checksum",
        "--checksum=<sha256:...>",
        &["sha256:"],
        "Verifies the checksum of a remote source.",
        "校验远程来源的校验和。",
    ),
    flag(
        "ADD",
        "unpack",
        "--unpack[=<boolean>]",
        BOOLEANS,
        "Whether archives are unpacked (by default local archives are, remote ones are not).",
        "是否解压归档文件（默认解压本地归档，不解压远程归档）。",
    ),
    repeatable("ADD", "exclude", "--exclude=<pattern>", &[], "Leaves out files matching the pattern.", "排除匹配该模式的文件。"),
    flag(
        "HEALTHCHECK",
        "interval",
        "--interval=<duration>",
        &["30s"],
        "Time between checks (default 30s).",
        "两次检查之间的间隔（默认 30s）。",
    ),
    flag(
        "HEALTHCHECK",
        "timeout",
        "--timeout=<duration>",
        &["30s"],
        "Time after which a check is considered failed (default 30s).",
        "单次检查超时时间（默认 30s）。",
    ),
    flag(
        "HEALTHCHECK",
        "start-period",
        "--start-period=<duration>",
        &["0s"],
        "Start-up time during which failures do not count (default 0s).",
        "启动期，期间的失败不计入（默认 0s）。",
    ),
    flag(
        "HEALTHCHECK",
        "start-interval",
        "--start-interval=<duration>",
        &["5s"],
        "Time between checks during the start period (default 5s).",
        "启动期内两次检查之间的间隔（默认 5s）。",
    ),
    flag(
        "HEALTHCHECK",
        "retries",
        "--retries=<n>",
        &["3"],
        "Consecutive failures before the container is unhealthy (default 3).",
        "连续失败多少次后容器被视为不健康（默认 3）。",
    ),
];

pub fn find(instruction: &str, name: &str) -> Option<&'static FlagDoc> {
    FLAGS.iter().find(|doc| doc.instruction.eq_ignore_ascii_case(instruction) && doc.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_flag_has_docs() {
        for flag in crate::sealos::instructions::FLAGS {
            assert!(super::find(flag.instruction, flag.name).is_some(), "--{} of {} has no docs", flag.name, flag.instruction);
        }
    }
}
