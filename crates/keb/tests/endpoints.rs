//! KEB's non-OSB endpoints: `internal/runtime/handler.go`, `common/pagination/pagination.go`,
//! `internal/runtime/converter.go`, `internal/kubeconfig/{handler,builder}.go`,
//! `internal/expiration/handler.go`.

use serde_json::json;
use twinstack_keb::endpoints::expiration::{
    self, ExpirationInstance, LastDeprovisioning, Suspension,
};
use twinstack_keb::endpoints::kubeconfig::{
    self, AdminKubeconfig, AdminKubeconfigLookup, KubeconfigInstance, OidcEntry,
    ProvisioningOperation, RuntimeResourceLookup,
};
use twinstack_keb::endpoints::runtimes::{
    self, InstanceRecord, OperationDetail, OperationRecord, OperationState as S,
    OperationType as T, RuntimeRecord, RuntimesQuery, State,
};
use twinstack_keb::endpoints::{ApiError, Time};
use twinstack_keb::Plan;

fn q(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect()
}

#[test]
fn runtimes_query_errors() {
    let cases = [
        (
            "page_size=abc",
            "while getting query parameters: pageSize has to be an integer",
        ),
        (
            "page_size=",
            "while getting query parameters: pageSize has to be an integer",
        ),
        (
            "page_size=1&page_size=2",
            "while getting query parameters: pageSize has to be one parameter",
        ),
        (
            "page_size=101",
            "while getting query parameters: pageSize is bigger than maxPage(100)",
        ),
        (
            "page_size=0",
            "while getting query parameters: pageSize cannot be smaller than 1",
        ),
        (
            "page_size=-3",
            "while getting query parameters: pageSize cannot be smaller than 1",
        ),
        (
            "page=x",
            "while getting query parameters: page has to be an integer",
        ),
        (
            "page=1&page=2",
            "while getting query parameters: page has to be one parameter",
        ),
        (
            "page=0",
            "while getting query parameters: page cannot be smaller than 1",
        ),
        // page_size is checked before page
        (
            "page=0&page_size=500",
            "while getting query parameters: pageSize is bigger than maxPage(100)",
        ),
    ];
    for (query, msg) in cases {
        let err = RuntimesQuery::parse(&q(query)).unwrap_err();
        assert_eq!(err, ApiError::new(400, msg), "{query}");
        assert_eq!(err.body_string(), format!("{{\"error\":\"{msg}\"}}"));
    }
}

#[test]
fn runtimes_query_defaults_and_filters() {
    let d = RuntimesQuery::parse(&[]).unwrap();
    assert_eq!((d.page_size, d.page), (100, 1));
    assert_eq!(d.op_detail, OperationDetail::All);
    assert_eq!(d.filter.states, vec![runtimes::DbState::NotDeprovisioned]);

    let p = RuntimesQuery::parse(&q("page_size=+05&page=007&op_detail=last&op_detail=bogus&bindings=no&bindings=true&expired=false&expired=true&state=nope")).unwrap();
    assert_eq!((p.page_size, p.page), (5, 7));
    assert_eq!(p.op_detail, OperationDetail::Last);
    assert!(p.bindings, "any value true");
    assert!(!p.filter.expired, "only the first value counts");
    // An unknown state is ignored: no state filter at all.
    assert!(p.filter.states.is_empty() && !p.filter.suspended);

    let s = RuntimesQuery::parse(&q(
        "state=suspended&state=succeeded&state=deprovisionincomplete",
    ))
    .unwrap();
    assert!(s.filter.suspended && s.filter.deletion_attempted);
    assert_eq!(s.filter.states, vec![runtimes::DbState::Succeeded]);
    let a = RuntimesQuery::parse(&q("state=failed&state=all&state=suspended")).unwrap();
    assert!(a.filter.states.is_empty() && a.filter.suspended);
    assert_eq!(
        RuntimesQuery::parse_with_max(&q("page_size=7"), 5)
            .unwrap_err()
            .message,
        "while getting query parameters: pageSize is bigger than maxPage(5)"
    );
}

fn t(s: i64) -> Time {
    Time::from_unix(1_700_000_000 + s, 0)
}

fn op(id: &str, kind: T, state: S, created: i64) -> OperationRecord {
    OperationRecord {
        id: id.into(),
        kind,
        state,
        description: format!("{id} desc"),
        created_at: t(created),
        updated_at: t(created + 1),
        finished_stages: vec!["start".into()],
        executed_but_not_completed: vec![],
        temporary: false,
        raw_parameters: None,
        parameters: json!({"name": "n"}),
        target_secret: None,
        last_error: None,
        updated_plan_id: None,
    }
}

