//! The activity feed: what happened, recorded as it happens, listed newest first.
//!
//! Each event has the shape of the documented example (`list_activity.200.json`): an
//! integer `id`, single values sent as lists (`verb`, `source`, `actor_type`, `actor_id`,
//! `type`, `description`), the model classes as `auditable_type` and `parentable_type`,
//! the acting member in `actor`, and `null` for `field`, `old_value`, `text`,
//! `references` and `origin`.

use std::collections::HashMap;

use serde_json::{Value, json};
use tallyfy_api::types::Run;

use crate::store::{Ctx, Paging, Refusal, Store, Task, Template, sort_spec};

/// What an event is about, or its parent: the kind and the ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Entity {
    Run(String),
    Task(String),
    Checklist(String),
    Tag(String),
}

impl Entity {
    /// The model class Tallyfy names it by, such as `App\Models\Run`.
    fn model(&self) -> &'static str {
        match self {
            Entity::Run(_) => "App\\Models\\Run",
            Entity::Task(_) => "App\\Models\\Task",
            Entity::Checklist(_) => "App\\Models\\Checklist",
            Entity::Tag(_) => "App\\Models\\Tag",
        }
    }

    /// Its value of `entity_type` (`run`, `task`, `checklist`), and of `type`.
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Entity::Run(_) => ("run", "Process"),
            Entity::Task(_) => ("task", "Task"),
            Entity::Checklist(_) => ("checklist", "Blueprint"),
            Entity::Tag(_) => ("tag", "Tag"),
        }
    }

    fn id(&self) -> &str {
        match self {
            Entity::Run(id) | Entity::Task(id) | Entity::Checklist(id) | Entity::Tag(id) => id,
        }
    }
}

/// One event of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Event {
    /// Its ID, from 1, in the order of the events.
    id: i64,
    /// `created`, `updated`, `completed`, `re-opened`, `archived`, `unarchived`, `deleted`.
    verb: &'static str,
    description: String,
    auditable: Entity,
    /// The process of a task, the template of a process; `None`: the organization.
    parent: Option<Entity>,
    actor: u64,
    created_at: String,
}

impl Event {
    /// `verb` done to `auditable`, described as `{what}: {name}`.
    pub(crate) fn new(
        auditable: Entity,
        parent: Option<Entity>,
        verb: &'static str,
        what: &str,
        name: &str,
    ) -> Self {
        Self {
            id: 0,
            verb,
            description: format!("{what}: {name}"),
            auditable,
            parent,
            actor: 0,
            created_at: String::new(),
        }
    }

    /// `verb` done to the process `run`, whose parent is its template.
    pub(crate) fn about_run(run: &Run, verb: &'static str, what: &str) -> Self {
        Self::new(
            Entity::Run(run.id.clone()),
            run.checklist_id.clone().map(Entity::Checklist),
            verb,
            what,
            run.name.as_deref().unwrap_or_default(),
        )
    }

    /// `verb` done to `task`, whose parent is its process.
    pub(crate) fn about_task(task: &Task, verb: &'static str, what: &str) -> Self {
        Self::new(
            Entity::Task(task.id.clone()),
            task.run_id.clone().map(Entity::Run),
            verb,
            what,
            &task.title,
        )
    }

    /// `verb` done to `template`.
    pub(crate) fn about_template(template: &Template, verb: &'static str, what: &str) -> Self {
        Self::new(
            Entity::Checklist(template.id.clone()),
            None,
            verb,
            what,
            &template.title,
        )
    }

    /// Whether `entity_type` and `entity_id` (either may be absent) pick it: the entity
    /// itself, or (for a process or template) what belongs to it.
    fn concerns(&self, entity_type: Option<&str>, entity_id: Option<&str>) -> bool {
        let is = |entity: &Entity| {
            entity_type.is_none_or(|t| entity.kind().0 == t)
                && entity_id.is_none_or(|id| entity.id() == id)
        };
        is(&self.auditable) || (entity_id.is_some() && self.parent.as_ref().is_some_and(is))
    }
}

/// A member's first and last name: the administrator, the member, then the others.
pub(crate) fn member_name(user: u64) -> (&'static str, &'static str) {
    const NAMES: &[(&str, &str)] = &[
        ("Alex", "Admin"),
        ("Morgan", "Member"),
        ("Ada", "Lovelace"),
        ("Grace", "Hopper"),
        ("Katherine", "Johnson"),
        ("Alan", "Turing"),
        ("Margaret", "Hamilton"),
        ("Edsger", "Dijkstra"),
        ("Barbara", "Liskov"),
        ("Donald", "Knuth"),
    ];
    let index = usize::try_from(user.saturating_sub(1001)).unwrap_or_default();
    NAMES[index % NAMES.len()]
}

