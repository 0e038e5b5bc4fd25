package conformance

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

func errorChecks() []check {
	return []check{
		{name: "RFC7644-3.12/404-get-user", fn: notFound(http.MethodGet, "/Users/")},
		{name: "RFC7644-3.12/404-get-group", fn: notFound(http.MethodGet, "/Groups/")},
		{name: "RFC7644-3.12/404-put-user", fn: notFound(http.MethodPut, "/Users/")},
		{name: "RFC7644-3.12/404-patch-user", fn: notFound(http.MethodPatch, "/Users/")},
		{name: "RFC7644-3.12/404-delete-user", fn: notFound(http.MethodDelete, "/Users/")},
		{name: "RFC7644-3.12/400-invalidSyntax-malformed-json", fn: (*C).malformedJSON},
		{name: "RFC7644-3.3/400-missing-required-userName", fn: (*C).missingUserName},
		{name: "RFC7644-3.12/oversized-request-refused", fn: (*C).payloadTooLarge},
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
	c.refused(r, "Users")
	c.wantError(r, http.StatusBadRequest, "invalidValue")
}

// payloadTooLarge sends a body larger than the server accepts. When bulk is advertised, RFC 7644
// §3.7.4 fixes the limit: a BulkRequest just over bulk.maxPayloadSize must be 413 (it holds no
// operations, so a server that ignores the limit changes nothing). Otherwise the RFCs set no limit:
// a 4 MiB POST /Users without userName is answered 413 by a server with a body limit or 400
// invalidValue by one without (RFC 7644 §3.12); nothing may be created either way.
func (c *C) payloadTooLarge() {
	bulk := c.s.caps.Bulk && c.s.caps.BulkMaxPayloadSize > 0
	var b bytes.Buffer
	path := "/Users"
	if bulk {
		path = "/Bulk"
		b.WriteString(`{"schemas":["` + bulkReqURN + `"],"Operations":[],"scimtestPadding":"`)
		b.Write(bytes.Repeat([]byte("x"), c.s.caps.BulkMaxPayloadSize+4096))
	} else {
		b.WriteString(`{"schemas":["` + userURN + `"],"displayName":"`)
		b.Write(bytes.Repeat([]byte("x"), 4<<20))
	}
	b.WriteString(`"}`)
	r := c.post(path, b.Bytes())
	c.refused(r, "Users")
	if !bulk && r.status == http.StatusBadRequest {
		c.wantError(r, http.StatusBadRequest, "invalidValue", "invalidSyntax")
		return
	}
	c.wantError(r, http.StatusRequestEntityTooLarge)
}
