#!/bin/sh
# Container start: apply migrations (retrying while the database comes up), then serve.
set -e
tries=0
until flask db upgrade; do
  tries=$((tries + 1))
  if [ "$tries" -ge 10 ]; then
    echo "boot: migrations failed 10 times, giving up" >&2
    exit 1
  fi
  echo "boot: database not ready, retrying in 3 s ($tries/10)" >&2
  sleep 3
done
exec gunicorn --config gunicorn.conf.py --bind "0.0.0.0:${PORT:-8000}" wsgi:app
