from __future__ import annotations

from flask import render_template
from flask_login import login_required

from app.tasks import bp


@bp.get("")
@login_required
def index():
    # The task list arrives with the tasks issue; this page confirms the sign-in works.
    return render_template("tasks/index.html")
