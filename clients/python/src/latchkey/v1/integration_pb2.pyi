from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WebhookKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_KIND_UNSPECIFIED: _ClassVar[WebhookKind]
    WEBHOOK_KIND_HMAC_BODY: _ClassVar[WebhookKind]
    WEBHOOK_KIND_HMAC_TIMESTAMPED: _ClassVar[WebhookKind]
    WEBHOOK_KIND_STRIPE: _ClassVar[WebhookKind]
    WEBHOOK_KIND_STANDARD_WEBHOOKS: _ClassVar[WebhookKind]
    WEBHOOK_KIND_HUBSPOT_V3: _ClassVar[WebhookKind]
    WEBHOOK_KIND_TWILIO: _ClassVar[WebhookKind]
    WEBHOOK_KIND_SHARED_TOKEN: _ClassVar[WebhookKind]
    WEBHOOK_KIND_GOOGLE_OIDC: _ClassVar[WebhookKind]
    WEBHOOK_KIND_ED25519: _ClassVar[WebhookKind]

class GrantType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GRANT_TYPE_UNSPECIFIED: _ClassVar[GrantType]
    GRANT_TYPE_AUTHORIZATION_CODE: _ClassVar[GrantType]
    GRANT_TYPE_CLIENT_CREDENTIALS: _ClassVar[GrantType]
    GRANT_TYPE_PASSWORD: _ClassVar[GrantType]
    GRANT_TYPE_JWT_BEARER: _ClassVar[GrantType]
    GRANT_TYPE_DEVICE_CODE: _ClassVar[GrantType]
    GRANT_TYPE_TOKEN_EXCHANGE: _ClassVar[GrantType]

class ClientAuthMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLIENT_AUTH_METHOD_UNSPECIFIED: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_BASIC_HEADER: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_REQUEST_BODY: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_JSON_BODY: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_TLS_CLIENT_AUTH: _ClassVar[ClientAuthMethod]
    CLIENT_AUTH_METHOD_SELF_SIGNED_TLS_CLIENT_AUTH: _ClassVar[ClientAuthMethod]
WEBHOOK_KIND_UNSPECIFIED: WebhookKind
WEBHOOK_KIND_HMAC_BODY: WebhookKind
WEBHOOK_KIND_HMAC_TIMESTAMPED: WebhookKind
WEBHOOK_KIND_STRIPE: WebhookKind
WEBHOOK_KIND_STANDARD_WEBHOOKS: WebhookKind
WEBHOOK_KIND_HUBSPOT_V3: WebhookKind
WEBHOOK_KIND_TWILIO: WebhookKind
WEBHOOK_KIND_SHARED_TOKEN: WebhookKind
WEBHOOK_KIND_GOOGLE_OIDC: WebhookKind
WEBHOOK_KIND_ED25519: WebhookKind
GRANT_TYPE_UNSPECIFIED: GrantType
GRANT_TYPE_AUTHORIZATION_CODE: GrantType
GRANT_TYPE_CLIENT_CREDENTIALS: GrantType
GRANT_TYPE_PASSWORD: GrantType
GRANT_TYPE_JWT_BEARER: GrantType
GRANT_TYPE_DEVICE_CODE: GrantType
GRANT_TYPE_TOKEN_EXCHANGE: GrantType
CLIENT_AUTH_METHOD_UNSPECIFIED: ClientAuthMethod
CLIENT_AUTH_METHOD_BASIC_HEADER: ClientAuthMethod
CLIENT_AUTH_METHOD_REQUEST_BODY: ClientAuthMethod
CLIENT_AUTH_METHOD_JSON_BODY: ClientAuthMethod
CLIENT_AUTH_METHOD_PRIVATE_KEY_JWT: ClientAuthMethod
CLIENT_AUTH_METHOD_TLS_CLIENT_AUTH: ClientAuthMethod
CLIENT_AUTH_METHOD_SELF_SIGNED_TLS_CLIENT_AUTH: ClientAuthMethod

