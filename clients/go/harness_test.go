package latchkey_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	latchkeyv1 "latchkey.dev/go/latchkey/v1"
)

// server is a real Latchkey for the tests: `latchkey dev-provider` and `latchkey serve` on its
// embedded store in a scratch directory, on ports of their own. The binary is LATCHKEY_BIN, else
// the workspace's target/debug/latchkey (scripts/test builds it).
type server struct {
	t            *testing.T
	url, admin   string
	providerURL  string
	clientSecret string
	conn         *grpc.ClientConn
	connections  latchkeyv1.ConnectionServiceClient
	integrations latchkeyv1.IntegrationServiceClient
	created      map[latchkeyv1.GrantType]string
	// apiKey is an admin key when the server asks every caller for one (startKeyedServer).
	apiKey string
	dir    string
}

type child struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	lines []string
	seen  chan struct{}
}

func binary(t *testing.T) string {
	if path := os.Getenv("LATCHKEY_BIN"); path != "" {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// clients/go may be reached through a GOPATH symlink: resolve it to the checkout.
	if real, err := filepath.EvalSymlinks(wd); err == nil {
		wd = real
	}
	return filepath.Join(wd, "..", "..", "target", "debug", "latchkey")
}

func start(t *testing.T, dir string, env []string, args ...string) *child {
	c := &child{cmd: exec.Command(binary(t), args...), seen: make(chan struct{}, 1)}
	c.cmd.Dir = dir
	c.cmd.Env = env
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.cmd.Stderr = c.cmd.Stdout
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, lines.Text())
			c.mu.Unlock()
			select {
			case c.seen <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		_ = c.cmd.Process.Signal(os.Interrupt)
		_, _ = c.cmd.Process.Wait()
	})
	return c
}

func (c *child) waitFor(t *testing.T, pattern string) []string {
	re := regexp.MustCompile(pattern)
	deadline := time.After(60 * time.Second)
	for {
		c.mu.Lock()
		for _, line := range c.lines {
			if m := re.FindStringSubmatch(line); m != nil {
				c.mu.Unlock()
				return m
			}
		}
		all := strings.Join(c.lines, "\n")
		c.mu.Unlock()
		select {
		case <-c.seen:
		case <-time.After(500 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no line matching %s:\n%s", pattern, all)
		}
	}
}

func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startServerKeyed(t, false, extra...)
}

// startServerKeyed starts a server; keyed, it asks every caller for an API key and s.apiKey is
// an admin one, made before it starts with the master key given (`apikeys create` on a new data
// directory does not write the master key file `serve` would).
func startServerKeyed(t *testing.T, keyed bool, extra ...string) *server {
	t.Helper()
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LATCHKEY_") {
			env = append(env, kv)
		}
	}
	provider := start(t, dir, env, "dev-provider", "--port", "0", "--secret-file", "demo.secret")
	providerURL := provider.waitFor(t, `dev provider at (http://[0-9.:]+)`)[1]
	secret, err := os.ReadFile(filepath.Join(dir, "demo.secret"))
	if err != nil {
		t.Fatal(err)
	}
	env = append(env,
		"LATCHKEY_DATA_DIR="+filepath.Join(dir, "data"),
		"LATCHKEY_GRPC_ADDR=127.0.0.1:0", "LATCHKEY_HTTP_ADDR=127.0.0.1:0", "LATCHKEY_ADMIN_ADDR=127.0.0.1:0",
		"LATCHKEY_ALLOW_LOOPBACK_PROVIDERS=true")
	env = append(env, extra...)
	apiKey := ""
	if keyed {
		master := make([]byte, 32)
		if _, err := rand.Read(master); err != nil {
			t.Fatal(err)
		}
		env = append(env, "LATCHKEY_MASTER_KEY="+base64.StdEncoding.EncodeToString(master), "LATCHKEY_AUTH=api-keys")
		create := exec.Command(binary(t), "apikeys", "create", "--name", "tests")
		create.Dir, create.Env = dir, env
		out, err := create.Output()
		if err != nil {
			t.Fatalf("apikeys create: %v", err)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		apiKey = lines[len(lines)-1]
	}
	serve := start(t, dir, env, "serve")
	ready := serve.waitFor(t, `latchkey ready grpc=(\S+) http=(\S+) admin=(\S+)`)
	conn, err := grpc.Dial(ready[1], grpc.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &server{
		t: t, url: "http://" + ready[1], admin: ready[3], providerURL: providerURL,
		clientSecret: strings.TrimSpace(string(secret)), conn: conn,
		connections:  latchkeyv1.NewConnectionServiceClient(conn),
		integrations: latchkeyv1.NewIntegrationServiceClient(conn),
		created:      map[latchkeyv1.GrantType]string{},
		apiKey:       apiKey,
		dir:          dir,
	}
}

// patiently runs a set-up call, again while the server rate-limits (the rate-limit tests' server).
func (s *server) patiently(call func(context.Context) error) {
	s.t.Helper()
	t := s.t
	for i := 0; i < 100; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if s.apiKey != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+s.apiKey)
		}
		err := call(ctx)
		cancel()
		if err == nil {
			return
		}
		if status.Code(err) != codes.ResourceExhausted {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("still rate-limited after 20 s")
}

