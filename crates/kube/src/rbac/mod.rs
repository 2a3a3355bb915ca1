//! RBAC objects (rbac.authorization.k8s.io/v1): their v1 defaulting
//! (pkg/apis/rbac/v1/defaults.go), validation (pkg/apis/rbac/validation/validation.go, names
//! by `ValidateRBACName`, i.e. path segments, checked with the ObjectMeta) and what kubectl's
//! table shows of a binding (printers.go `printRoleBinding`, rbac `SubjectsStrings`).
//!
//! twinstack stores and serves them; it does not authorize with them (one admin per runtime).

#[cfg(test)]
mod tests;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role, RoleRef, Subject};
use twinstack_core::field::{go_quote, BadValue, ErrorList, FieldError, Path};
use twinstack_core::meta::NameValidation;
use twinstack_core::selector::{validate_label_selector, LabelSelector};

/// `rbac.GroupName`.
pub const GROUP_NAME: &str = "rbac.authorization.k8s.io";
pub const SERVICE_ACCOUNT_KIND: &str = "ServiceAccount";
pub const USER_KIND: &str = "User";
pub const GROUP_KIND: &str = "Group";

/// `SetDefaults_RoleBinding` / `SetDefaults_ClusterRoleBinding`: `roleRef.apiGroup`, then
/// `SetDefaults_Subject` on each subject (Users and Groups are RBAC's, ServiceAccounts core's).
pub fn set_binding_defaults(role_ref: &mut RoleRef, subjects: Option<&mut Vec<Subject>>) {
    if role_ref.api_group.is_empty() {
        role_ref.api_group = GROUP_NAME.into();
    }
    for s in subjects.into_iter().flatten() {
        // An empty apiGroup is omitted from JSON (`omitempty`), so it is kept as none.
        if s.api_group.as_deref().unwrap_or("").is_empty() {
            s.api_group = match s.kind.as_str() {
                USER_KIND | GROUP_KIND => Some(GROUP_NAME.into()),
                _ => None,
            };
        }
    }
}

/// `%#v` of a `[]string`.
fn go_strings(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| go_quote(s)).collect();
    format!("[]string{{{}}}", items.join(", "))
}

/// `ValidatePolicyRule`.
pub fn validate_policy_rule(rule: &PolicyRule, namespaced: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let len = |v: &Option<Vec<String>>| v.as_ref().map_or(0, Vec::len);
    if rule.verbs.is_empty() {
        errs.push(FieldError::required(
            &path.child("verbs"),
            "verbs must contain at least one value",
        ));
    }
    let urls = rule.non_resource_urls.clone().unwrap_or_default();
    if !urls.is_empty() {
        let value = || BadValue::Raw(go_strings(&urls));
        if namespaced {
            errs.push(FieldError::invalid(
                &path.child("nonResourceURLs"),
                value(),
                "namespaced rules cannot apply to non-resource URLs",
            ));
        }
        if len(&rule.api_groups) > 0 || len(&rule.resources) > 0 || len(&rule.resource_names) > 0 {
            errs.push(FieldError::invalid(
                &path.child("nonResourceURLs"),
                value(),
                "rules cannot apply to both regular resources and non-resource URLs",
            ));
        }
        return errs;
    }
    if len(&rule.api_groups) == 0 {
        errs.push(FieldError::required(
            &path.child("apiGroups"),
            "resource rules must supply at least one api group",
        ));
    }
    if len(&rule.resources) == 0 {
        errs.push(FieldError::required(
            &path.child("resources"),
            "resource rules must supply at least one resource",
        ));
    }
    errs
}

fn validate_rules(rules: Option<&Vec<PolicyRule>>, namespaced: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    for (i, r) in rules.into_iter().flatten().enumerate() {
        errs.extend(validate_policy_rule(
            r,
            namespaced,
            &Path::new("rules").index(i),
        ));
    }
    errs
}

/// `ValidateRole` past the ObjectMeta.
pub fn validate_role(role: &Role) -> ErrorList {
    validate_rules(role.rules.as_ref(), true)
}

/// `ValidateClusterRole` past the ObjectMeta: the rules and the aggregation rule's selectors.
pub fn validate_cluster_role(role: &ClusterRole) -> ErrorList {
    let mut errs = validate_rules(role.rules.as_ref(), false);
    if let Some(agg) = &role.aggregation_rule {
        let path = Path::new("aggregationRule").child("clusterRoleSelectors");
        let selectors = agg.cluster_role_selectors.as_deref().unwrap_or(&[]);
        if selectors.is_empty() {
            errs.push(FieldError::required(
                &path,
                "at least one clusterRoleSelector required if aggregationRule is non-nil",
            ));
        }
        for (i, sel) in selectors.iter().enumerate() {
            let p = path.index(i);
            errs.extend(validate_label_selector(Some(sel), false, &p));
            if LabelSelector::from_metav1(Some(sel)).is_err() {
                errs.push(FieldError::invalid(
                    &p,
                    BadValue::Raw("<nil>".into()),
                    "invalid label selector.",
                ));
            }
        }
    }
    errs
}

