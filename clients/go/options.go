package latchkey

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// Options says where the server is and who is asking. FromEnv reads the CLI's environment
// variables; unset fields of Options given to New keep their zero meaning.
type Options struct {
	// Server: http://host:port (default http://127.0.0.1:50051), https://host:port, or host:port.
	Server string
	// APIKey is sent as "authorization: Bearer …"; APIKeyFile holds one instead.
	APIKey, APIKeyFile string
	// ServerCA is a PEM file of the CA to trust for TLS.
	ServerCA string
	// ClientCert and ClientKey are PEM files for mutual TLS.
	ClientCert, ClientKey string
	// Timeout bounds a call with its retries when the context has no earlier deadline (30 s).
	Timeout time.Duration
}

// FromEnv reads LATCHKEY_SERVER, LATCHKEY_API_KEY, LATCHKEY_API_KEY_FILE, LATCHKEY_SERVER_CA,
// LATCHKEY_CLIENT_CERT and LATCHKEY_CLIENT_KEY.
func FromEnv() Options {
	return Options{
		Server:     os.Getenv("LATCHKEY_SERVER"),
		APIKey:     os.Getenv("LATCHKEY_API_KEY"),
		APIKeyFile: os.Getenv("LATCHKEY_API_KEY_FILE"),
		ServerCA:   os.Getenv("LATCHKEY_SERVER_CA"),
		ClientCert: os.Getenv("LATCHKEY_CLIENT_CERT"),
		ClientKey:  os.Getenv("LATCHKEY_CLIENT_KEY"),
	}
}

// dial resolves the options into a target, dial options and the API key.
func (o Options) dial() (string, []grpc.DialOption, string, error) {
	key := o.APIKey
	if key != "" && o.APIKeyFile != "" {
		return "", nil, "", errors.New("latchkey: set either LATCHKEY_API_KEY (APIKey) or LATCHKEY_API_KEY_FILE (APIKeyFile), not both")
	}
	if o.APIKeyFile != "" {
		read, err := os.ReadFile(o.APIKeyFile)
		if err != nil {
			return "", nil, "", fmt.Errorf("latchkey: LATCHKEY_API_KEY_FILE: %w", err)
		}
		key = strings.TrimSpace(string(read))
	}
	if (o.ClientCert == "") != (o.ClientKey == "") {
		return "", nil, "", errors.New("latchkey: LATCHKEY_CLIENT_CERT and LATCHKEY_CLIENT_KEY go together (mutual TLS)")
	}
	server := o.Server
	if server == "" {
		server = "http://127.0.0.1:50051"
	}
	useTLS := o.ServerCA != "" || o.ClientCert != ""
	target := server
	switch {
	case strings.HasPrefix(server, "https://"):
		target, useTLS = strings.TrimPrefix(server, "https://"), true
	case strings.HasPrefix(server, "http://"):
		target = strings.TrimPrefix(server, "http://")
	case strings.Contains(server, "://"):
		return "", nil, "", fmt.Errorf("latchkey: LATCHKEY_SERVER: %q is neither http:// nor https://", server)
	}
	target = strings.TrimRight(target, "/")
	if !useTLS {
		return target, []grpc.DialOption{grpc.WithInsecure()}, key, nil
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.ServerCA != "" {
		pem, err := os.ReadFile(o.ServerCA)
		if err != nil {
			return "", nil, "", fmt.Errorf("latchkey: LATCHKEY_SERVER_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return "", nil, "", fmt.Errorf("latchkey: LATCHKEY_SERVER_CA: no certificate in %s", o.ServerCA)
		}
		config.RootCAs = pool
	}
	if o.ClientCert != "" {
		pair, err := tls.LoadX509KeyPair(o.ClientCert, o.ClientKey)
		if err != nil {
			return "", nil, "", fmt.Errorf("latchkey: LATCHKEY_CLIENT_CERT/LATCHKEY_CLIENT_KEY: %w", err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return target, []grpc.DialOption{grpc.WithTransportCredentials(credentials.NewTLS(config))}, key, nil
}
