from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetAccessLogRequest(_message.Message):
    __slots__ = ("connection_id", "since")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    since: _timestamp_pb2.Timestamp
    def __init__(self, connection_id: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenReads(_message.Message):
    __slots__ = ("actor", "minute", "reads")
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    MINUTE_FIELD_NUMBER: _ClassVar[int]
    READS_FIELD_NUMBER: _ClassVar[int]
    actor: str
    minute: _timestamp_pb2.Timestamp
    reads: int
    def __init__(self, actor: _Optional[str] = ..., minute: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reads: _Optional[int] = ...) -> None: ...

class GetAccessLogResponse(_message.Message):
    __slots__ = ("reads",)
    READS_FIELD_NUMBER: _ClassVar[int]
    reads: _containers.RepeatedCompositeFieldContainer[TokenReads]
    def __init__(self, reads: _Optional[_Iterable[_Union[TokenReads, _Mapping]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("event_id", "stream_id", "version", "position", "type", "schema_version", "occurred_at", "actor", "correlation_id", "tenant", "payload_json", "prev_hash", "hash", "omitted", "connection_created", "connection_updated", "validated", "authorization_started", "authorized", "imported", "merged_into", "authorization_failed", "refreshed", "refresh_failed", "reauthorization_required", "expired", "revoked", "deleted", "parameters_set", "callback_captured", "refresh_token_expiring", "authorization_opened", "webhook_received", "action_received", "webhook_secret_set", "connection_failing", "connection_recovered", "token_rejected", "refresh_token_still_active", "revocation_retried", "integration_created", "integration_updated", "integration_deleted", "webhook_unrouted", "webhook_handshake", "api_key_created", "api_key_revoked", "master_key_rotated", "master_key_dropped", "tokens_read", "connect_session_created", "connect_session_opened", "connect_session_connected", "connect_session_failed")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_VERSION_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    OMITTED_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_CREATED_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_UPDATED_FIELD_NUMBER: _ClassVar[int]
    VALIDATED_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_STARTED_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZED_FIELD_NUMBER: _ClassVar[int]
    IMPORTED_FIELD_NUMBER: _ClassVar[int]
    MERGED_INTO_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_FAILED_FIELD_NUMBER: _ClassVar[int]
    REFRESHED_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FAILED_FIELD_NUMBER: _ClassVar[int]
    REAUTHORIZATION_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_SET_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_CAPTURED_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_EXPIRING_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_OPENED_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    ACTION_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_SET_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FAILING_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_RECOVERED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_REJECTED_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_STILL_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_RETRIED_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_CREATED_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_UPDATED_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_DELETED_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_UNROUTED_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_HANDSHAKE_FIELD_NUMBER: _ClassVar[int]
    API_KEY_CREATED_FIELD_NUMBER: _ClassVar[int]
    API_KEY_REVOKED_FIELD_NUMBER: _ClassVar[int]
    MASTER_KEY_ROTATED_FIELD_NUMBER: _ClassVar[int]
    MASTER_KEY_DROPPED_FIELD_NUMBER: _ClassVar[int]
    TOKENS_READ_FIELD_NUMBER: _ClassVar[int]
    CONNECT_SESSION_CREATED_FIELD_NUMBER: _ClassVar[int]
    CONNECT_SESSION_OPENED_FIELD_NUMBER: _ClassVar[int]
    CONNECT_SESSION_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    CONNECT_SESSION_FAILED_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    stream_id: str
    version: int
    position: int
    type: str
    schema_version: int
    occurred_at: _timestamp_pb2.Timestamp
    actor: str
    correlation_id: str
    tenant: str
    payload_json: str
    prev_hash: bytes
    hash: bytes
    omitted: str
    connection_created: ConnectionCreated
    connection_updated: ConnectionUpdated
    validated: Validated
    authorization_started: AuthorizationStarted
    authorized: Authorized
    imported: Imported
    merged_into: MergedInto
    authorization_failed: AuthorizationFailed
    refreshed: Refreshed
    refresh_failed: RefreshFailed
    reauthorization_required: ReauthorizationRequired
    expired: Expired
    revoked: Revoked
    deleted: Deleted
    parameters_set: ParametersSet
    callback_captured: CallbackCaptured
    refresh_token_expiring: RefreshTokenExpiring
    authorization_opened: AuthorizationOpened
    webhook_received: WebhookDelivery
    action_received: WebhookDelivery
    webhook_secret_set: WebhookSecretSet
    connection_failing: ConnectionFailing
    connection_recovered: ConnectionRecovered
    token_rejected: TokenRejected
    refresh_token_still_active: RefreshTokenStillActive
    revocation_retried: RevocationRetried
    integration_created: IntegrationCreated
    integration_updated: IntegrationUpdated
    integration_deleted: IntegrationDeleted
    webhook_unrouted: WebhookDelivery
    webhook_handshake: WebhookHandshake
    api_key_created: ApiKeyCreated
    api_key_revoked: ApiKeyRevoked
    master_key_rotated: MasterKeyRotated
    master_key_dropped: MasterKeyDropped
    tokens_read: TokensRead
    connect_session_created: ConnectSessionCreated
    connect_session_opened: ConnectSessionOpened
    connect_session_connected: ConnectSessionConnected
    connect_session_failed: ConnectSessionFailed
    def __init__(self, event_id: _Optional[str] = ..., stream_id: _Optional[str] = ..., version: _Optional[int] = ..., position: _Optional[int] = ..., type: _Optional[str] = ..., schema_version: _Optional[int] = ..., occurred_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., correlation_id: _Optional[str] = ..., tenant: _Optional[str] = ..., payload_json: _Optional[str] = ..., prev_hash: _Optional[bytes] = ..., hash: _Optional[bytes] = ..., omitted: _Optional[str] = ..., connection_created: _Optional[_Union[ConnectionCreated, _Mapping]] = ..., connection_updated: _Optional[_Union[ConnectionUpdated, _Mapping]] = ..., validated: _Optional[_Union[Validated, _Mapping]] = ..., authorization_started: _Optional[_Union[AuthorizationStarted, _Mapping]] = ..., authorized: _Optional[_Union[Authorized, _Mapping]] = ..., imported: _Optional[_Union[Imported, _Mapping]] = ..., merged_into: _Optional[_Union[MergedInto, _Mapping]] = ..., authorization_failed: _Optional[_Union[AuthorizationFailed, _Mapping]] = ..., refreshed: _Optional[_Union[Refreshed, _Mapping]] = ..., refresh_failed: _Optional[_Union[RefreshFailed, _Mapping]] = ..., reauthorization_required: _Optional[_Union[ReauthorizationRequired, _Mapping]] = ..., expired: _Optional[_Union[Expired, _Mapping]] = ..., revoked: _Optional[_Union[Revoked, _Mapping]] = ..., deleted: _Optional[_Union[Deleted, _Mapping]] = ..., parameters_set: _Optional[_Union[ParametersSet, _Mapping]] = ..., callback_captured: _Optional[_Union[CallbackCaptured, _Mapping]] = ..., refresh_token_expiring: _Optional[_Union[RefreshTokenExpiring, _Mapping]] = ..., authorization_opened: _Optional[_Union[AuthorizationOpened, _Mapping]] = ..., webhook_received: _Optional[_Union[WebhookDelivery, _Mapping]] = ..., action_received: _Optional[_Union[WebhookDelivery, _Mapping]] = ..., webhook_secret_set: _Optional[_Union[WebhookSecretSet, _Mapping]] = ..., connection_failing: _Optional[_Union[ConnectionFailing, _Mapping]] = ..., connection_recovered: _Optional[_Union[ConnectionRecovered, _Mapping]] = ..., token_rejected: _Optional[_Union[TokenRejected, _Mapping]] = ..., refresh_token_still_active: _Optional[_Union[RefreshTokenStillActive, _Mapping]] = ..., revocation_retried: _Optional[_Union[RevocationRetried, _Mapping]] = ..., integration_created: _Optional[_Union[IntegrationCreated, _Mapping]] = ..., integration_updated: _Optional[_Union[IntegrationUpdated, _Mapping]] = ..., integration_deleted: _Optional[_Union[IntegrationDeleted, _Mapping]] = ..., webhook_unrouted: _Optional[_Union[WebhookDelivery, _Mapping]] = ..., webhook_handshake: _Optional[_Union[WebhookHandshake, _Mapping]] = ..., api_key_created: _Optional[_Union[ApiKeyCreated, _Mapping]] = ..., api_key_revoked: _Optional[_Union[ApiKeyRevoked, _Mapping]] = ..., master_key_rotated: _Optional[_Union[MasterKeyRotated, _Mapping]] = ..., master_key_dropped: _Optional[_Union[MasterKeyDropped, _Mapping]] = ..., tokens_read: _Optional[_Union[TokensRead, _Mapping]] = ..., connect_session_created: _Optional[_Union[ConnectSessionCreated, _Mapping]] = ..., connect_session_opened: _Optional[_Union[ConnectSessionOpened, _Mapping]] = ..., connect_session_connected: _Optional[_Union[ConnectSessionConnected, _Mapping]] = ..., connect_session_failed: _Optional[_Union[ConnectSessionFailed, _Mapping]] = ...) -> None: ...

class TokenGrant(_message.Message):
    __slots__ = ("token_type", "expires_at", "scopes", "refresh_token_issued", "refresh_at")
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_ISSUED_FIELD_NUMBER: _ClassVar[int]
    REFRESH_AT_FIELD_NUMBER: _ClassVar[int]
    token_type: str
    expires_at: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedScalarFieldContainer[str]
    refresh_token_issued: bool
    refresh_at: _timestamp_pb2.Timestamp
    def __init__(self, token_type: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., scopes: _Optional[_Iterable[str]] = ..., refresh_token_issued: bool = ..., refresh_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectionCreated(_message.Message):
    __slots__ = ("connection_id", "integration_id", "tenant", "grant_type")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    integration_id: str
    tenant: str
    grant_type: str
    def __init__(self, connection_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., grant_type: _Optional[str] = ...) -> None: ...

class ConnectionUpdated(_message.Message):
    __slots__ = ("name", "description", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    labels: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Validated(_message.Message):
    __slots__ = ("valid", "reason")
    VALID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    reason: str
    def __init__(self, valid: bool = ..., reason: _Optional[str] = ...) -> None: ...

class AuthorizationStarted(_message.Message):
    __slots__ = ("expires_at", "scopes", "redirect_uri", "return_url", "pkce")
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    PKCE_FIELD_NUMBER: _ClassVar[int]
    expires_at: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedScalarFieldContainer[str]
    redirect_uri: str
    return_url: str
    pkce: bool
    def __init__(self, expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., scopes: _Optional[_Iterable[str]] = ..., redirect_uri: _Optional[str] = ..., return_url: _Optional[str] = ..., pkce: bool = ...) -> None: ...

class AuthorizationOpened(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Authorized(_message.Message):
    __slots__ = ("grant_type", "tokens", "provider_account_id", "via_connection_id")
    GRANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    VIA_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    grant_type: str
    tokens: TokenGrant
    provider_account_id: str
    via_connection_id: str
    def __init__(self, grant_type: _Optional[str] = ..., tokens: _Optional[_Union[TokenGrant, _Mapping]] = ..., provider_account_id: _Optional[str] = ..., via_connection_id: _Optional[str] = ...) -> None: ...

class Imported(_message.Message):
    __slots__ = ("tokens", "provider_account_id", "source_id")
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    tokens: TokenGrant
    provider_account_id: str
    source_id: str
    def __init__(self, tokens: _Optional[_Union[TokenGrant, _Mapping]] = ..., provider_account_id: _Optional[str] = ..., source_id: _Optional[str] = ...) -> None: ...

class MergedInto(_message.Message):
    __slots__ = ("into_connection_id",)
    INTO_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    into_connection_id: str
    def __init__(self, into_connection_id: _Optional[str] = ...) -> None: ...

class AuthorizationFailed(_message.Message):
    __slots__ = ("error", "description")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    error: str
    description: str
    def __init__(self, error: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Refreshed(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: TokenGrant
    def __init__(self, tokens: _Optional[_Union[TokenGrant, _Mapping]] = ...) -> None: ...

class RefreshFailed(_message.Message):
    __slots__ = ("error", "description", "retryable", "retry_at", "attempt")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    error: str
    description: str
    retryable: bool
    retry_at: _timestamp_pb2.Timestamp
    attempt: int
    def __init__(self, error: _Optional[str] = ..., description: _Optional[str] = ..., retryable: bool = ..., retry_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., attempt: _Optional[int] = ...) -> None: ...

class ReauthorizationRequired(_message.Message):
    __slots__ = ("error", "description")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    error: str
    description: str
    def __init__(self, error: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class Expired(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Revoked(_message.Message):
    __slots__ = ("reason", "provider")
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    reason: str
    provider: _containers.RepeatedCompositeFieldContainer[RevocationAnswer]
    def __init__(self, reason: _Optional[str] = ..., provider: _Optional[_Iterable[_Union[RevocationAnswer, _Mapping]]] = ...) -> None: ...

class RevocationAnswer(_message.Message):
    __slots__ = ("token_type_hint", "status", "error")
    TOKEN_TYPE_HINT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    token_type_hint: str
    status: int
    error: str
    def __init__(self, token_type_hint: _Optional[str] = ..., status: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class Deleted(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ParametersSet(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.ScalarMap[str, str]
    def __init__(self, values: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RefreshTokenExpiring(_message.Message):
    __slots__ = ("expires_at",)
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectionFailing(_message.Message):
    __slots__ = ("error", "description")
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    error: str
    description: str
    def __init__(self, error: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class RevocationRetried(_message.Message):
    __slots__ = ("provider", "attempt", "confirmed", "gave_up")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    CONFIRMED_FIELD_NUMBER: _ClassVar[int]
    GAVE_UP_FIELD_NUMBER: _ClassVar[int]
    provider: _containers.RepeatedCompositeFieldContainer[RevocationAnswer]
    attempt: int
    confirmed: bool
    gave_up: bool
    def __init__(self, provider: _Optional[_Iterable[_Union[RevocationAnswer, _Mapping]]] = ..., attempt: _Optional[int] = ..., confirmed: bool = ..., gave_up: bool = ...) -> None: ...

class RefreshTokenStillActive(_message.Message):
    __slots__ = ("sent_at",)
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    sent_at: _timestamp_pb2.Timestamp
    def __init__(self, sent_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TokenRejected(_message.Message):
    __slots__ = ("http_status", "provider_error", "token_version", "verdict")
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ERROR_FIELD_NUMBER: _ClassVar[int]
    TOKEN_VERSION_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    http_status: int
    provider_error: str
    token_version: int
    verdict: str
    def __init__(self, http_status: _Optional[int] = ..., provider_error: _Optional[str] = ..., token_version: _Optional[int] = ..., verdict: _Optional[str] = ...) -> None: ...

class ConnectionRecovered(_message.Message):
    __slots__ = ("failing_since",)
    FAILING_SINCE_FIELD_NUMBER: _ClassVar[int]
    failing_since: _timestamp_pb2.Timestamp
    def __init__(self, failing_since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WebhookDelivery(_message.Message):
    __slots__ = ("delivery_id", "event_type", "routing_keys", "scheme", "headers", "content_type", "size", "body")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DELIVERY_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    ROUTING_KEYS_FIELD_NUMBER: _ClassVar[int]
    SCHEME_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    delivery_id: str
    event_type: str
    routing_keys: _containers.RepeatedScalarFieldContainer[str]
    scheme: str
    headers: _containers.ScalarMap[str, str]
    content_type: str
    size: int
    body: bytes
    def __init__(self, delivery_id: _Optional[str] = ..., event_type: _Optional[str] = ..., routing_keys: _Optional[_Iterable[str]] = ..., scheme: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ..., body: _Optional[bytes] = ...) -> None: ...

class WebhookSecretSet(_message.Message):
    __slots__ = ("fingerprint",)
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    fingerprint: str
    def __init__(self, fingerprint: _Optional[str] = ...) -> None: ...

class WebhookHandshake(_message.Message):
    __slots__ = ("handshake", "connection_id")
    HANDSHAKE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    handshake: str
    connection_id: str
    def __init__(self, handshake: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class CallbackCaptured(_message.Message):
    __slots__ = ("values",)
    class ValuesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.ScalarMap[str, str]
    def __init__(self, values: _Optional[_Mapping[str, str]] = ...) -> None: ...

class IntegrationCreated(_message.Message):
    __slots__ = ("integration_id", "name", "grant_type", "owner_tenant")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    OWNER_TENANT_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    name: str
    grant_type: str
    owner_tenant: str
    def __init__(self, integration_id: _Optional[str] = ..., name: _Optional[str] = ..., grant_type: _Optional[str] = ..., owner_tenant: _Optional[str] = ...) -> None: ...

class IntegrationUpdated(_message.Message):
    __slots__ = ("name", "grant_type")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    grant_type: str
    def __init__(self, name: _Optional[str] = ..., grant_type: _Optional[str] = ...) -> None: ...

class IntegrationDeleted(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ApiKeyCreated(_message.Message):
    __slots__ = ("key_id", "name", "tenant", "role", "expires_at")
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    name: str
    tenant: str
    role: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, key_id: _Optional[str] = ..., name: _Optional[str] = ..., tenant: _Optional[str] = ..., role: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ApiKeyRevoked(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class MasterKeyRotated(_message.Message):
    __slots__ = ("active", "retired", "rewrapped")
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    RETIRED_FIELD_NUMBER: _ClassVar[int]
    REWRAPPED_FIELD_NUMBER: _ClassVar[int]
    active: str
    retired: _containers.RepeatedScalarFieldContainer[str]
    rewrapped: int
    def __init__(self, active: _Optional[str] = ..., retired: _Optional[_Iterable[str]] = ..., rewrapped: _Optional[int] = ...) -> None: ...

class MasterKeyDropped(_message.Message):
    __slots__ = ("key_id",)
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    key_id: str
    def __init__(self, key_id: _Optional[str] = ...) -> None: ...

class TokensRead(_message.Message):
    __slots__ = ("reads",)
    READS_FIELD_NUMBER: _ClassVar[int]
    reads: _containers.RepeatedCompositeFieldContainer[TokenReadCount]
    def __init__(self, reads: _Optional[_Iterable[_Union[TokenReadCount, _Mapping]]] = ...) -> None: ...

class TokenReadCount(_message.Message):
    __slots__ = ("actor", "connection_id", "minute", "reads")
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    MINUTE_FIELD_NUMBER: _ClassVar[int]
    READS_FIELD_NUMBER: _ClassVar[int]
    actor: str
    connection_id: str
    minute: _timestamp_pb2.Timestamp
    reads: int
    def __init__(self, actor: _Optional[str] = ..., connection_id: _Optional[str] = ..., minute: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reads: _Optional[int] = ...) -> None: ...

class GetHistoryRequest(_message.Message):
    __slots__ = ("connection_id", "integration_id", "system_stream", "connect_session_id", "from_version")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_STREAM_FIELD_NUMBER: _ClassVar[int]
    CONNECT_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    integration_id: str
    system_stream: str
    connect_session_id: str
    from_version: int
    def __init__(self, connection_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., system_stream: _Optional[str] = ..., connect_session_id: _Optional[str] = ..., from_version: _Optional[int] = ...) -> None: ...

class ReplayEventsRequest(_message.Message):
    __slots__ = ("from_position", "filter", "follow")
    FROM_POSITION_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    from_position: int
    filter: EventFilter
    follow: bool
    def __init__(self, from_position: _Optional[int] = ..., filter: _Optional[_Union[EventFilter, _Mapping]] = ..., follow: bool = ...) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ("tenant", "types", "connection_id")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    types: _containers.RepeatedScalarFieldContainer[str]
    connection_id: str
    def __init__(self, tenant: _Optional[str] = ..., types: _Optional[_Iterable[str]] = ..., connection_id: _Optional[str] = ...) -> None: ...

class ConnectSessionCreated(_message.Message):
    __slots__ = ("session_id", "tenant", "integration_ids", "return_url", "connection_id", "expires_at", "max_connections", "locale", "platform_name", "accent_color", "support_url")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_IDS_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    MAX_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCENT_COLOR_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_URL_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    tenant: str
    integration_ids: _containers.RepeatedScalarFieldContainer[str]
    return_url: str
    connection_id: str
    expires_at: _timestamp_pb2.Timestamp
    max_connections: int
    locale: str
    platform_name: str
    accent_color: str
    support_url: str
    def __init__(self, session_id: _Optional[str] = ..., tenant: _Optional[str] = ..., integration_ids: _Optional[_Iterable[str]] = ..., return_url: _Optional[str] = ..., connection_id: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., max_connections: _Optional[int] = ..., locale: _Optional[str] = ..., platform_name: _Optional[str] = ..., accent_color: _Optional[str] = ..., support_url: _Optional[str] = ...) -> None: ...

class ConnectSessionOpened(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ConnectSessionConnected(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class ConnectSessionFailed(_message.Message):
    __slots__ = ("integration_id", "connection_id", "error")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    connection_id: str
    error: str
    def __init__(self, integration_id: _Optional[str] = ..., connection_id: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...
