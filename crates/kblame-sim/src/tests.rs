//! Tests of the simulator as a whole: determinism and the shape of every scenario's trace.

use serde_json::Value;

use super::scenarios::{all, Ending};

fn lines(trace: &[u8]) -> Vec<Value> {
    let text = zstd::stream::decode_all(trace).expect("fixture traces are valid zstd");
    text.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("every line is JSON"))
        .collect()
}

#[test]
fn the_same_scenario_produces_the_same_bytes_twice() {
    for scenario in all().iter().take(3) {
        let a = scenario.generate().expect("generates");
        let b = scenario.generate().expect("generates");
        assert_eq!(a.trace, b.trace, "{}", scenario.name);
        assert_eq!(a.truth, b.truth, "{}", scenario.name);
    }
}

#[test]
fn every_trace_starts_with_a_header_and_ends_with_end_unless_cut_short() {
    for scenario in all() {
        let fixture = scenario.generate().expect("generates");
        let lines = lines(&fixture.trace);
        assert_eq!(lines[0]["type"], "HEADER", "{}", scenario.name);
        let last = &lines[lines.len() - 1]["type"];
        let ending = (scenario.name == "cut-short").then_some(Ending::Abandon);
        if ending == Some(Ending::Abandon) {
            assert_ne!(last, "END", "{}", scenario.name);
        } else {
            assert_eq!(last, "END", "{}", scenario.name);
        }
        assert_eq!(
            fixture.records as usize,
            lines.len() - 1,
            "{}",
            scenario.name
        );
    }
}

#[test]
fn resource_versions_strictly_increase_after_the_initial_list() {
    for scenario in all() {
        let fixture = scenario.generate().expect("generates");
        let mut last_rv = 0u64;
        let mut last_ts = String::new();
        for line in lines(&fixture.trace).iter().skip(1) {
            let ts = line["ts"].as_str().unwrap_or_default().to_string();
            assert!(ts >= last_ts, "{}: ts went back at {ts}", scenario.name);
            last_ts = ts;
            if line["type"] == "LISTED" || line.get("object").is_none() {
                continue;
            }
            let rv: u64 = line["object"]["metadata"]["resourceVersion"]
                .as_str()
                .and_then(|r| r.parse().ok())
                .expect("objects carry a numeric resourceVersion");
            assert!(rv > last_rv, "{}: rv {rv} after {last_rv}", scenario.name);
            last_rv = rv;
        }
    }
}

#[test]
fn the_seed_demo_rollout_times_out_while_revision_one_keeps_serving() {
    let fixture = all()[0].generate().expect("generates");
    let d = &fixture.truth.deployments[0];
    assert_eq!(d.final_outcome, "failed");
    assert_eq!(d.revisions.len(), 2);
    let change = d.revisions[1]
        .change
        .as_ref()
        .expect("revision 2 has a change");
    assert_eq!(change.manager, "kubectl-client-side-apply");
    assert_eq!(
        change.fields,
        vec!["spec.template.spec.containers[name=web].image".to_string()]
    );
    let crashing: Vec<_> = fixture
        .truth
        .pods
        .iter()
        .filter(|p| p.revision == 2)
        .collect();
    assert_eq!(crashing.len(), 1);
    assert!(crashing[0].restarts.len() >= 5);
    assert!(fixture
        .truth
        .pods
        .iter()
        .filter(|p| p.revision == 1)
        .all(|p| p.deleted.is_none()));
}

fn generate(name: &str) -> super::scenarios::Fixture {
    let scenario = all().into_iter().find(|s| s.name == name);
    scenario
        .expect("scenario exists")
        .generate()
        .expect("generates")
}

/// The records about the pod called `name`, in trace order.
fn pod_records<'a>(lines: &'a [Value], name: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["object"]["kind"] == "Pod" && l["object"]["metadata"]["name"] == name)
        .collect()
}

