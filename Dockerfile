# One image with the three Tessera executables; compose.yaml picks the command per service.
ARG SWIFT_IMAGE=swift:6.1-bookworm
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libdcmtk-dev libjpeg-dev libpng-dev libopenjp2-7-dev librdkafka-dev libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Shared Shared
COPY services services
COPY Tests Tests
RUN swift build -c release --static-swift-stdlib \
      --product tessera-gateway && swift build -c release --static-swift-stdlib --product tessera-indexer \
      && swift build -c release --static-swift-stdlib --product tessera-api \
      && mkdir /out && cp .build/release/tessera-gateway .build/release/tessera-indexer .build/release/tessera-api /out/

FROM debian:bookworm-slim
# Debian's librdkafka (2.0.2) talks to Apache Kafka; libdcmtk17 carries the DICOM dictionaries; libjpeg62-turbo and
# libopenjp2-7 write JPEG answers and decode JPEG 2000; libpng16-16 reads the PNG images of /tools/create-dicom.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libdcmtk17 libjpeg62-turbo libpng16-16 libopenjp2-7 librdkafka1 curl ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /var/lib/tessera tessera && mkdir -p /var/lib/tessera/storage \
    && chown -R tessera /var/lib/tessera
COPY --from=build /out/ /usr/local/bin/
ENV TESSERA_STORAGE_DIR=/var/lib/tessera/storage \
    TCP_NODELAY=1
USER tessera
