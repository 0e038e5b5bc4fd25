package rest

import (
	"context"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds the retries of calls that are safe to repeat. The zero value means 3 attempts
// (the first one included), 200ms base and 5s maximum delay, with full jitter.
type RetryPolicy struct {
	Attempts  int
	Base, Max time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts == 0 {
		p.Attempts = 3
	}
	if p.Base == 0 {
		p.Base = 200 * time.Millisecond
	}
	if p.Max == 0 {
		p.Max = 5 * time.Second
	}
	return p
}

// backoff is the full-jitter delay before retry number n (1 = the first retry): uniform in
// [0, min(Max, Base·2^(n-1))].
func (p RetryPolicy) backoff(n int) time.Duration {
	ceiling := p.Base
	for i := 1; i < n && ceiling < p.Max; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.Max)
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// retryable decides whether a failed attempt may be repeated. Reads (safe) are repeated on
// transport failures, 5xx and lock contention. Writes are repeated only when the answer proves
// Salesforce did not apply them: UNABLE_TO_LOCK_ROW, or a JSON 503 SERVER_UNAVAILABLE. A write
// that timed out or lost its connection may have been applied, so it is never repeated: the
// caller gets KindUnavailable and reconciles. REQUEST_LIMIT_EXCEEDED is never retried.
func retryable(err *Error, safe bool) bool {
	switch {
	case err.Code == "UNABLE_TO_LOCK_ROW":
		return true
	case err.Code == "REQUEST_LIMIT_EXCEEDED":
		return false
	case err.Status == 503 && err.Code == "SERVER_UNAVAILABLE":
		return true
	case err.notSent:
		return err.Kind == KindUnavailable
	case !safe:
		return false
	case err.Status == 0 && err.Kind == KindUnavailable: // transport failure
		return true
	case err.Status >= 500:
		return true
	}
	return false
}

// sleep waits d or until ctx is done.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
