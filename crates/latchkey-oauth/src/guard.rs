//! The outbound guard's address rules: every block of IANA's IPv4 and IPv6 Special-Purpose
//! Address Registries (RFC 6890 and its updates) that is not globally reachable, and the
//! multicast and reserved ranges, refused as a table. IPv4-mapped and IPv4-compatible IPv6
//! addresses are judged by the IPv4 address they carry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const PRIVATE: &str = "a private address";
const LINK_LOCAL_V4: &str = "a link-local address (cloud metadata lives there)";
const NOT_UNICAST: &str = "not a unicast address";
const RESERVED: &str = "a reserved address";
const DOCUMENTATION: &str = "a documentation address";

/// IPv4 blocks refused: (network, prefix length, why).
const V4_BLOCKS: &[(Ipv4Addr, u8, &str)] = &[
    (
        Ipv4Addr::new(0, 0, 0, 0),
        8,
        "\"this network\", not a unicast address",
    ),
    (Ipv4Addr::new(10, 0, 0, 0), 8, PRIVATE),
    (
        Ipv4Addr::new(100, 64, 0, 0),
        10,
        "a shared (carrier-grade NAT) address",
    ),
    (Ipv4Addr::new(169, 254, 0, 0), 16, LINK_LOCAL_V4),
    (Ipv4Addr::new(172, 16, 0, 0), 12, PRIVATE),
    (
        Ipv4Addr::new(192, 0, 0, 0),
        24,
        "an IETF protocol assignment, not globally reachable",
    ),
    (Ipv4Addr::new(192, 0, 2, 0), 24, DOCUMENTATION),
    (
        Ipv4Addr::new(192, 88, 99, 0),
        24,
        "a deprecated 6to4 relay address",
    ),
    (Ipv4Addr::new(192, 168, 0, 0), 16, PRIVATE),
    (Ipv4Addr::new(198, 18, 0, 0), 15, "a benchmarking address"),
    (Ipv4Addr::new(198, 51, 100, 0), 24, DOCUMENTATION),
    (Ipv4Addr::new(203, 0, 113, 0), 24, DOCUMENTATION),
    (Ipv4Addr::new(224, 0, 0, 0), 4, NOT_UNICAST),
    (Ipv4Addr::new(240, 0, 0, 0), 4, RESERVED),
];

/// IPv6 blocks refused: (network, prefix length, why). Loopback, and the IPv4 forms, are judged
/// before this table.
const V6_BLOCKS: &[(Ipv6Addr, u8, &str)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 128, NOT_UNICAST),
    (
        Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
        96,
        "an IPv4/IPv6 translation address (it may reach any IPv4 address)",
    ),
    (
        Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
        48,
        "a local-use IPv4/IPv6 translation address",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0),
        64,
        "a discard-only address",
    ),
    (
        Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0),
        64,
        "a dummy-prefix address",
    ),
    (
        Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
        23,
        "an IETF protocol assignment (Teredo among them), not globally reachable",
    ),
    (
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
        32,
        DOCUMENTATION,
    ),
    (
        Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
        16,
        "a 6to4 address (it may reach any IPv4 address)",
    ),
    (
        Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
        20,
        DOCUMENTATION,
    ),
    (
        Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
        16,
        "a segment-routing (SRv6) address",
    ),
    (
        Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
        7,
        "a unique local address",
    ),
    (
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
        10,
        "a link-local address",
    ),
    (
        Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
        10,
        "a site-local address (deprecated)",
    ),
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8, NOT_UNICAST),
];

