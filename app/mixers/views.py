"""Mixer pages: the attendee's match card and matches, the organizer's console under /organizer/mixers, and a
small JSON API under /api/v1/mixers. Views parse, call one service, commit once."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from wtforms import SelectChoice

from .. import clock
from ..accounts.bearer import api_user, token_required
from ..accounts.models import User
from ..booking.window import checkin_closed_message
from ..errors import DomainError, InvalidInput, NotFound
from ..events.models import WaitlistPolicy
from ..events.services import EventData, SlotData
from ..extensions import csrf, db
from ..orgs.models import City
from ..orgs.services import all_cities, all_industries
from ..webviews import attempt, flash_form_errors, me, show_error
from . import cards, checkin, errors, exports, outcomes, presenters, reveal, windows
from .forms import (
    ANSWER_LABELS,
    STAGE_LABELS,
    CardProfileForm,
    CheckinForm,
    FollowupForm,
    MixerForm,
    PaperPairForm,
    PicksForm,
    SettingsForm,
)

bp = Blueprint("mixers", __name__, url_prefix="/mixers")
organizer_bp = Blueprint("mixers_organizer", __name__, url_prefix="/organizer/mixers")
api_bp = Blueprint("mixers_api", __name__, url_prefix="/api/v1/mixers")
csrf.exempt(api_bp)


# --- attendee pages ------------------------------------------------------------------------------------------


@bp.get("/<int:event_id>")
@login_required
def card(event_id: int) -> str:
    view = presenters.card_view(me(), event_id)
    profile_form = CardProfileForm()
    if view.attendee is not None and not profile_form.is_submitted():
        profile_form.nickname.data = view.attendee.nickname
        profile_form.share_contact.data = view.attendee.share_contact
        profile_form.contact.data = view.attendee.contact
    return render_template(
        "mixers/card.html",
        view=view,
        profile_form=profile_form,
        picks_form=PicksForm(),
        stage_labels=STAGE_LABELS,
    )


@bp.post("/<int:event_id>/profile")
@login_required
def profile(event_id: int) -> ResponseReturnValue:
    form = CardProfileForm()
    if not form.validate():
        flash_form_errors(form)
        return redirect(url_for("mixers.card", event_id=event_id))
    with attempt(details=True) as done:
        checkin.update_card_profile(
            me(),
            event_id,
            nickname=form.nickname.data or "",
            share_contact=bool(form.share_contact.data),
            contact=form.contact.data,
        )
    if done:
        flash(_("昵称与联系方式设置已保存。"), "success")
    return redirect(url_for("mixers.card", event_id=event_id))


@bp.post("/<int:event_id>/picks")
@login_required
def picks(event_id: int) -> ResponseReturnValue:
    form = PicksForm()
    with attempt(details=True) as done:
        if not form.validate():
            raise errors.InvalidPick()
        chosen = cards.set_picks(me(), event_id, list(form.badge.data or []))
    if done:
        flash(
            _("心动卡已保存（已选 %(n)d 位），截止前可以随时修改。", n=len(chosen))
            if chosen
            else _("心动卡已保存（未选择任何人）。"),
            "success",
        )
    return redirect(url_for("mixers.card", event_id=event_id))


@bp.get("/matches")
@login_required
def matches() -> str:
    return render_template(
        "mixers/matches.html",
        matches=presenters.my_matches(me()),
        form=FollowupForm(),
        stage_labels=STAGE_LABELS,
        answer_labels=ANSWER_LABELS,
    )


@bp.post("/pairs/<int:pair_id>/followup")
@login_required
def followup(pair_id: int) -> ResponseReturnValue:
    form = FollowupForm()
    with attempt(let_through=NotFound, details=True) as done:
        if not form.validate():
            raise InvalidInput(_("请选择一个回答。"))
        outcomes.answer_followup(me(), pair_id, form.stage.data or "", form.answer.data or "")
    if done:
        flash(_("谢谢！您的回答只用于统计，不会告诉对方。"), "success")
    return redirect(url_for("mixers.matches"))


# --- organizer console ---------------------------------------------------------------------------------------


def organizer() -> User:
    user = me()
    if not user.is_organizer:
        raise NotFound()
    return user


@organizer_bp.get("/")
@login_required
def org_index() -> str:
    return render_template("mixers/org_index.html", events=windows.managed_mixers(organizer()))


def _fill_choices(form: MixerForm) -> None:
    form.city.choices = [SelectChoice(c.code, c.name) for c in all_cities()]
    form.industry_ids.choices = [SelectChoice(i.id, i.name) for i in all_industries()]


def _show_on_form(form: MixerForm, error: DomainError) -> None:
    """The message flashed, then the field messages on the form's fields (the rest flashed too)."""
    flash(error.message, "error")
    if isinstance(error, InvalidInput) and error.fields:
        show_error(error, form)


