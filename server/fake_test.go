package server

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// fakeBackend is an in-memory scimschema.Users and scimschema.Groups. fail, when set, runs first in
// every method with the method's name and may return an error (or panic) to force a path.
type fakeBackend struct {
	mu     sync.Mutex
	users  map[string]scimschema.Resource
	groups map[string]scimschema.Resource
	nextID int

	fail func(method string) error

	// Recorded inputs of the last calls, for assertions.
	lastAttrs   map[string]any
	lastQuery   scimschema.ListQuery
	lastOps     []scimschema.PatchOp
	lastIfMatch string
	lastRead    scimschema.ReadOptions
	lastActor   string
}

var _ scimschema.Users = (*fakeBackend)(nil)
var _ scimschema.Groups = (*fakeBackend)(nil)

func newFakeBackend() *fakeBackend {
	return &fakeBackend{users: map[string]scimschema.Resource{}, groups: map[string]scimschema.Resource{}}
}

var fakeTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func (f *fakeBackend) enter(ctx context.Context, method string) error {
	f.lastActor = scimschema.Actor(ctx)
	if f.fail != nil {
		return f.fail(method)
	}
	return nil
}

func (f *fakeBackend) newResource(prefix string, attrs map[string]any) scimschema.Resource {
	f.nextID++
	res := scimschema.Resource{
		ID:           fmt.Sprintf("%s%d", prefix, f.nextID),
		Attributes:   maps.Clone(attrs),
		Created:      fakeTime,
		LastModified: fakeTime,
		Version:      `W/"1"`,
	}
	if ext, ok := attrs["externalId"].(string); ok {
		res.ExternalID = ext
		delete(res.Attributes, "externalId")
	}
	return res
}

func (f *fakeBackend) putUser(attrs map[string]any) scimschema.Resource {
	f.mu.Lock()
	defer f.mu.Unlock()
	res := f.newResource("u", attrs)
	f.users[res.ID] = res
	return res
}

func (f *fakeBackend) create(ctx context.Context, store map[string]scimschema.Resource, prefix, unique string, attrs map[string]any) (scimschema.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastAttrs = attrs
	if err := f.enter(ctx, "create"); err != nil {
		return scimschema.Resource{}, err
	}
	for _, r := range store {
		if r.Attributes[unique] == attrs[unique] {
			return scimschema.Resource{}, scimschema.Errorf(scimschema.KindUniqueness, "%s is already taken", unique)
		}
	}
	res := f.newResource(prefix, attrs)
	store[res.ID] = res
	return res, nil
}

func (f *fakeBackend) get(ctx context.Context, store map[string]scimschema.Resource, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastRead = opts
	if err := f.enter(ctx, "get"); err != nil {
		return scimschema.Resource{}, err
	}
	res, ok := store[id]
	if !ok {
		return scimschema.Resource{}, scimschema.Errorf(scimschema.KindNotFound, "resource %s not found", id)
	}
	return res, nil
}

