FROM alpine:3.20
RUN apk add --no-cache tini \
 && chmod u+s /sbin/tini
COPY --chmod=4755 tool /usr/local/bin/tool
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["tool"]
