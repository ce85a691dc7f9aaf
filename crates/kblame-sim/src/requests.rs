//! Requests the API server logs that change nothing: `kubectl diff` (a dry-run PATCH), a
//! rejected `kubectl replace` (409 Conflict) and reads. They go to the audit log only; the
//! watch never sees them.

use serde_json::{json, Map, Value};

use super::audit::{resource_path, tool_query, Request};
use super::config::{DeploymentConfig, Tool};
use super::world::World;

impl World {
    /// `kubectl diff -f`: a GET of the live object, then the apply sent as a server-side dry
    /// run (`?dryRun=All`, kubectl v1.31 `pkg/cmd/diff`): 200 with the object the write would
    /// store (its resourceVersion unchanged), never committed.
    pub(crate) fn kubectl_diff(
        &mut self,
        namespace: &str,
        name: &str,
        tool: Tool,
        change: impl FnOnce(&mut DeploymentConfig),
    ) {
        let Some(uid) = self.find_deployment(namespace, name) else {
            return;
        };
        let live = self.deployments[&uid].meta.last.clone();
        self.log_read("get", namespace, "deployments", Some(name), live);
        let mut config = self.deployments[&uid].config.clone();
        change(&mut config);
        let Some((d, writer, applied)) = self.deployment_as_applied(&uid, &config, tool) else {
            return;
        };
        let would_be = self.core.dry_run(&d, &writer, applied.as_ref());
        // client-go encodes query parameters sorted by key (`url.Values.Encode`).
        let query = match tool_query(&writer).strip_prefix('?') {
            Some(rest) => format!("?dryRun=All&{rest}"),
            None => "?dryRun=All".to_string(),
        };
        let old = &self.deployments[&uid].meta.last;
        let patch = super::audit::merge_patch(&strip_meta(old), &strip_meta(&would_be))
            .map(|p| super::audit::sorted(&p))
            .unwrap_or(json!({}));
        let request = Request {
            verb: "patch",
            uri: format!(
                "{}{query}",
                path("apps", "v1", namespace, "deployments", Some(name))
            ),
            group: "apps".into(),
            version: "v1".into(),
            resource: "deployments".into(),
            namespace: namespace.into(),
            name: Some(name.into()),
            code: 200,
            request_object: Some(patch),
            response_object: Some(would_be),
            at: self.core.now,
            manager: Some(writer.manager.clone()),
            ..Request::default()
        };
        self.log(request);
    }

    /// `kubectl replace -f` of a Deployment manifest saved before its latest change: a PUT
    /// whose `resourceVersion` is stale, refused with 409 Conflict
    /// (`staging/src/k8s.io/apiserver/pkg/storage/errors.go` `NewConflict` via
    /// `GuaranteedUpdate`'s precondition), so nothing is stored.
    pub(crate) fn stale_replace(
        &mut self,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) {
        let Some(uid) = self.find_deployment(namespace, name) else {
            return;
        };
        let stale_rv = self
            .core
            .audit
            .as_ref()
            .and_then(|a| a.previous_rv.get(&uid).cloned());
        let mut sent = self.deployments[&uid].meta.last.clone();
        if let Some(meta) = sent["metadata"].as_object_mut() {
            meta.shift_remove("managedFields");
            meta.insert("resourceVersion".into(), json!(stale_rv));
        }
        change(&mut sent);
        let message = format!(
            "Operation cannot be fulfilled on deployments.apps \"{name}\": the object has been \
             modified; please apply your changes to the latest version and try again"
        );
        let mut status = Map::new();
        status.insert("status".into(), json!("Failure"));
        status.insert("message".into(), json!(message));
        status.insert("reason".into(), json!("Conflict"));
        status.insert(
            "details".into(),
            json!({"name": name, "group": "apps", "kind": "deployments"}),
        );
        let mut response = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}});
        if let Some(map) = response.as_object_mut() {
            map.extend(status.clone());
            map.insert("code".into(), json!(409));
        }
        let request = Request {
            verb: "update",
            uri: format!(
                "{}?fieldManager=kubectl-replace&fieldValidation=Strict",
                path("apps", "v1", namespace, "deployments", Some(name))
            ),
            group: "apps".into(),
            version: "v1".into(),
            resource: "deployments".into(),
            namespace: namespace.into(),
            name: Some(name.into()),
            uid: Some(uid),
            resource_version: stale_rv,
            code: 409,
            status,
            request_object: Some(sent),
            response_object: Some(response),
            at: self.core.now,
            manager: Some("kubectl-replace".into()),
            ..Request::default()
        };
        self.log(request);
    }

    /// `kubectl get pods` / `kubectl get deployments`: a LIST of the namespace.
    pub(crate) fn kubectl_get(&mut self, namespace: &str, resource: &str) {
        let (group, kind, items): (&str, &str, Vec<Value>) = match resource {
            "pods" => (
                "",
                "PodList",
                self.pods
                    .values()
                    .filter(|p| p.meta.namespace == namespace)
                    .map(|p| p.meta.last.clone())
                    .collect(),
            ),
            _ => (
                "apps",
                "DeploymentList",
                self.deployments
                    .values()
                    .filter(|d| d.meta.namespace == namespace)
                    .map(|d| d.meta.last.clone())
                    .collect(),
            ),
        };
        let api_version = if group.is_empty() {
            "v1".to_string()
        } else {
            format!("{group}/v1")
        };
        let rv = self.core.resource_version().to_string();
        let list = json!({"kind": kind, "apiVersion": api_version,
            "metadata": {"resourceVersion": rv}, "items": items});
        let request = Request {
            verb: "list",
            uri: format!("{}?limit=500", path(group, "v1", namespace, resource, None)),
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            namespace: namespace.into(),
            code: 200,
            response_object: Some(list),
            at: self.core.now,
            manager: Some("kubectl".into()),
            ..Request::default()
        };
        self.log(request);
    }

    fn log_read(
        &mut self,
        verb: &'static str,
        namespace: &str,
        resource: &str,
        name: Option<&str>,
        object: Value,
    ) {
        let request = Request {
            verb,
            uri: path("apps", "v1", namespace, resource, name),
            group: "apps".into(),
            version: "v1".into(),
            resource: resource.into(),
            namespace: namespace.into(),
            name: name.map(str::to_string),
            code: 200,
            response_object: Some(object),
            at: self.core.now,
            manager: Some("kubectl".into()),
            ..Request::default()
        };
        self.log(request);
    }

    fn log(&mut self, request: Request) {
        if let Some(audit) = self.core.audit.as_mut() {
            audit.log(request);
        }
    }
}

fn path(group: &str, version: &str, namespace: &str, resource: &str, name: Option<&str>) -> String {
    resource_path(group, version, namespace, resource, name, None)
}

fn strip_meta(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "uid",
            "resourceVersion",
            "generation",
            "managedFields",
            "creationTimestamp",
        ] {
            meta.shift_remove(key);
        }
    }
    if let Some(map) = body.as_object_mut() {
        map.shift_remove("status");
    }
    body
}
