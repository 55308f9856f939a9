# clipmill: one image for every role of scaled mode (API: `clipmill serve`, workers:
# `clipmill worker`); docker-compose.yml wires them. See docs/deploy.md.
FROM python:3.11-slim

# ffmpeg cuts, encodes and probes; libass draws burned-in captions in DejaVu Sans. Nothing else:
# espeak-ng and Chromium are for the test suite only.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ffmpeg fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[scaled]"

# never root: a job runs yt-dlp and ffmpeg on media from anywhere
RUN useradd --system --create-home --home-dir /home/clipmill --uid 10001 clipmill \
 && mkdir -p /data && chown clipmill:clipmill /data
USER clipmill
# work dirs of running jobs (files themselves go to S3 in scaled mode)
ENV CLIPMILL_DATA_DIR=/data \
    CLIPMILL_PORT=8000
VOLUME ["/data"]
EXPOSE 8000

# liveness without curl; workers answer no HTTP, so compose turns this off for them
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:%s/healthz' % os.environ.get('CLIPMILL_PORT', '8000'), headers={'Host': 'localhost'}), timeout=4)"]

# CLIPMILL_AUTH=users (compose sets it): listening on 0.0.0.0 with auth=none is refused
CMD ["clipmill", "serve", "--host", "0.0.0.0"]
