// Original file: proto/latchkey/v1/audit.proto

import type { EventFilter as _latchkey_v1_EventFilter, EventFilter__Output as _latchkey_v1_EventFilter__Output } from '../../latchkey/v1/EventFilter';
import type { Long } from '@grpc/proto-loader';

export interface ReplayEventsRequest {
  'from_position'?: (number | string | Long);
  'filter'?: (_latchkey_v1_EventFilter | null);
  'follow'?: (boolean);
}

export interface ReplayEventsRequest__Output {
  'from_position': (number);
  'filter': (_latchkey_v1_EventFilter__Output | null);
  'follow': (boolean);
}
