ARG NODE_VERSION=20
FROM node:${NODE_VERSION}-bookworm AS deps
ARG NPM_TOKEN
WORKDIR /app
COPY package.json package-lock.json ./
RUN echo "registry token in use" && npm ci --omit=dev --userconfig /dev/null --//registry.npmjs.org/:_authToken=$NPM_TOKEN

FROM deps AS runtime
COPY . .
ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "server.js"]
