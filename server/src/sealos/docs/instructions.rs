//! What each instruction does at build time and what sealos does with it at `sealos run`
//! (sealos-semantics.md §2.1, §2.5), plus the completion snippets of each instruction.

use super::Text;

pub struct InstructionDoc {
    pub keyword: &'static str,
    /// What the instruction does when the image is built.
    pub summary: Text,
    /// What `sealos run` does with it.
    pub sealos: Text,
    /// Meaningful to sealos (`sealos run` reads its result, or it lays out the image).
    pub meaningful: bool,
    pub deprecated: bool,
}

/// What sealos does with the instructions that only set image-config fields it never reads.
const CONFIG_ONLY_AT_RUN: Text = Text::new(
    "No effect: `sealos run` reads only Env, Cmd, Entrypoint and Labels from the image config.",
    "无效：`sealos run` 只读取镜像配置中的 Env、Cmd、Entrypoint 和 Labels。",
);

pub const INSTRUCTIONS: &[InstructionDoc] = &[
    InstructionDoc {
        keyword: "FROM",
        summary: Text::new(
            "Starts a build stage from a base image: `FROM [--platform=<platform>] <image> [AS <name>]`. The last stage becomes the image; earlier stages can be copied from with `COPY --from=<name>`.",
            "以基础镜像开始一个构建阶段：`FROM [--platform=<platform>] <image> [AS <name>]`。最后一个阶段成为最终镜像；前面的阶段可以用 `COPY --from=<name>` 复制文件。",
        ),
        sealos: Text::new(
            "A cluster image is a file tree, so Kubefiles start with `FROM scratch`. Labels, ENV and CMD are inherited from the base: `FROM labring/kubernetes:...` without a `sealos.io.type` label makes a **rootfs** image with all its bootstrap labels. `sealos build` does not save the FROM image into `registry/`.",
            "集群镜像只是一棵文件树，所以 Kubefile 通常以 `FROM scratch` 开头。标签、ENV 和 CMD 会从基础镜像继承：不写 `sealos.io.type` 标签而 `FROM labring/kubernetes:...`，得到的是带有全部引导标签的 **rootfs** 镜像。`sealos build` 不会把 FROM 的镜像保存到 `registry/`。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "RUN",
        summary: Text::new(
            "Runs a command at build time inside the stage's filesystem, with `/bin/sh -c` (shell form) or directly (JSON form).",
            "在构建时于当前阶段的文件系统中执行命令：shell 形式通过 `/bin/sh -c` 执行，JSON 形式直接执行。",
        ),
        sealos: Text::new(
            "Needs a shell in the base image: in a `FROM scratch` stage it fails (no `/bin/sh`). Nothing runs at `sealos run`; prepare files in `init.sh` before the build, and put install steps in CMD.",
            "需要基础镜像里有 shell：在 `FROM scratch` 阶段会失败（没有 `/bin/sh`）。`sealos run` 时不会执行；请在构建前用 `init.sh` 准备文件，把安装步骤写在 CMD 中。",
        ),
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "CMD",
        summary: Text::new(
            "The command the image runs: `CMD [\"command\", ...]` (JSON form) or `CMD command` (shell form). Only the last CMD of a stage counts.",
            "镜像要执行的命令：`CMD [\"command\", ...]`（JSON 形式）或 `CMD command`（shell 形式）。一个阶段中只有最后一个 CMD 生效。",
        ),
        sealos: Text::new(
            "Each JSON element is a **whole shell command**, run as `cd <workdir> && <element>` and joined with `; ` (so `[\"bash\",\"init.sh\"]` runs `bash`, then `init.sh`). `$(NAME)`, `${NAME}` and `$NAME` are replaced from the image ENV; an unknown name stays `$(NAME)` and the shell runs it as a command; `$$` is a literal `$`. Application images run on master0 (killed after `SEALOS_EXECUTION_TIMEOUT`, 300 s); rootfs and patch images run on every node.",
            "JSON 数组的每个元素都是**一条完整的 shell 命令**，以 `cd <workdir> && <元素>` 的形式执行，并用 `; ` 连接（因此 `[\"bash\",\"init.sh\"]` 会先执行 `bash`，再执行 `init.sh`）。`$(NAME)`、`${NAME}` 和 `$NAME` 会用镜像的 ENV 替换；未知的变量保持为 `$(NAME)`，shell 会把它当作命令执行；`$$` 表示字面量 `$`。application 镜像在 master0 上执行（超过 `SEALOS_EXECUTION_TIMEOUT` 即 300 秒会被终止）；rootfs 和 patch 镜像在所有节点上执行。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "LABEL",
        summary: Text::new(
            "Adds metadata to the image: `LABEL key=value ...`. `$VAR` and `${VAR}` are expanded at build time from ARG/ENV; write `\\$VAR` to keep a literal `$`.",
            "为镜像添加元数据：`LABEL key=value ...`。`$VAR` 和 `${VAR}` 会在构建时用 ARG/ENV 展开；要保留字面量 `$`，请写 `\\$VAR`。",
        ),
        sealos: Text::new(
            "sealos reads `sealos.io.type` (rootfs/application/patch; missing means application), `sealos.io.version` and `sealos.io.distribution`, and for rootfs images `version`, `vip`, `image` and the bootstrap labels (`init`, `check`, `clean`, `init-registry`, `clean-registry`, `init-cri`, `clean-cri`). Bootstrap labels merge across all images of a cluster: the last one wins.",
            "sealos 读取 `sealos.io.type`（rootfs/application/patch；缺省为 application）、`sealos.io.version` 和 `sealos.io.distribution`；对 rootfs 镜像还读取 `version`、`vip`、`image` 以及引导标签（`init`、`check`、`clean`、`init-registry`、`clean-registry`、`init-cri`、`clean-cri`）。引导标签在集群的所有镜像之间合并，最后一个生效。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "MAINTAINER",
        summary: Text::new(
            "Sets the author field of the image. Deprecated: use `LABEL org.opencontainers.image.authors=\"...\"`.",
            "设置镜像的作者字段。已弃用：请改用 `LABEL org.opencontainers.image.authors=\"...\"`。",
        ),
        sealos: Text::new("Ignored by sealos.", "sealos 会忽略它。"),
        meaningful: false,
        deprecated: true,
    },
    InstructionDoc {
        keyword: "EXPOSE",
        summary: Text::new(
            "Documents the ports the container listens on: `EXPOSE 80/tcp`.",
            "声明容器监听的端口：`EXPOSE 80/tcp`。",
        ),
        sealos: Text::new(
            "No effect: `sealos run` reads only Env, Cmd, Entrypoint and Labels from the image config. Expose ports with a Service in your manifests or chart.",
            "无效：`sealos run` 只读取镜像配置中的 Env、Cmd、Entrypoint 和 Labels。请在 manifests 或 chart 中用 Service 暴露端口。",
        ),
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "ENV",
        summary: Text::new(
            "Sets environment variables for the following instructions and for the image: `ENV KEY=value ...`. Values may use `${VAR:-default}`; the legacy form `ENV KEY value` sets one variable.",
            "为后续指令和镜像设置环境变量：`ENV KEY=value ...`。值中可以使用 `${VAR:-default}`；旧写法 `ENV KEY value` 只能设置一个变量。",
        ),
        sealos: Text::new(
            "The image ENV is exported (`export KEY=\"value\"`) before CMD/ENTRYPOINT run, replaces `$(KEY)` in them, and is the data of `.tmpl` rendering under `etc/`, `scripts/` and `manifests/`. Users override it with `sealos run -e KEY=value` or the Clusterfile `spec.env`; `ENV NAME=${NAME:-\"nginx\"}` also lets `sealos build --env NAME=...` change the default. Values must not contain `\"`, `` ` `` or `'`: they are pasted into `export KEY=\"...\"` without escaping.",
            "镜像的 ENV 会在执行 CMD/ENTRYPOINT 之前导出（`export KEY=\"value\"`），用于替换其中的 `$(KEY)`，也是渲染 `etc/`、`scripts/`、`manifests/` 下 `.tmpl` 文件的数据。用户可以用 `sealos run -e KEY=value` 或 Clusterfile 的 `spec.env` 覆盖；写成 `ENV NAME=${NAME:-\"nginx\"}` 还能让 `sealos build --env NAME=...` 修改默认值。值中不要包含 `\"`、`` ` `` 或 `'`：它们会被原样放进 `export KEY=\"...\"`，不做转义。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "ADD",
        summary: Text::new(
            "Copies files, URLs or git repositories into the image, and unpacks local tar archives. Prefer COPY for plain files.",
            "把文件、URL 或 git 仓库复制到镜像中，并会解压本地 tar 包。普通文件请优先使用 COPY。",
        ),
        sealos: Text::new(
            "The image files are copied to master0 (application images) or to the rootfs directory of every node (rootfs and patch images); `registry/` must sit at the image root.",
            "镜像中的文件会被复制到 master0（application 镜像）或每个节点的 rootfs 目录（rootfs 与 patch 镜像）；`registry/` 必须位于镜像根目录。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "COPY",
        summary: Text::new(
            "Copies files from the build context (or from another stage with `--from`) into the image: `COPY <src>... <dest>`. Relative destinations are resolved against WORKDIR.",
            "把构建上下文中的文件（或用 `--from` 从其他阶段）复制到镜像中：`COPY <src>... <dest>`。相对目标路径基于 WORKDIR 解析。",
        ),
        sealos: Text::new(
            "`COPY registry registry` ships the images `sealos build` saved into `registry/` (from `charts/`, `manifests/`, `images/shim/` and `images/skopeo/tar.txt`); without it they are pulled but not shipped. `registry/` must be at the image root. Application images are copied to `/var/lib/sealos/data/<cluster>/applications/<name>/workdir` on master0; rootfs and patch images to the rootfs directory of every node.",
            "`COPY registry registry` 会把 `sealos build` 保存到 `registry/` 的镜像（来自 `charts/`、`manifests/`、`images/shim/` 和 `images/skopeo/tar.txt`）打包进镜像；缺少它，镜像会被拉取但不会被带走。`registry/` 必须位于镜像根目录。application 镜像会被复制到 master0 的 `/var/lib/sealos/data/<cluster>/applications/<name>/workdir`；rootfs 与 patch 镜像会被复制到每个节点的 rootfs 目录。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "ENTRYPOINT",
        summary: Text::new(
            "The executable of the image; CMD gives its default arguments. Only the last ENTRYPOINT of a stage counts.",
            "镜像的可执行入口；CMD 提供默认参数。一个阶段中只有最后一个 ENTRYPOINT 生效。",
        ),
        sealos: Text::new(
            "sealos runs every ENTRYPOINT element, then every CMD element, each as **its own shell command** (`cd <workdir> && <element>`), with `$(NAME)` replaced from the image ENV. `/bin/sh` and `-c` elements are dropped. Kubefiles usually leave ENTRYPOINT out and use CMD.",
            "sealos 会依次执行 ENTRYPOINT 的每个元素和 CMD 的每个元素，每个元素都是**一条独立的 shell 命令**（`cd <workdir> && <元素>`），其中的 `$(NAME)` 用镜像 ENV 替换。`/bin/sh` 和 `-c` 元素会被去掉。Kubefile 通常不写 ENTRYPOINT，而使用 CMD。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "VOLUME",
        summary: Text::new("Declares mount points of the container: `VOLUME [\"/data\"]`.", "声明容器的挂载点：`VOLUME [\"/data\"]`。"),
        sealos: CONFIG_ONLY_AT_RUN,
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "USER",
        summary: Text::new(
            "Sets the user (and group) for RUN, CMD and ENTRYPOINT: `USER <user>[:<group>]`.",
            "设置 RUN、CMD 和 ENTRYPOINT 使用的用户（和组）：`USER <user>[:<group>]`。",
        ),
        sealos: Text::new(
            "No effect: commands run as the SSH user of each node (through `sudo` for non-root users).",
            "无效：命令以各节点的 SSH 用户身份执行（非 root 用户通过 `sudo`）。",
        ),
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "WORKDIR",
        summary: Text::new(
            "Sets the working directory for the following RUN, CMD, ENTRYPOINT, COPY and ADD: relative COPY destinations are resolved against it.",
            "为后续的 RUN、CMD、ENTRYPOINT、COPY 和 ADD 设置工作目录：相对的 COPY 目标路径以它为基准。",
        ),
        sealos: Text::new(
            "No effect: commands always run in the directory the image was copied to (the application workdir on master0, or the rootfs directory). WORKDIR only moves where COPY puts files inside the image, which can push `registry/` away from the image root.",
            "无效：命令总是在镜像被复制到的目录中执行（master0 上的 application 工作目录，或 rootfs 目录）。WORKDIR 只会改变 COPY 在镜像内的落点，可能让 `registry/` 离开镜像根目录。",
        ),
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "ARG",
        summary: Text::new(
            "Declares a build argument, set with `sealos build --build-arg NAME=value`: `ARG NAME[=default]`. An ARG before the first FROM is visible in FROM lines; a stage sees it after a bare `ARG NAME`.",
            "声明构建参数，用 `sealos build --build-arg NAME=value` 设置：`ARG NAME[=default]`。第一个 FROM 之前的 ARG 可用于 FROM 行；阶段内需要再写一次 `ARG NAME` 才能使用。",
        ),
        sealos: Text::new(
            "Not part of the image: `$(NAME)` in CMD cannot see an ARG. Copy it into an ENV (`ENV NAME=${NAME}`) to use it at `sealos run`.",
            "不会写入镜像：CMD 中的 `$(NAME)` 看不到 ARG。要在 `sealos run` 时使用，请把它复制到 ENV（`ENV NAME=${NAME}`）。",
        ),
        meaningful: true,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "ONBUILD",
        summary: Text::new(
            "Registers an instruction that runs when another image is built `FROM` this one: `ONBUILD <INSTRUCTION>`.",
            "注册一条触发指令，在其他镜像以本镜像为 `FROM` 构建时执行：`ONBUILD <INSTRUCTION>`。",
        ),
        sealos: Text::new("No effect at `sealos run`.", "`sealos run` 时无效。"),
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "STOPSIGNAL",
        summary: Text::new("Sets the signal that stops the container: `STOPSIGNAL SIGTERM`.", "设置停止容器所用的信号：`STOPSIGNAL SIGTERM`。"),
        sealos: CONFIG_ONLY_AT_RUN,
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "HEALTHCHECK",
        summary: Text::new(
            "Tells the container runtime how to test that the container still works: `HEALTHCHECK [--interval=...] CMD <command>` or `HEALTHCHECK NONE`.",
            "告诉容器运行时如何检查容器是否正常：`HEALTHCHECK [--interval=...] CMD <command>` 或 `HEALTHCHECK NONE`。",
        ),
        sealos: CONFIG_ONLY_AT_RUN,
        meaningful: false,
        deprecated: false,
    },
    InstructionDoc {
        keyword: "SHELL",
        summary: Text::new(
            "Sets the shell used by the shell form of RUN, CMD and ENTRYPOINT: `SHELL [\"/bin/bash\", \"-c\"]`.",
            "设置 RUN、CMD、ENTRYPOINT 的 shell 形式所用的 shell：`SHELL [\"/bin/bash\", \"-c\"]`。",
        ),
        sealos: Text::new(
            "No effect: sealos always runs commands with `/bin/bash -c` on the node.",
            "无效：sealos 总是在节点上用 `/bin/bash -c` 执行命令。",
        ),
        meaningful: false,
        deprecated: false,
    },
];

pub fn find(keyword: &str) -> Option<&'static InstructionDoc> {
    INSTRUCTIONS.iter().find(|doc| doc.keyword.eq_ignore_ascii_case(keyword))
}

/// A completion template for an instruction, in LSP snippet syntax (`${1:x}`, `${1|a,b|}`, `\$`).
pub struct Snippet {
    pub keyword: &'static str,
    pub label: &'static str,
    pub snippet: &'static str,
    pub detail: Text,
    /// A Kubefile convention, offered only when sealos rules apply.
    pub sealos: bool,
    /// The context path this template copies; offered only when it exists (or when the context is
    /// unknown). `registry` also counts when the context will save images.
    pub requires: Option<&'static str>,
}

const fn snippet(keyword: &'static str, label: &'static str, snippet: &'static str, en: &'static str, zh: &'static str) -> Snippet {
    Snippet { keyword, label, snippet, detail: Text::new(en, zh), sealos: false, requires: None }
}

const fn sealos(
    keyword: &'static str,
    label: &'static str,
    snippet: &'static str,
    requires: Option<&'static str>,
    en: &'static str,
    zh: &'static str,
) -> Snippet {
    Snippet { keyword, label, snippet, detail: Text::new(en, zh), sealos: true, requires }
}

pub const SNIPPETS: &[Snippet] = &[
    snippet("FROM", "FROM scratch", "FROM ${1:scratch}", "Start from an empty image", "从空镜像开始"),
    snippet("FROM", "FROM image AS name", "FROM ${1:image} AS ${2:name}", "Named build stage", "命名的构建阶段"),
    sealos("COPY", "COPY registry registry", "COPY registry registry", Some("registry"), "Ship the images saved by sealos build", "打包 sealos build 保存的镜像"),
    sealos("COPY", "COPY charts charts", "COPY charts charts", Some("charts"), "Copy the Helm charts", "复制 Helm chart"),
    sealos("COPY", "COPY manifests manifests", "COPY manifests manifests", Some("manifests"), "Copy the manifests", "复制 manifests"),
    sealos("COPY", "COPY opt opt", "COPY opt opt", Some("opt"), "Copy the binaries in opt/", "复制 opt/ 中的二进制文件"),
    sealos("COPY", "COPY . .", "COPY . .", None, "Copy the whole build context", "复制整个构建上下文"),
    snippet("COPY", "COPY src dest", "COPY ${1:src} ${2:dest}", "Copy files into the image", "把文件复制到镜像中"),
    snippet("COPY", "COPY --from=stage src dest", "COPY --from=${1:stage} ${2:src} ${3:dest}", "Copy from another stage", "从其他阶段复制"),
    snippet("ADD", "ADD src dest", "ADD ${1:src} ${2:dest}", "Copy and unpack files", "复制并解压文件"),
    sealos(
        "CMD",
        "CMD [\"bash entrypoint.sh\"]",
        "CMD [\"${1:bash entrypoint.sh}\"]",
        None,
        "One whole shell command per element",
        "每个元素是一条完整的 shell 命令",
    ),
    sealos(
        "CMD",
        "CMD [\"helm upgrade -i ...\"]",
        "CMD [\"helm upgrade -i \\$(NAME) \\$(CHARTS) -n \\$(NAMESPACE) --create-namespace \\$(HELM_OPTS)\"]",
        Some("charts"),
        "Install the chart with values from ENV",
        "用 ENV 中的值安装 chart",
    ),
    snippet("CMD", "CMD [\"command\"]", "CMD [\"${1:command}\"]", "Exec form", "JSON（exec）形式"),
    snippet("CMD", "CMD command", "CMD ${1:command}", "Shell form", "shell 形式"),
    snippet("ENTRYPOINT", "ENTRYPOINT [\"command\"]", "ENTRYPOINT [\"${1:command}\"]", "Exec form", "JSON（exec）形式"),
    sealos(
        "LABEL",
        "LABEL sealos.io.type=...",
        "LABEL sealos.io.type=\"${1|application,rootfs,patch|}\"",
        None,
        "Declare the image type",
        "声明镜像类型",
    ),
    snippet("LABEL", "LABEL key=value", "LABEL ${1:key}=\"${2:value}\"", "Add metadata", "添加元数据"),
    sealos(
        "ENV",
        "ENV NAME=${NAME:-\"default\"}",
        "ENV ${1:NAME}=\\${${1:NAME}:-\"${2:default}\"\\}",
        None,
        "A default that sealos build --env can change",
        "可被 sealos build --env 修改的默认值",
    ),
    snippet("ENV", "ENV key=value", "ENV ${1:key}=${2:value}", "Set an environment variable", "设置环境变量"),
    snippet("ARG", "ARG name", "ARG ${1:name}", "Declare a build argument", "声明构建参数"),
    snippet("ARG", "ARG name=default", "ARG ${1:name}=${2:default}", "Build argument with a default", "带默认值的构建参数"),
    snippet("RUN", "RUN command", "RUN ${1:command}", "Run a command at build time", "在构建时执行命令"),
    snippet("WORKDIR", "WORKDIR /path", "WORKDIR ${1:/path}", "Set the working directory", "设置工作目录"),
    snippet("USER", "USER user", "USER ${1:user}", "Set the user", "设置用户"),
    snippet("EXPOSE", "EXPOSE port", "EXPOSE ${1:80}", "Document a port", "声明端口"),
    snippet("VOLUME", "VOLUME [\"/data\"]", "VOLUME [\"${1:/data}\"]", "Declare a mount point", "声明挂载点"),
    snippet("STOPSIGNAL", "STOPSIGNAL signal", "STOPSIGNAL ${1:SIGTERM}", "Set the stop signal", "设置停止信号"),
    snippet(
        "HEALTHCHECK",
        "HEALTHCHECK --interval=... CMD",
        "HEALTHCHECK --interval=${1:30s} --timeout=${2:30s} --start-period=${3:5s} --retries=${4:3} CMD ${5:command}",
        "Container health check",
        "容器健康检查",
    ),
    snippet("HEALTHCHECK", "HEALTHCHECK NONE", "HEALTHCHECK NONE", "Disable the inherited health check", "禁用继承的健康检查"),
    snippet("SHELL", "SHELL [\"executable\", \"parameters\"]", "SHELL [\"${1:/bin/bash}\", \"${2:-c}\"]", "Set the shell", "设置 shell"),
    snippet("ONBUILD", "ONBUILD INSTRUCTION", "ONBUILD ${1:INSTRUCTION}", "Trigger for child images", "子镜像构建时的触发器"),
    snippet("MAINTAINER", "MAINTAINER name", "MAINTAINER ${1:name}", "Deprecated: use LABEL", "已弃用：请使用 LABEL"),
];

/// A snippet as plain text, for clients without snippet support: placeholders become their
/// default text, choices their first option, `\$` a `$`, and tab stops disappear.
pub fn snippet_to_plain(snippet: &str) -> String {
    let chars: Vec<char> = snippet.chars().collect();
    let mut out = String::new();
    plain_into(&chars, &mut 0, &mut out, false);
    out
}

fn plain_into(chars: &[char], i: &mut usize, out: &mut String, nested: bool) {
    while *i < chars.len() {
        let c = chars[*i];
        match c {
            '\\' if *i + 1 < chars.len() && matches!(chars[*i + 1], '$' | '}' | '\\' | ',' | '|') => {
                out.push(chars[*i + 1]);
                *i += 2;
            }
            '}' if nested => {
                *i += 1;
                return;
            }
            '$' if *i + 1 < chars.len() && chars[*i + 1].is_ascii_digit() => {
                *i += 1;
                while *i < chars.len() && chars[*i].is_ascii_digit() {
                    *i += 1;
                }
            }
            '$' if *i + 2 < chars.len() && chars[*i + 1] == '{' && chars[*i + 2].is_ascii_digit() => {
                *i += 2;
                while *i < chars.len() && chars[*i].is_ascii_digit() {
                    *i += 1;
                }
                match chars.get(*i) {
                    Some(':') => {
                        *i += 1;
                        plain_into(chars, i, out, true);
                    }
                    Some('|') => {
                        *i += 1;
                        let mut first = true;
                        while *i < chars.len() {
                            match chars[*i] {
                                '\\' if *i + 1 < chars.len() => {
                                    if first {
                                        out.push(chars[*i + 1]);
                                    }
                                    *i += 2;
                                }
                                ',' => {
                                    first = false;
                                    *i += 1;
                                }
                                '|' => {
                                    *i += 1;
                                    if chars.get(*i) == Some(&'}') {
                                        *i += 1;
                                    }
                                    break;
                                }
                                other => {
                                    if first {
                                        out.push(other);
                                    }
                                    *i += 1;
                                }
                            }
                        }
                    }
                    Some('}') => *i += 1,
                    _ => {}
                }
            }
            _ => {
                out.push(c);
                *i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instruction_has_docs_and_a_snippet() {
        for keyword in crate::sealos::instructions::INSTRUCTIONS {
            assert!(find(keyword).is_some(), "{keyword} has no docs");
            assert!(SNIPPETS.iter().any(|s| s.keyword == *keyword), "{keyword} has no snippet");
        }
    }

    #[test]
    fn snippets_as_plain_text() {
        let plain: Vec<String> = SNIPPETS.iter().map(|s| snippet_to_plain(s.snippet)).collect();
        assert!(plain.contains(&"COPY src dest".to_string()));
        assert!(plain.contains(&"LABEL sealos.io.type=\"application\"".to_string()));
        assert!(plain.contains(&"ENV NAME=${NAME:-\"default\"}".to_string()));
        assert!(plain.contains(&"CMD [\"helm upgrade -i $(NAME) $(CHARTS) -n $(NAMESPACE) --create-namespace $(HELM_OPTS)\"]".to_string()));
        assert_eq!(snippet_to_plain("vip=\"\\\\\\$defaultVIP\"$0"), "vip=\"\\$defaultVIP\"");
    }
}
