//! Erlang External Term Format (ETF) for the gateway's `encoding=etf`, converting to and from
//! `serde_json::Value` so the rest of the gateway keeps working on JSON values.
//!
//! # What the server sends ([`encode`])
//!
//! The term shapes follow Discord's reference implementation, discord/erlpack (`cpp/encoder.h`,
//! `py/erlpack/_packer.pyx`), which is also what Erlang's own `term_to_binary` produces:
//!
//! | JSON | ETF |
//! |---|---|
//! | `null` / `true` / `false` | atoms `nil` / `true` / `false` (`SMALL_ATOM_EXT`) |
//! | integer 0..=255 | `SMALL_INTEGER_EXT` |
//! | other integer in `i32` | `INTEGER_EXT` |
//! | any other integer (`u64`/`i64`) | `SMALL_BIG_EXT`, sign byte + minimal little-endian magnitude |
//! | float | `NEW_FLOAT_EXT` (IEEE 754 big-endian) |
//! | string | `BINARY_EXT` (UTF-8); snowflakes stay strings, as in our JSON |
//! | `[]` | `NIL_EXT`; other arrays `LIST_EXT` … `NIL_EXT` |
//! | object | `MAP_EXT` |
//!
//! Atoms are written as the Latin-1 `SMALL_ATOM_EXT` (tag 115), never the UTF-8 atom tags
//! 118/119: erlpack's JavaScript decoder (`js/decoder.h`, used by the desktop client and by
//! discord.js's erlpack option) knows only tags 100 and 115 and throws on the others. Every atom
//! we write is plain ASCII, where the two encodings agree.
//!
//! **Map keys.** Discord's gateway is Elixir and sends its field names as atoms: nostrum (an
//! Elixir client) reads `payload.op`, `payload.s`, `payload.d.heartbeat_interval` straight out of
//! `:erlang.binary_to_term/1`, which only works on atom keys, and Python erlpack decodes binary
//! keys to `bytes` (so `payload['op']` would fail) but atom keys to `Atom`, a `str` subclass.
//! Maps keyed by ids (interaction `resolved` data and the like) arrive as binaries (nostrum's
//! `safe_atom_map` parses binary keys that look like integers for that reason), and an Erlang
//! client must not be made to create an atom per id (atoms are never garbage collected). So a
//! key is sent as an atom when it looks like a field name — `[A-Za-z_][A-Za-z0-9_]*`, at most
//! 255 bytes — and as a binary otherwise (ids, locales such as `zh-TW`, anything non-ASCII).
//! erlpack's JS decoder, Python erlpack and JDA's `ExTermDecoder` turn either form into a
//! string key.
//!
//! **Event names.** The envelope's top-level `t` is sent as an atom (`READY`), as Discord does:
//! nostrum dispatches on `payload.t` with clauses such as `handle_event(:READY, …)`. Other
//! decoders turn the atom into the same string. Only the top level is affected; a `t` field
//! inside `d` stays a binary.
//!
//! # What clients send ([`decode`])
//!
//! Accepted: small/int/small-big/large-big integers, `NEW_FLOAT_EXT` and the old string
//! `FLOAT_EXT`, all four atom tags, binaries, `STRING_EXT` (a charlist: decoded as a list of
//! integers, like erlpack's JS decoder does), lists, tuples (as arrays — Python erlpack packs
//! tuples such as `shard=(0, 1)` as `SMALL_TUPLE_EXT`), maps. Rejected with an [`EtfError`] (the
//! gateway closes with 4002 on any of them): map keys that are atoms (Discord's documented ETF
//! rule) or not strings at all, invalid UTF-8, improper lists, compressed terms (clients may
//! not send compressed messages), pids/ports/refs/funs/bitstrings, non-finite floats, integers
//! too large for an `f64`, nesting deeper than [`MAX_DEPTH`], trailing bytes, truncated input.
//!
//! Numbers are normalised the way the same client's JSON would have been parsed: a float with
//! no fractional part becomes an integer (erlpack's JS encoder sends every number outside the
//! 32-bit range as a float, e.g. presence `since: Date.now()`, which JSON would have carried as
//! an integer), and integers beyond 64 bits become floats (as serde_json does with long integer
//! literals).
//!
//! Decoding never panics and never allocates more than a small multiple of the input length:
//! lengths are checked against the bytes that remain before anything is reserved.

use serde_json::{Map, Number, Value};

/// The version byte every ETF payload starts with.
pub const FORMAT_VERSION: u8 = 131;

/// Deepest nesting of lists, tuples and maps that [`decode`] accepts (serde_json's limit for JSON).
pub const MAX_DEPTH: usize = 128;

const NEW_FLOAT_EXT: u8 = 70;
const SMALL_INTEGER_EXT: u8 = 97;
const INTEGER_EXT: u8 = 98;
const FLOAT_EXT: u8 = 99;
const ATOM_EXT: u8 = 100;
const SMALL_TUPLE_EXT: u8 = 104;
const LARGE_TUPLE_EXT: u8 = 105;
const NIL_EXT: u8 = 106;
const STRING_EXT: u8 = 107;
const LIST_EXT: u8 = 108;
const BINARY_EXT: u8 = 109;
const SMALL_BIG_EXT: u8 = 110;
const LARGE_BIG_EXT: u8 = 111;
const SMALL_ATOM_EXT: u8 = 115;
const MAP_EXT: u8 = 116;
const ATOM_UTF8_EXT: u8 = 118;
const SMALL_ATOM_UTF8_EXT: u8 = 119;

