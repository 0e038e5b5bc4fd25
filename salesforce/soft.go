package salesforce

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zone aliases resolve the same in a distroless image

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scim-bridge/scim-bridge/salesforce/rest"
	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Soft data never refuses a person (DESIGN.md, Users): what the mapping normalised, defaulted or
// truncated, and what this file settles against the org — a CommunityNickname someone else holds,
// a manager given by username or another system's id — is written anyway, audited and counted.

const managerPath = scimschema.EnterpriseUserURN + ":manager"

// softMetrics counts soft values the bridge could not take as sent.
type softMetrics struct {
	defaulted  *prometheus.CounterVec
	unresolved *prometheus.CounterVec
}

func newSoftMetrics(reg prometheus.Registerer) (softMetrics, error) {
	m := softMetrics{
		defaulted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_bridge_defaulted_values_total",
			Help: "Picklist values from the IdP that matched nothing in the org and were replaced by users.defaults, by Salesforce field.",
		}, []string{"field"}),
		unresolved: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scim_bridge_unresolved_references_total",
			Help: "References from the IdP (manager) that matched no Salesforce user and were left unchanged, by SCIM attribute.",
		}, []string{"attribute"}),
	}
	if reg != nil {
		for _, c := range []**prometheus.CounterVec{&m.defaulted, &m.unresolved} {
			if err := reg.Register(*c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					return m, fmt.Errorf("registering metrics: %w", err)
				}
				*c = are.ExistingCollector.(*prometheus.CounterVec)
			}
		}
	}
	for _, f := range []string{"LanguageLocaleKey", "LocaleSidKey", "TimeZoneSidKey"} {
		m.defaulted.WithLabelValues(f)
	}
	m.unresolved.WithLabelValues("manager")
	return m, nil
}

// userDescribe builds what the mapping needs of the User describe. Time zone aliases are read from
// Go's tz database (embedded above, so the answer does not depend on the host).
func userDescribe(picklists scimschema.Picklists, lengths map[string]int) scimschema.UserDescribe {
	d := scimschema.UserDescribe{Picklists: picklists, Lengths: lengths}
	if zones, ok := picklists["TimeZoneSidKey"]; ok {
		d.Zones = scimschema.NewZoneMatcher(zones, time.LoadLocation)
	}
	return d
}

// softFixes is what one write settled against the org, for its audit line.
type softFixes struct {
	defaulted    []string // from the mapping (scimschema.UserWrite)
	truncated    []string
	manager      string // manager.value as sent, "" when the write sets no manager
	looked       bool   // the manager was looked up by id, federation id and username
	deduplicated []string
	unresolved   []string
	nickBase     string // the nickname first asked for, once it collided
	nickTries    int
	audited      bool // an audit line named these fixes
}

// prepareManager makes fields' ManagerId a User Id. manager.value may be a Salesforce User Id
// (written as is: Salesforce checks it, and fixRefusal looks it up when Salesforce refuses it),
// else it is looked up by the externalId field (FederationIdentifier) and by Username. One query
// when it is not an id; none when it is.
func (o *operation) prepareManager(fields map[string]any, fx *softFixes) error {
	v, ok := fields["ManagerId"].(string)
	if !ok {
		return nil
	}
	fx.manager = v
	if id, ok := rest.CanonicalID(strings.TrimSpace(v), rest.PrefixUser); ok {
		fields["ManagerId"] = id
		return nil
	}
	return o.lookupManager(fields, fx)
}

// lookupManager resolves fx.manager by Id, then the externalId field, then Username (through the
// username transforms), in that order of precedence; unresolved, ManagerId is left as it is.
func (o *operation) lookupManager(fields map[string]any, fx *softFixes) error {
	fx.looked = true
	v := strings.TrimSpace(fx.manager)
	m := o.b.mapper
	sel := []string{"Id", "Username"}
	var conds []rest.Cond
	id, isID := rest.CanonicalID(v, rest.PrefixUser)
	if isID {
		conds = append(conds, rest.Eq("Id", id))
	}
	ext := m.ExternalIDField()
	if ext != "" {
		conds = append(conds, rest.Eq(ext, v))
		if ext != "Username" {
			sel = append(sel, ext)
		}
	}
	username, err := m.UsernameToSalesforce(v)
	if err == nil {
		conds = append(conds, rest.Eq("Username", username))
	}
	found := ""
	if len(conds) > 0 {
		q, err := rest.Select(sel...).From("User").Where(rest.Or(conds...)).Limit(10).String()
		if err != nil {
			return err
		}
		res, err := o.b.c.Query(o.ctx, q, 0)
		if err != nil {
			return err
		}
		rank := 4
		for _, r := range res.Records {
			rid := str(r["Id"])
			switch {
			case isID && rest.SameID(rid, id) && rank > 1:
				found, rank = rid, 1
			case ext != "" && strings.EqualFold(str(r[ext]), v) && rank > 2:
				found, rank = rid, 2
			case username != "" && strings.EqualFold(str(r["Username"]), username) && rank > 3:
				found, rank = rid, 3
			}
		}
	}
	if found == "" {
		delete(fields, "ManagerId")
		fx.unresolved = append(fx.unresolved, managerPath)
		o.b.soft.unresolved.WithLabelValues("manager").Inc()
		return nil
	}
	fields["ManagerId"] = found
	return nil
}

