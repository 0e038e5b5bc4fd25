package emulator

import (
	"encoding/json"
	"fmt"
	"io"
)

// Seed is the org an emulator starts with (and returns to on Reset). Records refer to each other
// by name. The first user is the integration user: the configured refresh token and the
// client-credentials grant run as that user.
type Seed struct {
	Licenses              []SeedLicense              `json:"licenses"`
	PermissionSetLicenses []SeedPermissionSetLicense `json:"permissionSetLicenses,omitempty"`
	Profiles              []SeedProfile              `json:"profiles"`
	PermissionSets        []SeedPermissionSet        `json:"permissionSets"`
	PermissionSetGroups   []SeedPermissionSetGroup   `json:"permissionSetGroups"`
	Users                 []SeedUser                 `json:"users"`
}

// SeedLicense is a UserLicense with its number of seats.
type SeedLicense struct {
	Name                 string `json:"name"`
	TotalLicenses        int    `json:"totalLicenses"`
	LicenseDefinitionKey string `json:"licenseDefinitionKey,omitempty"`
}

// SeedPermissionSetLicense is a PermissionSetLicense (Name is its DeveloperName) with its seats.
type SeedPermissionSetLicense struct {
	Name          string `json:"name"`
	Label         string `json:"label"`
	TotalLicenses int    `json:"totalLicenses"`
}

// SeedProfile is a Profile; License names its UserLicense. Each profile gets its owned permission set.
type SeedProfile struct {
	Name        string `json:"name"`
	License     string `json:"license"`
	Description string `json:"description,omitempty"`
}

// SeedPermissionSet is an assignable PermissionSet. A non-empty License restricts it to users
// whose profile has that licence.
type SeedPermissionSet struct {
	Name        string `json:"name"`
	Label       string `json:"label"`
	Description string `json:"description,omitempty"`
	License     string `json:"license,omitempty"`
	// PermissionSetLicense names a permission set licence a user must hold before the permission
	// set can be assigned (instead of License).
	PermissionSetLicense string `json:"permissionSetLicense,omitempty"`
}

// SeedPermissionSetGroup is a PermissionSetGroup (Status Updated).
type SeedPermissionSetGroup struct {
	DeveloperName string `json:"developerName"`
	MasterLabel   string `json:"masterLabel"`
	Description   string `json:"description,omitempty"`
}

// SeedUser is a User. Empty locale keys default to America/Los_Angeles, en_US, en_US and UTF-8;
// PermissionSets and PermissionSetGroups name assignments; Frozen sets UserLogin.IsFrozen.
type SeedUser struct {
	Username              string   `json:"username"`
	FirstName             string   `json:"firstName,omitempty"`
	LastName              string   `json:"lastName"`
	Email                 string   `json:"email"`
	Alias                 string   `json:"alias"`
	CommunityNickname     string   `json:"communityNickname,omitempty"`
	Profile               string   `json:"profile"`
	IsActive              *bool    `json:"isActive,omitempty"`
	FederationIdentifier  string   `json:"federationIdentifier,omitempty"`
	TimeZoneSidKey        string   `json:"timeZoneSidKey,omitempty"`
	LocaleSidKey          string   `json:"localeSidKey,omitempty"`
	LanguageLocaleKey     string   `json:"languageLocaleKey,omitempty"`
	EmailEncodingKey      string   `json:"emailEncodingKey,omitempty"`
	PermissionSetLicenses []string `json:"permissionSetLicenses,omitempty"`
	PermissionSets        []string `json:"permissionSets,omitempty"`
	PermissionSetGroups   []string `json:"permissionSetGroups,omitempty"`
	Frozen                bool     `json:"frozen,omitempty"`
}