fn truth_of<'a>(fixture: &'a super::scenarios::Fixture, reason: &str) -> &'a super::PodTruth {
    let found = fixture
        .truth
        .pods
        .iter()
        .find(|p| p.deleted.as_ref().is_some_and(|d| d.reason == reason));
    found.expect("a pod with that deletion reason")
}

fn condition<'a>(status: &'a Value, kind: &str) -> Option<&'a Value> {
    status["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

/// Phase Failed, reason Evicted, the kubelet's message, DisruptionTarget, containers terminated.
fn assert_evicted_status(status: &Value) {
    assert_eq!(status["phase"], "Failed");
    assert_eq!(status["reason"], "Evicted");
    let message = status["message"].as_str().expect("a message");
    let expected = "The node was low on resource: memory. Threshold quantity: 100Mi, available: \
        91Mi. Container app was using 180Mi, request is 64Mi, has larger consumption of memory. ";
    assert_eq!(message, expected);
    let target = condition(status, "DisruptionTarget").expect("DisruptionTarget");
    assert_eq!(target["status"], "True");
    assert_eq!(target["reason"], "TerminationByKubelet");
    assert_eq!(target["message"], status["message"]);
    assert_eq!(
        condition(status, "Ready").expect("Ready")["status"],
        "False"
    );
    let containers = status["containerStatuses"].as_array().expect("containers");
    assert!(containers
        .iter()
        .all(|c| c["state"]["terminated"].is_object()));
}

/// The record's managedFields show the kubelet wrote `status.reason` through `status`.
fn assert_kubelet_wrote_reason(record: &Value) {
    let entries = record["object"]["metadata"]["managedFields"].as_array();
    let kubelet = entries
        .into_iter()
        .flatten()
        .find(|e| e["manager"] == "kubelet" && e["subresource"] == "status")
        .expect("a kubelet status entry");
    assert!(kubelet["fieldsV1"]["f:status"]["f:reason"].is_object());
}

#[test]
fn the_evicted_pod_is_reported_failed_and_evicted_by_the_kubelet_and_stays() {
    let fixture = generate("evicted");
    let lines = lines(&fixture.trace);
    let victim = truth_of(&fixture, "evicted");
    let records = pod_records(&lines, &victim.name);
    let failed = records
        .iter()
        .find(|r| r["object"]["status"]["phase"] == "Failed")
        .expect("a record shows phase Failed");
    let deleted = victim.deleted.as_ref().expect("deleted");
    assert_eq!(failed["ts"].as_str(), Some(deleted.time.as_str()));
    assert_eq!(deleted.change_manager, None);
    let status = &failed["object"]["status"];
    assert_evicted_status(status);
    assert_kubelet_wrote_reason(failed);
    assert!(
        records.iter().all(|r| r["type"] != "DELETED"),
        "the pod stays"
    );
    let event = lines
        .iter()
        .find(|l| l["object"]["kind"] == "Event" && l["object"]["reason"] == "Evicted");
    let event = &event.expect("an Evicted event")["object"];
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["source"]["component"], "kubelet");
    assert_eq!(event["message"], status["message"]);
    let replacement = deleted.replaced_by.as_deref().expect("replaced");
    let new = fixture.truth.pods.iter().find(|p| p.name == replacement);
    let new = new.expect("the replacement's truth");
    assert_eq!(new.created.reason, "replacement");
    assert_eq!(new.created.replaces.as_deref(), Some(victim.name.as_str()));
}

