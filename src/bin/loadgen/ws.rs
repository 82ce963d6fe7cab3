//! The load generator's WebSocket client: the opening handshake, then frames read straight out
//! of one reusable buffer.
//!
//! Under fan-out every session reads every message, so the client's cost per frame is taken
//! from the machine the servers are measured on. tokio-tungstenite allocated each message,
//! registered two wakers per poll and ran its frame state machine per read; here a read fills
//! the buffer (allocated and zeroed once), and each complete frame in it is handed out as a
//! borrowed slice. tungstenite still does the protocol's parts: the handshake key and accept
//! value, and frame headers both ways. What this client does not need is left out: servers'
//! frames are expected unfragmented (neither server fragments), and pings are not answered
//! (neither server sends any).
use std::io::Cursor;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Control, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

use crate::Result;

/// What a read buffer starts at and shrinks back to: frames under fan-out are ~1 KiB, and tens
/// of thousands of sessions share one process.
const BUFFER: usize = 4 * 1024;

/// Largest frame accepted (READY and GUILD_CREATE of a 10 000-member guild fit easily).
const MAX_FRAME: usize = 64 * 1024 * 1024;

/// One client connection after a successful opening handshake.
pub struct WsClient {
    stream: TcpStream,
    /// Bytes read and not yet handed out are `buf[start..end]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

/// One frame from the server, borrowed from the client's buffer until the next read.
pub enum Incoming<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
    /// A close frame: its code and reason, if it carried them.
    Close(Option<(u16, &'a str)>),
    /// Ping or pong: nothing for the load generator to do.
    Control,
}

impl WsClient {
    /// Opens the WebSocket on `stream` for `url` (`ws://host:port/path?query`).
    pub async fn handshake(mut stream: TcpStream, url: &str) -> Result<WsClient> {
        let parsed = reqwest::Url::parse(url)?;
        let host = parsed.host_str().ok_or("gateway URL without host")?;
        let host = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let target = match parsed.query() {
            Some(query) => format!("{}?{query}", parsed.path()),
            None => parsed.path().to_string(),
        };
        let key = generate_key();
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
             Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut client = WsClient {
            stream,
            buf: vec![0; BUFFER],
            start: 0,
            end: 0,
        };
        let head_len = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut response = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(len) = response.parse(&client.buf[..client.end])? {
                if response.code != Some(101) {
                    return Err(format!("handshake answered {:?}", response.code).into());
                }
                let accept = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("sec-websocket-accept"))
                    .map(|h| h.value);
                if accept != Some(derive_accept_key(key.as_bytes()).as_bytes()) {
                    return Err("handshake: wrong Sec-WebSocket-Accept".into());
                }
                break len;
            }
            if !client.fill().await? {
                return Err("connection closed during the handshake".into());
            }
        };
        // Frames sent right after the 101 (HELLO) may have come in the same read.
        client.start = head_len;
        Ok(client)
    }

