package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"
	"github.com/rs/zerolog"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// backend is the seam interface of one resource type, as functions so Users and Groups share one
// adapter.
type backend struct {
	create  func(ctx context.Context, attrs map[string]any) (scimschema.Resource, error)
	get     func(ctx context.Context, id string, opts scimschema.ReadOptions) (scimschema.Resource, error)
	list    func(ctx context.Context, q scimschema.ListQuery) (scimschema.Page, error)
	replace func(ctx context.Context, id string, attrs map[string]any, ifMatch string) (scimschema.Resource, error)
	patch   func(ctx context.Context, id string, ops []scimschema.PatchOp, ifMatch string) (scimschema.Resource, error)
	remove  func(ctx context.Context, id string, ifMatch string) error
}

func (s *server) buildResourceTypes() []scim.ResourceType {
	users := s.cfg.Users
	groups := s.cfg.Groups
	return []scim.ResourceType{
		{
			ID:          optional.NewString("User"),
			Name:        "User",
			Description: optional.NewString("User Account, stored as a Salesforce User"),
			Endpoint:    "/Users",
			Schema:      scimschema.UserSchema(),
			SchemaExtensions: []scim.SchemaExtension{
				{Schema: scimschema.EnterpriseUserSchema()},
				{Schema: scimschema.SalesforceUserSchema()},
			},
			Handler: &resourceHandler{maxResults: s.cfg.MaxResults, backend: backend{
				create: users.CreateUser, get: users.GetUser, list: users.ListUsers,
				replace: users.ReplaceUser, patch: users.PatchUser, remove: users.DeleteUser,
			}},
		},
		{
			ID:          optional.NewString("Group"),
			Name:        "Group",
			Description: optional.NewString("Group, stored as a Salesforce permission set"),
			Endpoint:    "/Groups",
			Schema:      scimschema.GroupSchema(),
			Handler: &resourceHandler{maxResults: s.cfg.MaxResults, backend: backend{
				create: groups.CreateGroup, get: groups.GetGroup, list: groups.ListGroups,
				replace: groups.ReplaceGroup, patch: groups.PatchGroup, remove: groups.DeleteGroup,
			}},
		},
	}
}

// libraryConfig is what the SCIM library is told about the service provider. It only uses it for
// page sizes; /ServiceProviderConfig is served by serviceProviderConfig.
func (s *server) libraryConfig() *scim.ServiceProviderConfig {
	return &scim.ServiceProviderConfig{
		MaxResults:       s.cfg.MaxResults,
		SupportFiltering: true,
		SupportPatch:     true,
	}
}

// serveSCIM normalises the IdP dialects in r (see normalize.go) and hands it to the SCIM library.
func (s *server) serveSCIM(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		path := strings.TrimPrefix(r.URL.Path, scimPrefix)
		if err := checkBody(r.Method, path, body); err != nil {
			writeError(w, r, err)
			return
		}
		body = normalizeBody(r.Method, path, body)
		r = withBody(r, body)
	}
	if r.Method == http.MethodGet {
		if err := checkPaging(r.URL.Query()); err != nil {
			writeError(w, r, err)
			return
		}
	}
	if f := r.URL.Query().Get("filter"); f != "" {
		if endpoint := metricResource(r.URL.Path); endpoint == "Schemas" || endpoint == "ResourceTypes" {
			// RFC 7644 §4 lets discovery ignore filters. The library's evaluator answers a filtered
			// /Schemas with "Resources": null (Entra rejects nulls) and can panic on type mismatches.
			q := r.URL.Query()
			q.Del("filter")
			r = r.Clone(r.Context())
			r.URL.RawQuery = q.Encode()
		} else if rewritten := rewriteFilter(f); rewritten != f {
			q := r.URL.Query()
			q.Set("filter", rewritten)
			r = r.Clone(r.Context())
			r.URL.RawQuery = q.Encode()
		}
	}
	s.library(w, r)
}

// library serves r with the SCIM library. The library's base URL is fixed per instance and ours
// depends on the request (Host, X-Forwarded-*), so an instance is made per request: that is a copy
// of a small struct, the resource types and schemas are built once in New.
func (s *server) library(w http.ResponseWriter, r *http.Request) {
	f := &failure{}
	r = r.WithContext(withFailure(r.Context(), f))
	lib, err := scim.NewServer(
		&scim.ServerArgs{ServiceProviderConfig: s.libraryConfig(), ResourceTypes: s.resourceTypes},
		scim.WithBaseURL(s.scimBase(r)),
		scim.WithLogger(libraryLogger{zerolog.Ctx(r.Context())}),
	)
	if err != nil {
		writeError(w, r, fmt.Errorf("building the SCIM library server: %w", err))
		return
	}
	http.StripPrefix(scimPrefix, lib).ServeHTTP(&failureWriter{ResponseWriter: w, failure: f}, r)
}

// libraryLogger receives the SCIM library's own failures (marshalling, writing). Its arguments are a
// message and key/value pairs some of which hold whole resources, so only the message and the
// "error" value are logged.
type libraryLogger struct{ log *zerolog.Logger }

