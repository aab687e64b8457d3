// Original file: proto/latchkey/v1/audit.proto


export interface ConnectSessionOpened {
}

export interface ConnectSessionOpened__Output {
}
