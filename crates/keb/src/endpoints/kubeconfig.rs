//! `GET /kubeconfig/{instance_id}` as KEB answers it (`internal/kubeconfig/handler.go`
//! `GetKubeconfig`, `handleResponse`, `specifyAllowOriginHeader`, `writeToResponse`) and the
//! kubeconfig it builds (`internal/kubeconfig/builder.go` `Build`, `validKubeconfig`,
//! `getOidcDataFromRuntimeResource`; template `kubeconfigTemplate` in `kubeconfig.go`).

use serde::Serialize;

use super::runtimes::OperationState;

/// `attachmentName`.
pub const ATTACHMENT_NAME: &str = "kubeconfig.yaml";

/// An error answer of the kubeconfig endpoint: `httputil.JSONEncodeWithCode(w, &ErrorResponse{Error: msg}, code)`.
/// `ErrorResponse.Error` has no JSON tag, so the body is `{"Error":"<msg>"}` followed by `\n`
/// (`json.Encoder`), `Content-Type: application/json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct KubeconfigError {
    pub status: u16,
    pub message: String,
}

#[derive(Serialize)]
struct ErrorResponse<'a> {
    #[serde(rename = "Error")]
    error: &'a str,
}

impl KubeconfigError {
    fn new(status: u16, message: impl Into<String>) -> KubeconfigError {
        KubeconfigError {
            status,
            message: message.into(),
        }
    }
    /// The exact bytes: `{"Error":"..."}\n`.
    pub fn body_string(&self) -> String {
        let mut s = super::go_json(&ErrorResponse {
            error: &self.message,
        });
        s.push('\n');
        s
    }
    pub fn content_type(&self) -> &'static str {
        "application/json"
    }
}

/// What the broker knows about the instance (`instanceStorage.GetByID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigInstance {
    pub runtime_id: String,
    /// `Parameters.Parameters.Name`: the context, cluster and first user name of the kubeconfig.
    pub name: String,
}

/// The newest operation of type `provision` of the instance
/// (`GetProvisioningOperationByInstanceID`: `ORDER BY created_at DESC`, so an unsuspension counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningOperation {
    pub instance_id: String,
    pub state: OperationState,
}

/// The checks of `GetKubeconfig` before the kubeconfig is built, in KEB's order.
///
/// * `instance_id`: the path value (`""` for `GET /kubeconfig/` or deeper paths);
/// * `instance`: `None` when the instance does not exist;
/// * `provisioning`: `None` when the instance has no provisioning operation.
///
/// `Ok(())`: build the kubeconfig ([`build_kubeconfig`]) and answer with [`serve`]. Storage
/// errors other than not-found are KEB's 500 with the error text (the broker's own).
pub fn check(
    instance_id: &str,
    instance: Option<&KubeconfigInstance>,
    provisioning: Option<&ProvisioningOperation>,
) -> Result<(), KubeconfigError> {
    if instance_id.is_empty() {
        return Err(KubeconfigError::new(404, "instanceID is required"));
    }
    let Some(instance) = instance else {
        return Err(KubeconfigError::new(
            404,
            format!("instance with ID {instance_id} does not exist"),
        ));
    };
    if instance.runtime_id.is_empty() {
        return Err(KubeconfigError::new(
            404,
            format!("kubeconfig for instance {instance_id} does not exist. Provisioning could be in progress, please try again later"),
        ));
    }
    let Some(op) = provisioning else {
        return Err(KubeconfigError::new(
            404,
            format!("provisioning operation for instance with ID {instance_id} does not exist"),
        ));
    };
    if op.instance_id != instance_id {
        return Err(KubeconfigError::new(
            400,
            "mismatch between operation and instance",
        ));
    }
    match op.state {
        OperationState::InProgress | OperationState::Pending => Err(KubeconfigError::new(
            404,
            format!("provisioning operation for instance {instance_id} is in progress state, kubeconfig not exist yet, please try again later"),
        )),
        OperationState::Failed => Err(KubeconfigError::new(
            404,
            format!("provisioning operation for instance {instance_id} failed, kubeconfig does not exist"),
        )),
        _ => Ok(()),
    }
}

/// The facts KEB reads from the runtime's admin kubeconfig (secret `kcp-system/kubeconfig-<runtimeID>`,
/// key `config`): `current-context` and the first cluster's CA data and server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminKubeconfig {
    pub current_context: String,
    /// `None` when the kubeconfig has no clusters.
    pub first_cluster: Option<(String, String)>,
}

/// The lookup of the admin kubeconfig (`SecretProvider.KubeconfigForRuntimeID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminKubeconfigLookup {
    /// The secret exists (`Found`), does not exist (→ 404 `kubeconfig does not exist`), or
    /// another error with its text (→ 500).
    Found(AdminKubeconfig),
    SecretNotFound,
    Error(String),
}

/// One entry of the KIM `Runtime`'s `spec.shoot.kubernetes.kubeAPIServer.additionalOidcConfig`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcEntry {
    pub issuer_url: Option<String>,
    pub client_id: Option<String>,
}

/// The KIM `Runtime` CR (`kcp-system/<runtimeID>`) as `getOidcDataFromRuntimeResource` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeResourceLookup {
    /// `additionalOidcConfig`: `None` when the field is nil.
    Found(Option<Vec<OidcEntry>>),
    /// The get failed (not found included) with this error text.
    Error(String),
}

