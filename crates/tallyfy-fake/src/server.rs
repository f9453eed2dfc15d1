//! The HTTP face of the store: routes, authentication, request ids and faults.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Extension, Json, Router};
use serde_json::Value;

use crate::faults::{Fault, Injector};
use crate::files::{self, Disposition};
use crate::fixtures::now;
use crate::store::{ADMIN_USER_ID, Ctx, ListQuery, MEMBER_USER_ID, Refusal, Store};
use crate::tasks::Scope;
use crate::validate::object;

/// Who is calling: permanent deletes need an administrator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Admin,
    Member,
}

impl Role {
    /// The caller's member ID.
    fn user(self) -> u64 {
        match self {
            Role::Admin => ADMIN_USER_ID,
            Role::Member => MEMBER_USER_ID,
        }
    }
}

/// Everything the handlers share.
#[derive(Clone)]
pub(crate) struct Shared {
    pub store: Arc<Mutex<Store>>,
    pub org_id: Arc<str>,
    pub admin_token: Arc<str>,
    pub member_token: Arc<str>,
    pub base_url: Arc<str>,
    pub injector: Arc<Mutex<Injector>>,
    pub requests: Arc<AtomicU64>,
    /// The largest file an upload may carry, in bytes.
    pub upload_limit: u64,
}

