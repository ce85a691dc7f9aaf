//! The per-resource list+watch state machine, as one `State` and one pure `step` function.
//!
//! Mirrors what kube-runtime's watcher does internally, but keeps what a recorder
//! must write verbatim: every list page item becomes a LISTED record, SYNCED closes a
//! complete list, watch events keep their type, and a watch that cannot resume (410 Gone, a
//! resourceVersion the server no longer knows after an etcd restore) becomes a GAP followed
//! by a re-list. A resource that can no longer be read (403, a 401 that fresh credentials
//! did not cure, a resource no longer served) also becomes a GAP, which stays open until a
//! list succeeds again: a resource never stops being recorded silently. The driver (see
//! `watcher.rs`) performs the I/O a state asks for and feeds the outcome back as an [`Input`].

use serde_json::value::RawValue;

use crate::trace::EventType;

/// Where a resource's recording stands; each variant's doc says what the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Request the next list page (`continue_token` from the previous page, none for the first).
    Listing {
        /// The continue token of the page to fetch, if not the first page.
        continue_token: Option<String>,
        /// Whether a GAP is open for this resource (written, not yet closed by SYNCED), so a
        /// failure while listing writes no second one.
        gap_open: bool,
    },
    /// Open (or re-open) a watch from `resource_version`.
    Watching {
        /// The last resourceVersion seen (from the list, an event or a bookmark).
        resource_version: String,
    },
}

impl State {
    /// The state a resource starts in: listing from the first page.
    pub fn start() -> State {
        State::Listing {
            continue_token: None,
            gap_open: false,
        }
    }

    /// Listing from the first page after a GAP.
    pub fn relist() -> State {
        State::Listing {
            continue_token: None,
            gap_open: true,
        }
    }
}

/// What the driver observed while doing what the state asked.
#[derive(Debug)]
pub enum Input<'a> {
    /// A list page arrived.
    Page {
        /// Its items, as the server sent them.
        items: Vec<&'a RawValue>,
        /// `metadata.resourceVersion` of the list.
        resource_version: String,
        /// `metadata.continue`, when more pages follow.
        continue_token: Option<String>,
    },
    /// A watch event (ADDED, MODIFIED or DELETED) arrived.
    Event {
        /// Its type.
        event: EventType,
        /// The object.
        object: &'a RawValue,
        /// The object's `metadata.resourceVersion`.
        resource_version: Option<String>,
    },
    /// A BOOKMARK arrived: nothing changed up to this resourceVersion.
    Bookmark {
        /// The bookmark's resourceVersion.
        resource_version: String,
    },
    /// The watch cannot resume from its resourceVersion: 410 Gone (too old), or too large (the
    /// server's history went back, e.g. etcd restored from a backup). While listing: the
    /// continue token expired.
    CannotResume {
        /// Why, as the GAP will say it.
        reason: String,
    },
    /// The resource can no longer be read: 403, a 401 that fresh credentials did not cure, or
    /// the resource is no longer served (404).
    Lost {
        /// Why, as the GAP will say it.
        reason: String,
    },
    /// The watch stream ended (timeout, closed connection) or a request failed transiently.
    Interrupted,
}

/// What a step asks the recorder to write.
#[derive(Debug)]
pub enum Emit<'a> {
    /// An object record.
    Object {
        /// LISTED for list items, else the watch type.
        event: EventType,
        /// The object.
        object: &'a RawValue,
    },
    /// A list completed.
    Synced {
        /// The list's resourceVersion.
        resource_version: String,
    },
    /// Events may have been missed.
    Gap {
        /// Why.
        reason: String,
    },
}

impl PartialEq for Emit<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (
                Emit::Object {
                    event: a,
                    object: x,
                },
                Emit::Object {
                    event: b,
                    object: y,
                },
            ) => a == b && x.get() == y.get(),
            (
                Emit::Synced {
                    resource_version: a,
                },
                Emit::Synced {
                    resource_version: b,
                },
            ) => a == b,
            (Emit::Gap { reason: a }, Emit::Gap { reason: b }) => a == b,
            _ => false,
        }
    }
}

