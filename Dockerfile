# syntax=docker/dockerfile:1
# abproxy gateway image: `abproxy serve` in team mode, configured by environment only
# (MASTER_API_KEY, AWS_REGION, ABPROXY_TABLE_PREFIX, ...; AWS credentials from the task role).
# Build: docker build -t abproxy .        Run: docker run -p 8080:8080 -e MASTER_API_KEY=... abproxy
ARG NODE_IMAGE=node:24-slim

# Build stage: the same install CI runs (scripts/setup.sh: npm ci, native addons from source), production
# dependencies only. The TypeScript sources run as they are when dist/js/ (built below) does not match them.
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV npm_config_build_from_source=true npm_config_nodedir=/usr/local
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin/ bin/
COPY src/ src/

# Admin page stage: the page's static files (Preact + uPlot bundled by esbuild, all dev dependencies)
# and the prebuilt CLI; only dist/admin/ and dist/js/ leave this stage.
FROM ${NODE_IMAGE} AS admin
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY admin-ui/ admin-ui/
COPY scripts/build-admin.ts scripts/
RUN node scripts/build-admin.ts
# The CLI's sources prebuilt as JavaScript (dist/js/): the gateway then strips no TypeScript at start
# (amaro, ~18 MB resident for the life of a process started with a cold compile cache, as every new
# container is). bin/abproxy.js uses it only while its manifest matches the sources beside it.
COPY src/ src/
COPY scripts/build-js.ts scripts/
RUN node scripts/build-js.ts

# Compile-cache stage: the runtime's files at the same paths, its Node and its user (Node keys the cache
# by uid) start `serve` once in each mode (scripts/warm-compile-cache.ts); the cache it leaves in
# /app/.node-compile-cache/ ships read-only, so a new container starts warm (measured as an
# unprivileged user: serve ready 356 → 266 ms median).
FROM ${NODE_IMAGE} AS compile-cache
WORKDIR /app
COPY --from=build /app /app
COPY --from=admin /app/dist/admin dist/admin
COPY --from=admin /app/dist/js dist/js
COPY scripts/warm-compile-cache.ts scripts/
RUN install -d -o node -g node .node-compile-cache
USER node
RUN node scripts/warm-compile-cache.ts

# Runtime stage: no toolchain, no npm cache, files owned by root and read-only to the service user.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
  ABPROXY_HOST=0.0.0.0 \
  ABPROXY_PORT=8080 \
  ABPROXY_HOME=/home/node/.abproxy
WORKDIR /app
COPY --from=build /app /app
COPY --from=admin /app/dist/admin dist/admin
COPY --from=admin /app/dist/js dist/js
COPY --from=compile-cache /app/.node-compile-cache .node-compile-cache
USER node
EXPOSE 8080
# slim has no curl: node itself asks /health (503 while draining, so the container turns unhealthy).
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.ABPROXY_PORT||8080)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node is PID 1 and handles SIGTERM itself: the first one drains in-flight streams (up to
# ABPROXY_DRAIN_TIMEOUT_MS), a second one exits at once. `docker run --init` adds zombie reaping; serve
# starts no child processes, so it is optional.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "bin/abproxy.js"]
CMD ["serve", "--host", "0.0.0.0", "--mode", "team"]