/// A member's full name.
pub(crate) fn full_name(user: u64) -> String {
    let (first, last) = member_name(user);
    format!("{first} {last}")
}

/// The member `user` as the feed's `actor` shows one.
fn actor(user: u64) -> Value {
    let (first, last) = member_name(user);
    let username = format!("{first}{last}").to_lowercase();
    json!({
        "email": format!("{}.{}@example.com", first.to_lowercase(), last.to_lowercase()),
        "username": username,
        "first_name": first,
        "last_name": last,
        "full_name": format!("{first} {last}"),
        "profile_pic": null,
        "resize_profile_pic": null,
    })
}

/// The entity types `entity_type` accepts, as documented.
const ENTITY_TYPES: [&str; 5] = ["checklist", "run", "step", "task", "thread"];

impl Store {
    /// Adds `event`, done by `ctx.user` at `ctx.now`, to the feed.
    pub(crate) fn record(&mut self, mut event: Event, ctx: &Ctx<'_>) {
        event.id = self.events.last().map_or(1, |last| last.id + 1);
        event.actor = ctx.user;
        event.created_at = ctx.now.to_string();
        self.events.push(event);
    }

    /// `GET /activity-feeds`: newest first (`sort=created_at` for oldest first), narrowed
    /// by `entity_type` and `entity_id` (`run` with a process's ID: the process and its
    /// tasks), `type`, `verb`, `search` (in the descriptions), `created_after` and
    /// `created_before` (`YYYY-MM-DD`, inclusive), 20 a page by default.
    pub(crate) fn list_activity(
        &self,
        params: &HashMap<String, String>,
        org_id: &str,
        base: &str,
    ) -> Result<Value, Refusal> {
        let get = |name: &str| params.get(name).map(String::as_str);
        let paging = Paging::read(get("page"), get("per_page"), 20)?;
        let entity_type = get("entity_type");
        if entity_type.is_some_and(|t| !ENTITY_TYPES.contains(&t)) {
            return Err(Refusal::invalid(
                "entity_type",
                "The selected entity type is invalid.",
            ));
        }
        let (ascending, _) = sort_spec(
            get("sort").unwrap_or("-created_at"),
            &["created_at"],
            "sort",
        )
        .map(|(descending, field)| (!descending, field))?;
        let search = get("search").map(str::to_lowercase);
        let mut events: Vec<&Event> = self
            .events
            .iter()
            .filter(|e| e.concerns(entity_type, get("entity_id")))
            .filter(|e| get("type").is_none_or(|t| e.auditable.kind().1 == t))
            .filter(|e| get("verb").is_none_or(|v| e.verb == v))
            .filter(|e| {
                search
                    .as_ref()
                    .is_none_or(|s| e.description.to_lowercase().contains(s))
            })
            .filter(|e| get("created_after").is_none_or(|d| e.created_at[..].get(..10) >= Some(d)))
            .filter(|e| get("created_before").is_none_or(|d| e.created_at[..].get(..10) <= Some(d)))
            .collect();
        if !ascending {
            events.reverse();
        }
        paging.answer(&events, base, |event| Ok(event_json(event, org_id)))
    }
}

/// An event as the feed sends it.
fn event_json(event: &Event, org_id: &str) -> Value {
    let (parent_type, parent_id) = match &event.parent {
        Some(parent) => (parent.model(), parent.id()),
        None => ("App\\Models\\Organization", org_id),
    };
    json!({
        "id": event.id,
        "organization_id": org_id,
        "verb": [event.verb],
        "source": ["Member"],
        "actor_type": ["App\\Models\\User"],
        "actor_id": [event.actor],
        "auditable_type": event.auditable.model(),
        "auditable_id": event.auditable.id(),
        "parentable_type": parent_type,
        "parentable_id": parent_id,
        "type": [event.auditable.kind().1],
        "description": [event.description],
        "field": null,
        "old_value": null,
        "created_at": event.created_at,
        "text": null,
        "references": null,
        "actor": [actor(event.actor)],
        "undoable": false,
        "audit": {"data": {"id": event.auditable.id()}},
        "parent": {"data": {"id": parent_id}},
        "origin": null,
    })
}
