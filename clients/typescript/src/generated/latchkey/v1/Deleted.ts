// Original file: proto/latchkey/v1/audit.proto


export interface Deleted {
}

export interface Deleted__Output {
}
