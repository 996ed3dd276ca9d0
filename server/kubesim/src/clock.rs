//! Simulated time (real time multiplied by the speed factor) and times as Kubernetes writes them.

use std::sync::RwLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

pub struct Clock {
    pace: RwLock<Pace>,
    /// Unix time when the simulation started (daily load patterns follow it).
    epoch_unix: f64,
}

/// Simulated time `at` was reached at real `anchor`; from there it runs `speed` times real time.
#[derive(Clone, Copy)]
struct Pace {
    anchor: Instant,
    at: f64,
    speed: f64,
}

fn valid(speed: f64) -> f64 {
    if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    }
}

impl Clock {
    pub fn new(speed: f64) -> Self {
        let epoch_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Clock {
            pace: RwLock::new(Pace {
                anchor: Instant::now(),
                at: 0.0,
                speed: valid(speed),
            }),
            epoch_unix,
        }
    }

    fn pace(&self) -> Pace {
        *self.pace.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Simulated seconds since the start.
    pub fn now(&self) -> f64 {
        let p = self.pace();
        p.at + p.anchor.elapsed().as_secs_f64() * p.speed
    }

    pub fn speed(&self) -> f64 {
        self.pace().speed
    }

    /// Runs on at another speed from now (simulated time stays continuous): a fleet can be built
    /// fast and then kept at real time.
    pub fn set_speed(&self, speed: f64) {
        let mut pace = self.pace.write().unwrap_or_else(|e| e.into_inner());
        let now = pace.at + pace.anchor.elapsed().as_secs_f64() * pace.speed;
        *pace = Pace {
            anchor: Instant::now(),
            at: now,
            speed: valid(speed),
        };
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
