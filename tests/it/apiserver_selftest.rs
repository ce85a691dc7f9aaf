//! The fake API server against kube-rs itself: what kube accepts, a recorder on kube will.
#![cfg(feature = "record")]

use std::future::Future;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use futures::{AsyncBufReadExt, StreamExt};
use hyper::http::Request;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind as Gvk, ListParams};
use kube::api::{WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{Discovery, Scope};
use kube::{Client, Error};
use serde_json::{json, Value};

use super::apiserver::ApiServer;

/// Runs `test` with a kube client made from the server's kubeconfig, as `kblame record` does.
fn with_client<F: Future<Output = ()>>(server: &ApiServer, test: impl FnOnce(Client) -> F) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("kubeconfig");
    server.write_kubeconfig(&path);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    runtime.expect("a runtime").block_on(async {
        let kubeconfig = Kubeconfig::read_from(&path).expect("the kubeconfig parses");
        let options = KubeConfigOptions::default();
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await;
        let config = config.expect("a kube config");
        assert_eq!(config.default_namespace, "default");
        test(Client::try_from(config).expect("a kube client")).await;
    });
}

fn pods(client: &Client) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(&Gvk::gvk("", "v1", "Pod"), "pods");
    Api::default_namespaced_with(client.clone(), &resource)
}

fn pod(name: &str) -> Value {
    json!({"metadata": {"name": name, "labels": {"app": "web"}}, "spec": {"containers": []}})
}

fn get(path: &str) -> Request<Vec<u8>> {
    Request::get(path).body(Vec::new()).expect("a request")
}

/// "TYPE name" for an event kube decoded; "BOOKMARK rv" and "ERROR code message" otherwise.
fn describe(event: &WatchEvent<DynamicObject>) -> String {
    let name = |o: &DynamicObject| o.metadata.name.clone().unwrap_or_default();
    match event {
        WatchEvent::Added(o) => format!("ADDED {}", name(o)),
        WatchEvent::Modified(o) => format!("MODIFIED {}", name(o)),
        WatchEvent::Deleted(o) => format!("DELETED {}", name(o)),
        WatchEvent::Bookmark(b) => format!("BOOKMARK {}", b.metadata.resource_version),
        WatchEvent::Error(status) => format!("ERROR {} {}", status.code, status.message),
    }
}

#[test]
fn discovery_finds_the_default_resources_and_ones_added_later() {
    let server = &ApiServer::start();
    with_client(server, |client| async move {
        let version = client.apiserver_version().await.expect("/version answers");
        assert_eq!(version.git_version, "v1.31.2");
        let discovery = Discovery::new(client.clone())
            .run()
            .await
            .expect("discovery");
        let find = |g, v, k| discovery.resolve_gvk(&Gvk::gvk(g, v, k));
        let (deployments, caps) = find("apps", "v1", "Deployment").expect("deployments");
        assert_eq!(deployments.plural, "deployments");
        assert!(caps.scope == Scope::Namespaced && caps.supports_operation("watch"));
        assert!(caps
            .subresources
            .iter()
            .any(|(sub, _)| sub.plural == "scale"));
        assert!(find("", "v1", "Node").expect("nodes").1.scope == Scope::Cluster);
        assert!(find("", "v1", "Pod").is_some() && find("batch", "v1", "CronJob").is_some());
        assert!(find("example.com", "v1", "Widget").is_none());

        server.add_resource("example.com", "v1", "widgets", "Widget", true);
        let discovery = Discovery::new(client.clone())
            .run()
            .await
            .expect("discovery");
        let widgets = discovery.resolve_gvk(&Gvk::gvk("example.com", "v1", "Widget"));
        assert_eq!(widgets.expect("widgets").0.plural, "widgets");

        let error = client
            .request_text(get("/apis/nothing.example/v1"))
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Api(s) if s.code == 404 && s.reason == "NotFound"));
    });
}

