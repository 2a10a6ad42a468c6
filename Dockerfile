# A minimal image holding only the statically linked ignition-krm: no shell, no libc, nothing else.
# Build the binary first (the image does not compile anything):
#   scripts/build-static.sh
#   docker build -t registry.example.com/ignition-krm:0.3.5 .
#
# - kpt `image:` functions: the entrypoint is the KRM function (ResourceList on stdin). kpt runs
#   containers with `--user nobody`, resolved from this image's /etc/passwd.
# - Argo CD config management plugin sidecar: the pod's `command` runs argocd-cmp-server (a static
#   Go binary Argo CD copies into /var/run/argocd), which runs `ignition-krm argocd-generate` from
#   PATH; Argo CD runs the sidecar as UID 999 (`argocd` here).
FROM scratch
COPY deploy/image/passwd /etc/passwd
COPY deploy/image/group /etc/group
COPY target/x86_64-unknown-linux-gnu/release/ignition-krm /usr/local/bin/ignition-krm
ENV PATH=/usr/local/bin
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ignition-krm"]
