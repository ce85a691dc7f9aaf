//! The recorder under a hostile network (issue 9): throttling, server errors, connections reset
//! mid-chunk, stalled streams, an expired token, an etcd restore, a resource that becomes
//! forbidden, a full disk — and a soak with random faults. In each, the replayed trace equals
//! the server's true history except where a GAP says events may be missing.
#![cfg(feature = "record")]

use std::path::Path;
use std::time::{Duration, Instant};

use kblame::history::{Gone, History};
use kblame::trace::{read_trace, Record, TraceSource};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::apiserver::{ApiServer, Chaos, Fault, Verb};
use super::record::{assert_replay_equals_server, pod, replay, settle, Recorder, WAIT};
use super::support::kblame;

fn relabel(server: &ApiServer, name: &str, n: usize) {
    server.update("v1/pods", "shop", name, |p| {
        p["metadata"]["labels"] = json!({"n": n.to_string()})
    });
}

/// Waits until `done` holds, up to [`WAIT`].
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn watch_requests(server: &ApiServer, resource_path: &str) -> usize {
    let requests = server.requests();
    let watches = requests
        .iter()
        .filter(|r| r.contains(resource_path) && r.contains("watch=1"));
    watches.count()
}

#[test]
fn throttling_is_retried_after_the_servers_retry_after_and_loses_nothing() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let since = server.history().len();
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    let throttled = Fault::Status {
        code: 429,
        retry_after: Some(1),
    };
    server.inject(Some("v1/pods"), Verb::Watch, throttled, 2);
    let before = watch_requests(&server, "/pods");
    server.close_watches();
    relabel(&server, "a", 1);
    eventually("the watch after two 429s", || {
        watch_requests(&server, "/pods") >= before + 3
    });
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    relabel(&server, "a", 2);
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let watches: Vec<Instant> = server
        .timed_requests()
        .into_iter()
        .filter(|(_, r)| r.contains("/pods") && r.contains("watch=1"))
        .map(|(at, _)| at)
        .collect();
    assert_eq!(watches.len() - before, 3, "two refused, one served");
    for pair in watches[before..].windows(2) {
        let waited = pair[1] - pair[0];
        assert!(
            waited >= Duration::from_millis(950),
            "each 429 with Retry-After: 1 is waited out ({waited:?})"
        );
    }
    let history = replay(&trace);
    assert!(history.facts.gaps.is_empty(), "nothing was lost: no GAP");
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

#[test]
fn server_errors_on_lists_and_watches_are_retried_with_backoff_without_a_gap() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    server.create("v1/pods", pod("b", json!({})));
    let since = server.history().len();
    for code in [500, 503] {
        let fault = Fault::Status {
            code,
            retry_after: None,
        };
        server.inject(Some("v1/pods"), Verb::List, fault.clone(), 1);
        server.inject(Some("v1/pods"), Verb::Watch, fault, 1);
    }
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    relabel(&server, "a", 1);
    settle();
    server.inject(
        Some("v1/pods"),
        Verb::Watch,
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        3,
    );
    server.close_watches();
    relabel(&server, "b", 1);
    server.delete("v1/pods", "shop", "a");
    eventually("every injected failure", || {
        server.faults_injected().values().sum::<u64>() == 7
    });
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let injected = server.faults_injected();
    assert_eq!(injected.get("status 500"), Some(&5), "{injected:?}");
    assert_eq!(injected.get("status 503"), Some(&2), "{injected:?}");
    let history = replay(&trace);
    assert!(history.facts.gaps.is_empty());
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