// DefaultSeed returns a small realistic org: two licences, three profiles, six permission sets
// (Sales_Cloud_User requires the Salesforce licence, so Chatter Free users cannot get it;
// CRM_Analytics_Explorer requires the permission set licence CRM_Analytics_Plus, 10 seats), one
// permission set group and the integration user admin@emulator.example.com.
func DefaultSeed() *Seed {
	return &Seed{
		Licenses: []SeedLicense{
			{Name: "Salesforce", TotalLicenses: 20, LicenseDefinitionKey: "SFDC"},
			{Name: "Chatter Free", TotalLicenses: 5, LicenseDefinitionKey: "CSN_User"},
		},
		PermissionSetLicenses: []SeedPermissionSetLicense{
			{Name: "CRM_Analytics_Plus", Label: "CRM Analytics Plus", TotalLicenses: 10},
		},
		Profiles: []SeedProfile{
			{Name: "System Administrator", License: "Salesforce"},
			{Name: "Standard User", License: "Salesforce"},
			{Name: "Chatter Free User", License: "Chatter Free"},
		},
		PermissionSets: []SeedPermissionSet{
			{Name: "Sales_Ops", Label: "Sales Operations", Description: "Manage opportunities and forecasts"},
			{Name: "Support_Agent", Label: "Support Agent", Description: "Work cases in the service console"},
			{Name: "Marketing_User", Label: "Marketing User", Description: "Create and manage campaigns"},
			{Name: "Analytics_Viewer", Label: "Analytics Viewer", Description: "View reports and dashboards"},
			{Name: "Sales_Cloud_User", Label: "Sales Cloud User", Description: "Full Sales Cloud access", License: "Salesforce"},
			{Name: "CRM_Analytics_Explorer", Label: "CRM Analytics Explorer", Description: "Explore CRM Analytics dashboards",
				PermissionSetLicense: "CRM_Analytics_Plus"},
		},
		PermissionSetGroups: []SeedPermissionSetGroup{
			{DeveloperName: "Sales_Team", MasterLabel: "Sales Team", Description: "Everything a sales rep needs"},
		},
		Users: []SeedUser{{
			Username: "admin@emulator.example.com", FirstName: "Integration", LastName: "Admin",
			Email: "admin@emulator.example.com", Alias: "iadmin", Profile: "System Administrator",
		}},
	}
}

// LoadSeed reads a Seed from JSON (the format of `scim-bridge emulator --seed FILE`). Unknown keys
// are errors.
func LoadSeed(r io.Reader) (*Seed, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s Seed
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("reading seed: %w", err)
	}
	if len(s.Users) == 0 {
		return nil, fmt.Errorf("reading seed: users: at least one user (the integration user) is required")
	}
	return &s, nil
}

