//! A breadth-first walk of every state the protocol can reach under a [`Config`], checking the
//! properties in each; the first state that breaks one is answered with the steps that led to it.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};

use latchkey_domain::RefreshTokenReuse;
use latchkey_domain::connection::Status;

use super::world::{Config, Phase, Step, World, generation};

/// What a walk found.
#[derive(Debug)]
pub struct Report {
    pub states: usize,
    pub deepest: usize,
}

/// A property broken, and how.
#[derive(Debug)]
pub struct Counterexample {
    pub violation: String,
    pub trace: Vec<Step>,
}

impl std::fmt::Display for Counterexample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}, after:", self.violation)?;
        for (n, step) in self.trace.iter().enumerate() {
            writeln!(f, "  {:>2}. {step}", n + 1)?;
        }
        Ok(())
    }
}

/// A state's identity: everything in it, hashed twice over (128 bits).
fn key(world: &World) -> u128 {
    let text = format!(
        "{}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}",
        serde_json::to_string(&world.state).unwrap_or_default(),
        world.lease,
        world.provider,
        world.requests,
        world.replicas,
        world.clock,
        world.faults,
        world.handed_unlogged
    );
    let mut one = DefaultHasher::new();
    text.hash(&mut one);
    let mut two = DefaultHasher::new();
    (text.len(), &text).hash(&mut two);
    2u128.hash(&mut two);
    (u128::from(one.finish()) << 64) | u128::from(two.finish())
}

/// The safety properties, in one state.
fn broken(config: &Config, world: &World) -> Option<String> {
    if world.provider.revoked == Some("reuse") {
        return Some(
            "a refresh token the provider had rotated was sent again, outside any grace: the \
             provider revoked the grant"
                .to_owned(),
        );
    }
    if world.state.status == Status::ReauthorizationRequired {
        let code = world
            .state
            .last_error
            .as_ref()
            .map_or("", |e| e.code.as_str());
        let by_policy = code == "refresh_interrupted" && config.reuse != RefreshTokenReuse::Always;
        let refused = code == "invalid_grant" && world.provider.revoked.is_some();
        if !by_policy && !refused {
            return Some(format!(
                "the connection was marked for re-authorization ({code}) though the provider \
                 accepts its refresh token"
            ));
        }
    }
    let under_live_lease = world
        .requests
        .iter()
        .filter(|q| {
            world.lease.live && world.lease.owner == Some(q.from) && world.lease.fence == q.fence
        })
        .count();
    if under_live_lease > 1 {
        return Some("two refreshes at the provider under one live lease".to_owned());
    }
    if world.handed_unlogged {
        return Some("a caller was handed a token the log does not hold".to_owned());
    }
    None
}

/// Whether nothing is under way: every replica idle, no request at the provider.
fn quiet(world: &World) -> bool {
    world.requests.is_empty() && world.replicas.iter().all(|r| r.phase == Phase::Idle)
}

/// From a quiet state, with no more faults: a dead holder's lease runs out, and one more refresh
/// runs to its end. Answers the world it leaves and its steps.
fn finish(config: &Config, world: &World) -> (World, Vec<Step>) {
    let last = Config {
        faults: 0,
        ..*config
    };
    let mut world = world.clone();
    world.faults = 0;
    world.lease.live = false;
    for (n, replica) in world.replicas.iter_mut().enumerate() {
        replica.started = if n == 0 {
            config.refreshes - 1
        } else {
            config.refreshes
        };
    }
    let mut steps =
        vec!["(no more faults) the lease runs out; replica 0 refreshes once more".to_owned()];
    for _ in 0..16 {
        let progress = world
            .next(&last)
            .into_iter()
            .find(|(step, _)| !step.starts_with("a second passes"));
        match progress {
            Some((step, next)) => {
                steps.push(step);
                world = next;
            }
            None => break,
        }
    }
    (world, steps)
}

/// The liveness property, from a quiet state: after one more fault-free refresh, the log holds
/// the refresh token the provider accepts, or it records why the grant is gone.
fn lost(config: &Config, world: &World) -> Option<(String, Vec<Step>)> {
    let (end, steps) = finish(config, world);
    if let Some(violation) = broken(config, &end) {
        return Some((violation, steps));
    }
    let kept = end.state.status == Status::Active
        && end.provider.revoked.is_none()
        && generation(&end.state) == Some(end.provider.current);
    let recorded = end.state.status == Status::ReauthorizationRequired;
    (!kept && !recorded).then(|| {
        (
            format!(
                "the grant was lost without a record: the provider accepts refresh token {} \
                 (revoked: {:?}), the log holds {:?} and says {:?}",
                end.provider.current,
                end.provider.revoked,
                generation(&end.state),
                end.state.status
            ),
            steps,
        )
    })
}

struct Node {
    world: World,
    parent: Option<usize>,
    step: Step,
    depth: usize,
}

fn trace(nodes: &[Node], mut at: usize) -> Vec<Step> {
    let mut steps = Vec::new();
    while let Some(parent) = nodes[at].parent {
        steps.push(nodes[at].step.clone());
        at = parent;
    }
    steps.reverse();
    steps
}

/// Every reachable state, each checked; the first counterexample found (a shortest one).
pub fn check(config: &Config) -> Result<Report, Counterexample> {
    let start = World::new(config);
    let mut seen = HashSet::from([key(&start)]);
    let mut nodes = vec![Node {
        world: start,
        parent: None,
        step: String::new(),
        depth: 0,
    }];
    let mut queue = VecDeque::from([0]);
    let mut deepest = 0;
    while let Some(at) = queue.pop_front() {
        let world = &nodes[at].world;
        if let Some(violation) = broken(config, world) {
            return Err(Counterexample {
                violation,
                trace: trace(&nodes, at),
            });
        }
        if quiet(world)
            && let Some((violation, more)) = lost(config, world)
        {
            let mut steps = trace(&nodes, at);
            steps.extend(more);
            return Err(Counterexample {
                violation,
                trace: steps,
            });
        }
        let depth = nodes[at].depth + 1;
        for (step, next) in world.next(config) {
            if seen.insert(key(&next)) {
                deepest = deepest.max(depth);
                nodes.push(Node {
                    world: next,
                    parent: Some(at),
                    step,
                    depth,
                });
                queue.push_back(nodes.len() - 1);
            }
        }
    }
    Ok(Report {
        states: nodes.len(),
        deepest,
    })
}
