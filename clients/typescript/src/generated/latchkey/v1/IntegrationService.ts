// Original file: proto/latchkey/v1/integration.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateIntegrationRequest as _latchkey_v1_CreateIntegrationRequest, CreateIntegrationRequest__Output as _latchkey_v1_CreateIntegrationRequest__Output } from '../../latchkey/v1/CreateIntegrationRequest';
import type { DeleteIntegrationRequest as _latchkey_v1_DeleteIntegrationRequest, DeleteIntegrationRequest__Output as _latchkey_v1_DeleteIntegrationRequest__Output } from '../../latchkey/v1/DeleteIntegrationRequest';
import type { DeleteIntegrationResponse as _latchkey_v1_DeleteIntegrationResponse, DeleteIntegrationResponse__Output as _latchkey_v1_DeleteIntegrationResponse__Output } from '../../latchkey/v1/DeleteIntegrationResponse';
import type { GetIntegrationRequest as _latchkey_v1_GetIntegrationRequest, GetIntegrationRequest__Output as _latchkey_v1_GetIntegrationRequest__Output } from '../../latchkey/v1/GetIntegrationRequest';
import type { Integration as _latchkey_v1_Integration, Integration__Output as _latchkey_v1_Integration__Output } from '../../latchkey/v1/Integration';
import type { ListIntegrationsRequest as _latchkey_v1_ListIntegrationsRequest, ListIntegrationsRequest__Output as _latchkey_v1_ListIntegrationsRequest__Output } from '../../latchkey/v1/ListIntegrationsRequest';
import type { ListIntegrationsResponse as _latchkey_v1_ListIntegrationsResponse, ListIntegrationsResponse__Output as _latchkey_v1_ListIntegrationsResponse__Output } from '../../latchkey/v1/ListIntegrationsResponse';
import type { ListTemplatesRequest as _latchkey_v1_ListTemplatesRequest, ListTemplatesRequest__Output as _latchkey_v1_ListTemplatesRequest__Output } from '../../latchkey/v1/ListTemplatesRequest';
import type { ListTemplatesResponse as _latchkey_v1_ListTemplatesResponse, ListTemplatesResponse__Output as _latchkey_v1_ListTemplatesResponse__Output } from '../../latchkey/v1/ListTemplatesResponse';
import type { UpdateIntegrationRequest as _latchkey_v1_UpdateIntegrationRequest, UpdateIntegrationRequest__Output as _latchkey_v1_UpdateIntegrationRequest__Output } from '../../latchkey/v1/UpdateIntegrationRequest';
import type { VerifyWebhookRequest as _latchkey_v1_VerifyWebhookRequest, VerifyWebhookRequest__Output as _latchkey_v1_VerifyWebhookRequest__Output } from '../../latchkey/v1/VerifyWebhookRequest';
import type { VerifyWebhookResponse as _latchkey_v1_VerifyWebhookResponse, VerifyWebhookResponse__Output as _latchkey_v1_VerifyWebhookResponse__Output } from '../../latchkey/v1/VerifyWebhookResponse';

