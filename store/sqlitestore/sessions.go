package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"time"
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
