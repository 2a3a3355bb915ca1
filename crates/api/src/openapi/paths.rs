//! The operations of each served resource, as kube-apiserver's `APIInstaller`
//! (`staging/src/k8s.io/apiserver/pkg/endpoints/installer.go`) registers and documents them:
//! paths, operation IDs (`list`/`create`/`read`/`replace`/`patch`/`delete`/`watch` + group
//! version + `Namespaced` + kind), `x-kubernetes-action`, `x-kubernetes-group-version-kind`,
//! the query parameters each verb takes, and the request and response types.

use super::Format;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use twinstack_registry::kinds::Kind;

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// A query or path parameter: name, `in`, type, description.
struct Param {
    name: &'static str,
    location: &'static str,
    ty: &'static str,
    description: &'static str,
}

const fn q(name: &'static str, ty: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: "query",
        ty,
        description,
    }
}

// Descriptions are the first sentence of upstream's (`metav1.ListOptions` & co. field docs).
static PRETTY: Param = q(
    "pretty",
    "string",
    "If 'true', then the output is pretty printed.",
);
static DRY_RUN: Param = q(
    "dryRun",
    "string",
    "When present, indicates that modifications should not be persisted.",
);
static FIELD_MANAGER: Param = q(
    "fieldManager",
    "string",
    "fieldManager is a name associated with the actor or entity that is making these changes.",
);
static FIELD_VALIDATION: Param = q(
    "fieldValidation",
    "string",
    "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields.",
);
static FORCE: Param = q(
    "force",
    "boolean",
    "Force is going to \"force\" Apply requests.",
);
static GRACE: Param = q(
    "gracePeriodSeconds",
    "integer",
    "The duration in seconds before the object should be deleted.",
);
static IGNORE_READ_ERR: Param = q(
    "ignoreStoreReadErrorWithClusterBreakingPotential",
    "boolean",
    "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error.",
);
static ORPHAN: Param = q(
    "orphanDependents",
    "boolean",
    "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7.",
);
static PROPAGATION: Param = q(
    "propagationPolicy",
    "string",
    "Whether and how garbage collection will be performed.",
);
static LIST_PARAMS: [Param; 10] = [
    q(
        "allowWatchBookmarks",
        "boolean",
        "allowWatchBookmarks requests watch events with type \"BOOKMARK\".",
    ),
    q(
        "continue",
        "string",
        "The continue option should be set when retrieving more results from the server.",
    ),
    q(
        "fieldSelector",
        "string",
        "A selector to restrict the list of returned objects by their fields. Defaults to everything.",
    ),
    q(
        "labelSelector",
        "string",
        "A selector to restrict the list of returned objects by their labels. Defaults to everything.",
    ),
    q(
        "limit",
        "integer",
        "limit is a maximum number of responses to return for a list call.",
    ),
    q(
        "resourceVersion",
        "string",
        "resourceVersion sets a constraint on what resource versions a request may be served from.",
    ),
    q(
        "resourceVersionMatch",
        "string",
        "resourceVersionMatch determines how resourceVersion is applied to list calls.",
    ),
    q(
        "sendInitialEvents",
        "boolean",
        "`sendInitialEvents=true` may be set together with `watch=true`.",
    ),
    q(
        "timeoutSeconds",
        "integer",
        "Timeout for the list/watch call.",
    ),
    q(
        "watch",
        "boolean",
        "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.",
    ),
];

const JSON_TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
];
const LIST_TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/vnd.kubernetes.protobuf",
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
];
const PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];
/// A custom resource takes no strategic merge patch (apiextensions' OpenAPI builder lists these
/// three; kubectl's client-side apply then sends a JSON merge patch).
const CUSTOM_PATCH_TYPES: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

/// One operation of a path.
struct Op {
    method: &'static str,
    id: String,
    description: String,
    action: &'static str,
    params: Vec<&'static Param>,
    body: Option<(String, &'static [&'static str])>,
    /// (code, definition or None for a bare description)
    responses: Vec<(u16, Option<String>)>,
    produces: &'static [&'static str],
    gvk: (String, String, String),
}

/// `CoreV1`, `AppsV1`, `DiscoveryV1`, `RbacAuthorizationV1`: the group/version part of
/// operation IDs (upstream's `ToValidOperationID` of the group before `.k8s.io`).
fn gv_camel(group: &str, version: &str) -> String {
    let g = if group.is_empty() { "core" } else { group };
    let g = g.trim_end_matches(".k8s.io");
    let mut out = String::new();
    for part in g.split('.') {
        let mut c = part.chars();
        if let Some(f) = c.next() {
            out.extend(f.to_uppercase());
            out.push_str(c.as_str());
        }
    }
    let mut c = version.chars();
    if let Some(f) = c.next() {
        out.extend(f.to_uppercase());
        out.push_str(c.as_str());
    }
    out
}

