"""The resource API against the real database: CRUD, validation, pagination, concurrency, idempotency."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from samples import COLLECTION, body, first_field, path_to, step, value

from api.definition import DEFINITION
from api.resource import is_id, new_id

Auth = Callable[..., dict[str, str]]


def tenant() -> str:
    return f"customer-{uuid.uuid4().hex[:12]}"


def create(client: FlaskClient, headers: dict[str, str], **overrides: object) -> dict:
    response = client.post(COLLECTION, json=body(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_read_and_representation(client: FlaskClient, auth: Auth) -> None:
    who = tenant()
    response = client.post(COLLECTION, json=body(), headers=auth(who))
    assert response.status_code == 201
    created = response.get_json()
    assert response.headers["Location"] == f"{COLLECTION}/{created['id']}"
    assert response.headers["ETag"] == '"1"'
    assert created["owner"] == who
    assert created["status"] == DEFINITION.initial_status
    assert created["version"] == 1
    assert created["created_at"].endswith("Z")
    for field in DEFINITION.fields:
        assert created[field.name] == (value(field) if field.required else None)
    fetched = client.get(response.headers["Location"], headers=auth(who))
    assert fetched.status_code == 200
    assert fetched.get_json() == created
    assert fetched.headers["ETag"] == '"1"'


def test_validation_names_every_bad_field(client: FlaskClient, auth: Auth) -> None:
    bad = {f.name: {"nested": "object"} for f in DEFINITION.fields}
    bad["unknown_field"] = 1
    response = client.post(COLLECTION, json=bad, headers=auth(tenant()))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    named = {e["field"] for e in problem["errors"]}
    assert named == {*(f.name for f in DEFINITION.fields), "unknown_field"}
    assert problem["status"] == 422 and problem["request_id"]


def test_missing_required_fields_and_bounds(client: FlaskClient, auth: Auth) -> None:
    required = [f for f in DEFINITION.fields if f.required]
    if required:
        response = client.post(COLLECTION, json={}, headers=auth(tenant()))
        assert response.status_code == 422
        assert {e["field"] for e in response.get_json()["errors"]} == {f.name for f in required}
    for field in DEFINITION.fields:
        if field.type == "string":
            too_long = "y" * (field.max_length + 1)
            response = client.post(COLLECTION, json=body(**{field.name: too_long}), headers=auth())
            assert response.status_code == 422, field.name
        if field.type == "integer":
            response = client.post(
                COLLECTION, json=body(**{field.name: field.maximum + 1}), headers=auth()
            )
            assert response.status_code == 422, field.name


def test_malformed_bodies(client: FlaskClient, auth: Auth) -> None:
    headers = auth(tenant())
    not_json = client.post(COLLECTION, data="{", content_type="application/json", headers=headers)
    assert not_json.status_code == 400
    wrong_type = client.post(COLLECTION, data="a=b", content_type="text/plain", headers=headers)
    assert wrong_type.status_code == 415
    array = client.post(COLLECTION, json=[1], headers=headers)
    assert array.status_code == 422
    nan = client.post(
        COLLECTION, data='{"x": NaN}', content_type="application/json", headers=headers
    )
    assert nan.status_code == 400


def test_request_size_limit(client: FlaskClient, auth: Auth) -> None:
    huge = "z" * (1024 * 1024)
    response = client.post(COLLECTION, json={"x": huge}, headers=auth(tenant()))
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_ids_made_in_the_same_millisecond_still_ascend() -> None:
    """Creation order is id order (cursor pages rely on it), also for ids made faster
    than the clock ticks."""
    ids = [new_id() for _ in range(2000)]
    assert all(is_id(i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_cursor_pagination_visits_each_item_once(client: FlaskClient, auth: Auth) -> None:
    who = auth(tenant())
    ids = [create(client, who)["id"] for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(COLLECTION, query_string=query, headers=who).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(ids) == ids
    assert client.get(COLLECTION, query_string={"limit": 0}, headers=who).status_code == 400
    assert client.get(COLLECTION, query_string={"limit": 101}, headers=who).status_code == 400
    assert client.get(COLLECTION, query_string={"cursor": "nope"}, headers=who).status_code == 400
    assert client.get(COLLECTION, query_string={"status": "nope"}, headers=who).status_code == 400
    filtered = client.get(
        COLLECTION, query_string={"status": DEFINITION.initial_status}, headers=who
    ).get_json()
    assert [i["id"] for i in filtered["items"]] == ids


def test_optimistic_concurrency(client: FlaskClient, auth: Auth) -> None:
    who = auth(tenant())
    item = create(client, who)
    url = f"{COLLECTION}/{item['id']}"
    field = first_field()
    change = {field.name: value(field)}
    assert client.patch(url, json=change, headers=who).status_code == 428
    first = client.patch(url, json=change, headers={**who, "If-Match": '"1"'})
    assert first.status_code == 200, first.get_json()
    assert first.headers["ETag"] == '"2"' and first.get_json()["version"] == 2
    stale = client.patch(url, json=change, headers={**who, "If-Match": '"1"'})
    assert stale.status_code == 412
    merge = client.patch(
        url,
        data="{}",
        content_type="application/merge-patch+json",
        headers={**who, "If-Match": '"2"'},
    )
    assert merge.status_code == 200


def test_nullable_fields_can_be_cleared(client: FlaskClient, auth: Auth) -> None:
    optional = [f for f in DEFINITION.fields if not f.required]
    required = [f for f in DEFINITION.fields if f.required]
    who = auth(tenant())
    item = create(client, who, **{f.name: value(f) for f in optional})
    url = f"{COLLECTION}/{item['id']}"
    if optional:
        cleared = client.patch(
            url, json={optional[0].name: None}, headers={**who, "If-Match": '"1"'}
        )
        assert cleared.status_code == 200 and cleared.get_json()[optional[0].name] is None
    if required:
        refused = client.patch(url, json={required[0].name: None}, headers={**who, "If-Match": "*"})
        assert refused.status_code == 422


def test_workflow_owner_and_staff(client: FlaskClient, auth: Auth) -> None:
    owner_step = step("owner", DEFINITION.initial_status)
    who = auth(tenant())
    item = create(client, who)
    url = f"{COLLECTION}/{item['id']}"
    staff = auth("staff-member", groups=["staff"])
    if owner_step:
        moved = client.patch(
            url, json={"status": owner_step.target}, headers={**who, "If-Match": '"1"'}
        )
        assert moved.status_code == 200 and moved.get_json()["status"] == owner_step.target
        field = first_field()
        edit = client.patch(
            url, json={field.name: value(field)}, headers={**who, "If-Match": '"2"'}
        )
        assert edit.status_code == 409, "fields are frozen after the initial status"
        delete = client.delete(url, headers={**who, "If-Match": '"2"'})
        assert delete.status_code == 409
    staff_step = step("staff")
    if staff_step:
        item = create(client, who)
        url = f"{COLLECTION}/{item['id']}"
        version = 1
        for t in path_to(staff_step.source):
            actor = staff if t.by == "staff" else who
            r = client.patch(
                url, json={"status": t.target}, headers={**actor, "If-Match": f'"{version}"'}
            )
            assert r.status_code == 200, r.get_json()
            version += 1
        by_owner = client.patch(
            url, json={"status": staff_step.target}, headers={**who, "If-Match": f'"{version}"'}
        )
        assert by_owner.status_code == 403, "only staff make staff transitions"
        by_staff = client.patch(
            url, json={"status": staff_step.target}, headers={**staff, "If-Match": f'"{version}"'}
        )
        assert by_staff.status_code == 200
    unknown = client.patch(url, json={"status": "nope"}, headers={**who, "If-Match": "*"})
    assert unknown.status_code == 422


def test_impossible_transition_conflicts(client: FlaskClient, auth: Auth) -> None:
    who = auth(tenant())
    item = create(client, who)
    url = f"{COLLECTION}/{item['id']}"
    reachable = {t.target for t in DEFINITION.transitions if t.source == DEFINITION.initial_status}
    unreachable = [
        s for s in DEFINITION.statuses if s not in reachable | {DEFINITION.initial_status}
    ]
    if unreachable:
        r = client.patch(url, json={"status": unreachable[0]}, headers={**who, "If-Match": '"1"'})
        assert r.status_code in (403, 409)


def test_delete(client: FlaskClient, auth: Auth) -> None:
    who = auth(tenant())
    item = create(client, who)
    url = f"{COLLECTION}/{item['id']}"
    assert client.delete(url, headers=who).status_code == 428
    assert client.delete(url, headers={**who, "If-Match": '"7"'}).status_code == 412
    assert client.delete(url, headers=auth(tenant()) | {"If-Match": '"1"'}).status_code == 404
    assert client.delete(url, headers={**who, "If-Match": '"1"'}).status_code == 204
    assert client.get(url, headers=who).status_code == 404


def test_idempotency_key_replays_the_first_response(client: FlaskClient, auth: Auth) -> None:
    who = auth(tenant())
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = client.post(COLLECTION, json=body(), headers={**who, **key})
    again = client.post(COLLECTION, json=body(), headers={**who, **key})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    listed = client.get(COLLECTION, query_string={"limit": 100}, headers=who).get_json()
    assert len(listed["items"]) == 1, "a retried POST must not create a second resource"
    field = first_field()
    different = body(**{field.name: value(field) if field.type != "string" else "other"})
    if different != body():
        reused = client.post(COLLECTION, json=different, headers={**who, **key})
        assert reused.status_code == 422
    other_tenant = client.post(COLLECTION, json=body(), headers={**auth(tenant()), **key})
    assert other_tenant.status_code == 201 and "Idempotent-Replayed" not in other_tenant.headers
    bad_key = client.post(COLLECTION, json=body(), headers={**who, "Idempotency-Key": "a b"})
    assert bad_key.status_code == 400


@pytest.mark.parametrize("method", ["put", "post"])
def test_methods_not_allowed_are_problems(client: FlaskClient, auth: Auth, method: str) -> None:
    who = auth(tenant())
    item = create(client, who)
    response = getattr(client, method)(f"{COLLECTION}/{item['id']}", json={}, headers=who)
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
