"""The OpenAPI 3 description of API v1, served at /api/v1/openapi.json.

One cohesive thing past 500 lines: a single document, each path and schema written once beside the others so
that a reader compares them at a glance; splitting it would only scatter one declaration over several files."""

from __future__ import annotations

from typing import Any

from ..events.services import DEFAULT_REMINDER_HOURS, MAX_REMINDER_HOURS, MAX_REMINDER_OFFSETS, MAX_SLOTS


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON content map holding ``schema``."""
    return {"application/json": {"schema": schema}}


def _answer(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A response with a JSON body of ``schema``."""
    return {"description": description, "content": _json(schema)}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    """A required JSON request body of ``schema``."""
    return {"required": True, "content": _json(schema)}


def _ref(name: str) -> dict[str, Any]:
    """A reference to the schema ``name`` of the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    return _answer(description, _ref("Error"))


IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Any text of 1-255 printable ASCII characters, new for each action: a request resent with the "
    "same key (and the same body) gets the first answer again (header Idempotent-Replayed: true).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x20-\\x7e]+$"},
}


REMINDER_HOURS: dict[str, Any] = {
    "type": "array",
    "nullable": True,
    "maxItems": MAX_REMINDER_OFFSETS,
    "uniqueItems": True,
    "items": {"type": "integer", "minimum": 1, "maximum": MAX_REMINDER_HOURS},
    "description": "Hours before each slot's start at which booked people are reminded, e.g. [24, 2]. At most "
    f"{MAX_REMINDER_OFFSETS} distinct values, each 1-{MAX_REMINDER_HOURS}; [] sends none; null or absent: the "
    f"defaults {list(DEFAULT_REMINDER_HOURS)}. A breach is a 422 naming the field reminder_hours.",
    "example": [24, 2],
}


def openapi_document() -> dict[str, Any]:
    registration = _ref("Registration")
    bearer: list[dict[str, list[str]]] = [{"bearer": []}]
    id_param = lambda name: {  # noqa: E731
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Zhijia API", "version": "1.0.0", "description": "职工之家 booking API"},
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "fields": {"type": "object"},
                        "reasons": {"type": "array", "items": {"type": "string"}},
                        "purposes": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Registration": {
                    "type": "object",
                    "required": ["id", "status"],
                    "properties": {
                        "id": {"type": "integer"},
                        "slot_id": {"type": "integer"},
                        "event_id": {"type": "integer"},
                        "status": {
                            "type": "string",
                            "enum": [
                                "pending_approval",
                                "confirmed",
                                "waitlisted",
                                "offered",
                                "cancelled",
                                "rejected",
                                "expired",
                                "attended",
                                "no_show",
                            ],
                        },
                        "state": {
                            "type": "string",
                            "description": "What pages show: the status, except a lottery application waiting "
                            "for its draw is awaiting_draw",
                        },
                        "waitlist_position": {"type": "integer", "nullable": True},
                        "offer_expires_at": {
                            "type": "string",
                            "format": "date-time",
                            "nullable": True,
                            "description": "like DateTime (+08:00), or null",
                        },
                        "created_at": _ref("DateTime"),
                    },
                },
                "DateTime": {
                    "type": "string",
                    "format": "date-time",
                    "description": "ISO 8601 with the China Standard Time offset, e.g. 2026-06-15T10:00:00+08:00. "
                    "Inputs may carry any offset (converted to +08:00); a time without one is read as +08:00.",
                    "example": "2026-06-15T10:00:00+08:00",
                },
                "State": {
                    "type": "string",
                    "description": "Where an event or slot stands now (events.status): sign-up not open yet, open, "
                    "full with a waitlist, full, sign-up over, running, ended, cancelled",
                    "enum": ["upcoming", "open", "waitlist", "full", "closed", "running", "ended", "cancelled"],
                },
                "Slot": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "label": {"type": "string"},
                        "starts_at": _ref("DateTime"),
                        "ends_at": _ref("DateTime"),
                        "capacity": {"type": "integer"},
                        "confirmed": {"type": "integer"},
                        "available": {"type": "integer"},
                        "waitlisted": {"type": "integer"},
                        "state": _ref("State"),
                    },
                },
                "ReminderHours": REMINDER_HOURS,
                "ScanResult": {
                    "type": "object",
                    "required": ["result", "message"],
                    "properties": {
                        "result": {
                            "type": "string",
                            "enum": [
                                "welcome",
                                "already",
                                "wrong_event",
                                "cancelled",
                                "not_confirmed",
                                "not_found",
                                "too_early",
                                "ended",
                            ],
                        },
                        "message": {"type": "string", "description": "what the scanner shows, in Accept-Language"},
                        "replay": {"type": "boolean"},
                        "can_override": {
                            "type": "boolean",
                            "description": "outside the window: resend with registration_id and override_reason",
                        },
                        "registration_id": {"type": "integer", "nullable": True},
                        "name": {"type": "string", "nullable": True},
                        "slot": {"type": "string", "nullable": True},
                        "attended": {"type": "integer"},
                    },
                },
                "DoorRoster": {
                    "type": "object",
                    "properties": {
                        "event_id": {"type": "integer"},
                        "title": {"type": "string"},
                        "checkin_opens_at": _ref("DateTime"),
                        "checkin_closes_at": _ref("DateTime"),
                        "attended": {"type": "integer"},
                        "expected": {"type": "integer"},
                        "registrations": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "registration_id": {"type": "integer"},
                                    "slot_id": {"type": "integer"},
                                    "slot": {"type": "string"},
                                    "status": {"type": "string"},
                                    "state": {"type": "string"},
                                    "checked_in": {"type": "boolean"},
                                    "name": {"type": "string", "nullable": True},
                                    "phone": {"type": "string", "description": "masked: 138****0001"},
                                    "unit": {"type": "string", "nullable": True},
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
                "Event": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "kind": {"type": "string"},
                        "title": {"type": "string"},
                        "starts_at": _ref("DateTime"),
                        "ends_at": _ref("DateTime"),
                        "signup_opens_at": _ref("DateTime"),
                        "signup_closes_at": _ref("DateTime"),
                        "state": _ref("State"),
                        "slots": {"type": "array", "items": _ref("Slot")},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/tokens": {
                "post": {
                    "summary": "Exchange phone and password for a bearer token",
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["phone", "password"],
                            "properties": {"phone": {"type": "string"}, "password": {"type": "string"}},
                        }
                    ),
                    "responses": {
                        "201": _answer("token", {"type": "object", "properties": {"token": {"type": "string"}}}),
                        "401": _error("wrong phone or password"),
                        "422": _error("invalid body"),
                        "429": _error("rate limited"),
                    },
                }
            },
            "/api/v1/tokens/current": {
                "delete": {
                    "summary": "Revoke the token this request carries (log the client out)",
                    "security": bearer,
                    "responses": {"204": {"description": "revoked"}, "401": _error("no token, or not a live one")},
                }
            },
            "/api/v1/events": {
                "get": {
                    "summary": "Published upcoming events with their slots' availability",
                    "parameters": [
                        {"name": "kind", "in": "query", "schema": {"type": "string"}},
                        {"name": "city", "in": "query", "schema": {"type": "string"}},
                        {"name": "available", "in": "query", "schema": {"type": "string", "enum": ["0", "1"]}},
                        {"name": "page", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {"200": {"description": "events"}, "400": _error("malformed query (e.g. a NUL byte)")},
                },
                "post": {
                    "summary": "Create and publish an event (organizer or admin, within their scope)",
                    "description": (
                        f"At most {MAX_SLOTS} slots: a longer list is refused with 422 (nothing is kept). Dates "
                        "lie between 1 January of EVENT_EARLIEST_YEAR and EVENT_MAX_YEARS_AHEAD years from now. "
                        "Text is trimmed; control characters are refused (line breaks only in description)."
                    ),
                    "security": bearer,
                    "requestBody": _body(
                        {
                            "type": "object",
                            "properties": {
                                "slots": {
                                    "type": "array",
                                    "minItems": 1,
                                    "maxItems": MAX_SLOTS,
                                    "items": {"type": "object"},
                                },
                                "reminder_hours": _ref("ReminderHours"),
                            },
                        }
                    ),
                    "responses": {
                        "201": {"description": "created"},
                        "401": _error("no token"),
                        "403": _error("not an organizer"),
                        "404": _error("organization outside scope"),
                        "422": _error("field errors"),
                    },
                },
            },
            "/api/v1/events/{event_id}": {
                "get": {
                    "parameters": [id_param("event_id")],
                    "responses": {"200": {"description": "event"}, "404": _error("unknown event")},
                },
                "patch": {
                    "summary": "Change an event's reminder offsets (organizer or admin, within their scope)",
                    "description": "Only reminder_hours may be sent (any other field is a 422 naming it). The "
                    "reminders not yet sent of every confirmed booking are planned again at the new offsets; those "
                    "already sent stay sent, and none is planned in the past.",
                    "security": bearer,
                    "parameters": [id_param("event_id")],
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["reminder_hours"],
                            "additionalProperties": False,
                            "properties": {"reminder_hours": _ref("ReminderHours")},
                        }
                    ),
                    "responses": {
                        "200": _answer(
                            "saved: the offsets now in force",
                            {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "integer"},
                                    "reminder_hours": {"type": "array", "items": {"type": "integer"}},
                                },
                            },
                        ),
                        "401": _error("no token"),
                        "403": _error("not an organizer"),
                        "404": _error("unknown event, or outside the organizer's scope"),
                        "422": _error("field errors (fields.reminder_hours), or the event is cancelled"),
                    },
                },
            },
            "/api/v1/slots/{slot_id}/registrations": {
                "post": {
                    "summary": "Book a slot",
                    "security": bearer,
                    "parameters": [id_param("slot_id"), IDEMPOTENCY_KEY],
                    "requestBody": {
                        "content": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "consents": {"type": "array", "items": {"type": "string"}},
                                    "options": {"type": "object"},
                                },
                            }
                        )
                    },
                    "responses": {
                        "201": _answer("registered", registration),
                        "401": _error("no token"),
                        "404": _error("unknown slot"),
                        "409": _error("full, already registered, closed"),
                        "422": _error("not eligible, consent required, Idempotency-Key reused on another request"),
                    },
                }
            },
            "/api/v1/registrations/{registration_id}": {
                "delete": {
                    "summary": "Cancel one's own registration",
                    "security": bearer,
                    "parameters": [id_param("registration_id"), IDEMPOTENCY_KEY],
                    "responses": {
                        "200": _answer("cancelled", registration),
                        "401": _error("no token"),
                        "404": _error("not yours or unknown"),
                        "409": _error("deadline passed or not cancellable"),
                        "422": _error("Idempotency-Key reused on another request"),
                    },
                }
            },
            "/api/v1/me/registrations": {
                "get": {
                    "security": bearer,
                    "responses": {"200": {"description": "registrations"}, "401": _error("no token")},
                }
            },
            "/api/v1/registrations/{registration_id}/accept-offer": {
                "post": {
                    "security": bearer,
                    "parameters": [id_param("registration_id")],
                    "responses": {
                        "200": _answer("confirmed", registration),
                        "401": _error("no token"),
                        "404": _error("not yours"),
                        "409": _error("no offer or expired"),
                    },
                }
            },
            "/api/v1/mixers/{event_id}/card": {
                "get": {
                    "summary": "My match card at a mixer: other attendees by badge and nickname, my picks, the window",
                    "security": bearer,
                    "parameters": [id_param("event_id")],
                    "responses": {
                        "200": {"description": "card"},
                        "401": _error("no token"),
                        "404": _error("not a mixer I attend"),
                        "409": _error("window not open"),
                    },
                }
            },
            "/api/v1/mixers/{event_id}/picks": {
                "put": {
                    "summary": "Replace my picks (badge numbers) while the pick window is open",
                    "security": bearer,
                    "parameters": [id_param("event_id")],
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["badges"],
                            "properties": {"badges": {"type": "array", "items": {"type": "integer"}}},
                        }
                    ),
                    "responses": {
                        "200": {"description": "saved"},
                        "401": _error("no token"),
                        "404": _error("not a mixer I attend"),
                        "409": _error("window closed"),
                        "422": _error("too many picks, unknown badge, own badge"),
                    },
                }
            },
            "/api/v1/mixers/matches": {
                "get": {
                    "summary": "My revealed mutual matches (never one-sided picks)",
                    "security": bearer,
                    "responses": {"200": {"description": "matches"}, "401": _error("no token")},
                }
            },
            "/api/v1/mixers/pairs/{pair_id}/followup": {
                "post": {
                    "summary": "Answer a follow-up privately (still in touch / dating / ended)",
                    "security": bearer,
                    "parameters": [id_param("pair_id")],
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["stage", "answer"],
                            "properties": {"stage": {"type": "string"}, "answer": {"type": "string"}},
                        }
                    ),
                    "responses": {
                        "201": {"description": "answer recorded"},
                        "401": _error("no token"),
                        "404": _error("not my pair"),
                        "409": _error("follow-up not due or already answered"),
                        "422": _error("unknown stage or answer"),
                    },
                }
            },
            "/api/v1/organizer/events/{event_id}/roster": {
                "get": {
                    "summary": "The door: an event's roster for an organizer's kiosk or scanner (audited read)",
                    "description": "Organizer or admin token; the event must belong to the token holder's "
                    "organization subtree. Phone numbers are masked; names and phone numbers are never "
                    "accepted in the URL.",
                    "security": bearer,
                    "parameters": [
                        id_param("event_id"),
                        {"name": "status", "in": "query", "required": False, "schema": {"type": "string"}},
                        {"name": "slot", "in": "query", "required": False, "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": _answer("roster", _ref("DoorRoster")),
                        "401": _error("no token"),
                        "403": _error("an employee's token"),
                        "404": _error("no such event in the token holder's organization subtree"),
                    },
                }
            },
            "/api/v1/organizer/events/{event_id}/checkins": {
                "post": {
                    "summary": "The door: check someone in (same rules as the console)",
                    "description": "By ticket code (the QR's text or link) or registration id. Check-in is accepted "
                    "from CHECKIN_OPENS_HOURS_BEFORE hours (default 3) before the event starts until it ends, "
                    "judged at scanned_at for scans queued offline (within a week); outside it the answer is "
                    "too_early or ended and nothing changes, unless override_reason is given: then the person is "
                    "checked in and the override is audited. A scan_id seen before gets its first answer again "
                    "(replay: true) and counts nobody twice.",
                    "security": bearer,
                    "parameters": [id_param("event_id")],
                    "requestBody": _body(
                        {
                            "type": "object",
                            "required": ["scan_id"],
                            "properties": {
                                "scan_id": {
                                    "type": "string",
                                    "pattern": "^[A-Za-z0-9_-]{8,64}$",
                                    "description": "made on the device, new for each scan",
                                },
                                "code": {"type": "string", "maxLength": 200},
                                "registration_id": {"type": "integer"},
                                "scanned_at": _ref("DateTime"),
                                "override_reason": {"type": "string", "maxLength": 200},
                            },
                        }
                    ),
                    "responses": {
                        "200": _answer("the scan's result", _ref("ScanResult")),
                        "401": _error("no token"),
                        "403": _error("an employee's token"),
                        "404": _error("no such event in the token holder's organization subtree"),
                        "422": _error("bad scan id, neither code nor registration, override without a reason"),
                    },
                }
            },
            "/api/v1/registrations/{registration_id}/decline-offer": {
                "post": {
                    "security": bearer,
                    "parameters": [id_param("registration_id")],
                    "responses": {
                        "200": _answer("declined", registration),
                        "401": _error("no token"),
                        "404": _error("not yours"),
                        "409": _error("no offer"),
                    },
                }
            },
        },
    }