/// `core_v1`, `apps_v1`, `rbacAuthorization_v1`: the tag of a group/version.
fn tag(group: &str, version: &str) -> String {
    let g = if group.is_empty() { "core" } else { group };
    let g = g.trim_end_matches(".k8s.io");
    let mut out = String::new();
    for (i, part) in g.split('.').enumerate() {
        if i == 0 {
            out.push_str(part);
        } else {
            let mut c = part.chars();
            if let Some(f) = c.next() {
                out.extend(f.to_uppercase());
                out.push_str(c.as_str());
            }
        }
    }
    format!("{out}_{version}")
}

/// The definition name of a kind: `io.k8s.api.<group short>.<version>.<Kind>`.
fn definition(group: &str, version: &str, kind: &str) -> String {
    if group == "apiextensions.k8s.io" {
        return format!("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{version}.{kind}");
    }
    if group.contains('.') && !group.ends_with(".k8s.io") {
        return super::custom_definition_name(group, version, kind);
    }
    let g = if group.is_empty() {
        "core"
    } else {
        group.split('.').next().unwrap_or(group)
    };
    // rbac.authorization.k8s.io types live in k8s.io/api/rbac.
    format!("io.k8s.api.{g}.{version}.{kind}")
}

/// All paths of the served kinds.
pub(super) fn paths(served: &[&Arc<dyn Kind>], f: Format) -> Map<String, Value> {
    let mut out = Map::new();
    for k in served {
        for (path, path_params, ops) in resource_paths(k.as_ref()) {
            let mut item = Map::new();
            for op in ops {
                item.insert(op.method.into(), render(&op, f));
            }
            item.insert(
                "parameters".into(),
                Value::Array(path_params.iter().map(|p| param(p, f)).collect()),
            );
            out.insert(path, Value::Object(item));
        }
    }
    out
}

