//! Which resources to record: the defaults a rollout post-mortem needs, a named list, or
//! everything listable and watchable, resolved against the server's discovery documents.

use kube::discovery::{verbs, ApiCapabilities, ApiResource, Discovery, Scope};
use kube::Client;

use super::RecordError;
use crate::trace::ResourceInfo;

/// The resources recorded by default, as `(group, plural)`.
pub const DEFAULT_RESOURCES: &[(&str, &str)] = &[
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("apps", "controllerrevisions"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
    ("", "pods"),
    ("", "events"),
    ("", "services"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "persistentvolumeclaims"),
    ("autoscaling", "horizontalpodautoscalers"),
    ("policy", "poddisruptionbudgets"),
    ("", "namespaces"),
    ("", "nodes"),
    (
        "admissionregistration.k8s.io",
        "mutatingwebhookconfigurations",
    ),
    (
        "admissionregistration.k8s.io",
        "validatingwebhookconfigurations",
    ),
];

/// Which resources the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// [`DEFAULT_RESOURCES`].
    Defaults,
    /// Named resources: `pods`, `deployments`, or `deployments.apps` to pick a group.
    Named(Vec<String>),
    /// Every resource that can be listed and watched.
    All,
}

/// How often discovery is tried when the server answers 429 or 5xx, and the first wait.
const DISCOVERY_ATTEMPTS: (u32, std::time::Duration) = (5, std::time::Duration::from_millis(500));

/// Every listable and watchable resource the server offers, at each group's preferred version.
///
/// A busy server (429, 5xx) is asked again a few times with doubling waits, as the
/// watchers would; any other failure (no such server, 401, 403) is reported at once.
pub async fn discover(client: &Client) -> Result<Vec<ResourceInfo>, RecordError> {
    let (attempts, mut wait) = DISCOVERY_ATTEMPTS;
    let mut attempt = 1;
    let discovery = loop {
        match Discovery::new(client.clone()).run().await {
            Ok(discovery) => break discovery,
            Err(kube::Error::Api(status))
                if attempt < attempts && (status.code == 429 || status.code >= 500) =>
            {
                tracing::debug!(
                    "discovery failed ({}), retrying in {wait:?}",
                    status.message
                );
                tokio::time::sleep(wait).await;
                (attempt, wait) = (attempt + 1, wait * 2);
            }
            Err(err) => return Err(RecordError::Discovery(err.to_string())),
        }
    };
    let mut found: Vec<ResourceInfo> = discovery
        .groups()
        .flat_map(|group| group.recommended_resources())
        .filter(|(_, caps)| {
            caps.supports_operation(verbs::LIST) && caps.supports_operation(verbs::WATCH)
        })
        .map(|(resource, caps)| info(&resource, &caps))
        .collect();
    found.sort_by(|a, b| (&a.group, &a.resource).cmp(&(&b.group, &b.resource)));
    Ok(found)
}

fn info(resource: &ApiResource, caps: &ApiCapabilities) -> ResourceInfo {
    ResourceInfo {
        group: resource.group.clone(),
        version: resource.version.clone(),
        resource: resource.plural.clone(),
        kind: resource.kind.clone(),
        namespaced: caps.scope == Scope::Namespaced,
    }
}

/// Picks the selected resources out of the discovered ones; also returns names not found.
pub fn select(
    available: &[ResourceInfo],
    selection: &Selection,
) -> (Vec<ResourceInfo>, Vec<String>) {
    match selection {
        Selection::All => (available.to_vec(), Vec::new()),
        Selection::Defaults => {
            let names: Vec<String> = DEFAULT_RESOURCES
                .iter()
                .map(|(group, plural)| {
                    if group.is_empty() {
                        plural.to_string()
                    } else {
                        format!("{plural}.{group}")
                    }
                })
                .collect();
            let (found, _missing) = select_named(available, &names);
            // A default the server lacks (e.g. an old cluster) is simply not recorded.
            (found, Vec::new())
        }
        Selection::Named(names) => select_named(available, names),
    }
}

fn select_named(available: &[ResourceInfo], names: &[String]) -> (Vec<ResourceInfo>, Vec<String>) {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in names {
        match find(available, name) {
            Some(info) if !found.contains(info) => found.push(info.clone()),
            Some(_) => {}
            None => missing.push(name.clone()),
        }
    }
    (found, missing)
}

/// `pods` → the core group's pods before any other group's; `deployments.apps` → that group's.
fn find<'a>(available: &'a [ResourceInfo], name: &str) -> Option<&'a ResourceInfo> {
    let (plural, group) = match name.split_once('.') {
        Some((plural, group)) => (plural, Some(group)),
        None => (name, None),
    };
    let mut matches = available.iter().filter(|r| {
        (r.resource == plural || r.kind.eq_ignore_ascii_case(plural))
            && group.is_none_or(|g| r.group == g)
    });
    let first = matches.next()?;
    Some(
        std::iter::once(first)
            .chain(matches)
            .find(|r| r.group.is_empty())
            .unwrap_or(first),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(group: &str, plural: &str) -> ResourceInfo {
        ResourceInfo {
            group: group.into(),
            version: "v1".into(),
            resource: plural.into(),
            kind: String::new(),
            namespaced: true,
        }
    }

    #[test]
    fn a_plain_name_prefers_the_core_group_and_a_dotted_name_picks_its_group() {
        let available = vec![
            resource("events.k8s.io", "events"),
            resource("", "events"),
            resource("apps", "deployments"),
        ];
        let (found, missing) = select(
            &available,
            &Selection::Named(vec![
                "events".into(),
                "events.events.k8s.io".into(),
                "nope".into(),
            ]),
        );
        assert_eq!(
            found,
            vec![resource("", "events"), resource("events.k8s.io", "events")]
        );
        assert_eq!(missing, vec!["nope".to_string()]);
    }

    #[test]
    fn defaults_skip_what_the_server_does_not_offer() {
        let available = vec![
            resource("", "pods"),
            resource("apps", "deployments"),
            resource("example.com", "widgets"),
        ];
        let (found, missing) = select(&available, &Selection::Defaults);
        assert_eq!(
            found,
            vec![resource("apps", "deployments"), resource("", "pods")]
        );
        assert!(missing.is_empty());
    }
}
