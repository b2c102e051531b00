//! The harness itself: the broker it starts works, and keeps its port across
//! a restart (the MQTT tests rely on both).

use igloo_tests::{Mosquitto, SHORT};

#[test]
fn broker_delivers_and_keeps_its_port_across_restart() {
    let mut broker = Mosquitto::start();
    let port = broker.port();
    let mut sub = broker.subscribe(&["harness/#"]);
    broker.publish_str("harness/a", r#"{"n":1}"#, false);
    let m = sub.wait_message(SHORT, "harness/a", |m| m.topic == "harness/a");
    assert_eq!(m.json(), serde_json::json!({"n": 1}));

    broker.publish_str("harness/retained", "kept", true);
    let mut late = broker.subscribe(&["harness/retained"]);
    let m = late.wait_message(SHORT, "the retained message", |m| {
        m.topic == "harness/retained"
    });
    assert!(m.retained, "delivered as retained: {m:?}");
    broker.restart();
    assert_eq!(broker.port(), port);
    // Without persistence the retained message is gone; new messages flow.
    let mut sub = broker.subscribe(&["harness/#"]);
    broker.publish_str("harness/b", "multi\nline", false);
    let m = sub.wait_message(SHORT, "harness/b", |m| m.topic == "harness/b");
    assert_eq!(m.payload, "multi\nline");
    assert!(
        !sub.seen().iter().any(|m| m.topic == "harness/retained"),
        "a retained message survived a broker restart without persistence: {:?}",
        sub.seen()
    );
}
