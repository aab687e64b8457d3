// Original file: proto/latchkey/v1/connection.proto

export const ConnectionHealth = {
  CONNECTION_HEALTH_UNSPECIFIED: 'CONNECTION_HEALTH_UNSPECIFIED',
  CONNECTION_HEALTH_FAILING: 'CONNECTION_HEALTH_FAILING',
  CONNECTION_HEALTH_HEALTHY: 'CONNECTION_HEALTH_HEALTHY',
} as const;

export type ConnectionHealth =
  | 'CONNECTION_HEALTH_UNSPECIFIED'
  | 0
  | 'CONNECTION_HEALTH_FAILING'
  | 1
  | 'CONNECTION_HEALTH_HEALTHY'
  | 2

export type ConnectionHealth__Output = typeof ConnectionHealth[keyof typeof ConnectionHealth]
