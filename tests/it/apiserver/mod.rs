//! A fake kube-apiserver on 127.0.0.1 for integration tests.
//!
//! It speaks the real wire protocol (discovery, paged lists, chunked watch streams with
//! bookmarks) closely enough for kube-rs, keeps a true history of every change, and can
//! inject the faults a recorder must survive: dropped watches, compaction (410), 403, 401
//! (expired tokens), 429 with Retry-After, 5xx, connections reset mid-body, stalled
//! streams, an etcd restore that moves resourceVersions back, and random chaos.
//! The HTTP side runs on its own thread and tokio runtime; the API here is synchronous.
#![cfg(feature = "record")]

mod faults;
mod serve;
mod watch;

pub use faults::{Chaos, Fault, Verb};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// What a fresh server serves: apiVersion, plural, kind, scope, short name, subresources.
const DEFAULT_RESOURCES: &str = "
    v1                              pods                      Pod                     Namespaced po  status,log
    v1                              events                    Event                   Namespaced ev  -
    v1                              services                  Service                 Namespaced svc status
    v1                              configmaps                ConfigMap               Namespaced cm  -
    v1                              secrets                   Secret                  Namespaced -   -
    v1                              persistentvolumeclaims    PersistentVolumeClaim   Namespaced pvc status
    v1                              namespaces                Namespace               Cluster    ns  status,finalize
    v1                              nodes                     Node                    Cluster    no  status,proxy
    apps/v1                         deployments               Deployment              Namespaced deploy status,scale
    apps/v1                         replicasets               ReplicaSet              Namespaced rs  status,scale
    apps/v1                         statefulsets              StatefulSet             Namespaced sts status,scale
    apps/v1                         daemonsets                DaemonSet               Namespaced ds  status
    apps/v1                         controllerrevisions       ControllerRevision      Namespaced -   -
    batch/v1                        jobs                      Job                     Namespaced -   status
    batch/v1                        cronjobs                  CronJob                 Namespaced cj  status
    autoscaling/v2                  horizontalpodautoscalers  HorizontalPodAutoscaler Namespaced hpa status
    policy/v1                       poddisruptionbudgets      PodDisruptionBudget     Namespaced pdb status
    admissionregistration.k8s.io/v1 mutatingwebhookconfigurations   MutatingWebhookConfiguration   Cluster - -
    admissionregistration.k8s.io/v1 validatingwebhookconfigurations ValidatingWebhookConfiguration Cluster - -
    apiextensions.k8s.io/v1         customresourcedefinitions CustomResourceDefinition Cluster   crd status
";

/// One change in the server's true history.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Like "v1/pods" or "apps/v1/deployments".
    pub resource: String,
    /// ADDED, MODIFIED or DELETED.
    pub event: String,
    /// The object as stored after the change (with apiVersion and kind).
    pub object: Value,
}

/// A kind of object the server serves.
#[derive(Clone, Debug, Default)]
struct Resource {
    group: String,
    version: String,
    plural: String,
    kind: String,
    namespaced: bool,
    short_names: Vec<String>,
    subresources: Vec<String>,
}

impl Resource {
    fn new(group: &str, version: &str, plural: &str, kind: &str, namespaced: bool) -> Resource {
        let (group, version) = (group.to_string(), version.to_string());
        let (plural, kind) = (plural.to_string(), kind.to_string());
        Resource {
            group,
            version,
            plural,
            kind,
            namespaced,
            ..Resource::default()
        }
    }

