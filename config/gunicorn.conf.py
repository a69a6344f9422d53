"""gunicorn's settings for a web node, from the environment:

    gunicorn -c config/gunicorn.conf.py config.wsgi

Each worker process runs ``GUNICORN_THREADS`` threads, and each thread keeps its own database
connection (``DATABASE_CONN_MAX_AGE``): a node holds up to workers times threads connections, which
PostgreSQL's ``max_connections`` must allow for every node together.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


#: Where the load balancer reaches this node (an address:port, or unix:/run/thidua/web.sock).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
#: ``WEB_CONCURRENCY`` is the name platforms and gunicorn itself use; two per core is a fair start.
workers = _int("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1))
threads = _int("GUNICORN_THREADS", 4)
# A request still running after this is killed with its worker (a hung database call, say); the
# slowest page (a large export is a Celery task) is far below it.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On SIGTERM or a reload, requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Connections kept open to the load balancer between requests (keep it below the balancer's own).
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after this many requests (0: never), the jitter spreads the restarts.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Workers' heartbeat files in memory rather than on a disk that may stall.
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/dev/shm" if os.path.isdir("/dev/shm") else None)  # noqa: S108
# The load balancer logs each request; the application logs (JSON, with the request id) go to stderr.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Import the application once in the master, then fork: less memory, and a broken deploy fails at start.
preload_app = True
proc_name = "thidua-web"
