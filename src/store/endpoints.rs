//! Keeps dead etcd members out of a client's balanced channel.
//!
//! tonic's balancer keeps the endpoint of a member that died "ready", so with several
//! endpoints a share of requests, and new watches, fail with "connection refused" for as
//! long as that member stays down. Here the channel's endpoint updates pass through a task
//! that also probes every member (a TCP connect every 250 ms): a member that stops
//! answering is taken out while another one answers, and put back when it answers again.
//! The task ends with the last clone of the client.

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
}

async fn tend(mut incoming: Receiver<Update>, balancer: Sender<Update>) {
    let mut members: Vec<Member> = Vec::new();
    let mut tick = tokio::time::interval(PROBE_EVERY);
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
/// answer waits for the next probe. False if the channel is gone.
async fn forward(members: &mut Vec<Member>, update: Update, balancer: &Sender<Update>) -> bool {
    match update {
        Change::Insert(uri, endpoint) => {
            members.retain(|m| m.uri != uri);
            let in_use = answers(&uri).await;
            members.push(Member {
                uri: uri.clone(),
                endpoint: endpoint.clone(),
                in_use,
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
