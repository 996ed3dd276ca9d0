//! Access: roles, actions and bindings (shared with the server's decision) and the Access page.

pub mod model;
mod page;

pub use page::AccessPage;
