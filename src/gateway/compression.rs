//! Transport compression for gateway connections (`compress=zlib-stream` /
//! `compress=zstd-stream` in the WebSocket URL's query).
//!
//! One compression stream lives as long as the connection. Every gateway payload (a whole JSON
//! or ETF message) becomes exactly one WebSocket BINARY message:
//!
//! - `zlib-stream`: one zlib (RFC 1950, with its 2-byte header in the first message) deflate
//!   stream; every message ends with a sync flush, so it ends with `00 00 ff ff` and a client
//!   holding one inflate context can inflate it as soon as it arrives. The stream is never
//!   finished (no adler32 trailer).
//! - `zstd-stream`: one zstd frame for the whole connection (the first message starts with the
//!   frame header); each message is flushed (`ZSTD_e_flush`), so a client feeding it to its one
//!   `ZSTD_decompressStream` context gets the whole payload out without waiting for more input.
//!   The frame is never ended.
//!
//! # Memory per connection, and the settings chosen
//!
//! A node holds ~10 000 connections, and a compressor keeps its whole state for the life of its
//! connection, so the state's size is what these settings are chosen for. Measured heap per
//! *idle* compressed connection (after READY, GUILD_CREATEs of 8/30/100 KB and 50 dispatches):
//! glibc `mallinfo2` in-use bytes over 300 live compressors, divided by 300 (the zstd numbers
//! agree with `ZSTD_sizeof_CCtx` to 0.1 KiB). Ratio = compressed / raw bytes over a startup burst
//! (READY + the three GUILD_CREATEs, 151 KB) and over 2 000 steady-state dispatches of a busy
//! guild (MESSAGE_CREATE / TYPING_START / PRESENCE_UPDATE / heartbeat ACK, 777 B on average),
//! each message flushed. Speed: single-thread CPU time over both, best of three, on a shared
//! 2-core machine (indicative only). The rows come from a throwaway harness outside this
//! repository (measured 2026-11-28); `tests::memory_per_connection_stays_small` keeps the chosen
//! settings within their budget using each library's exact size accounting (`heap_bytes`).
//!
//! | implementation, level, window                         | heap/conn | startup | steady | MB/s |
//! |-------------------------------------------------------|----------:|--------:|-------:|-----:|
//! | flate2 + zlib-rs, L1, 32 KiB window                    |   371 KiB |   16.6% |  20.3% |  527 |
//! | flate2 + zlib-rs, L1, 4 KiB                            |   259 KiB |   21.3% |  29.1% |  424 |
//! | flate2 + zlib-rs, L1, 1 KiB                            |   247 KiB |   27.5% |  64.6% |  202 |
//! | flate2 + zlib-rs, L6, 32 KiB                           |   371 KiB |   11.3% |  16.2% |   92 |
//! | miniz_oxide (flate2's default; window fixed), L1       |   312 KiB |   15.5% |  23.2% |   62 |
//! | zlib, L1, 32 KiB, memLevel 8 (= flate2 + `zlib`)       |   262 KiB |   13.6% |  18.9% |   95 |
//! | zlib, L1, 4 KiB, memLevel 8 (= flate2 + `zlib`)        |   150 KiB |   16.0% |  25.2% |   63 |
//! | zlib, L1, 32 KiB, memLevel 4                           |   142 KiB |   13.7% |  19.4% |   97 |
//! | zlib, L1, 16 KiB, memLevel 4                           |    78 KiB |   14.4% |  21.2% |   86 |
//! | **zlib, L1, 8 KiB, memLevel 4 (chosen)**               |  **46 KiB** | 15.2% |  23.1% |   78 |
//! | zlib, L1, 8 KiB, memLevel 5                            |    54 KiB |   15.1% |  22.9% |   81 |
//! | zlib, L6, 8 KiB, memLevel 5                            |    54 KiB |   13.4% |  19.5% |   60 |
//! | zlib, L1, 4 KiB, memLevel 4                            |    30 KiB |   16.0% |  25.3% |   71 |
//! | zlib, L1, 2 KiB, memLevel 4                            |    22 KiB |   17.0% |  29.4% |   63 |
//! | zstd L3 (library default: 2 MiB window)                |  3578 KiB |   10.3% |  12.7% |  287 |
//! | zstd L1, 32 KiB window                                 |   305 KiB |   12.9% |  16.9% |  297 |
//! | zstd L1, 32 KiB, hashLog 12                            |   257 KiB |   12.9% |  17.2% |  282 |
//! | zstd L1, 16 KiB, hashLog 12                            |   149 KiB |   13.9% |  18.6% |  266 |
//! | zstd L1, 8 KiB (default hashLog 13)                    |   143 KiB |   15.5% |  20.6% |  255 |
//! | **zstd L1, 8 KiB, hashLog 11 (chosen)**                |  **87 KiB** | 15.5% |  20.8% |  235 |
//! | zstd L3, 8 KiB, hashLog 12                             |   111 KiB |   15.6% |  20.5% |  193 |
//! | zstd L1, 4 KiB, hashLog 11                             |    60 KiB |   18.4% |  22.9% |  225 |
//! | zstd L1, 2 KiB, hashLog 10                             |    43 KiB |   22.2% |  29.3% |  218 |
//!
//! Why these:
//!
//! - **Window 8 KiB for both.** Steady-state dispatches are small (hundreds of bytes to a few
//!   KB) and compress mainly against the previous few messages (same keys, ids, user objects),
//!   so the window must hold several of them: 2 KiB loses that (29% against 23%), 8 KiB keeps
//!   most of it, and 32 KiB buys only ~4 points more for 3x the memory. Clients accept any
//!   window up to 32 KiB (zlib) / 128 MiB (zstd), and a small one also shrinks their decoder.
//! - **zlib through `libz-sys`, memLevel 4.** flate2 cannot set zlib's memLevel: it always uses
//!   8, whose hash table and pending buffer alone are 128 KiB, whatever the window; with the
//!   zlib-rs backend the hash table is a fixed 128 KiB plus 112 KiB of buffers. Calling zlib
//!   (the library behind flate2's `zlib` feature) directly with memLevel 4 costs 8 KiB for those
//!   for at most half a point of ratio, so the connection costs 46 KiB instead of 150-371 KiB: at
//!   10 000 connections, 0.45 GiB instead of 1.5-3.6 GiB. The price is ~60 lines of `unsafe`
//!   FFI below (the same calls flate2 makes), kept to one type.
//! - **zlib level 1.** Each dispatch is compressed once per receiving connection, so
//!   compression CPU grows with fan-out; level 1 (zlib's `deflate_fast`) is the cheapest, and
//!   higher levels do not change memory. Level 6 saves ~3.5 points for ~30% more CPU.
//! - **zstd level 1, hashLog 11.** Level 1 is zstd's `fast` strategy (no chain table); with
//!   the 8 KiB window a 2^11-entry hash table costs 8 KiB and compresses as well as the default
//!   2^13 (32 KiB). The rest of the 87 KiB is zstd's stream buffers (window + one block in,
//!   one block out) and per-block tables; the experimental `ZSTD_c_maxBlockSize` (4 KiB) would
//!   take that to 64 KiB but needs zstd's experimental API, so it is not used.
//!
//! A connection without transport compression costs nothing here ([`TransportCompression::None`]).