#[test]
fn the_preemption_victim_is_marked_by_the_scheduler_before_it_is_deleted() {
    let fixture = generate("preempted");
    let lines = lines(&fixture.trace);
    let victim = truth_of(&fixture, "preempted");
    let records = pod_records(&lines, &victim.name);
    let marked = records
        .iter()
        .position(|r| condition(&r["object"]["status"], "DisruptionTarget").is_some())
        .expect("a record shows DisruptionTarget");
    let target = condition(&records[marked]["object"]["status"], "DisruptionTarget");
    assert_eq!(
        target.expect("condition")["reason"],
        "PreemptionByScheduler"
    );
    assert!(records[marked]["object"]["metadata"]["deletionTimestamp"].is_null());
    let deleting = &records[marked + 1];
    assert!(deleting["object"]["metadata"]["deletionTimestamp"].is_string());
    let deleted = victim.deleted.as_ref().expect("deleted");
    assert_eq!(deleting["ts"].as_str(), Some(deleted.time.as_str()));
    assert_eq!(
        records.last().map(|r| &r["type"]),
        Some(&Value::from("DELETED"))
    );
    let preempted = lines.iter().any(|l| {
        l["object"]["reason"] == "Preempted"
            && l["object"]["involvedObject"]["name"] == victim.name.as_str()
    });
    assert!(preempted, "a Preempted event on the victim");
    let replacement = deleted.replaced_by.as_deref().expect("replaced");
    let new = fixture
        .truth
        .pods
        .iter()
        .find(|p| p.name == replacement)
        .expect("truth");
    assert_eq!(new.created.reason, "replacement");
}

#[test]
fn the_watch_gap_writes_gap_then_relists_pods_then_synced_with_no_pod_record_between() {
    let fixture = generate("watch-gap");
    let lines = lines(&fixture.trace);
    let gap = lines
        .iter()
        .position(|l| l["type"] == "GAP" && l["resource"] == "v1/pods")
        .expect("a GAP for v1/pods");
    let relist = gap
        + lines[gap..]
            .iter()
            .position(|l| l["type"] == "LISTED")
            .expect("a re-list after the GAP");
    assert!(lines[gap..relist]
        .iter()
        .all(|l| l["object"]["kind"] != "Pod"));
    assert!(lines[gap..relist]
        .iter()
        .any(|l| l["object"]["kind"] == "ReplicaSet"));
    let synced = relist
        + lines[relist..]
            .iter()
            .position(|l| l["type"] == "SYNCED")
            .expect("SYNCED after the re-list");
    assert_eq!(lines[synced]["resource"], "v1/pods");
    let listed: Vec<&str> = lines[relist..synced]
        .iter()
        .map(|l| {
            assert_eq!(l["type"], "LISTED");
            l["object"]["metadata"]["name"].as_str().expect("name")
        })
        .collect();
    let hidden: Vec<&super::PodTruth> = fixture
        .truth
        .pods
        .iter()
        .filter(|p| p.hidden_by_gap)
        .collect();
    assert_eq!(hidden.len(), 2);
    let gone = truth_of(&fixture, "external-delete");
    assert!(gone.hidden_by_gap && !listed.contains(&gone.name.as_str()));
    let new = gone.deleted.as_ref().and_then(|d| d.replaced_by.as_deref());
    assert!(new.is_some_and(|n| listed.contains(&n)));
    assert_eq!(listed.len(), 3);
}

#[test]
fn the_eviction_preemption_and_gap_scenarios_produce_the_same_bytes_twice() {
    for name in ["evicted", "preempted", "watch-gap"] {
        let (a, b) = (generate(name), generate(name));
        assert_eq!(a.trace, b.trace, "{name}");
        assert_eq!(a.truth, b.truth, "{name}");
    }
}

#[test]
fn cpu_quantities_parse_into_millicores() {
    use super::config::cpu_millis;
    assert_eq!(cpu_millis("250m"), Some(250));
    assert_eq!(cpu_millis("2"), Some(2000));
    assert_eq!(cpu_millis("1.5"), Some(1500));
    assert_eq!(cpu_millis("0.25"), Some(250));
    assert_eq!(cpu_millis("lots"), None);
}