fn suspension(id: &str, state: S, created: i64) -> OperationRecord {
    OperationRecord {
        temporary: true,
        ..op(id, T::Deprovision, state, created)
    }
}

fn record(id: &str, created: i64, ops: Vec<OperationRecord>) -> RuntimeRecord {
    RuntimeRecord {
        instance: InstanceRecord {
            instance_id: id.into(),
            runtime_id: format!("rt-{id}"),
            global_account_id: "ga".into(),
            subaccount_id: format!("sa-{id}"),
            plan_id: Plan::Trial.id().into(),
            plan_name: "trial".into(),
            provider_region: "eu-central-1".into(),
            shoot_name: format!("c-{id}"),
            created_at: t(created),
            updated_at: t(created),
            parameters: json!({"name": "n", "kubeconfig": "secret", "targetSecret": "x", "zones": []}),
            ..InstanceRecord::default()
        },
        operations: ops,
    }
}

fn state_of(ops: Vec<OperationRecord>, detail: OperationDetail) -> Option<State> {
    runtimes::runtime_dto(&record("i", 0, ops), detail, "cf-eu10")
        .unwrap()
        .status
        .state
}

#[test]
fn runtime_state_as_keb_computes_it() {
    use OperationDetail::{All, Last};
    let cases: Vec<(&str, Vec<OperationRecord>, Option<State>)> = vec![
        ("no operations", vec![], None),
        (
            "provisioning",
            vec![op("p", T::Provision, S::InProgress, 0)],
            Some(State::Provisioning),
        ),
        (
            "pending provisioning counts as succeeded",
            vec![op("p", T::Provision, S::Pending, 0)],
            Some(State::Succeeded),
        ),
        (
            "provisioned",
            vec![op("p", T::Provision, S::Succeeded, 0)],
            Some(State::Succeeded),
        ),
        (
            "provisioning failed",
            vec![op("p", T::Provision, S::Failed, 0)],
            Some(State::Failed),
        ),
        (
            "update failed → error",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                op("u", T::Update, S::Failed, 5),
            ],
            Some(State::Error),
        ),
        (
            "updating",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                op("u", T::Update, S::InProgress, 5),
            ],
            Some(State::Updating),
        ),
        (
            "upgrading",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                op("c", T::UpgradeCluster, S::InProgress, 5),
            ],
            Some(State::Upgrading),
        ),
        (
            "deprovisioning",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                op("d", T::Deprovision, S::InProgress, 5),
            ],
            Some(State::Deprovisioning),
        ),
        (
            "deprovisioned",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                op("d", T::Deprovision, S::Succeeded, 5),
            ],
            Some(State::Deprovisioned),
        ),
        (
            "deprovision incomplete",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                OperationRecord {
                    executed_but_not_completed: vec!["x".into()],
                    ..op("d", T::Deprovision, S::Succeeded, 5)
                },
            ],
            Some(State::DeprovisionIncomplete),
        ),
        (
            "suspended",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                suspension("s", S::Succeeded, 5),
            ],
            Some(State::Suspended),
        ),
        (
            "suspending",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                suspension("s", S::InProgress, 5),
            ],
            Some(State::Deprovisioning),
        ),
        (
            "suspension failed",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                suspension("s", S::Failed, 5),
            ],
            Some(State::Failed),
        ),
        (
            "unsuspending",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                suspension("s", S::Succeeded, 5),
                op("p2", T::Provision, S::InProgress, 9),
            ],
            Some(State::Provisioning),
        ),
        (
            "unsuspended",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                suspension("s", S::Succeeded, 5),
                op("p2", T::Provision, S::Succeeded, 9),
            ],
            Some(State::Succeeded),
        ),
        // An update after a suspension does not lift the suspension override.
        (
            "update after suspension",
            vec![
                op("p", T::Provision, S::Succeeded, 0),
                suspension("s", S::Succeeded, 5),
                op("u", T::Update, S::Succeeded, 9),
            ],
            Some(State::Suspended),
        ),
    ];
    for (name, ops, want) in cases {
        assert_eq!(state_of(ops.clone(), All), want, "{name} (all)");
        if name != "pending provisioning counts as succeeded" && name != "update after suspension" {
            assert_eq!(state_of(ops, Last), want, "{name} (last)");
        }
    }
    // op_detail=last ignores pending operations when picking the last one.
    assert_eq!(
        state_of(vec![op("p", T::Provision, S::Pending, 0)], Last),
        None
    );
    let err = runtimes::runtime_dto(
        &record("i", 0, vec![op("k", T::UpgradeKyma, S::Succeeded, 0)]),
        Last,
        "",
    )
    .unwrap_err();
    assert_eq!(
        err,
        ApiError::new(500, "unsupported operation type: upgradeKyma")
    );
}