use std::fmt;

/// zlib compression level (1 = fastest; memory does not depend on it).
pub const ZLIB_LEVEL: i32 = 1;
/// log2 of the zlib window: 8 KiB.
pub const ZLIB_WINDOW_BITS: i32 = 13;
/// zlib memLevel: hash table of 2^(4+7) entries, 2^(4+6)-symbol blocks.
pub const ZLIB_MEM_LEVEL: i32 = 4;
/// zstd compression level.
pub const ZSTD_LEVEL: i32 = 1;
/// log2 of the zstd window: 8 KiB.
pub const ZSTD_WINDOW_LOG: u32 = 13;
/// log2 of the zstd match-finder hash table's entry count.
pub const ZSTD_HASH_LOG: u32 = 11;

/// The `compress` query value names no transport compression this server offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCompression(pub String);

impl fmt::Display for UnknownCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown transport compression {:?}", self.0)
    }
}

impl std::error::Error for UnknownCompression {}

/// Per-connection transport compression chosen by the `compress` query parameter.
pub enum TransportCompression {
    /// No transport compression: payloads go out as TEXT (JSON) or BINARY (ETF) as they are.
    None,
    /// `compress=zlib-stream`.
    ZlibStream(ZlibStream),
    /// `compress=zstd-stream` (boxed: the context handle is several words, and every
    /// connection, compressed or not, holds this enum).
    ZstdStream(Box<ZstdStream>),
}

