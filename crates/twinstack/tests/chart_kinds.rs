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