impl Shared {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The API's routes, served at `/` and under `/api` alike.
pub(crate) fn router(shared: Shared) -> Router {
    let api = Router::new()
        .route(
            "/organizations/{org_id}/runs",
            get(list_processes).post(launch_process),
        )
        .route(
            "/organizations/{org_id}/runs/{run_id}",
            get(get_process).delete(archive_process).put(update_process),
        )
        .route(
            "/organizations/{org_id}/runs/{run_id}/activate",
            put(activate_process),
        )
        .route(
            "/organizations/{org_id}/runs/{run_id}/delete",
            delete(permanently_delete_process),
        )
        .route(
            "/organizations/{org_id}/runs/{run_id}/tasks",
            get(list_process_tasks),
        )
        .route(
            "/organizations/{org_id}/runs/{run_id}/tasks/{task_id}",
            get(get_process_task).put(update_process_task),
        )
        .route(
            "/organizations/{org_id}/runs/{run_id}/completed-tasks",
            post(complete_process_task),
        )
        .route(
            "/organizations/{org_id}/runs/{run_id}/completed-tasks/{task_id}",
            delete(reopen_process_task),
        )
        .route(
            "/organizations/{org_id}/tasks",
            get(list_tasks).post(create_task),
        )
        .route(
            "/organizations/{org_id}/tasks/{task_id}",
            delete(archive_task).get(get_task).put(update_task),
        )
        .route(
            "/organizations/{org_id}/tasks/{task_id}/restore",
            put(restore_task),
        )
        .route(
            "/organizations/{org_id}/tasks/{task_id}/delete",
            delete(permanently_delete_task),
        )
        .route(
            "/organizations/{org_id}/completed-tasks",
            post(complete_task),
        )
        .route(
            "/organizations/{org_id}/completed-tasks/{task_id}",
            delete(reopen_task),
        )
        .route(
            "/organizations/{org_id}/tags",
            get(list_tags).post(create_tag),
        )
        .route(
            "/organizations/{org_id}/tags/{tag_id}",
            delete(delete_tag).get(get_tag).put(update_tag),
        )
        .route("/organizations/{org_id}/users", get(list_members))
        .route("/organizations/{org_id}/users/invite", post(invite_member))
        .route(
            "/organizations/{org_id}/users/{user_id}",
            get(get_member).put(update_member).delete(remove_member),
        )
        .route(
            "/organizations/{org_id}/users/{user_id}/role",
            put(update_member_role),
        )
        .route(
            "/organizations/{org_id}/users/{user_id}/disable",
            delete(disable_member),
        )
        .route(
            "/organizations/{org_id}/users/{user_id}/delete",
            delete(permanently_delete_member),
        )
        .route(
            "/organizations/{org_id}/guests",
            get(list_guests).post(create_guest),
        )
        .route(
            "/organizations/{org_id}/guests/{guest_email}",
            get(get_guest).put(update_guest).delete(delete_guest),
        )
        .route(
            "/organizations/{org_id}/groups",
            get(list_groups).post(create_group),
        )
        .route(
            "/organizations/{org_id}/groups/{group_id}",
            get(get_group).put(update_group).delete(delete_group),
        )
        .route("/organizations/{org_id}/activity-feeds", get(list_activity))
        .route(
            "/organizations/{org_id}/checklists",
            get(list_templates).post(create_template),
        )
        .route(
            "/organizations/{org_id}/checklists/{checklist_id}",
            get(get_template)
                .put(update_template)
                .delete(archive_template),
        )
        .route(
            "/organizations/{org_id}/checklists/{checklist_id}/delete",
            delete(permanently_delete_template),
        )
        .route(
            "/organizations/{org_id}/file",
            // The upload limit is the handler's, counted as the file arrives.
            post(upload_file).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/organizations/{org_id}/file/{file_id}",
            get(get_file).delete(delete_file),
        )
        .route(
            "/organizations/{org_id}/file/{file_id}/dl",
            get(download_file),
        )
        .route(
            "/organizations/{org_id}/assets/{asset_id}",
            get(get_asset).delete(archive_asset),
        )
        .method_not_allowed_fallback(unknown_endpoint);
    Router::new()
        .merge(api.clone())
        .nest("/api", api)
        .fallback(unknown_endpoint)
        .layer(middleware::from_fn_with_state(shared.clone(), guard))
        .with_state(shared)
}

/// A path, or a method on a path, the API does not serve.
async fn unknown_endpoint() -> Response {
    refuse(Refusal::endpoint_not_found())
}

/// Every request: a request id, authentication, then the faults.
async fn guard(State(shared): State<Shared>, mut request: Request, next: Next) -> Response {
    let number = shared.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let mut response = match authenticate(&shared, request.headers()) {
        Err(refusal) => refuse(refusal),
        Ok(role) => {
            request.extensions_mut().insert(role);
            with_faults(&shared, request, next).await
        }
    };
    if let Ok(id) = HeaderValue::from_str(&format!("fake-{number:08}")) {
        response.headers_mut().insert("x-request-id", id);
    }
    response
}

/// The caller's role: any non-empty `X-Tallyfy-Client` (the docs say `APIClient`;
/// Tallyfy's Python SDK sends `TallyfySDK`, its n8n node `n8n`) and a known bearer token.
fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Role, Refusal> {
    let unauthenticated = || Refusal::new(401, "Unauthenticated.", "UNAUTHENTICATED");
    let client = headers
        .get("x-tallyfy-client")
        .map(|v| v.as_bytes().trim_ascii());
    if client.is_none_or(<[u8]>::is_empty) {
        return Err(unauthenticated());
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(unauthenticated)?;
    if token == &*shared.admin_token {
        Ok(Role::Admin)
    } else if token == &*shared.member_token {
        Ok(Role::Member)
    } else {
        Err(unauthenticated())
    }
}

async fn with_faults(shared: &Shared, request: Request, next: Next) -> Response {
    let (fault, latency) = {
        let mut injector = shared
            .injector
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (injector.draw(Instant::now()), injector.latency())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Fault::None => next.run(request).await,
        Fault::RateLimited { retry_after_secs } => {
            let operation = operation_of(&request).unwrap_or("this endpoint");
            let mut response = refuse(Refusal::rate_limited(operation));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            response
        }
        Fault::ServerError {
            status,
            after_applying,
        } => {
            if after_applying {
                let _ = next.run(request).await;
            }
            refuse(Refusal::server_error(status))
        }
        Fault::Stall => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Fault::Reset => Response::new(Body::new(Broken)),
    }
}

/// The spec's ID of the operation `request` is for (`list_processes`, ...), if any.
fn operation_of(request: &Request) -> Option<&'static str> {
    let matched = request.extensions().get::<MatchedPath>()?.as_str();
    let path = matched.strip_prefix("/api").unwrap_or(matched);
    tallyfy_api::OPERATIONS
        .iter()
        .find(|op| op.path == path && op.method == request.method().as_str())
        .map(|op| op.id)
}

/// A body that fails at once: the connection is dropped after the headers.
struct Broken;

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "connection reset by the fake",
        ))))
    }
}

