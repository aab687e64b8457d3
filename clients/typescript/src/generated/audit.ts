import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CustomHttpPattern as _google_api_CustomHttpPattern, CustomHttpPattern__Output as _google_api_CustomHttpPattern__Output } from './google/api/CustomHttpPattern';
import type { Http as _google_api_Http, Http__Output as _google_api_Http__Output } from './google/api/Http';
import type { HttpRule as _google_api_HttpRule, HttpRule__Output as _google_api_HttpRule__Output } from './google/api/HttpRule';
import type { DescriptorProto as _google_protobuf_DescriptorProto, DescriptorProto__Output as _google_protobuf_DescriptorProto__Output } from './google/protobuf/DescriptorProto';
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
import type { MessageOptions as _google_protobuf_MessageOptions, MessageOptions__Output as _google_protobuf_MessageOptions__Output } from './google/protobuf/MessageOptions';
import type { MethodDescriptorProto as _google_protobuf_MethodDescriptorProto, MethodDescriptorProto__Output as _google_protobuf_MethodDescriptorProto__Output } from './google/protobuf/MethodDescriptorProto';
import type { MethodOptions as _google_protobuf_MethodOptions, MethodOptions__Output as _google_protobuf_MethodOptions__Output } from './google/protobuf/MethodOptions';
import type { OneofDescriptorProto as _google_protobuf_OneofDescriptorProto, OneofDescriptorProto__Output as _google_protobuf_OneofDescriptorProto__Output } from './google/protobuf/OneofDescriptorProto';
import type { OneofOptions as _google_protobuf_OneofOptions, OneofOptions__Output as _google_protobuf_OneofOptions__Output } from './google/protobuf/OneofOptions';
import type { ServiceDescriptorProto as _google_protobuf_ServiceDescriptorProto, ServiceDescriptorProto__Output as _google_protobuf_ServiceDescriptorProto__Output } from './google/protobuf/ServiceDescriptorProto';
import type { ServiceOptions as _google_protobuf_ServiceOptions, ServiceOptions__Output as _google_protobuf_ServiceOptions__Output } from './google/protobuf/ServiceOptions';
import type { SourceCodeInfo as _google_protobuf_SourceCodeInfo, SourceCodeInfo__Output as _google_protobuf_SourceCodeInfo__Output } from './google/protobuf/SourceCodeInfo';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
import type { UninterpretedOption as _google_protobuf_UninterpretedOption, UninterpretedOption__Output as _google_protobuf_UninterpretedOption__Output } from './google/protobuf/UninterpretedOption';
import type { ApiKeyCreated as _latchkey_v1_ApiKeyCreated, ApiKeyCreated__Output as _latchkey_v1_ApiKeyCreated__Output } from './latchkey/v1/ApiKeyCreated';
import type { ApiKeyRevoked as _latchkey_v1_ApiKeyRevoked, ApiKeyRevoked__Output as _latchkey_v1_ApiKeyRevoked__Output } from './latchkey/v1/ApiKeyRevoked';
import type { AuditServiceClient as _latchkey_v1_AuditServiceClient, AuditServiceDefinition as _latchkey_v1_AuditServiceDefinition } from './latchkey/v1/AuditService';
import type { AuthorizationFailed as _latchkey_v1_AuthorizationFailed, AuthorizationFailed__Output as _latchkey_v1_AuthorizationFailed__Output } from './latchkey/v1/AuthorizationFailed';
import type { AuthorizationOpened as _latchkey_v1_AuthorizationOpened, AuthorizationOpened__Output as _latchkey_v1_AuthorizationOpened__Output } from './latchkey/v1/AuthorizationOpened';
import type { AuthorizationStarted as _latchkey_v1_AuthorizationStarted, AuthorizationStarted__Output as _latchkey_v1_AuthorizationStarted__Output } from './latchkey/v1/AuthorizationStarted';
import type { Authorized as _latchkey_v1_Authorized, Authorized__Output as _latchkey_v1_Authorized__Output } from './latchkey/v1/Authorized';
import type { CallbackCaptured as _latchkey_v1_CallbackCaptured, CallbackCaptured__Output as _latchkey_v1_CallbackCaptured__Output } from './latchkey/v1/CallbackCaptured';
import type { ConnectSessionConnected as _latchkey_v1_ConnectSessionConnected, ConnectSessionConnected__Output as _latchkey_v1_ConnectSessionConnected__Output } from './latchkey/v1/ConnectSessionConnected';
import type { ConnectSessionCreated as _latchkey_v1_ConnectSessionCreated, ConnectSessionCreated__Output as _latchkey_v1_ConnectSessionCreated__Output } from './latchkey/v1/ConnectSessionCreated';
import type { ConnectSessionFailed as _latchkey_v1_ConnectSessionFailed, ConnectSessionFailed__Output as _latchkey_v1_ConnectSessionFailed__Output } from './latchkey/v1/ConnectSessionFailed';
import type { ConnectSessionOpened as _latchkey_v1_ConnectSessionOpened, ConnectSessionOpened__Output as _latchkey_v1_ConnectSessionOpened__Output } from './latchkey/v1/ConnectSessionOpened';
import type { ConnectionCreated as _latchkey_v1_ConnectionCreated, ConnectionCreated__Output as _latchkey_v1_ConnectionCreated__Output } from './latchkey/v1/ConnectionCreated';
import type { ConnectionFailing as _latchkey_v1_ConnectionFailing, ConnectionFailing__Output as _latchkey_v1_ConnectionFailing__Output } from './latchkey/v1/ConnectionFailing';
import type { ConnectionRecovered as _latchkey_v1_ConnectionRecovered, ConnectionRecovered__Output as _latchkey_v1_ConnectionRecovered__Output } from './latchkey/v1/ConnectionRecovered';
import type { ConnectionUpdated as _latchkey_v1_ConnectionUpdated, ConnectionUpdated__Output as _latchkey_v1_ConnectionUpdated__Output } from './latchkey/v1/ConnectionUpdated';
import type { Deleted as _latchkey_v1_Deleted, Deleted__Output as _latchkey_v1_Deleted__Output } from './latchkey/v1/Deleted';
import type { Event as _latchkey_v1_Event, Event__Output as _latchkey_v1_Event__Output } from './latchkey/v1/Event';
import type { EventFilter as _latchkey_v1_EventFilter, EventFilter__Output as _latchkey_v1_EventFilter__Output } from './latchkey/v1/EventFilter';
import type { Expired as _latchkey_v1_Expired, Expired__Output as _latchkey_v1_Expired__Output } from './latchkey/v1/Expired';
import type { GetAccessLogRequest as _latchkey_v1_GetAccessLogRequest, GetAccessLogRequest__Output as _latchkey_v1_GetAccessLogRequest__Output } from './latchkey/v1/GetAccessLogRequest';
import type { GetAccessLogResponse as _latchkey_v1_GetAccessLogResponse, GetAccessLogResponse__Output as _latchkey_v1_GetAccessLogResponse__Output } from './latchkey/v1/GetAccessLogResponse';
import type { GetHistoryRequest as _latchkey_v1_GetHistoryRequest, GetHistoryRequest__Output as _latchkey_v1_GetHistoryRequest__Output } from './latchkey/v1/GetHistoryRequest';
import type { Imported as _latchkey_v1_Imported, Imported__Output as _latchkey_v1_Imported__Output } from './latchkey/v1/Imported';
import type { IntegrationCreated as _latchkey_v1_IntegrationCreated, IntegrationCreated__Output as _latchkey_v1_IntegrationCreated__Output } from './latchkey/v1/IntegrationCreated';
import type { IntegrationDeleted as _latchkey_v1_IntegrationDeleted, IntegrationDeleted__Output as _latchkey_v1_IntegrationDeleted__Output } from './latchkey/v1/IntegrationDeleted';
import type { IntegrationUpdated as _latchkey_v1_IntegrationUpdated, IntegrationUpdated__Output as _latchkey_v1_IntegrationUpdated__Output } from './latchkey/v1/IntegrationUpdated';
import type { MasterKeyDropped as _latchkey_v1_MasterKeyDropped, MasterKeyDropped__Output as _latchkey_v1_MasterKeyDropped__Output } from './latchkey/v1/MasterKeyDropped';
import type { MasterKeyRotated as _latchkey_v1_MasterKeyRotated, MasterKeyRotated__Output as _latchkey_v1_MasterKeyRotated__Output } from './latchkey/v1/MasterKeyRotated';
import type { MergedInto as _latchkey_v1_MergedInto, MergedInto__Output as _latchkey_v1_MergedInto__Output } from './latchkey/v1/MergedInto';
import type { ParametersSet as _latchkey_v1_ParametersSet, ParametersSet__Output as _latchkey_v1_ParametersSet__Output } from './latchkey/v1/ParametersSet';
import type { ReauthorizationRequired as _latchkey_v1_ReauthorizationRequired, ReauthorizationRequired__Output as _latchkey_v1_ReauthorizationRequired__Output } from './latchkey/v1/ReauthorizationRequired';
import type { RefreshFailed as _latchkey_v1_RefreshFailed, RefreshFailed__Output as _latchkey_v1_RefreshFailed__Output } from './latchkey/v1/RefreshFailed';
import type { RefreshTokenExpiring as _latchkey_v1_RefreshTokenExpiring, RefreshTokenExpiring__Output as _latchkey_v1_RefreshTokenExpiring__Output } from './latchkey/v1/RefreshTokenExpiring';
import type { RefreshTokenStillActive as _latchkey_v1_RefreshTokenStillActive, RefreshTokenStillActive__Output as _latchkey_v1_RefreshTokenStillActive__Output } from './latchkey/v1/RefreshTokenStillActive';
import type { Refreshed as _latchkey_v1_Refreshed, Refreshed__Output as _latchkey_v1_Refreshed__Output } from './latchkey/v1/Refreshed';
import type { ReplayEventsRequest as _latchkey_v1_ReplayEventsRequest, ReplayEventsRequest__Output as _latchkey_v1_ReplayEventsRequest__Output } from './latchkey/v1/ReplayEventsRequest';
import type { RevocationAnswer as _latchkey_v1_RevocationAnswer, RevocationAnswer__Output as _latchkey_v1_RevocationAnswer__Output } from './latchkey/v1/RevocationAnswer';
import type { RevocationRetried as _latchkey_v1_RevocationRetried, RevocationRetried__Output as _latchkey_v1_RevocationRetried__Output } from './latchkey/v1/RevocationRetried';
import type { Revoked as _latchkey_v1_Revoked, Revoked__Output as _latchkey_v1_Revoked__Output } from './latchkey/v1/Revoked';
import type { TokenGrant as _latchkey_v1_TokenGrant, TokenGrant__Output as _latchkey_v1_TokenGrant__Output } from './latchkey/v1/TokenGrant';
import type { TokenReadCount as _latchkey_v1_TokenReadCount, TokenReadCount__Output as _latchkey_v1_TokenReadCount__Output } from './latchkey/v1/TokenReadCount';
import type { TokenReads as _latchkey_v1_TokenReads, TokenReads__Output as _latchkey_v1_TokenReads__Output } from './latchkey/v1/TokenReads';
import type { TokenRejected as _latchkey_v1_TokenRejected, TokenRejected__Output as _latchkey_v1_TokenRejected__Output } from './latchkey/v1/TokenRejected';
import type { TokensRead as _latchkey_v1_TokensRead, TokensRead__Output as _latchkey_v1_TokensRead__Output } from './latchkey/v1/TokensRead';
import type { Validated as _latchkey_v1_Validated, Validated__Output as _latchkey_v1_Validated__Output } from './latchkey/v1/Validated';
import type { WebhookDelivery as _latchkey_v1_WebhookDelivery, WebhookDelivery__Output as _latchkey_v1_WebhookDelivery__Output } from './latchkey/v1/WebhookDelivery';
import type { WebhookHandshake as _latchkey_v1_WebhookHandshake, WebhookHandshake__Output as _latchkey_v1_WebhookHandshake__Output } from './latchkey/v1/WebhookHandshake';
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
      MessageOptions: MessageTypeDefinition<_google_protobuf_MessageOptions, _google_protobuf_MessageOptions__Output>
      MethodDescriptorProto: MessageTypeDefinition<_google_protobuf_MethodDescriptorProto, _google_protobuf_MethodDescriptorProto__Output>
      MethodOptions: MessageTypeDefinition<_google_protobuf_MethodOptions, _google_protobuf_MethodOptions__Output>
      OneofDescriptorProto: MessageTypeDefinition<_google_protobuf_OneofDescriptorProto, _google_protobuf_OneofDescriptorProto__Output>
      OneofOptions: MessageTypeDefinition<_google_protobuf_OneofOptions, _google_protobuf_OneofOptions__Output>
      ServiceDescriptorProto: MessageTypeDefinition<_google_protobuf_ServiceDescriptorProto, _google_protobuf_ServiceDescriptorProto__Output>
      ServiceOptions: MessageTypeDefinition<_google_protobuf_ServiceOptions, _google_protobuf_ServiceOptions__Output>
      SourceCodeInfo: MessageTypeDefinition<_google_protobuf_SourceCodeInfo, _google_protobuf_SourceCodeInfo__Output>
      SymbolVisibility: EnumTypeDefinition
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
      UninterpretedOption: MessageTypeDefinition<_google_protobuf_UninterpretedOption, _google_protobuf_UninterpretedOption__Output>
    }
  }
  latchkey: {
    v1: {
      ApiKeyCreated: MessageTypeDefinition<_latchkey_v1_ApiKeyCreated, _latchkey_v1_ApiKeyCreated__Output>
      ApiKeyRevoked: MessageTypeDefinition<_latchkey_v1_ApiKeyRevoked, _latchkey_v1_ApiKeyRevoked__Output>
      AuditService: SubtypeConstructor<typeof grpc.Client, _latchkey_v1_AuditServiceClient> & { service: _latchkey_v1_AuditServiceDefinition }
      AuthorizationFailed: MessageTypeDefinition<_latchkey_v1_AuthorizationFailed, _latchkey_v1_AuthorizationFailed__Output>
      AuthorizationOpened: MessageTypeDefinition<_latchkey_v1_AuthorizationOpened, _latchkey_v1_AuthorizationOpened__Output>
      AuthorizationStarted: MessageTypeDefinition<_latchkey_v1_AuthorizationStarted, _latchkey_v1_AuthorizationStarted__Output>
      Authorized: MessageTypeDefinition<_latchkey_v1_Authorized, _latchkey_v1_Authorized__Output>
      CallbackCaptured: MessageTypeDefinition<_latchkey_v1_CallbackCaptured, _latchkey_v1_CallbackCaptured__Output>
      ConnectSessionConnected: MessageTypeDefinition<_latchkey_v1_ConnectSessionConnected, _latchkey_v1_ConnectSessionConnected__Output>
      ConnectSessionCreated: MessageTypeDefinition<_latchkey_v1_ConnectSessionCreated, _latchkey_v1_ConnectSessionCreated__Output>
      ConnectSessionFailed: MessageTypeDefinition<_latchkey_v1_ConnectSessionFailed, _latchkey_v1_ConnectSessionFailed__Output>
      ConnectSessionOpened: MessageTypeDefinition<_latchkey_v1_ConnectSessionOpened, _latchkey_v1_ConnectSessionOpened__Output>
      ConnectionCreated: MessageTypeDefinition<_latchkey_v1_ConnectionCreated, _latchkey_v1_ConnectionCreated__Output>
      ConnectionFailing: MessageTypeDefinition<_latchkey_v1_ConnectionFailing, _latchkey_v1_ConnectionFailing__Output>
      ConnectionRecovered: MessageTypeDefinition<_latchkey_v1_ConnectionRecovered, _latchkey_v1_ConnectionRecovered__Output>
      ConnectionUpdated: MessageTypeDefinition<_latchkey_v1_ConnectionUpdated, _latchkey_v1_ConnectionUpdated__Output>
      Deleted: MessageTypeDefinition<_latchkey_v1_Deleted, _latchkey_v1_Deleted__Output>
      Event: MessageTypeDefinition<_latchkey_v1_Event, _latchkey_v1_Event__Output>
      EventFilter: MessageTypeDefinition<_latchkey_v1_EventFilter, _latchkey_v1_EventFilter__Output>
      Expired: MessageTypeDefinition<_latchkey_v1_Expired, _latchkey_v1_Expired__Output>
      GetAccessLogRequest: MessageTypeDefinition<_latchkey_v1_GetAccessLogRequest, _latchkey_v1_GetAccessLogRequest__Output>
      GetAccessLogResponse: MessageTypeDefinition<_latchkey_v1_GetAccessLogResponse, _latchkey_v1_GetAccessLogResponse__Output>
      GetHistoryRequest: MessageTypeDefinition<_latchkey_v1_GetHistoryRequest, _latchkey_v1_GetHistoryRequest__Output>
      Imported: MessageTypeDefinition<_latchkey_v1_Imported, _latchkey_v1_Imported__Output>
      IntegrationCreated: MessageTypeDefinition<_latchkey_v1_IntegrationCreated, _latchkey_v1_IntegrationCreated__Output>
      IntegrationDeleted: MessageTypeDefinition<_latchkey_v1_IntegrationDeleted, _latchkey_v1_IntegrationDeleted__Output>
      IntegrationUpdated: MessageTypeDefinition<_latchkey_v1_IntegrationUpdated, _latchkey_v1_IntegrationUpdated__Output>
      MasterKeyDropped: MessageTypeDefinition<_latchkey_v1_MasterKeyDropped, _latchkey_v1_MasterKeyDropped__Output>
      MasterKeyRotated: MessageTypeDefinition<_latchkey_v1_MasterKeyRotated, _latchkey_v1_MasterKeyRotated__Output>
      MergedInto: MessageTypeDefinition<_latchkey_v1_MergedInto, _latchkey_v1_MergedInto__Output>
      ParametersSet: MessageTypeDefinition<_latchkey_v1_ParametersSet, _latchkey_v1_ParametersSet__Output>
      ReauthorizationRequired: MessageTypeDefinition<_latchkey_v1_ReauthorizationRequired, _latchkey_v1_ReauthorizationRequired__Output>
      RefreshFailed: MessageTypeDefinition<_latchkey_v1_RefreshFailed, _latchkey_v1_RefreshFailed__Output>
      RefreshTokenExpiring: MessageTypeDefinition<_latchkey_v1_RefreshTokenExpiring, _latchkey_v1_RefreshTokenExpiring__Output>
      RefreshTokenStillActive: MessageTypeDefinition<_latchkey_v1_RefreshTokenStillActive, _latchkey_v1_RefreshTokenStillActive__Output>
      Refreshed: MessageTypeDefinition<_latchkey_v1_Refreshed, _latchkey_v1_Refreshed__Output>
      ReplayEventsRequest: MessageTypeDefinition<_latchkey_v1_ReplayEventsRequest, _latchkey_v1_ReplayEventsRequest__Output>
      RevocationAnswer: MessageTypeDefinition<_latchkey_v1_RevocationAnswer, _latchkey_v1_RevocationAnswer__Output>
      RevocationRetried: MessageTypeDefinition<_latchkey_v1_RevocationRetried, _latchkey_v1_RevocationRetried__Output>
      Revoked: MessageTypeDefinition<_latchkey_v1_Revoked, _latchkey_v1_Revoked__Output>
      TokenGrant: MessageTypeDefinition<_latchkey_v1_TokenGrant, _latchkey_v1_TokenGrant__Output>
      TokenReadCount: MessageTypeDefinition<_latchkey_v1_TokenReadCount, _latchkey_v1_TokenReadCount__Output>
      TokenReads: MessageTypeDefinition<_latchkey_v1_TokenReads, _latchkey_v1_TokenReads__Output>
      TokenRejected: MessageTypeDefinition<_latchkey_v1_TokenRejected, _latchkey_v1_TokenRejected__Output>
      TokensRead: MessageTypeDefinition<_latchkey_v1_TokensRead, _latchkey_v1_TokensRead__Output>
      Validated: MessageTypeDefinition<_latchkey_v1_Validated, _latchkey_v1_Validated__Output>
      WebhookDelivery: MessageTypeDefinition<_latchkey_v1_WebhookDelivery, _latchkey_v1_WebhookDelivery__Output>
      WebhookHandshake: MessageTypeDefinition<_latchkey_v1_WebhookHandshake, _latchkey_v1_WebhookHandshake__Output>
      WebhookSecretSet: MessageTypeDefinition<_latchkey_v1_WebhookSecretSet, _latchkey_v1_WebhookSecretSet__Output>
    }
  }
}

