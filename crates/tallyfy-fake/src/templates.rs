//! Templates (checklists): listed, read with their kick-off form (`prerun`) and, with
//! `with=steps`, their steps; created, changed, archived and deleted for good.
//!
//! A template object has the keys of the documented example (`get_template.200.json`)
//! plus the list example's `steps_count` and `is_pinned`, with `null` where the example
//! shows it (`webhook`, `folder_id`, `kickoff_title`, `kickoff_description`,
//! `archived_at`, `default_process_name_format`, `explanation_video`) and integer member
//! IDs (`owner_id`, `created_by`).

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::activity::Event;
use crate::fixtures::alias;
use crate::store::{Ctx, KickoffField, Paging, Refusal, Store, Template, sort_spec};
use crate::validate::Body;

/// The template types Tallyfy knows.
const TEMPLATE_TYPES: [&str; 3] = ["procedure", "form", "document"];

/// What archiving or deleting a template answers, as documented (both say "deleted").
const DELETED: &str = "The Template was deleted, and references were also deleted from:";

/// A template as the API sends it (before what `with` adds).
#[derive(Serialize)]
struct TemplateOut<'a> {
    id: &'a str,
    title: &'a str,
    summary: &'a str,
    starred: bool,
    webhook: Option<&'a str>,
    guidance: Option<&'a str>,
    alias: &'a str,
    folder_id: Option<&'a str>,
    prerun: Vec<Value>,
    created_by: u64,
    owner_id: u64,
    kickoff_title: Option<&'a str>,
    kickoff_description: Option<&'a str>,
    created_at: &'a str,
    last_updated: &'a str,
    archived_at: Option<&'a str>,
    is_public: bool,
    automated_actions: Vec<Value>,
    icon: Option<&'a str>,
    #[serde(rename = "type")]
    type_: &'a str,
    is_public_kickoff: bool,
    default_process_name_format: Option<&'a str>,
    explanation_video: Option<&'a str>,
    status: &'a str,
    steps_count: usize,
    is_pinned: bool,
}

/// A kick-off field as `prerun` lists it; a dropdown's choices come as `options`.
fn field_json(template_id: &str, field: &KickoffField) -> Value {
    let mut value = json!({
        "id": field.id,
        "checklist_id": template_id,
        "alias": field.alias,
        "label": field.label,
        "field_type": field.field_type,
        "required": field.required,
    });
    if !field.options.is_empty() {
        let options: Vec<Value> = field
            .options
            .iter()
            .enumerate()
            .map(|(n, text)| json!({"id": n + 1, "text": text}))
            .collect();
        value["options"] = Value::Array(options);
    }
    value
}

