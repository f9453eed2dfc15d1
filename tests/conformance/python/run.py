#!/usr/bin/env python3
"""Replays the Tallyfy SDK fault table against Tallyfy's official Python SDK.

The SDK is PyPI's ``tallyfy`` (3.x); the table, the conformance server and its control
API are described in ``tests/conformance/README.md``. Start it through ``run.sh``, which
installs the SDK in a virtual environment and starts the server, or by hand::

    tallyfy-fake conformance --run "python3 tests/conformance/python/run.py"

First each operation is called once, answered with its documented success: the requests
its SDK method sends and whether it reads the answer. Then, for every row of the table,
the runner arms the row for an operation, calls the SDK method that sends it against the
base URL the server hands back, maps what the SDK returned or raised onto the table's
terms, and posts that to the server, which judges it. It writes ``REPORT.md`` and
``report.json``. Its exit status is 0 whatever the SDK does (a report, not a gate), and
non-zero only when the runner itself breaks. It needs the standard library and
``tallyfy`` (with ``requests``, which ``tallyfy`` depends on).
"""

import argparse
import collections
import json
import logging
import os
import re
import sys
import time
import urllib.parse
import urllib.request

import requests
import tallyfy
import tallyfy.core

# 3.x names; an SDK without the finer classes still maps onto the kinds by status.
TallyfyError = tallyfy.TallyfyError
TallyfyIndeterminateError = getattr(tallyfy, "TallyfyIndeterminateError", ())
TallyfyNotDeliveredError = getattr(tallyfy, "TallyfyNotDeliveredError", ())

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "tok-SECRET-5f1e9c"
#: Error bodies longer than this are reported by their length only.
BODY_LIMIT = 64 * 1024
#: The client of the operation check and the probes: one attempt, a generous timeout.
ONE_SHOT = {"retry": {"max_retries": 0, "base_ms": 500, "cap_ms": 8000}, "timeout_ms": 2000}

# ---------------------------------------------------------------------------------
# The control API.


class Kit:
    """A client of the conformance server's control API (loopback, no proxy)."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"},
        )
        with self.opener.open(request, timeout=60) as answer:
            return json.loads(answer.read().decode())

    def seen_requests(self):
        """What the armed port received: ``METHOD path`` per request it read, and the
        headers of the first."""
        seen = self.call("GET", "/_conformance/seen")["requests"]
        read = [s["request"] for s in seen if s.get("request")]
        return ["{} {}".format(r["method"], r["path"]) for r in read], (read[0]["headers"] if read else {})


# ---------------------------------------------------------------------------------
# Which SDK method sends which operation (read from the SDK's source, 3.1.0).


def _body(op):
    return op.get("request_body") or {}


def _p(op, name):
    return op["path_params"][name]


def _file(op, field):
    """The bytes of a form's file field (a path relative to the corpus directory)."""
    corpus = os.path.join(HERE, "..", "..", "fixtures", "tallyfy-docs")
    with open(os.path.join(corpus, _body(op).get(field, "")), "rb") as f:
        return f.read()


