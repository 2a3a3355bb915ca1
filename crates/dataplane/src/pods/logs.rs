//! What `kubectl logs` reads: each container's output, as the container runtime's log files
//! hold it (kubelet `pkg/kubelet/kuberuntime/logs/logs.go`), kept in memory.
//!
//! Bounded: each container keeps its last [`LogLimits::bytes_per_container`] bytes (older lines
//! are dropped, as kubelet rotates `containerLogMaxSize`), and at most
//! [`LogLimits::containers`] containers are kept (the least recently written goes first). A
//! follower (`kubectl logs -f`) gets the lines written after it subscribed, until the container
//! terminates or its pod is deleted.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// How much the store keeps.
#[derive(Debug, Clone, Copy)]
pub struct LogLimits {
    /// Bytes of lines (text and newline) kept per container.
    pub bytes_per_container: usize,
    /// Containers kept at most, over every runtime.
    pub containers: usize,
    /// One line's length at most; longer lines are cut (kubelet splits lines over 16 KiB).
    pub line_bytes: usize,
    /// Bytes of every container's lines together at most; the least recently written
    /// containers go first.
    pub total_bytes: usize,
}

impl Default for LogLimits {
    fn default() -> Self {
        LogLimits {
            bytes_per_container: 1024 * 1024,
            containers: 10_000,
            line_bytes: 16 * 1024,
            total_bytes: 64 * 1024 * 1024,
        }
    }
}

/// One log line and when it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// When the line was written.
    pub at: jiff::Timestamp,
    /// The line without its newline.
    pub text: Arc<str>,
}

impl Line {
    /// The line as `kubectl logs` prints it, with its newline, and the timestamp first when
    /// `timestamps` (kubelet's `timeFormatOut`, `2006-01-02T15:04:05.000000000Z07:00`).
    pub fn render(&self, timestamps: bool) -> String {
        if timestamps {
            format!("{} {}\n", rfc3339_nano(self.at), self.text)
        } else {
            format!("{}\n", self.text)
        }
    }
}

/// kubelet's `timeFormatOut`: always nine fractional digits, UTC.
pub fn rfc3339_nano(t: jiff::Timestamp) -> String {
    format!(
        "{}.{:09}Z",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        t.subsec_nanosecond().max(0)
    )
}

/// Which container: runtime, namespace, pod and container names.
pub type ContainerKey = (String, String, String, String);

struct Container {
    lines: VecDeque<Line>,
    bytes: usize,
    /// Whether the container still runs (its log can be followed).
    running: bool,
    /// The followers' channel, made for the first one; dropped when the container terminates
    /// (followers end).
    tx: Option<broadcast::Sender<Line>>,
    /// Order of the last write, for eviction.
    touched: u64,
}

/// The log store of every runtime's containers.
pub struct PodLogs {
    limits: LogLimits,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    containers: HashMap<ContainerKey, Container>,
    clock: u64,
    /// The bytes of all containers' lines.
    bytes: usize,
}

/// What a reader gets: the lines so far, and for a follower of a running container the lines
/// written after them (the receiver ends when the container terminates or the pod goes).
pub struct Snapshot {
    /// Lines kept so far, oldest first.
    pub lines: Vec<Line>,
    /// Lines written after `lines`; `None` when the container already terminated or was never
    /// started.
    pub follow: Option<broadcast::Receiver<Line>>,
}

impl Default for PodLogs {
    fn default() -> Self {
        PodLogs::new(LogLimits::default())
    }
}

fn key(runtime: &str, namespace: &str, pod: &str, container: &str) -> ContainerKey {
    (
        runtime.to_string(),
        namespace.to_string(),
        pod.to_string(),
        container.to_string(),
    )
}