/// One transition: what to write and the next state.
pub fn step<'a>(state: State, input: Input<'a>) -> (Vec<Emit<'a>>, State) {
    match (state, input) {
        (
            State::Listing { gap_open, .. },
            Input::Page {
                items,
                resource_version,
                continue_token,
            },
        ) => list_page(items, resource_version, continue_token, gap_open),
        (
            State::Watching { .. },
            Input::Event {
                event,
                object,
                resource_version,
            },
        ) => watch_event(event, object, resource_version),
        (State::Watching { .. }, Input::Bookmark { resource_version }) => {
            (Vec::new(), State::Watching { resource_version })
        }
        (State::Watching { .. }, Input::CannotResume { reason } | Input::Lost { reason }) => {
            (vec![Emit::Gap { reason }], State::relist())
        }
        // An expired continue token: nothing was missed yet, list again from the start.
        (State::Listing { gap_open, .. }, Input::CannotResume { .. }) => (
            Vec::new(),
            State::Listing {
                continue_token: None,
                gap_open,
            },
        ),
        // Listing was refused: one GAP (unless one is open), then list again until allowed.
        (State::Listing { gap_open, .. }, Input::Lost { reason }) => {
            let emits = match gap_open {
                true => Vec::new(),
                false => vec![Emit::Gap { reason }],
            };
            (emits, State::relist())
        }
        // Resume where we were: the same page, or the watch from the last resourceVersion.
        (state, Input::Interrupted) => (Vec::new(), state),
        // Inputs that do not fit the state (e.g. an event while listing) change nothing.
        (state, _) => (Vec::new(), state),
    }
}

fn list_page(
    items: Vec<&RawValue>,
    resource_version: String,
    continue_token: Option<String>,
    gap_open: bool,
) -> (Vec<Emit<'_>>, State) {
    let mut emits: Vec<Emit<'_>> = items
        .into_iter()
        .map(|object| Emit::Object {
            event: EventType::Listed,
            object,
        })
        .collect();
    match continue_token.filter(|token| !token.is_empty()) {
        Some(token) => (
            emits,
            State::Listing {
                continue_token: Some(token),
                gap_open,
            },
        ),
        None => {
            emits.push(Emit::Synced {
                resource_version: resource_version.clone(),
            });
            (emits, State::Watching { resource_version })
        }
    }
}

