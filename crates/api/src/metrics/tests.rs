//! Label values come from closed sets, whatever the request.

use super::*;
use crate::request_info::parse_target;

fn labels(
    method: Method,
    path: &str,
    watch: bool,
    apply: bool,
    dry_run: Option<&str>,
) -> RequestLabels {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    request_labels(
        &method,
        &parse_target(&segs),
        &twinstack_registry::all_kinds(),
        watch,
        apply,
        dry_run,
    )
}

fn short(l: &RequestLabels) -> (&str, &str, &str, &str, &str, &str, &str) {
    (
        l.verb,
        l.dry_run,
        l.group,
        l.version,
        l.resource,
        l.subresource,
        l.scope,
    )
}

#[test]
fn served_resources_keep_their_names() {
    let cases = [
        (
            Method::GET,
            "/api/v1/namespaces/default/services",
            false,
            false,
            None,
            ("LIST", "", "", "v1", "services", "", "namespace"),
        ),
        (
            Method::GET,
            "/api/v1/services",
            false,
            false,
            None,
            ("LIST", "", "", "v1", "services", "", "cluster"),
        ),
        (
            Method::GET,
            "/api/v1/namespaces/default/services/web",
            false,
            false,
            None,
            ("GET", "", "", "v1", "services", "", "resource"),
        ),
        (
            Method::HEAD,
            "/api/v1/namespaces/default/services/web",
            false,
            false,
            None,
            ("GET", "", "", "v1", "services", "", "resource"),
        ),
        (
            Method::GET,
            "/api/v1/namespaces/default/pods",
            true,
            false,
            None,
            ("WATCH", "", "", "v1", "pods", "", "namespace"),
        ),
        (
            Method::POST,
            "/apis/apps/v1/namespaces/default/deployments",
            false,
            false,
            Some("All"),
            ("POST", "All", "apps", "v1", "deployments", "", "resource"),
        ),
        (
            Method::PATCH,
            "/apis/apps/v1/namespaces/default/deployments/d",
            false,
            true,
            None,
            ("APPLY", "", "apps", "v1", "deployments", "", "resource"),
        ),
        (
            Method::PATCH,
            "/apis/apps/v1/namespaces/default/deployments/d/scale",
            false,
            false,
            None,
            (
                "PATCH",
                "",
                "apps",
                "v1",
                "deployments",
                "scale",
                "resource",
            ),
        ),
        (
            Method::PUT,
            "/api/v1/namespaces/ns1/finalize",
            false,
            false,
            None,
            ("PUT", "", "", "v1", "namespaces", "finalize", "resource"),
        ),
        (
            Method::DELETE,
            "/api/v1/namespaces/default/configmaps",
            false,
            false,
            Some("x"),
            ("DELETE", "invalid", "", "v1", "configmaps", "", "namespace"),
        ),
    ];
    for (method, path, watch, apply, dry_run, want) in cases {
        let l = labels(method.clone(), path, watch, apply, dry_run);
        assert_eq!(short(&l), want, "{method} {path}");
        assert_eq!(l.component, "apiserver");
    }
}

#[test]
fn anything_else_is_other() {
    let cases = [
        (
            Method::GET,
            "/api/v1/namespaces/default/x0a8f3",
            ("LIST", "other", "other", "other", ""),
        ),
        (
            Method::GET,
            "/apis/nope.example/v9/things/a",
            ("GET", "other", "other", "other", ""),
        ),
        // a served resource at a version it is not served at
        (
            Method::GET,
            "/apis/apps/v2/deployments",
            ("LIST", "other", "other", "other", ""),
        ),
        (
            Method::GET,
            "/api/v1/namespaces/default/k3y/p/status",
            ("GET", "other", "other", "other", "status"),
        ),
        (
            Method::GET,
            "/api/v1/namespaces/default/services/s/zzz",
            ("GET", "", "v1", "services", "other"),
        ),
        (
            Method::GET,
            "/random/deep/path/of/many/segments/here",
            ("GET", "", "", "other", ""),
        ),
        (
            Method::from_bytes(b"BREW").unwrap(),
            "/api/v1/services",
            ("other", "", "v1", "services", ""),
        ),
        (
            Method::OPTIONS,
            "/api/v1/services",
            ("other", "", "v1", "services", ""),
        ),
        (Method::GET, "/version", ("GET", "", "", "", "")),
        (
            Method::GET,
            "/apis/whatever.example",
            ("GET", "", "", "", ""),
        ),
    ];
    for (method, path, (verb, group, version, resource, sub)) in cases {
        let l = labels(method.clone(), path, false, false, None);
        assert_eq!(
            (l.verb, l.group, l.version, l.resource, l.subresource),
            (verb, group, version, resource, sub),
            "{method} {path}"
        );
    }
}

