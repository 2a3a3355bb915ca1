//! `printEvent`.

use crate::table::Column;
use serde_json::{json, Value};

use super::*;

/// Event columns: LAST SEEN TYPE REASON OBJECT MESSAGE (+ SUBOBJECT SOURCE FIRST SEEN COUNT
/// NAME, interleaved as upstream defines them).
pub fn event_columns() -> Vec<Column> {
    vec![
        Column::new("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
        Column::new("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
        Column::new("Reason", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
        Column::new("Object", "The object that this event is about."),
        Column::new("Subobject", "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.").wide(),
        Column::new("Source", "The component reporting this event. Should be a short machine understandable string.").wide(),
        Column::new("Message", "A human-readable description of the status of this operation."),
        Column::new("First Seen", "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)").wide(),
        Column::new("Count", "The number of times this event has occurred.").wide(),
        Column {
            priority: 1,
            ..Column::name_column()
        },
    ]
}

fn since(t: &str, now: jiff::Timestamp) -> Option<String> {
    ts(t).map(|t| crate::table::human_duration(now.as_second() - t.as_second()))
}

/// `printEvent`.
pub fn event_row(ev: &Value, wide: bool, now: jiff::Timestamp) -> Vec<Value> {
    let first = since(s(ev, "/firstTimestamp"), now)
        .or_else(|| since(s(ev, "/eventTime"), now))
        .unwrap_or_else(|| "<unknown>".into());
    let mut last = since(s(ev, "/lastTimestamp"), now).unwrap_or_else(|| first.clone());
    let mut count = int(ev, "/count");
    if ev.get("series").is_some_and(|v| v.is_object()) {
        last = since(s(ev, "/series/lastObservedTime"), now).unwrap_or_else(|| "<unknown>".into());
        count = int(ev, "/series/count");
    } else if count == 0 {
        count = 1;
    }
    let kind = s(ev, "/involvedObject/kind").to_lowercase();
    let name = s(ev, "/involvedObject/name");
    let target = if name.is_empty() {
        kind
    } else {
        format!("{kind}/{name}")
    };
    let message = s(ev, "/message").trim().to_string();
    if wide {
        let component = [s(ev, "/source/component"), s(ev, "/reportingComponent")]
            .into_iter()
            .find(|x| !x.is_empty())
            .unwrap_or("");
        let instance = [s(ev, "/source/host"), s(ev, "/reportingInstance")]
            .into_iter()
            .find(|x| !x.is_empty())
            .unwrap_or("");
        let source = if instance.is_empty() {
            component.to_string()
        } else {
            format!("{component}, {instance}")
        };
        vec![
            json!(last),
            json!(s(ev, "/type")),
            json!(s(ev, "/reason")),
            json!(target),
            json!(s(ev, "/involvedObject/fieldPath")),
            json!(source),
            json!(message),
            json!(first),
            json!(count),
            json!(s(ev, "/metadata/name")),
        ]
    } else {
        vec![
            json!(last),
            json!(s(ev, "/type")),
            json!(s(ev, "/reason")),
            json!(target),
            json!(message),
        ]
    }
}
