package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/rs/zerolog"
)

// migrations are the schema changes in order: migrations[i] takes the
// schema from version i to version i+1. Append only; never edit a released
// step.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE tenants (
	id      TEXT PRIMARY KEY,
	created INTEGER            -- Unix ns UTC
) WITHOUT ROWID;

CREATE TABLE tokens (
	tenant       TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
	id           TEXT NOT NULL,
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret
	created      INTEGER,
	expires_at   INTEGER,              -- NULL: never
	last_used_at INTEGER,              -- NULL: never used
	revoked_at   INTEGER,              -- NULL: not revoked
	PRIMARY KEY (tenant, id)
);

CREATE TABLE scim_users (
	seq           INTEGER PRIMARY KEY, -- creation order
	tenant        TEXT NOT NULL,
	id            TEXT NOT NULL,
	user_name_key TEXT NOT NULL,       -- mapping.FoldKey(userName)
	external_id   TEXT,                -- exact; NULL when unset
	doc           TEXT NOT NULL,       -- JSON of mapping.Attrs
	origin        TEXT NOT NULL,
	created       INTEGER,
	last_modified INTEGER,
	version       INTEGER NOT NULL,
	UNIQUE (tenant, id),
	UNIQUE (tenant, user_name_key)
);
CREATE UNIQUE INDEX scim_users_external_id ON scim_users (tenant, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX scim_users_order ON scim_users (tenant, seq);

CREATE TABLE scim_groups (
	seq              INTEGER PRIMARY KEY,
	tenant           TEXT NOT NULL,
	id               TEXT NOT NULL,
	display_name_key TEXT NOT NULL,    -- mapping.FoldKey(displayName)
	external_id      TEXT,
	okta_id          TEXT NOT NULL DEFAULT '',
	doc              TEXT NOT NULL,
	origin           TEXT NOT NULL,
	created          INTEGER,
	last_modified    INTEGER,
	version          INTEGER NOT NULL,
	UNIQUE (tenant, id),
	UNIQUE (tenant, display_name_key)
);
CREATE UNIQUE INDEX scim_groups_external_id ON scim_groups (tenant, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX scim_groups_order ON scim_groups (tenant, seq);

CREATE TABLE memberships (
	tenant   TEXT NOT NULL,
	group_id TEXT NOT NULL,
	user_id  TEXT NOT NULL,
	PRIMARY KEY (tenant, group_id, user_id),
	FOREIGN KEY (tenant, group_id) REFERENCES scim_groups (tenant, id) ON DELETE CASCADE,
	FOREIGN KEY (tenant, user_id) REFERENCES scim_users (tenant, id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (tenant, user_id, group_id);
`,
	// 2: leases and reconcile run records.
	`
CREATE TABLE leases (
	tenant     TEXT NOT NULL,
	name       TEXT NOT NULL,
	owner      TEXT NOT NULL,
	expires_at INTEGER NOT NULL,      -- Unix ns, local clock
	PRIMARY KEY (tenant, name)
) WITHOUT ROWID;

CREATE TABLE runs (
	tenant     TEXT NOT NULL,
	id         TEXT NOT NULL,
	started_at INTEGER,
	data       BLOB NOT NULL,
	PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX runs_order ON runs (tenant, started_at DESC, id DESC);
`,
	// 3: roles (store.Roles).
	`
CREATE TABLE role_mappings (
	tenant  TEXT NOT NULL,
	map_key TEXT NOT NULL,            -- mapping.RoleMappingKey: "id:<group id>" or "name:<FoldKey(displayName)>"
	grp     TEXT NOT NULL,            -- the group id or displayName as given
	by_name INTEGER NOT NULL,         -- 1: grp is a displayName
	role    TEXT NOT NULL,
	source  TEXT NOT NULL,            -- api or config
	PRIMARY KEY (tenant, map_key)
) WITHOUT ROWID;

CREATE TABLE role_assignments (
	tenant  TEXT NOT NULL,
	user_id TEXT NOT NULL,
	role    TEXT NOT NULL,
	source  TEXT NOT NULL,            -- manual or api
	PRIMARY KEY (tenant, user_id, source, role),
	FOREIGN KEY (tenant, user_id) REFERENCES scim_users (tenant, id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE role_defaults (
	tenant TEXT PRIMARY KEY,
	role   TEXT NOT NULL              -- '' = none; no row: never set
) WITHOUT ROWID;
`,
	// 4: the provisioning log (store.ProvisioningLog).
	`
CREATE TABLE provisioning_log (
	tenant        TEXT NOT NULL,
	n             INTEGER NOT NULL,   -- per-tenant append number: 1, 2, ...
	at            INTEGER NOT NULL,   -- entry time, Unix ns UTC
	name_key      TEXT NOT NULL,      -- mapping.FoldKey(name)
	resource_type TEXT NOT NULL,
	actor         TEXT NOT NULL,
	status        INTEGER NOT NULL,
	entry         TEXT NOT NULL,      -- JSON of store.LogEntry
	PRIMARY KEY (tenant, n)
);
CREATE INDEX provisioning_log_name ON provisioning_log (tenant, name_key, n);
CREATE INDEX provisioning_log_at ON provisioning_log (at);
`,
	// 5: per-tenant record counts, kept by triggers in the transaction of
	// every insert and delete, so a list page's Total is one row read
	// instead of a count over the tenant's index.
	`
CREATE TABLE record_counts (
	tenant      TEXT PRIMARY KEY,
	user_count  INTEGER NOT NULL DEFAULT 0,
	group_count INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO record_counts (tenant, user_count, group_count)
	SELECT tenant, sum(u), sum(g) FROM (
		SELECT tenant, 1 AS u, 0 AS g FROM scim_users
		UNION ALL SELECT tenant, 0, 1 FROM scim_groups)
	GROUP BY tenant;
CREATE TRIGGER scim_users_count_insert AFTER INSERT ON scim_users BEGIN
	INSERT INTO record_counts (tenant, user_count) VALUES (NEW.tenant, 1)
		ON CONFLICT (tenant) DO UPDATE SET user_count = user_count + 1;
END;
CREATE TRIGGER scim_users_count_delete AFTER DELETE ON scim_users BEGIN
	UPDATE record_counts SET user_count = user_count - 1 WHERE tenant = OLD.tenant;
END;
CREATE TRIGGER scim_users_count_move AFTER UPDATE OF tenant ON scim_users WHEN NEW.tenant IS NOT OLD.tenant BEGIN
	UPDATE record_counts SET user_count = user_count - 1 WHERE tenant = OLD.tenant;
	INSERT INTO record_counts (tenant, user_count) VALUES (NEW.tenant, 1)
		ON CONFLICT (tenant) DO UPDATE SET user_count = user_count + 1;
END;
CREATE TRIGGER scim_groups_count_insert AFTER INSERT ON scim_groups BEGIN
	INSERT INTO record_counts (tenant, group_count) VALUES (NEW.tenant, 1)
		ON CONFLICT (tenant) DO UPDATE SET group_count = group_count + 1;
END;
CREATE TRIGGER scim_groups_count_delete AFTER DELETE ON scim_groups BEGIN
	UPDATE record_counts SET group_count = group_count - 1 WHERE tenant = OLD.tenant;
END;
CREATE TRIGGER scim_groups_count_move AFTER UPDATE OF tenant ON scim_groups WHEN NEW.tenant IS NOT OLD.tenant BEGIN
	UPDATE record_counts SET group_count = group_count - 1 WHERE tenant = OLD.tenant;
	INSERT INTO record_counts (tenant, group_count) VALUES (NEW.tenant, 1)
		ON CONFLICT (tenant) DO UPDATE SET group_count = group_count + 1;
END;
`,
	// 6: rejected provisioning log entries in a table of their own, with
	// their own per-tenant numbering and count budget
	// (store.LogRetention.MaxRejections): rejections never evict changes.
	// The rejections already logged move there, numbered in their order.
	`
CREATE TABLE provisioning_log_rejected (
	tenant        TEXT NOT NULL,
	n             INTEGER NOT NULL,   -- per-tenant append number of rejections: 1, 2, ...
	at            INTEGER NOT NULL,   -- entry time, Unix ns UTC
	name_key      TEXT NOT NULL,      -- mapping.FoldKey(name)
	resource_type TEXT NOT NULL,
	actor         TEXT NOT NULL,
	status        INTEGER NOT NULL,   -- always >= 400
	entry         TEXT NOT NULL,      -- JSON of store.LogEntry
	PRIMARY KEY (tenant, n)
);
CREATE INDEX provisioning_log_rejected_name ON provisioning_log_rejected (tenant, name_key, n);
CREATE INDEX provisioning_log_rejected_at ON provisioning_log_rejected (at);
INSERT INTO provisioning_log_rejected (tenant, n, at, name_key, resource_type, actor, status, entry)
	SELECT tenant, ROW_NUMBER() OVER (PARTITION BY tenant ORDER BY n), at, name_key, resource_type, actor, status, entry
	FROM provisioning_log WHERE status >= 400;
DELETE FROM provisioning_log WHERE status >= 400;
`,
	// 7: held reconcile plans (store.Plans).
	`
CREATE TABLE reconcile_plans (
	tenant     TEXT NOT NULL,
	id         TEXT NOT NULL,
	created_at INTEGER NOT NULL,      -- Unix ns UTC
	version    INTEGER NOT NULL,
	data       BLOB NOT NULL,         -- the plan's JSON (package sync)
	PRIMARY KEY (tenant, id)
) WITHOUT ROWID;
CREATE INDEX reconcile_plans_order ON reconcile_plans (tenant, created_at DESC, id DESC);
`,
	// 8: name keys (user_name_key, display_name_key, role_mappings.map_key
	// of by-name mappings, provisioning_log.name_key,
	// provisioning_log_rejected.name_key) re-folded with
	// mapping.FoldKey's PRECIS-style rule (NFC, width, ignorables, spaces,
	// case folding) instead of strings.ToLower. The work is Go: goSteps[8].
	`SELECT 1`,
	// 9: console sessions ended by Sign out (store.Sessions), shared by the
	// processes on the file; until is Unix ns UTC.
	`CREATE TABLE console_sessions_ended (
	id    TEXT PRIMARY KEY,
	until INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX console_sessions_ended_until ON console_sessions_ended (until);`,

	// 10: the token a rotation replaced a token with (store.Token.ReplacedBy).
	`ALTER TABLE tokens ADD COLUMN replaced_by TEXT; -- NULL: never rotated`,
}

// goSteps are migrations done in Go, run right after the SQL of the same
// version (whose text then only marks the step), in the same transaction.
var goSteps = map[int]func(ctx context.Context, tx *sql.Tx, log zerolog.Logger) error{
	rekeyVersion: rekeyFolded,
}

// SchemaVersion is the schema version this build creates and understands.
var SchemaVersion = len(migrations)

// migrate creates the schema_version table and applies the missing
// migrations, all in one write transaction, so two processes opening a new
// file at once cannot both apply a step.
func (s *Store) migrate(ctx context.Context) error {
	return s.write(ctx, "migrate", func(tx *txn) error {
		if _, err := tx.tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var v int
		err := tx.tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		if v > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this build's %d", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("schema migration %d: %w", i+1, err)
			}
			if step := goSteps[i+1]; step != nil {
				if err := step(ctx, tx.tx, s.log); err != nil {
					return fmt.Errorf("schema migration %d: %w", i+1, err)
				}
			}
			s.log.Info().Int("version", i+1).Msg("schema migrated")
		}
		if v < len(migrations) {
			_, err = tx.tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations))
		}
		return err
	})
}
