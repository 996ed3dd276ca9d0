//! Simulated time (real time multiplied by the speed factor) and times as Kubernetes writes them.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

pub struct Clock {
    start: Instant,
    speed: f64,
    /// Unix time when the simulation started (daily load patterns follow it).
    epoch_unix: f64,
}

impl Clock {
    pub fn new(speed: f64) -> Self {
        let epoch_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Clock {
            start: Instant::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            epoch_unix,
        }
    }

    /// Simulated seconds since the start.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * self.speed
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Simulated Unix time (for the time of day).
    pub fn unix(&self) -> f64 {
        self.epoch_unix + self.now()
    }
}

/// Now, as Kubernetes writes times (RFC 3339, whole seconds, UTC).
pub fn timestamp() -> String {
    format_time(OffsetDateTime::now_utc())
}

pub fn format_time(t: OffsetDateTime) -> String {
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap_or_default()
}
