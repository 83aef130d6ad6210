package redisstore

import (
	"context"
	"testing"

	"github.com/axonflow/axonflow-sync/internal/testredis"
	"github.com/axonflow/axonflow-sync/store"
	"github.com/axonflow/axonflow-sync/store/storetest"
)

// BenchmarkStore runs the storetest benchmark helpers (CreateUser, GetUser,
// FindUser, UpdateUser, ListUsers100, AddMemberSmallGroup, AddMember100k,
// and Tenant: the hot paths in tenants of 1,000 and 100,000 users, see
// storetest.BenchTenant) against a private redis-server on loopback, so the
// setup users vanish with it; they are created with storetest.ParallelSeed
// (CreateUser from 16 connections at once). Run e.g.
//
//	go test -run '^$' -bench Store -benchtime 2000x ./store/redisstore
//	go test -run '^$' -bench 'Store/Tenant' ./store/redisstore
func BenchmarkStore(b *testing.B) {
	srv := testredis.Start(b)
	storetest.Bench(b, func(tb testing.TB) store.State {
		s, err := Open(context.Background(), srv.URL(), Options{})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Close() })
		return s
	}, storetest.ParallelSeed)
}