/// `template` as the API sends it; `with` may ask for `steps` and `tags`.
fn template_json(template: &Template, with: Option<&str>) -> Result<Value, Refusal> {
    let out = TemplateOut {
        id: &template.id,
        title: &template.title,
        summary: &template.summary,
        starred: template.starred,
        webhook: template.webhook.as_deref(),
        guidance: template.guidance.as_deref(),
        alias: &template.alias,
        folder_id: template.folder_id.as_deref(),
        prerun: template
            .prerun
            .iter()
            .map(|f| field_json(&template.id, f))
            .collect(),
        created_by: template.created_by,
        owner_id: template.owner_id,
        kickoff_title: None,
        kickoff_description: None,
        created_at: &template.created_at,
        last_updated: &template.last_updated,
        archived_at: template.archived_at.as_deref(),
        is_public: template.is_public,
        automated_actions: Vec::new(),
        icon: template.icon.as_deref(),
        type_: &template.type_,
        is_public_kickoff: template.is_public_kickoff,
        default_process_name_format: template.default_process_name_format.as_deref(),
        explanation_video: template.explanation_video.as_deref(),
        status: "active",
        steps_count: template.steps.len(),
        is_pinned: false,
    };
    let Ok(Value::Object(mut fields)) = serde_json::to_value(out) else {
        return Err(Refusal::server_error(500));
    };
    let with: Vec<&str> = with
        .map(|w| w.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if with.contains(&"steps") {
        let steps: Vec<Value> = template
            .steps
            .iter()
            .map(|s| {
                json!({"id": s.id, "checklist_id": template.id, "alias": s.alias, "title": s.title})
            })
            .collect();
        fields.insert("steps".into(), Value::Array(steps));
    }
    if with.contains(&"tags") {
        fields.insert("tags".into(), json!([]));
    }
    Ok(Value::Object(fields))
}

/// What archiving or deleting answers.
fn deleted() -> Value {
    json!({"message": DELETED, "deleted_references": {}})
}

/// A template's alias: its title in kebab case, then the start of its ID.
fn template_alias(title: &str, id: &str) -> String {
    format!(
        "{}-{}",
        alias(title).replace('_', "-"),
        id.get(..6).unwrap_or(id)
    )
}

/// The kick-off fields a body's `prerun` describes (each needs `label`, `field_type`
/// and `required`), failing `body` for each that does not.
fn read_fields(store: &mut Store, body: &mut Body<'_>) -> Vec<KickoffField> {
    let mut fields = Vec::new();
    for (n, item) in body.list("prerun").into_iter().flatten().enumerate() {
        let at = format!("prerun.{n}");
        let Value::Object(item) = item else {
            body.fail(&at, format!("The {at} must be an object."));
            continue;
        };
        let mut inner = Body::new(item);
        let label = inner.required_string("label", 600);
        let field_type = inner.required_string("field_type", 64);
        let required = if item.contains_key("required") {
            inner.boolean("required")
        } else {
            inner.require("required");
            None
        };
        let options: Vec<String> = inner
            .list("options")
            .into_iter()
            .flatten()
            .filter_map(|o| match o {
                Value::String(text) => Some(text.clone()),
                Value::Object(o) => o.get("text").and_then(Value::as_str).map(String::from),
                _ => None,
            })
            .collect();
        body.absorb(&at, inner);
        if let (Some(label), Some(field_type)) = (label, field_type) {
            fields.push(KickoffField {
                id: store.new_id(),
                alias: alias(&label),
                label,
                field_type,
                required: required.unwrap_or(false),
                options,
            });
        }
    }
    fields
}

impl Store {
    /// `GET /checklists`: the templates that are not archived (`archived=only`: the
    /// archived ones alone; `true`: both), 10 a page by default, most recently updated
    /// first (`sort_by`: `title`, `created_at`, `updated` or `last_updated`, `-` first
    /// for descending); `q` searches the titles; `with=steps` adds each one's steps.
    pub(crate) fn list_templates(
        &self,
        params: &HashMap<String, String>,
        base: &str,
    ) -> Result<Value, Refusal> {
        let get = |name: &str| params.get(name).map(String::as_str);
        let paging = Paging::read(get("page"), get("per_page"), 10)?;
        let fields = ["title", "created_at", "updated", "last_updated"];
        let (descending, sort) =
            sort_spec(get("sort_by").unwrap_or("-updated"), &fields, "sort_by")?;
        let needle = get("q").map(str::to_lowercase);
        let mut templates: Vec<&Template> = self
            .templates
            .values()
            .filter(|t| match get("archived") {
                Some("only") => t.archived_at.is_some(),
                Some("true" | "1") => true,
                _ => t.archived_at.is_none(),
            })
            .filter(|t| {
                needle
                    .as_ref()
                    .is_none_or(|n| t.title.to_lowercase().contains(n))
            })
            .collect();
        templates.sort_by(|a, b| {
            let order = match sort {
                "title" => a.title.cmp(&b.title),
                "created_at" => a.created_at.cmp(&b.created_at),
                _ => a.last_updated.cmp(&b.last_updated),
            }
            .then_with(|| a.id.cmp(&b.id));
            if descending { order.reverse() } else { order }
        });
        paging.answer(&templates, base, |t| template_json(t, get("with")))
    }

    /// `GET /checklists/{id}`, archived or not; `with=steps` adds the steps.
    pub(crate) fn get_template(
        &self,
        template_id: &str,
        params: &HashMap<String, String>,
    ) -> Result<Value, Refusal> {
        let template = self
            .templates
            .get(template_id)
            .ok_or_else(Refusal::not_found)?;
        let with = params.get("with").map(String::as_str);
        Ok(json!({"data": template_json(template, with)?}))
    }

    /// `POST /checklists`: `title` and `type` (`procedure`, `form`, `document`) required;
    /// `prerun` makes its kick-off fields. It has no steps: Tallyfy adds those elsewhere.
    pub(crate) fn create_template(
        &mut self,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let id = self.new_id();
        let mut body = Body::new(fields);
        let title = body.required_string("title", 250);
        let type_ = body.required_string("type", 64);
        if type_
            .as_deref()
            .is_some_and(|t| !TEMPLATE_TYPES.contains(&t))
        {
            body.fail("type", "The selected type is invalid.".into());
        }
        let summary = body.string("summary", 2000);
        let owner_id = body.member("owner_id").unwrap_or(ctx.user);
        let created_by = body.member("user_id").unwrap_or(ctx.user);
        let webhook = body.string("webhook", 2048);
        let explanation_video = body.string("explanation_video", 2048);
        let guidance = body.string("guidance", 100_000);
        let icon = body.string("icon", 255);
        let folder_id = body.string("folder_id", 255);
        let name_format = body.string("default_process_name_format", 550);
        let starred = body.boolean("starred").unwrap_or(false);
        let is_public = body.boolean("is_public").unwrap_or(false);
        let is_public_kickoff = body.boolean("is_public_kickoff").unwrap_or(false);
        let _ = (body.list("users"), body.list("groups"));
        let prerun = read_fields(self, &mut body);
        body.finish()?;
        let (Some(title), Some(type_)) = (title, type_) else {
            return Err(Refusal::server_error(500));
        };
        self.last_increment.template += 1;
        let template = Template {
            alias: template_alias(&title, &id),
            id: id.clone(),
            title,
            archived_at: None,
            steps: Vec::new(),
            prerun,
            increment_id: self.last_increment.template,
            summary: summary.unwrap_or_default(),
            type_,
            starred,
            owner_id,
            created_by,
            last_updated_by: ctx.user,
            guidance,
            icon,
            webhook,
            folder_id,
            explanation_video,
            default_process_name_format: name_format,
            is_public,
            is_public_kickoff,
            created_at: ctx.now.to_string(),
            last_updated: ctx.now.to_string(),
        };
        let answer = json!({"data": template_json(&template, None)?});
        self.record(
            Event::about_template(&template, "created", "Created template"),
            ctx,
        );
        self.templates.insert(id, template);
        Ok(answer)
    }

    /// `PUT /checklists/{id}`: `title` required on every update; the other fields as
    /// given.
    pub(crate) fn update_template(
        &mut self,
        template_id: &str,
        fields: &Map<String, Value>,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        if !self.templates.contains_key(template_id) {
            return Err(Refusal::not_found());
        }
        let mut body = Body::new(fields);
        let title = body.required_string("title", 250);
        let summary = body.string("summary", 2000);
        let owner_id = body.member("owner_id");
        let webhook = body.string("webhook", 2048);
        let guidance = body.string("guidance", 100_000);
        let icon = body.string("icon", 255);
        let folder_id = body.string("folder_id", 255);
        let explanation_video = body.string("explanation_video", 2048);
        let name_format = body.string("default_process_name_format", 550);
        let is_public = body.boolean("is_public");
        let is_public_kickoff = body.boolean("is_public_kickoff");
        let _ = (
            body.boolean("auto_naming"),
            body.list("users"),
            body.list("groups"),
        );
        body.finish()?;

        let template = self
            .templates
            .get_mut(template_id)
            .ok_or_else(Refusal::not_found)?;
        if let Some(title) = title {
            template.title = title;
        }
        let set = |slot: &mut Option<String>, value: Option<String>| {
            if value.is_some() {
                *slot = value;
            }
        };
        set(&mut template.webhook, webhook);
        set(&mut template.guidance, guidance);
        set(&mut template.icon, icon);
        set(&mut template.folder_id, folder_id);
        set(&mut template.explanation_video, explanation_video);
        set(&mut template.default_process_name_format, name_format);
        if let Some(summary) = summary {
            template.summary = summary;
        }
        if let Some(owner) = owner_id {
            template.owner_id = owner;
        }
        if let Some(flag) = is_public {
            template.is_public = flag;
        }
        if let Some(flag) = is_public_kickoff {
            template.is_public_kickoff = flag;
        }
        template.last_updated = ctx.now.to_string();
        template.last_updated_by = ctx.user;
        let answer = json!({"data": template_json(template, None)?});
        let event = Event::about_template(template, "updated", "Updated template");
        self.record(event, ctx);
        Ok(answer)
    }

    /// `DELETE /checklists/{id}`: archives (repeatable). It is no longer listed but with
    /// `archived`, cannot be launched, and can then be deleted for good; its processes go
    /// on.
    pub(crate) fn archive_template(
        &mut self,
        template_id: &str,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let template = self
            .templates
            .get_mut(template_id)
            .ok_or_else(Refusal::not_found)?;
        template
            .archived_at
            .get_or_insert_with(|| ctx.now.to_string());
        template.last_updated = ctx.now.to_string();
        let event = Event::about_template(template, "archived", "Archived template");
        self.record(event, ctx);
        Ok(deleted())
    }

    /// `DELETE /checklists/{id}/delete`: an archived template, for good (422 for one
    /// that is not archived, 404 once gone).
    pub(crate) fn delete_template_permanently(
        &mut self,
        template_id: &str,
        ctx: &Ctx<'_>,
    ) -> Result<Value, Refusal> {
        let template = self
            .templates
            .get(template_id)
            .ok_or_else(Refusal::not_found)?;
        if template.archived_at.is_none() {
            return Err(Refusal::invalid(
                "checklist_id",
                "The template must be archived before it can be deleted permanently.",
            ));
        }
        let event = Event::about_template(template, "deleted", "Deleted template");
        self.templates.remove(template_id);
        self.forget_files_of("Checklist", template_id);
        self.record(event, ctx);
        Ok(deleted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::Fixtures;
    use crate::store::ADMIN_USER_ID;

    use crate::testing::ctx;

    fn listed(store: &Store, archived: Option<&str>) -> Vec<String> {
        let mut params = HashMap::new();
        if let Some(archived) = archived {
            params.insert("archived".to_string(), archived.to_string());
        }
        let page = store.list_templates(&params, "").unwrap();
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn archiving_hides_a_template_and_its_permanent_delete_needs_that_first() {
        let mut store = Fixtures {
            processes: 5,
            seed: 2,
        }
        .build();
        let id = store
            .templates
            .values()
            .find(|t| t.archived_at.is_none())
            .map(|t| t.id.clone())
            .unwrap();
        assert!(listed(&store, None).contains(&id));
        let early = store.delete_template_permanently(&id, &ctx()).unwrap_err();
        assert_eq!(early.status, 422);
        assert_eq!(
            store.archive_template(&id, &ctx()).unwrap(),
            json!({"message": DELETED, "deleted_references": {}})
        );
        assert!(!listed(&store, None).contains(&id));
        assert!(listed(&store, Some("only")).contains(&id));
        assert!(listed(&store, Some("true")).contains(&id));
        let launch = store.launch(
            &json!({"checklist_id": id}).as_object().cloned().unwrap(),
            &ctx(),
        );
        assert_eq!(launch.unwrap_err().status, 422);
        store.delete_template_permanently(&id, &ctx()).unwrap();
        let gone = store.delete_template_permanently(&id, &ctx()).unwrap_err();
        assert_eq!(gone.status, 404);
        assert_eq!(
            store.get_template(&id, &HashMap::new()).unwrap_err().status,
            404
        );
    }

    #[test]
    fn a_created_template_has_its_kickoff_fields_and_update_needs_a_title() {
        let mut store = Fixtures {
            processes: 5,
            seed: 2,
        }
        .build();
        let fields = json!({
            "title": "Hiring",
            "type": "procedure",
            "prerun": [{"label": "Candidate", "field_type": "text", "required": true}],
        });
        let created = store
            .create_template(fields.as_object().unwrap(), &ctx())
            .unwrap();
        let template = &created["data"];
        let id = template["id"].as_str().unwrap();
        assert_eq!(template["prerun"][0]["label"], "Candidate");
        assert_eq!(template["prerun"][0]["required"], true);
        assert_eq!(template["owner_id"], ADMIN_USER_ID);
        assert_eq!(template["steps_count"], 0);
        let bad = json!({"title": "X", "type": "novel", "prerun": [{"label": "Y"}]});
        let refusal = store
            .create_template(bad.as_object().unwrap(), &ctx())
            .unwrap_err();
        let errors: Vec<&String> = refusal.body["errors"].as_object().unwrap().keys().collect();
        assert_eq!(errors, ["prerun.0.field_type", "prerun.0.required", "type"]);
        let untitled = json!({"guidance": "x"});
        let refusal = store
            .update_template(id, untitled.as_object().unwrap(), &ctx())
            .unwrap_err();
        assert_eq!(
            refusal.body,
            json!({"error": true, "errors": {"title": ["The title field is required."]}})
        );
        let renamed = json!({"title": "Hiring v2", "guidance": "Be kind."});
        let updated = store
            .update_template(id, renamed.as_object().unwrap(), &ctx())
            .unwrap();
        assert_eq!(updated["data"]["title"], "Hiring v2");
        assert_eq!(updated["data"]["guidance"], "Be kind.");
        let with_steps = HashMap::from([("with".to_string(), "steps".to_string())]);
        let seeded = store.templates.keys().next().cloned().unwrap();
        let got = store.get_template(&seeded, &with_steps).unwrap();
        assert_eq!(
            got["data"]["steps"].as_array().unwrap().len(),
            store.templates[&seeded].steps.len()
        );
        assert!(
            store.get_template(&seeded, &HashMap::new()).unwrap()["data"]
                .get("steps")
                .is_none()
        );
    }
}
