package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

const (
	qEndSession = `INSERT INTO console_sessions_ended (id, until) VALUES (?1, ?2)
	ON CONFLICT (id) DO UPDATE SET until = max(until, excluded.until)`
	qDropEndedSessions = `DELETE FROM console_sessions_ended WHERE until <= ?`
	qSessionEnded      = `SELECT 1 FROM console_sessions_ended WHERE id = ? AND until > ?`
)

// EndSession records the console session id as ended until until (see
// store.Sessions) and drops the records that have expired, in one
// transaction.
func (s *Store) EndSession(ctx context.Context, id string, until time.Time) error {
	return s.write(ctx, "end session", func(tx *txn) error {
		if _, err := tx.ExecContext(ctx, qDropEndedSessions, time.Now().UnixNano()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, qEndSession, id, until.UnixNano())
		return err
	})
}

// SessionEnded reports whether the console session id was ended and its
// record has not expired (see store.Sessions).
func (s *Store) SessionEnded(ctx context.Context, id string) (bool, error) {
	var ended bool
	err := s.read(ctx, "session ended", func(tx *txn) error {
		var one int
		err := tx.QueryRowContext(ctx, qSessionEnded, id, time.Now().UnixNano()).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ended = err == nil
		return err
	})
	return ended, err
}
