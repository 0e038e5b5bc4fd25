package conformance

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Capabilities is what the server advertises in /ServiceProviderConfig (RFC 7643 §5).
type Capabilities struct {
	Patch              bool `json:"patch"`
	Bulk               bool `json:"bulk"`
	BulkMaxOperations  int  `json:"bulkMaxOperations,omitempty"`
	BulkMaxPayloadSize int  `json:"bulkMaxPayloadSize,omitempty"`
	Filter             bool `json:"filter"`
	FilterMaxResults   int  `json:"filterMaxResults,omitempty"`
	ChangePassword     bool `json:"changePassword"`
	Sort               bool `json:"sort"`
	ETag               bool `json:"etag"`
}

func (c Capabilities) has(name string) bool {
	switch name {
	case "patch":
		return c.Patch
	case "bulk":
		return c.Bulk
	case "filter":
		return c.Filter
	case "changePassword":
		return c.ChangePassword
	case "sort":
		return c.Sort
	case "etag":
		return c.ETag
	}
	return false
}

const checkServiceProviderConfig = "RFC7643-5/service-provider-config"

func discoveryChecks() []check {
	return []check{
		{name: checkServiceProviderConfig, fn: (*C).serviceProviderConfig},
		{name: "RFC7644-4/resource-types", fn: (*C).resourceTypes},
		{name: "RFC7644-4/resource-type-by-name", fn: (*C).resourceTypeByName},
		{name: "RFC7643-7/schemas", fn: (*C).schemas},
		{name: "RFC7643-7/schema-by-id", fn: (*C).schemaByID},
		{name: "RFC7643-4.1/user-schema-characteristics", fn: (*C).userSchemaCharacteristics},
		{name: "RFC7644-4/read-only-POST-ServiceProviderConfig", fn: wrongMethod(http.MethodPost, "/ServiceProviderConfig")},
		{name: "RFC7644-4/read-only-PATCH-ServiceProviderConfig", fn: wrongMethod(http.MethodPatch, "/ServiceProviderConfig")},
		{name: "RFC7644-4/read-only-PUT-ResourceTypes", fn: wrongMethod(http.MethodPut, "/ResourceTypes")},
		{name: "RFC7644-4/read-only-DELETE-Schemas", fn: wrongMethod(http.MethodDelete, "/Schemas")},
	}
}

func (c *C) serviceProviderConfig() {
	r := c.get("/ServiceProviderConfig", nil)
	if r.status != http.StatusOK || r.obj == nil {
		c.s.capsErr = fmt.Errorf("GET /ServiceProviderConfig answered %d", r.status)
		c.Fatalf("%s; want 200 with a JSON object", r)
	}
	spc := r.obj
	if !containsFold(spc["schemas"], spcURN) {
		c.Errorf("schemas = %v; want %s", spc["schemas"], spcURN)
	}
	flag := func(name string) bool {
		v, ok := lookup(spc, name+".supported")
		b, isBool := v.(bool)
		if !ok || !isBool {
			c.Errorf("%s.supported = %v; want a boolean", name, v)
		}
		return b
	}
	num := func(path string) int {
		v, _ := lookup(spc, path)
		f, _ := v.(float64)
		return int(f)
	}
	caps := Capabilities{
		Patch:          flag("patch"),
		Bulk:           flag("bulk"),
		Filter:         flag("filter"),
		ChangePassword: flag("changePassword"),
		Sort:           flag("sort"),
		ETag:           flag("etag"),
	}
	if caps.Bulk {
		caps.BulkMaxOperations = num("bulk.maxOperations")
		caps.BulkMaxPayloadSize = num("bulk.maxPayloadSize")
		if caps.BulkMaxOperations <= 0 || caps.BulkMaxPayloadSize <= 0 {
			c.Errorf("bulk is supported but maxOperations=%d maxPayloadSize=%d; want positive integers", caps.BulkMaxOperations, caps.BulkMaxPayloadSize)
		}
	}
	if caps.Filter {
		caps.FilterMaxResults = num("filter.maxResults")
		if caps.FilterMaxResults <= 0 {
			c.Errorf("filter is supported but filter.maxResults=%d; want a positive integer", caps.FilterMaxResults)
		}
	}
	if schemes, ok := lookupKey(spc, "authenticationSchemes").([]any); !ok {
		c.Errorf("authenticationSchemes = %v; want an array", lookupKey(spc, "authenticationSchemes"))
	} else {
		for i, sc := range schemes {
			if str(sc, "type") == "" || str(sc, "name") == "" || str(sc, "description") == "" {
				c.Errorf("authenticationSchemes[%d] lacks type, name or description", i)
			}
		}
	}
	c.s.caps = caps
}

