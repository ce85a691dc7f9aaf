//! `kblame export`: Parquet partitions of several simulated clusters on several days, read by
//! a real engine (DuckDB, through its Python package) running the README's fleet queries, whose
//! answers are checked against what the simulator did.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use kblame_sim::{utc, ContainerConfig, DeploymentConfig, GroundTruth, ImageProfile, Sim, Tool};
use serde_json::Value;

use super::support::{kblame, stderr, stdout};

/// The image every cluster but one rolls out by Helm: it exits 1 five seconds after starting.
const CRASHING: &str = "ghcr.io/acme/api:2.0.0";
/// The image one cluster rolls out by kubectl: it crashes too, in that cluster only.
const CRASHING_ELSEWHERE: &str = "ghcr.io/acme/worker:0.3.0";

/// One simulated cluster of the fleet.
struct Member {
    cluster: &'static str,
    /// The day its trace is recorded (November 2026).
    day: i64,
    /// Whether its header names the cluster (else `--cluster` must).
    named: bool,
    /// Which crashing image it rolls out, with which tool.
    rollout: (&'static str, &'static str, Tool),
}

fn fleet() -> Vec<Member> {
    vec![
        Member {
            cluster: "eu-west-1",
            day: 12,
            named: true,
            rollout: ("api", CRASHING, Tool::Helm),
        },
        Member {
            cluster: "eu-central-1",
            day: 22,
            named: true,
            rollout: ("api", CRASHING, Tool::Helm),
        },
        Member {
            cluster: "us-east-1",
            day: 23,
            named: true,
            rollout: ("api", CRASHING, Tool::Helm),
        },
        Member {
            cluster: "us-west-2",
            day: 24,
            named: true,
            rollout: ("api", CRASHING, Tool::Helm),
        },
        Member {
            cluster: "ap-south-1",
            day: 25,
            named: false,
            rollout: ("worker", CRASHING_ELSEWHERE, Tool::KubectlApply),
        },
    ]
}

/// "Now" for the queries' windows: the last week holds every cluster but eu-west-1.
const NOW: &str = "TIMESTAMPTZ '2026-11-28 00:00:00+00'";

/// Simulates one cluster: team `shop` runs `api` and `worker` (Helm), team `payments` runs
/// `ledger` (kubectl). After the trace starts, `payments/ledger` rolls out a healthy image
/// and one crashing image is rolled out; 40 minutes are recorded.
fn simulate(member: &Member, seed: u64) -> (Vec<u8>, GroundTruth) {
    let at = |h, m| utc(2026, 11, member.day, h, m, 0);
    let mut sim = Sim::new(seed, at(8, 0));
    if member.named {
        sim.cluster(member.cluster);
    }
    for image in [
        "ghcr.io/acme/api:1.9.0",
        "ghcr.io/acme/worker:0.2.0",
        "ghcr.io/acme/ledger:1.0.0",
        "ghcr.io/acme/ledger:1.1.0",
    ] {
        sim.image(image, ImageProfile::healthy());
    }
    for image in [CRASHING, CRASHING_ELSEWHERE] {
        sim.image(image, ImageProfile::healthy().crashes_after(5, 1));
    }
    let deployment = |ns: &str, name: &str, image: &str, replicas| {
        DeploymentConfig::new(ns, name)
            .replicas(replicas)
            .container(ContainerConfig::new(name, image).port(8080))
    };
    sim.apply_deployment(
        &deployment("shop", "api", "ghcr.io/acme/api:1.9.0", 2),
        Tool::Helm,
    );
    sim.apply_deployment(
        &deployment("shop", "worker", "ghcr.io/acme/worker:0.2.0", 1),
        Tool::Helm,
    );
    sim.apply_deployment(
        &deployment("payments", "ledger", "ghcr.io/acme/ledger:1.0.0", 3),
        Tool::KubectlApply,
    );
    sim.advance_to(at(9, 0)).start_trace();
    sim.advance_to(at(9, 2));
    sim.set_image(
        "payments",
        "ledger",
        "ledger",
        "ghcr.io/acme/ledger:1.1.0",
        Tool::KubectlApply,
    );
    sim.advance_to(at(9, 5));
    let (name, image, tool) = member.rollout;
    sim.set_image("shop", name, name, image, tool);
    sim.advance_to(at(9, 40));
    sim.finish(member.cluster, "a fleet member")
        .expect("simulates")
}