fn refuse(refusal: Refusal) -> Response {
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(refusal.body)).into_response()
}

fn answer(result: Result<Value, Refusal>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(refusal) => refuse(refusal),
    }
}

fn empty(result: Result<(), Refusal>, status: StatusCode) -> Response {
    match result {
        Ok(()) => status.into_response(),
        Err(refusal) => refuse(refusal),
    }
}

/// The organization must be the fake's own.
fn member_of(shared: &Shared, org_id: &str) -> Result<(), Refusal> {
    if org_id == &*shared.org_id {
        Ok(())
    } else {
        Err(Refusal::new(
            403,
            "You are not a member of this organization.",
            "FORBIDDEN",
        ))
    }
}

fn administrator(role: Role) -> Result<(), Refusal> {
    match role {
        Role::Admin => Ok(()),
        Role::Member => Err(Refusal::new(
            403,
            "Only administrators can delete permanently.",
            "FORBIDDEN",
        )),
    }
}

async fn list_processes(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let query = ListQuery {
        page: params.get("page").cloned(),
        per_page: params.get("per_page").cloned(),
        sort: params.get("sort").cloned(),
        q: params.get("q").cloned(),
        status: params.get("status").cloned(),
        archived: params.get("archived").cloned(),
    };
    let base = format!("{}/organizations/{org_id}/runs", shared.base_url);
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().list(&query, &base)))
}

async fn get_process(
    State(shared): State<Shared>,
    Path((org_id, run_id)): Path<(String, String)>,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().get(&run_id)))
}

async fn archive_process(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, run_id)): Path<(String, String)>,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.archive(&run_id, ctx)
    }))
}

async fn activate_process(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, run_id)): Path<(String, String)>,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.activate(&run_id, ctx)
    }))
}

async fn permanently_delete_process(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, run_id)): Path<(String, String)>,
) -> Response {
    let result = member_of(&shared, &org_id)
        .and_then(|()| administrator(role))
        .and_then(|()| {
            in_org(&shared, &org_id, role, |store, ctx| {
                store.delete_permanently(&run_id, ctx)
            })
        });
    empty(result, StatusCode::OK)
}

async fn archive_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, task_id)): Path<(String, String)>,
) -> Response {
    let result = in_org(&shared, &org_id, role, |store, ctx| {
        store.archive_task(&task_id, ctx)
    });
    empty(result, StatusCode::NO_CONTENT)
}

async fn restore_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, task_id)): Path<(String, String)>,
) -> Response {
    let result = in_org(&shared, &org_id, role, |store, ctx| {
        store.restore_task(&task_id, ctx)
    });
    empty(result, StatusCode::OK)
}

async fn permanently_delete_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, task_id)): Path<(String, String)>,
) -> Response {
    let result = member_of(&shared, &org_id)
        .and_then(|()| administrator(role))
        .and_then(|()| {
            in_org(&shared, &org_id, role, |store, ctx| {
                store.delete_task_permanently(&task_id, ctx)
            })
        });
    empty(result, StatusCode::NO_CONTENT)
}

async fn delete_tag(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, tag_id)): Path<(String, String)>,
) -> Response {
    let result = in_org(&shared, &org_id, role, |store, ctx| {
        store.delete_tag(&tag_id, ctx);
        Ok(())
    });
    empty(result, StatusCode::NO_CONTENT)
}

/// Runs `change` on the store for a member of organization `org_id`, as `role`, now.
fn in_org<T>(
    shared: &Shared,
    org_id: &str,
    role: Role,
    change: impl FnOnce(&mut Store, &Ctx<'_>) -> Result<T, Refusal>,
) -> Result<T, Refusal> {
    member_of(shared, org_id)?;
    let now = now();
    let ctx = Ctx {
        now: &now,
        user: role.user(),
    };
    change(&mut shared.store(), &ctx)
}

/// 201 with `body`, or the refusal.
fn created(result: Result<Value, Refusal>) -> Response {
    match result {
        Ok(body) => (StatusCode::CREATED, Json(body)).into_response(),
        Err(refusal) => refuse(refusal),
    }
}

/// A list operation's URL, for its pagination links.
fn list_url(shared: &Shared, org_id: &str, rest: &str) -> String {
    format!("{}/organizations/{org_id}/{rest}", shared.base_url)
}

type Params = Query<HashMap<String, String>>;

async fn launch_process(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    created(in_org(&shared, &org_id, role, |store, ctx| {
        store.launch(&object(&body)?, ctx)
    }))
}

async fn update_process(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, run_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.update_process(&run_id, &object(&body)?, ctx)
    }))
}

