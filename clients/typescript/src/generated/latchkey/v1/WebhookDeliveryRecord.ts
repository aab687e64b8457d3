// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { WebhookDelivery as _latchkey_v1_WebhookDelivery, WebhookDelivery__Output as _latchkey_v1_WebhookDelivery__Output } from '../../latchkey/v1/WebhookDelivery';
import type { Long } from '@grpc/proto-loader';

export interface WebhookDeliveryRecord {
  'event_id'?: (string);
  'event_type'?: (string);
  'connection_id'?: (string);
  'integration_id'?: (string);
  'tenant'?: (string);
  'received_at'?: (_google_protobuf_Timestamp | null);
  'delivery'?: (_latchkey_v1_WebhookDelivery | null);
  'body_unavailable'?: (string);
  'stream_id'?: (string);
  'version'?: (number | string | Long);
  'position'?: (number | string | Long);
}

export interface WebhookDeliveryRecord__Output {
  'event_id': (string);
  'event_type': (string);
  'connection_id': (string);
  'integration_id': (string);
  'tenant': (string);
  'received_at': (_google_protobuf_Timestamp__Output | null);
  'delivery': (_latchkey_v1_WebhookDelivery__Output | null);
  'body_unavailable': (string);
  'stream_id': (string);
  'version': (number);
  'position': (number);
}
