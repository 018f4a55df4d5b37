# pullgate's own image. It must pass pullgate's own rules: a numeric non-root USER, no secrets in ENV or in
# build args (there are none), and a base image pinned by tag and digest so a moved tag cannot change it.
# The digest is node:20-bookworm-slim's multi-platform index; bump it deliberately.
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 compiles its native addon here; the runtime stage gets only the result.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    PULLGATE_LISTEN=0.0.0.0:5000 \
    PULLGATE_DATA_DIR=/var/lib/pullgate \
    PULLGATE_POLICY_DIR=/app/policies
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY policies ./policies
RUN mkdir -p /var/lib/pullgate && chown 10001:10001 /var/lib/pullgate
USER 10001:10001
EXPOSE 5000
VOLUME ["/var/lib/pullgate"]
# Asks /healthz on the port PULLGATE_LISTEN names (a wildcard host is reached on loopback), so a changed port
# does not mark a healthy container unhealthy.
HEALTHCHECK --interval=30s --timeout=3s CMD ["node", "-e", "const l = process.env.PULLGATE_LISTEN || '0.0.0.0:5000'; const i = l.lastIndexOf(':'); let h = l.slice(0, i); if (h === '0.0.0.0' || h === '') h = '127.0.0.1'; if (h === '[::]') h = '[::1]'; fetch('http://' + h + ':' + l.slice(i + 1) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "dist/cli.js"]
CMD ["serve"]
