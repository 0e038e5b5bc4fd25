package salesforce

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// profile is a Salesforce Profile. UserType is the UserType its users get (from its licence:
// Chatter Free → CsnOnly); "" when Salesforce did not say.
type profile struct {
	ID, Name, LicenseID, UserType string
}

// group is a permission set (not profile-owned) or a permission set group, as the catalog holds it.
type group struct {
	ID           string
	Name         string // API name (PermissionSet.Name, PermissionSetGroup.DeveloperName)
	Label        string // PermissionSet.Label, PermissionSetGroup.MasterLabel
	Description  string
	LicenseID    string
	Created      string // Salesforce datetime strings
	LastModified string
	IsPSG        bool // a PermissionSetGroup (id prefix 0PG)
	// Aggregate is set on the permission set Salesforce keeps for each group (PermissionSetGroupId
	// set): never a SCIM Group.
	Aggregate bool
}

func (g group) object() string {
	if g.IsPSG {
		return "PermissionSetGroup"
	}
	return "PermissionSet"
}

// assignmentField is the PermissionSetAssignment field naming g.
func (g group) assignmentField() string {
	if g.IsPSG {
		return "PermissionSetGroupId"
	}
	return "PermissionSetId"
}

// catalog is the org's profiles, permission sets and groups, and the User picklists. It is
// loaded in one composite call and cached for CatalogTTL, per replica. It serves only what a
// stale copy cannot get wrong for long: profile and permission-set names and ids for writes
// (a miss reloads it once), picklists, and the displayName pre-check of group writes (a stale
// miss ends in Salesforce's duplicate error, a stale hit is re-checked on a reload). Group and
// user reads always go to Salesforce.
type catalog struct {
	loaded time.Time
	// seq numbers the load that produced this catalog, in the order loads started.
	seq       uint64
	profiles  []profile
	groups    []group // every non-profile permission set and permission set group
	exposed   []group // the SCIM Groups: groups filtered by groups.source and groups.include
	picklists scimschema.Picklists
	// user is what the mapping needs of the User describe: picklists, lengths, time zones.
	user scimschema.UserDescribe
}

func (c *catalog) profile(nameOrID string) (profile, bool) {
	if id, ok := rest.CanonicalID(nameOrID, rest.PrefixProfile); ok {
		for _, p := range c.profiles {
			if rest.SameID(p.ID, id) {
				return p, true
			}
		}
		return profile{}, false
	}
	for _, p := range c.profiles {
		if strings.EqualFold(p.Name, nameOrID) {
			return p, true
		}
	}
	return profile{}, false
}

func (c *catalog) profileName(id string) string {
	for _, p := range c.profiles {
		if rest.SameID(p.ID, id) {
			return p.Name
		}
	}
	return ""
}

// group finds an exposed group by id or API name.
func (c *catalog) group(idOrName string) (group, bool) {
	if id, ok := rest.CanonicalID(idOrName, rest.PrefixPermSet, rest.PrefixPermSetGroup); ok {
		for _, g := range c.exposed {
			if rest.SameID(g.ID, id) {
				return g, true
			}
		}
		return group{}, false
	}
	for _, g := range c.exposed {
		if strings.EqualFold(g.Name, idOrName) {
			return g, true
		}
	}
	return group{}, false
}

// exposedByID finds an exposed group by its id.
func (c *catalog) exposedByID(id string) (group, bool) {
	for _, g := range c.exposed {
		if rest.SameID(g.ID, id) {
			return g, true
		}
	}
	return group{}, false
}

// catalog returns the cached catalog, loading it when absent or older than CatalogTTL.
func (o *operation) catalog() (*catalog, error) {
	b := o.b
	b.mu.Lock()
	cat := b.cat
	b.mu.Unlock()
	if cat != nil && b.now().Sub(cat.loaded) < b.cfg.CatalogTTL {
		return cat, nil
	}
	return o.load(cat, 0)
}

// find returns the catalog and true when ok holds for it, reloading the catalog once per operation
// when it does not (the catalog may predate the profile or permission set asked for).
func (o *operation) find(ok func(*catalog) bool) (*catalog, bool, error) {
	cat, err := o.catalog()
	if err != nil {
		return nil, false, err
	}
	if ok(cat) {
		return cat, true, nil
	}
	fresh, again, err := o.refresh()
	if err != nil || !again {
		return cat, false, err
	}
	return fresh, ok(fresh), nil
}

