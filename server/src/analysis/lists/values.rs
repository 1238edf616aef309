//! `charts/<name>.values.yaml` (sealos-semantics §1.5 (a)): sealos overlays a chart's values with
//! the file named after the `name` in the chart's `Chart.yaml`, not after its directory or
//! archive. A values file whose name no chart has is never read: the calico pitfall, where the
//! `tigera-operator` chart sits in `charts/calico/` beside `charts/calico.values.yaml`.

use crate::analysis::{facts::ChartFact, Diagnostic, Severity};

const CODE: &str = "orphan-values-file";
pub(super) const VALUES_SUFFIX: &str = ".values.yaml";

/// `orphan-values-file` for the values file at `relative_path` (`charts/<name>.values.yaml`),
/// given the charts of the context. Nothing is reported while a chart's name is unknown.
pub fn values_file_diagnostics(relative_path: &str, text: &str, charts: &[ChartFact]) -> Vec<Diagnostic> {
    let file_name = relative_path.rsplit('/').next().unwrap_or(relative_path);
    let Some(name) = file_name.strip_suffix(VALUES_SUFFIX) else { return Vec::new() };
    let Some(names) = charts.iter().map(|chart| chart.name.as_deref()).collect::<Option<Vec<&str>>>() else {
        return Vec::new();
    };
    if names.contains(&name) {
        return Vec::new();
    }
    let described: Vec<String> = charts
        .iter()
        .zip(&names)
        .map(|(chart, chart_name)| format!("{} is `{chart_name}`", chart.path))
        .collect();
    let mut message = format!(
        "sealos never applies these values: it reads charts/<Chart.yaml name>.values.yaml, and no chart in charts/ is named `{name}`"
    );
    if described.is_empty() {
        message.push_str(" (there is no chart)");
    } else {
        message.push_str(&format!(" ({})", described.join(", ")));
    }
    // The chart whose directory or archive carries this name: the file was meant for it.
    let meant = charts.iter().zip(&names).find(|(chart, _)| {
        let entry = chart.path.rsplit('/').next().unwrap_or(&chart.path);
        entry == name || entry.strip_suffix(".tgz").is_some_and(|stem| stem == name || stem.starts_with(&format!("{name}-")))
    });
    if let Some((chart, chart_name)) = meant {
        message.push_str(&format!("; rename it to charts/{chart_name}{VALUES_SUFFIX} to apply it to {}", chart.path));
    }
    let first_line = text.find(['\n', '\r']).unwrap_or(text.len());
    vec![Diagnostic::new(CODE, Severity::Warning, 0..first_line, message)]
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::analysis::lists::testing::render;

    fn chart(path: &str, name: Option<&str>) -> ChartFact {
        ChartFact { path: path.into(), name: name.map(str::to_owned) }
    }

    fn check(path: &str, charts: &[ChartFact]) -> String {
        let text = "installation:\n  enabled: true\n";
        render(text, &values_file_diagnostics(path, text, charts))
    }

    #[test]
    fn values_named_after_the_directory_instead_of_the_chart_name_are_reported() {
        expect![[r#"
            1:1-1:14 warning[orphan-values-file] sealos never applies these values: it reads charts/<Chart.yaml name>.values.yaml, and no chart in charts/ is named `calico` (charts/calico is `tigera-operator`); rename it to charts/tigera-operator.values.yaml to apply it to charts/calico
        "#]]
        .assert_eq(&check("charts/calico.values.yaml", &[chart("charts/calico", Some("tigera-operator"))]));
        expect![[r#"
            1:1-1:14 warning[orphan-values-file] sealos never applies these values: it reads charts/<Chart.yaml name>.values.yaml, and no chart in charts/ is named `op` (charts/op-1.2.0.tgz is `operator`); rename it to charts/operator.values.yaml to apply it to charts/op-1.2.0.tgz
        "#]]
        .assert_eq(&check("charts/op.values.yaml", &[chart("charts/op-1.2.0.tgz", Some("operator"))]));
        expect![[r#"
            1:1-1:14 warning[orphan-values-file] sealos never applies these values: it reads charts/<Chart.yaml name>.values.yaml, and no chart in charts/ is named `x` (there is no chart)
        "#]]
        .assert_eq(&check("charts/x.values.yaml", &[]));
    }

    #[test]
    fn values_matching_a_chart_name_or_an_unknown_name_are_not_reported() {
        let charts = [chart("charts/calico", Some("tigera-operator")), chart("charts/web", Some("web"))];
        assert_eq!(check("charts/tigera-operator.values.yaml", &charts), "");
        assert_eq!(check("charts/web.values.yaml", &charts), "");
        assert_eq!(check("charts/other.values.yaml", &[chart("charts/broken", None)]), "");
    }
}
