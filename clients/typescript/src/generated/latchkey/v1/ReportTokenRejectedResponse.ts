// Original file: proto/latchkey/v1/connection.proto

import type { GetTokenResponse as _latchkey_v1_GetTokenResponse, GetTokenResponse__Output as _latchkey_v1_GetTokenResponse__Output } from '../../latchkey/v1/GetTokenResponse';

// Original file: proto/latchkey/v1/connection.proto

export const _latchkey_v1_ReportTokenRejectedResponse_Verdict = {
  VERDICT_UNSPECIFIED: 'VERDICT_UNSPECIFIED',
  VERDICT_REPLACED: 'VERDICT_REPLACED',
  VERDICT_CONFIRMED: 'VERDICT_CONFIRMED',
  VERDICT_NOT_CONFIRMED: 'VERDICT_NOT_CONFIRMED',
  VERDICT_REFRESHED: 'VERDICT_REFRESHED',
} as const;

export type _latchkey_v1_ReportTokenRejectedResponse_Verdict =
  | 'VERDICT_UNSPECIFIED'
  | 0
  | 'VERDICT_REPLACED'
  | 1
  | 'VERDICT_CONFIRMED'
  | 2
  | 'VERDICT_NOT_CONFIRMED'
  | 3
  | 'VERDICT_REFRESHED'
  | 4

export type _latchkey_v1_ReportTokenRejectedResponse_Verdict__Output = typeof _latchkey_v1_ReportTokenRejectedResponse_Verdict[keyof typeof _latchkey_v1_ReportTokenRejectedResponse_Verdict]

export interface ReportTokenRejectedResponse {
  'verdict'?: (_latchkey_v1_ReportTokenRejectedResponse_Verdict);
  'credential'?: (_latchkey_v1_GetTokenResponse | null);
}

export interface ReportTokenRejectedResponse__Output {
  'verdict': (_latchkey_v1_ReportTokenRejectedResponse_Verdict__Output);
  'credential': (_latchkey_v1_GetTokenResponse__Output | null);
}
