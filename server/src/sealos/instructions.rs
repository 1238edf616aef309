//! Dockerfile instructions and their flags as buildah/BuildKit accept them. A new BuildKit flag is
//! one row in `FLAGS`.

/// Every instruction buildah accepts (§2.1).
pub const INSTRUCTIONS: &[&str] = &[
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
];

/// Instructions `sealos run` never reads (§2.1: only Env, Cmd, Entrypoint and Labels matter).
pub const IGNORED_AT_RUN: &[&str] = &["WORKDIR", "USER", "EXPOSE", "VOLUME", "HEALTHCHECK", "STOPSIGNAL", "SHELL"];

/// Whether a flag takes a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagValue {
    Required,
    None,
    Optional,
}

pub struct Flag {
    pub instruction: &'static str,
    pub name: &'static str,
    pub value: FlagValue,
}

pub const FLAGS: &[Flag] = &[
    Flag { instruction: "FROM", name: "platform", value: FlagValue::Required },
    Flag { instruction: "RUN", name: "mount", value: FlagValue::Required },
    Flag { instruction: "RUN", name: "network", value: FlagValue::Required },
    Flag { instruction: "RUN", name: "security", value: FlagValue::Required },
    Flag { instruction: "RUN", name: "device", value: FlagValue::Required },
    Flag { instruction: "COPY", name: "from", value: FlagValue::Required },
    Flag { instruction: "COPY", name: "chown", value: FlagValue::Required },
    Flag { instruction: "COPY", name: "chmod", value: FlagValue::Required },
    Flag { instruction: "COPY", name: "link", value: FlagValue::Optional },
    Flag { instruction: "COPY", name: "parents", value: FlagValue::Optional },
    Flag { instruction: "COPY", name: "exclude", value: FlagValue::Required },
    Flag { instruction: "ADD", name: "chown", value: FlagValue::Required },
    Flag { instruction: "ADD", name: "chmod", value: FlagValue::Required },
    Flag { instruction: "ADD", name: "link", value: FlagValue::Optional },
    Flag { instruction: "ADD", name: "keep-git-dir", value: FlagValue::Optional },
    Flag { instruction: "ADD", name: "checksum", value: FlagValue::Required },
    Flag { instruction: "ADD", name: "unpack", value: FlagValue::Optional },
    Flag { instruction: "ADD", name: "exclude", value: FlagValue::Required },
    Flag { instruction: "HEALTHCHECK", name: "interval", value: FlagValue::Required },
    Flag { instruction: "HEALTHCHECK", name: "timeout", value: FlagValue::Required },
    Flag { instruction: "HEALTHCHECK", name: "start-period", value: FlagValue::Required },
    Flag { instruction: "HEALTHCHECK", name: "start-interval", value: FlagValue::Required },
    Flag { instruction: "HEALTHCHECK", name: "retries", value: FlagValue::Required },
];

pub fn flags_of(instruction: &str) -> impl Iterator<Item = &'static Flag> + '_ {
    FLAGS.iter().filter(move |flag| flag.instruction == instruction)
}

pub fn is_instruction(word: &str) -> bool {
    INSTRUCTIONS.iter().any(|known| known.eq_ignore_ascii_case(word))
}
