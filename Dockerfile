# syntax=docker/dockerfile:1
# Stage 1: fetch htmx from the npm registry at the version package-lock.json pins.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

# Stage 2: the app on slim Python, run by an unprivileged user under gunicorn.
FROM python:3.11-slim AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLASK_APP=wsgi:app \
    TASKLANE_PRODUCTION=1 \
    PORT=8000
WORKDIR /app
RUN useradd --create-home --uid 10001 tasklane
COPY requirements.txt ./
RUN pip install -r requirements.txt
COPY app ./app
COPY templates ./templates
COPY static ./static
COPY migrations ./migrations
COPY wsgi.py gunicorn.conf.py boot.sh ./
COPY --from=assets /build/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
# instance/ holds the SQLite file and the generated secret key when no DATABASE_URL or
# SECRET_KEY is given: the only place the app writes, so the only place the user owns.
RUN mkdir -p /app/instance && chown tasklane:tasklane /app/instance
VOLUME ["/app/instance"]
USER tasklane
EXPOSE 8000
# Liveness: the process answers. /healthz asks nothing else, so a database outage does not
# mark every container unhealthy for an orchestrator to restart. Readiness (whether to send
# it traffic) is /readyz, which compose.yaml's healthchecks ask. Python: slim has no curl.
# The worker (below) serves no HTTP: give its container a healthcheck of its own or none.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"]
# The web server. With no QUEUE_URL it also runs the job consumer (a SQLite queue in
# instance/). In production set QUEUE_URL=redis://... and run the same image a second time
# as the worker (the consumer and its scheduler; SIGTERM lets a running job finish):
#   docker run --env-file .env tasklane python -m app.jobs.worker
CMD ["./boot.sh"]