func (s *server) integration(grant latchkeyv1.GrantType) string {
	if id, ok := s.created[grant]; ok {
		return id
	}
	request := &latchkeyv1.CreateIntegrationRequest{
		Config: &latchkeyv1.IntegrationConfig{
			Name:             fmt.Sprintf("Demo %d", time.Now().UnixNano()),
			GrantType:        grant,
			TokenUrl:         s.providerURL + "/token",
			AuthorizationUrl: s.providerURL + "/authorize",
			ClientId:         "demo",
		},
		ClientSecret: s.clientSecret,
	}
	s.patiently(func(ctx context.Context) error {
		created, err := s.integrations.CreateIntegration(ctx, request)
		if err == nil {
			s.created[grant] = created.GetIntegrationId()
		}
		return err
	})
	return s.created[grant]
}

func (s *server) connect() string {
	request := &latchkeyv1.ConnectClientCredentialsRequest{
		IntegrationId: s.integration(latchkeyv1.GrantType_GRANT_TYPE_CLIENT_CREDENTIALS), Tenant: "acme",
	}
	var id string
	s.patiently(func(ctx context.Context) error {
		c, err := s.connections.ConnectClientCredentials(ctx, request)
		id = c.GetConnectionId()
		return err
	})
	return id
}

// connectWithADeadRefreshToken imports a connection whose token expired and whose refresh
// token the provider does not know: the next GetToken refreshes, is refused, and the grant is gone.
func (s *server) connectWithADeadRefreshToken() string {
	request := &latchkeyv1.ImportConnectionRequest{
		IntegrationId: s.integration(latchkeyv1.GrantType_GRANT_TYPE_AUTHORIZATION_CODE),
		Tenant:        "acme",
		AccessToken:   "dev-expired",
		RefreshToken:  "dev-unknown-refresh-token",
		ExpiresAt:     timestamppb.New(time.Now().Add(-time.Hour)),
	}
	var id string
	s.patiently(func(ctx context.Context) error {
		r, err := s.connections.ImportConnection(ctx, request)
		id = r.GetConnection().GetConnectionId()
		return err
	})
	return id
}

func (s *server) revoke(id string) {
	s.patiently(func(ctx context.Context) error {
		_, err := s.connections.RevokeConnection(ctx, &latchkeyv1.RevokeConnectionRequest{ConnectionId: id})
		return err
	})
}

var countLine = regexp.MustCompile(`(?m)^latchkey_get_token_seconds_count\{[^}]*\} (\S+)$`)

// getTokenCalls is how many GetToken calls the server answered so far, from its /metrics.
func (s *server) getTokenCalls() int {
	response, err := http.Get("http://" + s.admin + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	total := 0
	for _, m := range countLine.FindAllStringSubmatch(string(body), -1) {
		n, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			s.t.Fatal(err)
		}
		total += int(n)
	}
	return total
}
