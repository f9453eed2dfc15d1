//! Members, guests, groups and tags: the organization's people and labels.
//!
//! Members have integer IDs (the administrator's and the member's tokens are members
//! [`ADMIN_USER_ID`] and [`MEMBER_USER_ID`]); guests are known by email, exactly as
//! registered (`+`, `%` and all); groups and tags have string IDs.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::fixtures::iso;
use crate::store::{ADMIN_USER_ID, Ctx, Paging, Refusal, Store};
use crate::validate::{Body, member_id};

/// A member of the organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    pub id: u64,
    pub email: String,
    pub username: Option<String>,
    pub first_name: String,
    pub last_name: String,
    pub profile_pic: Option<String>,
    pub country_id: i64,
    pub last_login_at: Option<Timestamp>,
    pub activated_at: Option<Timestamp>,
    pub account_type: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub phone: String,
    pub job_title: String,
    pub team: String,
    pub timezone: String,
    /// `admin`, `standard` or `light`.
    pub role: String,
    /// `active`, `invited` or `disabled` (removed from the organization).
    pub status: &'static str,
    pub date_format: String,
    pub is_default_admin: bool,
    pub invited_by: Option<u64>,
    pub approved_at: Option<Timestamp>,
}

/// A guest, known by email.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Guest {
    pub id: u64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub created_at: Timestamp,
    pub last_accessed_at: Option<Timestamp>,
    pub last_known_ip: Option<String>,
    pub last_known_country: Option<String>,
    /// The 21 documented `details` keys, `null` when unset.
    pub details: Map<String, Value>,
}

/// A group of members and guests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub members: Vec<u64>,
    pub guests: Vec<String>,
    pub created_at: Timestamp,
    pub last_updated: Timestamp,
}

/// A tag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tag {
    pub id: String,
    pub title: String,
    pub color: String,
    pub auto_generated: bool,
    pub created_at: Timestamp,
}

/// A group's fields as a request gives them: name, description, members, guests.
type GroupFields = (
    Option<String>,
    Option<String>,
    Option<Vec<u64>>,
    Option<Vec<String>>,
);

/// The keys of a guest's `details`, in the documented order.
const DETAILS: [&str; 21] = [
    "status",
    "phone_1",
    "phone_2",
    "timezone",
    "image_url",
    "contact_url",
    "company_url",
    "opportunity_url",
    "company_name",
    "opportunity_name",
    "external_sync_source",
    "external_date_creation",
    "cadence_days",
    "associated_members",
    "last_city",
    "last_country",
    "last_accessed_at",
    "disabled_at",
    "disabled_by",
    "reactivated_at",
    "reactivated_by",
];

/// The `details` a guest can be created with, and their maximum lengths.
const GUEST_DETAILS: [(&str, usize); 12] = [
    ("phone_1", 20),
    ("phone_2", 20),
    ("company_name", 200),
    ("company_url", 2000),
    ("contact_url", 2000),
    ("image_url", 2000),
    ("opportunity_url", 2000),
    ("opportunity_name", 200),
    ("timezone", 100),
    ("status", 200),
    ("external_sync_source", 100),
    ("external_date_creation", 100),
];

/// The seeded members: first name, last name, role. The first two are the
/// administrator's and the member's tokens.
const MEMBERS: [(&str, &str, &str); 6] = [
    ("Alice", "Smith", "admin"),
    ("Bob", "Jones", "standard"),
    ("Carol", "Diaz", "admin"),
    ("Dan", "Okafor", "standard"),
    ("Erin", "Lee", "light"),
    ("Farid", "Haddad", "light"),
];

const JOB_TITLES: [&str; 5] = [
    "Project Manager",
    "Operations Lead",
    "Accountant",
    "Engineer",
    "Sales Associate",
];

/// Time zones and their offsets (the fake keeps no time-zone database).
const TIMEZONES: [(&str, &str); 6] = [
    ("America/New_York", "-05:00"),
    ("America/Chicago", "-06:00"),
    ("America/Los_Angeles", "-08:00"),
    ("Europe/London", "+00:00"),
    ("Europe/Berlin", "+01:00"),
    ("Asia/Tokyo", "+09:00"),
];

/// The seeded guests' emails; `+` in two of them, as people write them.
pub(crate) const GUEST_EMAILS: [&str; 4] = [
    "client+ops@example.com",
    "jane.doe@acme.example",
    "partner+billing@globex.example",
    "auditor@initech.example",
];

const TAG_TITLES: [&str; 20] = [
    "Urgent",
    "Finance",
    "HR",
    "Legal",
    "Sales",
    "Q1",
    "Q2",
    "Q3",
    "Q4",
    "Onboarding",
    "Review",
    "Blocked",
    "VIP",
    "Internal",
    "External",
    "Compliance",
    "IT",
    "Marketing",
    "Procurement",
    "Follow-up",
];

const COLORS: [&str; 6] = [
    "#e74c3c", "#3498db", "#2ecc71", "#f1c40f", "#9b59b6", "#34495e",
];

/// 2024-06-01T08:00:00Z: when the seeded people joined, give or take.
fn joined() -> Timestamp {
    Timestamp::from_second(1_717_228_800).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n * 86_400)
}

