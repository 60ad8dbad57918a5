"""Driftwood: a tiny web service that says hello and whether its database answers."""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


def database_status():
    try:
        import psycopg
    except ImportError:
        return "driver missing"
    try:
        with psycopg.connect(
            host=os.environ.get("DB_HOST", "localhost"),
            user=os.environ.get("DB_USER", "driftwood"),
            password=os.environ.get("DB_PASSWORD", ""),
            dbname="driftwood",
            connect_timeout=2,
        ) as connection:
            connection.execute("SELECT 1")
        return "ok"
    except psycopg.Error as error:
        return f"unavailable ({error.__class__.__name__})"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body = {"status": "ok", "database": database_status()}
        else:
            body = {"service": "driftwood", "message": "hello from the beach"}
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
