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
USER node
EXPOSE 3000
CMD ["npm", "run", "api"]
