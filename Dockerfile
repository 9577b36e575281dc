# Backprop Lens: the production server (gunicorn, one worker, many threads; see
# gunicorn.conf.py and docs/deploy.md).
#   docker build -t backprop-lens .
#   docker run -p 5000:5000 backprop-lens
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    BPL_BIND=0.0.0.0:5000

# A numeric user, so an orchestrator can verify it is not root without reading /etc/passwd.
RUN groupadd --system --gid 10001 bpl \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin bpl

WORKDIR /app
# Dependencies first: this layer is reused until requirements.txt changes.
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt

COPY app/ app/
COPY static/ static/
COPY templates/ templates/
COPY gunicorn.conf.py .
# The default session store (SQLite) lives in the instance folder: writable by the app
# user only; mount a volume here to keep sessions across containers, or set BPL_STORE.
RUN mkdir instance && chown 10001:10001 instance
VOLUME ["/app/instance"]

USER 10001:10001
EXPOSE 5000

# The slim image has no curl: ask /healthz with Python, on the port BPL_BIND names.
HEALTHCHECK --interval=5s --timeout=4s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; h, _, p = os.environ.get('BPL_BIND', '0.0.0.0:5000').split(',')[0].rpartition(':'); h = '127.0.0.1' if h in ('', '0.0.0.0', '[::]') else h; urllib.request.urlopen(f'http://{h}:{p}/healthz', timeout=3)"]

CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:create_app()"]
