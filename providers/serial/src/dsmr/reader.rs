//! Framing: finds telegrams in the byte stream, checks their CRC and hands
//! them to the parser.

use super::parse::parse;
use super::{Stats, Telegram, TelegramError, checksum};

/// Where the reader is in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Outside a telegram: skipping to the next `/`.
    Idle,
    /// Just after a telegram's `!` line: its CR/LF is consumed silently.
    Trailer,
    /// Inside a telegram, before `!`; `line_start` is true right after LF.
    Body { line_start: bool },
    /// After `!`: `digits` CRC hex digits received so far (in `crc`).
    Crc { digits: usize, crc: u16 },
}

/// A streaming DSMR P1 telegram reader: feed it bytes as they arrive from the
/// serial line with [`Reader::push`].
///
/// Framing rules (P1 Companion Standard v5.0.2 §6.2, DSMR 2.2 §5.6): a
/// telegram starts at `/` (which appears nowhere else, so every `/`
/// starts a new telegram and cuts off an unfinished one) and ends with a line
/// starting with `!`, followed either by 4 hex digits of CRC-16/ARC over `/` …
/// `!` (v4, v5) or directly by CR/LF (v2.2, no CRC). Memory use is bounded by
/// `max_len`.
#[derive(Debug, Clone)]
pub struct Reader {
    max_len: usize,
    buf: Vec<u8>,
    state: State,
    stats: Stats,
}

impl Reader {
    /// A reader dropping telegrams longer than `max_len` bytes (`/` through
    /// the CRC digits) as garbage; the provider uses
    /// [`MAX_TELEGRAM`](super::MAX_TELEGRAM) (8192).
    pub fn new(max_len: usize) -> Reader {
        Reader {
            max_len,
            buf: Vec::new(),
            state: State::Idle,
            stats: Stats::default(),
        }
    }

    /// Appends `bytes` and returns every telegram completed by them, in
    /// order: `Ok` for a valid one, `Err` for one rejected (bad CRC, cut off by
    /// a new `/` before its `!` and CRC, longer than `max_len`, malformed).
    /// Bytes outside telegrams are skipped without error and counted in
    /// [`Stats::skipped_bytes`]. A telegram is returned as soon as its last
    /// CRC digit (v4/v5) or the CR/LF after `!` (v2.2) arrives; the result
    /// does not depend on how the stream is split into `push` calls. Never
    /// panics; resynchronises on the next `/`.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<Telegram, TelegramError>> {
        let mut out = Vec::new();
        for &byte in bytes {
            self.step(byte, &mut out);
        }
        out
    }

    /// Counters since this reader was created.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn step(&mut self, byte: u8, out: &mut Vec<Result<Telegram, TelegramError>>) {
        match self.state {
            State::Idle => self.idle(byte),
            State::Trailer => {
                if byte != b'\r' && byte != b'\n' {
                    self.state = State::Idle;
                    self.idle(byte);
                }
            }
            State::Body { line_start } => {
                if byte == b'/' {
                    self.cut_off(out);
                    self.start();
                    return;
                }
                self.buf.push(byte);
                if self.buf.len() > self.max_len {
                    self.too_long(self.buf.len(), out);
                } else if byte == b'!' && line_start {
                    self.state = State::Crc { digits: 0, crc: 0 };
                } else {
                    self.state = State::Body {
                        line_start: byte == b'\n',
                    };
                }
            }
            State::Crc { digits, crc } => {
                if let Some(digit) = char::from(byte).to_digit(16) {
                    let digits = digits + 1;
                    // `to_digit(16)` is < 16, so this fits.
                    let crc = (crc << 4) | u16::try_from(digit).unwrap_or(0);
                    if self.buf.len() + digits > self.max_len {
                        self.too_long(self.buf.len() + digits, out);
                    } else if digits == 4 {
                        self.finish(Some(crc), out);
                    } else {
                        self.state = State::Crc { digits, crc };
                    }
                } else if byte == b'/' {
                    self.cut_off(out);
                    self.start();
                } else if digits == 0 && (byte == b'\r' || byte == b'\n') {
                    // DSMR 2.2: `!` + CRLF, no CRC.
                    self.finish(None, out);
                } else {
                    self.emit(
                        Err(TelegramError::Malformed(format!(
                            "CRC field: {digits} hex digits, then byte 0x{byte:02X}"
                        ))),
                        out,
                    );
                    self.buf.clear();
                    self.state = State::Trailer;
                    self.step(byte, out);
                }
            }
        }
    }

    fn idle(&mut self, byte: u8) {
        if byte == b'/' {
            self.start();
        } else {
            self.stats.skipped_bytes += 1;
        }
    }

    fn start(&mut self) {
        self.buf.clear();
        self.buf.push(b'/');
        self.state = State::Body { line_start: false };
    }

    /// The telegram in progress was cut off by a new `/`.
    fn cut_off(&mut self, out: &mut Vec<Result<Telegram, TelegramError>>) {
        let bytes = match self.state {
            State::Crc { digits, .. } => self.buf.len() + digits,
            _ => self.buf.len(),
        };
        self.emit(Err(TelegramError::Truncated { bytes }), out);
        self.buf.clear();
    }

    fn too_long(&mut self, bytes: usize, out: &mut Vec<Result<Telegram, TelegramError>>) {
        self.emit(Err(TelegramError::TooLong { bytes }), out);
        self.buf.clear();
        self.state = State::Idle;
    }

    /// `buf` holds `/` … `!`; `crc` is the received CRC, if any.
    fn finish(&mut self, crc: Option<u16>, out: &mut Vec<Result<Telegram, TelegramError>>) {
        let result = match crc {
            Some(expected) => {
                let computed = checksum(&self.buf);
                if computed == expected {
                    self.parse_buf(true)
                } else {
                    Err(TelegramError::Crc { expected, computed })
                }
            }
            None => self.parse_buf(false),
        };
        self.emit(result, out);
        self.buf.clear();
        self.state = State::Trailer;
    }

    fn parse_buf(&mut self, crc_checked: bool) -> Result<Telegram, TelegramError> {
        // Between the leading `/` and the trailing `!`.
        let body = self
            .buf
            .get(1..self.buf.len().saturating_sub(1))
            .unwrap_or(&[]);
        let (telegram, unknown) = parse(body, crc_checked)?;
        self.stats.unknown_obis += unknown;
        Ok(telegram)
    }

    fn emit(
        &mut self,
        result: Result<Telegram, TelegramError>,
        out: &mut Vec<Result<Telegram, TelegramError>>,
    ) {
        let counter = match &result {
            Ok(_) => &mut self.stats.telegrams,
            Err(TelegramError::Crc { .. }) => &mut self.stats.crc_errors,
            Err(TelegramError::Truncated { .. }) => &mut self.stats.truncated,
            Err(TelegramError::TooLong { .. }) => &mut self.stats.too_long,
            Err(TelegramError::Malformed(_)) => &mut self.stats.malformed,
        };
        *counter += 1;
        out.push(result);
    }
}
