package redisstore

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// sessionKey is the record of an ended console session (global).
func (s *Store) sessionKey(id string) string { return s.prefix + "console:ended:" + id }

// EndSession records the console session id as ended until until (see
// store.Sessions): SET with EXAT/PXAT, so Redis drops the record when the
// session would have expired anyway (every replica computes the same until
// for one session: its sign-in time plus console.sessionMaxAge). One round
// trip; nothing is written for an until already past.
func (s *Store) EndSession(ctx context.Context, id string, until time.Time) error {
	if !until.After(time.Now()) {
		return nil
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	return wrap(s.c.SetArgs(ctx, s.sessionKey(id), "1", redis.SetArgs{ExpireAt: until}).Err())
}

// SessionEnded reports whether the console session id was ended and its
// record has not expired (see store.Sessions). One round trip (EXISTS).
func (s *Store) SessionEnded(ctx context.Context, id string) (bool, error) {
	ctx, cancel := s.op(ctx)
	defer cancel()
	n, err := s.c.Exists(ctx, s.sessionKey(id)).Result()
	if err != nil {
		return false, wrap(err)
	}
	return n == 1, nil
}
