# One image with the four Tessera executables; compose.yaml picks the command per service.
# scripts/check-deployment (run by .ci/run) checks this file without a Docker engine: the base image's Swift against
# the swift-tools-version of the package and of every resolved dependency, every shared library the binaries need
# against what the runtime stage installs or copies, and compose.yaml.
#
# Build stage: the Swift toolchain the package is developed with (swift-tools-version 6.2 is needed by hummingbird,
# swift-log, swift-metrics, swift-service-lifecycle, ...; 6.3.1 is the version Tessera is built and tested with).
ARG SWIFT_IMAGE=swift:6.3.1-bookworm
FROM ${SWIFT_IMAGE} AS build
# libdcmtk-dev: DCMTK 3.6.7; libssl-dev: libcrypto (MD5 of received datasets); libjpeg/libpng/OpenJPEG: image codecs; librdkafka-dev: the rdkafka.h header only (the
# library linked is 2.16, installed by scripts/install-librdkafka from the confluent-kafka wheel, as on the build
# machines: Debian's 2.0.2 is too old); python3-venv: for that installation.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libdcmtk-dev libssl-dev libjpeg-dev libpng-dev libopenjp2-7-dev librdkafka-dev zlib1g-dev python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-librdkafka scripts/install-librdkafka
RUN scripts/install-librdkafka
COPY Package.swift ./
COPY Shared Shared
COPY services services
COPY Tests Tests
# Versions come from Package.swift's exact pins (Package.resolved is not kept in git). The Swift runtime is linked
# statically; the C libraries stay shared and are installed (or copied) by the runtime stage.
RUN for product in tessera-gateway tessera-indexer tessera-api tessera-worker; do \
      swift build -c release --static-swift-stdlib --product "$product" || exit 1; \
    done \
    && mkdir /out && cp .build/release/tessera-gateway .build/release/tessera-indexer .build/release/tessera-api \
       .build/release/tessera-worker /out/

FROM debian:bookworm-slim
# What the binaries load (readelf NEEDED, checked by scripts/check-deployment): libdcmtk17 (DCMTK, with its DICOM
# dictionary in /usr/share/libdcmtk17), libjpeg62-turbo, libpng16-16, libopenjp2-7, zlib1g, libssl3 (libcrypto: the
# MD5 of received datasets), libstdc++6, libgcc-s1, libc6; librdkafka 2.16 is the very file the build stage linked,
# copied below. curl: the compose health checks.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libdcmtk17 libjpeg62-turbo libpng16-16 libopenjp2-7 zlib1g libssl3 libstdc++6 libgcc-s1 libc6 curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/lib/x86_64-linux-gnu/librdkafka-*.so.1 /usr/local/lib/x86_64-linux-gnu/
RUN ldconfig \
    && useradd --system --uid 10001 --home /var/lib/tessera tessera && mkdir -p /var/lib/tessera/storage \
    && chown -R tessera /var/lib/tessera
COPY --from=build /out/ /usr/local/bin/
# TCP_NODELAY: DCMTK leaves Nagle's algorithm on without it (a ~40 ms stall per C-STORE answer).
ENV TESSERA_STORAGE_DIR=/var/lib/tessera/storage \
    TCP_NODELAY=1
USER tessera
WORKDIR /var/lib/tessera
