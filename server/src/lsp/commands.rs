//! `workspace/executeCommand`: the commands editors run through the server. Each command is one
//! arm of [`execute`]; [`advertised`] is exactly what `initialize` advertises.

use std::{str::FromStr, sync::Arc};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tower_lsp_server::{
    jsonrpc::{Error, ErrorCode, Result},
    ls_types::{self as lsp, Uri},
};

use super::{
    build::{self, BUILD},
    capabilities::Negotiated,
    contexts,
    session::Session,
};
use crate::analysis::code_lens::CodeLensKind;

/// `kubefile.images` [uri]: the images `sealos build` saves into `registry/` for the Kubefile's
/// context (charts rendered with helm), each `{image, registry_path, source, chart?, file, line}`
/// with `file` relative to the context and `line` 1-based.
pub const IMAGES: &str = "kubefile.images";

/// `kubefile.applyEdit` {title, uri, version, edit}: applies a code action's edit with
/// `workspace/applyEdit`. Clients without `CodeAction` literals get their code actions as
/// commands, and only those clients are offered this one.
pub const APPLY_EDIT: &str = "kubefile.applyEdit";

/// The commands every client is offered.
pub const COMMANDS: &[&str] = &[BUILD, IMAGES];

/// The commands `initialize` advertises to this client.
pub fn advertised(negotiated: &Negotiated) -> Vec<String> {
    let apply_edit = (!negotiated.code_action_literals && negotiated.apply_edit).then_some(APPLY_EDIT);
    COMMANDS.iter().copied().chain(apply_edit).map(str::to_owned).collect()
}

pub async fn execute(session: &Arc<Session>, params: lsp::ExecuteCommandParams) -> Result<Option<Value>> {
    match params.command.as_str() {
        BUILD => build::execute(session, params).await.map(Some),
        IMAGES => images(session, &params.arguments).await.map(Some),
        APPLY_EDIT => apply_edit(session, params.arguments).await.map(|()| None),
        other => Err(Error::invalid_params(format!(
            "unknown command `{other}`; this server runs {:?}",
            advertised(session.negotiated())
        ))),
    }
}

/// The document a code action's edit was computed for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditedDocument {
    pub uri: Uri,
    pub version: i32,
}

/// The argument of [`APPLY_EDIT`].
#[derive(Debug, Serialize, Deserialize)]
struct ApplyEditArguments {
    title: String,
    #[serde(flatten)]
    target: EditedDocument,
    edit: lsp::WorkspaceEdit,
}

/// A code action as a command, for clients without `CodeAction` literals: its own command, or
/// for an edit, [`APPLY_EDIT`] (`None` when the client cannot apply edits it is sent).
pub fn action_command(action: lsp::CodeAction, target: &EditedDocument, apply_edits: bool) -> Option<lsp::Command> {
    match (action.edit, action.command) {
        (None, Some(command)) => Some(command),
        (Some(edit), None) if apply_edits => {
            let arguments = ApplyEditArguments { title: action.title.clone(), target: target.clone(), edit };
            let argument = serde_json::to_value(arguments)
                .inspect_err(|error| tracing::error!("serialising a code action failed: {error}"))
                .ok()?;
            Some(lsp::Command { title: action.title, command: APPLY_EDIT.to_owned(), arguments: Some(vec![argument]) })
        }
        _ => None,
    }
}

/// LSP's RequestFailed: the request was valid, the server or the client could not carry it out.
pub fn request_failed(message: String) -> Error {
    Error { code: ErrorCode::ServerError(-32803), message: message.into(), data: None }
}

async fn apply_edit(session: &Arc<Session>, arguments: Vec<Value>) -> Result<()> {
    let argument = arguments.into_iter().next().ok_or_else(|| {
        Error::invalid_params(format!("{APPLY_EDIT} takes {{title, uri, version, edit}} as its argument"))
    })?;
    let ApplyEditArguments { title, target, edit } =
        serde_json::from_value(argument).map_err(|error| Error::invalid_params(format!("{APPLY_EDIT}: {error}")))?;
    let current = session.documents.get(&target.uri).map(|entry| entry.doc.version());
    if current != Some(target.version) {
        // A plain `changes` edit carries no version: applied to newer text, it would corrupt it.
        return Err(Error {
            code: ErrorCode::ContentModified,
            message: format!("{title}: the document changed since this action was offered; ask for the actions again")
                .into(),
            data: None,
        });
    }
    let response = session
        .client
        .apply_edit(edit)
        .await
        .map_err(|error| request_failed(format!("{title}: workspace/applyEdit failed: {}", error.message)))?;
    if response.applied {
        Ok(())
    } else {
        let reason = response.failure_reason.map_or_else(String::new, |reason| format!(": {reason}"));
        Err(request_failed(format!("{title}: the client did not apply the edit{reason}")))
    }
}

/// The command a code lens runs (with the document's URI as its argument).
pub fn lens_command(kind: &CodeLensKind) -> &'static str {
    match kind {
        CodeLensKind::ImagesSaved { .. } => IMAGES,
        CodeLensKind::BuildImage => BUILD,
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
        session.show_message(lsp::MessageType::WARNING, message);
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
