use super::*;
use k8s_openapi::api::core::v1::{Node, Pod, Service};
use proptest::prelude::*;
use serde_json::json;

fn svc(families: &[&str], extra: serde_json::Value) -> Service {
    let mut v = json!({"metadata":{"name":"web","namespace":"default","uid":"svc-uid","labels":{"team":"a"}},
        "spec":{"selector":{"app":"web"},"clusterIP":"10.104.0.10","ipFamilies":families,
            "ports":[{"name":"http","port":80,"targetPort":"http","protocol":"TCP"}]}});
    if let (Some(spec), Some(e)) = (v["spec"].as_object_mut(), extra.as_object()) {
        for (k, val) in e {
            spec.insert(k.clone(), val.clone());
        }
    }
    serde_json::from_value(v).unwrap()
}

fn pod(name: &str, ips: &[&str], node: &str, ready: bool) -> Pod {
    serde_json::from_value(json!({"metadata":{"name":name,"namespace":"default","uid":format!("uid-{name}"),"labels":{"app":"web"}},
        "spec":{"nodeName":node,"containers":[{"name":"c","image":"nginx","ports":[{"name":"http","containerPort":8080,"protocol":"TCP"}]}]},
        "status":{"phase":"Running","podIP":ips.first().copied().unwrap_or(""),
            "podIPs":ips.iter().map(|i| json!({"ip":i})).collect::<Vec<_>>(),
            "conditions":[{"type":"Ready","status":if ready {"True"} else {"False"}}]}}))
    .unwrap()
}

fn nodes() -> Vec<Node> {
    ["n1", "n2"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            serde_json::from_value(json!({"metadata":{"name":n,"labels":{"topology.kubernetes.io/zone":format!("eu-central-1{}", ["a","b"][i])}}}))
                .unwrap()
        })
        .collect()
}

fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("s{n:04}")
    }
}

#[test]
fn one_slice_per_family_dual_stack() {
    let pods = vec![
        pod("b", &["10.96.1.3", "2a05:d014::1:0:0:3"], "n2", true),
        pod("a", &["10.96.0.2", "2a05:d014::1:0:0:2"], "n1", false),
    ];
    let d = desired_slices(&svc(&["IPv4", "IPv6"], json!({})), &pods, &nodes());
    assert_eq!(d.len(), 2);
    let v = serde_json::to_value(&d[0]).unwrap();
    assert_eq!(v["addressType"], "IPv4");
    assert_eq!(
        v["metadata"],
        json!({"generateName":"web-","namespace":"default",
            "labels":{"endpointslice.kubernetes.io/managed-by":"endpointslice-controller.k8s.io","kubernetes.io/service-name":"web","team":"a"},
            "ownerReferences":[{"apiVersion":"v1","kind":"Service","name":"web","uid":"svc-uid","controller":true,"blockOwnerDeletion":true}]})
    );
    assert_eq!(
        v["ports"],
        json!([{"name":"http","port":8080,"protocol":"TCP"}])
    );
    assert_eq!(
        v["endpoints"][0],
        json!({"addresses":["10.96.0.2"],"conditions":{"ready":false,"serving":false,"terminating":false},
            "nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"uid-a"},"zone":"eu-central-1a"})
    );
    assert_eq!(v["endpoints"][1]["conditions"]["ready"], true);
    assert_eq!(d[1].address_type, "IPv6");
    assert_eq!(d[1].endpoints[0].addresses, ["2a05:d014::1:0:0:2"]);

    // IPv6-primary service lists IPv6 first; single-stack gets one family.
    let d6 = desired_slices(&svc(&["IPv6", "IPv4"], json!({})), &pods, &nodes());
    assert_eq!(d6[0].address_type, "IPv6");
    let d4 = desired_slices(&svc(&["IPv4"], json!({})), &pods, &nodes());
    assert_eq!(d4.len(), 1);
    let only6 = desired_slices(&svc(&["IPv6"], json!({})), &pods, &nodes());
    assert_eq!(only6.len(), 1);
    assert_eq!(only6[0].endpoints.len(), 2);
}

#[test]
fn placeholders_selectorless_terminating_and_named_ports() {
    let empty = desired_slices(&svc(&["IPv4", "IPv6"], json!({})), &[] as &[Pod], &nodes());
    assert_eq!(empty.len(), 2);
    let v = serde_json::to_value(&empty[0]).unwrap();
    assert_eq!(v["endpoints"], json!([]));
    assert_eq!(v["ports"], json!([]));

    let selectorless: Service = serde_json::from_value(
        json!({"metadata":{"name":"x","namespace":"default"},"spec":{"ports":[{"port":80}]}}),
    )
    .unwrap();
    assert!(desired_slices(
        &selectorless,
        &[pod("a", &["10.96.0.2"], "n1", true)],
        &nodes()
    )
    .is_empty());
    assert!(legacy_endpoints(&selectorless, &[] as &[Pod]).is_none());

    let mut term = pod("t", &["10.96.0.9"], "n1", true);
    term.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        "2026-01-01T00:00:00Z".parse().unwrap(),
    ));
    let mut other_port = pod("o", &["10.96.0.8"], "n1", true);
    other_port.spec.as_mut().unwrap().containers[0]
        .ports
        .as_mut()
        .unwrap()[0]
        .container_port = 9090;
    let no_port = {
        let mut p = pod("np", &["10.96.0.7"], "n1", true);
        p.spec.as_mut().unwrap().containers[0].ports = None;
        p
    };
    let orphan = pod("orphan", &["10.96.0.6"], "gone", true);
    let d = desired_slices(
        &svc(&["IPv4"], json!({"clusterIP":"None"})),
        &[term, other_port, no_port, orphan],
        &nodes(),
    );
    // Grouped by resolved ports: 8080 (t), 9090 (o), none (np); the pod on an unknown node is skipped.
    assert_eq!(d.len(), 3);
    let t = d
        .iter()
        .find(|s| s.endpoints.iter().any(|e| e.addresses == ["10.96.0.9"]))
        .unwrap();
    let c = t.endpoints[0].conditions.clone().unwrap();
    assert_eq!(
        (c.ready, c.serving, c.terminating),
        (Some(false), Some(true), Some(true))
    );
    assert_eq!(
        t.metadata
            .labels
            .as_ref()
            .unwrap()
            .get(LABEL_HEADLESS)
            .map(String::as_str),
        Some("")
    );
    let np = d
        .iter()
        .find(|s| s.endpoints.iter().any(|e| e.addresses == ["10.96.0.7"]))
        .unwrap();
    assert_eq!(np.ports, Some(vec![]));
}