/// `ValidateRoleBinding` (`namespaced`) or `ValidateClusterRoleBinding` past the ObjectMeta.
pub fn validate_binding(role_ref: &RoleRef, subjects: &[Subject], namespaced: bool) -> ErrorList {
    let mut errs = ErrorList::new();
    let rr = Path::new("roleRef");
    if role_ref.api_group != GROUP_NAME {
        errs.push(FieldError::not_supported(
            &rr.child("apiGroup"),
            BadValue::str(&role_ref.api_group),
            &[GROUP_NAME],
        ));
    }
    let kinds: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !kinds.contains(&role_ref.kind.as_str()) {
        errs.push(FieldError::not_supported(
            &rr.child("kind"),
            BadValue::str(&role_ref.kind),
            kinds,
        ));
    }
    if role_ref.name.is_empty() {
        errs.push(FieldError::required(&rr.child("name"), ""));
    } else {
        for m in NameValidation::PathSegment.validate(&role_ref.name, false) {
            errs.push(FieldError::invalid(
                &rr.child("name"),
                BadValue::str(&role_ref.name),
                m,
            ));
        }
    }
    for (i, s) in subjects.iter().enumerate() {
        errs.extend(validate_subject(
            s,
            namespaced,
            &Path::new("subjects").index(i),
        ));
    }
    errs
}

/// `ValidateRoleBindingUpdate` / `ValidateClusterRoleBindingUpdate`: `roleRef` never changes.
pub fn validate_binding_update(new: &RoleRef, old: &RoleRef) -> ErrorList {
    if new == old {
        return ErrorList::new();
    }
    vec![FieldError::invalid(
        &Path::new("roleRef"),
        BadValue::Raw(format!(
            "rbac.RoleRef{{APIGroup:{}, Kind:{}, Name:{}}}",
            go_quote(&new.api_group),
            go_quote(&new.kind),
            go_quote(&new.name)
        )),
        "cannot change roleRef",
    )]
}

/// `ValidateRoleBindingSubject`.
pub fn validate_subject(s: &Subject, namespaced: bool, path: &Path) -> ErrorList {
    let mut errs = ErrorList::new();
    let api_group = s.api_group.as_deref().unwrap_or("");
    if s.name.is_empty() {
        errs.push(FieldError::required(&path.child("name"), ""));
    }
    match s.kind.as_str() {
        SERVICE_ACCOUNT_KIND => {
            if !s.name.is_empty() {
                for m in NameValidation::Dns1123Subdomain.validate(&s.name, false) {
                    errs.push(FieldError::invalid(
                        &path.child("name"),
                        BadValue::str(&s.name),
                        m,
                    ));
                }
            }
            if !api_group.is_empty() {
                errs.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    BadValue::str(api_group),
                    &[""],
                ));
            }
            if !namespaced && s.namespace.as_deref().unwrap_or("").is_empty() {
                errs.push(FieldError::required(&path.child("namespace"), ""));
            }
        }
        USER_KIND | GROUP_KIND => {
            if api_group != GROUP_NAME {
                errs.push(FieldError::not_supported(
                    &path.child("apiGroup"),
                    BadValue::str(api_group),
                    &[GROUP_NAME],
                ));
            }
        }
        other => errs.push(FieldError::not_supported(
            &path.child("kind"),
            BadValue::str(other),
            &[SERVICE_ACCOUNT_KIND, USER_KIND, GROUP_KIND],
        )),
    }
    errs
}

/// rbac `SubjectsStrings`: users, groups, service accounts (`namespace/name`) and others
/// (`kind/namespace/name`).
pub fn subjects_strings(subjects: &[Subject]) -> [Vec<String>; 4] {
    let mut out: [Vec<String>; 4] = Default::default();
    for s in subjects {
        let ns = s.namespace.as_deref().unwrap_or("");
        match s.kind.as_str() {
            SERVICE_ACCOUNT_KIND => out[2].push(format!("{ns}/{}", s.name)),
            USER_KIND => out[0].push(s.name.clone()),
            GROUP_KIND => out[1].push(s.name.clone()),
            kind => out[3].push(format!("{kind}/{ns}/{}", s.name)),
        }
    }
    out
}

/// `printRoleBinding` / `printClusterRoleBinding` cells after the name and before the age:
/// `Kind/name` of the role; wide adds users, groups and service accounts, comma-joined.
pub fn binding_cells(role_ref: &RoleRef, subjects: &[Subject]) -> (String, [String; 3]) {
    let [users, groups, sas, _] = subjects_strings(subjects);
    (
        format!("{}/{}", role_ref.kind, role_ref.name),
        [users.join(", "), groups.join(", "), sas.join(", ")],
    )
}
