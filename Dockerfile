# One image for the API, the worker and migrations; the command picks the role.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY worker ./worker
COPY api ./api
COPY migrations ./migrations
COPY scripts ./scripts
COPY tsconfig.json ./
# The dialog workflows bundled once, here, instead of by every worker as it starts (about 2.5 s each).
RUN npm run build:workflows -- /app/dist/workflow-bundle.js
ENV WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