#[test]
fn reconcile_keeps_names_and_fills() {
    let s = svc(&["IPv4", "IPv6"], json!({}));
    let mut pods = vec![pod("a", &["10.96.0.2", "2a05:d014::2"], "n1", true)];
    let mut next = counter();
    let first = reconcile(&desired_slices(&s, &pods, &nodes()), &[], &mut next);
    assert_eq!(first.create.len(), 2);
    assert!(first.update.is_empty() && first.delete.is_empty());
    let names: Vec<String> = first
        .create
        .iter()
        .map(|x| x.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["web-s0001", "web-s0002"]);
    let mut existing = first.create.clone();

    // Nothing changed: nothing to do.
    let again = reconcile(&desired_slices(&s, &pods, &nodes()), &existing, &mut next);
    assert!(again.is_empty(), "{again:?}");

    // A new pod lands in the existing slices; names stay.
    pods.push(pod("b", &["10.96.0.3", "2a05:d014::3"], "n2", true));
    let ch = reconcile(&desired_slices(&s, &pods, &nodes()), &existing, &mut next);
    assert!(ch.create.is_empty() && ch.delete.is_empty());
    assert_eq!(ch.update.len(), 2);
    assert_eq!(ch.update[0].metadata.name.as_deref(), Some("web-s0001"));
    assert_eq!(ch.update[0].endpoints.len(), 2);
    existing = ch.update.clone();

    // All pods gone: upstream deletes the slices and creates one placeholder per family.
    let ch = reconcile(
        &desired_slices(&s, &[] as &[Pod], &nodes()),
        &existing,
        &mut next,
    );
    assert_eq!(ch.delete.len(), 2);
    assert_eq!(ch.create.len(), 2);
    assert!(ch.create.iter().all(|x| x.endpoints.is_empty()));
    // And an existing placeholder is kept.
    let ch2 = reconcile(
        &desired_slices(&s, &[] as &[Pod], &nodes()),
        &ch.create,
        &mut next,
    );
    assert!(ch2.is_empty());

    // Family dropped (service became IPv4-only): the IPv6 slice goes.
    let s4 = svc(&["IPv4"], json!({}));
    let ch = reconcile(&desired_slices(&s4, &pods, &nodes()), &existing, &mut next);
    assert_eq!(ch.delete.len(), 1);
    assert_eq!(ch.delete[0].address_type, "IPv6");

    // Slices of other managers are never touched.
    let mut foreign = existing[0].clone();
    foreign
        .metadata
        .labels
        .as_mut()
        .unwrap()
        .insert(LABEL_MANAGED_BY.into(), "someone-else".into());
    let ch = reconcile(&desired_slices(&s, &pods, &nodes()), &[foreign], &mut next);
    assert_eq!(ch.create.len(), 2);
    assert!(ch.delete.is_empty());
}