@organizer_bp.route("/new", methods=["GET", "POST"])
@login_required
def org_new() -> ResponseReturnValue:
    actor = organizer()
    form = MixerForm()
    _fill_choices(form)
    if form.validate_on_submit():
        city = db.session.scalar(select(City).where(City.code == form.city.data))
        starts, ends = form.starts_at.data, form.ends_at.data
        assert city is not None and starts and ends and form.signup_opens_at.data and form.signup_closes_at.data
        quota_female, quota_male = form.quota_female.data or 0, form.quota_male.data or 0
        data = EventData(
            kind=windows.KIND,
            title=form.title.data or "",
            city=city,
            organization=actor.organization,  # type: ignore[arg-type]
            starts_at=starts,
            ends_at=ends,
            signup_opens_at=form.signup_opens_at.data,
            signup_closes_at=form.signup_closes_at.data,
            description=form.description.data or "",
            venue=form.venue.data or "",
            min_age=form.min_age.data,
            max_age=form.max_age.data,
            subtree_only=bool(form.subtree_only.data),
            industry_ids=list(form.industry_ids.data or []) or None,
            slots=[
                SlotData(
                    starts_at=starts,
                    ends_at=ends,
                    capacity=quota_female + quota_male,
                    quota_female=quota_female,
                    quota_male=quota_male,
                    waitlist_policy=WaitlistPolicy.OFFER,
                )
            ],
        )
        settings = windows.SettingsData(
            pick_closes_at=form.pick_closes_at.data,
            max_picks=form.max_picks.data or windows.DEFAULT_MAX_PICKS,
            other_gender_only=bool(form.other_gender_only.data),
        )
        with attempt(catch=InvalidInput, show=lambda error: _show_on_form(form, error)) as done:
            event = windows.create_mixer(actor, data, settings)
        if done:
            flash(_("联谊活动已创建。"), "success")
            return redirect(url_for("mixers_organizer.org_detail", event_id=event.id))
    elif not form.is_submitted():
        form.max_picks.data = windows.DEFAULT_MAX_PICKS
        form.other_gender_only.data = True
        form.quota_female.data = 30
        form.quota_male.data = 30
    return render_template("mixers/org_new.html", form=form)


@organizer_bp.get("/<int:event_id>")
@login_required
def org_detail(event_id: int) -> str:
    view = presenters.organizer_view(organizer(), event_id)
    settings_form = SettingsForm()
    if not settings_form.is_submitted():
        settings_form.pick_closes_at.data = view.settings.pick_closes_at
        settings_form.max_picks.data = view.settings.max_picks
        settings_form.other_gender_only.data = view.settings.other_gender_only
    return render_template(
        "mixers/org_detail.html",
        view=view,
        settings_form=settings_form,
        pair_form=PaperPairForm(),
        min_group=presenters.MIN_GROUP,
    )


@organizer_bp.post("/<int:event_id>/settings")
@login_required
def org_settings(event_id: int) -> ResponseReturnValue:
    actor = organizer()
    form = SettingsForm()
    if not form.validate():
        windows.get_managed_mixer(actor, event_id)
        flash_form_errors(form)
    else:
        with attempt(let_through=NotFound, details=True) as done:
            windows.update_settings(
                actor,
                event_id,
                windows.SettingsData(
                    pick_closes_at=form.pick_closes_at.data,
                    max_picks=form.max_picks.data or windows.DEFAULT_MAX_PICKS,
                    other_gender_only=bool(form.other_gender_only.data),
                ),
            )
        if done:
            flash(_("心动卡设置已保存。"), "success")
    return redirect(url_for("mixers_organizer.org_detail", event_id=event_id))


@organizer_bp.get("/<int:event_id>/checkin")
@login_required
def org_checkin(event_id: int) -> str:
    actor = organizer()
    event = windows.get_managed_mixer(actor, event_id)
    return render_template(
        "mixers/org_checkin.html",
        event=event,
        rows=presenters.checkin_rows(actor, event_id),
        form=CheckinForm(),
        checkin_closed=checkin_closed_message(event, clock.now()),
    )


@organizer_bp.post("/<int:event_id>/checkin")
@login_required
def org_checkin_post(event_id: int) -> ResponseReturnValue:
    actor = organizer()
    form = CheckinForm()
    registration_id = None
    if (form.registration_id.data or "").isdigit():
        registration_id = int(form.registration_id.data or 0)

    def show(error: DomainError) -> None:
        if isinstance(error, NotFound):
            windows.get_managed_mixer(actor, event_id)  # outside the scope: 404; inside: an unknown ticket
        show_error(error, details=True)

    with attempt(show=show) as done:
        attendee = checkin.check_in(actor, event_id, registration_id=registration_id, ticket_code=form.ticket_code.data)
        badge = attendee.badge_no
    if done:
        flash(_("签到成功，胸牌号 %(b)d。", b=badge), "success")
    return redirect(url_for("mixers_organizer.org_checkin", event_id=event_id))


