//! Connecting the way kubectl does: a kubeconfig (the given file, `$KUBECONFIG` or
//! `~/.kube/config`), its current or a chosen context, and that context's namespace.

use std::path::Path;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::RecordError;

/// A connected client and what the kubeconfig said about the cluster.
pub struct Connection {
    /// The API client.
    pub client: Client,
    /// The context's namespace (`default` when it names none).
    pub default_namespace: String,
    /// The API server URL.
    pub server: String,
}

/// Builds a client from a kubeconfig file or the usual places, with an optional context.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Connection, RecordError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let config = match kubeconfig {
        Some(path) => {
            let file =
                Kubeconfig::read_from(path).map_err(|e| RecordError::Kubeconfig(e.to_string()))?;
            Config::from_custom_kubeconfig(file, &options).await
        }
        None => Config::from_kubeconfig(&options).await,
    }
    .map_err(|e| RecordError::Kubeconfig(e.to_string()))?;
    let default_namespace = config.default_namespace.clone();
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let client = Client::try_from(config).map_err(|e| RecordError::Connect(e.to_string()))?;
    Ok(Connection {
        client,
        default_namespace,
        server,
    })
}
