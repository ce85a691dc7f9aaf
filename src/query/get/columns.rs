//! kubectl's table columns, one column set per kind, and the cells of one object.
//!
//! Each set follows kubectl v1.31's human-readable printers
//! (`pkg/printers/internalversion/printers.go` in kubernetes/kubernetes: `printPod`,
//! `printDeployment`, `printReplicaSet`, `printStatefulSet`, `printDaemonSet`, `printService`,
//! `printHorizontalPodAutoscaler`, `printConfigMap`, `printSecret`, `printJob`, `printEvent`,
//! `printNode`, `printNamespace`), read from the objects' JSON as they were at the moment asked.
//! A kind without a set gets kubectl's default for custom resources: `NAME AGE`. kblame adds
//! a `REVISION` column to Deployments, ReplicaSets and Pods.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One column of a kind's table, after NAME.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Column {
    /// The header, as kubectl prints it (`READY`, `UP-TO-DATE`).
    pub name: &'static str,
    /// Shown only with `-o wide` (kubectl's priority-1 columns).
    pub wide: bool,
}

const fn col(name: &'static str) -> Column {
    Column { name, wide: false }
}

const fn wide(name: &'static str) -> Column {
    Column { name, wide: true }
}

/// What a printer reads for one object.
pub struct RowInput<'a> {
    /// The object's body at the moment.
    pub body: &'a Value,
    /// The moment: "ago" and AGE are counted back from it.
    pub at: Timestamp,
    /// The AGE cell, already formatted.
    pub age: String,
    /// The REVISION cell, already formatted.
    pub revision: String,
}

/// The column set of one kind and how to fill it.
pub struct Printer {
    /// The kind, e.g. `Deployment`.
    pub kind: &'static str,
    /// Its API group (`apps`), empty for the core group; kubectl writes `deployment.apps/web`.
    pub group: &'static str,
    /// The columns after NAME, in kubectl's order.
    pub columns: &'static [Column],
    /// NAME is a wide column (Events: kubectl leads with LAST SEEN).
    pub name_wide: bool,
    /// The cells for `columns`, in the same order.
    pub cells: fn(&RowInput) -> Vec<String>,
}

