package latchkey

import (
	"fmt"
	"time"

	latchkeyv1 "latchkey.dev/go/latchkey/v1"
)

// Token is a connection's credential: how to present it, until when, and the connection's
// metadata. String() never shows the token.
type Token struct {
	ConnectionID string
	AccessToken  string
	TokenType    string
	// ExpiresAt is zero when the provider gave no lifetime.
	ExpiresAt time.Time
	Scopes    []string
	// HeaderName and HeaderValue ("Authorization", "Bearer …"), or QueryParam and QueryValue
	// when the provider takes the token in the URL.
	HeaderName, HeaderValue string
	QueryParam, QueryValue  string
	BaseURI                 string
	Metadata                map[string]interface{}
	// Version is the connection's version this token belongs to (for ReportTokenRejected).
	Version uint64
}

// TimeLeft is how long the token stays valid after now (a very long time without a lifetime).
func (t *Token) TimeLeft(now time.Time) time.Duration {
	if t.ExpiresAt.IsZero() {
		return time.Duration(1<<63 - 1)
	}
	return t.ExpiresAt.Sub(now)
}

func (t *Token) String() string {
	return fmt.Sprintf("latchkey.Token{connection %s, %s, expires %s, version %d}", t.ConnectionID, t.TokenType, t.ExpiresAt.Format(time.RFC3339), t.Version)
}

func tokenFrom(connectionID string, r *latchkeyv1.GetTokenResponse) *Token {
	t := &Token{
		ConnectionID: connectionID,
		AccessToken:  r.GetAccessToken(),
		TokenType:    r.GetTokenType(),
		Scopes:       r.GetScopes(),
		BaseURI:      r.GetBaseUri(),
		Version:      r.GetVersion(),
	}
	if r.GetExpiresAt() != nil {
		t.ExpiresAt = r.GetExpiresAt().AsTime()
	}
	if h := r.GetHeader(); h != nil {
		t.HeaderName, t.HeaderValue = h.GetName(), h.GetValue()
	}
	if q := r.GetQuery(); q != nil {
		t.QueryParam, t.QueryValue = q.GetParam(), q.GetValue()
	}
	t.Metadata = r.GetMetadata().AsMap()
	return t
}