type PathOps = (String, Vec<&'static Param>, Vec<Op>);

static NAME: Param = Param {
    name: "name",
    location: "path",
    ty: "string",
    description: "name of the resource",
};
static NAMESPACE: Param = Param {
    name: "namespace",
    location: "path",
    ty: "string",
    description: "object name and auth scope, such as for teams and projects",
};

fn resource_paths(k: &dyn Kind) -> Vec<PathOps> {
    let i = k.info();
    let (g, v, kind) = (i.group, i.version, i.kind);
    let gvc = gv_camel(g, v);
    let prefix = format!("/{}", super::gv_path(g, v));
    let def = definition(g, v, kind);
    let list_def = format!("{def}List");
    let gvk = (g.to_string(), v.to_string(), kind.to_string());
    let ns = if i.namespaced { "Namespaced" } else { "" };
    let plural = i.plural;
    let (coll, watch_coll) = if i.namespaced {
        (
            format!("{prefix}/namespaces/{{namespace}}/{plural}"),
            format!("{prefix}/watch/namespaces/{{namespace}}/{plural}"),
        )
    } else {
        (
            format!("{prefix}/{plural}"),
            format!("{prefix}/watch/{plural}"),
        )
    };
    let scope = |named: bool| {
        let mut ps: Vec<&'static Param> = Vec::new();
        if named {
            ps.push(&NAME);
        }
        if i.namespaced {
            ps.push(&NAMESPACE);
        }
        ps.push(&PRETTY);
        ps
    };
    let op = |method, id: String, description: String, action, params: Vec<&'static Param>| Op {
        method,
        id,
        description,
        action,
        params,
        body: None,
        responses: vec![],
        produces: JSON_TYPES,
        gvk: gvk.clone(),
    };
    let article = |k: &str| {
        if k.starts_with(['A', 'E', 'I', 'O', 'U']) {
            "an"
        } else {
            "a"
        }
    };
    let a = article(kind);
    let lower = kind.to_string();
    // The delete response: the object when the storage returns it, else Status. The namespace
    // registry answers the namespace, but its OpenAPI operation names Status (its REST does
    // not implement `MayReturnFullObjectDeleter`), which is what upstream's document says.
    let delete_type = if k.delete_returns_object() && plural != "namespaces" {
        def.clone()
    } else {
        format!("{META}.Status")
    };
    let list_params: Vec<&'static Param> = LIST_PARAMS.iter().collect();

    let mut collection_ops = Vec::new();
    let mut list = op(
        "get",
        format!("list{gvc}{ns}{kind}"),
        format!("list or watch objects of kind {lower}"),
        "list",
        list_params.clone(),
    );
    list.responses = vec![(200, Some(list_def.clone())), (401, None)];
    list.produces = LIST_TYPES;
    collection_ops.push(list);
    let mut create = op(
        "post",
        format!("create{gvc}{ns}{kind}"),
        format!("create {a} {lower}"),
        "post",
        vec![&DRY_RUN, &FIELD_MANAGER, &FIELD_VALIDATION],
    );
    create.body = Some((def.clone(), &["*/*"]));
    create.responses = vec![
        (200, Some(def.clone())),
        (201, Some(def.clone())),
        (202, Some(def.clone())),
        (401, None),
    ];
    collection_ops.push(create);
    if i.verbs.contains(&"deletecollection") {
        let mut params = vec![&LIST_PARAMS[1], &DRY_RUN, &LIST_PARAMS[2], &GRACE];
        params.extend([&IGNORE_READ_ERR, &LIST_PARAMS[3], &LIST_PARAMS[4], &ORPHAN]);
        params.extend([
            &PROPAGATION,
            &LIST_PARAMS[5],
            &LIST_PARAMS[6],
            &LIST_PARAMS[7],
        ]);
        params.push(&LIST_PARAMS[8]);
        let mut dc = op(
            "delete",
            format!("delete{gvc}Collection{ns}{kind}"),
            format!("delete collection of {lower}"),
            "deletecollection",
            params,
        );
        dc.body = Some((format!("{META}.DeleteOptions"), &["*/*"]));
        dc.responses = vec![(200, Some(format!("{META}.Status"))), (401, None)];
        collection_ops.push(dc);
    }

    let mut object_ops = Vec::new();
    let mut read = op(
        "get",
        format!("read{gvc}{ns}{kind}"),
        format!("read the specified {lower}"),
        "get",
        vec![],
    );
    read.responses = vec![(200, Some(def.clone())), (401, None)];
    object_ops.push(read);
    let mut replace = op(
        "put",
        format!("replace{gvc}{ns}{kind}"),
        format!("replace the specified {lower}"),
        "put",
        vec![&DRY_RUN, &FIELD_MANAGER, &FIELD_VALIDATION],
    );
    replace.body = Some((def.clone(), &["*/*"]));
    replace.responses = vec![
        (200, Some(def.clone())),
        (201, Some(def.clone())),
        (401, None),
    ];
    object_ops.push(replace);
    let mut delete = op(
        "delete",
        format!("delete{gvc}{ns}{kind}"),
        format!("delete {a} {lower}"),
        "delete",
        vec![&DRY_RUN, &GRACE, &IGNORE_READ_ERR, &ORPHAN, &PROPAGATION],
    );
    delete.body = Some((format!("{META}.DeleteOptions"), &["*/*"]));
    delete.responses = vec![
        (200, Some(delete_type.clone())),
        (202, Some(delete_type)),
        (401, None),
    ];
    object_ops.push(delete);
    let mut patch = op(
        "patch",
        format!("patch{gvc}{ns}{kind}"),
        format!("partially update the specified {lower}"),
        "patch",
        vec![&DRY_RUN, &FIELD_MANAGER, &FIELD_VALIDATION, &FORCE],
    );
    let patch_types = if k.custom().is_some() {
        CUSTOM_PATCH_TYPES
    } else {
        PATCH_TYPES
    };
    patch.body = Some((format!("{META}.Patch"), patch_types));
    patch.responses = vec![
        (200, Some(def.clone())),
        (201, Some(def.clone())),
        (401, None),
    ];
    object_ops.push(patch);

    let watch_event = format!("{META}.WatchEvent");
    let mut watch_list = op(
        "get",
        format!("watch{gvc}{ns}{kind}List"),
        format!("watch individual changes to a list of {lower}. deprecated: use the 'watch' parameter with a list operation instead."),
        "watchlist",
        list_params.clone(),
    );
    watch_list.responses = vec![(200, Some(watch_event.clone())), (401, None)];
    watch_list.produces = LIST_TYPES;
    let mut watch_one = op(
        "get",
        format!("watch{gvc}{ns}{kind}"),
        format!("watch changes to an object of kind {lower}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter."),
        "watch",
        list_params.clone(),
    );
    watch_one.responses = vec![(200, Some(watch_event.clone())), (401, None)];
    watch_one.produces = LIST_TYPES;

    let mut out: Vec<PathOps> = vec![
        (coll.clone(), scope(false), collection_ops),
        (format!("{coll}/{{name}}"), scope(true), object_ops),
        (watch_coll.clone(), scope(false), vec![watch_list]),
        (
            format!("{watch_coll}/{{name}}"),
            scope(true),
            vec![watch_one],
        ),
    ];
    if i.namespaced {
        let mut all = op(
            "get",
            format!("list{gvc}{kind}ForAllNamespaces"),
            format!("list or watch objects of kind {lower}"),
            "list",
            list_params.clone(),
        );
        all.responses = vec![(200, Some(list_def)), (401, None)];
        all.produces = LIST_TYPES;
        let mut watch_all = op(
            "get",
            format!("watch{gvc}{kind}ListForAllNamespaces"),
            format!("watch individual changes to a list of {lower}. deprecated: use the 'watch' parameter with a list operation instead."),
            "watchlist",
            list_params,
        );
        watch_all.responses = vec![(200, Some(watch_event)), (401, None)];
        watch_all.produces = LIST_TYPES;
        out.push((format!("{prefix}/{plural}"), vec![&PRETTY], vec![all]));
        out.push((
            format!("{prefix}/watch/{plural}"),
            vec![&PRETTY],
            vec![watch_all],
        ));
    }
    if i.scale {
        let scale = "io.k8s.api.autoscaling.v1.Scale".to_string();
        let sgvk = (
            "autoscaling".to_string(),
            "v1".to_string(),
            "Scale".to_string(),
        );
        let mut read = op(
            "get",
            format!("read{gvc}{ns}{kind}Scale"),
            format!("read scale of the specified {lower}"),
            "get",
            vec![],
        );
        read.responses = vec![(200, Some(scale.clone())), (401, None)];
        read.gvk = sgvk.clone();
        let mut replace = op(
            "put",
            format!("replace{gvc}{ns}{kind}Scale"),
            format!("replace scale of the specified {lower}"),
            "put",
            vec![&DRY_RUN, &FIELD_MANAGER, &FIELD_VALIDATION],
        );
        replace.body = Some((scale.clone(), &["*/*"]));
        replace.responses = vec![
            (200, Some(scale.clone())),
            (201, Some(scale.clone())),
            (401, None),
        ];
        replace.gvk = sgvk.clone();
        let mut patch = op(
            "patch",
            format!("patch{gvc}{ns}{kind}Scale"),
            format!("partially update scale of the specified {lower}"),
            "patch",
            vec![&DRY_RUN, &FIELD_MANAGER, &FIELD_VALIDATION, &FORCE],
        );
        patch.body = Some((format!("{META}.Patch"), PATCH_TYPES));
        patch.responses = vec![(200, Some(scale.clone())), (201, Some(scale)), (401, None)];
        patch.gvk = sgvk;
        out.push((
            format!("{coll}/{{name}}/scale"),
            scope(true),
            vec![read, replace, patch],
        ));
    }
    out
}

