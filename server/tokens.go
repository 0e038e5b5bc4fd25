package server

import (
	"crypto/sha256"
	"fmt"
	"sync/atomic"

	"github.com/scim-bridge/scim-bridge/scimschema/setting"
)

// TokenSet is the set of accepted bearer tokens. Replace swaps it while requests are being served
// (the process reloads it on SIGHUP): a request is checked against one whole set, old or new.
type TokenSet struct {
	digests atomic.Pointer[[]tokenDigest]
}

// NewTokenSet validates tokens and returns a set holding them.
func NewTokenSet(tokens []Token) (*TokenSet, error) {
	s := &TokenSet{}
	if err := s.Replace(tokens); err != nil {
		return nil, err
	}
	return s, nil
}

// Replace validates tokens and, when they are valid, makes them the accepted set; otherwise the set
// is left as it was.
func (s *TokenSet) Replace(tokens []Token) error {
	if err := validateTokens(tokens).Err(); err != nil {
		return err
	}
	d := digestTokens(tokens)
	s.digests.Store(&d)
	return nil
}

// validateTokens returns the problems of a token list, keyed Tokens[i].Name and Tokens[i].Token.
func validateTokens(tokens []Token) setting.FieldErrors {
	var problems setting.FieldErrors
	if len(tokens) == 0 {
		problems.Add("Tokens", "at least one bearer token is required")
	}
	for i, t := range tokens {
		if t.Name == "" {
			problems.Add(fmt.Sprintf("Tokens[%d].Name", i), "must not be empty")
		}
		if t.Token == "" {
			problems.Add(fmt.Sprintf("Tokens[%d].Token", i), "must not be empty")
		}
	}
	return problems
}

func (s *TokenSet) current() []tokenDigest { return *s.digests.Load() }

// digestTokens hashes each token, so that comparisons take the same time whatever its length.
func digestTokens(tokens []Token) []tokenDigest {
	out := make([]tokenDigest, len(tokens))
	for i, t := range tokens {
		out[i] = tokenDigest{name: t.Name, digest: sha256.Sum256([]byte(t.Token))}
	}
	return out
}
