package emulator

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
)

// fieldDef is the emulator's full description of one sObject field: what describe reports, what
// the write rules check, and (through objectMeta) what the SOQL engine sees.
type fieldDef struct {
	Name   string
	Label  string
	Type   string // describe type, see fieldMeta.Type
	Length int    // maximum length of string-like fields, 0 when not applicable
	// Required means "must have a value on create and cannot be set to null": not nillable and
	// not defaulted on create.
	Required          bool
	Nillable          bool
	Createable        bool
	Updateable        bool
	DefaultedOnCreate bool
	Picklist          []string // picklist values, in describe order
	Restricted        bool     // restricted picklist: values outside Picklist are rejected
	DefaultValue      string   // picklist default value, "" when none
	ReferenceTo       string
	RelationshipName  string
}

// objectDef describes one sObject type.
type objectDef struct {
	Name   string
	Label  string
	Prefix string
	// Operations the REST API allows on the type.
	Createable, Updateable, Deletable bool
	Fields                            []*fieldDef
	byName                            map[string]*fieldDef // by canonical and by lower-cased name
	meta                              *objectMeta
}

// field finds a field by name, case-insensitively; the canonical spelling needs no case mapping.
func (o *objectDef) field(name string) *fieldDef {
	if f := o.byName[name]; f != nil {
		return f
	}
	return o.byName[strings.ToLower(name)]
}

// allowedMethods is the Allow list Salesforce names in a 405 answer for a record URL.
func (o *objectDef) allowedMethods() string {
	s := "HEAD,GET"
	if o.Updateable {
		s += ",PATCH"
	}
	if o.Deletable {
		s += ",DELETE"
	}
	return s
}

// schema is the set of sObject types one emulator serves. It is built once per Emulator and
// never modified afterwards.
type schema struct {
	objects  map[string]*objectDef // lower-cased name
	byPrefix map[string]*objectDef
	ordered  []*objectDef
}

func (s *schema) object(name string) *objectDef { return s.objects[strings.ToLower(name)] }

// objectForID returns the type an id belongs to by its key prefix.
func (s *schema) objectForID(id string) *objectDef {
	if len(id) < 3 {
		return nil
	}
	return s.byPrefix[id[:3]]
}

// Field constructors keep the tables below readable.

func idField() *fieldDef {
	return &fieldDef{Name: "Id", Label: "ID", Type: "id", Length: 18, DefaultedOnCreate: true}
}

func str(name, label string, length int) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "string", Length: length, Nillable: true, Createable: true, Updateable: true}
}

func required(f *fieldDef) *fieldDef {
	f.Required, f.Nillable = true, false
	return f
}

func readOnly(f *fieldDef) *fieldDef {
	f.Createable, f.Updateable = false, false
	return f
}

func createOnly(f *fieldDef) *fieldDef {
	f.Updateable = false
	return f
}

func typed(f *fieldDef, typ string) *fieldDef {
	f.Type = typ
	return f
}

func boolean(name, label string) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "boolean", Createable: true, Updateable: true, DefaultedOnCreate: true}
}

func reference(name, label, to, relationship string) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "reference", Length: 18, Nillable: true, Createable: true,
		Updateable: true, ReferenceTo: to, RelationshipName: relationship}
}

func datetime(name, label string) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "datetime", Nillable: true, Createable: true, Updateable: true}
}

func picklist(name, label string, restricted bool, values []string, def string) *fieldDef {
	return &fieldDef{Name: name, Label: label, Type: "picklist", Length: 40, Nillable: true, Createable: true,
		Updateable: true, Picklist: values, Restricted: restricted, DefaultValue: def}
}

func defaulted(f *fieldDef) *fieldDef {
	f.DefaultedOnCreate, f.Required, f.Nillable = true, false, false
	return f
}

// auditFields are the read-only bookkeeping fields most setup objects carry.
func auditFields() []*fieldDef {
	return []*fieldDef{
		readOnly(defaulted(datetime("CreatedDate", "Created Date"))),
		readOnly(defaulted(reference("CreatedById", "Created By ID", "User", "CreatedBy"))),
		readOnly(defaulted(datetime("LastModifiedDate", "Last Modified Date"))),
		readOnly(defaulted(reference("LastModifiedById", "Last Modified By ID", "User", "LastModifiedBy"))),
		readOnly(defaulted(datetime("SystemModstamp", "System Modstamp"))),
	}
}

