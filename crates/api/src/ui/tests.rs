//! Which store keys wake the web view's stream.

use super::relevant;

#[test]
fn a_stream_wakes_for_the_kinds_and_the_namespace_it_shows() {
    let p = "/registry/rt/";
    let cases: &[(&str, Option<&str>, bool)] = &[
        ("/registry/rt/pods/default/web-1", Some("default"), true),
        ("/registry/rt/pods/default/web-1", None, true),
        ("/registry/rt/pods/other/web-1", Some("default"), false),
        // A namespace whose name starts with the shown one's is another namespace.
        ("/registry/rt/pods/default2/web-1", Some("default"), false),
        (
            "/registry/rt/services/specs/default/web",
            Some("default"),
            true,
        ),
        (
            "/registry/rt/services/endpoints/default/web",
            Some("default"),
            false,
        ),
        (
            "/registry/rt/endpointslices/default/web-abc",
            Some("default"),
            true,
        ),
        ("/registry/rt/events/default/web.1", Some("default"), true),
        // Nodes and namespaces are cluster-scoped: in every namespace's picture.
        ("/registry/rt/minions/node-1", Some("default"), true),
        ("/registry/rt/namespaces/other", Some("default"), true),
        ("/registry/rt/configmaps/default/x", Some("default"), false),
        ("/registry/rt/leases/kube-node-lease/node-1", None, false),
        // Another runtime's keys never.
        ("/registry/rt2/pods/default/web-1", None, false),
    ];
    for (key, ns, want) in cases {
        assert_eq!(relevant(p, key, *ns), *want, "{key} in {ns:?}");
    }
}