async fn list_activity(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Params,
) -> Response {
    let base = list_url(&shared, &org_id, "activity-feeds");
    answer(
        member_of(&shared, &org_id)
            .and_then(|()| shared.store().list_activity(&params, &org_id, &base)),
    )
}

async fn list_tasks(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Params,
) -> Response {
    let base = list_url(&shared, &org_id, "tasks");
    answer(
        member_of(&shared, &org_id)
            .and_then(|()| shared.store().list_tasks(&params, &base, &now())),
    )
}

async fn create_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    created(in_org(&shared, &org_id, role, |store, ctx| {
        store.create_task(&object(&body)?, ctx)
    }))
}

async fn get_task(
    State(shared): State<Shared>,
    Path((org_id, task_id)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    answer(
        member_of(&shared, &org_id)
            .and_then(|()| shared.store().get_task(Scope::Any, &task_id, &params)),
    )
}

async fn update_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, task_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.update_task(Scope::OneOff, &task_id, &object(&body)?, ctx)
    }))
}

async fn list_process_tasks(
    State(shared): State<Shared>,
    Path((org_id, run_id)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let base = list_url(&shared, &org_id, &format!("runs/{run_id}/tasks"));
    answer(member_of(&shared, &org_id).and_then(|()| {
        shared
            .store()
            .list_process_tasks(&run_id, &params, &base, &now())
    }))
}

async fn get_process_task(
    State(shared): State<Shared>,
    Path((org_id, run_id, task_id)): Path<(String, String, String)>,
    Query(params): Params,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| {
        shared
            .store()
            .get_task(Scope::Process(&run_id), &task_id, &params)
    }))
}

async fn update_process_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, run_id, task_id)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.update_task(Scope::Process(&run_id), &task_id, &object(&body)?, ctx)
    }))
}

async fn complete_process_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, run_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.complete_task(Scope::Process(&run_id), &object(&body)?, ctx)
    }))
}

async fn reopen_process_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, run_id, task_id)): Path<(String, String, String)>,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.reopen_task(Scope::Process(&run_id), &task_id, ctx)
    }))
}

async fn complete_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.complete_task(Scope::OneOff, &object(&body)?, ctx)
    }))
}

async fn reopen_task(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, task_id)): Path<(String, String)>,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.reopen_task(Scope::OneOff, &task_id, ctx)
    }))
}

async fn list_templates(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Params,
) -> Response {
    let base = list_url(&shared, &org_id, "checklists");
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().list_templates(&params, &base)))
}

async fn create_template(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    created(in_org(&shared, &org_id, role, |store, ctx| {
        store.create_template(&object(&body)?, ctx)
    }))
}

async fn get_template(
    State(shared): State<Shared>,
    Path((org_id, checklist_id)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    answer(
        member_of(&shared, &org_id)
            .and_then(|()| shared.store().get_template(&checklist_id, &params)),
    )
}

async fn update_template(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, checklist_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.update_template(&checklist_id, &object(&body)?, ctx)
    }))
}

async fn archive_template(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, checklist_id)): Path<(String, String)>,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.archive_template(&checklist_id, ctx)
    }))
}

async fn permanently_delete_template(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, checklist_id)): Path<(String, String)>,
) -> Response {
    let result = member_of(&shared, &org_id)
        .and_then(|()| administrator(role))
        .and_then(|()| {
            in_org(&shared, &org_id, role, |store, ctx| {
                store.delete_template_permanently(&checklist_id, ctx)
            })
        });
    answer(result)
}

