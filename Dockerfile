# Production image: gunicorn serving carecoord.wsgi. See docker-compose.yml for the full
# stack (PostgreSQL, Redis, web, Celery worker and beat).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# libpq-dev + gcc: psycopg2 builds from source. Pango, HarfBuzz and DejaVu: WeasyPrint PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpq-dev gcc \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN pip install .

COPY . .

# Static files are collected at build time; the key is a throwaway used only for this step.
RUN SECRET_KEY=build-time-dummy-not-used-at-runtime DEBUG=false \
    python manage.py collectstatic --noinput

# Run as an unprivileged user; /app/var holds private media (a volume in docker-compose.yml).
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app \
    && mkdir -p /app/var \
    && chown app:app /app/var
USER app

EXPOSE 8000
CMD ["gunicorn", "carecoord.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
