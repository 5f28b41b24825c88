"""Every signal that crosses a feature boundary, declared once, here (Indico's ``core/signals`` is the model).

Features never import each other; a feature that must react to another's change connects a receiver to one of
these signals in its ``init_app``. Each signal names its sender and the keyword arguments it is sent with.
Receivers run in the sender's transaction: they flush, never commit, and write their rows in the same session,
so they commit or roll back with the change that caused them. They are blinker signals of the default namespace
(``blinker.signal(name)`` returns the same object), so tests may also reach them by name.

A kind of event (mixer, screening, trip) does not filter these signals by kind: it reacts to its own
registrations' changes through the hooks of its ``KindPolicy`` (``events.kinds``).
"""

from __future__ import annotations

from blinker import signal

# --- booking -------------------------------------------------------------------------------------------------

registration_changed = signal(
    "registration-changed",
    doc="""One registration changed (``booking.changes``; each change is announced once, after it is written).

    Sender: the ``Registration`` (its columns already show the new state). Keyword arguments: ``from_status``
    (``Status``, or None for a new registration), ``to_status`` (``Status``), ``cause`` (``Cause``: why, for code
    to branch on), ``actor`` (``User`` or None for the system), ``reason`` (free text for people), and for a seat
    that moved to another slot (``cause == Cause.MOVED``, status unchanged) ``from_slot_id``.""",
)

registrations_changed = signal(
    "registrations-changed",
    doc="""Many registrations of one slot changed at once (``booking.changes.transition_many`` /
    ``transition_all``: a lottery deciding thousands), announced once for the set.

    Sender: the ``Slot`` (locked). Keyword arguments: ``changes`` (a sequence of ``RegistrationChange``: id,
    user id, previous status), ``to_status``, ``cause``, ``actor``, ``reason``. Receivers with nothing to do
    set-wise may load the rows with ``booking.changes.registrations_of``.""",
)

event_times_changed = signal(
    "event-times-changed",
    doc="""An event's (or its slots') start times, or its reminder offsets, changed, so plans tied to them must
    be made again.

    Sender: the ``Event``. No keyword arguments. Sent by the organizer console after editing an event's times or
    reminder offsets, and by ``events.services.set_reminder_hours``; the notifications feature re-plans every
    confirmed registration's reminders not yet sent.""",
)

# --- accounts ------------------------------------------------------------------------------------------------

consent_withdrawn = signal(
    "consent-withdrawn",
    doc="""A person withdrew a consent (``accounts.services.withdraw_consent``).

    Sender: the ``User``. Keyword arguments: ``purpose`` (str), ``actor`` (``User``). A receiver undoes what
    depended on it and returns how many registrations it cancelled (the booking engine cancels future bookings
    whose kind needs that consent).""",
)

user_registered = signal(
    "user-registered",
    doc="""A person created an account (``accounts.services.register``). Sender: the new ``User``.""",
)

password_reset_requested = signal(
    "password-reset-requested",
    doc="""A person asked for a password-reset link. Sender: the ``User``. Keyword argument: ``url`` (the link
    with its one-time token). The notifications feature emails it.""",
)

# --- privacy -------------------------------------------------------------------------------------------------

privacy_export = signal(
    "privacy-export",
    doc="""Sent while building a person's own-data export ("下载我的数据"). Sender: the ``User``.

    A receiver returns ``None`` (nothing held about this person) or a tuple ``(section_name, data)`` /
    ``(section_name, data, title)``: ``section_name`` a short ASCII key (e.g. ``"mixer_matches"``), ``data``
    JSON-like (dicts, lists, str, numbers, bool, None, date/datetime, enums) holding only what concerns this
    person (for matches: their own side only, never a one-sided pick made about them), ``title`` an optional
    Chinese heading for the HTML page. Receivers only read.""",
)

account_deleting = signal(
    "account-deleting",
    doc="""Sent inside the account-deletion transaction (``privacy.deletion``). Sender: the ``User``.

    Sent after the person's upcoming bookings are cancelled and consents withdrawn, but *before* the core
    identifiers are wiped (``user.id``, phone, name and email are still readable). A receiver removes or
    anonymises what its feature holds about the person (mixer cards and picks, inbox rows, audit-row details,
    trip attendance details...) with plain flushes, never a commit, and returns the number of rows it changed
    (or ``None``). It keeps the rows statistics read, without identifiers. After the signal the core sets every
    nullable foreign key to ``users.id`` to NULL, so a feature only handles free-text and JSON columns and
    non-nullable references. The booking options a kind stores on registrations are not a receiver's business:
    the kind's policy decides what of them stays (``KindPolicy.anonymised_options``).""",
)

privacy_retention = signal(
    "privacy-retention",
    doc="""Sent by the hourly ``privacy.retention`` task. Sender: ``now`` (a datetime).

    A receiver deletes or anonymises its feature's data whose retention period (read from
    ``current_app.config``) has passed at ``now`` and returns how many rows it changed.""",
)
