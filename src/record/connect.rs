//! Connecting the way kubectl does: a kubeconfig (the given file, `$KUBECONFIG` or
//! `~/.kube/config`), its current or a chosen context, and that context's namespace.
//!
//! The client can be built again while recording: when the server answers 401 (a bearer
//! token expired), the kubeconfig is read again, which runs its exec plugin again, as
//! client-go's exec authenticator does on a 401 (`k8s.io/client-go/plugin/pkg/client/auth/exec`,
//! `refreshCredsLocked`). kube-rs alone re-runs the plugin only when the token's own
//! `expirationTimestamp` is near, and never when the plugin gave none.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::RecordError;

/// A connected client and what the kubeconfig said about the cluster.
pub struct Connection {
    /// The API client, renewable.
    pub clients: Arc<Clients>,
    /// The context's namespace (`default` when it names none).
    pub default_namespace: String,
    /// The API server URL.
    pub server: String,
    /// The kubeconfig context's cluster name, when the client came from a kubeconfig.
    pub cluster: Option<String>,
}

/// The current client, and how to build a new one from the same kubeconfig and context.
pub struct Clients {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    /// The client and its generation (bumped on every renewal).
    current: RwLock<(u64, Client)>,
    /// Held while a renewal runs, so that many watchers hitting 401 at once renew once.
    renewing: tokio::sync::Mutex<()>,
}

impl Clients {
    /// The current client and its generation.
    pub fn get(&self) -> (u64, Client) {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Builds a new client from the kubeconfig (running its exec plugin again), unless
    /// another task already did since generation `seen`.
    pub async fn renew(&self, seen: u64) -> Result<(), RecordError> {
        let _renewing = self.renewing.lock().await;
        if self.get().0 != seen {
            return Ok(());
        }
        let (config, _) = config(self.kubeconfig.as_deref(), self.context.as_deref()).await?;
        let client = Client::try_from(config).map_err(|e| RecordError::Connect(e.to_string()))?;
        let mut current = match self.current.write() {
            Ok(current) => current,
            Err(poisoned) => poisoned.into_inner(),
        };
        *current = (seen + 1, client);
        Ok(())
    }
}

/// Builds a client from a kubeconfig file or the usual places, with an optional context.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Connection, RecordError> {
    let (config, server) = config(kubeconfig, context).await?;
    let default_namespace = config.default_namespace.clone();
    let client = Client::try_from(config).map_err(|e| RecordError::Connect(e.to_string()))?;
    let clients = Clients {
        kubeconfig: kubeconfig.map(Path::to_path_buf),
        context: context.map(str::to_string),
        current: RwLock::new((0, client)),
        renewing: tokio::sync::Mutex::new(()),
    };
    Ok(Connection {
        clients: Arc::new(clients),
        default_namespace,
        server,
        cluster: cluster_name(kubeconfig, context),
    })
}

/// The cluster name the chosen (else current) context of the kubeconfig names; `None` without
/// a readable kubeconfig (in a pod, say).
fn cluster_name(kubeconfig: Option<&Path>, context: Option<&str>) -> Option<String> {
    let file = match kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok()?,
        None => Kubeconfig::read().ok()?,
    };
    let name = context
        .map(str::to_string)
        .or_else(|| file.current_context.clone())?;
    let named = file.contexts.iter().find(|c| c.name == name)?;
    named.context.as_ref().map(|c| c.cluster.clone())
}

/// The client configuration and the server URL.
async fn config(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<(Config, String), RecordError> {
    let options = KubeConfigOptions {
        context: context.map(str::to_string),
        ..KubeConfigOptions::default()
    };
    let mut config = match kubeconfig {
        Some(path) => {
            let file =
                Kubeconfig::read_from(path).map_err(|e| RecordError::Kubeconfig(e.to_string()))?;
            Config::from_custom_kubeconfig(file, &options).await
        }
        None => Config::from_kubeconfig(&options).await,
    }
    .map_err(|e| RecordError::Kubeconfig(e.to_string()))?;
    // The recorder retries itself (see `api.rs`): it must see every 429, 5xx and "too large
    // resource version" to honour Retry-After, back off, log, and decide on a GAP.
    config.default_retry = false;
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    Ok((config, server))
}