impl fmt::Debug for TransportCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportCompression::None => "TransportCompression::None",
            TransportCompression::ZlibStream(_) => "TransportCompression::ZlibStream",
            TransportCompression::ZstdStream(_) => "TransportCompression::ZstdStream",
        })
    }
}

impl TransportCompression {
    /// From the `compress` query value: absent → `None`, `zlib-stream`, `zstd-stream`
    /// (exact, case-sensitive); anything else → `Err`.
    pub fn from_query(value: Option<&str>) -> Result<Self, UnknownCompression> {
        match value {
            None => Ok(TransportCompression::None),
            Some("zlib-stream") => Ok(TransportCompression::ZlibStream(ZlibStream::new())),
            Some("zstd-stream") => Ok(TransportCompression::ZstdStream(Box::default())),
            Some(other) => Err(UnknownCompression(other.to_owned())),
        }
    }

    /// Whether a transport stream is on (then IDENTIFY `compress: true` must be ignored).
    pub fn is_stream(&self) -> bool {
        !matches!(self, TransportCompression::None)
    }

    /// Compresses one gateway payload (a full JSON or ETF message) into the bytes of one
    /// WebSocket BINARY message; for `None` returns `None` (send the payload as is).
    ///
    /// Messages must be sent in the order they were compressed, and none may be dropped: they
    /// are pieces of one stream. (An empty payload, which the gateway never sends, gives the
    /// 5-byte empty sync flush for zlib and an empty message for zstd.)
    pub fn compress(&mut self, payload: &[u8]) -> Option<Vec<u8>> {
        match self {
            TransportCompression::None => None,
            TransportCompression::ZlibStream(z) => Some(z.compress(payload)),
            TransportCompression::ZstdStream(z) => Some(z.compress(payload)),
        }
    }

    /// Heap bytes held by the compressor (0 for `None`): for metrics and memory tests.
    pub fn heap_bytes(&self) -> usize {
        match self {
            TransportCompression::None => 0,
            TransportCompression::ZlibStream(z) => z.heap_bytes(),
            TransportCompression::ZstdStream(z) => z.heap_bytes(),
        }
    }
}

/// Initial output capacity for a payload of `len` bytes: gateway payloads usually compress to
/// 10-30%; the buffer grows when they do not.
fn initial_capacity(len: usize) -> usize {
    len / 4 + 64
}

/// Gives a finished message back without much unused capacity: it may wait in a send queue.
fn finish(mut out: Vec<u8>) -> Vec<u8> {
    if out.capacity() - out.len() > 1024 {
        out.shrink_to_fit();
    }
    out
}

/// Makes room for at least 64 more bytes, doubling.
fn grow(out: &mut Vec<u8>) {
    if out.capacity() - out.len() < 64 {
        out.reserve(out.capacity().max(64));
    }
}

// ---------------------------------------------------------------------------------------------
// zlib-stream
// ---------------------------------------------------------------------------------------------

mod zlib_ffi {
    use libz_sys::{uInt, voidpf};
    use std::ffi::c_void;

    extern "C" {
        fn calloc(count: usize, size: usize) -> *mut c_void;
        fn free(ptr: *mut c_void);
    }

    /// zlib's allocator callback: C `calloc` (what zlib itself uses by default), and adds the
    /// bytes to the counter `opaque` points to.
    ///
    /// # Safety
    /// `opaque` must point to a live, writable `usize` (see `ZlibState`).
    pub(super) unsafe extern "C" fn zalloc(opaque: voidpf, items: uInt, size: uInt) -> voidpf {
        let Some(bytes) = (items as usize).checked_mul(size as usize) else {
            return std::ptr::null_mut();
        };
        let ptr = calloc(items as usize, size as usize);
        if !ptr.is_null() {
            *(opaque as *mut usize) += bytes;
        }
        ptr
    }

