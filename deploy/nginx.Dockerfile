# nginx from Debian's package with Backprop Lens's configuration (deploy/nginx.conf.in),
# rendered at start from BPL_LISTEN and BPL_UPSTREAMS (comma-separated host:port).
FROM python:3.11-slim
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/bpl-nginx
COPY deploy/nginx.conf.in deploy/cluster.py /deploy/
ENV BPL_LISTEN=0.0.0.0:8080 \
    BPL_UPSTREAMS=127.0.0.1:5001,127.0.0.1:5002
EXPOSE 8080
STOPSIGNAL SIGQUIT
CMD ["sh", "-c", "python3 /deploy/cluster.py --print-nginx --listen \"$BPL_LISTEN\" --upstreams \"$BPL_UPSTREAMS\" --run-dir /var/lib/bpl-nginx > /etc/nginx/backprop-lens.conf && exec nginx -c /etc/nginx/backprop-lens.conf -g 'daemon off;'"]
