//! The image configuration a build produces and inherits: the fields buildah's OCI config
//! carries, plus the Docker extensions (`Healthcheck`, `Shell`, `OnBuild`) that Docker and
//! podman read from it. Converted to oci-spec types only when the image is written.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// imagebuilder adds this PATH to a stage whose base has none (every `FROM scratch`).
pub const DEFAULT_PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    /// `NAME=value`, in definition order (a redefinition keeps the first position).
    pub env: Vec<String>,
    pub cmd: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub labels: BTreeMap<String, String>,
    pub working_dir: String,
    pub user: String,
    /// `port/proto`.
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<Healthcheck>,
    pub shell: Option<Vec<String>>,
    pub on_build: Vec<String>,
    pub author: Option<String>,
}

/// Docker's `HealthConfig` (durations in nanoseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Healthcheck {
    pub test: Vec<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries: u64,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

impl ImageConfig {
    /// The value of an ENV variable.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env.iter().find_map(|entry| {
            let (key, value) = entry.split_once('=').unwrap_or((entry, ""));
            (key == name).then_some(value)
        })
    }

    /// Sets `name=value`, replacing an earlier definition in place (imagebuilder `mergeEnv`).
    pub fn set_env(&mut self, name: &str, value: &str) {
        let entry = format!("{name}={value}");
        match self.env.iter_mut().find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == name) {
            Some(existing) => *existing = entry,
            None => self.env.push(entry),
        }
    }

    /// The config of a pulled image (OCI or Docker schema 2 config JSON; both use the same
    /// field names for what a build inherits).
    pub fn from_image_json(config: &serde_json::Value) -> ImageConfig {
        let section = config.get("config").or_else(|| config.get("container_config"));
        let strings = |key: &str| -> Option<Vec<String>> {
            section?.get(key)?.as_array().map(|items| items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect())
        };
        let string = |key: &str| section.and_then(|s| s.get(key)).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        let keys = |key: &str| -> Vec<String> {
            section.and_then(|s| s.get(key)).and_then(|v| v.as_object()).map(|m| m.keys().cloned().collect()).unwrap_or_default()
        };
        let labels = section
            .and_then(|s| s.get("Labels"))
            .and_then(|v| v.as_object())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_default();
        ImageConfig {
            env: strings("Env").unwrap_or_default(),
            cmd: strings("Cmd"),
            entrypoint: strings("Entrypoint"),
            labels,
            working_dir: string("WorkingDir"),
            user: string("User"),
            exposed_ports: keys("ExposedPorts"),
            volumes: keys("Volumes"),
            stop_signal: Some(string("StopSignal")).filter(|s| !s.is_empty()),
            healthcheck: section
                .and_then(|s| s.get("Healthcheck"))
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            shell: strings("Shell"),
            on_build: strings("OnBuild").unwrap_or_default(),
            author: config.get("author").and_then(|v| v.as_str()).map(str::to_owned),
        }
    }

    /// The `config` section as JSON: the OCI fields through oci-spec, then the Docker
    /// extensions buildah would drop in OCI format but Docker and podman honour.
    pub fn to_oci(&self) -> Result<oci_spec::image::Config, oci_spec::OciSpecError> {
        let mut builder = oci_spec::image::ConfigBuilder::default();
        if !self.env.is_empty() {
            builder = builder.env(self.env.clone());
        }
        if let Some(cmd) = &self.cmd {
            builder = builder.cmd(cmd.clone());
        }
        if let Some(entrypoint) = &self.entrypoint {
            builder = builder.entrypoint(entrypoint.clone());
        }
        if !self.labels.is_empty() {
            builder = builder.labels(self.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<std::collections::HashMap<_, _>>());
        }
        if !self.working_dir.is_empty() {
            builder = builder.working_dir(self.working_dir.clone());
        }
        if !self.user.is_empty() {
            builder = builder.user(self.user.clone());
        }
        if !self.exposed_ports.is_empty() {
            builder = builder.exposed_ports(self.exposed_ports.clone());
        }
        if !self.volumes.is_empty() {
            builder = builder.volumes(self.volumes.clone());
        }
        if let Some(signal) = &self.stop_signal {
            builder = builder.stop_signal(signal.clone());
        }
        builder.build()
    }

    /// Docker extensions to merge into the `config` section.
    pub fn docker_extensions(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut extra = serde_json::Map::new();
        if let Some(health) = &self.healthcheck {
            extra.insert("Healthcheck".into(), serde_json::to_value(health).unwrap_or_default());
        }
        if let Some(shell) = &self.shell {
            extra.insert("Shell".into(), shell.clone().into());
        }
        if !self.on_build.is_empty() {
            extra.insert("OnBuild".into(), self.on_build.clone().into());
        }
        extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_redefinition_keeps_position() {
        let mut config = ImageConfig::default();
        config.set_env("A", "1");
        config.set_env("B", "2");
        config.set_env("A", "3");
        assert_eq!(config.env, ["A=3", "B=2"]);
        assert_eq!(config.env_value("A"), Some("3"));
    }

    #[test]
    fn docker_config_is_read() {
        let json = serde_json::json!({"config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "Labels": {"a": "b"},
            "ExposedPorts": {"80/tcp": {}}, "Healthcheck": {"Test": ["NONE"]}}});
        let config = ImageConfig::from_image_json(&json);
        assert_eq!(config.env, ["PATH=/bin"]);
        assert_eq!(config.cmd.as_deref(), Some(&["sh".to_string()][..]));
        assert_eq!(config.labels["a"], "b");
        assert_eq!(config.exposed_ports, ["80/tcp"]);
        assert_eq!(config.healthcheck.unwrap().test, ["NONE"]);
    }
}
