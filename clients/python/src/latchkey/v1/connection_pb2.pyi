from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from latchkey.v1 import audit_pb2 as _audit_pb2
from latchkey.v1 import integration_pb2 as _integration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConnectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_STATUS_UNSPECIFIED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_PENDING: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_ACTIVE: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_AUTHORIZATION_FAILED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_REAUTHORIZATION_REQUIRED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_EXPIRED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_REVOKED: _ClassVar[ConnectionStatus]
    CONNECTION_STATUS_DELETED: _ClassVar[ConnectionStatus]

class ConnectionHealth(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTION_HEALTH_UNSPECIFIED: _ClassVar[ConnectionHealth]
    CONNECTION_HEALTH_FAILING: _ClassVar[ConnectionHealth]
    CONNECTION_HEALTH_HEALTHY: _ClassVar[ConnectionHealth]
CONNECTION_STATUS_UNSPECIFIED: ConnectionStatus
CONNECTION_STATUS_PENDING: ConnectionStatus
CONNECTION_STATUS_ACTIVE: ConnectionStatus
CONNECTION_STATUS_AUTHORIZATION_FAILED: ConnectionStatus
CONNECTION_STATUS_REAUTHORIZATION_REQUIRED: ConnectionStatus
CONNECTION_STATUS_EXPIRED: ConnectionStatus
CONNECTION_STATUS_REVOKED: ConnectionStatus
CONNECTION_STATUS_DELETED: ConnectionStatus
CONNECTION_HEALTH_UNSPECIFIED: ConnectionHealth
CONNECTION_HEALTH_FAILING: ConnectionHealth
CONNECTION_HEALTH_HEALTHY: ConnectionHealth

class SetWebhookSecretRequest(_message.Message):
    __slots__ = ("connection_id", "webhook_secret", "clear")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLEAR_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    webhook_secret: str
    clear: bool
    def __init__(self, connection_id: _Optional[str] = ..., webhook_secret: _Optional[str] = ..., clear: bool = ...) -> None: ...

class ListWebhookDeliveriesRequest(_message.Message):
    __slots__ = ("connection_id", "integration_id", "since", "page_size", "page_token")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    integration_id: str
    since: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, connection_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListWebhookDeliveriesResponse(_message.Message):
    __slots__ = ("deliveries", "next_page_token")
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    deliveries: _containers.RepeatedCompositeFieldContainer[WebhookDeliveryRecord]
    next_page_token: str
    def __init__(self, deliveries: _Optional[_Iterable[_Union[WebhookDeliveryRecord, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetWebhookDeliveryRequest(_message.Message):
    __slots__ = ("event_id",)
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    def __init__(self, event_id: _Optional[str] = ...) -> None: ...

class WebhookDeliveryRecord(_message.Message):
    __slots__ = ("event_id", "event_type", "connection_id", "integration_id", "tenant", "received_at", "delivery", "body_unavailable", "stream_id", "version", "position")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    BODY_UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    STREAM_ID_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_type: str
    connection_id: str
    integration_id: str
    tenant: str
    received_at: _timestamp_pb2.Timestamp
    delivery: _audit_pb2.WebhookDelivery
    body_unavailable: str
    stream_id: str
    version: int
    position: int
    def __init__(self, event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., connection_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., received_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., delivery: _Optional[_Union[_audit_pb2.WebhookDelivery, _Mapping]] = ..., body_unavailable: _Optional[str] = ..., stream_id: _Optional[str] = ..., version: _Optional[int] = ..., position: _Optional[int] = ...) -> None: ...

class CreateConnectSessionRequest(_message.Message):
    __slots__ = ("tenant", "integration_ids", "return_url", "connection_id", "ttl", "profile", "max_connections", "appearance")
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_IDS_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    MAX_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    APPEARANCE_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    integration_ids: _containers.RepeatedScalarFieldContainer[str]
    return_url: str
    connection_id: str
    ttl: _duration_pb2.Duration
    profile: ConnectionProfile
    max_connections: int
    appearance: ConnectAppearance
    def __init__(self, tenant: _Optional[str] = ..., integration_ids: _Optional[_Iterable[str]] = ..., return_url: _Optional[str] = ..., connection_id: _Optional[str] = ..., ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., max_connections: _Optional[int] = ..., appearance: _Optional[_Union[ConnectAppearance, _Mapping]] = ...) -> None: ...

class ConnectAppearance(_message.Message):
    __slots__ = ("locale", "platform_name", "accent_color", "support_url")
    LOCALE_FIELD_NUMBER: _ClassVar[int]
    PLATFORM_NAME_FIELD_NUMBER: _ClassVar[int]
    ACCENT_COLOR_FIELD_NUMBER: _ClassVar[int]
    SUPPORT_URL_FIELD_NUMBER: _ClassVar[int]
    locale: str
    platform_name: str
    accent_color: str
    support_url: str
    def __init__(self, locale: _Optional[str] = ..., platform_name: _Optional[str] = ..., accent_color: _Optional[str] = ..., support_url: _Optional[str] = ...) -> None: ...

class CreateConnectSessionResponse(_message.Message):
    __slots__ = ("session_id", "connect_url", "expires_at")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECT_URL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    connect_url: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, session_id: _Optional[str] = ..., connect_url: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ImportConnectionRequest(_message.Message):
    __slots__ = ("integration_id", "tenant", "access_token", "refresh_token", "expires_at", "scopes", "metadata", "profile", "import_id", "provider_account_id", "token_type", "connection_params")
    class ConnectionParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    IMPORT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tenant: str
    access_token: str
    refresh_token: str
    expires_at: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedScalarFieldContainer[str]
    metadata: _struct_pb2.Struct
    profile: ConnectionProfile
    import_id: str
    provider_account_id: str
    token_type: str
    connection_params: _containers.ScalarMap[str, str]
    def __init__(self, integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., access_token: _Optional[str] = ..., refresh_token: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., scopes: _Optional[_Iterable[str]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., import_id: _Optional[str] = ..., provider_account_id: _Optional[str] = ..., token_type: _Optional[str] = ..., connection_params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ImportConnectionResponse(_message.Message):
    __slots__ = ("connection", "created")
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    connection: Connection
    created: bool
    def __init__(self, connection: _Optional[_Union[Connection, _Mapping]] = ..., created: bool = ...) -> None: ...

class ReportTokenRejectedRequest(_message.Message):
    __slots__ = ("connection_id", "http_status", "provider_error", "token_version")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ERROR_FIELD_NUMBER: _ClassVar[int]
    TOKEN_VERSION_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    http_status: int
    provider_error: str
    token_version: int
    def __init__(self, connection_id: _Optional[str] = ..., http_status: _Optional[int] = ..., provider_error: _Optional[str] = ..., token_version: _Optional[int] = ...) -> None: ...

class ReportTokenRejectedResponse(_message.Message):
    __slots__ = ("verdict", "credential")
    class Verdict(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        VERDICT_UNSPECIFIED: _ClassVar[ReportTokenRejectedResponse.Verdict]
        VERDICT_REPLACED: _ClassVar[ReportTokenRejectedResponse.Verdict]
        VERDICT_CONFIRMED: _ClassVar[ReportTokenRejectedResponse.Verdict]
        VERDICT_NOT_CONFIRMED: _ClassVar[ReportTokenRejectedResponse.Verdict]
        VERDICT_REFRESHED: _ClassVar[ReportTokenRejectedResponse.Verdict]
    VERDICT_UNSPECIFIED: ReportTokenRejectedResponse.Verdict
    VERDICT_REPLACED: ReportTokenRejectedResponse.Verdict
    VERDICT_CONFIRMED: ReportTokenRejectedResponse.Verdict
    VERDICT_NOT_CONFIRMED: ReportTokenRejectedResponse.Verdict
    VERDICT_REFRESHED: ReportTokenRejectedResponse.Verdict
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    verdict: ReportTokenRejectedResponse.Verdict
    credential: GetTokenResponse
    def __init__(self, verdict: _Optional[_Union[ReportTokenRejectedResponse.Verdict, str]] = ..., credential: _Optional[_Union[GetTokenResponse, _Mapping]] = ...) -> None: ...

class ValidateConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class LastValidation(_message.Message):
    __slots__ = ("valid", "reason", "at")
    VALID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    reason: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, valid: bool = ..., reason: _Optional[str] = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectionProfile(_message.Message):
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

class UpdateConnectionRequest(_message.Message):
    __slots__ = ("connection_id", "profile", "expected_version")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    profile: ConnectionProfile
    expected_version: int
    def __init__(self, connection_id: _Optional[str] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., expected_version: _Optional[int] = ...) -> None: ...

class ConnectionError(_message.Message):
    __slots__ = ("code", "description", "retryable", "at")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    code: str
    description: str
    retryable: bool
    at: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., description: _Optional[str] = ..., retryable: bool = ..., at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Connection(_message.Message):
    __slots__ = ("connection_id", "integration_id", "tenant", "grant_type", "status", "scopes", "expires_at", "has_refresh_token", "metadata", "last_error", "version", "created_at", "updated_at", "authorized_at", "refreshed_at", "next_refresh_at", "can_refresh", "name", "description", "labels", "last_validation", "provider_account_id", "failing_since", "connection_params", "refresh_token_expires_at", "webhook_secret_fingerprint")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ConnectionParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    HAS_REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZED_AT_FIELD_NUMBER: _ClassVar[int]
    REFRESHED_AT_FIELD_NUMBER: _ClassVar[int]
    NEXT_REFRESH_AT_FIELD_NUMBER: _ClassVar[int]
    CAN_REFRESH_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LAST_VALIDATION_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    integration_id: str
    tenant: str
    grant_type: _integration_pb2.GrantType
    status: ConnectionStatus
    scopes: _containers.RepeatedScalarFieldContainer[str]
    expires_at: _timestamp_pb2.Timestamp
    has_refresh_token: bool
    metadata: _struct_pb2.Struct
    last_error: ConnectionError
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    authorized_at: _timestamp_pb2.Timestamp
    refreshed_at: _timestamp_pb2.Timestamp
    next_refresh_at: _timestamp_pb2.Timestamp
    can_refresh: bool
    name: str
    description: str
    labels: _containers.ScalarMap[str, str]
    last_validation: LastValidation
    provider_account_id: str
    failing_since: _timestamp_pb2.Timestamp
    connection_params: _containers.ScalarMap[str, str]
    refresh_token_expires_at: _timestamp_pb2.Timestamp
    webhook_secret_fingerprint: str
    def __init__(self, connection_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., grant_type: _Optional[_Union[_integration_pb2.GrantType, str]] = ..., status: _Optional[_Union[ConnectionStatus, str]] = ..., scopes: _Optional[_Iterable[str]] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., has_refresh_token: bool = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., last_error: _Optional[_Union[ConnectionError, _Mapping]] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., authorized_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., refreshed_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., next_refresh_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., can_refresh: bool = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., last_validation: _Optional[_Union[LastValidation, _Mapping]] = ..., provider_account_id: _Optional[str] = ..., failing_since: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., connection_params: _Optional[_Mapping[str, str]] = ..., refresh_token_expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., webhook_secret_fingerprint: _Optional[str] = ...) -> None: ...

class StartAuthorizationRequest(_message.Message):
    __slots__ = ("integration_id", "tenant", "connection_id", "scopes", "extra_params", "return_url", "profile", "connection_params")
    class ExtraParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ConnectionParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXTRA_PARAMS_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tenant: str
    connection_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    extra_params: _containers.ScalarMap[str, str]
    return_url: str
    profile: ConnectionProfile
    connection_params: _containers.ScalarMap[str, str]
    def __init__(self, integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., connection_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., extra_params: _Optional[_Mapping[str, str]] = ..., return_url: _Optional[str] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., connection_params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StartAuthorizationResponse(_message.Message):
    __slots__ = ("authorization_url", "connection_id", "expires_at")
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    connection_id: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, authorization_url: _Optional[str] = ..., connection_id: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectMcpServerRequest(_message.Message):
    __slots__ = ("server_url", "tenant", "scopes", "return_url", "profile")
    SERVER_URL_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    server_url: str
    tenant: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    return_url: str
    profile: ConnectionProfile
    def __init__(self, server_url: _Optional[str] = ..., tenant: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., return_url: _Optional[str] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ...) -> None: ...

class ConnectMcpServerResponse(_message.Message):
    __slots__ = ("authorization_url", "connection_id", "integration_id", "expires_at")
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    connection_id: str
    integration_id: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, authorization_url: _Optional[str] = ..., connection_id: _Optional[str] = ..., integration_id: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectTokenExchangeRequest(_message.Message):
    __slots__ = ("integration_id", "tenant", "subject_connection_id", "scopes", "audience", "resource", "requested_token_type", "profile")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tenant: str
    subject_connection_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    audience: str
    resource: str
    requested_token_type: str
    profile: ConnectionProfile
    def __init__(self, integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., subject_connection_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., audience: _Optional[str] = ..., resource: _Optional[str] = ..., requested_token_type: _Optional[str] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ...) -> None: ...

class StartDeviceAuthorizationRequest(_message.Message):
    __slots__ = ("integration_id", "tenant", "scopes", "profile", "connection_params", "connection_id")
    class ConnectionParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tenant: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    profile: ConnectionProfile
    connection_params: _containers.ScalarMap[str, str]
    connection_id: str
    def __init__(self, integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., connection_params: _Optional[_Mapping[str, str]] = ..., connection_id: _Optional[str] = ...) -> None: ...

class StartDeviceAuthorizationResponse(_message.Message):
    __slots__ = ("connection_id", "user_code", "verification_uri", "verification_uri_complete", "expires_at", "interval")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_CODE_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_URI_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_URI_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_at: _timestamp_pb2.Timestamp
    interval: _duration_pb2.Duration
    def __init__(self, connection_id: _Optional[str] = ..., user_code: _Optional[str] = ..., verification_uri: _Optional[str] = ..., verification_uri_complete: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class CompleteAuthorizationRequest(_message.Message):
    __slots__ = ("callback_query",)
    CALLBACK_QUERY_FIELD_NUMBER: _ClassVar[int]
    callback_query: str
    def __init__(self, callback_query: _Optional[str] = ...) -> None: ...

class ConnectClientCredentialsRequest(_message.Message):
    __slots__ = ("integration_id", "tenant", "client_id", "client_secret", "scopes", "extra_params", "profile", "connection_params")
    class ExtraParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ConnectionParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXTRA_PARAMS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tenant: str
    client_id: str
    client_secret: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    extra_params: _containers.ScalarMap[str, str]
    profile: ConnectionProfile
    connection_params: _containers.ScalarMap[str, str]
    def __init__(self, integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., client_id: _Optional[str] = ..., client_secret: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., extra_params: _Optional[_Mapping[str, str]] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., connection_params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ConnectPasswordRequest(_message.Message):
    __slots__ = ("integration_id", "tenant", "username", "password", "scopes", "profile", "connection_params")
    class ConnectionParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tenant: str
    username: str
    password: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    profile: ConnectionProfile
    connection_params: _containers.ScalarMap[str, str]
    def __init__(self, integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., connection_params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ConnectServiceAccountRequest(_message.Message):
    __slots__ = ("integration_id", "tenant", "key", "algorithm", "key_id", "issuer", "subject", "audience", "scopes", "extra_claims", "profile", "connection_params", "connection_id")
    class ConnectionParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    EXTRA_CLAIMS_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    tenant: str
    key: str
    algorithm: str
    key_id: str
    issuer: str
    subject: str
    audience: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    extra_claims: _struct_pb2.Struct
    profile: ConnectionProfile
    connection_params: _containers.ScalarMap[str, str]
    connection_id: str
    def __init__(self, integration_id: _Optional[str] = ..., tenant: _Optional[str] = ..., key: _Optional[str] = ..., algorithm: _Optional[str] = ..., key_id: _Optional[str] = ..., issuer: _Optional[str] = ..., subject: _Optional[str] = ..., audience: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., extra_claims: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., profile: _Optional[_Union[ConnectionProfile, _Mapping]] = ..., connection_params: _Optional[_Mapping[str, str]] = ..., connection_id: _Optional[str] = ...) -> None: ...

class GetTokenRequest(_message.Message):
    __slots__ = ("connection_id", "min_ttl", "dpop")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    MIN_TTL_FIELD_NUMBER: _ClassVar[int]
    DPOP_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    min_ttl: _duration_pb2.Duration
    dpop: DpopRequest
    def __init__(self, connection_id: _Optional[str] = ..., min_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., dpop: _Optional[_Union[DpopRequest, _Mapping]] = ...) -> None: ...

class DpopRequest(_message.Message):
    __slots__ = ("method", "url", "nonce")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    method: str
    url: str
    nonce: str
    def __init__(self, method: _Optional[str] = ..., url: _Optional[str] = ..., nonce: _Optional[str] = ...) -> None: ...

class GetTokenResponse(_message.Message):
    __slots__ = ("access_token", "token_type", "expires_at", "scopes", "header", "query", "base_uri", "metadata", "version", "dpop_proof")
    ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOKEN_TYPE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    BASE_URI_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DPOP_PROOF_FIELD_NUMBER: _ClassVar[int]
    access_token: str
    token_type: str
    expires_at: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedScalarFieldContainer[str]
    header: HeaderCredential
    query: QueryCredential
    base_uri: str
    metadata: _struct_pb2.Struct
    version: int
    dpop_proof: str
    def __init__(self, access_token: _Optional[str] = ..., token_type: _Optional[str] = ..., expires_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., scopes: _Optional[_Iterable[str]] = ..., header: _Optional[_Union[HeaderCredential, _Mapping]] = ..., query: _Optional[_Union[QueryCredential, _Mapping]] = ..., base_uri: _Optional[str] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., version: _Optional[int] = ..., dpop_proof: _Optional[str] = ...) -> None: ...

class HeaderCredential(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class QueryCredential(_message.Message):
    __slots__ = ("param", "value")
    PARAM_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    param: str
    value: str
    def __init__(self, param: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class RefreshTokenRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class RevokeConnectionRequest(_message.Message):
    __slots__ = ("connection_id", "reason")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    reason: str
    def __init__(self, connection_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DeleteConnectionRequest(_message.Message):
    __slots__ = ("connection_id",)
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    def __init__(self, connection_id: _Optional[str] = ...) -> None: ...

class DeleteConnectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetConnectionRequest(_message.Message):
    __slots__ = ("connection_id", "as_of")
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    connection_id: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, connection_id: _Optional[str] = ..., as_of: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListConnectionsRequest(_message.Message):
    __slots__ = ("tenant", "integration_id", "status", "page_size", "page_token", "labels", "provider_account_id", "health", "failing_since_before")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    TENANT_FIELD_NUMBER: _ClassVar[int]
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    FAILING_SINCE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    tenant: str
    integration_id: str
    status: ConnectionStatus
    page_size: int
    page_token: str
    labels: _containers.ScalarMap[str, str]
    provider_account_id: str
    health: ConnectionHealth
    failing_since_before: _timestamp_pb2.Timestamp
    def __init__(self, tenant: _Optional[str] = ..., integration_id: _Optional[str] = ..., status: _Optional[_Union[ConnectionStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., provider_account_id: _Optional[str] = ..., health: _Optional[_Union[ConnectionHealth, str]] = ..., failing_since_before: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListConnectionsResponse(_message.Message):
    __slots__ = ("connections", "next_page_token")
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    connections: _containers.RepeatedCompositeFieldContainer[Connection]
    next_page_token: str
    def __init__(self, connections: _Optional[_Iterable[_Union[Connection, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