#[test]
fn reconcile_splits_at_100() {
    let s = svc(&["IPv4"], json!({}));
    let pods: Vec<Pod> = (0..250)
        .map(|i| {
            pod(
                &format!("p{i:03}"),
                &[&format!("10.96.{}.{}", i / 200, i % 200 + 2)],
                "n1",
                true,
            )
        })
        .collect();
    let mut next = counter();
    let ch = reconcile(&desired_slices(&s, &pods, &nodes()), &[], &mut next);
    let sizes: Vec<usize> = ch.create.iter().map(|x| x.endpoints.len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    // Removing 60 endpoints from the first slice and adding 10 keeps three slices.
    let existing = ch.create.clone();
    let mut fewer: Vec<Pod> = pods[60..].to_vec();
    fewer.extend((0..10).map(|i| {
        pod(
            &format!("q{i}"),
            &[&format!("10.97.0.{}", i + 2)],
            "n1",
            true,
        )
    }));
    let ch = reconcile(&desired_slices(&s, &fewer, &nodes()), &existing, &mut next);
    assert!(ch.create.is_empty(), "{:?}", ch.create.len());
    let total: usize = ch.update.iter().map(|x| x.endpoints.len()).sum::<usize>()
        + existing
            .iter()
            .filter(|e| !ch.update.iter().any(|u| u.metadata.name == e.metadata.name))
            .map(|e| e.endpoints.len())
            .sum::<usize>();
    assert_eq!(total, 200);
}

#[test]
fn legacy_endpoints_primary_family_only() {
    let pods = vec![
        pod("a", &["10.96.0.2", "2a05:d014::2"], "n1", true),
        pod("b", &["10.96.0.3", "2a05:d014::3"], "n2", false),
    ];
    let ep = legacy_endpoints(&svc(&["IPv6", "IPv4"], json!({})), &pods).unwrap();
    let v = serde_json::to_value(&ep).unwrap();
    assert_eq!(
        v["subsets"],
        json!([{"addresses":[{"ip":"2a05:d014::2","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"uid-a"}}],
                "notReadyAddresses":[{"ip":"2a05:d014::3","nodeName":"n2","targetRef":{"kind":"Pod","namespace":"default","name":"b","uid":"uid-b"}}],
                "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}])
    );
    assert_eq!(v["metadata"]["labels"], json!({"team":"a"}));
    let ep4 = legacy_endpoints(&svc(&["IPv4", "IPv6"], json!({})), &pods).unwrap();
    assert_eq!(
        ep4.subsets.unwrap()[0].addresses.as_ref().unwrap()[0].ip,
        "10.96.0.2"
    );
    let none = legacy_endpoints(&svc(&["IPv4"], json!({})), &[] as &[Pod]).unwrap();
    assert!(none.subsets.is_none());
}

proptest! {
    #[test]
    fn each_ready_pod_once_per_family(
        n in 0usize..40,
        dual in any::<bool>(),
        v6_first in any::<bool>(),
        ready_mask in any::<u64>(),
    ) {
        let families: Vec<&str> = match (dual, v6_first) {
            (true, false) => vec!["IPv4", "IPv6"],
            (true, true) => vec!["IPv6", "IPv4"],
            (false, false) => vec!["IPv4"],
            (false, true) => vec!["IPv6"],
        };
        let pods: Vec<Pod> = (0..n)
            .map(|i| {
                let v4 = format!("10.96.0.{}", i + 2);
                let v6 = format!("2a05:d014::{:x}", i + 2);
                pod(&format!("p{i}"), &[v4.as_str(), v6.as_str()], "n1", ready_mask >> (i % 64) & 1 == 1)
            })
            .collect();
        let d = desired_slices(&svc(&families, json!({})), &pods, &nodes());
        let types: Vec<&str> = {
            let mut t: Vec<&str> = d.iter().map(|s| s.address_type.as_str()).collect();
            t.dedup();
            t
        };
        prop_assert_eq!(types, families.clone());
        for f in &families {
            let mut seen: Vec<String> = d
                .iter()
                .filter(|s| s.address_type == *f)
                .flat_map(|s| s.endpoints.iter().filter(|e| e.conditions.as_ref().and_then(|c| c.ready) == Some(true)))
                .map(|e| e.target_ref.as_ref().unwrap().name.clone().unwrap())
                .collect();
            let total = seen.len();
            seen.sort();
            seen.dedup();
            prop_assert_eq!(seen.len(), total);
            let ready = (0..n).filter(|i| ready_mask >> (i % 64) & 1 == 1).count();
            prop_assert_eq!(total, ready);
            for s in d.iter().filter(|s| s.address_type == *f) {
                prop_assert!(s.endpoints.len() <= MAX_ENDPOINTS_PER_SLICE);
                for e in &s.endpoints {
                    prop_assert_eq!(family_of(&e.addresses[0]), *f);
                }
            }
        }
    }
}

fn apply(existing: &[EndpointSlice], ch: &SliceChanges) -> Vec<EndpointSlice> {
    let mut out: Vec<EndpointSlice> = existing
        .iter()
        .filter(|s| !ch.delete.iter().any(|d| d.metadata.name == s.metadata.name))
        .map(|s| {
            ch.update
                .iter()
                .find(|u| u.metadata.name == s.metadata.name)
                .cloned()
                .unwrap_or_else(|| s.clone())
        })
        .collect();
    out.extend(ch.create.iter().cloned());
    out
}

proptest! {
    #[test]
    fn reconcile_converges_and_covers_every_endpoint(
        before in proptest::collection::btree_set(0u16..400, 0..250),
        after in proptest::collection::btree_set(0u16..400, 0..250),
        dual in any::<bool>(),
    ) {
        let families: Vec<&str> = if dual { vec!["IPv4", "IPv6"] } else { vec!["IPv4"] };
        let s = svc(&families, json!({}));
        let mk = |set: &std::collections::BTreeSet<u16>| -> Vec<Pod> {
            set.iter()
                .map(|i| {
                    let v4 = format!("10.96.{}.{}", i / 200, i % 200 + 2);
                    let v6 = format!("fd00::{:x}", i + 2);
                    pod(&format!("p{i}"), &[v4.as_str(), v6.as_str()], "n1", true)
                })
                .collect()
        };
        let mut next = counter();
        let first = reconcile(&desired_slices(&s, &mk(&before), &nodes()), &[], &mut next);
        let existing = apply(&[], &first);
        let desired = desired_slices(&s, &mk(&after), &nodes());
        let ch = reconcile(&desired, &existing, &mut next);
        let result = apply(&existing, &ch);
        // Converged: a second pass has nothing to do.
        let again = reconcile(&desired, &result, &mut next);
        prop_assert!(again.is_empty());
        // Every desired address appears exactly once, in a slice of its family, <= 100 each.
        for f in &families {
            let mut got: Vec<String> = result
                .iter()
                .filter(|x| x.address_type == *f)
                .flat_map(|x| x.endpoints.iter().map(|e| e.addresses[0].clone()))
                .collect();
            let n = got.len();
            got.sort();
            got.dedup();
            prop_assert_eq!(got.len(), n);
            prop_assert_eq!(n, after.len());
            let slices = result.iter().filter(|x| x.address_type == *f).count();
            prop_assert!(slices >= 1);
        }
        prop_assert!(result.iter().all(|x| x.endpoints.len() <= MAX_ENDPOINTS_PER_SLICE));
        // Names are unique and slices that survived kept theirs.
        let mut names: Vec<String> = result.iter().map(|x| x.metadata.name.clone().unwrap()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        prop_assert_eq!(names.len(), n);
        for u in &ch.update {
            prop_assert!(existing.iter().any(|e| e.metadata.name == u.metadata.name));
        }
    }
}
