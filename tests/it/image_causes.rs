//! A moved image tag as the cause (issue 12), on the simulator's `image-tag-moved` fixture:
//! the pods created after the push pulled the new digest and crash-loop; the ones on the old
//! digest ran on, and nothing in the template changed.

use serde_json::Value;

use super::scenarios::{scenario, truth};

#[test]
fn pods_that_pulled_a_moved_tag_blame_the_new_digest_and_the_old_digest_pods_have_no_cause() {
    let reports = scenario("image-tag-moved");
    let truth = truth("image-tag-moved");
    assert_eq!(
        truth["deployments"][0]["revisions"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "no template change"
    );
    let causes = truth["pod_causes"].as_array().unwrap();
    assert_eq!(causes.len(), 2, "the two scale-up pods fail");
    for (name, report) in &reports {
        let known = causes.iter().find(|c| c["name"] == name.as_str());
        let Some(known) = known else {
            // On the old digest: ran without a restart, and nothing to blame.
            assert!(report["restarts"].as_array().unwrap().is_empty(), "{name}");
            assert_eq!(report["restart_causes"], Value::Array(vec![]), "{name}");
            assert!(report["restart_cause"].is_null(), "{name}");
            assert!(report["created"]["root_cause"].is_null(), "{name}");
            continue;
        };
        let want = &known["restart_causes"][0];
        let got = &report["restart_causes"][0];
        assert_eq!(got["kind"], "image-digest", "{name}");
        assert_eq!(got["object"]["kind"], want["object_kind"], "{name}");
        assert_eq!(got["object"]["name"], want["name"], "{name}");
        assert!(got["change"].is_null(), "{name}");
        assert_eq!(got["digests"]["from"], want["digests"]["from"], "{name}");
        assert_eq!(got["digests"]["to"], want["digests"]["to"], "{name}");
        assert_ne!(want["digests"]["from"], want["digests"]["to"]);
        assert_eq!(
            got["time"].as_str().map(|t| &t[..23]),
            want["time"].as_str().map(|t| &t[..23]),
            "{name}"
        );
        assert_eq!(
            got["confidence"], "high",
            "{name}: the other new pod failed too"
        );
        // The template did not change: no revision change to blame.
        assert!(report["restart_cause"].is_null(), "{name}");
    }
}
