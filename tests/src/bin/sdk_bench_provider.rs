//! `igloo-sdk-bench`: the Rust SDK side of the Python provider bench
//! (tests/benches/python_provider.rs; its Python twin is
//! tests/python/bench_provider.py). Creates device `bench-1` with entity
//! `Counter` and, on custom command `bench.write` `{"n": N, "start": S,
//! "concurrent": bool}`, writes `Number` S+1..=S+N to it: one `write` awaited after the other,
//! or all started at once and awaited together. Replies when all are handed
//! to the SDK (the bench times their arrival in the core itself).

use igloo_provider::protocol::Component;
use igloo_provider::{Event, Provider};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (provider, mut events) = Provider::connect("igloo-sdk-bench", "0.1.0").await?;
    let device = provider.create_device("bench-1", "Bench", vec![]).await?;
    let entity = provider.register_entity(device, "Counter", vec![]).await?;
    while let Some(event) = events.next().await {
        let Event::Custom {
            request_id, body, ..
        } = event
        else {
            continue;
        };
        let args: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let n = args["n"].as_u64().unwrap_or(0);
        let start = args["start"].as_f64().unwrap_or(0.0);
        if args["concurrent"].as_bool().unwrap_or(false) {
            let writes = (1..=n)
                .map(|i| provider.write(device, entity, vec![Component::Number(start + i as f64)]));
            for r in futures::future::join_all(writes).await {
                r?;
            }
        } else {
            for i in 1..=n {
                provider
                    .write(device, entity, vec![Component::Number(start + i as f64)])
                    .await?;
            }
        }
        provider.reply_custom(request_id, "{}".into()).await?;
    }
    Ok(())
}