// resourceTypeList accepts a ListResponse (RFC 7644 §4) and, leniently, the bare array of RFC 7643
// §8.6's example.
func (c *C) resourceTypeList() []map[string]any {
	r := c.get("/ResourceTypes", nil)
	c.wantStatus(r, http.StatusOK)
	if r.obj != nil {
		return c.wantList(r).resources
	}
	var arr []map[string]any
	if err := json.Unmarshal(r.body, &arr); err != nil {
		c.Fatalf("%s; want a ListResponse of ResourceTypes", r)
	}
	return arr
}

func (c *C) resourceTypes() {
	rts := c.resourceTypeList()
	want := map[string][2]string{"User": {"/Users", userURN}, "Group": {"/Groups", groupURN}}
	for _, rt := range rts {
		name := str(rt, "name")
		w, ok := want[name]
		if !ok {
			continue
		}
		delete(want, name)
		if !containsFold(rt["schemas"], rtURN) {
			c.Errorf("ResourceType %s schemas = %v; want %s", name, rt["schemas"], rtURN)
		}
		// RFC 7643 §6: the endpoint is relative to the base URL; "/Users" and "Users" are the same.
		if got := str(rt, "endpoint"); "/"+strings.TrimPrefix(got, "/") != w[0] {
			c.Errorf("ResourceType %s endpoint = %q; want %q", name, got, w[0])
		}
		if got := str(rt, "schema"); got != w[1] {
			c.Errorf("ResourceType %s schema = %q; want %q", name, got, w[1])
		}
		if name == "User" {
			exts, _ := lookupKey(rt, "schemaExtensions").([]any)
			for _, e := range exts {
				if str(e, "schema") == enterpriseURN {
					c.s.enterprise = true
				}
			}
		}
	}
	for name := range want {
		c.Errorf("no ResourceType %q", name)
	}
}

// resourceTypeByName reads /ResourceTypes/User. RFC 7644 §4 defines single schemas at
// /Schemas/<urn> but no address for a single resource type (RFC 7643 §6 shows one only in an
// example's meta.location), so a 404 or 501 passes with a warning.
func (c *C) resourceTypeByName() {
	r := c.get("/ResourceTypes/User", nil)
	if r.status == http.StatusNotFound || r.status == http.StatusNotImplemented {
		c.Warnf("GET /ResourceTypes/User answered %d; RFC 7644 §4 does not require single resource types to be addressable", r.status)
		return
	}
	rt := c.wantResourceDoc(r)
	if got := str(rt, "name"); got != "User" {
		c.Errorf("GET /ResourceTypes/User name = %q; want User", got)
	}
}

// wantResourceDoc ends the check unless r is a 200 JSON object (discovery documents need no id
// check beyond that).
func (c *C) wantResourceDoc(r *response) map[string]any {
	c.wantStatus(r, http.StatusOK)
	if r.obj == nil {
		c.Fatalf("%s; want a JSON object", r)
	}
	return r.obj
}

func (c *C) schemaList() map[string]map[string]any {
	r := c.get("/Schemas", nil)
	var docs []map[string]any
	c.wantStatus(r, http.StatusOK)
	if r.obj != nil {
		docs = c.wantList(r).resources
	} else if err := json.Unmarshal(r.body, &docs); err != nil {
		c.Fatalf("%s; want a ListResponse of Schemas", r)
	}
	out := map[string]map[string]any{}
	for _, d := range docs {
		out[str(d, "id")] = d
	}
	return out
}

func (c *C) schemas() {
	all := c.schemaList()
	want := []string{userURN, groupURN}
	if c.s.enterprise {
		want = append(want, enterpriseURN)
	}
	for _, id := range want {
		doc, ok := all[id]
		if !ok {
			c.Errorf("/Schemas lacks %s", id)
			continue
		}
		attrs, _ := lookupKey(doc, "attributes").([]any)
		if len(attrs) == 0 {
			c.Errorf("schema %s has no attributes", id)
		}
		c.checkAttributes(id, attrs)
	}
}

// checkAttributes checks the characteristics RFC 7643 §7 describes for attribute definitions. A
// characteristic left out takes its RFC 7643 §2.2 default (type string, multiValued false, …), so
// only values that are present are judged.
func (c *C) checkAttributes(at string, attrs []any) {
	validType := map[string]bool{"string": true, "boolean": true, "decimal": true, "integer": true, "dateTime": true, "reference": true, "complex": true, "binary": true}
	validMut := map[string]bool{"readOnly": true, "readWrite": true, "immutable": true, "writeOnly": true}
	validRet := map[string]bool{"always": true, "never": true, "default": true, "request": true}
	for _, a := range attrs {
		name := str(a, "name")
		where := at + ":" + name
		if name == "" {
			c.Errorf("%s: attribute without a name", at)
			continue
		}
		typ := str(a, "type")
		if typ != "" && !validType[typ] {
			c.Errorf("%s: type %q is not an RFC 7643 type", where, typ)
		}
		if mv, ok := lookup(a, "multiValued"); ok {
			if _, isBool := mv.(bool); !isBool {
				c.Errorf("%s: multiValued = %v; want a boolean", where, mv)
			}
		}
		if m := str(a, "mutability"); m != "" && !validMut[m] {
			c.Errorf("%s: mutability %q invalid", where, m)
		}
		if rv := str(a, "returned"); rv != "" && !validRet[rv] {
			c.Errorf("%s: returned %q invalid", where, rv)
		}
		if typ == "complex" {
			subs, _ := lookupKey(a.(map[string]any), "subAttributes").([]any)
			c.checkAttributes(where, subs)
		}
	}
}

