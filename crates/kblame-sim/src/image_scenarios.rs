//! The moved-image-tag fixture scenario (issue 12): a push to the tag a Deployment runs, and
//! only the pods created after it pull the new digest.

use super::clock::{utc, Ms};
use super::config::{ContainerConfig, DeploymentConfig, ImageProfile, ProbeConfig, Tool};
use super::scenarios::{Ending, Scenario};
use super::Sim;

/// The image scenarios, appended to [`super::scenarios::all`].
pub(crate) fn all() -> Vec<Scenario> {
    vec![Scenario {
        name: "image-tag-moved",
        description: IMAGE_TAG_MOVED,
        seed: 24,
        script: image_tag_moved,
    }]
}

fn day(hour: i64, minute: i64, second: i64) -> Ms {
    utc(2026, 11, 28, hour, minute, second)
}

/// The image every pod of the scenario runs, by tag.
const API_IMAGE: &str = "registry.example.com/team/api:latest";

const IMAGE_TAG_MOVED: &str = "Deployment team/api (3 replicas of registry.example.com/team/api:latest; \
the API server defaults imagePullPolicy to Always for :latest) has run since 10:15 on the tag's first digest. At \
11:01:30 someone pushes a broken build to the same tag (outside the cluster: nothing is recorded). At 11:03:00 \
`kubectl scale --replicas=5` (manager kubectl) adds two pods; the kubelet pulls for every new container \
(imagePullPolicy Always), resolves the tag to the new digest (containerStatuses[].imageID), and the new build exits \
1 about 3 s after starting, so both crash-loop. The three old pods keep running the old digest without a restart. \
The template never changes: one revision. The trace ends at 11:10.";

fn image_tag_moved(sim: &mut Sim) -> Ending {
    sim.advance_to(day(10, 15, 0));
    let config = DeploymentConfig::new("team", "api").replicas(3).container(
        ContainerConfig::new("api", API_IMAGE)
            .port(8080)
            .request("cpu", "100m")
            .request("memory", "64Mi")
            .limit("memory", "128Mi")
            .readiness(ProbeConfig::http("/", 8080).period(5)),
    );
    sim.apply_deployment(&config, Tool::KubectlApply);
    sim.advance_to(day(11, 0, 0)).start_trace();
    sim.advance_to(day(11, 1, 30))
        .push_image(API_IMAGE, ImageProfile::healthy().crashes_after(3, 1));
    sim.advance_to(day(11, 3, 0)).scale("team", "api", 5);
    sim.advance_to(day(11, 10, 0));
    Ending::Finish
}