// refresh reloads the catalog after a miss, once per operation. It returns false when this
// operation already reloaded it (the miss is real).
func (o *operation) refresh() (*catalog, bool, error) {
	if o.reloaded {
		return nil, false, nil
	}
	o.b.mu.Lock()
	cat, missedAt := o.b.cat, o.b.loadsStarted
	o.b.mu.Unlock()
	c, err := o.load(cat, missedAt)
	return c, err == nil, err
}

// load loads the catalog, unless another goroutine replaced stale while we waited with a catalog
// whose load started after load number startedAfter. After a miss only such a catalog will do: a
// load that began before the miss can predate the very record that was missed (a group created a
// moment ago), and sharing it would turn the miss into a false "not found".
func (o *operation) load(stale *catalog, startedAfter uint64) (*catalog, error) {
	b := o.b
	b.loadMu.Lock()
	defer b.loadMu.Unlock()
	b.mu.Lock()
	cur := b.cat
	b.loadsStarted++
	seq := b.loadsStarted
	b.mu.Unlock()
	if cur != stale && cur != nil && cur.seq > startedAfter {
		o.reloaded = true
		return cur, nil
	}
	cat, err := b.loadCatalog(o.ctx)
	if err != nil {
		return nil, b.fail(o.ctx, err)
	}
	cat.seq = seq
	o.reloaded = true
	b.mu.Lock()
	b.cat = cat
	b.mu.Unlock()
	return cat, nil
}

// invalidate drops the cached catalog (after Salesforce said an id it named does not exist).
func (b *Backend) invalidate() {
	b.mu.Lock()
	b.cat = nil
	b.mu.Unlock()
}

// addGroup adds a group this backend just created to the cached catalog.
func (b *Backend) addGroup(g group) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cat == nil {
		return
	}
	c := *b.cat
	c.groups = append(append([]group(nil), c.groups...), g)
	if b.exposes(g) {
		c.exposed = append(append([]group(nil), c.exposed...), g)
	}
	b.cat = &c
}

// removeGroup drops a deleted group from the cached catalog.
func (b *Backend) removeGroup(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cat == nil {
		return
	}
	c := *b.cat
	keep := func(gs []group) []group {
		var out []group
		for _, g := range gs {
			if !rest.SameID(g.ID, id) {
				out = append(out, g)
			}
		}
		return out
	}
	c.groups, c.exposed = keep(c.groups), keep(c.exposed)
	b.cat = &c
}

// exposes applies groups.source and groups.include.
func (b *Backend) exposes(g group) bool {
	if g.Aggregate {
		return false
	}
	switch b.cfg.Groups.Source {
	case PermissionSets:
		if g.IsPSG {
			return false
		}
	case PermissionSetGroups:
		if !g.IsPSG {
			return false
		}
	}
	return b.included(g.Name, g.Label)
}

func (b *Backend) included(names ...string) bool {
	for _, pat := range b.cfg.Groups.Include {
		for _, n := range names {
			if ok, _ := path.Match(pat, n); ok {
				return true
			}
		}
	}
	return false
}

// Catalog queries (reference §7.0). Profile-owned permission sets are never groups.
func catalogQueries() []struct {
	ref string
	q   *rest.Query
} {
	return []struct {
		ref string
		q   *rest.Query
	}{
		{"ps", rest.Select("Id", "Name", "Label", "Description", "LicenseId", "PermissionSetGroupId", "CreatedDate", "LastModifiedDate").
			From("PermissionSet").Where(rest.Eq("IsOwnedByProfile", false)).OrderBy("Id", false)},
		{"psg", rest.Select("Id", "DeveloperName", "MasterLabel", "Description", "CreatedDate", "LastModifiedDate").
			From("PermissionSetGroup").OrderBy("Id", false)},
		{"prof", rest.Select("Id", "Name", "UserLicenseId", "UserType").From("Profile").OrderBy("Id", false)},
	}
}

// describeBody is the part of a describe result the backend reads.
type describeBody struct {
	Fields []struct {
		Name               string `json:"name"`
		Type               string `json:"type"`
		Length             int    `json:"length"`
		RestrictedPicklist bool   `json:"restrictedPicklist"`
		PicklistValues     []struct {
			Value  string `json:"value"`
			Active bool   `json:"active"`
		} `json:"picklistValues"`
	} `json:"fields"`
}

