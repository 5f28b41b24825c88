"""Events (core): events, slots, the kind registry, and the employee event pages."""

from flask import Flask


def init_app(app: Flask) -> None:
    from .my_bookings import my_bookings
    from .services import kind_label
    from .status import event_state, slot_state, state_label
    from .views import bp
    from .vocabulary import registration_label, registration_state

    app.register_blueprint(bp)
    app.jinja_env.globals["kind_label"] = kind_label
    app.jinja_env.globals["event_state"] = event_state
    app.jinja_env.globals["slot_state"] = slot_state
    app.jinja_env.globals["state_label"] = state_label
    app.jinja_env.globals["registration_label"] = registration_label
    app.jinja_env.globals["registration_state"] = registration_state
    # 我的预约's page service: booking.views.mine renders booking/mine.html, which asks it for its cards.
    app.jinja_env.globals["my_bookings"] = my_bookings