/// The offset of `timezone`, `+00:00` for one the fake does not know.
fn utc_offset(timezone: &str) -> &'static str {
    TIMEZONES
        .iter()
        .find(|(tz, _)| *tz == timezone)
        .map_or("+00:00", |(_, offset)| offset)
}

/// Seeded tag `n` with ID `id`: a title, a color, a creation date; no draws.
pub(crate) fn seeded_tag(id: String, n: usize) -> Tag {
    Tag {
        id,
        title: TAG_TITLES[n % TAG_TITLES.len()].to_string(),
        color: COLORS[n % COLORS.len()].to_string(),
        auto_generated: false,
        created_at: joined() + days(n as i64),
    }
}

/// Seeds the members, guests and groups, drawing from `rng` only (a stream of its own,
/// so the rest of what a seed makes is unchanged).
pub(crate) fn seed(store: &mut Store, mut rng: fastrand::Rng) {
    for (n, (first, last, role)) in MEMBERS.iter().enumerate() {
        let id = ADMIN_USER_ID + n as u64;
        let created = joined() + days(rng.i64(0..90));
        let (timezone, _) = TIMEZONES[rng.usize(..TIMEZONES.len())];
        let member = Member {
            id,
            email: format!(
                "{}.{}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            username: Some(first.to_lowercase()),
            first_name: first.to_string(),
            last_name: last.to_string(),
            profile_pic: Some(format!("https://go.tallyfy.com/avatars/{id}.jpg")),
            country_id: 1,
            last_login_at: Some(created + days(rng.i64(100..300))),
            activated_at: Some(created),
            account_type: Some("standard".into()),
            created_at: created,
            updated_at: created + days(rng.i64(0..30)),
            phone: format!("+1555{:07}", rng.u32(..10_000_000)),
            job_title: JOB_TITLES[rng.usize(..JOB_TITLES.len())].to_string(),
            team: "Operations".into(),
            timezone: timezone.to_string(),
            role: role.to_string(),
            status: "active",
            date_format: "mm/dd/yyyy".into(),
            is_default_admin: id == ADMIN_USER_ID,
            invited_by: None,
            approved_at: None,
        };
        store.members.insert(id, member);
    }
    // The guests mirror the documented examples: the first like the listed one, the
    // second like the one fetched, the third like the one updated.
    let companies = ["External Inc.", "Acme Corp", "Globex", "Initech"];
    let names = [
        ("External", "Collaborator"),
        ("Jane", "Doe"),
        ("Pat", "Partner"),
        ("Ann", "Auditor"),
    ];
    for (n, email) in GUEST_EMAILS.iter().enumerate() {
        let created = joined() + days(rng.i64(0..200));
        let accessed = created + days(rng.i64(1..60));
        let (timezone, _) = TIMEZONES[rng.usize(..TIMEZONES.len())];
        let mut details = blank_details();
        details.insert("status".into(), json!("active"));
        details.insert("timezone".into(), json!(timezone));
        details.insert("company_name".into(), json!(companies[n]));
        details.insert("last_country".into(), json!("US"));
        details.insert("last_accessed_at".into(), json!(iso(accessed)));
        if n > 0 {
            let phone = format!("+1555{:07}", rng.u32(..10_000_000));
            details.insert("phone_1".into(), json!(phone));
            details.insert("last_city".into(), json!("Chicago"));
        }
        if n == 1 {
            details.insert("company_url".into(), json!("https://acme.example"));
        }
        let (first, last) = names[n];
        let guest = Guest {
            id: 2001 + n as u64,
            email: email.to_string(),
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            created_at: created,
            last_accessed_at: Some(accessed),
            last_known_ip: Some(format!("192.0.2.{}", rng.u8(1..255))),
            last_known_country: Some("US".into()),
            details,
        };
        store.guests.insert(guest.email.clone(), guest);
    }
    let groups = [
        (
            "Sales Team",
            "Handles all sales inquiries.",
            vec![1001, 1003],
            vec![GUEST_EMAILS[0]],
        ),
        (
            "Operations",
            "Runs the day to day.",
            vec![1002, 1004, 1005],
            vec![],
        ),
        (
            "Partners",
            "Members and guests who work with partners.",
            vec![1001],
            vec![GUEST_EMAILS[2], GUEST_EMAILS[1]],
        ),
    ];
    for (name, description, members, guests) in groups {
        let id = format!("{:016x}{:016x}", rng.u64(..), rng.u64(..));
        let created = joined() + days(rng.i64(0..100));
        let group = Group {
            id: id.clone(),
            name: name.into(),
            description: description.into(),
            members,
            guests: guests.into_iter().map(String::from).collect(),
            created_at: created,
            last_updated: created + days(rng.i64(0..30)),
        };
        store.groups.insert(id, group);
    }
}

fn blank_details() -> Map<String, Value> {
    DETAILS
        .iter()
        .map(|k| (k.to_string(), Value::Null))
        .collect()
}

fn optional_iso(at: Option<Timestamp>) -> Value {
    at.map_or(Value::Null, |at| json!(iso(at)))
}

/// Capitalises `role` as the list and get examples show it (`Admin`).
fn capitalised(role: &str) -> String {
    let mut chars = role.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Whether `with` (a comma list) names `what`.
fn wants(params: &HashMap<String, String>, what: &str) -> bool {
    params
        .get("with")
        .is_some_and(|w| w.split(',').any(|part| part.trim() == what))
}

/// How a list answers its pagination's `links`: members, guests and tags send none,
/// groups an empty object when there are no neighbours.
#[derive(Clone, Copy)]
enum Links {
    None,
    Object,
}

fn page<T>(
    items: &[T],
    params: &HashMap<String, String>,
    default: usize,
    links: Links,
    render: impl Fn(&T) -> Result<Value, Refusal>,
) -> Result<Value, Refusal> {
    let get = |k: &str| params.get(k).map(String::as_str);
    let paging = Paging::read(get("page"), get("per_page"), default)?;
    let mut answer = paging.answer(items, "", render)?;
    let pagination = &mut answer["meta"]["pagination"];
    if let Some(fields) = pagination.as_object_mut() {
        match links {
            Links::None => {
                fields.remove("links");
            }
            Links::Object => {
                // The neighbours' URLs would need the base URL: Tallyfy's example shows `{}`.
                fields.insert("links".into(), json!({}));
            }
        }
    }
    Ok(answer)
}

fn not_found() -> Refusal {
    Refusal::not_found()
}

/// `true` if `email` looks like an email address: something, `@`, a dotted domain.
fn valid_email(email: &str) -> bool {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

const ROLES: [&str; 3] = ["admin", "standard", "light"];

impl Store {
    /// A member of the organization (not removed), or 404.
    fn active_member(&self, user_id: &str) -> Result<&Member, Refusal> {
        user_id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.members.get(&id))
            .filter(|m| m.status != "disabled")
            .ok_or_else(not_found)
    }

    fn member_json(&self, m: &Member, listed: bool, params: &HashMap<String, String>) -> Value {
        let role = if listed {
            capitalised(&m.role)
        } else {
            m.role.clone()
        };
        let mut fields = json!({
            "id": m.id,
            "email": m.email,
            "username": m.username,
            "first_name": m.first_name,
            "last_name": m.last_name,
            "full_name": format!("{} {}", m.first_name, m.last_name),
            "profile_pic": m.profile_pic,
            "country_id": m.country_id,
            "is_active": m.status == "active",
            "last_login_at": optional_iso(m.last_login_at),
            "activated_at": optional_iso(m.activated_at),
            "type": m.account_type,
            "created_at": iso(m.created_at),
            "updated_at": iso(m.updated_at),
            "phone": m.phone,
            "job_title": m.job_title,
            "team": m.team,
            "timezone": m.timezone,
            "UTC_offset": utc_offset(&m.timezone),
            "role": role,
            "status": m.status,
            "date_format": m.date_format,
            "is_default_admin": m.is_default_admin,
        });
        if m.status == "invited" {
            fields["invited_by"] = json!(m.invited_by);
            fields["approved_at"] = optional_iso(m.approved_at);
        }
        if wants(params, "groups") {
            let groups: Vec<Value> = self
                .groups
                .values()
                .filter(|g| g.members.contains(&m.id))
                .map(|g| {
                    json!({"id": g.id, "name": g.name, "logo": null, "members": g.members,
                           "guests": g.guests})
                })
                .collect();
            fields["groups"] = json!({"data": groups});
        }
        if wants(params, "stats") {
            let completed = self
                .tasks
                .values()
                .filter(|t| t.completer_id == Some(m.id))
                .count();
            let launched = self
                .runs
                .values()
                .filter(|r| r.started_by.as_ref().map(|u| u.to_string()) == Some(m.id.to_string()))
                .count();
            fields["stats"] = json!({"data": {
                "steps_created": 0,
                "tasks_completed": completed,
                "processes_launched": launched,
                "checklists_created": self.templates.values().filter(|t| t.created_by == m.id).count(),
                "last_step_created_at": iso(m.created_at),
            }});
        }
        fields
    }

    /// `GET /users`: the members not removed, by ID; `q` searches names and emails.
    pub(crate) fn list_members(&self, params: &HashMap<String, String>) -> Result<Value, Refusal> {
        let needle = params.get("q").map(|q| q.to_lowercase());
        let members: Vec<&Member> = self
            .members
            .values()
            .filter(|m| m.status != "disabled")
            .filter(|m| {
                needle.as_ref().is_none_or(|n| {
                    [&m.first_name, &m.last_name, &m.email]
                        .iter()
                        .any(|s| s.to_lowercase().contains(n))
                })
            })
            .collect();
        page(&members, params, 100, Links::None, |m| {
            Ok(self.member_json(m, true, params))
        })
    }

    /// `GET /users/{id}`.
    pub(crate) fn get_member(
        &self,
        user_id: &str,
        params: &HashMap<String, String>,
    ) -> Result<Value, Refusal> {
        let m = self.active_member(user_id)?;
        Ok(json!({"data": self.member_json(m, true, params)}))
    }

    fn email_of_member(&self, email: &str) -> bool {
        self.members
            .values()
            .any(|m| m.status != "disabled" && m.email.eq_ignore_ascii_case(email))
    }

    /// `POST /users/invite`: 422 for an email a member has; `admin` only from an
    /// administrator (403).
    pub(crate) fn invite_member(
        &mut self,
        fields: &Map<String, Value>,
        by_admin: bool,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let mut body = Body::new(fields);
        let email = body.required_string("email", 255);
        let first = body.required_string("first_name", 32);
        let last = body.required_string("last_name", 32);
        let role = body.required_string("role", 20);
        let _ = body.string("message", 5000);
        if let Some(email) = &email {
            if !valid_email(email) {
                body.fail("email", "The email must be a valid email address.".into());
            } else if self.email_of_member(email) {
                body.fail("email", "The email has already been taken.".into());
            }
        }
        if let Some(role) = &role
            && !ROLES.contains(&role.as_str())
        {
            body.fail("role", "The selected role is invalid.".into());
        }
        body.finish()?;
        let (Some(email), Some(first), Some(last), Some(role)) = (email, first, last, role) else {
            return Err(Refusal::server_error(500));
        };
        if role == "admin" && !by_admin {
            return Err(Refusal::new(
                403,
                "Only administrators can invite administrators.",
                "FORBIDDEN",
            ));
        }
        let now = ctx.at();
        // A removed member invited again comes back under the same ID.
        let existing = self
            .members
            .values()
            .find(|m| m.email.eq_ignore_ascii_case(&email))
            .map(|m| m.id);
        let id = existing.unwrap_or_else(|| self.members.keys().max().map_or(1001, |m| m + 1));
        let member = Member {
            id,
            email,
            username: None,
            first_name: first,
            last_name: last,
            profile_pic: None,
            country_id: 1,
            last_login_at: None,
            activated_at: None,
            account_type: None,
            created_at: now,
            updated_at: now,
            phone: String::new(),
            job_title: String::new(),
            team: String::new(),
            timezone: "America/New_York".into(),
            role,
            status: "invited",
            date_format: "mm/dd/yyyy".into(),
            is_default_admin: false,
            invited_by: Some(ctx.user),
            approved_at: Some(now),
        };
        let answer = json!({"data": self.member_json(&member, false, &HashMap::new())});
        self.members.insert(id, member);
        Ok(answer)
    }

    /// `PUT /users/{id}`: `first_name`, `last_name`, `timezone` required (422).
    pub(crate) fn update_member(
        &mut self,
        user_id: &str,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let id = self.active_member(user_id)?.id;
        let mut body = Body::new(fields);
        let first = body.required_string("first_name", 32);
        let last = body.required_string("last_name", 32);
        let timezone = body.required_string("timezone", 100);
        let phone = body.string("phone", 20);
        let job_title = body.string("job_title", 255);
        let _ = body.string("job_description", 5000);
        let team = body.string("team", 255);
        let country = body.integer("country_id");
        if country.is_some_and(|c| !(1..=300).contains(&c)) {
            body.fail("country_id", "The selected country id is invalid.".into());
        }
        let date_format = body.string("date_format", 10);
        if let Some(format) = &date_format
            && !["mm/dd/yyyy", "dd/mm/yyyy"].contains(&format.as_str())
        {
            body.fail("date_format", "The selected date format is invalid.".into());
        }
        let _ = body.boolean("step_preferences");
        body.finish()?;
        let Some(m) = self.members.get_mut(&id) else {
            return Err(not_found());
        };
        if let Some(first) = first {
            m.first_name = first;
        }
        if let Some(last) = last {
            m.last_name = last;
        }
        if let Some(timezone) = timezone {
            m.timezone = timezone;
        }
        if let Some(phone) = phone {
            m.phone = phone;
        }
        if let Some(job_title) = job_title {
            m.job_title = job_title;
        }
        if let Some(team) = team {
            m.team = team;
        }
        if let Some(country) = country {
            m.country_id = country;
        }
        if let Some(format) = date_format {
            m.date_format = format;
        }
        m.updated_at = ctx.at();
        let m = m.clone();
        Ok(json!({"data": self.member_json(&m, false, &HashMap::new())}))
    }

    /// `PUT /users/{id}/role`: `admin`, `standard` or `light` (422 otherwise).
    pub(crate) fn update_member_role(
        &mut self,
        user_id: &str,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let id = self.active_member(user_id)?.id;
        let mut body = Body::new(fields);
        let role = body.required_string("role", 20);
        if let Some(role) = &role
            && !ROLES.contains(&role.as_str())
        {
            body.fail("role", "The selected role is invalid.".into());
        }
        body.finish()?;
        let Some(m) = self.members.get_mut(&id) else {
            return Err(not_found());
        };
        if m.is_default_admin && role.as_deref() != Some("admin") {
            return Err(Refusal::new(
                400,
                "Cannot modify the default administrator. Please assign another member as default administrator first.",
                "BAD_REQUEST",
            ));
        }
        m.role = role.unwrap_or_default();
        m.updated_at = ctx.at();
        let m = m.clone();
        Ok(json!({"data": self.member_json(&m, false, &HashMap::new())}))
    }

    /// `DELETE /users/{id}`: status `disabled`, out of the lists, its groups and (with
    /// `with_reassignment=true&to=ID`) its tasks handed over. 400 for the default
    /// administrator, as documented.
    pub(crate) fn remove_member(
        &mut self,
        user_id: &str,
        params: &HashMap<String, String>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let id = self.active_member(user_id)?.id;
        let reassign = params.get("with_reassignment").map(String::as_str) == Some("true");
        let to = if reassign {
            let to = params
                .get("to")
                .and_then(|t| self.active_member(t).ok().map(|m| m.id));
            match to {
                Some(to) if to != id => Some(to),
                _ => {
                    let message = if params.contains_key("to") {
                        "The selected to is invalid."
                    } else {
                        "The to field is required when with reassignment is true."
                    };
                    return Err(Refusal::invalid("to", message));
                }
            }
        } else {
            None
        };
        if self.members.get(&id).is_some_and(|m| m.is_default_admin) {
            return Err(Refusal::new(
                400,
                "Cannot modify the default administrator. Please assign another member as default administrator first.",
                "BAD_REQUEST",
            ));
        }
        if let Some(to) = to {
            for task in self.tasks.values_mut() {
                if task.owners.users.contains(&id) {
                    task.owners.users.retain(|u| *u != id);
                    if !task.owners.users.contains(&to) {
                        task.owners.users.push(to);
                    }
                }
            }
        }
        for group in self.groups.values_mut() {
            group.members.retain(|m| *m != id);
        }
        let Some(m) = self.members.get_mut(&id) else {
            return Err(not_found());
        };
        m.status = "disabled";
        m.updated_at = ctx.at();
        let m = m.clone();
        Ok(json!({"data": self.member_json(&m, false, &HashMap::new())}))
    }

    /// `DELETE /users/{id}/disable`: status `disabled`, the first step of deleting a
    /// member for good (400 for the default administrator, as for removing one).
    pub(crate) fn disable_member(
        &mut self,
        user_id: &str,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let id = self.active_member(user_id)?.id;
        if self.members.get(&id).is_some_and(|m| m.is_default_admin) {
            return Err(Refusal::new(
                400,
                "Cannot modify the default administrator. Please assign another member as default administrator first.",
                "BAD_REQUEST",
            ));
        }
        let Some(m) = self.members.get_mut(&id) else {
            return Err(not_found());
        };
        m.status = "disabled";
        m.updated_at = ctx.at();
        let m = m.clone();
        Ok(json!({"data": self.member_json(&m, false, &HashMap::new())}))
    }

    /// `DELETE /users/{id}/delete`: a disabled member is deleted for good (then 404); one
    /// that is not disabled yet is refused with 422, as a process that is not archived.
    pub(crate) fn delete_member_permanently(&mut self, user_id: &str) -> Result<(), Refusal> {
        let id = user_id.parse::<u64>().map_err(|_| not_found())?;
        let member = self.members.get(&id).ok_or_else(not_found)?;
        if member.status != "disabled" {
            return Err(Refusal::invalid(
                "user_id",
                "The member must be disabled before it can be deleted permanently.",
            ));
        }
        self.members.remove(&id);
        for group in self.groups.values_mut() {
            group.members.retain(|m| *m != id);
        }
        Ok(())
    }

    fn guest_json(&self, g: &Guest, params: &HashMap<String, String>) -> Value {
        let mut fields = json!({
            "id": g.id,
            "email": g.email,
            "last_accessed_at": optional_iso(g.last_accessed_at),
            "last_known_ip": g.last_known_ip,
            "last_known_country": g.last_known_country,
            "details": g.details,
            "first_name": g.first_name,
            "last_name": g.last_name,
            "created_at": iso(g.created_at),
            "deleted_at": null,
            "link": format!("https://go.tallyfy.com/guest/{}", g.id),
        });
        if wants(params, "stats") {
            let assigned: Vec<_> = self
                .tasks
                .values()
                .filter(|t| t.owners.guests.contains(&g.email))
                .collect();
            let done = |one_off: bool| {
                assigned
                    .iter()
                    .filter(|t| t.is_completed() && t.run_id.is_none() == one_off)
                    .filter_map(|t| t.completed_at.clone())
                    .collect::<Vec<_>>()
            };
            let (runs, one_offs) = (done(false), done(true));
            fields["stats"] = json!({
                "assigned_tasks": assigned.iter().filter(|t| !t.is_completed()).count(),
                "tasks_completed": runs.len(),
                "last_task_completed_at": runs.iter().max(),
                "one_off_tasks_completed": one_offs.len(),
                "last_one_off_task_completed_at": one_offs.iter().max(),
            });
        }
        fields
    }

    /// `GET /guests`: by email; `q` searches the emails.
    pub(crate) fn list_guests(&self, params: &HashMap<String, String>) -> Result<Value, Refusal> {
        let needle = params.get("q").map(|q| q.to_lowercase());
        let guests: Vec<&Guest> = self
            .guests
            .values()
            .filter(|g| {
                needle
                    .as_ref()
                    .is_none_or(|n| g.email.to_lowercase().contains(n))
            })
            .collect();
        page(&guests, params, 100, Links::None, |g| {
            Ok(self.guest_json(g, params))
        })
    }

    /// `POST /guests`: 422 for an email a member has; a guest already known is answered
    /// as it is (not duplicated).
    pub(crate) fn create_guest(
        &mut self,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let mut body = Body::new(fields);
        let email = body.required_string("email", 255);
        let first = body.string("first_name", 200);
        let last = body.string("last_name", 200);
        let mut details = blank_details();
        for (key, max) in GUEST_DETAILS {
            if let Some(value) = body.string(key, max) {
                details.insert(key.into(), json!(value));
            }
        }
        if let Some(source) = details.get("external_sync_source").and_then(Value::as_str)
            && source != "salesforce"
        {
            body.fail(
                "external_sync_source",
                "The selected external sync source is invalid.".into(),
            );
        }
        if let Some(email) = &email {
            if !valid_email(email) {
                body.fail("email", "The email must be a valid email address.".into());
            } else if self.email_of_member(email) {
                body.fail(
                    "email",
                    "The email belongs to a member of this organization.".into(),
                );
            }
        }
        body.finish()?;
        let Some(email) = email else {
            return Err(Refusal::server_error(500));
        };
        if let Some(known) = self.guests.get(&email) {
            return Ok(json!({"data": self.guest_json(known, &HashMap::new())}));
        }
        let guest = Guest {
            id: self.guests.values().map(|g| g.id).max().unwrap_or(2000) + 1,
            email: email.clone(),
            first_name: first,
            last_name: last,
            created_at: ctx.at(),
            last_accessed_at: None,
            last_known_ip: None,
            last_known_country: None,
            details,
        };
        let answer = json!({"data": self.guest_json(&guest, &HashMap::new())});
        self.guests.insert(email, guest);
        Ok(answer)
    }

    /// `GET /guests/{email}`: the email exactly as registered.
    pub(crate) fn get_guest(
        &self,
        email: &str,
        params: &HashMap<String, String>,
    ) -> Result<Value, Refusal> {
        let guest = self.guests.get(email).ok_or_else(not_found)?;
        Ok(json!({"data": self.guest_json(guest, params)}))
    }

    /// `PUT /guests/{email}`: sets `associated_members` (member IDs; 422 for others).
    pub(crate) fn update_guest(
        &mut self,
        email: &str,
        fields: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        if !self.guests.contains_key(email) {
            return Err(not_found());
        }
        let mut body = Body::new(fields);
        let mut members = None;
        if let Some(items) = body.list("associated_members") {
            let mut ids = Vec::new();
            for (n, item) in items.iter().enumerate() {
                match member_id(item).filter(|id| self.active_member(&id.to_string()).is_ok()) {
                    Some(id) => ids.push(id),
                    None => {
                        let at = format!("associated_members.{n}");
                        body.fail(&at, format!("The selected {at} is invalid."));
                    }
                }
            }
            members = Some(ids);
        } else if fields
            .get("associated_members")
            .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
        {
            members = Some(Vec::new());
        }
        body.finish()?;
        let Some(guest) = self.guests.get_mut(email) else {
            return Err(not_found());
        };
        if let Some(ids) = members {
            guest
                .details
                .insert("associated_members".into(), json!(ids));
        }
        let guest = guest.clone();
        Ok(json!({"data": self.guest_json(&guest, &HashMap::new())}))
    }

    /// `DELETE /guests/{email}`: out of the organization, its groups and its tasks; 422
    /// for an email it does not know, as documented.
    pub(crate) fn delete_guest(&mut self, email: &str, ctx: &Ctx<'_>) -> Result<Value, Refusal> {
        let Some(guest) = self.guests.remove(email) else {
            return Err(Refusal::invalid("email", "The selected email is invalid."));
        };
        for group in self.groups.values_mut() {
            group.guests.retain(|g| g != email);
        }
        for task in self.tasks.values_mut() {
            task.owners.guests.retain(|g| g != email);
        }
        let mut answer = self.guest_json(&guest, &HashMap::new());
        answer["deleted_at"] = json!(ctx.now);
        Ok(json!({"data": answer}))
    }

    fn group_json(g: &Group) -> Value {
        json!({
            "id": g.id,
            "name": g.name,
            "description": g.description,
            "logo": null,
            "members": g.members,
            "guests": g.guests,
            "created_at": iso(g.created_at),
            "last_updated": iso(g.last_updated),
        })
    }

    /// `GET /groups`: by name; `q` searches names and descriptions.
    pub(crate) fn list_groups(&self, params: &HashMap<String, String>) -> Result<Value, Refusal> {
        let needle = params.get("q").map(|q| q.to_lowercase());
        let mut groups: Vec<&Group> = self
            .groups
            .values()
            .filter(|g| {
                needle.as_ref().is_none_or(|n| {
                    g.name.to_lowercase().contains(n) || g.description.to_lowercase().contains(n)
                })
            })
            .collect();
        groups.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        page(&groups, params, 10, Links::Object, |g| {
            Ok(Self::group_json(g))
        })
    }

    /// `GET /groups/{id}`.
    pub(crate) fn get_group(&self, group_id: &str) -> Result<Value, Refusal> {
        let group = self.groups.get(group_id).ok_or_else(not_found)?;
        Ok(json!({"data": Self::group_json(group)}))
    }

    /// Reads a group's fields: `name` (unique, at most 200), `description`, `members`
    /// (member IDs), `guests` (guests' emails); 422 naming each at fault.
    fn group_fields(
        &self,
        fields: &Map<String, Value>,
        creating: Option<&str>,
    ) -> Result<GroupFields, Refusal> {
        let mut body = Body::new(fields);
        let name = if creating.is_none() {
            body.required_string("name", 200)
        } else {
            body.string("name", 200)
        };
        if let Some(name) = &name
            && self
                .groups
                .values()
                .any(|g| Some(g.id.as_str()) != creating && g.name.eq_ignore_ascii_case(name))
        {
            body.fail("name", "The name has already been taken.".into());
        }
        let description = body.string("description", 5000);
        let members = body.list("members").map(|items| {
            let mut ids = Vec::new();
            for (n, item) in items.iter().enumerate() {
                match member_id(item).filter(|id| self.active_member(&id.to_string()).is_ok()) {
                    Some(id) => ids.push(id),
                    None => body.fail(
                        &format!("members.{n}"),
                        format!("The selected members.{n} is invalid."),
                    ),
                }
            }
            ids
        });
        let guests = body.list("guests").map(|items| {
            let mut emails = Vec::new();
            for (n, item) in items.iter().enumerate() {
                match item.as_str().filter(|e| self.guests.contains_key(*e)) {
                    Some(email) => emails.push(email.to_string()),
                    None => body.fail(
                        &format!("guests.{n}"),
                        format!("The selected guests.{n} is invalid."),
                    ),
                }
            }
            emails
        });
        body.finish()?;
        Ok((name, description, members, guests))
    }

    /// `POST /groups`: `name` required and unique (422).
    pub(crate) fn create_group(
        &mut self,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let (name, description, members, guests) = self.group_fields(fields, None)?;
        let now = ctx.at();
        let group = Group {
            id: self.new_id(),
            name: name.unwrap_or_default(),
            description: description.unwrap_or_default(),
            members: members.unwrap_or_default(),
            guests: guests.unwrap_or_default(),
            created_at: now,
            last_updated: now,
        };
        let answer = json!({"data": Self::group_json(&group)});
        self.groups.insert(group.id.clone(), group);
        Ok(answer)
    }

    /// `PUT /groups/{id}`: `members` and `guests` replace the current ones.
    pub(crate) fn update_group(
        &mut self,
        group_id: &str,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        if !self.groups.contains_key(group_id) {
            return Err(not_found());
        }
        let (name, description, members, guests) = self.group_fields(fields, Some(group_id))?;
        let Some(group) = self.groups.get_mut(group_id) else {
            return Err(not_found());
        };
        if let Some(name) = name {
            group.name = name;
        }
        if let Some(description) = description {
            group.description = description;
        }
        if let Some(members) = members {
            group.members = members;
        } else if fields
            .get("members")
            .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
        {
            group.members.clear();
        }
        if let Some(guests) = guests {
            group.guests = guests;
        } else if fields
            .get("guests")
            .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
        {
            group.guests.clear();
        }
        group.last_updated = ctx.at();
        Ok(json!({"data": Self::group_json(group)}))
    }

    /// `DELETE /groups/{id}`: for good; its members and guests stay.
    pub(crate) fn delete_group(&mut self, group_id: &str) -> Result<(), Refusal> {
        self.groups.remove(group_id).ok_or_else(not_found)?;
        for task in self.tasks.values_mut() {
            task.owners.groups.retain(|g| g != group_id);
        }
        Ok(())
    }

    fn tag_json(&self, t: &Tag, params: &HashMap<String, String>) -> Value {
        let mut fields = json!({
            "id": t.id,
            "title": t.title,
            "color": t.color,
            "auto_generated": t.auto_generated,
            "created_at": iso(t.created_at),
            "deleted_at": null,
        });
        // The fake's processes and templates carry no tags: every count is 0.
        if wants(params, "statistics") {
            fields["statistics"] = json!({"data": {
                "active_template": 0,
                "archived_template": 0,
                "active_process": 0,
                "archived_process": 0,
            }});
        }
        fields
    }

    /// `GET /tags`: by title; `q` searches titles, auto-generated ones only with `all=true`.
    pub(crate) fn list_tags(&self, params: &HashMap<String, String>) -> Result<Value, Refusal> {
        let needle = params.get("q").map(|q| q.to_lowercase());
        let all = params.get("all").map(String::as_str) == Some("true");
        let mut tags: Vec<&Tag> = self
            .tags
            .values()
            .filter(|t| all || !t.auto_generated)
            .filter(|t| {
                needle
                    .as_ref()
                    .is_none_or(|n| t.title.to_lowercase().contains(n))
            })
            .collect();
        tags.sort_by(|a, b| a.title.cmp(&b.title).then(a.id.cmp(&b.id)));
        page(&tags, params, 10, Links::None, |t| {
            Ok(self.tag_json(t, params))
        })
    }

    /// `GET /tags/{id}`.
    pub(crate) fn get_tag(
        &self,
        tag_id: &str,
        params: &HashMap<String, String>,
    ) -> Result<Value, Refusal> {
        let tag = self.tags.get(tag_id).ok_or_else(not_found)?;
        Ok(json!({"data": self.tag_json(tag, params)}))
    }

    /// Reads a tag's `title` (unique, at most 30) and `color` (`#rrggbb`).
    fn tag_fields(
        &self,
        fields: &Map<String, Value>,
        editing: Option<&str>,
    ) -> Result<(Option<String>, Option<String>), Refusal> {
        let mut body = Body::new(fields);
        let title = if editing.is_none() {
            body.required_string("title", 30)
        } else {
            body.string("title", 30)
        };
        if let Some(title) = &title
            && self
                .tags
                .values()
                .any(|t| Some(t.id.as_str()) != editing && t.title.eq_ignore_ascii_case(title))
        {
            body.fail("title", "The title has already been taken.".into());
        }
        let color = body.string("color", 7);
        if let Some(color) = &color
            && (color.len() != 7
                || !color.starts_with('#')
                || !color[1..].chars().all(|c| c.is_ascii_hexdigit()))
        {
            body.fail(
                "color",
                "The color must be 7 characters, as #rrggbb.".into(),
            );
        }
        body.finish()?;
        Ok((title, color))
    }

    /// `POST /tags`: `title` required and unique (422).
    pub(crate) fn create_tag(
        &mut self,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let (title, color) = self.tag_fields(fields, None)?;
        let tag = Tag {
            id: self.new_id(),
            title: title.unwrap_or_default(),
            color: color.unwrap_or_else(|| COLORS[1].into()),
            auto_generated: false,
            created_at: ctx.at(),
        };
        let answer = json!({"data": self.tag_json(&tag, &HashMap::new())});
        self.tags.insert(tag.id.clone(), tag);
        Ok(answer)
    }

    /// `PUT /tags/{id}`: a new title (unique) or color.
    pub(crate) fn update_tag(
        &mut self,
        tag_id: &str,
        fields: &Map<String, Value>,
    ) -> Result<Value, Refusal> {
        if !self.tags.contains_key(tag_id) {
            return Err(not_found());
        }
        let (title, color) = self.tag_fields(fields, Some(tag_id))?;
        let Some(tag) = self.tags.get_mut(tag_id) else {
            return Err(not_found());
        };
        if let Some(title) = title {
            tag.title = title;
        }
        if let Some(color) = color {
            tag.color = color;
        }
        let tag = tag.clone();
        Ok(json!({"data": self.tag_json(&tag, &HashMap::new())}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Fixtures;
    use crate::store::MEMBER_USER_ID;

    fn store() -> Store {
        Fixtures {
            processes: 10,
            seed: 7,
        }
        .build()
    }

    fn ctx() -> Ctx<'static> {
        Ctx {
            now: "2026-01-01T00:00:00.000Z",
            user: ADMIN_USER_ID,
        }
    }

    #[test]
    fn the_tokens_users_are_seeded_members_and_the_seed_decides_the_rest() {
        let a = store();
        assert_eq!(a.members[&ADMIN_USER_ID].role, "admin");
        assert!(a.members[&ADMIN_USER_ID].is_default_admin);
        assert_eq!(a.members[&MEMBER_USER_ID].role, "standard");
        assert!(a.members.values().any(|m| m.role == "light"));
        assert!(a.guests.contains_key("client+ops@example.com"));
        assert_eq!(a.groups.len(), 3);
        assert_eq!(a.members, store().members);
        assert_eq!(a.groups, store().groups);
        assert!(
            a.tags
                .values()
                .all(|t| t.color.len() == 7 && !t.title.is_empty())
        );
    }

    #[test]
    fn invites_roles_and_removals_follow_the_docs() {
        let mut s = store();
        let body = |v: Value| v.as_object().unwrap().clone();
        let taken = json!({"email": "alice.smith@example.com", "first_name": "A", "last_name": "S", "role": "light"});
        assert_eq!(
            s.invite_member(&body(taken), true, &ctx())
                .unwrap_err()
                .status,
            422
        );
        let fresh = json!({"email": "new@example.com", "first_name": "N", "last_name": "W", "role": "admin", "message": "hi"});
        assert_eq!(
            s.invite_member(&body(fresh.clone()), false, &ctx())
                .unwrap_err()
                .status,
            403
        );
        let invited = s.invite_member(&body(fresh), true, &ctx()).unwrap();
        assert_eq!(invited["data"]["status"], "invited");
        assert_eq!(invited["data"]["username"], Value::Null);
        let wrong = json!({"role": "owner"});
        assert_eq!(
            s.update_member_role("1003", &body(wrong), &ctx())
                .unwrap_err()
                .status,
            422
        );
        let removed = s.remove_member("1003", &HashMap::new(), &ctx()).unwrap();
        assert_eq!(removed["data"]["status"], "disabled");
        assert_eq!(
            s.get_member("1003", &HashMap::new()).unwrap_err().status,
            404
        );
        assert_eq!(
            s.remove_member("1001", &HashMap::new(), &ctx())
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn guests_are_found_by_their_exact_email() {
        let mut s = store();
        let none = HashMap::new();
        assert!(s.get_guest("client+ops@example.com", &none).is_ok());
        assert_eq!(
            s.get_guest("client ops@example.com", &none)
                .unwrap_err()
                .status,
            404
        );
        let body = json!({"email": "a+b%40@example.com"})
            .as_object()
            .unwrap()
            .clone();
        s.create_guest(&body, &ctx()).unwrap();
        assert!(s.get_guest("a+b%40@example.com", &none).is_ok());
        assert_eq!(
            s.delete_guest("a+b%40@example.com", &ctx()).unwrap()["data"]["email"],
            "a+b%40@example.com"
        );
        assert_eq!(
            s.delete_guest("a+b%40@example.com", &ctx())
                .unwrap_err()
                .status,
            422
        );
    }
}