func (c *C) schemaByID() {
	r := c.get("/Schemas/"+userURN, nil)
	doc := c.wantResourceDoc(r)
	if got := str(doc, "id"); got != userURN {
		c.Errorf("GET /Schemas/%s id = %q", userURN, got)
	}
}

// attrDef finds a top-level attribute definition by name.
func attrDef(schema map[string]any, name string) map[string]any {
	attrs, _ := lookupKey(schema, "attributes").([]any)
	for _, a := range attrs {
		if m, ok := a.(map[string]any); ok && strings.EqualFold(str(m, "name"), name) {
			return m
		}
	}
	return nil
}

func (c *C) userSchemaCharacteristics() {
	r := c.get("/Schemas/"+userURN, nil)
	doc := c.wantResourceDoc(r)
	un := attrDef(doc, "userName")
	if un == nil {
		c.Fatalf("User schema has no userName")
	}
	if req, _ := un["required"].(bool); !req {
		c.Errorf("userName required = %v; want true", un["required"])
	}
	if u := str(un, "uniqueness"); u != "server" && u != "global" {
		c.Errorf("userName uniqueness = %q; want server", u)
	}
	if pw := attrDef(doc, "password"); pw != nil {
		if m := str(pw, "mutability"); m != "writeOnly" {
			c.Errorf("password mutability = %q; want writeOnly", m)
		}
		if rv := str(pw, "returned"); rv != "never" {
			c.Errorf("password returned = %q; want never", rv)
		}
	}
	c.s.userAlways = map[string]bool{}
	attrs, _ := lookupKey(doc, "attributes").([]any)
	for _, a := range attrs {
		if str(a, "returned") == "always" {
			c.s.userAlways[strings.ToLower(str(a, "name"))] = true
		}
	}
	g := attrDef(doc, "groups")
	c.s.userSchemaLacksGroups = g == nil
	if g != nil {
		if m := str(g, "mutability"); m != "readOnly" {
			c.Errorf("groups mutability = %q; want readOnly", m)
		}
	}
}

// wrongMethod sends a modifying method to a discovery endpoint. RFC 7644 §4 defines only GET there
// and names no status for other methods, so every refusal the RFCs define is accepted: 405 (RFC
// 7231 §6.5.5), 404 ("endpoint does not exist", RFC 7644 §3.12) and 501 ("operation not supported",
// RFC 7644 §3.12). Anything else — above all a 2xx — fails. Okta's spec test insists on 405; the
// okta replay checks that apart.
func wrongMethod(method, path string) func(*C) {
	return func(c *C) {
		var body any
		if method != http.MethodDelete {
			body = map[string]any{"schemas": []any{spcURN}}
		}
		r := c.do(request{method: method, path: path, body: body})
		switch r.status {
		case http.StatusMethodNotAllowed, http.StatusNotFound, http.StatusNotImplemented:
		default:
			c.Errorf("%s; want a refusal: 405, 404 or 501", r)
		}
	}
}

// idpDiscoveryChecks are discovery checks of the IdP-compatibility section: what an identity
// provider needs beyond the RFCs.
func idpDiscoveryChecks() []check {
	return []check{
		{name: "IdP-entra/no-null-in-discovery-documents", section: SectionIdP, step: StepIdPSpecific, fn: (*C).noNullInDiscovery},
	}
}

// noNullInDiscovery: Entra ID rejects a null anywhere in /ServiceProviderConfig and /Schemas.
// RFC 7643 §2.5 makes null equivalent to an unassigned attribute, so this is Entra's rule, not the
// RFC's.
func (c *C) noNullInDiscovery() {
	docs := map[string]any{"ServiceProviderConfig": c.wantResourceDoc(c.get("/ServiceProviderConfig", nil))}
	for id, doc := range c.schemaList() {
		docs["Schemas/"+id] = doc
	}
	for name, doc := range docs {
		if p := findNull(doc, name); p != "" {
			c.Errorf("null value at %s (Entra ID rejects nulls in discovery documents)", p)
		}
	}
}

// alwaysReturned reports whether the server's User schema declares attribute name returned
// "always" (RFC 7643 §7).
func (s *suite) alwaysReturned(name string) bool { return s.userAlways[strings.ToLower(name)] }
