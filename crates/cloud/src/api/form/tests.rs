use super::*;
use proptest::prelude::*;

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn parses_forms() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("", &[]),
        (
            "Action=DescribeLoadBalancers&Version=2015-12-01",
            &[
                ("Action", "DescribeLoadBalancers"),
                ("Version", "2015-12-01"),
            ],
        ),
        ("a=1&&b=&c", &[("a", "1"), ("b", ""), ("c", "")]),
        (
            "Filter.2.Name=tag%3Akubernetes.io%2Frole%2Felb",
            &[("Filter.2.Name", "tag:kubernetes.io/role/elb")],
        ),
        ("a=x+y%20z", &[("a", "x y z")]),
        ("a=b=c", &[("a", "b=c")]),
        ("a=%zz%4", &[("a", "%zz%4")]),
        ("a=%", &[("a", "%")]),
        ("a=%C3%A4%FF", &[("a", "ä\u{fffd}")]),
    ];
    for (input, want) in cases {
        assert_eq!(parse(input.as_bytes()), pairs(want), "{input}");
    }
}

#[test]
fn plus_is_literal_outside_forms() {
    assert_eq!(percent_decode(b"a+b%2B", false), b"a+b+");
}

#[test]
fn uri_encodes_as_aws() {
    assert_eq!(uri_encode(b"a b/~c*", false), "a%20b%2F~c%2A");
    assert_eq!(uri_encode("/ä/x".as_bytes(), true), "/%C3%A4/x");
}

proptest! {
    #[test]
    fn parse_never_panics_and_round_trips(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = parse(&input);
    }

    #[test]
    fn encode_then_decode_is_identity(input in proptest::collection::vec(any::<u8>(), 0..100)) {
        let encoded = uri_encode(&input, false);
        prop_assert_eq!(percent_decode(encoded.as_bytes(), true), input);
    }
}