CALLS = {
    "list_processes": ("get_organization_runs", lambda s, o: s.get_organization_runs(_p(o, "org_id"))),
    "launch_process": (
        "launch_process",
        lambda s, o: s.launch_process(
            _p(o, "org_id"),
            _body(o).get("checklist_id", "d6af650675325328ede8e2f2a258aab9"),
            _body(o).get("name", "Launched"),
            summary=_body(o).get("summary"),
            prerun=_body(o).get("prerun"),
        ),
    ),
    "get_process": ("get_process", lambda s, o: s.get_process(_p(o, "org_id"), _p(o, "run_id"))),
    "update_process": (
        "update_process",
        lambda s, o: s.update_process(
            _p(o, "org_id"),
            _p(o, "run_id"),
            name=_body(o).get("name", "Renamed"),
            summary=_body(o).get("summary"),
            starred=_body(o).get("starred"),
        ),
    ),
    "archive_process": ("archive_process", lambda s, o: s.archive_process(_p(o, "org_id"), _p(o, "run_id"))),
    "activate_process": (
        "reactivate_process",
        lambda s, o: s.reactivate_process(_p(o, "org_id"), _p(o, "run_id")),
    ),
    "get_task": ("get_standalone_task", lambda s, o: s.get_standalone_task(_p(o, "org_id"), _p(o, "task_id"))),
    "update_task": (
        "update_standalone_task",
        lambda s, o: s.update_standalone_task(
            _p(o, "org_id"),
            _p(o, "task_id"),
            title=_body(o).get("title", "Renamed"),
            deadline=_body(o).get("deadline"),
            owners=_body(o).get("owners"),
        ),
    ),
    # delete_standalone_task is the SDK's one delete of a one-off task: by its name, the
    # permanent delete too. The operation check measures which request it sends.
    "archive_task": (
        "delete_standalone_task",
        lambda s, o: s.delete_standalone_task(_p(o, "org_id"), _p(o, "task_id")),
    ),
    "permanently_delete_task": (
        "delete_standalone_task",
        lambda s, o: s.delete_standalone_task(_p(o, "org_id"), _p(o, "task_id")),
    ),
    "get_tag": ("get_tag", lambda s, o: s.get_tag(_p(o, "org_id"), _p(o, "tag_id"))),
    "update_tag": (
        "update_tag",
        lambda s, o: s.update_tag(
            _p(o, "org_id"), _p(o, "tag_id"), title=_body(o).get("title", "Renamed"), color=_body(o).get("color")
        ),
    ),
    "delete_tag": ("delete_tag", lambda s, o: s.delete_tag(_p(o, "org_id"), _p(o, "tag_id"))),
    # get_tags and get_groups walk every page unless a page above 1 is named: page=2
    # makes one call one request, as the table's rows assume.
    "list_tags": ("get_tags(page=2)", lambda s, o: s.get_tags(_p(o, "org_id"), page=2)),
    "create_tag": (
        "create_tag",
        lambda s, o: s.create_tag(_p(o, "org_id"), _body(o).get("title", "A tag"), color=_body(o).get("color")),
    ),
    "create_task": (
        "create_task",
        lambda s, o: s.create_task(
            _p(o, "org_id"),
            _body(o).get("title", "A task"),
            _body(o).get("deadline", "2025-07-15 17:00:00"),
            user_ids=(_body(o).get("owners") or {}).get("users") or [1001],
            task_type=_body(o).get("task_type", "task"),
        ),
    ),
    "list_process_tasks": (
        "get_tasks_for_process",
        lambda s, o: s.get_tasks_for_process(_p(o, "org_id"), process_id=_p(o, "run_id")),
    ),
    "get_process_task": (
        "get_task",
        lambda s, o: s.get_task(_p(o, "org_id"), _p(o, "run_id"), _p(o, "task_id")),
    ),
    "update_process_task": (
        "update_task",
        lambda s, o: s.update_task(
            _p(o, "org_id"),
            _p(o, "run_id"),
            _p(o, "task_id"),
            deadline=_body(o).get("deadline"),
            taskdata=_body(o).get("taskdata"),
            owners=_body(o).get("owners"),
        ),
    ),
    "complete_process_task": (
        "complete_task",
        lambda s, o: s.complete_task(_p(o, "org_id"), _p(o, "run_id"), _body(o).get("task_id", "task_77aa")),
    ),
    "reopen_process_task": (
        "reopen_task",
        lambda s, o: s.reopen_task(_p(o, "org_id"), _p(o, "run_id"), _p(o, "task_id")),
    ),
    "complete_task": (
        "complete_standalone_task",
        lambda s, o: s.complete_standalone_task(_p(o, "org_id"), _body(o).get("task_id", "task_77aa")),
    ),
    "reopen_task": (
        "reopen_standalone_task",
        lambda s, o: s.reopen_standalone_task(_p(o, "org_id"), _p(o, "task_id")),
    ),
    "list_templates": ("get_all_templates", lambda s, o: s.get_all_templates(_p(o, "org_id"))),
    "create_template": (
        "create_template",
        lambda s, o: s.create_template(
            _p(o, "org_id"),
            _body(o).get("title", "A template"),
            type=_body(o).get("type", "procedure"),
            summary=_body(o).get("summary"),
        ),
    ),
    "get_template": (
        "get_template",
        lambda s, o: s.get_template(_p(o, "org_id"), template_id=_p(o, "checklist_id")),
    ),
    "update_template": (
        "update_template_metadata",
        lambda s, o: s.update_template_metadata(
            _p(o, "org_id"), _p(o, "checklist_id"), **{k: v for k, v in _body(o).items() if k in ("title", "guidance", "summary")}
        ),
    ),
    "archive_template": (
        "delete_template",
        lambda s, o: s.delete_template(_p(o, "org_id"), _p(o, "checklist_id")),
    ),
    "list_members": ("get_organization_users", lambda s, o: s.get_organization_users(_p(o, "org_id"))),
    "invite_member": (
        "invite_user_to_organization",
        lambda s, o: s.invite_user_to_organization(
            _p(o, "org_id"),
            _body(o).get("email", "new.user@example.com"),
            _body(o).get("first_name", "New"),
            _body(o).get("last_name", "User"),
            role=_body(o).get("role", "standard"),
            message=_body(o).get("message"),
        ),
    ),
    "get_member": ("get_user", lambda s, o: s.get_user(_p(o, "org_id"), int(_p(o, "user_id")))),
    "disable_member": ("disable_user", lambda s, o: s.disable_user(_p(o, "org_id"), int(_p(o, "user_id")))),
    "update_member_role": (
        "change_user_role",
        lambda s, o: s.change_user_role(_p(o, "org_id"), int(_p(o, "user_id")), _body(o).get("role", "light")),
    ),
    "list_guests": ("get_organization_guests", lambda s, o: s.get_organization_guests(_p(o, "org_id"))),
    "create_guest": (
        "create_guest",
        lambda s, o: s.create_guest(
            _p(o, "org_id"),
            _body(o).get("email", "client.contact@acme.com"),
            _body(o).get("first_name", "Client"),
            _body(o).get("last_name", "Contact"),
            company_name=_body(o).get("company_name"),
        ),
    ),
    "get_guest": ("get_guest", lambda s, o: s.get_guest(_p(o, "org_id"), _p(o, "guest_email"))),
    "update_guest": (
        "update_guest",
        lambda s, o: s.update_guest(_p(o, "org_id"), _p(o, "guest_email"), company_name="ACME Corp"),
    ),
    "list_groups": ("get_groups(page=2)", lambda s, o: s.get_groups(_p(o, "org_id"), page=2)),
    "create_group": (
        "create_group",
        lambda s, o: s.create_group(
            _p(o, "org_id"),
            _body(o).get("name", "A group"),
            description=_body(o).get("description"),
            members=_body(o).get("members"),
        ),
    ),
    "get_group": ("get_group", lambda s, o: s.get_group(_p(o, "org_id"), _p(o, "group_id"))),
    "update_group": (
        "update_group",
        lambda s, o: s.update_group(
            _p(o, "org_id"), _p(o, "group_id"), description=_body(o).get("description", "Updated.")
        ),
    ),
    "delete_group": ("delete_group", lambda s, o: s.delete_group(_p(o, "org_id"), _p(o, "group_id"))),
    "upload_file": (
        "upload_file",
        lambda s, o: s.upload_file(
            _p(o, "org_id"),
            _file(o, "name"),
            os.path.basename(_body(o).get("name", "document.pdf")),
            _body(o).get("uploaded_from", "ko_field"),
            _body(o).get("subject_type", "Run"),
            _body(o).get("subject_id", "run"),
            step_id=_body(o).get("step_id"),
            checklist_id=_body(o).get("checklist_id"),
        ),
    ),
    "download_file": ("download_file", lambda s, o: s.download_file(_p(o, "org_id"), _p(o, "file_id"))),
}

