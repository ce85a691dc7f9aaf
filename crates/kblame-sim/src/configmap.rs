//! ConfigMaps: data applied by a user with `kubectl apply`; no controller writes them.

use std::collections::BTreeMap;

use kblame::trace::EventType;
use serde_json::{json, Map, Value};

use super::fields::Writer;
use super::model::{Meta, Object};
use super::world::World;

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A simulated v1 ConfigMap.
#[derive(Debug, Clone)]
pub(crate) struct ConfigMap {
    pub(crate) meta: Meta,
    /// `data`, key by key (values are often whole files).
    pub(crate) data: BTreeMap<String, String>,
}

impl Object for ConfigMap {
    const KIND: &'static str = "ConfigMap";
    const API_VERSION: &'static str = "v1";
    const RESOURCE: &'static str = "v1/configmaps";

    fn meta(&self) -> &Meta {
        &self.meta
    }

    fn meta_mut(&mut self) -> &mut Meta {
        &mut self.meta
    }

    fn body(&self, out: &mut Map<String, Value>) {
        out.insert("data".into(), json!(self.data));
    }
}

/// The manifest `kubectl apply` sends, as its last-applied-configuration annotation holds it.
fn last_applied(namespace: &str, name: &str, data: &BTreeMap<String, String>) -> String {
    let manifest = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"annotations": {}, "name": name, "namespace": namespace},
        "data": data,
    });
    let mut text = String::new();
    super::rng::write_canonical(&manifest, &mut text);
    text.push('\n');
    text
}

impl World {
    /// `kubectl apply` (client-side) of a ConfigMap holding `data`: creates it or replaces its
    /// data; manager `kubectl-client-side-apply` (Update), with the last-applied annotation.
    pub(crate) fn apply_configmap(
        &mut self,
        namespace: &str,
        name: &str,
        data: BTreeMap<String, String>,
    ) {
        let writer = Writer::update("kubectl-client-side-apply");
        let annotation = last_applied(namespace, name, &data);
        let existing = self
            .configmaps
            .values()
            .find(|c| c.meta.namespace == namespace && c.meta.name == name)
            .map(|c| c.meta.uid.clone());
        match existing.and_then(|uid| self.configmaps.get_mut(&uid)) {
            Some(configmap) => {
                configmap.data = data;
                configmap
                    .meta
                    .annotations
                    .insert(LAST_APPLIED.into(), annotation);
                let commit = self
                    .core
                    .commit(configmap, Some(&writer), None, EventType::Modified);
                self.configmap_changed(namespace, name, &writer.manager, &commit);
            }
            None => {
                let uid = self.uid();
                let mut meta = Meta::new(namespace, name, uid.clone(), self.core.now);
                meta.annotations = BTreeMap::from([(LAST_APPLIED.to_string(), annotation)]);
                let mut configmap = ConfigMap { meta, data };
                self.core
                    .commit(&mut configmap, Some(&writer), None, EventType::Added);
                self.configmaps.insert(uid, configmap);
            }
        }
    }
}

impl World {
    /// Sets one key of an existing ConfigMap as `manager` (operation Update), as `helm upgrade`
    /// does when a chart's values change one setting.
    pub(crate) fn set_configmap_key(
        &mut self,
        namespace: &str,
        name: &str,
        key: &str,
        value: &str,
        manager: &str,
    ) {
        let writer = Writer::update(manager);
        let Some(configmap) = self
            .configmaps
            .values_mut()
            .find(|c| c.meta.namespace == namespace && c.meta.name == name)
        else {
            return;
        };
        configmap.data.insert(key.to_string(), value.to_string());
        let commit = self
            .core
            .commit(configmap, Some(&writer), None, EventType::Modified);
        self.configmap_changed(namespace, name, manager, &commit);
    }
}