func (f *fakeBackend) list(ctx context.Context, store map[string]scimschema.Resource, q scimschema.ListQuery) (scimschema.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastQuery = q
	if err := f.enter(ctx, "list"); err != nil {
		return scimschema.Page{}, err
	}
	ids := make([]string, 0, len(store))
	for id := range store {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	page := scimschema.Page{TotalResults: len(ids), Resources: []scimschema.Resource{}}
	for i := q.StartIndex - 1; i < len(ids) && len(page.Resources) < q.Count; i++ {
		page.Resources = append(page.Resources, store[ids[i]])
	}
	return page, nil
}

func (f *fakeBackend) replace(ctx context.Context, store map[string]scimschema.Resource, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastAttrs, f.lastIfMatch = attrs, ifMatch
	if err := f.enter(ctx, "replace"); err != nil {
		return scimschema.Resource{}, err
	}
	res, ok := store[id]
	if !ok {
		return scimschema.Resource{}, scimschema.Errorf(scimschema.KindNotFound, "resource %s not found", id)
	}
	if ifMatch != "" && ifMatch != res.Version {
		return scimschema.Resource{}, scimschema.Errorf(scimschema.KindPrecondition, "the resource has changed")
	}
	res.Attributes = maps.Clone(attrs)
	res.Version = `W/"2"`
	store[id] = res
	return res, nil
}

// patch records the operations and applies only path "active" and path-less maps; groups answer
// with a zero Resource (204), as the seam allows.
func (f *fakeBackend) patch(ctx context.Context, store map[string]scimschema.Resource, id string, ops []scimschema.PatchOp, ifMatch string, zero bool) (scimschema.Resource, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastOps, f.lastIfMatch = ops, ifMatch
	if err := f.enter(ctx, "patch"); err != nil {
		return scimschema.Resource{}, err
	}
	res, ok := store[id]
	if !ok {
		return scimschema.Resource{}, scimschema.Errorf(scimschema.KindNotFound, "resource %s not found", id)
	}
	if ifMatch != "" && ifMatch != res.Version {
		return scimschema.Resource{}, scimschema.Errorf(scimschema.KindPrecondition, "the resource has changed")
	}
	res.Attributes = maps.Clone(res.Attributes)
	for _, op := range ops {
		if op.Path != nil && strings.EqualFold(op.Path.AttributePath.AttributeName, "active") {
			res.Attributes["active"] = op.Value
		}
	}
	store[id] = res
	if zero {
		return scimschema.Resource{}, nil
	}
	return res, nil
}

func (f *fakeBackend) remove(ctx context.Context, store map[string]scimschema.Resource, id, ifMatch string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastIfMatch = ifMatch
	if err := f.enter(ctx, "delete"); err != nil {
		return err
	}
	res, ok := store[id]
	if !ok {
		return scimschema.Errorf(scimschema.KindNotFound, "resource %s not found", id)
	}
	if ifMatch != "" && ifMatch != res.Version {
		return scimschema.Errorf(scimschema.KindPrecondition, "the resource has changed")
	}
	delete(store, id)
	return nil
}

func (f *fakeBackend) CreateUser(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	return f.create(ctx, f.users, "u", "userName", attrs)
}
func (f *fakeBackend) GetUser(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	return f.get(ctx, f.users, id, opts)
}
func (f *fakeBackend) ListUsers(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	return f.list(ctx, f.users, q)
}
func (f *fakeBackend) ReplaceUser(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	return f.replace(ctx, f.users, id, attrs, ifMatch)
}
func (f *fakeBackend) PatchUser(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	return f.patch(ctx, f.users, id, ops, ifMatch, false)
}
func (f *fakeBackend) DeleteUser(ctx context.Context, id string, ifMatch string) error {
	return f.remove(ctx, f.users, id, ifMatch)
}
func (f *fakeBackend) CreateGroup(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	return f.create(ctx, f.groups, "g", "displayName", attrs)
}
func (f *fakeBackend) GetGroup(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	return f.get(ctx, f.groups, id, opts)
}
func (f *fakeBackend) ListGroups(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	return f.list(ctx, f.groups, q)
}
func (f *fakeBackend) ReplaceGroup(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	return f.replace(ctx, f.groups, id, attrs, ifMatch)
}
func (f *fakeBackend) PatchGroup(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	return f.patch(ctx, f.groups, id, ops, ifMatch, true)
}
func (f *fakeBackend) DeleteGroup(ctx context.Context, id string, ifMatch string) error {
	return f.remove(ctx, f.groups, id, ifMatch)
}

// recorded is a copy of the last recorded inputs, taken under the lock.
type recorded struct {
	attrs   map[string]any
	query   scimschema.ListQuery
	ops     []scimschema.PatchOp
	ifMatch string
	read    scimschema.ReadOptions
	actor   string
}

func (f *fakeBackend) recorded() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return recorded{attrs: f.lastAttrs, query: f.lastQuery, ops: f.lastOps, ifMatch: f.lastIfMatch, read: f.lastRead, actor: f.lastActor}
}

func (f *fakeBackend) setFail(fn func(method string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = fn
}