fn param(p: &Param, f: Format) -> Value {
    let mut v = json!({
        "name": p.name,
        "in": p.location,
        "description": p.description,
    });
    if p.location == "path" {
        v["required"] = json!(true);
    }
    match f {
        Format::V2 => {
            v["type"] = json!(p.ty);
            v["uniqueItems"] = json!(true);
        }
        Format::V3 => {
            v["schema"] = json!({"type": p.ty, "uniqueItems": true});
        }
    }
    v
}

fn render(op: &Op, f: Format) -> Value {
    let (g, v, k) = &op.gvk;
    let mut o = json!({
        "description": op.description,
        "operationId": op.id,
        "tags": [tag(g, v)],
        "x-kubernetes-action": op.action,
        "x-kubernetes-group-version-kind": {"group": g, "kind": k, "version": v},
    });
    let mut params: Vec<Value> = op.params.iter().map(|p| param(p, f)).collect();
    let mut responses = Map::new();
    for (code, def) in &op.responses {
        let desc = match code {
            200 => "OK",
            201 => "Created",
            202 => "Accepted",
            _ => "Unauthorized",
        };
        let r = match (def, f) {
            (None, _) => json!({"description": desc}),
            (Some(d), Format::V2) => {
                json!({"description": desc, "schema": {"$ref": f.reference(d)}})
            }
            (Some(d), Format::V3) => {
                let content: Map<String, Value> = op
                    .produces
                    .iter()
                    .map(|t| (t.to_string(), json!({"schema": {"$ref": f.reference(d)}})))
                    .collect();
                json!({"description": desc, "content": content})
            }
        };
        responses.insert(code.to_string(), r);
    }
    o["responses"] = Value::Object(responses);
    match f {
        Format::V2 => {
            o["schemes"] = json!(["https"]);
            o["produces"] = json!(op.produces);
            let consumes: &[&str] = match &op.body {
                Some((_, types)) if types != &["*/*"] => types,
                _ => &["*/*"],
            };
            o["consumes"] = json!(consumes);
            if let Some((d, _)) = &op.body {
                params.insert(
                    0,
                    json!({"name": "body", "in": "body", "required": true,
                           "schema": {"$ref": f.reference(d)}}),
                );
            }
        }
        Format::V3 => {
            if let Some((d, types)) = &op.body {
                let content: Map<String, Value> = types
                    .iter()
                    .map(|t| (t.to_string(), json!({"schema": {"$ref": f.reference(d)}})))
                    .collect();
                o["requestBody"] = json!({"content": content, "required": op.method != "delete"});
            }
        }
    }
    o["parameters"] = Value::Array(params);
    o
}