// loadCatalog reads the catalog and the User describe in one composite call (three queries and
// a describe; allOrNone false), following nextRecordsUrl for catalogs beyond one batch.
func (b *Backend) loadCatalog(ctx context.Context) (*catalog, error) {
	subs, err := catalogSubrequests()
	if err != nil {
		return nil, err
	}
	res, err := b.c.Composite(ctx, false, subs)
	if err != nil {
		return nil, err
	}
	if len(res) != len(subs) {
		return nil, fmt.Errorf("catalog composite answered %d subresponses for %d", len(res), len(subs))
	}
	cat := &catalog{loaded: b.now(), picklists: scimschema.Picklists{}}
	paths := pathsByRef(subs)
	lengths := map[string]int{}
	for _, r := range res {
		if r.Status >= 400 {
			if r.ReferenceID == "psg" && r.Err != nil && (r.Err.Code == "INVALID_TYPE" || r.Err.Code == "NOT_FOUND") {
				continue // an org without permission set groups
			}
			if r.Err != nil {
				return nil, fmt.Errorf("catalog %s: %w", r.ReferenceID, r.Err)
			}
			return nil, fmt.Errorf("catalog %s: HTTP %d", r.ReferenceID, r.Status)
		}
		if r.ReferenceID == "describe" {
			if err := cat.readDescribe(r.Body, lengths); err != nil {
				return nil, err
			}
			continue
		}
		q, err := decodeQuery(r)
		if err != nil {
			return nil, err
		}
		err = b.walkRerun(ctx, q, soqlOf(paths[r.ReferenceID]), func(rec map[string]any) bool {
			cat.add(r.ReferenceID, rec)
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	cat.user = userDescribe(cat.picklists, lengths)
	for _, g := range cat.groups {
		if b.exposes(g) {
			cat.exposed = append(cat.exposed, g)
		}
	}
	return cat, nil
}

// catalogSubrequests is the catalog composite: the catalog queries and the User describe.
func catalogSubrequests() ([]rest.Subrequest, error) {
	var subs []rest.Subrequest
	for _, q := range catalogQueries() {
		s, err := q.q.String()
		if err != nil {
			return nil, err
		}
		subs = append(subs, rest.Subrequest{Method: "GET", Path: rest.QueryPath(s), ReferenceID: q.ref})
	}
	return append(subs, rest.Subrequest{Method: "GET", Path: "sobjects/User/describe", ReferenceID: "describe"}), nil
}

// readDescribe takes the restricted picklists of the User describe into the catalog and the
// lengths of its text fields into lengths.
func (c *catalog) readDescribe(body []byte, lengths map[string]int) error {
	var d describeBody
	if err := json.Unmarshal(body, &d); err != nil {
		return fmt.Errorf("decoding the User describe: %w", err)
	}
	for _, f := range d.Fields {
		if f.Length > 0 && f.Type != "picklist" && f.Type != "reference" && f.Type != "id" {
			lengths[f.Name] = f.Length
		}
		if !f.RestrictedPicklist {
			continue
		}
		var vals []string
		for _, v := range f.PicklistValues {
			if v.Active {
				vals = append(vals, v.Value)
			}
		}
		c.picklists[f.Name] = vals
	}
	return nil
}

// add takes one row of the catalog query ref (catalogQueries) into the catalog.
func (c *catalog) add(ref string, rec map[string]any) {
	switch ref {
	case "ps":
		c.groups = append(c.groups, group{
			ID: str(rec["Id"]), Name: str(rec["Name"]), Label: str(rec["Label"]),
			Description: str(rec["Description"]), LicenseID: str(rec["LicenseId"]),
			Created: str(rec["CreatedDate"]), LastModified: str(rec["LastModifiedDate"]),
			Aggregate: str(rec["PermissionSetGroupId"]) != "",
		})
	case "psg":
		c.groups = append(c.groups, group{
			ID: str(rec["Id"]), Name: str(rec["DeveloperName"]), Label: str(rec["MasterLabel"]),
			Description: str(rec["Description"]),
			Created:     str(rec["CreatedDate"]), LastModified: str(rec["LastModifiedDate"]),
			IsPSG: true,
		})
	case "prof":
		c.profiles = append(c.profiles, profile{ID: str(rec["Id"]), Name: str(rec["Name"]), LicenseID: str(rec["UserLicenseId"]), UserType: str(rec["UserType"])})
	}
}
