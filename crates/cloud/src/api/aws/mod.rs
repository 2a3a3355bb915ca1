//! The ELBv2 (2015-12-01) and EC2 (2016-11-15) Query APIs over a runtime's VPC and load
//! balancers, read-only: [`handle`] takes the decoded form parameters (`Action`, `Version`,
//! `Names.member.1`, `Filter.1.Name`, ...) and answers in the protocol's XML, as botocore's
//! `query` and `ec2` parsers read it (`crates/cloud/tests/botocore_parse.py` checks that).
//!
//! Shapes and member names follow botocore's service models
//! (`botocore/data/elbv2/2015-12-01/service-2.json`, `ec2/2016-11-15/service-2.json`).

mod ec2;
mod elbv2;

use crate::api::sigv4::SigV4Error;
use crate::api::xml::Xml;
use crate::inventory::{LoadBalancer, Vpc};

/// Which Query API a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsService {
    /// Elastic Load Balancing v2, signing name `elasticloadbalancing`.
    Elbv2,
    /// EC2, signing name `ec2`.
    Ec2,
}

impl AwsService {
    /// From the SigV4 credential scope's service (`elasticloadbalancing`, `ec2`): the shell
    /// routes one endpoint per runtime by it.
    pub fn from_signing_name(name: &str) -> Option<Self> {
        match name {
            "elasticloadbalancing" => Some(AwsService::Elbv2),
            "ec2" => Some(AwsService::Ec2),
            _ => None,
        }
    }

    pub fn signing_name(self) -> &'static str {
        match self {
            AwsService::Elbv2 => "elasticloadbalancing",
            AwsService::Ec2 => "ec2",
        }
    }

    /// The `Version` parameter the CLI sends.
    pub fn api_version(self) -> &'static str {
        match self {
            AwsService::Elbv2 => "2015-12-01",
            AwsService::Ec2 => "2016-11-15",
        }
    }

    /// The XML namespace of the answers.
    pub fn xmlns(self) -> &'static str {
        match self {
            AwsService::Elbv2 => "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
            AwsService::Ec2 => "http://ec2.amazonaws.com/doc/2016-11-15/",
        }
    }
}

/// What the APIs describe: the runtime's VPC and its load balancers (Classic ELBs among them
/// are skipped by ELBv2; leaked ones are listed).
#[derive(Debug, Clone, Copy)]
pub struct AwsView<'a> {
    pub vpc: &'a Vpc,
    pub load_balancers: &'a [LoadBalancer],
    pub region: &'a str,
    pub account_id: &'a str,
}

/// An error as AWS answers it: HTTP status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl AwsError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        AwsError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// The error a refused signature gets from `service`: ELBv2 answers the SigV4 codes as they
/// are; EC2 answers an unknown key or a wrong signature with `AuthFailure` (401) "AWS was not
/// able to validate the provided access credentials", and an expired one with
/// `RequestExpired`.
pub fn auth_error(service: AwsService, error: &SigV4Error) -> AwsError {
    match (service, error) {
        (AwsService::Ec2, SigV4Error::InvalidClientTokenId | SigV4Error::SignatureDoesNotMatch) => {
            AwsError::new(
                401,
                "AuthFailure",
                "AWS was not able to validate the provided access credentials",
            )
        }
        (
            AwsService::Ec2,
            SigV4Error::SignatureExpired { .. } | SigV4Error::SignatureNotYetCurrent { .. },
        ) => AwsError::new(400, "RequestExpired", "Request has expired."),
        (AwsService::Ec2, SigV4Error::MissingAuthenticationToken) => AwsError::new(
            401,
            "AuthFailure",
            "AWS was not able to authenticate the request: access credentials are missing",
        ),
        _ => AwsError::new(error.status(), error.code(), error.to_string()),
    }
}

/// Answers one Query API request: `params` are the decoded form (or query) parameters,
/// `Action` and `Version` among them. Returns the HTTP status and the XML body
/// (`text/xml`).
pub fn handle(
    service: AwsService,
    params: &[(String, String)],
    view: &AwsView<'_>,
    request_id: &str,
) -> (u16, String) {
    let action = param(params, "Action").unwrap_or_default();
    let result = match service {
        AwsService::Elbv2 => elbv2::answer(action, params, view),
        AwsService::Ec2 => ec2::answer(action, params, view),
    };
    let result = result.unwrap_or_else(|| Err(unknown_action(service, action, view)));
    match result {
        Ok(body) => (200, wrap(service, action, &body, request_id)),
        Err(error) => (error.status, error_xml(service, &error, request_id)),
    }
}

