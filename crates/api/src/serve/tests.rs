//! Transport limits on scripted I/O and paused time.

use super::*;
use tokio::io::AsyncWriteExt;

#[test]
fn watches_are_long_running() {
    for (uri, long) in [
        ("/runtimes/a/api/v1/pods?watch=true", true),
        ("/runtimes/a/api/v1/pods?watch=1", true),
        ("/runtimes/a/api/v1/pods?labelSelector=x&watch=TRUE", true),
        ("/runtimes/a/api/v1/watch/pods", true),
        ("/runtimes/a/api/v1/pods?watch=false", false),
        ("/runtimes/a/api/v1/pods?watch=0", false),
        ("/runtimes/a/api/v1/pods", false),
        ("/runtimes/a/api/v1/pods?nowatch=true", false),
        ("/v2/catalog", false),
    ] {
        assert_eq!(is_long_running(&uri.parse().unwrap()), long, "{uri}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_stops_reading_fails_the_write() {
    let (client, server) = tokio::io::duplex(1024);
    let mut io = WriteStall::new(server, Duration::from_secs(60));
    // The buffer fills; then the write waits, and fails once a minute has passed without room.
    let started = tokio::time::Instant::now();
    let err = io.write_all(&[0u8; 4096]).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(60) && waited < Duration::from_secs(61),
        "{waited:?}"
    );
    drop(client);
}

#[tokio::test(start_paused = true)]
async fn a_peer_that_reads_slowly_is_not_cut_off() {
    use tokio::io::AsyncReadExt;
    let (mut client, server) = tokio::io::duplex(1024);
    let mut io = WriteStall::new(server, Duration::from_secs(60));
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 512];
        let mut total = 0;
        while total < 8192 {
            // Each read comes well within the limit, though the whole takes far longer.
            tokio::time::sleep(Duration::from_secs(30)).await;
            total += client.read(&mut buf).await.unwrap();
        }
    });
    io.write_all(&[0u8; 8192]).await.unwrap();
    reader.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn idle_means_nothing_in_flight_for_the_whole_time() {
    let (count, rx) = watch::channel(0usize);
    let count = Arc::new(count);
    let idle = tokio::spawn(idle_for(rx, Duration::from_secs(90)));
    let started = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let request = InFlight::begin(&count);
    // A request in flight (a watch) for far longer than the idle timeout.
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert!(!idle.is_finished());
    drop(request);
    idle.await.unwrap();
    let waited = started.elapsed();
    let want = Duration::from_secs(60 + 600 + 90);
    assert!(
        waited >= want && waited < want + Duration::from_secs(1),
        "{waited:?}"
    );
}

/// A peer still sending when the server answers and closes (a refused upload) gets the answer
/// and an orderly end, not a reset that throws the answer away.
#[tokio::test]
async fn a_closed_connection_lets_a_peer_still_sending_read_the_answer() {
    use tokio::io::AsyncReadExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut client = TcpStream::connect(addr).await.unwrap();
    let (server, _) = listener.accept().await.unwrap();
    let body = vec![b'x'; 64 * 1024];
    client.write_all(&body).await.unwrap();
    let mut server = Linger(Some(server));
    server.write_all(b"413").await.unwrap();
    drop(server);
    // The client goes on sending, then reads: the answer, then the end.
    client.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    client.read_to_end(&mut answer).await.unwrap();
    assert_eq!(answer, b"413");
}
