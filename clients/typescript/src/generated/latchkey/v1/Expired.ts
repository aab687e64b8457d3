// Original file: proto/latchkey/v1/audit.proto


export interface Expired {
}

export interface Expired__Output {
}