export interface IntegrationServiceClient extends grpc.Client {
  CreateIntegration(argument: _latchkey_v1_CreateIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  CreateIntegration(argument: _latchkey_v1_CreateIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  CreateIntegration(argument: _latchkey_v1_CreateIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  CreateIntegration(argument: _latchkey_v1_CreateIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  createIntegration(argument: _latchkey_v1_CreateIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  createIntegration(argument: _latchkey_v1_CreateIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  createIntegration(argument: _latchkey_v1_CreateIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  createIntegration(argument: _latchkey_v1_CreateIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  
  DeleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  DeleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  DeleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  DeleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  deleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  deleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  deleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  deleteIntegration(argument: _latchkey_v1_DeleteIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_DeleteIntegrationResponse__Output>): grpc.ClientUnaryCall;
  
  GetIntegration(argument: _latchkey_v1_GetIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  GetIntegration(argument: _latchkey_v1_GetIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  GetIntegration(argument: _latchkey_v1_GetIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  GetIntegration(argument: _latchkey_v1_GetIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  getIntegration(argument: _latchkey_v1_GetIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  getIntegration(argument: _latchkey_v1_GetIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  getIntegration(argument: _latchkey_v1_GetIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  getIntegration(argument: _latchkey_v1_GetIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  
  ListIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  ListIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  ListIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  ListIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  listIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  listIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  listIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  listIntegrations(argument: _latchkey_v1_ListIntegrationsRequest, callback: grpc.requestCallback<_latchkey_v1_ListIntegrationsResponse__Output>): grpc.ClientUnaryCall;
  
  ListTemplates(argument: _latchkey_v1_ListTemplatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  ListTemplates(argument: _latchkey_v1_ListTemplatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  ListTemplates(argument: _latchkey_v1_ListTemplatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  ListTemplates(argument: _latchkey_v1_ListTemplatesRequest, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  listTemplates(argument: _latchkey_v1_ListTemplatesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  listTemplates(argument: _latchkey_v1_ListTemplatesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  listTemplates(argument: _latchkey_v1_ListTemplatesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  listTemplates(argument: _latchkey_v1_ListTemplatesRequest, callback: grpc.requestCallback<_latchkey_v1_ListTemplatesResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  UpdateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  UpdateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  UpdateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  updateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  updateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  updateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  updateIntegration(argument: _latchkey_v1_UpdateIntegrationRequest, callback: grpc.requestCallback<_latchkey_v1_Integration__Output>): grpc.ClientUnaryCall;
  
  VerifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  VerifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  VerifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  VerifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  verifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  verifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  verifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  verifyWebhook(argument: _latchkey_v1_VerifyWebhookRequest, callback: grpc.requestCallback<_latchkey_v1_VerifyWebhookResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface IntegrationServiceHandlers extends grpc.UntypedServiceImplementation {
  CreateIntegration: grpc.handleUnaryCall<_latchkey_v1_CreateIntegrationRequest__Output, _latchkey_v1_Integration>;
  
  DeleteIntegration: grpc.handleUnaryCall<_latchkey_v1_DeleteIntegrationRequest__Output, _latchkey_v1_DeleteIntegrationResponse>;
  
  GetIntegration: grpc.handleUnaryCall<_latchkey_v1_GetIntegrationRequest__Output, _latchkey_v1_Integration>;
  
  ListIntegrations: grpc.handleUnaryCall<_latchkey_v1_ListIntegrationsRequest__Output, _latchkey_v1_ListIntegrationsResponse>;
  
  ListTemplates: grpc.handleUnaryCall<_latchkey_v1_ListTemplatesRequest__Output, _latchkey_v1_ListTemplatesResponse>;
  
  UpdateIntegration: grpc.handleUnaryCall<_latchkey_v1_UpdateIntegrationRequest__Output, _latchkey_v1_Integration>;
  
  VerifyWebhook: grpc.handleUnaryCall<_latchkey_v1_VerifyWebhookRequest__Output, _latchkey_v1_VerifyWebhookResponse>;
  
}

export interface IntegrationServiceDefinition extends grpc.ServiceDefinition {
  CreateIntegration: MethodDefinition<_latchkey_v1_CreateIntegrationRequest, _latchkey_v1_Integration, _latchkey_v1_CreateIntegrationRequest__Output, _latchkey_v1_Integration__Output>
  DeleteIntegration: MethodDefinition<_latchkey_v1_DeleteIntegrationRequest, _latchkey_v1_DeleteIntegrationResponse, _latchkey_v1_DeleteIntegrationRequest__Output, _latchkey_v1_DeleteIntegrationResponse__Output>
  GetIntegration: MethodDefinition<_latchkey_v1_GetIntegrationRequest, _latchkey_v1_Integration, _latchkey_v1_GetIntegrationRequest__Output, _latchkey_v1_Integration__Output>
  ListIntegrations: MethodDefinition<_latchkey_v1_ListIntegrationsRequest, _latchkey_v1_ListIntegrationsResponse, _latchkey_v1_ListIntegrationsRequest__Output, _latchkey_v1_ListIntegrationsResponse__Output>
  ListTemplates: MethodDefinition<_latchkey_v1_ListTemplatesRequest, _latchkey_v1_ListTemplatesResponse, _latchkey_v1_ListTemplatesRequest__Output, _latchkey_v1_ListTemplatesResponse__Output>
  UpdateIntegration: MethodDefinition<_latchkey_v1_UpdateIntegrationRequest, _latchkey_v1_Integration, _latchkey_v1_UpdateIntegrationRequest__Output, _latchkey_v1_Integration__Output>
  VerifyWebhook: MethodDefinition<_latchkey_v1_VerifyWebhookRequest, _latchkey_v1_VerifyWebhookResponse, _latchkey_v1_VerifyWebhookRequest__Output, _latchkey_v1_VerifyWebhookResponse__Output>
}
