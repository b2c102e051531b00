//! Abbreviated discovery keys and the `~` base topic.
//!
//! Home Assistant accepts short keys in discovery payloads (`stat_t` for
//! `state_topic`, `dev` for `device`, …) to save memory on small devices
//! (Tasmota and ESPHome publish them). Its MQTT docs list them under
//! "Supported abbreviations in MQTT discovery messages" (entity keys),
//! "… for device registry configuration" and "… for origin info". The tables
//! below are that list, typed in here. Expansion happens before any other
//! parsing: every key of the top level, of each `availability` entry and of
//! each device-based `components` entry is expanded with [`ENTITY`], the keys
//! of `device` with [`DEVICE`], those of `origin` with [`ORIGIN`]. A full key
//! wins over an abbreviation of it when both are present.
//!
//! `~`: a top-level value that starts or ends with `~` (only topics are meant)
//! has the `~` replaced by the `~` key's value, after expansion.

use serde_json::{Map, Value as J};

/// Entity keys: `(abbreviation, full key)`.
pub const ENTITY: &[(&str, &str)] = &[
    ("act_t", "action_topic"),
    ("act_tpl", "action_template"),
    ("atype", "automation_type"),
    ("aux_cmd_t", "aux_command_topic"),
    ("aux_stat_tpl", "aux_state_template"),
    ("aux_stat_t", "aux_state_topic"),
    ("av_tones", "available_tones"),
    ("avty", "availability"),
    ("avty_mode", "availability_mode"),
    ("avty_t", "availability_topic"),
    ("avty_tpl", "availability_template"),
    ("away_mode_cmd_t", "away_mode_command_topic"),
    ("away_mode_stat_tpl", "away_mode_state_template"),
    ("away_mode_stat_t", "away_mode_state_topic"),
    ("b_tpl", "blue_template"),
    ("bri_cmd_t", "brightness_command_topic"),
    ("bri_cmd_tpl", "brightness_command_template"),
    ("bri_scl", "brightness_scale"),
    ("bri_stat_t", "brightness_state_topic"),
    ("bri_tpl", "brightness_template"),
    ("bri_val_tpl", "brightness_value_template"),
    ("clr_temp_cmd_tpl", "color_temp_command_template"),
    ("clrm", "color_mode"),
    ("clrm_stat_t", "color_mode_state_topic"),
    ("clrm_val_tpl", "color_mode_value_template"),
    ("clr_temp_cmd_t", "color_temp_command_topic"),
    ("clr_temp_k", "color_temp_kelvin"),
    ("clr_temp_stat_t", "color_temp_state_topic"),
    ("clr_temp_tpl", "color_temp_template"),
    ("clr_temp_val_tpl", "color_temp_value_template"),
    ("cmd_off_tpl", "command_off_template"),
    ("cmd_on_tpl", "command_on_template"),
    ("cmd_t", "command_topic"),
    ("cmd_tpl", "command_template"),
    ("cmps", "components"),
    ("cod_arm_req", "code_arm_required"),
    ("cod_dis_req", "code_disarm_required"),
    ("cod_form", "code_format"),
    ("cod_trig_req", "code_trigger_required"),
    ("cont_type", "content_type"),
    ("curr_hum_t", "current_humidity_topic"),
    ("curr_hum_tpl", "current_humidity_template"),
    ("curr_temp_t", "current_temperature_topic"),
    ("curr_temp_tpl", "current_temperature_template"),
    ("dev", "device"),
    ("dev_cla", "device_class"),
    ("dir_cmd_t", "direction_command_topic"),
    ("dir_cmd_tpl", "direction_command_template"),
    ("dir_stat_t", "direction_state_topic"),
    ("dir_val_tpl", "direction_value_template"),
    ("dsp_prc", "suggested_display_precision"),
    ("e", "encoding"),
    ("en", "enabled_by_default"),
    ("ent_cat", "entity_category"),
    ("ent_pic", "entity_picture"),
    ("evt_typ", "event_types"),
    ("fanspd_lst", "fan_speed_list"),
    ("flsh_tlng", "flash_time_long"),
    ("flsh_tsht", "flash_time_short"),
    ("fx_cmd_t", "effect_command_topic"),
    ("fx_cmd_tpl", "effect_command_template"),
    ("fx_list", "effect_list"),
    ("fx_stat_t", "effect_state_topic"),
    ("fx_tpl", "effect_template"),
    ("fx_val_tpl", "effect_value_template"),
    ("exp_aft", "expire_after"),
    ("fan_mode_cmd_tpl", "fan_mode_command_template"),
    ("fan_mode_cmd_t", "fan_mode_command_topic"),
    ("fan_mode_stat_tpl", "fan_mode_state_template"),
    ("fan_mode_stat_t", "fan_mode_state_topic"),
    ("frc_upd", "force_update"),
    ("g_tpl", "green_template"),
    ("hs_cmd_t", "hs_command_topic"),
    ("hs_cmd_tpl", "hs_command_template"),
    ("hs_stat_t", "hs_state_topic"),
    ("hs_val_tpl", "hs_value_template"),
    ("ic", "icon"),
    ("img_e", "image_encoding"),
    ("img_t", "image_topic"),
    ("init", "initial"),
    ("hum_cmd_t", "target_humidity_command_topic"),
    ("hum_cmd_tpl", "target_humidity_command_template"),
    ("hum_stat_t", "target_humidity_state_topic"),
    ("hum_stat_tpl", "target_humidity_state_template"),
    ("json_attr", "json_attributes"),
    ("json_attr_t", "json_attributes_topic"),
    ("json_attr_tpl", "json_attributes_template"),
    ("l_ver_t", "latest_version_topic"),
    ("l_ver_tpl", "latest_version_template"),
    ("max_hum", "max_humidity"),
    ("max_mirs", "max_mireds"),
    ("max_temp", "max_temp"),
    ("max_k", "max_kelvin"),
    ("min_hum", "min_humidity"),
    ("min_mirs", "min_mireds"),
    ("min_temp", "min_temp"),
    ("min_k", "min_kelvin"),
    ("mode", "mode"),
    ("mode_cmd_tpl", "mode_command_template"),
    ("mode_cmd_t", "mode_command_topic"),
    ("mode_stat_tpl", "mode_state_template"),
    ("mode_stat_t", "mode_state_topic"),
    ("modes", "modes"),
    ("name", "name"),
    ("o", "origin"),
    ("obj_id", "object_id"),
    ("off_dly", "off_delay"),
    ("on_cmd_type", "on_command_type"),
    ("ops", "options"),
    ("opt", "optimistic"),
    ("osc_cmd_t", "oscillation_command_topic"),
    ("osc_cmd_tpl", "oscillation_command_template"),
    ("osc_stat_t", "oscillation_state_topic"),
    ("osc_val_tpl", "oscillation_value_template"),
    ("p", "platform"),
    ("pct_cmd_t", "percentage_command_topic"),
    ("pct_cmd_tpl", "percentage_command_template"),
    ("pct_stat_t", "percentage_state_topic"),
    ("pct_val_tpl", "percentage_value_template"),
    ("pl", "payload"),
    ("pl_arm_away", "payload_arm_away"),
    ("pl_arm_custom_b", "payload_arm_custom_bypass"),
    ("pl_arm_home", "payload_arm_home"),
    ("pl_arm_nite", "payload_arm_night"),
    ("pl_arm_vacation", "payload_arm_vacation"),
    ("pl_avail", "payload_available"),
    ("pl_cln_sp", "payload_clean_spot"),
    ("pl_cls", "payload_close"),
    ("pl_disarm", "payload_disarm"),
    ("pl_dir_fwd", "payload_direction_forward"),
    ("pl_dir_rev", "payload_direction_reverse"),
    ("pl_home", "payload_home"),
    ("pl_inst", "payload_install"),
    ("pl_loc", "payload_locate"),
    ("pl_lock", "payload_lock"),
    ("pl_not_avail", "payload_not_available"),
    ("pl_not_home", "payload_not_home"),
    ("pl_off", "payload_off"),
    ("pl_on", "payload_on"),
    ("pl_open", "payload_open"),
    ("pl_osc_off", "payload_oscillation_off"),
    ("pl_osc_on", "payload_oscillation_on"),
    ("pl_paus", "payload_pause"),
    ("pl_prs", "payload_press"),
    ("pl_rst", "payload_reset"),
    ("pl_rst_hum", "payload_reset_humidity"),
    ("pl_rst_mode", "payload_reset_mode"),
    ("pl_rst_pct", "payload_reset_percentage"),
    ("pl_rst_pr_mode", "payload_reset_preset_mode"),
    ("pl_ret", "payload_return_to_base"),
    ("pl_stop", "payload_stop"),
    ("pl_strt", "payload_start"),
    ("pl_stpa", "payload_start_pause"),
    ("pl_trig", "payload_trigger"),
    ("pl_unlk", "payload_unlock"),
    ("pos", "reports_position"),
    ("pos_clsd", "position_closed"),
    ("pos_open", "position_open"),
    ("pos_t", "position_topic"),
    ("pos_tpl", "position_template"),
    ("pow_cmd_t", "power_command_topic"),
    ("pow_cmd_tpl", "power_command_template"),
    ("pr_mode_cmd_t", "preset_mode_command_topic"),
    ("pr_mode_cmd_tpl", "preset_mode_command_template"),
    ("pr_mode_stat_t", "preset_mode_state_topic"),
    ("pr_mode_val_tpl", "preset_mode_value_template"),
    ("pr_modes", "preset_modes"),
    ("ptrn", "pattern"),
    ("qos", "qos"),
    ("r_tpl", "red_template"),
    ("rel_s", "release_summary"),
    ("rel_u", "release_url"),
    ("ret", "retain"),
    ("rgb_cmd_tpl", "rgb_command_template"),
    ("rgb_cmd_t", "rgb_command_topic"),
    ("rgb_stat_t", "rgb_state_topic"),
    ("rgb_val_tpl", "rgb_value_template"),
    ("rgbw_cmd_tpl", "rgbw_command_template"),
    ("rgbw_cmd_t", "rgbw_command_topic"),
    ("rgbw_stat_t", "rgbw_state_topic"),
    ("rgbw_val_tpl", "rgbw_value_template"),
    ("rgbww_cmd_tpl", "rgbww_command_template"),
    ("rgbww_cmd_t", "rgbww_command_topic"),
    ("rgbww_stat_t", "rgbww_state_topic"),
    ("rgbww_val_tpl", "rgbww_value_template"),
    ("send_cmd_t", "send_command_topic"),
    ("send_if_off", "send_if_off"),
    ("set_fan_spd_t", "set_fan_speed_topic"),
    ("set_pos_t", "set_position_topic"),
    ("set_pos_tpl", "set_position_template"),
    ("pos_cmd_t", "position_command_topic"),
    ("pos_cmd_tpl", "position_command_template"),
    ("spd_rng_min", "speed_range_min"),
    ("spd_rng_max", "speed_range_max"),
    ("src_type", "source_type"),
    ("stat_cla", "state_class"),
    ("stat_clsd", "state_closed"),
    ("stat_closing", "state_closing"),
    ("stat_jam", "state_jammed"),
    ("stat_locked", "state_locked"),
    ("stat_locking", "state_locking"),
    ("stat_off", "state_off"),
    ("stat_on", "state_on"),
    ("stat_open", "state_open"),
    ("stat_opening", "state_opening"),
    ("stat_stopped", "state_stopped"),
    ("stat_unlocked", "state_unlocked"),
    ("stat_unlocking", "state_unlocking"),
    ("stat_t", "state_topic"),
    ("stat_tpl", "state_template"),
    ("stat_val_tpl", "state_value_template"),
    ("step", "step"),
    ("stype", "subtype"),
    ("sug_dsp_prc", "suggested_display_precision"),
    ("sup_clrm", "supported_color_modes"),
    ("sup_dur", "support_duration"),
    ("sup_vol", "support_volume_set"),
    ("sup_feat", "supported_features"),
    ("sup_off", "payload_supported_off"),
    ("swing_mode_cmd_tpl", "swing_mode_command_template"),
    ("swing_mode_cmd_t", "swing_mode_command_topic"),
    ("swing_mode_stat_tpl", "swing_mode_state_template"),
    ("swing_mode_stat_t", "swing_mode_state_topic"),
    ("temp_cmd_tpl", "temperature_command_template"),
    ("temp_cmd_t", "temperature_command_topic"),
    ("temp_hi_cmd_tpl", "temperature_high_command_template"),
    ("temp_hi_cmd_t", "temperature_high_command_topic"),
    ("temp_hi_stat_tpl", "temperature_high_state_template"),
    ("temp_hi_stat_t", "temperature_high_state_topic"),
    ("temp_lo_cmd_tpl", "temperature_low_command_template"),
    ("temp_lo_cmd_t", "temperature_low_command_topic"),
    ("temp_lo_stat_tpl", "temperature_low_state_template"),
    ("temp_lo_stat_t", "temperature_low_state_topic"),
    ("temp_stat_tpl", "temperature_state_template"),
    ("temp_stat_t", "temperature_state_topic"),
    ("temp_unit", "temperature_unit"),
    ("tilt_clsd_val", "tilt_closed_value"),
    ("tilt_cmd_t", "tilt_command_topic"),
    ("tilt_cmd_tpl", "tilt_command_template"),
    ("tilt_max", "tilt_max"),
    ("tilt_min", "tilt_min"),
    ("tilt_opnd_val", "tilt_opened_value"),
    ("tilt_opt", "tilt_optimistic"),
    ("tilt_status_t", "tilt_status_topic"),
    ("tilt_status_tpl", "tilt_status_template"),
    ("t", "topic"),
    ("uniq_id", "unique_id"),
    ("unit_of_meas", "unit_of_measurement"),
    ("url_t", "url_topic"),
    ("url_tpl", "url_template"),
    ("val_tpl", "value_template"),
    ("whit_cmd_t", "white_command_topic"),
    ("whit_scl", "white_scale"),
    ("xy_cmd_t", "xy_command_topic"),
    ("xy_cmd_tpl", "xy_command_template"),
    ("xy_stat_t", "xy_state_topic"),
    ("xy_val_tpl", "xy_value_template"),
    ("l_ver_t", "latest_version_topic"),
    ("ent_pic", "entity_picture"),
];

