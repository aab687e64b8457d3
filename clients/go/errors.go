package latchkey

import (
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is a call Latchkey refused, or one that never reached it: the gRPC code, Latchkey's
// stable ErrorInfo reason (else the code's name), the ErrorInfo metadata (connection_id,
// error…) and, when the server gave one, the RetryInfo delay. Branch with errors.Is on the
// Err… values, or on Reason; never on the message.
type Error struct {
	Code     codes.Code
	Reason   string
	Message  string
	Metadata map[string]string
	// RetryAfter is the delay the server asked for; HasRetryAfter says whether it asked.
	RetryAfter    time.Duration
	HasRetryAfter bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("latchkey: %s %s: %s", codeName(e.Code), e.Reason, e.Message)
}

// ConnectionID is the connection the refusal is about, when the server named it.
func (e *Error) ConnectionID() string { return e.Metadata["connection_id"] }

// Retryable says whether trying again later can succeed: the server asked to wait, or was
// unreachable.
func (e *Error) Retryable() bool {
	switch e.Reason {
	case "RATE_LIMITED", "REFRESH_BACKOFF", "PROVIDER_UNAVAILABLE":
		return true
	}
	return e.Code == codes.Unavailable && e.Reason == "UNAVAILABLE"
}

// Is matches the Err… values by reason: errors.Is(err, latchkey.ErrRevoked).
func (e *Error) Is(target error) bool {
	var r reason
	if errors.As(target, &r) {
		return string(r) == e.Reason || (r == ErrUnavailable && e.Code == codes.Unavailable)
	}
	return false
}

type reason string

func (r reason) Error() string { return "latchkey: " + string(r) }

// The reasons a worker acts on (docs/API.md, "Errors callers act on").
var (
	// ErrReauthorizationRequired: the grant is gone; send the customer through Connect again
	// (Metadata["error"] says why).
	ErrReauthorizationRequired error = reason("REAUTHORIZATION_REQUIRED")
	// ErrRevoked: the connection was revoked; it has no token to hand out.
	ErrRevoked error = reason("REVOKED")
	// ErrPendingAuthorization: the customer has not finished connecting.
	ErrPendingAuthorization error = reason("PENDING_AUTHORIZATION")
	// ErrAuthorizationFailed: the customer's authorization failed.
	ErrAuthorizationFailed error = reason("AUTHORIZATION_FAILED")
	// ErrDeleted: the connection was deleted (its history stays).
	ErrDeleted error = reason("DELETED")
	// ErrNotFound: no such connection or integration (or another tenant's).
	ErrNotFound error = reason("NOT_FOUND")
	// ErrTokenLifetimeTooShort: the provider's tokens do not last the minTTL asked for.
	ErrTokenLifetimeTooShort error = reason("TOKEN_LIFETIME_TOO_SHORT")
	// ErrProviderRefused: the provider refused the request for good; fix the integration.
	ErrProviderRefused error = reason("PROVIDER_REFUSED")
	// ErrInvalidArgument: a field of the request is wrong (the message names it).
	ErrInvalidArgument error = reason("INVALID_ARGUMENT")
	// ErrRateLimited: over the caller's rate (retried after the server's delay).
	ErrRateLimited error = reason("RATE_LIMITED")
	// ErrUnavailable: the provider or the server is unavailable for now (retried).
	ErrUnavailable error = reason("UNAVAILABLE")
)

// fromStatus is the *Error of a failed call.
func fromStatus(err error) *Error {
	st, _ := status.FromError(err)
	out := &Error{Code: st.Code(), Reason: codeName(st.Code()), Message: st.Message(), Metadata: map[string]string{}}
	for _, detail := range st.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			out.Reason = d.GetReason()
			for k, v := range d.GetMetadata() {
				out.Metadata[k] = v
			}
		case *errdetails.RetryInfo:
			if delay := d.GetRetryDelay(); delay != nil {
				out.RetryAfter = time.Duration(delay.GetSeconds())*time.Second + time.Duration(delay.GetNanos())
				out.HasRetryAfter = true
			}
		}
	}
	return out
}

// codeName is a code as the API names it (INVALID_ARGUMENT), not Go's (InvalidArgument).
func codeName(c codes.Code) string {
	names := map[codes.Code]string{
		codes.Canceled: "CANCELLED", codes.Unknown: "UNKNOWN", codes.InvalidArgument: "INVALID_ARGUMENT",
		codes.DeadlineExceeded: "DEADLINE_EXCEEDED", codes.NotFound: "NOT_FOUND",
		codes.AlreadyExists: "ALREADY_EXISTS", codes.PermissionDenied: "PERMISSION_DENIED",
		codes.ResourceExhausted: "RESOURCE_EXHAUSTED", codes.FailedPrecondition: "FAILED_PRECONDITION",
		codes.Aborted: "ABORTED", codes.OutOfRange: "OUT_OF_RANGE", codes.Unimplemented: "UNIMPLEMENTED",
		codes.Internal: "INTERNAL", codes.Unavailable: "UNAVAILABLE", codes.DataLoss: "DATA_LOSS",
		codes.Unauthenticated: "UNAUTHENTICATED",
	}
	if name, ok := names[c]; ok {
		return name
	}
	return c.String()
}
