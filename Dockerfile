# leastpriv's own image: the static binary alone, FROM scratch, run as a non-root user.
#
# Nothing is pulled (the engines leastpriv is tested on have no registry): the binary is built on the
# host, where `cargo build --release` makes it static, and copied in. From the repository root:
#   cp "target/$(rustc --print host-tuple)/release/leastpriv" . && docker build -t leastpriv .
#   docker run --rm -v "$PWD:/src:ro" leastpriv audit .
# `.dockerignore` sends only that binary to the builder.
FROM scratch
COPY leastpriv /usr/local/bin/leastpriv
USER 65532:65532
WORKDIR /src
ENTRYPOINT ["/usr/local/bin/leastpriv"]
CMD ["audit", "."]