fn in_v4(ip: Ipv4Addr, (net, len, _): &(Ipv4Addr, u8, &str)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(*len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(*net) & mask
}

fn in_v6(ip: Ipv6Addr, (net, len, _): &(Ipv6Addr, u8, &str)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(*len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(*net) & mask
}

/// Why an address is refused, if it is.
pub(crate) fn refused_ip(ip: IpAddr, allow_loopback: bool) -> Option<&'static str> {
    if ip.is_loopback() {
        return (!allow_loopback).then_some("a loopback address");
    }
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => {
            // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated) carry an IPv4
            // address: judged as that address (`::` and `::1` are not among them).
            let compatible = u128::from(v6) >> 32 == 0 && u128::from(v6) > 1;
            match v6.to_ipv4_mapped() {
                Some(v4) => refused_ip(IpAddr::V4(v4), allow_loopback),
                None if compatible => {
                    let v4 = Ipv4Addr::from(u32::try_from(u128::from(v6)).unwrap_or(0));
                    refused_ip(IpAddr::V4(v4), allow_loopback)
                        .or(Some("an IPv4-compatible address (deprecated)"))
                }
                None => refused_v6(v6),
            }
        }
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    V4_BLOCKS
        .iter()
        .find(|block| in_v4(ip, block))
        .map(|(_, _, why)| *why)
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    V6_BLOCKS
        .iter()
        .find(|block| in_v6(ip, block))
        .map(|(_, _, why)| *why)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first and last address of each block are refused, with that block's reason.
    #[test]
    fn every_ipv4_block_is_refused_from_its_first_to_its_last_address() {
        for block @ (net, len, why) in V4_BLOCKS {
            let first = u32::from(*net);
            let last = first | (u32::MAX.checked_shr(u32::from(*len)).unwrap_or(0));
            for ip in [first, last].map(Ipv4Addr::from) {
                assert!(in_v4(ip, block), "{ip} in {net}/{len}");
                assert_eq!(refused_ip(IpAddr::V4(ip), false), Some(*why), "{ip}");
                // The same address in its IPv6 forms.
                let mapped = ip.to_ipv6_mapped();
                assert_eq!(
                    refused_ip(IpAddr::V6(mapped), false),
                    Some(*why),
                    "{mapped}"
                );
            }
        }
    }

    #[test]
    fn every_ipv6_block_is_refused_from_its_first_to_its_last_address() {
        for block @ (net, len, why) in V6_BLOCKS {
            let first = u128::from(*net);
            let last = first | (u128::MAX.checked_shr(u32::from(*len)).unwrap_or(0));
            for ip in [first, last].map(Ipv6Addr::from) {
                assert!(in_v6(ip, block), "{ip} in {net}/{len}");
                assert!(refused_ip(IpAddr::V6(ip), false).is_some(), "{ip}: {why}");
            }
        }
    }

    #[test]
    fn the_addresses_the_attack_used_are_refused_and_public_ones_are_not() {
        for (text, why) in [
            ("192.0.0.1", "IETF"),
            ("192.0.0.170", "IETF"),
            ("64:ff9b::a9fe:a9fe", "translation"),
            ("2002:a9fe:a9fe::1", "6to4"),
            ("fec0::1", "site-local"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::169.254.169.254", "link-local"),
            ("::8.8.8.8", "IPv4-compatible"),
            ("2001:0:4136:e378::1", "Teredo"),
            ("127.0.0.1", "loopback"),
            ("::1", "loopback"),
            ("::", "unicast"),
            ("255.255.255.255", "reserved"),
        ] {
            let ip: IpAddr = text.parse().unwrap();
            let refused = refused_ip(ip, false).unwrap_or_else(|| panic!("{text} passed"));
            assert!(refused.contains(why), "{text}: {refused}");
        }
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "192.0.3.1",
            "198.20.0.1",
            "2606:4700::1111",
            "2001:4860:4860::8888",
            "2001:200::1",
        ] {
            let ip: IpAddr = public.parse().unwrap();
            assert_eq!(refused_ip(ip, false), None, "{public}");
        }
        // Development (loopback providers allowed) never opens anything else.
        assert_eq!(refused_ip("127.0.0.1".parse().unwrap(), true), None);
        assert!(refused_ip("10.0.0.1".parse().unwrap(), true).is_some());
    }
}
