//! Merging points into read requests.

use std::time::Duration;

use super::{Point, ReadGroup};

/// Most unused registers (or bits) between two points that still share a
/// read request: reading a few unused registers costs less than another
/// request/response round trip on a slow serial line.
pub const MAX_GAP: u16 = 4;
/// Most registers one read request covers: "Quantity of Registers 1 to 125
/// (0x7D)" for Read Holding Registers (03) and Read Input Registers (04),
/// Modbus Application Protocol v1.1b3 §6.3, §6.4.
pub const MAX_READ_REGISTERS: u16 = 125;
/// Most bits one read request covers: "Quantity of coils 1 to 2000 (0x7D0)"
/// for Read Coils (01) and Read Discrete Inputs (02), Modbus Application
/// Protocol v1.1b3 §6.1, §6.2.
pub const MAX_READ_BITS: u16 = 2000;

/// Groups `points` (with their poll `intervals`, same length) into read
/// requests: by kind, then interval, then address.
pub(super) fn build(points: &[Point], intervals: &[Duration]) -> Vec<ReadGroup> {
    let mut order: Vec<usize> = (0..points.len().min(intervals.len())).collect();
    order.sort_by_key(|&i| (points[i].kind, intervals[i], points[i].address));
    let mut groups: Vec<ReadGroup> = Vec::new();
    // End (exclusive) of the open group, as u32 so 65535 + 2 cannot wrap.
    let mut end = 0u32;
    for i in order {
        let p = &points[i];
        let start = u32::from(p.address);
        let p_end = start + u32::from(p.data_type.width());
        if let Some(g) = groups.last_mut()
            && g.kind == p.kind
            && g.interval == intervals[i]
            && start <= end + u32::from(MAX_GAP)
            && p_end.max(end) - u32::from(g.start) <= u32::from(p.kind.max_read())
        {
            end = end.max(p_end);
            g.count = u16::try_from(end - u32::from(g.start)).unwrap_or(u16::MAX);
            g.points.push(i);
            continue;
        }
        end = p_end;
        groups.push(ReadGroup {
            kind: p.kind,
            start: p.address,
            count: p.data_type.width(),
            interval: intervals[i],
            points: vec![i],
        });
    }
    groups
}
