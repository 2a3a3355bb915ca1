//! End-to-end: the built-in kinds that charts ship and twinstack stores without acting on them
//! (issue 14, item 2: NetworkPolicy, IngressClass, Ingress, PriorityClass, Lease and the
//! admission webhook configurations), applied, listed with kube-apiserver's columns and deleted
//! with the installed kubectl.

mod common;
use common::*;

const MANIFESTS: &str = r#"apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
spec:
  podSelector:
    matchLabels:
      app: web
  policyTypes: [Ingress]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  ingressClassName: nginx
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: high
value: 1000000
globalDefault: false
description: For the important pods.
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: leader
spec:
  holderIdentity: pod-a
  leaseDurationSeconds: 15
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: check
webhooks:
- name: check.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  clientConfig:
    service:
      name: hook
      namespace: default
  rules:
  - apiGroups: [""]
    apiVersions: [v1]
    operations: [CREATE]
    resources: [pods]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: mutate
webhooks: []
"#;

#[test]
fn chart_kinds_apply_list_and_delete() {
    let t = Twin::start(&[]);
    let f = write(t.data_dir(), "kinds.yaml", MANIFESTS);
    let f = f.to_str().unwrap();
    let out = ok(&t.kubectl(&["apply", "-f", f]));
    for created in [
        "networkpolicy.networking.k8s.io/deny-all created",
        "ingressclass.networking.k8s.io/nginx created",
        "ingress.networking.k8s.io/web created",
        "priorityclass.scheduling.k8s.io/high created",
        "lease.coordination.k8s.io/leader created",
        "validatingwebhookconfiguration.admissionregistration.k8s.io/check created",
        "mutatingwebhookconfiguration.admissionregistration.k8s.io/mutate created",
    ] {
        assert!(out.contains(created), "{out}");
    }
    let ing = ok(&t.kubectl(&["get", "ing"]));
    let header = ing.lines().next().unwrap();
    assert!(
        header.starts_with("NAME") && header.contains("CLASS") && header.contains("HOSTS"),
        "{ing}"
    );
    assert!(ing.contains("web.example.com"), "{ing}");
    let pc = ok(&t.kubectl(&["get", "pc", "high"]));
    assert!(
        pc.contains("1000000") && pc.contains("PreemptLowerPriority"),
        "{pc}"
    );
    let np = ok(&t.kubectl(&["get", "netpol"]));
    assert!(np.contains("app=web"), "{np}");
    let vw = ok(&t.kubectl(&["get", "validatingwebhookconfigurations"]));
    assert!(
        vw.lines()
            .nth(1)
            .is_some_and(|l| l.contains("check") && l.contains(" 1 ")),
        "{vw}"
    );
    let out = ok(&t.kubectl(&["delete", "-f", f]));
    assert!(
        out.contains("ingress.networking.k8s.io \"web\" deleted"),
        "{out}"
    );
}

/// Every runtime has its provider's StorageClasses, as the Gardener provider extension
/// installs them: `default` is the default class, bound when the first consumer is scheduled.
#[test]
fn runtime_has_the_providers_default_storage_class() {
    let t = Twin::start(&[]);
    let sc = ok(&t.kubectl(&["get", "sc"]));
    let header: Vec<&str> = sc.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "PROVISIONER",
            "RECLAIMPOLICY",
            "VOLUMEBINDINGMODE",
            "ALLOWVOLUMEEXPANSION",
            "AGE"
        ],
        "{sc}"
    );
    let row: Vec<&str> = sc.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..2], ["default", "(default)"], "{sc}");
    assert!(
        ["ebs.csi.aws.com", "pd.csi.storage.gke.io"].contains(&row[2]),
        "{sc}"
    );
    assert_eq!(
        &row[3..6],
        ["Delete", "WaitForFirstConsumer", "true"],
        "{sc}"
    );
    // Users add their own classes; cluster-scoped, short name `sc`.
    let f = write(
        t.data_dir(),
        "sc.yaml",
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: local\nprovisioner: kubernetes.io/no-provisioner\n",
    );
    let out = ok(&t.kubectl(&["apply", "-f", f.to_str().unwrap()]));
    assert!(
        out.contains("storageclass.storage.k8s.io/local created"),
        "{out}"
    );
    let local = ok(&t.kubectl(&["get", "sc", "local"]));
    assert!(
        local.contains("Immediate") && local.contains("false"),
        "{local}"
    );
    ok(&t.kubectl(&["delete", "sc", "local"]));
}