/// Members, guests, groups and tags: the people and labels of the organization.
///
/// The member token is refused (403) what only administrators may do to members.
fn manages_members(role: Role) -> Result<(), Refusal> {
    match role {
        Role::Admin => Ok(()),
        Role::Member => Err(Refusal::new(
            403,
            "Only administrators can manage members.",
            "FORBIDDEN",
        )),
    }
}

/// `status` with `body`, or the refusal.
fn with_status(result: Result<Value, Refusal>, status: StatusCode) -> Response {
    match result {
        Ok(body) => (status, Json(body)).into_response(),
        Err(refusal) => refuse(refusal),
    }
}

async fn list_members(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Params,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().list_members(&params)))
}

async fn invite_member(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.invite_member(&object(&body)?, role == Role::Admin, ctx)
    }))
}

async fn get_member(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, user_id)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    answer(
        member_of(&shared, &org_id)
            .and_then(|()| manages_members(role))
            .and_then(|()| shared.store().get_member(&user_id, &params)),
    )
}

async fn update_member(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, user_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        manages_members(role)?;
        store.update_member(&user_id, &object(&body)?, ctx)
    }))
}

async fn update_member_role(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, user_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        manages_members(role)?;
        store.update_member_role(&user_id, &object(&body)?, ctx)
    }))
}

async fn remove_member(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, user_id)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        manages_members(role)?;
        store.remove_member(&user_id, &params, ctx)
    }))
}

async fn disable_member(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, user_id)): Path<(String, String)>,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        manages_members(role)?;
        store.disable_member(&user_id, ctx)
    }))
}

async fn permanently_delete_member(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, user_id)): Path<(String, String)>,
) -> Response {
    let result = in_org(&shared, &org_id, role, |store, _| {
        manages_members(role)?;
        store.delete_member_permanently(&user_id)
    });
    empty(result, StatusCode::OK)
}

async fn list_guests(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Params,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().list_guests(&params)))
}

async fn create_guest(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    created(in_org(&shared, &org_id, role, |store, ctx| {
        store.create_guest(&object(&body)?, ctx)
    }))
}

/// The guest's email is the path segment percent-decoded, nothing more: `+` stays `+`.
async fn get_guest(
    State(shared): State<Shared>,
    Path((org_id, email)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    // Tallyfy documents 201 for this read.
    created(member_of(&shared, &org_id).and_then(|()| shared.store().get_guest(&email, &params)))
}

async fn update_guest(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, email)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    // Tallyfy documents 201 for this update.
    created(in_org(&shared, &org_id, role, |store, _| {
        store.update_guest(&email, &object(&body)?)
    }))
}

async fn delete_guest(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, email)): Path<(String, String)>,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, ctx| {
        store.delete_guest(&email, ctx)
    }))
}

async fn list_groups(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Params,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().list_groups(&params)))
}

async fn create_group(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    created(in_org(&shared, &org_id, role, |store, ctx| {
        store.create_group(&object(&body)?, ctx)
    }))
}

async fn get_group(
    State(shared): State<Shared>,
    Path((org_id, group_id)): Path<(String, String)>,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().get_group(&group_id)))
}

async fn update_group(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, group_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    // Tallyfy documents 201 for this update.
    with_status(
        in_org(&shared, &org_id, role, |store, ctx| {
            store.update_group(&group_id, &object(&body)?, ctx)
        }),
        StatusCode::CREATED,
    )
}

async fn delete_group(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, group_id)): Path<(String, String)>,
) -> Response {
    let result = in_org(&shared, &org_id, role, |store, _| {
        store.delete_group(&group_id)
    });
    empty(result, StatusCode::NO_CONTENT)
}

async fn list_tags(
    State(shared): State<Shared>,
    Path(org_id): Path<String>,
    Query(params): Params,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().list_tags(&params)))
}

async fn create_tag(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    body: Bytes,
) -> Response {
    created(in_org(&shared, &org_id, role, |store, ctx| {
        store.create_tag(&object(&body)?, ctx)
    }))
}

async fn get_tag(
    State(shared): State<Shared>,
    Path((org_id, tag_id)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().get_tag(&tag_id, &params)))
}

async fn update_tag(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, tag_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    answer(in_org(&shared, &org_id, role, |store, _| {
        store.update_tag(&tag_id, &object(&body)?)
    }))
}

