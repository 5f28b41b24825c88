"""Account pages: register, log in and out, profile, password change and reset. Thin: parse, call, commit."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..errors import InvalidInput
from ..extensions import db, limiter
from ..orgs.models import City, EnterpriseType, Industry
from ..signals import password_reset_requested
from ..webviews import attempt, me
from . import by_phone, legal, services, sessions
from .forms import LoginForm, PasswordChangeForm, ProfileForm, ResetPasswordForm, ResetRequestForm
from .legal_views import after_sign_in
from .models import Gender
from .phone_forms import CodeRegisterForm
from .verification import CodeError, Purpose

bp = Blueprint("accounts", __name__, url_prefix="/account")


def this_device() -> str:
    """The requesting device as the devices page names it (a summary of the User-Agent header)."""
    return sessions.device_summary(request.headers.get("User-Agent"))


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


def _phone_key() -> str:
    return "login-phone:" + services.normalize_phone(request.form.get("phone", ""))[:20]


def _failed(response: Response) -> bool:
    return response.status_code != 302


def profile_data(form: ProfileForm) -> services.ProfileData:
    city = db.session.scalar(db.select(City).where(City.code == form.city.data))
    industry = (
        db.session.scalar(db.select(Industry).where(Industry.code == form.industry.data))
        if form.industry.data
        else None
    )
    if city is None:
        raise InvalidInput(fields={"city": [_("请选择所在城市。")]})
    return services.ProfileData(
        gender=Gender(form.gender.data),
        birth_date=form.birth_date.data,
        city=city,
        employer=form.employer.data or "",
        enterprise_type=EnterpriseType(form.enterprise_type.data),
        industry=industry,
        frontline=bool(form.frontline.data),
        member_no=form.member_no.data,
    )


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"], deduct_when=lambda r: r.status_code == 302)
@limiter.limit("60 per hour", methods=["POST"], deduct_when=_failed)  # probing which phones are registered
def register() -> str | Response:
    """Register with a verified number: "获取验证码" sends a code (the page comes back filled in), then the
    code, the profile and the acceptance of the documents create the account."""
    from .phone_views import code_attempt, code_submitted

    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = CodeRegisterForm()
    if request.method == "GET":
        form.show_versions(legal.current_versions())
    if code_submitted(form, Purpose.REGISTER, form.phone):
        refusals = (services.PhoneTaken, CodeError, legal.DocumentsChanged, InvalidInput)
        with code_attempt(form, form.phone, catch=refusals) as done:
            user = by_phone.register_with_code(
                phone=form.phone.data or "",
                code=form.code.data or "",
                password=form.password.data or "",
                name=form.name.data or "",
                email=form.email.data,
                profile=profile_data(form),
                documents=form.shown_versions(),
                locale=str(request.cookies.get("lang") or "zh_CN"),
            )
            login_session = services.start_login_session(user, device=this_device())
        if done:
            user.login_session_id = login_session.id
            login_user(user)
            flash(_("注册成功，欢迎来到职工之家！"), "success")
            return redirect(url_for("web.home"))
    return render_template("accounts/register.html", form=form, documents=legal.DOCUMENTS)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_login_limit, methods=["POST"], key_func=_phone_key, deduct_when=_failed)
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.phone.data or "", form.password.data or "")
        except services.AuthenticationFailed as error:
            flash(error.message, "error")
        else:
            services.start_login_session(user, device=this_device())
            db.session.commit()
            login_user(user)
            return after_sign_in(user, request.args.get("next"))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout() -> Response:
    services.revoke_login_session(current_user.get_id())
    db.session.commit()
    logout_user()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("web.home"))


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> str | Response:
    user = me()
    form = ProfileForm()
    if request.method == "GET":
        form.name.data = user.name
        form.email.data = user.email
        if user.profile:
            p = user.profile
            form.gender.data = p.gender.value
            form.birth_date.data = p.birth_date
            form.city.data = p.city.code
            form.employer.data = p.employer
            form.enterprise_type.data = p.enterprise_type.value
            form.industry.data = p.industry.code if p.industry else ""
            form.frontline.data = p.frontline
            form.member_no.data = p.member_no
    if form.validate_on_submit():
        with attempt(form, catch=InvalidInput) as done:
            services.update_profile(user, name=form.name.data or "", email=form.email.data, profile=profile_data(form))
        if done:
            flash(_("个人资料已保存。"), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, user=user)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def change_password() -> str | Response:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = me()
        with attempt(form, catch=InvalidInput) as done:
            services.change_password(user, form.current_password.data or "", form.new_password.data or "")
        if done:
            login_user(user)
            flash(_("密码已修改，其他设备上的登录已退出。"), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/password.html", form=form)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"])
def reset_request() -> str | Response:
    form = ResetRequestForm()
    if form.validate_on_submit():
        user = services.find_by_phone(form.phone.data or "")
        if user is not None and user.email and user.is_active:
            token = services.create_password_reset(user)
            password_reset_requested.send(user, url=url_for("accounts.reset_password", token=token, _external=True))
            db.session.commit()
        # The same answer whether or not the phone is known (no account enumeration).
        flash(_("如果该手机号已登记电子邮箱，我们已发送重置密码的链接，请在 2 小时内使用。"), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def reset_password(token: str) -> str | Response:
    form = ResetPasswordForm()
    if form.validate_on_submit():
        with attempt(form, catch=(services.InvalidResetToken, InvalidInput)) as done:
            services.reset_password(token, form.password.data or "")
        if isinstance(done.error, services.InvalidResetToken):
            return redirect(url_for("accounts.reset_request"))
        if done:
            flash(_("密码已重置，请用新密码登录。"), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form)
