//! How long simulated things take, in simulated seconds (divide by `--speed` for real time).

/// A new Cluster waits this long before provisioning starts.
pub const PENDING: f64 = 2.0;
/// Provisioning until the control plane answers.
pub const CONTROL_PLANE: f64 = 30.0;
/// Upgrading the control plane by one version.
pub const CONTROL_PLANE_UPGRADE: f64 = 40.0;
/// From Machine creation to its Node joining.
pub const NODE_JOIN: f64 = 20.0;
/// From joining to Ready.
pub const NODE_READY: f64 = 5.0;
/// From scheduling to Running.
pub const POD_START: f64 = 3.0;
/// How long a deleted pod's containers take to stop (at most its grace period).
pub const POD_STOP: f64 = 2.0;
/// A failed Machine is replaced after this long.
pub const FAILED_RETRY: f64 = 10.0;
/// After a quota error, the next scale-up attempt waits this long.
pub const QUOTA_RETRY: f64 = 15.0;
/// Pods pending this long make the autoscaler add a node.
pub const SCALE_UP_AFTER: f64 = 10.0;
/// A node idle this long is removed by the autoscaler.
pub const SCALE_DOWN_AFTER: f64 = 120.0;
/// While a Cluster is deleted, one Machine goes per step.
pub const DELETE_STEP: f64 = 2.0;
