//! Modbus RTU: the register map ([`map`]) and the line that polls it ([`line`]).

pub mod line;
pub mod map;