    /// zlib's free callback, pairing `zalloc`.
    ///
    /// # Safety
    /// `ptr` must come from `zalloc` (zlib guarantees it).
    pub(super) unsafe extern "C" fn zfree(_opaque: voidpf, ptr: voidpf) {
        free(ptr)
    }
}

/// What `ZlibStream` boxes: zlib's internal state points back at the `z_stream`, so it must
/// not move; `allocated` is the counter the allocator callback adds to.
struct ZlibState {
    strm: libz_sys::z_stream,
    allocated: usize,
}

/// One zlib deflate stream for a whole connection (`compress=zlib-stream`).
pub struct ZlibStream {
    state: Box<ZlibState>,
}

// SAFETY: the z_stream's raw pointers point into its own heap state (and, only during a call,
// into buffers borrowed for that call); nothing else shares them, so moving the owner to
// another thread is sound. Every method that touches the stream takes `&mut self`.
unsafe impl Send for ZlibStream {}

impl ZlibStream {
    /// A stream with the chosen settings ([`ZLIB_LEVEL`], [`ZLIB_WINDOW_BITS`],
    /// [`ZLIB_MEM_LEVEL`]).
    pub fn new() -> Self {
        Self::with_params(ZLIB_LEVEL, ZLIB_WINDOW_BITS, ZLIB_MEM_LEVEL)
    }

    /// A stream with explicit settings: level 0..=9, window bits 9..=15, memLevel 1..=9.
    /// Panics when zlib refuses them or cannot allocate its state.
    pub fn with_params(level: i32, window_bits: i32, mem_level: i32) -> Self {
        let mut state = Box::new(ZlibState {
            strm: libz_sys::z_stream {
                next_in: std::ptr::null_mut(),
                avail_in: 0,
                total_in: 0,
                next_out: std::ptr::null_mut(),
                avail_out: 0,
                total_out: 0,
                msg: std::ptr::null_mut(),
                state: std::ptr::null_mut(),
                zalloc: zlib_ffi::zalloc,
                zfree: zlib_ffi::zfree,
                opaque: std::ptr::null_mut(),
                data_type: 0,
                adler: 0,
                reserved: 0,
            },
            allocated: 0,
        });
        let raw: *mut ZlibState = &mut *state;
        // SAFETY: `raw` points to the boxed state, which stays put for the stream's life;
        // `opaque` points to its `allocated` counter, written only by `zalloc` during zlib
        // calls on this stream. Positive window bits = zlib header, as required.
        let rc = unsafe {
            (*raw).strm.opaque = std::ptr::addr_of_mut!((*raw).allocated).cast();
            libz_sys::deflateInit2_(
                std::ptr::addr_of_mut!((*raw).strm),
                level,
                libz_sys::Z_DEFLATED,
                window_bits,
                mem_level,
                libz_sys::Z_DEFAULT_STRATEGY,
                libz_sys::zlibVersion(),
                std::mem::size_of::<libz_sys::z_stream>() as std::ffi::c_int,
            )
        };
        assert_eq!(
            rc,
            libz_sys::Z_OK,
            "deflateInit2(level {level}, windowBits {window_bits}, memLevel {mem_level}) failed"
        );
        ZlibStream { state }
    }