/// The error body of `service` for `error`: ELBv2's `ErrorResponse`, EC2's
/// `Response/Errors`.
pub fn error_xml(service: AwsService, error: &AwsError, request_id: &str) -> String {
    match service {
        AwsService::Elbv2 => {
            let mut x = Xml::new();
            x.open_ns("ErrorResponse", service.xmlns());
            x.elem("Error", |x| {
                x.leaf(
                    "Type",
                    if error.status >= 500 {
                        "Receiver"
                    } else {
                        "Sender"
                    },
                );
                x.leaf("Code", &error.code);
                x.leaf("Message", &error.message);
            });
            x.leaf("RequestId", request_id);
            x.close("ErrorResponse");
            x.finish()
        }
        AwsService::Ec2 => {
            let mut x = Xml::new().declaration();
            x.elem("Response", |x| {
                x.elem("Errors", |x| {
                    x.elem("Error", |x| {
                        x.leaf("Code", &error.code);
                        x.leaf("Message", &error.message);
                    });
                });
                x.leaf("RequestID", request_id);
            });
            x.finish()
        }
    }
}

/// `<ActionResponse xmlns><ActionResult>body</ActionResult><ResponseMetadata>...` (ELBv2),
/// `<ActionResponse xmlns><requestId/>body` (EC2).
fn wrap(service: AwsService, action: &str, body: &str, request_id: &str) -> String {
    let response = format!("{action}Response");
    match service {
        AwsService::Elbv2 => {
            let mut x = Xml::new();
            x.open_ns(&response, service.xmlns());
            let result = format!("{action}Result");
            x.open(&result).raw(body).close(&result);
            x.elem("ResponseMetadata", |x| {
                x.leaf("RequestId", request_id);
            });
            x.close(&response);
            x.finish()
        }
        AwsService::Ec2 => {
            let mut x = Xml::new().declaration();
            x.open_ns(&response, service.xmlns());
            x.leaf("requestId", request_id);
            x.raw(body);
            x.close(&response);
            x.finish()
        }
    }
}

/// Verbs of the actions that change something: twinstack answers them read-only.
const WRITE_VERBS: &[&str] = &[
    "Accept",
    "Add",
    "Allocate",
    "Apply",
    "Assign",
    "Associate",
    "Attach",
    "Authorize",
    "Cancel",
    "Copy",
    "Create",
    "Delete",
    "Deregister",
    "Detach",
    "Disable",
    "Disassociate",
    "Enable",
    "Import",
    "Modify",
    "Move",
    "Purchase",
    "Put",
    "Reboot",
    "Register",
    "Reject",
    "Release",
    "Remove",
    "Replace",
    "Request",
    "Reset",
    "Restore",
    "Revoke",
    "Run",
    "Set",
    "Start",
    "Stop",
    "Terminate",
    "Unassign",
    "Update",
];

/// An action twinstack does not answer: a write (read-only: `AccessDenied` for ELBv2,
/// `UnauthorizedOperation` for EC2, both 403), anything else `InvalidAction` as AWS answers an
/// unknown action.
fn unknown_action(service: AwsService, action: &str, view: &AwsView<'_>) -> AwsError {
    let is_write = WRITE_VERBS.iter().any(|verb| {
        action
            .strip_prefix(verb)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    });
    match (service, is_write) {
        (AwsService::Elbv2, true) => AwsError::new(
            403,
            "AccessDenied",
            format!(
                "User: arn:aws:iam::{}:user/twinstack is not authorized to perform: elasticloadbalancing:{action} because the twinstack cloud API is read-only (the runtime's load balancer controllers own these resources)",
                view.account_id
            ),
        ),
        (AwsService::Ec2, true) => AwsError::new(
            403,
            "UnauthorizedOperation",
            format!("You are not authorized to perform this operation. ec2:{action} is refused: the twinstack cloud API is read-only."),
        ),
        (AwsService::Elbv2, false) => {
            AwsError::new(400, "InvalidAction", format!("Could not find operation {action} for version {}", service.api_version()))
        }
        (AwsService::Ec2, false) => {
            AwsError::new(400, "InvalidAction", format!("The action {action} is not valid for this web service."))
        }
    }
}

/// An action's answer: `None` when the service has no such read action.
type Answer = Option<Result<String, AwsError>>;

/// The first value of `name`.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `prefix.1`, `prefix.2`, ... in index order (the Query API's lists: `Names.member`,
/// `SubnetId`, `Filter.1.Value`).
fn list<'a>(params: &'a [(String, String)], prefix: &str) -> Vec<&'a str> {
    let mut items: Vec<(u32, &str)> = params
        .iter()
        .filter_map(|(n, v)| {
            let index = n.strip_prefix(prefix)?.strip_prefix('.')?.parse().ok()?;
            Some((index, v.as_str()))
        })
        .collect();
    items.sort_by_key(|(i, _)| *i);
    items.into_iter().map(|(_, v)| v).collect()
}

#[cfg(test)]
mod tests;