/// Polls `kubectl get` with `-o jsonpath=<path>` until its output satisfies `want` (a
/// controller's write is asynchronous); returns the last output.
fn poll_jsonpath(t: &Twin, args: &[&str], path: &str, want: impl Fn(&str) -> bool) -> String {
    let jp = format!("jsonpath={path}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    loop {
        let mut a: Vec<&str> = vec!["get"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-o", &jp]);
        let out = t.kubectl(&a);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if out.status.success() && want(&text) {
            return text;
        }
        if std::time::Instant::now() >= deadline {
            let events = t.kubectl(&["get", "events", "-A"]);
            panic!(
                "{args:?} {path}: still {text:?} {}\nevents:\n{}",
                String::from_utf8_lossy(&out.stderr),
                String::from_utf8_lossy(&events.stdout)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

const HPA: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx
        resources:
          requests:
            cpu: 100m
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 80
"#;

/// A HorizontalPodAutoscaler without a metrics source: the target is raised to `minReplicas`
/// (`SuccessfulRescale`), then the HPA reports what a real one reports when the resource
/// metrics API returns nothing; its columns, `describe`, validation and deletion.
#[test]
fn hpa_without_metrics() {
    let t = Twin::start(&[]);
    let resources = ok(&t.kubectl(&["api-resources", "--api-group=autoscaling"]));
    assert!(
        resources
            .lines()
            .any(|l| l.starts_with("horizontalpodautoscalers")
                && l.contains(" hpa ")
                && l.contains("autoscaling/v2")
                && l.contains("HorizontalPodAutoscaler")),
        "{resources}"
    );
    let f = write(t.data_dir(), "hpa.yaml", HPA);
    let f = f.to_str().unwrap();
    let out = ok(&t.kubectl(&["apply", "-f", f]));
    assert!(
        out.contains("horizontalpodautoscaler.autoscaling/web created"),
        "{out}"
    );
    poll_jsonpath(&t, &["deployment", "web"], "{.spec.replicas}", |r| r == "2");
    let reason = r#"{.status.conditions[?(@.type=="ScalingActive")].reason}"#;
    poll_jsonpath(&t, &["hpa", "web"], reason, |r| {
        r == "FailedGetResourceMetric"
    });
    poll_jsonpath(&t, &["hpa", "web"], "{.status.currentReplicas}", |r| {
        r == "2"
    });
    let get = ok(&t.kubectl(&["get", "hpa"]));
    let mut lines = get.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE"
        ],
        "{get}"
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..7],
        [
            "web",
            "Deployment/web",
            "cpu:",
            "<unknown>/80%",
            "2",
            "5",
            "2"
        ],
        "{get}"
    );
    let describe = ok(&t.kubectl(&["describe", "hpa", "web"]));
    for want in [
        "SucceededGetScale",
        "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API",
        "SuccessfulRescale",
        "New size: 2; reason: Current number of replicas below Spec.MinReplicas",
    ] {
        assert!(describe.contains(want), "{want}\n{describe}");
    }
    let events = ok(&t.kubectl(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=HorizontalPodAutoscaler,reason=FailedGetResourceMetric",
    ]));
    assert!(events.contains("Warning"), "{events}");
    let bad = write(
        t.data_dir(),
        "bad-hpa.yaml",
        &HPA.split("---\n")
            .nth(1)
            .unwrap()
            .replace("maxReplicas: 5", "maxReplicas: 1")
            .replace("name: web\nspec", "name: bad\nspec"),
    );
    let err = fails(&t.kubectl(&["apply", "-f", bad.to_str().unwrap()]));
    assert!(
        err.contains("The HorizontalPodAutoscaler \"bad\" is invalid: spec.maxReplicas: Invalid value: 1: must be greater than or equal to `minReplicas`"),
        "{err}"
    );
    let out = ok(&t.kubectl(&["delete", "-f", f]));
    assert!(
        out.contains("horizontalpodautoscaler.autoscaling \"web\" deleted"),
        "{out}"
    );
}

const CRON_JOB: &str = r#"apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: tick
            image: busybox
"#;

/// A CronJob: validation with robfig's message, kube-apiserver's columns, `kubectl create job
/// --from`, and the controller creating `<cronjob>-<minutes since the epoch>` on schedule with
/// its owner, `status.lastScheduleTime` and the `SuccessfulCreate` event.
#[test]
fn cron_job_schedules_jobs() {
    let t = Twin::start(&[]);
    let resources = ok(&t.kubectl(&["api-resources", "--api-group=batch"]));
    assert!(
        resources
            .lines()
            .any(|l| l.starts_with("cronjobs") && l.contains(" cj ") && l.contains("CronJob")),
        "{resources}"
    );
    let bad = write(
        t.data_dir(),
        "bad-cj.yaml",
        &CRON_JOB
            .replace("\"* * * * *\"", "x")
            .replace("name: tick\nspec", "name: bad\nspec"),
    );
    let err = fails(&t.kubectl(&["apply", "-f", bad.to_str().unwrap()]));
    assert!(
        err.contains("The CronJob \"bad\" is invalid: spec.schedule: Invalid value: \"x\": expected exactly 5 fields, found 1: [x]"),
        "{err}"
    );
    let f = write(t.data_dir(), "cj.yaml", CRON_JOB);
    let f = f.to_str().unwrap();
    let out = ok(&t.kubectl(&["apply", "-f", f]));
    assert!(out.contains("cronjob.batch/tick created"), "{out}");
    let get = ok(&t.kubectl(&["get", "cj"]));
    let header: Vec<&str> = get.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST", "SCHEDULE", "AGE"],
        "{get}"
    );
    let row = get.lines().nth(1).unwrap();
    assert!(
        row.starts_with("tick")
            && row.contains("* * * * *")
            && row.contains("<none>")
            && row.contains("False"),
        "{get}"
    );
    let manual = ok(&t.kubectl(&["create", "job", "--from=cronjob/tick", "manual"]));
    assert!(manual.contains("job.batch/manual created"), "{manual}");
    // The first scheduled run comes at the next whole minute.
    let last = poll_jsonpath(
        &t,
        &["cronjob", "tick"],
        "{.status.lastScheduleTime}",
        |s| !s.is_empty(),
    );
    let scheduled: jiff::Timestamp = last.parse().unwrap();
    let name = format!("tick-{}", scheduled.as_second() / 60);
    let owner = poll_jsonpath(
        &t,
        &["job", &name],
        "{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}",
        |s| !s.is_empty(),
    );
    assert_eq!(owner, "CronJob/tick");
    let describe = ok(&t.kubectl(&["describe", "cronjob", "tick"]));
    assert!(
        describe.contains(&format!("Created job {name}")),
        "{describe}"
    );
    let out = ok(&t.kubectl(&["delete", "-f", f]));
    assert!(out.contains("cronjob.batch \"tick\" deleted"), "{out}");
}

