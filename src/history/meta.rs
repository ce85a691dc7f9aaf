//! The few object fields replay needs, parsed borrowed from the record line without touching the body.

use std::borrow::Cow;

use serde::Deserialize;

/// The top of an object: type and metadata, nothing of spec or status.
#[derive(Debug, Deserialize)]
pub struct ObjectHead<'a> {
    /// `apiVersion`, e.g. `apps/v1`.
    #[serde(default, borrow, rename = "apiVersion")]
    pub api_version: Option<Cow<'a, str>>,
    /// `kind`, e.g. `Deployment`.
    #[serde(default, borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// `metadata`.
    #[serde(default, borrow)]
    pub metadata: MetaHead<'a>,
    /// `involvedObject` of a core/v1 Event.
    #[serde(default, borrow, rename = "involvedObject")]
    pub involved_object: Option<RefHead<'a>>,
    /// `regarding` of an events.k8s.io/v1 Event.
    #[serde(default, borrow)]
    pub regarding: Option<RefHead<'a>>,
}

/// The metadata fields replay keeps.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaHead<'a> {
    /// `metadata.name`.
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    /// `metadata.namespace`.
    #[serde(default, borrow)]
    pub namespace: Option<Cow<'a, str>>,
    /// `metadata.uid`.
    #[serde(default, borrow)]
    pub uid: Option<Cow<'a, str>>,
    /// `metadata.resourceVersion`.
    #[serde(default, borrow)]
    pub resource_version: Option<Cow<'a, str>>,
    /// `metadata.generation`.
    #[serde(default)]
    pub generation: Option<i64>,
    /// `metadata.creationTimestamp`.
    #[serde(default, borrow)]
    pub creation_timestamp: Option<Cow<'a, str>>,
    /// `metadata.deletionTimestamp`.
    #[serde(default, borrow)]
    pub deletion_timestamp: Option<Cow<'a, str>>,
    /// `metadata.ownerReferences`.
    #[serde(default, borrow)]
    pub owner_references: Vec<OwnerHead<'a>>,
}

/// One `ownerReferences` entry.
#[derive(Debug, Deserialize)]
pub struct OwnerHead<'a> {
    /// The owner's kind.
    #[serde(default, borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// The owner's name.
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    /// The owner's UID.
    #[serde(default, borrow)]
    pub uid: Option<Cow<'a, str>>,
    /// Whether this owner is the managing controller.
    #[serde(default)]
    pub controller: Option<bool>,
}

/// An object reference inside an Event.
#[derive(Debug, Deserialize)]
pub struct RefHead<'a> {
    /// The referenced object's UID.
    #[serde(default, borrow)]
    pub uid: Option<Cow<'a, str>>,
    /// The referenced object's kind.
    #[serde(default, borrow)]
    pub kind: Option<Cow<'a, str>>,
    /// The referenced object's name.
    #[serde(default, borrow)]
    pub name: Option<Cow<'a, str>>,
    /// The referenced object's namespace.
    #[serde(default, borrow)]
    pub namespace: Option<Cow<'a, str>>,
}

impl<'a> ObjectHead<'a> {
    /// Parses the head of an object from its JSON text.
    pub fn parse(json: &'a str) -> Result<ObjectHead<'a>, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The controlling owner (`controller: true`), if any.
    pub fn controller(&self) -> Option<&OwnerHead<'a>> {
        self.metadata
            .owner_references
            .iter()
            .find(|owner| owner.controller == Some(true))
    }

    /// The object an Event is about, from `involvedObject` or `regarding`.
    pub fn event_subject(&self) -> Option<&RefHead<'a>> {
        self.involved_object.as_ref().or(self.regarding.as_ref())
    }
}
