// A workflow worker's side of Latchkey in Go, with the Go client (clients/go,
// latchkey.dev/go/latchkey): ask for a connection's credential, and act on a refusal by its
// reason (never by parsing the message).
//
//	go run ./examples/go/worker <connection-id>
//
// LATCHKEY_SERVER (default http://127.0.0.1:50051) and LATCHKEY_API_KEY say where and who.
// Prints what it would do; never prints the token itself.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"latchkey.dev/go/latchkey"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: worker <connection-id>")
		os.Exit(2)
	}
	client, err := latchkey.New(latchkey.FromEnv())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	token, err := client.GetToken(ctx, os.Args[1], time.Minute)
	var refused *latchkey.Error
	switch {
	case errors.As(err, &refused):
		action := "read the message"
		switch {
		case errors.Is(err, latchkey.ErrReauthorizationRequired):
			action = "ask the customer to connect again"
		case errors.Is(err, latchkey.ErrRevoked):
			action = "stop: the connection was revoked"
		case errors.Is(err, latchkey.ErrDeleted):
			action = "stop: the connection was deleted"
		case errors.Is(err, latchkey.ErrUnavailable):
			action = "retry later"
		}
		fmt.Printf("refused %s: %s; connection %s\n", refused.Reason, action, refused.ConnectionID())
		os.Exit(1)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fmt.Printf("credential in header %s, %d characters, valid until %s\n",
		token.HeaderName, len(token.AccessToken), token.ExpiresAt.UTC().Format(time.RFC3339))
}