    /// One line of [`DEFAULT_RESOURCES`].
    fn parse(line: &str) -> Option<Resource> {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [api_version, plural, kind, scope, short, subresources] = fields[..] else {
            return None;
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let mut res = Resource::new(group, version, plural, kind, scope == "Namespaced");
        let list = |text: &str| {
            text.split(',')
                .filter(|s| *s != "-")
                .map(String::from)
                .collect()
        };
        (res.short_names, res.subresources) = (list(short), list(subresources));
        Some(res)
    }

    fn group_version(&self) -> String {
        match self.group.as_str() {
            "" => self.version.clone(),
            group => format!("{group}/{}", self.version),
        }
    }

    /// The name tests use: "v1/pods", "apps/v1/deployments".
    fn key(&self) -> String {
        format!("{}/{}", self.group_version(), self.plural)
    }

    /// `object` with apiVersion and kind first, as the API server writes objects.
    fn typed(&self, object: &Value) -> Value {
        let mut typed = json!({"apiVersion": self.group_version(), "kind": self.kind});
        let fields = object
            .as_object()
            .expect("a Kubernetes object is a JSON object");
        for (field, value) in fields
            .iter()
            .filter(|(f, _)| *f != "apiVersion" && *f != "kind")
        {
            typed[field] = value.clone();
        }
        typed
    }
}

/// Everything the server knows, behind one mutex.
#[derive(Default)]
struct State {
    /// The global resourceVersion counter: the RV of the latest change.
    rv: u64,
    /// Watches from a resourceVersion below this get 410 Expired.
    compacted: u64,
    /// Bumped to end every open watch abruptly.
    epoch: u64,
    uids: u64,
    resources: Vec<Resource>,
    /// (resource key, namespace or "", name) → stored object.
    objects: BTreeMap<(String, String, String), Value>,
    /// Every change with its resourceVersion, oldest first.
    history: Vec<(u64, Change)>,
    forbidden: HashSet<String>,
    page_size: usize,
    watch_delay: Duration,
    /// New watch requests wait while this is set.
    watches_paused: bool,
    requests: Vec<String>,
    /// When each of `requests` arrived.
    request_times: Vec<Instant>,
    /// Watch lines handed to clients (events and bookmarks).
    lines_sent: u64,
    /// Open watches per resource key.
    watchers: HashMap<String, usize>,
    /// List snapshots behind `continue` tokens: (resourceVersion, items).
    snapshots: Vec<(u64, Vec<Value>)>,
    /// Injected faults and the accepted token.
    faults: faults::Faults,
}

impl State {
    fn resource(&self, key: &str) -> Resource {
        let found = self.resources.iter().find(|r| r.key() == key);
        found.unwrap_or_else(|| panic!("no resource {key}")).clone()
    }

    fn object_key(res: &Resource, namespace: &str, name: &str) -> (String, String, String) {
        let namespace = if res.namespaced { namespace } else { "" };
        (res.key(), namespace.to_string(), name.to_string())
    }

    fn object(&self, res: &Resource, namespace: &str, name: &str) -> Value {
        let found = self.objects.get(&State::object_key(res, namespace, name));
        let missing = || panic!("no {} {namespace}/{name}", res.plural);
        found.unwrap_or_else(missing).clone()
    }

    /// Stamps a new resourceVersion on `object`, stores it (drops it when deleted) and records it.
    fn commit(&mut self, res: &Resource, event: &str, mut object: Value) -> Value {
        self.rv += 1;
        object["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let meta = &object["metadata"];
        let key = State::object_key(res, str_at(meta, "namespace"), str_at(meta, "name"));
        match event {
            "DELETED" => _ = self.objects.remove(&key),
            _ => _ = self.objects.insert(key, object.clone()),
        }
        let (resource, event, stored) = (res.key(), event.to_string(), object.clone());
        self.history.push((
            self.rv,
            Change {
                resource,
                event,
                object: stored,
            },
        ));
        object
    }
}

/// `value[field]` as a string, "" when absent.
fn str_at<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field].as_str().unwrap_or_default()
}

/// The state, and a signal that wakes every watch when it changes.
struct Shared {
    state: Mutex<State>,
    changed: tokio::sync::watch::Sender<()>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("no panic while locked")
    }

    /// Runs `f` on the state, then wakes the watches.
    fn mutate<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let result = f(&mut self.lock());
        self.changed.send_replace(());
        result
    }
}

