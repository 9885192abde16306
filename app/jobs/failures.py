"""Jobs that failed on their last try, written where admins can see them (job_failures)."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from app.extensions import db
from app.models import JobFailure

log = logging.getLogger("tasklane.jobs")


def record(job: str, summary: str, error: BaseException, attempts: int) -> None:
    """Write the failure in a transaction of its own (the job's may be broken). If the
    database is what failed, the log keeps it."""
    log.error("job %s failed after %d tries: %s (%r)", job, attempts, summary, error)
    try:
        db.session.rollback()
        db.session.connection(execution_options={"tasklane_write": True})
        db.session.add(
            JobFailure(
                job=job[:100],
                summary=summary[:255],
                error=f"{type(error).__name__}: {error}"[:500],
                attempts=attempts,
            )
        )
        db.session.commit()
    except Exception:
        log.exception("could not record the failure of job %s", job)
        db.session.rollback()


def recent(limit: int = 10) -> list[JobFailure]:
    return list(db.session.scalars(select(JobFailure).order_by(JobFailure.id.desc()).limit(limit)))


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(JobFailure))
