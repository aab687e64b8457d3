// Original file: proto/latchkey/v1/audit.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Event as _latchkey_v1_Event, Event__Output as _latchkey_v1_Event__Output } from '../../latchkey/v1/Event';
import type { GetAccessLogRequest as _latchkey_v1_GetAccessLogRequest, GetAccessLogRequest__Output as _latchkey_v1_GetAccessLogRequest__Output } from '../../latchkey/v1/GetAccessLogRequest';
import type { GetAccessLogResponse as _latchkey_v1_GetAccessLogResponse, GetAccessLogResponse__Output as _latchkey_v1_GetAccessLogResponse__Output } from '../../latchkey/v1/GetAccessLogResponse';
import type { GetHistoryRequest as _latchkey_v1_GetHistoryRequest, GetHistoryRequest__Output as _latchkey_v1_GetHistoryRequest__Output } from '../../latchkey/v1/GetHistoryRequest';
import type { ReplayEventsRequest as _latchkey_v1_ReplayEventsRequest, ReplayEventsRequest__Output as _latchkey_v1_ReplayEventsRequest__Output } from '../../latchkey/v1/ReplayEventsRequest';

export interface AuditServiceClient extends grpc.Client {
  GetAccessLog(argument: _latchkey_v1_GetAccessLogRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  GetAccessLog(argument: _latchkey_v1_GetAccessLogRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  GetAccessLog(argument: _latchkey_v1_GetAccessLogRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  GetAccessLog(argument: _latchkey_v1_GetAccessLogRequest, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  getAccessLog(argument: _latchkey_v1_GetAccessLogRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  getAccessLog(argument: _latchkey_v1_GetAccessLogRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  getAccessLog(argument: _latchkey_v1_GetAccessLogRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  getAccessLog(argument: _latchkey_v1_GetAccessLogRequest, callback: grpc.requestCallback<_latchkey_v1_GetAccessLogResponse__Output>): grpc.ClientUnaryCall;
  
  GetHistory(argument: _latchkey_v1_GetHistoryRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  GetHistory(argument: _latchkey_v1_GetHistoryRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  getHistory(argument: _latchkey_v1_GetHistoryRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  getHistory(argument: _latchkey_v1_GetHistoryRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  
  ReplayEvents(argument: _latchkey_v1_ReplayEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  ReplayEvents(argument: _latchkey_v1_ReplayEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  replayEvents(argument: _latchkey_v1_ReplayEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  replayEvents(argument: _latchkey_v1_ReplayEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_latchkey_v1_Event__Output>;
  
}

export interface AuditServiceHandlers extends grpc.UntypedServiceImplementation {
  GetAccessLog: grpc.handleUnaryCall<_latchkey_v1_GetAccessLogRequest__Output, _latchkey_v1_GetAccessLogResponse>;
  
  GetHistory: grpc.handleServerStreamingCall<_latchkey_v1_GetHistoryRequest__Output, _latchkey_v1_Event>;
  
  ReplayEvents: grpc.handleServerStreamingCall<_latchkey_v1_ReplayEventsRequest__Output, _latchkey_v1_Event>;
  
}

export interface AuditServiceDefinition extends grpc.ServiceDefinition {
  GetAccessLog: MethodDefinition<_latchkey_v1_GetAccessLogRequest, _latchkey_v1_GetAccessLogResponse, _latchkey_v1_GetAccessLogRequest__Output, _latchkey_v1_GetAccessLogResponse__Output>
  GetHistory: MethodDefinition<_latchkey_v1_GetHistoryRequest, _latchkey_v1_Event, _latchkey_v1_GetHistoryRequest__Output, _latchkey_v1_Event__Output>
  ReplayEvents: MethodDefinition<_latchkey_v1_ReplayEventsRequest, _latchkey_v1_Event, _latchkey_v1_ReplayEventsRequest__Output, _latchkey_v1_Event__Output>
}
