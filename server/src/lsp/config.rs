//! The user's settings: `initializationOptions`, then `workspace/configuration` (section
//! `kubefile`) or the settings carried by `workspace/didChangeConfiguration`.
//!
//! The workspace layer replaces the initialization options key by key (`severity`, `allowedLabels`,
//! `format`, ... each as a whole; `null` or an absent key keeps the initialization value), and
//! each new workspace object replaces the previous one: a setting the user removed does not stick
//! because an earlier layer still had it. The result is read into [`Config`], whose every field
//! has a default: a partial settings object never turns a rule off by omission. A value that cannot be read (say a severity of `"loud"`)
//! is dropped with a warning instead of discarding the whole object.

use std::{sync::Arc, time::Duration};

use serde_json::{Map, Value};
use tokio::sync::watch;

use crate::analysis::Config;

/// The settings section we read.
pub const SECTION: &str = "kubefile";

/// The default of `maxDocumentSize`: documents bigger than this many bytes are kept as text only
/// (no tree, no diagnostics, no editor features). At this size a Kubefile takes 0.8 s from
/// `didOpen` to its first diagnostics and the server peaks at 76 MiB (release build, loaded
/// 2-core machine, `scripts/bench-size-limit.sh`); twice the size takes 1.9 s and 141 MiB, and
/// both keep growing with it (10 MB: 4.4 s, 342 MiB).
pub const DEFAULT_MAX_DOCUMENT_SIZE: usize = 2 * 1024 * 1024;

/// How long the first analysis waits for the client to answer `workspace/configuration`.
const READY_TIMEOUT: Duration = Duration::from_millis(500);

pub struct ConfigStore {
    inner: std::sync::Mutex<Layers>,
    ready: watch::Sender<bool>,
}

#[derive(Default)]
struct Layers {
    initialization: Value,
    workspace: Value,
    merged: Value,
    current: Arc<Config>,
}

impl Default for ConfigStore {
    fn default() -> Self {
        ConfigStore { inner: Default::default(), ready: watch::Sender::new(false) }
    }
}

impl ConfigStore {
    /// The configuration in force.
    pub fn current(&self) -> Arc<Config> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).current.clone()
    }

    /// Sets the `initializationOptions` layer. Returns warnings about unreadable values.
    pub fn set_initialization(&self, options: Option<Value>) -> Vec<String> {
        self.update(|layers| layers.initialization = section(options.unwrap_or(Value::Null))).1
    }

    /// Sets the workspace layer from a `workspace/configuration` answer or a
    /// `didChangeConfiguration` payload (either the section itself or an object holding it).
    /// Returns whether the configuration changed, and warnings.
    pub fn set_workspace(&self, settings: Value) -> (bool, Vec<String>) {
        self.update(|layers| layers.workspace = section(settings))
    }

    fn update(&self, change: impl FnOnce(&mut Layers)) -> (bool, Vec<String>) {
        let mut layers = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        change(&mut layers);
        let mut merged = Value::Object(Map::new());
        overlay(&mut merged, &layers.initialization);
        overlay(&mut merged, &layers.workspace);
        if merged == layers.merged {
            return (false, Vec::new());
        }
        let (config, warnings) = read(&merged);
        layers.merged = merged;
        layers.current = Arc::new(config);
        (true, warnings)
    }

    /// `helm.path`: the helm binary that renders `charts/` (`None`: `helm` on `PATH`). Not an
    /// analysis setting, so it is read from the merged settings rather than [`Config`].
    pub fn helm_path(&self) -> Option<std::path::PathBuf> {
        let layers = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let path = layers.merged.get("helm")?.get("path")?.as_str()?.trim();
        (!path.is_empty()).then(|| std::path::PathBuf::from(path))
    }

    /// `maxDocumentSize`: documents bigger than this many bytes are kept as text only (see
    /// `lsp::diagnostics`). Not an analysis setting either; anything but a non-negative integer
    /// means the default.
    pub fn max_document_size(&self) -> usize {
        let layers = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        layers
            .merged
            .get("maxDocumentSize")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_MAX_DOCUMENT_SIZE, |limit| usize::try_from(limit).unwrap_or(usize::MAX))
    }

    /// Formatting preferences beyond the request's tab size and spaces (`format.*`).
    pub fn format_options(&self, tab_size: u32, insert_spaces: bool) -> crate::analysis::format::FormatOptions {
        let layers = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut options = crate::analysis::format::FormatOptions { tab_size, insert_spaces, ..Default::default() };
        let setting =
            |name: &str| layers.merged.get("format").and_then(|format| format.get(name)).and_then(Value::as_bool);
        if let Some(value) = setting("ignoreMultilineInstructions") {
            options.ignore_multiline_instructions = value;
        }
        if let Some(value) = setting("keepAlignedContinuations") {
            options.keep_aligned_continuations = value;
        }
        if let Some(value) = setting("legacyKeyValue") {
            options.legacy_key_value = value;
        }
        if let Some(value) = setting("normalizeJson") {
            options.normalize_json = value;
        }
        options
    }

    /// Marks the initial configuration as known (answered, refused or not asked for).
    pub fn mark_ready(&self) {
        self.ready.send_replace(true);
    }

    /// Waits, briefly, until the initial configuration is known, so the first diagnostics of a
    /// document opened right after `initialized` already honour the user's settings.
    pub async fn ready(&self) {
        let mut ready = self.ready.subscribe();
        let _ = tokio::time::timeout(READY_TIMEOUT, ready.wait_for(|ready| *ready)).await;
    }
}

