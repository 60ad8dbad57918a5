FROM debian:bookworm
ARG DEPLOY_TOKEN=glpat-planted0deploy0token0xyz
ENV DB_HOST=db \
    DB_PASSWORD=planted-db-password-4711 \
    DB_NAME=app
ENV STRIPE_SECRET_KEY=sk_live_plantedStripeKey0000000000
RUN curl -fsS -H "PRIVATE-TOKEN: $DEPLOY_TOKEN" https://gitlab.example.com/api/v4/projects/1/packages -o /tmp/pkgs.json
RUN printf 'machine example.com password %s\n' "$DEPLOY_TOKEN" > /root/.netrc
COPY .env /app/.env
COPY id_rsa /root/.ssh/id_rsa
COPY app /app/app
CMD ["/app/app"]
