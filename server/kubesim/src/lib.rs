//! kubesim: an embedded Kubernetes + Cluster API management cluster that serves a real Kubernetes
//! HTTP API on loopback and simulates what Cluster API and a cloud would do.

pub mod admission;
pub mod api;
pub mod catalog;
pub mod clock;
pub mod defaults;
pub mod discovery;
pub mod events_v1;
pub mod faults;
pub mod fields;
pub mod index;
pub mod kubeconfig;
pub mod managed;
pub mod noise;
pub mod openapi;
pub mod patch;
pub mod proto_body;
pub mod quantity;
pub mod resources;
pub mod schemas;
pub mod selector;
pub mod shared;
pub mod sim;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;
pub mod validate;

pub use faults::{FaultRequest, FaultState};
pub use sim::workload::{CRASH_LOOP_LABEL, KUBELET_STOPPED_LABEL};
pub use sim::{Sim, SimError, SimOptions};
