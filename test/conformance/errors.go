package conformance

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

func errorChecks() []check {
	return []check{
		{"RFC7644-3.12/404-get-user", notFound(http.MethodGet, "/Users/")},
		{"RFC7644-3.12/404-get-group", notFound(http.MethodGet, "/Groups/")},
		{"RFC7644-3.12/404-put-user", notFound(http.MethodPut, "/Users/")},
		{"RFC7644-3.12/404-patch-user", notFound(http.MethodPatch, "/Users/")},
		{"RFC7644-3.12/404-delete-user", notFound(http.MethodDelete, "/Users/")},
		{"RFC7644-3.12/400-invalidSyntax-malformed-json", (*C).malformedJSON},
		{"RFC7644-3.3/400-missing-required-userName", (*C).missingUserName},
		{"RFC7644-3.12/413-payload-too-large", (*C).payloadTooLarge},
	}
}

// randomID is an id no server has assigned: the GUID shape Entra's "Test connection" uses.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func notFound(method, endpoint string) func(*C) {
	return func(c *C) {
		var body any
		switch method {
		case http.MethodPut:
			f := c.s.fixtureUsers()["scratch"]
			f.userName = c.s.prefix + "nobody@example.com"
			body = c.s.userBody(f)
		case http.MethodPatch:
			body = patchBody(op("replace", "title", "Nobody"))
		}
		r := c.do(request{method: method, path: endpoint + randomID(), body: body})
		c.wantError(r, http.StatusNotFound)
	}
}

func (c *C) malformedJSON() {
	r := c.post("/Users", []byte(`{"schemas":["`+userURN+`"],"userName":`))
	c.wantError(r, http.StatusBadRequest, "invalidSyntax")
}

func (c *C) missingUserName() {
	r := c.post("/Users", map[string]any{
		"schemas": []any{userURN},
		"name":    map[string]any{"givenName": "No", "familyName": "UserName"},
		"emails":  []any{map[string]any{"value": c.s.prefix + "nousername@example.com", "type": "work", "primary": true}},
	})
	if r.status == http.StatusCreated {
		c.s.track("Users", str(r.obj, "id"))
	}
	c.wantError(r, http.StatusBadRequest, "invalidValue")
}

// payloadTooLarge sends a body larger than the server accepts. When bulk is advertised, RFC 7644
// §3.7.4 fixes the limit: a BulkRequest just over bulk.maxPayloadSize must be 413 (it holds no
// operations, so a server that ignores the limit changes nothing). Otherwise a 4 MiB POST /Users
// without userName: a server without a size limit answers 400 and nothing is created either way.
func (c *C) payloadTooLarge() {
	var b bytes.Buffer
	path := "/Users"
	if c.s.caps.Bulk && c.s.caps.BulkMaxPayloadSize > 0 {
		path = "/Bulk"
		b.WriteString(`{"schemas":["` + bulkReqURN + `"],"Operations":[],"scimtestPadding":"`)
		b.Write(bytes.Repeat([]byte("x"), c.s.caps.BulkMaxPayloadSize+4096))
	} else {
		b.WriteString(`{"schemas":["` + userURN + `"],"displayName":"`)
		b.Write(bytes.Repeat([]byte("x"), 4<<20))
	}
	b.WriteString(`"}`)
	r := c.post(path, b.Bytes())
	if r.status == http.StatusCreated {
		c.s.track("Users", str(r.obj, "id"))
	}
	c.wantError(r, http.StatusRequestEntityTooLarge)
}