const CLAIMS: &str = r#"apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: fast
provisioner: ebs.csi.aws.com
volumeBindingMode: Immediate
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: quick
spec:
  storageClassName: fast
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 2Gi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: none
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
"#;

const CONSUMER: &str = r#"apiVersion: v1
kind: Pod
metadata:
  name: consumer
spec:
  containers:
  - name: c
    image: nginx
    volumeMounts:
    - name: data
      mountPath: /data
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data
"#;

/// PersistentVolumeClaims: the default class filled in by admission, an Immediate class bound
/// at once, the default WaitForFirstConsumer class bound once a pod using the claim is
/// scheduled (volume `pvc-<uid>`), a claim without class left Pending; columns of both kinds.
#[test]
fn claims_bind_as_a_provisioner_would() {
    let t = Twin::start(&[]);
    let bad = write(
        t.data_dir(),
        "bad-pvc.yaml",
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: bad\nspec:\n  accessModes: [ReadWriteOnce]\n",
    );
    let err = fails(&t.kubectl(&["apply", "-f", bad.to_str().unwrap()]));
    assert!(
        err.contains(
            "The PersistentVolumeClaim \"bad\" is invalid: spec.resources[storage]: Required value"
        ),
        "{err}"
    );
    let f = write(t.data_dir(), "claims.yaml", CLAIMS);
    let f = f.to_str().unwrap();
    ok(&t.kubectl(&["apply", "-f", f]));
    let class = ok(&t.kubectl(&[
        "get",
        "pvc",
        "data",
        "-o",
        "jsonpath={.spec.storageClassName}",
    ]));
    assert_eq!(class, "default");
    poll_jsonpath(&t, &["pvc", "quick"], "{.status.phase}", |p| p == "Bound");
    let reason = "involvedObject.name=data,reason=WaitForFirstConsumer";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !ok(&t.kubectl(&["get", "events", "--field-selector", reason]))
        .contains("waiting for first consumer")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no WaitForFirstConsumer event"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let phase = ok(&t.kubectl(&["get", "pvc", "data", "-o", "jsonpath={.status.phase}"]));
    assert_eq!(phase, "Pending");
    let pod = write(t.data_dir(), "consumer.yaml", CONSUMER);
    ok(&t.kubectl(&["apply", "-f", pod.to_str().unwrap()]));
    poll_jsonpath(&t, &["pvc", "data"], "{.status.phase}", |p| p == "Bound");
    let uid = ok(&t.kubectl(&["get", "pvc", "data", "-o", "jsonpath={.metadata.uid}"]));
    let get = ok(&t.kubectl(&["get", "pvc"]));
    let header: Vec<&str> = get.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS",
            "MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE"
        ],
        "{get}"
    );
    let data: Vec<&str> = get
        .lines()
        .find(|l| l.starts_with("data"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        &data[..7],
        [
            "data",
            "Bound",
            &format!("pvc-{uid}"),
            "1Gi",
            "RWO",
            "default",
            "<unset>"
        ],
        "{get}"
    );
    let none: Vec<&str> = get
        .lines()
        .find(|l| l.starts_with("none"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(none[1], "Pending", "{get}");
    let pv = ok(&t.kubectl(&["get", "pv", &format!("pvc-{uid}")]));
    let row: Vec<&str> = pv.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        &row[..7],
        [
            &format!("pvc-{uid}") as &str,
            "1Gi",
            "RWO",
            "Delete",
            "Bound",
            "default/data",
            "default"
        ],
        "{pv}"
    );
    ok(&t.kubectl(&["delete", "pod", "consumer", "--wait=false"]));
    let out = ok(&t.kubectl(&["delete", "-f", f]));
    assert!(
        out.contains("persistentvolumeclaim \"data\" deleted"),
        "{out}"
    );
    // The provisioned volume carries no finalizer that nothing would remove.
    ok(&t.kubectl(&["delete", "pv", &format!("pvc-{uid}")]));
}

const STATEFUL: &str = r#"apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  serviceName: db
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      containers:
      - name: db
        image: postgres
        volumeMounts:
        - name: data
          mountPath: /var/lib/postgresql/data
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: 5Gi
"#;

/// A StatefulSet whose containers mount a `volumeClaimTemplates` entry is accepted; each
/// ordinal gets its claim `<template>-<set>-<ordinal>` (with the set's labels, bound by the
/// default class once its pod is scheduled), and scaling down keeps the claims.
#[test]
fn statefulset_claims_per_ordinal() {
    let t = Twin::start(&[]);
    let f = write(t.data_dir(), "sts.yaml", STATEFUL);
    let f = f.to_str().unwrap();
    let out = ok(&t.kubectl(&["apply", "-f", f]));
    assert!(out.contains("statefulset.apps/db created"), "{out}");
    for i in 0..2 {
        let claim = format!("data-db-{i}");
        poll_jsonpath(&t, &["pvc", &claim], "{.status.phase}", |p| p == "Bound");
        let labels = ok(&t.kubectl(&[
            "get",
            "pvc",
            &claim,
            "-o",
            "jsonpath={.metadata.labels.app}",
        ]));
        assert_eq!(labels, "db");
        let vol = ok(&t.kubectl(&[
            "get",
            "pod",
            &format!("db-{i}"),
            "-o",
            "jsonpath={.spec.volumes[?(@.name==\"data\")].persistentVolumeClaim.claimName}",
        ]));
        assert_eq!(vol, claim);
    }
    let events = ok(&t.kubectl(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=StatefulSet",
    ]));
    assert!(
        events.contains("create Claim data-db-0 Pod db-0 in StatefulSet db success"),
        "{events}"
    );
    ok(&t.kubectl(&["scale", "statefulset", "db", "--replicas=1"]));
    poll_jsonpath(&t, &["statefulset", "db"], "{.status.replicas}", |r| {
        r == "1"
    });
    let claims = ok(&t.kubectl(&["get", "pvc", "-o", "name"]));
    assert!(
        claims.contains("persistentvolumeclaim/data-db-1"),
        "{claims}"
    );
    ok(&t.kubectl(&["delete", "-f", f]));
}