class WebhookScheme(_message.Message):
    __slots__ = ("kind", "signature_header", "prefix", "encoding", "timestamp_header", "template", "tolerance_secs", "account_pointer", "algorithm", "token_from", "audience", "jwks_url")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_HEADER_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_HEADER_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_SECS_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_POINTER_FIELD_NUMBER: _ClassVar[int]
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FROM_FIELD_NUMBER: _ClassVar[int]
    AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    JWKS_URL_FIELD_NUMBER: _ClassVar[int]
    kind: WebhookKind
    signature_header: str
    prefix: str
    encoding: str
    timestamp_header: str
    template: str
    tolerance_secs: int
    account_pointer: str
    algorithm: str
    token_from: str
    audience: str
    jwks_url: str
    def __init__(self, kind: _Optional[_Union[WebhookKind, str]] = ..., signature_header: _Optional[str] = ..., prefix: _Optional[str] = ..., encoding: _Optional[str] = ..., timestamp_header: _Optional[str] = ..., template: _Optional[str] = ..., tolerance_secs: _Optional[int] = ..., account_pointer: _Optional[str] = ..., algorithm: _Optional[str] = ..., token_from: _Optional[str] = ..., audience: _Optional[str] = ..., jwks_url: _Optional[str] = ...) -> None: ...

class WebhookRouting(_message.Message):
    __slots__ = ("event_type_from", "delivery_id_from", "routing_key_from", "match_on", "handshake", "form_bodies_are_actions", "action_ack", "rate_per_second")
    EVENT_TYPE_FROM_FIELD_NUMBER: _ClassVar[int]
    DELIVERY_ID_FROM_FIELD_NUMBER: _ClassVar[int]
    ROUTING_KEY_FROM_FIELD_NUMBER: _ClassVar[int]
    MATCH_ON_FIELD_NUMBER: _ClassVar[int]
    HANDSHAKE_FIELD_NUMBER: _ClassVar[int]
    FORM_BODIES_ARE_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    ACTION_ACK_FIELD_NUMBER: _ClassVar[int]
    RATE_PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    event_type_from: str
    delivery_id_from: str
    routing_key_from: str
    match_on: str
    handshake: str
    form_bodies_are_actions: bool
    action_ack: str
    rate_per_second: int
    def __init__(self, event_type_from: _Optional[str] = ..., delivery_id_from: _Optional[str] = ..., routing_key_from: _Optional[str] = ..., match_on: _Optional[str] = ..., handshake: _Optional[str] = ..., form_bodies_are_actions: bool = ..., action_ack: _Optional[str] = ..., rate_per_second: _Optional[int] = ...) -> None: ...

class VerifyWebhookRequest(_message.Message):
    __slots__ = ("integration_id", "headers", "body", "method", "url")
    class HeadersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    headers: _containers.ScalarMap[str, str]
    body: bytes
    method: str
    url: str
    def __init__(self, integration_id: _Optional[str] = ..., headers: _Optional[_Mapping[str, str]] = ..., body: _Optional[bytes] = ..., method: _Optional[str] = ..., url: _Optional[str] = ...) -> None: ...

class VerifyWebhookResponse(_message.Message):
    __slots__ = ("valid", "reason", "provider_account_id", "connection_id")
    VALID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_ID_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    reason: str
    provider_account_id: str
    connection_id: str
    def __init__(self, valid: bool = ..., reason: _Optional[str] = ..., provider_account_id: _Optional[str] = ..., connection_id: _Optional[str] = ...) -> None: ...

class TokenPlacement(_message.Message):
    __slots__ = ("header", "query")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    header: HeaderPlacement
    query: QueryPlacement
    def __init__(self, header: _Optional[_Union[HeaderPlacement, _Mapping]] = ..., query: _Optional[_Union[QueryPlacement, _Mapping]] = ...) -> None: ...

