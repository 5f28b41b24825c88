"""The privacy feature's two extension points, named blinker signals that feature packages connect to.

``privacy-export`` (``privacy_export.send(user)``)
    Sent while building a person's own-data export ("下载我的数据"). A receiver returns ``None`` (nothing held
    about this person) or a tuple ``(section_name, data)`` / ``(section_name, data, title)``: ``section_name`` a
    short ASCII key (e.g. ``"mixer_matches"``), ``data`` JSON-like (dicts, lists, str, numbers, bool, None,
    date/datetime, enums) holding only what concerns this person (for matches: their own side only, never a
    one-sided pick made about them), ``title`` an optional Chinese heading for the HTML page. Receivers must
    only read.

``account-deleting`` (``account_deleting.send(user)``)
    Sent inside the deletion transaction, after the person's upcoming bookings are cancelled and consents
    withdrawn, but *before* the core identifiers are wiped (``user.id``, phone, name and email are still
    readable). A receiver removes or anonymises what its feature holds about the person (mixer cards and picks,
    inbox rows, audit-row details, trip attendance details...) with plain flushes, never a commit, and returns
    the number of rows it changed (or ``None``). It must keep the rows that statistics read, without
    identifiers. After the signal, the core sets every nullable foreign key to ``users.id`` in every table to
    NULL, so a feature only needs to handle free-text and JSON columns and non-nullable references. The booking
    options a kind stores on registrations are not a receiver's business: the kind's policy decides what of
    them stays (``KindPolicy.anonymised_options``).

``privacy-retention`` (``privacy_retention.send(now)``)
    Sent by the hourly ``privacy.retention`` task. A receiver deletes or anonymises its feature's data whose
    retention period (read from ``current_app.config``) has passed at ``now`` and returns how many rows it changed.
"""

from __future__ import annotations

from blinker import signal

privacy_export = signal("privacy-export")
account_deleting = signal("account-deleting")
privacy_retention = signal("privacy-retention")