/// `Builder.Build` → the kubeconfig text, or the handler's error:
/// secret not found → 404 `kubeconfig does not exist`; any other error → 500
/// `cannot fetch SKR kubeconfig: <Build's error>`.
pub fn build_kubeconfig(
    instance: &KubeconfigInstance,
    admin: &AdminKubeconfigLookup,
    runtime_resource: &RuntimeResourceLookup,
) -> Result<String, KubeconfigError> {
    let fail = |e: String| KubeconfigError::new(500, format!("cannot fetch SKR kubeconfig: {e}"));
    if instance.runtime_id.is_empty() {
        return Err(fail("RuntimeID must not be empty".into()));
    }
    let admin = match admin {
        AdminKubeconfigLookup::Found(a) => a,
        AdminKubeconfigLookup::SecretNotFound => {
            return Err(KubeconfigError::new(404, "kubeconfig does not exist"))
        }
        AdminKubeconfigLookup::Error(e) => return Err(fail(e.clone())),
    };
    // validKubeconfig, wrapped by unmarshal and Build.
    let invalid = |m: &str| {
        fail(format!(
            "during unmarshal invocation: while validation kubeconfig fetched by provisioner: {m}"
        ))
    };
    if admin.current_context.is_empty() {
        return Err(invalid("current context is empty"));
    }
    let Some((ca, server)) = &admin.first_cluster else {
        return Err(invalid("there are no defined clusters"));
    };
    if ca.is_empty() || server.is_empty() {
        return Err(invalid("there are no cluster certificate or server info"));
    }
    let oidc_err = |m: &str| fail(format!("while fetching oidc data: {m}"));
    let entries = match runtime_resource {
        RuntimeResourceLookup::Error(e) => return Err(oidc_err(e)),
        RuntimeResourceLookup::Found(None) => {
            return Err(oidc_err(
                "Runtime Resource contains no additional OIDC config",
            ))
        }
        RuntimeResourceLookup::Found(Some(entries)) => entries,
    };
    let mut users = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let Some(issuer) = &e.issuer_url else {
            return Err(oidc_err(
                "Runtime Resource contains an empty OIDC issuer URL",
            ));
        };
        let Some(client) = &e.client_id else {
            return Err(oidc_err(
                "Runtime Resource contains an empty OIDC client ID",
            ));
        };
        let name = if i == 0 {
            instance.name.clone()
        } else {
            format!("{}-{}", instance.name, i + 1)
        };
        users.push((name, issuer.clone(), client.clone()));
    }
    Ok(render(&instance.name, ca, server, &users))
}

/// `kubeconfigTemplate` rendered by `text/template` (values are not quoted or escaped).
/// `users`: `(name, issuerURL, clientID)`.
pub fn render(
    context: &str,
    ca_data: &str,
    server: &str,
    users: &[(String, String, String)],
) -> String {
    let mut s = format!(
        "\n---\napiVersion: v1\nkind: Config\ncurrent-context: {context}\nclusters:\n- name: {context}\n  cluster:\n    certificate-authority-data: {ca_data}\n    server: {server}\ncontexts:"
    );
    if users.is_empty() {
        s.push_str(&format!(
            "\n- name: {context}\n  context:\n    cluster: {context}\n"
        ));
        return s;
    }
    for (name, _, _) in users {
        s.push_str(&format!(
            "\n- name: {name}\n  context:\n    cluster: {context}\n    user: {name}"
        ));
    }
    s.push_str("\nusers:");
    for (name, issuer, client) in users {
        s.push_str(&format!(
            "\n- name: {name}\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      args:\n      - get-token\n      - \"--oidc-issuer-url={issuer}\"\n      - \"--oidc-client-id={client}\"\n      - \"--oidc-extra-scope=email\"\n      - \"--oidc-extra-scope=openid\"\n      command: kubectl-oidc_login\n      installHint: |\n        kubelogin plugin is required to proceed with authentication\n        # Homebrew (macOS and Linux)\n        brew install int128/kubelogin/kubelogin\n\n        # Krew (macOS, Linux, Windows and ARM)\n        kubectl krew install oidc-login\n\n        # Chocolatey (Windows)\n        choco install kubelogin"
        ));
    }
    s.push('\n');
    s
}

/// The success answer (`writeToResponse`): status 200, these headers, the kubeconfig as body.
pub fn serve_headers() -> Vec<(&'static str, String)> {
    vec![
        (
            "Content-Disposition",
            format!("attachment; filename={ATTACHMENT_NAME}"),
        ),
        ("Content-Type", "application/x-yaml".to_string()),
    ]
}

/// `specifyAllowOriginHeader`: the `Access-Control-Allow-Origin` value, if any, for the request's
/// `Origin` header and KEB's `kubeconfig.allowOrigins` (comma-separated, or `*`). KEB sets it for
/// every answer after the `instanceID is required` check. KEB passes a matched origin through
/// `sanitize.HTML`; an origin equal to a configured one is returned as is here.
pub fn allow_origin(origin: Option<&str>, allow_origins: &str) -> Option<String> {
    let origin = origin.unwrap_or("").replace(['\r', '\n'], "");
    if origin.is_empty() {
        return None;
    }
    if allow_origins == "*" {
        return Some("*".into());
    }
    allow_origins
        .split(',')
        .any(|o| o == origin)
        .then_some(origin)
}