#[test]
fn the_cluster_generator_writes_the_same_bytes_twice() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (a, b) = (
        dir.path().join("a.ndjson.zst"),
        dir.path().join("b.ndjson.zst"),
    );
    let first = super::cluster::generate(1500, 7, &a, |_| {}).expect("generates");
    super::cluster::generate(1500, 7, &b, |_| {}).expect("generates");
    let bytes = std::fs::read(&a).expect("reads the trace");
    assert_eq!(bytes, std::fs::read(&b).expect("reads the trace"));
    assert!(first.records > 1500);
    assert_eq!(first.bytes, bytes.len() as u64);
    let mix = super::cluster::record_mix(&a).expect("reads the mix");
    let objects: u64 = mix.iter().map(|k| k.records).sum();
    assert!(
        objects > 1500 && objects < first.records,
        "SYNCED and END are no objects"
    );
    for s in &first.suggestions {
        let known = match s.kind {
            "Pod" => first.truth.pods.iter().any(|p| p.name == s.name),
            _ => first.truth.deployments.iter().any(|d| d.name == s.name),
        };
        assert!(known, "{s:?}");
    }
}

#[test]
fn readiness_fails_then_passes_a_container_crashes_once_and_an_agent_annotates_its_pod() {
    use super::{utc, ContainerConfig, DeploymentConfig, ProbeConfig, Sim, Tool};
    let mut sim = Sim::new(11, utc(2026, 11, 26, 9, 0, 0));
    let container =
        ContainerConfig::new("web", "nginx:1.25").readiness(ProbeConfig::http("/ready", 80));
    let config = DeploymentConfig::new("shop", "web")
        .replicas(1)
        .container(container);
    sim.apply_deployment(&config, Tool::KubectlApply)
        .advance(60)
        .start_trace();
    let pod = sim.pod_names("shop", "web").remove(0);
    sim.fail_readiness("shop", &pod, 30).advance(120);
    sim.crash_container("shop", &pod, Some(2)).advance(120);
    sim.annotate_pod("shop", &pod, "Patroni", "status", "{\"role\":\"master\"}")
        .advance(5);
    let (trace, truth) = sim.finish("churn", "churn").expect("finishes");
    let lines = lines(&trace);
    let pods: Vec<&Value> = lines
        .iter()
        .filter(|l| l["object"]["kind"] == "Pod")
        .collect();
    let ready = |l: &&Value| {
        let conditions = l["object"]["status"]["conditions"].as_array().cloned();
        let ready = conditions
            .unwrap_or_default()
            .into_iter()
            .find(|c| c["type"] == "Ready");
        ready.is_some_and(|c| c["status"] == "True")
    };
    let flips: Vec<bool> = pods.iter().map(ready).collect();
    assert!(
        flips.windows(2).any(|w| w[0] && !w[1]),
        "became unready: {flips:?}"
    );
    assert!(
        flips.last().copied().unwrap_or(false),
        "ready again at the end"
    );
    let probe_failed = lines.iter().any(|l| {
        l["object"]["reason"] == "Unhealthy"
            && l["object"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Readiness probe failed"))
    });
    assert!(probe_failed);
    let restarts = &truth.pods[0].restarts;
    assert_eq!(restarts.len(), 1);
    assert_eq!(
        (restarts[0].reason.as_str(), restarts[0].exit_code),
        ("Error", 2)
    );
    let last = pods.last().expect("pod records");
    assert_eq!(
        last["object"]["metadata"]["annotations"]["status"],
        "{\"role\":\"master\"}"
    );
    let managers = last["object"]["metadata"]["managedFields"]
        .as_array()
        .cloned();
    assert!(managers
        .unwrap_or_default()
        .iter()
        .any(|m| m["manager"] == "Patroni"));
}

/// `(type, kind, name)` of every record after the initial list that is about a StatefulSet, a
/// ControllerRevision or one of the set's pods (Events and pod status churn left out).
fn records_of_kind<'a>(lines: &'a [Value], kind: &str) -> Vec<&'a Value> {
    lines
        .iter()
        .filter(|l| l["type"] != "LISTED" && l["object"]["kind"] == kind)
        .collect()
}