/// Every object record of a trace (zstd NDJSON), parsed.
fn records(trace: &[u8]) -> Vec<Value> {
    let mut text = String::new();
    zstd::stream::read::Decoder::new(trace)
        .expect("zstd")
        .read_to_string(&mut text)
        .expect("a readable trace");
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|r| r.get("object").is_some())
        .collect()
}

/// Whether DuckDB's Python package is there; in CI it must be (`.ci/run` installs it).
fn duckdb() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have DuckDB's Python package (.ci/run installs it)"
        );
        eprintln!("skipped: python3 cannot import duckdb (pip install duckdb)");
    }
    found
}

/// The README's `-- fleet: NAME` SQL blocks, by name.
fn readme_queries() -> BTreeMap<String, String> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut out = BTreeMap::new();
    let mut block: Option<String> = None;
    for line in readme.lines() {
        match (&mut block, line) {
            (None, "```sql") => block = Some(String::new()),
            (Some(text), "```") => {
                if let Some(name) = text
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("-- fleet: "))
                {
                    out.insert(name.to_string(), text.clone());
                }
                block = None;
            }
            (Some(text), line) => {
                text.push_str(line);
                text.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

/// Runs the views, then `query`, in DuckDB over `dir`; the rows as JSON arrays of strings.
fn run_sql(dir: &Path, views: &str, query: &str) -> Vec<Vec<String>> {
    let place = |sql: &str| {
        sql.replace("'fleet/", &format!("'{}/", dir.display()))
            .replace("now()", NOW)
    };
    let script = r#"
import duckdb, json, sys
views, query = json.load(sys.stdin)
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
for statement in views.split(';'):
    if statement.strip():
        con.execute(statement)
rows = con.execute(query).fetchall()
print(json.dumps([[None if v is None else str(v) for v in row] for row in rows]))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input = serde_json::to_vec(&(place(views), place(query))).expect("JSON");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), &input).expect("written");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("python3 ends");
    assert!(
        out.status.success(),
        "{query}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Vec<Option<String>>> = serde_json::from_slice(&out.stdout).expect("JSON rows");
    rows.into_iter()
        .map(|r| r.into_iter().map(|v| v.unwrap_or_default()).collect())
        .collect()
}

/// Every file under `dir` with its length and modification time.
fn listing(dir: &Path) -> BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("readable").flatten() {
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                out.insert(entry.path(), (meta.len(), meta.modified().expect("mtime")));
            }
        }
    }
    out
}

