//! `kblame record` against the loopback API server: the trace, replayed, equals the server's
//! true history through watch breaks, 410s, a server restart, denied resources and kills.
#![cfg(feature = "record")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kblame::history::{Gone, History};
use kblame::trace::{EventType, TraceSource};
use serde_json::{json, Value};

use super::apiserver::ApiServer;
use super::support::stdout;

pub(super) const WAIT: Duration = Duration::from_secs(15);

/// A running `kblame record` process.
pub(super) struct Recorder {
    pub(super) child: Child,
    pub(super) trace: PathBuf,
    pub(super) dir: tempfile::TempDir,
}

impl Recorder {
    /// Starts recording all namespaces with a fast flush; waits until `resources` are watched.
    pub(super) fn start(server: &ApiServer, resources: &[&str], extra: &[&str]) -> Recorder {
        let dir = tempfile::tempdir().expect("a temp dir");
        let kubeconfig = dir.path().join("kubeconfig");
        server.write_kubeconfig(&kubeconfig);
        Recorder::start_in(dir, &kubeconfig, server, resources, extra)
    }

    /// Like [`Recorder::start`], in `dir` with a kubeconfig already written.
    pub(super) fn start_in(
        dir: tempfile::TempDir,
        kubeconfig: &Path,
        server: &ApiServer,
        resources: &[&str],
        extra: &[&str],
    ) -> Recorder {
        let trace = dir.path().join("trace.ndjson.zst");
        let mut args = vec![
            "record".to_string(),
            "-o".into(),
            trace.display().to_string(),
            "--kubeconfig".into(),
            kubeconfig.display().to_string(),
            "-A".into(),
            "--flush-interval".into(),
            "200ms".into(),
            "--quiet".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let child = Command::new(env!("CARGO_BIN_EXE_kblame"))
            .args(&args)
            .stderr(Stdio::piped())
            .spawn()
            .expect("kblame record starts");
        let recorder = Recorder { child, trace, dir };
        for resource in resources {
            assert!(
                server.wait_for_watchers(resource, 1, WAIT),
                "{resource} is never watched"
            );
        }
        recorder
    }

    pub(super) fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }

    /// SIGTERM, then wait; returns the exit code and stderr.
    pub(super) fn stop(mut self) -> (Option<i32>, String, PathBuf, tempfile::TempDir) {
        self.signal("TERM");
        let output = wait_with_timeout(&mut self.child);
        (output.0, output.1, self.trace, self.dir)
    }
}