class HeaderPlacement(_message.Message):
    __slots__ = ("name", "prefix")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    name: str
    prefix: str
    def __init__(self, name: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...

class QueryPlacement(_message.Message):
    __slots__ = ("param",)
    PARAM_FIELD_NUMBER: _ClassVar[int]
    param: str
    def __init__(self, param: _Optional[str] = ...) -> None: ...

class IntegrationConfig(_message.Message):
    __slots__ = ("name", "description", "grant_type", "authorization_url", "token_url", "revocation_url", "base_uri", "client_id", "scopes", "scope_separator", "redirect_uri", "response_type", "authorization_params", "token_params", "client_auth", "token_placement", "default_token_lifetime_secs", "refresh_margin_secs", "allow_password_grant", "pkce", "issuer", "require_iss", "metadata_fields", "refresh_token_max_idle_secs", "webhook", "validation", "account", "reauthorize_same_account", "validation_interval_secs", "refresh_token_reuse", "refresh_token_reuse_grace_secs", "refresh_failure_horizon_secs", "return_url_origins", "allowed_scopes", "connection_params", "callback_params", "token_request_format", "token_response", "refresh_token_expiry_warning_secs", "revocation", "allowed_hosts", "webhook_max_body_bytes", "webhook_routing", "client_assertion_algorithm", "client_assertion_audience", "pushed_authorization_url", "device_authorization_url", "dpop")
    class AuthorizationParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class TokenParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class TokenResponseEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    GRANT_TYPE_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    TOKEN_URL_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_URL_FIELD_NUMBER: _ClassVar[int]
    BASE_URI_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ID_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    SCOPE_SEPARATOR_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TYPE_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZATION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PARAMS_FIELD_NUMBER: _ClassVar[int]
    CLIENT_AUTH_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PLACEMENT_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TOKEN_LIFETIME_SECS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_MARGIN_SECS_FIELD_NUMBER: _ClassVar[int]
    ALLOW_PASSWORD_GRANT_FIELD_NUMBER: _ClassVar[int]
    PKCE_FIELD_NUMBER: _ClassVar[int]
    ISSUER_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_ISS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELDS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_MAX_IDLE_SECS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    REAUTHORIZE_SAME_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_INTERVAL_SECS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_REUSE_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_REUSE_GRACE_SECS_FIELD_NUMBER: _ClassVar[int]
    REFRESH_FAILURE_HORIZON_SECS_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_ORIGINS_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_SCOPES_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    CALLBACK_PARAMS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_REQUEST_FORMAT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_RESPONSE_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_EXPIRY_WARNING_SECS_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_HOSTS_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_MAX_BODY_BYTES_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_ROUTING_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ASSERTION_ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ASSERTION_AUDIENCE_FIELD_NUMBER: _ClassVar[int]
    PUSHED_AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    DPOP_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    grant_type: GrantType
    authorization_url: str
    token_url: str
    revocation_url: str
    base_uri: str
    client_id: str
    scopes: _containers.RepeatedScalarFieldContainer[str]
    scope_separator: str
    redirect_uri: str
    response_type: str
    authorization_params: _containers.ScalarMap[str, str]
    token_params: _containers.ScalarMap[str, str]
    client_auth: ClientAuthMethod
    token_placement: TokenPlacement
    default_token_lifetime_secs: int
    refresh_margin_secs: int
    allow_password_grant: bool
    pkce: bool
    issuer: str
    require_iss: bool
    metadata_fields: _containers.RepeatedScalarFieldContainer[str]
    refresh_token_max_idle_secs: int
    webhook: WebhookScheme
    validation: TokenValidation
    account: AccountMapping
    reauthorize_same_account: bool
    validation_interval_secs: int
    refresh_token_reuse: str
    refresh_token_reuse_grace_secs: int
    refresh_failure_horizon_secs: int
    return_url_origins: _containers.RepeatedScalarFieldContainer[str]
    allowed_scopes: _containers.RepeatedScalarFieldContainer[str]
    connection_params: _containers.RepeatedCompositeFieldContainer[ConnectionParam]
    callback_params: _containers.RepeatedScalarFieldContainer[str]
    token_request_format: str
    token_response: _containers.ScalarMap[str, str]
    refresh_token_expiry_warning_secs: int
    revocation: RevocationRequest
    allowed_hosts: _containers.RepeatedScalarFieldContainer[str]
    webhook_max_body_bytes: int
    webhook_routing: WebhookRouting
    client_assertion_algorithm: str
    client_assertion_audience: str
    pushed_authorization_url: str
    device_authorization_url: str
    dpop: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., grant_type: _Optional[_Union[GrantType, str]] = ..., authorization_url: _Optional[str] = ..., token_url: _Optional[str] = ..., revocation_url: _Optional[str] = ..., base_uri: _Optional[str] = ..., client_id: _Optional[str] = ..., scopes: _Optional[_Iterable[str]] = ..., scope_separator: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., response_type: _Optional[str] = ..., authorization_params: _Optional[_Mapping[str, str]] = ..., token_params: _Optional[_Mapping[str, str]] = ..., client_auth: _Optional[_Union[ClientAuthMethod, str]] = ..., token_placement: _Optional[_Union[TokenPlacement, _Mapping]] = ..., default_token_lifetime_secs: _Optional[int] = ..., refresh_margin_secs: _Optional[int] = ..., allow_password_grant: bool = ..., pkce: bool = ..., issuer: _Optional[str] = ..., require_iss: bool = ..., metadata_fields: _Optional[_Iterable[str]] = ..., refresh_token_max_idle_secs: _Optional[int] = ..., webhook: _Optional[_Union[WebhookScheme, _Mapping]] = ..., validation: _Optional[_Union[TokenValidation, _Mapping]] = ..., account: _Optional[_Union[AccountMapping, _Mapping]] = ..., reauthorize_same_account: bool = ..., validation_interval_secs: _Optional[int] = ..., refresh_token_reuse: _Optional[str] = ..., refresh_token_reuse_grace_secs: _Optional[int] = ..., refresh_failure_horizon_secs: _Optional[int] = ..., return_url_origins: _Optional[_Iterable[str]] = ..., allowed_scopes: _Optional[_Iterable[str]] = ..., connection_params: _Optional[_Iterable[_Union[ConnectionParam, _Mapping]]] = ..., callback_params: _Optional[_Iterable[str]] = ..., token_request_format: _Optional[str] = ..., token_response: _Optional[_Mapping[str, str]] = ..., refresh_token_expiry_warning_secs: _Optional[int] = ..., revocation: _Optional[_Union[RevocationRequest, _Mapping]] = ..., allowed_hosts: _Optional[_Iterable[str]] = ..., webhook_max_body_bytes: _Optional[int] = ..., webhook_routing: _Optional[_Union[WebhookRouting, _Mapping]] = ..., client_assertion_algorithm: _Optional[str] = ..., client_assertion_audience: _Optional[str] = ..., pushed_authorization_url: _Optional[str] = ..., device_authorization_url: _Optional[str] = ..., dpop: bool = ...) -> None: ...