/// `{"kubefile": {...}}` → `{...}`; anything else is taken as the section itself.
fn section(value: Value) -> Value {
    match value {
        Value::Object(mut map) if map.contains_key(SECTION) => map.remove(SECTION).unwrap_or(Value::Null),
        other => other,
    }
}

/// Overlays a settings layer on `base`: each top-level key of an object layer replaces the
/// base's value whole (a `severity` map replaces the earlier `severity` map, so an override the
/// user removed is gone); `null` values and a `null` layer leave the base alone; any other
/// non-object layer replaces everything (and is reported when read).
fn overlay(base: &mut Value, layer: &Value) {
    match (base, layer) {
        (_, Value::Null) => {}
        (Value::Object(base), Value::Object(layer)) => {
            for (key, value) in layer.iter().filter(|(_, value)| !value.is_null()) {
                base.insert(key.clone(), value.clone());
            }
        }
        (base, layer) => *base = layer.clone(),
    }
}

/// Reads settings into a [`Config`], dropping (with a warning) whatever cannot be read.
fn read(settings: &Value) -> (Config, Vec<String>) {
    let mut warnings = Vec::new();
    let Value::Object(map) = settings else {
        if !settings.is_null() {
            warnings.push(format!("kubefile-ls: settings must be an object, got {settings}"));
        }
        return (Config::default(), warnings);
    };
    let mut map = map.clone();
    // First drop unreadable entries of the maps and lists we know, one value at a time...
    if let Some(Value::Object(severity)) = map.get_mut("severity") {
        severity.retain(|code, level| {
            let ok = serde_json::from_value::<crate::analysis::config::SeverityOverride>(level.clone()).is_ok();
            if !ok {
                warnings.push(format!(
                    "kubefile-ls: ignoring severity {level} for `{code}` (expected off, hint, info, warning or error)"
                ));
            }
            ok
        });
    }
    for list in ["allowedLabels", "knownVariables"] {
        if let Some(Value::Array(items)) = map.get_mut(list) {
            items.retain(|item| {
                let ok = item.is_string();
                if !ok {
                    warnings.push(format!("kubefile-ls: ignoring {item} in `{list}` (expected a string)"));
                }
                ok
            });
        }
    }
    // ...then any field that still does not read is dropped as a whole.
    loop {
        match serde_json::from_value::<Config>(Value::Object(map.clone())) {
            Ok(config) => return (config, warnings),
            Err(error) => {
                let culprit = map.keys().find(|key| {
                    let single = Map::from_iter([((*key).clone(), map[*key].clone())]);
                    serde_json::from_value::<Config>(Value::Object(single)).is_err()
                });
                let Some(key) = culprit.cloned() else {
                    warnings.push(format!("kubefile-ls: ignoring settings: {error}"));
                    return (Config::default(), warnings);
                };
                warnings.push(format!("kubefile-ls: ignoring setting `{key}`: {error}"));
                map.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::analysis::config::SeverityOverride;

    #[test]
    fn layers_merge_over_defaults_and_each_other() {
        let store = ConfigStore::default();
        store.set_initialization(Some(json!({"severity": {"unknown-label": "off"}, "allowedLabels": ["a"]})));
        assert_eq!(store.current().severity.get("unknown-label"), Some(&SeverityOverride::Off));
        let (changed, warnings) = store.set_workspace(json!({"kubefile": {"severity": {"protected-env": "hint"}}}));
        assert!(changed && warnings.is_empty());
        let config = store.current();
        // The workspace's `severity` replaces the initialization's; keys it does not name are kept.
        assert_eq!(config.severity.get("unknown-label"), None);
        assert_eq!(config.severity.get("protected-env"), Some(&SeverityOverride::Hint));
        assert_eq!(config.allowed_labels, vec!["a".to_string()]);
        // The same settings again change nothing; a null workspace layer leaves the initialization options.
        assert!(!store.set_workspace(json!({"severity": {"protected-env": "hint"}})).0);
        assert!(store.set_workspace(Value::Null).0);
        assert!(!store.current().severity.contains_key("protected-env"));
        assert_eq!(store.current().severity.get("unknown-label"), Some(&SeverityOverride::Off));
    }

    #[test]
    fn removed_settings_do_not_stick() {
        let store = ConfigStore::default();
        store.set_initialization(Some(json!({"severity": {"unknown-label": "off", "protected-env": "hint"}})));
        // The user removes one override: the client now sends the map without it.
        store.set_workspace(json!({"severity": {"protected-env": "hint"}}));
        assert!(!store.current().severity.contains_key("unknown-label"), "a removed override is gone");
        // Then removes every setting: a later partial object replaces the earlier one.
        store.set_workspace(json!({"severity": {"unknown-label": "error"}, "allowedLabels": ["x"]}));
        store.set_workspace(json!({"allowedLabels": ["y"]}));
        let config = store.current();
        assert_eq!(
            config.severity.get("unknown-label"),
            Some(&SeverityOverride::Off),
            "back to the initialization value"
        );
        assert_eq!(config.allowed_labels, vec!["y".to_string()]);
        // A null or missing key never disables anything.
        store.set_workspace(json!({"severity": null}));
        assert_eq!(store.current().severity.get("protected-env"), Some(&SeverityOverride::Hint));
        store.set_initialization(None);
        assert!(store.current().severity.is_empty());
    }

    #[test]
    fn unreadable_values_are_dropped_with_a_warning_not_the_whole_object() {
        let store = ConfigStore::default();
        let (_, warnings) = store.set_workspace(json!({
            "severity": {"unknown-label": "loud", "protected-env": "error"},
            "allowedLabels": ["x", 3],
            "knownVariables": "NOT_A_LIST"
        }));
        let config = store.current();
        assert_eq!(config.severity.get("protected-env"), Some(&SeverityOverride::Error));
        assert!(!config.severity.contains_key("unknown-label"));
        assert_eq!(config.allowed_labels, vec!["x".to_string()]);
        assert!(config.known_variables.is_empty());
        assert_eq!(warnings.len(), 3, "{warnings:?}");
    }

    #[test]
    fn helm_path_and_format_options_come_from_the_merged_settings() {
        let store = ConfigStore::default();
        assert_eq!(store.helm_path(), None);
        assert!(store.format_options(4, true).keep_aligned_continuations);
        store.set_initialization(Some(
            json!({"helm": {"path": "/opt/helm"}, "format": {"keepAlignedContinuations": false}}),
        ));
        store.set_workspace(json!({"format": {"ignoreMultilineInstructions": true}}));
        assert_eq!(store.helm_path(), Some(std::path::PathBuf::from("/opt/helm")));
        let options = store.format_options(2, false);
        assert_eq!((options.tab_size, options.insert_spaces), (2, false));
        // The workspace's `format` object replaces the initialization's as a whole.
        assert!(options.ignore_multiline_instructions && options.keep_aligned_continuations);
        store.set_workspace(json!({"helm": {"path": " "}}));
        assert_eq!(store.helm_path(), None);
    }

    #[test]
    fn max_document_size_is_read_from_the_merged_settings() {
        let store = ConfigStore::default();
        assert_eq!(store.max_document_size(), DEFAULT_MAX_DOCUMENT_SIZE);
        store.set_initialization(Some(json!({"maxDocumentSize": 1000})));
        assert_eq!(store.max_document_size(), 1000);
        store.set_workspace(json!({"maxDocumentSize": "big"}));
        assert_eq!(store.max_document_size(), DEFAULT_MAX_DOCUMENT_SIZE);
    }

    #[test]
    fn non_object_settings_fall_back_to_defaults() {
        let (config, warnings) = read(&json!(42));
        assert!(config.severity.is_empty());
        assert_eq!(warnings.len(), 1);
    }
}
