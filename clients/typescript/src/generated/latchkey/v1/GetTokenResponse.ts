// Original file: proto/latchkey/v1/connection.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../google/protobuf/Timestamp';
import type { HeaderCredential as _latchkey_v1_HeaderCredential, HeaderCredential__Output as _latchkey_v1_HeaderCredential__Output } from '../../latchkey/v1/HeaderCredential';
import type { QueryCredential as _latchkey_v1_QueryCredential, QueryCredential__Output as _latchkey_v1_QueryCredential__Output } from '../../latchkey/v1/QueryCredential';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct';
import type { Long } from '@grpc/proto-loader';

export interface GetTokenResponse {
  'access_token'?: (string);
  'token_type'?: (string);
  'expires_at'?: (_google_protobuf_Timestamp | null);
  'scopes'?: (string)[];
  'header'?: (_latchkey_v1_HeaderCredential | null);
  'query'?: (_latchkey_v1_QueryCredential | null);
  'base_uri'?: (string);
  'metadata'?: (_google_protobuf_Struct | null);
  'version'?: (number | string | Long);
  'dpop_proof'?: (string);
  'placement'?: "header"|"query";
}

export interface GetTokenResponse__Output {
  'access_token': (string);
  'token_type': (string);
  'expires_at': (_google_protobuf_Timestamp__Output | null);
  'scopes': (string)[];
  'header'?: (_latchkey_v1_HeaderCredential__Output | null);
  'query'?: (_latchkey_v1_QueryCredential__Output | null);
  'base_uri': (string);
  'metadata': (_google_protobuf_Struct__Output | null);
  'version': (number);
  'dpop_proof': (string);
  'placement'?: "header"|"query";
}
