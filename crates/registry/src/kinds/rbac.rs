//! The RBAC kinds (rbac.authorization.k8s.io/v1): Roles, ClusterRoles, RoleBindings and
//! ClusterRoleBindings, stored and served with upstream's defaulting, validation and tables
//! (`twinstack_kube::rbac`), so charts that ship them apply. Authorization does not read them:
//! each runtime has one admin.

use super::{Kind, ResourceInfo, Strategy, ALL_VERBS};
use crate::decode;
use crate::runtimes::Runtime;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde_json::{json, Value};
use twinstack_core::field::ErrorList;
use twinstack_core::status::Status;
use twinstack_kube::rbac;
use twinstack_kube::table::{self, Column};

const fn info(
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceInfo {
    ResourceInfo {
        group: rbac::GROUP_NAME,
        version: "v1",
        plural,
        singular,
        kind,
        namespaced,
        short_names: &[],
        categories: &[],
        verbs: ALL_VERBS,
        storage: plural,
        scale: false,
    }
}

pub static ROLE: ResourceInfo = info("roles", "role", "Role", true);
pub static CLUSTER_ROLE: ResourceInfo = info("clusterroles", "clusterrole", "ClusterRole", false);
pub static ROLE_BINDING: ResourceInfo = info("rolebindings", "rolebinding", "RoleBinding", true);
pub static CLUSTER_ROLE_BINDING: ResourceInfo = info(
    "clusterrolebindings",
    "clusterrolebinding",
    "ClusterRoleBinding",
    false,
);

/// One of the four RBAC kinds.
pub struct RbacKind {
    pub info: &'static ResourceInfo,
}

use super::typed;

/// Pass-through: only validation (and a binding's roleRef is immutable).
impl Strategy for RbacKind {
    fn validate(&self, _rt: &Runtime, obj: &Value) -> Result<ErrorList, Status> {
        let kind = self.info.kind;
        Ok(match kind {
            "Role" => rbac::validate_role(&typed::<Role>(obj, kind)?),
            "ClusterRole" => rbac::validate_cluster_role(&typed::<ClusterRole>(obj, kind)?),
            "RoleBinding" => {
                let b: RoleBinding = typed(obj, kind)?;
                rbac::validate_binding(&b.role_ref, b.subjects.as_deref().unwrap_or(&[]), true)
            }
            _ => {
                let b: ClusterRoleBinding = typed(obj, kind)?;
                rbac::validate_binding(&b.role_ref, b.subjects.as_deref().unwrap_or(&[]), false)
            }
        })
    }

    fn validate_update(&self, rt: &Runtime, new: &Value, old: &Value) -> Result<ErrorList, Status> {
        let mut errs = self.validate(rt, new)?;
        if self.is_binding() {
            errs.extend(rbac::validate_binding_update(
                &role_ref(new),
                &role_ref(old),
            ));
        }
        Ok(errs)
    }
}

impl RbacKind {
    fn is_binding(&self) -> bool {
        self.info.kind.ends_with("Binding")
    }
}

fn role_ref(v: &Value) -> k8s_openapi::api::rbac::v1::RoleRef {
    v.get("roleRef")
        .and_then(|r| serde_json::from_value(r.clone()).ok())
        .unwrap_or_default()
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

impl Kind for RbacKind {
    fn info(&self) -> &'static ResourceInfo {
        self.info
    }

    fn decode(&self, v: &Value) -> Result<(Value, Vec<String>), String> {
        let out = match self.info.kind {
            "Role" => {
                let (r, unknown): (Role, _) = decode::typed(v)?;
                (serde_json::to_value(r).map_err(|e| e.to_string())?, unknown)
            }
            "ClusterRole" => {
                let (r, unknown): (ClusterRole, _) = decode::typed(v)?;
                (serde_json::to_value(r).map_err(|e| e.to_string())?, unknown)
            }
            "RoleBinding" => {
                let (mut b, unknown): (RoleBinding, _) = decode::typed(v)?;
                rbac::set_binding_defaults(&mut b.role_ref, b.subjects.as_mut());
                (serde_json::to_value(b).map_err(|e| e.to_string())?, unknown)
            }
            _ => {
                let (mut b, unknown): (ClusterRoleBinding, _) = decode::typed(v)?;
                rbac::set_binding_defaults(&mut b.role_ref, b.subjects.as_mut());
                (serde_json::to_value(b).map_err(|e| e.to_string())?, unknown)
            }
        };
        Ok(out)
    }

    /// Bindings: printers.go `roleBindingsColumnDefinitions` /
    /// `clusterRoleBindingsColumnDefinitions`. Roles have no printer upstream: the default
    /// table convertor's Name and Created At.
    fn columns(&self) -> Vec<Column> {
        if !self.is_binding() {
            return vec![
                Column::name_column(),
                Column {
                    name: "Created At",
                    ty: "date",
                    format: "",
                    description: table::AGE_DESCRIPTION,
                    priority: 0,
                },
            ];
        }
        let (role, users, groups, sas) = if self.info.namespaced {
            (
                "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
                "Users in the roleBinding",
                "Groups in the roleBinding",
                "ServiceAccounts in the roleBinding",
            )
        } else {
            (
                "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.",
                "Users in the clusterRoleBinding",
                "Groups in the clusterRoleBinding",
                "ServiceAccounts in the clusterRoleBinding",
            )
        };
        vec![
            Column::name_column(),
            Column::new("Role", role),
            Column::new("Age", table::AGE_DESCRIPTION),
            Column::new("Users", users).wide(),
            Column::new("Groups", groups).wide(),
            Column::new("ServiceAccounts", sas).wide(),
        ]
    }

    fn row(&self, obj: &Value, _wide: bool, now: jiff::Timestamp) -> Vec<Value> {
        let created = obj
            .pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str);
        if !self.is_binding() {
            return vec![json!(name_of(obj)), json!(created.unwrap_or(""))];
        }
        let subjects: Vec<k8s_openapi::api::rbac::v1::Subject> = obj
            .get("subjects")
            .and_then(|s| serde_json::from_value(s.clone()).ok())
            .unwrap_or_default();
        let (role, [users, groups, sas]) = rbac::binding_cells(&role_ref(obj), &subjects);
        vec![
            json!(name_of(obj)),
            json!(role),
            json!(table::age(created, now)),
            json!(users),
            json!(groups),
            json!(sas),
        ]
    }
}
