// Original file: proto/latchkey/v1/connection.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CompleteAuthorizationRequest as _latchkey_v1_CompleteAuthorizationRequest, CompleteAuthorizationRequest__Output as _latchkey_v1_CompleteAuthorizationRequest__Output } from '../../latchkey/v1/CompleteAuthorizationRequest';
import type { ConnectClientCredentialsRequest as _latchkey_v1_ConnectClientCredentialsRequest, ConnectClientCredentialsRequest__Output as _latchkey_v1_ConnectClientCredentialsRequest__Output } from '../../latchkey/v1/ConnectClientCredentialsRequest';
import type { ConnectMcpServerRequest as _latchkey_v1_ConnectMcpServerRequest, ConnectMcpServerRequest__Output as _latchkey_v1_ConnectMcpServerRequest__Output } from '../../latchkey/v1/ConnectMcpServerRequest';
import type { ConnectMcpServerResponse as _latchkey_v1_ConnectMcpServerResponse, ConnectMcpServerResponse__Output as _latchkey_v1_ConnectMcpServerResponse__Output } from '../../latchkey/v1/ConnectMcpServerResponse';
import type { ConnectPasswordRequest as _latchkey_v1_ConnectPasswordRequest, ConnectPasswordRequest__Output as _latchkey_v1_ConnectPasswordRequest__Output } from '../../latchkey/v1/ConnectPasswordRequest';
import type { ConnectServiceAccountRequest as _latchkey_v1_ConnectServiceAccountRequest, ConnectServiceAccountRequest__Output as _latchkey_v1_ConnectServiceAccountRequest__Output } from '../../latchkey/v1/ConnectServiceAccountRequest';
import type { ConnectTokenExchangeRequest as _latchkey_v1_ConnectTokenExchangeRequest, ConnectTokenExchangeRequest__Output as _latchkey_v1_ConnectTokenExchangeRequest__Output } from '../../latchkey/v1/ConnectTokenExchangeRequest';
import type { Connection as _latchkey_v1_Connection, Connection__Output as _latchkey_v1_Connection__Output } from '../../latchkey/v1/Connection';
import type { CreateConnectSessionRequest as _latchkey_v1_CreateConnectSessionRequest, CreateConnectSessionRequest__Output as _latchkey_v1_CreateConnectSessionRequest__Output } from '../../latchkey/v1/CreateConnectSessionRequest';
import type { CreateConnectSessionResponse as _latchkey_v1_CreateConnectSessionResponse, CreateConnectSessionResponse__Output as _latchkey_v1_CreateConnectSessionResponse__Output } from '../../latchkey/v1/CreateConnectSessionResponse';
import type { DeleteConnectionRequest as _latchkey_v1_DeleteConnectionRequest, DeleteConnectionRequest__Output as _latchkey_v1_DeleteConnectionRequest__Output } from '../../latchkey/v1/DeleteConnectionRequest';
import type { DeleteConnectionResponse as _latchkey_v1_DeleteConnectionResponse, DeleteConnectionResponse__Output as _latchkey_v1_DeleteConnectionResponse__Output } from '../../latchkey/v1/DeleteConnectionResponse';
import type { GetConnectionRequest as _latchkey_v1_GetConnectionRequest, GetConnectionRequest__Output as _latchkey_v1_GetConnectionRequest__Output } from '../../latchkey/v1/GetConnectionRequest';
import type { GetTokenRequest as _latchkey_v1_GetTokenRequest, GetTokenRequest__Output as _latchkey_v1_GetTokenRequest__Output } from '../../latchkey/v1/GetTokenRequest';
import type { GetTokenResponse as _latchkey_v1_GetTokenResponse, GetTokenResponse__Output as _latchkey_v1_GetTokenResponse__Output } from '../../latchkey/v1/GetTokenResponse';
import type { GetWebhookDeliveryRequest as _latchkey_v1_GetWebhookDeliveryRequest, GetWebhookDeliveryRequest__Output as _latchkey_v1_GetWebhookDeliveryRequest__Output } from '../../latchkey/v1/GetWebhookDeliveryRequest';
import type { ImportConnectionRequest as _latchkey_v1_ImportConnectionRequest, ImportConnectionRequest__Output as _latchkey_v1_ImportConnectionRequest__Output } from '../../latchkey/v1/ImportConnectionRequest';
import type { ImportConnectionResponse as _latchkey_v1_ImportConnectionResponse, ImportConnectionResponse__Output as _latchkey_v1_ImportConnectionResponse__Output } from '../../latchkey/v1/ImportConnectionResponse';
import type { ListConnectionsRequest as _latchkey_v1_ListConnectionsRequest, ListConnectionsRequest__Output as _latchkey_v1_ListConnectionsRequest__Output } from '../../latchkey/v1/ListConnectionsRequest';
import type { ListConnectionsResponse as _latchkey_v1_ListConnectionsResponse, ListConnectionsResponse__Output as _latchkey_v1_ListConnectionsResponse__Output } from '../../latchkey/v1/ListConnectionsResponse';
import type { ListWebhookDeliveriesRequest as _latchkey_v1_ListWebhookDeliveriesRequest, ListWebhookDeliveriesRequest__Output as _latchkey_v1_ListWebhookDeliveriesRequest__Output } from '../../latchkey/v1/ListWebhookDeliveriesRequest';
import type { ListWebhookDeliveriesResponse as _latchkey_v1_ListWebhookDeliveriesResponse, ListWebhookDeliveriesResponse__Output as _latchkey_v1_ListWebhookDeliveriesResponse__Output } from '../../latchkey/v1/ListWebhookDeliveriesResponse';
import type { RefreshTokenRequest as _latchkey_v1_RefreshTokenRequest, RefreshTokenRequest__Output as _latchkey_v1_RefreshTokenRequest__Output } from '../../latchkey/v1/RefreshTokenRequest';
import type { ReportTokenRejectedRequest as _latchkey_v1_ReportTokenRejectedRequest, ReportTokenRejectedRequest__Output as _latchkey_v1_ReportTokenRejectedRequest__Output } from '../../latchkey/v1/ReportTokenRejectedRequest';
import type { ReportTokenRejectedResponse as _latchkey_v1_ReportTokenRejectedResponse, ReportTokenRejectedResponse__Output as _latchkey_v1_ReportTokenRejectedResponse__Output } from '../../latchkey/v1/ReportTokenRejectedResponse';
import type { RevokeConnectionRequest as _latchkey_v1_RevokeConnectionRequest, RevokeConnectionRequest__Output as _latchkey_v1_RevokeConnectionRequest__Output } from '../../latchkey/v1/RevokeConnectionRequest';
import type { SetWebhookSecretRequest as _latchkey_v1_SetWebhookSecretRequest, SetWebhookSecretRequest__Output as _latchkey_v1_SetWebhookSecretRequest__Output } from '../../latchkey/v1/SetWebhookSecretRequest';
import type { StartAuthorizationRequest as _latchkey_v1_StartAuthorizationRequest, StartAuthorizationRequest__Output as _latchkey_v1_StartAuthorizationRequest__Output } from '../../latchkey/v1/StartAuthorizationRequest';
import type { StartAuthorizationResponse as _latchkey_v1_StartAuthorizationResponse, StartAuthorizationResponse__Output as _latchkey_v1_StartAuthorizationResponse__Output } from '../../latchkey/v1/StartAuthorizationResponse';
import type { StartDeviceAuthorizationRequest as _latchkey_v1_StartDeviceAuthorizationRequest, StartDeviceAuthorizationRequest__Output as _latchkey_v1_StartDeviceAuthorizationRequest__Output } from '../../latchkey/v1/StartDeviceAuthorizationRequest';
import type { StartDeviceAuthorizationResponse as _latchkey_v1_StartDeviceAuthorizationResponse, StartDeviceAuthorizationResponse__Output as _latchkey_v1_StartDeviceAuthorizationResponse__Output } from '../../latchkey/v1/StartDeviceAuthorizationResponse';
import type { UpdateConnectionRequest as _latchkey_v1_UpdateConnectionRequest, UpdateConnectionRequest__Output as _latchkey_v1_UpdateConnectionRequest__Output } from '../../latchkey/v1/UpdateConnectionRequest';
import type { ValidateConnectionRequest as _latchkey_v1_ValidateConnectionRequest, ValidateConnectionRequest__Output as _latchkey_v1_ValidateConnectionRequest__Output } from '../../latchkey/v1/ValidateConnectionRequest';
import type { WebhookDeliveryRecord as _latchkey_v1_WebhookDeliveryRecord, WebhookDeliveryRecord__Output as _latchkey_v1_WebhookDeliveryRecord__Output } from '../../latchkey/v1/WebhookDeliveryRecord';

