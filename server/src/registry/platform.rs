//! Platform selection in a manifest list, as containers/image does it for `sealos build`
//! (`copy.CopySystemImage` with the `--platform` choice): exact OS and architecture, and the
//! most preferred compatible variant.

use std::{fmt, str::FromStr};

use serde::Serialize;

/// `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let architecture = normalize_arch(architecture);
        let variant = variant.filter(|v| !v.is_empty()).map(str::to_owned);
        Self {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant,
        }
    }

    /// `linux/<host architecture>` (sealos uses the host's GOARCH and default variant, with
    /// the OS forced to linux when none is given).
    pub fn host() -> Self {
        let (architecture, variant) = match std::env::consts::ARCH {
            "x86_64" => ("amd64", None),
            "aarch64" => ("arm64", Some("v8")),
            "arm" => ("arm", Some("v7")),
            "x86" => ("386", None),
            "powerpc64" if cfg!(target_endian = "little") => ("ppc64le", None),
            "powerpc64" => ("ppc64", None),
            "s390x" => ("s390x", None),
            "riscv64" => ("riscv64", None),
            "loongarch64" => ("loong64", None),
            "mips64" if cfg!(target_endian = "little") => ("mips64le", None),
            other => (other, None),
        };
        Self::new("linux", architecture, variant)
    }

    /// The variants this platform accepts, most preferred first. An empty string stands for an
    /// entry without a variant.
    fn wanted_variants(&self) -> Vec<&str> {
        let explicit = self.variant.as_deref();
        match self.architecture.as_str() {
            "arm" => {
                let all = ["v8", "v7", "v6", "v5"];
                let start = explicit
                    .and_then(|v| all.iter().position(|a| *a == v))
                    .unwrap_or(1);
                let mut out: Vec<&str> = all[start..].to_vec();
                out.push("");
                out
            }
            "arm64" => match explicit {
                None | Some("v8") => vec!["v8", ""],
                Some(v) => vec![v, "v8", ""],
            },
            "amd64" => match explicit {
                None => vec!["", "v1", "v2", "v3", "v4"],
                Some(v) => {
                    let all = ["v4", "v3", "v2", "v1"];
                    let start = all.iter().position(|a| *a == v).unwrap_or(3);
                    let mut out = all[start..].to_vec();
                    out.push("");
                    out
                }
            },
            _ => match explicit {
                None => vec![""],
                Some(v) => vec![v, ""],
            },
        }
    }

    /// How well a manifest-list entry fits: `Some(rank)` (lower is better) or `None`.
    pub fn rank(&self, os: &str, architecture: &str, variant: Option<&str>) -> Option<usize> {
        if os != self.os || normalize_arch(architecture) != self.architecture {
            return None;
        }
        let variant = normalize_variant(&self.architecture, variant.unwrap_or(""));
        let wanted = self.wanted_variants();
        let explicit = self.variant.is_some();
        match wanted
            .iter()
            .position(|w| normalize_variant(&self.architecture, w) == variant)
        {
            Some(rank) => Some(rank),
            // Without an explicit variant, any variant of the right architecture is acceptable.
            None if !explicit => Some(wanted.len()),
            None => None,
        }
    }
}

fn normalize_arch(arch: &str) -> &str {
    match arch {
        "x86_64" | "x86-64" => "amd64",
        "aarch64" => "arm64",
        "i386" => "386",
        other => other,
    }
}

fn normalize_variant<'a>(arch: &str, variant: &'a str) -> &'a str {
    match (arch, variant) {
        ("arm64", "8") => "v8",
        ("arm", "7") => "v7",
        ("arm", "6") => "v6",
        (_, v) => v,
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// Why a `--platform` value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform `{0}`: expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64 or linux/arm64/v8")]
pub struct InvalidPlatform(pub String);

impl FromStr for Platform {
    type Err = InvalidPlatform;

    /// `os/arch[/variant]`; like sealos, an empty OS (`/arm64`) means linux.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        let (os, arch, variant) = match parts.as_slice() {
            [os, arch] => (*os, *arch, None),
            [os, arch, variant] if valid(variant) => (*os, *arch, Some(*variant)),
            _ => return Err(InvalidPlatform(s.to_owned())),
        };
        let os = if os.is_empty() { "linux" } else { os };
        if !valid(os) || !valid(arch) {
            return Err(InvalidPlatform(s.to_owned()));
        }
        Ok(Self::new(
            &os.to_ascii_lowercase(),
            &arch.to_ascii_lowercase(),
            variant,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn parses_sealos_forms() {
        assert_eq!(p("linux/amd64"), Platform::new("linux", "amd64", None));
        assert_eq!(p("/arm64"), Platform::new("linux", "arm64", None));
        assert_eq!(p("linux/arm/v7").to_string(), "linux/arm/v7");
        assert_eq!(p("linux/x86_64").architecture, "amd64");
        assert!("amd64".parse::<Platform>().is_err());
        assert!("linux/".parse::<Platform>().is_err());
        assert!("a/b/c/d".parse::<Platform>().is_err());
    }

    #[test]
    fn host_is_linux() {
        assert_eq!(Platform::host().os, "linux");
    }

    #[test]
    fn matching_prefers_exact_variant_and_accepts_compatible_ones() {
        let arm7 = p("linux/arm/v7");
        assert_eq!(arm7.rank("linux", "arm", Some("v7")), Some(0));
        assert_eq!(arm7.rank("linux", "arm", Some("v6")), Some(1));
        assert_eq!(arm7.rank("linux", "arm", Some("v8")), None);
        assert_eq!(arm7.rank("linux", "arm64", None), None);
        let arm64 = p("linux/arm64");
        assert_eq!(arm64.rank("linux", "arm64", Some("v8")), Some(0));
        assert_eq!(arm64.rank("linux", "arm64", None), Some(1));
        let amd = p("linux/amd64");
        assert_eq!(amd.rank("linux", "amd64", None), Some(0));
        assert_eq!(amd.rank("windows", "amd64", None), None);
        assert_eq!(amd.rank("unknown", "unknown", None), None);
    }
}
