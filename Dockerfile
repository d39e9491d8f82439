# One image for the API, the worker, the Discord Gateway and migrations; the command picks the role (docker-compose.yml).
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY gateway ./gateway
COPY api ./api
COPY migrations ./migrations
COPY scripts ./scripts
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
COPY console ./console
COPY tsconfig.json ./
# The dialog workflows bundled once, here, instead of by every worker as it starts (about 2.5 s each).
RUN npm run build:workflows -- /app/dist/workflow-bundle.js
ENV WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
# The operator console's page, which the API serves at /console.
RUN npm run build:console
# The code stays root's and read-only; the media volume (MEDIA_DIR without a bucket) is the app's.
RUN mkdir -p /var/lib/bot-engine/media && chown -R node:node /var/lib/bot-engine
USER node
# 3000: the API. 9464: a worker's /health and /metrics (WORKER_HTTP_PORT). 9465: a Discord Gateway process's /health (GATEWAY_HTTP_PORT).
EXPOSE 3000 9464 9465
# The API's /health; docker-compose.yml gives the worker its own check and none to migrations.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 CMD ["node", "docker/healthcheck.mjs"]
# node itself, not npm or tsx's CLI, so that SIGTERM reaches the process that drains.
CMD ["node", "--import", "tsx", "api/main.ts"]
