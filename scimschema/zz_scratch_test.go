package scimschema

import (
	"encoding/json"
	"fmt"
	"testing"

	filter "github.com/scim2/filter-parser/v2"
)

func TestScratch(t *testing.T) {
	for _, s := range []string{`name.familyName`, `emails[type eq "work"].value`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, `members[value eq "x"]`, `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`} {
		p, err := filter.ParsePath([]byte(s))
		b, _ := json.Marshal(p)
		fmt.Println(s, string(b), err)
	}
	for _, s := range []string{`emails[type eq "work" and value eq "x"]`, `userName eq "a" or userName eq "b" and not (title pr)`, `meta.lastModified gt "2011-05-13T04:42:34Z"`, `x eq 1`, `x eq true`, `x eq null`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`} {
		p, err := filter.ParseFilter([]byte(s))
		b, _ := json.Marshal(p)
		fmt.Printf("%s %T %s %v\n", s, p, b, err)
	}
}
