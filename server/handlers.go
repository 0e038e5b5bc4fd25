package server

import (
	"context"
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
// through handlerError, every resource through projection.resource (both in scimlib_response.go).
type resourceHandler struct {
	backend    backend
	maxResults int
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
		noteNotModified(r)
	}
	return p.resource(res), nil
}

func (h *resourceHandler) GetAll(r *http.Request, params scim.ListRequestParams) (scim.Page, error) {
	sortBy, descending, err := sortOf(r)
	if err != nil {
		return scim.Page{}, handlerError(r, err)
	}
	p := projectionOf(r)
	q := scimschema.ListQuery{
		StartIndex:         max(params.StartIndex, 1),
		Count:              min(max(params.Count, 0), h.maxResults),
		SortBy:             sortBy,
		Descending:         descending,
		Attributes:         p.attributes,
		ExcludedAttributes: p.excluded,
	}
	if params.FilterValidator != nil {
		q.Filter = params.FilterValidator.GetFilter()
	}
	page, err := h.backend.list(r.Context(), q)
	if err != nil {
		return scim.Page{}, handlerError(r, err)
	}
	// Never a nil slice: the library writes it as "Resources": null (scimlib.go, entry 18).
	out := scim.Page{TotalResults: page.TotalResults, Resources: make([]scim.Resource, 0, len(page.Resources))}
	for _, res := range page.Resources {
		out.Resources = append(out.Resources, p.resource(res))
	}
	noteItemsPerPage(r, len(out.Resources))
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
