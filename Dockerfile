# syntax=docker/dockerfile:1
# One image for every process type of the shop; docker-compose.yml picks the type with
# `python -m devstack run <type>`, which execs that type's line of the Procfile.

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY config config
COPY devstack devstack
COPY messaging messaging
COPY shop shop
COPY warehouse warehouse
COPY notifications notifications
COPY sales sales
COPY loyalty loyalty
# Wheels of the project and its dependencies; the embedded servers are not among them.
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_DEBUG=0
RUN useradd --create-home --uid 10001 shop
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels event-driven-shop && rm -rf /wheels
WORKDIR /app
COPY --chown=shop:shop . .
RUN mkdir -p var staticfiles \
 && DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
 && chown -R shop:shop var staticfiles
USER shop
EXPOSE 8000
CMD ["python", "-m", "devstack", "run", "web"]