// The restricted picklists of User: time zones, locales and languages of real size come from
// picklists.json (its "_sources" names where each list comes from); the short lists stay here.
var (
	timeZones, locales, languages = loadPicklists()
	emailEncodings                = []string{
		"UTF-8", "ISO-8859-1", "Shift_JIS", "ISO-2022-JP", "EUC-JP", "ks_c_5601-1987", "Big5", "GB2312",
		"Big5-HKSCS",
	}
	userTypes = []string{
		"Standard", "PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "Guest", "CspLitePortal",
		"CsnOnly", "SelfService",
	}
	permissionSetTypes = []string{"Regular", "Group", "Profile", "Session", "Standard"}
	psgStatuses        = []string{"Updated", "Outdated", "Updating", "Failed"}
)

func newSchema(p Profile) *schema {
	user := &objectDef{Name: "User", Label: "User", Prefix: "005", Createable: true, Updateable: true,
		Fields: append([]*fieldDef{
			idField(),
			required(typed(str("Username", "Username", 80), "string")),
			str("FirstName", "First Name", 40),
			required(str("LastName", "Last Name", 80)),
			readOnly(str("Name", "Full Name", 121)),
			required(typed(str("Email", "Email", 128), "email")),
			required(str("Alias", "Alias", 8)),
			defaulted(str("CommunityNickname", "Nickname", 40)),
			str("FederationIdentifier", "SAML Federation ID", 512),
			boolean("IsActive", "Active"),
			required(reference("ProfileId", "Profile ID", "Profile", "Profile")),
			reference("UserRoleId", "Role ID", "UserRole", "UserRole"),
			reference("ManagerId", "Manager ID", "User", "Manager"),
			required(picklist("TimeZoneSidKey", "Time Zone", true, timeZones, "")),
			required(picklist("LocaleSidKey", "Locale", true, locales, "")),
			required(picklist("LanguageLocaleKey", "Language", true, languages, "")),
			required(picklist("EmailEncodingKey", "Email Encoding", true, emailEncodings, "")),
			str("Title", "Title", 80),
			str("Department", "Department", 80),
			str("Division", "Division", 80),
			str("CompanyName", "Company Name", 80),
			str("EmployeeNumber", "Employee Number", 20),
			typed(str("Phone", "Phone", 40), "phone"),
			typed(str("MobilePhone", "Mobile", 40), "phone"),
			typed(str("Fax", "Fax", 40), "phone"),
			typed(str("Extension", "Extension", 40), "phone"),
			typed(str("Street", "Street", 255), "textarea"),
			str("City", "City", 40),
			str("State", "State/Province", 80),
			str("PostalCode", "Zip/Postal Code", 20),
			str("Country", "Country", 80),
			readOnly(defaulted(picklist("UserType", "User Type", true, userTypes, "Standard"))),
			defaulted(picklist("DefaultGroupNotificationFrequency", "Default Notification Frequency when Joining Groups", true, []string{"P", "D", "W", "N"}, "N")),
			defaulted(picklist("DigestFrequency", "Chatter Email Highlights Frequency", true, []string{"D", "W", "N"}, "D")),
			readOnly(datetime("LastLoginDate", "Last Login")),
		}, auditFields()...)}

	profile := &objectDef{Name: "Profile", Label: "Profile", Prefix: "00e", Createable: true, Updateable: true, Deletable: true,
		Fields: append([]*fieldDef{
			idField(),
			required(str("Name", "Name", 255)),
			createOnly(required(reference("UserLicenseId", "User License ID", "UserLicense", "UserLicense"))),
			readOnly(defaulted(picklist("UserType", "User Type", true, userTypes, "Standard"))),
			typed(str("Description", "Description", 255), "textarea"),
		}, auditFields()...)}

	license := &objectDef{Name: "UserLicense", Label: "User License", Prefix: "100",
		Fields: append([]*fieldDef{
			idField(),
			readOnly(str("Name", "Name", 40)),
			readOnly(str("MasterLabel", "Master Label", 40)),
			readOnly(str("LicenseDefinitionKey", "License Definition Key", 40)),
			readOnly(&fieldDef{Name: "TotalLicenses", Label: "Total Licenses", Type: "int"}),
			readOnly(&fieldDef{Name: "UsedLicenses", Label: "Used Licenses", Type: "int"}),
			readOnly(picklist("Status", "Status", true, []string{"Active", "Disabled"}, "Active")),
		}, auditFields()...)}

	role := &objectDef{Name: "UserRole", Label: "Role", Prefix: "00E", Createable: true, Updateable: true, Deletable: true,
		Fields: append([]*fieldDef{
			idField(),
			required(str("Name", "Name", 80)),
			str("DeveloperName", "Developer Name", 80),
			reference("ParentRoleId", "Parent Role ID", "UserRole", ""),
		}, auditFields()...)}

	permissionSet := &objectDef{Name: "PermissionSet", Label: "Permission Set", Prefix: "0PS", Createable: true, Updateable: true, Deletable: true,
		Fields: append([]*fieldDef{
			idField(),
			required(str("Name", "Name", 80)),
			required(str("Label", "Label", 80)),
			typed(str("Description", "Description", 255), "textarea"),
			readOnly(defaulted(boolean("IsOwnedByProfile", "Is Owned By Profile"))),
			readOnly(reference("ProfileId", "Profile ID", "Profile", "Profile")),
			readOnly(defaulted(boolean("IsCustom", "Custom"))),
			createOnly(reference("LicenseId", "License ID", "UserLicense", "License")),
			readOnly(reference("PermissionSetGroupId", "Permission Set Group ID", "PermissionSetGroup", "PermissionSetGroup")),
			readOnly(defaulted(picklist("Type", "Type", true, permissionSetTypes, "Regular"))),
			readOnly(str("NamespacePrefix", "Namespace Prefix", 15)),
			boolean("HasActivationRequired", "Session Activation Required"),
		}, auditFields()...)}

	group := &objectDef{Name: "PermissionSetGroup", Label: "Permission Set Group", Prefix: "0PG", Createable: true, Updateable: true, Deletable: true,
		Fields: append([]*fieldDef{
			idField(),
			required(str("DeveloperName", "Developer Name", 80)),
			required(str("MasterLabel", "Label", 80)),
			typed(str("Description", "Description", 255), "textarea"),
			picklist("Language", "Language", true, languages, ""),
			readOnly(defaulted(picklist("Status", "Status", true, psgStatuses, "Updated"))),
			readOnly(str("NamespacePrefix", "Namespace Prefix", 15)),
			boolean("HasActivationRequired", "Session Activation Required"),
		}, auditFields()...)}

	assignment := &objectDef{Name: "PermissionSetAssignment", Label: "Permission Set Assignment", Prefix: "0Pa", Createable: true, Updateable: true, Deletable: true,
		Fields: []*fieldDef{
			idField(),
			createOnly(required(reference("AssigneeId", "Assignee ID", "User", "Assignee"))),
			createOnly(reference("PermissionSetId", "Permission Set ID", "PermissionSet", "PermissionSet")),
			createOnly(reference("PermissionSetGroupId", "Permission Set Group ID", "PermissionSetGroup", "PermissionSetGroup")),
			datetime("ExpirationDate", "Expiration Date"),
			readOnly(defaulted(boolean("IsActive", "Is Active"))),
			readOnly(defaulted(datetime("SystemModstamp", "System Modstamp"))),
		}}

	// Permission set licences (object reference: PermissionSetLicense, PermissionSetLicenseAssign):
	// Salesforce provisions the licences; the API assigns and removes their seats. A permission
	// set whose LicenseId is a permission set licence can only be assigned to a user who holds it.
	psl := &objectDef{Name: "PermissionSetLicense", Label: "Permission Set License", Prefix: "0PL",
		Fields: append([]*fieldDef{
			idField(),
			readOnly(str("DeveloperName", "Developer Name", 80)),
			readOnly(str("MasterLabel", "Label", 80)),
			readOnly(str("PermissionSetLicenseKey", "Permission Set License Key", 80)),
			readOnly(&fieldDef{Name: "TotalLicenses", Label: "Total Licenses", Type: "int"}),
			readOnly(&fieldDef{Name: "UsedLicenses", Label: "Used Licenses", Type: "int"}),
			readOnly(picklist("Status", "Status", true, []string{"Active", "Disabled"}, "Active")),
		}, auditFields()...)}
	pslAssign := &objectDef{Name: "PermissionSetLicenseAssign", Label: "Permission Set License Assignment", Prefix: "2LA", Createable: true, Deletable: true,
		Fields: append([]*fieldDef{
			idField(),
			createOnly(required(reference("AssigneeId", "Assignee ID", "User", "Assignee"))),
			createOnly(required(reference("PermissionSetLicenseId", "Permission Set License ID", "PermissionSetLicense", "PermissionSetLicense"))),
		}, auditFields()...)}

	login := &objectDef{Name: "UserLogin", Label: "User Login", Prefix: "0Yw", Updateable: true,
		Fields: []*fieldDef{
			idField(),
			readOnly(reference("UserId", "User ID", "User", "User")),
			defaulted(boolean("IsFrozen", "Is Frozen")),
			defaulted(boolean("IsPasswordLocked", "Is Password Locked")),
			readOnly(defaulted(datetime("LastModifiedDate", "Last Modified Date"))),
			readOnly(defaulted(reference("LastModifiedById", "Last Modified By ID", "User", "LastModifiedBy"))),
		}}

	s := &schema{objects: map[string]*objectDef{}, byPrefix: map[string]*objectDef{}}
	for _, o := range []*objectDef{user, profile, license, role, permissionSet, group, assignment, login, psl, pslAssign} {
		o.byName = map[string]*fieldDef{}
		o.meta = &objectMeta{Name: o.Name, Fields: map[string]*fieldMeta{}, Children: map[string]*childRelationship{}}
		for _, f := range o.Fields {
			o.byName[f.Name], o.byName[strings.ToLower(f.Name)] = f, f
			o.meta.Fields[strings.ToLower(f.Name)] = &fieldMeta{Name: f.Name, Type: f.Type, ReferenceTo: f.ReferenceTo,
				RelationshipName: f.RelationshipName, Filterable: true, Sortable: f.Type != "textarea"}
		}
		s.objects[strings.ToLower(o.Name)] = o
		s.byPrefix[o.Prefix] = o
		s.ordered = append(s.ordered, o)
	}
	addChild := func(parent *objectDef, name, child, field string) {
		parent.meta.Children[strings.ToLower(name)] = &childRelationship{Name: name, Object: child, Field: field}
	}
	addChild(user, "PermissionSetAssignments", "PermissionSetAssignment", "AssigneeId")
	addChild(permissionSet, "Assignments", "PermissionSetAssignment", "PermissionSetId")
	if p != ProfileStrict {
		// Not listed in the object reference (O-USER, O-PSG): the strict profile answers
		// INVALID_TYPE "Didn't understand relationship" for them.
		addChild(user, "UserLogins", "UserLogin", "UserId")
		addChild(group, "Assignments", "PermissionSetAssignment", "PermissionSetGroupId")
	}
	addChild(profile, "Users", "User", "ProfileId")
	return s
}

//go:embed picklists.json
var picklistsJSON []byte

// loadPicklists reads picklists.json. The file is part of the package, so an error is a build
// defect.
func loadPicklists() (timeZones, locales, languages []string) {
	var f struct {
		TimeZones []string `json:"timeZones"`
		Locales   []string `json:"locales"`
		Languages []string `json:"languages"`
	}
	if err := json.Unmarshal(picklistsJSON, &f); err != nil || len(f.TimeZones) == 0 || len(f.Locales) == 0 || len(f.Languages) == 0 {
		panic(fmt.Sprintf("emulator: picklists.json: %v", err))
	}
	return f.TimeZones, f.Locales, f.Languages
}