class RevocationRequest(_message.Message):
    __slots__ = ("method", "body", "body_format", "auth", "token")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    BODY_FORMAT_FIELD_NUMBER: _ClassVar[int]
    AUTH_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    method: str
    body: str
    body_format: str
    auth: str
    token: str
    def __init__(self, method: _Optional[str] = ..., body: _Optional[str] = ..., body_format: _Optional[str] = ..., auth: _Optional[str] = ..., token: _Optional[str] = ...) -> None: ...

class ConnectionParam(_message.Message):
    __slots__ = ("name", "pattern", "label", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    pattern: str
    label: str
    description: str
    def __init__(self, name: _Optional[str] = ..., pattern: _Optional[str] = ..., label: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class AccountMapping(_message.Message):
    __slots__ = ("kind", "url", "pointer", "method")
    KIND_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    POINTER_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    kind: str
    url: str
    pointer: str
    method: str
    def __init__(self, kind: _Optional[str] = ..., url: _Optional[str] = ..., pointer: _Optional[str] = ..., method: _Optional[str] = ...) -> None: ...

class TokenValidation(_message.Message):
    __slots__ = ("kind", "url", "method", "path", "expected_status")
    KIND_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_STATUS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    url: str
    method: str
    path: str
    expected_status: int
    def __init__(self, kind: _Optional[str] = ..., url: _Optional[str] = ..., method: _Optional[str] = ..., path: _Optional[str] = ..., expected_status: _Optional[int] = ...) -> None: ...

class Integration(_message.Message):
    __slots__ = ("integration_id", "config", "has_client_secret", "client_secret_fingerprint", "version", "created_at", "updated_at", "effective_redirect_uri", "has_webhook_secret", "owner_tenant")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    HAS_CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    HAS_WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    OWNER_TENANT_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    config: IntegrationConfig
    has_client_secret: bool
    client_secret_fingerprint: str
    version: int
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    effective_redirect_uri: str
    has_webhook_secret: bool
    owner_tenant: str
    def __init__(self, integration_id: _Optional[str] = ..., config: _Optional[_Union[IntegrationConfig, _Mapping]] = ..., has_client_secret: bool = ..., client_secret_fingerprint: _Optional[str] = ..., version: _Optional[int] = ..., created_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., effective_redirect_uri: _Optional[str] = ..., has_webhook_secret: bool = ..., owner_tenant: _Optional[str] = ...) -> None: ...

class CreateIntegrationRequest(_message.Message):
    __slots__ = ("config", "client_secret", "template", "discover", "webhook_secret", "owner_tenant")
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    DISCOVER_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    OWNER_TENANT_FIELD_NUMBER: _ClassVar[int]
    config: IntegrationConfig
    client_secret: str
    template: str
    discover: bool
    webhook_secret: str
    owner_tenant: str
    def __init__(self, config: _Optional[_Union[IntegrationConfig, _Mapping]] = ..., client_secret: _Optional[str] = ..., template: _Optional[str] = ..., discover: bool = ..., webhook_secret: _Optional[str] = ..., owner_tenant: _Optional[str] = ...) -> None: ...

class GetIntegrationRequest(_message.Message):
    __slots__ = ("integration_id",)
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    def __init__(self, integration_id: _Optional[str] = ...) -> None: ...

class ListIntegrationsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIntegrationsResponse(_message.Message):
    __slots__ = ("integrations", "next_page_token")
    INTEGRATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    integrations: _containers.RepeatedCompositeFieldContainer[Integration]
    next_page_token: str
    def __init__(self, integrations: _Optional[_Iterable[_Union[Integration, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateIntegrationRequest(_message.Message):
    __slots__ = ("integration_id", "config", "client_secret", "clear_client_secret", "expected_version", "webhook_secret", "clear_webhook_secret")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLEAR_CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    CLEAR_WEBHOOK_SECRET_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    config: IntegrationConfig
    client_secret: str
    clear_client_secret: bool
    expected_version: int
    webhook_secret: str
    clear_webhook_secret: bool
    def __init__(self, integration_id: _Optional[str] = ..., config: _Optional[_Union[IntegrationConfig, _Mapping]] = ..., client_secret: _Optional[str] = ..., clear_client_secret: bool = ..., expected_version: _Optional[int] = ..., webhook_secret: _Optional[str] = ..., clear_webhook_secret: bool = ...) -> None: ...

class DeleteIntegrationRequest(_message.Message):
    __slots__ = ("integration_id", "expected_version", "force")
    INTEGRATION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    integration_id: str
    expected_version: int
    force: bool
    def __init__(self, integration_id: _Optional[str] = ..., expected_version: _Optional[int] = ..., force: bool = ...) -> None: ...

class DeleteIntegrationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListTemplatesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Template(_message.Message):
    __slots__ = ("name", "description", "config")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    config: IntegrationConfig
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., config: _Optional[_Union[IntegrationConfig, _Mapping]] = ...) -> None: ...

class ListTemplatesResponse(_message.Message):
    __slots__ = ("templates",)
    TEMPLATES_FIELD_NUMBER: _ClassVar[int]
    templates: _containers.RepeatedCompositeFieldContainer[Template]
    def __init__(self, templates: _Optional[_Iterable[_Union[Template, _Mapping]]] = ...) -> None: ...
