//! Keeps dead etcd members out of a client's balanced channel.
//!
//! tonic's balancer keeps the endpoint of a member that died "ready", so with several
//! endpoints a share of requests, and new watches, fail with "connection refused" for as
//! long as that member stays down. Here the channel's endpoint updates pass through a task
//! that also probes every member (a TCP connect every 250 ms): a member that stops
//! answering is taken out while another one answers, and put back when it answers again.
//! While none answers all are in, so requests fail at once rather than wait; the first
//! member that answers takes those out again. The task ends with the last clone of the
//! client.

use etcd_client::{BalancedChannelBuilder, Channel};
use std::time::Duration;
use tokio::sync::mpsc::{Receiver, Sender};
use tonic::codegen::http::Uri;
use tonic::transport::Endpoint;
use tonic::transport::channel::Change;

const PROBE_EVERY: Duration = Duration::from_millis(250);
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

type Update = Change<Uri, Endpoint>;

/// A balanced channel whose dead members are taken out (see the module doc).
pub struct Tended;

impl BalancedChannelBuilder for Tended {
    type Error = tonic::transport::Error;

    fn balanced_channel(
        self,
        buffer_size: usize,
    ) -> Result<(Channel, Sender<Update>), Self::Error> {
        let (channel, balancer) = tonic::transport::Channel::balance_channel(buffer_size);
        let (updates, incoming) = tokio::sync::mpsc::channel(buffer_size);
        tokio::spawn(tend(incoming, balancer));
        Ok((Channel::Tonic(channel), updates))
    }
}

/// One endpoint the client asked for, and whether the balancer has it now.
struct Member {
    uri: Uri,
    endpoint: Endpoint,
    in_use: bool,
    /// Whether it answered when last asked.
    answered: bool,
}

async fn tend(mut incoming: Receiver<Update>, balancer: Sender<Update>) {
    let mut members: Vec<Member> = Vec::new();
    // The first probe waits a period: the client's own inserts come first, so a probe
    // never finds only the dead members of a partial list.
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + PROBE_EVERY, PROBE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let update = tokio::select! {
            update = incoming.recv() => match update {
                // Every clone of the client is gone.
                None => return,
                Some(update) => Some(update),
            },
            _ = tick.tick() => None,
        };
        let sent = match update {
            Some(update) => forward(&mut members, update, &balancer).await,
            None => probe(&mut members, &balancer).await,
        };
        if !sent {
            // The channel is gone.
            return;
        }
    }
}

/// Passes the client's own update on, remembering the endpoint; a member that does not
/// answer waits for the next probe. One that answers takes out the members that are in
/// only because none answered. False if the channel is gone.
async fn forward(members: &mut Vec<Member>, update: Update, balancer: &Sender<Update>) -> bool {
    match update {
        Change::Insert(uri, endpoint) => {
            members.retain(|m| m.uri != uri);
            let in_use = answers(&uri).await;
            if in_use {
                for member in members.iter_mut().filter(|m| m.in_use && !m.answered) {
                    member.in_use = false;
                    if balancer
                        .send(Change::Remove(member.uri.clone()))
                        .await
                        .is_err()
                    {
                        return false;
                    }
                }
            }
            members.push(Member {
                uri: uri.clone(),
                endpoint: endpoint.clone(),
                in_use,
                answered: in_use,
            });
            !in_use || balancer.send(Change::Insert(uri, endpoint)).await.is_ok()
        }
        Change::Remove(uri) => {
            members.retain(|m| m.uri != uri);
            balancer.send(Change::Remove(uri)).await.is_ok()
        }
    }
}

/// Takes out members that do not answer (while another does) and puts back those that
/// answer again. False if the channel is gone.
async fn probe(members: &mut [Member], balancer: &Sender<Update>) -> bool {
    let answers = futures::future::join_all(members.iter().map(|m| answers(&m.uri))).await;
    // With none answering, all go in: requests then fail at once rather than wait.
    let none = !answers.iter().any(|a| *a);
    for (member, answers) in members.iter_mut().zip(answers) {
        member.answered = answers;
        let wanted = answers || none;
        let change = match (member.in_use, wanted) {
            (true, false) => Change::Remove(member.uri.clone()),
            (false, true) => Change::Insert(member.uri.clone(), member.endpoint.clone()),
            _ => continue,
        };
        member.in_use = wanted;
        if balancer.send(change).await.is_err() {
            return false;
        }
    }
    true
}

/// Whether something accepts a TCP connection at the endpoint's host and port.
async fn answers(uri: &Uri) -> bool {
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = uri.port_u16().unwrap_or(2379);
    let connect = tokio::net::TcpStream::connect((host, port));
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, connect).await,
        Ok(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(port: u16) -> (Uri, Endpoint) {
        let uri: Uri = format!("http://127.0.0.1:{port}").parse().expect("uri");
        (uri.clone(), Endpoint::from(uri))
    }

    fn describe(change: &Update) -> String {
        match change {
            Change::Insert(uri, _) => format!("+{}", uri.port_u16().unwrap_or(0)),
            Change::Remove(uri) => format!("-{}", uri.port_u16().unwrap_or(0)),
        }
    }

    /// A dead member alone went in (none answered); a live one inserted after it takes
    /// it out before going in itself, without waiting for the next probe.
    #[tokio::test]
    async fn the_first_live_member_takes_out_dead_ones_at_once() {
        let live = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let live_port = live.local_addr().expect("addr").port();
        let dead_port = {
            let gone = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            gone.local_addr().expect("addr").port()
        };
        let (updates, incoming) = tokio::sync::mpsc::channel(8);
        let (balancer, mut seen) = tokio::sync::mpsc::channel(8);
        tokio::spawn(tend(incoming, balancer));

        let (uri, ep) = endpoint(dead_port);
        updates.send(Change::Insert(uri, ep)).await.expect("send");
        // No probe has run yet: nothing answered, and nothing went in.
        tokio::time::sleep(PROBE_EVERY / 2).await;
        assert!(seen.try_recv().is_err());
        // The first probe finds none answering, so the dead one goes in.
        let first = tokio::time::timeout(PROBE_EVERY * 4, seen.recv()).await;
        let first = first.expect("a probe ran").expect("open");
        assert_eq!(describe(&first), format!("+{dead_port}"));

        let (uri, ep) = endpoint(live_port);
        updates.send(Change::Insert(uri, ep)).await.expect("send");
        let mut next = Vec::new();
        for _ in 0..2 {
            let change = tokio::time::timeout(PROBE_EVERY * 4, seen.recv()).await;
            next.push(describe(&change.expect("forwarded").expect("open")));
        }
        assert_eq!(next, [format!("-{dead_port}"), format!("+{live_port}")]);
    }
}
