# Redis from Debian's package on the same base as the app image (no registry needed).
FROM python:3.11-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends redis-server \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /data && chown redis:redis /data
# hadolint ignore=DL3066
USER redis
EXPOSE 6379
CMD ["redis-server", "--bind", "127.0.0.1", "--dir", "/data"]
