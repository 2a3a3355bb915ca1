//! What a request under `/runtimes/{runtime}/` addresses, parsed as kube-apiserver's
//! `RequestInfoFactory` parses a path (k8s.io/apiserver `pkg/endpoints/request/requestinfo.go`).

/// The parsed target of a request under `/runtimes/{runtime}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Version,
    Api,
    Apis,
    ApiGroup(String),
    ResourceList(String, String),
    OpenApiV2,
    OpenApiV3,
    /// `/openapi/v3/<group/version path>` (`api/v1`, `apis/apps/v1`).
    OpenApiV3Gv(String),
    Resource(ResourceRequest),
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRequest {
    pub group: String,
    pub version: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub subresource: Option<String>,
    /// Addressed through the deprecated `/watch/` path prefix (`/api/v1/watch/pods`), which
    /// makes a GET a watch as `?watch=true` does.
    pub watch: bool,
}

/// Parses the path below `/runtimes/{runtime}`.
pub fn parse_target(segs: &[&str]) -> Target {
    match segs {
        ["version"] => Target::Version,
        ["api"] => Target::Api,
        ["apis"] => Target::Apis,
        ["openapi", "v2"] => Target::OpenApiV2,
        ["openapi", "v3"] => Target::OpenApiV3,
        ["openapi", "v3", gv @ ..] => Target::OpenApiV3Gv(gv.join("/")),
        ["apis", g] => Target::ApiGroup(g.to_string()),
        ["api", "v1"] => Target::ResourceList(String::new(), "v1".into()),
        ["apis", g, v] => Target::ResourceList(g.to_string(), v.to_string()),
        // RequestInfoFactory's special verb `watch` right after the group version.
        ["api", "v1", "watch", rest @ ..] if !rest.is_empty() => {
            legacy_watch(resource_target("", "v1", rest))
        }
        ["apis", g, v, "watch", rest @ ..] if !rest.is_empty() => {
            legacy_watch(resource_target(g, v, rest))
        }
        ["api", "v1", rest @ ..] => resource_target("", "v1", rest),
        ["apis", g, v, rest @ ..] => resource_target(g, v, rest),
        _ => Target::Unknown,
    }
}

fn legacy_watch(t: Target) -> Target {
    match t {
        Target::Resource(r) if r.subresource.is_none() => {
            Target::Resource(ResourceRequest { watch: true, ..r })
        }
        _ => Target::Unknown,
    }
}

fn resource_target(group: &str, version: &str, rest: &[&str]) -> Target {
    let rr = |resource: &str, namespace: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        Target::Resource(ResourceRequest {
            group: group.into(),
            version: version.into(),
            resource: resource.into(),
            namespace: namespace.map(String::from),
            name: name.map(String::from),
            subresource: sub.map(String::from),
            watch: false,
        })
    };
    match rest {
        // /namespaces/{ns} and its subresources address the Namespace object itself.
        ["namespaces"] => rr("namespaces", None, None, None),
        ["namespaces", ns] => rr("namespaces", None, Some(ns), None),
        ["namespaces", ns, sub @ ("status" | "finalize")] => {
            rr("namespaces", None, Some(ns), Some(sub))
        }
        ["namespaces", ns, res] => rr(res, Some(ns), None, None),
        ["namespaces", ns, res, name] => rr(res, Some(ns), Some(name), None),
        ["namespaces", ns, res, name, sub] => rr(res, Some(ns), Some(name), Some(sub)),
        [res] => rr(res, None, None, None),
        [res, name] => rr(res, None, Some(name), None),
        [res, name, sub] => rr(res, None, Some(name), Some(sub)),
        _ => Target::Unknown,
    }
}
