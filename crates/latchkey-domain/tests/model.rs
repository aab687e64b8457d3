//! The refresh protocol, model-checked: every interleaving of two replicas, the store and a
//! rotating provider, with crashes at every step, lost answers, outages, leases running out and a
//! customer revoking, explored breadth-first; the domain's own rules make every decision (see
//! `model/world.rs`). A hand-written explorer rather than `stateright`: the state space is a few
//! hundred thousand states, the properties include one checked by running the protocol on from
//! each quiet state, and a trace must read as the steps a replica takes; that is a hundred lines
//! here, where the crate brings a web explorer and its dependencies to build on two cores.
//!
//! A caller's deadline changes no step: the refresh runs apart from its callers (the service's
//! `Flight`), so a caller that gives up leaves the protocol as it was. A store that refuses a
//! commit is waited out and the commit tried again until it holds or the replica dies: a delay,
//! so it is the crash "after the answer, before committing".

#[path = "model/explore.rs"]
mod explore;
#[path = "model/world.rs"]
mod world;

use latchkey_domain::RefreshTokenReuse;

use explore::check;
use world::{Bug, Config, Rotation};

fn config(reuse: RefreshTokenReuse, rotation: Rotation) -> Config {
    Config {
        reuse,
        rotation,
        replicas: 2,
        refreshes: 2,
        faults: 2,
        last_second: 3,
        introspection: false,
        bug: None,
    }
}

/// The three ways a provider treats a rotated refresh token, each with the setting made for it.
const MATCHED: [(RefreshTokenReuse, Rotation); 3] = [
    (RefreshTokenReuse::Never, Rotation::Strict),
    (
        RefreshTokenReuse::Within { grace_secs: 2 },
        Rotation::Grace(2),
    ),
    (RefreshTokenReuse::Always, Rotation::None),
];

#[test]
fn every_interleaving_of_two_replicas_with_two_faults_keeps_the_grant_or_records_its_loss() {
    for (reuse, rotation) in MATCHED {
        match check(&config(reuse, rotation)) {
            Ok(report) => {
                println!(
                    "{reuse:?} with {rotation:?}: {} states, {} steps deep",
                    report.states, report.deepest
                );
                assert!(report.states > 1000, "the walk went somewhere");
            }
            Err(counterexample) => panic!("{reuse:?} with {rotation:?}: {counterexample}"),
        }
    }
}

#[test]
fn with_introspection_a_refresh_token_in_doubt_is_sent_only_while_the_provider_takes_it() {
    for (reuse, rotation) in MATCHED {
        let asking = Config {
            introspection: true,
            ..config(reuse, rotation)
        };
        match check(&asking) {
            Ok(report) => println!(
                "{reuse:?} with {rotation:?}, introspecting: {} states, {} steps deep",
                report.states, report.deepest
            ),
            Err(counterexample) => panic!("{reuse:?} with {rotation:?}: {counterexample}"),
        }
    }
}

#[test]
fn a_store_that_notes_the_token_for_a_holder_that_lost_the_lease_is_caught() {
    let seeded = Config {
        bug: Some(Bug::NoFence),
        ..config(RefreshTokenReuse::Never, Rotation::Strict)
    };
    let found = check(&seeded).expect_err("the checker finds the seeded bug");
    let text = found.to_string();
    println!("{text}");
    assert!(text.contains("sent again"), "{text}");
    assert!(text.contains("the lease runs out"), "{text}");
    assert!(found.trace.len() < 20, "a short trace: {text}");
}

#[test]
fn a_holder_that_ignores_a_token_left_in_doubt_is_caught() {
    let seeded = Config {
        bug: Some(Bug::IgnoreDoubt),
        ..config(RefreshTokenReuse::Never, Rotation::Strict)
    };
    let found = check(&seeded).expect_err("the checker finds the seeded bug");
    let text = found.to_string();
    println!("{text}");
    assert!(text.contains("sent again"), "{text}");
}

#[test]
fn a_setting_that_does_not_fit_the_provider_is_caught() {
    // `always` for a provider that rotates strictly: a token in doubt is sent again.
    let found = check(&config(RefreshTokenReuse::Always, Rotation::Strict))
        .expect_err("sending a rotated token again is found");
    assert!(found.to_string().contains("sent again"), "{found}");
}