/// Why a payload could not be decoded. The gateway answers every variant with close code 4002.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EtfError {
    #[error("payload does not start with ETF version byte 131 (found {0})")]
    BadVersion(u8),
    #[error("payload ends in the middle of a term")]
    UnexpectedEnd,
    #[error("{0} bytes left over after the term")]
    TrailingBytes(usize),
    #[error("unsupported term tag {0}")]
    UnsupportedTag(u8),
    #[error("map keys must be strings (binaries), not atoms")]
    AtomKey,
    #[error("map key is not a string (term tag {0})")]
    NonStringKey(u8),
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    #[error("list does not end with NIL_EXT (improper list)")]
    ImproperList,
    #[error("number cannot be represented: {0}")]
    BadNumber(&'static str),
    #[error("terms nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/// Encodes a JSON value the way Discord sends ETF (see the module docs for every mapping).
///
/// A top-level object is treated as a gateway envelope: its `t` string (the event name) is sent
/// as an atom. Panics only if a single string, array or object exceeds `u32::MAX` bytes/items,
/// which ETF cannot express.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(FORMAT_VERSION);
    match value {
        Value::Object(map) => {
            out.push(MAP_EXT);
            put_len(&mut out, map.len());
            for (key, item) in map {
                put_key(&mut out, key, Keys::Server);
                match item {
                    Value::String(name) if key == "t" && is_event_atom(name) => {
                        put_atom(&mut out, name)
                    }
                    _ => put_value(&mut out, item),
                }
            }
        }
        other => put_value(&mut out, other),
    }
    out
}

/// How map keys are written: as the server sends them (field names as atoms) or as clients
/// must send them (binaries).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    Server,
    Client,
}

/// Encodes a payload the way a client must send it: every map key a binary. Used by test
/// clients and tools; the server itself only decodes such payloads.
pub fn encode_as_client(value: &Value) -> Vec<u8> {
    let mut out = vec![FORMAT_VERSION];
    put_value_keyed(&mut out, value, Keys::Client);
    out
}

fn put_value(out: &mut Vec<u8>, value: &Value) {
    put_value_keyed(out, value, Keys::Server)
}

fn put_value_keyed(out: &mut Vec<u8>, value: &Value, keys: Keys) {
    match value {
        Value::Null => put_atom(out, "nil"),
        Value::Bool(true) => put_atom(out, "true"),
        Value::Bool(false) => put_atom(out, "false"),
        Value::Number(n) => put_number(out, n),
        Value::String(s) => put_binary(out, s.as_bytes()),
        Value::Array(items) if items.is_empty() => out.push(NIL_EXT),
        Value::Array(items) => {
            out.push(LIST_EXT);
            put_len(out, items.len());
            for item in items {
                put_value_keyed(out, item, keys);
            }
            out.push(NIL_EXT);
        }
        Value::Object(map) => {
            out.push(MAP_EXT);
            put_len(out, map.len());
            for (key, item) in map {
                put_key(out, key, keys);
                put_value_keyed(out, item, keys);
            }
        }
    }
}

fn put_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        put_integer(out, false, u);
    } else if let Some(i) = n.as_i64() {
        put_integer(out, i < 0, i.unsigned_abs());
    } else {
        out.push(NEW_FLOAT_EXT);
        out.extend_from_slice(&n.as_f64().unwrap_or_default().to_be_bytes());
    }
}

/// Smallest of SMALL_INTEGER_EXT / INTEGER_EXT / SMALL_BIG_EXT, as erlpack and Erlang choose.
fn put_integer(out: &mut Vec<u8>, negative: bool, magnitude: u64) {
    if !negative && magnitude <= u64::from(u8::MAX) {
        out.push(SMALL_INTEGER_EXT);
        out.push(magnitude as u8);
    } else if !negative && magnitude <= i32::MAX as u64 {
        out.push(INTEGER_EXT);
        out.extend_from_slice(&(magnitude as i32).to_be_bytes());
    } else if negative && magnitude <= 1 << 31 {
        out.push(INTEGER_EXT);
        out.extend_from_slice(&((-(magnitude as i64)) as i32).to_be_bytes());
    } else {
        let digits = magnitude.to_le_bytes();
        let used = 8 - (magnitude.leading_zeros() / 8) as usize;
        out.push(SMALL_BIG_EXT);
        out.push(used as u8);
        out.push(u8::from(negative));
        out.extend_from_slice(&digits[..used]);
    }
}

/// Only called with ASCII names of at most 255 bytes.
fn put_atom(out: &mut Vec<u8>, name: &str) {
    debug_assert!(name.is_ascii() && name.len() <= 255);
    out.push(SMALL_ATOM_EXT);
    out.push(name.len() as u8);
    out.extend_from_slice(name.as_bytes());
}