#[test]
fn a_statefulset_update_replaces_pods_from_the_highest_ordinal_down_and_completes() {
    let fixture = generate("sts-rolling-update");
    let lines = lines(&fixture.trace);
    // One new ControllerRevision, owned by the set, revision 2, named <set>-<hash>.
    let revisions = records_of_kind(&lines, "ControllerRevision");
    assert_eq!(revisions.len(), 1);
    let revision = &revisions[0]["object"];
    assert_eq!(revision["revision"], 2);
    let name = revision["metadata"]["name"].as_str().expect("a name");
    let hash = &revision["metadata"]["labels"]["controller.kubernetes.io/hash"];
    assert_eq!(
        Some(name),
        hash.as_str().map(|h| format!("redis-{h}")).as_deref()
    );
    assert_eq!(
        revision["metadata"]["ownerReferences"][0]["kind"],
        "StatefulSet"
    );
    assert_eq!(
        revision["metadata"]["ownerReferences"][0]["controller"],
        true
    );
    assert_eq!(revision["data"]["spec"]["template"]["$patch"], "replace");
    // Pods are deleted highest ordinal first; each is recreated (new UID, same name) at the
    // new revision before the next one is deleted.
    let order: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l["object"]["kind"] == "Pod")
        .filter_map(|l| {
            let meta = &l["object"]["metadata"];
            let what = match (l["type"].as_str()?, meta.get("deletionTimestamp")) {
                ("ADDED", _) => "create",
                ("MODIFIED", Some(_)) => "delete",
                _ => return None,
            };
            Some((what.to_string(), meta["name"].as_str()?.to_string()))
        })
        .collect();
    let mut steps: Vec<(String, String)> = Vec::new();
    for step in order {
        if steps.last() != Some(&step) {
            steps.push(step);
        }
    }
    let expected: Vec<(String, String)> = ["redis-2", "redis-1", "redis-0"]
        .iter()
        .flat_map(|n| {
            [
                ("delete".to_string(), n.to_string()),
                ("create".into(), n.to_string()),
            ]
        })
        .collect();
    assert_eq!(steps, expected);
    for added in lines
        .iter()
        .filter(|l| l["type"] == "ADDED" && l["object"]["kind"] == "Pod")
    {
        let meta = &added["object"]["metadata"];
        let pod = meta["name"].as_str().expect("a name");
        assert_eq!(meta["labels"]["controller-revision-hash"], name);
        assert_eq!(meta["labels"]["statefulset.kubernetes.io/pod-name"], pod);
        let ordinal = pod.rsplit('-').next().expect("an ordinal");
        assert_eq!(meta["labels"]["apps.kubernetes.io/pod-index"], ordinal);
        assert_eq!(added["object"]["spec"]["hostname"], pod);
        assert_eq!(added["object"]["spec"]["subdomain"], "redis");
        assert_eq!(meta["ownerReferences"][0]["kind"], "StatefulSet");
    }
    // The last StatefulSet record moves currentRevision forward.
    let sets = records_of_kind(&lines, "StatefulSet");
    let last = &sets[sets.len() - 1]["object"]["status"];
    assert_eq!(last["currentRevision"], name);
    assert_eq!(last["updateRevision"], name);
    assert_eq!(last["updatedReplicas"], 3);
    assert_eq!(last["currentReplicas"], 3);
    assert_eq!(last["observedGeneration"], 2);
    let set = &fixture.truth.statefulsets[0];
    assert_eq!(set.verdict, "complete");
    assert!(!set.rollout_halted);
    assert_eq!(set.revisions.len(), 2);
    let change = set.revisions[1].change.as_ref().expect("a change");
    assert_eq!(change.manager, "kubectl-client-side-apply");
    let rolled: Vec<&super::PodTruth> = fixture
        .truth
        .pods
        .iter()
        .filter(|p| p.created.reason == "rollout")
        .collect();
    assert_eq!(rolled.len(), 3);
    for pod in rolled {
        assert_eq!(pod.revision, 2);
        assert_eq!(pod.created.replaces.as_deref(), Some(pod.name.as_str()));
        assert_eq!(pod.end_state.as_deref(), Some("Running/Ready"));
    }
}