pub(super) fn wait_with_timeout(child: &mut Child) -> (Option<i32>, String) {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(status) = child.try_wait().expect("the recorder can be waited for") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                use std::io::Read;
                let _ = pipe.read_to_string(&mut stderr);
            }
            return (status.code(), stderr);
        }
        assert!(Instant::now() < deadline, "the recorder did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `kblame record -o OUTPUT --kubeconfig K ARGS` to completion against `server`; OUTPUT
/// is a name in a fresh temp dir, or an absolute path.
pub(super) fn record_once(
    server: &ApiServer,
    output: &str,
    args: &[&str],
) -> (std::process::Output, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig);
    let trace = if output.starts_with('/') {
        PathBuf::from(output)
    } else {
        dir.path().join(output)
    };
    let out = Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args([
            "record",
            "-o",
            trace.to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .args(args)
        .output()
        .expect("kblame record runs");
    (out, trace, dir)
}

/// Lets the recorder receive and flush what the server just did.
pub(super) fn settle() {
    std::thread::sleep(Duration::from_millis(700));
}

pub(super) fn replay(trace: &Path) -> History {
    kblame::query::load(&TraceSource::Path(trace.to_path_buf()))
        .expect("the trace reads")
        .history
}

pub(super) fn pod(name: &str, labels: Value) -> Value {
    json!({"metadata": {"name": name, "namespace": "shop", "labels": labels},
           "spec": {"containers": [{"name": "app", "image": "app:1"}]}})
}

/// The trace holds every server change from history index `since` on (same UID, resourceVersion
/// and type) unless `allow_missed` (a forced GAP), and each object's last recorded state is the
/// server's final state; objects the server no longer has are gone from the replay too.
pub(super) fn assert_replay_equals_server(
    server: &ApiServer,
    history: &History,
    resources: &[&str],
    since: usize,
    allow_missed: bool,
) {
    let recorded: BTreeMap<(String, String), EventType> = history
        .objects()
        .iter()
        .flat_map(|o| {
            o.versions.iter().map(move |v| {
                (
                    (
                        o.uid.clone(),
                        v.resource_version.as_deref().unwrap_or("").to_string(),
                    ),
                    v.event,
                )
            })
        })
        .collect();
    let changes = server.history();
    for change in changes
        .iter()
        .skip(since)
        .filter(|c| resources.contains(&c.resource.as_str()))
    {
        let uid = change.object["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_string();
        let rv = change.object["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        match recorded.get(&(uid.clone(), rv.clone())) {
            Some(event) => assert!(
                event.as_str() == change.event || *event == EventType::Listed,
                "{uid}@{rv}: recorded {event:?}, the server said {}",
                change.event
            ),
            None => assert!(
                allow_missed,
                "{} {uid}@{rv} ({}) is missing from the trace",
                change.resource, change.event
            ),
        }
    }
    for resource in resources {
        let alive: Vec<Value> = server.objects(resource);
        for object in &alive {
            let uid = object["metadata"]["uid"].as_str().unwrap();
            let id = history
                .by_uid(uid)
                .unwrap_or_else(|| panic!("{resource} {uid} is not in the trace"));
            let last: Value = history.parse(history.object(id).last()).unwrap();
            assert_eq!(
                last["metadata"]["resourceVersion"], object["metadata"]["resourceVersion"],
                "{uid}: last state"
            );
            assert_eq!(last["kind"], object["kind"]);
            assert!(
                history.object(id).gone.is_none(),
                "{uid} exists on the server"
            );
        }
        let alive_uids: Vec<&str> = alive
            .iter()
            .filter_map(|o| o["metadata"]["uid"].as_str())
            .collect();
        for change in changes.iter().filter(|c| c.resource == *resource) {
            let uid = change.object["metadata"]["uid"].as_str().unwrap();
            if let (false, Some(id)) = (alive_uids.contains(&uid), history.by_uid(uid)) {
                assert!(
                    history.object(id).gone.is_some(),
                    "{uid} was deleted on the server"
                );
            }
        }
    }
}

#[test]
fn a_recording_holds_the_initial_list_and_every_watch_event_in_order() {
    let server = ApiServer::start();
    server.set_page_size(2);
    for name in ["a", "b", "c", "d", "e"] {
        server.create("v1/pods", pod(name, json!({"app": "web"})));
    }
    let since = server.history().len();
    let recorder = Recorder::start(&server, &["v1/pods", "apps/v1/deployments"], &[]);
    server.update("v1/pods", "shop", "a", |p| {
        p["spec"]["containers"][0]["image"] = json!("app:2")
    });
    server.create(
        "apps/v1/deployments",
        json!({"metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 2}}),
    );
    server.delete("v1/pods", "shop", "b");
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let history = replay(&trace);
    assert!(history.facts.ended, "END is written on SIGTERM");
    assert_replay_equals_server(
        &server,
        &history,
        &["v1/pods", "apps/v1/deployments"],
        since,
        false,
    );
    let b = history.by_name("Pod", Some("shop"), "b")[0];
    assert!(matches!(history.object(b).gone, Some(Gone::Deleted(_))));
    let listed = history
        .facts
        .records_by_type
        .get("LISTED")
        .copied()
        .unwrap_or(0);
    assert_eq!(listed, 5, "five pods listed over three pages");
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.contains("continue=")),
        "paged list"
    );
    assert!(requests
        .iter()
        .any(|r| r.contains("watch=1") && r.contains("allowWatchBookmarks=true")));
    let header = history.facts.header.as_ref().unwrap();
    assert_eq!(header.source.kind, "watch");
    assert!(header.resources.iter().any(|r| r.resource == "pods"));
}

#[test]
fn a_watch_closed_mid_stream_resumes_from_the_last_resource_version_without_a_gap() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let since = server.history().len();
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    server.update("v1/pods", "shop", "a", |p| {
        p["metadata"]["labels"] = json!({"v": "2"})
    });
    settle();
    server.close_watches();
    server.update("v1/pods", "shop", "a", |p| {
        p["metadata"]["labels"] = json!({"v": "3"})
    });
    server.create("v1/pods", pod("b", json!({})));
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    settle();
    let (code, _, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0));
    let history = replay(&trace);
    assert!(
        history.facts.gaps.is_empty(),
        "resuming lost nothing: no GAP"
    );
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

#[test]
fn a_410_gone_after_a_restart_writes_a_gap_and_the_relist_shows_what_was_deleted() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("keep", json!({})));
    server.create("v1/pods", pod("lost", json!({})));
    let since = server.history().len();
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    settle();
    server.pause_watches();
    server.close_watches();
    server.delete("v1/pods", "shop", "lost");
    server.create("v1/pods", pod("new", json!({})));
    server.expire_history();
    server.resume_watches();
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    settle();
    let (code, _, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0));
    let history = replay(&trace);
    // The restart expired every resource's watch: each gets its own GAP and re-list.
    let pod_gaps: Vec<_> = history
        .facts
        .gaps
        .iter()
        .filter(|g| g.resource == "v1/pods")
        .collect();
    assert_eq!(pod_gaps.len(), 1, "one GAP for the expired pod watch");
    assert!(pod_gaps[0]
        .reason
        .starts_with("410 Gone: too old resource version"));
    let relists = history
        .facts
        .syncs
        .iter()
        .filter(|s| s.relist && s.resource == "v1/pods");
    assert_eq!(relists.count(), 1, "a re-list of pods closed by SYNCED");
    let lost = history.by_name("Pod", Some("shop"), "lost")[0];
    assert!(matches!(
        history.object(lost).gone,
        Some(Gone::MissingAtRelist(_))
    ));
    assert!(history.first_seen_in_relist(history.by_name("Pod", Some("shop"), "new")[0]));
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, true);
}

