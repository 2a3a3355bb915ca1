//! Data survives SIGKILL: a stream of creates is cut by `kill -9`; after a restart every
//! acknowledged Service is there with its IPs, and no address is held twice.

mod common;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn body(name: &str) -> String {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
           "spec": {"ipFamilyPolicy": "RequireDualStack", "selector": {"app": name}, "ports": [{"port": 80}]}})
    .to_string()
}

#[test]
fn acknowledged_services_survive_sigkill() {
    let mut t = Twin::start(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acked: Arc<Mutex<BTreeMap<String, Vec<String>>>> = Default::default();
    let client = t.client();
    let token = t.token();
    let url = format!("{}/api/v1/namespaces/default/services", t.base_url());
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (client, token, url, acked) =
                (client.clone(), token.clone(), url.clone(), acked.clone());
            rt.spawn(async move {
                for i in 0..100_000 {
                    let name = format!("s-{w}-{i}");
                    let r = client
                        .post(&url)
                        .bearer_auth(&token)
                        .header("Content-Type", "application/json")
                        .body(body(&name))
                        .send()
                        .await;
                    let Ok(r) = r else { return };
                    if r.status().as_u16() != 201 {
                        return;
                    }
                    let Ok(v) = r.json::<Value>().await else {
                        return;
                    };
                    let ips = v["spec"]["clusterIPs"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect();
                    acked.lock().unwrap().insert(name, ips);
                }
            })
        })
        .collect();
    // Let a few hundred creates land, then kill mid-stream.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acked.lock().unwrap().len() < 300 {
        assert!(std::time::Instant::now() < deadline, "creates too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    t.kill9();
    for w in workers {
        let _ = rt.block_on(w);
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 300);

    t.spawn();
    let client = t.client();
    let list: Value = rt.block_on(async {
        client
            .get(&url)
            .bearer_auth(t.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let items = list["items"].as_array().unwrap();
    let stored: BTreeMap<String, Vec<String>> = items
        .iter()
        .map(|s| {
            let ips = s["spec"]["clusterIPs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect();
            (s["metadata"]["name"].as_str().unwrap().to_string(), ips)
        })
        .collect();
    for (name, ips) in &acked {
        assert_eq!(
            stored.get(name),
            Some(ips),
            "acknowledged Service {name} lost or changed"
        );
    }
    // No address held twice, across everything stored (acknowledged or not).
    let mut seen = HashSet::new();
    for (name, ips) in &stored {
        assert_eq!(
            ips.len(),
            if name == "kubernetes" { 1 } else { 2 },
            "{name}"
        );
        for ip in ips {
            assert!(seen.insert(ip.clone()), "{ip} is held twice");
        }
    }
    // New Services after the restart get fresh addresses.
    for i in 0..20 {
        let v: Value = rt.block_on(async {
            client
                .post(&url)
                .bearer_auth(t.token())
                .header("Content-Type", "application/json")
                .body(body(&format!("after-{i}")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap()
        });
        for ip in v["spec"]["clusterIPs"].as_array().unwrap() {
            assert!(
                seen.insert(ip.as_str().unwrap().to_string()),
                "{ip} handed out twice after restart"
            );
        }
    }
}

#[test]
fn graceful_stop_and_restart_keep_everything() {
    let mut t = Twin::start(&[]);
    let gcp = write(t.data_dir(), "gcp.yaml", GCP_SERVICE);
    ok(&t.kubectl(&["apply", "-f", gcp.to_str().unwrap()]));
    let before = ok(&t.kubectl(&["get", "svc", "web-gcp", "-o", "jsonpath={.spec.clusterIPs}"]));
    let token = t.token();
    t.stop();
    t.spawn();
    assert_eq!(t.token(), token, "the credential is kept");
    let after = ok(&t.kubectl(&["get", "svc", "web-gcp", "-o", "jsonpath={.spec.clusterIPs}"]));
    assert_eq!(before, after);
}