#: Operations the SDK has no method for, and why (from its source).
NOT_APPLICABLE = {
    "permanently_delete_process": "the SDK has no permanent delete of a process",
    "restore_task": "the SDK has no restore of an archived one-off task",
    "list_tasks": "the SDK has no list of the organization's tasks (only /me/tasks and a member's or guest's tasks)",
    "list_activity": "the SDK has no activity feed",
    "permanently_delete_template": "the SDK has no permanent delete of a template",
    "update_member": "the SDK has no update of a member's profile",
    "remove_member": "the SDK has no removal of a member (disable_user calls .../disable: disable_member)",
    "permanently_delete_member": "the SDK has no permanent delete of a member",
    "delete_guest": "the SDK has no delete of a guest (disable_guest calls .../disable, another endpoint)",
}

# ---------------------------------------------------------------------------------
# What the SDK did, in the table's terms.


class Clock:
    """Stands in for the ``time`` module inside ``tallyfy.core``: records every sleep
    the SDK asks for, in milliseconds, and spends none. The SDK offers no sleeper of its
    own; ``time.sleep`` in ``tallyfy/core.py`` is its one wait."""

    def __init__(self, real):
        self._real = real
        self.slept = []

    def sleep(self, seconds):
        self.slept.append(round(seconds * 1000.0, 3))

    def __getattr__(self, name):
        return getattr(self._real, name)


REAL_TIME = tallyfy.core.time
#: With --real-waits the SDK sleeps for real and the server checks the waits on the wire.
REAL_WAITS = False


def _chain(exc):
    """The exception and its causes, outermost first."""
    seen = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


def _transport_cause(exc):
    for link in _chain(exc)[1:]:
        if isinstance(link, requests.exceptions.RequestException):
            return link
    return None


def _is_timeout(cause):
    if isinstance(cause, requests.exceptions.Timeout):
        return True
    return any("ReadTimeout" in type(a).__name__ for a in getattr(cause, "args", ()))


