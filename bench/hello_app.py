"""The ceiling of bench/bench_http.py: Flask's hello-world, served by the same gunicorn as the project.

Same Flask, same Python, same workers: what is left between its throughput
and a page's is the project's own per-request work.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
