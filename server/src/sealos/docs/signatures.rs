//! Signatures of every instruction for signature help. Each parameter names the part of the
//! instruction it documents (`role`), so the active parameter can follow the cursor.

use super::Text;

/// Which part of an instruction a parameter stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `--name=...`
    Flag(&'static str),
    /// The n-th word after the flags (0-based); for JSON arrays, the n-th element.
    Operand(usize),
    /// Every operand but the last (COPY/ADD sources).
    Sources,
    /// The last operand when there are at least two (COPY/ADD destination).
    Destination,
    /// A key of a `key=value` pair (ENV, LABEL, ARG).
    Key,
    /// A value of a `key=value` pair.
    Value,
    /// Anything from the first operand on (a shell command, a list).
    Rest,
}

pub struct Param {
    /// A substring of the signature label.
    pub label: &'static str,
    pub role: Role,
    pub doc: Text,
}

pub struct SignatureDoc {
    pub keyword: &'static str,
    pub label: &'static str,
    pub doc: Text,
    pub params: &'static [Param],
    /// Only for JSON (exec) form / only for shell form; `None` for both.
    pub json: Option<bool>,
}

const fn p(label: &'static str, role: Role, en: &'static str, zh: &'static str) -> Param {
    Param { label, role, doc: Text::new(en, zh) }
}

const PLATFORM: Param = p("--platform=<platform>", Role::Flag("platform"), "Platform of the base image, e.g. `linux/arm64`.", "基础镜像的平台，例如 `linux/arm64`。");
const FROM_STAGE: Param = p("--from=<stage>", Role::Flag("from"), "Copy from a stage, image or named context.", "从阶段、镜像或命名上下文复制。");
const CHOWN: Param = p("--chown=<user>:<group>", Role::Flag("chown"), "Owner of the copied files.", "复制后文件的属主。");
const CHMOD: Param = p("--chmod=<perms>", Role::Flag("chmod"), "Permissions of the copied files.", "复制后文件的权限。");
const SOURCES: Param = p(
    "<src>...",
    Role::Sources,
    "Paths relative to the build context (or the `--from` stage). Sealos: `registry`, `charts`, `manifests`, `opt`, or `.` for everything.",
    "相对于构建上下文（或 `--from` 阶段）的路径。Sealos 常用：`registry`、`charts`、`manifests`、`opt`，或用 `.` 表示全部。",
);
const DEST: Param = p(
    "<dest>",
    Role::Destination,
    "Destination in the image, relative to WORKDIR. `registry/` must end up at the image root.",
    "镜像内的目标路径，相对于 WORKDIR。`registry/` 必须位于镜像根目录。",
);
const KEY: Param = p("<key>", Role::Key, "The name.", "名称。");
const VALUE: Param = p("<value>", Role::Value, "The value; quote it when it has spaces.", "值；包含空格时请加引号。");
const COMMAND_JSON: Param = p(
    "\"<command>\", ...",
    Role::Rest,
    "Sealos runs every element as one whole shell command, with `$(NAME)` replaced from the image ENV.",
    "Sealos 把每个元素作为一条完整的 shell 命令执行，其中的 `$(NAME)` 用镜像 ENV 替换。",
);
const COMMAND_SHELL: Param = p("<command>", Role::Rest, "A shell command line.", "一条 shell 命令。");