def _never_sent(cause):
    check = getattr(tallyfy.core, "_never_left_the_process", None)
    if check is not None:
        return bool(check(cause))
    return isinstance(cause, requests.exceptions.ConnectTimeout)


def kind_of_status(status):
    if status == 401:
        return "unauthorized"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    if status == 422:
        return "unprocessable"
    if status == 429:
        return "rate_limited"
    if 400 <= status < 500:
        return "client_error"
    if status >= 500:
        return "server_error"
    return "unexpected_response"


def classify(exc, sent):
    """The kind an exception of the SDK maps to (the table in REPORT.md says how)."""
    if not isinstance(exc, TallyfyError):
        if sent == 0 and isinstance(exc, (ValueError, TypeError)):
            return "invalid_input"
        return "untyped:" + type(exc).__name__
    if isinstance(exc, TallyfyNotDeliveredError):
        return "not_delivered"
    status = getattr(exc, "status_code", None)
    if status is not None:
        return kind_of_status(status)
    cause = _transport_cause(exc)
    if isinstance(exc, TallyfyIndeterminateError):
        # The SDK says it may have been applied: timeout or interrupted.
        return "timeout" if cause is not None and _is_timeout(cause) else "interrupted"
    if cause is None:
        return "unexpected_response" if sent else "invalid_input"
    if _is_timeout(cause):
        return "timeout"
    if _never_sent(cause):
        return "not_delivered"
    return "interrupted"


def body_of(exc):
    """The body the SDK keeps: (JSON-able value for the report, its length)."""
    data = getattr(exc, "response_data", None)
    if data is None:
        return None, 0
    if isinstance(data, (bytes, bytearray)):
        data = data.decode("utf-8", errors="replace")
    if isinstance(data, str):
        return data, len(data.encode("utf-8", errors="replace"))
    return data, len(json.dumps(data))


def make_sdk(base_url, case):
    retry = case["retry"]
    sdk = tallyfy.TallyfySDK(
        api_key=TOKEN,
        base_url=base_url,
        timeout=case["timeout_ms"] / 1000.0,
        max_retries=retry["max_retries"],
        retry_delay=retry["base_ms"] / 1000.0,
        retry_jitter=0.5 if retry.get("jitter") else 0,
    )
    # The SDK's ceiling on any one wait (backoff and Retry-After alike).
    sdk.MAX_RETRY_DELAY = retry["cap_ms"] / 1000.0
    # Loopback only: no proxy from the environment.
    sdk.session.trust_env = False
    return sdk


def call(base_url, case, op, fn):
    """Calls the SDK method ``fn`` for ``op`` with a client for ``base_url`` configured
    as ``case`` says; returns (result, exception, requests sent, waits). Whatever the
    SDK raises, building the client included, is an outcome."""
    try:
        sdk = make_sdk(base_url, case)
    except Exception as exc:  # noqa: BLE001
        return None, exc, 0, []
    sent = [0]
    original = sdk.session.request

    def counting(*args, **kwargs):
        sent[0] += 1
        return original(*args, **kwargs)

    sdk.session.request = counting
    clock = Clock(REAL_TIME)
    if not REAL_WAITS:
        tallyfy.core.time = clock
    try:
        try:
            return fn(sdk, op), None, sent[0], clock.slept
        except Exception as exc:  # noqa: BLE001 - every failure is an outcome
            return None, exc, sent[0], clock.slept
    finally:
        tallyfy.core.time = REAL_TIME
        sdk.close()


def stable_text(message, limit=160):
    """A message without what changes from run to run (ports, addresses), cut short."""
    message = message[: limit * 4].replace("\n", " ")
    message = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", message)
    message = re.sub(r"port=\d+", "port=PORT", message)
    message = re.sub(r"0x[0-9a-fA-F]+", "0x...", message)
    if len(message) > limit:
        message = message[:limit] + "..."
    return message


def outcome_of(result, exc, sent, waits):
    """What the runner posts to /_conformance/outcome."""
    out = {"attempts": sent}
    if not REAL_WAITS:
        out["waits_ms"] = waits
    if exc is None:
        out["result"] = "ok"
        out["detail"] = "returned " + type(result).__name__
        return out
    out["result"] = "error"
    out["kind"] = classify(exc, sent)
    status = getattr(exc, "status_code", None)
    if status is not None:
        out["status"] = status
    body, length = body_of(exc)
    out["body_length"] = length
    if length <= BODY_LIMIT:
        out["body"] = body
    out["detail"] = f"{type(exc).__name__}: {stable_text(str(exc))}"
    return out


def returned(result, exc):
    return "returned " + type(result).__name__ if exc is None else f"raised {type(exc).__name__}"


