package conformance

import (
	"net/http"
	"strings"
)

func bulkChecks() []check {
	return []check{
		{name: "RFC7644-3.7/bulk-create-user", fn: (*C).bulkCreate},
		{name: "RFC7644-3.5.2/change-password", fn: (*C).changePassword},
	}
}

func (c *C) bulkCreate() {
	c.requireCaps("bulk")
	f := userFixture{c.s.prefix + "b-bulk@example.com", c.s.prefix + "b-bulk.mail@example.com", "", "", "Bulk", "Created"}
	r := c.post("/Bulk", map[string]any{
		"schemas": []any{bulkReqURN},
		"Operations": []any{map[string]any{
			"method": "POST", "path": "/Users", "bulkId": "scimtest1", "data": c.s.userBody(f),
		}},
	})
	c.wantStatus(r, http.StatusOK)
	if r.obj == nil || !containsFold(r.obj["schemas"], bulkRespURN) {
		c.Fatalf("%s; want a BulkResponse", r)
	}
	loc := str(r.obj, "Operations.0.location")
	if i := strings.LastIndex(loc, "/Users/"); i >= 0 {
		c.s.track("Users", loc[i+len("/Users/"):])
	}
	if got := str(r.obj, "Operations.0.status"); got != "201" {
		c.Errorf("Operations[0].status = %q; want \"201\"", got)
	}
	if got := str(r.obj, "Operations.0.bulkId"); got != "scimtest1" {
		c.Errorf("Operations[0].bulkId = %q; want scimtest1", got)
	}
	if loc == "" {
		c.Errorf("Operations[0].location missing")
	}
}

func (c *C) changePassword() {
	c.requireCaps("changePassword", "patch")
	res := c.patchResource("/Users/"+c.user("pat"), op("replace", "password", "Scimtest-"+c.s.run+"-Pw2!"))
	c.wantAbsent(res, "password")
}