// loadSeed fills an empty store from the seed through the same rules as the REST API.
func (e *Emulator) loadSeed(s *Seed) error {
	if len(s.Users) == 0 {
		return fmt.Errorf("users: at least one user (the integration user) is required")
	}
	licenses, profiles, sets, groups := map[string]string{}, map[string]string{}, map[string]string{}, map[string]string{}
	lookup := func(kind string, ids map[string]string, name string) (string, error) {
		if id, ok := ids[name]; ok {
			return id, nil
		}
		return "", fmt.Errorf("unknown %s %q", kind, name)
	}
	licenseType := e.schema.object("UserLicense")
	for i, l := range s.Licenses {
		row := emptyRow(licenseType)
		id := e.st.newID(licenseType)
		row["Id"], row["Name"], row["MasterLabel"], row["LicenseDefinitionKey"] = id, l.Name, l.Name, nilIfEmpty(l.LicenseDefinitionKey)
		row["TotalLicenses"], row["UsedLicenses"], row["Status"] = l.TotalLicenses, 0, "Active"
		e.stampCreate(licenseType, row, id, "")
		e.st.insert(licenseType.Name, id, row)
		if l.Name == "" {
			return fmt.Errorf("licenses[%d]: name is required", i)
		}
		licenses[l.Name] = id
	}
	pslType := e.schema.object("PermissionSetLicense")
	pslIDs := map[string]string{}
	for i, l := range s.PermissionSetLicenses {
		if l.Name == "" {
			return fmt.Errorf("permissionSetLicenses[%d]: name is required", i)
		}
		row := emptyRow(pslType)
		id := e.st.newID(pslType)
		row["Id"], row["DeveloperName"], row["MasterLabel"], row["PermissionSetLicenseKey"] = id, l.Name, orDefault(l.Label, l.Name), l.Name
		row["TotalLicenses"], row["UsedLicenses"], row["Status"] = l.TotalLicenses, 0, "Active"
		e.stampCreate(pslType, row, id, "")
		e.st.insert(pslType.Name, id, row)
		pslIDs[l.Name] = id
	}
	insert := func(where, object string, fields map[string]any) (string, error) {
		id, err := e.create(e.schema.object(object), fields, e.adminID)
		if err != nil {
			return "", fmt.Errorf("%s: %s", where, err.Message)
		}
		return id, nil
	}
	for i, p := range s.Profiles {
		lic, err := lookup("license", licenses, p.License)
		if err != nil {
			return fmt.Errorf("profiles[%d]: %w", i, err)
		}
		if profiles[p.Name], err = insert(fmt.Sprintf("profiles[%d]", i), "Profile",
			map[string]any{"Name": p.Name, "UserLicenseId": lic, "Description": p.Description}); err != nil {
			return err
		}
	}
	for i, p := range s.PermissionSets {
		fields := map[string]any{"Name": p.Name, "Label": p.Label, "Description": p.Description}
		if p.License != "" {
			lic, err := lookup("license", licenses, p.License)
			if err != nil {
				return fmt.Errorf("permissionSets[%d]: %w", i, err)
			}
			fields["LicenseId"] = lic
		}
		if p.PermissionSetLicense != "" {
			lic, err := lookup("permission set license", pslIDs, p.PermissionSetLicense)
			if err != nil {
				return fmt.Errorf("permissionSets[%d]: %w", i, err)
			}
			fields["LicenseId"] = lic
		}
		var err error
		if sets[p.Name], err = insert(fmt.Sprintf("permissionSets[%d]", i), "PermissionSet", fields); err != nil {
			return err
		}
	}
	for i, g := range s.PermissionSetGroups {
		var err error
		if groups[g.DeveloperName], err = insert(fmt.Sprintf("permissionSetGroups[%d]", i), "PermissionSetGroup",
			map[string]any{"DeveloperName": g.DeveloperName, "MasterLabel": g.MasterLabel, "Description": g.Description}); err != nil {
			return err
		}
	}
	for i, u := range s.Users {
		where := fmt.Sprintf("users[%d]", i)
		profile, err := lookup("profile", profiles, u.Profile)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		fields := map[string]any{
			"Username": u.Username, "FirstName": u.FirstName, "LastName": u.LastName, "Email": u.Email,
			"Alias": u.Alias, "CommunityNickname": u.CommunityNickname, "ProfileId": profile,
			"FederationIdentifier": u.FederationIdentifier,
			"TimeZoneSidKey":       orDefault(u.TimeZoneSidKey, "America/Los_Angeles"),
			"LocaleSidKey":         orDefault(u.LocaleSidKey, "en_US"),
			"LanguageLocaleKey":    orDefault(u.LanguageLocaleKey, "en_US"),
			"EmailEncodingKey":     orDefault(u.EmailEncodingKey, "UTF-8"),
		}
		if u.IsActive != nil {
			fields["IsActive"] = *u.IsActive
		}
		id, err := insert(where, "User", fields)
		if err != nil {
			return err
		}
		if i == 0 {
			e.adminID = id
		}
		for _, name := range u.PermissionSetLicenses {
			lic, err := lookup("permission set license", pslIDs, name)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if _, err := insert(where, "PermissionSetLicenseAssign", map[string]any{"AssigneeId": id, "PermissionSetLicenseId": lic}); err != nil {
				return err
			}
		}
		for _, name := range u.PermissionSets {
			ps, err := lookup("permission set", sets, name)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if _, err := insert(where, "PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetId": ps}); err != nil {
				return err
			}
		}
		for _, name := range u.PermissionSetGroups {
			g, err := lookup("permission set group", groups, name)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if _, err := insert(where, "PermissionSetAssignment", map[string]any{"AssigneeId": id, "PermissionSetGroupId": g}); err != nil {
				return err
			}
		}
		if u.Frozen {
			login := e.st.findBy("UserLogin", "UserId", id, nil)
			if login == nil {
				return fmt.Errorf("%s: frozen needs a UserLogin row (Quirks.OmitUserLoginRows is set)", where)
			}
			if err := e.update(e.schema.object("UserLogin"), login["Id"].(string), map[string]any{"IsFrozen": true}, e.adminID); err != nil {
				return fmt.Errorf("%s: %s", where, err.Message)
			}
		}
	}
	// Records seeded before the integration user existed were "created by" themselves; credit
	// them to the integration user instead. Nothing has been handed out yet, so rows are edited in place.
	for _, o := range e.schema.ordered {
		for _, row := range e.st.all(o.Name) {
			for _, f := range []string{"CreatedById", "LastModifiedById"} {
				if id, ok := row[f].(string); ok && e.st.get("User", id) == nil {
					row[f] = e.adminID
				}
			}
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