    /// Deflates `payload` and ends with a sync flush (the result ends with `00 00 ff ff`).
    pub fn compress(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(initial_capacity(payload.len()));
        let mut input = payload;
        let strm = &mut self.state.strm;
        loop {
            grow(&mut out);
            let in_len = input.len().min(u32::MAX as usize);
            let spare = (out.capacity() - out.len()).min(u32::MAX as usize);
            strm.next_in = input.as_ptr().cast_mut();
            strm.avail_in = in_len as u32;
            // SAFETY: next_out/avail_out describe the Vec's spare capacity, and next_in/
            // avail_in a live slice zlib only reads; both outlive the call. The stream was
            // initialised in `with_params` and has not moved.
            let rc = unsafe {
                strm.next_out = out.as_mut_ptr().add(out.len());
                strm.avail_out = spare as u32;
                libz_sys::deflate(strm, libz_sys::Z_SYNC_FLUSH)
            };
            let consumed = in_len - strm.avail_in as usize;
            let produced = spare - strm.avail_out as usize;
            let out_full = strm.avail_out == 0;
            strm.next_in = std::ptr::null_mut();
            strm.avail_in = 0;
            strm.next_out = std::ptr::null_mut();
            strm.avail_out = 0;
            // Z_BUF_ERROR only means "no progress was possible" (an empty payload right after
            // a flush); anything else is a broken stream, which cannot happen with the calls
            // made here.
            assert!(
                rc == libz_sys::Z_OK || rc == libz_sys::Z_BUF_ERROR,
                "zlib deflate failed: {rc}"
            );
            // SAFETY: zlib wrote `produced` bytes after the Vec's initialised part.
            unsafe { out.set_len(out.len() + produced) };
            input = &input[consumed..];
            // The flush is complete once all input is in and zlib left output space unused.
            if input.is_empty() && !out_full {
                break;
            }
        }
        if out.is_empty() {
            // An empty payload right after a flush: zlib writes nothing, but every message must
            // end with the marker. An empty stored block (the stream is byte-aligned after a
            // flush) is exactly what a sync flush writes.
            out.extend_from_slice(&[0x00, 0x00, 0x00, 0xff, 0xff]);
        }
        finish(out)
    }

    /// Heap bytes held: zlib's allocations plus the boxed `z_stream`.
    pub fn heap_bytes(&self) -> usize {
        self.state.allocated + std::mem::size_of::<ZlibState>()
    }
}