/// kubectl's column sets for the kinds kblame knows.
pub static PRINTERS: &[Printer] = &[
    Printer {
        kind: "Pod",
        group: "",
        columns: &[
            col("READY"),
            col("STATUS"),
            col("RESTARTS"),
            col("AGE"),
            col("REVISION"),
            wide("IP"),
            wide("NODE"),
            wide("NOMINATED NODE"),
            wide("READINESS GATES"),
        ],
        name_wide: false,
        cells: pod_cells,
    },
    Printer {
        kind: "Deployment",
        group: "apps",
        columns: &[
            col("READY"),
            col("UP-TO-DATE"),
            col("AVAILABLE"),
            col("AGE"),
            col("REVISION"),
            wide("CONTAINERS"),
            wide("IMAGES"),
            wide("SELECTOR"),
        ],
        name_wide: false,
        cells: deployment_cells,
    },
    Printer {
        kind: "ReplicaSet",
        group: "apps",
        columns: &[
            col("DESIRED"),
            col("CURRENT"),
            col("READY"),
            col("AGE"),
            col("REVISION"),
            wide("CONTAINERS"),
            wide("IMAGES"),
            wide("SELECTOR"),
        ],
        name_wide: false,
        cells: replicaset_cells,
    },
    Printer {
        kind: "StatefulSet",
        group: "apps",
        columns: &[col("READY"), col("AGE"), wide("CONTAINERS"), wide("IMAGES")],
        name_wide: false,
        cells: statefulset_cells,
    },
    Printer {
        kind: "DaemonSet",
        group: "apps",
        columns: &[
            col("DESIRED"),
            col("CURRENT"),
            col("READY"),
            col("UP-TO-DATE"),
            col("AVAILABLE"),
            col("NODE SELECTOR"),
            col("AGE"),
            wide("CONTAINERS"),
            wide("IMAGES"),
            wide("SELECTOR"),
        ],
        name_wide: false,
        cells: daemonset_cells,
    },
    Printer {
        kind: "Job",
        group: "batch",
        columns: &[
            col("STATUS"),
            col("COMPLETIONS"),
            col("DURATION"),
            col("AGE"),
            wide("CONTAINERS"),
            wide("IMAGES"),
            wide("SELECTOR"),
        ],
        name_wide: false,
        cells: job_cells,
    },
    Printer {
        kind: "Service",
        group: "",
        columns: &[
            col("TYPE"),
            col("CLUSTER-IP"),
            col("EXTERNAL-IP"),
            col("PORT(S)"),
            col("AGE"),
            wide("SELECTOR"),
        ],
        name_wide: false,
        cells: service_cells,
    },
    Printer {
        kind: "HorizontalPodAutoscaler",
        group: "autoscaling",
        columns: &[
            col("REFERENCE"),
            col("TARGETS"),
            col("MINPODS"),
            col("MAXPODS"),
            col("REPLICAS"),
            col("AGE"),
        ],
        name_wide: false,
        cells: hpa_cells,
    },
    Printer {
        kind: "ConfigMap",
        group: "",
        columns: &[col("DATA"), col("AGE")],
        name_wide: false,
        cells: configmap_cells,
    },
    Printer {
        kind: "Secret",
        group: "",
        columns: &[col("TYPE"), col("DATA"), col("AGE")],
        name_wide: false,
        cells: secret_cells,
    },
    Printer {
        kind: "Node",
        group: "",
        columns: &[col("STATUS"), col("ROLES"), col("AGE"), col("VERSION")],
        name_wide: false,
        cells: node_cells,
    },
    Printer {
        kind: "Namespace",
        group: "",
        columns: &[col("STATUS"), col("AGE")],
        name_wide: false,
        cells: namespace_cells,
    },
    Printer {
        kind: "Event",
        group: "",
        columns: &[
            col("LAST SEEN"),
            col("TYPE"),
            col("REASON"),
            col("OBJECT"),
            col("MESSAGE"),
        ],
        name_wide: true,
        cells: event_cells,
    },
];

/// kubectl's default for kinds without a column set (custom resources): NAME AGE.
pub static DEFAULT: Printer = Printer {
    kind: "",
    group: "",
    columns: &[col("AGE")],
    name_wide: false,
    cells: |input| vec![input.age.clone()],
};

/// The column set of `kind`, or [`DEFAULT`].
pub fn printer(kind: &str) -> &'static Printer {
    PRINTERS.iter().find(|p| p.kind == kind).unwrap_or(&DEFAULT)
}

/// The order of `kubectl get all`: pods, services, daemonsets, deployments, replicasets,
/// statefulsets, jobs, cronjobs, horizontalpodautoscalers; other kinds follow by name.
pub const GET_ALL_ORDER: &[&str] = &[
    "Pod",
    "Service",
    "DaemonSet",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
];