// fixRefusal settles a write Salesforce refused because of soft data, changing fields for another
// attempt: a CommunityNickname another user holds (deactivated users included) gets the first
// free numeric suffix; a ManagerId Salesforce does not know is looked up, else left unchanged.
// retry is false when the refusal is not one of these.
func (o *operation) fixRefusal(err error, fields map[string]any, fx *softFixes) (retry bool, _ error) {
	var e *rest.Error
	if !errors.As(err, &e) {
		return false, nil
	}
	switch {
	case e.Code == "DUPLICATE_COMM_NICKNAME":
		nick, ok := fields["CommunityNickname"].(string)
		if !ok {
			return false, nil
		}
		if fx.nickBase == "" {
			fx.nickBase = nick
		}
		// Concurrent creates of one local part race for the same suffix; after a lost race the
		// pick moves a random number of free suffixes further, so the racers spread out.
		free, err := o.freeNickname(fx.nickBase, rand.IntN(fx.nickTries+1))
		fx.nickTries++
		if err != nil {
			return false, err
		}
		fields["CommunityNickname"] = free
		if !slices.Contains(fx.deduplicated, "CommunityNickname") {
			fx.deduplicated = append(fx.deduplicated, "CommunityNickname")
		}
		return true, nil
	case e.Code == "INVALID_CROSS_REFERENCE_KEY" && fields["ManagerId"] != nil &&
		(slices.Contains(e.Fields, "ManagerId") || len(e.Fields) == 0):
		// Salesforce names the field in the emulator's and most observed answers; without a
		// field name the manager is the likely culprit, and a second refusal drops it (bounded
		// by softRetries).
		if fx.looked {
			delete(fields, "ManagerId")
			fx.unresolved = append(fx.unresolved, managerPath)
			o.b.soft.unresolved.WithLabelValues("manager").Inc()
			return true, nil
		}
		return true, o.lookupManager(fields, fx)
	}
	return false, nil
}

// freeNickname returns nick with the first numeric suffix no user of the org holds, skipping skip
// free ones (CommunityNickname is unique across the org, inactive users included; at most 40
// characters). One query.
func (o *operation) freeNickname(nick string, skip int) (string, error) {
	base := truncateRunes(nick, 40)
	prefix := truncateRunes(base, 34)
	q, err := rest.Select("CommunityNickname").From("User").Where(rest.Like("CommunityNickname", rest.LikeEscape(prefix)+"%")).String()
	if err != nil {
		return "", err
	}
	taken := map[string]bool{}
	_, err = o.b.c.QueryEach(o.ctx, q, 0, func(r rest.Record) error {
		taken[strings.ToLower(str(r["CommunityNickname"]))] = true
		return nil
	})
	if err != nil {
		return "", err
	}
	for n := 1; ; n++ {
		suffix := strconv.Itoa(n)
		c := truncateRunes(base, 40-len(suffix)) + suffix
		if !taken[strings.ToLower(c)] {
			if skip == 0 {
				return c, nil
			}
			skip--
		}
	}
}

// fixes names what a write settled against the org, for the one audit line of that write.
// nil (a write that settled nothing, or a dry run) names nothing.
func (fx *softFixes) fixes() SoftFixes {
	if fx == nil {
		return SoftFixes{}
	}
	return SoftFixes{Defaulted: fx.defaulted, Truncated: fx.truncated, Deduplicated: fx.deduplicated, Unresolved: fx.unresolved}
}

// newSoftFixes starts the record of one write with what the mapping settled.
func newSoftFixes(w scimschema.UserWrite) *softFixes {
	return &softFixes{defaulted: w.Defaulted, truncated: w.Truncated}
}

// countDefaulted counts, once a write succeeded, the fields whose value it defaulted.
func (b *Backend) countDefaulted(w scimschema.UserWrite) {
	for _, f := range w.Defaulted {
		b.soft.defaulted.WithLabelValues(f).Inc()
	}
}

// noteUnaudited logs what a successful update settled of soft data when no audit line named it:
// the request changed nothing in Salesforce (an Entra PATCH naming only a manager who is not
// provisioned yet), so there is no change to audit, but the operator still learns what was left
// unresolved. Names only, never values.
func (b *Backend) noteUnaudited(ctx context.Context, target string, fx *softFixes) {
	f := fx.fixes()
	if fx == nil || fx.audited || f.empty() {
		return
	}
	ev := b.logger(ctx).Warn().Str("actor", scimschema.Actor(ctx)).Str("target", target)
	for _, list := range []struct {
		key   string
		names []string
	}{{"defaulted", f.Defaulted}, {"truncated", f.Truncated}, {"deduplicated", f.Deduplicated}, {"unresolved", f.Unresolved}} {
		if len(list.names) > 0 {
			ev = ev.Strs(list.key, list.names)
		}
	}
	ev.Msg("soft data settled in a request that changed nothing in Salesforce (no audit line)")
}
