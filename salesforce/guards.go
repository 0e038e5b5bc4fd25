package salesforce

import (
	"context"

	"github.com/scim-bridge/scim-bridge/scimschema"
)

// Guards against costly mistakes: writes the bridge refuses although Salesforce would carry them out.

// guardIntegrationUser refuses to deprovision (deactivate, freeze or delete) the user the bridge
// authenticates as. Salesforce would comply, and every later request would then fail with an
// authentication error until an administrator reactivates the user. Okta matches this user to an
// IdP account when its Username equals an IdP login, so an ordinary unassignment can cause it.
func (b *Backend) guardIntegrationUser(ctx context.Context, uid, operation string) error {
	self, err := b.c.IntegrationUser(ctx)
	if err != nil {
		return err
	}
	if uid != self {
		return nil
	}
	b.logger(ctx).Warn().Str("operation", operation).Str("target", uid).Str("actor", scimschema.Actor(ctx)).
		Msg("refused to deprovision the integration user")
	return &scimschema.Error{Kind: scimschema.KindConflict,
		Detail: "this user is the Salesforce integration user the bridge signs in as; deactivating, freezing or deleting it would stop all provisioning, so the bridge refuses (attribute updates are allowed)"}
}