/// apimachinery's `duration.HumanDuration` (`k8s.io/apimachinery/pkg/util/duration`), which
/// kubectl's `translateTimestampSince` applies to AGE and "ago": `35s`, `5m30s`, `41m`, `5h3m`,
/// `30h`, `3d5h`, `12d`, `2y30d`; `0s` for a second in the future, `<invalid>` beyond.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_string();
    }
    if seconds < 0 {
        return "0s".to_string();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        return match seconds % 60 {
            0 => format!("{minutes}m"),
            s => format!("{minutes}m{s}s"),
        };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        return match minutes % 60 {
            0 => format!("{hours}h"),
            m => format!("{hours}h{m}m"),
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        return match hours % 24 {
            0 => format!("{}d", hours / 24),
            h => format!("{}d{h}h", hours / 24),
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        return match (hours / 24) % 365 {
            0 => format!("{}y", hours / 24 / 365),
            d => format!("{}y{d}d", hours / 24 / 365),
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// `translateTimestampSince`: the time from `since` to `at`, or `<unknown>` without a time.
pub fn since(since: Option<Timestamp>, at: Timestamp) -> String {
    match since {
        Some(since) => human_duration(at.duration_since(since).as_secs()),
        None => "<unknown>".to_string(),
    }
}

fn int(body: &Value, pointer: &str) -> i64 {
    body.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(body: &'a Value, pointer: &str) -> Option<&'a str> {
    body.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn time(body: &Value, pointer: &str) -> Option<Timestamp> {
    text(body, pointer).and_then(|t| t.parse().ok())
}

fn none(value: Option<String>) -> String {
    value
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "<none>".to_string())
}

/// `printPod`: READY counts, the STATUS reason (`Init:…`, the last container's waiting or
/// terminated reason such as `CrashLoopBackOff` or `Completed`, `NotReady`, `Terminating`,
/// `Unknown` for a pod on a lost node), RESTARTS with the last one's "ago", and the wide
/// IP, NODE, NOMINATED NODE and READINESS GATES.
fn pod_cells(input: &RowInput) -> Vec<String> {
    let pod = Pod::deserialize(input.body).unwrap_or_default();
    let cells = pod_status(&pod, input.at);
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let ip = status
        .and_then(|s| s.pod_ips.as_ref())
        .and_then(|ips| ips.first())
        .map(|ip| ip.ip.clone());
    let node = spec.and_then(|s| s.node_name.clone());
    let nominated = status.and_then(|s| s.nominated_node_name.clone());
    let gates = spec
        .and_then(|s| s.readiness_gates.as_ref())
        .filter(|gates| !gates.is_empty())
        .map(|gates| {
            let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
            let passed = gates
                .iter()
                .filter(|gate| {
                    conditions
                        .iter()
                        .find(|c| c.type_ == gate.condition_type)
                        .is_some_and(|c| c.status == "True")
                })
                .count();
            format!("{passed}/{}", gates.len())
        });
    vec![
        cells.ready,
        cells.status,
        cells.restarts,
        input.age.clone(),
        input.revision.clone(),
        none(ip),
        none(node),
        none(nominated),
        none(gates),
    ]
}

/// The READY, STATUS and RESTARTS cells of a pod.
pub struct PodCells {
    /// `ready/total` containers.
    pub ready: String,
    /// kubectl's STATUS reason.
    pub status: String,
    /// Restarts, with `(5m ago)` for the last.
    pub restarts: String,
}

/// kubectl's `printPod` logic for READY, STATUS and RESTARTS, at the moment `at`.
pub fn pod_status(pod: &Pod, at: Timestamp) -> PodCells {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let conditions = status.and_then(|s| s.conditions.as_deref()).unwrap_or(&[]);
    let init_specs = spec
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or(&[]);
    let restartable = |name: &str| {
        init_specs
            .iter()
            .any(|c| c.name == name && c.restart_policy.as_deref() == Some("Always"))
    };
    let total = spec.map_or(0, |s| s.containers.len())
        + init_specs
            .iter()
            .filter(|c| c.restart_policy.as_deref() == Some("Always"))
            .count();
    let mut ready = 0;
    let mut restarts = 0i64;
    let mut sidecar_restarts = 0i64;
    let mut last_restart: Option<Timestamp> = None;
    let mut sidecar_last_restart: Option<Timestamp> = None;
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let mut reason = status
        .and_then(|s| s.reason.clone())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| phase.clone());
    if conditions
        .iter()
        .any(|c| c.type_ == "PodScheduled" && c.reason.as_deref() == Some("SchedulingGated"))
    {
        reason = "SchedulingGated".to_string();
    }
    let finished = |c: &ContainerStatus| {
        c.last_state
            .as_ref()
            .and_then(|s| s.terminated.as_ref())
            .and_then(|t| t.finished_at.as_ref())
            .map(|t| t.0)
    };
    let init_statuses = status
        .and_then(|s| s.init_container_statuses.as_deref())
        .unwrap_or(&[]);
    let mut initializing = false;
    for (i, container) in init_statuses.iter().enumerate() {
        restarts += i64::from(container.restart_count);
        last_restart = last_restart.max(finished(container));
        let sidecar = restartable(&container.name);
        if sidecar {
            sidecar_restarts += i64::from(container.restart_count);
            sidecar_last_restart = sidecar_last_restart.max(finished(container));
        }
        let state = container.state.as_ref();
        let terminated = state.and_then(|s| s.terminated.as_ref());
        let waiting = state.and_then(|s| s.waiting.as_ref());
        let waiting_reason = waiting
            .and_then(|w| w.reason.as_deref())
            .filter(|r| !r.is_empty());
        match (terminated, waiting_reason) {
            (Some(t), _) if t.exit_code == 0 => continue,
            _ if sidecar && container.started == Some(true) => {
                ready += usize::from(container.ready);
                continue;
            }
            (Some(t), _) => {
                reason = match (t.reason.as_deref().filter(|r| !r.is_empty()), t.signal) {
                    (Some(r), _) => format!("Init:{r}"),
                    (None, Some(signal)) if signal != 0 => format!("Init:Signal:{signal}"),
                    (None, _) => format!("Init:ExitCode:{}", t.exit_code),
                };
            }
            (None, Some(r)) if r != "PodInitializing" => reason = format!("Init:{r}"),
            _ => reason = format!("Init:{i}/{}", init_specs.len()),
        }
        initializing = true;
        break;
    }
    let initialized = conditions
        .iter()
        .any(|c| c.type_ == "Initialized" && c.status == "True");
    if !initializing || initialized {
        restarts = sidecar_restarts;
        last_restart = sidecar_last_restart;
        let mut has_running = false;
        let containers = status
            .and_then(|s| s.container_statuses.as_deref())
            .unwrap_or(&[]);
        for container in containers.iter().rev() {
            restarts += i64::from(container.restart_count);
            last_restart = last_restart.max(finished(container));
            let state = container.state.as_ref();
            let waiting = state.and_then(|s| s.waiting.as_ref());
            let terminated = state.and_then(|s| s.terminated.as_ref());
            if let Some(r) = waiting
                .and_then(|w| w.reason.as_deref())
                .filter(|r| !r.is_empty())
            {
                reason = r.to_string();
            } else if let Some(t) = terminated {
                reason = match (t.reason.as_deref().filter(|r| !r.is_empty()), t.signal) {
                    (Some(r), _) => r.to_string(),
                    (None, Some(signal)) if signal != 0 => format!("Signal:{signal}"),
                    (None, _) => format!("ExitCode:{}", t.exit_code),
                };
            } else if container.ready && state.and_then(|s| s.running.as_ref()).is_some() {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = conditions
                .iter()
                .any(|c| c.type_ == "Ready" && c.status == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.to_string();
        }
    }
    let terminal = phase == "Failed" || phase == "Succeeded";
    if pod.metadata.deletion_timestamp.is_some() {
        if status.and_then(|s| s.reason.as_deref()) == Some("NodeLost") {
            reason = "Unknown".to_string();
        } else if !terminal {
            reason = "Terminating".to_string();
        }
    }
    let restarts = match last_restart.filter(|_| restarts != 0) {
        Some(last) => format!("{restarts} ({} ago)", since(Some(last), at)),
        None => restarts.to_string(),
    };
    PodCells {
        ready: format!("{ready}/{total}"),
        status: reason,
        restarts,
    }
}

/// `layoutContainerCells`: container names and images, comma-separated.
fn containers(body: &Value, pointer: &str) -> (String, String) {
    let list = body
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let field = |key: &str| {
        list.iter()
            .map(|c| c.get(key).and_then(Value::as_str).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(",")
    };
    (field("name"), field("image"))
}

/// `metav1.FormatLabelSelector`: `app=web,tier in (a,b)`, `<none>` when empty.
fn label_selector(body: &Value, pointer: &str) -> String {
    let Some(selector) = body.pointer(pointer) else {
        return "<none>".to_string();
    };
    let mut parts: Vec<String> = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .map(|labels| labels.iter().map(|(k, v)| label(k, v)).collect())
        .unwrap_or_default();
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
    {
        let key = expression.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<&str> = expression
            .get("values")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let values = values.join(",");
        parts.push(
            match expression
                .get("operator")
                .and_then(Value::as_str)
                .unwrap_or("")
            {
                "In" => format!("{key} in ({values})"),
                "NotIn" => format!("{key} notin ({values})"),
                "Exists" => key.to_string(),
                "DoesNotExist" => format!("!{key}"),
                other => format!("{key} {other} ({values})"),
            },
        );
    }
    none(Some(parts.join(",")))
}

/// `labels.FormatLabels` of a plain map: `k=v,k2=v2`, `<none>` when empty.
fn labels(body: &Value, pointer: &str) -> String {
    let parts: Vec<String> = body
        .pointer(pointer)
        .and_then(Value::as_object)
        .map(|map| map.iter().map(|(k, v)| label(k, v)).collect())
        .unwrap_or_default();
    none(Some(parts.join(",")))
}

fn label(key: &str, value: &Value) -> String {
    format!("{key}={}", value.as_str().unwrap_or(""))
}

/// `printDeployment`: READY (ready/desired), UP-TO-DATE, AVAILABLE.
fn deployment_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let desired = body
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let (names, images) = containers(body, "/spec/template/spec/containers");
    vec![
        format!("{}/{desired}", int(body, "/status/readyReplicas")),
        int(body, "/status/updatedReplicas").to_string(),
        int(body, "/status/availableReplicas").to_string(),
        input.age.clone(),
        input.revision.clone(),
        names,
        images,
        label_selector(body, "/spec/selector"),
    ]
}

/// `printReplicaSet`: DESIRED, CURRENT, READY.
fn replicaset_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let (names, images) = containers(body, "/spec/template/spec/containers");
    vec![
        int(body, "/spec/replicas").to_string(),
        int(body, "/status/replicas").to_string(),
        int(body, "/status/readyReplicas").to_string(),
        input.age.clone(),
        input.revision.clone(),
        names,
        images,
        label_selector(body, "/spec/selector"),
    ]
}

/// `printStatefulSet`: READY (ready/desired).
fn statefulset_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let (names, images) = containers(body, "/spec/template/spec/containers");
    vec![
        format!(
            "{}/{}",
            int(body, "/status/readyReplicas"),
            int(body, "/spec/replicas")
        ),
        input.age.clone(),
        names,
        images,
    ]
}

/// `printDaemonSet`: the scheduled, ready, updated and available counts and the node selector.
fn daemonset_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let (names, images) = containers(body, "/spec/template/spec/containers");
    vec![
        int(body, "/status/desiredNumberScheduled").to_string(),
        int(body, "/status/currentNumberScheduled").to_string(),
        int(body, "/status/numberReady").to_string(),
        int(body, "/status/updatedNumberScheduled").to_string(),
        int(body, "/status/numberAvailable").to_string(),
        labels(body, "/spec/template/spec/nodeSelector"),
        input.age.clone(),
        names,
        images,
        label_selector(body, "/spec/selector"),
    ]
}

/// `printJob`: STATUS from the conditions, COMPLETIONS, DURATION.
fn job_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let succeeded = int(body, "/status/succeeded");
    let completions = match body.pointer("/spec/completions").and_then(Value::as_i64) {
        Some(wanted) => format!("{succeeded}/{wanted}"),
        None => match int(body, "/spec/parallelism") {
            p if p > 1 => format!("{succeeded}/1 of {p}"),
            _ => format!("{succeeded}/1"),
        },
    };
    let start = time(body, "/status/startTime");
    let duration = match (start, time(body, "/status/completionTime")) {
        (None, _) => String::new(),
        (Some(start), None) => since(Some(start), input.at),
        (Some(start), Some(end)) => since(Some(start), end),
    };
    let condition = |kind: &str| {
        crate::workload::conditions::condition(body, kind).is_some_and(|c| c.status == "True")
    };
    let status = if condition("Complete") {
        "Complete"
    } else if condition("Failed") {
        "Failed"
    } else if body.pointer("/metadata/deletionTimestamp").is_some() {
        "Terminating"
    } else if condition("Suspended") {
        "Suspended"
    } else if condition("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = containers(body, "/spec/template/spec/containers");
    vec![
        status.to_string(),
        completions,
        duration,
        input.age.clone(),
        names,
        images,
        label_selector(body, "/spec/selector"),
    ]
}

/// `printService`: TYPE, CLUSTER-IP, EXTERNAL-IP (`getServiceExternalIP`), PORT(S).
fn service_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let kind = text(body, "/spec/type").unwrap_or("ClusterIP");
    let cluster_ip = body
        .pointer("/spec/clusterIPs/0")
        .and_then(Value::as_str)
        .or_else(|| text(body, "/spec/clusterIP"))
        .unwrap_or("<none>");
    let strings = |pointer: &str| -> Vec<String> {
        body.pointer(pointer)
            .and_then(Value::as_array)
            .map(|v| {
                v.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let external_ips = strings("/spec/externalIPs");
    let external = match kind {
        "ClusterIP" | "NodePort" => none(Some(external_ips.join(","))),
        "LoadBalancer" => {
            let mut all: Vec<String> = body
                .pointer("/status/loadBalancer/ingress")
                .and_then(Value::as_array)
                .map(|v| {
                    v.iter()
                        .filter_map(|i| {
                            i.get("ip")
                                .or_else(|| i.get("hostname"))
                                .and_then(Value::as_str)
                                .map(String::from)
                        })
                        .collect()
                })
                .unwrap_or_default();
            all.extend(external_ips);
            if all.is_empty() {
                "<pending>".to_string()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => text(body, "/spec/externalName").unwrap_or("").to_string(),
        _ => "<unknown>".to_string(),
    };
    let ports: Vec<String> = body
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(|p| {
            let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
            match p.get("nodePort").and_then(Value::as_i64).filter(|&n| n > 0) {
                Some(node) => format!("{port}:{node}/{protocol}"),
                None => format!("{port}/{protocol}"),
            }
        })
        .collect();
    vec![
        kind.to_string(),
        cluster_ip.to_string(),
        external,
        none(Some(ports.join(","))),
        input.age.clone(),
        labels(body, "/spec/selector"),
    ]
}

/// `printHorizontalPodAutoscaler`: REFERENCE, TARGETS (`formatHPAMetrics`, resource and
/// container-resource utilization as `cpu: 45%/80%`, other metrics as current/target), MINPODS,
/// MAXPODS, REPLICAS.
fn hpa_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let reference = format!(
        "{}/{}",
        text(body, "/spec/scaleTargetRef/kind").unwrap_or(""),
        text(body, "/spec/scaleTargetRef/name").unwrap_or("")
    );
    let specs = body
        .pointer("/spec/metrics")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let statuses = body
        .pointer("/status/currentMetrics")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut shown: Vec<String> = specs
        .iter()
        .enumerate()
        .take(2)
        .map(|(i, spec)| hpa_metric(spec, statuses.get(i)))
        .collect();
    if specs.len() > 2 {
        shown.push(format!("+ {} more...", specs.len() - 2));
    }
    let min = body
        .pointer("/spec/minReplicas")
        .and_then(Value::as_i64)
        .map_or("<unset>".to_string(), |n| n.to_string());
    vec![
        reference,
        none(Some(shown.join(", "))),
        min,
        int(body, "/spec/maxReplicas").to_string(),
        int(body, "/status/currentReplicas").to_string(),
        input.age.clone(),
    ]
}

/// One HPA metric as kubectl writes it: `cpu: 45%/80%`, `<unknown>/80%` before a reading.
fn hpa_metric(spec: &Value, status: Option<&Value>) -> String {
    let kind = spec.get("type").and_then(Value::as_str).unwrap_or("");
    let section = match kind {
        "Resource" => "resource",
        "ContainerResource" => "containerResource",
        "Pods" => "pods",
        "Object" => "object",
        "External" => "external",
        _ => return "<unknown>".to_string(),
    };
    let target = spec.pointer(&format!("/{section}/target"));
    let current = status.and_then(|s| s.pointer(&format!("/{section}/current")));
    let quantity = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key)).map(|q| match q {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    };
    let name = spec
        .pointer(&format!("/{section}/name"))
        .and_then(Value::as_str);
    let (now, wanted) = if let Some(util) = quantity(target, "averageUtilization") {
        let now = quantity(current, "averageUtilization").map(|u| format!("{u}%"));
        (now, format!("{util}%"))
    } else {
        let key = ["averageValue", "value"]
            .into_iter()
            .find(|key| target.and_then(|t| t.get(*key)).is_some())
            .unwrap_or("averageValue");
        (
            quantity(current, key),
            quantity(target, key).unwrap_or_default(),
        )
    };
    let value = format!(
        "{}/{wanted}",
        now.unwrap_or_else(|| "<unknown>".to_string())
    );
    match (section, name) {
        ("resource" | "containerResource", Some(name)) => format!("{name}: {value}"),
        _ => value,
    }
}

/// `printConfigMap`: DATA, the number of keys.
fn configmap_cells(input: &RowInput) -> Vec<String> {
    let count = |pointer: &str| {
        input
            .body
            .pointer(pointer)
            .and_then(Value::as_object)
            .map_or(0, |m| m.len())
    };
    vec![
        (count("/data") + count("/binaryData")).to_string(),
        input.age.clone(),
    ]
}

/// `printSecret`: TYPE, DATA.
fn secret_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let data = body
        .pointer("/data")
        .and_then(Value::as_object)
        .map_or(0, |m| m.len());
    vec![
        text(body, "/type").unwrap_or("").to_string(),
        data.to_string(),
        input.age.clone(),
    ]
}

/// `printNode`: STATUS (Ready/NotReady/Unknown, SchedulingDisabled), ROLES, VERSION.
fn node_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let mut status = match crate::workload::conditions::condition(body, "Ready") {
        Some(c) if c.status == "True" => vec!["Ready"],
        Some(_) => vec!["NotReady"],
        None => vec!["Unknown"],
    };
    if body.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        status.push("SchedulingDisabled");
    }
    let mut roles: Vec<String> = body
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|labels| {
            labels
                .iter()
                .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
                    Some(role) if !role.is_empty() => Some(role.to_string()),
                    _ if k == "kubernetes.io/role" => {
                        v.as_str().filter(|v| !v.is_empty()).map(String::from)
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles.dedup();
    vec![
        status.join(","),
        none(Some(roles.join(","))),
        input.age.clone(),
        text(body, "/status/nodeInfo/kubeletVersion")
            .unwrap_or("")
            .to_string(),
    ]
}

/// `printNamespace`: STATUS, the phase.
fn namespace_cells(input: &RowInput) -> Vec<String> {
    vec![
        text(input.body, "/status/phase").unwrap_or("").to_string(),
        input.age.clone(),
    ]
}

/// `printEvent` (as `kubectl get events` shows it): LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.
fn event_cells(input: &RowInput) -> Vec<String> {
    let body = input.body;
    let last = time(body, "/lastTimestamp")
        .or_else(|| time(body, "/eventTime"))
        .or_else(|| time(body, "/series/lastObservedTime"))
        .or_else(|| time(body, "/metadata/creationTimestamp"));
    let object = format!(
        "{}/{}",
        text(body, "/involvedObject/kind")
            .unwrap_or("")
            .to_lowercase(),
        text(body, "/involvedObject/name").unwrap_or("")
    );
    vec![
        since(last, input.at),
        text(body, "/type").unwrap_or("").to_string(),
        text(body, "/reason").unwrap_or("").to_string(),
        object,
        text(body, "/message").unwrap_or("").trim().to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_apimachinery_human_duration() {
        let cases = [
            (-5, "<invalid>"),
            (-1, "0s"),
            (35, "35s"),
            (119, "119s"),
            (120, "2m"),
            (330, "5m30s"),
            (41 * 60 + 7, "41m"),
            (179 * 60, "179m"),
            (5 * 3600 + 180, "5h3m"),
            (7 * 3600, "7h"),
            (30 * 3600, "30h"),
            (3 * 86400 + 5 * 3600, "3d5h"),
            (3 * 86400, "3d"),
            (12 * 86400, "12d"),
            (800 * 86400, "2y70d"),
            (3 * 365 * 86400, "3y"),
            (9 * 365 * 86400 + 86400, "9y"),
        ];
        for (seconds, want) in cases {
            assert_eq!(human_duration(seconds), want, "{seconds} s");
        }
    }

    fn pod(json: Value) -> PodCells {
        let pod: Pod = serde_json::from_value(json).unwrap();
        let at: Timestamp = "2026-11-26T16:15:00Z".parse().unwrap();
        pod_status(&pod, at)
    }

    #[test]
    fn a_crash_looping_container_is_its_waiting_reason_with_the_last_restart_ago() {
        let cells = pod(serde_json::json!({
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Running", "containerStatuses": [{
                "name": "web", "image": "", "imageID": "", "ready": false, "restartCount": 7,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                    "finishedAt": "2026-11-26T16:12:50Z"}}}]}
        }));
        assert_eq!(cells.ready, "0/1");
        assert_eq!(cells.status, "CrashLoopBackOff");
        assert_eq!(cells.restarts, "7 (2m10s ago)");
    }

    #[test]
    fn init_containers_terminating_and_completed_pods_read_like_kubectl() {
        let waiting_init = pod(serde_json::json!({
            "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "a"}, {"name": "b"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "a", "image": "", "imageID": "", "ready": true, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "b", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"running": {}}}]}
        }));
        assert_eq!(waiting_init.status, "Init:1/2");
        let failed_init = pod(serde_json::json!({
            "spec": {"containers": [{"name": "app"}], "initContainers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "a", "image": "", "imageID": "", "ready": false, "restartCount": 2,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        }));
        assert_eq!(failed_init.status, "Init:CrashLoopBackOff");
        let terminating = pod(serde_json::json!({
            "metadata": {"deletionTimestamp": "2026-11-26T16:14:00Z"},
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "app", "image": "", "imageID": "", "ready": true, "restartCount": 0,
                 "state": {"running": {}}}]}
        }));
        assert_eq!(terminating.status, "Terminating");
        assert_eq!(terminating.ready, "1/1");
        let completed = pod(serde_json::json!({
            "spec": {"containers": [{"name": "job"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [
                {"name": "job", "image": "", "imageID": "", "ready": false, "restartCount": 0,
                 "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}
        }));
        assert_eq!(completed.status, "Completed");
        assert_eq!(completed.restarts, "0");
        let evicted = pod(serde_json::json!({
            "spec": {"containers": [{"name": "app"}]},
            "status": {"phase": "Failed", "reason": "Evicted"}
        }));
        assert_eq!(evicted.status, "Evicted");
    }

    #[test]
    fn hpa_targets_read_like_kubectl() {
        let spec = serde_json::json!({"type": "Resource", "resource": {"name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": 80}}});
        let status = serde_json::json!({"type": "Resource", "resource": {"name": "cpu",
            "current": {"averageUtilization": 45, "averageValue": "450m"}}});
        assert_eq!(hpa_metric(&spec, Some(&status)), "cpu: 45%/80%");
        assert_eq!(hpa_metric(&spec, None), "cpu: <unknown>/80%");
    }
}