fn put_binary(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(BINARY_EXT);
    put_len(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn put_key(out: &mut Vec<u8>, key: &str, keys: Keys) {
    if keys == Keys::Server && is_field_name(key) {
        put_atom(out, key);
    } else {
        put_binary(out, key.as_bytes());
    }
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    let len = u32::try_from(len).expect("ETF cannot express a length above u32::MAX");
    out.extend_from_slice(&len.to_be_bytes());
}

/// `[A-Za-z_][A-Za-z0-9_]*`, 1..=255 bytes: sent as an atom key.
fn is_field_name(key: &str) -> bool {
    let bytes = key.as_bytes();
    match bytes.first() {
        Some(first) if bytes.len() <= 255 && (first.is_ascii_alphabetic() || *first == b'_') => {
            bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_')
        }
        _ => false,
    }
}

/// Event names go out as atoms, except names that would read back as `true`/`false`/`nil`.
fn is_event_atom(name: &str) -> bool {
    is_field_name(name) && !matches!(name, "true" | "false" | "nil")
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

/// Decodes a client payload. Map keys must be strings (binaries); an atom key is
/// [`EtfError::AtomKey`] (the gateway closes 4002). Atoms `true`/`false`/`nil` become
/// bools/null, other atoms strings. See the module docs for the full mapping.
pub fn decode(bytes: &[u8]) -> Result<Value, EtfError> {
    decode_with(bytes, false)
}

/// Decodes a payload as client libraries do, turning atom map keys into string keys: for reading
/// what [`encode`] (or Discord) sends, e.g. in tests with a Rust gateway client. The gateway
/// itself must use [`decode`].
pub fn decode_allowing_atom_keys(bytes: &[u8]) -> Result<Value, EtfError> {
    decode_with(bytes, true)
}

fn decode_with(bytes: &[u8], atom_keys: bool) -> Result<Value, EtfError> {
    let mut reader = Reader {
        bytes,
        pos: 0,
        atom_keys,
    };
    match reader.u8()? {
        FORMAT_VERSION => {}
        other => return Err(EtfError::BadVersion(other)),
    }
    let value = reader.term(0)?;
    match reader.remaining() {
        0 => Ok(value),
        left => Err(EtfError::TrailingBytes(left)),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    atom_keys: bool,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], EtfError> {
        if n > self.remaining() {
            return Err(EtfError::UnexpectedEnd);
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EtfError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, EtfError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<usize, EtfError> {
        Ok(u16::from_be_bytes(self.array()?) as usize)
    }

    fn u32(&mut self) -> Result<usize, EtfError> {
        Ok(u32::from_be_bytes(self.array()?) as usize)
    }

    fn term(&mut self, depth: usize) -> Result<Value, EtfError> {
        let tag = self.u8()?;
        match tag {
            SMALL_INTEGER_EXT => Ok(Value::from(self.u8()?)),
            INTEGER_EXT => Ok(Value::from(i32::from_be_bytes(self.array()?))),
            SMALL_BIG_EXT => {
                let n = self.u8()? as usize;
                self.big(n)
            }
            LARGE_BIG_EXT => {
                let n = self.u32()?;
                self.big(n)
            }
            NEW_FLOAT_EXT => float_value(f64::from_be_bytes(self.array()?)),
            FLOAT_EXT => self.old_float(),
            ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT => {
                let text = self.atom_text(tag)?;
                Ok(match text.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "nil" => Value::Null,
                    _ => Value::String(text),
                })
            }
            BINARY_EXT => {
                let n = self.u32()?;
                utf8(self.take(n)?).map(Value::String)
            }
            STRING_EXT => {
                let n = self.u16()?;
                Ok(Value::Array(
                    self.take(n)?.iter().map(|&b| Value::from(b)).collect(),
                ))
            }
            NIL_EXT => Ok(Value::Array(Vec::new())),
            LIST_EXT => {
                let n = self.u32()?;
                let items = self.elements(n, depth)?;
                match self.u8()? {
                    NIL_EXT => Ok(Value::Array(items)),
                    _ => Err(EtfError::ImproperList),
                }
            }
            SMALL_TUPLE_EXT => {
                let n = self.u8()? as usize;
                self.elements(n, depth).map(Value::Array)
            }
            LARGE_TUPLE_EXT => {
                let n = self.u32()?;
                self.elements(n, depth).map(Value::Array)
            }
            MAP_EXT => {
                let n = self.u32()?;
                self.map(n, depth)
            }
            other => Err(EtfError::UnsupportedTag(other)),
        }
    }

    fn elements(&mut self, n: usize, depth: usize) -> Result<Vec<Value>, EtfError> {
        let depth = nested(depth)?;
        // Every element takes at least one byte, so this never reserves more than the input.
        let mut items = Vec::with_capacity(n.min(self.remaining()));
        for _ in 0..n {
            items.push(self.term(depth)?);
        }
        Ok(items)
    }

    fn map(&mut self, n: usize, depth: usize) -> Result<Value, EtfError> {
        let depth = nested(depth)?;
        let mut map = Map::new();
        for _ in 0..n {
            let key = self.key()?;
            let value = self.term(depth)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }

    fn key(&mut self) -> Result<String, EtfError> {
        let tag = self.u8()?;
        match tag {
            BINARY_EXT => {
                let n = self.u32()?;
                utf8(self.take(n)?)
            }
            // A charlist key ("op" written as an Erlang string): its bytes are the key.
            STRING_EXT => {
                let n = self.u16()?;
                utf8(self.take(n)?)
            }
            ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT if self.atom_keys => {
                self.atom_text(tag)
            }
            ATOM_EXT | SMALL_ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_UTF8_EXT => {
                Err(EtfError::AtomKey)
            }
            other => Err(EtfError::NonStringKey(other)),
        }
    }

    fn big(&mut self, n: usize) -> Result<Value, EtfError> {
        let negative = self.u8()? != 0;
        let digits = self.take(n)?;
        // Little-endian: drop zero high-order digits (allowed, if not canonical).
        let used = digits.iter().rposition(|&d| d != 0).map_or(0, |i| i + 1);
        let digits = &digits[..used];
        if digits.len() <= 8 {
            let magnitude = digits
                .iter()
                .rev()
                .fold(0u64, |acc, &d| (acc << 8) | u64::from(d));
            return Ok(match (negative, i64::try_from(magnitude)) {
                (false, _) => Value::from(magnitude),
                (true, Ok(m)) => Value::from(-m),
                (true, Err(_)) if magnitude == 1 << 63 => Value::from(i64::MIN),
                (true, Err(_)) => return float_value(-(magnitude as f64)),
            });
        }
        let magnitude = digits
            .iter()
            .rev()
            .fold(0f64, |acc, &d| acc * 256.0 + f64::from(d));
        if !magnitude.is_finite() {
            return Err(EtfError::BadNumber("integer too large"));
        }
        float_value(if negative { -magnitude } else { magnitude })
    }

    /// FLOAT_EXT: 31 bytes of NUL-padded `printf("%.20e")` text.
    fn old_float(&mut self) -> Result<Value, EtfError> {
        let raw = self.take(31)?;
        let text = raw.split(|&b| b == 0).next().unwrap_or_default();
        let parsed = std::str::from_utf8(text)
            .ok()
            .and_then(|t| t.trim().parse::<f64>().ok())
            .ok_or(EtfError::BadNumber("malformed FLOAT_EXT"))?;
        float_value(parsed)
    }

    /// The text of an atom whose tag has been read. Tags 100/115 are Latin-1, 118/119 UTF-8.
    fn atom_text(&mut self, tag: u8) -> Result<String, EtfError> {
        let n = match tag {
            ATOM_EXT | ATOM_UTF8_EXT => self.u16()?,
            _ => self.u8()? as usize,
        };
        let bytes = self.take(n)?;
        match tag {
            // Latin-1: every byte is the code point of the same value.
            ATOM_EXT | SMALL_ATOM_EXT => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            _ => utf8(bytes),
        }
    }
}

fn nested(depth: usize) -> Result<usize, EtfError> {
    if depth >= MAX_DEPTH {
        Err(EtfError::TooDeep)
    } else {
        Ok(depth + 1)
    }
}

fn utf8(bytes: &[u8]) -> Result<String, EtfError> {
    std::str::from_utf8(bytes)
        .map(str::to_owned)
        .map_err(|_| EtfError::InvalidUtf8)
}

/// A float as the same client's JSON would have been parsed: integral values in the 64-bit
/// range become integers, others stay floats; NaN and infinities are refused.
fn float_value(f: f64) -> Result<Value, EtfError> {
    if !f.is_finite() {
        return Err(EtfError::BadNumber("float is not finite"));
    }
    // -2^63 <= f < 2^64: the casts below are exact for integral values in this range.
    if f.fract() == 0.0 && (-9_223_372_036_854_775_808.0..18_446_744_073_709_551_616.0).contains(&f)
    {
        return Ok(if f < 0.0 {
            Value::from(f as i64)
        } else {
            Value::from(f as u64)
        });
    }
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or(EtfError::BadNumber("float is not finite"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Byte-builder helpers for hand-made payloads, straight from the ETF spec.
    fn bin(s: &str) -> Vec<u8> {
        let mut out = vec![BINARY_EXT];
        out.extend_from_slice(&(s.len() as u32).to_be_bytes());
        out.extend_from_slice(s.as_bytes());
        out
    }
    fn small_atom(s: &str) -> Vec<u8> {
        let mut out = vec![SMALL_ATOM_EXT, s.len() as u8];
        out.extend_from_slice(s.as_bytes());
        out
    }
    fn map_header(n: u32) -> Vec<u8> {
        let mut out = vec![MAP_EXT];
        out.extend_from_slice(&n.to_be_bytes());
        out
    }
    fn payload(parts: &[Vec<u8>]) -> Vec<u8> {
        let mut out = vec![FORMAT_VERSION];
        for part in parts {
            out.extend_from_slice(part);
        }
        out
    }

    fn round_trip(value: &Value) -> Value {
        decode_allowing_atom_keys(&encode(value)).expect("encoded payload decodes")
    }

    #[test]
    fn hello_bytes_match_the_spec() {
        // Keys written in sorted order so the test holds with or without serde_json's
        // preserve_order feature.
        let hello = json!({"d": {"heartbeat_interval": 45000}, "op": 10, "s": null, "t": null});
        let expected = payload(&[
            map_header(4),
            small_atom("d"),
            map_header(1),
            small_atom("heartbeat_interval"),
            vec![INTEGER_EXT, 0, 0, 0xaf, 0xc8],
            small_atom("op"),
            vec![SMALL_INTEGER_EXT, 10],
            small_atom("s"),
            small_atom("nil"),
            small_atom("t"),
            small_atom("nil"),
        ]);
        assert_eq!(encode(&hello), expected);
        assert_eq!(round_trip(&hello), hello);
    }

    #[test]
    fn dispatch_event_name_is_an_atom_only_at_top_level() {
        let dispatch = json!({"d": {"t": "inner"}, "op": 0, "s": 7, "t": "MESSAGE_CREATE"});
        let bytes = encode(&dispatch);
        let atom = small_atom("MESSAGE_CREATE");
        assert!(bytes.windows(atom.len()).any(|w| w == atom.as_slice()));
        let inner = bin("inner");
        assert!(bytes.windows(inner.len()).any(|w| w == inner.as_slice()));
        assert_eq!(round_trip(&dispatch), dispatch);
        // A name that would read back as a bool stays a binary.
        let odd = json!({"t": "true"});
        assert_eq!(
            encode(&odd),
            payload(&[map_header(1), small_atom("t"), bin("true")])
        );
        assert_eq!(round_trip(&odd), odd);
    }

    #[test]
    fn field_names_are_atoms_ids_and_other_keys_are_binaries() {
        let value = json!({"1234567890123456789": 1, "name": 2, "zh-TW": 3, "ключ": 4, "": 5});
        let bytes = encode(&value);
        for key in ["1234567890123456789", "zh-TW", "ключ", ""] {
            let b = bin(key);
            assert!(
                bytes.windows(b.len()).any(|w| w == b.as_slice()),
                "{key} as binary"
            );
        }
        let name = small_atom("name");
        assert!(bytes.windows(name.len()).any(|w| w == name.as_slice()));
        assert_eq!(round_trip(&value), value);
        assert!(is_field_name("heartbeat_interval") && is_field_name("_x1"));
        assert!(
            !is_field_name("1abc") && !is_field_name("a-b") && !is_field_name(&"a".repeat(256))
        );
    }

    #[test]
    fn ready_like_payload_round_trips() {
        let ready = json!({
            "op": 0, "s": 1, "t": "READY",
            "d": {
                "v": 10,
                "user": {"id": "1234567890123456789", "username": "bot", "discriminator": "0",
                         "bot": true, "avatar": null, "flags": 0, "verified": false},
                "guilds": [{"id": "222222222222222222", "unavailable": true},
                           {"id": "333333333333333333", "unavailable": true}],
                "session_id": "f2b4c0ffee",
                "resume_gateway_url": "ws://127.0.0.1:8080",
                "shard": [0, 1],
                "private_channels": [],
                "presences": {},
                "application": {"id": "1234567890123456789", "flags": 8_388_608},
                "_trace": ["[\"accord\",{\"micros\":12}]"]
            }
        });
        assert_eq!(round_trip(&ready), ready);
    }

    #[test]
    fn scalars_round_trip() {
        for value in [
            json!(null),
            json!(true),
            json!(false),
            json!([]),
            json!({}),
            json!(""),
            json!("héllo wörld — 世界 🎉"),
            json!(["a", 1, -1, 1.5, null, [[]], {"k": []}]),
            json!(1.5),
            json!(-0.25),
            json!(1e300),
            json!(5e-324),
            json!(0),
            json!(255),
            json!(256),
            json!(-1),
            json!(-256),
            json!(i32::MAX),
            json!(i32::MIN),
            json!(i32::MAX as i64 + 1),
            json!(i32::MIN as i64 - 1),
            json!(4_294_967_297u64),
            json!(1_234_567_890_123_456_789u64),
            json!(u64::MAX),
            json!(i64::MAX),
            json!(i64::MIN),
        ] {
            assert_eq!(round_trip(&value), value, "{value}");
        }
    }

    #[test]
    fn integer_widths_follow_erlpack() {
        let enc = |v: Value| encode(&v)[1..].to_vec();
        assert_eq!(enc(json!(0)), [SMALL_INTEGER_EXT, 0]);
        assert_eq!(enc(json!(255)), [SMALL_INTEGER_EXT, 255]);
        assert_eq!(enc(json!(256)), [INTEGER_EXT, 0, 0, 1, 0]);
        assert_eq!(enc(json!(-1)), [INTEGER_EXT, 255, 255, 255, 255]);
        assert_eq!(enc(json!(i32::MAX)), [INTEGER_EXT, 0x7f, 255, 255, 255]);
        assert_eq!(enc(json!(i32::MIN)), [INTEGER_EXT, 0x80, 0, 0, 0]);
        assert_eq!(enc(json!(1u64 << 31)), [SMALL_BIG_EXT, 4, 0, 0, 0, 0, 0x80]);
        assert_eq!(
            enc(json!(-(1i64 << 31) - 1)),
            [SMALL_BIG_EXT, 4, 1, 1, 0, 0, 0x80]
        );
        assert_eq!(enc(json!(1u64 << 32)), [SMALL_BIG_EXT, 5, 0, 0, 0, 0, 0, 1]);
        assert_eq!(
            enc(json!(u64::MAX)),
            [SMALL_BIG_EXT, 8, 0, 255, 255, 255, 255, 255, 255, 255, 255]
        );
        assert_eq!(
            enc(json!(i64::MIN)),
            [SMALL_BIG_EXT, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80]
        );
        assert_eq!(
            enc(json!(1.5)),
            [NEW_FLOAT_EXT, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(enc(json!(null)), small_atom("nil"));
        assert_eq!(enc(json!(true)), small_atom("true"));
        assert_eq!(enc(json!(false)), small_atom("false"));
        assert_eq!(enc(json!([])), [NIL_EXT]);
        assert_eq!(
            enc(json!([1])),
            [LIST_EXT, 0, 0, 0, 1, SMALL_INTEGER_EXT, 1, NIL_EXT]
        );
        assert_eq!(enc(json!({})), map_header(0));
        assert_eq!(enc(json!("é")), [BINARY_EXT, 0, 0, 0, 2, 0xc3, 0xa9]);
        // Snowflakes are strings in our JSON and stay binaries.
        assert_eq!(
            enc(json!("1234567890123456789")),
            bin("1234567890123456789")
        );
    }

    /// IDENTIFY as erlpack (JS or Python) packs it: binary keys, binary strings, INTEGER_EXT.
    #[test]
    fn decodes_identify_as_an_erlpack_client_sends_it() {
        let bytes = payload(&[
            map_header(2),
            bin("op"),
            vec![SMALL_INTEGER_EXT, 2],
            bin("d"),
            map_header(3),
            bin("token"),
            bin("x"),
            bin("intents"),
            vec![INTEGER_EXT, 0, 0, 2, 1],
            bin("properties"),
            map_header(3),
            bin("os"),
            bin("linux"),
            bin("browser"),
            bin("erlpack"),
            bin("device"),
            bin("erlpack"),
        ]);
        assert_eq!(
            decode(&bytes).unwrap(),
            json!({"op": 2, "d": {"token": "x", "intents": 513,
                   "properties": {"os": "linux", "browser": "erlpack", "device": "erlpack"}}})
        );
    }

    /// Bytes printed by Discord's Python erlpack 1.0.1:
    /// `erlpack.pack({'op': 2, 'd': {'token': 'x', 'intents': 513}})`.
    #[test]
    fn decodes_python_erlpack_output() {
        let bytes =
            b"\x83t\x00\x00\x00\x02m\x00\x00\x00\x02opa\x02m\x00\x00\x00\x01dt\x00\x00\x00\x02\
m\x00\x00\x00\x05tokenm\x00\x00\x00\x01xm\x00\x00\x00\x07intentsb\x00\x00\x02\x01";
        assert_eq!(
            decode(bytes).unwrap(),
            json!({"op": 2, "d": {"token": "x", "intents": 513}})
        );
    }

    #[test]
    fn decodes_other_client_encodings() {
        // Atoms of every tag: true/false/nil become JSON literals, others strings.
        let atoms = payload(&[
            list_header(6),
            small_atom("true"),
            vec![SMALL_ATOM_UTF8_EXT, 5, b'f', b'a', b'l', b's', b'e'],
            vec![ATOM_EXT, 0, 3, b'n', b'i', b'l'],
            vec![ATOM_UTF8_EXT, 0, 6, b'o', b'n', b'l', b'i', b'n', b'e'],
            vec![SMALL_ATOM_UTF8_EXT, 2, 0xc3, 0xa9],
            vec![SMALL_ATOM_EXT, 1, 0xe9], // Latin-1 é
            vec![NIL_EXT],
        ]);
        assert_eq!(
            decode(&atoms).unwrap(),
            json!([true, false, null, "online", "é", "é"])
        );

        // Python tuples (shard=(0, 1)) arrive as tuples; charlists as lists of integers.
        let tuple = payload(&[vec![
            SMALL_TUPLE_EXT,
            2,
            SMALL_INTEGER_EXT,
            0,
            SMALL_INTEGER_EXT,
            1,
        ]]);
        assert_eq!(decode(&tuple).unwrap(), json!([0, 1]));
        let large_tuple = payload(&[vec![LARGE_TUPLE_EXT, 0, 0, 0, 1, SMALL_INTEGER_EXT, 3]]);
        assert_eq!(decode(&large_tuple).unwrap(), json!([3]));
        let charlist = payload(&[vec![STRING_EXT, 0, 2, b'o', b'k']]);
        assert_eq!(decode(&charlist).unwrap(), json!([111, 107]));
        // ...and a charlist used as a key is that key.
        let charlist_key = payload(&[
            map_header(1),
            vec![STRING_EXT, 0, 2, b'o', b'p'],
            vec![SMALL_INTEGER_EXT, 1],
        ]);
        assert_eq!(decode(&charlist_key).unwrap(), json!({"op": 1}));

        // erlpack-js sends Date.now() as a float; JSON would have carried an integer.
        let mut since = vec![FORMAT_VERSION, NEW_FLOAT_EXT];
        since.extend_from_slice(&1_700_000_000_123f64.to_be_bytes());
        assert_eq!(decode(&since).unwrap(), json!(1_700_000_000_123u64));
        let mut neg = vec![FORMAT_VERSION, NEW_FLOAT_EXT];
        neg.extend_from_slice(&(-3.0f64).to_be_bytes());
        assert_eq!(decode(&neg).unwrap(), json!(-3));
        let mut frac = vec![FORMAT_VERSION, NEW_FLOAT_EXT];
        frac.extend_from_slice(&2.5f64.to_be_bytes());
        assert_eq!(decode(&frac).unwrap(), json!(2.5));

        // Old FLOAT_EXT: 31 bytes of "%.20e" text.
        let mut old = vec![FORMAT_VERSION, FLOAT_EXT];
        let mut text = format!("{:.20e}", 1.25f64).into_bytes();
        text.resize(31, 0);
        old.extend_from_slice(&text);
        assert_eq!(decode(&old).unwrap(), json!(1.25));

        // Bignums: snowflake-sized, negative, non-canonical zero high digits, > 64 bits.
        let snowflake = payload(&[vec![
            SMALL_BIG_EXT,
            8,
            0,
            0x15,
            0x81,
            0xe9,
            0x7d,
            0x9a,
            0x0c,
            0x22,
            0x11,
        ]]);
        assert_eq!(decode(&snowflake).unwrap(), json!(0x1122_0c9a_7de9_8115u64));
        let negative = payload(&[vec![SMALL_BIG_EXT, 5, 1, 0, 0, 0, 0, 1]]);
        assert_eq!(decode(&negative).unwrap(), json!(-(1i64 << 32)));
        let padded = payload(&[vec![SMALL_BIG_EXT, 10, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0]]);
        assert_eq!(decode(&padded).unwrap(), json!(7));
        let min = payload(&[vec![SMALL_BIG_EXT, 8, 1, 0, 0, 0, 0, 0, 0, 0, 0x80]]);
        assert_eq!(decode(&min).unwrap(), json!(i64::MIN));
        let huge = payload(&[vec![
            LARGE_BIG_EXT,
            0,
            0,
            0,
            9,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            1,
        ]]);
        assert_eq!(decode(&huge).unwrap(), json!(18_446_744_073_709_551_616f64));
        let zero = payload(&[vec![SMALL_BIG_EXT, 0, 0]]);
        assert_eq!(decode(&zero).unwrap(), json!(0));
    }

    fn list_header(n: u32) -> Vec<u8> {
        let mut out = vec![LIST_EXT];
        out.extend_from_slice(&n.to_be_bytes());
        out
    }

    #[test]
    fn atom_keys_are_rejected_at_any_depth() {
        for key in [
            small_atom("op"),
            vec![ATOM_EXT, 0, 2, b'o', b'p'],
            vec![SMALL_ATOM_UTF8_EXT, 2, b'o', b'p'],
            vec![ATOM_UTF8_EXT, 0, 2, b'o', b'p'],
        ] {
            let top = payload(&[map_header(1), key.clone(), vec![SMALL_INTEGER_EXT, 1]]);
            assert_eq!(decode(&top), Err(EtfError::AtomKey));
            assert_eq!(decode_allowing_atom_keys(&top).unwrap(), json!({"op": 1}));
            let nested = payload(&[map_header(1), bin("d"), map_header(1), key, vec![NIL_EXT]]);
            assert_eq!(decode(&nested), Err(EtfError::AtomKey));
        }
        // What our own encoder sends is therefore not a valid client payload.
        assert_eq!(decode(&encode(&json!({"op": 1}))), Err(EtfError::AtomKey));
        // Non-string keys are refused too.
        let int_key = payload(&[map_header(1), vec![SMALL_INTEGER_EXT, 1], vec![NIL_EXT]]);
        assert_eq!(
            decode(&int_key),
            Err(EtfError::NonStringKey(SMALL_INTEGER_EXT))
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert_eq!(decode(&[]), Err(EtfError::UnexpectedEnd));
        assert_eq!(decode(&[FORMAT_VERSION]), Err(EtfError::UnexpectedEnd));
        assert_eq!(decode(&[130, NIL_EXT]), Err(EtfError::BadVersion(130)));
        assert_eq!(decode(b"{\"op\":1}"), Err(EtfError::BadVersion(b'{')));
        assert_eq!(
            decode(&[FORMAT_VERSION, NIL_EXT, NIL_EXT]),
            Err(EtfError::TrailingBytes(1))
        );
        // Improper list [1 | 2].
        let improper = [
            FORMAT_VERSION,
            LIST_EXT,
            0,
            0,
            0,
            1,
            SMALL_INTEGER_EXT,
            1,
            SMALL_INTEGER_EXT,
            2,
        ];
        assert_eq!(decode(&improper), Err(EtfError::ImproperList));
        // Compressed term, pid, bitstring, export: not JSON, not allowed from clients.
        for tag in [80u8, 88, 77, 113, 103, 0, 255] {
            assert_eq!(
                decode(&[FORMAT_VERSION, tag, 0, 0, 0, 0]),
                Err(EtfError::UnsupportedTag(tag))
            );
        }
        // Invalid UTF-8 in a binary, in a key, in a UTF-8 atom.
        assert_eq!(
            decode(&[FORMAT_VERSION, BINARY_EXT, 0, 0, 0, 1, 0xff]),
            Err(EtfError::InvalidUtf8)
        );
        let bad_key = [
            FORMAT_VERSION,
            MAP_EXT,
            0,
            0,
            0,
            1,
            BINARY_EXT,
            0,
            0,
            0,
            1,
            0xc3,
            NIL_EXT,
        ];
        assert_eq!(decode(&bad_key), Err(EtfError::InvalidUtf8));
        assert_eq!(
            decode(&[FORMAT_VERSION, SMALL_ATOM_UTF8_EXT, 1, 0x80]),
            Err(EtfError::InvalidUtf8)
        );
        // Non-finite floats and unparsable FLOAT_EXT.
        for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut bytes = vec![FORMAT_VERSION, NEW_FLOAT_EXT];
            bytes.extend_from_slice(&f.to_be_bytes());
            assert!(matches!(decode(&bytes), Err(EtfError::BadNumber(_))));
        }
        let mut junk = vec![FORMAT_VERSION, FLOAT_EXT];
        junk.extend_from_slice(&[b'x'; 31]);
        assert!(matches!(decode(&junk), Err(EtfError::BadNumber(_))));
        // A bignum beyond f64's range.
        let mut big = vec![FORMAT_VERSION, LARGE_BIG_EXT, 0, 0, 1, 0, 0];
        big.extend_from_slice(&[0xff; 256]);
        assert_eq!(decode(&big), Err(EtfError::BadNumber("integer too large")));
    }

    #[test]
    fn every_truncation_of_a_valid_payload_is_an_error() {
        let full = encode(&json!({
            "op": 0, "t": "READY", "s": 1,
            "d": {"n": [1, 300, -5, 1u64 << 40, 2.5, "snowflake", null, true, {}], "e": []}
        }));
        assert!(decode_allowing_atom_keys(&full).is_ok());
        for end in 0..full.len() {
            assert!(
                decode_allowing_atom_keys(&full[..end]).is_err(),
                "prefix of {end} bytes"
            );
        }
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        for tag in [
            LIST_EXT,
            LARGE_TUPLE_EXT,
            MAP_EXT,
            BINARY_EXT,
            LARGE_BIG_EXT,
        ] {
            assert_eq!(
                decode(&[FORMAT_VERSION, tag, 0xff, 0xff, 0xff, 0xff]),
                Err(EtfError::UnexpectedEnd)
            );
        }
        let mut many = vec![FORMAT_VERSION, LIST_EXT, 0xff, 0xff, 0xff, 0xff];
        many.extend(std::iter::repeat_n(NIL_EXT, 10_000));
        assert_eq!(decode(&many), Err(EtfError::UnexpectedEnd));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        let nest = |levels: usize| {
            let mut bytes = vec![FORMAT_VERSION];
            for _ in 0..levels {
                bytes.extend_from_slice(&[SMALL_TUPLE_EXT, 1]);
            }
            bytes.push(NIL_EXT);
            bytes
        };
        assert!(decode(&nest(MAX_DEPTH)).is_ok());
        assert_eq!(decode(&nest(MAX_DEPTH + 1)), Err(EtfError::TooDeep));
        assert_eq!(decode(&nest(1_000_000)), Err(EtfError::TooDeep));
        let mut maps = vec![FORMAT_VERSION];
        for _ in 0..100_000 {
            maps.extend_from_slice(&map_header(1));
            maps.extend_from_slice(&bin("d"));
        }
        assert_eq!(decode(&maps), Err(EtfError::TooDeep));
    }

    #[test]
    fn random_bytes_never_panic() {
        // A fixed-seed xorshift so the test is deterministic without extra dependencies.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let seed = encode(
            &json!({"op": 2, "d": {"token": "x", "intents": 513, "shard": [0, 1],
                                  "presence": {"since": 1u64 << 41, "afk": false, "activities": []}}}),
        );
        for i in 0..20_000 {
            let bytes: Vec<u8> = if i % 2 == 0 {
                let len = (next() % 64) as usize;
                let mut b: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if i % 4 == 0 && !b.is_empty() {
                    b[0] = FORMAT_VERSION;
                }
                b
            } else {
                let mut b = seed.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % b.len();
                    b[at] = next() as u8;
                }
                b
            };
            let _ = decode(&bytes);
            let _ = decode_allowing_atom_keys(&bytes);
        }
    }

    fn json_strategy() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            any::<u8>().prop_map(Value::from),
            // Floats with a fractional part (integral floats decode as integers by design).
            (-1e15f64..1e15)
                .prop_filter("fractional", |f| f.fract() != 0.0)
                .prop_map(Value::from),
            "\\PC{0,16}".prop_map(Value::from),
            "[0-9]{17,20}".prop_map(Value::from),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec(("(\\PC{0,10}|[a-z_]{1,12}|[0-9]{1,19})", inner), 0..8)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn prop_arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode(&bytes);
            let mut versioned = bytes.clone();
            versioned.insert(0, FORMAT_VERSION);
            let _ = decode(&versioned);
            let _ = decode_allowing_atom_keys(&versioned);
        }

        #[test]
        fn prop_json_round_trips(value in json_strategy()) {
            prop_assert_eq!(round_trip(&value), value);
        }

        #[test]
        fn prop_envelope_round_trips(op in 0u8..12, s in any::<Option<u32>>(),
                                     t in "[A-Z_]{1,24}", d in json_strategy()) {
            let envelope = json!({"op": op, "s": s, "t": t, "d": d});
            prop_assert_eq!(round_trip(&envelope), envelope);
        }

        #[test]
        fn prop_client_payloads_with_binary_keys_decode(value in json_strategy()) {
            // Binary keys only, as erlpack clients send: `decode` must accept it.
            let bytes = encode_as_client(&value);
            prop_assert_eq!(decode(&bytes).unwrap(), value);
        }
    }
}
