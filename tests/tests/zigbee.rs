//! Zigbee on the appliance (issue 18): the Z-Stack coordinator emulator
//! (`tests/fakes/znp_coordinator.py`, on zigpy-znp's own MT definitions) is
//! checked against zigpy-znp's real `ControllerApplication` over a socat pty:
//! formation, a kept network, permit-join, interview, reports, commands and
//! a device leaving (`tests/fakes/check_znp_coordinator.py`).

/// The emulated stick is checked against zigpy-znp itself.
#[test]
fn the_znp_coordinator_emulator_passes_the_zigpy_znp_check() {
    igloo_tests::fake::run_self_check("check_znp_coordinator.py");
}
