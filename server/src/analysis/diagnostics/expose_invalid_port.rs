//! `expose-invalid-port`: an EXPOSE entry that is not `port[-port][/tcp|udp|sctp]`. An invalid
//! port or protocol fails the build (error); an IP address or host-port mapping, and an upper-case
//! protocol, are accepted with a warning by BuildKit (ExposeInvalidFormat, ExposeProtoCasing).
//! sealos ignores EXPOSE at run time, so these matter only for a clean build.

use crate::syntax::NodeKind as _;
use super::{Diagnostic, InstructionContext, Severity};
use crate::syntax::{ast, TextRange};

pub(super) fn check(cx: &InstructionContext<'_, '_>, out: &mut Vec<Diagnostic>) {
    for validated in cx.validated {
        if validated.instruction.node.kind_name() != "expose_instruction" {
            continue;
        }
        for port in validated.named("expose_port") {
            let text = ast::literal_text(cx.file, port);
            if text.contains('$') || text.is_empty() {
                continue;
            }
            if let Some(diagnostic) = validate(&text, port.byte_range()) {
                out.push(diagnostic);
            }
        }
    }
}

fn validate(text: &str, range: TextRange) -> Option<Diagnostic> {
    let (spec, protocol) = match text.split_once('/') {
        Some((spec, protocol)) => (spec, Some(protocol)),
        None => (text, None),
    };
    let container = spec.rsplit(':').next().unwrap_or(spec);
    if !is_port_range(container) {
        return Some(Diagnostic::new(
            "expose-invalid-port",
            Severity::Error,
            range,
            format!("`{text}` is not a valid port: use a number from 0 to 65535 or a range such as `8000-8010`, optionally with `/tcp`, `/udp` or `/sctp`"),
        ));
    }
    if let Some(protocol) = protocol {
        if !matches!(protocol.to_ascii_lowercase().as_str(), "tcp" | "udp" | "sctp") {
            return Some(Diagnostic::new(
                "expose-invalid-port",
                Severity::Error,
                range,
                format!("unknown protocol `{protocol}` in `{text}`: use `tcp`, `udp` or `sctp`"),
            ));
        }
    }
    let lower_protocol = protocol.map(str::to_ascii_lowercase);
    let fixed = match &lower_protocol {
        Some(protocol) => format!("{container}/{protocol}"),
        None => container.to_string(),
    };
    if spec.contains(':') {
        return Some(
            Diagnostic::new(
                "expose-invalid-port",
                Severity::Warning,
                range.clone(),
                format!("EXPOSE takes only the container port: the address and host port in `{text}` are ignored (publish them at run time instead)"),
            )
            .with_replacement(format!("Change to `{fixed}`"), range, fixed),
        );
    }
    if protocol.is_some_and(|p| lower_protocol.as_deref() != Some(p)) {
        return Some(
            Diagnostic::new(
                "expose-invalid-port",
                Severity::Warning,
                range.clone(),
                format!("the protocol in `{text}` should be lower case"),
            )
            .with_replacement(format!("Change to `{fixed}`"), range, fixed),
        );
    }
    None
}

fn is_port_range(text: &str) -> bool {
    let port = |p: &str| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u32>().is_ok_and(|n| n <= 65535);
    match text.split_once('-') {
        Some((start, end)) => port(start) && port(end) && start.parse::<u32>().ok() <= end.parse::<u32>().ok(),
        None => port(text),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::analysis::diagnostics::fixture::{check, fix};

    #[test]
    fn fires_on_invalid_ports_protocols_and_mappings() {
        expect![[r#"
            2:8-2:13 error[expose-invalid-port] `99999` is not a valid port: use a number from 0 to 65535 or a range such as `8000-8010`, optionally with `/tcp`, `/udp` or `/sctp`
            2:14-2:20 error[expose-invalid-port] unknown protocol `ftp` in `80/ftp`: use `tcp`, `udp` or `sctp`
            2:21-2:29 warning[expose-invalid-port] the protocol in `8080/TCP` should be lower case
            2:30-2:45 warning[expose-invalid-port] EXPOSE takes only the container port: the address and host port in `127.0.0.1:80:80` are ignored (publish them at run time instead)
            2:46-2:50 error[expose-invalid-port] `http` is not a valid port: use a number from 0 to 65535 or a range such as `8000-8010`, optionally with `/tcp`, `/udp` or `/sctp`
        "#]]
        .assert_eq(&check(
            "expose-invalid-port",
            "FROM alpine\nEXPOSE 99999 80/ftp 8080/TCP 127.0.0.1:80:80 http\n",
        ));
    }

    #[test]
    fn does_not_fire_on_valid_ports_and_variables() {
        expect![[""]].assert_eq(&check(
            "expose-invalid-port",
            "FROM alpine\nEXPOSE 80 443/tcp 53/udp 8000-8010/sctp 0 65535 $PORT ${P:-80}/tcp\n",
        ));
    }

    #[test]
    fn quick_fix_lowercases_or_keeps_the_container_port() {
        expect![[r#"
            Change to `8080/tcp`
            FROM alpine
            EXPOSE 8080/tcp
        "#]]
        .assert_eq(&fix("expose-invalid-port", "FROM alpine\nEXPOSE 8080/TCP\n"));
        expect![[r#"
            Change to `80`
            FROM alpine
            EXPOSE 80
        "#]]
        .assert_eq(&fix("expose-invalid-port", "FROM alpine\nEXPOSE 0.0.0.0:8080:80\n"));
    }
}
