// Package latchkey is Latchkey's Go client for workers: GetToken hands out a connection's
// credential, cached in-process until it has less than the asked minimum left, with one call per
// connection however many goroutines ask at once; refusals are *Error values carrying Latchkey's
// ErrorInfo reason; rate limits and provider outages are retried after the server's RetryInfo
// delay within the context's deadline, and nothing else is retried.
package latchkey

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	latchkeyv1 "latchkey.dev/go/latchkey/v1"
)

// DefaultMinTTL is what GetToken asks for when given zero: the server's own default.
const DefaultMinTTL = 30 * time.Second

// Client is safe for concurrent use; share one per process.
type Client struct {
	conn *grpc.ClientConn
	// Connections is the generated ConnectionService client, for every other RPC (its calls
	// carry no API key: use Context to add it).
	Connections latchkeyv1.ConnectionServiceClient
	apiKey      string
	timeout     time.Duration
	// OnRetry, when set, is told of each retry: what was refused and how long the client waits.
	OnRetry func(method string, err *Error, wait time.Duration)

	mu          sync.Mutex
	tokens      map[string]*Token
	generations map[string]uint64
	flights     map[string]*flight
}

type flight struct {
	done  chan struct{}
	token *Token
	err   error
}

// New connects (lazily) to the server the options name.
func New(o Options) (*Client, error) {
	target, dial, key, err := o.dial()
	if err != nil {
		return nil, err
	}
	conn, err := grpc.Dial(target, dial...)
	if err != nil {
		return nil, err
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &Client{
		conn:        conn,
		Connections: latchkeyv1.NewConnectionServiceClient(conn),
		apiKey:      key,
		timeout:     timeout,
		tokens:      map[string]*Token{},
		generations: map[string]uint64{},
		flights:     map[string]*flight{},
	}, nil
}

// Close closes the connection to the server.
func (c *Client) Close() error { return c.conn.Close() }

// Context adds the client's API key to ctx, for calls through Connections.
func (c *Client) Context(ctx context.Context) context.Context {
	if c.apiKey == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.apiKey)
}

// GetToken returns a credential with at least minTTL left (DefaultMinTTL when zero): from the
// cache while it has that much left, else from the server, one call per connection at a time.
// A refusal is an *Error (errors.Is(err, latchkey.ErrRevoked)…).
func (c *Client) GetToken(ctx context.Context, connectionID string, minTTL time.Duration) (*Token, error) {
	if minTTL == 0 {
		minTTL = DefaultMinTTL
	}
	if minTTL < 0 {
		return nil, errors.New("latchkey: minTTL must be zero or more")
	}
	for {
		c.mu.Lock()
		if t := c.tokens[connectionID]; t != nil && t.TimeLeft(time.Now()) >= minTTL {
			c.mu.Unlock()
			return t, nil
		}
		if f := c.flights[connectionID]; f != nil {
			c.mu.Unlock()
			// Another caller is asking the server for this connection: its answer may do.
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err == nil && f.token.TimeLeft(time.Now()) >= minTTL {
				return f.token, nil
			}
			if f.err != nil {
				return nil, f.err
			}
			continue
		}
		f := &flight{done: make(chan struct{})}
		c.flights[connectionID] = f
		generation := c.generations[connectionID]
		c.mu.Unlock()

		f.token, f.err = c.fetch(ctx, connectionID, minTTL)
		c.mu.Lock()
		if f.err == nil && c.generations[connectionID] == generation {
			c.tokens[connectionID] = f.token
		}
		delete(c.flights, connectionID)
		c.mu.Unlock()
		close(f.done)
		return f.token, f.err
	}
}

// ReportTokenRejected tells Latchkey the provider refused the connection's token (a 401) and
// drops the cached one. It returns the credential to use now (a new token, or the same one if
// the provider still takes it), or an *Error when the connection needs its customer.
func (c *Client) ReportTokenRejected(ctx context.Context, connectionID string, httpStatus int, providerError string) (*Token, error) {
	c.mu.Lock()
	var version uint64
	if t := c.tokens[connectionID]; t != nil {
		version = t.Version
	}
	c.mu.Unlock()
	c.Invalidate(connectionID)
	request := &latchkeyv1.ReportTokenRejectedRequest{
		ConnectionId:  connectionID,
		HttpStatus:    uint32(httpStatus),
		ProviderError: providerError,
		TokenVersion:  version,
	}
	var reply *latchkeyv1.ReportTokenRejectedResponse
	err := c.call(ctx, "ReportTokenRejected", func(ctx context.Context) (err error) {
		reply, err = c.Connections.ReportTokenRejected(ctx, request)
		return err
	})
	if err != nil {
		return nil, err
	}
	if reply.GetCredential() == nil {
		return nil, nil
	}
	return tokenFrom(connectionID, reply.GetCredential()), nil
}

// Invalidate forgets the cached credential of a connection.
func (c *Client) Invalidate(connectionID string) {
	c.mu.Lock()
	c.generations[connectionID]++
	delete(c.tokens, connectionID)
	c.mu.Unlock()
}

func (c *Client) fetch(ctx context.Context, connectionID string, minTTL time.Duration) (*Token, error) {
	request := &latchkeyv1.GetTokenRequest{ConnectionId: connectionID, MinTtl: durationpb.New(minTTL)}
	var reply *latchkeyv1.GetTokenResponse
	err := c.call(ctx, "GetToken", func(ctx context.Context) (err error) {
		reply, err = c.Connections.GetToken(ctx, request)
		return err
	})
	if err != nil {
		return nil, err
	}
	return tokenFrom(connectionID, reply), nil
}

// backoff is the wait before retry attempt when the server named none: 200 ms doubling to 5 s.
func backoff(attempt int) time.Duration {
	wait := 200 * time.Millisecond << (attempt - 1)
	if wait > 5*time.Second || wait <= 0 {
		return 5 * time.Second
	}
	return wait
}

// call runs one RPC with the API key, retrying what the server asked to retry until the
// deadline (the context's, or the client's timeout).
func (c *Client) call(ctx context.Context, method string, rpc func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(c.Context(ctx), c.timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	for attempt := 1; ; attempt++ {
		err := rpc(ctx)
		if err == nil {
			return nil
		}
		refused := fromStatus(err)
		wait := backoff(attempt)
		if refused.HasRetryAfter {
			wait = refused.RetryAfter
		}
		if !refused.Retryable() || time.Now().Add(wait).After(deadline) {
			return refused
		}
		if c.OnRetry != nil {
			c.OnRetry(method, refused, wait)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return refused
		}
	}
}
