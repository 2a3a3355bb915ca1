//! Pure Kubernetes rules for Services, nodes, pods, namespaces, workloads, EndpointSlices,
//! events and their printers, as kube-apiserver, kube-scheduler, kube-controller-manager and
//! kubelet 1.32 apply them on a Gardener (Kyma) shoot. It must not do I/O nor hold apimachinery
//! (that is `twinstack-core`'s). No I/O and no randomness: names and suffixes that upstream draws at
//! random are parameters, times are passed in.
//!
//! Public API (objects are `k8s-openapi` 1.32 types; printers read JSON):
//!
//! - [`apiextensions`]: CustomResourceDefinitions: [`apiextensions::validation::validate`],
//!   [`apiextensions::names::update_status`] (NamesAccepted/Established), and for custom
//!   resources [`apiextensions::prepare`] (prune, default), [`apiextensions::validate_instance`]
//!   (structural schema and CEL rules), [`apiextensions::printers::cell`].
//! - [`apiserver`]: what kube-apiserver keeps of `default/kubernetes`:
//!   [`apiserver::master_endpoints`]`(ip)`, [`apiserver::master_endpoint_slice`]`(ip)`, their
//!   `*_update` checks, [`apiserver::master_service_ports`], [`apiserver::advertise_address`].
//! - [`nodes`]: [`nodes::plan_nodes`]`(runtime, provider, region, &Network, count, now) ->
//!   Vec<Node>`; helpers [`nodes::node_name`], [`nodes::zones`], [`nodes::machine_type`],
//!   [`nodes::pod_cidrs`], [`nodes::internal_ips`]; constants such as
//!   [`nodes::KUBELET_VERSION`].
//! - [`podip`]: [`podip::PodAllocator`] (`allocate_next(node, family)`, `allocate(node, ip)`,
//!   `release(node, ip)`), [`podip::MemoryPodAllocator`] (`set_node(node, &[podCIDR])`,
//!   `remove_node`, `used`, `holds`), [`podip::PodRange`] (range math, host-local window),
//!   [`podip::allocate_pod_ips`] (one per family, all or nothing), [`podip::release_pod_ips`],
//!   [`podip::PodIpError`].
//! - [`pod`]: [`pod::set_defaults`]`(&mut Pod)`, [`pod::admit_create`]`(&mut Pod,
//!   Option<&ServiceAccount>, api_access_suffix) -> Result<(), AdmissionError>`, [`pod::validate_create`]`(&Pod) -> ErrorList`,
//!   [`pod::validate_update`]`(new, old) -> ErrorList`, [`pod::schedule`]`(&Pod, &[Node],
//!   &BTreeMap<node, pods>) -> Result<node, FailedScheduling message>`,
//!   [`pod::unschedulable_status`], [`pod::pending_status`], [`pod::running_status`]`(&Pod,
//!   Option<&Node>, pod_ips, host_ips, now) -> PodStatus`, [`pod::qos_class`],
//!   [`pod::plan_deletion`]`(&Pod, grace) -> Deletion`, [`pod::mark_terminating`],
//!   [`pod::termination::termination`]`(&Pod, grace) ->
//!   Termination` (when each container exits after a graceful delete) and
//!   [`pod::termination::containers_exited_at`], [`pod::is_ready`], [`pod::is_terminal`], plus
//!   [`pod::validate_spec`], [`pod::spec_diff`], [`pod::image_tag`], [`pod::normalize_image`],
//!   [`pod::image_id`], [`pod::tolerates`], [`pod::node_internal_ips`].
//! - [`endpointslices`]: [`endpointslices::desired_slices`]`(&Service, &[Pod], &[Node]) ->
//!   Vec<EndpointSlice>`, [`endpointslices::reconcile`]`(desired, existing, &mut suffix_source)
//!   -> SliceChanges { create, update, delete }`, [`endpointslices::legacy_endpoints`]`(&Service,
//!   &[Pod]) -> Option<Endpoints>`, [`endpointslices::address_types`],
//!   [`endpointslices::find_port`], [`endpointslices::slice_meta`],
//!   [`endpointslices::should_pod_be_in_endpoints`].
//! - [`printers`]: `*_columns() -> Vec<Column>` and `*_row(&Value, wide, now) -> Vec<Value>` for
//!   pods, nodes, endpointslices, endpoints, events, configmaps and secrets;
//!   [`printers::selectable_field`] for the field selectors `kubectl describe` uses.
//! - [`events`]: [`events::event_for`]`(&ObjectReference, reason, message, type, &Reporter, now,
//!   name_suffix) -> Event`, [`events::Reporter`] (legacy recorder vs events.k8s.io),
//!   [`events::repeat`], [`events::pod_reference`], [`events::node_join_events`] and the
//!   message builders (`scheduled_message`, `pulling_message`, `pulled_message`,
//!   `already_present_message`, `created_message`, `started_message`, `killing_message`).
//! - [`namespace`]: [`namespace::prepare_for_create`], [`namespace::prepare_for_update`],
//!   [`namespace::validate_finalizers`], [`namespace::may_delete`] (the system namespaces),
//!   [`namespace::set_name_label`].
//! - [`service`]: the Service dual-stack rules of kube-apiserver's Service registry: defaults,
//!   ClusterIP and NodePort allocation over [`twinstack_core::ipam`], validation, warnings,
//!   the status strategy ([`service::ClusterConfig`] holds a runtime's ranges).
//! - [`table`]: the server-side Table columns and rows of every served kind (`kubectl get`).
//! - [`quantity`]: `resource.Quantity` parsing, comparison and canonical text.
//! - [`rbac`]: [`rbac::set_binding_defaults`], [`rbac::validate_role`],
//!   [`rbac::validate_cluster_role`], [`rbac::validate_binding`]`(&RoleRef, &[Subject],
//!   namespaced)`, [`rbac::validate_binding_update`], [`rbac::binding_cells`] (table cells).
//! - [`serviceaccount`]: what every namespace has, [`serviceaccount::default_service_account`]
//!   `(ns)` and [`serviceaccount::root_ca_configmap`]`(ns, ca)`;
//!   [`serviceaccount::root_ca_configmap_update`], [`serviceaccount::admit`] (the
//!   ServiceAccount admission plugin), [`serviceaccount::AdmissionError`].
//! - [`workloads`]: what the workload controllers decide in one pass, from a snapshot:
//!   [`workloads::replicaset::plan`]`(&ReplicaSet, &[&PodSummary], now) -> Plan { create,
//!   delete, status }` (ReplicationControllers through
//!   [`workloads::replicaset::from_replication_controller`]),
//!   [`workloads::deployment::plan`]`(&Deployment, &[&ReplicaSet], now) -> Option<Plan { create,
//!   scale, delete, status, revision }>`, [`workloads::statefulset::plan`]`(&StatefulSet,
//!   &[&PodSummary]) -> Plan { create, scale_down, replace, status }`,
//!   [`workloads::daemonset::plan`]`(&DaemonSet, &[&PodSummary], eligible, hash)` with
//!   [`workloads::daemonset::eligible_nodes`], [`workloads::job::plan`]`(&Job, &[&PodSummary],
//!   now) -> Plan { create, status, completes }`; the pods they create (`new_pod`),
//!   [`workloads::template_hash`], [`workloads::PodSummary`].

pub mod apiextensions;
pub mod apiserver;
pub mod autoscaling;
pub mod cronjob;
pub mod dns;
pub mod endpointslices;
pub mod events;
pub mod namespace;
pub mod nodes;
pub mod pod;
pub mod podip;
pub mod policy;
pub mod printers;
pub mod quantity;
pub mod rbac;
pub mod service;
pub mod serviceaccount;
pub mod storage;
pub mod table;
pub mod workloads;