#[test]
fn duckdb_answers_the_readme_fleet_queries() {
    if !duckdb() {
        return;
    }
    let work = tempfile::tempdir().expect("a temp dir");
    let out = work.path().join("fleet");
    let members = fleet();
    let mut traces = Vec::new();
    let mut truths = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let (trace, truth) = simulate(member, 700 + i as u64);
        let path = work.path().join(format!("{}.ndjson.zst", member.cluster));
        std::fs::write(&path, &trace).expect("trace written");
        traces.push((path, trace));
        truths.push(truth);
    }
    let path_of = |i: usize| traces[i].0.to_str().expect("a UTF-8 path").to_string();
    let out_arg = out.to_str().expect("a UTF-8 path");

    // The four named clusters, two at a time.
    let named: Vec<String> = (0..4).map(path_of).collect();
    let mut args = vec!["export", "-o", out_arg, "-j", "2"];
    args.extend(named.iter().map(String::as_str));
    let first = kblame(&args);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    for member in &members[..4] {
        assert!(
            stdout(&first).contains(&format!(
                "cluster={} date=2026-11-{}",
                member.cluster, member.day
            )),
            "{}",
            stdout(&first)
        );
    }
    let before = listing(&out);

    // A trace whose header names no cluster needs --cluster, and says so.
    let unnamed = path_of(4);
    let refused = kblame(&["export", "-o", out_arg, &unnamed]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("no cluster name"),
        "{}",
        stderr(&refused)
    );
    let added = kblame(&["export", "-o", out_arg, "--cluster", "ap-south-1", &unnamed]);
    assert_eq!(added.status.code(), Some(0), "{}", stderr(&added));

    // The new day only added files: every earlier file is as it was.
    let after = listing(&out);
    for (path, seen) in &before {
        assert_eq!(
            after.get(path),
            Some(seen),
            "{} was rewritten",
            path.display()
        );
    }
    assert!(after.len() > before.len());
    assert!(after.keys().any(|p| p
        .to_string_lossy()
        .contains("cluster=ap-south-1/date=2026-11-25")));

    // Exporting everything again skips every trace and touches nothing.
    let mut all = vec!["export", "-o", out_arg];
    all.extend(named.iter().map(String::as_str));
    all.push(&unnamed);
    let repeat = kblame(&all);
    assert_eq!(repeat.status.code(), Some(0), "{}", stderr(&repeat));
    assert_eq!(
        stdout(&repeat).matches("skipped: exported before").count(),
        5,
        "{}",
        stdout(&repeat)
    );
    assert_eq!(listing(&out), after);

    let queries = readme_queries();
    let views = &queries["views"];

    // 1. Changes by helm followed by restarts, last week: the Helm rollouts of the crashing
    //    image, except eu-west-1's (too old); ap-south-1's crash came by kubectl.
    let rows = run_sql(&out, views, &queries["changes followed by restarts"]);
    let mut expected = Vec::new();
    for (member, truth) in members.iter().zip(&truths).skip(1) {
        if member.rollout.2 != Tool::Helm {
            continue;
        }
        let deployment = truth
            .deployments
            .iter()
            .find(|d| d.namespace == "shop" && d.name == "api")
            .expect("shop/api");
        let made = deployment
            .revisions
            .iter()
            .find(|r| {
                r.change
                    .as_ref()
                    .is_some_and(|c| !c.before_trace && c.manager == "helm")
            })
            .expect("the helm rollout");
        let restarts: usize = truth
            .pods
            .iter()
            .filter(|p| {
                p.revision == made.number
                    && p.replicaset_uid.as_deref() == Some(&made.replicaset_uid)
            })
            .map(|p| p.restarts.len())
            .sum();
        assert!(
            restarts >= 3,
            "{}: the crashing pods restarted",
            member.cluster
        );
        expected.push(vec![
            member.cluster.to_string(),
            "shop".to_string(),
            "api".to_string(),
            made.number.to_string(),
            restarts.to_string(),
        ]);
    }
    let got: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r[0].clone(),
                r[1].clone(),
                r[2].clone(),
                r[3].clone(),
                r[5].clone(),
            ]
        })
        .collect();
    assert_eq!(got, expected);

    // 2. Digests that crash-looped in more than three clusters: the Helm-rolled image's, in
    //    the four clusters that ran it; the worker's crashed in one cluster only.
    let rows = run_sql(
        &out,
        views,
        &queries["digests crash-looping in more than three clusters"],
    );
    let digest = records(&traces[0].1)
        .iter()
        .filter(|r| r["object"]["kind"] == "Pod")
        .flat_map(|r| {
            r["object"]["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .find(|s| {
            s["image"].as_str().is_some_and(|i| i.ends_with(CRASHING))
                && s["imageID"].as_str().is_some_and(|i| i.contains('@'))
        })
        .and_then(|s| {
            s["imageID"]
                .as_str()
                .and_then(|id| id.rsplit_once('@'))
                .map(|(_, d)| d.to_string())
        })
        .expect("the crashing image's digest");
    let names: BTreeSet<&str> = members[..4].iter().map(|m| m.cluster).collect();
    let names: Vec<&str> = names.into_iter().collect();
    assert_eq!(rows, vec![vec![digest, "4".to_string(), names.join(",")]]);

    // 3. Median time from change to complete rollout per team. Every in-trace rollout
    //    completes: the crashing pods are Ready until they crash (no readiness probe), so
    //    the controller calls shop's rollouts complete as well. Each duration from the
    //    records, as kubectl rollout status reads them.
    let rows = run_sql(
        &out,
        views,
        &queries["median time to a complete rollout per team"],
    );
    let median_of = |team: &str| {
        let mut millis: Vec<i64> = members
            .iter()
            .zip(&traces)
            .zip(&truths)
            .map(|((member, (_, trace)), truth)| {
                let name = if team == "shop" {
                    member.rollout.0
                } else {
                    "ledger"
                };
                rollout_millis(trace, truth, team, name)
            })
            .collect();
        millis.sort_unstable();
        millis[millis.len() / 2] as f64 / 1000.0
    };
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, team) in rows.iter().zip(["payments", "shop"]) {
        assert_eq!((row[0].as_str(), row[1].as_str()), (team, "5"), "{rows:?}");
        let got: f64 = row[2].parse().expect("seconds");
        let expected = median_of(team);
        assert!(
            (got - expected).abs() < 0.0005,
            "{team}: median {got} s, expected {expected} s"
        );
    }
}