const PDB: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: nginx
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: api
spec:
  minAvailable: 1
  selector:
    matchLabels:
      app: api
"#;

/// A PodDisruptionBudget: validation, its status computed from the pods it selects
/// (expected, healthy, desired, allowed disruptions, `DisruptionAllowed`), its columns.
#[test]
fn pdb_status_from_pods() {
    let t = Twin::start(&[]);
    let bad = write(
        t.data_dir(),
        "bad-pdb.yaml",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: bad\nspec:\n  minAvailable: 1\n  maxUnavailable: 1\n",
    );
    let err = fails(&t.kubectl(&["apply", "-f", bad.to_str().unwrap()]));
    assert!(
        err.contains("minAvailable and maxUnavailable cannot be both set"),
        "{err}"
    );
    let f = write(t.data_dir(), "pdb.yaml", PDB);
    let f = f.to_str().unwrap();
    ok(&t.kubectl(&["apply", "-f", f]));
    poll_jsonpath(
        &t,
        &["pdb", "api"],
        "{.status.expectedPods}/{.status.currentHealthy}/{.status.desiredHealthy}/{.status.disruptionsAllowed}",
        |s| s == "2/2/1/1",
    );
    let reason = ok(&t.kubectl(&[
        "get",
        "pdb",
        "api",
        "-o",
        "jsonpath={.status.conditions[0].type}={.status.conditions[0].status}",
    ]));
    assert_eq!(reason, "DisruptionAllowed=True");
    let get = ok(&t.kubectl(&["get", "pdb"]));
    let header: Vec<&str> = get.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "MIN",
            "AVAILABLE",
            "MAX",
            "UNAVAILABLE",
            "ALLOWED",
            "DISRUPTIONS",
            "AGE"
        ],
        "{get}"
    );
    let row: Vec<&str> = get.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(&row[..4], ["api", "1", "N/A", "1"], "{get}");
    ok(&t.kubectl(&["delete", "-f", f]));
}
