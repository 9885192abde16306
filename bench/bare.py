"""The "bare" ceiling: a Flask app with one route returning a short string.

What a request costs in Flask and gunicorn alone, with the production gunicorn config:
`gunicorn -c gunicorn.conf.py bench.bare:app`.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
