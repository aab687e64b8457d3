//! Black-box tests of the whole service: the real `latchkey` binary on port 0, in both storage
//! modes, driven through generated gRPC clients and plain HTTP.

mod audit;
mod config;
mod helpers;
mod integrations;
mod server;
