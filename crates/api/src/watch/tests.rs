//! The watch send buffer: bounded for live events, waiting for room for the initial state.

use super::*;

fn line(n: usize) -> Bytes {
    Bytes::from(vec![b'x'; n])
}

#[tokio::test]
async fn live_lines_beyond_the_buffer_end_the_watch() {
    let outbox = Outbox::new();
    let body = OutboxBody(outbox.clone());
    let mut queued = 0;
    while outbox.offer(line(64 * 1024)) == Offer::Queued {
        queued += 1;
    }
    assert_eq!(queued, LIVE_BUFFER_BYTES / (64 * 1024));
    // The client takes one line: there is room for one more, and no more.
    assert!(body.0.next_line().await.is_some());
    assert_eq!(outbox.offer(line(64 * 1024)), Offer::Queued);
    assert_eq!(outbox.offer(line(1)), Offer::Full);
    outbox.terminate();
    assert_eq!(body.0.next_line().await, None, "what was queued is dropped");
}

#[tokio::test]
async fn one_line_larger_than_the_buffer_goes_through_alone() {
    let outbox = Outbox::new();
    let body = OutboxBody(outbox.clone());
    assert_eq!(outbox.offer(line(LIVE_BUFFER_BYTES * 2)), Offer::Queued);
    assert_eq!(outbox.offer(line(1)), Offer::Full);
    assert_eq!(
        body.0.next_line().await.map(|l| l.len()),
        Some(LIVE_BUFFER_BYTES * 2)
    );
    assert_eq!(outbox.offer(line(1)), Offer::Queued);
}

#[tokio::test]
async fn the_initial_state_waits_for_room_and_live_events_have_their_own() {
    let outbox = Outbox::new();
    let body = OutboxBody(outbox.clone());
    let chunk = LIVE_BUFFER_BYTES / 4;
    let producer = {
        let outbox = outbox.clone();
        tokio::spawn(async move {
            for _ in 0..12 {
                assert!(outbox.send_initial(line(chunk)).await);
            }
            // Live events queue behind the initial state without counting it.
            for _ in 0..4 {
                assert_eq!(outbox.offer(line(chunk)), Offer::Queued);
            }
            outbox.end();
        })
    };
    tokio::task::yield_now().await;
    // Only a buffer's worth of the initial state is queued before the client reads.
    assert_eq!(outbox.lock().initial, 4);
    let mut taken = 0;
    while let Some(l) = body.0.next_line().await {
        assert_eq!(l.len(), chunk);
        taken += 1;
    }
    assert_eq!(taken, 16);
    producer.await.unwrap();
}

#[tokio::test]
async fn a_client_that_goes_away_stops_the_producer() {
    let outbox = Outbox::new();
    let body = OutboxBody(outbox.clone());
    for _ in 0..4 {
        assert!(outbox.send_initial(line(LIVE_BUFFER_BYTES / 4)).await);
    }
    let waiting = {
        let outbox = outbox.clone();
        tokio::spawn(async move { outbox.send_initial(line(1)).await })
    };
    let gone = {
        let outbox = outbox.clone();
        tokio::spawn(async move { outbox.gone().await })
    };
    tokio::task::yield_now().await;
    drop(body);
    assert!(!waiting.await.unwrap(), "the waiting send gives up");
    gone.await.unwrap();
    assert_eq!(outbox.offer(line(1)), Offer::Gone);
}