impl Default for ZlibStream {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ZlibStream {
    fn drop(&mut self) {
        // SAFETY: initialised in `with_params`, ended exactly once here.
        unsafe {
            libz_sys::deflateEnd(&mut self.state.strm);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// zstd-stream
// ---------------------------------------------------------------------------------------------

use zstd::zstd_safe::{self, CParameter, InBuffer, OutBuffer};

/// One zstd frame for a whole connection (`compress=zstd-stream`).
pub struct ZstdStream {
    cctx: zstd_safe::CCtx<'static>,
}

impl ZstdStream {
    /// A stream with the chosen settings ([`ZSTD_LEVEL`], [`ZSTD_WINDOW_LOG`],
    /// [`ZSTD_HASH_LOG`]).
    pub fn new() -> Self {
        Self::with_params(ZSTD_LEVEL, ZSTD_WINDOW_LOG, ZSTD_HASH_LOG)
    }

    /// A stream with explicit settings (`window_log` / `hash_log` 0 = the level's default).
    /// Panics when zstd refuses them.
    pub fn with_params(level: i32, window_log: u32, hash_log: u32) -> Self {
        let mut cctx = zstd_safe::CCtx::create();
        let mut set = |p: CParameter| {
            cctx.set_parameter(p).unwrap_or_else(|code| {
                panic!("zstd parameter {p:?}: {}", zstd_safe::get_error_name(code))
            });
        };
        set(CParameter::CompressionLevel(level));
        if window_log != 0 {
            set(CParameter::WindowLog(window_log));
        }
        if hash_log != 0 {
            set(CParameter::HashLog(hash_log));
            // Unused by level 1's `fast` strategy; bounds it for levels that do use it.
            set(CParameter::ChainLog(hash_log));
        }
        // The clients' decoders do not check one, and it would only come at a frame's end.
        set(CParameter::ChecksumFlag(false));
        ZstdStream { cctx }
    }

    /// Compresses `payload` and flushes it (`ZSTD_e_flush`): the frame stays open.
    pub fn compress(&mut self, payload: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::with_capacity(initial_capacity(payload.len()));
        let mut input = InBuffer::around(payload);
        loop {
            grow(&mut out);
            let pos = out.len();
            let mut output = OutBuffer::around_pos(&mut out, pos);
            // An error here means a misused context (settings were checked in `with_params`,
            // and zstd allocates its workspace on the first call): the stream is unusable.
            let remaining = self
                .cctx
                .compress_stream2(
                    &mut output,
                    &mut input,
                    zstd_safe::zstd_sys::ZSTD_EndDirective::ZSTD_e_flush,
                )
                .unwrap_or_else(|code| {
                    panic!("zstd compress: {}", zstd_safe::get_error_name(code))
                });
            // 0 = everything given so far is flushed out.
            if remaining == 0 && input.pos() == payload.len() {
                break;
            }
        }
        finish(out)
    }

    /// Heap bytes held (`ZSTD_sizeof_CCtx`; zstd allocates its workspace on first use).
    pub fn heap_bytes(&self) -> usize {
        self.cctx.sizeof()
    }
}

impl Default for ZstdStream {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYNC_FLUSH: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
    const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

    /// Deterministic xorshift, so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Gateway-shaped JSON: dispatches sharing keys and ids, as a session sees them.
    fn dispatch(rng: &mut Rng, seq: u64) -> Vec<u8> {
        const WORDS: [&str; 12] = [
            "hello", "world", "gateway", "resume", "shard", "ok", "lol", "deploy", "is", "the",
            "bot", "ping",
        ];
        let content: Vec<&str> = (0..1 + rng.below(30))
            .map(|_| WORDS[rng.below(12) as usize])
            .collect();
        match rng.below(10) {
            0 => br#"{"op":11,"d":null}"#.to_vec(),
            1 => format!(
                r#"{{"t":"TYPING_START","s":{seq},"op":0,"d":{{"user_id":"{}","timestamp":{},"channel_id":"{}","guild_id":"1250000000000000000"}}}}"#,
                1_250_000_000_000_000_000 + rng.below(50),
                1_770_000_000 + rng.below(1_000_000),
                1_250_000_000_000_001_000 + rng.below(20),
            )
            .into_bytes(),
            _ => format!(
                r#"{{"t":"MESSAGE_CREATE","s":{seq},"op":0,"d":{{"type":0,"tts":false,"timestamp":"2026-03-01T10:{:02}:00.000000+00:00","pinned":false,"mentions":[],"mention_roles":[],"mention_everyone":false,"id":"{}","flags":0,"embeds":[],"edited_timestamp":null,"content":"{}","components":[],"channel_id":"{}","author":{{"username":"user{}","public_flags":0,"id":"{}","global_name":null,"discriminator":"0","avatar":null}},"attachments":[],"guild_id":"1250000000000000000"}}}}"#,
                rng.below(60),
                1_260_000_000_000_000_000 + seq * 4096 + rng.below(4096),
                content.join(" "),
                1_250_000_000_000_001_000 + rng.below(20),
                rng.below(50),
                1_250_000_000_000_000_000 + rng.below(50),
            )
            .into_bytes(),
        }
    }

    /// ~`size` bytes of GUILD_CREATE-like JSON.
    fn big_json(rng: &mut Rng, size: usize) -> Vec<u8> {
        let mut s = String::from(r#"{"t":"GUILD_CREATE","s":1,"op":0,"d":{"channels":["#);
        while s.len() < size - 64 {
            s.push_str(&format!(
                r#"{{"type":0,"position":{},"name":"channel-{}","id":"{}","topic":null,"nsfw":false}},"#,
                rng.below(500),
                rng.below(100_000),
                1_250_000_000_000_000_000 + rng.below(1 << 40)
            ));
        }
        s.push_str(r#"{}],"id":"1"}}"#);
        s.into_bytes()
    }

    fn random_bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
        (0..n).map(|_| rng.next() as u8).collect()
    }

    /// The payload sequence every round-trip test sends: tiny ones (1 byte, empty, an ACK),
    /// 100 KiB compressible and incompressible (ETF can be), and 1 000 dispatches.
    fn sequence() -> Vec<Vec<u8>> {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut v = vec![
            br#"{"op":10,"d":{"heartbeat_interval":41250}}"#.to_vec(),
            b"x".to_vec(),
            Vec::new(),
            Vec::new(),
            big_json(&mut rng, 100 * 1024),
            random_bytes(&mut rng, 100 * 1024),
            br#"{"op":11,"d":null}"#.to_vec(),
        ];
        v.extend((0..1000).map(|i| dispatch(&mut rng, i + 2)));
        v.push(big_json(&mut rng, 100 * 1024));
        v.push(vec![0x83]); // a 1-byte ETF-ish payload
        v
    }

    /// Inflates one message the way zlib-stream clients do: one context for the whole
    /// connection, each message inflated on arrival. flate2's default backend is miniz_oxide,
    /// an inflater independent of the zlib doing the compressing.
    fn inflate_message(d: &mut flate2::Decompress, msg: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(msg.len() * 4 + 64);
        let start = d.total_in();
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity());
            }
            let done = (d.total_in() - start) as usize;
            let status = d
                .decompress_vec(&msg[done..], &mut out, flate2::FlushDecompress::Sync)
                .expect("inflate");
            assert_ne!(
                status,
                flate2::Status::StreamEnd,
                "the zlib stream must never end"
            );
            if (d.total_in() - start) as usize == msg.len() && out.len() < out.capacity() {
                return out;
            }
        }
    }

    /// Decompresses one message the way zstd-stream clients do (twilight, discord.py): one
    /// `ZSTD_decompressStream` context, fed each message alone; all of the payload must come
    /// out of this message's bytes.
    fn zstd_message(d: &mut zstd_safe::DCtx<'static>, msg: &[u8]) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::with_capacity(msg.len() * 4 + 64);
        let mut input = InBuffer::around(msg);
        loop {
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity());
            }
            let pos = out.len();
            let mut output = OutBuffer::around_pos(&mut out, pos);
            let hint = d
                .decompress_stream(&mut output, &mut input)
                .expect("zstd decompress");
            let full = output.pos() == output.capacity();
            // 0 would mean the frame ended: it must stay open.
            assert_ne!(hint, 0, "the zstd frame must never end");
            if input.pos() == msg.len() && !full {
                return out;
            }
        }
    }