#[test]
fn a_busy_server_at_start_is_asked_again_and_a_missing_one_is_an_error_at_once() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let busy = Fault::Status {
        code: 503,
        retry_after: None,
    };
    server.inject(Some("discovery"), Verb::Any, busy, 2);
    let (out, trace, _dir) = super::record::record_once(
        &server,
        "t.ndjson.zst",
        &[
            "-A",
            "--resources",
            "pods",
            "--duration",
            "300ms",
            "--quiet",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(server.faults_injected().get("status 503"), Some(&2));
    assert_eq!(replay(&trace).by_name("Pod", Some("shop"), "a").len(), 1);

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let config = json!({"apiVersion": "v1", "kind": "Config", "current-context": "dead",
        "clusters": [{"name": "dead", "cluster": {"server": "http://127.0.0.1:9"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "u"}}]});
    std::fs::write(&kubeconfig, config.to_string()).unwrap();
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kblame"))
        .args(["record", "--quiet", "-o"])
        .arg(dir.path().join("t.ndjson.zst"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no retries for a server that is not there"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot discover"), "{stderr}");
}

#[test]
fn a_connection_reset_in_the_middle_of_a_chunk_resumes_before_the_cut_event() {
    let server = ApiServer::start();
    server.set_page_size(1);
    for name in ["a", "b", "c"] {
        server.create("v1/pods", pod(name, json!({})));
    }
    let since = server.history().len();
    // The second list page is cut in half, then the first watch event after a reconnect.
    server.inject(Some("v1/pods"), Verb::List, Fault::ResetMidBody, 1);
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    server.inject(Some("v1/pods"), Verb::Watch, Fault::ResetMidBody, 1);
    server.close_watches();
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    relabel(&server, "a", 1);
    eventually("a second watch after the cut", || {
        watch_requests(&server, "/pods") >= 3
    });
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    relabel(&server, "b", 1);
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let check = kblame(&["check", trace.to_str().unwrap(), "-o", "json"]);
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["whole"], true, "no half event was written: {report}");
    let history = replay(&trace);
    assert!(history.facts.gaps.is_empty());
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

#[test]
fn a_stalled_list_or_watch_is_given_up_after_the_stall_timeout_and_resumed() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let since = server.history().len();
    server.inject(Some("v1/pods"), Verb::List, Fault::Stall, 1);
    let started = Instant::now();
    let recorder = Recorder::start(&server, &["v1/pods"], &["--stall-timeout", "1s"]);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the stalled list was waited for"
    );
    server.inject(Some("v1/pods"), Verb::Watch, Fault::Stall, 1);
    server.close_watches();
    relabel(&server, "a", 1);
    relabel(&server, "a", 2);
    // The stalled watch sends nothing: after a second the recorder opens another.
    eventually("a watch after the stall", || {
        watch_requests(&server, "/pods") >= 3
    });
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let history = replay(&trace);
    assert!(history.facts.gaps.is_empty(), "resuming lost nothing");
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

/// A kubeconfig whose exec plugin prints the token in `token`, counting its runs in `runs`.
fn exec_setup(server: &ApiServer, token: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(dir.path().join("token"), token).unwrap();
    server.write_exec_kubeconfig(
        &kubeconfig,
        &dir.path().join("token"),
        &dir.path().join("runs"),
    );
    (dir, kubeconfig)
}

fn plugin_runs(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("runs")).map_or(0, |r| r.lines().count())
}

#[test]
fn an_expired_token_is_renewed_through_the_exec_plugin_and_nothing_is_lost() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let since = server.history().len();
    server.require_token(Some("token-1"));
    let (dir, kubeconfig) = exec_setup(&server, "token-1");
    let token_file = dir.path().join("token");
    let recorder = Recorder::start_in(
        dir,
        &kubeconfig,
        &server,
        &["v1/pods"],
        &["--resources", "pods"],
    );
    let runs_before = plugin_runs(recorder.dir.path());
    relabel(&server, "a", 1);
    settle();
    // The token expires: the server now wants a new one, which the plugin hands out.
    std::fs::write(&token_file, "token-2").unwrap();
    server.require_token(Some("token-2"));
    server.close_watches();
    relabel(&server, "a", 2);
    server.create("v1/pods", pod("b", json!({})));
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    settle();
    let runs_after = plugin_runs(recorder.dir.path());
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        runs_after > runs_before,
        "the plugin ran again ({runs_before} → {runs_after})"
    );
    let history = replay(&trace);
    assert!(
        history.facts.gaps.is_empty(),
        "renewed before anything was missed"
    );
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, false);
}