# ---------------------------------------------------------------------------------
# The operation check: each mapped operation once, answered with its documented success.


def check_operations(kit, operations):
    """The requests each SDK method sends, and whether it reads the documented answer.
    A method that sends anything but its operation's one request is not applicable to
    that operation's rows: their faults would land on another request."""
    checks = collections.OrderedDict()
    for op_id, (method, fn) in CALLS.items():
        op = operations.get(op_id)
        if op is None:
            continue
        armed = kit.call(
            "POST", "/_conformance/arm", {"operation": op_id, "server": [{"success": "documented"}] * 3}
        )
        result, exc, _, _ = call(armed["base_url"], ONE_SHOT, op, fn)
        sent, _ = kit.seen_requests()
        want = "{} {}".format(op["method"], op["request_path"])
        routed = [urllib.parse.unquote(r) for r in sent] == [urllib.parse.unquote(want)]
        answer = "read" if exc is None else f"raised {type(exc).__name__}: {stable_text(str(exc), 200)}"
        checks[op_id] = {"method": method, "requests": sent, "routed": routed, "documented_answer": answer}
    kit.call("POST", "/_conformance/reset")
    return checks


def reason_not_applicable(op_id, operations, checks):
    check = checks.get(op_id)
    if check is not None and not check["routed"]:
        op = operations[op_id]
        return "`{}` sends {}, not {} {} (measured)".format(
            check["method"], ", then ".join(check["requests"]) or "nothing", op["method"], op["request_path"]
        )
    return NOT_APPLICABLE.get(op_id, "not mapped by this runner (no SDK method found for it)")


# ---------------------------------------------------------------------------------
# The rows.

#: Steps that cost real time per call: streamed megabytes, or a wait for the timeout.
SLOW_FAULTS = {"stall", "stall_body", "endless_body"}


def is_slow(case):
    steps = case["server"] if isinstance(case["server"], list) else []
    return any(step.get("fault") in SLOW_FAULTS or "body_bytes" in step for step in steps)


def representatives(runnable, operations):
    """One operation per class (method, irreversible, returns a body), in spec order:
    the table's selectors are made of these properties."""
    chosen, classes = [], set()
    for op_id in runnable:
        op = operations[op_id]
        key = (op["method"], op["irreversible"], op["returns_body"])
        if key not in classes:
            classes.add(key)
            chosen.append(op_id)
    return chosen


def run_rows(kit, cases, operations, checks, ops):
    results = []
    for case in cases:
        selected = case["selected"]
        runnable = [o for o in selected if o in checks and checks[o]["routed"]]
        if ops == "all" or (ops == "mixed" and not is_slow(case)):
            chosen = runnable
        else:
            chosen = representatives(runnable, operations)
        for op_id in selected:
            if op_id in runnable:
                continue
            entry = kit.call(
                "POST",
                "/_conformance/outcome",
                {
                    "case": case["name"],
                    "operation": op_id,
                    "result": "not_applicable",
                    "reason": reason_not_applicable(op_id, operations, checks),
                },
            )
            results.append(entry)
        for op_id in chosen:
            armed = kit.call("POST", "/_conformance/arm", {"case": case["name"], "operation": op_id})
            result, exc, sent, waits = call(armed["base_url"], case, operations[op_id], CALLS[op_id][1])
            entry = kit.call("POST", "/_conformance/outcome", outcome_of(result, exc, sent, waits))
            results.append(entry)
        kit.call("POST", "/_conformance/reset")
    return results


# ---------------------------------------------------------------------------------
# Probes: facts beyond the fault table, measured the same way.


def probe(kit, operations, op_id, steps, fn=None):
    armed = kit.call("POST", "/_conformance/arm", {"operation": op_id, "server": steps})
    result, exc, _, _ = call(armed["base_url"], ONE_SHOT, operations[op_id], fn or CALLS[op_id][1])
    sent, headers = kit.seen_requests()
    kit.call("POST", "/_conformance/reset")
    return result, exc, sent, headers


