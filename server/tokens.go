package server

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync/atomic"
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
	var problems []error
	if len(tokens) == 0 {
		problems = append(problems, errors.New("Tokens: at least one bearer token is required"))
	}
	for i, t := range tokens {
		if t.Name == "" {
			problems = append(problems, fmt.Errorf("Tokens[%d].Name: must not be empty", i))
		}
		if t.Token == "" {
			problems = append(problems, fmt.Errorf("Tokens[%d].Token: must not be empty", i))
		}
	}
	if err := errors.Join(problems...); err != nil {
		return err
	}
	d := digestTokens(tokens)
	s.digests.Store(&d)
	return nil
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