#[test]
fn runtime_dto_json_is_keb_shaped() {
    let mut rec = record(
        "i1",
        0,
        vec![
            OperationRecord {
                raw_parameters: Some(
                    json!({"region": "eu-central-1", "name": "n", "kubeconfig": "k", "targetSecret": "s"}),
                ),
                target_secret: Some("ts".into()),
                ..op("p", T::Provision, S::Succeeded, 0)
            },
            op("u1", T::Update, S::Succeeded, 3),
            op("u2", T::Update, S::Succeeded, 4),
            op("u3", T::Update, S::InProgress, 5),
        ],
    );
    rec.instance.empty_updates = 2;
    let dto = runtimes::runtime_dto(&rec, OperationDetail::All, "cf-eu10").unwrap();
    let v = serde_json::to_value(&dto).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "instanceID",
            "runtimeID",
            "globalAccountID",
            "subscriptionGlobalAccountID",
            "subAccountID",
            "region",
            "subAccountRegion",
            "shootName",
            "serviceClassID",
            "serviceClassName",
            "servicePlanID",
            "servicePlanName",
            "provider",
            "parameters",
            "status",
            "userID",
            "subscriptionSecretName"
        ]
    );
    assert_eq!(v["subAccountRegion"], "cf-eu10");
    assert_eq!(
        v["parameters"],
        json!({"name": "n"}),
        "kubeconfig/targetSecret/empty zones dropped"
    );
    assert_eq!(
        v["subscriptionSecretName"], "ts",
        "from the provisioning operation"
    );
    let st = &v["status"];
    assert_eq!(st["state"], "updating");
    assert_eq!(
        st["modifiedAt"], "2023-11-14T22:13:26Z",
        "updatedAt of the last operation"
    );
    assert_eq!(st["update"]["count"], 2);
    assert_eq!(st["update"]["totalCount"], 3);
    assert_eq!(st["update"]["emptyUpdatesCount"], 2);
    assert_eq!(st["update"]["data"][0]["operationID"], "u3");
    let p = &st["provisioning"];
    assert_eq!(
        p.as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        [
            "state",
            "description",
            "createdAt",
            "updatedAt",
            "operationID",
            "finishedStages",
            "parameters",
            "rawParameters"
        ]
    );
    assert_eq!(p["state"], "succeeded");
    assert_eq!(p["finishedStages"], json!(["start"]));
    assert_eq!(
        serde_json::to_string(&p["rawParameters"]).unwrap(),
        r#"{"name":"n","region":"eu-central-1"}"#
    );
    assert_eq!(
        serde_json::to_string(&p["parameters"]).unwrap(),
        r#"{"name":"n","region":"eu-central-1"}"#
    );
}

fn recs() -> Vec<RuntimeRecord> {
    let mut v = vec![
        record("a", 3, vec![op("pa", T::Provision, S::Succeeded, 3)]),
        record("b", 1, vec![op("pb", T::Provision, S::InProgress, 1)]),
        record(
            "c",
            2,
            vec![
                op("pc", T::Provision, S::Succeeded, 2),
                suspension("sc", S::Succeeded, 8),
            ],
        ),
        record(
            "d",
            4,
            vec![
                op("pd", T::Provision, S::Succeeded, 4),
                op("dd", T::Deprovision, S::Succeeded, 9),
            ],
        ),
        record(
            "e",
            5,
            vec![
                op("pe", T::Provision, S::Succeeded, 5),
                op("ue", T::Update, S::Failed, 9),
            ],
        ),
    ];
    v[2].instance.active = Some(false);
    v[3].instance.deleted_at = Some(t(10));
    v[0].instance.expired_at = Some(t(11));
    v[0].instance.has_bindings = true;
    v
}

fn ids(query: &str) -> (Vec<String>, usize, usize) {
    let page = runtimes::page(
        &RuntimesQuery::parse(&q(query)).unwrap(),
        &recs(),
        "cf-eu10",
    )
    .unwrap();
    (
        page.data.iter().map(|d| d.instance_id.clone()).collect(),
        page.count,
        page.total_count,
    )
}