export interface ConnectionServiceClient extends grpc.Client {
  CompleteAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  CompleteAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  CompleteAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  CompleteAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  completeAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  completeAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  completeAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  completeAuthorization(argument: _latchkey_v1_CompleteAuthorizationRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  ConnectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectClientCredentials(argument: _latchkey_v1_ConnectClientCredentialsRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  ConnectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  ConnectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  ConnectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  ConnectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  connectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  connectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  connectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  connectMcpServer(argument: _latchkey_v1_ConnectMcpServerRequest, callback: grpc.requestCallback<_latchkey_v1_ConnectMcpServerResponse__Output>): grpc.ClientUnaryCall;
  
  ConnectPassword(argument: _latchkey_v1_ConnectPasswordRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectPassword(argument: _latchkey_v1_ConnectPasswordRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectPassword(argument: _latchkey_v1_ConnectPasswordRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectPassword(argument: _latchkey_v1_ConnectPasswordRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectPassword(argument: _latchkey_v1_ConnectPasswordRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectPassword(argument: _latchkey_v1_ConnectPasswordRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectPassword(argument: _latchkey_v1_ConnectPasswordRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectPassword(argument: _latchkey_v1_ConnectPasswordRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  ConnectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectServiceAccount(argument: _latchkey_v1_ConnectServiceAccountRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  ConnectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ConnectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  connectTokenExchange(argument: _latchkey_v1_ConnectTokenExchangeRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  CreateConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  CreateConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  CreateConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  CreateConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  createConnectSession(argument: _latchkey_v1_CreateConnectSessionRequest, callback: grpc.requestCallback<_latchkey_v1_CreateConnectSessionResponse__Output>): grpc.ClientUnaryCall;
  
  DeleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  DeleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  DeleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  DeleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  deleteConnection(argument: _latchkey_v1_DeleteConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_DeleteConnectionResponse__Output>): grpc.ClientUnaryCall;
  
  GetConnection(argument: _latchkey_v1_GetConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  GetConnection(argument: _latchkey_v1_GetConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  GetConnection(argument: _latchkey_v1_GetConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  GetConnection(argument: _latchkey_v1_GetConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _latchkey_v1_GetConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _latchkey_v1_GetConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _latchkey_v1_GetConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  getConnection(argument: _latchkey_v1_GetConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  GetToken(argument: _latchkey_v1_GetTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  GetToken(argument: _latchkey_v1_GetTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  GetToken(argument: _latchkey_v1_GetTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  GetToken(argument: _latchkey_v1_GetTokenRequest, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  getToken(argument: _latchkey_v1_GetTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  getToken(argument: _latchkey_v1_GetTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  getToken(argument: _latchkey_v1_GetTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  getToken(argument: _latchkey_v1_GetTokenRequest, callback: grpc.requestCallback<_latchkey_v1_GetTokenResponse__Output>): grpc.ClientUnaryCall;
  
  GetWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  GetWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  GetWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  GetWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  getWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  getWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  getWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  getWebhookDelivery(argument: _latchkey_v1_GetWebhookDeliveryRequest, callback: grpc.requestCallback<_latchkey_v1_WebhookDeliveryRecord__Output>): grpc.ClientUnaryCall;
  
  ImportConnection(argument: _latchkey_v1_ImportConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  ImportConnection(argument: _latchkey_v1_ImportConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  ImportConnection(argument: _latchkey_v1_ImportConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  ImportConnection(argument: _latchkey_v1_ImportConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  importConnection(argument: _latchkey_v1_ImportConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  importConnection(argument: _latchkey_v1_ImportConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  importConnection(argument: _latchkey_v1_ImportConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  importConnection(argument: _latchkey_v1_ImportConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_ImportConnectionResponse__Output>): grpc.ClientUnaryCall;
  
  ListConnections(argument: _latchkey_v1_ListConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  ListConnections(argument: _latchkey_v1_ListConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  ListConnections(argument: _latchkey_v1_ListConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  ListConnections(argument: _latchkey_v1_ListConnectionsRequest, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _latchkey_v1_ListConnectionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _latchkey_v1_ListConnectionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _latchkey_v1_ListConnectionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  listConnections(argument: _latchkey_v1_ListConnectionsRequest, callback: grpc.requestCallback<_latchkey_v1_ListConnectionsResponse__Output>): grpc.ClientUnaryCall;
  
  ListWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  ListWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  ListWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  ListWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  listWebhookDeliveries(argument: _latchkey_v1_ListWebhookDeliveriesRequest, callback: grpc.requestCallback<_latchkey_v1_ListWebhookDeliveriesResponse__Output>): grpc.ClientUnaryCall;
  
  RefreshToken(argument: _latchkey_v1_RefreshTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  RefreshToken(argument: _latchkey_v1_RefreshTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  RefreshToken(argument: _latchkey_v1_RefreshTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  RefreshToken(argument: _latchkey_v1_RefreshTokenRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  refreshToken(argument: _latchkey_v1_RefreshTokenRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  refreshToken(argument: _latchkey_v1_RefreshTokenRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  refreshToken(argument: _latchkey_v1_RefreshTokenRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  refreshToken(argument: _latchkey_v1_RefreshTokenRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  ReportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  ReportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  ReportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  ReportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  reportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  reportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  reportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  reportTokenRejected(argument: _latchkey_v1_ReportTokenRejectedRequest, callback: grpc.requestCallback<_latchkey_v1_ReportTokenRejectedResponse__Output>): grpc.ClientUnaryCall;
  
  RevokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  RevokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  RevokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  RevokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  revokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  revokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  revokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  revokeConnection(argument: _latchkey_v1_RevokeConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  SetWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  SetWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  SetWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  SetWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  setWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  setWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  setWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  setWebhookSecret(argument: _latchkey_v1_SetWebhookSecretRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  StartAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  StartAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  StartAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  StartAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startAuthorization(argument: _latchkey_v1_StartAuthorizationRequest, callback: grpc.requestCallback<_latchkey_v1_StartAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  
  StartDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  StartDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  StartDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  StartDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  startDeviceAuthorization(argument: _latchkey_v1_StartDeviceAuthorizationRequest, callback: grpc.requestCallback<_latchkey_v1_StartDeviceAuthorizationResponse__Output>): grpc.ClientUnaryCall;
  
  UpdateConnection(argument: _latchkey_v1_UpdateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  UpdateConnection(argument: _latchkey_v1_UpdateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  UpdateConnection(argument: _latchkey_v1_UpdateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  UpdateConnection(argument: _latchkey_v1_UpdateConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _latchkey_v1_UpdateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _latchkey_v1_UpdateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _latchkey_v1_UpdateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  updateConnection(argument: _latchkey_v1_UpdateConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
  ValidateConnection(argument: _latchkey_v1_ValidateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ValidateConnection(argument: _latchkey_v1_ValidateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ValidateConnection(argument: _latchkey_v1_ValidateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  ValidateConnection(argument: _latchkey_v1_ValidateConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  validateConnection(argument: _latchkey_v1_ValidateConnectionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  validateConnection(argument: _latchkey_v1_ValidateConnectionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  validateConnection(argument: _latchkey_v1_ValidateConnectionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  validateConnection(argument: _latchkey_v1_ValidateConnectionRequest, callback: grpc.requestCallback<_latchkey_v1_Connection__Output>): grpc.ClientUnaryCall;
  
}

export interface ConnectionServiceHandlers extends grpc.UntypedServiceImplementation {
  CompleteAuthorization: grpc.handleUnaryCall<_latchkey_v1_CompleteAuthorizationRequest__Output, _latchkey_v1_Connection>;
  
  ConnectClientCredentials: grpc.handleUnaryCall<_latchkey_v1_ConnectClientCredentialsRequest__Output, _latchkey_v1_Connection>;
  
  ConnectMcpServer: grpc.handleUnaryCall<_latchkey_v1_ConnectMcpServerRequest__Output, _latchkey_v1_ConnectMcpServerResponse>;
  
  ConnectPassword: grpc.handleUnaryCall<_latchkey_v1_ConnectPasswordRequest__Output, _latchkey_v1_Connection>;
  
  ConnectServiceAccount: grpc.handleUnaryCall<_latchkey_v1_ConnectServiceAccountRequest__Output, _latchkey_v1_Connection>;
  
  ConnectTokenExchange: grpc.handleUnaryCall<_latchkey_v1_ConnectTokenExchangeRequest__Output, _latchkey_v1_Connection>;
  
  CreateConnectSession: grpc.handleUnaryCall<_latchkey_v1_CreateConnectSessionRequest__Output, _latchkey_v1_CreateConnectSessionResponse>;
  
  DeleteConnection: grpc.handleUnaryCall<_latchkey_v1_DeleteConnectionRequest__Output, _latchkey_v1_DeleteConnectionResponse>;
  
  GetConnection: grpc.handleUnaryCall<_latchkey_v1_GetConnectionRequest__Output, _latchkey_v1_Connection>;
  
  GetToken: grpc.handleUnaryCall<_latchkey_v1_GetTokenRequest__Output, _latchkey_v1_GetTokenResponse>;
  
  GetWebhookDelivery: grpc.handleUnaryCall<_latchkey_v1_GetWebhookDeliveryRequest__Output, _latchkey_v1_WebhookDeliveryRecord>;
  
  ImportConnection: grpc.handleUnaryCall<_latchkey_v1_ImportConnectionRequest__Output, _latchkey_v1_ImportConnectionResponse>;
  
  ListConnections: grpc.handleUnaryCall<_latchkey_v1_ListConnectionsRequest__Output, _latchkey_v1_ListConnectionsResponse>;
  
  ListWebhookDeliveries: grpc.handleUnaryCall<_latchkey_v1_ListWebhookDeliveriesRequest__Output, _latchkey_v1_ListWebhookDeliveriesResponse>;
  
  RefreshToken: grpc.handleUnaryCall<_latchkey_v1_RefreshTokenRequest__Output, _latchkey_v1_Connection>;
  
  ReportTokenRejected: grpc.handleUnaryCall<_latchkey_v1_ReportTokenRejectedRequest__Output, _latchkey_v1_ReportTokenRejectedResponse>;
  
  RevokeConnection: grpc.handleUnaryCall<_latchkey_v1_RevokeConnectionRequest__Output, _latchkey_v1_Connection>;
  
  SetWebhookSecret: grpc.handleUnaryCall<_latchkey_v1_SetWebhookSecretRequest__Output, _latchkey_v1_Connection>;
  
  StartAuthorization: grpc.handleUnaryCall<_latchkey_v1_StartAuthorizationRequest__Output, _latchkey_v1_StartAuthorizationResponse>;
  
  StartDeviceAuthorization: grpc.handleUnaryCall<_latchkey_v1_StartDeviceAuthorizationRequest__Output, _latchkey_v1_StartDeviceAuthorizationResponse>;
  
  UpdateConnection: grpc.handleUnaryCall<_latchkey_v1_UpdateConnectionRequest__Output, _latchkey_v1_Connection>;
  
  ValidateConnection: grpc.handleUnaryCall<_latchkey_v1_ValidateConnectionRequest__Output, _latchkey_v1_Connection>;
  
}

export interface ConnectionServiceDefinition extends grpc.ServiceDefinition {
  CompleteAuthorization: MethodDefinition<_latchkey_v1_CompleteAuthorizationRequest, _latchkey_v1_Connection, _latchkey_v1_CompleteAuthorizationRequest__Output, _latchkey_v1_Connection__Output>
  ConnectClientCredentials: MethodDefinition<_latchkey_v1_ConnectClientCredentialsRequest, _latchkey_v1_Connection, _latchkey_v1_ConnectClientCredentialsRequest__Output, _latchkey_v1_Connection__Output>
  ConnectMcpServer: MethodDefinition<_latchkey_v1_ConnectMcpServerRequest, _latchkey_v1_ConnectMcpServerResponse, _latchkey_v1_ConnectMcpServerRequest__Output, _latchkey_v1_ConnectMcpServerResponse__Output>
  ConnectPassword: MethodDefinition<_latchkey_v1_ConnectPasswordRequest, _latchkey_v1_Connection, _latchkey_v1_ConnectPasswordRequest__Output, _latchkey_v1_Connection__Output>
  ConnectServiceAccount: MethodDefinition<_latchkey_v1_ConnectServiceAccountRequest, _latchkey_v1_Connection, _latchkey_v1_ConnectServiceAccountRequest__Output, _latchkey_v1_Connection__Output>
  ConnectTokenExchange: MethodDefinition<_latchkey_v1_ConnectTokenExchangeRequest, _latchkey_v1_Connection, _latchkey_v1_ConnectTokenExchangeRequest__Output, _latchkey_v1_Connection__Output>
  CreateConnectSession: MethodDefinition<_latchkey_v1_CreateConnectSessionRequest, _latchkey_v1_CreateConnectSessionResponse, _latchkey_v1_CreateConnectSessionRequest__Output, _latchkey_v1_CreateConnectSessionResponse__Output>
  DeleteConnection: MethodDefinition<_latchkey_v1_DeleteConnectionRequest, _latchkey_v1_DeleteConnectionResponse, _latchkey_v1_DeleteConnectionRequest__Output, _latchkey_v1_DeleteConnectionResponse__Output>
  GetConnection: MethodDefinition<_latchkey_v1_GetConnectionRequest, _latchkey_v1_Connection, _latchkey_v1_GetConnectionRequest__Output, _latchkey_v1_Connection__Output>
  GetToken: MethodDefinition<_latchkey_v1_GetTokenRequest, _latchkey_v1_GetTokenResponse, _latchkey_v1_GetTokenRequest__Output, _latchkey_v1_GetTokenResponse__Output>
  GetWebhookDelivery: MethodDefinition<_latchkey_v1_GetWebhookDeliveryRequest, _latchkey_v1_WebhookDeliveryRecord, _latchkey_v1_GetWebhookDeliveryRequest__Output, _latchkey_v1_WebhookDeliveryRecord__Output>
  ImportConnection: MethodDefinition<_latchkey_v1_ImportConnectionRequest, _latchkey_v1_ImportConnectionResponse, _latchkey_v1_ImportConnectionRequest__Output, _latchkey_v1_ImportConnectionResponse__Output>
  ListConnections: MethodDefinition<_latchkey_v1_ListConnectionsRequest, _latchkey_v1_ListConnectionsResponse, _latchkey_v1_ListConnectionsRequest__Output, _latchkey_v1_ListConnectionsResponse__Output>
  ListWebhookDeliveries: MethodDefinition<_latchkey_v1_ListWebhookDeliveriesRequest, _latchkey_v1_ListWebhookDeliveriesResponse, _latchkey_v1_ListWebhookDeliveriesRequest__Output, _latchkey_v1_ListWebhookDeliveriesResponse__Output>
  RefreshToken: MethodDefinition<_latchkey_v1_RefreshTokenRequest, _latchkey_v1_Connection, _latchkey_v1_RefreshTokenRequest__Output, _latchkey_v1_Connection__Output>
  ReportTokenRejected: MethodDefinition<_latchkey_v1_ReportTokenRejectedRequest, _latchkey_v1_ReportTokenRejectedResponse, _latchkey_v1_ReportTokenRejectedRequest__Output, _latchkey_v1_ReportTokenRejectedResponse__Output>
  RevokeConnection: MethodDefinition<_latchkey_v1_RevokeConnectionRequest, _latchkey_v1_Connection, _latchkey_v1_RevokeConnectionRequest__Output, _latchkey_v1_Connection__Output>
  SetWebhookSecret: MethodDefinition<_latchkey_v1_SetWebhookSecretRequest, _latchkey_v1_Connection, _latchkey_v1_SetWebhookSecretRequest__Output, _latchkey_v1_Connection__Output>
  StartAuthorization: MethodDefinition<_latchkey_v1_StartAuthorizationRequest, _latchkey_v1_StartAuthorizationResponse, _latchkey_v1_StartAuthorizationRequest__Output, _latchkey_v1_StartAuthorizationResponse__Output>
  StartDeviceAuthorization: MethodDefinition<_latchkey_v1_StartDeviceAuthorizationRequest, _latchkey_v1_StartDeviceAuthorizationResponse, _latchkey_v1_StartDeviceAuthorizationRequest__Output, _latchkey_v1_StartDeviceAuthorizationResponse__Output>
  UpdateConnection: MethodDefinition<_latchkey_v1_UpdateConnectionRequest, _latchkey_v1_Connection, _latchkey_v1_UpdateConnectionRequest__Output, _latchkey_v1_Connection__Output>
  ValidateConnection: MethodDefinition<_latchkey_v1_ValidateConnectionRequest, _latchkey_v1_Connection, _latchkey_v1_ValidateConnectionRequest__Output, _latchkey_v1_Connection__Output>
}
