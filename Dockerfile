# One image for every hub service; docker-compose.yml picks the command per service.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas schemas
COPY connectors connectors
COPY streams streams
COPY gateway gateway
COPY registries registries
COPY hub hub
COPY examples examples
RUN pip install --no-cache-dir . && useradd --system hub && mkdir -p /var/lib/hub && chown hub /var/lib/hub
USER hub
ENV HUB_STATE_DIR=/var/lib/hub PYTHONUNBUFFERED=1
