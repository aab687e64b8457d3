// Original file: proto/latchkey/v1/audit.proto


export interface CallbackCaptured {
  'values'?: ({[key: string]: string});
}

export interface CallbackCaptured__Output {
  'values': ({[key: string]: string});
}