#[test]
fn runtimes_page_filters_and_paging() {
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // Default: every instance whose last operation is not a succeeded deprovision (suspended c
    // included: a succeeded suspension is a deprovision), ordered by created_at.
    assert_eq!(ids(""), (s(&["b", "a", "e"]), 3, 3));
    assert_eq!(ids("state=all"), (s(&["b", "c", "a", "d", "e"]), 5, 5));
    assert_eq!(ids("page_size=2&page=2&state=all"), (s(&["a", "d"]), 2, 5));
    assert_eq!(ids("page_size=2&page=9&state=all"), (s(&[]), 0, 5));
    assert_eq!(ids("state=suspended"), (s(&["c"]), 1, 1));
    assert_eq!(ids("state=succeeded"), (s(&["a"]), 1, 1));
    assert_eq!(
        ids("state=provisioning&state=error"),
        (s(&["b", "e"]), 2, 2)
    );
    assert_eq!(ids("state=deprovisionincomplete"), (s(&["d"]), 1, 1));
    assert_eq!(ids("state=deprovisioned"), (s(&["d"]), 1, 1));
    assert_eq!(ids("expired=true"), (s(&["a"]), 1, 1));
    assert_eq!(ids("with_bindings=true"), (s(&["a"]), 1, 1));
    assert_eq!(
        ids("subaccount=sa-a&subaccount=sa-e"),
        (s(&["a", "e"]), 2, 2)
    );
    assert_eq!(
        ids("shoot=c-b&plan=trial&region=eu-central-1"),
        (s(&["b"]), 1, 1)
    );
    assert_eq!(ids("plan=aws"), (s(&[]), 0, 0));
    assert_eq!(
        ids("instance_id=e&runtime_id=rt-e&account=ga"),
        (s(&["e"]), 1, 1)
    );

    let page = runtimes::page(&RuntimesQuery::parse(&[]).unwrap(), &[], "").unwrap();
    assert_eq!(
        page.body_string(),
        r#"{"data":[],"count":0,"totalCount":0}"#
    );
}

#[test]
fn runtimes_page_archived_rows() {
    let mut all = recs();
    let mut gone = record("z", 0, vec![]);
    gone.instance.archived = Some(runtimes::ArchivedFacts {
        provisioning_started_at: t(0),
        provisioning_finished_at: t(1),
        provisioning_state: "succeeded".into(),
        last_deprovisioning_finished_at: t(20),
    });
    all.push(gone);
    let page = runtimes::page(
        &RuntimesQuery::parse(&q("state=deprovisioned")).unwrap(),
        &all,
        "",
    )
    .unwrap();
    assert_eq!(
        page.data
            .iter()
            .map(|d| d.instance_id.as_str())
            .collect::<Vec<_>>(),
        ["d", "z"]
    );
    assert_eq!((page.count, page.total_count), (2, 2));
    let z = serde_json::to_value(&page.data[1]).unwrap();
    assert_eq!(z["status"]["deletedAt"], "2023-11-14T22:13:40Z");
    assert_eq!(z["status"]["state"], "");
    assert_eq!(
        z["status"]["provisioning"]["finishedStages"],
        serde_json::Value::Null
    );
    assert_eq!(
        z["status"]["deprovisioning"]["createdAt"],
        "0001-01-01T00:00:00Z"
    );
    // Archived rows never appear without state=deprovisioned.
    assert!(
        runtimes::page(&RuntimesQuery::parse(&q("state=all")).unwrap(), &all, "")
            .unwrap()
            .data
            .iter()
            .all(|d| d.instance_id != "z")
    );
}

type CheckCase<'a> = (
    &'a str,
    Option<&'a KubeconfigInstance>,
    Option<ProvisioningOperation>,
    Option<(u16, &'a str)>,
);

