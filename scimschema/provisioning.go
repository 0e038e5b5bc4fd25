package scimschema

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scim2/filter-parser/v2"
)

// This file is the provisioning interface: the seam between the SCIM server and a provisioning
// backend (the Salesforce one, or a test fake). The server calls Users and Groups with the types
// below (Resource, ListQuery, ReadOptions, Page, PatchOp) and turns the Kind of a returned Error
// into a SCIM status; the backend implements the two interfaces. Both sides import this package;
// neither imports the other. Nothing here knows about HTTP or Salesforce. The request context
// carries the acting token's name (WithActor) and, for the creates of one BulkRequest, their
// Companion (companions.go).

// Resource is one SCIM resource crossing the seam.
type Resource struct {
	ID         string
	ExternalID string // "" when absent
	// Attributes holds the SCIM attributes by their schema-cased names (userName, name, emails, …).
	// Extension attributes sit under their schema URN key as a nested map. Never id, externalId,
	// meta or schemas: the server adds those.
	Attributes   map[string]any
	Created      time.Time
	LastModified time.Time
	// Version is the weak entity tag of the resource (W/"…"), "" when unknown.
	Version string
}

// ListQuery is a SCIM list request after parsing.
type ListQuery struct {
	// Filter is the parsed SCIM filter, nil when the request had none.
	Filter filter.Expression
	// StartIndex is 1-based and at least 1.
	StartIndex int
	// Count is the page size, at least 0; 0 asks for totalResults only.
	Count int
	// SortBy is a SCIM attribute path ("" = the backend's stable default order).
	SortBy     string
	Descending bool
	// Attributes and ExcludedAttributes are the request's projection, as given (attribute paths,
	// possibly URN-prefixed). Backends use them to skip reads: with "members" excluded a Groups
	// backend reads no assignments, with "groups" excluded a Users backend reads no assignments.
	Attributes         []string
	ExcludedAttributes []string
}

// ReadOptions is the projection of a single-resource read.
type ReadOptions struct {
	Attributes         []string
	ExcludedAttributes []string
}

// Page is one page of a list.
type Page struct {
	TotalResults int
	// Resources is never nil.
	Resources []Resource
}

// PatchOp is one RFC 7644 §3.5.2 operation as the SCIM library parsed it.
type PatchOp struct {
	// Op is "add", "remove" or "replace", already lower-cased (Entra sends "Replace").
	Op string
	// Path is nil when the operation has none (Entra's and Okta's path-less forms, whose Value is a
	// map with possibly dotted or URN-prefixed keys).
	Path  *filter.Path
	Value any
}

// Users is what the SCIM server needs from a users backend. ifMatch is the request's If-Match
// header ("" when absent); a stale one is a KindPrecondition error.
type Users interface {
	CreateUser(ctx context.Context, attrs map[string]any) (Resource, error)
	GetUser(ctx context.Context, id string, opts ReadOptions) (Resource, error)
	ListUsers(ctx context.Context, q ListQuery) (Page, error)
	ReplaceUser(ctx context.Context, id string, attrs map[string]any, ifMatch string) (Resource, error)
	PatchUser(ctx context.Context, id string, ops []PatchOp, ifMatch string) (Resource, error)
	DeleteUser(ctx context.Context, id string, ifMatch string) error
}

// Groups is what the SCIM server needs from a groups backend. PatchGroup may return a zero Resource
// (ID "") to say "applied, nothing to show": the server then answers 204.
type Groups interface {
	CreateGroup(ctx context.Context, attrs map[string]any) (Resource, error)
	GetGroup(ctx context.Context, id string, opts ReadOptions) (Resource, error)
	ListGroups(ctx context.Context, q ListQuery) (Page, error)
	ReplaceGroup(ctx context.Context, id string, attrs map[string]any, ifMatch string) (Resource, error)
	PatchGroup(ctx context.Context, id string, ops []PatchOp, ifMatch string) (Resource, error)
	DeleteGroup(ctx context.Context, id string, ifMatch string) error
}

type actorKey struct{}

// WithActor returns ctx carrying the name of the bearer token that made the request, for audit lines.
func WithActor(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, actorKey{}, name)
}

// Actor returns the token name WithActor stored, or "".
func Actor(ctx context.Context) string {
	name, _ := ctx.Value(actorKey{}).(string)
	return name
}

// Kind classifies an error for the SCIM client. The server turns kinds into HTTP statuses and
// scimType values in exactly one place.
type Kind int

const (
	KindInternal       Kind = iota // 500 "internal error"; the cause is logged, never shown
	KindInvalidValue               // 400 invalidValue
	KindInvalidSyntax              // 400 invalidSyntax
	KindInvalidFilter              // 400 invalidFilter
	KindInvalidPath                // 400 invalidPath
	KindNoTarget                   // 400 noTarget
	KindMutability                 // 400 mutability
	KindTooMany                    // 400 tooMany
	KindUniqueness                 // 409 uniqueness
	KindNotFound                   // 404
	KindForbidden                  // 403: a setting forbids the operation; Detail names the setting
	KindPrecondition               // 412: If-Match is stale
	KindLimited                    // 429 with Retry-After: Salesforce's API allowance is used up
	KindUnavailable                // 503 with Retry-After: Salesforce cannot be reached or is down
	KindNotImplemented             // 501
	KindConflict                   // 409 without scimType: the resource's state forbids the change; Detail says why
)

// Error is the only error type that crosses the seam with something to show the client.
type Error struct {
	Kind Kind
	// Detail is shown to the SCIM client. It names attributes and settings, never attribute values,
	// secrets or raw Salesforce/Go error text.
	Detail string
	// RetryAfter is the client's back-off for KindLimited and KindUnavailable (0 = server default).
	RetryAfter time.Duration
	// Err is the cause, for logs only.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Detail, e.Err)
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted Detail.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// AsError finds the *Error in err's chain; an error without one is KindInternal.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Detail: "internal error", Err: err}
}