/// Device keys (inside `device`).
pub const DEVICE: &[(&str, &str)] = &[
    ("cu", "configuration_url"),
    ("cns", "connections"),
    ("ids", "identifiers"),
    ("name", "name"),
    ("mf", "manufacturer"),
    ("mdl", "model"),
    ("mdl_id", "model_id"),
    ("hw", "hw_version"),
    ("sw", "sw_version"),
    ("sa", "suggested_area"),
    ("sn", "serial_number"),
    ("via_device", "via_device"),
];

/// Origin keys (inside `origin`).
pub const ORIGIN: &[(&str, &str)] = &[
    ("name", "name"),
    ("sw", "sw_version"),
    ("url", "support_url"),
];

fn full<'a>(table: &'a [(&'a str, &'a str)], key: &str) -> Option<&'a str> {
    table.iter().find(|(a, _)| *a == key).map(|(_, f)| *f)
}

/// Renames the abbreviated keys of `map` with `table`. A key that is already
/// present in full keeps its value.
fn expand_keys(map: &mut Map<String, J>, table: &[(&str, &str)]) {
    let short: Vec<String> = map
        .keys()
        .filter(|k| full(table, k).is_some_and(|f| f != k.as_str()))
        .cloned()
        .collect();
    for key in short {
        let Some(long) = full(table, &key) else {
            continue;
        };
        if let Some(v) = map.remove(&key)
            && !map.contains_key(long)
        {
            map.insert(long.to_string(), v);
        }
    }
}

