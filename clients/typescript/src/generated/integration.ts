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
import type { AccountMapping as _latchkey_v1_AccountMapping, AccountMapping__Output as _latchkey_v1_AccountMapping__Output } from './latchkey/v1/AccountMapping';
import type { ConnectionParam as _latchkey_v1_ConnectionParam, ConnectionParam__Output as _latchkey_v1_ConnectionParam__Output } from './latchkey/v1/ConnectionParam';
import type { CreateIntegrationRequest as _latchkey_v1_CreateIntegrationRequest, CreateIntegrationRequest__Output as _latchkey_v1_CreateIntegrationRequest__Output } from './latchkey/v1/CreateIntegrationRequest';
import type { DeleteIntegrationRequest as _latchkey_v1_DeleteIntegrationRequest, DeleteIntegrationRequest__Output as _latchkey_v1_DeleteIntegrationRequest__Output } from './latchkey/v1/DeleteIntegrationRequest';
import type { DeleteIntegrationResponse as _latchkey_v1_DeleteIntegrationResponse, DeleteIntegrationResponse__Output as _latchkey_v1_DeleteIntegrationResponse__Output } from './latchkey/v1/DeleteIntegrationResponse';
import type { GetIntegrationRequest as _latchkey_v1_GetIntegrationRequest, GetIntegrationRequest__Output as _latchkey_v1_GetIntegrationRequest__Output } from './latchkey/v1/GetIntegrationRequest';
import type { HeaderPlacement as _latchkey_v1_HeaderPlacement, HeaderPlacement__Output as _latchkey_v1_HeaderPlacement__Output } from './latchkey/v1/HeaderPlacement';
import type { Integration as _latchkey_v1_Integration, Integration__Output as _latchkey_v1_Integration__Output } from './latchkey/v1/Integration';
import type { IntegrationConfig as _latchkey_v1_IntegrationConfig, IntegrationConfig__Output as _latchkey_v1_IntegrationConfig__Output } from './latchkey/v1/IntegrationConfig';
import type { IntegrationServiceClient as _latchkey_v1_IntegrationServiceClient, IntegrationServiceDefinition as _latchkey_v1_IntegrationServiceDefinition } from './latchkey/v1/IntegrationService';
import type { ListIntegrationsRequest as _latchkey_v1_ListIntegrationsRequest, ListIntegrationsRequest__Output as _latchkey_v1_ListIntegrationsRequest__Output } from './latchkey/v1/ListIntegrationsRequest';
import type { ListIntegrationsResponse as _latchkey_v1_ListIntegrationsResponse, ListIntegrationsResponse__Output as _latchkey_v1_ListIntegrationsResponse__Output } from './latchkey/v1/ListIntegrationsResponse';
import type { ListTemplatesRequest as _latchkey_v1_ListTemplatesRequest, ListTemplatesRequest__Output as _latchkey_v1_ListTemplatesRequest__Output } from './latchkey/v1/ListTemplatesRequest';
import type { ListTemplatesResponse as _latchkey_v1_ListTemplatesResponse, ListTemplatesResponse__Output as _latchkey_v1_ListTemplatesResponse__Output } from './latchkey/v1/ListTemplatesResponse';
import type { QueryPlacement as _latchkey_v1_QueryPlacement, QueryPlacement__Output as _latchkey_v1_QueryPlacement__Output } from './latchkey/v1/QueryPlacement';
import type { RevocationRequest as _latchkey_v1_RevocationRequest, RevocationRequest__Output as _latchkey_v1_RevocationRequest__Output } from './latchkey/v1/RevocationRequest';
import type { Template as _latchkey_v1_Template, Template__Output as _latchkey_v1_Template__Output } from './latchkey/v1/Template';
import type { TokenPlacement as _latchkey_v1_TokenPlacement, TokenPlacement__Output as _latchkey_v1_TokenPlacement__Output } from './latchkey/v1/TokenPlacement';
import type { TokenValidation as _latchkey_v1_TokenValidation, TokenValidation__Output as _latchkey_v1_TokenValidation__Output } from './latchkey/v1/TokenValidation';
import type { UpdateIntegrationRequest as _latchkey_v1_UpdateIntegrationRequest, UpdateIntegrationRequest__Output as _latchkey_v1_UpdateIntegrationRequest__Output } from './latchkey/v1/UpdateIntegrationRequest';
import type { VerifyWebhookRequest as _latchkey_v1_VerifyWebhookRequest, VerifyWebhookRequest__Output as _latchkey_v1_VerifyWebhookRequest__Output } from './latchkey/v1/VerifyWebhookRequest';
import type { VerifyWebhookResponse as _latchkey_v1_VerifyWebhookResponse, VerifyWebhookResponse__Output as _latchkey_v1_VerifyWebhookResponse__Output } from './latchkey/v1/VerifyWebhookResponse';
import type { WebhookRouting as _latchkey_v1_WebhookRouting, WebhookRouting__Output as _latchkey_v1_WebhookRouting__Output } from './latchkey/v1/WebhookRouting';
import type { WebhookScheme as _latchkey_v1_WebhookScheme, WebhookScheme__Output as _latchkey_v1_WebhookScheme__Output } from './latchkey/v1/WebhookScheme';

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
      AccountMapping: MessageTypeDefinition<_latchkey_v1_AccountMapping, _latchkey_v1_AccountMapping__Output>
      ClientAuthMethod: EnumTypeDefinition
      ConnectionParam: MessageTypeDefinition<_latchkey_v1_ConnectionParam, _latchkey_v1_ConnectionParam__Output>
      CreateIntegrationRequest: MessageTypeDefinition<_latchkey_v1_CreateIntegrationRequest, _latchkey_v1_CreateIntegrationRequest__Output>
      DeleteIntegrationRequest: MessageTypeDefinition<_latchkey_v1_DeleteIntegrationRequest, _latchkey_v1_DeleteIntegrationRequest__Output>
      DeleteIntegrationResponse: MessageTypeDefinition<_latchkey_v1_DeleteIntegrationResponse, _latchkey_v1_DeleteIntegrationResponse__Output>
      GetIntegrationRequest: MessageTypeDefinition<_latchkey_v1_GetIntegrationRequest, _latchkey_v1_GetIntegrationRequest__Output>
      GrantType: EnumTypeDefinition
      HeaderPlacement: MessageTypeDefinition<_latchkey_v1_HeaderPlacement, _latchkey_v1_HeaderPlacement__Output>
      Integration: MessageTypeDefinition<_latchkey_v1_Integration, _latchkey_v1_Integration__Output>
      IntegrationConfig: MessageTypeDefinition<_latchkey_v1_IntegrationConfig, _latchkey_v1_IntegrationConfig__Output>
      IntegrationService: SubtypeConstructor<typeof grpc.Client, _latchkey_v1_IntegrationServiceClient> & { service: _latchkey_v1_IntegrationServiceDefinition }
      ListIntegrationsRequest: MessageTypeDefinition<_latchkey_v1_ListIntegrationsRequest, _latchkey_v1_ListIntegrationsRequest__Output>
      ListIntegrationsResponse: MessageTypeDefinition<_latchkey_v1_ListIntegrationsResponse, _latchkey_v1_ListIntegrationsResponse__Output>
      ListTemplatesRequest: MessageTypeDefinition<_latchkey_v1_ListTemplatesRequest, _latchkey_v1_ListTemplatesRequest__Output>
      ListTemplatesResponse: MessageTypeDefinition<_latchkey_v1_ListTemplatesResponse, _latchkey_v1_ListTemplatesResponse__Output>
      QueryPlacement: MessageTypeDefinition<_latchkey_v1_QueryPlacement, _latchkey_v1_QueryPlacement__Output>
      RevocationRequest: MessageTypeDefinition<_latchkey_v1_RevocationRequest, _latchkey_v1_RevocationRequest__Output>
      Template: MessageTypeDefinition<_latchkey_v1_Template, _latchkey_v1_Template__Output>
      TokenPlacement: MessageTypeDefinition<_latchkey_v1_TokenPlacement, _latchkey_v1_TokenPlacement__Output>
      TokenValidation: MessageTypeDefinition<_latchkey_v1_TokenValidation, _latchkey_v1_TokenValidation__Output>
      UpdateIntegrationRequest: MessageTypeDefinition<_latchkey_v1_UpdateIntegrationRequest, _latchkey_v1_UpdateIntegrationRequest__Output>
      VerifyWebhookRequest: MessageTypeDefinition<_latchkey_v1_VerifyWebhookRequest, _latchkey_v1_VerifyWebhookRequest__Output>
      VerifyWebhookResponse: MessageTypeDefinition<_latchkey_v1_VerifyWebhookResponse, _latchkey_v1_VerifyWebhookResponse__Output>
      WebhookKind: EnumTypeDefinition
      WebhookRouting: MessageTypeDefinition<_latchkey_v1_WebhookRouting, _latchkey_v1_WebhookRouting__Output>
      WebhookScheme: MessageTypeDefinition<_latchkey_v1_WebhookScheme, _latchkey_v1_WebhookScheme__Output>
    }
  }
}

