// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';

export interface ListWebhookDeliveriesRequest {
  'connection_id'?: (string);
  'integration_id'?: (string);
  'since'?: (_google_protobuf_Timestamp | null);
  'page_size'?: (number);
  'page_token'?: (string);
}

export interface ListWebhookDeliveriesRequest__Output {
  'connection_id': (string);
  'integration_id': (string);
  'since': (_google_protobuf_Timestamp__Output | null);
  'page_size': (number);
  'page_token': (string);
}