    /// The next frame; `None` once the server closed the TCP connection. Cancel-safe: bytes
    /// read stay in the buffer for the next call.
    pub async fn next(&mut self) -> Result<Option<Incoming<'_>>> {
        let (header, payload) = loop {
            if let Some(frame) = self.frame_at_start()? {
                break frame;
            }
            if !self.fill().await? {
                return Ok(None);
            }
        };
        let bytes = &self.buf[payload.0..payload.1];
        if !header.is_final {
            return Err("fragmented frame from the server (not supported here)".into());
        }
        Ok(Some(match header.opcode {
            OpCode::Data(Data::Text) => Incoming::Text(std::str::from_utf8(bytes)?),
            OpCode::Data(Data::Binary) => Incoming::Binary(bytes),
            OpCode::Control(Control::Close) if bytes.len() >= 2 => Incoming::Close(Some((
                u16::from_be_bytes([bytes[0], bytes[1]]),
                std::str::from_utf8(&bytes[2..])?,
            ))),
            OpCode::Control(Control::Close) => Incoming::Close(None),
            OpCode::Control(Control::Ping | Control::Pong) => Incoming::Control,
            other => return Err(format!("unexpected frame {other:?}").into()),
        }))
    }

    /// Sends one text frame (masked, as a client must).
    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        self.send(OpCode::Data(Data::Text), text.as_bytes()).await
    }

    /// Sends a close frame with `code` and `reason`.
    pub async fn close(&mut self, code: u16, reason: &str) -> Result<()> {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(reason.as_bytes());
        self.send(OpCode::Control(Control::Close), &payload).await
    }

    async fn send(&mut self, opcode: OpCode, payload: &[u8]) -> Result<()> {
        let mask: [u8; 4] = rand::random();
        let header = FrameHeader {
            opcode,
            mask: Some(mask),
            ..FrameHeader::default()
        };
        let mut wire = Vec::with_capacity(header.len(payload.len() as u64) + payload.len());
        header.format(payload.len() as u64, &mut wire)?;
        wire.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
        self.stream.write_all(&wire).await?;
        Ok(())
    }

    /// The frame at the start of the unread bytes if it is complete, as its header and the
    /// buffer range of its payload; the bytes count as read from then on.
    fn frame_at_start(&mut self) -> Result<Option<(FrameHeader, (usize, usize))>> {
        let mut cursor = Cursor::new(&self.buf[self.start..self.end]);
        let Some((header, len)) = FrameHeader::parse(&mut cursor)? else {
            return Ok(None);
        };
        if header.mask.is_some() {
            return Err("masked frame from the server".into());
        }
        let len = usize::try_from(len)
            .ok()
            .filter(|len| *len <= MAX_FRAME)
            .ok_or("frame too large")?;
        let payload_start = self.start + cursor.position() as usize;
        let payload_end = payload_start + len;
        if payload_end > self.end {
            // Room for the whole frame, so the next reads complete it.
            self.make_room(payload_end - self.start);
            return Ok(None);
        }
        self.start = payload_end;
        Ok(Some((header, (payload_start, payload_end))))
    }

    /// Ensures `buf` can hold `needed` bytes from `start`, moving the unread bytes to the front.
    fn make_room(&mut self, needed: usize) {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < needed {
            self.buf.resize(needed, 0);
        }
    }

    /// Reads more bytes after the unread ones; false once the server closed the connection.
    async fn fill(&mut self) -> Result<bool> {
        if self.start == self.end {
            // Everything was handed out: start again at the front, and give back the space a
            // large frame (READY, GUILD_CREATE) took.
            self.start = 0;
            self.end = 0;
            if self.buf.len() > BUFFER {
                self.buf.truncate(BUFFER);
                self.buf.shrink_to_fit();
            }
        } else if self.end == self.buf.len() {
            self.make_room(self.buf.len() - self.start + BUFFER);
        }
        let read = self.stream.read(&mut self.buf[self.end..]).await?;
        self.end += read;
        Ok(read > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    /// Against tokio-tungstenite's server: the handshake, frames of every size class the
    /// headers have (7-bit, 16-bit and 64-bit lengths), binary and close frames, and a text
    /// frame the other way.
    #[tokio::test]
    async fn reads_and_writes_what_a_real_websocket_server_does() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let texts: Vec<String> = [5, 125, 126, 4000, 70_000, 300_000]
            .iter()
            .map(|n| "x".repeat(*n))
            .collect();
        let sent = texts.clone();
        let server = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let mut ws = tokio_tungstenite::accept_async(socket).await.unwrap();
            for text in sent {
                ws.send(Message::Text(text.into())).await.unwrap();
            }
            ws.send(Message::Binary(vec![1, 2, 3].into()))
                .await
                .unwrap();
            let got = ws.next().await.unwrap().unwrap();
            ws.close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: 4000.into(),
                reason: "again".into(),
            }))
            .await
            .unwrap();
            got
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut client = WsClient::handshake(stream, &format!("ws://{addr}/?v=10"))
            .await
            .unwrap();
        for text in &texts {
            match client.next().await.unwrap() {
                Some(Incoming::Text(got)) => assert_eq!(got, text),
                _ => panic!("expected a text frame of {} bytes", text.len()),
            }
        }
        assert!(matches!(
            client.next().await.unwrap(),
            Some(Incoming::Binary([1, 2, 3]))
        ));
        client.send_text(r#"{"op":1,"d":null}"#).await.unwrap();
        match client.next().await.unwrap() {
            Some(Incoming::Close(Some((code, reason)))) => {
                assert_eq!((code, reason), (4000, "again"));
            }
            _ => panic!("expected the close frame"),
        }
        let got = server.await.unwrap();
        assert_eq!(got, Message::Text(r#"{"op":1,"d":null}"#.into()));
        // A large frame's space was given back once it was read.
        assert_eq!(client.buf.len(), BUFFER);
    }
}
