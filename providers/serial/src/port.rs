//! Serial line settings, and turning a granted fd into an async serial port.
//!
//! The core opens the device node (exclusive, `O_NOCTTY`) and passes the fd;
//! this module puts the line in raw mode (no echo, no line editing, no CR/LF
//! translation: `cfmakeraw`, plus `CREAD | CLOCAL`), applies baud rate,
//! parity, data and stop bits with `serialport`, and hands the result to
//! `tokio-serial`. No path is ever opened here.

use std::fmt;
use std::os::fd::{AsFd, IntoRawFd, OwnedFd};

use nix::sys::termios::{self, ControlFlags, SetArg};
use serde::Deserialize;
use serialport::SerialPort;

/// Baud rates a Linux serial driver offers (`termios` `B*` constants).
pub const BAUD_RATES: &[u32] = &[
    300, 600, 1200, 1800, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800,
    500_000, 576_000, 921_600, 1_000_000,
];

/// Parity bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    /// No parity bit.
    None,
    /// Even parity.
    Even,
    /// Odd parity.
    Odd,
}

/// Line settings of one serial port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    /// Bits per second, one of [`BAUD_RATES`].
    pub baud: u32,
    /// Parity.
    pub parity: Parity,
    /// Data bits, 5..=8.
    pub data_bits: u8,
    /// Stop bits, 1 or 2.
    pub stop_bits: u8,
}

impl fmt::Display for LineSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        write!(f, "{} {}{}{}", self.baud, self.data_bits, p, self.stop_bits)
    }
}

impl LineSettings {
    /// Checks the values.
    ///
    /// # Errors
    /// A baud rate the kernel does not offer, data bits outside 5..=8, stop
    /// bits other than 1 or 2; the message lists what is allowed.
    pub fn validate(&self) -> Result<(), String> {
        if !BAUD_RATES.contains(&self.baud) {
            return Err(format!(
                "baud = {} is not a rate serial ports support; use one of {BAUD_RATES:?}",
                self.baud
            ));
        }
        if !(5..=8).contains(&self.data_bits) {
            return Err(format!(
                "data_bits = {}: must be 5, 6, 7 or 8",
                self.data_bits
            ));
        }
        if !(1..=2).contains(&self.stop_bits) {
            return Err(format!("stop_bits = {}: must be 1 or 2", self.stop_bits));
        }
        Ok(())
    }

    /// Time on the wire for `bytes` bytes: each byte is a start bit, the data
    /// bits, the parity bit if any and the stop bits.
    pub fn line_time(&self, bytes: usize) -> std::time::Duration {
        let bits = 1
            + u32::from(self.data_bits)
            + u32::from(self.parity != Parity::None)
            + u32::from(self.stop_bits);
        std::time::Duration::from_secs_f64(bytes as f64 * f64::from(bits) / f64::from(self.baud))
    }
}

/// Opens a granted fd as an async serial port with `settings`.
///
/// # Errors
/// The fd is not a terminal, or the driver refuses a setting.
pub fn open(fd: OwnedFd, settings: &LineSettings) -> Result<tokio_serial::SerialStream, String> {
    let mut t = termios::tcgetattr(fd.as_fd()).map_err(|e| format!("not a serial port: {e}"))?;
    termios::cfmakeraw(&mut t);
    t.control_flags |= ControlFlags::CREAD | ControlFlags::CLOCAL;
    termios::tcsetattr(fd.as_fd(), SetArg::TCSANOW, &t)
        .map_err(|e| format!("cannot set raw mode: {e}"))?;
    // SAFETY: `fd` is an open descriptor we own; ownership moves into the TTYPort.
    let mut tty =
        unsafe { <serialport::TTYPort as std::os::fd::FromRawFd>::from_raw_fd(fd.into_raw_fd()) };
    let err = |what: &str, e: serialport::Error| format!("cannot set {what}: {e}");
    tty.set_baud_rate(settings.baud)
        .map_err(|e| err("baud rate", e))?;
    tty.set_parity(match settings.parity {
        Parity::None => serialport::Parity::None,
        Parity::Even => serialport::Parity::Even,
        Parity::Odd => serialport::Parity::Odd,
    })
    .map_err(|e| err("parity", e))?;
    tty.set_data_bits(match settings.data_bits {
        5 => serialport::DataBits::Five,
        6 => serialport::DataBits::Six,
        7 => serialport::DataBits::Seven,
        _ => serialport::DataBits::Eight,
    })
    .map_err(|e| err("data bits", e))?;
    tty.set_stop_bits(if settings.stop_bits == 2 {
        serialport::StopBits::Two
    } else {
        serialport::StopBits::One
    })
    .map_err(|e| err("stop bits", e))?;
    tty.set_flow_control(serialport::FlowControl::None)
        .map_err(|e| err("flow control", e))?;
    let _ = tty.clear(serialport::ClearBuffer::All);
    tokio_serial::SerialStream::try_from(tty).map_err(|e| format!("async serial port: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_and_line_time() {
        let s = LineSettings {
            baud: 9600,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
        };
        assert!(s.validate().is_ok());
        // 10 bits per byte at 9600 baud: 8 bytes take 8.33 ms.
        assert!((s.line_time(8).as_secs_f64() - 0.008_333).abs() < 1e-5);
        assert_eq!(s.to_string(), "9600 8N1");
        let e = LineSettings { baud: 9601, ..s }.validate().unwrap_err();
        assert!(e.contains("9601") && e.contains("115200"), "{e}");
        assert!(LineSettings { data_bits: 9, ..s }.validate().is_err());
        assert!(LineSettings { stop_bits: 3, ..s }.validate().is_err());
        let e7 = LineSettings {
            baud: 115_200,
            parity: Parity::Even,
            data_bits: 7,
            stop_bits: 1,
        };
        assert_eq!(e7.to_string(), "115200 7E1");
    }

    #[test]
    fn opens_a_pty_with_settings_and_moves_bytes() {
        use std::io::{Read, Write};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A pty pair from the kernel stands in for a granted serial port.
        let pty = nix::pty::openpty(None, None).expect("openpty");
        let s = LineSettings {
            baud: 115_200,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut master = std::fs::File::from(pty.master);
        rt.block_on(async {
            let mut port = open(pty.slave, &s).expect("open");
            AsyncWriteExt::write_all(&mut port, b"\r\nabc\n")
                .await
                .expect("write");
            let mut got = [0u8; 6];
            master.read_exact(&mut got).expect("read master");
            // Raw mode: no CR/LF translation.
            assert_eq!(&got, b"\r\nabc\n");
            master.write_all(b"x\r\x03y").expect("write master");
            let mut back = [0u8; 4];
            AsyncReadExt::read_exact(&mut port, &mut back)
                .await
                .expect("read port");
            assert_eq!(&back, b"x\r\x03y");
        });
    }
}