#[test]
fn kubeconfig_checks() {
    let inst = KubeconfigInstance {
        runtime_id: "rt".into(),
        name: "cluster-name".into(),
    };
    let no_rt = KubeconfigInstance {
        runtime_id: String::new(),
        ..inst.clone()
    };
    let prov = |id: &str, state| ProvisioningOperation {
        instance_id: id.into(),
        state,
    };
    let cases: Vec<CheckCase> = vec![
        ("", Some(&inst), None, Some((404, "instanceID is required"))),
        ("i1", None, None, Some((404, "instance with ID i1 does not exist"))),
        ("i1", Some(&no_rt), None, Some((404, "kubeconfig for instance i1 does not exist. Provisioning could be in progress, please try again later"))),
        ("i1", Some(&inst), None, Some((404, "provisioning operation for instance with ID i1 does not exist"))),
        ("i1", Some(&inst), Some(prov("other", S::Succeeded)), Some((400, "mismatch between operation and instance"))),
        ("i1", Some(&inst), Some(prov("i1", S::InProgress)), Some((404, "provisioning operation for instance i1 is in progress state, kubeconfig not exist yet, please try again later"))),
        ("i1", Some(&inst), Some(prov("i1", S::Pending)), Some((404, "provisioning operation for instance i1 is in progress state, kubeconfig not exist yet, please try again later"))),
        ("i1", Some(&inst), Some(prov("i1", S::Failed)), Some((404, "provisioning operation for instance i1 failed, kubeconfig does not exist"))),
        ("i1", Some(&inst), Some(prov("i1", S::Succeeded)), None),
    ];
    for (id, i, p, want) in cases {
        let got = kubeconfig::check(id, i, p.as_ref())
            .err()
            .map(|e| (e.status, e.message));
        assert_eq!(got, want.map(|(s, m)| (s, m.to_string())), "{id} {p:?}");
    }
    let e = kubeconfig::check("", None, None).unwrap_err();
    assert_eq!(e.body_string(), "{\"Error\":\"instanceID is required\"}\n");
    assert_eq!(
        kubeconfig::allow_origin(Some("https://a"), "https://b,https://a"),
        Some("https://a".into())
    );
    assert_eq!(
        kubeconfig::allow_origin(Some("https://c"), "https://b,https://a"),
        None
    );
    assert_eq!(kubeconfig::allow_origin(Some("x"), "*"), Some("*".into()));
    assert_eq!(kubeconfig::allow_origin(None, "*"), None);
}

const CA: &str = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURUSUZJQ0FURS0tLS0tCg==";
const SERVER: &str = "https://api.ac0d8d9.kyma-dev.shoot.canary.k8s-hana.ondemand.com";

#[test]
fn kubeconfig_build_as_keb_builder_tests() {
    let inst = KubeconfigInstance {
        runtime_id: "rt".into(),
        name: "cluster-name".into(),
    };
    let admin = AdminKubeconfigLookup::Found(AdminKubeconfig {
        current_context: "shoot--kyma-dev--ac0d8d9".into(),
        first_cluster: Some((CA.into(), SERVER.into())),
    });
    // builder_test.go newKubeconfigWithNoUsers
    let none =
        kubeconfig::build_kubeconfig(&inst, &admin, &RuntimeResourceLookup::Found(Some(vec![])))
            .unwrap();
    assert_eq!(none, format!("\n---\napiVersion: v1\nkind: Config\ncurrent-context: cluster-name\nclusters:\n- name: cluster-name\n  cluster:\n    certificate-authority-data: {CA}\n    server: {SERVER}\ncontexts:\n- name: cluster-name\n  context:\n    cluster: cluster-name\n"));
    let two = kubeconfig::build_kubeconfig(
        &inst,
        &admin,
        &RuntimeResourceLookup::Found(Some(vec![
            OidcEntry {
                issuer_url: Some("https://example.com".into()),
                client_id: Some("c1id".into()),
            },
            OidcEntry {
                issuer_url: Some("https://example2.com".into()),
                client_id: Some("c2id".into()),
            },
        ])),
    )
    .unwrap();
    let user = |name: &str, iss: &str, cid: &str| {
        format!("- name: {name}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      args:\n      - get-token\n      - \"--oidc-issuer-url={iss}\"\n      - \"--oidc-client-id={cid}\"\n      - \"--oidc-extra-scope=email\"\n      - \"--oidc-extra-scope=openid\"\n      command: kubectl-oidc_login\n      installHint: |\n        kubelogin plugin is required to proceed with authentication\n        # Homebrew (macOS and Linux)\n        brew install int128/kubelogin/kubelogin\n\n        # Krew (macOS, Linux, Windows and ARM)\n        kubectl krew install oidc-login\n\n        # Chocolatey (Windows)\n        choco install kubelogin\n")
    };
    // builder_test.go newKubeconfigWithMultipleContexts
    let want = format!("\n---\napiVersion: v1\nkind: Config\ncurrent-context: cluster-name\nclusters:\n- name: cluster-name\n  cluster:\n    certificate-authority-data: {CA}\n    server: {SERVER}\ncontexts:\n- name: cluster-name\n  context:\n    cluster: cluster-name\n    user: cluster-name\n- name: cluster-name-2\n  context:\n    cluster: cluster-name\n    user: cluster-name-2\nusers:\n{}{}",
        user("cluster-name", "https://example.com", "c1id"), user("cluster-name-2", "https://example2.com", "c2id"));
    assert_eq!(two, want);

    let err = |a: &AdminKubeconfigLookup, r: &RuntimeResourceLookup| {
        let e = kubeconfig::build_kubeconfig(&inst, a, r).unwrap_err();
        (e.status, e.message)
    };
    let ok_rr = RuntimeResourceLookup::Found(Some(vec![]));
    assert_eq!(err(&admin, &RuntimeResourceLookup::Found(None)), (500, "cannot fetch SKR kubeconfig: while fetching oidc data: Runtime Resource contains no additional OIDC config".into()));
    assert_eq!(
        err(&AdminKubeconfigLookup::SecretNotFound, &ok_rr),
        (404, "kubeconfig does not exist".into())
    );
    assert_eq!(err(&AdminKubeconfigLookup::Found(AdminKubeconfig { current_context: String::new(), first_cluster: None }), &ok_rr),
        (500, "cannot fetch SKR kubeconfig: during unmarshal invocation: while validation kubeconfig fetched by provisioner: current context is empty".into()));
    assert_eq!(err(&admin, &RuntimeResourceLookup::Found(Some(vec![OidcEntry { issuer_url: Some("x".into()), client_id: None }]))),
        (500, "cannot fetch SKR kubeconfig: while fetching oidc data: Runtime Resource contains an empty OIDC client ID".into()));
    assert_eq!(
        kubeconfig::serve_headers(),
        vec![
            (
                "Content-Disposition",
                "attachment; filename=kubeconfig.yaml".to_string()
            ),
            ("Content-Type", "application/x-yaml".to_string()),
        ]
    );
}

