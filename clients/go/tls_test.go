package latchkey_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	latchkey "latchkey.dev/go/latchkey"
	latchkeyv1 "latchkey.dev/go/latchkey/v1"
)

// certificates makes, with openssl, a CA of the test's own, a server certificate for 127.0.0.1
// and client certificates naming Latchkey roles by SAN URI: an admin and acme's reader.
func certificates(t *testing.T, dir string) {
	t.Helper()
	openssl := func(args ...string) {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	key := func(name string) {
		openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name+".key")
	}
	key("ca")
	openssl("req", "-x509", "-new", "-key", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=latchkey-test-ca")
	for name, san := range map[string]string{
		"server": "IP:127.0.0.1",
		"admin":  "URI:urn:latchkey:all:admin",
		"reader": "URI:urn:latchkey:tenant:acme:reader",
	} {
		key(name)
		openssl("req", "-new", "-key", name+".key", "-out", name+".csr", "-subj", "/CN="+name)
		if err := os.WriteFile(filepath.Join(dir, name+".ext"), []byte("subjectAltName="+san+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		openssl("x509", "-req", "-in", name+".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
			"-out", name+".pem", "-days", "2", "-extfile", name+".ext")
	}
}

// startServerMutualTLS starts a server on TLS that names every caller by its client certificate
// (LATCHKEY_AUTH=mtls); its set-up calls go as the admin certificate. The files are in tlsDir.
func startServerMutualTLS(t *testing.T) (*server, string) {
	t.Helper()
	tlsDir := t.TempDir()
	certificates(t, tlsDir)
	file := func(name string) string { return filepath.Join(tlsDir, name) }
	s := startServer(t,
		"LATCHKEY_TLS_CERT="+file("server.pem"), "LATCHKEY_TLS_KEY="+file("server.key"),
		"LATCHKEY_TLS_CLIENT_CA="+file("ca.pem"), "LATCHKEY_AUTH=mtls")
	s.conn.Close()
	ca, err := os.ReadFile(file("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca)
	admin, err := tls.LoadX509KeyPair(file("admin.pem"), file("admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	target := s.url[len("http://"):]
	creds := credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{admin}})
	conn, err := grpc.Dial(target, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	s.conn = conn
	s.connections = latchkeyv1.NewConnectionServiceClient(conn)
	s.integrations = latchkeyv1.NewIntegrationServiceClient(conn)
	s.url = "https://" + target
	return s, tlsDir
}

func TestMutualTLSComesFromTheCLIsSettings(t *testing.T) {
	s, dir := startServerMutualTLS(t)
	ctx := context.Background()
	id := s.connect()
	t.Setenv("LATCHKEY_API_KEY", "")
	t.Setenv("LATCHKEY_API_KEY_FILE", "")
	t.Setenv("LATCHKEY_SERVER", s.url)
	t.Setenv("LATCHKEY_SERVER_CA", filepath.Join(dir, "ca.pem"))
	// acme's reader certificate reads acme's token.
	t.Setenv("LATCHKEY_CLIENT_CERT", filepath.Join(dir, "reader.pem"))
	t.Setenv("LATCHKEY_CLIENT_KEY", filepath.Join(dir, "reader.key"))
	reader, err := latchkey.New(latchkey.FromEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	token, err := reader.GetToken(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(token.AccessToken) < 8 || token.AccessToken[:7] != "dev-at-" {
		t.Fatalf("want a dev-at- token, got %q", token.AccessToken)
	}
	// Without a client certificate the server takes no call: the handshake fails.
	t.Setenv("LATCHKEY_CLIENT_CERT", "")
	t.Setenv("LATCHKEY_CLIENT_KEY", "")
	anonymous, err := latchkey.New(latchkey.FromEnv())
	if err != nil {
		t.Fatal(err)
	}
	defer anonymous.Close()
	short, cancel := context.WithTimeout(ctx, 5e9)
	defer cancel()
	_, err = anonymous.GetToken(short, id, 0)
	var refused *latchkey.Error
	if !errors.As(err, &refused) || refused.Code != codes.Unavailable {
		t.Fatalf("want UNAVAILABLE without a client certificate, got %v", err)
	}
}