func (l libraryLogger) Error(args ...any) {
	ev := l.log.Error()
	for i := 1; i+1 < len(args); i += 2 {
		if k, _ := args[i].(string); k == "error" {
			if err, ok := args[i+1].(error); ok {
				ev = ev.AnErr("cause", err)
			}
		}
	}
	msg := "scim library error"
	if len(args) > 0 {
		if m, ok := args[0].(string); ok {
			msg = "scim library: " + m
		}
	}
	ev.Msg(msg)
}

// resourceHandler adapts one backend to the SCIM library's ResourceHandler. Every error leaves
// through handlerError; every resource through s.resource.
type resourceHandler struct {
	backend    backend
	maxResults int
}

// projection is the request's attributes / excludedAttributes query parameters (RFC 7644 §3.9),
// which the library ignores.
type projection struct {
	attributes, excluded []string
}

func projectionOf(r *http.Request) projection {
	q := r.URL.Query()
	return projection{attributes: splitList(q.Get("attributes")), excluded: splitList(q.Get("excludedAttributes"))}
}

func splitList(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// resource converts a backend resource for the library: password stripped (write-only), the
// projection applied, externalId only when requested.
func (p projection) resource(res scimschema.Resource) scim.Resource {
	attrs := make(map[string]any, len(res.Attributes))
	for k, v := range res.Attributes {
		if !strings.EqualFold(k, "password") {
			attrs[k] = v
		}
	}
	projected := scimschema.Project(attrs, p.attributes, p.excluded)
	if projected == nil {
		projected = map[string]any{}
	}
	out := scim.Resource{ID: res.ID, Attributes: projected, Meta: scim.Meta{Version: res.Version}}
	if res.ExternalID != "" && scimschema.Requested("externalId", p.attributes, p.excluded) {
		out.ExternalID = optional.NewString(res.ExternalID)
	}
	if !res.Created.IsZero() {
		t := res.Created
		out.Meta.Created = &t
	}
	if !res.LastModified.IsZero() {
		t := res.LastModified
		out.Meta.LastModified = &t
	}
	return out
}

func (h *resourceHandler) Create(r *http.Request, attrs scim.ResourceAttributes) (scim.Resource, error) {
	res, err := h.backend.create(r.Context(), attrs)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	return projectionOf(r).resource(res), nil
}

func (h *resourceHandler) Get(r *http.Request, id string) (scim.Resource, error) {
	p := projectionOf(r)
	res, err := h.backend.get(r.Context(), id, scimschema.ReadOptions{Attributes: p.attributes, ExcludedAttributes: p.excluded})
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	noteCanonicalID(r, id, res.ID)
	if notModified(r, res.Version) {
		if f, ok := r.Context().Value(failureKey{}).(*failure); ok {
			f.notModified = true
		}
	}
	return p.resource(res), nil
}

func (h *resourceHandler) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	p := projectionOf(r)
	q := scimschema.ListQuery{
		StartIndex:         max(params.StartIndex, 1),
		Count:              min(max(params.Count, 0), h.maxResults),
		SortBy:             strings.TrimSpace(r.URL.Query().Get("sortBy")),
		Attributes:         p.attributes,
		ExcludedAttributes: p.excluded,
	}
	if params.FilterValidator != nil {
		q.Filter = params.FilterValidator.GetFilter()
	}
	switch order := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("sortOrder"))); order {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return scim.Page{}, handlerError(r, scimschema.Errorf(scimschema.KindInvalidValue, `sortOrder must be "ascending" or "descending"`))
	}
	page, err := h.backend.list(r.Context(), q)
	if err != nil {
		return scim.Page{}, handlerError(r, err)
	}
	out := scim.Page{TotalResults: page.TotalResults, Resources: make([]scim.Resource, 0, len(page.Resources))}
	for _, res := range page.Resources {
		out.Resources = append(out.Resources, p.resource(res))
	}
	if f, ok := r.Context().Value(failureKey{}).(*failure); ok {
		f.isList, f.itemsPerPage = true, len(out.Resources)
	}
	return out, nil
}

func (h *resourceHandler) Replace(r *http.Request, id string, attrs scim.ResourceAttributes) (scim.Resource, error) {
	ifMatch, err := h.ifMatch(r, id)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	res, err := h.backend.replace(r.Context(), id, attrs, ifMatch)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	noteCanonicalID(r, id, res.ID)
	return projectionOf(r).resource(res), nil
}

// Patch returns an empty resource when the backend answers with a zero Resource; the library then
// answers 204 No Content.
func (h *resourceHandler) Patch(r *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	seamOps := make([]scimschema.PatchOp, len(ops))
	for i, op := range ops {
		seamOps[i] = scimschema.PatchOp{Op: strings.ToLower(op.Op), Path: op.Path, Value: op.Value}
	}
	ifMatch, err := h.ifMatch(r, id)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	res, err := h.backend.patch(r.Context(), id, seamOps, ifMatch)
	if err != nil {
		return scim.Resource{}, handlerError(r, err)
	}
	if res.ID == "" {
		return scim.Resource{}, nil
	}
	noteCanonicalID(r, id, res.ID)
	return projectionOf(r).resource(res), nil
}

func (h *resourceHandler) Delete(r *http.Request, id string) error {
	ifMatch, err := h.ifMatch(r, id)
	if err != nil {
		return handlerError(r, err)
	}
	if err := h.backend.remove(r.Context(), id, ifMatch); err != nil {
		return handlerError(r, err)
	}
	return nil
}