#[test]
fn expiration_decisions() {
    let trial = ExpirationInstance {
        plan_id: Plan::Trial.id().into(),
        expired: false,
        active: None,
    };
    let free_expired = ExpirationInstance {
        plan_id: Plan::Free.id().into(),
        expired: true,
        active: Some(false),
    };
    let aws = ExpirationInstance {
        plan_id: Plan::Aws.id().into(),
        expired: false,
        active: None,
    };
    let unknown = ExpirationInstance {
        plan_id: "nope".into(),
        expired: false,
        active: None,
    };
    assert_eq!(
        expiration::decide("i1", None, None).unwrap_err(),
        ApiError::new(404, "Instance with id i1 not exist")
    );
    assert_eq!(
        expiration::decide("i1", Some(&aws), None).unwrap_err(),
        ApiError::new(400, "unsupported plan: aws")
    );
    assert_eq!(
        expiration::decide("i1", Some(&unknown), None)
            .unwrap_err()
            .body_string(),
        r#"{"error":"unsupported plan: "}"#
    );

    let last = |state, retry| LastDeprovisioning {
        id: "old".into(),
        state,
        temporary: true,
        has_steps_to_retry: retry,
    };
    let cases = [
        (None, Suspension::Create),
        (
            Some(last(S::Pending, false)),
            Suspension::Existing("old".into()),
        ),
        (
            Some(last(S::InProgress, false)),
            Suspension::Existing("old".into()),
        ),
        (
            Some(last(S::Succeeded, false)),
            Suspension::Existing("old".into()),
        ),
        (Some(last(S::Succeeded, true)), Suspension::Create),
        (Some(last(S::Failed, false)), Suspension::Create),
    ];
    for (prev, want) in cases {
        let d = expiration::decide("i1", Some(&trial), prev.as_ref()).unwrap();
        assert_eq!(d.suspension, want, "{prev:?}");
        assert!(d.set_expired_at && d.deactivate);
    }
    let d = expiration::decide("i1", Some(&free_expired), None).unwrap();
    assert!(!d.set_expired_at && !d.deactivate);
    assert_eq!(
        expiration::accepted_body("op-1"),
        json!({"operation": "op-1"})
    );
    assert_eq!(expiration::ACCEPTED, 202);
}

#[test]
fn trial_and_free_ids_are_kebs() {
    // internal/broker/plans.go TrialPlanID, FreemiumPlanID
    assert_eq!(Plan::Trial.id(), "7d55d31d-35ae-4438-bf13-6ffdfa107d9f");
    assert_eq!(Plan::Free.id(), "b1a5764e-2ea1-4f95-94c0-2b4538b37b55");
}
