// Original file: proto/latchkey/v1/audit.proto


export interface AuthorizationOpened {
}

export interface AuthorizationOpened__Output {
}
