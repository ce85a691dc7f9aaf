//! The recorder's side of the watches: the initial list, a watch that breaks (GAP) and the
//! re-list that ends the gap (LISTED records, then SYNCED).

use std::io::{self, Write};

use kblame::trace::{EventType, ResourceInfo, TraceWriter};
use serde_json::Value;

use super::clock::to_timestamp;
use super::model::Object;
use super::{Sim, Sink};

impl<W: Write> Sim<W> {
    /// The recorder's watch of `resource` (e.g. `v1/pods`) breaks: writes a GAP record with
    /// `reason`. Changes of that resource go unrecorded until [`Sim::resume_watch`]; the
    /// cluster and the other watches carry on. An unknown resource is ignored.
    pub fn break_watch(&mut self, resource: &str, reason: &str) -> &mut Self {
        self.drain();
        if self.resource(resource).is_none() || self.world.core.broken.contains(resource) {
            return self;
        }
        self.world.core.now += self.world.core.jitter(1, 4);
        let ts = to_timestamp(self.world.core.now);
        self.control(|writer| writer.write_gap(ts, resource, reason));
        self.world.core.broken.insert(resource.to_string());
        self
    }

    /// The recorder lists `resource` again: a LISTED record per object that exists now, then
    /// SYNCED; its changes are recorded again from here on. Objects deleted during the gap are
    /// simply missing from the list.
    pub fn resume_watch(&mut self, resource: &str) -> &mut Self {
        self.drain();
        if !self.world.core.broken.remove(resource) {
            return self;
        }
        if let Some((info, store)) = self.resource(resource) {
            self.list_resource(&info, store);
            match store {
                "pods" => self.mark_pods_visible(),
                "deployments" => self.mark_deployments_visible(),
                _ => {}
            }
        }
        self
    }

    /// The reason a re-watch of `resource` fails with once the last resourceVersion the recorder
    /// saw of it has been compacted away (up to now), e.g.
    /// `410 Gone: too old resource version: 1200 (1450)`.
    pub fn expired_watch_reason(&self, resource: &str) -> String {
        let last = self.world.core.last_recorded.get(resource).copied();
        format!(
            "410 Gone: too old resource version: {} ({})",
            last.unwrap_or(0),
            self.world.core.resource_version()
        )
    }

    fn resource(&self, path: &str) -> Option<(ResourceInfo, &'static str)> {
        self.resources()
            .into_iter()
            .find(|(info, _)| info.path() == path)
    }

    /// The initial list of every recorded resource.
    pub(super) fn list_everything(&mut self) {
        for (info, store) in self.resources() {
            self.list_resource(&info, store);
        }
    }

    /// A LISTED record per object of `store`, a few ms apart, then SYNCED.
    fn list_resource(&mut self, info: &ResourceInfo, store: &str) {
        let objects = self.listed(store);
        for object in objects {
            self.world.core.now += self.world.core.jitter(1, 4);
            self.write(self.world.core.now, EventType::Listed, &object);
        }
        self.world.core.now += self.world.core.jitter(1, 4);
        let rv = self.world.core.resource_version();
        let ts = to_timestamp(self.world.core.now);
        let path = info.path();
        self.control(|writer| writer.write_synced(ts, &path, Some(&rv.to_string())));
        self.world.core.last_recorded.insert(path, rv);
    }

    /// Writes a control record, keeping the first error.
    fn control(&mut self, write: impl FnOnce(&mut TraceWriter<W>) -> io::Result<()>) {
        if let (Sink::Writing(writer), None) = (&mut self.sink, &self.error) {
            if let Err(error) = write(writer) {
                self.error = Some(error);
            }
        }
    }

    /// The last written form of every object of a store, sorted by namespace and name.
    fn listed(&self, store: &str) -> Vec<Value> {
        fn collect<'a, O: Object + 'a>(objects: impl Iterator<Item = &'a O>) -> Vec<Value> {
            let mut list: Vec<(&str, &str, &Value)> = objects
                .map(|o| {
                    (
                        o.meta().namespace.as_str(),
                        o.meta().name.as_str(),
                        &o.meta().last,
                    )
                })
                .collect();
            list.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
            list.into_iter().map(|(_, _, v)| v.clone()).collect()
        }
        match store {
            "deployments" => collect(self.world.deployments.values()),
            "replicasets" => collect(self.world.replicasets.values()),
            "pods" => collect(self.world.pods.values()),
            "events" => collect(self.world.events.values()),
            "configmaps" => collect(self.world.configmaps.values()),
            "secrets" => collect(self.world.secrets.values()),
            "statefulsets" => collect(self.world.statefulsets.values()),
            "controllerrevisions" => collect(self.world.revisions.values()),
            "cronjobs" => collect(self.world.cronjobs.values()),
            "daemonsets" => collect(self.world.daemonsets.values()),
            "jobs" => collect(self.world.jobs.values()),
            "postgresclusters" => collect(self.world.postgres.values()),
            "nodes" => collect(self.world.node_objects.values()),
            "poddisruptionbudgets" => collect(self.world.budgets.values()),
            "namespaces" => collect(self.world.namespaces.values()),
            "mutatingwebhookconfigurations" => collect(self.world.webhook_configs.values()),
            _ => collect(self.world.hpas.values()),
        }
    }
}