def probes(kit, operations):
    facts = []
    links = {
        "next": "https://go.tallyfy.com/api/organizations/org_8f3a/runs?page=3",
        "previous": "https://go.tallyfy.com/api/organizations/org_8f3a/runs?page=1",
    }
    page = {
        "data": [],
        "meta": {
            "pagination": {
                "total": 30, "count": 10, "per_page": 10, "current_page": 2, "total_pages": 3, "links": links,
            }
        },
    }
    result, exc, _, headers = probe(
        kit,
        operations,
        "list_processes",
        [{"status": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(page)}],
    )
    read = getattr(getattr(result, "meta", None), "links", None)
    facts.append(
        {
            "probe": "page links: the spec's `links.previous` (PageLinks in openapi/tallyfy.yaml)",
            "sent": "a page of `list_processes` whose `meta.pagination.links` has `next` and `previous`",
            "measured": (
                "get_organization_runs " + returned(result, exc)
                if exc is not None
                else "`links.next` = {!r}; `links.prev` = {!r}; `links.extra` = {!r}".format(
                    getattr(read, "next", None), getattr(read, "prev", None), getattr(read, "extra", None)
                )
            ),
        }
    )
    facts.append(
        {
            "probe": "what every request carries",
            "sent": "",
            "measured": "X-Tallyfy-Client: {}; Accept: {}; Authorization: {}; User-Agent: {}".format(
                headers.get("x-tallyfy-client"),
                headers.get("accept"),
                "Bearer <the token>" if headers.get("authorization") == "Bearer " + TOKEN else headers.get("authorization"),
                (headers.get("user-agent") or "").split("/")[0] or None,
            ),
        }
    )

    result, exc, sent, _ = probe(
        kit,
        operations,
        "get_process",
        [{"status": 302, "headers": {"location": "/elsewhere"}, "body": ""}, {"success": "documented"}],
    )
    facts.append(
        {
            "probe": "a redirect",
            "sent": "302 with `location: /elsewhere`, then the documented answer of `get_process`",
            "measured": "get_process requested {}; {}".format(", then ".join(sent), returned(result, exc)),
        }
    )
    return facts


# ---------------------------------------------------------------------------------
# The report.


