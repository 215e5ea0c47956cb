import Model

/// One step of the index schema; applied once, in version order, inside a transaction.
public struct SchemaMigration: Sendable {
    public let version: Int
    public let statements: [String]

    /// Every migration, oldest first. Append new ones; never edit one that has shipped.
    public static let all: [SchemaMigration] = [
        SchemaMigration(version: 1, statements: [
            """
            CREATE TABLE patients (
                pk BIGSERIAL PRIMARY KEY,
                public_id TEXT NOT NULL UNIQUE,
                patient_id TEXT NOT NULL,
                main_tags JSONB NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                last_update TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE studies (
                pk BIGSERIAL PRIMARY KEY,
                public_id TEXT NOT NULL UNIQUE,
                patient_pk BIGINT NOT NULL REFERENCES patients (pk) ON DELETE CASCADE,
                study_instance_uid TEXT NOT NULL,
                main_tags JSONB NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                last_update TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX studies_patient_pk ON studies (patient_pk)",
            "CREATE INDEX studies_study_instance_uid ON studies (study_instance_uid)",
            """
            CREATE TABLE series (
                pk BIGSERIAL PRIMARY KEY,
                public_id TEXT NOT NULL UNIQUE,
                study_pk BIGINT NOT NULL REFERENCES studies (pk) ON DELETE CASCADE,
                series_instance_uid TEXT NOT NULL,
                main_tags JSONB NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                last_update TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX series_study_pk ON series (study_pk)",
            """
            CREATE TABLE instances (
                pk BIGSERIAL PRIMARY KEY,
                public_id TEXT NOT NULL UNIQUE,
                series_pk BIGINT NOT NULL REFERENCES series (pk) ON DELETE CASCADE,
                sop_instance_uid TEXT NOT NULL,
                main_tags JSONB NOT NULL,
                file_uuid TEXT NOT NULL,
                file_size BIGINT NOT NULL,
                index_in_series INTEGER,
                sop_class_uid TEXT,
                transfer_syntax_uid TEXT,
                origin TEXT NOT NULL,
                remote_aet TEXT,
                called_aet TEXT,
                remote_ip TEXT,
                reception_date TIMESTAMPTZ NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX instances_series_pk ON instances (series_pk)",
            "CREATE INDEX instances_sop_instance_uid ON instances (sop_instance_uid)",
        ]),
        SchemaMigration(version: 2, statements: [
            // Orthanc's change log. `seq` is allocated under a transaction-level advisory lock taken just before
            // the rows are inserted, so sequence order is commit order and `?since` never skips a late commit.
            """
            CREATE TABLE changes (
                seq BIGSERIAL PRIMARY KEY,
                change_type SMALLINT NOT NULL,
                resource_level SMALLINT NOT NULL,
                public_id TEXT NOT NULL,
                changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            "CREATE INDEX changes_public_id ON changes (public_id)",
            // Stable resources (StableAge), shared by every replica: a sweep flips is_stable once per quiet period.
            "ALTER TABLE patients ADD COLUMN is_stable BOOLEAN NOT NULL DEFAULT false",
            "ALTER TABLE studies ADD COLUMN is_stable BOOLEAN NOT NULL DEFAULT false",
            "ALTER TABLE series ADD COLUMN is_stable BOOLEAN NOT NULL DEFAULT false",
            "CREATE INDEX patients_unstable ON patients (last_update) WHERE NOT is_stable",
            "CREATE INDEX studies_unstable ON studies (last_update) WHERE NOT is_stable",
            "CREATE INDEX series_unstable ON series (last_update) WHERE NOT is_stable",
            "ALTER TABLE series ADD COLUMN expected_instances INTEGER",
            "ALTER TABLE instances ADD COLUMN http_username TEXT",
        ]),
        SchemaMigration(version: 3, statements: [
            // /tools/find runs in PostgreSQL: expression indexes on the upper-cased text of the tags people search
            // (exact, case-insensitive and LIKE prefix/infix matches through pg_trgm), B-trees on dates and UIDs.
            "CREATE EXTENSION IF NOT EXISTS pg_trgm",
            // As Orthanc, a study keeps the patient tags of its own files: finds at study level and below match
            // them, and the study shows them as PatientMainDicomTags (patients sharing an ID may differ in name).
            "ALTER TABLE studies ADD COLUMN patient_tags JSONB",
            "UPDATE studies s SET patient_tags = p.main_tags FROM patients p WHERE p.pk = s.patient_pk",
        ] + FindIndex.all.flatMap(\.statements) + [
            "CREATE INDEX patients_patient_id ON patients (patient_id)",
            "CREATE INDEX series_series_instance_uid ON series (series_instance_uid)",
            "CREATE INDEX instances_file_uuid ON instances (file_uuid)",
            // Labels (Orthanc 1.12), one table per level so that deleting a resource drops its labels.
        ] + ResourceLevel.allCases.flatMap { level -> [String] in
            let table = LevelTable.of(level).table
            return [
                """
                CREATE TABLE \(table)_labels (
                    resource_pk BIGINT NOT NULL REFERENCES \(table) (pk) ON DELETE CASCADE,
                    label TEXT NOT NULL,
                    PRIMARY KEY (resource_pk, label))
                """,
                "CREATE INDEX \(table)_labels_label ON \(table)_labels (label)",
                // User metadata (codes 1024-65535) and user attachments, written through the REST API.
                """
                CREATE TABLE \(table)_metadata (
                    resource_pk BIGINT NOT NULL REFERENCES \(table) (pk) ON DELETE CASCADE,
                    code INTEGER NOT NULL,
                    value TEXT NOT NULL,
                    seq BIGSERIAL,
                    PRIMARY KEY (resource_pk, code))
                """,
                """
                CREATE TABLE \(table)_attachments (
                    resource_pk BIGINT NOT NULL REFERENCES \(table) (pk) ON DELETE CASCADE,
                    content_type INTEGER NOT NULL,
                    uuid TEXT NOT NULL,
                    uncompressed_size BIGINT NOT NULL,
                    uncompressed_md5 TEXT NOT NULL,
                    compressed_size BIGINT NOT NULL,
                    compressed_md5 TEXT NOT NULL,
                    is_compressed BOOLEAN NOT NULL,
                    seq BIGSERIAL,
                    PRIMARY KEY (resource_pk, content_type))
                """,
            ]
        } + [
            // Blobs of deleted instances, removed from storage after the deleting transaction commits. A row
            // outlives a crash between commit and removal, so any replica finishes the job later.
            """
            CREATE TABLE pending_blob_deletions (
                file_uuid TEXT PRIMARY KEY,
                enqueued_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
            // Orthanc's export log (LogExportedResources), written by the jobs that send to modalities and peers.
            """
            CREATE TABLE exports (
                seq BIGSERIAL PRIMARY KEY,
                resource_level SMALLINT NOT NULL,
                public_id TEXT NOT NULL,
                remote_modality TEXT NOT NULL,
                patient_id TEXT NOT NULL,
                study_instance_uid TEXT,
                series_instance_uid TEXT,
                sop_instance_uid TEXT,
                exported_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
        ]),
        SchemaMigration(version: 4, statements: [
            // Safe ingest. The MD5 of every DICOM file, stored at ingest as Orthanc does (null for instances indexed
            // before; the reconciler fills them in), and the ingest order of the blob an instance points to (the
            // millisecond its version-7 blob ID carries; 0 for older blobs), compared when events replay.
            "ALTER TABLE instances ADD COLUMN file_md5 TEXT",
            "ALTER TABLE instances ADD COLUMN ingest_ms BIGINT NOT NULL DEFAULT 0",
            // A deleted instance leaves a tombstone for the blob it pointed to and its ingest order: an event for that
            // blob, or for any copy ingested no later, is a replay and must not bring the instance back. Kept at least
            // as long as the broker retains events.
            """
            CREATE TABLE instance_tombstones (
                public_id TEXT NOT NULL,
                file_uuid TEXT NOT NULL,
                ingest_ms BIGINT NOT NULL,
                deleted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                PRIMARY KEY (public_id, file_uuid))
            """,
            "CREATE INDEX instance_tombstones_file_uuid ON instance_tombstones (file_uuid)",
            "CREATE INDEX instance_tombstones_deleted_at ON instance_tombstones (deleted_at)",
            // Events that cannot be indexed (undecodable, unknown version, a blob that is missing, a value the index
            // refuses) and blobs the reconciler could not index: kept with their reason, never blocking a partition.
            """
            CREATE TABLE dead_letters (
                id BIGSERIAL PRIMARY KEY,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                source TEXT NOT NULL,
                reason TEXT NOT NULL,
                details TEXT,
                topic TEXT,
                kafka_partition INTEGER,
                kafka_offset BIGINT,
                file_uuid TEXT,
                instance_public_id TEXT,
                payload BYTEA,
                dedup_key TEXT NOT NULL UNIQUE)
            """,
            "CREATE INDEX dead_letters_file_uuid ON dead_letters (file_uuid)",
            // The reconciler looks blobs up among every table that references one.
        ] + ResourceLevel.allCases.map { level in
            "CREATE INDEX \(LevelTable.of(level).table)_attachments_uuid ON \(LevelTable.of(level).table)_attachments (uuid)"
        } + [
            // One row: when the last reconciler scan that completed had started, so the next one only opens folders
            // changed since (minus the grace period).
            """
            CREATE TABLE reconciler_state (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                last_scan_started TIMESTAMPTZ,
                last_full_scan TIMESTAMPTZ)
            """,
            "INSERT INTO reconciler_state (id) VALUES (1)",
            // A queued removal may wait: an attachment's blob is queued before it is written, to be removed unless
            // the attachment's row claims it first (a failed or interrupted PUT leaves no orphan for the reconciler).
            "ALTER TABLE pending_blob_deletions ADD COLUMN not_before TIMESTAMPTZ NOT NULL DEFAULT now()",
            // User metadata keeps the exact bytes a client PUT (Orthanc returns them unchanged, NUL and invalid UTF-8
            // included), which a text column cannot hold.
        ] + ResourceLevel.allCases.map { level in
            "ALTER TABLE \(LevelTable.of(level).table)_metadata ALTER COLUMN value TYPE BYTEA USING convert_to(value, 'UTF8')"
        }),
        SchemaMigration(version: 5, statements: [
            // The cluster-wide jobs registry (Orthanc keeps one per process). `request` says what to do and never
            // changes; `cursor` is where a worker got to, written after every completed step, so another replica
            // resumes a job whose worker died (its lease expired) from there. `control` carries a pause or cancel
            // asked while the job runs. Hidden jobs carry the outbound calls Orthanc does not list as jobs (C-ECHO).
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY,
                seq BIGSERIAL,
                job_type TEXT NOT NULL,
                priority INTEGER NOT NULL DEFAULT 0,
                state TEXT NOT NULL,
                hidden BOOLEAN NOT NULL DEFAULT false,
                request JSONB NOT NULL,
                cursor JSONB NOT NULL DEFAULT '{}',
                content JSONB NOT NULL DEFAULT '{}',
                progress INTEGER NOT NULL DEFAULT 0,
                error_code INTEGER NOT NULL DEFAULT 0,
                error_description TEXT NOT NULL DEFAULT 'Success',
                error_details TEXT,
                user_data JSONB,
                control TEXT,
                lease_owner TEXT,
                lease_expires TIMESTAMPTZ,
                run_started TIMESTAMPTZ,
                runtime_ms BIGINT NOT NULL DEFAULT 0,
                attempts INTEGER NOT NULL DEFAULT 0,
                created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
                completed_at TIMESTAMPTZ,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())
            """,
            "CREATE INDEX jobs_runnable ON jobs (priority DESC, seq) WHERE state IN ('Pending', 'Running', 'Retry')",
            "CREATE INDEX jobs_finished ON jobs (completed_at) WHERE state IN ('Success', 'Failure')",
            // Modalities declared through the REST API (PUT /modalities/{id}), seen by every replica. A row whose
            // configuration is null hides a modality of the configuration file (DELETE of a configured one).
            """
            CREATE TABLE modalities (
                name TEXT PRIMARY KEY,
                configuration JSONB,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
        ]),
        SchemaMigration(version: 6, statements: [
            // Orthanc peers declared through the REST API (PUT /peers/{id}), as the modalities table.
            """
            CREATE TABLE peers (
                name TEXT PRIMARY KEY,
                configuration JSONB,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
            // Live job workers: each refreshes its row every few seconds, so that a synchronous call can tell "waiting
            // for a free worker" from "no worker is running".
            """
            CREATE TABLE job_workers (
                owner TEXT PRIMARY KEY,
                concurrency INTEGER NOT NULL,
                seen_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())
            """,
            // The C-FIND queries made through /modalities/{id}/query and their answers (each a DICOM file), so that
            // every API replica answers /queries/{id}; the oldest go past QueryRetrieveSize.
            """
            CREATE TABLE queries (
                id TEXT PRIMARY KEY,
                seq BIGSERIAL,
                modality TEXT NOT NULL,
                remote JSONB NOT NULL,
                local_aet TEXT NOT NULL,
                timeout INTEGER NOT NULL,
                level TEXT NOT NULL,
                query JSONB NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
            """
            CREATE TABLE query_answers (
                query_id TEXT NOT NULL REFERENCES queries (id) ON DELETE CASCADE,
                position INTEGER NOT NULL,
                dataset BYTEA NOT NULL,
                PRIMARY KEY (query_id, position))
            """,
        ]),
        SchemaMigration(version: 7, statements: [
            // Datashares of the edge receiver declared through the REST API (PUT /datashares/{id}), as the modalities.
            """
            CREATE TABLE datashares (
                name TEXT PRIMARY KEY,
                configuration JSONB,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
            // Settings of the DICOM server changed through the REST API (PUT /tools/accepted-transfer-syntaxes,
            // /tools/unknown-sop-class-accepted): every gateway replica applies them to its new associations.
            """
            CREATE TABLE scp_settings (
                name TEXT PRIMARY KEY,
                value JSONB NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
        ]),
        SchemaMigration(version: 8, statements: [
            // The N of the "Anonymized<N>" patient names anonymizations give, shared by every API replica.
            "CREATE SEQUENCE anonymization_sequence",
        ]),
        SchemaMigration(version: 9, statements: [
            // Orthanc's log verbosity set through the REST API (PUT /tools/log-level, /tools/log-level-<category>): every
            // process of the cluster applies it (the empty category is the overall level).
            """
            CREATE TABLE log_levels (
                category TEXT PRIMARY KEY,
                verbosity TEXT NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """,
        ]),
        // Orthanc's revisions of metadata entries and attachments (ETag "<revision>-<md5>", If-Match): 0 when written
        // first, +1 on each replacement.
        SchemaMigration(version: 10, statements: ResourceLevel.allCases.flatMap { level in
            ["metadata", "attachments"].map { kind in
                "ALTER TABLE \(LevelTable.of(level).table)_\(kind) ADD COLUMN revision BIGINT NOT NULL DEFAULT 0"
            }
        }),
        SchemaMigration(version: 11, statements: [
            // Orthanc's PatientRecyclingOrder: a patient's place in the order patients are recycled in when
            // MaximumPatientCount or MaximumStorageSize is reached (smallest first); a new instance of the patient
            // moves it last; NULL marks a protected patient (PUT /patients/{id}/protected), never recycled.
            "CREATE SEQUENCE patient_recycling_order",
            "ALTER TABLE patients ADD COLUMN recycling_seq BIGINT DEFAULT nextval('patient_recycling_order')",
            "CREATE INDEX patients_recycling ON patients (recycling_seq) WHERE recycling_seq IS NOT NULL",
        ]),
    ]
}
