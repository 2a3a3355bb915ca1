//! The reconciler (`staging/src/k8s.io/endpointslice/reconciler.go` `reconcileByAddressType`,
//! `finalize`), simplified but with the same outcomes users see:
//!
//! - slices of an address type the Service no longer has are deleted;
//! - an existing slice keeps its name while it still has desired endpoints with the same
//!   ports: its endpoints are replaced by their desired versions, stale ones dropped, and it
//!   is updated only when something changed (endpoints, labels, owner);
//! - a slice left without desired endpoints is deleted;
//! - new endpoints first fill slices already being updated, then other slices with room, then
//!   go to new slices of at most [`MAX_ENDPOINTS_PER_SLICE`];
//! - an address type without endpoints keeps (or gets) exactly one placeholder slice.
//!
//! Endpoints are matched by their first address. New slices are named `<generateName><5
//! chars>` with the characters from the caller's source (upstream: `utilrand.String(5)` via
//! `generateName`).

use std::collections::BTreeMap;

use k8s_openapi::api::discovery::v1::{Endpoint, EndpointSlice};

use super::{sort_endpoints, CONTROLLER_NAME, LABEL_MANAGED_BY, MAX_ENDPOINTS_PER_SLICE};

/// What the controller must write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SliceChanges {
    pub create: Vec<EndpointSlice>,
    pub update: Vec<EndpointSlice>,
    pub delete: Vec<EndpointSlice>,
}

impl SliceChanges {
    pub fn is_empty(&self) -> bool {
        self.create.is_empty() && self.update.is_empty() && self.delete.is_empty()
    }
}

fn ports_key(s: &EndpointSlice) -> String {
    serde_json::to_string(s.ports.as_deref().unwrap_or(&[])).unwrap_or_default()
}

fn ep_key(e: &Endpoint) -> String {
    e.addresses.first().cloned().unwrap_or_default()
}

/// Reconciles `existing` (the Service's slices; only those managed by this controller are
/// touched) towards `desired` (from [`super::desired_slices`]). An empty `desired` means the
/// controller leaves the Service alone (no selector, ExternalName), as upstream does.
pub fn reconcile(
    desired: &[EndpointSlice],
    existing: &[EndpointSlice],
    name_suffix: &mut dyn FnMut() -> String,
) -> SliceChanges {
    let mut ch = SliceChanges::default();
    let Some(template) = desired.first() else {
        return ch;
    };
    let managed: Vec<&EndpointSlice> = existing
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_MANAGED_BY))
                .map(String::as_str)
                == Some(CONTROLLER_NAME)
        })
        .collect();
    let mut types: Vec<&str> = Vec::new();
    for d in desired {
        if !types.contains(&d.address_type.as_str()) {
            types.push(&d.address_type);
        }
    }
    for s in &managed {
        if !types.contains(&s.address_type.as_str()) {
            ch.delete.push((*s).clone());
        }
    }
    for at in types {
        let want: Vec<&EndpointSlice> = desired.iter().filter(|d| d.address_type == at).collect();
        let mut have: Vec<&EndpointSlice> = managed
            .iter()
            .copied()
            .filter(|s| s.address_type == at)
            .collect();
        have.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        by_address_type(template, &want, &have, name_suffix, &mut ch);
    }
    ch
}

/// Applies the desired metadata (labels, owner) to an existing slice, keeping identity.
fn with_meta(template: &EndpointSlice, s: &EndpointSlice) -> EndpointSlice {
    let mut out = s.clone();
    out.metadata.labels = template.metadata.labels.clone();
    out.metadata.owner_references = template.metadata.owner_references.clone();
    out
}

fn new_slice(
    template: &EndpointSlice,
    at: &str,
    ports: Option<Vec<k8s_openapi::api::discovery::v1::EndpointPort>>,
    endpoints: Vec<Endpoint>,
    name_suffix: &mut dyn FnMut() -> String,
) -> EndpointSlice {
    let mut meta = template.metadata.clone();
    let prefix = meta.generate_name.clone().unwrap_or_default();
    meta.name = Some(format!("{prefix}{}", name_suffix()));
    EndpointSlice {
        metadata: meta,
        address_type: at.to_string(),
        endpoints,
        ports: Some(ports.unwrap_or_default()),
    }
}

fn by_address_type(
    template: &EndpointSlice,
    want: &[&EndpointSlice],
    have: &[&EndpointSlice],
    name_suffix: &mut dyn FnMut() -> String,
    ch: &mut SliceChanges,
) {
    let at = want[0].address_type.as_str();
    let placeholder = want.iter().all(|w| w.endpoints.is_empty());
    if placeholder {
        // Keep one existing placeholder (same ports []), delete everything else.
        let keep = have
            .iter()
            .position(|s| s.endpoints.is_empty() && s.ports.as_deref().unwrap_or(&[]).is_empty());
        for (i, s) in have.iter().enumerate() {
            if Some(i) == keep {
                let updated = with_meta(template, s);
                if &updated != *s {
                    ch.update.push(updated);
                }
            } else {
                ch.delete.push((*s).clone());
            }
        }
        if keep.is_none() {
            ch.create
                .push(new_slice(template, at, Some(vec![]), vec![], name_suffix));
        }
        return;
    }
    // Desired endpoints per ports key, keyed by address.
    let mut pool: BTreeMap<String, (Option<Vec<_>>, BTreeMap<String, Endpoint>)> = BTreeMap::new();
    for w in want {
        let entry = pool
            .entry(ports_key(w))
            .or_insert_with(|| (w.ports.clone(), BTreeMap::new()));
        for e in &w.endpoints {
            entry.1.insert(ep_key(e), e.clone());
        }
    }
    // (slice, changed) for the slices that stay.
    let mut kept: Vec<(EndpointSlice, bool)> = Vec::new();
    for s in have {
        let Some((_, eps)) = pool.get_mut(&ports_key(s)) else {
            ch.delete.push((*s).clone());
            continue;
        };
        let mut keep: Vec<Endpoint> = s
            .endpoints
            .iter()
            .filter_map(|e| eps.remove(&ep_key(e)))
            .collect();
        if keep.is_empty() {
            ch.delete.push((*s).clone());
            continue;
        }
        sort_endpoints(&mut keep);
        let mut updated = with_meta(template, s);
        updated.endpoints = keep;
        let changed = &updated != *s;
        kept.push((updated, changed));
    }
    for (key, (ports, eps)) in pool {
        let mut rest: Vec<Endpoint> = eps.into_values().collect();
        sort_endpoints(&mut rest);
        // Fill slices already changing first, then the others, in name order.
        for pass_changed in [true, false] {
            for (s, changed) in kept.iter_mut() {
                if rest.is_empty() {
                    break;
                }
                if *changed != pass_changed || ports_key(s) != key {
                    continue;
                }
                let room = MAX_ENDPOINTS_PER_SLICE.saturating_sub(s.endpoints.len());
                if room == 0 {
                    continue;
                }
                let take = room.min(rest.len());
                s.endpoints.extend(rest.drain(..take));
                sort_endpoints(&mut s.endpoints);
                *changed = true;
            }
        }
        for chunk in rest.chunks(MAX_ENDPOINTS_PER_SLICE) {
            ch.create.push(new_slice(
                template,
                at,
                ports.clone(),
                chunk.to_vec(),
                name_suffix,
            ));
        }
    }
    ch.update
        .extend(kept.into_iter().filter(|(_, c)| *c).map(|(s, _)| s));
}
