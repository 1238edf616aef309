//! `workspace/executeCommand`: the commands editors run through the server. Each command is one
//! arm of [`execute`] and one entry of [`COMMANDS`], which is exactly what `initialize` advertises.

use std::{str::FromStr, sync::Arc};

use serde_json::Value;
use tower_lsp_server::{
    jsonrpc::{Error, Result},
    ls_types::{self as lsp, Uri},
};

use super::{
    build::{self, BUILD},
    contexts,
    session::Session,
};
use crate::analysis::code_lens::CodeLensKind;

/// `kubefile.images` [uri]: the images `sealos build` saves into `registry/` for the Kubefile's
/// context (charts rendered with helm), each `{image, registry_path, source, chart?, file, line}`
/// with `file` relative to the context and `line` 1-based.
pub const IMAGES: &str = "kubefile.images";

/// The commands this server implements.
pub const COMMANDS: &[&str] = &[BUILD, IMAGES];

pub async fn execute(session: &Arc<Session>, params: lsp::ExecuteCommandParams) -> Result<Option<Value>> {
    match params.command.as_str() {
        BUILD => build::execute(session, params).await.map(Some),
        IMAGES => images(session, &params.arguments).await.map(Some),
        other => Err(Error::invalid_params(format!("unknown command `{other}`; this server runs {COMMANDS:?}"))),
    }
}

/// The command a code lens runs (with the document's URI as its argument); `None` while the
/// server has no command for it, and the lens is then not shown.
pub fn lens_command(kind: &CodeLensKind) -> Option<&'static str> {
    match kind {
        CodeLensKind::ImagesSaved { .. } => Some(IMAGES),
        CodeLensKind::BuildImage => Some(BUILD),
    }
}

/// The `file:` URI a command's first argument names.
fn uri_argument(command: &str, arguments: &[Value]) -> Result<Uri> {
    let text = arguments
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid_params(format!("{command} takes the URI of a Kubefile as its argument")))?;
    Uri::from_str(text).map_err(|error| Error::invalid_params(format!("{command}: `{text}` is not a URI: {error}")))
}

async fn images(session: &Arc<Session>, arguments: &[Value]) -> Result<Value> {
    let uri = uri_argument(IMAGES, arguments)?;
    let path = contexts::file_path(&uri)
        .ok_or_else(|| Error::invalid_params(format!("{IMAGES}: `{}` is not a local file", uri.as_str())))?;
    let dir = contexts::context_dir(Some(&path))
        .ok_or_else(|| Error::invalid_params(format!("{IMAGES}: `{}` has no directory", path.display())))?;
    let rendered = session.contexts.rendered(&dir, session.config.helm_path()).await;
    if !rendered.index.errors.is_empty() {
        // The list is still useful without a chart helm could not render; say what is missing.
        let problems: Vec<String> = rendered.index.errors.iter().map(ToString::to_string).collect();
        let message =
            format!("kubefile-ls: the image list of {} may be incomplete: {}", dir.display(), problems.join("; "));
        tracing::warn!("{message}");
        session.client.show_message(lsp::MessageType::WARNING, message).await;
    }
    serde_json::to_value(&rendered.index.images).map_err(|error| {
        tracing::error!("serialising the images of {} failed: {error}", dir.display());
        Error::internal_error()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_uri_argument_is_required_and_checked() {
        assert!(uri_argument(IMAGES, &[]).is_err());
        assert!(uri_argument(IMAGES, &[json!(3)]).is_err());
        assert!(uri_argument(IMAGES, &[json!("not a uri")]).is_err());
        assert_eq!(uri_argument(IMAGES, &[json!("file:///c/Kubefile")]).unwrap().as_str(), "file:///c/Kubefile");
    }
}
