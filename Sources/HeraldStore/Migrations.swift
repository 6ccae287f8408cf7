import GRDB

/// Herald's schema. Shipped migrations are never edited; changes come as new migrations.
enum Migrations {
    /// Migrations whose absence does not change what a read sees, so a store without them can
    /// be read as it is (a read never migrates). v2 only widened a CHECK constraint.
    /// v3, v6 and v7 added columns, v4 and v5 tables, that reads check for before using; v8
    /// widened CHECK constraints and added columns that reads take as empty when missing; v9
    /// added the drafts table, which reads check for; v10 the ids of the campaigns End nodes start,
    /// which reads take from the nodes' names when missing; v11 a column of drafts that reads take as empty;
    /// v12 the message ledger's columns, which the ledger's reads check for (a store without them
    /// has sent nothing through Herald); v13 the claims table, which the ledger's reads check for
    /// (without it, a claim is the message's own `claimed` status).
    static let readCompatible: Set<String> = [
        "v2: stopped nodes", "v3: archived campaigns", "v4: schedules", "v5: schedule launches", "v6: input ports",
        "v7: versioned settings", "v8: waiting runs", "v9: drafts", "v10: start targets", "v11: kept forms", "v12: message ledger",
        "v13: claims",
    ]

    /// Herald's tables as `CREATE TEMP` statements, in creation order: lets a read-only
    /// connection treat a plain SQLite file as an empty store without writing to it.
    static func temporarySchema() throws -> [String] {
        let memory = try DatabaseQueue()
        try migrator.migrate(memory)
        return try memory.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT sql FROM sqlite_master
                    WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations' ORDER BY rowid
                    """)
        }.map { statement in
            statement.hasPrefix("CREATE TABLE ") ? "CREATE TEMP TABLE " + statement.dropFirst("CREATE TABLE ".count) : statement
        }
    }

    /// Each migration's identifier and body, in order. GRDB's migrator is built from them for
    /// what it reads (which are applied, whether the store is newer), and ``apply(_:)`` runs
    /// the missing ones all in one transaction.
    static let steps: [(identifier: String, body: @Sendable (Database) throws -> Void)] = [
        (
            "v1: herald tables",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE herald_meta (
                            key TEXT PRIMARY KEY NOT NULL,
                            value TEXT NOT NULL
                        );
                        CREATE TABLE herald_catalog_overrides (
                            entity TEXT NOT NULL,
                            kind TEXT NOT NULL CHECK (kind IN ('entity_label', 'label', 'hidden', 'ref', 'link_name', 'profile', 'channel')),
                            name TEXT NOT NULL DEFAULT '',
                            value TEXT NOT NULL,
                            PRIMARY KEY (entity, kind, name)
                        );
                        CREATE TABLE herald_campaigns (
                            id INTEGER PRIMARY KEY,
                            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                            description TEXT NOT NULL DEFAULT '',
                            time_zone TEXT NOT NULL DEFAULT 'UTC',
                            variables TEXT NOT NULL DEFAULT '{}',
                            current_version INTEGER NOT NULL DEFAULT 1,
                            created_at TEXT NOT NULL,
                            updated_at TEXT NOT NULL
                        );
                        CREATE TABLE herald_campaign_versions (
                            campaign_id INTEGER NOT NULL REFERENCES herald_campaigns(id) ON DELETE CASCADE,
                            version INTEGER NOT NULL,
                            created_at TEXT NOT NULL,
                            PRIMARY KEY (campaign_id, version)
                        );
                        CREATE TABLE herald_nodes (
                            campaign_id INTEGER NOT NULL,
                            version INTEGER NOT NULL,
                            node_id TEXT NOT NULL,
                            position INTEGER NOT NULL,
                            kind TEXT NOT NULL,
                            label TEXT NOT NULL,
                            config TEXT NOT NULL,
                            PRIMARY KEY (campaign_id, version, node_id),
                            FOREIGN KEY (campaign_id, version) REFERENCES herald_campaign_versions(campaign_id, version) ON DELETE CASCADE
                        );
                        CREATE TABLE herald_edges (
                            campaign_id INTEGER NOT NULL,
                            version INTEGER NOT NULL,
                            position INTEGER NOT NULL,
                            from_node TEXT NOT NULL,
                            from_port TEXT NOT NULL,
                            to_node TEXT NOT NULL,
                            PRIMARY KEY (campaign_id, version, position),
                            FOREIGN KEY (campaign_id, version) REFERENCES herald_campaign_versions(campaign_id, version) ON DELETE CASCADE
                        );
                        CREATE TABLE herald_audiences (
                            id INTEGER PRIMARY KEY,
                            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
                            entity TEXT NOT NULL,
                            rule TEXT NOT NULL,
                            kind TEXT NOT NULL CHECK (kind IN ('live', 'snapshot')),
                            description TEXT NOT NULL DEFAULT '',
                            member_count INTEGER,
                            created_at TEXT NOT NULL,
                            refreshed_at TEXT
                        );
                        CREATE TABLE herald_audience_members (
                            audience_id INTEGER NOT NULL REFERENCES herald_audiences(id) ON DELETE CASCADE,
                            member_key NOT NULL,
                            PRIMARY KEY (audience_id, member_key)
                        ) WITHOUT ROWID;
                        CREATE TABLE herald_runs (
                            id INTEGER PRIMARY KEY,
                            campaign_id INTEGER NOT NULL REFERENCES herald_campaigns(id) ON DELETE CASCADE,
                            version INTEGER NOT NULL,
                            mode TEXT NOT NULL CHECK (mode IN ('dry', 'live')),
                            state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'completed', 'failed', 'stopped')),
                            started_at TEXT NOT NULL,
                            finished_at TEXT,
                            error TEXT,
                            lease_owner TEXT,
                            lease_expires_at TEXT
                        );
                        CREATE INDEX herald_runs_campaign ON herald_runs(campaign_id, id);
                        CREATE TABLE herald_run_nodes (
                            run_id INTEGER NOT NULL REFERENCES herald_runs(id) ON DELETE CASCADE,
                            node_id TEXT NOT NULL,
                            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'skipped')),
                            input_count INTEGER,
                            started_at TEXT,
                            finished_at TEXT,
                            duration_ms INTEGER,
                            detail TEXT,
                            error TEXT,
                            PRIMARY KEY (run_id, node_id)
                        ) WITHOUT ROWID;
                        CREATE TABLE herald_run_edges (
                            run_id INTEGER NOT NULL REFERENCES herald_runs(id) ON DELETE CASCADE,
                            from_node TEXT NOT NULL,
                            port TEXT NOT NULL,
                            to_node TEXT,
                            work_table TEXT,
                            row_count INTEGER,
                            PRIMARY KEY (run_id, from_node, port)
                        ) WITHOUT ROWID;
                        CREATE TABLE herald_run_logs (
                            id INTEGER PRIMARY KEY,
                            run_id INTEGER NOT NULL REFERENCES herald_runs(id) ON DELETE CASCADE,
                            node_id TEXT,
                            at TEXT NOT NULL,
                            level TEXT NOT NULL,
                            message TEXT NOT NULL
                        );
                        CREATE INDEX herald_run_logs_run ON herald_run_logs(run_id, id);
                        CREATE TABLE herald_messages (
                            id INTEGER PRIMARY KEY,
                            run_id INTEGER REFERENCES herald_runs(id) ON DELETE SET NULL,
                            campaign_id INTEGER,
                            node_id TEXT,
                            profile_key NOT NULL,
                            entity_key,
                            channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'directMail')),
                            address TEXT,
                            status TEXT NOT NULL CHECK (status IN ('pending', 'claimed', 'sent', 'delivered', 'failed', 'excluded', 'unknown')),
                            reason TEXT,
                            attempts INTEGER NOT NULL DEFAULT 0,
                            provider_id TEXT,
                            created_at TEXT NOT NULL,
                            updated_at TEXT NOT NULL
                        );
                        CREATE INDEX herald_messages_profile ON herald_messages(profile_key, channel, created_at);
                        CREATE INDEX herald_messages_run ON herald_messages(run_id, node_id, status);
                        CREATE TABLE herald_consent (
                            profile_key NOT NULL,
                            channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'directMail')),
                            status TEXT NOT NULL CHECK (status IN ('opted_in', 'opted_out', 'unknown')),
                            source TEXT NOT NULL DEFAULT '',
                            updated_at TEXT NOT NULL,
                            PRIMARY KEY (profile_key, channel)
                        ) WITHOUT ROWID;
                        CREATE TABLE herald_suppressions (
                            channel TEXT NOT NULL,
                            address TEXT NOT NULL,
                            reason TEXT NOT NULL DEFAULT '',
                            created_at TEXT NOT NULL,
                            PRIMARY KEY (channel, address)
                        ) WITHOUT ROWID;
                        """)
            }
        ),
        // A node whose statement was stopped mid-way by the user is `stopped`, like its run.
        // SQLite cannot change a CHECK constraint in place: the table is rebuilt.
        (
            "v2: stopped nodes",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE herald_run_nodes_v2 (
                            run_id INTEGER NOT NULL REFERENCES herald_runs(id) ON DELETE CASCADE,
                            node_id TEXT NOT NULL,
                            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'completed', 'failed', 'skipped', 'stopped')),
                            input_count INTEGER,
                            started_at TEXT,
                            finished_at TEXT,
                            duration_ms INTEGER,
                            detail TEXT,
                            error TEXT,
                            PRIMARY KEY (run_id, node_id)
                        ) WITHOUT ROWID;
                        INSERT INTO herald_run_nodes_v2 SELECT run_id, node_id, state, input_count, started_at, finished_at, duration_ms, detail, error
                            FROM herald_run_nodes;
                        DROP TABLE herald_run_nodes;
                        ALTER TABLE herald_run_nodes_v2 RENAME TO herald_run_nodes;
                        """)
            }
        ),
        // An archived campaign is kept with its versions and runs but left out of lists and runs.
        (
            "v3: archived campaigns",
            { db in
                try db.execute(sql: "ALTER TABLE herald_campaigns ADD COLUMN archived_at TEXT")
            }
        ),
        // One schedule per campaign, in its canonical text; instants are canonical UTC text.
        (
            "v4: schedules",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE herald_schedules (
                            campaign_id INTEGER PRIMARY KEY REFERENCES herald_campaigns(id) ON DELETE CASCADE,
                            expression TEXT NOT NULL,
                            time_zone TEXT NOT NULL,
                            valid_from TEXT,
                            valid_until TEXT,
                            updated_at TEXT NOT NULL
                        )
                        """)
            }
        ),
        // Which occurrence of a schedule was launched, once: the primary key is the claim two
        // schedulers race for.
        (
            "v5: schedule launches",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE herald_schedule_launches (
                            campaign_id INTEGER NOT NULL REFERENCES herald_campaigns(id) ON DELETE CASCADE,
                            occurrence TEXT NOT NULL,
                            run_id INTEGER REFERENCES herald_runs(id) ON DELETE SET NULL,
                            launched_at TEXT NOT NULL,
                            PRIMARY KEY (campaign_id, occurrence)
                        )
                        """)
            }
        ),
        // Edges reach a named input port (Combine has two); every earlier edge reached `in`.
        (
            "v6: input ports",
            { db in
                try db.execute(sql: "ALTER TABLE herald_edges ADD COLUMN to_port TEXT NOT NULL DEFAULT 'in'")
            }
        ),
        // A version keeps the time zone and variables it was saved with, so a run of it (or its
        // resume) never sees later edits.
        (
            "v7: versioned settings",
            { db in
                try db.execute(sql: "ALTER TABLE herald_campaign_versions ADD COLUMN time_zone TEXT")
                try db.execute(sql: "ALTER TABLE herald_campaign_versions ADD COLUMN variables TEXT")
            }
        ),
        // Runs can be pending (created by another campaign's End node, for the scheduler to
        // start) and waiting (a Wait node holds a branch until `wake_at`); log lines carry a
        // code and figures. The run tables are rebuilt for their CHECK constraints, following
        // SQLite's procedure (foreign keys are off during migrations and checked at the end).
        (
            "v8: waiting runs",
            { db in
                try db.execute(
                    sql: """
                        CREATE TABLE herald_runs_v8 (
                            id INTEGER PRIMARY KEY,
                            campaign_id INTEGER NOT NULL REFERENCES herald_campaigns(id) ON DELETE CASCADE,
                            version INTEGER NOT NULL,
                            mode TEXT NOT NULL CHECK (mode IN ('dry', 'live')),
                            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'waiting', 'paused', 'completed', 'failed', 'stopped')),
                            started_at TEXT NOT NULL,
                            finished_at TEXT,
                            error TEXT,
                            lease_owner TEXT,
                            lease_expires_at TEXT,
                            wake_at TEXT,
                            started_by TEXT
                        );
                        INSERT INTO herald_runs_v8 (id, campaign_id, version, mode, state, started_at, finished_at, error, lease_owner, lease_expires_at)
                            SELECT id, campaign_id, version, mode, state, started_at, finished_at, error, lease_owner, lease_expires_at FROM herald_runs;
                        DROP TABLE herald_runs;
                        ALTER TABLE herald_runs_v8 RENAME TO herald_runs;
                        CREATE INDEX herald_runs_campaign ON herald_runs(campaign_id, id);
                        CREATE INDEX herald_runs_due ON herald_runs(state, wake_at) WHERE state IN ('pending', 'waiting');
                        CREATE TABLE herald_run_nodes_v8 (
                            run_id INTEGER NOT NULL REFERENCES herald_runs(id) ON DELETE CASCADE,
                            node_id TEXT NOT NULL,
                            state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'waiting', 'completed', 'failed', 'skipped', 'stopped')),
                            input_count INTEGER,
                            started_at TEXT,
                            finished_at TEXT,
                            duration_ms INTEGER,
                            detail TEXT,
                            error TEXT,
                            wake_at TEXT,
                            PRIMARY KEY (run_id, node_id)
                        ) WITHOUT ROWID;
                        INSERT INTO herald_run_nodes_v8 (run_id, node_id, state, input_count, started_at, finished_at, duration_ms, detail, error)
                            SELECT run_id, node_id, state, input_count, started_at, finished_at, duration_ms, detail, error FROM herald_run_nodes;
                        DROP TABLE herald_run_nodes;
                        ALTER TABLE herald_run_nodes_v8 RENAME TO herald_run_nodes;
                        ALTER TABLE herald_run_logs ADD COLUMN code TEXT;
                        ALTER TABLE herald_run_logs ADD COLUMN figures TEXT;
                        """)
            }
        ),
        (
            "v9: drafts",
            { db in
                // The designer's unsaved edits, kept after every change so a crash or a dropped
                // connection loses nothing. A draft of a campaign not yet saved has no campaign_id.
                try db.execute(
                    sql: """
                        CREATE TABLE herald_drafts (
                            key TEXT PRIMARY KEY,
                            campaign_id INTEGER UNIQUE REFERENCES herald_campaigns(id) ON DELETE CASCADE,
                            base_version INTEGER,
                            name TEXT NOT NULL,
                            document TEXT NOT NULL,
                            updated_at TEXT NOT NULL
                        )
                        """)
            }
        ),
        (
            "v10: start targets",
            { db in
                // The campaign an End node starts, by id: renaming it keeps the link, deleting it
                // is refused while a current version starts it (older versions then start nothing,
                // and a run that reaches such a node fails closed).
                try db.execute(
                    sql: """
                        CREATE TABLE herald_start_targets (
                            campaign_id INTEGER NOT NULL,
                            version INTEGER NOT NULL,
                            node_id TEXT NOT NULL,
                            target_id INTEGER REFERENCES herald_campaigns(id) ON DELETE SET NULL,
                            PRIMARY KEY (campaign_id, version, node_id),
                            FOREIGN KEY (campaign_id, version) REFERENCES herald_campaign_versions(campaign_id, version) ON DELETE CASCADE
                        );
                        CREATE INDEX herald_start_targets_target ON herald_start_targets(target_id);
                        INSERT INTO herald_start_targets (campaign_id, version, node_id, target_id)
                        SELECT n.campaign_id, n.version, n.node_id, c.id
                        FROM herald_nodes n JOIN herald_campaigns c ON c.name = json_extract(n.config, '$.start')
                        WHERE n.kind = 'end' AND json_extract(n.config, '$.start') IS NOT NULL;
                        """)
            }
        ),
        (
            "v11: kept forms",
            { db in
                // A node form open when the designer went away, with what was typed in it.
                try db.execute(sql: "ALTER TABLE herald_drafts ADD COLUMN form TEXT")
            }
        ),
        (
            "v12: message ledger",
            { db in
                // The message ledger: one row per (run, node, profile, entity), unique, so no
                // retry, resume or second executor can make a second one; the states of
                // `MessageState`; when a deferred message may go; the send window's zone and
                // whether it was the campaign's; who claimed it. Earlier rows (history from
                // elsewhere) keep their facts: pending ones are queued, delivered ones sent.
                try db.execute(
                    sql: """
                        CREATE TABLE herald_messages_v12 (
                            id INTEGER PRIMARY KEY,
                            run_id INTEGER REFERENCES herald_runs(id) ON DELETE SET NULL,
                            campaign_id INTEGER,
                            node_id TEXT,
                            profile_key NOT NULL,
                            entity_key,
                            channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push', 'directMail')),
                            category TEXT NOT NULL DEFAULT 'marketing' CHECK (category IN ('marketing', 'transactional')),
                            address TEXT,
                            status TEXT NOT NULL
                                CHECK (status IN ('queued', 'deferred', 'claimed', 'sent', 'failed', 'excluded', 'unknown')),
                            reason TEXT,
                            not_before TEXT,
                            zone TEXT,
                            zone_fallback INTEGER NOT NULL DEFAULT 0,
                            attempts INTEGER NOT NULL DEFAULT 0,
                            claim_owner TEXT,
                            claimed_at TEXT,
                            provider TEXT,
                            provider_id TEXT,
                            error TEXT,
                            created_at TEXT NOT NULL,
                            updated_at TEXT NOT NULL,
                            sent_at TEXT
                        );
                        INSERT INTO herald_messages_v12 (id, run_id, campaign_id, node_id, profile_key, entity_key, channel, address,
                            status, reason, attempts, provider_id, created_at, updated_at, sent_at)
                        SELECT id, run_id, campaign_id, node_id, profile_key, entity_key, channel, address,
                            CASE status WHEN 'pending' THEN 'queued' WHEN 'delivered' THEN 'sent' ELSE status END,
                            reason, attempts, provider_id, created_at, updated_at,
                            CASE WHEN status IN ('sent', 'delivered') THEN updated_at END
                        FROM herald_messages;
                        DROP TABLE herald_messages;
                        ALTER TABLE herald_messages_v12 RENAME TO herald_messages;
                        CREATE UNIQUE INDEX herald_messages_key
                            ON herald_messages(run_id, node_id, profile_key, ifnull(entity_key, '')) WHERE run_id IS NOT NULL;
                        CREATE INDEX herald_messages_profile ON herald_messages(profile_key, channel, created_at);
                        CREATE INDEX herald_messages_due ON herald_messages(run_id, status, not_before);
                        CREATE INDEX herald_suppressions_address ON herald_suppressions(address);
                        """)
            }
        ),
        (
            "v13: claims",
            { db in
                // A claim is a row of its own, not a rewrite of the message's: claiming a batch
                // inserts one small row per message (and recording deletes it), so a message's
                // row is written once, when its result is known. The table holds a few batches
                // at most: no index beyond its key, and no foreign key (each check would cost
                // every claim; messages are never deleted, and a run's claims are settled as
                // `unknown` before the run is purged or deleted: `abandonClaims`).
                // `claim_owner` and `claimed_at` stay in herald_messages, unused: dropping a
                // column re-checks every view in the file (a user's broken view would make
                // the upgrade fail) and rewrites every row. A message with a claim is
                // `claimed` whatever its status column says. Claims an older executor left on
                // the messages themselves move here, with the attempt they counted given back
                // (an attempt is now counted when its result is recorded).
                try db.execute(
                    sql: """
                        CREATE TABLE herald_claims (
                            message_id INTEGER PRIMARY KEY,
                            run_id INTEGER NOT NULL,
                            owner TEXT NOT NULL,
                            claimed_at TEXT NOT NULL
                        );
                        INSERT INTO herald_claims (message_id, run_id, owner, claimed_at)
                        SELECT id, run_id, ifnull(claim_owner, ''), ifnull(claimed_at, updated_at)
                        FROM herald_messages WHERE status = 'claimed' AND run_id IS NOT NULL;
                        UPDATE herald_messages SET status = 'queued', attempts = max(attempts - 1, 0)
                        WHERE status = 'claimed' AND run_id IS NOT NULL;
                        UPDATE herald_messages SET status = 'unknown' WHERE status = 'claimed';
                        """)
            }
        ),
    ]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for step in steps { migrator.registerMigration(step.identifier, migrate: step.body) }
        return migrator
    }

    /// Applies the missing migrations in one transaction: all of them, or none (a full disk
    /// half-way leaves the store as it was). Foreign keys are checked before the commit, with
    /// enforcement off meanwhile, as SQLite asks for table rebuilds.
    /// - Returns: the identifiers applied.
    @discardableResult
    static func apply(_ writer: any DatabaseWriter) throws -> [String] {
        try writer.writeWithoutTransaction { db in
            let applied = Set(
                try db.tableExists("grdb_migrations") ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : [])
            let missing = steps.filter { !applied.contains($0.identifier) }
            guard !missing.isEmpty else { return [] }
            try db.execute(sql: "PRAGMA foreign_keys = OFF")
            defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
            try db.inTransaction(.immediate) {
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
                for step in missing {
                    try step.body(db)
                    try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES (?)", arguments: [step.identifier])
                }
                try db.checkForeignKeys()
                return .commit
            }
            return missing.map(\.identifier)
        }
    }
}
