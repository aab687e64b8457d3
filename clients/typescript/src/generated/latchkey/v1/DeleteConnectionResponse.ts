// Original file: proto/latchkey/v1/connection.proto


export interface DeleteConnectionResponse {
}

export interface DeleteConnectionResponse__Output {
}