#[test]
fn a_forbidden_resource_is_skipped_with_a_warning_and_the_rest_is_recorded() {
    let server = ApiServer::start();
    server.forbid("v1/secrets");
    server.create("v1/pods", pod("a", json!({})));
    let since = server.history().len();
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("secrets") && stderr.contains("forbidden"),
        "{stderr}"
    );
    let history = replay(&trace);
    let header = history.facts.header.as_ref().unwrap();
    assert!(
        !header.resources.iter().any(|r| r.resource == "secrets"),
        "the header omits it"
    );
    assert!(header.resources.iter().any(|r| r.resource == "pods"));
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

#[test]
fn a_sigkilled_recorder_leaves_a_readable_trace_missing_at_most_the_flush_interval() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let since = server.history().len();
    // --flush-interval 200ms: waves of updates with pauses longer than that make many flushes,
    // all inside the first zstd frame (it ends only at 8 MiB of text).
    let mut recorder = Recorder::start(&server, &["v1/pods"], &[]);
    let mut sizes = Vec::new();
    for wave in 0..5 {
        for n in 0..4 {
            server.update("v1/pods", "shop", "a", |p| {
                p["metadata"]["labels"] = json!({"n": format!("{wave}-{n}")})
            });
        }
        std::thread::sleep(Duration::from_millis(450));
        sizes.push(std::fs::metadata(&recorder.trace).map_or(0, |m| m.len()));
    }
    settle();
    recorder.signal("KILL");
    let _ = wait_with_timeout(&mut recorder.child);
    let bytes = std::fs::read(&recorder.trace).unwrap();
    assert!(
        sizes.windows(2).all(|pair| pair[0] < pair[1]),
        "each wave was flushed to the file before the next: {sizes:?}"
    );
    assert!(
        zstd::zstd_safe::find_frame_compressed_size(&bytes).is_err(),
        "the trace is one zstd frame that was never ended"
    );
    let out = super::support::kblame(&["check", recorder.trace.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "not whole: no END");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ended"], false);
    assert_eq!(report["bad_lines"], 0);
    let cut = report["cut_short"].as_str().unwrap_or_default();
    assert!(cut.contains("frame at byte 0"), "{report}");
    // Every update, the last one older than the flush interval included, was recorded.
    let history = replay(&recorder.trace);
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

#[test]
fn the_command_after_double_dash_runs_after_the_first_lists_and_its_exit_code_is_returned() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let args = [
        "-n",
        "shop",
        "--resources",
        "pods",
        "--quiet",
        "--",
        "sh",
        "-c",
        "sleep 0.3; exit 3",
    ];
    let (out, trace, _dir) = record_once(&server, "t.ndjson.zst", &args);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let check = super::support::kblame(&["check", trace.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    let history = replay(&trace);
    assert_eq!(
        history.facts.header.as_ref().unwrap().namespaces,
        Some(vec!["shop".to_string()])
    );
    assert_eq!(history.by_name("Pod", Some("shop"), "a").len(), 1);
}

#[test]
fn a_label_selector_and_namespace_reach_the_server() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("web", json!({"app": "web"})));
    server.create("v1/pods", pod("db", json!({"app": "db"})));
    let recorder = Recorder::start(&server, &["v1/pods"], &["-l", "app=web"]);
    settle();
    let (_, _, trace, _dir) = recorder.stop();
    let history = replay(&trace);
    assert_eq!(history.by_name("Pod", Some("shop"), "web").len(), 1);
    assert!(history.by_name("Pod", Some("shop"), "db").is_empty());
    assert!(server
        .requests()
        .iter()
        .any(|r| r.contains("watch=") && r.contains("labelSelector=app=web")));
}