def md_escape(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_reports(out_dir, results, checks, facts, cases, operations, ops, elapsed):
    version = getattr(tallyfy, "__version__", "unknown")
    run = [r for r in results if r["verdict"] in ("passed", "failed")]
    na = [r for r in results if r["verdict"] == "not_applicable"]
    passed = [r for r in run if r["verdict"] == "passed"]
    failed = [r for r in run if r["verdict"] == "failed"]

    by_case = collections.OrderedDict((case["name"], []) for case in cases)
    for r in results:
        by_case.setdefault(r["case"], []).append(r)

    def case_verdict(entries):
        verdicts = {e["verdict"] for e in entries}
        if "failed" in verdicts:
            return "failed"
        if "passed" in verdicts:
            return "passed"
        return "not applicable"

    case_counts = collections.Counter(case_verdict(e) for e in by_case.values())
    ran_by_case = collections.defaultdict(list)
    for r in run:
        ran_by_case[r["case"]].append(r["operation"])

    # Every difference by row, with the operations that showed it.
    departures = collections.OrderedDict()
    for r in failed:
        for problem in r["problems"]:
            sig = re.sub(r" \((?:[a-z_]+, )?.*\)$", "", problem)
            example = problem[len(sig):].strip(" ()")
            entry = departures.setdefault(r["case"], collections.OrderedDict()).setdefault(sig, [[], example])
            entry[0].append(r["operation"])

    def who_of(ops_seen, ran):
        seen, ran = set(ops_seen), set(ran)
        idempotent = {o for o in ran if operations[o]["idempotent"]}
        if seen == ran and len(ran) > 1:
            return f"all {len(ran)} run"
        if seen == idempotent and len(seen) > 1:
            return f"the {len(seen)} idempotent ones"
        if seen == ran - idempotent and len(seen) > 1:
            return f"the {len(seen)} POSTs"
        if len(seen) > 6:
            return f"{len(seen)} of {len(ran)}: " + ", ".join(f"`{o}`" for o in ops_seen[:4]) + ", ..."
        return ", ".join(f"`{o}`" for o in ops_seen)

    lines = []
    w = lines.append
    w("# Tallyfy's official Python SDK against the conformance kit")
    w("")
    w(
        f"Produced by `bash tests/conformance/python/run.sh` (the runner `run.py` beside this file) "
        f"against PyPI `tallyfy` {version}, through the conformance server "
        f"(`tallyfy-fake conformance`): the {len(by_case)} rows of `tests/conformance/faults.json`. "
        "Facts measured on the wire and from what the SDK returned. Do not edit: run it again."
    )
    w("")
    w("## Summary")
    w("")
    w("| | rows | row × operation |")
    w("|---|---|---|")
    w(f"| passed | {case_counts.get('passed', 0)} | {len(passed)} |")
    w(f"| failed | {case_counts.get('failed', 0)} | {len(failed)} |")
    w(f"| not applicable | {case_counts.get('not applicable', 0)} | {len(na)} |")
    w("")
    w(
        "A row passes when every operation it was run against passed; it is not applicable when "
        "the SDK has none of the operations it selects. An operation is not applicable when the SDK "
        "has no method for it, or when its method sends anything but the operation's one request "
        "(the operation check below), since the row's faults would then land on another request. "
        + {
            "all": "Every other operation was run for every row that selects it.",
            "mixed": "Every other operation was run for every row that selects it, but for the rows "
            "whose steps cost real time per call (a stall waits out the timeout; `body_bytes` and "
            "`endless_body` stream up to 256 MiB): those ran against one operation per class the "
            "table's selectors are made of (method, irreversible or not, documented body or not), the "
            "first in spec order. `run.sh --ops all` runs them all (about 2.5 minutes).",
            "representative": "Each row ran against one operation per class the table's selectors are "
            "made of (method, irreversible or not, documented body or not), the first in spec order.",
        }[ops]
    )
    w("")
    w("## Where it departs from the table")
    w("")
    for op_id, check in checks.items():
        op = operations[op_id]
        if not check["routed"]:
            w(
                f"- `{check['method']}`, the SDK's method for `{op_id}`, sends "
                f"{md_escape(', then '.join(check['requests']) or 'nothing')} where the operation is "
                f"{op['method']} {md_escape(op['request_path'])}: not applicable to its rows."
            )
        if check["documented_answer"] != "read":
            w(
                f"- `{check['method']}` cannot read `{op_id}`'s documented answer "
                f"(`{op['success']['example']}`): {md_escape(check['documented_answer'])}"
            )
    w("")
    if departures:
        w("| row | what differed | operations that showed it | for example |")
        w("|---|---|---|---|")
    else:
        w("Nowhere: every row it could run passed.")
    for case_name, sigs in departures.items():
        for sig, (ops_seen, example) in sigs.items():
            who = who_of(ops_seen, ran_by_case[case_name])
            w(f"| {md_escape(case_name)} | {md_escape(sig)} | {who} | {md_escape(example)} |")
    w("")
    w("## The operation check")
    w("")
    w(
        "Each operation called once through its SDK method, answered with its documented success "
        "(`operations.json`): the requests the method sent, and whether it read the answer."
    )
    w("")
    w("| operation | SDK method | requests sent | the documented answer |")
    w("|---|---|---|---|")
    for op_id, op in operations.items():
        check = checks.get(op_id)
        if check is None:
            reason = NOT_APPLICABLE.get(op_id, "not mapped by this runner")
            w(f"| `{op_id}` ({op['method']} {op['path']}) | none: {md_escape(reason)} | | |")
            continue
        sent = ", then ".join(check["requests"]) or "nothing"
        flag = "" if check["routed"] else " **(not its route)**"
        w(
            f"| `{op_id}` ({op['method']} {op['path']}) | `{check['method']}` | {md_escape(sent)}{flag} | "
            f"{md_escape(check['documented_answer'])} |"
        )
    w("")
    w("## Beyond the table")
    w("")
    w("| probe | the server sent | measured |")
    w("|---|---|---|")
    for f in facts:
        w(f"| {md_escape(f['probe'])} | {md_escape(f['sent'])} | {md_escape(f['measured'])} |")
    w("")
    w("## Every row")
    w("")
    w("Each row with the operations it ran against; what differed for each is in `report.json`.")
    w("")
    w("| row | verdict | passed | failed |")
    w("|---|---|---|---|")
    for name, entries in by_case.items():
        ran = [e for e in entries if e["verdict"] != "not_applicable"]
        if not ran:
            w(f"| {md_escape(name)} | not applicable | | |")
            continue
        bad = [e["operation"] for e in ran if e["verdict"] == "failed"]
        w(
            f"| {md_escape(name)} | {case_verdict(entries)} | {len(ran) - len(bad)} of {len(ran)} | "
            f"{', '.join(f'`{o}`' for o in bad)} |"
        )
    w("")
    w("## How the SDK's answers are read")
    w("")
    w(
        "The client is `TallyfySDK(api_key, base_url=<the row's port>, timeout=<timeout_ms>/1000, "
        "max_retries=<max_retries>, retry_delay=<base_ms>/1000, retry_jitter=0)` with "
        "`MAX_RETRY_DELAY = <cap_ms>/1000` (its ceiling on any wait, 120 s by default) and "
        "`session.trust_env = False`. Its waits are recorded, not spent: `time` inside `tallyfy.core` "
        "is replaced by a clock whose `sleep` notes the seconds asked for. Attempts are counted by the "
        "server (connections it accepted), or, where nothing listens, by wrapping `session.request`."
    )
    w("")
    w("| what the SDK did | kind |")
    w("|---|---|")
    w("| returned | success |")
    w("| raised `TallyfyNotDeliveredError` | `not_delivered` |")
    w(
        "| raised a `TallyfyError` with `status_code` | by the status, as the table: 401 `unauthorized`, "
        "403 `forbidden`, 404 `not_found`, 422 `unprocessable`, 429 `rate_limited`, other 4xx "
        "`client_error`, 5xx `server_error` |"
    )
    w("| raised `TallyfyIndeterminateError` without a status | `timeout` when caused by a read timeout, else `interrupted` |")
    w(
        "| raised a `TallyfyError` without a status, caused by a transport failure | `timeout` (a read "
        "timeout), `not_delivered` (by the SDK's own `_never_left_the_process`), else `interrupted` |"
    )
    w("| raised a `TallyfyError` without a status or a transport cause | `unexpected_response` |")
    w("| raised `ValueError` or `TypeError` before sending anything | `invalid_input` |")
    w("| raised anything else | `untyped:<class>`, which no row expects |")
    w("")
    w(
        "The body an error keeps is its `response_data` (parsed JSON or text); it matches the table's "
        "`body` when it is the same text or the same JSON. The SDK's errors carry no `Retry-After` and "
        "no attempt count: rows that expect `retry_after_s` fail on it, and the error's own attempt "
        "count is not checked."
    )
    w("")
    with open(os.path.join(out_dir, "REPORT.md"), "w") as f:
        f.write("\n".join(lines))

    # report.json: every row and operation, one row a line; details where they differ.
    rows = []
    for name, entries in by_case.items():
        failures = collections.OrderedDict()
        for e in entries:
            if e["verdict"] == "failed":
                reported = e["reported"]
                failures[e["operation"]] = {
                    "problems": e["problems"],
                    "reported": {k: reported[k] for k in ("result", "kind", "status", "detail") if reported.get(k) is not None},
                }
        rows.append(
            {
                "case": name,
                "verdict": case_verdict(entries),
                "passed": [e["operation"] for e in entries if e["verdict"] == "passed"],
                "failed": failures,
                "not_applicable": [e["operation"] for e in entries if e["verdict"] == "not_applicable"],
            }
        )
    head = {
        "sdk": {"package": "tallyfy", "version": version},
        "operations": ops,
        "summary": {
            "rows": dict(sorted(case_counts.items())),
            "passed": len(passed),
            "failed": len(failed),
            "not_applicable": len(na),
        },
        "operation_check": checks,
        "not_applicable": {o: reason_not_applicable(o, operations, checks) for o in operations
                           if o not in checks or not checks[o]["routed"]},
        "probes": facts,
    }
    text = json.dumps(head, indent=1)[:-2] + ',\n "rows": [\n' + ",\n".join("  " + json.dumps(r) for r in rows)
    text += "\n ]\n}\n"
    json.loads(text)
    with open(os.path.join(out_dir, "report.json"), "w") as f:
        f.write(text)
    print(
        f"python SDK tallyfy {version}: rows {dict(sorted(case_counts.items()))}; row x operation: "
        f"{len(passed)} passed, {len(failed)} failed, {len(na)} not applicable ({elapsed:.0f} s); "
        f"report in {out_dir}/REPORT.md"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default=os.environ.get("TALLYFY_CONFORMANCE_URL"),
                        help="the conformance server's URL (default: $TALLYFY_CONFORMANCE_URL)")
    parser.add_argument("--out", default=HERE, help="where to write REPORT.md and report.json")
    parser.add_argument("--ops", choices=["mixed", "all", "representative"], default="mixed",
                        help="which operations each row runs against: every one (all), one per class "
                        "(representative), or every one but for the slow rows (mixed, the default)")
    parser.add_argument("--only", help="only the rows whose name contains this")
    parser.add_argument("--real-waits", action="store_true",
                        help="let the SDK sleep and have the server check the waits on the wire (slow)")
    args = parser.parse_args()
    global REAL_WAITS
    REAL_WAITS = args.real_waits
    if not args.server:
        parser.error("no server: pass --server URL, or start it with tallyfy-fake conformance --run")
    logging.getLogger("tallyfy").setLevel(logging.CRITICAL + 1)
    os.makedirs(args.out, exist_ok=True)
    started = time.monotonic()
    kit = Kit(args.server)
    cases = [c for c in kit.call("GET", "/_conformance/cases")["cases"] if not args.only or args.only in c["name"]]
    operations = collections.OrderedDict(
        (op["id"], op) for op in kit.call("GET", "/_conformance/operations")["operations"]
    )
    checks = check_operations(kit, operations)
    results = run_rows(kit, cases, operations, checks, args.ops)
    facts = probes(kit, operations)
    write_reports(args.out, results, checks, facts, cases, operations, args.ops, time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