#[test]
fn random_requests_add_no_series() {
    // However many distinct paths and methods arrive, the label sets stay few.
    let kinds = twinstack_registry::all_kinds();
    let methods = [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::from_bytes(b"X1").unwrap(),
        Method::from_bytes(b"X2").unwrap(),
    ];
    let mut seen = std::collections::HashSet::new();
    for i in 0..5_000u32 {
        let path = format!("/apis/g{i}/v{i}/namespaces/n{i}/r{i}/{i}/s{i}");
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let target = parse_target(&segs);
        let method = &methods[i as usize % methods.len()];
        seen.insert(request_labels(
            method,
            &target,
            &kinds,
            i % 2 == 0,
            i % 3 == 0,
            Some(&format!("d{i}")),
        ));
    }
    assert!(seen.len() <= 16, "{} label sets", seen.len());
}

fn runtime(name: &str) -> Arc<Runtime> {
    use twinstack_core::runtime::{resolve_network, NetworkRequest, Provider};
    let req = NetworkRequest {
        families: Some("IPv4"),
        services: None,
        pods: None,
        nodes: None,
    };
    let network = resolve_network(Provider::Aws, "eu-central-1", name, 1, &req).unwrap();
    Arc::new(
        Runtime::new(twinstack_registry::runtimes::RuntimeRecord {
            name: name.into(),
            provider: Provider::Aws,
            region: "eu-central-1".into(),
            network,
            token: twinstack_registry::runtimes::new_token(),
            created: String::new(),
            nodes: 1,
            plan: String::new(),
            instance_id: String::new(),
        })
        .unwrap(),
    )
}

fn info_of(plural: &str) -> &'static ResourceInfo {
    twinstack_registry::all_kinds()
        .iter()
        .map(|k| k.info())
        .find(|i| i.plural == plural)
        .unwrap()
}

fn count(text: &str, needle: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("apiserver_request_total") && l.contains(needle))
        .count()
}

#[test]
fn each_runtime_sees_its_own_requests_and_the_aggregate_all() {
    let m = Metrics::new();
    let (a, b) = (runtime("a"), runtime("b"));
    let list = labels(Method::GET, "/api/v1/secrets", false, false, None);
    let get = labels(
        Method::GET,
        "/api/v1/namespaces/default/configmaps/c",
        false,
        false,
        None,
    );
    m.request(&a, &list, 200, Some(Duration::from_millis(3)));
    m.request(&b, &get, 404, Some(Duration::from_millis(1)));
    m.authentication(false);
    let ra = m.runtime(&a).render();
    assert_eq!(count(&ra, "resource=\"secrets\""), 1, "{ra}");
    assert_eq!(count(&ra, "resource=\"configmaps\""), 0, "{ra}");
    assert!(!ra.contains("authentication_attempts"), "{ra}");
    let all = m.render(7);
    assert_eq!(count(&all, "resource=\"secrets\""), 1, "{all}");
    assert_eq!(count(&all, "resource=\"configmaps\""), 1, "{all}");
    assert!(
        all.contains("authentication_attempts_total{result=\"failure\"} 1"),
        "{all}"
    );
    assert!(all.contains("twinstack_store_revision 7"), "{all}");
}

#[test]
fn a_runtime_created_again_starts_from_zero() {
    let m = Metrics::new();
    let old = runtime("b");
    let l = labels(Method::GET, "/api/v1/secrets", false, false, None);
    m.request(&old, &l, 200, None);
    assert_eq!(count(&m.runtime(&old).render(), "secrets"), 1);
    drop(old);
    let new = runtime("b");
    assert_eq!(count(&m.runtime(&new).render(), "secrets"), 0);
    assert_eq!(m.runtimes.lock().unwrap().len(), 1);
}

#[test]
fn watch_gauges_follow_the_guard() {
    let m = Metrics::new();
    let a = runtime("a");
    let info = info_of("services");
    let g = m.watch_started(&a, watch_labels(info, true));
    let gauge = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("apiserver_longrunning_requests{"))
            .map(|l| l.rsplit(' ').next().unwrap().to_string())
    };
    assert_eq!(gauge(&m.runtime(&a).render()).as_deref(), Some("1"));
    drop(g);
    assert_eq!(gauge(&m.render(0)).as_deref(), Some("0"));
    m.watch_terminated(&a, info_of("deployments"));
    let text = m.runtime(&a).render();
    assert!(
        text.contains("apiserver_terminated_watchers_total{resource=\"deployments.apps\"} 1"),
        "{text}"
    );
}