/// Expands one entity config in place: its own keys, `device`, `origin`,
/// the entries of `availability`, then the `~` base topic.
pub fn expand_entity(map: &mut Map<String, J>) {
    expand_keys(map, ENTITY);
    if let Some(J::Object(dev)) = map.get_mut("device") {
        expand_keys(dev, DEVICE);
    }
    if let Some(J::Object(o)) = map.get_mut("origin") {
        expand_keys(o, ORIGIN);
    }
    if let Some(J::Array(list)) = map.get_mut("availability") {
        for entry in list.iter_mut() {
            if let J::Object(e) = entry {
                expand_keys(e, ENTITY);
            }
        }
    }
    apply_base_topic(map);
}

/// Replaces a leading or trailing `~` in top-level string values (and in
/// `availability` topics) by the value of `~`. `~` itself is removed.
fn apply_base_topic(map: &mut Map<String, J>) {
    let Some(J::String(base)) = map.remove("~") else {
        return;
    };
    let subst = |s: &mut String| {
        if let Some(rest) = s.strip_prefix('~') {
            *s = format!("{base}{rest}");
        } else if let Some(rest) = s.strip_suffix('~') {
            *s = format!("{rest}{base}");
        }
    };
    for (key, value) in map.iter_mut() {
        match value {
            J::String(s) if key.ends_with("_topic") || key == "topic" => subst(s),
            J::Array(list) if key == "availability" => {
                for entry in list.iter_mut() {
                    if let Some(J::String(s)) = entry.get_mut("topic") {
                        subst(s);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expanded(v: J) -> J {
        let J::Object(mut m) = v else {
            panic!("not an object")
        };
        expand_entity(&mut m);
        J::Object(m)
    }

    #[test]
    fn tasmota_style_keys_are_expanded() {
        let v = expanded(json!({
            "name": "Plug",
            "stat_t": "tele/plug/STATE",
            "cmd_t": "cmnd/plug/POWER",
            "avty_t": "tele/plug/LWT",
            "pl_avail": "Online",
            "pl_not_avail": "Offline",
            "val_tpl": "{{value_json.POWER}}",
            "uniq_id": "ABC_RL_1",
            "dev": {"ids": ["ABC"], "mf": "Tasmota", "mdl": "Sonoff", "sw": "13.1", "cns": [["mac", "AA"]]},
            "o": {"name": "Tasmota", "sw": "13.1", "url": "https://tasmota.github.io"}
        }));
        assert_eq!(
            v,
            json!({
                "name": "Plug",
                "state_topic": "tele/plug/STATE",
                "command_topic": "cmnd/plug/POWER",
                "availability_topic": "tele/plug/LWT",
                "payload_available": "Online",
                "payload_not_available": "Offline",
                "value_template": "{{value_json.POWER}}",
                "unique_id": "ABC_RL_1",
                "device": {"identifiers": ["ABC"], "manufacturer": "Tasmota", "model": "Sonoff", "sw_version": "13.1", "connections": [["mac", "AA"]]},
                "origin": {"name": "Tasmota", "sw_version": "13.1", "support_url": "https://tasmota.github.io"}
            })
        );
    }

    #[test]
    fn base_topic_is_substituted_at_either_end() {
        let v = expanded(json!({
            "~": "shellies/roller-1/roller/0",
            "cmd_t": "~/command",
            "stat_t": "~",
            "pos_t": "~/pos",
            "json_attr_t": "info/~",
            "name": "~ not a topic",
            "avty": [{"t": "~/online", "pl_avail": "true"}]
        }));
        assert_eq!(v["command_topic"], "shellies/roller-1/roller/0/command");
        assert_eq!(v["state_topic"], "shellies/roller-1/roller/0");
        assert_eq!(v["position_topic"], "shellies/roller-1/roller/0/pos");
        assert_eq!(
            v["json_attributes_topic"],
            "info/shellies/roller-1/roller/0"
        );
        assert_eq!(v["name"], "~ not a topic");
        assert_eq!(
            v["availability"][0]["topic"],
            "shellies/roller-1/roller/0/online"
        );
        assert_eq!(v["availability"][0]["payload_available"], "true");
        assert!(v.get("~").is_none());
    }

    #[test]
    fn full_keys_win_and_unknown_keys_stay() {
        let v = expanded(json!({"stat_t": "short", "state_topic": "long", "custom_x": 1}));
        assert_eq!(v, json!({"state_topic": "long", "custom_x": 1}));
    }

    #[test]
    fn tables_have_no_conflicting_duplicates() {
        for table in [ENTITY, DEVICE, ORIGIN] {
            for (i, (a, f)) in table.iter().enumerate() {
                for (b, g) in &table[i + 1..] {
                    assert!(a != b || f == g, "{a} maps to both {f} and {g}");
                }
            }
        }
    }
}