pub const SIGNATURES: &[SignatureDoc] = &[
    SignatureDoc {
        keyword: "FROM",
        label: "FROM [--platform=<platform>] <image> [AS <name>]",
        doc: Text::new("Start a build stage.", "开始一个构建阶段。"),
        params: &[
            PLATFORM,
            p("<image>", Role::Operand(0), "The base image, or `scratch` for an empty one (usual for Kubefiles).", "基础镜像；用 `scratch` 表示空镜像（Kubefile 的常见写法）。"),
            p("AS", Role::Operand(1), "Names the stage.", "为阶段命名。"),
            p("<name>", Role::Operand(2), "Stage name, used by `COPY --from=<name>` and later FROM lines.", "阶段名，供 `COPY --from=<name>` 和后续 FROM 使用。"),
        ],
        json: None,
    },
    SignatureDoc {
        keyword: "RUN",
        label: "RUN [--mount=<mount>] [--network=<network>] <command>",
        doc: Text::new("Run a shell command at build time (fails in `FROM scratch`).", "在构建时执行 shell 命令（在 `FROM scratch` 中会失败）。"),
        params: &[
            p("--mount=<mount>", Role::Flag("mount"), "A bind, cache, tmpfs, secret or ssh mount.", "bind、cache、tmpfs、secret 或 ssh 挂载。"),
            p("--network=<network>", Role::Flag("network"), "`default`, `none` or `host`.", "`default`、`none` 或 `host`。"),
            COMMAND_SHELL,
        ],
        json: Some(false),
    },
    SignatureDoc {
        keyword: "RUN",
        label: "RUN [--mount=<mount>] [\"<executable>\", \"<param>\", ...]",
        doc: Text::new("Run an executable at build time without a shell.", "在构建时不经过 shell 直接执行程序。"),
        params: &[
            p("--mount=<mount>", Role::Flag("mount"), "A bind, cache, tmpfs, secret or ssh mount.", "bind、cache、tmpfs、secret 或 ssh 挂载。"),
            p("\"<executable>\"", Role::Operand(0), "The program.", "要执行的程序。"),
            p("\"<param>\", ...", Role::Rest, "Its arguments.", "程序参数。"),
        ],
        json: Some(true),
    },
    SignatureDoc {
        keyword: "CMD",
        label: "CMD [\"<command>\", ...]",
        doc: Text::new("The commands `sealos run` runs, one whole shell command per element.", "`sealos run` 执行的命令，每个元素一条完整的 shell 命令。"),
        params: &[COMMAND_JSON],
        json: Some(true),
    },
    SignatureDoc {
        keyword: "CMD",
        label: "CMD <command>",
        doc: Text::new("Shell form: the whole line is one command.", "shell 形式：整行是一条命令。"),
        params: &[COMMAND_SHELL],
        json: Some(false),
    },
    SignatureDoc {
        keyword: "LABEL",
        label: "LABEL <key>=<value> [<key>=<value> ...]",
        doc: Text::new("Add metadata; sealos reads `sealos.io.type` and the rootfs labels.", "添加元数据；sealos 读取 `sealos.io.type` 和 rootfs 标签。"),
        params: &[KEY, VALUE],
        json: None,
    },
    SignatureDoc {
        keyword: "MAINTAINER",
        label: "MAINTAINER <name>",
        doc: Text::new("Deprecated author field.", "已弃用的作者字段。"),
        params: &[p("<name>", Role::Rest, "Author.", "作者。")],
        json: None,
    },
    SignatureDoc {
        keyword: "EXPOSE",
        label: "EXPOSE <port>[/<protocol>] ...",
        doc: Text::new("Document ports (no effect at `sealos run`).", "声明端口（`sealos run` 时无效）。"),
        params: &[p("<port>[/<protocol>] ...", Role::Rest, "`80`, `443/tcp`, `53/udp`.", "`80`、`443/tcp`、`53/udp`。")],
        json: None,
    },
    SignatureDoc {
        keyword: "ENV",
        label: "ENV <key>=<value> [<key>=<value> ...]",
        doc: Text::new(
            "Set image environment variables, exported at `sealos run` and overridable with `sealos run -e KEY=value`.",
            "设置镜像环境变量，在 `sealos run` 时导出，可用 `sealos run -e KEY=value` 覆盖。",
        ),
        params: &[KEY, VALUE],
        json: None,
    },
    SignatureDoc {
        keyword: "ENV",
        label: "ENV <key> <value>",
        doc: Text::new("Legacy form: one variable, the value is the rest of the line.", "旧写法：一个变量，值为行的其余部分。"),
        params: &[p("<key>", Role::Operand(0), "The name.", "名称。"), p("<value>", Role::Rest, "The rest of the line.", "行的其余部分。")],
        json: None,
    },
    SignatureDoc {
        keyword: "ADD",
        label: "ADD [--chown=<user>:<group>] [--chmod=<perms>] [--checksum=<checksum>] <src>... <dest>",
        doc: Text::new("Copy files or URLs and unpack archives.", "复制文件或 URL，并解压归档。"),
        params: &[
            CHOWN,
            CHMOD,
            p("--checksum=<checksum>", Role::Flag("checksum"), "Checksum of a remote source.", "远程来源的校验和。"),
            SOURCES,
            DEST,
        ],
        json: Some(false),
    },
    SignatureDoc {
        keyword: "COPY",
        label: "COPY [--from=<stage>] [--chown=<user>:<group>] [--chmod=<perms>] <src>... <dest>",
        doc: Text::new("Copy files into the image; `COPY registry registry` ships the saved images.", "把文件复制到镜像中；`COPY registry registry` 打包保存的镜像。"),
        params: &[FROM_STAGE, CHOWN, CHMOD, SOURCES, DEST],
        json: Some(false),
    },
    SignatureDoc {
        keyword: "COPY",
        label: "COPY [--from=<stage>] [\"<src>\", ... \"<dest>\"]",
        doc: Text::new("JSON form, for paths with spaces.", "JSON 形式，适用于含空格的路径。"),
        params: &[FROM_STAGE, p("\"<src>\", ...", Role::Sources, "Sources.", "源路径。"), p("\"<dest>\"", Role::Destination, "Destination.", "目标路径。")],
        json: Some(true),
    },
    SignatureDoc {
        keyword: "ENTRYPOINT",
        label: "ENTRYPOINT [\"<command>\", ...]",
        doc: Text::new(
            "Commands run before CMD at `sealos run`, one whole shell command per element.",
            "`sealos run` 时在 CMD 之前执行的命令，每个元素一条完整的 shell 命令。",
        ),
        params: &[COMMAND_JSON],
        json: Some(true),
    },
    SignatureDoc {
        keyword: "ENTRYPOINT",
        label: "ENTRYPOINT <command>",
        doc: Text::new("Shell form.", "shell 形式。"),
        params: &[COMMAND_SHELL],
        json: Some(false),
    },
    SignatureDoc {
        keyword: "VOLUME",
        label: "VOLUME [\"<path>\", ...]",
        doc: Text::new("Declare mount points (no effect at `sealos run`).", "声明挂载点（`sealos run` 时无效）。"),
        params: &[p("\"<path>\", ...", Role::Rest, "Paths.", "路径。")],
        json: Some(true),
    },
    SignatureDoc {
        keyword: "VOLUME",
        label: "VOLUME <path> ...",
        doc: Text::new("Declare mount points (no effect at `sealos run`).", "声明挂载点（`sealos run` 时无效）。"),
        params: &[p("<path> ...", Role::Rest, "Paths.", "路径。")],
        json: Some(false),
    },
    SignatureDoc {
        keyword: "USER",
        label: "USER <user>[:<group>]",
        doc: Text::new("Set the user (no effect at `sealos run`).", "设置用户（`sealos run` 时无效）。"),
        params: &[p("<user>[:<group>]", Role::Operand(0), "User name or UID, optionally with a group.", "用户名或 UID，可带组。")],
        json: None,
    },
    SignatureDoc {
        keyword: "WORKDIR",
        label: "WORKDIR <path>",
        doc: Text::new("Set the working directory (no effect at `sealos run`).", "设置工作目录（`sealos run` 时无效）。"),
        params: &[p("<path>", Role::Operand(0), "Absolute, or relative to the previous WORKDIR.", "绝对路径，或相对于上一个 WORKDIR。")],
        json: None,
    },
    SignatureDoc {
        keyword: "ARG",
        label: "ARG <name>[=<default>]",
        doc: Text::new("Declare a build argument (`--build-arg`).", "声明构建参数（`--build-arg`）。"),
        params: &[p("<name>", Role::Key, "The name.", "名称。"), p("<default>", Role::Value, "Value when no `--build-arg` sets it.", "未通过 `--build-arg` 设置时的值。")],
        json: None,
    },
    SignatureDoc {
        keyword: "ONBUILD",
        label: "ONBUILD <INSTRUCTION>",
        doc: Text::new("Trigger for images built FROM this one.", "以本镜像为 FROM 构建时的触发器。"),
        params: &[p("<INSTRUCTION>", Role::Rest, "Any instruction but FROM, MAINTAINER and ONBUILD.", "除 FROM、MAINTAINER、ONBUILD 之外的任何指令。")],
        json: None,
    },
    SignatureDoc {
        keyword: "STOPSIGNAL",
        label: "STOPSIGNAL <signal>",
        doc: Text::new("Set the stop signal (no effect at `sealos run`).", "设置停止信号（`sealos run` 时无效）。"),
        params: &[p("<signal>", Role::Operand(0), "`SIGTERM`, `SIGKILL`, `9`...", "`SIGTERM`、`SIGKILL`、`9` 等。")],
        json: None,
    },
    SignatureDoc {
        keyword: "HEALTHCHECK",
        label: "HEALTHCHECK [--interval=<duration>] [--timeout=<duration>] [--start-period=<duration>] [--retries=<n>] CMD <command>",
        doc: Text::new("Container health check (no effect at `sealos run`).", "容器健康检查（`sealos run` 时无效）。"),
        params: &[
            p("--interval=<duration>", Role::Flag("interval"), "Time between checks.", "检查间隔。"),
            p("--timeout=<duration>", Role::Flag("timeout"), "Timeout of one check.", "单次检查超时。"),
            p("--start-period=<duration>", Role::Flag("start-period"), "Start-up grace period.", "启动宽限期。"),
            p("--retries=<n>", Role::Flag("retries"), "Failures before unhealthy.", "判定不健康前的失败次数。"),
            p("CMD <command>", Role::Rest, "The check command.", "检查命令。"),
        ],
        json: None,
    },
    SignatureDoc {
        keyword: "HEALTHCHECK",
        label: "HEALTHCHECK NONE",
        doc: Text::new("Disable the inherited health check.", "禁用继承的健康检查。"),
        params: &[],
        json: None,
    },
    SignatureDoc {
        keyword: "SHELL",
        label: "SHELL [\"<executable>\", \"<parameters>\"]",
        doc: Text::new("Set the shell of the shell forms (no effect at `sealos run`).", "设置 shell 形式使用的 shell（`sealos run` 时无效）。"),
        params: &[
            p("\"<executable>\"", Role::Operand(0), "The shell.", "shell 程序。"),
            p("\"<parameters>\"", Role::Rest, "Its options, e.g. `-c`.", "其选项，例如 `-c`。"),
        ],
        json: Some(true),
    },
];

pub fn of(keyword: &str) -> impl Iterator<Item = &'static SignatureDoc> + '_ {
    SIGNATURES.iter().filter(move |sig| sig.keyword.eq_ignore_ascii_case(keyword))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_labels_are_substrings_and_every_instruction_has_a_signature() {
        for sig in SIGNATURES {
            for param in sig.params {
                assert!(sig.label.contains(param.label), "{} not in {}", param.label, sig.label);
            }
        }
        for keyword in crate::sealos::instructions::INSTRUCTIONS {
            assert!(of(keyword).next().is_some(), "{keyword} has no signature");
        }
    }
}