#[test]
fn a_token_that_cannot_be_renewed_leaves_an_open_gap_and_check_says_the_trace_is_not_whole() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    server.require_token(Some("token-1"));
    let (dir, kubeconfig) = exec_setup(&server, "token-1");
    let extra = ["--resources", "pods", "--max-retry-interval", "300ms"];
    let recorder = Recorder::start_in(dir, &kubeconfig, &server, &["v1/pods"], &extra);
    settle();
    server.require_token(Some("revoked-for-good"));
    server.close_watches();
    relabel(&server, "a", 1);
    std::thread::sleep(Duration::from_millis(1500));
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("v1/pods was not recorded after") && stderr.contains("401"),
        "said at the end, not silently: {stderr}"
    );
    let history = replay(&trace);
    assert_eq!(history.facts.gaps.len(), 1, "one GAP, not one per retry");
    assert!(history.facts.gaps[0].reason.starts_with("401 Unauthorized"));
    assert!(history.facts.gaps[0].closed.is_none());
    let check = kblame(&["check", trace.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1));
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        text.contains("not whole: not recorded to the end: v1/pods"),
        "{text}"
    );
}

#[test]
fn a_resource_forbidden_mid_recording_gets_a_gap_that_a_later_relist_closes() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    server.create("v1/pods", pod("b", json!({})));
    let since = server.history().len();
    let extra = ["--max-retry-interval", "300ms"];
    let recorder = Recorder::start(&server, &["v1/pods", "v1/events"], &extra);
    settle();
    server.forbid("v1/pods");
    server.close_watches();
    relabel(&server, "a", 1);
    server.delete("v1/pods", "shop", "b");
    std::thread::sleep(Duration::from_millis(1000));
    // Still forbidden: the GAP is open. Then RBAC is fixed: a re-list closes it.
    let partial = std::fs::read(&recorder.trace).unwrap();
    assert!(!partial.is_empty());
    server.allow("v1/pods");
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    relabel(&server, "a", 2);
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("403 Forbidden"), "{stderr}");
    assert!(!stderr.contains("was not recorded after"), "{stderr}");
    let history = replay(&trace);
    let gaps: Vec<_> = history
        .facts
        .gaps
        .iter()
        .filter(|g| g.resource == "v1/pods")
        .collect();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(gaps[0]
        .reason
        .starts_with("403 Forbidden: pods is forbidden"));
    assert!(gaps[0].closed.is_some(), "the re-list closed it");
    let b = history.by_name("Pod", Some("shop"), "b")[0];
    assert!(matches!(
        history.object(b).gone,
        Some(Gone::MissingAtRelist(_))
    ));
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, true);
    let check = kblame(&["check", trace.to_str().unwrap()]);
    assert_eq!(
        check.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn a_resource_still_forbidden_at_the_end_leaves_the_trace_not_whole_for_it() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    let recorder = Recorder::start(
        &server,
        &["v1/pods", "v1/events"],
        &["--max-retry-interval", "300ms"],
    );
    settle();
    server.forbid("v1/pods");
    server.close_watches();
    relabel(&server, "a", 1);
    std::thread::sleep(Duration::from_millis(1000));
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: v1/pods was not recorded after"),
        "{stderr}"
    );
    let out = kblame(&["check", trace.to_str().unwrap(), "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "not whole");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ended"], true);
    assert_eq!(report["open_gaps"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(report["open_gaps"][0]["resource"], "v1/pods");
    assert_eq!(
        report["gaps"].as_array().unwrap().len(),
        1,
        "one GAP, not one per retry"
    );
    let analyze = kblame(&["analyze", trace.to_str().unwrap(), "--pod", "a"]);
    let text = String::from_utf8_lossy(&analyze.stdout);
    assert!(
        text.contains("never re-listed"),
        "a question says so too: {text}"
    );
}

#[test]
fn an_etcd_restore_that_moves_resource_versions_back_is_a_gap_and_a_relist() {
    let server = ApiServer::start();
    server.create("v1/pods", pod("a", json!({})));
    server.create("v1/pods", pod("b", json!({})));
    let since = server.history().len();
    let recorder = Recorder::start(&server, &["v1/pods"], &[]);
    let backup = server.resource_version();
    relabel(&server, "a", 1);
    server.create("v1/pods", pod("c", json!({})));
    settle();
    // etcd is restored from the backup: c and a's relabel are forgotten; versions go back.
    server.restore(backup);
    eventually("a re-list after the restore", || {
        server
            .requests()
            .iter()
            .filter(|r| r.contains("/pods?limit="))
            .count()
            >= 2
    });
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    settle();
    server.create("v1/pods", pod("d", json!({})));
    settle();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(code, Some(0), "{stderr}");
    let history = replay(&trace);
    // A restore moves every resource back: another watched resource (the webhook
    // configurations the recorder also watches) may see it too if its watch reconnects before
    // the recording stops — a gap of its own, for the same reason. The pods have exactly one.
    let gaps = &history.facts.gaps;
    for other in gaps.iter().filter(|g| g.resource != "v1/pods") {
        assert!(other.reason.contains("etcd restored"), "{other:?}");
        assert!(other.closed.is_some(), "{other:?}");
    }
    let pods: Vec<_> = gaps.iter().filter(|g| g.resource == "v1/pods").collect();
    assert_eq!(pods.len(), 1, "{gaps:?}");
    let gap = pods[0];
    assert!(gap.reason.contains("etcd restored"), "{}", gap.reason);
    assert!(
        gap.reason.contains("Too large resource version"),
        "{}",
        gap.reason
    );
    assert!(gap.closed.is_some());
    let c = history.by_name("Pod", Some("shop"), "c")[0];
    assert!(matches!(
        history.object(c).gone,
        Some(Gone::MissingAtRelist(_))
    ));
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, true);
}

