#!/usr/bin/env python3
"""Feeds twinstack's ELBv2/EC2 answers to botocore's own response parsers, offline.

Not run by cargo. Run (botocore installed, e.g. `pip install awscli` in a venv):

    mkdir -p /tmp/twinstack-xml
    TWINSTACK_DUMP_XML=/tmp/twinstack-xml cargo test -p twinstack-cloud --lib dump_samples_for_botocore
    python3 crates/cloud/tests/botocore_parse.py /tmp/twinstack-xml

Each file is `<elbv2|ec2>-[error-]<Operation>.<status>.xml` (written by the Rust test
`api::aws::tests::dump_samples_for_botocore`). The script parses it with the operation's output
shape (`query` protocol for ELBv2, `ec2` for EC2) and checks fields the CLI prints.
"""
import os
import sys

import botocore.parsers
import botocore.session

SERVICES = {"elbv2": ("elbv2", "query"), "ec2": ("ec2", "ec2")}


def parse(path):
    name, status, _ = os.path.basename(path).rsplit(".", 2)
    service, op = name.split("-", 1)
    op = op.removeprefix("error-")
    model_name, protocol = SERVICES[service]
    model = botocore.session.get_session().get_service_model(model_name)
    operation = model.operation_model(op)
    with open(path, "rb") as f:
        body = f.read()
    response = {"status_code": int(status), "headers": {}, "body": body}
    parsed = botocore.parsers.create_parser(protocol).parse(response, operation.output_shape)
    return name, parsed


def check(name, p):
    meta = p.pop("ResponseMetadata", {})
    assert meta.get("RequestId") == "req-1", (name, meta)
    if "-error-" in name:
        assert p["Error"]["Code"] and p["Error"]["Message"], (name, p)
        return
    if name == "elbv2-DescribeLoadBalancers":
        lbs = p["LoadBalancers"]
        assert [lb["LoadBalancerName"] for lb in lbs] == ["k8s-default-web", "k8s-default-int", "k8s-default-old"], lbs
        web = lbs[0]
        addr = web["AvailabilityZones"][0]["LoadBalancerAddresses"][0]
        assert addr == {"IpAddress": "198.51.100.7", "AllocationId": "eipalloc-0123",
                        "PrivateIPv4Address": "10.250.96.10", "IPv6Address": "2a05:d014:1:101::1a"}, addr
        assert web["AvailabilityZones"][0]["SourceNatIpv6Prefixes"] == ["2a05:d014:1:101:1::/80"]
        assert web["State"] == {"Code": "active"} and web["Type"] == "network" and web["IpAddressType"] == "dualstack"
        assert web["CreatedTime"].year == 2026, web["CreatedTime"]
        assert web["SecurityGroups"] == ["sg-0f00"]
    elif name == "elbv2-DescribeTargetGroups":
        tg = p["TargetGroups"][0]
        assert tg["Port"] == 30080 and tg["HealthCheckEnabled"] is True and tg["Matcher"] == {"HttpCode": "200-399"}, tg
        assert tg["LoadBalancerArns"][0].endswith("k8s-default-web/0123456789abcdef"), tg
        assert tg["HealthyThresholdCount"] == 2 and tg["TargetType"] == "instance" and tg["IpAddressType"] == "ipv4"
    elif name == "elbv2-DescribeTargetHealth":
        d = p["TargetHealthDescriptions"]
        assert d[0]["Target"] == {"Id": "i-0bbb", "Port": 30080, "AvailabilityZone": "eu-central-1b"}, d
        assert d[0]["TargetHealth"] == {"State": "unhealthy", "Reason": "Target.FailedHealthChecks",
                                        "Description": "Health checks failed"}, d
        assert d[1]["TargetHealth"]["Reason"] == "Target.NotRegistered", d
    elif name == "elbv2-DescribeListeners":
        l = p["Listeners"][0]
        assert l["Port"] == 80 and l["DefaultActions"][0]["Type"] == "forward", l
        assert l["DefaultActions"][0]["ForwardConfig"]["TargetGroups"][0]["Weight"] == 1, l
    elif name == "elbv2-DescribeTags":
        t = p["TagDescriptions"]
        assert len(t) == 2 and {"Key": "elbv2.k8s.aws/cluster", "Value": "shoot--p--rt1"} in t[0]["Tags"], t
        assert t[1]["Tags"] == [], t
    elif name.endswith("Attributes"):
        assert p["Attributes"] and all(set(a) == {"Key", "Value"} for a in p["Attributes"]), p
    elif name == "ec2-DescribeVpcs":
        v = p["Vpcs"][0]
        assert v["VpcId"] == "vpc-0a1b2c3d" and v["IsDefault"] is False, v
        assert v["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlockState"] == {"State": "associated"}, v
        assert v["Tags"] == [{"Key": "Name", "Value": "shoot--p--rt1"}], v
    elif name == "ec2-DescribeSubnets":
        s = p["Subnets"]
        assert [x["SubnetId"] for x in s] == ["subnet-public-a", "subnet-public-b", "subnet-internal-a"], s
        assert s[0]["AvailableIpAddressCount"] == 4091 and s[0]["MapPublicIpOnLaunch"] is True, s[0]
        assert s[0]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"] == "2a05:d014:1:101::/64", s[0]
        assert "Ipv6CidrBlockAssociationSet" not in s[1] or s[1]["Ipv6CidrBlockAssociationSet"] == [], s[1]
        assert {"Key": "kubernetes.io/role/elb", "Value": "1"} in s[0]["Tags"], s[0]
    elif name == "ec2-DescribeAvailabilityZones":
        assert [z["ZoneName"] for z in p["AvailabilityZones"]] == ["eu-central-1a", "eu-central-1b"], p
    else:
        raise AssertionError(f"no check for {name}")


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp/twinstack-xml"
    files = sorted(f for f in os.listdir(directory) if f.endswith(".xml"))
    assert files, f"no samples in {directory}"
    for f in files:
        name, parsed = parse(os.path.join(directory, f))
        check(name, parsed)
        print(f"ok {f}")


if __name__ == "__main__":
    main()