#[test]
fn a_crash_looping_highest_ordinal_halts_the_ordered_update_for_good() {
    let fixture = generate("sts-stuck-ordinal");
    let lines = lines(&fixture.trace);
    let deletions = lines
        .iter()
        .filter(|l| l["object"]["reason"] == "SuccessfulDelete")
        .count();
    assert_eq!(deletions, 1, "only postgres-2 is ever deleted");
    let sets = records_of_kind(&lines, "StatefulSet");
    let last = &sets[sets.len() - 1]["object"]["status"];
    assert_ne!(last["currentRevision"], last["updateRevision"]);
    assert_eq!(last["updatedReplicas"], 1);
    assert_eq!(last["currentReplicas"], 2);
    assert_eq!(last["readyReplicas"], 2);
    assert!(
        last.get("conditions").is_none(),
        "a StatefulSet sets no conditions"
    );
    let set = &fixture.truth.statefulsets[0];
    assert_eq!(set.verdict, "progressing");
    assert!(set.rollout_halted);
    assert_eq!(set.blocking_ordinal, Some(2));
    assert_eq!(set.not_updated_ordinals, vec![0, 1]);
    let stuck = fixture
        .truth
        .pods
        .iter()
        .find(|p| p.created.reason == "rollout")
        .expect("the recreated postgres-2");
    assert_eq!(stuck.ordinal, Some(2));
    assert_eq!(stuck.end_state.as_deref(), Some("Running/CrashLoopBackOff"));
    assert!(stuck.restarts.len() >= 5);
}

/// The pod names of the StatefulSet's `SuccessfulDelete` / `SuccessfulCreate` Events, in order
/// (a repeated Event counts each time it is recorded).
fn sts_steps(lines: &[Value]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|l| l["type"] != "LISTED" && l["object"]["kind"] == "Event")
        .filter_map(|l| {
            let message = l["object"]["message"].as_str()?;
            let mut words = message.split(' ');
            let verb = words.next()?;
            let pod = words.nth(1)?;
            (verb == "create" || verb == "delete").then(|| (verb.to_string(), pod.to_string()))
        })
        .collect()
}

#[test]
fn a_partition_updates_only_from_start_plus_partition_and_parallel_still_updates_one_at_a_time() {
    let fixture = generate("sts-partition-canary");
    let lines = lines(&fixture.trace);
    let sets = records_of_kind(&lines, "StatefulSet");
    let spec = &sets[0]["object"]["spec"];
    assert_eq!(spec["ordinals"]["start"], 1);
    assert_eq!(spec["podManagementPolicy"], "Parallel");
    assert_eq!(spec["updateStrategy"]["rollingUpdate"]["partition"], 3);
    let steps: Vec<String> = sts_steps(&lines)
        .into_iter()
        .map(|(verb, pod)| format!("{verb} {pod}"))
        .collect();
    // The canary (kafka-4), the hand-deleted kafka-1 recreated, then the update from the top
    // down one pod at a time after the partition drops to 0, then two pods at once.
    assert_eq!(
        steps,
        [
            "delete kafka-4",
            "create kafka-4",
            "create kafka-1",
            "delete kafka-3",
            "create kafka-3",
            "delete kafka-2",
            "create kafka-2",
            "delete kafka-1",
            "create kafka-1",
            "create kafka-5",
            "create kafka-6",
        ]
    );
    assert!(
        !lines
            .iter()
            .any(|l| l["object"]["metadata"]["name"] == "kafka-0"),
        "ordinals start at 1"
    );
    // The pod recreated below the partition is at the current (old) revision.
    let set = &fixture.truth.statefulsets[0];
    let old = &set.revisions[0].name;
    let recreated = fixture
        .truth
        .pods
        .iter()
        .find(|p| p.created.reason == "replacement")
        .expect("kafka-1 recreated");
    assert_eq!(recreated.name, "kafka-1");
    assert_eq!(
        recreated.controller_revision.as_ref().map(|r| &r.name),
        Some(old)
    );
    assert_eq!(set.verdict, "complete");
    assert!(set.not_updated_ordinals.is_empty() && set.partition_held_ordinals.is_empty());
}

