import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';
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
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
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

