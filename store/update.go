package store

import (
	"context"
	"errors"

	"github.com/axonflow/axonflow-sync/mapping"
)

// MaxUpdateRetries is how many times UpdateUserWith and UpdateGroupWith
// re-read and re-apply after ErrVersionMismatch (a concurrent writer
// changed the resource between the read and the write) before they return
// it.
const MaxUpdateRetries = 10

// UpdateUserWith is the one read-modify-write of a user (Dex's
// UpdateClient(id, updater) style): it reads user id of tenant (or starts
// from cur when cur is not nil, e.g. the read that answered 404 before the
// body was parsed), calls update with a copy of it, and writes the result
// with the version read (st.UpdateUser with expectVersion); on
// ErrVersionMismatch it re-reads and calls update again, at most
// MaxUpdateRetries times. update returns the user to store (its Attrs and
// LastModified are written); returning Attrs equal to the stored ones (or
// nil) writes nothing, so meta.lastModified stays and nothing is logged.
//
// It returns the user as stored after the call and whether it wrote.
// Errors: those of update (returned as they are), of the reads
// (ErrNotFound, ...) and of st.UpdateUser. Through a Logged store, the
// write's provisioning log entry is built from the user read here (no
// second read).
func UpdateUserWith(ctx context.Context, st State, tenant, id string, cur *mapping.User,
	update func(old mapping.User) (mapping.User, error)) (*mapping.User, bool, error) {
	for attempt := 0; ; attempt++ {
		if cur == nil {
			var err error
			if cur, err = st.GetUser(withoutPendingLog(ctx), tenant, id); err != nil {
				return nil, false, err
			}
		}
		next, err := update(*cur)
		if err != nil {
			return cur, false, err
		}
		if next.Attrs == nil || next.Attrs.Equal(cur.Attrs) {
			return cur, false, nil
		}
		next.ID = id
		err = st.UpdateUser(withPriorUser(ctx, cur), tenant, &next, cur.Version)
		if err == nil {
			return &next, true, nil
		}
		if !errors.Is(err, ErrVersionMismatch) || attempt >= MaxUpdateRetries {
			return cur, false, err
		}
		cur = nil
	}
}

// UpdateGroupWith is UpdateUserWith for groups: it reads group id (or
// starts from cur), calls update with a copy of it, and applies the
// GroupChange it returns with st.UpdateGroup, unless update says write is
// false (nothing to do). A change that carries ExpectVersion (set it to
// old.Version when the change was computed from old's attributes) is
// re-read and re-applied on ErrVersionMismatch, at most MaxUpdateRetries
// times.
//
// It returns the group as stored after the call (cur itself when nothing
// was written) and whether the store changed it (its version moved).
func UpdateGroupWith(ctx context.Context, st State, tenant, id string, cur *mapping.Group,
	update func(old mapping.Group) (c GroupChange, write bool, err error)) (*mapping.Group, bool, error) {
	for attempt := 0; ; attempt++ {
		if cur == nil {
			var err error
			if cur, err = st.GetGroup(withoutPendingLog(ctx), tenant, id); err != nil {
				return nil, false, err
			}
		}
		c, write, err := update(*cur)
		if err != nil {
			return cur, false, err
		}
		if !write {
			return cur, false, nil
		}
		g, err := st.UpdateGroup(withPriorGroup(ctx, cur), tenant, id, c)
		if err == nil {
			return g, g.Version != cur.Version, nil
		}
		if !errors.Is(err, ErrVersionMismatch) || attempt >= MaxUpdateRetries {
			return cur, false, err
		}
		cur = nil
	}
}

// DeleteUserWith deletes user id of tenant, starting from cur (the user as
// the caller read it) or, when cur is nil, reading it first (a failed read
// is not an error: the delete then answers for itself). It returns the
// user it read (nil if none) and st.DeleteUser's error. Through a Logged
// store the delete's entry takes its name from that read, so the name
// costs one read, not two.
func DeleteUserWith(ctx context.Context, st State, tenant, id string, cur *mapping.User) (*mapping.User, error) {
	if cur == nil {
		cur, _ = st.GetUser(withoutPendingLog(ctx), tenant, id)
	}
	if cur != nil {
		ctx = withPriorUser(ctx, cur)
	}
	return cur, st.DeleteUser(ctx, tenant, id)
}

// DeleteGroupWith is DeleteUserWith for groups, with one difference: a
// group the caller passes as cur is deleted only while it is at
// cur.Version (else ErrVersionMismatch and nothing changes), so a caller
// that decided on what it read (the reconciler) never deletes a group that
// changed since; with cur nil any version is deleted (a SCIM DELETE).
func DeleteGroupWith(ctx context.Context, st State, tenant, id string, cur *mapping.Group) (*mapping.Group, error) {
	var expect int64
	if cur == nil {
		cur, _ = st.GetGroup(withoutPendingLog(ctx), tenant, id)
	} else {
		expect = cur.Version
	}
	if cur != nil {
		ctx = withPriorGroup(ctx, cur)
	}
	return cur, st.DeleteGroup(ctx, tenant, id, expect)
}
