use std::sync::Arc;

use tokio::sync::broadcast;

use async_trait::async_trait;

use super::{Bus, Delivery, Envelope, Topic};

/// In-process bus: one broadcast channel; the node is the only subscriber, so every topic is
/// implicitly watched.
pub struct LocalBus {
    sender: broadcast::Sender<Delivery>,
}

impl LocalBus {
    /// `capacity` bounds how far the node's fan-out task may lag before it must recover.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        LocalBus { sender }
    }
}

#[async_trait]
impl Bus for LocalBus {
    fn publish(&self, envelope: Envelope) {
        // No receiver means no node has sessions: nothing to deliver.
        let _ = self.sender.send(Delivery::Event(Arc::new(envelope)));
    }

    fn subscribe(&self) -> broadcast::Receiver<Delivery> {
        self.sender.subscribe()
    }

    async fn watch(&self, _topics: Vec<Topic>) {}

    fn unwatch(&self, _topics: Vec<Topic>) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Audience;
    use crate::model::Snowflake;

    #[tokio::test]
    async fn subscribers_receive_published_events_in_order() {
        let bus = LocalBus::new(16);
        let mut rx = bus.subscribe();
        for n in 0..3 {
            bus.publish(Envelope {
                topic: Topic::Guild(Snowflake(1)),
                event: "MESSAGE_CREATE".into(),
                data: format!("{{\"n\":{n}}}"),
                audience: Audience::Everyone,
                subject_user: None,
            });
        }
        for n in 0..3 {
            let Delivery::Event(envelope) = rx.recv().await.unwrap() else {
                panic!("unexpected gap");
            };
            assert_eq!(envelope.data, format!("{{\"n\":{n}}}"));
        }
    }
}
