//! Twelve sets of real manifests written by others (`tests/data/manifests/README.md`),
//! applied to one dual-stack AWS Kyma runtime as a new user would, with the real kubectl
//! (issue 14, Acceptance): every object is accepted; pods whose dependencies are missing are
//! held as a real runtime holds them and the others run; `kubectl delete -f` of each set
//! exits 0 and leaves nothing behind.

mod common;

use common::{ok, Twin};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn data(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/manifests")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

/// One set: how it is applied and deleted (`-f` or `-k`, and where).
struct Set {
    name: &'static str,
    /// `kubectl apply` arguments (the path last).
    apply: Vec<String>,
    delete: Vec<String>,
    /// The namespace the set's pods land in.
    namespace: &'static str,
    /// Created first (sets that do not bring their namespace).
    create_namespace: bool,
}

fn set(name: &'static str, flag: &str, path: &str, ns: &'static str, own_ns: bool) -> Set {
    let mut apply = vec!["apply".to_string()];
    let mut delete = vec!["delete".to_string()];
    if !own_ns {
        for v in [&mut apply, &mut delete] {
            v.extend(["-n".to_string(), ns.to_string()]);
        }
    }
    if name == "argo-cd" {
        // Argo CD's install documentation: server-side apply (its CRDs exceed the 256 KiB
        // last-applied annotation of a client-side apply, on any cluster).
        apply.push("--server-side".into());
    }
    for v in [&mut apply, &mut delete] {
        v.extend([flag.to_string(), data(path)]);
    }
    Set {
        name,
        apply,
        delete,
        namespace: ns,
        create_namespace: !own_ns,
    }
}

fn sets() -> Vec<Set> {
    vec![
        set(
            "microservices-demo",
            "-f",
            "microservices-demo.yaml",
            "boutique",
            false,
        ),
        set(
            "online-boutique-kustomize",
            "-k",
            "online-boutique-kustomize",
            "boutique-k",
            false,
        ),
        set("podinfo", "-k", "podinfo", "podinfo", false),
        set("guestbook", "-f", "guestbook.yaml", "guestbook", false),
        set("guestbook-go", "-f", "guestbook-go", "guestbook-go", false),
        set("cassandra", "-f", "cassandra", "cassandra", false),
        set(
            "tensorflow-serving",
            "-f",
            "tensorflow-serving",
            "tensorflow",
            false,
        ),
        set(
            "ingress-nginx",
            "-f",
            "ingress-nginx.yaml",
            "ingress-nginx",
            true,
        ),
        set("argo-cd", "-f", "argo-cd.yaml", "argocd", false),
        // The example names `namespace: default` in its APIRule: it is meant for `default`.
        set("kyma-redis-rest", "-f", "kyma-redis-rest", "default", false),
        set(
            "kyma-http-db-service",
            "-f",
            "kyma-http-db-service",
            "http-db",
            false,
        ),
        set(
            "btp-service-operator",
            "-f",
            "btp-service-operator",
            "btp",
            false,
        ),
    ]
}

fn kubectl(t: &Twin, args: &[String]) -> std::process::Output {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    t.kubectl(&a)
}

/// Each pod of `ns` as (name, phase, first waiting reason).
fn pods(t: &Twin, ns: &str) -> Vec<(String, String, String)> {
    let out = ok(&t.kubectl(&[
        "get",
        "pods",
        "-n",
        ns,
        "-o",
        "jsonpath={range .items[*]}{.metadata.name}|{.status.phase}|{.status.containerStatuses[0].state.waiting.reason}{\"\\n\"}{end}",
    ]));
    out.lines()
        .map(|l| {
            let mut p = l.split('|').map(String::from);
            (
                p.next().unwrap_or_default(),
                p.next().unwrap_or_default(),
                p.next().unwrap_or_default(),
            )
        })
        .collect()
}

/// Waits until `cond` holds for the pods of `ns` (the controllers run on their own time).
fn until(t: &Twin, ns: &str, what: &str, cond: impl Fn(&[(String, String, String)]) -> bool) {
    let start = Instant::now();
    loop {
        let p = pods(t, ns);
        if cond(&p) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "{ns}: {what}: {p:#?}"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn running(p: &[(String, String, String)]) -> bool {
    !p.is_empty()
        && p.iter()
            .all(|(_, phase, _)| phase == "Running" || phase == "Succeeded")
}

#[test]
fn twelve_real_manifest_sets_apply_run_as_a_runtime_would_and_delete() {
    let t = Twin::start(&[]);
    let sets = sets();
    for s in &sets {
        if s.create_namespace && s.namespace != "default" {
            ok(&t.kubectl(&["create", "namespace", s.namespace]));
        }
        let out = kubectl(&t, &s.apply);
        let stdout = ok(&out);
        assert!(!stdout.is_empty(), "{}: nothing applied", s.name);
    }

    // What runs: every pod of these sets.
    for ns in [
        "boutique",
        "boutique-k",
        "podinfo",
        "guestbook",
        "guestbook-go",
        "argocd",
        "http-db",
    ] {
        until(&t, ns, "every pod running", running);
    }
    // ingress-nginx: the admission Jobs complete and create the webhook certificate Secret the
    // controller mounts; then the controller runs.
    until(&t, "ingress-nginx", "jobs done, controller running", |p| {
        p.len() == 3 && running(p)
    });

    // What a real runtime holds:
    // - the Function's pod reads the Secret `my-redis` (the example expects a Redis release):
    //   CreateContainerConfigError;
    until(
        &t,
        "default",
        "the Function's pod waits for my-redis",
        |p| {
            p.iter()
                .any(|(n, _, w)| n.starts_with("rest-fn-") && w == "CreateContainerConfigError")
        },
    );
    // - Cassandra's claims name the StorageClass `fast` of minikube's provisioner, which no
    //   Gardener shoot runs: the claims stay Pending, and so does the pod.
    until(&t, "cassandra", "cassandra-0 pending on its claim", |p| {
        p.iter()
            .any(|(n, phase, _)| n == "cassandra-0" && phase == "Pending")
    });
    let pvc = ok(&t.kubectl(&[
        "get",
        "pvc",
        "-n",
        "cassandra",
        "-o",
        "jsonpath={.items[*].status.phase}",
    ]));
    assert_eq!(pvc, "Pending", "{pvc}");
    let evs = ok(&t.kubectl(&[
        "get",
        "events",
        "-n",
        "cassandra",
        "--field-selector",
        "involvedObject.name=cassandra-0",
        "-o",
        "jsonpath={range .items[*]}{.reason}: {.message}{\"\\n\"}{end}",
    ]));
    assert!(
        evs.contains("FailedScheduling: 0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims."),
        "{evs}"
    );

    // - the model server's claim is pre-bound to a hostPath volume without a class, while the
    //   runtime's default class was given to the claim: it never binds, the pod stays Pending.
    until(
        &t,
        "tensorflow",
        "the model server waits for its claim",
        |p| !p.is_empty() && p.iter().all(|(_, phase, _)| phase == "Pending"),
    );

    // The Kyma sets: the APIRule is reconciled (its target has no sidecar in `default`), the
    // BTP service objects are stored.
    let ar = ok(&t.kubectl(&[
        "get",
        "apirule",
        "rest-fn",
        "-n",
        "default",
        "-o",
        "jsonpath={.status.state}",
    ]));
    assert_eq!(ar, "Error");
    let si = ok(&t.kubectl(&[
        "get",
        "serviceinstances,servicebindings",
        "-n",
        "btp",
        "-o",
        "name",
    ]));
    assert_eq!(si.lines().count(), 2, "{si}");

    // Each set deletes cleanly.
    for s in &sets {
        ok(&kubectl(&t, &s.delete));
    }
    for s in &sets {
        if s.namespace == "default" || !s.create_namespace {
            continue;
        }
        ok(&t.kubectl(&["delete", "namespace", s.namespace]));
    }
    // Nothing is left of them: no namespace, no pod in `default` but what was there.
    let ns = ok(&t.kubectl(&["get", "ns", "-o", "name"]));
    for s in &sets {
        if s.namespace != "default" {
            assert!(
                !ns.contains(&format!("namespace/{}\n", s.namespace)),
                "{ns}"
            );
        }
    }
    let start = Instant::now();
    while !pods(&t, "default").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{:?}",
            pods(&t, "default")
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    let crds = ok(&t.kubectl(&["get", "crd", "-o", "name"]));
    assert!(!crds.contains("argoproj.io"), "{crds}");
}