#[test]
fn a_burst_of_events_through_a_slow_stream_loses_nothing() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let since = server.history().len();
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    server.set_watch_delay(Duration::from_millis(2));
    for n in 0..300 {
        server.update("v1/pods", "shop", "a", |p| {
            p["metadata"]["labels"] = json!({"n": n.to_string()})
        });
    }
    std::thread::sleep(Duration::from_millis(1500));
    let (_, _, trace, _dir) = recorder.stop();
    let history = replay(&trace);
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
    assert!(history.facts.gaps.is_empty());
}

#[test]
fn all_resources_picks_up_a_resource_that_appears_while_recording() {
    let server = ApiServer::start();
    let recorder = Recorder::start(
        &server,
        &["v1/pods"],
        &["--all-resources", "--rediscover-interval", "200ms"],
    );
    server.add_resource("example.com", "v1", "widgets", "Widget", true);
    server.create(
        "example.com/v1/widgets",
        json!({"metadata": {"name": "w1", "namespace": "shop"}, "spec": {"size": 3}}),
    );
    assert!(server.wait_for_watchers("example.com/v1/widgets", 1, WAIT));
    settle();
    let (code, _, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0));
    let history = replay(&trace);
    assert_eq!(history.by_name("Widget", Some("shop"), "w1").len(), 1);
}

#[test]
fn duration_stops_the_recording_cleanly_and_the_context_namespace_is_the_default() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let started = Instant::now();
    let args = [
        "--resources",
        "pods,deployments.apps",
        "--duration",
        "1s",
        "--quiet",
    ];
    let (out, trace, _dir) = record_once(&server, "t.ndjson", &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = std::fs::read_to_string(&trace).expect("a .ndjson name is written uncompressed");
    assert!(text.lines().last().unwrap().contains(r#""type":"END""#));
    let history = replay(&trace);
    let header = history.facts.header.as_ref().unwrap();
    assert_eq!(
        header.namespaces,
        Some(vec!["default".to_string()]),
        "the context's namespace"
    );
    assert_eq!(header.resources.len(), 2);
    assert!(server
        .requests()
        .iter()
        .any(|r| r.contains("/api/v1/namespaces/default/pods")));
}

#[test]
fn sigint_stops_the_recording_like_sigterm() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let mut recorder = Recorder::start(&server, &["v1/pods"], &[]);
    settle();
    recorder.signal("INT");
    let (code, stderr) = wait_with_timeout(&mut recorder.child);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(replay(&recorder.trace).facts.ended);
}

#[test]
fn an_unknown_resource_name_is_a_clear_error() {
    let server = ApiServer::start();
    let (out, _, _dir) = record_once(&server, "t.zst", &["--resources", "pods,gizmos", "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the server has no resource named gizmos"),
        "{stderr}"
    );
}

#[test]
fn a_trace_that_cannot_be_written_is_a_clear_error() {
    let server = ApiServer::start();
    let (out, _, _dir) = record_once(&server, "/dev/full", &["--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot write /dev/full") && stderr.contains("No space left"),
        "{stderr}"
    );
}

#[test]
fn context_chooses_among_the_kubeconfig_contexts_like_kubectl() {
    let server = ApiServer::start();
    server.create(
        "v1/pods",
        json!({"metadata": {"name": "p", "namespace": "team-a"}, "spec": {"containers": []}}),
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [
            {"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}},
            {"name": "live", "cluster": {"server": server.url()}}],
        "users": [{"name": "anonymous", "user": {}}],
        "contexts": [
            {"name": "dead", "context": {"cluster": "dead", "user": "anonymous"}},
            {"name": "team-a", "context": {"cluster": "live", "user": "anonymous", "namespace": "team-a"}}]});
    std::fs::write(&kubeconfig, config.to_string()).unwrap();
    let trace = dir.path().join("t.ndjson.zst");
    let out = Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args([
            "record",
            "-o",
            trace.to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .args([
            "--context",
            "team-a",
            "--resources",
            "pods",
            "--duration",
            "500ms",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let history = replay(&trace);
    assert_eq!(
        history.facts.header.as_ref().unwrap().namespaces,
        Some(vec!["team-a".to_string()])
    );
    assert_eq!(history.by_name("Pod", Some("team-a"), "p").len(), 1);
    let missing = Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args([
            "record",
            "-o",
            trace.to_str().unwrap(),
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .args(["--context", "nope", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot use the kubeconfig"));
}
