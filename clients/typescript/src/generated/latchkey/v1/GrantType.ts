// Original file: proto/latchkey/v1/integration.proto

export const GrantType = {
  GRANT_TYPE_UNSPECIFIED: 'GRANT_TYPE_UNSPECIFIED',
  GRANT_TYPE_AUTHORIZATION_CODE: 'GRANT_TYPE_AUTHORIZATION_CODE',
  GRANT_TYPE_CLIENT_CREDENTIALS: 'GRANT_TYPE_CLIENT_CREDENTIALS',
  GRANT_TYPE_PASSWORD: 'GRANT_TYPE_PASSWORD',
} as const;

export type GrantType =
  | 'GRANT_TYPE_UNSPECIFIED'
  | 0
  | 'GRANT_TYPE_AUTHORIZATION_CODE'
  | 1
  | 'GRANT_TYPE_CLIENT_CREDENTIALS'
  | 2
  | 'GRANT_TYPE_PASSWORD'
  | 3

export type GrantType__Output = typeof GrantType[keyof typeof GrantType]