#[test]
fn a_paged_list_follows_continue_tokens_through_one_snapshot() {
    let server = &ApiServer::start();
    for name in ["a", "b", "c", "d", "e"] {
        server.create("v1/pods", pod(name));
    }
    server.set_page_size(2);
    with_client(server, |client| async move {
        let (mut names, mut pages, mut params) = (vec![], 0, ListParams::default().limit(3));
        loop {
            let page = pods(&client).list(&params).await.expect("a page");
            if pages == 0 {
                server.create("v1/pods", pod("late")); // after the snapshot
            }
            pages += 1;
            names.extend(
                page.items
                    .iter()
                    .filter_map(|pod| pod.metadata.name.clone()),
            );
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
        assert_eq!((names.join(" "), pages), ("a b c d e".to_string(), 3));
        assert!(server
            .requests()
            .iter()
            .any(|r| r.contains("limit=3&continue=")));

        let raw = client
            .request_text(get("/api/v1/pods?limit=1"))
            .await
            .expect("a list");
        let list: Value = serde_json::from_str(&raw).expect("JSON");
        assert_eq!(
            (&list["kind"], &list["apiVersion"]),
            (&json!("PodList"), &json!("v1"))
        );
        assert_eq!(list["metadata"]["remainingItemCount"], 5);
        let item = &list["items"][0];
        assert!(
            item.get("kind").is_none() && item.get("apiVersion").is_none(),
            "{item}"
        );
    });
}

#[test]
fn a_watch_from_a_list_resource_version_sees_every_change_in_order_then_a_bookmark() {
    let server = &ApiServer::start();
    server.create("v1/pods", pod("a"));
    with_client(server, |client| async move {
        let list = pods(&client)
            .list(&ListParams::default())
            .await
            .expect("a list");
        let rv = list.metadata.resource_version.expect("a resourceVersion");
        server.create("v1/pods", pod("b"));
        server.update("v1/pods", "default", "a", |pod| {
            pod["status"] = json!({"phase": "Up"})
        });
        server.create("v1/configmaps", json!({"metadata": {"name": "not-a-pod"}}));
        server.create(
            "v1/pods",
            json!({"metadata": {"name": "db", "labels": {"app": "db"}}}),
        );
        let params = WatchParams::default().labels("app=web").timeout(5);
        let mut stream = pods(&client)
            .watch(&params, &rv)
            .await
            .expect("a watch")
            .boxed();
        assert!(server.wait_for_watchers("v1/pods", 1, Duration::from_secs(1)));
        server.delete("v1/pods", "default", "b");
        let mut seen = Vec::new();
        while seen.len() < 4 {
            seen.push(describe(
                &stream.next().await.expect("an event").expect("decodes"),
            ));
        }
        let last = server.history().pop().expect("a change").object["metadata"].clone();
        let bookmark = format!("BOOKMARK {}", last["resourceVersion"].as_str().unwrap());
        assert_eq!(seen, ["ADDED b", "MODIFIED a", "DELETED b", &bookmark]);
        let requests = server.requests();
        let watch = requests
            .iter()
            .find(|r| r.contains("watch=true"))
            .expect("a watch");
        assert!(watch.contains(&format!("resourceVersion={rv}")), "{watch}");
        assert!(watch.contains("&labelSelector=app=web&allowWatchBookmarks=true&"));
    });
    let events: Vec<String> = server.history().into_iter().map(|c| c.event).collect();
    assert_eq!(
        events,
        ["ADDED", "ADDED", "MODIFIED", "ADDED", "ADDED", "DELETED"]
    );
    let names: Vec<Value> = server
        .objects("v1/pods")
        .iter()
        .map(|p| p["metadata"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("a"), json!("db")]);
}

#[test]
fn expired_history_gives_a_watch_from_an_old_resource_version_a_410_error() {
    let server = &ApiServer::start();
    let old = server.create("v1/pods", pod("a"))["metadata"]["resourceVersion"].clone();
    let old = old.as_str().expect("a string").to_string();
    server.create("v1/pods", pod("b"));
    server.expire_history();
    with_client(server, |client| async move {
        let watch = pods(&client).watch(&WatchParams::default(), &old).await;
        let mut stream = watch.expect("a watch").boxed();
        let event = describe(&stream.next().await.expect("an event").expect("decodes"));
        assert!(event.starts_with(&format!("ERROR 410 too old resource version: {old} (")));
        assert!(
            stream.next().await.is_none(),
            "the stream ends after the error"
        );
    });
}

#[test]
fn a_forbidden_resource_answers_403_to_lists_and_watches() {
    let server = &ApiServer::start();
    server.forbid("v1/pods");
    with_client(server, |client| async move {
        let list = pods(&client)
            .list(&ListParams::default())
            .await
            .unwrap_err();
        let watch = pods(&client)
            .watch(&WatchParams::default(), "0")
            .await
            .err()
            .unwrap();
        for error in [list, watch] {
            let Error::Api(status) = error else {
                panic!("not an API error: {error:?}")
            };
            assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
            assert!(status.message.contains("User \"system:anonymous\" cannot"));
        }
    });
}

#[test]
fn closing_watches_ends_open_streams_without_a_final_chunk() {
    let server = &ApiServer::start();
    server.create("v1/pods", pod("a"));
    with_client(server, |client| async move {
        let mut raw = client
            .request_stream(get("/api/v1/pods?watch=1"))
            .await
            .expect("a watch");
        let mut line = String::new();
        raw.read_line(&mut line).await.expect("the synthetic ADDED");
        assert!(line.starts_with(r#"{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod""#));
        let watch = pods(&client).watch(&WatchParams::default(), "0").await;
        let mut events = watch.expect("a watch").boxed();
        assert!(matches!(
            events.next().await,
            Some(Ok(WatchEvent::Added(_)))
        ));
        assert!(server.wait_for_watchers("v1/pods", 2, Duration::from_secs(1)));

        server.close_watches();
        let end = raw.read_line(&mut line).await;
        assert!(
            end.is_err(),
            "an abrupt end is an error, not a clean EOF: {end:?}"
        );
        assert!(
            events.next().await.is_none(),
            "kube ends the stream, to be resumed"
        );
    });
}

#[test]
fn a_watch_is_a_chunked_json_stream_that_timeout_seconds_ends_cleanly() {
    let server = &ApiServer::start();
    server.create("v1/pods", pod("a"));
    server.set_watch_delay(Duration::from_millis(200));
    let address = server.url().replace("http://", "");
    let mut tcp = std::net::TcpStream::connect(&address).expect("a connection");
    let path = "/api/v1/namespaces/default/pods?watch=1&timeoutSeconds=1";
    write!(tcp, "GET {path} HTTP/1.1\r\nHost: {address}\r\n\r\n").expect("a request");
    let (started, mut response, mut added_at) = (Instant::now(), String::new(), None);
    while !response.ends_with("\r\n0\r\n\r\n") {
        let mut buffer = [0; 4096];
        let n = tcp.read(&mut buffer).expect("the response");
        assert!(
            n > 0 && started.elapsed() < Duration::from_secs(3),
            "{response}"
        );
        response.push_str(std::str::from_utf8(&buffer[..n]).expect("UTF-8"));
        if added_at.is_none() && response.contains(r#"{"type":"ADDED""#) {
            added_at = Some(started.elapsed());
        }
    }
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n";
    assert!(response.starts_with(head), "{response}");
    assert!(
        added_at.expect("an ADDED") >= Duration::from_millis(200),
        "delayed"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "open for timeoutSeconds"
    );
    let uid = &server.objects("v1/pods")[0]["metadata"]["uid"];
    assert_eq!(uid, "00000000-0000-4000-8000-000000000001");
}