    #[test]
    fn from_query_values() {
        assert!(matches!(
            TransportCompression::from_query(None),
            Ok(TransportCompression::None)
        ));
        assert!(matches!(
            TransportCompression::from_query(Some("zlib-stream")),
            Ok(TransportCompression::ZlibStream(_))
        ));
        assert!(matches!(
            TransportCompression::from_query(Some("zstd-stream")),
            Ok(TransportCompression::ZstdStream(_))
        ));
        for bad in ["", "zlib", "ZLIB-STREAM", "zstd", "gzip", "zlib-stream "] {
            assert_eq!(
                TransportCompression::from_query(Some(bad)).unwrap_err(),
                UnknownCompression(bad.to_owned())
            );
        }
        assert!(!TransportCompression::None.is_stream());
        assert!(TransportCompression::from_query(Some("zstd-stream"))
            .unwrap()
            .is_stream());
    }

    #[test]
    fn none_sends_payloads_as_they_are() {
        let mut c = TransportCompression::from_query(None).unwrap();
        assert_eq!(c.compress(b"{\"op\":11}"), None);
        assert_eq!(c.heap_bytes(), 0);
    }

    #[test]
    fn transport_compression_is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<TransportCompression>();
    }

    #[test]
    fn zlib_stream_round_trips_message_by_message() {
        let mut c = TransportCompression::from_query(Some("zlib-stream")).unwrap();
        let mut d = flate2::Decompress::new(true);
        let payloads = sequence();
        let (mut raw, mut packed) = (0, 0);
        for (i, p) in payloads.iter().enumerate() {
            let msg = c.compress(p).unwrap();
            assert!(
                msg.ends_with(&SYNC_FLUSH),
                "message {i} must end with 00 00 ff ff"
            );
            if i == 0 {
                // zlib header: deflate, window 2^13 (CINFO = 5), FCHECK valid.
                assert_eq!(msg[0], 0x58);
                assert_eq!(u16::from_be_bytes([msg[0], msg[1]]) % 31, 0);
            }
            assert_eq!(inflate_message(&mut d, &msg), *p, "message {i}");
            raw += p.len();
            packed += msg.len();
        }
        assert!(packed < raw / 2, "{packed} of {raw}");
    }

    #[test]
    fn zstd_stream_round_trips_message_by_message() {
        let mut c = TransportCompression::from_query(Some("zstd-stream")).unwrap();
        let mut d = zstd_safe::DCtx::create();
        let payloads = sequence();
        let (mut raw, mut packed) = (0, 0);
        let mut started = false;
        for (i, p) in payloads.iter().enumerate() {
            let msg = c.compress(p).unwrap();
            if !msg.is_empty() && !started {
                // The one frame header, in the first message with any bytes.
                assert_eq!(msg[..4], ZSTD_MAGIC);
                started = true;
            } else if msg.len() >= 4 {
                assert_ne!(
                    msg[..4],
                    ZSTD_MAGIC,
                    "message {i} must not start a new frame"
                );
            }
            let out = if msg.is_empty() {
                Vec::new()
            } else {
                zstd_message(&mut d, &msg)
            };
            assert_eq!(out, *p, "message {i}");
            raw += p.len();
            packed += msg.len();
        }
        assert!(packed < raw / 2, "{packed} of {raw}");
    }

    #[test]
    fn zstd_window_is_the_chosen_one() {
        // Clients size their decoder from the frame header's window descriptor.
        let mut c = ZstdStream::new();
        let msg = c.compress(b"{\"op\":11,\"d\":null}");
        // Frame_Header_Descriptor: Single_Segment_flag (bit 5) must be 0, so a
        // Window_Descriptor byte follows: exponent in the top 5 bits (window = 2^(10+e)).
        let fhd = msg[4];
        assert_eq!(fhd & 0x20, 0, "single-segment frames have no window");
        assert_eq!(10 + (msg[5] >> 3) as u32, ZSTD_WINDOW_LOG);
        assert_eq!(msg[5] & 0x07, 0);
    }

    #[test]
    fn a_large_payload_after_small_ones_decodes_on_arrival() {
        // Output bigger than the initial capacity, several flush rounds.
        let mut rng = Rng(7);
        for which in ["zlib-stream", "zstd-stream"] {
            let mut c = TransportCompression::from_query(Some(which)).unwrap();
            let mut zd = flate2::Decompress::new(true);
            let mut sd = zstd_safe::DCtx::create();
            for size in [10, 2_000_000, 1, 500_000] {
                let p = random_bytes(&mut rng, size);
                let msg = c.compress(&p).unwrap();
                let out = if which == "zlib-stream" {
                    inflate_message(&mut zd, &msg)
                } else {
                    zstd_message(&mut sd, &msg)
                };
                assert_eq!(out, p, "{which} {size}");
            }
        }
    }

    /// Per-connection memory stays within the budget documented at the top of this file.
    #[test]
    fn memory_per_connection_stays_small() {
        let mut rng = Rng(11);
        let payloads: Vec<Vec<u8>> = std::iter::once(big_json(&mut rng, 100 * 1024))
            .chain((0..50).map(|i| dispatch(&mut rng, i)))
            .collect();
        for (which, budget) in [("zlib-stream", 48 * 1024), ("zstd-stream", 96 * 1024)] {
            let mut c = TransportCompression::from_query(Some(which)).unwrap();
            for p in &payloads {
                c.compress(p);
            }
            let bytes = c.heap_bytes();
            assert!(
                bytes > 8 * 1024 && bytes <= budget,
                "{which}: {bytes} bytes"
            );
        }
    }

    /// discord.py's decoder: one `zlib.decompressobj()` for the connection, each message
    /// inflated on arrival. Skipped where `python3` is missing.
    #[test]
    fn zlib_stream_decodes_with_python_zlib() {
        use std::io::Write;
        let Ok(probe) = std::process::Command::new("python3")
            .args(["-c", "import zlib"])
            .output()
        else {
            eprintln!("python3 not found: skipped");
            return;
        };
        if !probe.status.success() {
            eprintln!("python3 has no zlib: skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stream.bin");
        let mut c = ZlibStream::new();
        let mut file = std::fs::File::create(&path).unwrap();
        for p in sequence() {
            let msg = c.compress(&p);
            for chunk in [&msg, &p] {
                file.write_all(&(chunk.len() as u32).to_be_bytes()).unwrap();
                file.write_all(chunk).unwrap();
            }
        }
        drop(file);
        let script = r#"
import sys, zlib, struct
data = open(sys.argv[1], 'rb').read()
d = zlib.decompressobj()
i = n = 0
def take():
    global i
    (k,) = struct.unpack('>I', data[i:i+4]); i += 4
    b = data[i:i+k]; i += k
    return b
while i < len(data):
    msg, want = take(), take()
    assert msg.endswith(b'\x00\x00\xff\xff'), n
    got = d.decompress(msg)
    assert got == want, (n, len(got), len(want))
    n += 1
assert not d.eof
print(n)
"#;
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "python: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            sequence().len().to_string()
        );
    }
}