/// Files: any member uploads, reads and archives; only administrators delete (it cannot
/// be undone).
async fn upload_file(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path(org_id): Path<String>,
    request: Request,
) -> Response {
    if let Err(refusal) = member_of(&shared, &org_id) {
        return refuse(refusal);
    }
    match files::read_upload(request, shared.upload_limit).await {
        Ok(upload) => answer(in_org(&shared, &org_id, role, |store, ctx| {
            store.upload_file(upload, ctx)
        })),
        Err(refusal) => refuse(refusal),
    }
}

/// Serves file `file_id` whole, or the part the `Range` header asks for.
async fn serve_file(
    shared: &Shared,
    org_id: &str,
    file_id: &str,
    disposition: Disposition,
    headers: &HeaderMap,
) -> Response {
    let found = member_of(shared, org_id).and_then(|()| {
        let store = shared.store();
        let file = store.file(file_id)?;
        Ok((file.filename.clone(), file.content.clone()))
    });
    match found {
        Ok((filename, content)) => {
            files::serve(&filename, &content, disposition, headers.get(header::RANGE))
        }
        Err(refusal) => refuse(refusal),
    }
}

async fn get_file(
    State(shared): State<Shared>,
    Path((org_id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    serve_file(&shared, &org_id, &file_id, Disposition::Inline, &headers).await
}

async fn download_file(
    State(shared): State<Shared>,
    Path((org_id, file_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    serve_file(
        &shared,
        &org_id,
        &file_id,
        Disposition::Attachment,
        &headers,
    )
    .await
}

async fn delete_file(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, file_id)): Path<(String, String)>,
) -> Response {
    let result = member_of(&shared, &org_id)
        .and_then(|()| administrator(role))
        .and_then(|()| shared.store().delete_file(&file_id));
    empty(result, StatusCode::OK)
}

async fn get_asset(
    State(shared): State<Shared>,
    Path((org_id, asset_id)): Path<(String, String)>,
) -> Response {
    answer(member_of(&shared, &org_id).and_then(|()| shared.store().get_asset(&asset_id)))
}

async fn archive_asset(
    State(shared): State<Shared>,
    Extension(role): Extension<Role>,
    Path((org_id, asset_id)): Path<(String, String)>,
) -> Response {
    let result = in_org(&shared, &org_id, role, |store, ctx| {
        store.archive_asset(&asset_id, ctx)
    });
    empty(result, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;

    fn shared() -> Shared {
        Shared {
            store: Arc::default(),
            org_id: "org".into(),
            admin_token: "admin".into(),
            member_token: "member".into(),
            base_url: "http://127.0.0.1:1".into(),
            injector: Arc::new(Mutex::new(Injector::new(Faults::default()))),
            requests: Arc::default(),
            upload_limit: 1024,
        }
    }

    fn headers(client: Option<&str>, token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(client) = client {
            headers.insert("x-tallyfy-client", HeaderValue::from_str(client).unwrap());
        }
        let bearer = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        headers.insert(header::AUTHORIZATION, bearer);
        headers
    }

    #[test]
    fn any_named_client_with_a_known_token_is_let_in() {
        let shared = shared();
        for client in ["APIClient", "TallyfySDK", "n8n"] {
            let admin = authenticate(&shared, &headers(Some(client), "admin"));
            assert_eq!(admin, Ok(Role::Admin), "{client}");
            let member = authenticate(&shared, &headers(Some(client), "member"));
            assert_eq!(member, Ok(Role::Member), "{client}");
        }
    }

    #[test]
    fn no_client_an_empty_one_or_an_unknown_token_is_refused() {
        let shared = shared();
        let refused = [
            headers(None, "admin"),
            headers(Some(""), "admin"),
            headers(Some("  "), "admin"),
            headers(Some("APIClient"), "someone"),
        ];
        for headers in refused {
            let refusal = authenticate(&shared, &headers).unwrap_err();
            let expected = Refusal::new(401, "Unauthenticated.", "UNAUTHENTICATED");
            assert_eq!(refusal, expected, "{headers:?}");
        }
    }
}
