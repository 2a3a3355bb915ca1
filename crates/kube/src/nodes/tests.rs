use super::*;
use serde_json::json;
use twinstack_core::runtime::{resolve_network, NetworkRequest};

fn net(p: Provider, region: &str, families: &str) -> Network {
    resolve_network(
        p,
        region,
        "rt1",
        3,
        &NetworkRequest {
            families: Some(families),
            ..Default::default()
        },
    )
    .unwrap()
}

fn now() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

#[test]
fn aws_dual_stack_nodes() {
    let n = net(Provider::Aws, "eu-central-1", "IPv4,IPv6");
    let nodes = plan_nodes("rt1", Provider::Aws, "eu-central-1", &n, 4, now());
    assert_eq!(
        nodes,
        plan_nodes("rt1", Provider::Aws, "eu-central-1", &n, 4, now())
    );
    let v = serde_json::to_value(&nodes[0]).unwrap();
    let name = v["metadata"]["name"].as_str().unwrap();
    assert!(
        name.starts_with("ip-10-250-") && name.ends_with(".eu-central-1.compute.internal"),
        "{name}"
    );
    let labels = &v["metadata"]["labels"];
    assert_eq!(labels["kubernetes.io/hostname"], name);
    assert_eq!(labels["topology.kubernetes.io/region"], "eu-central-1");
    assert_eq!(labels["topology.kubernetes.io/zone"], "eu-central-1a");
    assert_eq!(labels["node.kubernetes.io/instance-type"], "m6i.large");
    assert_eq!(labels["worker.gardener.cloud/pool"], "cpu-worker-0");
    assert_eq!(
        nodes[1].metadata.labels.as_ref().unwrap()["topology.kubernetes.io/zone"],
        "eu-central-1b"
    );
    assert_eq!(
        nodes[3].metadata.labels.as_ref().unwrap()["topology.kubernetes.io/zone"],
        "eu-central-1a"
    );
    let addrs: Vec<(&str, &str)> = v["status"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["type"].as_str().unwrap(), a["address"].as_str().unwrap()))
        .collect();
    assert_eq!(addrs.len(), 4);
    assert_eq!(addrs[0].0, "InternalIP");
    let v4: std::net::Ipv4Addr = addrs[0].1.parse().unwrap();
    // Zone a workers: 10.250.0.0/19, past AWS's four reserved addresses.
    assert!("10.250.0.0/19"
        .parse::<ipnet::Ipv4Net>()
        .unwrap()
        .contains(&v4));
    assert!(u32::from(v4) >= u32::from(std::net::Ipv4Addr::new(10, 250, 0, 4)));
    assert_eq!(
        name,
        format!(
            "ip-{}.eu-central-1.compute.internal",
            addrs[0].1.replace('.', "-")
        )
    );
    let v6: std::net::Ipv6Addr = addrs[1].1.parse().unwrap();
    assert!(n.ipv6_zone_subnets[0].contains(&IpAddr::V6(v6)));
    assert_eq!(addrs[2], ("InternalDNS", name));
    assert_eq!(addrs[3], ("Hostname", name));
    assert_eq!(v["spec"]["podCIDR"], "10.96.0.0/24");
    let cidrs = pod_cidrs(&nodes[0]);
    assert_eq!(cidrs[0].to_string(), "10.96.0.0/24");
    assert_eq!(cidrs[1].prefix_len(), 80);
    assert!(n.ipv6_zone_subnets[0].contains(&cidrs[1]));
    assert!(!cidrs[1].contains(&IpAddr::V6(v6)));
    assert_eq!(pod_cidrs(&nodes[1])[0].to_string(), "10.96.1.0/24");
    // Node 1 lives in zone b: its IPv4 in 10.250.64.0/19 and its /80 in zone b's /64.
    let n1v4: IpAddr = internal_ips(&nodes[1])[0];
    assert!("10.250.64.0/19".parse::<IpNet>().unwrap().contains(&n1v4));
    assert!(n.ipv6_zone_subnets[1].contains(&pod_cidrs(&nodes[1])[1]));
    // Distinct pod CIDRs for every node.
    let mut all: Vec<String> = nodes
        .iter()
        .flat_map(pod_cidrs)
        .map(|c| c.to_string())
        .collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total);
    let types: Vec<&str> = v["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "NetworkUnavailable",
            "MemoryPressure",
            "DiskPressure",
            "PIDPressure",
            "Ready"
        ]
    );
    assert_eq!(
        v["status"]["conditions"][4],
        json!({"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status",
            "lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"})
    );
    assert_eq!(v["status"]["capacity"]["pods"], "110");
    assert_eq!(v["status"]["nodeInfo"]["kubeletVersion"], KUBELET_VERSION);
    assert_eq!(
        v["status"]["nodeInfo"]["containerRuntimeVersion"],
        "containerd://1.7.24"
    );
}

#[test]
fn gcp_and_single_stack_nodes() {
    let n = net(Provider::Gcp, "europe-west3", "IPv4,IPv6");
    let nodes = plan_nodes("rt1", Provider::Gcp, "europe-west3", &n, 3, now());
    let name = nodes[0].metadata.name.clone().unwrap();
    assert!(
        name.starts_with("shoot--kyma--rt1-cpu-worker-0-z1-"),
        "{name}"
    );
    assert_eq!(name.len(), "shoot--kyma--rt1-cpu-worker-0-z1-".len() + 11);
    assert_eq!(
        nodes[2].metadata.labels.as_ref().unwrap()["topology.kubernetes.io/zone"],
        "europe-west3-c"
    );
    let ips = internal_ips(&nodes[0]);
    assert_eq!(ips[0].to_string(), "10.250.0.2");
    assert_eq!(internal_ips(&nodes[1])[0].to_string(), "10.250.0.3");
    let cidrs = pod_cidrs(&nodes[0]);
    assert_eq!(cidrs[1].prefix_len(), 112);
    // The /112 lies in the VM's /96, whose first address is the node's IPv6.
    let vm96 = IpNet::new(ips[1], 96).unwrap().trunc();
    assert_eq!(vm96.network(), ips[1]);
    assert!(vm96.contains(&cidrs[1]));
    let addrs = nodes[0].status.as_ref().unwrap().addresses.clone().unwrap();
    assert!(addrs.iter().all(|a| a.type_ != "InternalDNS"));

    let n4 = net(Provider::Aws, "us-east-1", "IPv4");
    let nodes = plan_nodes("rt1", Provider::Aws, "us-east-1", &n4, 2, now());
    assert!(nodes[0]
        .metadata
        .name
        .as_deref()
        .unwrap()
        .ends_with(".ec2.internal"));
    assert_eq!(
        nodes[0]
            .spec
            .as_ref()
            .unwrap()
            .pod_cidrs
            .as_ref()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(internal_ips(&nodes[0]).len(), 1);

    // IPv6 primary: IPv6 first in addresses and pod CIDRs.
    let n6 = net(Provider::Aws, "eu-central-1", "IPv6,IPv4");
    let nodes = plan_nodes("rt1", Provider::Aws, "eu-central-1", &n6, 1, now());
    let spec = nodes[0].spec.as_ref().unwrap();
    assert!(spec.pod_cidr.as_deref().unwrap().contains(':'));
    assert!(internal_ips(&nodes[0])[0].is_ipv6());
    assert!(internal_ips(&nodes[0])[1].is_ipv4());
}