fn watch_event(
    event: EventType,
    object: &RawValue,
    resource_version: Option<String>,
) -> (Vec<Emit<'_>>, State) {
    let next = State::Watching {
        resource_version: resource_version.unwrap_or_default(),
    };
    (vec![Emit::Object { event, object }], next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> &RawValue {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_list_in_two_pages_writes_listed_then_synced_and_watches_from_its_version() {
        let a = raw(r#"{"metadata":{"name":"a"}}"#);
        let b = raw(r#"{"metadata":{"name":"b"}}"#);
        let page = Input::Page {
            items: vec![a],
            resource_version: "10".into(),
            continue_token: Some("t1".into()),
        };
        let (emits, state) = step(State::start(), page);
        assert_eq!(
            emits,
            vec![Emit::Object {
                event: EventType::Listed,
                object: a
            }]
        );
        assert_eq!(
            state,
            State::Listing {
                continue_token: Some("t1".into()),
                gap_open: false,
            }
        );
        let last = Input::Page {
            items: vec![b],
            resource_version: "10".into(),
            continue_token: None,
        };
        let (emits, state) = step(state, last);
        assert_eq!(emits.len(), 2);
        assert_eq!(
            emits[1],
            Emit::Synced {
                resource_version: "10".into()
            }
        );
        assert_eq!(
            state,
            State::Watching {
                resource_version: "10".into()
            }
        );
    }

    #[test]
    fn watch_events_keep_their_type_and_advance_the_resource_version() {
        let pod = raw(r#"{"metadata":{"name":"a","resourceVersion":"12"}}"#);
        let input = Input::Event {
            event: EventType::Modified,
            object: pod,
            resource_version: Some("12".into()),
        };
        let (emits, state) = step(
            State::Watching {
                resource_version: "10".into(),
            },
            input,
        );
        assert_eq!(
            emits,
            vec![Emit::Object {
                event: EventType::Modified,
                object: pod
            }]
        );
        assert_eq!(
            state,
            State::Watching {
                resource_version: "12".into()
            }
        );
    }

    #[test]
    fn a_bookmark_moves_the_resume_point_without_writing() {
        let input = Input::Bookmark {
            resource_version: "40".into(),
        };
        let (emits, state) = step(
            State::Watching {
                resource_version: "10".into(),
            },
            input,
        );
        assert!(emits.is_empty());
        assert_eq!(
            state,
            State::Watching {
                resource_version: "40".into()
            }
        );
    }

    #[test]
    fn a_410_on_the_watch_writes_a_gap_and_relists() {
        let input = Input::CannotResume {
            reason: "410 Gone: too old resource version: 10 (55)".into(),
        };
        let (emits, state) = step(
            State::Watching {
                resource_version: "10".into(),
            },
            input,
        );
        assert_eq!(
            emits,
            vec![Emit::Gap {
                reason: "410 Gone: too old resource version: 10 (55)".into()
            }]
        );
        assert_eq!(state, State::relist());
    }

    #[test]
    fn an_interrupted_watch_resumes_from_the_last_resource_version() {
        let watching = State::Watching {
            resource_version: "33".into(),
        };
        let (emits, state) = step(watching.clone(), Input::Interrupted);
        assert!(emits.is_empty());
        assert_eq!(state, watching);
    }

    #[test]
    fn an_expired_continue_token_lists_again_without_a_gap() {
        let listing = State::Listing {
            continue_token: Some("old".into()),
            gap_open: false,
        };
        let (emits, state) = step(
            listing,
            Input::CannotResume {
                reason: "continue expired".into(),
            },
        );
        assert!(emits.is_empty());
        assert_eq!(state, State::start());
    }

    fn lost(reason: &str) -> Input<'static> {
        Input::Lost {
            reason: reason.into(),
        }
    }

    #[test]
    fn a_resource_forbidden_mid_recording_writes_one_gap_that_stays_open_until_a_list_succeeds() {
        let watching = State::Watching {
            resource_version: "10".into(),
        };
        let (emits, state) = step(watching, lost("403 Forbidden: pods is forbidden"));
        assert_eq!(
            emits,
            vec![Emit::Gap {
                reason: "403 Forbidden: pods is forbidden".into()
            }]
        );
        assert_eq!(state, State::relist());
        // Every refused retry writes nothing more.
        let (emits, state) = step(state, lost("403 Forbidden: pods is forbidden"));
        assert!(emits.is_empty());
        let (emits, state) = step(state, Input::Interrupted);
        assert!(emits.is_empty());
        assert_eq!(state, State::relist());
        // Access restored: the re-list is written and its SYNCED closes the GAP.
        let pod = raw(r#"{"metadata":{"name":"a"}}"#);
        let page = Input::Page {
            items: vec![pod],
            resource_version: "90".into(),
            continue_token: None,
        };
        let (emits, state) = step(state, page);
        assert_eq!(emits.len(), 2);
        assert!(matches!(emits[1], Emit::Synced { .. }));
        assert!(matches!(state, State::Watching { .. }));
    }

    #[test]
    fn a_first_list_refused_part_way_writes_a_gap_so_the_partial_list_is_not_taken_as_whole() {
        let a = raw(r#"{"metadata":{"name":"a"}}"#);
        let page = Input::Page {
            items: vec![a],
            resource_version: "10".into(),
            continue_token: Some("t".into()),
        };
        let (_, state) = step(State::start(), page);
        let (emits, state) = step(state, lost("401 Unauthorized"));
        assert_eq!(
            emits,
            vec![Emit::Gap {
                reason: "401 Unauthorized".into()
            }]
        );
        assert_eq!(state, State::relist());
    }

    #[test]
    fn a_resource_version_the_server_no_longer_has_relists_behind_a_gap() {
        let watching = State::Watching {
            resource_version: "1500".into(),
        };
        let reason = "resourceVersion 1500 is newer than the server's 1200".to_string();
        let (emits, state) = step(
            watching,
            Input::CannotResume {
                reason: reason.clone(),
            },
        );
        assert_eq!(emits, vec![Emit::Gap { reason }]);
        assert_eq!(state, State::relist());
    }
}