#[test]
fn on_delete_replaces_no_pod_until_someone_deletes_one() {
    let fixture = generate("sts-on-delete");
    let lines = lines(&fixture.trace);
    let steps = sts_steps(&lines);
    assert_eq!(
        steps,
        [("create".to_string(), "etcd-2".to_string())],
        "the controller deleted nothing; it only recreated the pod someone deleted"
    );
    let sets = records_of_kind(&lines, "StatefulSet");
    let last = &sets[sets.len() - 1]["object"]["status"];
    assert_ne!(last["currentRevision"], last["updateRevision"]);
    let set = &fixture.truth.statefulsets[0];
    assert_eq!(set.verdict, "unknown");
    assert_eq!(set.not_updated_ordinals, vec![0, 1]);
    let deleted = fixture
        .truth
        .pods
        .iter()
        .find(|p| p.deleted.is_some())
        .and_then(|p| p.deleted.as_ref())
        .expect("etcd-2 deleted");
    assert_eq!(deleted.reason, "external-delete");
}

#[test]
fn a_cronjob_template_change_makes_the_next_jobs_fail_until_the_backoff_limit() {
    let fixture = generate("cronjob-template-break");
    let lines = lines(&fixture.trace);
    let jobs = records_of_kind(&lines, "Job");
    // Jobs are named <cronjob>-<minutes since the epoch> and carry their scheduled time.
    for record in jobs.iter().filter(|l| l["type"] == "ADDED") {
        let meta = &record["object"]["metadata"];
        let name = meta["name"].as_str().expect("a name");
        let minutes: i64 = name
            .rsplit('-')
            .next()
            .and_then(|m| m.parse().ok())
            .expect("minutes");
        let scheduled = meta["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
            .as_str()
            .and_then(super::parse_time)
            .expect("a scheduled time");
        assert_eq!(scheduled, minutes * super::MINUTE);
        assert_eq!(meta["ownerReferences"][0]["kind"], "CronJob");
        let uid = meta["uid"].as_str().expect("a uid");
        assert_eq!(meta["labels"]["batch.kubernetes.io/controller-uid"], uid);
        assert_eq!(meta["labels"]["job-name"], name);
    }
    // Job pods carry the tracking finalizer until they are counted, and are never restarted.
    for pod in lines
        .iter()
        .filter(|l| l["type"] == "ADDED" && l["object"]["kind"] == "Pod")
    {
        let meta = &pod["object"]["metadata"];
        assert_eq!(meta["finalizers"][0], "batch.kubernetes.io/job-tracking");
        assert_eq!(
            meta["labels"]["batch.kubernetes.io/job-name"],
            meta["ownerReferences"][0]["name"]
        );
        assert_eq!(pod["object"]["spec"]["restartPolicy"], "Never");
    }
    // A failing Job: FailureTarget alone first, then Failed beside it.
    let conditions: Vec<Vec<&str>> = jobs
        .iter()
        .filter(|l| l["object"]["metadata"]["name"] == "invoice-export-29928125")
        .map(|l| {
            let list = l["object"]["status"]["conditions"].as_array();
            list.into_iter()
                .flatten()
                .filter_map(|c| c["type"].as_str())
                .collect()
        })
        .filter(|c: &Vec<&str>| !c.is_empty())
        .collect();
    assert_eq!(conditions[0], vec!["FailureTarget"]);
    assert_eq!(conditions[1], vec!["FailureTarget", "Failed"]);
    let truth = &fixture.truth;
    let outcomes: Vec<&str> = truth.jobs.iter().map(|j| j.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["complete", "complete", "complete", "complete", "failed", "failed"]
    );
    let failed = &truth.jobs[4];
    assert_eq!(failed.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert_eq!(failed.failed_pods, 3);
    assert!(failed.template_change.is_some());
    assert!(truth.jobs[3].template_change.is_none());
    let deleted: Vec<&str> = truth
        .jobs
        .iter()
        .filter(|j| j.deleted.is_some())
        .map(|j| j.name.as_str())
        .collect();
    assert_eq!(
        deleted,
        ["invoice-export-29928105", "invoice-export-29928125"]
    );
    let cronjob = &truth.cronjobs[0];
    let change = cronjob
        .failing_since_change
        .as_ref()
        .expect("failing since a change");
    assert_eq!(change.manager, "kubectl-client-side-apply");
    assert!(change.fields[0].starts_with("spec.jobTemplate."));
    // The retries of the failed Job: the pod failure back-off (10 s, then 20 s) from the
    // previous failure, each a new pod.
    let retries: Vec<&super::PodTruth> = truth
        .pods
        .iter()
        .filter(|p| p.lineage.first().is_some_and(|l| l.uid == failed.uid))
        .collect();
    let reasons: Vec<&str> = retries.iter().map(|p| p.created.reason.as_str()).collect();
    assert_eq!(reasons, ["job-start", "job-retry", "job-retry"]);
    for (i, pair) in retries.windows(2).enumerate() {
        let finished = pair[0].finished.as_ref().expect("finished");
        let gap = super::parse_time(&pair[1].created.time).expect("a time")
            - super::parse_time(&finished.time).expect("a time");
        let backoff = 10_000 << i;
        assert!((backoff - 100..backoff + 1_000).contains(&gap), "gap {gap}");
    }
}

#[test]
fn a_daemonset_update_replaces_one_node_at_a_time_with_pods_of_new_names() {
    let fixture = generate("ds-rolling-update");
    let lines = lines(&fixture.trace);
    let revision = &records_of_kind(&lines, "ControllerRevision")[0]["object"];
    assert_eq!(revision["revision"], 2);
    let hash = revision["metadata"]["labels"]["controller-revision-hash"]
        .as_str()
        .expect("a hash");
    assert_eq!(
        revision["metadata"]["name"],
        format!("node-exporter-{hash}").as_str()
    );
    assert_eq!(
        revision["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "2"
    );
    // Never more than one node without an available pod: each deletion waits for the previous
    // node's new pod to be ready.
    let mut unavailable = 0;
    let mut deleting = std::collections::BTreeSet::new();
    for line in &lines {
        let object = &line["object"];
        if object["kind"] != "Pod" || line["type"] == "LISTED" {
            continue;
        }
        let name = object["metadata"]["name"].as_str().unwrap_or_default();
        if line["type"] == "MODIFIED"
            && object["metadata"].get("deletionTimestamp").is_some()
            && deleting.insert(name.to_string())
        {
            unavailable += 1;
            assert_eq!(unavailable, 1, "a second node went down at {}", line["ts"]);
        }
        let ready = object["status"]["containerStatuses"][0]["ready"] == true;
        if line["type"] == "MODIFIED"
            && ready
            && object["metadata"]["labels"]["controller-revision-hash"] == hash
        {
            unavailable = 0;
        }
    }
    assert_eq!(deleting.len(), 3);
    for added in lines
        .iter()
        .filter(|l| l["type"] == "ADDED" && l["object"]["kind"] == "Pod")
    {
        let meta = &added["object"]["metadata"];
        assert_eq!(meta["labels"]["controller-revision-hash"], hash);
        assert_eq!(meta["labels"]["pod-template-generation"], "2");
        assert_eq!(meta["generateName"], "node-exporter-");
    }
    let truth = &fixture.truth;
    assert_eq!(truth.daemonsets[0].verdict, "complete");
    let new: Vec<&super::PodTruth> = truth
        .pods
        .iter()
        .filter(|p| p.created.reason == "rollout")
        .collect();
    assert_eq!(new.len(), 3);
    for pod in new {
        let old = pod.created.replaces.as_deref().expect("replaces a pod");
        let old = truth
            .pods
            .iter()
            .find(|p| p.name == old)
            .expect("the old pod");
        assert_eq!(old.node, pod.node, "the replacement runs on the same node");
        assert_ne!(old.name, pod.name);
    }
}
