package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/axonflow/axonflow-sync/store"
)

// LeaseName is the name of the per-tenant lease a run holds (Redis key
// t:{tenant}:lease:reconcile).
const LeaseName = "reconcile"

// DefaultLeaseTTL is the lease lifetime when RunnerOptions.LeaseTTL is 0.
// The lease is renewed every third of it while the run lasts, and before
// every write.
const DefaultLeaseTTL = 30 * time.Second

// ErrLeaseLost is returned (wrapped) by a run that lost its lease: it
// stopped before its next write. It is store.ErrLeaseLost.
var ErrLeaseLost = store.ErrLeaseLost

// BusyError is returned by Runner.Start when another run (in this process
// or another replica) holds the tenant's lease.
type BusyError struct {
	Tenant string
	// Holder is the lease owner token of the running run:
	// "<replica> run <run id>".
	Holder string
}

// Error says which run holds the lease.
func (e *BusyError) Error() string {
	return fmt.Sprintf("tenant %s: another reconcile run is in progress (lease %q held by %s); "+
		"only one run per tenant at a time: try again when it has finished", e.Tenant, LeaseName, e.Holder)
}

// leaseKeeper renews a held lease in the background and before every write
// (check), and cancels the run's context once the lease is lost.
type leaseKeeper struct {
	st            store.Leases
	tenant, owner string
	ttl           time.Duration
	log           zerolog.Logger
	cancel        context.CancelCauseFunc

	mu         gosync.Mutex
	validUntil time.Time // local time until which the lease is surely ours
	lost       error

	stopc chan struct{}
	done  chan struct{}
}

func newLeaseKeeper(st store.Leases, tenant, owner string, ttl time.Duration, acquiredAt time.Time,
	cancel context.CancelCauseFunc, log zerolog.Logger) *leaseKeeper {
	return &leaseKeeper{st: st, tenant: tenant, owner: owner, ttl: ttl, log: log, cancel: cancel,
		validUntil: acquiredAt.Add(ttl), stopc: make(chan struct{}), done: make(chan struct{})}
}

// renew extends the lease once. A lost lease is final: it records the loss
// and cancels the run. Other errors are returned but the lease still counts
// as held until validUntil.
func (k *leaseKeeper) renew() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lost != nil {
		return k.lost
	}
	sent := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), max(k.ttl/3, time.Second))
	err := k.st.RenewLease(ctx, k.tenant, LeaseName, k.owner, k.ttl)
	cancel()
	switch {
	case err == nil:
		k.validUntil = sent.Add(k.ttl)
		return nil
	case errors.Is(err, store.ErrLeaseLost):
		k.loseLocked(fmt.Errorf("%w: tenant %s: another owner holds the lease or it expired", ErrLeaseLost, k.tenant))
	case !time.Now().Before(k.validUntil):
		k.loseLocked(fmt.Errorf("%w: tenant %s: could not renew it before it expired: %v", ErrLeaseLost, k.tenant, err))
	default:
		return fmt.Errorf("renewing the lease: %w", err)
	}
	return k.lost
}

func (k *leaseKeeper) loseLocked(err error) {
	k.lost = err
	k.log.Warn().Err(err).Msg("reconcile lease lost: stopping before any further write")
	k.cancel(err)
}

// check is called before every write: it renews the lease (compare-and-
// renew in the store), so a write never follows a moment where the lease
// was known to be someone else's. Any error stops the writes.
func (k *leaseKeeper) check() error { return k.renew() }

// Lost returns the loss error, or nil while the lease is held.
func (k *leaseKeeper) Lost() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.lost
}

// loop renews every ttl/3 until stop.
func (k *leaseKeeper) loop() {
	defer close(k.done)
	t := time.NewTicker(k.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-k.stopc:
			return
		case <-t.C:
		}
		if err := k.renew(); err != nil {
			if k.Lost() != nil {
				return
			}
			k.log.Warn().Err(err).Msg("reconcile lease renewal failed; retrying")
		}
	}
}

func (k *leaseKeeper) stop() {
	close(k.stopc)
	<-k.done
}
