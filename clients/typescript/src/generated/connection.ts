import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CustomHttpPattern as _google_api_CustomHttpPattern, CustomHttpPattern__Output as _google_api_CustomHttpPattern__Output } from './google/api/CustomHttpPattern';
import type { Http as _google_api_Http, Http__Output as _google_api_Http__Output } from './google/api/Http';
import type { HttpRule as _google_api_HttpRule, HttpRule__Output as _google_api_HttpRule__Output } from './google/api/HttpRule';
import type { DescriptorProto as _google_protobuf_DescriptorProto, DescriptorProto__Output as _google_protobuf_DescriptorProto__Output } from './google/protobuf/DescriptorProto';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration';
import type { EnumDescriptorProto as _google_protobuf_EnumDescriptorProto, EnumDescriptorProto__Output as _google_protobuf_EnumDescriptorProto__Output } from './google/protobuf/EnumDescriptorProto';
import type { EnumOptions as _google_protobuf_EnumOptions, EnumOptions__Output as _google_protobuf_EnumOptions__Output } from './google/protobuf/EnumOptions';
import type { EnumValueDescriptorProto as _google_protobuf_EnumValueDescriptorProto, EnumValueDescriptorProto__Output as _google_protobuf_EnumValueDescriptorProto__Output } from './google/protobuf/EnumValueDescriptorProto';
import type { EnumValueOptions as _google_protobuf_EnumValueOptions, EnumValueOptions__Output as _google_protobuf_EnumValueOptions__Output } from './google/protobuf/EnumValueOptions';
import type { ExtensionRangeOptions as _google_protobuf_ExtensionRangeOptions, ExtensionRangeOptions__Output as _google_protobuf_ExtensionRangeOptions__Output } from './google/protobuf/ExtensionRangeOptions';
import type { FeatureSet as _google_protobuf_FeatureSet, FeatureSet__Output as _google_protobuf_FeatureSet__Output } from './google/protobuf/FeatureSet';
import type { FeatureSetDefaults as _google_protobuf_FeatureSetDefaults, FeatureSetDefaults__Output as _google_protobuf_FeatureSetDefaults__Output } from './google/protobuf/FeatureSetDefaults';
import type { FieldDescriptorProto as _google_protobuf_FieldDescriptorProto, FieldDescriptorProto__Output as _google_protobuf_FieldDescriptorProto__Output } from './google/protobuf/FieldDescriptorProto';
import type { FieldOptions as _google_protobuf_FieldOptions, FieldOptions__Output as _google_protobuf_FieldOptions__Output } from './google/protobuf/FieldOptions';
import type { FileDescriptorProto as _google_protobuf_FileDescriptorProto, FileDescriptorProto__Output as _google_protobuf_FileDescriptorProto__Output } from './google/protobuf/FileDescriptorProto';
import type { FileDescriptorSet as _google_protobuf_FileDescriptorSet, FileDescriptorSet__Output as _google_protobuf_FileDescriptorSet__Output } from './google/protobuf/FileDescriptorSet';
import type { FileOptions as _google_protobuf_FileOptions, FileOptions__Output as _google_protobuf_FileOptions__Output } from './google/protobuf/FileOptions';
import type { GeneratedCodeInfo as _google_protobuf_GeneratedCodeInfo, GeneratedCodeInfo__Output as _google_protobuf_GeneratedCodeInfo__Output } from './google/protobuf/GeneratedCodeInfo';
import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from './google/protobuf/ListValue';
import type { MessageOptions as _google_protobuf_MessageOptions, MessageOptions__Output as _google_protobuf_MessageOptions__Output } from './google/protobuf/MessageOptions';
import type { MethodDescriptorProto as _google_protobuf_MethodDescriptorProto, MethodDescriptorProto__Output as _google_protobuf_MethodDescriptorProto__Output } from './google/protobuf/MethodDescriptorProto';
import type { MethodOptions as _google_protobuf_MethodOptions, MethodOptions__Output as _google_protobuf_MethodOptions__Output } from './google/protobuf/MethodOptions';
import type { OneofDescriptorProto as _google_protobuf_OneofDescriptorProto, OneofDescriptorProto__Output as _google_protobuf_OneofDescriptorProto__Output } from './google/protobuf/OneofDescriptorProto';
import type { OneofOptions as _google_protobuf_OneofOptions, OneofOptions__Output as _google_protobuf_OneofOptions__Output } from './google/protobuf/OneofOptions';
import type { ServiceDescriptorProto as _google_protobuf_ServiceDescriptorProto, ServiceDescriptorProto__Output as _google_protobuf_ServiceDescriptorProto__Output } from './google/protobuf/ServiceDescriptorProto';
import type { ServiceOptions as _google_protobuf_ServiceOptions, ServiceOptions__Output as _google_protobuf_ServiceOptions__Output } from './google/protobuf/ServiceOptions';
import type { SourceCodeInfo as _google_protobuf_SourceCodeInfo, SourceCodeInfo__Output as _google_protobuf_SourceCodeInfo__Output } from './google/protobuf/SourceCodeInfo';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from './google/protobuf/Struct';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { UninterpretedOption as _google_protobuf_UninterpretedOption, UninterpretedOption__Output as _google_protobuf_UninterpretedOption__Output } from './google/protobuf/UninterpretedOption';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from './google/protobuf/Value';
import type { AccountMapping as _latchkey_v1_AccountMapping, AccountMapping__Output as _latchkey_v1_AccountMapping__Output } from './latchkey/v1/AccountMapping';
import type { ApiKeyCreated as _latchkey_v1_ApiKeyCreated, ApiKeyCreated__Output as _latchkey_v1_ApiKeyCreated__Output } from './latchkey/v1/ApiKeyCreated';
import type { ApiKeyRevoked as _latchkey_v1_ApiKeyRevoked, ApiKeyRevoked__Output as _latchkey_v1_ApiKeyRevoked__Output } from './latchkey/v1/ApiKeyRevoked';
import type { AuditServiceClient as _latchkey_v1_AuditServiceClient, AuditServiceDefinition as _latchkey_v1_AuditServiceDefinition } from './latchkey/v1/AuditService';
import type { AuthorizationFailed as _latchkey_v1_AuthorizationFailed, AuthorizationFailed__Output as _latchkey_v1_AuthorizationFailed__Output } from './latchkey/v1/AuthorizationFailed';
import type { AuthorizationOpened as _latchkey_v1_AuthorizationOpened, AuthorizationOpened__Output as _latchkey_v1_AuthorizationOpened__Output } from './latchkey/v1/AuthorizationOpened';
import type { AuthorizationStarted as _latchkey_v1_AuthorizationStarted, AuthorizationStarted__Output as _latchkey_v1_AuthorizationStarted__Output } from './latchkey/v1/AuthorizationStarted';
import type { Authorized as _latchkey_v1_Authorized, Authorized__Output as _latchkey_v1_Authorized__Output } from './latchkey/v1/Authorized';
import type { CallbackCaptured as _latchkey_v1_CallbackCaptured, CallbackCaptured__Output as _latchkey_v1_CallbackCaptured__Output } from './latchkey/v1/CallbackCaptured';
import type { CompleteAuthorizationRequest as _latchkey_v1_CompleteAuthorizationRequest, CompleteAuthorizationRequest__Output as _latchkey_v1_CompleteAuthorizationRequest__Output } from './latchkey/v1/CompleteAuthorizationRequest';
import type { ConnectAppearance as _latchkey_v1_ConnectAppearance, ConnectAppearance__Output as _latchkey_v1_ConnectAppearance__Output } from './latchkey/v1/ConnectAppearance';
import type { ConnectClientCredentialsRequest as _latchkey_v1_ConnectClientCredentialsRequest, ConnectClientCredentialsRequest__Output as _latchkey_v1_ConnectClientCredentialsRequest__Output } from './latchkey/v1/ConnectClientCredentialsRequest';
import type { ConnectMcpServerRequest as _latchkey_v1_ConnectMcpServerRequest, ConnectMcpServerRequest__Output as _latchkey_v1_ConnectMcpServerRequest__Output } from './latchkey/v1/ConnectMcpServerRequest';
import type { ConnectMcpServerResponse as _latchkey_v1_ConnectMcpServerResponse, ConnectMcpServerResponse__Output as _latchkey_v1_ConnectMcpServerResponse__Output } from './latchkey/v1/ConnectMcpServerResponse';
import type { ConnectPasswordRequest as _latchkey_v1_ConnectPasswordRequest, ConnectPasswordRequest__Output as _latchkey_v1_ConnectPasswordRequest__Output } from './latchkey/v1/ConnectPasswordRequest';
import type { ConnectServiceAccountRequest as _latchkey_v1_ConnectServiceAccountRequest, ConnectServiceAccountRequest__Output as _latchkey_v1_ConnectServiceAccountRequest__Output } from './latchkey/v1/ConnectServiceAccountRequest';
import type { ConnectSessionConnected as _latchkey_v1_ConnectSessionConnected, ConnectSessionConnected__Output as _latchkey_v1_ConnectSessionConnected__Output } from './latchkey/v1/ConnectSessionConnected';
import type { ConnectSessionCreated as _latchkey_v1_ConnectSessionCreated, ConnectSessionCreated__Output as _latchkey_v1_ConnectSessionCreated__Output } from './latchkey/v1/ConnectSessionCreated';
import type { ConnectSessionFailed as _latchkey_v1_ConnectSessionFailed, ConnectSessionFailed__Output as _latchkey_v1_ConnectSessionFailed__Output } from './latchkey/v1/ConnectSessionFailed';
import type { ConnectSessionOpened as _latchkey_v1_ConnectSessionOpened, ConnectSessionOpened__Output as _latchkey_v1_ConnectSessionOpened__Output } from './latchkey/v1/ConnectSessionOpened';
import type { ConnectTokenExchangeRequest as _latchkey_v1_ConnectTokenExchangeRequest, ConnectTokenExchangeRequest__Output as _latchkey_v1_ConnectTokenExchangeRequest__Output } from './latchkey/v1/ConnectTokenExchangeRequest';
import type { Connection as _latchkey_v1_Connection, Connection__Output as _latchkey_v1_Connection__Output } from './latchkey/v1/Connection';
import type { ConnectionCreated as _latchkey_v1_ConnectionCreated, ConnectionCreated__Output as _latchkey_v1_ConnectionCreated__Output } from './latchkey/v1/ConnectionCreated';
import type { ConnectionError as _latchkey_v1_ConnectionError, ConnectionError__Output as _latchkey_v1_ConnectionError__Output } from './latchkey/v1/ConnectionError';
import type { ConnectionFailing as _latchkey_v1_ConnectionFailing, ConnectionFailing__Output as _latchkey_v1_ConnectionFailing__Output } from './latchkey/v1/ConnectionFailing';
import type { ConnectionParam as _latchkey_v1_ConnectionParam, ConnectionParam__Output as _latchkey_v1_ConnectionParam__Output } from './latchkey/v1/ConnectionParam';
import type { ConnectionProfile as _latchkey_v1_ConnectionProfile, ConnectionProfile__Output as _latchkey_v1_ConnectionProfile__Output } from './latchkey/v1/ConnectionProfile';
import type { ConnectionRecovered as _latchkey_v1_ConnectionRecovered, ConnectionRecovered__Output as _latchkey_v1_ConnectionRecovered__Output } from './latchkey/v1/ConnectionRecovered';
import type { ConnectionServiceClient as _latchkey_v1_ConnectionServiceClient, ConnectionServiceDefinition as _latchkey_v1_ConnectionServiceDefinition } from './latchkey/v1/ConnectionService';
import type { ConnectionUpdated as _latchkey_v1_ConnectionUpdated, ConnectionUpdated__Output as _latchkey_v1_ConnectionUpdated__Output } from './latchkey/v1/ConnectionUpdated';
import type { CreateConnectSessionRequest as _latchkey_v1_CreateConnectSessionRequest, CreateConnectSessionRequest__Output as _latchkey_v1_CreateConnectSessionRequest__Output } from './latchkey/v1/CreateConnectSessionRequest';
import type { CreateConnectSessionResponse as _latchkey_v1_CreateConnectSessionResponse, CreateConnectSessionResponse__Output as _latchkey_v1_CreateConnectSessionResponse__Output } from './latchkey/v1/CreateConnectSessionResponse';
import type { CreateIntegrationRequest as _latchkey_v1_CreateIntegrationRequest, CreateIntegrationRequest__Output as _latchkey_v1_CreateIntegrationRequest__Output } from './latchkey/v1/CreateIntegrationRequest';
import type { DeleteConnectionRequest as _latchkey_v1_DeleteConnectionRequest, DeleteConnectionRequest__Output as _latchkey_v1_DeleteConnectionRequest__Output } from './latchkey/v1/DeleteConnectionRequest';
import type { DeleteConnectionResponse as _latchkey_v1_DeleteConnectionResponse, DeleteConnectionResponse__Output as _latchkey_v1_DeleteConnectionResponse__Output } from './latchkey/v1/DeleteConnectionResponse';
import type { DeleteIntegrationRequest as _latchkey_v1_DeleteIntegrationRequest, DeleteIntegrationRequest__Output as _latchkey_v1_DeleteIntegrationRequest__Output } from './latchkey/v1/DeleteIntegrationRequest';
import type { DeleteIntegrationResponse as _latchkey_v1_DeleteIntegrationResponse, DeleteIntegrationResponse__Output as _latchkey_v1_DeleteIntegrationResponse__Output } from './latchkey/v1/DeleteIntegrationResponse';
import type { Deleted as _latchkey_v1_Deleted, Deleted__Output as _latchkey_v1_Deleted__Output } from './latchkey/v1/Deleted';
import type { DpopRequest as _latchkey_v1_DpopRequest, DpopRequest__Output as _latchkey_v1_DpopRequest__Output } from './latchkey/v1/DpopRequest';
import type { Event as _latchkey_v1_Event, Event__Output as _latchkey_v1_Event__Output } from './latchkey/v1/Event';
import type { EventFilter as _latchkey_v1_EventFilter, EventFilter__Output as _latchkey_v1_EventFilter__Output } from './latchkey/v1/EventFilter';
import type { Expired as _latchkey_v1_Expired, Expired__Output as _latchkey_v1_Expired__Output } from './latchkey/v1/Expired';
import type { GetAccessLogRequest as _latchkey_v1_GetAccessLogRequest, GetAccessLogRequest__Output as _latchkey_v1_GetAccessLogRequest__Output } from './latchkey/v1/GetAccessLogRequest';
import type { GetAccessLogResponse as _latchkey_v1_GetAccessLogResponse, GetAccessLogResponse__Output as _latchkey_v1_GetAccessLogResponse__Output } from './latchkey/v1/GetAccessLogResponse';
import type { GetConnectionRequest as _latchkey_v1_GetConnectionRequest, GetConnectionRequest__Output as _latchkey_v1_GetConnectionRequest__Output } from './latchkey/v1/GetConnectionRequest';
import type { GetHistoryRequest as _latchkey_v1_GetHistoryRequest, GetHistoryRequest__Output as _latchkey_v1_GetHistoryRequest__Output } from './latchkey/v1/GetHistoryRequest';
import type { GetIntegrationRequest as _latchkey_v1_GetIntegrationRequest, GetIntegrationRequest__Output as _latchkey_v1_GetIntegrationRequest__Output } from './latchkey/v1/GetIntegrationRequest';
import type { GetTokenRequest as _latchkey_v1_GetTokenRequest, GetTokenRequest__Output as _latchkey_v1_GetTokenRequest__Output } from './latchkey/v1/GetTokenRequest';
import type { GetTokenResponse as _latchkey_v1_GetTokenResponse, GetTokenResponse__Output as _latchkey_v1_GetTokenResponse__Output } from './latchkey/v1/GetTokenResponse';
import type { GetWebhookDeliveryRequest as _latchkey_v1_GetWebhookDeliveryRequest, GetWebhookDeliveryRequest__Output as _latchkey_v1_GetWebhookDeliveryRequest__Output } from './latchkey/v1/GetWebhookDeliveryRequest';
import type { HeaderCredential as _latchkey_v1_HeaderCredential, HeaderCredential__Output as _latchkey_v1_HeaderCredential__Output } from './latchkey/v1/HeaderCredential';
import type { HeaderPlacement as _latchkey_v1_HeaderPlacement, HeaderPlacement__Output as _latchkey_v1_HeaderPlacement__Output } from './latchkey/v1/HeaderPlacement';
import type { ImportConnectionRequest as _latchkey_v1_ImportConnectionRequest, ImportConnectionRequest__Output as _latchkey_v1_ImportConnectionRequest__Output } from './latchkey/v1/ImportConnectionRequest';
import type { ImportConnectionResponse as _latchkey_v1_ImportConnectionResponse, ImportConnectionResponse__Output as _latchkey_v1_ImportConnectionResponse__Output } from './latchkey/v1/ImportConnectionResponse';
import type { Imported as _latchkey_v1_Imported, Imported__Output as _latchkey_v1_Imported__Output } from './latchkey/v1/Imported';
import type { Integration as _latchkey_v1_Integration, Integration__Output as _latchkey_v1_Integration__Output } from './latchkey/v1/Integration';
import type { IntegrationConfig as _latchkey_v1_IntegrationConfig, IntegrationConfig__Output as _latchkey_v1_IntegrationConfig__Output } from './latchkey/v1/IntegrationConfig';
import type { IntegrationCreated as _latchkey_v1_IntegrationCreated, IntegrationCreated__Output as _latchkey_v1_IntegrationCreated__Output } from './latchkey/v1/IntegrationCreated';
import type { IntegrationDeleted as _latchkey_v1_IntegrationDeleted, IntegrationDeleted__Output as _latchkey_v1_IntegrationDeleted__Output } from './latchkey/v1/IntegrationDeleted';
import type { IntegrationServiceClient as _latchkey_v1_IntegrationServiceClient, IntegrationServiceDefinition as _latchkey_v1_IntegrationServiceDefinition } from './latchkey/v1/IntegrationService';
import type { IntegrationUpdated as _latchkey_v1_IntegrationUpdated, IntegrationUpdated__Output as _latchkey_v1_IntegrationUpdated__Output } from './latchkey/v1/IntegrationUpdated';
import type { LastValidation as _latchkey_v1_LastValidation, LastValidation__Output as _latchkey_v1_LastValidation__Output } from './latchkey/v1/LastValidation';
import type { ListConnectionsRequest as _latchkey_v1_ListConnectionsRequest, ListConnectionsRequest__Output as _latchkey_v1_ListConnectionsRequest__Output } from './latchkey/v1/ListConnectionsRequest';
import type { ListConnectionsResponse as _latchkey_v1_ListConnectionsResponse, ListConnectionsResponse__Output as _latchkey_v1_ListConnectionsResponse__Output } from './latchkey/v1/ListConnectionsResponse';
import type { ListIntegrationsRequest as _latchkey_v1_ListIntegrationsRequest, ListIntegrationsRequest__Output as _latchkey_v1_ListIntegrationsRequest__Output } from './latchkey/v1/ListIntegrationsRequest';
import type { ListIntegrationsResponse as _latchkey_v1_ListIntegrationsResponse, ListIntegrationsResponse__Output as _latchkey_v1_ListIntegrationsResponse__Output } from './latchkey/v1/ListIntegrationsResponse';
import type { ListTemplatesRequest as _latchkey_v1_ListTemplatesRequest, ListTemplatesRequest__Output as _latchkey_v1_ListTemplatesRequest__Output } from './latchkey/v1/ListTemplatesRequest';
import type { ListTemplatesResponse as _latchkey_v1_ListTemplatesResponse, ListTemplatesResponse__Output as _latchkey_v1_ListTemplatesResponse__Output } from './latchkey/v1/ListTemplatesResponse';
import type { ListWebhookDeliveriesRequest as _latchkey_v1_ListWebhookDeliveriesRequest, ListWebhookDeliveriesRequest__Output as _latchkey_v1_ListWebhookDeliveriesRequest__Output } from './latchkey/v1/ListWebhookDeliveriesRequest';
import type { ListWebhookDeliveriesResponse as _latchkey_v1_ListWebhookDeliveriesResponse, ListWebhookDeliveriesResponse__Output as _latchkey_v1_ListWebhookDeliveriesResponse__Output } from './latchkey/v1/ListWebhookDeliveriesResponse';
import type { MasterKeyDropped as _latchkey_v1_MasterKeyDropped, MasterKeyDropped__Output as _latchkey_v1_MasterKeyDropped__Output } from './latchkey/v1/MasterKeyDropped';
import type { MasterKeyRotated as _latchkey_v1_MasterKeyRotated, MasterKeyRotated__Output as _latchkey_v1_MasterKeyRotated__Output } from './latchkey/v1/MasterKeyRotated';
import type { MergedInto as _latchkey_v1_MergedInto, MergedInto__Output as _latchkey_v1_MergedInto__Output } from './latchkey/v1/MergedInto';
import type { ParametersSet as _latchkey_v1_ParametersSet, ParametersSet__Output as _latchkey_v1_ParametersSet__Output } from './latchkey/v1/ParametersSet';
import type { QueryCredential as _latchkey_v1_QueryCredential, QueryCredential__Output as _latchkey_v1_QueryCredential__Output } from './latchkey/v1/QueryCredential';
import type { QueryPlacement as _latchkey_v1_QueryPlacement, QueryPlacement__Output as _latchkey_v1_QueryPlacement__Output } from './latchkey/v1/QueryPlacement';
import type { ReauthorizationRequired as _latchkey_v1_ReauthorizationRequired, ReauthorizationRequired__Output as _latchkey_v1_ReauthorizationRequired__Output } from './latchkey/v1/ReauthorizationRequired';
import type { RefreshFailed as _latchkey_v1_RefreshFailed, RefreshFailed__Output as _latchkey_v1_RefreshFailed__Output } from './latchkey/v1/RefreshFailed';
import type { RefreshTokenExpiring as _latchkey_v1_RefreshTokenExpiring, RefreshTokenExpiring__Output as _latchkey_v1_RefreshTokenExpiring__Output } from './latchkey/v1/RefreshTokenExpiring';
import type { RefreshTokenRequest as _latchkey_v1_RefreshTokenRequest, RefreshTokenRequest__Output as _latchkey_v1_RefreshTokenRequest__Output } from './latchkey/v1/RefreshTokenRequest';
import type { RefreshTokenStillActive as _latchkey_v1_RefreshTokenStillActive, RefreshTokenStillActive__Output as _latchkey_v1_RefreshTokenStillActive__Output } from './latchkey/v1/RefreshTokenStillActive';
import type { Refreshed as _latchkey_v1_Refreshed, Refreshed__Output as _latchkey_v1_Refreshed__Output } from './latchkey/v1/Refreshed';
import type { ReplayEventsRequest as _latchkey_v1_ReplayEventsRequest, ReplayEventsRequest__Output as _latchkey_v1_ReplayEventsRequest__Output } from './latchkey/v1/ReplayEventsRequest';
import type { ReportTokenRejectedRequest as _latchkey_v1_ReportTokenRejectedRequest, ReportTokenRejectedRequest__Output as _latchkey_v1_ReportTokenRejectedRequest__Output } from './latchkey/v1/ReportTokenRejectedRequest';
import type { ReportTokenRejectedResponse as _latchkey_v1_ReportTokenRejectedResponse, ReportTokenRejectedResponse__Output as _latchkey_v1_ReportTokenRejectedResponse__Output } from './latchkey/v1/ReportTokenRejectedResponse';
import type { RevocationAnswer as _latchkey_v1_RevocationAnswer, RevocationAnswer__Output as _latchkey_v1_RevocationAnswer__Output } from './latchkey/v1/RevocationAnswer';
import type { RevocationRequest as _latchkey_v1_RevocationRequest, RevocationRequest__Output as _latchkey_v1_RevocationRequest__Output } from './latchkey/v1/RevocationRequest';
import type { RevocationRetried as _latchkey_v1_RevocationRetried, RevocationRetried__Output as _latchkey_v1_RevocationRetried__Output } from './latchkey/v1/RevocationRetried';
import type { RevokeConnectionRequest as _latchkey_v1_RevokeConnectionRequest, RevokeConnectionRequest__Output as _latchkey_v1_RevokeConnectionRequest__Output } from './latchkey/v1/RevokeConnectionRequest';
import type { Revoked as _latchkey_v1_Revoked, Revoked__Output as _latchkey_v1_Revoked__Output } from './latchkey/v1/Revoked';
import type { SetWebhookSecretRequest as _latchkey_v1_SetWebhookSecretRequest, SetWebhookSecretRequest__Output as _latchkey_v1_SetWebhookSecretRequest__Output } from './latchkey/v1/SetWebhookSecretRequest';
import type { StartAuthorizationRequest as _latchkey_v1_StartAuthorizationRequest, StartAuthorizationRequest__Output as _latchkey_v1_StartAuthorizationRequest__Output } from './latchkey/v1/StartAuthorizationRequest';
import type { StartAuthorizationResponse as _latchkey_v1_StartAuthorizationResponse, StartAuthorizationResponse__Output as _latchkey_v1_StartAuthorizationResponse__Output } from './latchkey/v1/StartAuthorizationResponse';
import type { StartDeviceAuthorizationRequest as _latchkey_v1_StartDeviceAuthorizationRequest, StartDeviceAuthorizationRequest__Output as _latchkey_v1_StartDeviceAuthorizationRequest__Output } from './latchkey/v1/StartDeviceAuthorizationRequest';
import type { StartDeviceAuthorizationResponse as _latchkey_v1_StartDeviceAuthorizationResponse, StartDeviceAuthorizationResponse__Output as _latchkey_v1_StartDeviceAuthorizationResponse__Output } from './latchkey/v1/StartDeviceAuthorizationResponse';
import type { Template as _latchkey_v1_Template, Template__Output as _latchkey_v1_Template__Output } from './latchkey/v1/Template';
import type { TokenGrant as _latchkey_v1_TokenGrant, TokenGrant__Output as _latchkey_v1_TokenGrant__Output } from './latchkey/v1/TokenGrant';
import type { TokenPlacement as _latchkey_v1_TokenPlacement, TokenPlacement__Output as _latchkey_v1_TokenPlacement__Output } from './latchkey/v1/TokenPlacement';
import type { TokenReadCount as _latchkey_v1_TokenReadCount, TokenReadCount__Output as _latchkey_v1_TokenReadCount__Output } from './latchkey/v1/TokenReadCount';
import type { TokenReads as _latchkey_v1_TokenReads, TokenReads__Output as _latchkey_v1_TokenReads__Output } from './latchkey/v1/TokenReads';
import type { TokenRejected as _latchkey_v1_TokenRejected, TokenRejected__Output as _latchkey_v1_TokenRejected__Output } from './latchkey/v1/TokenRejected';
import type { TokenValidation as _latchkey_v1_TokenValidation, TokenValidation__Output as _latchkey_v1_TokenValidation__Output } from './latchkey/v1/TokenValidation';
import type { TokensRead as _latchkey_v1_TokensRead, TokensRead__Output as _latchkey_v1_TokensRead__Output } from './latchkey/v1/TokensRead';
import type { UpdateConnectionRequest as _latchkey_v1_UpdateConnectionRequest, UpdateConnectionRequest__Output as _latchkey_v1_UpdateConnectionRequest__Output } from './latchkey/v1/UpdateConnectionRequest';
import type { UpdateIntegrationRequest as _latchkey_v1_UpdateIntegrationRequest, UpdateIntegrationRequest__Output as _latchkey_v1_UpdateIntegrationRequest__Output } from './latchkey/v1/UpdateIntegrationRequest';
import type { ValidateConnectionRequest as _latchkey_v1_ValidateConnectionRequest, ValidateConnectionRequest__Output as _latchkey_v1_ValidateConnectionRequest__Output } from './latchkey/v1/ValidateConnectionRequest';
import type { Validated as _latchkey_v1_Validated, Validated__Output as _latchkey_v1_Validated__Output } from './latchkey/v1/Validated';
import type { VerifyWebhookRequest as _latchkey_v1_VerifyWebhookRequest, VerifyWebhookRequest__Output as _latchkey_v1_VerifyWebhookRequest__Output } from './latchkey/v1/VerifyWebhookRequest';
import type { VerifyWebhookResponse as _latchkey_v1_VerifyWebhookResponse, VerifyWebhookResponse__Output as _latchkey_v1_VerifyWebhookResponse__Output } from './latchkey/v1/VerifyWebhookResponse';
import type { WebhookDelivery as _latchkey_v1_WebhookDelivery, WebhookDelivery__Output as _latchkey_v1_WebhookDelivery__Output } from './latchkey/v1/WebhookDelivery';
import type { WebhookDeliveryRecord as _latchkey_v1_WebhookDeliveryRecord, WebhookDeliveryRecord__Output as _latchkey_v1_WebhookDeliveryRecord__Output } from './latchkey/v1/WebhookDeliveryRecord';
import type { WebhookHandshake as _latchkey_v1_WebhookHandshake, WebhookHandshake__Output as _latchkey_v1_WebhookHandshake__Output } from './latchkey/v1/WebhookHandshake';
import type { WebhookRouting as _latchkey_v1_WebhookRouting, WebhookRouting__Output as _latchkey_v1_WebhookRouting__Output } from './latchkey/v1/WebhookRouting';
import type { WebhookScheme as _latchkey_v1_WebhookScheme, WebhookScheme__Output as _latchkey_v1_WebhookScheme__Output } from './latchkey/v1/WebhookScheme';
import type { WebhookSecretSet as _latchkey_v1_WebhookSecretSet, WebhookSecretSet__Output as _latchkey_v1_WebhookSecretSet__Output } from './latchkey/v1/WebhookSecretSet';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  google: {
    api: {
      CustomHttpPattern: MessageTypeDefinition<_google_api_CustomHttpPattern, _google_api_CustomHttpPattern__Output>
      Http: MessageTypeDefinition<_google_api_Http, _google_api_Http__Output>
      HttpRule: MessageTypeDefinition<_google_api_HttpRule, _google_api_HttpRule__Output>
    }
    protobuf: {
      DescriptorProto: MessageTypeDefinition<_google_protobuf_DescriptorProto, _google_protobuf_DescriptorProto__Output>
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      Edition: EnumTypeDefinition
      EnumDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumDescriptorProto, _google_protobuf_EnumDescriptorProto__Output>
      EnumOptions: MessageTypeDefinition<_google_protobuf_EnumOptions, _google_protobuf_EnumOptions__Output>
      EnumValueDescriptorProto: MessageTypeDefinition<_google_protobuf_EnumValueDescriptorProto, _google_protobuf_EnumValueDescriptorProto__Output>
      EnumValueOptions: MessageTypeDefinition<_google_protobuf_EnumValueOptions, _google_protobuf_EnumValueOptions__Output>
      ExtensionRangeOptions: MessageTypeDefinition<_google_protobuf_ExtensionRangeOptions, _google_protobuf_ExtensionRangeOptions__Output>
      FeatureSet: MessageTypeDefinition<_google_protobuf_FeatureSet, _google_protobuf_FeatureSet__Output>
      FeatureSetDefaults: MessageTypeDefinition<_google_protobuf_FeatureSetDefaults, _google_protobuf_FeatureSetDefaults__Output>
      FieldDescriptorProto: MessageTypeDefinition<_google_protobuf_FieldDescriptorProto, _google_protobuf_FieldDescriptorProto__Output>
      FieldOptions: MessageTypeDefinition<_google_protobuf_FieldOptions, _google_protobuf_FieldOptions__Output>
      FileDescriptorProto: MessageTypeDefinition<_google_protobuf_FileDescriptorProto, _google_protobuf_FileDescriptorProto__Output>
      FileDescriptorSet: MessageTypeDefinition<_google_protobuf_FileDescriptorSet, _google_protobuf_FileDescriptorSet__Output>
      FileOptions: MessageTypeDefinition<_google_protobuf_FileOptions, _google_protobuf_FileOptions__Output>
      GeneratedCodeInfo: MessageTypeDefinition<_google_protobuf_GeneratedCodeInfo, _google_protobuf_GeneratedCodeInfo__Output>
      ListValue: MessageTypeDefinition<_google_protobuf_ListValue, _google_protobuf_ListValue__Output>
      MessageOptions: MessageTypeDefinition<_google_protobuf_MessageOptions, _google_protobuf_MessageOptions__Output>
      MethodDescriptorProto: MessageTypeDefinition<_google_protobuf_MethodDescriptorProto, _google_protobuf_MethodDescriptorProto__Output>
      MethodOptions: MessageTypeDefinition<_google_protobuf_MethodOptions, _google_protobuf_MethodOptions__Output>
      NullValue: EnumTypeDefinition
      OneofDescriptorProto: MessageTypeDefinition<_google_protobuf_OneofDescriptorProto, _google_protobuf_OneofDescriptorProto__Output>
      OneofOptions: MessageTypeDefinition<_google_protobuf_OneofOptions, _google_protobuf_OneofOptions__Output>
      ServiceDescriptorProto: MessageTypeDefinition<_google_protobuf_ServiceDescriptorProto, _google_protobuf_ServiceDescriptorProto__Output>
      ServiceOptions: MessageTypeDefinition<_google_protobuf_ServiceOptions, _google_protobuf_ServiceOptions__Output>
      SourceCodeInfo: MessageTypeDefinition<_google_protobuf_SourceCodeInfo, _google_protobuf_SourceCodeInfo__Output>
      Struct: MessageTypeDefinition<_google_protobuf_Struct, _google_protobuf_Struct__Output>
      SymbolVisibility: EnumTypeDefinition
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
      UninterpretedOption: MessageTypeDefinition<_google_protobuf_UninterpretedOption, _google_protobuf_UninterpretedOption__Output>
      Value: MessageTypeDefinition<_google_protobuf_Value, _google_protobuf_Value__Output>
    }
  }
  latchkey: {
    v1: {
      AccountMapping: MessageTypeDefinition<_latchkey_v1_AccountMapping, _latchkey_v1_AccountMapping__Output>
      ApiKeyCreated: MessageTypeDefinition<_latchkey_v1_ApiKeyCreated, _latchkey_v1_ApiKeyCreated__Output>
      ApiKeyRevoked: MessageTypeDefinition<_latchkey_v1_ApiKeyRevoked, _latchkey_v1_ApiKeyRevoked__Output>
      AuditService: SubtypeConstructor<typeof grpc.Client, _latchkey_v1_AuditServiceClient> & { service: _latchkey_v1_AuditServiceDefinition }
      AuthorizationFailed: MessageTypeDefinition<_latchkey_v1_AuthorizationFailed, _latchkey_v1_AuthorizationFailed__Output>
      AuthorizationOpened: MessageTypeDefinition<_latchkey_v1_AuthorizationOpened, _latchkey_v1_AuthorizationOpened__Output>
      AuthorizationStarted: MessageTypeDefinition<_latchkey_v1_AuthorizationStarted, _latchkey_v1_AuthorizationStarted__Output>
      Authorized: MessageTypeDefinition<_latchkey_v1_Authorized, _latchkey_v1_Authorized__Output>
      CallbackCaptured: MessageTypeDefinition<_latchkey_v1_CallbackCaptured, _latchkey_v1_CallbackCaptured__Output>
      ClientAuthMethod: EnumTypeDefinition
      CompleteAuthorizationRequest: MessageTypeDefinition<_latchkey_v1_CompleteAuthorizationRequest, _latchkey_v1_CompleteAuthorizationRequest__Output>
      ConnectAppearance: MessageTypeDefinition<_latchkey_v1_ConnectAppearance, _latchkey_v1_ConnectAppearance__Output>
      ConnectClientCredentialsRequest: MessageTypeDefinition<_latchkey_v1_ConnectClientCredentialsRequest, _latchkey_v1_ConnectClientCredentialsRequest__Output>
      ConnectMcpServerRequest: MessageTypeDefinition<_latchkey_v1_ConnectMcpServerRequest, _latchkey_v1_ConnectMcpServerRequest__Output>
      ConnectMcpServerResponse: MessageTypeDefinition<_latchkey_v1_ConnectMcpServerResponse, _latchkey_v1_ConnectMcpServerResponse__Output>
      ConnectPasswordRequest: MessageTypeDefinition<_latchkey_v1_ConnectPasswordRequest, _latchkey_v1_ConnectPasswordRequest__Output>
      ConnectServiceAccountRequest: MessageTypeDefinition<_latchkey_v1_ConnectServiceAccountRequest, _latchkey_v1_ConnectServiceAccountRequest__Output>
      ConnectSessionConnected: MessageTypeDefinition<_latchkey_v1_ConnectSessionConnected, _latchkey_v1_ConnectSessionConnected__Output>
      ConnectSessionCreated: MessageTypeDefinition<_latchkey_v1_ConnectSessionCreated, _latchkey_v1_ConnectSessionCreated__Output>
      ConnectSessionFailed: MessageTypeDefinition<_latchkey_v1_ConnectSessionFailed, _latchkey_v1_ConnectSessionFailed__Output>
      ConnectSessionOpened: MessageTypeDefinition<_latchkey_v1_ConnectSessionOpened, _latchkey_v1_ConnectSessionOpened__Output>
      ConnectTokenExchangeRequest: MessageTypeDefinition<_latchkey_v1_ConnectTokenExchangeRequest, _latchkey_v1_ConnectTokenExchangeRequest__Output>
      Connection: MessageTypeDefinition<_latchkey_v1_Connection, _latchkey_v1_Connection__Output>
      ConnectionCreated: MessageTypeDefinition<_latchkey_v1_ConnectionCreated, _latchkey_v1_ConnectionCreated__Output>
      ConnectionError: MessageTypeDefinition<_latchkey_v1_ConnectionError, _latchkey_v1_ConnectionError__Output>
      ConnectionFailing: MessageTypeDefinition<_latchkey_v1_ConnectionFailing, _latchkey_v1_ConnectionFailing__Output>
      ConnectionHealth: EnumTypeDefinition
      ConnectionParam: MessageTypeDefinition<_latchkey_v1_ConnectionParam, _latchkey_v1_ConnectionParam__Output>
      ConnectionProfile: MessageTypeDefinition<_latchkey_v1_ConnectionProfile, _latchkey_v1_ConnectionProfile__Output>
      ConnectionRecovered: MessageTypeDefinition<_latchkey_v1_ConnectionRecovered, _latchkey_v1_ConnectionRecovered__Output>
      ConnectionService: SubtypeConstructor<typeof grpc.Client, _latchkey_v1_ConnectionServiceClient> & { service: _latchkey_v1_ConnectionServiceDefinition }
      ConnectionStatus: EnumTypeDefinition
      ConnectionUpdated: MessageTypeDefinition<_latchkey_v1_ConnectionUpdated, _latchkey_v1_ConnectionUpdated__Output>
      CreateConnectSessionRequest: MessageTypeDefinition<_latchkey_v1_CreateConnectSessionRequest, _latchkey_v1_CreateConnectSessionRequest__Output>
      CreateConnectSessionResponse: MessageTypeDefinition<_latchkey_v1_CreateConnectSessionResponse, _latchkey_v1_CreateConnectSessionResponse__Output>
      CreateIntegrationRequest: MessageTypeDefinition<_latchkey_v1_CreateIntegrationRequest, _latchkey_v1_CreateIntegrationRequest__Output>
      DeleteConnectionRequest: MessageTypeDefinition<_latchkey_v1_DeleteConnectionRequest, _latchkey_v1_DeleteConnectionRequest__Output>
      DeleteConnectionResponse: MessageTypeDefinition<_latchkey_v1_DeleteConnectionResponse, _latchkey_v1_DeleteConnectionResponse__Output>
      DeleteIntegrationRequest: MessageTypeDefinition<_latchkey_v1_DeleteIntegrationRequest, _latchkey_v1_DeleteIntegrationRequest__Output>
      DeleteIntegrationResponse: MessageTypeDefinition<_latchkey_v1_DeleteIntegrationResponse, _latchkey_v1_DeleteIntegrationResponse__Output>
      Deleted: MessageTypeDefinition<_latchkey_v1_Deleted, _latchkey_v1_Deleted__Output>
      DpopRequest: MessageTypeDefinition<_latchkey_v1_DpopRequest, _latchkey_v1_DpopRequest__Output>
      Event: MessageTypeDefinition<_latchkey_v1_Event, _latchkey_v1_Event__Output>
      EventFilter: MessageTypeDefinition<_latchkey_v1_EventFilter, _latchkey_v1_EventFilter__Output>
      Expired: MessageTypeDefinition<_latchkey_v1_Expired, _latchkey_v1_Expired__Output>
      GetAccessLogRequest: MessageTypeDefinition<_latchkey_v1_GetAccessLogRequest, _latchkey_v1_GetAccessLogRequest__Output>
      GetAccessLogResponse: MessageTypeDefinition<_latchkey_v1_GetAccessLogResponse, _latchkey_v1_GetAccessLogResponse__Output>
      GetConnectionRequest: MessageTypeDefinition<_latchkey_v1_GetConnectionRequest, _latchkey_v1_GetConnectionRequest__Output>
      GetHistoryRequest: MessageTypeDefinition<_latchkey_v1_GetHistoryRequest, _latchkey_v1_GetHistoryRequest__Output>
      GetIntegrationRequest: MessageTypeDefinition<_latchkey_v1_GetIntegrationRequest, _latchkey_v1_GetIntegrationRequest__Output>
      GetTokenRequest: MessageTypeDefinition<_latchkey_v1_GetTokenRequest, _latchkey_v1_GetTokenRequest__Output>
      GetTokenResponse: MessageTypeDefinition<_latchkey_v1_GetTokenResponse, _latchkey_v1_GetTokenResponse__Output>
      GetWebhookDeliveryRequest: MessageTypeDefinition<_latchkey_v1_GetWebhookDeliveryRequest, _latchkey_v1_GetWebhookDeliveryRequest__Output>
      GrantType: EnumTypeDefinition
      HeaderCredential: MessageTypeDefinition<_latchkey_v1_HeaderCredential, _latchkey_v1_HeaderCredential__Output>
      HeaderPlacement: MessageTypeDefinition<_latchkey_v1_HeaderPlacement, _latchkey_v1_HeaderPlacement__Output>
      ImportConnectionRequest: MessageTypeDefinition<_latchkey_v1_ImportConnectionRequest, _latchkey_v1_ImportConnectionRequest__Output>
      ImportConnectionResponse: MessageTypeDefinition<_latchkey_v1_ImportConnectionResponse, _latchkey_v1_ImportConnectionResponse__Output>
      Imported: MessageTypeDefinition<_latchkey_v1_Imported, _latchkey_v1_Imported__Output>
      Integration: MessageTypeDefinition<_latchkey_v1_Integration, _latchkey_v1_Integration__Output>
      IntegrationConfig: MessageTypeDefinition<_latchkey_v1_IntegrationConfig, _latchkey_v1_IntegrationConfig__Output>
      IntegrationCreated: MessageTypeDefinition<_latchkey_v1_IntegrationCreated, _latchkey_v1_IntegrationCreated__Output>
      IntegrationDeleted: MessageTypeDefinition<_latchkey_v1_IntegrationDeleted, _latchkey_v1_IntegrationDeleted__Output>
      IntegrationService: SubtypeConstructor<typeof grpc.Client, _latchkey_v1_IntegrationServiceClient> & { service: _latchkey_v1_IntegrationServiceDefinition }
      IntegrationUpdated: MessageTypeDefinition<_latchkey_v1_IntegrationUpdated, _latchkey_v1_IntegrationUpdated__Output>
      LastValidation: MessageTypeDefinition<_latchkey_v1_LastValidation, _latchkey_v1_LastValidation__Output>
      ListConnectionsRequest: MessageTypeDefinition<_latchkey_v1_ListConnectionsRequest, _latchkey_v1_ListConnectionsRequest__Output>
      ListConnectionsResponse: MessageTypeDefinition<_latchkey_v1_ListConnectionsResponse, _latchkey_v1_ListConnectionsResponse__Output>
      ListIntegrationsRequest: MessageTypeDefinition<_latchkey_v1_ListIntegrationsRequest, _latchkey_v1_ListIntegrationsRequest__Output>
      ListIntegrationsResponse: MessageTypeDefinition<_latchkey_v1_ListIntegrationsResponse, _latchkey_v1_ListIntegrationsResponse__Output>
      ListTemplatesRequest: MessageTypeDefinition<_latchkey_v1_ListTemplatesRequest, _latchkey_v1_ListTemplatesRequest__Output>
      ListTemplatesResponse: MessageTypeDefinition<_latchkey_v1_ListTemplatesResponse, _latchkey_v1_ListTemplatesResponse__Output>
      ListWebhookDeliveriesRequest: MessageTypeDefinition<_latchkey_v1_ListWebhookDeliveriesRequest, _latchkey_v1_ListWebhookDeliveriesRequest__Output>
      ListWebhookDeliveriesResponse: MessageTypeDefinition<_latchkey_v1_ListWebhookDeliveriesResponse, _latchkey_v1_ListWebhookDeliveriesResponse__Output>
      MasterKeyDropped: MessageTypeDefinition<_latchkey_v1_MasterKeyDropped, _latchkey_v1_MasterKeyDropped__Output>
      MasterKeyRotated: MessageTypeDefinition<_latchkey_v1_MasterKeyRotated, _latchkey_v1_MasterKeyRotated__Output>
      MergedInto: MessageTypeDefinition<_latchkey_v1_MergedInto, _latchkey_v1_MergedInto__Output>
      ParametersSet: MessageTypeDefinition<_latchkey_v1_ParametersSet, _latchkey_v1_ParametersSet__Output>
      QueryCredential: MessageTypeDefinition<_latchkey_v1_QueryCredential, _latchkey_v1_QueryCredential__Output>
      QueryPlacement: MessageTypeDefinition<_latchkey_v1_QueryPlacement, _latchkey_v1_QueryPlacement__Output>
      ReauthorizationRequired: MessageTypeDefinition<_latchkey_v1_ReauthorizationRequired, _latchkey_v1_ReauthorizationRequired__Output>
      RefreshFailed: MessageTypeDefinition<_latchkey_v1_RefreshFailed, _latchkey_v1_RefreshFailed__Output>
      RefreshTokenExpiring: MessageTypeDefinition<_latchkey_v1_RefreshTokenExpiring, _latchkey_v1_RefreshTokenExpiring__Output>
      RefreshTokenRequest: MessageTypeDefinition<_latchkey_v1_RefreshTokenRequest, _latchkey_v1_RefreshTokenRequest__Output>
      RefreshTokenStillActive: MessageTypeDefinition<_latchkey_v1_RefreshTokenStillActive, _latchkey_v1_RefreshTokenStillActive__Output>
      Refreshed: MessageTypeDefinition<_latchkey_v1_Refreshed, _latchkey_v1_Refreshed__Output>
      ReplayEventsRequest: MessageTypeDefinition<_latchkey_v1_ReplayEventsRequest, _latchkey_v1_ReplayEventsRequest__Output>
      ReportTokenRejectedRequest: MessageTypeDefinition<_latchkey_v1_ReportTokenRejectedRequest, _latchkey_v1_ReportTokenRejectedRequest__Output>
      ReportTokenRejectedResponse: MessageTypeDefinition<_latchkey_v1_ReportTokenRejectedResponse, _latchkey_v1_ReportTokenRejectedResponse__Output>
      RevocationAnswer: MessageTypeDefinition<_latchkey_v1_RevocationAnswer, _latchkey_v1_RevocationAnswer__Output>
      RevocationRequest: MessageTypeDefinition<_latchkey_v1_RevocationRequest, _latchkey_v1_RevocationRequest__Output>
      RevocationRetried: MessageTypeDefinition<_latchkey_v1_RevocationRetried, _latchkey_v1_RevocationRetried__Output>
      RevokeConnectionRequest: MessageTypeDefinition<_latchkey_v1_RevokeConnectionRequest, _latchkey_v1_RevokeConnectionRequest__Output>
      Revoked: MessageTypeDefinition<_latchkey_v1_Revoked, _latchkey_v1_Revoked__Output>
      SetWebhookSecretRequest: MessageTypeDefinition<_latchkey_v1_SetWebhookSecretRequest, _latchkey_v1_SetWebhookSecretRequest__Output>
      StartAuthorizationRequest: MessageTypeDefinition<_latchkey_v1_StartAuthorizationRequest, _latchkey_v1_StartAuthorizationRequest__Output>
      StartAuthorizationResponse: MessageTypeDefinition<_latchkey_v1_StartAuthorizationResponse, _latchkey_v1_StartAuthorizationResponse__Output>
      StartDeviceAuthorizationRequest: MessageTypeDefinition<_latchkey_v1_StartDeviceAuthorizationRequest, _latchkey_v1_StartDeviceAuthorizationRequest__Output>
      StartDeviceAuthorizationResponse: MessageTypeDefinition<_latchkey_v1_StartDeviceAuthorizationResponse, _latchkey_v1_StartDeviceAuthorizationResponse__Output>
      Template: MessageTypeDefinition<_latchkey_v1_Template, _latchkey_v1_Template__Output>
      TokenGrant: MessageTypeDefinition<_latchkey_v1_TokenGrant, _latchkey_v1_TokenGrant__Output>
      TokenPlacement: MessageTypeDefinition<_latchkey_v1_TokenPlacement, _latchkey_v1_TokenPlacement__Output>
      TokenReadCount: MessageTypeDefinition<_latchkey_v1_TokenReadCount, _latchkey_v1_TokenReadCount__Output>
      TokenReads: MessageTypeDefinition<_latchkey_v1_TokenReads, _latchkey_v1_TokenReads__Output>
      TokenRejected: MessageTypeDefinition<_latchkey_v1_TokenRejected, _latchkey_v1_TokenRejected__Output>
      TokenValidation: MessageTypeDefinition<_latchkey_v1_TokenValidation, _latchkey_v1_TokenValidation__Output>
      TokensRead: MessageTypeDefinition<_latchkey_v1_TokensRead, _latchkey_v1_TokensRead__Output>
      UpdateConnectionRequest: MessageTypeDefinition<_latchkey_v1_UpdateConnectionRequest, _latchkey_v1_UpdateConnectionRequest__Output>
      UpdateIntegrationRequest: MessageTypeDefinition<_latchkey_v1_UpdateIntegrationRequest, _latchkey_v1_UpdateIntegrationRequest__Output>
      ValidateConnectionRequest: MessageTypeDefinition<_latchkey_v1_ValidateConnectionRequest, _latchkey_v1_ValidateConnectionRequest__Output>
      Validated: MessageTypeDefinition<_latchkey_v1_Validated, _latchkey_v1_Validated__Output>
      VerifyWebhookRequest: MessageTypeDefinition<_latchkey_v1_VerifyWebhookRequest, _latchkey_v1_VerifyWebhookRequest__Output>
      VerifyWebhookResponse: MessageTypeDefinition<_latchkey_v1_VerifyWebhookResponse, _latchkey_v1_VerifyWebhookResponse__Output>
      WebhookDelivery: MessageTypeDefinition<_latchkey_v1_WebhookDelivery, _latchkey_v1_WebhookDelivery__Output>
      WebhookDeliveryRecord: MessageTypeDefinition<_latchkey_v1_WebhookDeliveryRecord, _latchkey_v1_WebhookDeliveryRecord__Output>
      WebhookHandshake: MessageTypeDefinition<_latchkey_v1_WebhookHandshake, _latchkey_v1_WebhookHandshake__Output>
      WebhookKind: EnumTypeDefinition
      WebhookRouting: MessageTypeDefinition<_latchkey_v1_WebhookRouting, _latchkey_v1_WebhookRouting__Output>
      WebhookScheme: MessageTypeDefinition<_latchkey_v1_WebhookScheme, _latchkey_v1_WebhookScheme__Output>
      WebhookSecretSet: MessageTypeDefinition<_latchkey_v1_WebhookSecretSet, _latchkey_v1_WebhookSecretSet__Output>
    }
  }
}