/// Milliseconds from the change that made `namespace/name`'s in-trace revision to the first
/// record of the Deployment that shows it complete: generation observed, every replica
/// updated and available, no old replica left (`kubectl rollout status`).
fn rollout_millis(trace: &[u8], truth: &GroundTruth, namespace: &str, name: &str) -> i64 {
    let deployment = truth
        .deployments
        .iter()
        .find(|d| d.namespace == namespace && d.name == name)
        .expect("the deployment");
    let (number, change) = deployment
        .revisions
        .iter()
        .find_map(|r| {
            r.change
                .as_ref()
                .filter(|c| !c.before_trace)
                .map(|c| (r.number, c))
        })
        .expect("a change in the trace");
    let changed: jiff::Timestamp = change.time.parse().expect("a time");
    let int = |v: &Value, p: &str| v.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let complete = records(trace)
        .into_iter()
        .filter(|r| {
            let o = &r["object"];
            o["kind"] == "Deployment"
                && o["metadata"]["namespace"] == namespace
                && o["metadata"]["name"] == name
        })
        .find(|r| {
            let o = &r["object"];
            let revision =
                o["metadata"]["annotations"]["deployment.kubernetes.io/revision"].as_str();
            let desired = int(o, "/spec/replicas");
            revision == Some(number.to_string().as_str())
                && int(o, "/status/observedGeneration") >= int(o, "/metadata/generation")
                && int(o, "/status/updatedReplicas") == desired
                && int(o, "/status/replicas") == desired
                && int(o, "/status/availableReplicas") == desired
        })
        .expect("the rollout completes");
    let done: jiff::Timestamp = complete["ts"]
        .as_str()
        .expect("ts")
        .parse()
        .expect("a time");
    changed.duration_until(done).as_millis() as i64
}

#[test]
fn a_secrets_values_and_their_hashes_never_reach_the_tables() {
    if !duckdb() {
        return;
    }
    let work = tempfile::tempdir().expect("a temp dir");
    let out = work.path().join("out");
    let trace = super::support::fixture("secret-rotation-crash.ndjson.zst");
    let args = [
        "export",
        "-o",
        out.to_str().unwrap(),
        "--cluster",
        "c",
        "--json",
    ];
    let done = kblame(&[&args[..], &[trace.to_str().unwrap()]].concat());
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    let line: Value = serde_json::from_str(stdout(&done).trim()).expect("a JSON line");
    assert_eq!(line["cluster"], "c");
    assert_eq!(line["skipped"], false);
    let changes = format!("read_parquet('{}/changes/*/*/*.parquet')", out.display());
    let rows = run_sql(
        &out,
        "",
        &format!("SELECT DISTINCT coalesce(old_value, 'null'), coalesce(new_value, 'null') FROM {changes} WHERE kind = 'Secret' AND path IS NOT NULL ORDER BY ALL"),
    );
    assert!(!rows.is_empty(), "the rotation is a change");
    for row in &rows {
        for value in row {
            assert!(
                ["null", "\"(hash)\"", "\"(hash changed)\""].contains(&value.as_str()),
                "{rows:?}"
            );
        }
    }
    // No hash and no value in any text column of any table.
    for table in [
        "changes",
        "revisions",
        "pod_runs",
        "creations",
        "deletions",
        "events",
        "objects",
    ] {
        let rows = run_sql(
            &out,
            "",
            &format!(
                "SELECT * FROM read_parquet('{}/{table}/*/*/*.parquet')",
                out.display()
            ),
        );
        let text = format!("{rows:?}");
        assert!(!text.contains("hmac-sha256:"), "{table}");
        for value in [
            "sk_live_51Hq2fPZ8kQ0old",
            "rk_live_51Hq2fPZ8kQ0new",
            "whsec_7fG2kLm9Qx",
        ] {
            assert!(!text.contains(value), "{table}: {value}");
        }
    }
    // The rows the marker counts are the rows the files hold.
    for (table, count) in line["rows"].as_object().expect("rows") {
        let rows = run_sql(
            &out,
            "",
            &format!(
                "SELECT count(*) FROM read_parquet('{}/{table}/*/*/*.parquet')",
                out.display()
            ),
        );
        assert_eq!(rows[0][0], count.to_string(), "{table}");
    }
}
