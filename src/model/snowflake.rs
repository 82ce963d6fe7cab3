use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Discord's epoch, 2015-01-01T00:00:00Z, in Unix milliseconds.
pub const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A Discord id: a string on the wire, a string or an integer when parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Snowflake(pub u64);

impl Snowflake {
    /// Unix milliseconds at which this id was made.
    pub fn timestamp_ms(self) -> u64 {
        (self.0 >> 22) + DISCORD_EPOCH_MS
    }

    /// The smallest id made at `unix_ms` (a pagination bound).
    pub fn from_timestamp_ms(unix_ms: u64) -> Snowflake {
        Snowflake(unix_ms.saturating_sub(DISCORD_EPOCH_MS) << 22)
    }

    pub fn parse(raw: &str) -> Option<Snowflake> {
        raw.parse().ok().map(Snowflake)
    }
}

impl std::fmt::Display for Snowflake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Snowflake {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Snowflake;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a snowflake (string or integer)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                Ok(Snowflake(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                u64::try_from(v)
                    .map(Snowflake)
                    .map_err(|_| E::custom("negative snowflake"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                Snowflake::parse(v)
                    .ok_or_else(|| E::custom(format!("Value \"{v}\" is not snowflake.")))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Makes ids that are unique per node (worker id) and strictly increasing within it, even when
/// the wall clock stalls or steps back.
#[derive(Debug)]
pub struct SnowflakeGenerator {
    worker: u64,
    last: Mutex<u64>,
}

impl SnowflakeGenerator {
    /// `worker` is the node id (0–31).
    pub fn new(worker: u8) -> Self {
        SnowflakeGenerator {
            worker: u64::from(worker & 0x1f),
            last: Mutex::new(0),
        }
    }

    pub fn next(&self) -> Snowflake {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(DISCORD_EPOCH_MS);
        let candidate = (now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22) | (self.worker << 17);
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Same millisecond (or a clock step back): bump the increment, which keeps ids
        // monotonic.
        let id = if candidate > *last {
            candidate
        } else {
            if *last & 0xfff == 0xfff {
                // The 12-bit increment is exhausted: borrow the next millisecond.
                (((*last >> 22) + 1) << 22) | (self.worker << 17)
            } else {
                *last + 1
            }
        };
        *last = id;
        Snowflake(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_example_decodes() {
        let id = Snowflake(175_928_847_299_117_063);
        assert_eq!(id.timestamp_ms(), 1_462_015_105_796);
        assert_eq!((id.0 & 0x3E_0000) >> 17, 1);
        assert_eq!(id.0 & 0xFFF, 7);
    }

    #[test]
    fn ids_are_strictly_increasing_and_carry_the_worker() {
        let gen = SnowflakeGenerator::new(5);
        let mut prev = Snowflake(0);
        for _ in 0..20_000 {
            let id = gen.next();
            assert!(id > prev, "{id} after {prev}");
            assert_eq!((id.0 >> 17) & 0x1f, 5);
            prev = id;
        }
    }

    #[test]
    fn wire_forms() {
        assert_eq!(serde_json::to_string(&Snowflake(42)).unwrap(), "\"42\"");
        assert_eq!(
            serde_json::from_str::<Snowflake>("42").unwrap(),
            Snowflake(42)
        );
        assert_eq!(
            serde_json::from_str::<Snowflake>("\"42\"").unwrap(),
            Snowflake(42)
        );
        assert!(serde_json::from_str::<Snowflake>("\"x\"").is_err());
    }
}
