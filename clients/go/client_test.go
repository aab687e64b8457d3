package latchkey_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"latchkey.dev/go/latchkey"
)

func client(t *testing.T, s *server, timeout time.Duration) *latchkey.Client {
	t.Helper()
	c, err := latchkey.New(latchkey.Options{Server: s.url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestClient(t *testing.T) {
	s := startServer(t)
	limited := startServer(t, "LATCHKEY_CALLER_RATE=2")
	ctx := context.Background()

	t.Run("a token is served from the cache until its margin", func(t *testing.T) {
		id := s.connect()
		c := client(t, s, 0)
		before := s.getTokenCalls()
		first, err := c.GetToken(ctx, id, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.GetToken(ctx, id, 2*time.Minute)
		if err != nil || again != first {
			t.Fatalf("not served from the cache: %v", err)
		}
		if got := s.getTokenCalls(); got != before+1 {
			t.Fatalf("%d calls, want 1", got-before)
		}
		if first.HeaderName != "Authorization" || first.HeaderValue != "Bearer "+first.AccessToken {
			t.Fatalf("header %q", first.HeaderName)
		}
		if strings.Contains(first.String(), first.AccessToken) {
			t.Fatal("String() shows the token")
		}
		// Once the cached token has less than a caller asks for, the server is asked (and
		// refreshes: its token has no more left). The dev provider's tokens last an hour.
		deadline := time.Now().Add(10 * time.Second)
		for first.TimeLeft(time.Now()) > 3598*time.Second {
			if time.Now().After(deadline) {
				t.Fatal("the token's clock did not move")
			}
			time.Sleep(50 * time.Millisecond)
		}
		more, err := c.GetToken(ctx, id, 3599*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.getTokenCalls(); got != before+2 || more.AccessToken == first.AccessToken {
			t.Fatalf("%d calls, new token %v", got-before, more.AccessToken != first.AccessToken)
		}
	})

	t.Run("fifty goroutines asking at once cost one call", func(t *testing.T) {
		id := s.connect()
		c := client(t, s, 0)
		before := s.getTokenCalls()
		tokens := make(chan string, 50)
		var wg sync.WaitGroup
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				token, err := c.GetToken(ctx, id, 0)
				if err != nil {
					t.Error(err)
					return
				}
				tokens <- token.AccessToken
			}()
		}
		wg.Wait()
		close(tokens)
		distinct := map[string]bool{}
		for token := range tokens {
			distinct[token] = true
		}
		if len(distinct) != 1 || s.getTokenCalls() != before+1 {
			t.Fatalf("%d tokens, %d calls", len(distinct), s.getTokenCalls()-before)
		}
	})

	t.Run("a revoked connection is a typed error with its id, not retried", func(t *testing.T) {
		id := s.connect()
		s.revoke(id)
		c := client(t, s, 0)
		var retries []string
		c.OnRetry = func(method string, err *latchkey.Error, _ time.Duration) { retries = append(retries, method) }
		before := s.getTokenCalls()
		_, err := c.GetToken(ctx, id, 0)
		var refused *latchkey.Error
		if !errors.As(err, &refused) || !errors.Is(err, latchkey.ErrRevoked) {
			t.Fatalf("want ErrRevoked, got %v", err)
		}
		if refused.ConnectionID() != id || refused.Code != codes.FailedPrecondition || refused.Retryable() {
			t.Fatalf("%+v", refused)
		}
		if s.getTokenCalls() != before+1 || len(retries) != 0 {
			t.Fatalf("asked %d times, retried %v", s.getTokenCalls()-before, retries)
		}
	})

	t.Run("a grant the provider refuses is reauthorization required", func(t *testing.T) {
		id := s.connectWithADeadRefreshToken()
		_, err := client(t, s, 0).GetToken(ctx, id, 0)
		var refused *latchkey.Error
		if !errors.As(err, &refused) || !errors.Is(err, latchkey.ErrReauthorizationRequired) {
			t.Fatalf("want ErrReauthorizationRequired, got %v", err)
		}
		if refused.ConnectionID() != id || refused.Metadata["error"] != "invalid_grant" {
			t.Fatalf("%+v", refused)
		}
	})

	t.Run("rate-limited calls are retried after the server's delay", func(t *testing.T) {
		var ids []string
		for i := 0; i < 4; i++ {
			ids = append(ids, limited.connect())
		}
		c := client(t, limited, 0)
		var waits []time.Duration
		c.OnRetry = func(method string, err *latchkey.Error, wait time.Duration) {
			if method != "GetToken" || err.Reason != "RATE_LIMITED" || !err.HasRetryAfter {
				t.Errorf("retried %s %s", method, err.Reason)
			}
			waits = append(waits, wait)
		}
		distinct := map[string]bool{}
		for _, id := range ids {
			token, err := c.GetToken(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			distinct[token.AccessToken] = true
		}
		if len(distinct) != 4 || len(waits) == 0 || waits[0] <= 0 {
			t.Fatalf("%d tokens, waits %v", len(distinct), waits)
		}
	})

	t.Run("a retry stops at the caller's deadline", func(t *testing.T) {
		var ids []string
		for i := 0; i < 6; i++ {
			ids = append(ids, limited.connect())
		}
		c := client(t, limited, 300*time.Millisecond)
		var err error
		for _, id := range ids {
			if _, err = c.GetToken(ctx, id, 0); err != nil {
				break
			}
		}
		var refused *latchkey.Error
		if !errors.As(err, &refused) || !errors.Is(err, latchkey.ErrRateLimited) || !refused.HasRetryAfter {
			t.Fatalf("want ErrRateLimited with its delay, got %v", err)
		}
	})

	t.Run("a bad id is invalid argument naming the field", func(t *testing.T) {
		_, err := client(t, s, 0).GetToken(ctx, "not-a-uuid", 0)
		if !errors.Is(err, latchkey.ErrInvalidArgument) || !strings.Contains(err.Error(), "connection_id") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("the API key comes from the CLI's settings", func(t *testing.T) {
		keyed := startServerKeyed(t, true)
		id := keyed.connect()
		_, err := client(t, keyed, 0).GetToken(ctx, id, 0)
		var refused *latchkey.Error
		if !errors.As(err, &refused) || refused.Code != codes.Unauthenticated {
			t.Fatalf("want UNAUTHENTICATED without a key, got %v", err)
		}
		t.Setenv("LATCHKEY_SERVER", keyed.url)
		t.Setenv("LATCHKEY_API_KEY", keyed.apiKey)
		fromEnv, err := latchkey.New(latchkey.FromEnv())
		if err != nil {
			t.Fatal(err)
		}
		defer fromEnv.Close()
		if _, err := fromEnv.GetToken(ctx, id, 0); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(keyed.dir, "key")
		if err := os.WriteFile(file, []byte(keyed.apiKey+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("LATCHKEY_API_KEY", "")
		t.Setenv("LATCHKEY_API_KEY_FILE", file)
		fromFile, err := latchkey.New(latchkey.FromEnv())
		if err != nil {
			t.Fatal(err)
		}
		defer fromFile.Close()
		if _, err := fromFile.GetToken(ctx, id, 0); err != nil {
			t.Fatal(err)
		}
	})
}