/// A fake API server; it stops its thread when dropped.
pub struct ApiServer {
    shared: Arc<Shared>,
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ApiServer {
    /// Binds 127.0.0.1 on a free port and serves the default resources, with no objects.
    pub fn start() -> ApiServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let url = format!("http://{}", listener.local_addr().expect("an address"));
        let resources = DEFAULT_RESOURCES
            .lines()
            .filter_map(Resource::parse)
            .collect();
        let state = State {
            rv: 1000,
            page_size: usize::MAX,
            resources,
            ..State::default()
        };
        let changed = tokio::sync::watch::Sender::new(());
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            changed,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let server = shared.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            runtime
                .expect("a runtime")
                .block_on(serve::run(listener, server, stopped));
        });
        ApiServer {
            shared,
            url,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Writes a kubeconfig whose one context, "loopback", reaches this server without auth.
    pub fn write_kubeconfig(&self, path: &Path) {
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "loopback", "cluster": {"server": self.url}}],
            "users": [{"name": "loopback", "user": {}}],
            "contexts": [{"name": "loopback",
                "context": {"cluster": "loopback", "user": "loopback", "namespace": "default"}}],
            "current-context": "loopback",
            "preferences": {},
        });
        // JSON is YAML, so every kubeconfig reader takes it.
        std::fs::write(path, config.to_string()).expect("write the kubeconfig");
    }

    /// Creates an object (ADDED). Fills apiVersion, kind, resourceVersion and, when absent,
    /// uid, creationTimestamp, namespace "default" (if namespaced) and generation (if it has a spec).
    pub fn create(&self, resource: &str, object: Value) -> Value {
        self.shared.mutate(|s| {
            let res = s.resource(resource);
            let mut object = res.typed(&object);
            s.uids += 1;
            let uid = format!("00000000-0000-4000-8000-{:012x}", s.uids);
            let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
            let has_spec = object.get("spec").is_some();
            let meta = object["metadata"]
                .as_object_mut()
                .expect("metadata is an object");
            meta.entry("namespace").or_insert(json!("default"));
            meta.entry("uid").or_insert(json!(uid));
            meta.entry("creationTimestamp")
                .or_insert(json!(now.to_string()));
            if has_spec {
                meta.entry("generation").or_insert(json!(1));
            }
            if !res.namespaced {
                meta.remove("namespace");
            }
            let meta = &object["metadata"];
            let (namespace, name) = (str_at(meta, "namespace"), str_at(meta, "name"));
            assert!(!name.is_empty(), "{resource}: no metadata.name");
            let key = State::object_key(&res, namespace, name);
            assert!(!s.objects.contains_key(&key), "{resource}: {name} exists");
            s.commit(&res, "ADDED", object)
        })
    }

    /// Changes an object (MODIFIED); `change` must not call the server. Name, namespace, uid
    /// and creationTimestamp stay; generation goes up when the spec changes.
    pub fn update(
        &self,
        resource: &str,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut Value),
    ) -> Value {
        self.shared.mutate(|s| {
            let res = s.resource(resource);
            let old = s.object(&res, namespace, name);
            let mut new = old.clone();
            change(&mut new);
            let mut new = res.typed(&new);
            for field in ["name", "namespace", "uid", "creationTimestamp"] {
                new["metadata"][field] = old["metadata"][field].clone();
            }
            let meta = new["metadata"]
                .as_object_mut()
                .expect("metadata is an object");
            meta.retain(|_, value| !value.is_null());
            if new.get("spec").is_some() && new.get("spec") != old.get("spec") {
                let generation = old["metadata"]["generation"].as_i64().unwrap_or(0);
                new["metadata"]["generation"] = json!(generation + 1);
            }
            s.commit(&res, "MODIFIED", new)
        })
    }

    /// Deletes an object: a DELETED event carrying its last state with a new resourceVersion.
    pub fn delete(&self, resource: &str, namespace: &str, name: &str) {
        self.shared.mutate(|s| {
            let res = s.resource(resource);
            let last = s.object(&res, namespace, name);
            s.commit(&res, "DELETED", last);
        });
    }

    /// Every change the server made, oldest first.
    pub fn history(&self) -> Vec<Change> {
        let state = self.shared.lock();
        state
            .history
            .iter()
            .map(|(_, change)| change.clone())
            .collect()
    }

    /// The current objects of `resource`, ordered by namespace and name.
    pub fn objects(&self, resource: &str) -> Vec<Value> {
        let state = self.shared.lock();
        let objects = state.objects.iter().filter(|(key, _)| key.0 == resource);
        objects.map(|(_, object)| object.clone()).collect()
    }

    /// Serves one more resource from now on, as when a CRD is created.
    pub fn add_resource(
        &self,
        group: &str,
        version: &str,
        plural: &str,
        kind: &str,
        namespaced: bool,
    ) {
        let res = Resource::new(group, version, plural, kind, namespaced);
        self.shared.mutate(|s| {
            if !s.resources.iter().any(|r| r.key() == res.key()) {
                s.resources.push(res);
            }
        });
    }

    /// Ends every open watch abruptly: the connection closes without the final chunk.
    pub fn close_watches(&self) {
        self.shared.mutate(|s| s.epoch += 1);
    }

    /// Loses the watch cache: later watches (and `continue` tokens) from an older
    /// resourceVersion get 410 Expired, and every open watch ends abruptly.
    pub fn expire_history(&self) {
        self.shared
            .mutate(|s| (s.compacted, s.epoch) = (s.rv, s.epoch + 1));
    }

    /// How many watch lines (events, bookmarks, errors) have been sent to clients.
    #[allow(dead_code)] // used by the record bench, not by every test binary
    pub fn lines_sent(&self) -> u64 {
        self.shared.lock().lines_sent
    }

    /// New watch requests are held (not answered) until [`ApiServer::resume_watches`].
    pub fn pause_watches(&self) {
        self.shared.mutate(|s| s.watches_paused = true);
    }

    /// Answers the held and later watch requests again.
    pub fn resume_watches(&self) {
        self.shared.mutate(|s| s.watches_paused = false);
    }

    /// Lists and watches of `resource` answer 403 Forbidden from now on.
    pub fn forbid(&self, resource: &str) {
        self.shared
            .mutate(|s| s.forbidden.insert(resource.to_string()));
    }

    /// At most `n` items per list page; longer lists return metadata.continue.
    pub fn set_page_size(&self, n: usize) {
        assert!(n > 0, "a page holds at least one item");
        self.shared.mutate(|s| s.page_size = n);
    }

    /// Waits this long before sending each watch event.
    pub fn set_watch_delay(&self, per_event: Duration) {
        self.shared.mutate(|s| s.watch_delay = per_event);
    }

    /// Lets `resource` be listed and watched again after [`ApiServer::forbid`].
    pub fn allow(&self, resource: &str) {
        self.shared.mutate(|s| s.forbidden.remove(resource));
    }

    /// The next `times` requests of `verb` on `resource` (None: any resource) fail with `fault`.
    pub fn inject(&self, resource: Option<&str>, verb: Verb, fault: Fault, times: usize) {
        self.shared
            .mutate(|s| s.faults.push(resource, verb, fault, times));
    }

    /// Random faults on every list and watch from now on (`None` stops them).
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        self.shared.mutate(|s| s.faults.set_chaos(chaos));
    }

    /// From now on only requests with `Authorization: Bearer TOKEN` pass (`None`: any); the
    /// others get 401, as when a token expired.
    pub fn require_token(&self, token: Option<&str>) {
        self.shared
            .mutate(|s| s.faults.token = token.map(String::from));
    }

    /// How many faults were injected so far, by kind.
    pub fn faults_injected(&self) -> BTreeMap<String, u64> {
        self.shared.lock().faults.injected.clone()
    }

    /// The resourceVersion of the latest change.
    pub fn resource_version(&self) -> u64 {
        self.shared.lock().rv
    }

    /// An etcd restore from a backup taken at `rv`: every change after it is forgotten, the
    /// resourceVersion goes back to `rv`, and open watches end. A watch from a later
    /// resourceVersion is answered 504 "Too large resource version".
    pub fn restore(&self, rv: u64) {
        self.shared.mutate(|s| {
            s.history.retain(|(at, _)| *at <= rv);
            s.objects.clear();
            for (_, change) in &s.history {
                let meta = &change.object["metadata"];
                let key = (
                    change.resource.clone(),
                    str_at(meta, "namespace").to_string(),
                    str_at(meta, "name").to_string(),
                );
                match change.event.as_str() {
                    "DELETED" => _ = s.objects.remove(&key),
                    _ => _ = s.objects.insert(key, change.object.clone()),
                }
            }
            s.rv = rv;
            s.compacted = s.compacted.min(rv);
            s.epoch += 1;
        });
    }

    /// Writes a kubeconfig whose user runs an exec plugin (`sh`) that prints the token in
    /// `token_file` and counts its runs in `runs_file`, as cloud providers' plugins do.
    pub fn write_exec_kubeconfig(&self, path: &Path, token_file: &Path, runs_file: &Path) {
        let script = format!(
            "echo run >> '{}'; printf '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"%s\"}}}}' \"$(cat '{}')\"",
            runs_file.display(),
            token_file.display()
        );
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "loopback", "cluster": {"server": self.url}}],
            "users": [{"name": "exec", "user": {"exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": "sh", "args": ["-c", script], "interactiveMode": "Never"}}}],
            "contexts": [{"name": "loopback",
                "context": {"cluster": "loopback", "user": "exec", "namespace": "default"}}],
            "current-context": "loopback",
        });
        std::fs::write(path, config.to_string()).expect("write the kubeconfig");
    }

    /// Every request so far as "METHOD path?query", the query percent-decoded.
    pub fn requests(&self) -> Vec<String> {
        self.shared.lock().requests.clone()
    }

    /// Every request so far with when it arrived.
    pub fn timed_requests(&self) -> Vec<(Instant, String)> {
        let state = self.shared.lock();
        let times = state.request_times.iter().copied();
        times.zip(state.requests.iter().cloned()).collect()
    }

    /// Blocks until at least `count` watches of `resource` are open; false on timeout.
    pub fn wait_for_watchers(&self, resource: &str, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let open = self.shared.lock().watchers.get(resource).copied();
            if open.unwrap_or(0) >= count {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        _ = self.stop.take().map(|stop| stop.send(()));
        _ = self.thread.take().map(JoinHandle::join);
    }
}