impl PodLogs {
    /// An empty store with these limits.
    pub fn new(limits: LogLimits) -> PodLogs {
        PodLogs {
            limits,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Appends one line (without its newline; a line with newlines is split) to a container's
    /// log, as written now. A container written to for the first time is started.
    pub fn append(&self, runtime: &str, namespace: &str, pod: &str, container: &str, line: &str) {
        self.append_at(
            runtime,
            namespace,
            pod,
            container,
            line,
            jiff::Timestamp::now(),
        )
    }

    /// [`PodLogs::append`] at a given time.
    pub fn append_at(
        &self,
        runtime: &str,
        namespace: &str,
        pod: &str,
        container: &str,
        line: &str,
        at: jiff::Timestamp,
    ) {
        let limits = self.limits;
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let k = key(runtime, namespace, pod, container);
        if !inner.containers.contains_key(&k) {
            evict(&mut inner, limits.containers.saturating_sub(1));
        }
        let c = inner
            .containers
            .entry(k.clone())
            .or_insert_with(new_container);
        c.touched = clock;
        let before = c.bytes;
        for text in line.split('\n') {
            let text = cut(text, limits.line_bytes);
            let l = Line {
                at,
                text: Arc::from(text),
            };
            c.bytes += l.text.len() + 1;
            if let Some(tx) = &c.tx {
                let _ = tx.send(l.clone());
            }
            c.lines.push_back(l);
            while c.bytes > limits.bytes_per_container {
                match c.lines.pop_front() {
                    Some(old) => c.bytes -= old.text.len() + 1,
                    None => break,
                }
            }
        }
        let after = c.bytes;
        inner.bytes = inner.bytes + after - before;
        // Over the total: the least recently written other containers go.
        while inner.bytes > limits.total_bytes {
            let Some(oldest) = inner
                .containers
                .iter()
                .filter(|(key, _)| **key != k)
                .min_by_key(|(_, c)| c.touched)
                .map(|(key, _)| key.clone())
            else {
                break;
            };
            if let Some(gone) = inner.containers.remove(&oldest) {
                inner.bytes -= gone.bytes;
            }
        }
    }

    /// Marks a container started (its log exists, empty, and can be followed).
    pub fn start(&self, runtime: &str, namespace: &str, pod: &str, container: &str) {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let k = key(runtime, namespace, pod, container);
        if !inner.containers.contains_key(&k) {
            evict(&mut inner, self.limits.containers.saturating_sub(1));
        }
        let c = inner.containers.entry(k).or_insert_with(new_container);
        c.touched = clock;
        c.running = true;
    }

    /// The container terminated: its followers end, its lines stay.
    pub fn terminate(&self, runtime: &str, namespace: &str, pod: &str, container: &str) {
        let mut inner = self.lock();
        if let Some(c) = inner
            .containers
            .get_mut(&key(runtime, namespace, pod, container))
        {
            c.running = false;
            c.tx = None;
        }
    }

    /// The pod is gone: its containers' logs go and their followers end.
    pub fn remove_pod(&self, runtime: &str, namespace: &str, pod: &str) {
        let mut inner = self.lock();
        let mut freed = 0;
        inner.containers.retain(|(r, n, p, _), c| {
            let gone = r == runtime && n == namespace && p == pod;
            if gone {
                freed += c.bytes;
            }
            !gone
        });
        inner.bytes -= freed;
    }

    /// Every pod of `runtime` that has logs, as (namespace, pod).
    pub fn pods(&self, runtime: &str) -> Vec<(String, String)> {
        let inner = self.lock();
        let mut v: Vec<(String, String)> = inner
            .containers
            .keys()
            .filter(|(r, ..)| r == runtime)
            .map(|(_, n, p, _)| (n.clone(), p.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// The container's lines, and a receiver of the next ones when `follow` and the container
    /// is running.
    pub fn read(
        &self,
        runtime: &str,
        namespace: &str,
        pod: &str,
        container: &str,
        follow: bool,
    ) -> Snapshot {
        let mut inner = self.lock();
        match inner
            .containers
            .get_mut(&key(runtime, namespace, pod, container))
        {
            None => Snapshot {
                lines: Vec::new(),
                follow: None,
            },
            Some(c) => Snapshot {
                lines: c.lines.iter().cloned().collect(),
                follow: if follow && c.running {
                    Some(
                        c.tx.get_or_insert_with(|| broadcast::channel(LINES_IN_FLIGHT).0)
                            .subscribe(),
                    )
                } else {
                    None
                },
            },
        }
    }

    /// Whether the container has a log that is still being written.
    pub fn running(&self, runtime: &str, namespace: &str, pod: &str, container: &str) -> bool {
        self.lock()
            .containers
            .get(&key(runtime, namespace, pod, container))
            .is_some_and(|c| c.running)
    }

    /// Whether the container has a log at all.
    pub fn exists(&self, runtime: &str, namespace: &str, pod: &str, container: &str) -> bool {
        self.lock()
            .containers
            .contains_key(&key(runtime, namespace, pod, container))
    }
}

/// Lines a slow follower may fall behind before it skips some.
const LINES_IN_FLIGHT: usize = 256;

fn new_container() -> Container {
    Container {
        lines: VecDeque::new(),
        bytes: 0,
        running: true,
        tx: None,
        touched: 0,
    }
}

fn evict(inner: &mut Inner, keep: usize) {
    while inner.containers.len() > keep {
        let Some(oldest) = inner
            .containers
            .iter()
            .min_by_key(|(_, c)| c.touched)
            .map(|(k, _)| k.clone())
        else {
            return;
        };
        if let Some(gone) = inner.containers.remove(&oldest) {
            inner.bytes -= gone.bytes;
        }
    }
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `PodLogOptions` as the log reader applies them to kept lines (kubelet `ReadLogs`:
/// `sinceSeconds`/`sinceTime` first, then `tailLines`, then `limitBytes` over the output).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogOptions {
    /// Prefix each line with its RFC3339Nano timestamp.
    pub timestamps: bool,
    /// Only the last N lines.
    pub tail_lines: Option<i64>,
    /// Only lines written after this time.
    pub since: Option<jiff::Timestamp>,
    /// Stop after this many bytes.
    pub limit_bytes: Option<i64>,
}

/// The kept lines `opts` selects, rendered, and how many bytes `limitBytes` still allows after
/// them (`None`: no limit).
pub fn select(lines: &[Line], opts: &LogOptions) -> (String, Option<usize>) {
    let since: Vec<&Line> = lines
        .iter()
        .filter(|l| opts.since.is_none_or(|s| l.at >= s))
        .collect();
    let start = match opts.tail_lines {
        Some(n) if n >= 0 => since.len().saturating_sub(n as usize),
        _ => 0,
    };
    let mut out = String::new();
    for l in &since[start..] {
        out.push_str(&l.render(opts.timestamps));
    }
    let mut left = opts.limit_bytes.map(|b| b.max(0) as usize);
    if let Some(max) = left {
        if out.len() > max {
            // limitBytes cuts bytes, not characters (kubelet's LimitWriter).
            let bytes = out.as_bytes()[..max].to_vec();
            out = String::from_utf8_lossy(&bytes).into_owned();
        }
        left = Some(max.saturating_sub(out.len()));
    }
    (out, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000 + s).unwrap()
    }

    #[test]
    fn keeps_the_last_bytes_of_each_container() {
        let logs = PodLogs::new(LogLimits {
            bytes_per_container: 10,
            containers: 2,
            line_bytes: 100,
            total_bytes: 1000,
        });
        for i in 0..10 {
            logs.append_at("rt", "ns", "p", "c", &format!("l{i}"), ts(i));
        }
        let lines: Vec<String> = logs
            .read("rt", "ns", "p", "c", false)
            .lines
            .iter()
            .map(|l| l.text.to_string())
            .collect();
        assert_eq!(lines, ["l7", "l8", "l9"]);
    }

    #[test]
    fn keeps_a_bounded_number_of_containers() {
        let logs = PodLogs::new(LogLimits {
            bytes_per_container: 100,
            containers: 2,
            line_bytes: 100,
            total_bytes: 1000,
        });
        logs.append("rt", "ns", "a", "c", "1");
        logs.append("rt", "ns", "b", "c", "2");
        logs.append("rt", "ns", "a", "c", "3");
        logs.append("rt", "ns", "d", "c", "4");
        assert_eq!(
            logs.pods("rt"),
            [("ns".into(), "a".into()), ("ns".into(), "d".into())]
        );
    }

    #[test]
    fn tail_since_limit_and_timestamps() {
        let lines: Vec<Line> = (0..5)
            .map(|i| Line {
                at: ts(i),
                text: Arc::from(format!("line {i}").as_str()),
            })
            .collect();
        let tail = LogOptions {
            tail_lines: Some(2),
            ..Default::default()
        };
        assert_eq!(select(&lines, &tail).0, "line 3\nline 4\n");
        let since = LogOptions {
            since: Some(ts(3)),
            ..Default::default()
        };
        assert_eq!(select(&lines, &since).0, "line 3\nline 4\n");
        let limit = LogOptions {
            limit_bytes: Some(9),
            ..Default::default()
        };
        assert_eq!(select(&lines, &limit), ("line 0\nli".to_string(), Some(0)));
        let stamped = LogOptions {
            timestamps: true,
            tail_lines: Some(1),
            ..Default::default()
        };
        assert_eq!(
            select(&lines, &stamped).0,
            "2023-11-14T22:13:24.000000000Z line 4\n"
        );
    }

    #[test]
    fn keeps_a_bounded_total() {
        let logs = PodLogs::new(LogLimits {
            bytes_per_container: 100,
            containers: 100,
            line_bytes: 100,
            total_bytes: 25,
        });
        for p in ["a", "b", "c"] {
            logs.append("rt", "ns", p, "c", "123456789");
        }
        // Each container holds 10 bytes: the oldest went.
        assert_eq!(
            logs.pods("rt"),
            [("ns".into(), "b".into()), ("ns".into(), "c".into())]
        );
        logs.remove_pod("rt", "ns", "b");
        logs.append("rt", "ns", "d", "c", "123456789");
        assert_eq!(logs.pods("rt").len(), 2);
    }

    #[tokio::test]
    async fn followers_end_when_the_container_terminates() {
        let logs = PodLogs::default();
        logs.start("rt", "ns", "p", "c");
        let mut snap = logs.read("rt", "ns", "p", "c", true);
        logs.append("rt", "ns", "p", "c", "hello");
        logs.terminate("rt", "ns", "p", "c");
        let rx = snap.follow.as_mut().unwrap();
        assert_eq!(&*rx.recv().await.unwrap().text, "hello");
        assert!(rx.recv().await.is_err());
        assert!(logs.read("rt", "ns", "p", "c", true).follow.is_none());
    }
}