@organizer_bp.post("/<int:event_id>/reveal")
@login_required
def org_reveal(event_id: int) -> ResponseReturnValue:
    actor = organizer()
    with attempt(let_through=NotFound, details=True) as done:
        reveal.close_and_reveal(actor, event_id)
    if done:
        flash(_("心动卡已截止并揭晓，结果已同时通知每位嘉宾。"), "success")
    return redirect(url_for("mixers_organizer.org_detail", event_id=event_id))


@organizer_bp.post("/<int:event_id>/pairs")
@login_required
def org_pairs(event_id: int) -> ResponseReturnValue:
    actor = organizer()
    form = PaperPairForm()
    if not form.validate():
        windows.get_managed_mixer(actor, event_id)
        flash(_("请填写两个有效的胸牌号。"), "error")
        return redirect(url_for("mixers_organizer.org_detail", event_id=event_id))
    with attempt(let_through=NotFound, details=True) as done:
        reveal.add_paper_pair(actor, event_id, int(form.badge_a.data or 0), int(form.badge_b.data or 0))
    if done:
        flash(_("纸质心动卡配对已登记。"), "success")
    return redirect(url_for("mixers_organizer.org_detail", event_id=event_id))


@organizer_bp.get("/<int:event_id>/roster.csv")
@login_required
def org_roster(event_id: int) -> Response:
    rows = exports.roster_rows(organizer(), event_id)
    db.session.commit()  # the export is audited
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 with a BOM
    csv.writer(buffer).writerows(rows)
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="mixer-{event_id}-roster.csv"'},
    )


# --- JSON API ------------------------------------------------------------------------------------------------


def _card_json(view: presenters.CardView) -> dict[str, Any]:
    attendee = view.attendee
    return {
        "event_id": view.event.id,
        "state": view.state,
        "pick_closes_at": view.settings.pick_closes_at.isoformat(),
        "max_picks": view.settings.max_picks,
        "other_gender_only": view.settings.other_gender_only,
        "me": None
        if attendee is None
        else {"badge": attendee.badge_no, "nickname": attendee.nickname, "share_contact": attendee.share_contact},
        "candidates": [{"badge": c.badge_no, "nickname": c.display_name} for c in view.candidates],
        "my_picks": view.picks,
        "matches": [_match_json(m) for m in view.matches],
        "no_match": view.state == "revealed" and attendee is not None and not view.matches,
    }


def _match_json(match: presenters.MatchView) -> dict[str, Any]:
    return {
        "pair_id": match.pair.id,
        "event_id": match.event.id,
        "event_title": match.event.title,
        "partner_nickname": match.partner_name,
        "partner_contact": match.partner_contact,
        "confirmed_couple": match.confirmed,
        "followups": [
            {"stage": s.stage, "due_at": s.due_at.isoformat(), "my_answer": s.my_answer, "can_answer": s.can_answer}
            for s in match.stages
        ],
    }


@api_bp.get("/<int:event_id>/card")
@token_required
def api_card(event_id: int) -> Response:
    return jsonify(_card_json(presenters.card_view(api_user(), event_id)))


@api_bp.put("/<int:event_id>/picks")
@token_required
def api_picks(event_id: int) -> Response:
    data = request.get_json(silent=True)
    badges = data.get("badges") if isinstance(data, dict) else None
    if not isinstance(badges, list) or not all(isinstance(b, int) and not isinstance(b, bool) for b in badges):
        raise InvalidInput(_("badges 必须是胸牌号（整数）的列表。"))
    chosen = cards.set_picks(api_user(), event_id, badges)
    db.session.commit()
    return jsonify({"my_picks": chosen})


@api_bp.get("/matches")
@token_required
def api_matches() -> Response:
    return jsonify({"matches": [_match_json(m) for m in presenters.my_matches(api_user())]})


@api_bp.post("/pairs/<int:pair_id>/followup")
@token_required
def api_followup(pair_id: int) -> tuple[Response, int]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("stage"), str) or not isinstance(data.get("answer"), str):
        raise InvalidInput(_("请提供 stage 和 answer。"))
    entry = outcomes.answer_followup(api_user(), pair_id, data["stage"], data["answer"])
    body = {"stage": entry.stage, "answer": entry.answer, "at": entry.at.isoformat()}
    db.session.commit()
    return jsonify(body), 201
