//! Content negotiation as kube-apiserver does it: `Accept` media types with `as`, `v`, `g`
//! parameters (Table, PartialObjectMetadata), request body types, and patch types.

/// What the client asked to receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// The object or list as JSON.
    Json,
    /// A `meta.k8s.io` Table (`as=Table`).
    Table,
    /// YAML (`application/yaml`), as some clients request.
    Yaml,
}

/// Parses an `Accept` header. The first acceptable entry wins, as in the apiserver's negotiation
/// (clients list their preference first). `None` means nothing we can produce was accepted.
pub fn output(accept: Option<&str>) -> Option<Output> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Output::Json);
    };
    for entry in accept.split(',') {
        let mut parts = entry.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let mut as_ = None;
        let mut g = None;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                match k.trim() {
                    "as" => as_ = Some(v.trim().to_string()),
                    "g" => g = Some(v.trim().to_string()),
                    _ => {}
                }
            }
        }
        let json_like = matches!(media.as_str(), "application/json" | "*/*" | "application/*");
        match (json_like, as_.as_deref(), g.as_deref()) {
            (true, Some("Table"), Some("meta.k8s.io")) => return Some(Output::Table),
            (true, None, _) => return Some(Output::Json),
            _ => {}
        }
        if media == "application/yaml" && as_.is_none() {
            return Some(Output::Yaml);
        }
    }
    None
}

/// The body types a write accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    Json,
    Yaml,
    /// `application/vnd.kubernetes.protobuf`, which kubectl's typed clients send (for example
    /// `kubectl create namespace`).
    Protobuf,
}

pub fn body_type(content_type: Option<&str>) -> Option<BodyType> {
    let media = content_type
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" | "" => Some(BodyType::Json),
        "application/yaml" => Some(BodyType::Yaml),
        "application/vnd.kubernetes.protobuf" => Some(BodyType::Protobuf),
        _ => None,
    }
}

pub use twinstack_registry::registry::PatchType;

pub fn patch_type(content_type: Option<&str>) -> Option<PatchType> {
    let media = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json-patch+json" => Some(PatchType::Json),
        "application/merge-patch+json" => Some(PatchType::Merge),
        "application/strategic-merge-patch+json" => Some(PatchType::Strategic),
        // `application/apply-patch+cbor` needs the CBORServingAndStorage gate (alpha, off in
        // 1.32): kube-apiserver answers it 415 like any unknown patch type.
        "application/apply-patch+yaml" => Some(PatchType::Apply),
        _ => None,
    }
}

pub const PATCH_TYPES_MESSAGE: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json";
/// The same refusal for a custom resource, which takes no strategic merge patch
/// (apiextensions-apiserver's `crdHandler.serveResource` lists only these three).
pub const CUSTOM_PATCH_TYPES_MESSAGE: &str = "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_types_of_kube_apiserver_1_32() {
        assert_eq!(
            patch_type(Some("application/apply-patch+yaml; charset=utf-8")),
            Some(PatchType::Apply)
        );
        assert_eq!(patch_type(Some("application/apply-patch+cbor")), None);
        assert_eq!(patch_type(Some("application/json")), None);
    }

    #[test]
    fn kubectl_accept_headers() {
        let get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(output(Some(get)), Some(Output::Table));
        assert_eq!(output(Some("application/json")), Some(Output::Json));
        assert_eq!(output(None), Some(Output::Json));
        assert_eq!(
            output(Some("application/vnd.kubernetes.protobuf,application/json")),
            Some(Output::Json)
        );
        assert_eq!(output(Some("application/vnd.kubernetes.protobuf")), None);
        let disco =
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";
        assert_eq!(output(Some(disco)), Some(Output::Json));
    }
}
