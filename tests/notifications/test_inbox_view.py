"""Inbox messages show their link as a labelled button, not as a raw URL (issue 21, item 11)."""

from __future__ import annotations

from app.notifications.inbox_view import inbox_view
from app.notifications.models import InboxMessage


def _message(body: str, link: str | None = "/me/bookings") -> InboxMessage:
    return InboxMessage(user_id=1, kind="x", title="t", body=body, link=link)


def test_the_action_line_labels_the_button_and_leaves_the_text() -> None:
    view = inbox_view(_message("您好！\n\n预约成功。\n\n查看我的预约：http://localhost/me/bookings"))
    assert view.paragraphs == ["您好！", "预约成功。"]
    assert view.action == "查看我的预约"


def test_a_url_inside_a_sentence_is_not_shown() -> None:
    view = inbox_view(_message("详情见 https://zhijia.example/events/3 页面"))
    assert "https" not in view.paragraphs[0]
    assert view.action == "查看详情"


def test_a_message_without_a_link_keeps_its_words() -> None:
    view = inbox_view(_message("明天见：南昌市职工活动中心", link=None))
    assert view.paragraphs == ["明天见：南昌市职工活动中心"]
