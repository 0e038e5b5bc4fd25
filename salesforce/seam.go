package salesforce

import (
	"context"
	"errors"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// This file is where the backend meets the seam (scimschema.Users and scimschema.Groups) and the
// commands that call it directly (Ready, ExplainUser): every exported method that returns an
// error is here, as a wrapper that translates the error once on its way out (translate). The
// work is done by the unexported method of the same name; inner code returns errors as they are,
// wrapped with %w where context helps, and decides on them with rest.KindOf and rest.IsCode.
// TestExportedMethodsTranslateOnTheWayOut keeps it so.

// Ready reports whether the backend can serve: a token is obtained and the catalog is loaded.
func (b *Backend) Ready(ctx context.Context) error {
	return b.translate(ctx, b.ready(ctx))
}

// ExplainUser explains a user write without making it (explain.go).
func (b *Backend) ExplainUser(ctx context.Context, kind WriteKind, attrs map[string]any, ops []scimschema.PatchOp) (UserExplanation, error) {
	x, err := b.explainUser(ctx, kind, attrs, ops)
	return x, b.translate(ctx, err)
}

// refused is the refusal ExplainUser reports for err: the SCIM error the IdP would get.
func (b *Backend) refused(ctx context.Context, err error) string {
	return refusal(b.translate(ctx, err))
}

// CreateUser answers POST /Users (users_write.go).
func (b *Backend) CreateUser(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	res, err := b.createUser(ctx, attrs)
	return res, b.translate(ctx, err)
}

// GetUser answers GET /Users/{id} (users_read.go).
func (b *Backend) GetUser(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	res, err := b.getUser(ctx, id, opts)
	return res, b.translate(ctx, err)
}

// ListUsers answers GET /Users (users_list.go).
func (b *Backend) ListUsers(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	page, err := b.listUsers(ctx, q)
	return page, b.translate(ctx, err)
}

// ReplaceUser answers PUT /Users/{id} (users_update.go).
func (b *Backend) ReplaceUser(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	res, err := b.replaceUser(ctx, id, attrs, ifMatch)
	return res, b.translate(ctx, err)
}

// PatchUser answers PATCH /Users/{id} (users_update.go).
func (b *Backend) PatchUser(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	res, err := b.patchUser(ctx, id, ops, ifMatch)
	return res, b.translate(ctx, err)
}

// DeleteUser answers DELETE /Users/{id} (users_update.go).
func (b *Backend) DeleteUser(ctx context.Context, id string, ifMatch string) error {
	return b.translate(ctx, b.deleteUser(ctx, id, ifMatch))
}

// CreateGroup answers POST /Groups (groups_create.go).
func (b *Backend) CreateGroup(ctx context.Context, attrs map[string]any) (scimschema.Resource, error) {
	res, err := b.createGroup(ctx, attrs)
	return res, b.translate(ctx, err)
}

// GetGroup answers GET /Groups/{id} (groups_read.go).
func (b *Backend) GetGroup(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error) {
	res, err := b.getGroup(ctx, id, opts)
	return res, b.translate(ctx, err)
}

// ListGroups answers GET /Groups (groups_read.go).
func (b *Backend) ListGroups(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error) {
	page, err := b.listGroups(ctx, q)
	return page, b.translate(ctx, err)
}

// ReplaceGroup answers PUT /Groups/{id} (groups_update.go).
func (b *Backend) ReplaceGroup(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error) {
	res, err := b.replaceGroup(ctx, id, attrs, ifMatch)
	return res, b.translate(ctx, err)
}

// PatchGroup answers PATCH /Groups/{id} (groups_update.go).
func (b *Backend) PatchGroup(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error) {
	res, err := b.patchGroup(ctx, id, ops, ifMatch)
	return res, b.translate(ctx, err)
}

// DeleteGroup answers DELETE /Groups/{id} (groups_delete.go).
func (b *Backend) DeleteGroup(ctx context.Context, id string, ifMatch string) error {
	return b.translate(ctx, b.deleteGroup(ctx, id, ifMatch))
}

// Retry-After values. Salesforce sends no Retry-After. REQUEST_LIMIT_EXCEEDED is either the
// rolling 24-hour allowance (calls free up continuously as old ones age out, so a long wait is
// pointless but an immediate retry is wasteful) or the concurrent long-request limit (clears in
// seconds). When the last Sforce-Limit-Info shows the allowance used up we ask for 15 minutes,
// otherwise for one minute.
const (
	retryAfterLimited     = time.Minute
	retryAfterExhausted   = 15 * time.Minute
	retryAfterUnavailable = 30 * time.Second
)

// translate is the one place an error becomes what the SCIM client sees: the error of every
// exported method passes through it on the way out (above), and nothing else calls it. Errors
// that are already (or wrap) a *scimschema.Error — the backend's own decisions, which explain
// more precisely — pass through unchanged; a Salesforce refusal the backend did not explain
// becomes a *scimschema.Error with a Detail in the bridge's words (never Salesforce's message,
// which can echo submitted values) and, for a limit or an outage, a Retry-After.
func (b *Backend) translate(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*scimschema.Error](err); ok {
		return err
	}
	se := b.scimError(err)
	if rest.KindOf(err) == rest.KindAuth && !errors.Is(err, context.Canceled) {
		// Salesforce rejected the bridge's own credentials: the bridge's problem, not the IdP's.
		b.logger(ctx).Error().Err(err).Msg("Salesforce rejected the bridge's credentials")
	}
	return se
}

// scimError is what translate makes of err, without translate's log line: the *scimschema.Error
// err wraps, or the classification of a Salesforce or transport failure. The audit line of a
// failed change shows its Detail.
func (b *Backend) scimError(err error) *scimschema.Error {
	if se, ok := errors.AsType[*scimschema.Error](err); ok {
		return se
	}
	if errors.Is(err, context.Canceled) {
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "the request was cancelled", RetryAfter: retryAfterUnavailable, Err: err}
	}
	switch rest.KindOf(err) {
	case rest.KindNotFound:
		return &scimschema.Error{Kind: scimschema.KindNotFound, Detail: "resource not found", Err: err}
	case rest.KindLimited:
		ra := retryAfterLimited
		if u := b.c.Usage(); u.Known && u.Max > 0 && u.Used >= u.Max {
			ra = retryAfterExhausted
		}
		return &scimschema.Error{Kind: scimschema.KindLimited, Detail: "the Salesforce API request limit is reached; retry later", RetryAfter: ra, Err: err}
	case rest.KindAuth:
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "the bridge cannot authenticate to Salesforce", RetryAfter: retryAfterUnavailable, Err: err}
	case rest.KindUnavailable:
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "Salesforce is unavailable; retry later", RetryAfter: retryAfterUnavailable, Err: err}
	case rest.KindLocked:
		return &scimschema.Error{Kind: scimschema.KindUnavailable, Detail: "the Salesforce record is locked by another operation; retry later", RetryAfter: retryAfterUnavailable, Err: err}
	case rest.KindInvalid:
		// A validation refusal no caller explained more precisely: the request's values, not the
		// bridge, are at fault. The error code is a Salesforce identifier, never its message.
		return &scimschema.Error{Kind: scimschema.KindInvalidValue, Detail: "Salesforce rejected the change (" + rest.CodeOf(err) + ")", Err: err}
	case rest.KindConflict:
		return &scimschema.Error{Kind: scimschema.KindUniqueness, Detail: "Salesforce rejected the change as conflicting with an existing record (" + rest.CodeOf(err) + ")", Err: err}
	}
	return &scimschema.Error{Kind: scimschema.KindInternal, Detail: "internal error", Err: err}
}