/// Runs `script` in a new user and mount namespace (as an unprivileged user may), or `None`
/// when this machine does not allow that.
fn in_private_mount(script: &str) -> Option<std::process::Output> {
    let probe = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "true"])
        .output()
        .ok()?;
    if !probe.status.success() {
        return None;
    }
    std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-c", script])
        .output()
        .ok()
}

#[test]
fn a_full_disk_stops_the_recording_keeps_the_readable_prefix_and_says_so() {
    let server = ApiServer::start();
    for n in 0..40 {
        server.create(
            "v1/pods",
            pod(&format!("p{n}"), json!({"n": n.to_string()})),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    server.write_kubeconfig(&kubeconfig);
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let kept = dir.path().join("kept.ndjson.zst");
    // A 48 KiB disk: the first list fits, the stream of changes below does not.
    let script = format!(
        "mount -t tmpfs -o size=48k tmpfs '{disk}' || exit 97
         '{bin}' record -o '{disk}/t.ndjson.zst' --kubeconfig '{kc}' -A --resources pods --flush-interval 100ms --quiet --duration 20s
         code=$?; cp '{disk}/t.ndjson.zst' '{kept}'; exit $code",
        disk = disk.display(),
        bin = env!("CARGO_BIN_EXE_kblame"),
        kc = kubeconfig.display(),
        kept = kept.display(),
    );
    let churn = std::thread::scope(|scope| {
        let recording = scope.spawn(|| in_private_mount(&script));
        if server.wait_for_watchers("v1/pods", 1, WAIT) {
            for n in 0..3000 {
                // A value that does not compress: the disk fills after a few hundred events.
                let noise: String = (0..4)
                    .map(|i| format!("{:x}", Sha256::digest(format!("{n}/{i}"))))
                    .collect();
                server.update("v1/pods", "shop", &format!("p{}", n % 40), |p| {
                    p["metadata"]["annotations"] = json!({"noise": noise})
                });
                if n % 100 == 0 {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        }
        recording.join().unwrap()
    });
    let Some(out) = churn else {
        eprintln!("skipped: this machine does not allow a private mount namespace (unshare)");
        return;
    };
    if out.status.code() == Some(97) {
        eprintln!("skipped: tmpfs cannot be mounted here");
        return;
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let size = std::fs::metadata(&kept).map(|m| m.len()).unwrap_or(0);
    assert_eq!(out.status.code(), Some(2), "{stderr} (kept {size} bytes)");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        stderr.contains("it keeps the") && stderr.contains("records before the failure"),
        "{stderr}"
    );
    let check = kblame(&["check", kept.to_str().unwrap(), "-o", "json"]);
    assert_eq!(check.status.code(), Some(1), "not whole");
    let report: Value = serde_json::from_slice(&check.stdout).unwrap();
    assert_eq!(report["ended"], false);
    assert_eq!(
        report["records_by_type"]["LISTED"], 40,
        "the first list is all there: {report}"
    );
    let history = replay(&kept);
    assert_eq!(history.by_name("Pod", Some("shop"), "p39").len(), 1);
}

/// Which server changes a trace holds, and which are excused by a GAP: a change of a resource
/// between the last event received before its GAP and the resourceVersion of the re-list that
/// closed it may be missing; nothing else may.
struct Coverage {
    /// (uid, resourceVersion) of every object record.
    recorded: std::collections::HashSet<(String, String)>,
    /// Per resource: (lo, hi] resourceVersion windows excused by GAPs (hi = u64::MAX: open).
    excused: std::collections::HashMap<String, Vec<(u64, u64)>>,
}

impl Coverage {
    fn of(trace: &Path, history: &History) -> Coverage {
        let resource_of = |kind: &str| -> String {
            let header = history.facts.header.as_ref().unwrap();
            let info = header.resources.iter().find(|r| r.kind == kind).unwrap();
            info.path()
        };
        let mut recorded = std::collections::HashSet::new();
        let mut last_rv: std::collections::HashMap<String, u64> = Default::default();
        let mut open: std::collections::HashMap<String, u64> = Default::default();
        let mut excused: std::collections::HashMap<String, Vec<(u64, u64)>> = Default::default();
        read_trace(
            &TraceSource::Path(trace.to_path_buf()),
            |entry| match entry.record {
                Record::Object { object, .. } => {
                    let value: Value = serde_json::from_str(object.get()).unwrap();
                    let meta = &value["metadata"];
                    let rv = meta["resourceVersion"].as_str().unwrap().to_string();
                    let uid = meta["uid"].as_str().unwrap().to_string();
                    let resource = resource_of(value["kind"].as_str().unwrap());
                    let n: u64 = rv.parse().unwrap();
                    let last = last_rv.entry(resource).or_default();
                    *last = (*last).max(n);
                    recorded.insert((uid, rv));
                }
                Record::Gap { resource, .. } => {
                    let lo = last_rv.get(&resource).copied().unwrap_or(0);
                    open.entry(resource).or_insert(lo);
                }
                Record::Synced {
                    resource,
                    resource_version,
                    ..
                } => {
                    if let Some(lo) = open.remove(&resource) {
                        let hi = resource_version.unwrap().parse().unwrap();
                        excused.entry(resource).or_default().push((lo, hi));
                    }
                }
                _ => {}
            },
        )
        .unwrap();
        for (resource, lo) in open {
            excused.entry(resource).or_default().push((lo, u64::MAX));
        }
        Coverage { recorded, excused }
    }

    /// Changes of `resources` in `server`'s history (from index `since`) that are missing and
    /// not excused, and how many missing ones a GAP excuses.
    fn missing(
        &self,
        server: &ApiServer,
        resources: &[&str],
        since: usize,
    ) -> (Vec<String>, usize) {
        let (mut unexcused, mut excused) = (Vec::new(), 0);
        for change in server.history().iter().skip(since) {
            if !resources.contains(&change.resource.as_str()) {
                continue;
            }
            let meta = &change.object["metadata"];
            let uid = meta["uid"].as_str().unwrap().to_string();
            let rv = meta["resourceVersion"].as_str().unwrap().to_string();
            if self.recorded.contains(&(uid.clone(), rv.clone())) {
                continue;
            }
            let n: u64 = rv.parse().unwrap();
            let windows = self
                .excused
                .get(&change.resource)
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            if windows.iter().any(|&(lo, hi)| lo < n && n <= hi) {
                excused += 1;
            } else {
                unexcused.push(format!("{} {} {uid}@{rv}", change.resource, change.event));
            }
        }
        (unexcused, excused)
    }
}

/// The resident set size of a process, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Seconds the soak runs: `KBLAME_SOAK_SECS`, default 40 (the CI budget).
fn soak_seconds() -> u64 {
    std::env::var("KBLAME_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(40)
}

#[test]
fn a_soak_with_random_faults_loses_nothing_outside_declared_gaps_and_memory_stays_flat() {
    let seconds = soak_seconds();
    let server = ApiServer::start();
    server.set_page_size(50);
    let names: Vec<String> = (0..200).map(|n| format!("p{n:03}")).collect();
    for name in &names {
        server.create("v1/pods", pod(name, json!({"app": "soak"})));
    }
    let since = server.history().len();
    let extra = [
        "--stall-timeout",
        "1s",
        "--max-retry-interval",
        "500ms",
        "--resources",
        "pods,events",
    ];
    let recorder = Recorder::start(&server, &["v1/pods", "v1/events"], &extra);
    server.set_chaos(Some(Chaos {
        request_rate: 0.25,
        chunk_rate: 0.0005,
        seed: 0x5eed,
    }));
    let pid = recorder.child.id();
    let started = Instant::now();
    let (mut events, mut rss, mut expiries) = (0usize, Vec::new(), 0u32);
    let mut next_sample = Instant::now();
    let mut next_expiry = Instant::now() + Duration::from_secs(7);
    while started.elapsed() < Duration::from_secs(seconds) {
        // A few thousand events a second: relabels, with a delete and re-create now and then.
        for _ in 0..50 {
            let name = &names[events % names.len()];
            if events % 97 == 0 {
                server.delete("v1/pods", "shop", name);
                server.create("v1/pods", pod(name, json!({"app": "soak"})));
                events += 2;
            } else {
                relabel(&server, name, events);
                events += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(12));
        if Instant::now() >= next_sample {
            rss.push((started.elapsed().as_secs_f64(), rss_kib(pid).unwrap_or(0)));
            next_sample += Duration::from_secs(1);
        }
        // Now and then the watch cache is lost (410) or every watch is cut.
        if Instant::now() >= next_expiry {
            match expiries % 2 {
                0 => server.expire_history(),
                _ => server.close_watches(),
            }
            expiries += 1;
            next_expiry += Duration::from_secs(7);
        }
    }
    server.set_chaos(None);
    assert!(server.wait_for_watchers("v1/pods", 1, WAIT));
    std::thread::sleep(Duration::from_secs(2));
    let elapsed = started.elapsed().as_secs_f64();
    let (code, stderr, trace, _dir) = recorder.stop();
    assert_eq!(
        code,
        Some(0),
        "{}",
        &stderr[stderr.len().saturating_sub(2000)..]
    );

    let history = replay(&trace);
    let coverage = Coverage::of(&trace, &history);
    let (unexcused, excused) = coverage.missing(&server, &["v1/pods"], since);
    assert!(
        unexcused.is_empty(),
        "{} changes missing outside GAPs: {:?}",
        unexcused.len(),
        &unexcused[..unexcused.len().min(10)]
    );
    assert_replay_equals_server(&server, &history, &["v1/pods"], since, true);
    let faults = server.faults_injected();
    let peak = rss.iter().map(|r| r.1).max().unwrap_or(0);
    let settled: Vec<u64> = rss
        .iter()
        .filter(|r| r.0 >= elapsed / 4.0)
        .map(|r| r.1)
        .collect();
    let (low, high) = (
        settled.iter().copied().min().unwrap_or(0),
        settled.iter().copied().max().unwrap_or(0),
    );
    eprintln!(
        "soak: {seconds} s, {events} events ({:.0}/s), {} records, faults {faults:?} + {expiries} expiries/cuts, {} GAPs, {excused} changes excused by GAPs, 0 lost outside them; recorder RSS after the first quarter {} – {} MiB, peak {} MiB",
        events as f64 / elapsed,
        history.facts.records_by_type.values().sum::<u64>(),
        history.facts.gaps.len(),
        low / 1024,
        high / 1024,
        peak / 1024,
    );
    assert!(
        faults.values().sum::<u64>() > seconds,
        "faults were injected: {faults:?}"
    );
    assert!(
        high <= low + low / 2 + 16 * 1024,
        "memory grows: {low} KiB → {high} KiB ({rss:?})"
    );
}
