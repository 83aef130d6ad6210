package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/mapping"
)

// rekeyVersion is the schema version whose step is rekeyFolded.
const rekeyVersion = 8

// rekeyFolded is schema migration rekeyVersion (8): it recomputes every stored name key
// with mapping.FoldKey. Two users (or groups) of a tenant whose names were
// distinct under the old rule (strings.ToLower) but fold to the same key
// now (NFC/NFD, width, a zero-width space, spaces) cannot both hold it: the
// one whose key does not change keeps it, else the oldest; the other keeps
// its old key (still found by id, reported by `store verify` as an index
// problem, and logged here as a warning naming both ids) so that an
// operator can rename or delete it. Two by-name role mappings that now
// fold together are merged (the first in key order is kept, logged).
func rekeyFolded(ctx context.Context, tx *sql.Tx, log zerolog.Logger) error {
	if err := rekeyTable(ctx, tx, log, "scim_users", "user_name_key", "userName"); err != nil {
		return err
	}
	if err := rekeyTable(ctx, tx, log, "scim_groups", "display_name_key", "displayName"); err != nil {
		return err
	}
	if err := rekeyRoleMappings(ctx, tx, log); err != nil {
		return err
	}
	if err := rekeyLog(ctx, tx, "provisioning_log"); err != nil {
		return err
	}
	return rekeyLog(ctx, tx, "provisioning_log_rejected")
}

type keyRow struct {
	seq            int64
	tenant, id     string
	oldKey, newKey string
}

func rekeyTable(ctx context.Context, tx *sql.Tx, log zerolog.Logger, table, col, attr string) error {
	rows, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT seq, tenant, id, %s, doc FROM %s ORDER BY seq`, col, table))
	if err != nil {
		return err
	}
	var all []keyRow
	for rows.Next() {
		var r keyRow
		var doc string
		if err := rows.Scan(&r.seq, &r.tenant, &r.id, &r.oldKey, &doc); err != nil {
			rows.Close()
			return err
		}
		var attrs map[string]any
		if err := json.Unmarshal([]byte(doc), &attrs); err != nil {
			rows.Close()
			return fmt.Errorf("%s %s/%s: %w", table, r.tenant, r.id, err)
		}
		name, _ := attrs[attr].(string)
		r.newKey = mapping.FoldKey(name)
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	// Winners: an unchanged key first, else the oldest row.
	type tk struct{ tenant, key string }
	owner := map[tk]int{}
	for i, r := range all {
		if r.oldKey == r.newKey {
			owner[tk{r.tenant, r.newKey}] = i
		}
	}
	for i, r := range all {
		if _, taken := owner[tk{r.tenant, r.newKey}]; !taken {
			owner[tk{r.tenant, r.newKey}] = i
		}
	}
	// Park every changing row on a temporary key, then set the final keys,
	// so no intermediate state breaks the unique index.
	upd := fmt.Sprintf(`UPDATE %s SET %s = ? WHERE seq = ?`, table, col)
	for _, r := range all {
		if r.oldKey != r.newKey {
			if _, err := tx.ExecContext(ctx, upd, fmt.Sprintf("\x00rekey:%d", r.seq), r.seq); err != nil {
				return err
			}
		}
	}
	for i, r := range all {
		if r.oldKey == r.newKey {
			continue
		}
		key := r.newKey
		if w := owner[tk{r.tenant, r.newKey}]; w != i {
			key = r.oldKey
			if o, clash := owner[tk{r.tenant, r.oldKey}]; clash && o != i {
				key = r.oldKey + "\x00" + r.id
			}
			log.Warn().Str("table", table).Str("tenant", r.tenant).Str("id", r.id).Str("sameAs", all[w].id).
				Msgf("%s folds to the same key as another one's; it keeps its old key: rename or delete one of them", attr)
		}
		if _, err := tx.ExecContext(ctx, upd, key, r.seq); err != nil {
			return err
		}
	}
	return nil
}

func rekeyRoleMappings(ctx context.Context, tx *sql.Tx, log zerolog.Logger) error {
	rows, err := tx.QueryContext(ctx, `SELECT tenant, map_key, grp FROM role_mappings WHERE by_name = 1 ORDER BY tenant, map_key`)
	if err != nil {
		return err
	}
	type mk struct{ tenant, oldKey, newKey string }
	var all []mk
	for rows.Next() {
		var m mk
		var grp string
		if err := rows.Scan(&m.tenant, &m.oldKey, &grp); err != nil {
			rows.Close()
			return err
		}
		m.newKey = mapping.RoleMappingKey(grp, true)
		all = append(all, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	kept := map[[2]string]bool{}
	for _, m := range all {
		if m.oldKey == m.newKey {
			kept[[2]string{m.tenant, m.newKey}] = true
		}
	}
	for _, m := range all {
		if m.oldKey == m.newKey {
			continue
		}
		if kept[[2]string{m.tenant, m.newKey}] {
			log.Warn().Str("tenant", m.tenant).Str("mapping", m.oldKey).Msg("role mapping by name merged into another that now names the same group")
			if _, err := tx.ExecContext(ctx, `DELETE FROM role_mappings WHERE tenant = ? AND map_key = ?`, m.tenant, m.oldKey); err != nil {
				return err
			}
			continue
		}
		kept[[2]string{m.tenant, m.newKey}] = true
		if _, err := tx.ExecContext(ctx, `UPDATE role_mappings SET map_key = ? WHERE tenant = ? AND map_key = ?`, m.newKey, m.tenant, m.oldKey); err != nil {
			return err
		}
	}
	return nil
}

func rekeyLog(ctx context.Context, tx *sql.Tx, table string) error {
	rows, err := tx.QueryContext(ctx, `SELECT tenant, n, name_key, entry FROM `+table)
	if err != nil {
		return err
	}
	type lk struct {
		tenant string
		n      int64
		key    string
	}
	var changed []lk
	for rows.Next() {
		var r lk
		var old, entry string
		if err := rows.Scan(&r.tenant, &r.n, &old, &entry); err != nil {
			rows.Close()
			return err
		}
		var e struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal([]byte(entry), &e)
		if r.key = mapping.FoldKey(e.Name); r.key != old {
			changed = append(changed, r)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range changed {
		if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET name_key = ? WHERE tenant = ? AND n = ?`, r.key, r.tenant, r.n); err != nil {
			return err
		}
	}
	return nil
}
