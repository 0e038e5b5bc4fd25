package rest

import (
	"context"

	"golang.org/x/oauth2"
)

// Refresh-token rotation across replicas.
//
// With the connected app's "refresh token rotation", every refresh answers with a new refresh
// token and revokes the one presented. Replicas that share one token_file must therefore never
// both spend the same refresh token, and each must pick up the token another one stored:
//
//   - obtain holds an exclusive flock on "<token_file>.lock" from reading the file to writing the
//     rotated token back, so refresh-and-persist is serialised across processes (the lock file is
//     separate because the token file itself is replaced by rename, which a lock on it would not
//     survive);
//   - under the lock it re-reads the token file and uses the token found there when it differs from
//     the one in memory (another replica rotated it);
//   - if Salesforce still answers invalid_grant, it re-reads the file once more and retries once
//     when the file now holds another token (an operator, or a writer that does not lock, replaced
//     it);
//   - a rotated token that cannot be written is counted in scim_bridge_token_persist_failures_total
//     and logged as an error: the call at hand proceeds, but the next restart or replica needs a new
//     refresh token.
//
// If the token endpoint's answer is lost (the connection drops after Salesforce rotated), the old
// refresh token is revoked and the new one was never seen: no retry can recover, and an operator
// must issue a new refresh token (docs/reliability.md).

// obtain gets a new access token for the configured flow, rotating and persisting the refresh
// token as described above. The caller holds t.fetching.
func (t *tokens) obtain(ctx context.Context) (*oauth2.Token, error) {
	if t.flow != FlowRefreshToken {
		return t.fetch(ctx, "")
	}
	if t.tokenFile == "" {
		tok, err := t.fetch(ctx, t.refreshToken())
		if err == nil {
			t.adoptRotated(tok)
		}
		return tok, err
	}
	unlock, err := lockFile(ctx, t.tokenFile+".lock")
	if err != nil {
		if ctx.Err() != nil {
			return nil, transportError(ctx.Err())
		}
		// Without the lock a concurrent replica may spend the same token; one of the two then
		// recovers through the re-read below.
		t.logger(ctx).Warn().Err(err).Str("token_file", t.tokenFile).
			Msg("salesforce: cannot lock the token file; refreshing without it")
		unlock = func() {}
	}
	defer unlock()

	used := t.refreshFromFile(ctx)
	tok, err := t.fetch(ctx, used)
	if IsCode(err, "invalid_grant") { // the refresh token was refused (expired, revoked, or spent by another replica)
		if newer := t.refreshFromFile(ctx); newer != used {
			t.logger(ctx).Info().Str("token_file", t.tokenFile).
				Msg("salesforce: refresh token refused; retrying with the newer one in the token file")
			tok, err = t.fetch(ctx, newer)
		}
	}
	if err != nil {
		return nil, err
	}
	if t.adoptRotated(tok) {
		t.persist(ctx, tok.RefreshToken)
	}
	return tok, nil
}

// refreshToken is the refresh token in memory.
func (t *tokens) refreshToken() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.refresh
}

// refreshFromFile returns the refresh token to spend: the token file's when it holds one (adopting
// it in memory), else the one in memory. A file that cannot be read is logged and ignored.
func (t *tokens) refreshFromFile(ctx context.Context) string {
	stored, ok, err := readTokenFile(t.tokenFile)
	if err != nil {
		t.logger(ctx).Error().Str("token_file", t.tokenFile).Str("reason", err.Error()).
			Msg("salesforce: cannot read the token file; using the refresh token in memory")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok && stored != t.refresh {
		t.refresh = stored
	}
	return t.refresh
}

// adoptRotated keeps the refresh token a token response rotated to and reports whether it did.
func (t *tokens) adoptRotated(tok *oauth2.Token) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok.RefreshToken == "" || tok.RefreshToken == t.refresh {
		return false
	}
	t.refresh = tok.RefreshToken
	return true
}

// persist writes a rotated refresh token to the token file. The old token is already revoked:
// losing the new one means a manual re-issue after the next restart, so a failure is loud.
func (t *tokens) persist(ctx context.Context, refresh string) {
	if err := writeTokenFile(t.tokenFile, refresh); err != nil {
		t.metrics.tokenPersistFailure()
		t.logger(ctx).Error().Err(err).Str("token_file", t.tokenFile).
			Msg("salesforce: cannot persist the rotated refresh token; other replicas and the next restart will need a new one")
		return
	}
	t.logger(ctx).Info().Str("token_file", t.tokenFile).Msg("salesforce: rotated refresh token persisted")
}

// RotatingTokenFile is salesforce.token_file when the refresh-token flow persists rotated tokens
// there, "" otherwise.
func (c *Client) RotatingTokenFile() string {
	if c.tokens.flow != FlowRefreshToken {
		return ""
	}
	return c.tokens.tokenFile
}
