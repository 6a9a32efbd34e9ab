//! Helpers shared by the end-to-end tests.
#![allow(dead_code)] // each test binary uses its own subset

pub mod etcd;
pub mod follow;
pub mod lab;
pub mod models;
pub mod pictures;
pub mod sim;
pub mod tmux;
