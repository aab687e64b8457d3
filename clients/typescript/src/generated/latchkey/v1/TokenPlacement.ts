// Original file: proto/latchkey/v1/integration.proto

import type { HeaderPlacement as _latchkey_v1_HeaderPlacement, HeaderPlacement__Output as _latchkey_v1_HeaderPlacement__Output } from '../../latchkey/v1/HeaderPlacement';
import type { QueryPlacement as _latchkey_v1_QueryPlacement, QueryPlacement__Output as _latchkey_v1_QueryPlacement__Output } from '../../latchkey/v1/QueryPlacement';

export interface TokenPlacement {
  'header'?: (_latchkey_v1_HeaderPlacement | null);
  'query'?: (_latchkey_v1_QueryPlacement | null);
  'placement'?: "header"|"query";
}

export interface TokenPlacement__Output {
  'header'?: (_latchkey_v1_HeaderPlacement__Output | null);
  'query'?: (_latchkey_v1_QueryPlacement__Output | null);
  'placement'?: "header"|"query";
}
